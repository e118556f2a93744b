/* The cgroup v1 backend: one hierarchy per controller (or per comount). On
 * hybrid hosts it only enforces limits and reports memory and pids; on pure v1
 * hosts it also tracks (pids hierarchy first) and kills (freezer). */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/util.h"

static const char *v1dir(const struct cg_unit *u, enum cg_ctl c)
{
	int i = u->m->v1[c];
	return i >= 0 ? u->dir[i] : NULL;
}

static int first_ctl(unsigned ctls)
{
	for (int c = 0; c < CG_CTL__COUNT; c++)
		if (ctls & CG_BIT(c))
			return c;
	return 0;
}

static int v1_prepare(struct cg_unit *u, const struct cg_need *n, char **why)
{
	struct cg_manager *m = u->m;
	bool tracker = cg_is_tracker(u, &cg_v1_ops);
	unsigned ctls = n->need | n->want | (tracker ? CG_BIT(CG_CTL_FREEZER) : 0);
	char *name;

	for (int c = 0; c < CG_CTL__COUNT; c++)
		if ((n->need & CG_BIT(c)) && m->v1[c] < 0)
			return cg_fail(why, -EOPNOTSUPP,
				       "%s: no cgroup v1 %s hierarchy is mounted at %s/%s",
				       cg_limit_for_ctl(n->lim, c), cg_ctl_v1_names[c], m->fs_root,
				       cg_ctl_v1_names[c]);
	name = cg_unit_dirname(u->name);
	for (size_t i = 0; i < m->nh; i++) {
		struct cg_hier *h = &m->h[i];
		bool track = tracker && (int)i == m->track;
		unsigned needed = h->ctls & n->need;
		char *dir;
		int err;

		if (h->v2 || (!(h->ctls & ctls) && !track))
			continue;
		if (!h->usable) {
			int c = first_ctl(needed);
			if (!needed)
				continue;
			free(name);
			if (m->system_mode)
				return cg_fail(why, -EOPNOTSUPP, "%s: %s", cg_limit_for_ctl(n->lim, c),
					       h->why);
			return cg_fail(why, -EOPNOTSUPP,
				       "%s: no delegated cgroup v1 %s hierarchy for uid %u: %s",
				       cg_limit_for_ctl(n->lim, c), cg_ctl_v1_names[c],
				       (unsigned)m->uid, h->why);
		}
		dir = cg_path(h->base, name);
		err = cg_mkdir(dir);
		if (err) {
			if (needed || track) {
				cg_fail(why, err, "%s%scannot create %s: %s",
					needed ? cg_limit_for_ctl(n->lim, first_ctl(needed)) : "",
					needed ? ": " : "", dir, strerror(-err));
				free(dir);
				free(name);
				return err;
			}
			free(dir);
			continue;
		}
		u->dir[i] = dir;
		u->joined[i] = true;
		u->ctls |= h->ctls & ctls;
	}
	free(name);
	return 0;
}

static int put_v1(const char *dir, enum cg_limit l, const char *file, const struct opt_u64 *o,
		  char **why)
{
	char v[32];

	cg_fmt_v1(v, sizeof(v), o->set ? o->v : SYSG_UNLIMITED);
	return cg_put(dir, l, file, v, o->set, why);
}

/* memsw = memory + swap, and the kernel keeps memsw >= limit_in_bytes: lift
 * memsw first, set the memory limit, then set memsw. memory_high has no v1
 * twin; the soft limit (reclaim target under pressure) is the nearest. */
static int v1_memory(const char *dir, const struct cgroup_limits *lim, char **why)
{
	static const char memsw[] = "memory.memsw.limit_in_bytes";
	const struct opt_u64 *mx = &lim->memory_max, *sw = &lim->memory_swap_max;
	bool have_memsw = cg_exists(dir, memsw);
	char v[32];
	int err;

	if (have_memsw) {
		err = cg_write(dir, memsw, "-1");
		if (err)
			return cg_fail(why, err, "memory_swap_max: cannot write \"-1\" to %s/%s: %s",
				       dir, memsw, strerror(-err));
	}
	err = put_v1(dir, CG_LIM_MEMORY_MAX, "memory.limit_in_bytes", mx, why);
	if (!err)
		err = put_v1(dir, CG_LIM_MEMORY_HIGH, "memory.soft_limit_in_bytes",
			     &lim->memory_high, why);
	if (err || !sw->set || sw->v == SYSG_UNLIMITED)
		return err;
	if (!have_memsw)
		return cg_fail(why, -EOPNOTSUPP,
			       "memory_swap_max: %s/%s does not exist: the kernel does not account "
			       "swap (boot with swapaccount=1)", dir, memsw);
	if (!mx->set || mx->v == SYSG_UNLIMITED)
		return cg_fail(why, -EOPNOTSUPP,
			       "memory_swap_max: cgroup v1 limits memory and swap together (%s = "
			       "memory_max + memory_swap_max): set memory_max too", memsw);
	cg_fmt_v1(v, sizeof(v), mx->v > UINT64_MAX - 1 - sw->v ? SYSG_UNLIMITED : mx->v + sw->v);
	return cg_put(dir, CG_LIM_MEMORY_SWAP_MAX, memsw, v, true, why);
}

static int v1_cpu(const char *dir, const struct cgroup_limits *lim, char **why)
{
	char v[32];
	int err;

	/* The quota must fit the period: drop it, set the period, set it. */
	err = cg_put(dir, CG_LIM_CPU_MAX, "cpu.cfs_quota_us", "-1", lim->cpu_max_set, why);
	if (!err && lim->cpu_max_set) {
		snprintf(v, sizeof(v), "%" PRIu64, lim->cpu_period_usec);
		err = cg_put(dir, CG_LIM_CPU_MAX, "cpu.cfs_period_us", v, true, why);
		if (!err && lim->cpu_quota_usec != SYSG_UNLIMITED) {
			snprintf(v, sizeof(v), "%" PRIu64, lim->cpu_quota_usec);
			err = cg_put(dir, CG_LIM_CPU_MAX, "cpu.cfs_quota_us", v, true, why);
		}
	}
	if (err)
		return err;
	snprintf(v, sizeof(v), "%" PRIu64,
		 lim->cpu_weight.set ? cg_v1_cpu_shares(lim->cpu_weight.v) : 1024);
	return cg_put(dir, CG_LIM_CPU_WEIGHT, "cpu.shares", v, lim->cpu_weight.set, why);
}

static int v1_io(const char *dir, const struct cgroup_limits *lim, char **why)
{
	bool set = lim->io_weight.set;
	uint64_t w = set ? lim->io_weight.v : 100;
	char v[32];

	if (cg_exists(dir, "blkio.weight")) {
		snprintf(v, sizeof(v), "%" PRIu64, cg_v1_blkio_weight(w));
		return cg_put(dir, CG_LIM_IO_WEIGHT, "blkio.weight", v, set, why);
	}
	if (cg_exists(dir, "blkio.bfq.weight")) {
		snprintf(v, sizeof(v), "%" PRIu64, cg_v1_bfq_weight(w));
		return cg_put(dir, CG_LIM_IO_WEIGHT, "blkio.bfq.weight", v, set, why);
	}
	if (!set)
		return 0;
	return cg_fail(why, -EOPNOTSUPP,
		       "io_weight: neither blkio.weight nor blkio.bfq.weight exists in %s "
		       "(no CFQ or BFQ I/O scheduler)", dir);
}

static int v1_set_limits(struct cg_unit *u, const struct cgroup_limits *lim, char **why)
{
	const char *dir;
	int err = 0;

	if ((dir = v1dir(u, CG_CTL_MEMORY)))
		err = v1_memory(dir, lim, why);
	if (!err && (dir = v1dir(u, CG_CTL_CPU)))
		err = v1_cpu(dir, lim, why);
	if (!err && (dir = v1dir(u, CG_CTL_PIDS))) {
		char v[32];
		cg_fmt_v2(v, sizeof(v), lim->pids_max.set ? lim->pids_max.v : SYSG_UNLIMITED);
		err = cg_put(dir, CG_LIM_PIDS_MAX, "pids.max", v, lim->pids_max.set, why);
	}
	if (!err && (dir = v1dir(u, CG_CTL_IO)))
		err = v1_io(dir, lim, why);
	return err;
}

static int v1_attach(const struct cg_unit *u, struct cg_child *c, size_t *n)
{
	for (size_t i = 0; i < u->m->nh; i++) {
		int fd;
		if (u->m->h[i].v2 || !u->joined[i] || *n >= CG_CHILD_MAX_FDS - 1)
			continue;
		if ((fd = cg_open_procs(u->dir[i])) < 0)
			return fd;
		c->procs_fds[(*n)++] = fd;
	}
	return 0;
}

static void fill(const char *dir, const char *file, uint64_t *v, uint64_t div)
{
	uint64_t x;

	if (dir && *v == UINT64_MAX && cg_read_u64(dir, file, &x) == 0)
		*v = x / div;
}

static void v1_stats(struct cg_unit *u, struct cg_stats *st)
{
	fill(v1dir(u, CG_CTL_MEMORY), "memory.usage_in_bytes", &st->memory_current, 1);
	fill(v1dir(u, CG_CTL_MEMORY), "memory.max_usage_in_bytes", &st->memory_peak, 1);
	fill(v1dir(u, CG_CTL_PIDS), "pids.current", &st->pids_current, 1);
	fill(v1dir(u, CG_CTL_CPUACCT), "cpuacct.usage", &st->cpu_usec, 1000);
}

static const char *track_dir(const struct cg_unit *u) { return u->dir[u->m->track]; }

/* Reading freezer.state moves FREEZING on to FROZEN once every task is. */
static int v1_freeze(struct cg_unit *u, bool on)
{
	const char *dir = v1dir(u, CG_CTL_FREEZER);
	int err = cg_write(dir, "freezer.state", on ? "FROZEN" : "THAWED");

	for (int i = 0; !err && on && i < 100; i++) {
		char *state;
		bool done;

		if (cg_read(dir, "freezer.state", &state) < 0)
			break;
		done = str_has_prefix(state, "FROZEN");
		free(state);
		if (done)
			break;
		cg_sleep_usec(1000);
	}
	return err;
}

static int v1_kill(struct cg_unit *u, int sig)
{
	if (sig != SIGKILL)
		return cg_signal_all(track_dir(u), sig);
	return cg_kill_loop(u, track_dir(u), v1dir(u, CG_CTL_FREEZER) ? v1_freeze : NULL);
}

static int v1_pids(struct cg_unit *u, pid_t **pids, size_t *n)
{
	return cg_read_pids(track_dir(u), pids, n);
}

static bool v1_populated(struct cg_unit *u)
{
	pid_t *pids;
	size_t n = 0;

	if (cg_read_pids(track_dir(u), &pids, &n) < 0)
		return false;
	free(pids);
	return n > 0;
}

/* v1 OOM notification: an eventfd registered on memory.oom_control through
 * cgroup.event_control. Best effort: without it oom_kill is still readable. */
static int v1_watch(struct cg_unit *u)
{
	const char *dir = v1dir(u, CG_CTL_MEMORY);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = u};
	char *p, v[32];
	int ctl;

	/* Only a memory limit can OOM-kill inside the cgroup: only then is an fd
	 * spent on it (the kill count itself is read on demand). */
	if (!dir || !cg_is_ctl(u, &cg_v1_ops) || !u->oom_watch)
		return 0;
	p = cg_path(dir, "memory.oom_control");
	ctl = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(p);
	u->oom_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctl < 0 || u->oom_efd < 0)
		goto out_close;
	snprintf(v, sizeof(v), "%d %d", u->oom_efd, ctl);
	if ((errno = -cg_write(dir, "cgroup.event_control", v)))
		goto out_close;
	close(ctl); /* the registration holds its own reference */
	if (epoll_ctl(u->m->epfd, EPOLL_CTL_ADD, u->oom_efd, &ev) < 0)
		return -errno;
	return 0;
out_close:
	log_debug("cgroup: no OOM notification for %s: %s", dir, strerror(errno));
	if (ctl >= 0)
		close(ctl);
	if (u->oom_efd >= 0)
		close(u->oom_efd);
	u->oom_efd = -1;
	return 0;
}

static uint64_t v1_oom_kills(struct cg_unit *u)
{
	const char *dir = v1dir(u, CG_CTL_MEMORY);
	uint64_t n;

	if (!dir)
		return 0;
	/* Kernels since 4.13 count kills in oom_control; older ones only notify. */
	if (cg_read_key(dir, "memory.oom_control", "oom_kill", &n) == 0)
		return n;
	return u->oom_notes;
}

static int v1_remove(struct cg_unit *u)
{
	char *name = cg_unit_dirname(u->name);
	int err = 0;

	for (size_t i = 0; i < u->m->nh; i++) {
		const struct cg_hier *h = &u->m->h[i];
		char *dir;
		int e;

		if (h->v2 || !h->base)
			continue;
		dir = cg_path(h->base, name);
		e = cg_rmdir(dir);
		free(dir);
		if (e && !err)
			err = e == -ENOTEMPTY ? -EBUSY : e;
	}
	free(name);
	return err;
}

const struct cg_ops cg_v1_ops = {
	.name = "v1",
	.prepare = v1_prepare,
	.set_limits = v1_set_limits,
	.attach = v1_attach,
	.stats = v1_stats,
	.kill = v1_kill,
	.pids = v1_pids,
	.populated = v1_populated,
	.watch = v1_watch,
	.oom_kills = v1_oom_kills,
	.remove = v1_remove,
};
