#include "supervisor/service.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "supervisor/log.h"
#include "supervisor/util.h"

#define READY_AFTER_USEC (250 * USEC_PER_MSEC) /* SPEC §2.3: alive this long = ready */
#define RESTART_RING_MAX 4096

const char *const svc_state_names[SVC__STATES] = {
	[SVC_STOPPED] = "stopped", [SVC_WAITING] = "waiting", [SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running", [SVC_STOPPING] = "stopping", [SVC_BACKOFF] = "backoff",
	[SVC_FAILED] = "failed",   [SVC_DONE] = "done",       [SVC_SKIPPED] = "skipped",
};
_Static_assert(ARRAY_SIZE(svc_state_names) == SVC__STATES, "every state has a name");

const char *const svc_status_names[SVC__STATES] = {
	[SVC_STOPPED] = "stopped", [SVC_WAITING] = "starting", [SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running", [SVC_STOPPING] = "stopping", [SVC_BACKOFF] = "backoff",
	[SVC_FAILED] = "failed",   [SVC_DONE] = "done",       [SVC_SKIPPED] = "skipped",
};
_Static_assert(ARRAY_SIZE(svc_status_names) == SVC__STATES, "every state has a status name");

const char *const svc_event_names[SVC_EV__COUNT] = {
	[SVC_EV_UP] = "up",         [SVC_EV_DOWN] = "down",   [SVC_EV_EXEC_OK] = "exec-ok",
	[SVC_EV_EXEC_FAIL] = "exec-fail", [SVC_EV_READY] = "ready", [SVC_EV_EXIT] = "exit",
	[SVC_EV_TIMER] = "timer",   [SVC_EV_UNHEALTHY] = "unhealthy", [SVC_EV_EMPTY] = "empty",
};
_Static_assert(ARRAY_SIZE(svc_event_names) == SVC_EV__COUNT, "every event has a name");

static void set_state(struct service *s, enum svc_state st)
{
	if (s->state == st)
		return;
	log_debug("service %s: %s -> %s", s->cfg->name, svc_state_names[s->state],
		  svc_state_names[st]);
	s->state = st;
	s->ops->changed(s);
}

static void signal_name_or_number(int sig, char *buf, size_t len)
{
	const char *name = signal_name(sig);
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "signal %d", sig);
}

void svc_set_exit_reason(struct svc_exit *e)
{
	char sig[32];

	if (e->exec_failed) {
		snprintf(e->reason, sizeof(e->reason), "exec failed at %s: %s",
			 exec_stage_names[e->exec.stage], strerror(e->exec.err));
	} else if (e->oom) {
		snprintf(e->reason, sizeof(e->reason), "oom-kill");
	} else if (e->exited) {
		snprintf(e->reason, sizeof(e->reason), "exited with code %d", e->code);
	} else {
		signal_name_or_number(e->signal, sig, sizeof(sig));
		snprintf(e->reason, sizeof(e->reason), "killed by %s", sig);
	}
}

/* Record how the main process ended (its wait status is in s->status). */
static void record_exit(struct service *s)
{
	struct svc_exit *e = &s->last_exit;
	char why[sizeof(e->reason)];

	*e = (struct svc_exit){.valid = true, .exec_failed = s->exec_failed, .exec = s->exec_fail,
			       .oom = s->oom_killed};
	s->oom_killed = false;
	e->exited = WIFEXITED(s->status);
	e->code = e->exited ? WEXITSTATUS(s->status) : -1;
	e->signal = WIFSIGNALED(s->status) ? WTERMSIG(s->status) : 0;
	e->uptime = s->start_mono ? s->ops->now() - s->start_mono : 0;
	svc_set_exit_reason(e);
	if (s->adopted) /* not our child: its wait status went to someone else */
		strfmt(e->reason, sizeof(e->reason),
		       "exited (status unknown: adopted from an earlier supervisor)");
	if (s->stop_cause == STOP_FAILURE && s->fail_reason[0]) {
		/* The cause (unhealthy, not ready) matters more than the signal that followed. */
		snprintf(why, sizeof(why), "%s", e->reason);
		strfmt(e->reason, sizeof(e->reason), "%s (%s)", s->fail_reason, why);
	}
}

static bool exit_clean(const struct service *s)
{
	const struct svc_exit *e = &s->last_exit;
	return e->exited && e->code == 0 && !e->exec_failed && !e->oom;
}

sysg_usec_t svc_backoff_delay(const struct service *s)
{
	sysg_usec_t d = s->cfg->backoff;

	for (unsigned i = 1; i < s->consecutive && d < s->cfg->backoff_max; i++)
		d *= 2;
	return d > s->cfg->backoff_max ? s->cfg->backoff_max : d;
}

/* Whether max_restarts automatic restarts already happened inside restart_window. */
static bool restarts_exhausted(struct service *s, int64_t now)
{
	uint64_t max = s->cfg->max_restarts;

	if (max == SYSG_UNLIMITED)
		return false;
	if (max == 0)
		return true;
	if (!s->restart_times) {
		s->restart_ring = max < RESTART_RING_MAX ? max : RESTART_RING_MAX;
		s->restart_times = xcalloc(s->restart_ring, sizeof(int64_t));
	}
	/* The ring holds the last restart_ring restarts; the slot at head is the oldest. */
	int64_t oldest = s->restart_times[s->restart_head];
	return oldest && now - oldest < s->cfg->restart_window;
}

static void note_restart(struct service *s, int64_t now)
{
	s->restarts++;
	if (s->restart_times) {
		s->restart_times[s->restart_head] = now;
		s->restart_head = (s->restart_head + 1) % s->restart_ring;
	}
}

/* The service is gone (no process left): decide what comes next. */
static void settle_after_exit(struct service *s)
{
	int64_t now = s->ops->now();
	bool clean = exit_clean(s);
	/* Each fire of a cron service is one run; the schedule is its restart. */
	enum restart_policy p = s->cfg->cron.set ? RESTART_NEVER : s->cfg->restart;

	s->ops->timer(s, -1);
	s->pid = 0;
	if (s->want == WANT_DOWN || s->stop_cause == STOP_ASKED) {
		s->stop_cause = STOP_NONE;
		set_state(s, SVC_STOPPED);
		return;
	}
	if (s->stop_cause == STOP_DEPENDENCY) {
		s->stop_cause = STOP_NONE;
		set_state(s, SVC_WAITING);
		return;
	}
	s->stop_cause = STOP_NONE;
	if (!(p == RESTART_ALWAYS || (p == RESTART_ON_FAILURE && !clean))) {
		set_state(s, clean ? SVC_DONE : SVC_FAILED);
		return;
	}
	if (s->last_exit.uptime >= s->cfg->stable_after)
		s->consecutive = 0;
	if (restarts_exhausted(s, now)) {
		strfmt(s->blocked, sizeof(s->blocked), "gave up after %u restarts (last: %s)",
			 s->restarts, s->last_exit.reason);
		log_warnx("service %s: %s", s->cfg->name, s->blocked);
		set_state(s, SVC_FAILED);
		return;
	}
	s->consecutive++;
	note_restart(s, now);
	s->ops->timer(s, svc_backoff_delay(s));
	set_state(s, SVC_BACKOFF);
}

typedef void svc_action(struct service *s);

static void a_spawn(struct service *s)
{
	char *why = NULL;
	int r;

	s->exec_ok = false;
	s->exec_failed = false;
	s->sigkilled = false;
	s->fail_reason[0] = '\0';
	s->blocked[0] = '\0';
	s->start_mono = s->ops->now();
	r = s->ops->spawn(s, &why);
	if (r < 0) {
		/* Nothing was started: a failure at the plan stage, shown like any exec failure. */
		s->exec_fail = (struct exec_report){.stage = EXEC_STAGE_PLAN, .err = -r};
		s->last_exit = (struct svc_exit){.exec_failed = true, .exec = s->exec_fail};
		svc_set_exit_reason(&s->last_exit);
		if (why)
			strfmt(s->last_exit.reason, sizeof(s->last_exit.reason), "cannot start: %s",
				 why);
		s->last_exit.valid = true;
		log_warnx("service %s: %s", s->cfg->name, s->last_exit.reason);
		free(why);
		settle_after_exit(s);
		return;
	}
	set_state(s, SVC_STARTING);
}

static void a_exec_ok(struct service *s)
{
	s->exec_ok = true;
	s->ops->timer(s, s->cfg->ready.kind == PROBE_NONE ? READY_AFTER_USEC : s->cfg->ready.timeout);
	s->ops->changed(s); /* "started" dependents may go */
}

static void a_exec_fail(struct service *s)
{
	/* The child exits 127 right after reporting; SVC_EV_EXIT decides. */
	s->exec_failed = true;
}

static void a_ready(struct service *s)
{
	s->ops->timer(s, -1);
	set_state(s, SVC_RUNNING);
}

static void begin_stop(struct service *s)
{
	bool all = s->cfg->kill_mode != KILL_PROCESS;

	if (!s->pid && !s->ops->alive(s)) {
		settle_after_exit(s);
		return;
	}
	s->ops->signal(s, s->cfg->stop_signal, all);
	if (s->cfg->stop_signal != SIGKILL)
		s->ops->signal(s, SIGCONT, all); /* a stopped process must see the signal */
	s->ops->timer(s, s->cfg->stop_timeout);
	set_state(s, SVC_STOPPING);
}

static void a_stop(struct service *s)
{
	if (s->stop_cause == STOP_NONE)
		s->stop_cause = STOP_ASKED;
	begin_stop(s);
}

static void a_fail_stop(struct service *s)
{
	log_warnx("service %s: %s", s->cfg->name, s->fail_reason);
	s->stop_cause = STOP_FAILURE;
	begin_stop(s);
}

static void a_starting_timer(struct service *s)
{
	if (s->cfg->ready.kind == PROBE_NONE) {
		a_ready(s);
		return;
	}
	snprintf(s->fail_reason, sizeof(s->fail_reason), "not ready after %llds",
		 (long long)(s->cfg->ready.timeout / USEC_PER_SEC));
	a_fail_stop(s);
}

static void a_exit(struct service *s)
{
	record_exit(s);
	s->pid = 0;
	if (s->ops->alive(s) && exit_clean(s) && (s->pid = s->ops->follow_main(s)) > 0) {
		log_info("service %s: main process exited 0, following pid %d", s->cfg->name, s->pid);
		s->last_exit.valid = false; /* the service did not end */
		return;
	}
	if (s->ops->alive(s)) {
		/* Other processes of the service outlive the main one: they go too
		 * before anything restarts, so there is never a duplicate. */
		s->stop_cause = STOP_FAILURE;
		begin_stop(s);
		return;
	}
	settle_after_exit(s);
}

static void a_stopping_exit(struct service *s)
{
	record_exit(s);
	s->pid = 0;
	if (!s->ops->alive(s))
		settle_after_exit(s);
}

static void a_stopping_empty(struct service *s)
{
	if (!s->pid && !s->ops->alive(s))
		settle_after_exit(s);
}

static void a_kill(struct service *s)
{
	if (!s->pid && !s->ops->alive(s)) {
		settle_after_exit(s);
		return;
	}
	if (!s->sigkilled)
		log_warnx("service %s: still running %.1fs after %s, sending SIGKILL", s->cfg->name,
			  (double)s->cfg->stop_timeout / USEC_PER_SEC,
			  signal_name(s->cfg->stop_signal) ? signal_name(s->cfg->stop_signal)
							   : "the stop signal");
	s->sigkilled = true;
	s->ops->signal(s, SIGKILL, true);
	/* Check again: survivors that are not our children (adopted services)
	 * send no exit notification. */
	s->ops->timer(s, USEC_PER_SEC);
}

static void a_backoff_done(struct service *s)
{
	set_state(s, SVC_WAITING); /* the supervisor starts it once its dependencies allow */
}

static void a_settle(struct service *s)
{
	s->ops->timer(s, -1);
	if (s->stop_cause == STOP_DEPENDENCY) {
		s->stop_cause = STOP_NONE;
		if (s->state == SVC_BACKOFF)
			set_state(s, SVC_WAITING);
		return;
	}
	s->stop_cause = STOP_NONE;
	set_state(s, SVC_STOPPED);
}

static svc_action *const svc_fsm[SVC__STATES][SVC_EV__COUNT] = {
	[SVC_STOPPED] = {[SVC_EV_UP] = a_spawn},
	[SVC_WAITING] = {[SVC_EV_UP] = a_spawn, [SVC_EV_DOWN] = a_settle},
	[SVC_STARTING] = {[SVC_EV_DOWN] = a_stop, [SVC_EV_EXEC_OK] = a_exec_ok,
			  [SVC_EV_EXEC_FAIL] = a_exec_fail, [SVC_EV_READY] = a_ready,
			  [SVC_EV_EXIT] = a_exit, [SVC_EV_TIMER] = a_starting_timer,
			  [SVC_EV_UNHEALTHY] = a_fail_stop},
	[SVC_RUNNING] = {[SVC_EV_DOWN] = a_stop, [SVC_EV_EXIT] = a_exit,
			 [SVC_EV_UNHEALTHY] = a_fail_stop},
	[SVC_STOPPING] = {[SVC_EV_EXEC_FAIL] = a_exec_fail, [SVC_EV_EXIT] = a_stopping_exit,
			  [SVC_EV_TIMER] = a_kill, [SVC_EV_EMPTY] = a_stopping_empty},
	[SVC_BACKOFF] = {[SVC_EV_DOWN] = a_settle, [SVC_EV_TIMER] = a_backoff_done},
	[SVC_FAILED] = {[SVC_EV_DOWN] = a_settle},
	[SVC_DONE] = {[SVC_EV_DOWN] = a_settle},
	[SVC_SKIPPED] = {[SVC_EV_DOWN] = a_settle},
};

void svc_event(struct service *s, enum svc_event ev)
{
	svc_action *act = svc_fsm[s->state][ev];

	if (!act) {
		log_debug("service %s: %s ignored in %s", s->cfg->name, svc_event_names[ev],
			  svc_state_names[s->state]);
		return;
	}
	act(s);
}

bool svc_is_active(const struct service *s)
{
	return s->state == SVC_STARTING || s->state == SVC_RUNNING || s->state == SVC_STOPPING;
}

void svc_init(struct service *s, const struct svc_config *cfg, size_t index,
	      const struct sys_ops *ops)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->index = index;
	s->ops = ops;
	s->pidfd = -1;
}

void svc_free(struct service *s)
{
	free(s->restart_times);
	free(s->status_text);
	free(s->dependents);
}
