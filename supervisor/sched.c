/* Scheduled services: the cron runtime and its history (sched.h). */
#include "supervisor/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/logs.h"
#include "supervisor/sup.h"
#include "supervisor/util.h"

const char *const cron_outcome_names[CRON__OUTCOMES] = {
	[CRON_RUNNING] = "running", [CRON_SUCCESS] = "success",  [CRON_FAILED] = "failed",
	[CRON_TIMEOUT] = "timeout", [CRON_STOPPED] = "stopped",  [CRON_OVERLAP] = "overlap",
	[CRON_SKIPPED] = "skipped", [CRON_BLOCKED] = "blocked",  [CRON_MISSED] = "missed",
	[CRON_INTERRUPTED] = "interrupted",
};
_Static_assert(ARRAY_SIZE(cron_outcome_names) == CRON__OUTCOMES, "every outcome has a name");

#define NEVER_USEC (INT64_MAX / 4) /* "no next run": far away, still a valid ev time */

struct svc_sched {
	struct sup *sup;
	struct service *svc;
	struct cron_expr expr;
	ev_periodic fire_w;
	ev_timer timeout_w;      /* cron.timeout of the run in progress */
	bool armed;              /* fire_w started and catch-up decided */
	bool pending;            /* a fire waits for the reconciler to start the run */
	bool pending_catch_up;
	bool timed_out;          /* the run in progress was stopped at cron.timeout */
	bool persist_warned;
	int64_t pending_for;     /* the scheduled time of the pending fire (µs) */
	int64_t due;             /* the next fire (µs), 0 = not computed */
	double computed_at;      /* wall clock (s) when `due` was computed */
	char *path;              /* <state>/cron/<unit>.json */
	struct cron_history h;
};

/* ---- the history, as plain data ---------------------------------------------- */

static int64_t run_key(const struct cron_run *r)
{
	return r->scheduled ? r->scheduled : r->started;
}

/* Kept in order of scheduled time: a run is added when it ends, after the
 * overlaps recorded while it went on. */
void cron_history_add(struct cron_history *h, const struct cron_run *r)
{
	size_t i;

	if (h->nruns == CRON_HISTORY_MAX) {
		if (run_key(r) < run_key(&h->runs[0]))
			return; /* older than everything kept */
		memmove(&h->runs[0], &h->runs[1], (CRON_HISTORY_MAX - 1) * sizeof(h->runs[0]));
		h->nruns--;
	}
	for (i = h->nruns; i > 0 && run_key(&h->runs[i - 1]) > run_key(r); i--)
		h->runs[i] = h->runs[i - 1];
	h->runs[i] = *r;
	h->nruns++;
}

static json_object *jseconds(int64_t usec)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", (double)usec / USEC_PER_SEC);
	return json_object_new_double_s((double)usec / USEC_PER_SEC, buf);
}

static json_object *jtime(int64_t usec)
{
	char buf[64];

	if (!usec)
		return NULL;
	rfc3339_fmt(usec, buf, sizeof(buf));
	return json_object_new_string(buf);
}

json_object *cron_run_to_json(const struct cron_run *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "scheduled", jtime(r->scheduled));
	json_object_object_add(o, "scheduled_us", json_object_new_int64(r->scheduled));
	json_object_object_add(o, "started", jtime(r->started));
	json_object_object_add(o, "started_us", json_object_new_int64(r->started));
	json_object_object_add(o, "duration_s", r->started ? jseconds(r->duration) : NULL);
	json_object_object_add(o, "outcome", json_object_new_string(cron_outcome_names[r->outcome]));
	json_object_object_add(o, "catch_up", json_object_new_boolean(r->catch_up));
	if (r->exit_valid) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "code", r->signal ? NULL : json_object_new_int(r->code));
		json_object_object_add(e, "signal", r->signal ? json_object_new_int(r->signal) : NULL);
		json_object_object_add(o, "exit", e);
	} else {
		json_object_object_add(o, "exit", NULL);
	}
	json_object_object_add(o, "reason", json_object_new_string(r->reason));
	return o;
}

json_object *cron_history_to_json(const struct cron_history *h)
{
	json_object *o = json_object_new_object(), *runs = json_object_new_array();

	json_object_object_add(o, "schema", json_object_new_string("sysg.cron.v1"));
	json_object_object_add(o, "checked_until", jtime(h->checked_until));
	json_object_object_add(o, "checked_until_us", json_object_new_int64(h->checked_until));
	json_object_object_add(o, "current", h->has_current ? cron_run_to_json(&h->current) : NULL);
	for (size_t i = 0; i < h->nruns; i++)
		json_object_array_add(runs, cron_run_to_json(&h->runs[i]));
	json_object_object_add(o, "runs", runs);
	return o;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_get_int64(v)
		       : 0;
}

static int run_from_json(json_object *o, struct cron_run *r)
{
	json_object *v, *e;

	*r = (struct cron_run){0};
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "outcome", &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	for (r->outcome = 0; r->outcome < CRON__OUTCOMES; r->outcome++)
		if (streq(json_object_get_string(v), cron_outcome_names[r->outcome]))
			break;
	if (r->outcome == CRON__OUTCOMES)
		return -EINVAL;
	r->scheduled = jint(o, "scheduled_us");
	r->started = jint(o, "started_us");
	if (json_object_object_get_ex(o, "duration_s", &v) && v)
		r->duration = (int64_t)(json_object_get_double(v) * USEC_PER_SEC + 0.5);
	r->catch_up = json_object_object_get_ex(o, "catch_up", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "exit", &e) && json_object_is_type(e, json_type_object)) {
		r->exit_valid = true;
		r->code = json_object_object_get_ex(e, "code", &v) && v ? json_object_get_int(v) : -1;
		r->signal = json_object_object_get_ex(e, "signal", &v) && v ? json_object_get_int(v) : 0;
	}
	if (json_object_object_get_ex(o, "reason", &v) && json_object_is_type(v, json_type_string))
		strfmt(r->reason, sizeof(r->reason), "%s", json_object_get_string(v));
	return 0;
}

int cron_history_from_json(json_object *o, struct cron_history *h)
{
	json_object *v, *runs;
	struct cron_run r;

	*h = (struct cron_history){0};
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "schema", &v) || !json_object_is_type(v, json_type_string) ||
	    !streq(json_object_get_string(v), "sysg.cron.v1"))
		return -EINVAL;
	h->checked_until = jint(o, "checked_until_us");
	if (json_object_object_get_ex(o, "current", &v) && v && run_from_json(v, &r) == 0) {
		h->has_current = true;
		h->current = r;
	}
	if (json_object_object_get_ex(o, "runs", &runs) && json_object_is_type(runs, json_type_array))
		for (size_t i = 0; i < json_object_array_length(runs); i++)
			if (run_from_json(json_object_array_get_idx(runs, i), &r) == 0)
				cron_history_add(h, &r);
	return 0;
}

int cron_missed(const struct cron_expr *e, const char *tz, int64_t checked_until, int64_t now,
		int64_t *first)
{
	int64_t next;
	int r;

	if (checked_until <= 0 || checked_until >= now)
		return 0;
	r = cron_next(e, tz, checked_until, &next);
	/* -ENOENT: nothing fires for decades, or no such zone */
	if (r == -ENOENT && cron_check_tz(tz, NULL) == 0)
		return 0;
	if (r < 0)
		return r;
	if (next > now)
		return 0;
	*first = next;
	return 1;
}

/* ---- persistence ---------------------------------------------------------------- */

static void persist(struct svc_sched *sc)
{
	json_object *o = cron_history_to_json(&sc->h);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
	char *tmp = xasprintf("%s.tmp", sc->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = fd < 0 ? -errno : write_all(fd, text, strlen(text));

	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, sc->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		if (!sc->persist_warned)
			log_warnx("service %s: cannot save the cron history to %s: %s",
				  sc->svc->cfg->name, sc->path, strerror(-r));
		sc->persist_warned = true;
	} else {
		sc->persist_warned = false;
	}
	free(tmp);
	json_object_put(o);
}

static void load(struct svc_sched *sc)
{
	char *buf = NULL;
	size_t len;
	json_object *o;
	int r = read_file(sc->path, 1 << 20, &buf, &len);

	if (r == -ENOENT)
		return;
	o = r < 0 ? NULL : json_tokener_parse(buf);
	if (r < 0 || cron_history_from_json(o, &sc->h) < 0)
		log_warnx("service %s: ignoring the cron history in %s: %s", sc->svc->cfg->name,
			  sc->path, r < 0 ? strerror(-r) : "not a sysg cron history");
	json_object_put(o);
	free(buf);
}

/* ---- records ---------------------------------------------------------------------- */

static void fmt_time(int64_t usec, char *buf, size_t len)
{
	if (usec)
		rfc3339_fmt(usec, buf, len);
	else
		strfmt(buf, len, "(none)");
}

/* A fire that did not start a run: history, and a line in the service's log. */
static void record_not_run(struct svc_sched *sc, int64_t scheduled, enum cron_outcome o,
			   const char *reason)
{
	struct cron_run r = {.scheduled = scheduled, .outcome = o};
	char when[64];

	strfmt(r.reason, sizeof(r.reason), "%s", reason);
	cron_history_add(&sc->h, &r);
	fmt_time(scheduled, when, sizeof(when));
	svc_log_note(sc->svc->log, "cron: run due at %s %s: %s", when,
		     o == CRON_MISSED ? "missed" : "not started", reason);
	log_info("service %s: cron run due at %s %s: %s", sc->svc->cfg->name, when,
		 cron_outcome_names[o], reason);
}

static void begin_run(struct svc_sched *sc)
{
	struct service *svc = sc->svc;

	sc->h.has_current = true;
	sc->h.current = (struct cron_run){
		.scheduled = sc->pending ? sc->pending_for : 0,
		.started = svc->start_real ? svc->start_real : now_real_usec(),
		.outcome = CRON_RUNNING,
		.catch_up = sc->pending && sc->pending_catch_up,
	};
	sc->pending = false;
	sc->timed_out = false;
	if (svc->cfg->cron.timeout > 0) {
		/* From now, not from the loop's cached time: never short of the timeout. */
		ev_now_update(sc->sup->loop);
		ev_timer_set(&sc->timeout_w, (double)svc->cfg->cron.timeout / USEC_PER_SEC, 0.);
		ev_timer_start(sc->sup->loop, &sc->timeout_w);
	}
	persist(sc);
}

static void end_run(struct svc_sched *sc)
{
	struct service *svc = sc->svc;
	struct cron_run *r = &sc->h.current;
	const struct svc_exit *e = &svc->last_exit;

	ev_timer_stop(sc->sup->loop, &sc->timeout_w);
	r->duration = now_real_usec() - r->started;
	if (r->duration < 0)
		r->duration = 0;
	switch (svc->state) {
	case SVC_DONE: r->outcome = CRON_SUCCESS; break;
	case SVC_FAILED: r->outcome = sc->timed_out ? CRON_TIMEOUT : CRON_FAILED; break;
	default: r->outcome = CRON_STOPPED; break;
	}
	r->exit_valid = e->valid && !svc->adopted;
	r->code = e->exited ? e->code : -1;
	r->signal = e->exited ? 0 : e->signal;
	strfmt(r->reason, sizeof(r->reason), "%s",
	       svc->adopted ? "exit status unknown: adopted from an earlier supervisor"
			    : e->valid ? e->reason : "");
	cron_history_add(&sc->h, r);
	sc->h.has_current = false;
	sc->timed_out = false;
	/* Stopped because a dependency went: the run is over, not waiting to go again. */
	if (svc->state == SVC_WAITING)
		svc->state = SVC_STOPPED;
	persist(sc);
}

/* ---- the timer ----------------------------------------------------------------------- */

static void set_status(struct svc_sched *sc, const char *fmt, ...) PRINTF(2, 3);
static void set_status(struct svc_sched *sc, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(sc->svc->status_text);
	sc->svc->status_text = s;
}

static void compute_due(struct svc_sched *sc, int64_t after)
{
	const struct cron_def *cd = &sc->svc->cfg->cron;
	char when[64];
	int r = cron_next(&sc->expr, cd->timezone, after, &sc->due);

	sc->computed_at = (double)after / USEC_PER_SEC;
	if (r < 0) {
		/* The zone file went away or was replaced by garbage since validation. */
		log_warnx("service %s: cannot compute the next cron run: %s", sc->svc->cfg->name,
			  strerror(-r));
		set_status(sc, "no next run: %s", strerror(-r));
		sc->due = NEVER_USEC;
		return;
	}
	rfc3339_fmt(sc->due, when, sizeof(when));
	set_status(sc, "next run at %s", when);
}

/* libev asks for the fire time when the watcher starts, when it is due, and
 * after every clock jump it notices, always with the current wall clock:
 * - the clock went back: recompute from the new time, so a clock corrected
 *   from the future does not leave the schedule waiting for a time that is
 *   now years away (fires in the repeated interval happen again, as in cron);
 * - the due time passed (it is due, or the clock jumped over it, as after a
 *   suspend): fire now, once. fire_cb then computes the next time from now,
 *   so a jump over many fire times makes one run, not a burst;
 * - otherwise keep the time computed before.
 * An absolute ev_periodic would never notice a clock going back; a plain
 * "next after now" callback would silently drop a run jumped over. Must not
 * call libev (libev.pod); cron_next only reads a zone file. */
static ev_tstamp fire_resched(ev_periodic *w, ev_tstamp now)
{
	struct svc_sched *sc = (struct svc_sched *)((char *)w - offsetof(struct svc_sched, fire_w));

	if (!sc->due || now < sc->computed_at - 1.)
		compute_due(sc, (int64_t)(now * USEC_PER_SEC));
	if (now * USEC_PER_SEC >= (double)sc->due)
		return now;
	return (double)sc->due / USEC_PER_SEC;
}

/* One fire at `when`: start the run, or record why not. */
static void fire(struct svc_sched *sc, int64_t when)
{
	struct service *svc = sc->svc;
	char since[64];

	if (svc->want != WANT_UP)
		return; /* stopped by request: the schedule rests until started again */
	if (svc_is_active(svc) || sc->pending) {
		if (sc->pending) {
			record_not_run(sc, when, CRON_OVERLAP,
				       "the previous run is still waiting for its dependencies");
		} else {
			char why[128];
			fmt_time(sc->h.has_current ? sc->h.current.started : 0, since, sizeof(since));
			strfmt(why, sizeof(why), "the previous run (started %s) is still going", since);
			record_not_run(sc, when, CRON_OVERLAP, why);
		}
		return;
	}
	if (svc->state == SVC_DONE || svc->state == SVC_FAILED || svc->state == SVC_SKIPPED) {
		svc->state = SVC_STOPPED; /* a new run, as `sysg start` re-arms a one-shot */
		svc->blocked[0] = '\0';
	}
	sc->pending = true;
	sc->pending_for = when;
	sc->pending_catch_up = false;
	sup_changed(sc->sup, svc);
	if (sc->pending && svc->state == SVC_WAITING && svc->blocked[0]) {
		sc->pending = false;
		record_not_run(sc, when, CRON_BLOCKED, svc->blocked);
		svc->state = SVC_STOPPED;
		sup_changed(sc->sup, svc);
	}
}

static void fire_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct svc_sched *sc = (struct svc_sched *)((char *)w - offsetof(struct svc_sched, fire_w));
	int64_t when = sc->due, now = now_real_usec();
	(void)revents;

	compute_due(sc, when > now ? when : now);
	ev_periodic_again(loop, w);
	if (when > sc->h.checked_until)
		sc->h.checked_until = when;
	fire(sc, when);
	persist(sc);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct svc_sched *sc = (struct svc_sched *)((char *)w - offsetof(struct svc_sched, timeout_w));
	struct service *svc = sc->svc;
	(void)loop, (void)revents;

	if (!sc->h.has_current || (svc->state != SVC_STARTING && svc->state != SVC_RUNNING))
		return;
	sc->timed_out = true;
	strfmt(svc->fail_reason, sizeof(svc->fail_reason), "cron run timed out after %.3gs",
	       (double)svc->cfg->cron.timeout / USEC_PER_SEC);
	svc_log_note(svc->log, "%s: stopping it", svc->fail_reason);
	sup_event(sc->sup, svc, SVC_EV_UNHEALTHY); /* stops the whole service; no restart */
}

/* The first time the service is wanted up: make up a missed run (unless one
 * is going on), start the timer. */
static void arm(struct svc_sched *sc)
{
	const struct cron_def *cd = &sc->svc->cfg->cron;
	int64_t now = now_real_usec(), first;
	char when[64];
	int r = sc->h.has_current ? 0
				  : cron_missed(&sc->expr, cd->timezone, sc->h.checked_until, now,
						&first);

	if (r > 0 && cd->catch_up) {
		rfc3339_fmt(first, when, sizeof(when));
		svc_log_note(sc->svc->log, "cron: catching up the run due at %s", when);
		sc->pending = true;
		sc->pending_for = first;
		sc->pending_catch_up = true;
	} else if (r > 0) {
		record_not_run(sc, first, CRON_MISSED,
			       "the supervisor was not running (catch_up is off)");
	} else if (r < 0) {
		log_warnx("service %s: cannot tell whether a cron run was missed: %s",
			  sc->svc->cfg->name, strerror(-r));
	}
	sc->h.checked_until = now;
	persist(sc);
	ev_periodic_start(sc->sup->loop, &sc->fire_w);
	sc->armed = true;
}

/* ---- the supervisor's calls ---------------------------------------------------------- */

static void sched_new(struct sup *s, struct service *svc, const char *dir)
{
	struct svc_sched *sc = xcalloc(1, sizeof(*sc));
	const char *why;

	if (cron_parse(svc->cfg->cron.expression, &sc->expr, &why) < 0) {
		/* Validation parsed it already; only a bug gets here. */
		log_warnx("service %s: cron expression: %s", svc->cfg->name, why);
		free(sc);
		return;
	}
	sc->sup = s;
	sc->svc = svc;
	sc->path = xasprintf("%s/%s.json", dir, svc->cfg->unit);
	ev_periodic_init(&sc->fire_w, fire_cb, 0., 0., fire_resched);
	ev_timer_init(&sc->timeout_w, timeout_cb, 0., 0.);
	svc->sched = sc;
	load(sc);
	if (!sc->h.has_current)
		return;
	if (svc->adopted && svc->pid > 0) {
		/* A run from before a supervisor crash goes on: keep timing it, and
		 * keep the schedule going (the reconciler never holds a running service). */
		sysg_usec_t left = svc->cfg->cron.timeout - (now_real_usec() - sc->h.current.started);
		if (svc->cfg->cron.timeout > 0) {
			ev_timer_set(&sc->timeout_w, left > 0 ? (double)left / USEC_PER_SEC : 0., 0.);
			ev_timer_start(s->loop, &sc->timeout_w);
		}
		arm(sc);
		return;
	}
	sc->h.current.outcome = CRON_INTERRUPTED;
	strfmt(sc->h.current.reason, sizeof(sc->h.current.reason),
	       "the supervisor stopped while it ran");
	cron_history_add(&sc->h, &sc->h.current);
	sc->h.has_current = false;
}

void sched_init(struct sup *s)
{
	char *dir = NULL;

	for (size_t i = 0; i < s->nsvcs; i++) {
		struct service *svc = &s->svcs[i];
		if (!svc->cfg->cron.set)
			continue;
		if (!dir) {
			dir = xasprintf("%s/cron", s->paths.state_dir);
			if (mkdir_secure(dir, 0700, geteuid()) < 0)
				log_warn("%s: cron history will not be kept", dir);
		}
		sched_new(s, svc, dir);
	}
	free(dir);
}

void sched_free(struct sup *s)
{
	for (size_t i = 0; i < s->nsvcs; i++) {
		struct svc_sched *sc = s->svcs[i].sched;
		if (!sc)
			continue;
		ev_periodic_stop(s->loop, &sc->fire_w);
		ev_timer_stop(s->loop, &sc->timeout_w);
		if (sc->armed) {
			sc->h.checked_until = now_real_usec();
			persist(sc);
		}
		free(sc->path);
		free(sc);
		s->svcs[i].sched = NULL;
	}
}

bool sched_hold(struct sup *s, struct service *svc)
{
	struct svc_sched *sc = svc->sched;

	(void)s;
	if (!sc)
		return false;
	if (!sc->armed)
		arm(sc);
	return !sc->pending;
}

void sched_transition(struct sup *s, struct service *svc, enum svc_state from)
{
	struct svc_sched *sc = svc->sched;
	char when[64];

	(void)s, (void)from;
	if (!sc)
		return;
	if (svc->state == SVC_STARTING && !sc->h.has_current) {
		begin_run(sc);
		return;
	}
	if (svc_is_active(svc))
		return;
	if (sc->h.has_current) {
		end_run(sc);
		return;
	}
	if (!sc->pending)
		return;
	/* The fire did not become a run. */
	if (svc->state == SVC_SKIPPED || svc->state == SVC_FAILED) {
		struct cron_run r = {
			.scheduled = sc->pending_for,
			.outcome = svc->state == SVC_SKIPPED ? CRON_SKIPPED : CRON_FAILED,
			.catch_up = sc->pending_catch_up,
		};
		strfmt(r.reason, sizeof(r.reason), "%s",
		       svc->last_exit.valid ? svc->last_exit.reason : "skipped");
		cron_history_add(&sc->h, &r);
		sc->pending = false;
		persist(sc);
	} else if (svc->want == WANT_DOWN) {
		fmt_time(sc->pending_for, when, sizeof(when));
		log_info("service %s: cron run due at %s cancelled: stopped", svc->cfg->name, when);
		sc->pending = false;
	}
}

json_object *sched_inspect(const struct service *svc)
{
	const struct svc_sched *sc = svc->sched;
	const struct cron_def *cd = &svc->cfg->cron;
	json_object *o, *runs;
	char canon[CRON_DESCRIBE_MAX];

	if (!sc)
		return NULL;
	o = json_object_new_object();
	cron_describe(&sc->expr, canon, sizeof(canon));
	json_object_object_add(o, "expression", json_object_new_string(cd->expression));
	json_object_object_add(o, "canonical", json_object_new_string(canon));
	json_object_object_add(o, "timezone", cd->timezone ? json_object_new_string(cd->timezone)
							   : NULL);
	json_object_object_add(o, "catch_up", json_object_new_boolean(cd->catch_up));
	json_object_object_add(o, "timeout_s", cd->timeout > 0 ? jseconds(cd->timeout) : NULL);
	json_object_object_add(o, "next_run", sc->armed && sc->due < NEVER_USEC ? jtime(sc->due)
										: NULL);
	json_object_object_add(o, "running", sc->h.has_current ? cron_run_to_json(&sc->h.current)
							       : NULL);
	runs = json_object_new_array();
	for (size_t i = sc->h.nruns; i-- > 0;)
		json_object_array_add(runs, cron_run_to_json(&sc->h.runs[i]));
	json_object_object_add(o, "runs", runs);
	return o;
}
