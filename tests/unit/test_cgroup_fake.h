/* Shared by the fake-cgroupfs tests: a temp dir per test, cgroup directories
 * filled as the kernel would fill them, and small collectors. */
#ifndef SYSG_CG_FAKE_H
#define SYSG_CG_FAKE_H

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <cmocka.h>

#include "cgroup/cg_internal.h"
#include "cgroup/cgroup.h"
#include "supervisor/util.h"
#include "tests/unit/test_cgroup_lib.h"


#define MB (1024ull * 1024)
#define NO_FILES 0u
#define ALL_FILES 0xffu

struct fx {
	char root[64];
};

static inline void ignore_unit(struct cg_unit *u, void *arg)
{
	(void)u, (void)arg;
}

/* What the supervisor's event callback does first: drain the manager's fd. */
static inline void drain_events(struct cg_manager *m) { cg_manager_dispatch(m, ignore_unit, NULL); }

static inline int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	snprintf(fx->root, sizeof(fx->root), "/tmp/sysg-cgfake-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(fx->root))
		return -1;
	chmod(fx->root, 0755); /* the user-mode tests look in as uid 65534 */
	*state = fx;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *fx = *state;
	rm_rf(fx->root);
	free(fx);
	return 0;
}

/* A v2 cgroup directory as the kernel would fill it; `files` picks the
 * controllers whose files exist (bit per enum cg_ctl). */
static inline void fake_v2(const char *dir, const char *controllers, unsigned files)
{
	mkdirs(dir);
	put_file(tpath("%s/cgroup.procs", dir), "");
	put_file(tpath("%s/cgroup.events", dir), "populated 0\nfrozen 0\n");
	put_file(tpath("%s/cgroup.controllers", dir), controllers);
	put_file(tpath("%s/cgroup.subtree_control", dir), "");
	put_file(tpath("%s/cgroup.kill", dir), "");
	put_file(tpath("%s/cgroup.freeze", dir), "0");
	put_file(tpath("%s/cpu.stat", dir), "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
	if (files & CG_BIT(CG_CTL_MEMORY)) {
		put_file(tpath("%s/memory.max", dir), "max");
		put_file(tpath("%s/memory.high", dir), "max");
		put_file(tpath("%s/memory.swap.max", dir), "max");
		put_file(tpath("%s/memory.current", dir), "0");
		put_file(tpath("%s/memory.peak", dir), "0");
		put_file(tpath("%s/memory.events", dir), "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
	}
	if (files & CG_BIT(CG_CTL_CPU)) {
		put_file(tpath("%s/cpu.max", dir), "max 100000");
		put_file(tpath("%s/cpu.weight", dir), "100");
	}
	if (files & CG_BIT(CG_CTL_PIDS)) {
		put_file(tpath("%s/pids.max", dir), "max");
		put_file(tpath("%s/pids.current", dir), "0");
	}
	if (files & CG_BIT(CG_CTL_IO))
		put_file(tpath("%s/io.weight", dir), "default 100");
}

static inline void fake_v1(const char *dir, enum cg_ctl c)
{
	static const char big[] = "9223372036854771712";

	mkdirs(dir);
	put_file(tpath("%s/cgroup.procs", dir), "");
	put_file(tpath("%s/tasks", dir), "");
	switch (c) {
	case CG_CTL_MEMORY:
		put_file(tpath("%s/memory.limit_in_bytes", dir), big);
		put_file(tpath("%s/memory.soft_limit_in_bytes", dir), big);
		put_file(tpath("%s/memory.memsw.limit_in_bytes", dir), big);
		put_file(tpath("%s/memory.usage_in_bytes", dir), "0");
		put_file(tpath("%s/memory.max_usage_in_bytes", dir), "0");
		put_file(tpath("%s/memory.oom_control", dir),
			 "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
		put_file(tpath("%s/cgroup.event_control", dir), "");
		break;
	case CG_CTL_CPU:
		put_file(tpath("%s/cpu.cfs_quota_us", dir), "-1");
		put_file(tpath("%s/cpu.cfs_period_us", dir), "100000");
		put_file(tpath("%s/cpu.shares", dir), "1024");
		break;
	case CG_CTL_CPUACCT:
		put_file(tpath("%s/cpuacct.usage", dir), "0");
		break;
	case CG_CTL_IO:
		put_file(tpath("%s/blkio.weight", dir), "500");
		break;
	case CG_CTL_PIDS:
		put_file(tpath("%s/pids.max", dir), "max");
		put_file(tpath("%s/pids.current", dir), "0");
		break;
	case CG_CTL_FREEZER:
		put_file(tpath("%s/freezer.state", dir), "THAWED");
		break;
	default:
		break;
	}
}

static const enum cg_ctl v1_all[] __attribute__((unused)) = {CG_CTL_MEMORY, CG_CTL_CPU, CG_CTL_CPUACCT,
				     CG_CTL_IO,     CG_CTL_PIDS, CG_CTL_FREEZER};

/* Every v1 hierarchy with <base>/<unit>.service prepared. */
static inline void fake_v1_tree(const char *root, const char *base, const char *unit)
{
	for (size_t i = 0; i < ARRAY_SIZE(v1_all); i++) {
		const char *n = cg_ctl_v1_names[v1_all[i]];
		fake_v1(tpath("%s/%s", root, n), v1_all[i]);
		fake_v1(tpath("%s/%s/%s", root, n, base), v1_all[i]);
		if (unit)
			fake_v1(tpath("%s/%s/%s/%s.service", root, n, base, unit), v1_all[i]);
	}
}

static inline struct cg_manager *mgr(const char *root, enum cg_layout layout, const char *base)
{
	struct cg_manager_opts o = {.fs_root = root, .base = base, .system_mode = true,
				    .force_layout = true, .layout = layout};
	char *why = NULL;
	struct cg_manager *m = cg_manager_new(&o, &why);

	assert_non_null(m);
	assert_null(why);
	assert_true(cg_manager_tracking(m));
	return m;
}

static inline struct cgroup_limits all_limits(void)
{
	struct cgroup_limits l = {
		.memory_max = {true, 64 * MB},
		.memory_high = {true, 48 * MB},
		.memory_swap_max = {true, 16 * MB},
		.cpu_max_set = true,
		.cpu_quota_usec = 50000,
		.cpu_period_usec = 100000,
		.cpu_weight = {true, 200},
		.pids_max = {true, 100},
		.io_weight = {true, 300},
	};
	return l;
}

static inline size_t nfds(const struct cg_child *c)
{
	size_t n = 0;
	while (n < CG_CHILD_MAX_FDS && c->procs_fds[n] >= 0)
		n++;
	return n;
}

/* ---- report -------------------------------------------------------------- */

struct lines {
	struct sbuf b;
};

static inline void on_line(bool ok, const char *what, const char *why, void *arg)
{
	struct lines *l = arg;
	sbuf_addf(&l->b, "%s %s: %s\n", ok ? "+" : "-", what, why);
}

#endif
