/* Which processes belong to a service: its cgroup when the host gives us one
 * (every process it ever forks, however it escapes), else its process group
 * and session. Signals, "is anything left", the main-process guess for forking
 * daemons, OOM detection and the cgroup's lifetime all go through here. */
#ifndef SYSG_TRACK_H
#define SYSG_TRACK_H

#include <stdbool.h>
#include <sys/types.h>

#include "supervisor/sup.h"

/* Open (or reuse) the service's cgroup with its limits before a start. Fails
 * closed: a limit the host cannot enforce is an error naming it. */
int track_prepare(struct sup *s, struct service *svc, char **why);
void track_init(struct sup *s);
/* Open the child's cgroup attachment in the plan (plan_free closes it). */
int track_child(struct service *svc, struct exec_plan *plan, char **why);
void track_signal(struct service *svc, int sig, bool all);
bool track_alive(struct service *svc);
pid_t track_oldest(struct service *svc);
/* Reads the cgroup's OOM counter: true if an OOM kill happened since the last call. */
bool track_oom_since_last(struct service *svc);
/* The service is down for good: remove its cgroup if empty. */
void track_release(struct service *svc);
/* After adoption: kill and remove leftover service cgroups nobody adopted. */
void track_cleanup_leftovers(struct sup *s);

#endif
