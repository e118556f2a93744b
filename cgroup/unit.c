/* A service's cgroup: open it through the backends, hand the child its fds,
 * and answer kill, events and stats by dispatching to the right role. */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
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
	for (size_t i = 0; i < CG_MAX_HIER; i++)
		u->procs_fd[i] = -1;
	u->clone_fd = u->epfd = u->inofd = u->oom_efd = u->oom_ctl_fd = -1;
	return u;
}

/* The fds the child writes to are opened here, once per unit, so that the
 * child does nothing but write(2). */
static int open_fds(struct cg_unit *u, char **why)
{
	struct cg_manager *m = u->m;

	for (size_t i = 0; i < m->nh; i++) {
		char *p;

		if (!u->joined[i])
			continue;
		p = cg_path(u->dir[i], "cgroup.procs");
		u->procs_fd[i] = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (u->procs_fd[i] < 0) {
			int err = -errno;
			cg_fail(why, err, "cannot open %s: %s", p, strerror(errno));
			free(p);
			return err;
		}
		free(p);
	}
	if (m->v2 >= 0 && u->joined[m->v2]) {
		u->clone_fd = open(u->dir[m->v2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (u->clone_fd < 0)
			return cg_fail(why, -errno, "cannot open %s: %s", u->dir[m->v2],
				       strerror(errno));
	}
	return 0;
}

static int open_events(struct cg_unit *u, char **why)
{
	const struct cg_manager *m = u->m;
	int err;

	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epfd < 0)
		return cg_fail(why, -errno, "epoll_create1: %s", strerror(errno));
	err = m->track_ops->watch(u);
	if (!err && m->ctl_ops != m->track_ops)
		err = m->ctl_ops->watch(u);
	if (err)
		return cg_fail(why, err, "cannot watch the events of %s: %s", cg_unit_path(u),
			       strerror(-err));
	return 0;
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
	err = m->track_ops->prepare(u, &n, why);
	if (!err && m->ctl_ops != m->track_ops)
		err = m->ctl_ops->prepare(u, &n, why);
	if (!err)
		err = m->ctl_ops->set_limits(u, lim, why);
	if (!err)
		err = open_fds(u, why);
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
	for (size_t i = 0; i < CG_MAX_HIER; i++) {
		close_fd(&u->procs_fd[i]);
		free(u->dir[i]);
	}
	close_fd(&u->clone_fd);
	close_fd(&u->epfd);
	close_fd(&u->inofd);
	close_fd(&u->oom_efd);
	close_fd(&u->oom_ctl_fd);
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

void cg_unit_child(const struct cg_unit *u, struct cg_child *c)
{
	const struct cg_manager *m = u->m;
	size_t n = 0;

	c->clone_fd = -1;
	for (size_t i = 0; i < CG_CHILD_MAX_FDS; i++)
		c->procs_fds[i] = -1;
	m->track_ops->attach(u, c, &n);
	if (m->ctl_ops != m->track_ops)
		m->ctl_ops->attach(u, c, &n);
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

int cg_unit_event_fd(struct cg_unit *u) { return u->epfd; }

static void drain(int fd, uint64_t *count)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (count && n == sizeof(uint64_t))
			*count += *(uint64_t *)buf;
}

int cg_unit_events(struct cg_unit *u, struct cg_events *ev)
{
	const struct cg_manager *m = u->m;

	drain(u->inofd, NULL);
	drain(u->oom_efd, &u->oom_notes);
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
