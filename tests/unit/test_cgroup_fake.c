/* The cgroup layer against a fake cgroupfs in a temp dir (layouts forced):
 * value mappings and parsers, detection, the v2 backend (the tree, controllers
 * per level, exact values, resets, errors, events), the report, user-mode
 * delegation. v1, hybrid and leftovers: test_cgroup_fake_v1.c. */
#include "tests/unit/test_cgroup_fake.h"

/* ---- pure mappings and parsers ---------------------------------------- */

static void test_mappings(void **state)
{
	(void)state;
	assert_int_equal(cg_v1_cpu_shares(1), 10);
	assert_int_equal(cg_v1_cpu_shares(100), 1024);
	assert_int_equal(cg_v1_cpu_shares(200), 2048);
	assert_int_equal(cg_v1_cpu_shares(10000), 102400);
	assert_int_equal(cg_v1_blkio_weight(1), 10);
	assert_int_equal(cg_v1_blkio_weight(50), 252);
	assert_int_equal(cg_v1_blkio_weight(100), 500);
	assert_int_equal(cg_v1_blkio_weight(300), 510);
	assert_int_equal(cg_v1_blkio_weight(10000), 1000);
	assert_int_equal(cg_v1_bfq_weight(1), 1);
	assert_int_equal(cg_v1_bfq_weight(100), 100);
	assert_int_equal(cg_v1_bfq_weight(5050), 550);
	assert_int_equal(cg_v1_bfq_weight(10000), 1000);

	char b[32];
	cg_fmt_v2(b, sizeof(b), SYSG_UNLIMITED);
	assert_string_equal(b, "max");
	cg_fmt_v2(b, sizeof(b), 33554432);
	assert_string_equal(b, "33554432");
	cg_fmt_v1(b, sizeof(b), SYSG_UNLIMITED);
	assert_string_equal(b, "-1");
	cg_fmt_v1(b, sizeof(b), 0);
	assert_string_equal(b, "0");
}

static void test_parse(void **state)
{
	uint64_t v;
	pid_t *pids;
	size_t n;
	(void)state;

	assert_int_equal(cg_parse_key("populated 1\nfrozen 0\n", "frozen", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cg_parse_key("oom 4\noom_kill 3\n", "oom_kill", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cg_parse_key("oom_kill 3\noom 4\n", "oom", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(cg_parse_key("usage_usec 18446744073709551615\n", "usage_usec", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cg_parse_key("a 1\n", "b", &v), -ENOENT);
	assert_int_equal(cg_parse_key("a x\n", "a", &v), -EINVAL);

	assert_int_equal(cg_parse_pids("12\n345\n6\n", &pids, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pids[0], 12);
	assert_int_equal(pids[1], 345);
	assert_int_equal(pids[2], 6);
	free(pids);
	assert_int_equal(cg_parse_pids("", &pids, &n), 0);
	assert_int_equal(n, 0);
	free(pids);
	assert_int_equal(cg_parse_pids("12\nx\n", &pids, &n), -EINVAL);

	assert_true(cg_word_in("cpuset cpu io memory", "cpu"));
	assert_false(cg_word_in("cpuset io memory", "cpu"));
	assert_true(cg_word_in("+memory +pids", "pids"));

	const char *self = "9:name=systemd:/user.slice\n4:memory:/m/x\n2:cpu,cpuacct:/c\n0::/u/app\n";
	char *p = cg_self_path(self, true, 0);
	assert_string_equal(p, "/u/app");
	free(p);
	p = cg_self_path(self, false, CG_BIT(CG_CTL_MEMORY));
	assert_string_equal(p, "/m/x");
	free(p);
	p = cg_self_path(self, false, CG_BIT(CG_CTL_CPUACCT));
	assert_string_equal(p, "/c");
	free(p);
	p = cg_self_path(self, false, CG_BIT(CG_CTL_NAMED));
	assert_string_equal(p, "/user.slice");
	free(p);
	assert_null(cg_self_path(self, false, CG_BIT(CG_CTL_PIDS)));
	assert_null(cg_self_path("4:memory:/m\n", true, 0));
}

/* ---- detection ----------------------------------------------------------- */

static void test_detect_none(void **state)
{
	struct fx *fx = *state;
	struct cg_manager_opts o = {.fs_root = fx->root, .base = "b", .system_mode = true};
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}};
	struct cg_unit *u = (void *)1;
	char *why = NULL;
	struct cg_manager *m;

	/* A tmpfs with directories named like controllers is no cgroupfs. */
	mkdirs(tpath("%s/memory", fx->root));
	mkdirs(tpath("%s/unified", fx->root));
	m = cg_manager_new(&o, &why);
	assert_int_equal(cg_manager_layout(m), CG_LAYOUT_NONE);
	assert_false(cg_manager_tracking(m));
	assert_string_equal(why, tpath("no cgroup hierarchy at %s", fx->root));
	free(why);
	why = NULL;
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_null(u);
	assert_string_equal(why, tpath("memory_max: no cgroup hierarchy at %s", fx->root));
	free(why);
	why = NULL;
	assert_int_equal(cg_unit_open(m, "web", NULL, &u, &why), -ENODEV);
	assert_string_equal(why, tpath("cgroup tracking is off: no cgroup hierarchy at %s", fx->root));
	free(why);
	assert_false(dir_exists(tpath("%s/memory/b", fx->root)));
	cg_manager_free(m);
}

/* ---- v2 ------------------------------------------------------------------ */

static void test_v2_tree_and_limits(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cgroup_limits lim = all_limits();
	struct cg_unit *u;
	struct cg_child c;
	char *why = NULL;

	fake_v2(r, "cpuset cpu io memory hugetlb pids rdma misc", NO_FILES);
	fake_v2(tpath("%s/b", r), "", NO_FILES);
	fake_v2(tpath("%s/b/web.service", r), "", ALL_FILES);
	struct cg_manager *m = mgr(r, CG_LAYOUT_V2, "b");

	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_null(why);
	assert_string_equal(cg_unit_path(u), tpath("%s/b/web.service", r));
	/* Controllers on at each level, in one write, accounting included. */
	assert_string_equal(get_file(tpath("%s/cgroup.subtree_control", r)), "+memory +cpu +io +pids");
	assert_string_equal(get_file(tpath("%s/b/cgroup.subtree_control", r)), "+memory +cpu +io +pids");
	LOCAL_PATH(d, "%s/b/web.service", r);
	assert_string_equal(get_file(tpath("%s/memory.max", d)), "67108864");
	assert_string_equal(get_file(tpath("%s/memory.high", d)), "50331648");
	assert_string_equal(get_file(tpath("%s/memory.swap.max", d)), "16777216");
	assert_string_equal(get_file(tpath("%s/cpu.max", d)), "50000 100000");
	assert_string_equal(get_file(tpath("%s/cpu.weight", d)), "200");
	assert_string_equal(get_file(tpath("%s/pids.max", d)), "100");
	assert_string_equal(get_file(tpath("%s/io.weight", d)), "default 300");

	assert_int_equal(cg_unit_child(u, &c), 0);
	assert_true(c.clone_fd >= 0);
	assert_int_equal(nfds(&c), 1);
	/* The child half writes "0" (itself) to each cgroup.procs. */
	assert_int_equal(cg_child_attach(&c), 0);
	assert_string_equal(get_file(tpath("%s/cgroup.procs", d)), "0");
	cg_child_close(&c);
	assert_int_equal(c.clone_fd, -1);
	assert_true(cg_manager_event_fd(m) >= 0);
	cg_unit_free(u);

	/* Reopened without limits: every old value is back to the default. */
	assert_int_equal(cg_unit_open(m, "web", NULL, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/memory.max", d)), "max");
	assert_string_equal(get_file(tpath("%s/memory.high", d)), "max");
	assert_string_equal(get_file(tpath("%s/memory.swap.max", d)), "max");
	assert_string_equal(get_file(tpath("%s/cpu.max", d)), "max");
	assert_string_equal(get_file(tpath("%s/cpu.weight", d)), "100");
	assert_string_equal(get_file(tpath("%s/pids.max", d)), "max");
	assert_string_equal(get_file(tpath("%s/io.weight", d)), "default 100");
	cg_unit_free(u);

	/* "max" spellings. */
	lim = (struct cgroup_limits){.memory_max = {true, SYSG_UNLIMITED}, .cpu_max_set = true,
				     .cpu_quota_usec = SYSG_UNLIMITED, .cpu_period_usec = 50000,
				     .pids_max = {true, SYSG_UNLIMITED}};
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/memory.max", d)), "max");
	assert_string_equal(get_file(tpath("%s/cpu.max", d)), "max 50000");
	assert_string_equal(get_file(tpath("%s/pids.max", d)), "max");
	cg_unit_free(u);
	cg_manager_free(m);
}

static void test_v2_only_needed_controllers(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cgroup_limits lim = {.pids_max = {true, 7}};
	struct cg_unit *u;
	char *why = NULL;

	fake_v2(r, "cpuset cpu io memory pids", NO_FILES);
	struct cg_manager *m = mgr(r, CG_LAYOUT_V2, "b");
	/* Not pre-created: the layer makes <base>. */
	assert_true(dir_exists(tpath("%s/b", r)));
	assert_false(dir_exists(tpath("%s/b/supervisor", r))); /* move_self is off */
	/* It makes the unit's directory too; a fake one has no cgroup.procs, so
	 * the spawn-time attachment is what fails, and it holds no fd after. */
	assert_int_equal(cg_unit_open(m, "api", NULL, &u, &why), 0);
	struct cg_child c;
	assert_int_equal(cg_unit_child(u, &c), -ENOENT);
	assert_int_equal(c.clone_fd, -1);
	assert_int_equal(c.procs_fds[0], -1);
	cg_unit_remove(u);
	cg_unit_free(u);
	assert_false(dir_exists(tpath("%s/b/api.service", r)));
	assert_string_equal(get_file(tpath("%s/cgroup.subtree_control", r)), "+memory +pids");

	fake_v2(tpath("%s/b", r), "", NO_FILES);
	fake_v2(tpath("%s/b/db.service", r), "", ALL_FILES);
	put_file(tpath("%s/cgroup.subtree_control", r), "");
	assert_int_equal(cg_unit_open(m, "db", &lim, &u, &why), 0);
	/* pids for the limit, memory for accounting; cpu and io stay off. */
	assert_string_equal(get_file(tpath("%s/cgroup.subtree_control", r)), "+memory +pids");
	assert_string_equal(get_file(tpath("%s/b/cgroup.subtree_control", r)), "+memory +pids");
	assert_string_equal(get_file(tpath("%s/b/db.service/pids.max", r)), "7");
	cg_unit_free(u);

	/* Already on: nothing is written again. */
	put_file(tpath("%s/cgroup.subtree_control", r), "memory pids");
	put_file(tpath("%s/b/cgroup.subtree_control", r), "memory pids");
	assert_int_equal(cg_unit_open(m, "db", &lim, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/cgroup.subtree_control", r)), "memory pids");
	cg_unit_free(u);
	cg_manager_free(m);
}

static void test_v2_errors(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cgroup_limits lim = {.cpu_max_set = true, .cpu_quota_usec = 1000,
				    .cpu_period_usec = 100000};
	struct cg_unit *u = (void *)1;
	char *why = NULL;

	fake_v2(r, "memory pids", NO_FILES);
	fake_v2(tpath("%s/b", r), "", NO_FILES);
	fake_v2(tpath("%s/b/web.service", r), "", CG_BIT(CG_CTL_PIDS) | CG_BIT(CG_CTL_IO));
	struct cg_manager *m = mgr(r, CG_LAYOUT_V2, "b");

	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_null(u);
	assert_string_equal(why, tpath("cpu_max: the cpu controller is not available in %s "
				       "(not listed in its cgroup.controllers)", r));
	free(why);
	why = NULL;

	/* The controller is there but the file is not: the host cannot enforce it. */
	lim = (struct cgroup_limits){.memory_max = {true, 32 * MB}};
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_string_equal(why, tpath("memory_max: %s/b/web.service/memory.max does not exist: "
				       "the host cannot enforce it", r));
	free(why);
	why = NULL;

	/* io.weight missing: io.bfq.weight with its own scale, else an error. */
	put_file(tpath("%s/cgroup.controllers", r), "io memory pids");
	unlink(tpath("%s/b/web.service/io.weight", r));
	put_file(tpath("%s/b/web.service/io.bfq.weight", r), "100");
	lim = (struct cgroup_limits){.io_weight = {true, 10000}};
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), 0);
	assert_string_equal(get_file(tpath("%s/b/web.service/io.bfq.weight", r)), "1000");
	cg_unit_free(u);
	unlink(tpath("%s/b/web.service/io.bfq.weight", r));
	assert_int_equal(cg_unit_open(m, "web", &lim, &u, &why), -EOPNOTSUPP);
	assert_string_equal(why, tpath("io_weight: neither io.weight nor io.bfq.weight exists in "
				       "%s/b/web.service (no io cost model and no BFQ scheduler)", r));
	free(why);
	why = NULL;

	assert_int_equal(cg_unit_open(m, "../x", NULL, &u, &why), -EINVAL);
	assert_string_equal(why, "invalid cgroup unit name \"../x\"");
	free(why);
	cg_manager_free(m);
}

/* Root writes through file modes; drop CAP_DAC_OVERRIDE to see EACCES. */
static void set_dac_override(bool on)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	assert_int_equal(syscall(SYS_capget, &h, d), 0);
	if (on)
		d[0].effective |= 1u << CAP_DAC_OVERRIDE;
	else
		d[0].effective &= ~(1u << CAP_DAC_OVERRIDE);
	assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

static void test_read_only_file(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}};
	struct cg_unit *u;
	char *why = NULL;
	int err;

	fake_v2(r, "memory pids", NO_FILES);
	fake_v2(tpath("%s/b", r), "", NO_FILES);
	fake_v2(tpath("%s/b/web.service", r), "", ALL_FILES);
	struct cg_manager *m = mgr(r, CG_LAYOUT_V2, "b");
	chmod(tpath("%s/b/web.service/memory.max", r), 0444);
	if (geteuid() == 0)
		set_dac_override(false);
	err = cg_unit_open(m, "web", &lim, &u, &why);
	if (geteuid() == 0)
		set_dac_override(true);
	assert_int_equal(err, -EACCES);
	assert_string_equal(why, tpath("memory_max: cannot write \"33554432\" to "
				       "%s/b/web.service/memory.max: Permission denied", r));
	free(why);
	cg_manager_free(m);
}

static void mark_seen(struct cg_unit *u, void *arg) { *(struct cg_unit **)arg = u; }

static void test_v2_stats_and_events(void **state)
{
	struct cg_unit *seen = NULL;
	struct fx *fx = *state;
	const char *r = fx->root;
	struct cg_unit *u;
	struct cg_stats st;
	struct cg_events ev;
	struct pollfd pfd;
	char *why = NULL;

	fake_v2(r, "memory pids", NO_FILES);
	fake_v2(tpath("%s/b", r), "", NO_FILES);
	fake_v2(tpath("%s/b/web.service", r), "", ALL_FILES);
	struct cg_manager *m = mgr(r, CG_LAYOUT_V2, "b");
	assert_int_equal(cg_unit_open(m, "web", NULL, &u, &why), 0);
	LOCAL_PATH(d, "%s/b/web.service", r);
	put_file(tpath("%s/memory.current", d), "1234\n");
	put_file(tpath("%s/memory.peak", d), "5678\n");
	put_file(tpath("%s/cpu.stat", d), "usage_usec 4242\nuser_usec 4000\nsystem_usec 242\n");
	put_file(tpath("%s/pids.current", d), "7\n");
	assert_int_equal(cg_unit_stats(u, &st), 0);
	assert_int_equal(st.memory_current, 1234);
	assert_int_equal(st.memory_peak, 5678);
	assert_int_equal(st.cpu_usec, 4242);
	assert_int_equal(st.pids_current, 7);

	/* Missing files are unknown, not zero. */
	unlink(tpath("%s/memory.peak", d));
	assert_int_equal(cg_unit_stats(u, &st), 0);
	assert_true(st.memory_peak == UINT64_MAX);

	/* The event fd fires on a change of cgroup.events or memory.events and
	 * is quiet again once cg_unit_events has read it. */
	pfd = (struct pollfd){.fd = cg_manager_event_fd(m), .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 0), 0);
	put_file(tpath("%s/cgroup.events", d), "populated 1\nfrozen 0\n");
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	cg_manager_dispatch(m, mark_seen, &seen);
	assert_ptr_equal(seen, u); /* the event is mapped back to its unit */
	assert_int_equal(cg_unit_events(u, &ev), 0);
	assert_true(ev.populated);
	assert_int_equal(ev.oom_kills, 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	put_file(tpath("%s/memory.events", d), "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n");
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	drain_events(m);
	assert_int_equal(cg_unit_events(u, &ev), 0);
	assert_int_equal(ev.oom_kills, 2);
	assert_int_equal(poll(&pfd, 1, 0), 0);

	put_file(tpath("%s/cgroup.procs", d), "101\n202\n");
	assert_true(cg_unit_contains(u, 202));
	assert_false(cg_unit_contains(u, 303));
	assert_true(cg_unit_populated(u));
	put_file(tpath("%s/cgroup.events", d), "populated 0\nfrozen 0\n");
	assert_false(cg_unit_populated(u));
	cg_unit_free(u);
	cg_manager_free(m);
}

static void test_report(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	struct lines l = {0};

	fake_v2(r, "memory pids", NO_FILES);
	fake_v2(tpath("%s/b", r), "", NO_FILES);
	struct cg_manager *m = mgr(r, CG_LAYOUT_V2, "b");
	cg_manager_report(m, on_line, &l);
	assert_non_null(strstr(l.b.s, tpath("+ cgroup layout: v2, v2 at %s\n", r)));
	assert_non_null(strstr(l.b.s, tpath("+ cgroup tracking: one cgroup per service in %s/b\n", r)));
	assert_non_null(strstr(l.b.s, tpath("+ cgroup kill: cgroup.kill in %s/b\n", r)));
	assert_non_null(strstr(l.b.s, "+ cgroup limit memory_max: memory.max (memory controller)\n"));
	assert_non_null(strstr(l.b.s, tpath("- cgroup limit cpu_max: the cpu controller is not "
					    "available in %s\n", r)));
	assert_non_null(strstr(l.b.s, "+ cgroup OOM kills: memory.events oom_kill, watched with inotify\n"));
	sbuf_free(&l.b);
	cg_manager_free(m);
}

/* ---- user mode ----------------------------------------------------------- */

/* Runs fn as uid/gid 65534 in a child; returns what it wrote. */
static char *as_nobody(void (*fn)(int out, void *arg), void *arg)
{
	static char buf[4096];
	int p[2];
	ssize_t n, len = 0;
	int status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		fn(p[1], arg);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return buf;
}

static void user_mode_probe(int out, void *arg)
{
	const char *root = arg;
	struct cg_manager_opts o = {.fs_root = root, .base = "b", .force_layout = true,
				    .layout = CG_LAYOUT_V2,
				    .proc_cgroup = tpath("%s/proc-cgroup", root)};
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}};
	struct cg_unit *u = NULL;
	char *why = NULL, *why2 = NULL;
	struct cg_manager *m = cg_manager_new(&o, &why);
	int err = cg_unit_open(m, "web", &lim, &u, &why2);

	dprintf(out, "tracking=%d\nnew=%s\nopen=%d %s\n", cg_manager_tracking(m),
		why ? why : "", err, why2 ? why2 : "");
	cg_unit_free(u);
	cg_manager_free(m);
}

static void test_user_mode(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	LOCAL_PATH(me, "%s/user.slice/app.service", r);
	char *out;

	if (geteuid() != 0)
		skip();
	fake_v2(r, "memory pids", NO_FILES);
	fake_v2(me, "memory pids", NO_FILES);
	put_file(tpath("%s/proc-cgroup", r), "0::/user.slice/app.service\n");

	/* Not ours: tracking off, and a limit fails naming itself. */
	out = as_nobody(user_mode_probe, (void *)r);
	assert_string_equal(out, tpath(
		"tracking=0\n"
		"new=no delegated cgroup v2 subtree for uid 65534: %s is owned by uid 0\n"
		"open=-95 memory_max: no delegated cgroup v2 subtree for uid 65534: %s is owned "
		"by uid 0\n", me, me));

	/* Delegated (what systemd's Delegate=yes does): <base> below our cgroup,
	 * and a limit's controller is enabled there. */
	assert_int_equal(chown(me, 65534, 65534), 0);
	assert_int_equal(chown(tpath("%s/cgroup.procs", me), 65534, 65534), 0);
	assert_int_equal(chown(tpath("%s/cgroup.subtree_control", me), 65534, 65534), 0);
	fake_v2(tpath("%s/b", me), "", NO_FILES);
	fake_v2(tpath("%s/b/web.service", me), "", ALL_FILES);
	chown_r_nobody(tpath("%s/b", me));
	out = as_nobody(user_mode_probe, (void *)r);
	assert_string_equal(out, "tracking=1\nnew=\nopen=0 \n");
	assert_string_equal(get_file(tpath("%s/b/web.service/memory.max", me)), "33554432");
	assert_string_equal(get_file(tpath("%s/cgroup.subtree_control", me)), "+memory +pids");

	/* Our cgroup is not in the proc file at all. */
	put_file(tpath("%s/proc-cgroup", r), "4:memory:/x\n");
	out = as_nobody(user_mode_probe, (void *)r);
	assert_string_equal(out, tpath(
		"tracking=0\n"
		"new=no delegated cgroup v2 subtree for uid 65534: our cgroup in %s is not known "
		"(%s/proc-cgroup)\n"
		"open=-95 memory_max: no delegated cgroup v2 subtree for uid 65534: our cgroup in "
		"%s is not known (%s/proc-cgroup)\n", r, r, r, r));
}

/* System mode under systemd with Delegate=yes: sysg nests in the cgroup it
 * was given (marked with trusted.delegate) instead of writing at the root. */
static void test_systemd_delegate(void **state)
{
	struct fx *fx = *state;
	const char *r = fx->root;
	LOCAL_PATH(svc, "%s/system.slice/sysg.service", r);
	struct cg_manager_opts o = {.fs_root = r, .base = "b", .system_mode = true,
				    .force_layout = true, .layout = CG_LAYOUT_V2,
				    .proc_cgroup = tpath("%s/proc-cgroup", r)};
	struct lines l = {0};
	struct cg_manager *m;

	if (geteuid() != 0)
		skip(); /* trusted.* xattrs */
	fake_v2(r, "memory pids", NO_FILES);
	fake_v2(svc, "memory pids", NO_FILES);
	put_file(tpath("%s/proc-cgroup", r), "0::/system.slice/sysg.service\n");

	/* Not delegated: the top of the hierarchy. */
	m = cg_manager_new(&o, NULL);
	assert_true(dir_exists(tpath("%s/b", r)));
	assert_false(dir_exists(tpath("%s/b", svc)));
	cg_manager_free(m);
	rmdir(tpath("%s/b", r));

	assert_int_equal(setxattr(svc, "trusted.delegate", "1", 1, 0), 0);
	m = cg_manager_new(&o, NULL);
	assert_true(cg_manager_tracking(m));
	assert_true(dir_exists(tpath("%s/b", svc)));
	assert_false(dir_exists(tpath("%s/b", r)));
	cg_manager_report(m, on_line, &l);
	assert_non_null(strstr(l.b.s, tpath("+ cgroup tracking: one cgroup per service in %s/b\n", svc)));
	sbuf_free(&l.b);
	cg_manager_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mappings),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_detect_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_tree_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_only_needed_controllers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_stats_and_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_systemd_delegate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
