/* Shared by the real-cgroup tests (root only): the variants, the fixture,
 * children that lead their own process group, and cleanup that survives a
 * failed assertion. Cgroups are named sysg-test-<pid>-<n>. */
#ifndef SYSG_CG_REAL_H
#define SYSG_CG_REAL_H

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
#include "tests/unit/test_cgroup_lib.h"


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
static const struct variant detected __attribute__((unused)) = {"detected", false, false};
static const struct variant nokill __attribute__((unused)) = {"nokill", false, true};
static const struct variant forced_v1 __attribute__((unused)) = {"v1", true, false};

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

static inline void ignore_unit(struct cg_unit *u, void *arg)
{
	(void)u, (void)arg;
}

/* What the supervisor's event callback does first: drain the manager's fd. */
static inline void drain_events(struct cg_manager *m) { cg_manager_dispatch(m, ignore_unit, NULL); }

static inline void track(pid_t pid)
{
	if (ntracked < (int)ARRAY_SIZE(tracked))
		tracked[ntracked++] = pid;
}

static inline void kill_tracked(void)
{
	for (int i = 0; i < ntracked; i++) {
		kill(-tracked[i], SIGKILL);
		kill(tracked[i], SIGKILL);
	}
	ntracked = 0;
}

/* waitpid with a bound, so a broken layer fails the test instead of hanging it. */
static inline pid_t wait_for(pid_t pid, int *status, int ms)
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

static inline void kill_listed(const char *dir)
{
	pid_t *pids;
	size_t n;

	if (cg_read_pids(dir, &pids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	free(pids);
}

static inline void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static inline void purge(const char *dir)
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
static inline void purge_ours(void)
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

static inline bool no_leftovers(const char *base)
{
	for (size_t h = 0; h < ARRAY_SIZE(hierarchies); h++)
		if (dir_exists(tpath(ROOT "/%s/%s", hierarchies[h], base)))
			return false;
	return true;
}

/* ---- fixture ------------------------------------------------------------- */

static inline int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	fx->v = *state ? *state : &detected;
	snprintf(fx->base, sizeof(fx->base), "sysg-test-%d-%d", (int)getpid(), ++counter);
	*state = fx;
	return 0;
}

static inline int teardown(void **state)
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

static inline void need_root(void)
{
	if (geteuid() != 0) {
		print_message("skipped: the real-cgroup tests need root\n");
		skip();
	}
}

static inline struct cg_manager *mgr(struct fx *fx)
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

static inline struct cg_unit *unit(struct fx *fx, const struct cgroup_limits *lim)
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

static inline void write_int(int fd, long v) { (void)!write(fd, &v, sizeof(v)); }

static inline long read_int(int fd)
{
	long v = -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, 10000) != 1 || read(fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return v;
}

/* Fork; the child joins the unit's cgroups (the child half, as spawn will
 * do it), says so, waits for "go", then runs body. */
static inline struct kid spawn(struct cg_unit *u, void (*body)(int out, void *arg), void *arg)
{
	struct cg_child c;
	int ready[2], go[2], out[2];
	struct kid k;

	assert_int_equal(cg_unit_child(u, &c), 0);
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

static inline void go(struct kid *k) { assert_int_equal(write(k->go, "g", 1), 1); }

static inline void kid_close(struct kid *k)
{
	close(k->go);
	close(k->out);
}

static inline void body_sleep(int out, void *arg)
{
	(void)out, (void)arg;
	execl("/bin/sleep", "sleep", "60", (char *)NULL);
	_exit(127);
}

static inline bool listed(const char *dir, pid_t pid)
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

static inline const char *exe_of(pid_t pid)
{
	static char buf[4096];
	ssize_t n = readlink(tpath("/proc/%d/exe", (int)pid), buf, sizeof(buf) - 1);

	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* Waits (bounded) until the cgroup is empty: through the event fd where the
 * tracker notifies (v2), by looking otherwise (v1 has no notification). */
static inline bool wait_empty(struct cg_unit *u, int ms)
{
	struct pollfd p = {.fd = cg_manager_event_fd(u->m), .events = POLLIN};
	struct cg_events ev;
	int64_t end = now_mono_usec() + ms * 1000LL;

	while (now_mono_usec() < end) {
		reap_all();
		if (u->m->h[u->m->track].v2) {
			poll(&p, 1, 50);
			drain_events(u->m);
		} else
			cg_sleep_usec(20000);
		cg_unit_events(u, &ev);
		if (!ev.populated)
			return true;
	}
	return false;
}

static inline void kill_and_remove(struct fx *fx)
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

static inline int group_setup(void **state)
{
	(void)state;
	/* Grandchildren that lose their parent come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

#endif
