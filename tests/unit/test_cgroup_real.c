/* The cgroup layer against this host's real cgroups (root only). Each test
 * runs in three variants where that means something: the detected layout
 * (hybrid here: v2 tracks and kills with cgroup.kill), the same without
 * cgroup.kill (v2 freeze + kill rounds), and v1 forced on the real v1
 * hierarchies (pids tracks, the v1 freezer kills). Cgroups are named
 * sysg-test-<pid>-<test> and removed afterwards, also after a failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "cgroup/cg_internal.h"
#include "cgroup/cgroup.h"
#include "supervisor/util.h"
#include "tests/unit/cg_testlib.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define ROOT "/sys/fs/cgroup"
#define MB (1024ull * 1024)

static const char *const hierarchies[] = {"unified", "memory", "cpu", "cpuacct", "blkio",
					  "pids", "freezer", "systemd"};

struct variant {
	const char *name;
	bool force_v1;
	bool no_cgroup_kill;
};
static const struct variant detected = {"detected", false, false};
static const struct variant nokill = {"nokill", false, true};
static const struct variant forced_v1 = {"v1", true, false};

struct fx {
	const struct variant *v;
	char base[64];
	struct cg_manager *m;
	struct cg_unit *u;
};

static int counter;

/* Every child a test starts leads its own process group, so that a test that
 * fails (say, a child that never got into its cgroup) still kills it all. */
static pid_t tracked[64];
static int ntracked;

static void track(pid_t pid)
{
	if (ntracked < (int)ARRAY_SIZE(tracked))
		tracked[ntracked++] = pid;
}

static void kill_tracked(void)
{
	for (int i = 0; i < ntracked; i++) {
		kill(-tracked[i], SIGKILL);
		kill(tracked[i], SIGKILL);
	}
	ntracked = 0;
}

/* waitpid with a bound, so a broken layer fails the test instead of hanging it. */
static pid_t wait_for(pid_t pid, int *status, int ms)
{
	for (int i = 0; i < ms; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r != 0)
			return r;
		cg_sleep_usec(1000);
	}
	return 0;
}

/* ---- cleanup that survives a failed assertion --------------------------- */

static void kill_listed(const char *dir)
{
	pid_t *pids;
	size_t n;

	if (cg_read_pids(dir, &pids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	free(pids);
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void purge(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.')
			purge(tpath("%s/%s", dir, e->d_name));
	closedir(d);
	cg_write(dir, "cgroup.freeze", "0");
	cg_write(dir, "freezer.state", "THAWED");
	for (int i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++) {
		kill_listed(dir);
		reap_all();
		cg_sleep_usec(10000);
	}
}

/* Every sysg-test-<our pid>-* cgroup in every hierarchy. */
static void purge_ours(void)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "sysg-test-%d-", (int)getpid());
	for (size_t h = 0; h < ARRAY_SIZE(hierarchies); h++) {
		char hier[64];
		DIR *d;
		struct dirent *e;

		snprintf(hier, sizeof(hier), ROOT "/%s", hierarchies[h]);
		d = opendir(hier);
		if (!d)
			continue;
		while ((e = readdir(d)))
			if (str_has_prefix(e->d_name, prefix))
				purge(tpath("%s/%s", hier, e->d_name));
		closedir(d);
	}
}

static bool no_leftovers(const char *base)
{
	for (size_t h = 0; h < ARRAY_SIZE(hierarchies); h++)
		if (dir_exists(tpath(ROOT "/%s/%s", hierarchies[h], base)))
			return false;
	return true;
}

/* ---- fixture ------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	fx->v = *state ? *state : &detected;
	snprintf(fx->base, sizeof(fx->base), "sysg-test-%d-%d", (int)getpid(), ++counter);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	kill_tracked();
	cg_unit_free(fx->u);
	cg_manager_free(fx->m);
	purge_ours();
	for (int i = 0; i < 100; i++, cg_sleep_usec(1000))
		reap_all();
	free(fx);
	return 0;
}

static void need_root(void)
{
	if (geteuid() != 0) {
		print_message("skipped: the real-cgroup tests need root\n");
		skip();
	}
}

static struct cg_manager *mgr(struct fx *fx)
{
	struct cg_manager_opts o = {.base = fx->base, .system_mode = true,
				    .force_layout = fx->v->force_v1, .layout = CG_LAYOUT_V1,
				    .no_cgroup_kill = fx->v->no_cgroup_kill};
	char *why = NULL;

	fx->m = cg_manager_new(&o, &why);
	if (why)
		print_message("cg_manager_new: %s\n", why);
	assert_null(why);
	assert_true(cg_manager_tracking(fx->m));
	return fx->m;
}

static struct cg_unit *unit(struct fx *fx, const struct cgroup_limits *lim)
{
	char *why = NULL;
	int err = cg_unit_open(fx->m ? fx->m : mgr(fx), "web", lim, &fx->u, &why);

	if (err)
		print_message("cg_unit_open: %s\n", why);
	assert_int_equal(err, 0);
	return fx->u;
}

/* ---- children ------------------------------------------------------------ */

struct kid {
	pid_t pid;
	int go;     /* write a byte: the child runs its body */
	int out;    /* what the body reports */
};

static void write_int(int fd, long v) { (void)!write(fd, &v, sizeof(v)); }

static long read_int(int fd)
{
	long v = -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, 10000) != 1 || read(fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return v;
}

/* Fork; the child joins the unit's cgroups (the child half, as spawn will
 * do it), says so, waits for "go", then runs body. */
static struct kid spawn(struct cg_unit *u, void (*body)(int out, void *arg), void *arg)
{
	struct cg_child c;
	int ready[2], go[2], out[2];
	struct kid k;

	cg_unit_child(u, &c);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	k.pid = fork();
	assert_true(k.pid >= 0);
	if (k.pid == 0) {
		char b;
		setpgid(0, 0);
		write_int(ready[1], cg_child_attach(&c));
		if (read(go[0], &b, 1) != 1)
			_exit(3);
		body(out[1], arg);
		_exit(0);
	}
	track(k.pid);
	close(ready[1]);
	close(go[0]);
	close(out[1]);
	assert_int_equal(read_int(ready[0]), 0);
	close(ready[0]);
	k.go = go[1];
	k.out = out[0];
	return k;
}

static void go(struct kid *k) { assert_int_equal(write(k->go, "g", 1), 1); }

static void kid_close(struct kid *k)
{
	close(k->go);
	close(k->out);
}

static void body_sleep(int out, void *arg)
{
	(void)out, (void)arg;
	execl("/bin/sleep", "sleep", "60", (char *)NULL);
	_exit(127);
}

static bool listed(const char *dir, pid_t pid)
{
	pid_t *pids;
	size_t n;
	bool found = false;

	if (cg_read_pids(dir, &pids, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		found |= pids[i] == pid;
	free(pids);
	return found;
}

static const char *exe_of(pid_t pid)
{
	static char buf[4096];
	ssize_t n = readlink(tpath("/proc/%d/exe", (int)pid), buf, sizeof(buf) - 1);

	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* Waits (bounded) until the cgroup is empty: through the event fd where the
 * tracker notifies (v2), by looking otherwise (v1 has no notification). */
static bool wait_empty(struct cg_unit *u, int ms)
{
	struct pollfd p = {.fd = cg_unit_event_fd(u), .events = POLLIN};
	struct cg_events ev;
	int64_t end = now_mono_usec() + ms * 1000LL;

	while (now_mono_usec() < end) {
		reap_all();
		if (u->m->h[u->m->track].v2)
			poll(&p, 1, 50);
		else
			cg_sleep_usec(20000);
		cg_unit_events(u, &ev);
		if (!ev.populated)
			return true;
	}
	return false;
}

static void kill_and_remove(struct fx *fx)
{
	assert_int_equal(cg_unit_kill(fx->u, SIGKILL), 0);
	assert_true(wait_empty(fx->u, 5000));
	reap_all();
	assert_int_equal(cg_unit_remove(fx->u), 0);
	cg_unit_free(fx->u);
	fx->u = NULL;
	assert_int_equal(cg_manager_remove(fx->m), 0);
	assert_true(no_leftovers(fx->base));
}

/* ---- tests --------------------------------------------------------------- */

static void test_detect(void **state)
{
	struct statfs root, uni;
	enum cg_layout want, got;
	char *v2;
	(void)state;

	assert_int_equal(statfs(ROOT, &root), 0);
	if (root.f_type == CGROUP2_SUPER_MAGIC)
		want = CG_LAYOUT_V2;
	else if (statfs(ROOT "/unified", &uni) == 0 && uni.f_type == CGROUP2_SUPER_MAGIC)
		want = CG_LAYOUT_HYBRID;
	else
		want = CG_LAYOUT_V1;
	cg_detect(ROOT, &got, &v2);
	print_message("detected layout: %s\n", cg_layout_names[got]);
	assert_int_equal(got, want);
	if (want == CG_LAYOUT_HYBRID)
		assert_string_equal(v2, ROOT "/unified");
	free(v2);
}

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
	struct pollfd p = {.fd = cg_unit_event_fd(u), .events = POLLIN};
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
	end = now_mono_usec() + 300000;
	while (now_mono_usec() < end)
		x++;
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
	cg_unit_child(u, &c);
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

/* ---- user mode and the supervisor's own leaf ---------------------------- */

static char *in_child(void (*fn)(int out, void *arg), void *arg)
{
	static char buf[4096];
	int p[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		fn(p[1], arg);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return buf;
}

static void become_nobody(void)
{
	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		_exit(2);
}

static void probe_not_delegated(int out, void *arg)
{
	struct cg_manager_opts o = {.base = arg};
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}};
	struct cg_unit *u = NULL;
	char *why = NULL, *why2 = NULL;

	become_nobody();
	struct cg_manager *m = cg_manager_new(&o, &why);
	int err = cg_unit_open(m, "web", &lim, &u, &why2);
	dprintf(out, "%d\n%s\n%d\n%s\n", cg_manager_tracking(m), why, err, why2);
}

static void test_user_not_delegated(void **state)
{
	struct fx *fx = *state;
	need_root();
	char *out = in_child(probe_not_delegated, fx->base);

	assert_non_null(strstr(out, "0\nno delegated cgroup v2 subtree for uid 65534: "));
	assert_non_null(strstr(out, "\n-95\nmemory_max: no delegated cgroup v2 subtree for uid 65534: "));
	assert_true(no_leftovers(fx->base));
}

/* A subtree delegated the way systemd's Delegate=yes does: sysg moves itself
 * to <base>/supervisor, runs a service, kills it, cleans up. */
static void probe_delegated(int out, void *arg)
{
	const char *deleg = arg;
	struct cg_manager_opts o = {.base = "b", .move_self = true};
	struct cgroup_limits lim = {.memory_max = {true, 32 * MB}};
	struct cg_unit *u = NULL, *u2 = NULL;
	char *why = NULL, *why2 = NULL;
	int status;

	if (cg_write(deleg, "cgroup.procs", "0") < 0)
		_exit(4);
	become_nobody();
	struct cg_manager *m = cg_manager_new(&o, &why);
	dprintf(out, "tracking=%d moved=%d\n", cg_manager_tracking(m), m->moved_self);
	dprintf(out, "self=%s\n", strstr(get_file("/proc/self/cgroup"), "0::"));
	int err = cg_unit_open(m, "web", NULL, &u, &why);
	dprintf(out, "open=%d %s\n", err, why ? why : "");
	err = cg_unit_open(m, "web2", &lim, &u2, &why2);
	dprintf(out, "limit=%d %s\n", err, why2 ? why2 : "");
	if (!u)
		return;
	struct cg_child c;
	cg_unit_child(u, &c);
	pid_t pid = fork();
	if (pid == 0) {
		if (cg_child_attach(&c) < 0)
			_exit(3);
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !cg_unit_contains(u, pid); i++)
		cg_sleep_usec(2000);
	dprintf(out, "contains=%d\n", cg_unit_contains(u, pid));
	dprintf(out, "kill=%d\n", cg_unit_kill(u, SIGKILL));
	if (wait_for(pid, &status, 5000) != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		status = 0;
	}
	dprintf(out, "killed=%d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	for (int i = 0; i < 500 && cg_unit_populated(u); i++)
		cg_sleep_usec(2000);
	dprintf(out, "remove=%d\n", cg_unit_remove(u));
	cg_unit_free(u);
	cg_manager_free(m);
}

static void test_user_delegated(void **state)
{
	struct fx *fx = *state;
	need_root();
	enum cg_layout layout;
	char *v2;

	cg_detect(ROOT, &layout, &v2);
	if (!v2)
		skip();
	LOCAL_PATH(deleg, "%s/%s", v2, fx->base);
	free(v2);
	assert_int_equal(mkdir(deleg, 0755), 0);
	assert_int_equal(chown(deleg, 65534, 65534), 0);
	assert_int_equal(chown(tpath("%s/cgroup.procs", deleg), 65534, 65534), 0);
	assert_int_equal(chown(tpath("%s/cgroup.subtree_control", deleg), 65534, 65534), 0);
	assert_int_equal(chown(tpath("%s/cgroup.threads", deleg), 65534, 65534), 0);
	char *out = in_child(probe_delegated, deleg);
	print_message("%s", out);
	assert_non_null(strstr(out, "tracking=1 moved=1\n"));
	assert_non_null(strstr(out, tpath("self=0::/%s/b/supervisor\n", fx->base)));
	assert_non_null(strstr(out, "open=0 \n"));
	assert_non_null(strstr(out, "contains=1\nkill=0\nkilled=9\nremove=0\n"));
	if (dir_exists(ROOT "/memory"))
		assert_non_null(strstr(out, "limit=-95 memory_max: no delegated cgroup v1 memory "
					    "hierarchy for uid 65534: "));
	assert_false(dir_exists(tpath("%s/b/web.service", deleg)));
}

static void probe_move_self(int out, void *arg)
{
	struct cg_manager_opts o = {.base = arg, .system_mode = true, .move_self = true};
	struct cg_manager *m = cg_manager_new(&o, NULL);

	dprintf(out, "%d %s", m->moved_self, get_file("/proc/self/cgroup"));
	cg_manager_free(m);
}

static void test_system_move_self(void **state)
{
	struct fx *fx = *state;
	need_root();
	char *out = in_child(probe_move_self, fx->base);

	assert_int_equal(strncmp(out, "1 ", 2), 0);
	assert_non_null(strstr(out, tpath("0::/%s/supervisor", fx->base)));
	/* v1 hierarchies: sysg stays where it was started. */
	assert_null(strstr(out, tpath("memory:/%s", fx->base)));
	purge_ours();
	assert_true(no_leftovers(fx->base));
}

static void report_line(bool ok, const char *what, const char *why, void *arg)
{
	struct sbuf *b = arg;
	sbuf_addf(b, "%s %s: %s\n", ok ? "✓" : "✗", what, why);
}

/* What `sysg isolation check` will print on this host. */
static void test_report(void **state)
{
	struct fx *fx = *state;
	need_root();
	struct sbuf b = {0};

	mgr(fx);
	cg_manager_report(fx->m, report_line, &b);
	print_message("%s", b.s);
	if (fx->m->layout == CG_LAYOUT_HYBRID) {
		assert_non_null(strstr(b.s, "✓ cgroup layout: hybrid, v2 at " ROOT "/unified, v1 memory at "));
		assert_non_null(strstr(b.s, tpath("✓ cgroup kill: cgroup.kill in " ROOT "/unified/%s\n", fx->base)));
		assert_non_null(strstr(b.s, "✓ CLONE_INTO_CGROUP: "));
		assert_non_null(strstr(b.s, "✓ cgroup limit memory_max: v1 memory.limit_in_bytes\n"));
		assert_non_null(strstr(b.s, "✓ cgroup OOM kills: v1 memory.oom_control"));
	}
	sbuf_free(&b);
	assert_int_equal(cg_manager_remove(fx->m), 0);
	assert_true(no_leftovers(fx->base));
}

static int group_setup(void **state)
{
	(void)state;
	/* Grandchildren that lose their parent come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

#define VARIANTS(fn)                                                                    \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)&detected), \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)&nokill),   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)&forced_v1)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
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
		cmocka_unit_test_setup_teardown(test_user_not_delegated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_delegated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_move_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_prestate_setup_teardown(test_report, setup, teardown, (void *)&forced_v1),
	};
	int rc;

	if (geteuid() != 0)
		print_message("the real-cgroup tests need root: skipping them\n");
	rc = cmocka_run_group_tests(tests, group_setup, NULL);
	purge_ours();
	return rc;
}
