/* The cgroup layer against this host's real cgroups (root only). Each test
 * runs in three variants where that means something: the detected layout
 * (hybrid here: v2 tracks and kills with cgroup.kill), the same without
 * cgroup.kill (v2 freeze + kill rounds), and v1 forced onto the real v1
 * hierarchies (pids tracks, the v1 freezer kills). */
#include "tests/unit/test_cgroup_real.h"

/* ---- tests --------------------------------------------------------------- */

/* The child is in every cgroup of its unit before it can have exec'd. */
static void test_attach_before_exec(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cg_unit *u = unit(fx, NULL);
	struct cg_manager *m = fx->m;
	char self_exe[4096];
	int joined = 0;

	snprintf(self_exe, sizeof(self_exe), "%s", exe_of(getpid()));
	struct kid k = spawn(u, body_sleep, NULL);
	/* The child is parked before exec: still our binary. */
	assert_string_equal(exe_of(k.pid), self_exe);
	for (size_t i = 0; i < m->nh; i++) {
		if (!u->joined[i])
			continue;
		assert_true(listed(u->dir[i], k.pid));
		joined++;
	}
	if (m->layout == CG_LAYOUT_HYBRID) {
		/* unified, memory and pids. */
		assert_int_equal(joined, 3);
		assert_true(listed(tpath(ROOT "/unified/%s/web.service", fx->base), k.pid));
		assert_true(listed(tpath(ROOT "/memory/%s/web.service", fx->base), k.pid));
		assert_true(listed(tpath(ROOT "/pids/%s/web.service", fx->base), k.pid));
	} else if (m->layout == CG_LAYOUT_V1) {
		/* memory, cpuacct, pids (tracking), freezer. */
		assert_int_equal(joined, 4);
		assert_true(listed(tpath(ROOT "/pids/%s/web.service", fx->base), k.pid));
		assert_true(listed(tpath(ROOT "/freezer/%s/web.service", fx->base), k.pid));
	}
	assert_true(cg_unit_contains(u, k.pid));
	assert_false(cg_unit_contains(u, getpid()));
	go(&k);
	for (int i = 0; i < 500 && !strstr(exe_of(k.pid), "sleep"); i++)
		cg_sleep_usec(2000);
	assert_non_null(strstr(exe_of(k.pid), "sleep"));
	assert_true(cg_unit_contains(u, k.pid));
	kill_and_remove(fx);
	kid_close(&k);
}

static void body_escape(int out, void *arg)
{
	pid_t g = fork();
	(void)arg;

	if (g == 0) {
		setsid();
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	write_int(out, g);
	_exit(0);
}

/* A double-forked, setsid'd grandchild whose parent is gone is still killed. */
static void test_escapee_killed(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cg_unit *u = unit(fx, NULL);
	int status;

	struct kid k = spawn(u, body_escape, NULL);
	go(&k);
	pid_t g = read_int(k.out);
	assert_true(g > 0);
	track(g);
	assert_int_equal(wait_for(k.pid, &status, 5000), k.pid);
	assert_true(WIFEXITED(status));
	assert_true(cg_unit_contains(u, g));
	assert_true(cg_unit_populated(u));
	assert_int_equal(cg_unit_kill(u, SIGKILL), 0);
	/* We are the subreaper: the grandchild comes back to us, killed. */
	assert_int_equal(wait_for(g, &status, 5000), g);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	kill_and_remove(fx);
	kid_close(&k);
}

/* Other signals go to every process. */
static void test_signal_all(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cg_unit *u = unit(fx, NULL);
	int status;

	struct kid a = spawn(u, body_sleep, NULL), b = spawn(u, body_sleep, NULL);
	go(&a);
	go(&b);
	for (int i = 0; i < 500 && !strstr(exe_of(b.pid), "sleep"); i++)
		cg_sleep_usec(2000);
	assert_int_equal(cg_unit_kill(u, SIGTERM), 0);
	assert_int_equal(wait_for(a.pid, &status, 5000), a.pid);
	assert_int_equal(WTERMSIG(status), SIGTERM);
	assert_int_equal(wait_for(b.pid, &status, 5000), b.pid);
	assert_int_equal(WTERMSIG(status), SIGTERM);
	kill_and_remove(fx);
	kid_close(&a);
	kid_close(&b);
}

/* Each bomb process forks as fast as it can. A shared budget caps the whole
 * thing at 200 processes in case the pids limit did not hold. */
static void body_bomb(int out, void *arg)
{
	int *budget = arg;
	int64_t end = now_mono_usec() + 20 * 1000000LL;
	(void)out;

	for (;;) {
		if (now_mono_usec() > end)
			_exit(0);
		if (__atomic_fetch_add(budget, 1, __ATOMIC_SEQ_CST) >= 200) {
			cg_sleep_usec(100000);
			continue;
		}
		pid_t p = fork();
		if (p < 0) {
			__atomic_fetch_sub(budget, 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_add(budget + 1, 1, __ATOMIC_SEQ_CST);
			sched_yield();
		}
	}
}

static void test_fork_bomb(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cgroup_limits lim = {.pids_max = {true, 16}};
	struct cg_unit *u = unit(fx, &lim);
	struct cg_stats st;
	int *budget = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(budget != MAP_FAILED);
	struct kid k = spawn(u, body_bomb, budget);
	go(&k);
	for (int i = 0; i < 500; i++) {
		cg_unit_stats(u, &st);
		if (st.pids_current == 16 && __atomic_load_n(budget + 1, __ATOMIC_SEQ_CST) > 100)
			break;
		cg_sleep_usec(10000);
	}
	/* It stops at the limit: forks keep failing and the count stays 16. */
	assert_int_equal(st.pids_current, 16);
	int failed = __atomic_load_n(budget + 1, __ATOMIC_SEQ_CST);
	assert_true(failed > 100);
	cg_sleep_usec(200000);
	cg_unit_stats(u, &st);
	assert_int_equal(st.pids_current, 16);
	assert_true(__atomic_load_n(budget + 1, __ATOMIC_SEQ_CST) > failed);
	uint64_t hit;
	assert_int_equal(cg_read_key(u->dir[u->m->v1[CG_CTL_PIDS]], "pids.events", "max", &hit), 0);
	assert_true(hit > 0);
	pid_t *pids;
	size_t n;
	assert_int_equal(cg_unit_pids(u, &pids, &n), 0);
	assert_int_equal(n, 16);
	free(pids);
	/* And kill still empties it, though every member keeps forking. */
	kill_and_remove(fx);
	kid_close(&k);
	munmap(budget, 4096);
}

static void body_hog(int out, void *arg)
{
	(void)out, (void)arg;
	for (int i = 0; i < 1024; i++) {
		char *p = malloc(1 << 20);
		if (p)
			memset(p, i, 1 << 20);
	}
	_exit(0);
}

/* A hog under memory_max 32M (and no swap) is OOM-killed; the event fd
 * says so and the kill is counted. */
static void test_oom(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}, .memory_swap_max = {true, 0}};
	struct cg_unit *u = unit(fx, &lim);
	struct pollfd p = {.fd = cg_manager_event_fd(u->m), .events = POLLIN};
	struct cg_events ev;
	int status;

	assert_true(p.fd >= 0);
	assert_int_equal(cg_unit_events(u, &ev), 0);
	assert_int_equal(ev.oom_kills, 0);
	assert_int_equal(poll(&p, 1, 0), 0);
	struct kid k = spawn(u, body_hog, NULL);
	go(&k);
	assert_int_equal(wait_for(k.pid, &status, 10000), k.pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(poll(&p, 1, 5000), 1);
	drain_events(u->m);
	assert_int_equal(cg_unit_events(u, &ev), 0);
	assert_int_equal(ev.oom_kills, 1);
	/* The v1 notification itself arrived (eventfd on memory.oom_control). */
	if (u->m->v1[CG_CTL_MEMORY] >= 0)
		assert_true(u->oom_notes >= 1);
	assert_true(wait_empty(u, 5000));
	kill_and_remove(fx);
	kid_close(&k);
}

static void body_busy(int out, void *arg)
{
	volatile unsigned long x = 0;
	int64_t end = now_mono_usec() + 30 * 1000000LL;
	(void)out, (void)arg;
	while (now_mono_usec() < end)
		x++;
}

/* cpu_max 50% of one CPU halves a busy loop. */
static void test_cpu_max(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cgroup_limits lim = {.cpu_max_set = true, .cpu_quota_usec = 50000,
				    .cpu_period_usec = 100000};
	struct cg_unit *u = unit(fx, &lim);
	struct cg_stats a, b;

	struct kid k = spawn(u, body_busy, NULL);
	go(&k);
	cg_sleep_usec(200000);
	cg_unit_stats(u, &a);
	int64_t t0 = now_mono_usec();
	cg_sleep_usec(2000000);
	cg_unit_stats(u, &b);
	int64_t t1 = now_mono_usec();
	double share = (double)(b.cpu_usec - a.cpu_usec) / (double)(t1 - t0);
	print_message("cpu_max 50%%: busy loop got %.0f%% of one CPU\n", share * 100);
	assert_true(a.cpu_usec != UINT64_MAX);
	assert_true(share > 0.30 && share < 0.70);
	kill_and_remove(fx);
	kid_close(&k);
}

static void body_work(int out, void *arg)
{
	char *p = malloc(24 * MB);
	int64_t end;
	volatile unsigned long x = 0;
	(void)arg;

	memset(p, 7, 24 * MB);
	/* CPU time, not wall time: on a loaded machine the loop still burns 300 ms. */
	do {
		struct timespec ts;
		x++;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		end = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
	} while (end < 300000);
	/* Reading the memory back keeps the compiler from dropping it. */
	write_int(out, p[now_mono_usec() % (24 * MB)] == 7);
	cg_sleep_usec(30 * 1000000L);
}

static void test_stats_move(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cg_unit *u = unit(fx, NULL);
	struct cg_stats a, b;

	struct kid k = spawn(u, body_work, NULL);
	assert_int_equal(cg_unit_stats(u, &a), 0);
	assert_int_equal(a.pids_current, 1);
	assert_true(a.memory_current < 8 * MB);
	go(&k);
	assert_int_equal(read_int(k.out), 1);
	assert_int_equal(cg_unit_stats(u, &b), 0);
	print_message("stats: memory %" PRIu64 " -> %" PRIu64 " (peak %" PRIu64 "), cpu %" PRIu64
		      " -> %" PRIu64 " usec\n", a.memory_current, b.memory_current, b.memory_peak,
		      a.cpu_usec, b.cpu_usec);
	assert_int_equal(b.pids_current, 1);
	assert_true(b.memory_current >= a.memory_current + 20 * MB);
	assert_true(b.memory_peak >= b.memory_current);
	assert_true(b.cpu_usec >= a.cpu_usec + 200000);
	kill_and_remove(fx);
	kid_close(&k);
}

/* Every limit the host can enforce, read back from the kernel. */
static void test_limits_read_back(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cgroup_limits lim = {
		.memory_max = {true, 64 * MB}, .memory_high = {true, 48 * MB},
		.memory_swap_max = {true, 16 * MB}, .cpu_max_set = true, .cpu_quota_usec = 25000,
		.cpu_period_usec = 50000, .cpu_weight = {true, 200}, .pids_max = {true, 100},
		.io_weight = {true, 300},
	};
	char *why = NULL;

	mgr(fx);
	if (fx->m->layout == CG_LAYOUT_V2)
		skip(); /* the v2 files are covered by test_cgroup_fake */
	unit(fx, &lim);
	const char *b = fx->base;
	assert_string_equal(get_file(tpath(ROOT "/memory/%s/web.service/memory.limit_in_bytes", b)), "67108864");
	assert_string_equal(get_file(tpath(ROOT "/memory/%s/web.service/memory.soft_limit_in_bytes", b)), "50331648");
	assert_string_equal(get_file(tpath(ROOT "/memory/%s/web.service/memory.memsw.limit_in_bytes", b)), "83886080");
	assert_string_equal(get_file(tpath(ROOT "/cpu/%s/web.service/cpu.cfs_quota_us", b)), "25000");
	assert_string_equal(get_file(tpath(ROOT "/cpu/%s/web.service/cpu.cfs_period_us", b)), "50000");
	assert_string_equal(get_file(tpath(ROOT "/cpu/%s/web.service/cpu.shares", b)), "2048");
	assert_string_equal(get_file(tpath(ROOT "/pids/%s/web.service/pids.max", b)), "100");
	if (cg_exists(tpath(ROOT "/blkio/%s/web.service", b), "blkio.weight"))
		assert_string_equal(get_file(tpath(ROOT "/blkio/%s/web.service/blkio.weight", b)), "510");
	else
		assert_string_equal(get_file(tpath(ROOT "/blkio/%s/web.service/blkio.bfq.weight", b)), "118");
	cg_unit_free(fx->u);
	fx->u = NULL;

	/* Lowered and raised again on reuse: memsw is lifted first, so the kernel's
	 * memsw >= limit rule never trips; unset limits go back to defaults. */
	lim = (struct cgroup_limits){.memory_max = {true, 256 * MB}, .memory_swap_max = {true, 0}};
	unit(fx, &lim);
	assert_string_equal(get_file(tpath(ROOT "/memory/%s/web.service/memory.limit_in_bytes", b)), "268435456");
	assert_string_equal(get_file(tpath(ROOT "/memory/%s/web.service/memory.memsw.limit_in_bytes", b)), "268435456");
	assert_string_equal(get_file(tpath(ROOT "/memory/%s/web.service/memory.soft_limit_in_bytes", b)), "9223372036854771712");
	assert_string_equal(get_file(tpath(ROOT "/pids/%s/web.service/pids.max", b)), "max");
	cg_unit_free(fx->u);
	fx->u = NULL;

	/* A value the kernel refuses is an error naming the limit. */
	lim = (struct cgroup_limits){.cpu_max_set = true, .cpu_quota_usec = 10, .cpu_period_usec = 100000};
	assert_int_equal(cg_unit_open(fx->m, "web", &lim, &fx->u, &why), -EINVAL);
	assert_string_equal(why, tpath("cpu_max: cannot write \"10\" to " ROOT "/cpu/%s/web.service/"
				       "cpu.cfs_quota_us: Invalid argument", b));
	free(why);
	assert_int_equal(cg_manager_remove(fx->m), 0);
	assert_true(no_leftovers(fx->base));
}

/* clone3(CLONE_INTO_CGROUP): the child starts in its v2 cgroup. */
static void test_clone_into_cgroup(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct cg_unit *u = unit(fx, NULL);
	struct cg_child c;
	int go_p[2], pidfd = -1;
	siginfo_t si;
	char want[256];

	if (fx->m->v2 < 0)
		skip();
	assert_int_equal(cg_unit_child(u, &c), 0);
	assert_true(c.clone_fd >= 0);
	assert_int_equal(pipe2(go_p, O_CLOEXEC), 0);
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)c.clone_fd,
	};
	pid_t pid = syscall(SYS_clone3, &args, sizeof(args));
	assert_true(pid >= 0);
	if (pid == 0) {
		char b;
		setpgid(0, 0);
		if (read(go_p[0], &b, 1) != 1 || cg_child_attach(&c) < 0)
			_exit(3);
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	track(pid);
	assert_true(pidfd >= 0);
	/* Before the child ran a single instruction of ours: already there. */
	snprintf(want, sizeof(want), "0::/%s/web.service", fx->base);
	assert_non_null(strstr(get_file(tpath("/proc/%d/cgroup", (int)pid)), want));
	/* ... and only there: the v1 cgroups are the child's own writes, later. */
	snprintf(want, sizeof(want), ":memory:/%s/", fx->base);
	assert_null(strstr(get_file(tpath("/proc/%d/cgroup", (int)pid)), want));
	assert_true(listed(cg_unit_path(u), pid));
	assert_int_equal(write(go_p[1], "g", 1), 1);
	if (fx->m->v1[CG_CTL_MEMORY] >= 0) {
		const char *mem = tpath(ROOT "/memory/%s/web.service", fx->base);
		for (int i = 0; i < 500 && !listed(mem, pid); i++)
			cg_sleep_usec(2000);
		assert_true(listed(mem, pid));
	}
	assert_int_equal(cg_unit_kill(u, SIGKILL), 0);
	assert_int_equal(syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL), 0);
	assert_int_equal(si.si_code, CLD_KILLED);
	assert_int_equal(si.si_status, SIGKILL);
	close(pidfd);
	close(go_p[0]);
	close(go_p[1]);
	kill_and_remove(fx);
}

#define VARIANTS(fn)                                                                    \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)&detected), \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)&nokill),   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)&forced_v1)

int main(void)
{
	const struct CMUnitTest tests[] = {
		VARIANTS(test_attach_before_exec),
		VARIANTS(test_escapee_killed),
		VARIANTS(test_signal_all),
		VARIANTS(test_fork_bomb),
		VARIANTS(test_oom),
		cmocka_unit_test_prestate_setup_teardown(test_cpu_max, setup, teardown, (void *)&detected),
		cmocka_unit_test_prestate_setup_teardown(test_cpu_max, setup, teardown, (void *)&forced_v1),
		cmocka_unit_test_prestate_setup_teardown(test_stats_move, setup, teardown, (void *)&detected),
		cmocka_unit_test_prestate_setup_teardown(test_stats_move, setup, teardown, (void *)&forced_v1),
		cmocka_unit_test_prestate_setup_teardown(test_limits_read_back, setup, teardown, (void *)&detected),
		cmocka_unit_test_prestate_setup_teardown(test_clone_into_cgroup, setup, teardown, (void *)&detected),
	};
	int rc;

	if (geteuid() != 0)
		print_message("the real-cgroup tests need root: skipping them\n");
	rc = cmocka_run_group_tests(tests, group_setup, NULL);
	purge_ours();
	return rc;
}
