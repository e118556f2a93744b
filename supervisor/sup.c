#include "supervisor/sup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/hooks.h"
#include "supervisor/log.h"
#include "supervisor/logs.h"
#include "supervisor/runfile.h"
#include "supervisor/sched.h"
#include "supervisor/secrets.h"
#include "supervisor/spawn.h"
#include "supervisor/track.h"
#include "supervisor/util.h"

/* One supervisor per process: libev callbacks and sys_ops find it here. */
static struct sup *S;

#define SVC_OF(field, w) ((struct service *)((char *)(w) - offsetof(struct service, field)))

/* ---- main pid -> service ------------------------------------------------ */

static size_t pid_hash(pid_t pid, size_t cap) { return ((size_t)pid * 2654435761u) & (cap - 1); }

static struct pid_slot *pidmap_put_aux(pid_t pid, size_t svc,
				       void (*aux)(struct service *, void *, int), void *arg)
{
	if (!S->npids_cap) {
		S->npids_cap = 64;
		/* a main process, a probe, two hooks and a skip check per service */
		while (S->npids_cap < S->nsvcs * 8)
			S->npids_cap *= 2;
		S->pids = xcalloc(S->npids_cap, sizeof(*S->pids));
	}
	size_t i = pid_hash(pid, S->npids_cap);
	while (S->pids[i].pid > 0 && S->pids[i].pid != pid)
		i = (i + 1) & (S->npids_cap - 1);
	S->pids[i] = (struct pid_slot){pid, svc, aux, arg, -1};
	return &S->pids[i];
}

static void pidmap_put(pid_t pid, size_t svc) { pidmap_put_aux(pid, svc, NULL, NULL); }

static bool pidmap_is_aux(pid_t pid)
{
	if (!S->npids_cap)
		return false;
	for (size_t i = pid_hash(pid, S->npids_cap); S->pids[i].pid; i = (i + 1) & (S->npids_cap - 1))
		if (S->pids[i].pid == pid)
			return S->pids[i].aux != NULL;
	return false;
}

static bool pidmap_take(pid_t pid, struct pid_slot *out)
{
	if (!S->npids_cap)
		return false;
	for (size_t i = pid_hash(pid, S->npids_cap); S->pids[i].pid; i = (i + 1) & (S->npids_cap - 1)) {
		if (S->pids[i].pid == pid) {
			*out = S->pids[i];
			S->pids[i].pid = -1; /* tombstone keeps later probes going */
			return true;
		}
	}
	return false;
}

/* ---- sys_ops: the state machine's hands ---------------------------------- */

static int64_t op_now(void) { return now_mono_usec(); }

static void op_timer(struct service *svc, sysg_usec_t after)
{
	ev_timer_stop(S->loop, &svc->timer);
	if (after >= 0) {
		ev_timer_set(&svc->timer, (double)after / USEC_PER_SEC, 0.);
		ev_timer_start(S->loop, &svc->timer);
	}
}

static void op_signal(struct service *svc, int sig, bool all) { track_signal(svc, sig, all); }
static bool op_alive(struct service *svc) { return track_alive(svc); }

static void report_cb(struct ev_loop *loop, ev_io *w, int revents);
static void pidfd_cb(struct ev_loop *loop, ev_io *w, int revents);

/* Track a process that became the service's main one without being spawned
 * by us just now (a daemon's child, or adopted from an earlier supervisor). */
static void track_main(struct service *svc, pid_t pid, int pidfd)
{
	svc->pid = pid;
	if (proc_ppid(pid) == getpid()) {
		pidmap_put(pid, svc->index); /* our child (we are its subreaper): waitpid tells */
		close(pidfd);
	} else {
		svc->pidfd = pidfd;
		ev_io_init(&svc->pidfd_w, pidfd_cb, pidfd, EV_READ);
		ev_io_start(S->loop, &svc->pidfd_w);
	}
}

static pid_t op_follow_main(struct service *svc)
{
	pid_t pid = track_oldest(svc);
	int pidfd;

	/* A hook or check of the service shares its cgroup; it is never its main process. */
	if (pid > 0 && pidmap_is_aux(pid))
		return 0;
	pidfd = pid > 0 ? syscall(SYS_pidfd_open, pid, 0) : -1;

	if (pidfd < 0)
		return 0;
	track_main(svc, pid, pidfd);
	runfile_write(S->run_dirfd, svc->cfg->unit, pid);
	return pid;
}

/* The per-start context; out_fd is the caller's to close after spawning. */
static int build_ctx(struct service *svc, struct plan_ctx *ctx, char **why)
{
	static struct kv extra[16]; /* variables sysg sets for this start; used at once */
	size_t n = 0;
	int out;

	out = svc_log_writer(svc->log);
	if (out < 0) {
		*why = xasprintf("log pipe: %s", strerror(-out));
		return out;
	}
	if (svc->secrets && svc->secrets->cred_dir)
		extra[n++] = (struct kv){"CREDENTIALS_DIRECTORY", svc->secrets->cred_dir};
	*ctx = (struct plan_ctx){
		.system_mode = S->paths.system_mode,
		.nofile_soft = S->nofile_soft,
		.stdin_fd = S->devnull,
		.out_fd = out,
		.extra_env = extra,
		.nextra_env = n,
		.secret_env = svc->secrets ? (const char *const *)svc->secrets->env : NULL,
	};
	return 0;
}

/* Every start reads the secrets again (a rotated file takes effect on restart). */
static int load_secrets(struct service *svc, char **why)
{
	struct svc_secrets **all;
	int r;

	if (!svc->cfg->nsecrets && !svc->secrets)
		return 0;
	if (!svc->secrets)
		svc->secrets = xcalloc(1, sizeof(*svc->secrets));
	svc_log_set_mask(svc->log, NULL);
	secrets_remove_files(svc->secrets);
	secrets_free(svc->secrets);
	r = secrets_load(svc->cfg, S->paths.runtime_dir, NULL, svc->secrets, why);
	svc_log_set_mask(svc->log, svc->secrets->dfa);
	all = xcalloc(S->nsvcs, sizeof(*all));
	for (size_t i = 0; i < S->nsvcs; i++)
		all[i] = S->svcs[i].secrets;
	secrets_update_global(all, S->nsvcs);
	free(all);
	return r;
}

static int op_spawn(struct service *svc, char **why)
{
	struct plan_ctx ctx;
	struct exec_plan plan;
	struct spawned sp;
	int r;

	if ((r = track_prepare(S, svc, why)) < 0 || (r = load_secrets(svc, why)) < 0)
		return r;
	if ((r = build_ctx(svc, &ctx, why)) < 0)
		return r;
	if ((r = plan_build(svc->cfg, &ctx, &plan, why)) == 0) {
		r = track_child(svc, &plan, why);
		if (r == 0 && svc->secrets)
			r = secrets_deliver(svc->secrets, svc->cfg, S->paths.system_mode,
					    plan.set_ids ? plan.uid : geteuid(),
					    plan.set_ids ? plan.gid : getegid(), why);
		if (r == 0)
			r = spawn_plan(&plan, &sp, why);
		plan_free(&plan);
	}
	close(ctx.out_fd);
	if (r < 0)
		return r;
	svc->pid = sp.pid;
	svc->pgid = sp.pid; /* the child calls setsid() */
	svc->adopted = false;
	svc->start_real = now_real_usec();
	pidmap_put(sp.pid, svc->index);
	ev_io_init(&svc->report_w, report_cb, sp.report_fd, EV_READ);
	ev_io_start(S->loop, &svc->report_w);
	runfile_write(S->run_dirfd, svc->cfg->unit, sp.pid);
	log_info("service %s: started, pid %d", svc->cfg->name, sp.pid);
	return 0;
}

static void enqueue(size_t i)
{
	if (S->queued[i])
		return;
	S->queued[i] = true;
	S->queue[(S->qhead + S->nqueue++) % S->nsvcs] = i;
}

static void settle_check(void);

static void op_changed(struct service *svc)
{
	if (svc->state != svc->seen_state) {
		enum svc_state from = svc->seen_state;
		svc->seen_state = svc->state;
		sched_transition(S, svc, from);
		hooks_transition(S, svc, from);
	}
	enqueue(svc->index);
	for (size_t i = 0; i < svc->ndependents; i++)
		enqueue(svc->dependents[i]);
	for (size_t i = 0; i < svc->cfg->ndeps; i++)
		enqueue(svc->cfg->deps[i].index);
	if (!svc_is_active(svc) && svc->pidfd >= 0 && !svc->pid) {
		close(svc->pidfd);
		svc->pidfd = -1;
	}
	if (!svc_is_active(svc) && !svc->pid && svc->secrets)
		secrets_remove_files(svc->secrets); /* the service stopped: its credentials go */
	if (!svc_is_active(svc) && svc->state != SVC_BACKOFF && svc->state != SVC_WAITING)
		svc_log_idle(svc->log);
	if (!svc_is_active(svc) && svc->state != SVC_BACKOFF && !svc->pid) {
		runfile_remove(S->run_dirfd, svc->cfg->unit);
		svc->pgid = 0;
		if (svc->state != SVC_WAITING)
			track_release(svc);
	}
	if (svc->state == SVC_FAILED && S->stopping_all)
		S->unclean = true;
}

static const struct sys_ops real_ops = {
	.spawn = op_spawn,
	.signal = op_signal,
	.timer = op_timer,
	.now = op_now,
	.alive = op_alive,
	.follow_main = op_follow_main,
	.changed = op_changed,
};

/* ---- reconciling wants with dependencies --------------------------------- */

enum dep_verdict { DEPS_OK, DEPS_WAIT, DEPS_BLOCKED };

/* Why svc cannot start ("" = it can, or may once its dependencies are up).
 * Dependents re-check: a chain is blocked all the way down, not left waiting. */
static void set_blocked(struct service *svc, const char *why)
{
	if (streq(svc->blocked, why))
		return;
	strfmt(svc->blocked, sizeof(svc->blocked), "%s", why);
	for (size_t i = 0; i < svc->ndependents; i++)
		enqueue(svc->dependents[i]);
}

static enum dep_verdict deps_check(struct service *svc, bool running)
{
	enum dep_verdict v = DEPS_OK;
	char why[sizeof(svc->blocked)];

	for (size_t i = 0; i < svc->cfg->ndeps; i++) {
		const struct dep *d = &svc->cfg->deps[i];
		struct service *x = &S->svcs[d->index];
		bool ok;

		switch (d->cond) {
		case DEP_STARTED:
			ok = (x->state == SVC_STARTING && x->exec_ok) || x->state == SVC_RUNNING ||
			     x->state == SVC_DONE;
			break;
		case DEP_READY:
			ok = x->state == SVC_RUNNING || x->state == SVC_DONE;
			break;
		default: /* DEP_COMPLETED: once done, a running dependent keeps running */
			ok = x->state == SVC_DONE || (running && x->state != SVC_FAILED);
			break;
		}
		if (ok)
			continue;
		if (x->state == SVC_WAITING && x->blocked[0]) {
			strfmt(why, sizeof(why), "dependency %s is blocked: %s", x->cfg->name,
			       x->blocked);
			set_blocked(svc, why);
			return DEPS_BLOCKED;
		}
		if (x->state == SVC_FAILED || x->state == SVC_SKIPPED ||
		    (x->state == SVC_DONE && d->cond != DEP_COMPLETED) ||
		    (d->cond == DEP_COMPLETED && x->state == SVC_STOPPED && x->want == WANT_DOWN)) {
			strfmt(why, sizeof(why), "dependency %s is %s%s%s",
			       x->cfg->name, svc_status_names[x->state],
			       x->last_exit.valid ? ": " : "",
			       x->last_exit.valid ? x->last_exit.reason : "");
			set_blocked(svc, why);
			return DEPS_BLOCKED;
		}
		v = DEPS_WAIT;
	}
	set_blocked(svc, "");
	return v;
}

static bool dependents_active(struct service *svc)
{
	for (size_t i = 0; i < svc->ndependents; i++)
		if (svc_is_active(&S->svcs[svc->dependents[i]]))
			return true;
	return false;
}

static void reconcile_one(struct service *svc)
{
	enum dep_verdict v;

	if (svc->want == WANT_DOWN) {
		if ((svc->state == SVC_STARTING || svc->state == SVC_RUNNING) && !dependents_active(svc))
			svc_event(svc, SVC_EV_DOWN);
		else if (svc->state == SVC_WAITING || svc->state == SVC_BACKOFF)
			svc_event(svc, SVC_EV_DOWN);
		return;
	}
	switch (svc->state) {
	case SVC_STOPPED:
	case SVC_WAITING:
		if (hooks_skip_now(S, svc) || sched_hold(S, svc))
			break;
		v = deps_check(svc, false);
		if (v == DEPS_OK) {
			if (!hooks_skip_check(S, svc))
				svc_event(svc, SVC_EV_UP);
		} else if (svc->state == SVC_STOPPED)
			svc->state = SVC_WAITING; /* no event: nothing else changes */
		break;
	case SVC_STARTING:
	case SVC_RUNNING:
		if (deps_check(svc, true) != DEPS_OK) {
			log_info("service %s: stopping: %s", svc->cfg->name,
				 svc->blocked[0] ? svc->blocked : "a dependency went down");
			svc->stop_cause = STOP_DEPENDENCY;
			svc_event(svc, SVC_EV_DOWN);
		}
		break;
	default:
		break;
	}
}

static void run_queue(void)
{
	if (S->in_reconcile)
		return;
	S->in_reconcile = true;
	while (S->nqueue) {
		size_t idx = S->queue[S->qhead];
		S->qhead = (S->qhead + 1) % S->nsvcs;
		S->nqueue--;
		S->queued[idx] = false;
		reconcile_one(&S->svcs[idx]);
	}
	S->in_reconcile = false;
	settle_check();
	if (S->stopping_all) {
		for (size_t i = 0; i < S->nsvcs; i++)
			if (svc_is_active(&S->svcs[i]) || S->svcs[i].state == SVC_BACKOFF)
				return;
		ev_break(S->loop, EVBREAK_ALL);
	}
}

/* ---- event sources -------------------------------------------------------- */

static void report_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct service *svc = SVC_OF(report_w, w);
	struct exec_report rep;
	int r = spawn_read_report(w->fd, &rep);
	(void)revents;

	if (r == -EAGAIN)
		return;
	ev_io_stop(loop, w);
	close(w->fd);
	w->fd = -1;
	if (r == 1) {
		svc_event(svc, SVC_EV_EXEC_OK);
	} else {
		svc->exec_fail = rep;
		svc_event(svc, SVC_EV_EXEC_FAIL);
	}
	run_queue();
}

static void main_exited(struct service *svc, int status)
{
	/* The report pipe may still hold the child's last words. */
	if (ev_is_active(&svc->report_w))
		report_cb(S->loop, &svc->report_w, EV_READ);
	svc_log_drain(svc->log);
	if (svc->pidfd >= 0) {
		close(svc->pidfd);
		svc->pidfd = -1;
	}
	svc->status = status;
	svc->pid = 0;
	svc->oom_killed = track_oom_since_last(svc);
	if (svc->state == SVC_STOPPING && svc->sigkilled)
		S->unclean = true;
	svc_event(svc, SVC_EV_EXIT);
	if (svc->last_exit.valid)
		svc_log_note(svc->log, "%s", svc->last_exit.reason);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct pid_slot slot;
	struct service *svc = pidmap_take(w->rpid, &slot) ? &S->svcs[slot.svc] : NULL;
	(void)loop, (void)revents;

	if (svc && slot.aux) {
		if (slot.report_fd >= 0)
			close(slot.report_fd);
		slot.aux(svc, slot.arg, w->rstatus);
	} else if (svc && svc->pid == w->rpid) {
		main_exited(svc, w->rstatus);
	} else {
		/* An orphaned descendant, reparented to us (subreaper, or PID 1). */
		for (size_t i = 0; i < S->nsvcs; i++)
			if (S->svcs[i].state == SVC_STOPPING && !S->svcs[i].pid)
				svc_event(&S->svcs[i], SVC_EV_EMPTY);
	}
	run_queue();
}

static void pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct service *svc = SVC_OF(pidfd_w, w);
	(void)revents;

	/* An adopted process is not our child: its exit status is not ours to read
	 * (record_exit says so), and it counts as a failure for the restart policy. */
	ev_io_stop(loop, w);
	main_exited(svc, W_EXITCODE(255, 0));
	svc->adopted = false;
	run_queue();
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct service *svc = SVC_OF(timer, w);
	(void)loop, (void)revents;
	svc_event(svc, SVC_EV_TIMER);
	run_queue();
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop, (void)revents;
	switch (w->signum) {
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (S->stopping_all) {
			log_warnx("stop already in progress (stop timeouts still apply)");
			return;
		}
		log_info("received %s: stopping every service", signal_name(w->signum));
		sup_shutdown(S);
		break;
	case SIGHUP:
		log_warnx("SIGHUP: reload is not supported yet");
		break;
	}
}

int sup_spawn_aux(struct sup *s, struct service *svc, const struct cmd *cmd, int out_fd,
		  void (*done)(struct service *svc, void *arg, int status), void *arg,
		  struct spawned *out, char **why)
{
	struct plan_ctx ctx;
	struct exec_plan plan;
	int r;

	if ((r = build_ctx(svc, &ctx, why)) < 0)
		return r;
	int writer = ctx.out_fd;
	ctx.cmd = cmd;
	if (out_fd >= 0)
		ctx.out_fd = out_fd;
	if ((r = plan_build(svc->cfg, &ctx, &plan, why)) == 0) {
		if ((r = track_child(svc, &plan, why)) == 0)
			r = spawn_plan(&plan, out, why);
		plan_free(&plan);
	}
	close(writer);
	if (r < 0)
		return r;
	/* Setup failures show up as exit status 127; the report is not needed,
	 * but its pipe stays open until the process exits: a child whose report
	 * met a closed pipe would die of SIGPIPE instead. */
	pidmap_put_aux(out->pid, svc->index, done, arg)->report_fd = out->report_fd;
	out->report_fd = -1;
	(void)s;
	return 0;
}

void sup_event(struct sup *s, struct service *svc, enum svc_event ev)
{
	(void)s;
	svc_event(svc, ev);
	run_queue();
}

void sup_changed(struct sup *s, struct service *svc)
{
	(void)s;
	op_changed(svc);
	run_queue();
}

/* ---- start, settle, stop --------------------------------------------------- */

static void want_rec(struct service *svc, bool up)
{
	enum svc_want w = up ? WANT_UP : WANT_DOWN;

	bool ended = svc->state == SVC_FAILED || svc->state == SVC_DONE ||
		     svc->state == SVC_SKIPPED;

	if (svc->want == w && !ended)
		return;
	svc->want = w;
	if (up && ended) {
		/* An explicit start re-arms a failed, finished or skipped service. */
		svc->state = SVC_STOPPED;
		svc->restarts = svc->consecutive = 0;
		free(svc->restart_times);
		svc->restart_times = NULL;
		svc->restart_head = 0;
	}
	enqueue(svc->index);
	if (up) {
		for (size_t i = 0; i < svc->cfg->ndeps; i++)
			want_rec(&S->svcs[svc->cfg->deps[i].index], true);
	} else {
		for (size_t i = 0; i < svc->ndependents; i++)
			want_rec(&S->svcs[svc->dependents[i]], false);
	}
}

int sup_want(struct sup *s, const char *name, bool up)
{
	if (name) {
		const struct svc_config *c = sysg_config_find(s->cfg, name);
		if (!c)
			return -ENOENT;
		want_rec(&s->svcs[c - s->cfg->svcs], up);
	} else {
		for (size_t i = 0; i < s->nsvcs; i++)
			want_rec(&s->svcs[s->cfg->order[i]], up);
	}
	run_queue();
	return 0;
}

void sup_shutdown(struct sup *s)
{
	s->stopping_all = true;
	sup_want(s, NULL, false);
}

/* A wanted service is settled once it is up, done, skipped, or has failed
 * (a failure in backoff counts: `start --daemonize` reports it, it does not
 * wait out a crash loop). */
static int settle_state(struct service *svc)
{
	switch (svc->state) {
	case SVC_RUNNING:
	case SVC_DONE:
	case SVC_SKIPPED:
		return 1;
	case SVC_FAILED:
		return -1;
	case SVC_BACKOFF:
		return svc->last_exit.valid ? -1 : 0;
	case SVC_WAITING:
		return svc->blocked[0] ? -1 : 0;
	default:
		return 0;
	}
}

static void settle_check(void)
{
	struct sbuf msg = {0};
	int failed = 0;

	if (S->settle_fd < 0)
		return;
	for (size_t i = 0; i < S->nsvcs; i++) {
		struct service *svc = &S->svcs[i];
		/* A cron service settles at once: it runs on its schedule. */
		int st = svc->want == WANT_UP && !svc->sched ? settle_state(svc) : 1;
		if (st == 0)
			return;
		if (st < 0) {
			failed++;
			sbuf_addf(&msg, "service %s: %s: %s\n", svc->cfg->name,
				  svc_status_names[svc->state],
				  svc->blocked[0] ? svc->blocked : svc->last_exit.reason);
		}
	}
	sbuf_addf(&msg, "%s\n", failed ? "FAILED" : "OK");
	if (secrets_global()) {
		/* Reasons may quote a command line that holds a secret. */
		struct mask_stream ms;
		struct sbuf masked = {0};
		mask_stream_init(&ms, secrets_global());
		mask_stream_feed(&ms, msg.s, msg.len, &masked);
		mask_stream_flush(&ms, &masked);
		mask_stream_free(&ms);
		sbuf_free(&msg);
		msg = masked;
	}
	(void)!write(S->settle_fd, msg.s, msg.len);
	close(S->settle_fd);
	S->settle_fd = -1;
	sbuf_free(&msg);
}

void sup_report_settled(struct sup *s, int fd)
{
	s->settle_fd = fd;
	settle_check();
}

static void compute_dependents(struct sup *s)
{
	for (size_t i = 0; i < s->nsvcs; i++) {
		const struct svc_config *c = s->svcs[i].cfg;
		for (size_t j = 0; j < c->ndeps; j++) {
			struct service *x = &s->svcs[c->deps[j].index];
			x->dependents = xreallocarray(x->dependents, x->ndependents + 1, sizeof(size_t));
			x->dependents[x->ndependents++] = i;
		}
	}
}

/* Processes an earlier supervisor left running: adopt the ones this file
 * still names, stop the others. Never start a duplicate. */
static void adopt_leftovers(struct sup *s)
{
	struct runfile_entry *e = NULL;
	size_t n = runfile_scan(s->run_dirfd, &e);

	for (size_t i = 0; i < n; i++) {
		const struct svc_config *c = NULL;
		for (size_t j = 0; j < s->nsvcs && !c; j++)
			if (streq(s->cfg->svcs[j].unit, e[i].unit))
				c = &s->cfg->svcs[j];
		if (!c) {
			log_warnx("stopping pid %d of service %s (not in the service file any more)",
				  e[i].pid, e[i].unit);
			kill(-e[i].pid, SIGTERM);
			kill(-e[i].pid, SIGCONT);
			close(e[i].pidfd);
			runfile_remove(s->run_dirfd, e[i].unit);
			continue;
		}
		struct service *svc = &s->svcs[c - s->cfg->svcs];
		svc->pgid = getpgid(e[i].pid);
		track_main(svc, e[i].pid, e[i].pidfd);
		svc->adopted = true;
		svc->exec_ok = true;
		svc->want = WANT_UP;
		svc->start_mono = now_mono_usec();
		svc->start_real = now_real_usec();
		svc->state = svc->seen_state = SVC_RUNNING; /* its onstart ran back then */
		log_info("service %s: adopted pid %d from an earlier supervisor", c->name, svc->pid);
	}
	free(e);
}

int sup_init(struct sup *s, struct sysg_config *cfg, const struct sysg_paths *paths,
	     bool foreground)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};
	struct rlimit rl;
	size_t width = 0;
	char *why = NULL;

	memset(s, 0, sizeof(*s));
	S = s;
	s->cfg = cfg;
	s->paths = *paths;
	s->foreground = foreground;
	s->pid1 = getpid() == 1;
	s->settle_fd = -1;
	s->loop = ev_default_loop(EVFLAG_NOSIGMASK);
	if (!s->loop)
		fatalx("cannot initialise the event loop");

	/* Many services mean many fds; services get the limit we started with. */
	getrlimit(RLIMIT_NOFILE, &rl);
	s->nofile_soft = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a subreaper; double-forking services escape tracking");

	s->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (s->devnull < 0)
		fatal("/dev/null");
	/* Run files describe processes, which do not survive a reboot: they
	 * belong to the runtime dir (tmpfs), where creating them is cheap. */
	char *run_dir = xasprintf("%s/run", paths->runtime_dir);
	if (mkdir_secure(run_dir, 0700, geteuid()) < 0 ||
	    (s->run_dirfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		fatal("%s", run_dir);
	free(run_dir);

	struct cg_manager_opts cgo = {.fs_root = "/sys/fs/cgroup", .base = paths->instance,
				      .system_mode = paths->system_mode, .move_self = true};
	s->cg = cg_manager_new(&cgo, &why);
	if (why)
		log_info("cgroups: %s; tracking services by process group", why);
	free(why);

	s->nsvcs = cfg->nsvcs;
	s->svcs = xcalloc(s->nsvcs ? s->nsvcs : 1, sizeof(*s->svcs));
	s->queue = xcalloc(s->nsvcs ? s->nsvcs : 1, sizeof(size_t));
	s->queued = xcalloc(s->nsvcs ? s->nsvcs : 1, sizeof(bool));
	for (size_t i = 0; i < s->nsvcs; i++) {
		struct service *svc = &s->svcs[i];
		svc_init(svc, &cfg->svcs[i], i, &real_ops);
		ev_timer_init(&svc->timer, timer_cb, 0., 0.);
		/* Its pipe is opened at the first start (build_ctx): fds go to
		 * services that run, and a lack of them fails that start, not sysg. */
		svc->log = svc_log_new(cfg->svcs[i].unit, cfg->svcs[i].name, &cfg->svcs[i].logs);
		if (strlen(cfg->svcs[i].name) > width)
			width = strlen(cfg->svcs[i].name);
	}
	logs_set_name_width(width);
	compute_dependents(s);
	track_init(s);
	adopt_leftovers(s);
	track_cleanup_leftovers(s);
	sched_init(s);

	ev_child_init(&s->child_w, child_cb, 0, 0);
	ev_child_start(s->loop, &s->child_w);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		ev_signal_init(&s->sig_w[i], signal_cb, sigs[i]);
		ev_signal_start(s->loop, &s->sig_w[i]);
	}
	return 0;
}

int sup_run(struct sup *s)
{
	ev_run(s->loop, 0);
	return s->unclean ? 1 : 0;
}

void sup_free(struct sup *s)
{
	sched_free(s);
	hooks_free(s);
	for (size_t i = 0; i < s->nsvcs; i++) {
		if (s->svcs[i].cg)
			cg_unit_free(s->svcs[i].cg);
		svc_log_close(s->svcs[i].log, false);
		if (s->svcs[i].secrets) {
			secrets_remove_files(s->svcs[i].secrets);
			secrets_free(s->svcs[i].secrets);
			free(s->svcs[i].secrets);
		}
		if (s->svcs[i].pidfd >= 0)
			close(s->svcs[i].pidfd);
		svc_free(&s->svcs[i]);
	}
	free(s->svcs);
	free(s->queue);
	free(s->queued);
	free(s->pids);
	cg_manager_remove(s->cg);
	cg_manager_free(s->cg);
	if (s->devnull >= 0)
		close(s->devnull);
	if (s->run_dirfd >= 0)
		close(s->run_dirfd);
	S = NULL;
}
