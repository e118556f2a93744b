/* Start a child from an exec plan: clone3 (with a pidfd, into the cgroup,
 * into new namespaces), then let the event loop learn the outcome from the
 * report pipe: EOF = exec succeeded, a struct exec_report = it failed. */
#ifndef SYSG_SPAWN_H
#define SYSG_SPAWN_H

#include <sys/types.h>

#include "isolation/plan.h"

/* No pidfd: a child's pid cannot be recycled before we reap it, so kill(pid)
 * is safe for our own children, and every fd the supervisor holds is copied
 * into (and closed by) every later child. */
struct spawned {
	pid_t pid;
	int report_fd; /* non-blocking, CLOEXEC; the caller watches and closes it */
};

/* 0, or -errno with *why set (clone failed, uid maps could not be written). */
int spawn_plan(const struct exec_plan *p, struct spawned *out, char **why);

/* Reads the report pipe after it became readable: 1 = exec succeeded (EOF),
 * 0 = a failure report was read into *rep, -EAGAIN = nothing yet. */
int spawn_read_report(int fd, struct exec_report *rep);

#endif
