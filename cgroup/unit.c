/* A service's cgroup: open it through the backends, hand the child its fds,
 * and answer kill, events and stats by dispatching to the right role. */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "supervisor/util.h"

static int tracking_off(struct cg_manager *m, const struct cgroup_limits *lim, char **why)
{
	for (int l = 0; l < CG_LIM__COUNT; l++)
		if (cg_limit_is_set(lim, l))
			return cg_fail(why, -EOPNOTSUPP, "%s: %s", cg_limits[l].name, m->why_off);
	return cg_fail(why, -ENODEV, "cgroup tracking is off: %s", m->why_off);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static struct cg_unit *unit_new(struct cg_manager *m, const char *unit)
{
	struct cg_unit *u = xcalloc(1, sizeof(*u));

	u->m = m;
	u->name = xstrdup(unit);
	u->oom_efd = u->wd[0] = u->wd[1] = -1;
	return u;
}

static int open_events(struct cg_unit *u, char **why)
{
	struct cg_manager *m = u->m;
	int err;

	if (m->nunits == m->cap_units) {
		m->cap_units = m->cap_units ? 2 * m->cap_units : 64;
		m->units = xreallocarray(m->units, m->cap_units, sizeof(*m->units));
	}
	m->units[m->nunits++] = u;
	if (m->epfd < 0)
		return 0;
	err = m->track_ops->watch(u);
	if (!err && m->ctl_ops != m->track_ops)
		err = m->ctl_ops->watch(u);
	if (err)
		return cg_fail(why, err, "cannot watch the events of %s: %s", cg_unit_path(u),
			       strerror(-err));
	return 0;
}

static void close_events(struct cg_unit *u)
{
	struct cg_manager *m = u->m;

	for (int i = 0; i < 2; i++)
		if (u->wd[i] >= 0)
			inotify_rm_watch(m->inofd, u->wd[i]);
	if (u->oom_efd >= 0) {
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, u->oom_efd, NULL);
		close(u->oom_efd);
	}
	for (size_t i = 0; i < m->nunits; i++) {
		if (m->units[i] == u) {
			m->units[i] = m->units[--m->nunits];
			break;
		}
	}
}

int cg_unit_open(struct cg_manager *m, const char *unit, const struct cgroup_limits *lim,
		 struct cg_unit **out, char **why)
{
	static const struct cgroup_limits no_limits;
	struct cg_need n;
	struct cg_unit *u;
	int err;

	*out = NULL;
	if (!lim)
		lim = &no_limits;
	if (!cg_unit_name_ok(unit))
		return cg_fail(why, -EINVAL, "invalid cgroup unit name \"%s\"", unit);
	if (!m->tracking)
		return tracking_off(m, lim, why);

	/* Accounting for status: memory and pids everywhere, and cpuacct on v1
	 * (v2's cpu.stat needs no controller). cpu and io only when limited. */
	n = (struct cg_need){.lim = lim, .need = cg_limits_ctls(lim),
			     .want = CG_BIT(CG_CTL_MEMORY) | CG_BIT(CG_CTL_PIDS)};
	if (m->layout == CG_LAYOUT_V1)
		n.want |= CG_BIT(CG_CTL_CPUACCT);

	u = unit_new(m, unit);
	u->oom_watch = lim->memory_max.set || lim->memory_high.set;
	err = m->track_ops->prepare(u, &n, why);
	if (!err && m->ctl_ops != m->track_ops)
		err = m->ctl_ops->prepare(u, &n, why);
	if (!err)
		err = m->ctl_ops->set_limits(u, lim, why);
	if (!err)
		err = open_events(u, why);
	if (err) {
		/* Only what is empty goes: a running service's cgroup stays. */
		cg_unit_remove(u);
		cg_unit_free(u);
		return err;
	}
	*out = u;
	return 0;
}

void cg_unit_free(struct cg_unit *u)
{
	if (!u)
		return;
	close_events(u);
	for (size_t i = 0; i < CG_MAX_HIER; i++)
		free(u->dir[i]);
	free(u->name);
	free(u);
}

int cg_unit_remove(struct cg_unit *u)
{
	const struct cg_manager *m = u->m;
	int err = m->track_ops->remove(u);

	if (m->ctl_ops != m->track_ops) {
		int e = m->ctl_ops->remove(u);
		if (!err)
			err = e;
	}
	return err;
}

const char *cg_unit_path(const struct cg_unit *u) { return u->dir[u->m->track]; }

int cg_unit_child(const struct cg_unit *u, struct cg_child *c)
{
	const struct cg_manager *m = u->m;
	size_t n = 0;
	int err;

	c->clone_fd = -1;
	for (size_t i = 0; i < CG_CHILD_MAX_FDS; i++)
		c->procs_fds[i] = -1;
	err = m->track_ops->attach(u, c, &n);
	if (!err && m->ctl_ops != m->track_ops)
		err = m->ctl_ops->attach(u, c, &n);
	if (err)
		cg_child_close(c);
	return err;
}

void cg_child_close(struct cg_child *c)
{
	close_fd(&c->clone_fd);
	for (size_t i = 0; i < CG_CHILD_MAX_FDS; i++)
		close_fd(&c->procs_fds[i]);
}

/* Runs in the forked child: write(2) only. "0" is "the writing process". */
int cg_child_attach(const struct cg_child *c)
{
	for (size_t i = 0; i < CG_CHILD_MAX_FDS && c->procs_fds[i] >= 0; i++) {
		ssize_t n;

		do
			n = write(c->procs_fds[i], "0", 1);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if (n != 1)
			return -EIO;
	}
	return 0;
}

int cg_unit_kill(struct cg_unit *u, int sig) { return u->m->track_ops->kill(u, sig); }
bool cg_unit_populated(struct cg_unit *u) { return u->m->track_ops->populated(u); }

int cg_unit_pids(struct cg_unit *u, pid_t **pids, size_t *n)
{
	return u->m->track_ops->pids(u, pids, n);
}

bool cg_unit_contains(struct cg_unit *u, pid_t pid)
{
	pid_t *pids;
	size_t n;
	bool found = false;

	if (cg_unit_pids(u, &pids, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = pids[i] == pid;
	free(pids);
	return found;
}

void cg_unit_set_data(struct cg_unit *u, void *data) { u->data = data; }
void *cg_unit_data(const struct cg_unit *u) { return u->data; }

int cg_manager_event_fd(const struct cg_manager *m) { return m->epfd; }

static struct cg_unit *unit_by_wd(struct cg_manager *m, int wd)
{
	for (size_t i = 0; i < m->nunits; i++)
		if (m->units[i]->wd[0] == wd || m->units[i]->wd[1] == wd)
			return m->units[i];
	return NULL;
}

void cg_manager_dispatch(struct cg_manager *m, void (*fn)(struct cg_unit *u, void *arg),
			 void *arg)
{
	struct epoll_event evs[64];
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n;

	if (m->epfd < 0)
		return;
	n = epoll_wait(m->epfd, evs, 64, 0);
	for (int i = 0; i < n; i++) {
		struct cg_unit *u = evs[i].data.ptr;
		ssize_t len;

		if (u) { /* a v1 OOM eventfd */
			uint64_t count;
			while (read(u->oom_efd, &count, sizeof(count)) == sizeof(count))
				u->oom_notes += count;
			u->pending = true;
			continue;
		}
		while ((len = read(m->inofd, buf, sizeof(buf))) > 0) {
			for (char *p = buf; p < buf + len;) {
				struct inotify_event *ie = (struct inotify_event *)p;
				struct cg_unit *w = unit_by_wd(m, ie->wd);
				if (w)
					w->pending = true;
				p += sizeof(*ie) + ie->len;
			}
		}
	}
	/* fn may free units: collect first. */
	for (size_t i = 0; i < m->nunits;) {
		struct cg_unit *u = m->units[i];
		if (!u->pending) {
			i++;
			continue;
		}
		u->pending = false;
		size_t before = m->nunits;
		fn(u, arg);
		if (m->nunits == before)
			i++;
	}
}

int cg_unit_events(struct cg_unit *u, struct cg_events *ev)
{
	const struct cg_manager *m = u->m;

	ev->populated = m->track_ops->populated(u);
	ev->oom_kills = m->ctl_ops->oom_kills(u);
	return 0;
}

int cg_unit_stats(struct cg_unit *u, struct cg_stats *st)
{
	const struct cg_manager *m = u->m;

	st->memory_current = st->memory_peak = st->cpu_usec = st->pids_current = UINT64_MAX;
	m->ctl_ops->stats(u, st);
	if (m->track_ops != m->ctl_ops)
		m->track_ops->stats(u, st);
	return 0;
}
