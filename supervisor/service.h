/* One supervised service: its desired state (`want`), its actual state, and
 * the table svc_fsm[state][event] of small actions that moves between them
 * (DESIGN §3, runit/s6 style). The table knows nothing of libev or processes:
 * everything with a side effect goes through struct sys_ops, so the state
 * machine is unit-tested with fakes (tests/unit/test_service.c). */
#ifndef SYSG_SERVICE_H
#define SYSG_SERVICE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "isolation/plan.h"

enum svc_state {
	SVC_STOPPED,  /* not running, not wanted (or not yet asked) */
	SVC_WAITING,  /* wanted, waiting for dependencies */
	SVC_STARTING, /* spawned, not ready yet */
	SVC_RUNNING,  /* ready */
	SVC_STOPPING, /* stop signal sent, waiting for every process to go */
	SVC_BACKOFF,  /* exited, restart timer armed */
	SVC_FAILED,   /* gave up (no restart, max_restarts, or cannot start) */
	SVC_DONE,     /* a one-shot that exited 0 */
	SVC_SKIPPED,
	SVC__STATES
};
extern const char *const svc_state_names[SVC__STATES];   /* internal names */
extern const char *const svc_status_names[SVC__STATES];  /* SPEC §3 names shown to users */

enum svc_event {
	SVC_EV_UP,        /* wanted and dependencies satisfied: start */
	SVC_EV_DOWN,      /* must stop now (asked, or a dependency went away) */
	SVC_EV_EXEC_OK,   /* the child exec'd */
	SVC_EV_EXEC_FAIL, /* the child reported a setup failure (s->exec_fail) */
	SVC_EV_READY,     /* readiness reached */
	SVC_EV_EXIT,      /* the main process exited (s->status) */
	SVC_EV_TIMER,     /* the one deadline of the current state passed */
	SVC_EV_UNHEALTHY, /* liveness failed: restart under the policy (s->fail_reason) */
	SVC_EV_EMPTY,     /* a process of the service other than the main one went away */
	SVC_EV__COUNT
};
extern const char *const svc_event_names[SVC_EV__COUNT];

enum svc_want { WANT_DOWN, WANT_UP };

/* Why the current stop happens: decides what comes after it. */
enum stop_cause { STOP_NONE, STOP_ASKED, STOP_DEPENDENCY, STOP_FAILURE };

struct svc_exit {
	bool valid;
	bool exited;        /* exit code valid, else signal */
	int code, signal;
	bool oom;
	bool exec_failed;
	struct exec_report exec;
	int64_t when_real;  /* µs, CLOCK_REALTIME */
	sysg_usec_t uptime;
	char reason[160];   /* "exited with code 1", "killed by SIGKILL (oom-kill)", ... */
};

struct service;

struct sys_ops {
	/* Build the plan and spawn; 0 or -errno with a reason in *why. Sets s->pid. */
	int (*spawn)(struct service *s, char **why);
	/* Signal the main process, or with `all` every process of the service. */
	void (*signal)(struct service *s, int sig, bool all);
	/* Arm the service's single timer (replacing any), or disarm with after < 0. */
	void (*timer)(struct service *s, sysg_usec_t after);
	int64_t (*now)(void); /* monotonic µs */
	/* Whether any process of the service is still alive (group or cgroup). */
	bool (*alive)(struct service *s);
	/* The main process exited cleanly but others live on (a daemon that
	 * forked): make the oldest survivor the main process. Its pid, or 0. */
	pid_t (*follow_main)(struct service *s);
	/* Something about s changed: re-evaluate dependents, persist state. */
	void (*changed)(struct service *s);
};

struct service {
	ev_timer timer;          /* first: the event loop finds the service from its watchers */
	ev_io report_w;          /* the exec report pipe while starting */
	ev_io pidfd_w;           /* exit of an adopted process (not our child) */
	const struct svc_config *cfg;
	size_t index;
	const struct sys_ops *ops;

	enum svc_state state;
	enum svc_want want;
	enum stop_cause stop_cause;
	bool restart_after_stop; /* `sysg restart`: come back up once stopped */
	bool exec_ok;
	bool exec_failed;        /* this start's child reported a setup failure */
	bool adopted;            /* running from an earlier supervisor, not our child */
	pid_t pid;               /* main process, 0 if none */
	pid_t pgid;              /* its process group and session (setsid), 0 if none */
	bool sigkilled;          /* the current stop needed SIGKILL */
	int pidfd;
	int64_t start_mono, start_real;

	int status;              /* wait status of the last exit (SVC_EV_EXIT) */
	struct exec_report exec_fail;
	char fail_reason[120];   /* for SVC_EV_UNHEALTHY and stops caused by failures */
	struct svc_exit last_exit;

	unsigned restarts;       /* automatic restarts since the last (re)arm */
	unsigned consecutive;    /* failed starts in a row: the backoff exponent */
	int64_t *restart_times;  /* ring of the last max_restarts restart times (mono µs) */
	size_t restart_ring, restart_head;
	char *status_text;       /* STATUS= from sd_notify */
	char blocked[160];       /* why a wanted service does not start (dependency failed) */

	struct svc_log *log;
	struct svc_secrets *secrets; /* read at each start (supervisor/secrets.c) */
	struct cg_unit *cg;      /* when a cgroup tracks this service (supervisor/track.c) */
	uint64_t oom_seen;       /* OOM kills counted so far */
	bool oom_pending;        /* an OOM kill not yet attributed to an exit */
	bool oom_killed;         /* set before SVC_EV_EXIT: this run ended in an OOM kill */
	size_t *dependents;      /* indices of services whose depends_on names this one */
	size_t ndependents;

	enum svc_state seen_state; /* the state the supervisor last saw (sup.c: transitions) */
	struct svc_sched *sched;   /* cron runtime (sched.c), NULL without cron */
	struct svc_hooks *hooks;   /* running hooks and skip check (hooks.c), or NULL */
};

void svc_init(struct service *s, const struct svc_config *cfg, size_t index,
	      const struct sys_ops *ops);
void svc_event(struct service *s, enum svc_event ev);
bool svc_is_active(const struct service *s); /* has or may have processes */
/* Restart delay for the next automatic restart (after consecutive was bumped). */
sysg_usec_t svc_backoff_delay(const struct service *s);
void svc_set_exit_reason(struct svc_exit *e);
void svc_free(struct service *s);

#endif
