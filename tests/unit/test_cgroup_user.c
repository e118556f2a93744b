/* The cgroup layer on this host's real cgroups, around the supervisor
 * itself (root only): user mode with and without a delegated subtree, the
 * supervisor's own leaf, detection and the report. */
#include "tests/unit/test_cgroup_real.h"

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
	assert_int_equal(cg_unit_child(u, &c), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
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
