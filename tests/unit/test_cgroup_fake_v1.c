/* The cgroup layer against a fake cgroupfs in a temp dir: the v1 and hybrid
 * backends (exact values per limit, the memsw rules, comounted hierarchies,
 * stats), and the scan of leftovers. */
#include "tests/unit/test_cgroup_fake.h"

/* ---- v1 ------------------------------------------------------------------ */

static void test_v1_tree_and_limits(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cgroup_limits lim = all_limits();
	struct cg_unit *u;
	struct cg_child c;
	char *why = NULL;

	fake_v1_tree(r, "b", "web");
	struct cg_manager *m = mgr(r, CG_LAYOUT_V1, "b");
	assert_int_equal(cg_manager_layout(m), CG_LAYOUT_V1);
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_null(why);
	/* Tracking lives in the pids hierarchy on pure v1. */
	assert_string_equal(cg_unit_path(u), tpath("%s/pids/b/web.service", r));
	LOCAL_PATH(mem, "%s/memory/b/web.service", r);
	assert_string_equal(get_file(tpath("%s/memory.limit_in_bytes", mem)), "67108864");
	assert_string_equal(get_file(tpath("%s/memory.soft_limit_in_bytes", mem)), "50331648");
	/* memsw is memory + swap: 64M + 16M. */
	assert_string_equal(get_file(tpath("%s/memory.memsw.limit_in_bytes", mem)), "83886080");
	LOCAL_PATH(cpu, "%s/cpu/b/web.service", r);
	assert_string_equal(get_file(tpath("%s/cpu.cfs_quota_us", cpu)), "50000");
	assert_string_equal(get_file(tpath("%s/cpu.cfs_period_us", cpu)), "100000");
	assert_string_equal(get_file(tpath("%s/cpu.shares", cpu)), "2048");
	assert_string_equal(get_file(tpath("%s/pids/b/web.service/pids.max", r)), "100");
	assert_string_equal(get_file(tpath("%s/blkio/b/web.service/blkio.weight", r)), "510");

	/* memory, cpu, cpuacct, blkio, pids, freezer; no v2 dir to clone into. */
	assert_int_equal(cg_unit_child(u, &c), 0);
	assert_int_equal(c.clone_fd, -1);
	assert_int_equal(nfds(&c), 6);
	assert_int_equal(cg_child_attach(&c), 0);
	for (size_t i = 0; i < ARRAY_SIZE(v1_all); i++)
		assert_string_equal(get_file(tpath("%s/%s/b/web.service/cgroup.procs", r,
						   cg_ctl_v1_names[v1_all[i]])), "0");
	cg_unit_free(u);

	/* Unlimited is -1 for memory and cpu, "max" for pids. */
	lim = (struct cgroup_limits){.memory_max = {true, SYSG_UNLIMITED}, .cpu_max_set = true,
				     .cpu_quota_usec = SYSG_UNLIMITED, .cpu_period_usec = 20000,
				     .pids_max = {true, SYSG_UNLIMITED}};
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/memory.limit_in_bytes", mem)), "-1");
	assert_string_equal(get_file(tpath("%s/memory.soft_limit_in_bytes", mem)), "-1");
	assert_string_equal(get_file(tpath("%s/memory.memsw.limit_in_bytes", mem)), "-1");
	assert_string_equal(get_file(tpath("%s/cpu.cfs_quota_us", cpu)), "-1");
	assert_string_equal(get_file(tpath("%s/cpu.cfs_period_us", cpu)), "20000");
	assert_string_equal(get_file(tpath("%s/cpu.shares", cpu)), "1024");
	assert_string_equal(get_file(tpath("%s/pids/b/web.service/pids.max", r)), "max");
	cg_unit_free(u);

	/* Without limits the unit joins only what it accounts with (memory,
	 * cpuacct, pids) and what tracks and kills it (pids, freezer). */
	assert_int_equal(cg_unit_open(m, "web", NULL, &u, &why), 0);
	assert_int_equal(cg_unit_child(u, &c), 0);
	assert_int_equal(nfds(&c), 4);
	cg_unit_free(u);
	cg_manager_free(m);
}

static void test_v1_errors(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}, .memory_swap_max = {true, 0}};
	struct cg_unit *u;
	char *why = NULL;

	fake_v1_tree(r, "b", "web");
	struct cg_manager *m = mgr(r, CG_LAYOUT_V1, "b");
	LOCAL_PATH(mem, "%s/memory/b/web.service", r);

	/* memsw = memory: swap 0. */
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/memory.memsw.limit_in_bytes", mem)), "33554432");
	cg_unit_free(u);

	/* A swap limit needs a memory limit on v1. */
	lim.memory_max.set = false;
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_string_equal(why, "memory_swap_max: cgroup v1 limits memory and swap together "
				 "(memory.memsw.limit_in_bytes = memory_max + memory_swap_max): "
				 "set memory_max too");
	free(why);
	why = NULL;

	/* No swap accounting. */
	lim.memory_max.set = true;
	unlink(tpath("%s/memory.memsw.limit_in_bytes", mem));
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_string_equal(why, tpath("memory_swap_max: %s/memory.memsw.limit_in_bytes does not "
				       "exist: the kernel does not account swap (boot with "
				       "swapaccount=1)", mem));
	free(why);
	why = NULL;

	/* blkio: weight, else bfq.weight, else an error naming io_weight. */
	LOCAL_PATH(blk, "%s/blkio/b/web.service", r);
	lim = (struct cgroup_limits){.io_weight = {true, 1}};
	unlink(tpath("%s/blkio.weight", blk));
	put_file(tpath("%s/blkio.bfq.weight", blk), "100");
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/blkio.bfq.weight", blk)), "1");
	cg_unit_free(u);
	unlink(tpath("%s/blkio.bfq.weight", blk));
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_string_equal(why, tpath("io_weight: neither blkio.weight nor blkio.bfq.weight "
				       "exists in %s (no CFQ or BFQ I/O scheduler)", blk));
	free(why);
	why = NULL;

	/* A controller that is not mounted. */
	rm_rf(tpath("%s/cpu", r));
	cg_manager_free(m);
	m = mgr(r, CG_LAYOUT_V1, "b");
	lim = (struct cgroup_limits){.cpu_weight = {true, 50}};
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_string_equal(why, tpath("cpu_weight: no cgroup v1 cpu hierarchy is mounted at %s/cpu", r));
	free(why);
	cg_manager_free(m);
}

static void test_v1_comount_and_stats(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cg_unit *u;
	struct cg_child c;
	struct cg_stats st;
	struct cg_events ev;
	char *why = NULL;
	/* memory_max: only a memory limit is worth an OOM eventfd */
	struct cgroup_limits lim = {.cpu_weight = {true, 1}, .memory_max = {true, 64 << 20}};

	fake_v1_tree(r, "b", "web");
	/* cpu and cpuacct mounted together, as most distributions do. */
	rm_rf(tpath("%s/cpu", r));
	rm_rf(tpath("%s/cpuacct", r));
	fake_v1(tpath("%s/cpu,cpuacct/b/web.service", r), CG_CTL_CPU);
	fake_v1(tpath("%s/cpu,cpuacct/b/web.service", r), CG_CTL_CPUACCT);
	assert_int_equal(symlink("cpu,cpuacct", tpath("%s/cpu", r)), 0);
	assert_int_equal(symlink("cpu,cpuacct", tpath("%s/cpuacct", r)), 0);
	struct cg_manager *m = mgr(r, CG_LAYOUT_V1, "b");
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/cpu,cpuacct/b/web.service/cpu.shares", r)), "10");
	assert_int_equal(cg_unit_child(u, &c), 0);
	/* memory, cpu+cpuacct (one hierarchy), pids, freezer; blkio is not needed. */
	assert_int_equal(nfds(&c), 4);

	LOCAL_PATH(mem, "%s/memory/b/web.service", r);
	put_file(tpath("%s/memory.usage_in_bytes", mem), "100\n");
	put_file(tpath("%s/memory.max_usage_in_bytes", mem), "200\n");
	put_file(tpath("%s/cpu,cpuacct/b/web.service/cpuacct.usage", r), "3000999\n");
	put_file(tpath("%s/pids/b/web.service/pids.current", r), "3\n");
	assert_int_equal(cg_unit_stats(u, &st), 0);
	assert_int_equal(st.memory_current, 100);
	assert_int_equal(st.memory_peak, 200);
	assert_int_equal(st.cpu_usec, 3000);
	assert_int_equal(st.pids_current, 3);

	put_file(tpath("%s/memory.oom_control", mem), "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n");
	put_file(tpath("%s/pids/b/web.service/cgroup.procs", r), "77\n");
	assert_int_equal(cg_unit_events(u, &ev), 0);
	assert_true(ev.populated);
	assert_int_equal(ev.oom_kills, 5);
	/* The OOM eventfd was registered through cgroup.event_control. */
	assert_true(strlen(get_file(tpath("%s/cgroup.event_control", mem))) >= 3);
	cg_unit_free(u);
	cg_manager_free(m);
}

/* ---- hybrid -------------------------------------------------------------- */

static void test_hybrid(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}, .pids_max = {true, 64}};
	struct cg_unit *u;
	struct cg_child c;
	struct cg_stats st;
	char *why = NULL;

	fake_v2(tpath("%s/unified", r), "", NO_FILES);
	fake_v2(tpath("%s/unified/b/web.service", r), "", NO_FILES);
	fake_v1_tree(r, "b", "web");
	struct cg_manager *m = mgr(r, CG_LAYOUT_HYBRID, "b");
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	/* v2 tracks and kills; v1 enforces. */
	assert_string_equal(cg_unit_path(u), tpath("%s/unified/b/web.service", r));
	assert_string_equal(get_file(tpath("%s/unified/cgroup.subtree_control", r)), "");
	assert_string_equal(get_file(tpath("%s/memory/b/web.service/memory.limit_in_bytes", r)),
			    "33554432");
	assert_string_equal(get_file(tpath("%s/pids/b/web.service/pids.max", r)), "64");
	/* unified + memory + pids: no cpu, blkio, freezer or cpuacct without a need. */
	assert_int_equal(cg_unit_child(u, &c), 0);
	assert_true(c.clone_fd >= 0);
	assert_int_equal(nfds(&c), 3);
	assert_int_equal(cg_child_attach(&c), 0);
	assert_string_equal(get_file(tpath("%s/unified/b/web.service/cgroup.procs", r)), "0");
	assert_string_equal(get_file(tpath("%s/memory/b/web.service/cgroup.procs", r)), "0");
	assert_string_equal(get_file(tpath("%s/pids/b/web.service/cgroup.procs", r)), "0");
	assert_string_equal(get_file(tpath("%s/cpu/b/web.service/cgroup.procs", r)), "");

	/* Memory and pids from v1, CPU time from v2's cpu.stat. */
	put_file(tpath("%s/memory/b/web.service/memory.usage_in_bytes", r), "4096");
	put_file(tpath("%s/pids/b/web.service/pids.current", r), "2");
	put_file(tpath("%s/unified/b/web.service/cpu.stat", r), "usage_usec 99\n");
	assert_int_equal(cg_unit_stats(u, &st), 0);
	assert_int_equal(st.memory_current, 4096);
	assert_int_equal(st.pids_current, 2);
	assert_int_equal(st.cpu_usec, 99);
	cg_unit_free(u);
	cg_manager_free(m);
}

/* ---- leftovers and cleanup ---------------------------------------------- */

struct found {
	char names[8][32];
	int n;
};

static void on_found(const char *unit, void *arg)
{
	struct found *f = arg;
	if (f->n < 8)
		snprintf(f->names[f->n++], 32, "%s", unit);
}

static bool has(const struct found *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (streq(f->names[i], name))
			return true;
	return false;
}

static void test_scan_and_remove(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct found f = {0};
	struct cg_unit *u[3];
	char *why = NULL;

	fake_v2(tpath("%s/unified", r), "", NO_FILES);
	fake_v1_tree(r, "b", NULL);
	mkdirs(tpath("%s/unified/b/a.service", r));
	mkdirs(tpath("%s/unified/b/shop@b.service", r));
	mkdirs(tpath("%s/unified/b/supervisor", r));
	mkdirs(tpath("%s/unified/b/junk", r));
	mkdirs(tpath("%s/memory/b/a.service", r));
	mkdirs(tpath("%s/memory/b/c.service", r));
	mkdirs(tpath("%s/unified/other/x.service", r));
	mkdirs(tpath("%s/memory/other/y.service", r));
	struct cg_manager *m = mgr(r, CG_LAYOUT_HYBRID, "b");

	assert_int_equal(cg_manager_scan(m, on_found, &f), 0);
	assert_int_equal(f.n, 3);
	assert_true(has(&f, "a"));
	assert_true(has(&f, "shop@b"));
	assert_true(has(&f, "c"));

	/* What a supervisor does with them: open (kill), remove. */
	for (int i = 0; i < f.n; i++) {
		fake_v2(tpath("%s/unified/b/%s.service", r, f.names[i]), "", NO_FILES);
		fake_v1(tpath("%s/memory/b/%s.service", r, f.names[i]), CG_CTL_MEMORY);
		fake_v1(tpath("%s/pids/b/%s.service", r, f.names[i]), CG_CTL_PIDS);
	}
	for (int i = 0; i < f.n; i++)
		assert_int_equal(cg_unit_open(m, f.names[i], NULL, &u[i], &why), 0);
	clear_files(r);
	for (int i = 0; i < f.n; i++) {
		assert_int_equal(cg_unit_remove(u[i]), 0);
		cg_unit_free(u[i]);
	}
	assert_false(dir_exists(tpath("%s/unified/b/a.service", r)));
	assert_false(dir_exists(tpath("%s/memory/b/a.service", r)));
	assert_false(dir_exists(tpath("%s/pids/b/a.service", r)));
	assert_false(dir_exists(tpath("%s/memory/b/c.service", r)));
	assert_false(dir_exists(tpath("%s/unified/b/shop@b.service", r)));
	/* junk is not ours to remove: <base> stays, and says so. */
	assert_int_equal(cg_manager_remove(m), -EBUSY);
	assert_true(dir_exists(tpath("%s/unified/b/junk", r)));
	rmdir(tpath("%s/unified/b/junk", r));
	assert_int_equal(cg_manager_remove(m), 0);
	assert_false(dir_exists(tpath("%s/unified/b", r)));
	assert_false(dir_exists(tpath("%s/memory/b", r)));
	assert_false(dir_exists(tpath("%s/pids/b", r)));
	/* Other bases are never touched. */
	assert_true(dir_exists(tpath("%s/unified/other/x.service", r)));
	assert_true(dir_exists(tpath("%s/memory/other/y.service", r)));
	cg_manager_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v1_tree_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_comount_and_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hybrid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_and_remove, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
