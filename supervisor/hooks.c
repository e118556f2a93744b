/* skip and lifecycle hooks (hooks.h). */
#include "supervisor/hooks.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/logs.h"
#include "supervisor/sup.h"
#include "supervisor/util.h"

enum aux_kind { AUX_ONSTART, AUX_ONERR, AUX_SKIP, AUX__COUNT };
static const char *const aux_names[AUX__COUNT] = {
	[AUX_ONSTART] = "onstart hook", [AUX_ONERR] = "onerr hook", [AUX_SKIP] = "skip command",
};
_Static_assert(ARRAY_SIZE(aux_names) == AUX__COUNT, "every auxiliary process has a name");

/* One auxiliary process in flight. */
struct aux_run {
	struct svc_hooks *owner;
	enum aux_kind kind;
	pid_t pid;             /* also its process group: the child calls setsid() */
	sysg_usec_t timeout;
	bool timed_out;
	ev_timer timeout_w;
};

enum skip_verdict { SKIP_UNDECIDED, SKIP_CHECKING, SKIP_GO };

struct svc_hooks {
	struct sup *sup;
	struct service *svc;
	struct aux_run *run[AUX__COUNT];
	enum skip_verdict skip;
	bool skip_failed;      /* the FAILED state is the skip command's, not an exit */
};

static struct svc_hooks *hooks_of(struct sup *s, struct service *svc)
{
	if (!svc->hooks) {
		svc->hooks = xcalloc(1, sizeof(*svc->hooks));
		svc->hooks->sup = s;
		svc->hooks->svc = svc;
	}
	return svc->hooks;
}

/* "exited with code 3", "killed by SIGKILL", ... */
static void describe_status(int status, char *buf, size_t len)
{
	struct svc_exit e = {.exited = WIFEXITED(status)};

	e.code = e.exited ? WEXITSTATUS(status) : -1;
	e.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	svc_set_exit_reason(&e);
	strfmt(buf, len, "%s", e.reason);
}

static void aux_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct aux_run *run = (struct aux_run *)((char *)w - offsetof(struct aux_run, timeout_w));
	(void)loop, (void)revents;

	run->timed_out = true;
	/* The whole group: a shell's children go with it. */
	if (kill(-run->pid, SIGKILL) < 0)
		kill(run->pid, SIGKILL);
}

static void skip_done(struct svc_hooks *h, const struct aux_run *run, int status);

static void aux_done(struct service *svc, void *arg, int status)
{
	struct aux_run *run = arg;
	struct svc_hooks *h = run->owner;
	char what[160];

	ev_timer_stop(h->sup->loop, &run->timeout_w);
	h->run[run->kind] = NULL;
	if (run->kind == AUX_SKIP) {
		skip_done(h, run, status);
	} else {
		describe_status(status, what, sizeof(what));
		if (run->timed_out) {
			svc_log_note(svc->log, "%s timed out after %.3gs: killed", aux_names[run->kind],
				     (double)run->timeout / USEC_PER_SEC);
			log_warnx("service %s: %s timed out after %.3gs: killed", svc->cfg->name,
				  aux_names[run->kind], (double)run->timeout / USEC_PER_SEC);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			svc_log_note(svc->log, "%s: %s", aux_names[run->kind], what);
		} else {
			svc_log_note(svc->log, "%s failed: %s", aux_names[run->kind], what);
			log_warnx("service %s: %s failed: %s", svc->cfg->name, aux_names[run->kind],
				  what);
		}
	}
	free(run);
}

/* Starts cmd as an auxiliary process of the service; 0, or -errno with *why. */
static int aux_start(struct svc_hooks *h, enum aux_kind kind, const struct cmd *cmd,
		     sysg_usec_t timeout, char **why)
{
	struct aux_run *run = xcalloc(1, sizeof(*run));
	struct spawned sp;
	int r;

	run->owner = h;
	run->kind = kind;
	run->timeout = timeout;
	r = sup_spawn_aux(h->sup, h->svc, cmd, -1, aux_done, run, &sp, why);
	if (r < 0) {
		free(run);
		return r;
	}
	run->pid = sp.pid; /* ours until aux_done reaps it: kill() cannot hit a recycled pid */
	h->run[kind] = run;
	ev_timer_init(&run->timeout_w, aux_timeout_cb, (double)timeout / USEC_PER_SEC, 0.);
	ev_timer_start(h->sup->loop, &run->timeout_w);
	log_debug("service %s: %s started, pid %d", h->svc->cfg->name, aux_names[kind], sp.pid);
	return 0;
}

/* ---- hooks --------------------------------------------------------------------------- */

static void run_hook(struct svc_hooks *h, enum aux_kind kind, const struct hook *hook)
{
	struct service *svc = h->svc;
	char *why = NULL;

	if (h->run[kind]) {
		svc_log_note(svc->log, "%s: the previous run is still going; not started again",
			     aux_names[kind]);
		return;
	}
	svc_log_note(svc->log, "%s: %s", aux_names[kind], hook->cmd.text);
	if (aux_start(h, kind, &hook->cmd, hook->timeout, &why) < 0) {
		svc_log_note(svc->log, "%s cannot run: %s", aux_names[kind], why ? why : "?");
		log_warnx("service %s: %s cannot run: %s", svc->cfg->name, aux_names[kind],
			  why ? why : "?");
	}
	free(why);
}

/* An exit that ended the service badly, not one sysg asked for: stops that
 * were asked end in STOPPED or WAITING, clean exits in DONE (or BACKOFF). */
static bool unsuccessful_exit(const struct service *svc)
{
	const struct svc_exit *e = &svc->last_exit;

	if (svc->state != SVC_BACKOFF && svc->state != SVC_FAILED)
		return false;
	return e->valid && !(e->exited && e->code == 0 && !e->exec_failed && !e->oom);
}

void hooks_transition(struct sup *s, struct service *svc, enum svc_state from)
{
	const struct svc_config *c = svc->cfg;
	struct svc_hooks *h;

	if (!c->onstart.set && !c->onerr.set && c->skip.kind != SKIP_CMD)
		return;
	h = hooks_of(s, svc);
	if (svc->state == SVC_FAILED && h->skip_failed) {
		h->skip_failed = false;
		return;
	}
	if (svc->state == SVC_RUNNING && from != SVC_RUNNING && c->onstart.set)
		run_hook(h, AUX_ONSTART, &c->onstart);
	else if (unsuccessful_exit(svc) && c->onerr.set)
		run_hook(h, AUX_ONERR, &c->onerr);
}

/* ---- skip ------------------------------------------------------------------------------ */

static void skip_set(struct svc_hooks *h, enum svc_state st)
{
	h->svc->state = st;
	sup_changed(h->sup, h->svc);
}

/* The skip command could not decide: the service fails, and says why. */
static void skip_fail(struct svc_hooks *h, const char *fmt, ...) PRINTF(2, 3);
static void skip_fail(struct svc_hooks *h, const char *fmt, ...)
{
	struct service *svc = h->svc;
	va_list ap;

	svc->last_exit = (struct svc_exit){.valid = true, .code = -1, .when_real = now_real_usec()};
	va_start(ap, fmt);
	vsnprintf(svc->last_exit.reason, sizeof(svc->last_exit.reason), fmt, ap);
	va_end(ap);
	svc_log_note(svc->log, "%s", svc->last_exit.reason);
	log_warnx("service %s: %s", svc->cfg->name, svc->last_exit.reason);
	h->skip = SKIP_UNDECIDED;
	h->skip_failed = true;
	skip_set(h, SVC_FAILED);
}

static void skip_done(struct svc_hooks *h, const struct aux_run *run, int status)
{
	struct service *svc = h->svc;
	char what[160];

	describe_status(status, what, sizeof(what));
	if (svc->want != WANT_UP || h->skip != SKIP_CHECKING ||
	    (svc->state != SVC_WAITING && svc->state != SVC_STOPPED)) {
		h->skip = SKIP_UNDECIDED; /* stopped meanwhile: decide again at the next start */
		return;
	}
	if (run->timed_out) {
		skip_fail(h, "skip command timed out after %.3gs", (double)run->timeout / USEC_PER_SEC);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		h->skip = SKIP_UNDECIDED;
		svc->last_exit.valid = false;
		svc_log_note(svc->log, "skipped: the skip command exited with code 0");
		log_info("service %s: skipped (the skip command exited with code 0)", svc->cfg->name);
		skip_set(h, SVC_SKIPPED);
	} else if (WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)) {
		/* 127: not found or failed before exec (sysg's child or the shell); 126: not executable */
		skip_fail(h, "skip command could not run: %s", what);
	} else if (!WIFEXITED(status)) {
		skip_fail(h, "skip command failed: %s", what);
	} else {
		h->skip = SKIP_GO;
		log_debug("service %s: not skipped (the skip command %s)", svc->cfg->name, what);
		sup_changed(h->sup, svc);
	}
}

bool hooks_skip_now(struct sup *s, struct service *svc)
{
	(void)s;
	if (svc->cfg->skip.kind != SKIP_YES)
		return false;
	if (svc->state != SVC_SKIPPED) {
		svc->last_exit.valid = false;
		svc_log_note(svc->log, "skipped (skip: true)");
		log_info("service %s: skipped (skip: true)", svc->cfg->name);
		svc->state = SVC_SKIPPED;
		sup_changed(s, svc);
	}
	return true;
}

bool hooks_skip_check(struct sup *s, struct service *svc)
{
	struct svc_hooks *h;
	char *why = NULL;

	if (svc->cfg->skip.kind != SKIP_CMD)
		return false;
	h = hooks_of(s, svc);
	switch (h->skip) {
	case SKIP_GO:
		h->skip = SKIP_UNDECIDED; /* decided for this start only */
		return false;
	case SKIP_CHECKING:
		return true;
	case SKIP_UNDECIDED:
		break;
	}
	if (h->run[AUX_SKIP])
		return true; /* an earlier check, abandoned, still runs: wait for it */
	if (aux_start(h, AUX_SKIP, &svc->cfg->skip.cmd, SKIP_TIMEOUT_USEC, &why) < 0) {
		skip_fail(h, "skip command cannot run: %s", why ? why : "?");
		free(why);
		return true;
	}
	h->skip = SKIP_CHECKING;
	if (svc->state == SVC_STOPPED) {
		svc->state = SVC_WAITING; /* shown as starting while the check runs */
		sup_changed(s, svc);
	}
	return true;
}

void hooks_free(struct sup *s)
{
	for (size_t i = 0; i < s->nsvcs; i++) {
		struct svc_hooks *h = s->svcs[i].hooks;
		if (!h)
			continue;
		for (int k = 0; k < AUX__COUNT; k++) {
			struct aux_run *run = h->run[k];
			if (!run)
				continue;
			/* The supervisor is leaving: nothing of the service outlives it. */
			if (kill(-run->pid, SIGKILL) < 0)
				kill(run->pid, SIGKILL);
			ev_timer_stop(s->loop, &run->timeout_w);
			free(run);
		}
		free(h);
		s->svcs[i].hooks = NULL;
	}
}
