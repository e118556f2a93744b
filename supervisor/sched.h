/* Scheduled services (SPEC §2.3 `cron`, docs/cron.md): the runtime half of
 * config/cron.c. A cron service is wanted up like any other but is held
 * stopped until its next fire time; each fire starts it as a one-shot. A fire
 * that finds the previous run still going is skipped and recorded. The last
 * runs are kept in <state>/cron/<unit>.json, which also says up to when the
 * schedule was watched, so a run missed while the supervisor was down can be
 * made up once at start (catch_up).
 *
 * One ev_periodic per cron service, armed at the next fire time (wall clock);
 * see the comment on fire_resched() for clock jumps. No per-second tick. */
#ifndef SYSG_SCHED_H
#define SYSG_SCHED_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/cron.h"
#include "supervisor/service.h"

struct sup;

/* ---- called by the supervisor (sup.c) ---- */

/* After adoption: a struct svc_sched for every service with `cron`. */
void sched_init(struct sup *s);
/* Persists every schedule (watched up to now) and frees it. */
void sched_free(struct sup *s);
/* The reconciler is about to start svc: true while a cron service waits for
 * its next fire. The first call arms the schedule (and decides on catch-up). */
bool sched_hold(struct sup *s, struct service *svc);
/* svc->state changed from `from`: runs begin and end here. */
void sched_transition(struct sup *s, struct service *svc, enum svc_state from);

/* For `sysg inspect`: {expression, canonical, timezone, catch_up, timeout_s,
 * next_run, running, runs[newest first]}, or NULL for a service without cron.
 * The caller owns the object. */
json_object *sched_inspect(const struct service *svc);

/* ---- the history, as plain data (unit-tested) ---- */

enum cron_outcome {
	CRON_RUNNING,     /* in progress (persisted so a crash is noticed) */
	CRON_SUCCESS,     /* exited 0 */
	CRON_FAILED,      /* non-zero exit, signal, or could not start */
	CRON_TIMEOUT,     /* killed at cron.timeout */
	CRON_STOPPED,     /* stopped on request (sysg stop, shutdown, a dependency) */
	CRON_OVERLAP,     /* not started: the previous run was still going */
	CRON_SKIPPED,     /* not started: the skip command said so */
	CRON_BLOCKED,     /* not started: a dependency failed or is skipped */
	CRON_MISSED,      /* the supervisor was down at that time (no catch_up) */
	CRON_INTERRUPTED, /* the supervisor went away while it ran */
	CRON__OUTCOMES
};
extern const char *const cron_outcome_names[CRON__OUTCOMES];

#define CRON_HISTORY_MAX 20

struct cron_run {
	int64_t scheduled;  /* µs CLOCK_REALTIME; 0 when not started by the schedule */
	int64_t started;    /* µs; 0 when it never started */
	int64_t duration;   /* µs */
	enum cron_outcome outcome;
	bool catch_up;      /* made up for a run missed while the supervisor was down */
	bool exit_valid;
	int code, signal;   /* exit code (-1 if killed), signal (0 if exited) */
	char reason[160];
};

struct cron_history {
	int64_t checked_until;  /* fires up to here are accounted for (µs) */
	struct cron_run runs[CRON_HISTORY_MAX]; /* oldest first */
	size_t nruns;
	bool has_current;
	struct cron_run current; /* the run in progress */
};

void cron_history_add(struct cron_history *h, const struct cron_run *r);
json_object *cron_run_to_json(const struct cron_run *r);
/* The file's contents: {"schema": "sysg.cron.v1", "checked_until_us", "current", "runs"}. */
json_object *cron_history_to_json(const struct cron_history *h);
/* 0, or -EINVAL for a document that is not a history (h is then empty). */
int cron_history_from_json(json_object *o, struct cron_history *h);
/* Whether e fired in (checked_until, now]: 1 with the first such time, 0 if
 * not, -errno if it cannot be computed. */
int cron_missed(const struct cron_expr *e, const char *tz, int64_t checked_until, int64_t now,
		int64_t *first);

#endif
