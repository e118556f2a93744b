/* The cgroup v2 backend: the unified hierarchy (pure v2, or <root>/unified on
 * hybrid hosts, where it only tracks and kills). */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/inotify.h>

#include "supervisor/log.h"
#include "supervisor/util.h"

static struct cg_hier *v2h(const struct cg_unit *u) { return &u->m->h[u->m->v2]; }
static const char *v2dir(const struct cg_unit *u) { return u->dir[u->m->v2]; }

static void ctl_list(struct sbuf *b, unsigned ctls)
{
	sbuf_reset(b);
	for (int c = 0; c < CG_CTL__COUNT; c++)
		if ((ctls & CG_BIT(c)) && cg_ctl_v2_names[c])
			sbuf_addf(b, "%s+%s", b->len ? " " : "", cg_ctl_v2_names[c]);
}

static int first_ctl(unsigned ctls)
{
	for (int c = 0; c < CG_CTL__COUNT; c++)
		if (ctls & CG_BIT(c))
			return c;
	return 0;
}

/* Turn on in dir/cgroup.subtree_control what is not on yet: everything in
 * one write, else what the limits need (an error when refused) and then each
 * accounting controller on its own (dropped from *want when refused). */
static int enable_level(const char *dir, const struct cg_need *n, unsigned need, unsigned *want,
			char **why)
{
	unsigned miss_need = 0, miss_want = 0;
	struct sbuf b = {0};
	char *on = NULL;
	int err;

	if (cg_read(dir, "cgroup.subtree_control", &on) < 0)
		on = xstrdup("");
	for (int c = 0; c < CG_CTL__COUNT; c++) {
		if (!cg_ctl_v2_names[c] || cg_word_in(on, cg_ctl_v2_names[c]))
			continue;
		if (need & CG_BIT(c))
			miss_need |= CG_BIT(c);
		else if (*want & CG_BIT(c))
			miss_want |= CG_BIT(c);
	}
	free(on);
	if (!(miss_need | miss_want))
		return 0;
	ctl_list(&b, miss_need | miss_want);
	err = cg_write(dir, "cgroup.subtree_control", b.s);
	if (!err) {
		sbuf_free(&b);
		return 0;
	}
	if (miss_need) {
		ctl_list(&b, miss_need);
		err = cg_write(dir, "cgroup.subtree_control", b.s);
		if (err) {
			int c = first_ctl(miss_need);
			sbuf_free(&b);
			return cg_fail(why, err,
				       "%s: cannot enable the %s controller in %s/cgroup.subtree_control: %s%s",
				       cg_limit_for_ctl(n->lim, c), cg_ctl_v2_names[c], dir,
				       strerror(-err),
				       err == -EBUSY ? " (processes live there; cgroup v2 gives "
						       "controllers only to cgroups without processes)"
						     : "");
		}
	}
	for (int c = 0; c < CG_CTL__COUNT; c++) {
		if (!(miss_want & CG_BIT(c)))
			continue;
		ctl_list(&b, CG_BIT(c));
		err = cg_write(dir, "cgroup.subtree_control", b.s);
		if (err) {
			log_debug("cgroup: no %s accounting: cannot enable it in %s: %s",
				  cg_ctl_v2_names[c], dir, strerror(-err));
			*want &= ~CG_BIT(c);
		}
	}
	sbuf_free(&b);
	return 0;
}

/* What the parent offers its children now (an admin may change it). */
unsigned cg_v2_available(const char *dir)
{
	unsigned ctls = 0;
	char *avail;

	if (cg_read(dir, "cgroup.controllers", &avail) < 0)
		return 0;
	for (int c = 0; c < CG_CTL__COUNT; c++)
		if (cg_ctl_v2_names[c] && cg_word_in(avail, cg_ctl_v2_names[c]))
			ctls |= CG_BIT(c);
	free(avail);
	return ctls;
}

static int v2_prepare(struct cg_unit *u, const struct cg_need *n, char **why)
{
	struct cg_manager *m = u->m;
	struct cg_hier *h = v2h(u);
	char *name, *dir;
	int err;

	if (cg_is_ctl(u, &cg_v2_ops)) {
		unsigned need = n->need, want;

		h->ctls = cg_v2_available(h->parent);
		want = n->want & h->ctls & ~need;

		for (int c = 0; c < CG_CTL__COUNT; c++)
			if ((need & CG_BIT(c)) && !(h->ctls & CG_BIT(c)))
				return cg_fail(why, -EOPNOTSUPP,
					       "%s: the %s controller is not available in %s "
					       "(not listed in its cgroup.controllers)",
					       cg_limit_for_ctl(n->lim, c), cg_ctl_v2_names[c],
					       h->parent);
		err = enable_level(h->parent, n, need, &want, why);
		if (!err)
			err = enable_level(h->base, n, need, &want, why);
		if (err)
			return err;
		u->ctls |= need | want;
	}
	name = cg_unit_dirname(u->name);
	dir = cg_path(h->base, name);
	free(name);
	err = cg_mkdir(dir);
	if (err) {
		cg_fail(why, err, "cannot create %s: %s", dir, strerror(-err));
		free(dir);
		return err;
	}
	u->dir[m->v2] = dir;
	u->joined[m->v2] = true;
	return 0;
}

static int put_u64(const char *dir, enum cg_limit l, const char *file,
		   const struct opt_u64 *o, char **why)
{
	char v[32];

	cg_fmt_v2(v, sizeof(v), o->set ? o->v : SYSG_UNLIMITED);
	return cg_put(dir, l, file, v, o->set, why);
}

static int put_io(const char *dir, const struct cgroup_limits *lim, char **why)
{
	uint64_t w = lim->io_weight.set ? lim->io_weight.v : 100;
	char v[32];

	if (cg_exists(dir, "io.weight")) {
		snprintf(v, sizeof(v), "default %" PRIu64, w);
		return cg_put(dir, CG_LIM_IO_WEIGHT, "io.weight", v, lim->io_weight.set, why);
	}
	if (cg_exists(dir, "io.bfq.weight")) {
		snprintf(v, sizeof(v), "%" PRIu64, cg_v1_bfq_weight(w));
		return cg_put(dir, CG_LIM_IO_WEIGHT, "io.bfq.weight", v, lim->io_weight.set, why);
	}
	if (!lim->io_weight.set)
		return 0;
	return cg_fail(why, -EOPNOTSUPP,
		       "io_weight: neither io.weight nor io.bfq.weight exists in %s "
		       "(no io cost model and no BFQ scheduler)", dir);
}

static int v2_set_limits(struct cg_unit *u, const struct cgroup_limits *lim, char **why)
{
	const char *dir = v2dir(u);
	char v[64];
	int err;

	err = put_u64(dir, CG_LIM_MEMORY_MAX, "memory.max", &lim->memory_max, why);
	if (!err)
		err = put_u64(dir, CG_LIM_MEMORY_HIGH, "memory.high", &lim->memory_high, why);
	if (!err)
		err = put_u64(dir, CG_LIM_MEMORY_SWAP_MAX, "memory.swap.max", &lim->memory_swap_max,
			      why);
	if (err)
		return err;
	if (lim->cpu_max_set && lim->cpu_quota_usec != SYSG_UNLIMITED)
		snprintf(v, sizeof(v), "%" PRIu64 " %" PRIu64, lim->cpu_quota_usec,
			 lim->cpu_period_usec);
	else if (lim->cpu_max_set)
		snprintf(v, sizeof(v), "max %" PRIu64, lim->cpu_period_usec);
	else
		snprintf(v, sizeof(v), "max");
	err = cg_put(dir, CG_LIM_CPU_MAX, "cpu.max", v, lim->cpu_max_set, why);
	if (err)
		return err;
	snprintf(v, sizeof(v), "%" PRIu64, lim->cpu_weight.set ? lim->cpu_weight.v : 100);
	err = cg_put(dir, CG_LIM_CPU_WEIGHT, "cpu.weight", v, lim->cpu_weight.set, why);
	if (!err)
		err = put_u64(dir, CG_LIM_PIDS_MAX, "pids.max", &lim->pids_max, why);
	if (!err)
		err = put_io(dir, lim, why);
	return err;
}

/* Opened for one spawn only: every fd the supervisor keeps is copied into
 * every child it clones. */
static int v2_attach(const struct cg_unit *u, struct cg_child *c, size_t *n)
{
	const char *dir = v2dir(u);
	int fd;

	if (!u->joined[u->m->v2])
		return 0;
	if ((c->clone_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if ((fd = cg_open_procs(dir)) < 0)
		return fd;
	c->procs_fds[(*n)++] = fd;
	return 0;
}

static void fill(const char *dir, const char *file, const char *key, uint64_t *v)
{
	uint64_t x;

	if (*v != UINT64_MAX)
		return;
	if ((key ? cg_read_key(dir, file, key, &x) : cg_read_u64(dir, file, &x)) == 0)
		*v = x;
}

static void v2_stats(struct cg_unit *u, struct cg_stats *st)
{
	const char *dir = v2dir(u);

	if (u->ctls & CG_BIT(CG_CTL_MEMORY)) {
		fill(dir, "memory.current", NULL, &st->memory_current);
		fill(dir, "memory.peak", NULL, &st->memory_peak);
	}
	if (u->ctls & CG_BIT(CG_CTL_PIDS))
		fill(dir, "pids.current", NULL, &st->pids_current);
	/* cpu.stat's usage_usec is kept by the core, without the cpu controller. */
	fill(dir, "cpu.stat", "usage_usec", &st->cpu_usec);
}

/* Frozen tasks cannot fork; wait (bounded) until the kernel says all are. */
static int v2_freeze(struct cg_unit *u, bool on)
{
	const char *dir = v2dir(u);
	int err = cg_write(dir, "cgroup.freeze", on ? "1" : "0");

	for (int i = 0; !err && on && i < 100; i++) {
		uint64_t frozen;
		if (cg_read_key(dir, "cgroup.events", "frozen", &frozen) == 0 && frozen == 1)
			break;
		cg_sleep_usec(1000);
	}
	return err;
}

static int v2_kill(struct cg_unit *u, int sig)
{
	const char *dir = v2dir(u);

	if (sig != SIGKILL)
		return cg_signal_all(dir, sig);
	if (!u->m->no_cgroup_kill) {
		/* The kernel kills everything, including what forks meanwhile (5.14+). */
		int err = cg_write(dir, "cgroup.kill", "1");
		if (err != -ENOENT)
			return err;
	}
	return cg_kill_loop(u, dir, cg_exists(dir, "cgroup.freeze") ? v2_freeze : NULL);
}

static int v2_pids(struct cg_unit *u, pid_t **pids, size_t *n)
{
	return cg_read_pids(v2dir(u), pids, n);
}

static bool v2_populated(struct cg_unit *u)
{
	uint64_t pop;
	pid_t *pids;
	size_t n = 0;

	if (cg_read_key(v2dir(u), "cgroup.events", "populated", &pop) == 0)
		return pop != 0;
	if (cg_read_pids(v2dir(u), &pids, &n) < 0)
		return false;
	free(pids);
	return n > 0;
}

/* The kernel notifies cgroup.events and memory.events with IN_MODIFY. */
static int v2_watch(struct cg_unit *u)
{
	const char *dir = v2dir(u);
	char *p;

	p = cg_path(dir, "cgroup.events");
	u->wd[0] = inotify_add_watch(u->m->inofd, p, IN_MODIFY);
	free(p);
	if (u->wd[0] < 0 && errno != ENOENT)
		return -errno;
	if (cg_is_ctl(u, &cg_v2_ops) && (u->ctls & CG_BIT(CG_CTL_MEMORY))) {
		p = cg_path(dir, "memory.events");
		u->wd[1] = inotify_add_watch(u->m->inofd, p, IN_MODIFY);
		free(p);
		if (u->wd[1] < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

static uint64_t v2_oom_kills(struct cg_unit *u)
{
	uint64_t n;

	if (cg_read_key(v2dir(u), "memory.events", "oom_kill", &n) == 0)
		return n;
	return 0;
}

static int v2_remove(struct cg_unit *u)
{
	struct cg_hier *h = v2h(u);
	char *name, *dir;
	int err;

	if (!h->base)
		return 0;
	name = cg_unit_dirname(u->name);
	dir = cg_path(h->base, name);
	err = cg_rmdir(dir);
	free(name);
	free(dir);
	return err == -ENOTEMPTY ? -EBUSY : err;
}

const struct cg_ops cg_v2_ops = {
	.name = "v2",
	.prepare = v2_prepare,
	.set_limits = v2_set_limits,
	.attach = v2_attach,
	.stats = v2_stats,
	.kill = v2_kill,
	.pids = v2_pids,
	.populated = v2_populated,
	.watch = v2_watch,
	.oom_kills = v2_oom_kills,
	.remove = v2_remove,
};
