#include "supervisor/track.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/runfile.h"
#include "supervisor/util.h"

static struct sup *S;

static void oom_check(struct service *svc, const struct cg_events *ev)
{
	if (ev->oom_kills <= svc->oom_seen)
		return;
	log_warnx("service %s: out of memory: the kernel killed %llu process(es) (limits.cgroup.memory_max)",
		  svc->cfg->name, (unsigned long long)(ev->oom_kills - svc->oom_seen));
	svc->oom_seen = ev->oom_kills;
	svc->oom_pending = true;
}

static ev_io events_w; /* the cgroup manager's one event fd */

static void unit_event(struct cg_unit *u, void *arg)
{
	struct service *svc = cg_unit_data(u);
	struct cg_events ev;
	(void)arg;

	if (!svc || cg_unit_events(u, &ev) < 0)
		return;
	oom_check(svc, &ev);
	if (!ev.populated && svc->state == SVC_STOPPING && !svc->pid)
		sup_event(S, svc, SVC_EV_EMPTY);
}

static void events_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	cg_manager_dispatch(S->cg, unit_event, NULL);
}

void track_init(struct sup *s)
{
	int fd = cg_manager_event_fd(s->cg);

	S = s;
	if (fd >= 0) {
		ev_io_init(&events_w, events_cb, fd, EV_READ);
		ev_io_start(s->loop, &events_w);
	}
}

static int track_attach(struct service *svc, struct cg_unit *u)
{
	struct cg_events ev = {0};

	svc->cg = u;
	cg_unit_set_data(u, svc);
	if (cg_unit_events(u, &ev) == 0)
		svc->oom_seen = ev.oom_kills;
	return 0;
}

int track_prepare(struct sup *s, struct service *svc, char **why)
{
	const struct limits *l = &svc->cfg->limits;
	struct cg_unit *u;
	int r;

	if (svc->cg)
		return 0;
	r = cg_unit_open(s->cg, svc->cfg->unit, l->any_cgroup ? &l->cg : NULL, &u, why);
	if (r == -ENODEV) { /* no cgroups and no limits asked: process groups it is */
		free(*why);
		*why = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	return track_attach(svc, u);
}

int track_child(struct service *svc, struct exec_plan *plan, char **why)
{
	int r;

	if (!svc->cg)
		return 0;
	if ((r = cg_unit_child(svc->cg, &plan->cg)) < 0)
		*why = xasprintf("cgroup %s: %s", cg_unit_path(svc->cg), strerror(-r));
	return r;
}

void track_signal(struct service *svc, int sig, bool all)
{
	if (all && svc->cg && svc->cfg->kill_mode == KILL_CGROUP) {
		int r = cg_unit_kill(svc->cg, sig);
		if (r == 0)
			return;
		/* Reaching the cgroup takes fds (EMFILE) and may fail: the process
		 * group and the main process can still be reached without any. */
		log_warnx("service %s: cannot signal its cgroup: %s; signalling its process group",
			  svc->cfg->name, strerror(-r));
	}
	if (all && svc->pgid > 0 && kill(-svc->pgid, sig) == 0)
		return;
	/* A process that is not our child is reached through its pidfd (its pid may
	 * have been recycled); our own child's pid cannot be before we reap it. */
	if (svc->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, svc->pidfd, sig, NULL, 0);
	else if (svc->pid > 0)
		kill(svc->pid, sig);
}

bool track_alive(struct service *svc)
{
	if (svc->pid > 0)
		return true;
	if (svc->cfg->kill_mode == KILL_PROCESS)
		return false;
	if (svc->cg && svc->cfg->kill_mode == KILL_CGROUP)
		return cg_unit_populated(svc->cg);
	if (svc->pgid <= 0)
		return false;
	return kill(-svc->pgid, 0) == 0 || errno == EPERM;
}

pid_t track_oldest(struct service *svc)
{
	unsigned long long best_start = 0;
	pid_t *pids = NULL, best = 0;
	size_t n = 0;

	if (!svc->cg || cg_unit_pids(svc->cg, &pids, &n) < 0)
		return proc_oldest_in_session(svc->pgid);
	for (size_t i = 0; i < n; i++) {
		unsigned long long start = proc_starttime(pids[i]);
		if (start && (!best || start < best_start)) {
			best = pids[i];
			best_start = start;
		}
	}
	free(pids);
	return best;
}

bool track_oom_since_last(struct service *svc)
{
	struct cg_events ev;

	if (svc->cg && cg_unit_events(svc->cg, &ev) == 0)
		oom_check(svc, &ev);
	bool oom = svc->oom_pending;
	svc->oom_pending = false;
	return oom;
}

void track_release(struct service *svc)
{
	if (!svc->cg || cg_unit_populated(svc->cg))
		return;
	cg_unit_remove(svc->cg);
	cg_unit_free(svc->cg);
	svc->cg = NULL;
}

static void leftover(const char *unit, void *arg)
{
	struct sup *s = arg;
	struct cg_unit *u;
	char *why = NULL;

	for (size_t i = 0; i < s->nsvcs; i++) {
		struct service *svc = &s->svcs[i];
		if (streq(svc->cfg->unit, unit)) {
			if (svc->adopted && !svc->cg) {
				/* Keep tracking what an earlier supervisor left running. */
				const struct limits *l = &svc->cfg->limits;
				if (cg_unit_open(s->cg, unit, l->any_cgroup ? &l->cg : NULL, &u, &why) == 0)
					track_attach(svc, u);
				else
					log_warnx("service %s: cgroup: %s", svc->cfg->name, why);
				free(why);
				return;
			}
			break;
		}
	}
	if (cg_unit_open(s->cg, unit, NULL, &u, &why) < 0) {
		free(why);
		return;
	}
	if (cg_unit_populated(u)) {
		log_warnx("service cgroup %s: killing processes an earlier supervisor left", unit);
		cg_unit_kill(u, SIGKILL);
	}
	if (cg_unit_remove(u) < 0)
		log_warnx("service cgroup %s: still busy, left in place", unit);
	cg_unit_free(u);
}

void track_cleanup_leftovers(struct sup *s)
{
	if (cg_manager_tracking(s->cg))
		cg_manager_scan(s->cg, leftover, s);
}
