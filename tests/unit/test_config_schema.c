/* Validation rules of SPEC §2: one test per rule, each asserting the exact
 * position and message. */
#include "config_test.h"

#include <time.h>

#define HDR "version: \"2\"\nservices:\n"

static void test_minimal_defaults(void **state UNUSED)
{
	const struct svc_config *s;

	expect_ok(HDR "  api:\n    command: python3 -m http.server 8080\n");
	assert_int_equal(cfg->version, 2);
	assert_string_equal(cfg->path, "/tmp/sysg-test/t.yaml");
	assert_string_equal(cfg->dir, "/tmp/sysg-test");
	assert_int_equal(cfg->nsvcs, 1);
	s = &cfg->svcs[0];
	assert_string_equal(s->name, "api");
	assert_string_equal(s->unit, "api");
	assert_null(s->project);
	assert_false(s->cmd.shell);
	assert_int_equal(s->cmd.argv.n, 4);
	assert_string_equal(s->cmd.argv.v[0], "python3");
	assert_string_equal(s->cmd.argv.v[3], "8080");
	assert_null(s->cmd.argv.v[4]);
	assert_string_equal(s->working_dir, "/tmp/sysg-test");
	assert_int_equal(s->umask, 0022);
	assert_int_equal(s->restart, RESTART_NEVER);
	assert_int_equal(s->backoff, 1000000);
	assert_int_equal(s->backoff_max, 60000000);
	assert_int_equal(s->stable_after, 60000000);
	assert_int_equal(s->restart_window, 900000000);
	assert_true(s->max_restarts == SYSG_UNLIMITED);
	assert_int_equal(s->stop_signal, 15);
	assert_int_equal(s->stop_timeout, 10000000);
	assert_int_equal(s->kill_mode, KILL_CGROUP);
	assert_int_equal(s->ready.kind, PROBE_NONE);
	assert_int_equal(s->ready.timeout, 90000000);
	assert_int_equal(s->logs.sink, LOG_SINK_UNSET);
	assert_int_equal(s->logs.max_bytes, 10 << 20);
	assert_int_equal(s->logs.max_files, 5);
	assert_true(s->logs.timestamps);
	assert_int_equal(s->env.inherit, INHERIT_DEFAULT);
	assert_true(s->env.clear_session_vars);
	assert_int_equal(s->iso.pid, TRI_UNSET);
	assert_false(s->caps_set);
	assert_int_equal(s->net.mode, NET_UNSET);
	assert_int_equal(cfg->order[0], 0);
}

static void test_core_keys(void **state UNUSED)
{
	const struct svc_config *s;

	expect_ok(HDR "  w:\n    exec: [/bin/echo, \"a b\", \"\"]\n    working_dir: sub/../dir\n"
		      "    user: www-data\n    group: 33\n    supplementary_groups: [adm, \"44\"]\n"
		      "    umask: \"0077\"\n    restart_policy: on-failure\n    backoff: 250ms\n"
		      "    backoff_max: 2m\n    stable_after: 30s\n    restart_window: 1h\n"
		      "    max_restarts: 3\n    stop_signal: INT\n    stop_timeout: 1.5s\n"
		      "    limits:\n      nofile: {soft: 1024, hard: 4096}\n      memlock: 64M\n"
		      "      core: unlimited\n      nice: -5\n      cpu_affinity: [0, 1]\n"
		      "      oom_score_adj: 500\n"
		      "    logs: {sink: none, max_bytes: 1M, max_files: 2, timestamps: false}\n");
	s = &cfg->svcs[0];
	assert_int_equal(s->cmd.argv.n, 3);
	assert_string_equal(s->cmd.argv.v[1], "a b");
	assert_string_equal(s->cmd.argv.v[2], "");
	assert_string_equal(s->cmd.text, "/bin/echo 'a b' ''");
	assert_string_equal(s->working_dir, "/tmp/sysg-test/sub/../dir");
	assert_string_equal(s->user, "www-data");
	assert_string_equal(s->group, "33");
	assert_int_equal(s->supplementary_groups.n, 2);
	assert_string_equal(s->supplementary_groups.v[1], "44");
	assert_int_equal(s->umask, 0077);
	assert_int_equal(s->restart, RESTART_ON_FAILURE);
	assert_int_equal(s->backoff, 250000);
	assert_int_equal(s->backoff_max, 120000000);
	assert_int_equal(s->stable_after, 30000000);
	assert_int_equal(s->restart_window, 3600000000LL);
	assert_int_equal(s->max_restarts, 3);
	assert_int_equal(s->stop_signal, 2);
	assert_int_equal(s->stop_timeout, 1500000);
	assert_true(s->limits.rlim[SYSG_RLIM_NOFILE].set);
	assert_int_equal(s->limits.rlim[SYSG_RLIM_NOFILE].soft, 1024);
	assert_int_equal(s->limits.rlim[SYSG_RLIM_NOFILE].hard, 4096);
	assert_int_equal(s->limits.rlim[SYSG_RLIM_MEMLOCK].soft, 64 << 20);
	assert_true(s->limits.rlim[SYSG_RLIM_CORE].hard == RLIM_INFINITY);
	assert_false(s->limits.rlim[SYSG_RLIM_NPROC].set);
	assert_true(s->limits.nice_set);
	assert_int_equal(s->limits.nice, -5);
	assert_int_equal(s->limits.ncpu_affinity, 2);
	assert_int_equal(s->limits.cpu_affinity[1], 1);
	assert_int_equal(s->limits.oom_score_adj, 500);
	assert_int_equal(s->logs.sink, LOG_SINK_NONE);
	assert_int_equal(s->logs.max_bytes, 1 << 20);
	assert_int_equal(s->logs.max_files, 2);
	assert_false(s->logs.timestamps);
}

static void test_unknown_keys_everywhere(void **state UNUSED)
{
	assert_int_equal(load("version: \"2\"\nservics: {}\n"), -1);
	expect_error(2, 1, "unknown key 'servics'");
	expect_hint(2, 1, "unknown key 'servics'", "did you mean 'services'?");

	assert_int_equal(load(HDR "  a:\n    command: ls\n    bakoff: 5s\n    limits:\n"
			      "      nofle: 10\n      cgroup:\n        memory_mx: 1G\n"
			      "    logs:\n      sinc: file\n    depends_on:\n      - {servce: b}\n"
			      "    deployment:\n      health_check: {url: \"http://x/\", intervl: 1s}\n"
			      "  b:\n    command: ls\n"),
			 -1);
	expect_error(5, 5, "services.a: unknown key 'bakoff'");
	expect_hint(5, 5, "services.a: unknown key 'bakoff'", "did you mean 'backoff'?");
	expect_error(7, 7, "services.a.limits: unknown key 'nofle'");
	expect_hint(7, 7, "services.a.limits: unknown key 'nofle'", "did you mean 'nofile'?");
	expect_error(9, 9, "services.a.limits.cgroup: unknown key 'memory_mx'");
	expect_hint(9, 9, "services.a.limits.cgroup: unknown key 'memory_mx'", "did you mean 'memory_max'?");
	expect_error(11, 7, "services.a.logs: unknown key 'sinc'");
	expect_hint(11, 7, "services.a.logs: unknown key 'sinc'", "did you mean 'sink'?");
	expect_error(13, 10, "services.a.depends_on[0]: unknown key 'servce'");
	expect_error(13, 9, "services.a.depends_on[0]: names no service");
	expect_error(15, 40, "services.a.deployment.health_check: unknown key 'intervl'");
	expect_hint(15, 40, "services.a.deployment.health_check: unknown key 'intervl'",
		    "did you mean 'interval'?");
}

static void test_hint_keys(void **state UNUSED)
{
	assert_int_equal(load(HDR "  a:\n    command: ls\n    environment: {A: b}\n    env:\n"
			      "      inherit: true\n"),
			 -1);
	expect_error(5, 5, "services.a: unknown key 'environment'");
	expect_hint(5, 5, "services.a: unknown key 'environment'", "did you mean 'env'?");
	expect_error(7, 7, "services.a.env: unknown key 'inherit'");
	expect_hint(7, 7, "services.a.env: unknown key 'inherit'", "did you mean 'inherit_env'?");
}

static void test_wrong_types(void **state UNUSED)
{
	assert_int_equal(load(HDR "  a:\n    command: [ls]\n    backoff: {x: 1}\n"
			      "    max_restarts: \"5\"\n    depends_on: b\n    limits: []\n"
			      "    restart_policy: [always]\n  b:\n    command: ls\n"),
			 -1);
	expect_error(4, 14, "services.a.command: expected a string, not a list");
	expect_error(5, 14, "services.a.backoff: expected a duration, not a mapping");
	expect_error(6, 19, "services.a.max_restarts: expected a whole number, not a quoted string");
	expect_hint(6, 19, "services.a.max_restarts: expected a whole number, not a quoted string",
		    "remove the quotes: 5");
	expect_error(7, 17, "services.a.depends_on: expected a list, not a string");
	expect_error(8, 13, "services.a.limits: expected a mapping (key: value), not a list");
	expect_error(9, 21, "services.a.restart_policy: expected one of the listed words, not a list");
	expect_only_error(HDR "  a:\n    command: ls\n    logs: {timestamps: yes}\n", 5, 24,
			  "services.a.logs.timestamps: 'yes' is not true or false");
	expect_hint(5, 24, "services.a.logs.timestamps: 'yes' is not true or false",
		    "YAML 1.1 words are not booleans here: use true or false");
	expect_only_error(HDR "  a: ls\n", 3, 6, "services.a: expected a mapping (key: value), not a string");
	expect_only_error(HDR "  a:\n", 3, 3, "services.a: the service is empty");
}

static void test_out_of_range(void **state UNUSED)
{
	pending_ignore = true;
	assert_int_equal(load(HDR "  a:\n    command: ls\n    user: 4294967295\n    group: -1\n"
			      "    max_restarts: 4294967296\n    limits:\n      nofile: -1\n"
			      "      nice: 20\n      oom_score_adj: -1001\n      cpu_affinity: [1024]\n"
			      "      nproc: {soft: 10, hard: 5}\n"
			      "      cgroup: {cpu_weight: 0, io_weight: 10001, pids_max: -3}\n"
			      "    logs: {max_files: 1001}\n    umask: \"1777\"\n"),
			 -1);
	pending_ignore = false;
	expect_error(5, 11, "services.a.user: '4294967295' is out of range");
	expect_hint(5, 11, "services.a.user: '4294967295' is out of range", "from 0 to 4294967294");
	expect_error(6, 12, "services.a.group: '-1' is out of range");
	expect_error(7, 19, "services.a.max_restarts: '4294967296' is out of range");
	expect_error(9, 15, "services.a.limits.nofile: '-1' is negative");
	expect_error(10, 13, "services.a.limits.nice: '20' is out of range");
	expect_hint(10, 13, "services.a.limits.nice: '20' is out of range", "from -20 to 19");
	expect_error(11, 22, "services.a.limits.oom_score_adj: '-1001' is out of range");
	expect_error(12, 22, "services.a.limits.cpu_affinity[0]: '1024' is out of range");
	expect_error(13, 14, "services.a.limits.nproc: soft is larger than hard");
	expect_error(14, 28, "services.a.limits.cgroup.cpu_weight: '0' is out of range");
	expect_error(14, 42, "services.a.limits.cgroup.io_weight: '10001' is out of range");
	expect_error(14, 59, "services.a.limits.cgroup.pids_max: '-3' is out of range");
	expect_error(15, 23, "services.a.logs.max_files: '1001' is out of range");
	expect_error(16, 12, "services.a.umask: '1777' is out of range");
	assert_int_equal(diags.nerrors, 13);
}

static void test_bad_durations(void **state UNUSED)
{
	assert_int_equal(load(HDR "  a:\n    command: ls\n    backoff: abc\n    stop_timeout: .nan\n"
			      "    stable_after: .inf\n    restart_window: -5s\n"
			      "    backoff_max: 99999999999999999999\n    watchdog: \"\"\n"
			      "    ready: {tcp: \"127.0.0.1:1\", interval: 0}\n"
			      "    health_check: {tcp: \"127.0.0.1:1\", timeout: 5s junk}\n"),
			 -1);
	expect_error(5, 14, "services.a.backoff: 'abc' is not a duration");
	expect_hint(5, 14, "services.a.backoff: 'abc' is not a duration",
		    "use 250ms, 5s, 2m, 1h or a number of seconds");
	expect_error(6, 19, "services.a.stop_timeout: '.nan' is not a duration");
	expect_error(7, 19, "services.a.stable_after: '.inf' is not a duration");
	expect_error(8, 21, "services.a.restart_window: '-5s' is negative");
	expect_error(9, 18, "services.a.backoff_max: '99999999999999999999' is too large");
	expect_error(10, 15, "services.a.watchdog: '' is empty");
	expect_error(11, 43, "services.a.ready.interval: '0' must be more than zero");
	expect_error(12, 49, "services.a.health_check.timeout: '5s junk' is not a duration");
}

static void test_bad_sizes(void **state UNUSED)
{
	pending_ignore = true;
	assert_int_equal(load(HDR "  a:\n    command: ls\n    logs: {max_bytes: 12Q}\n"
			      "    limits:\n      memlock: 1.5\n      cgroup:\n        memory_max: NaN\n"
			      "        memory_high: -1M\n        memory_swap_max: \"\"\n"
			      "        cpu_max: \"0%\"\n"),
			 -1);
	pending_ignore = false;
	expect_error(5, 23, "services.a.logs.max_bytes: '12Q' is not a size");
	expect_error(7, 16, "services.a.limits.memlock: '1.5' is not a whole number of bytes");
	expect_error(9, 21, "services.a.limits.cgroup.memory_max: 'NaN' is not a size");
	expect_error(10, 22, "services.a.limits.cgroup.memory_high: '-1M' is negative");
	expect_error(11, 26, "services.a.limits.cgroup.memory_swap_max: '' is empty");
	expect_error(12, 18, "services.a.limits.cgroup.cpu_max: '0%' is not a CPU limit");
	assert_int_equal(diags.nerrors, 6);
}

static void test_service_names(void **state UNUSED)
{
	char yaml[1024], big[301];

	assert_int_equal(load(HDR "  ../x: {command: ls}\n  a/b: {command: ls}\n  .: {command: ls}\n"
			      "  \"\": {command: ls}\n  \"a\\nb\": {command: ls}\n  ok-1.x_y: {command: ls}\n"),
			 -1);
	expect_error(3, 3, "services.../x: '../x' is not a valid service name");
	expect_hint(3, 3, "services.../x: '../x' is not a valid service name",
		    "letters, digits, '_', '.', '-', up to 63, starting with a letter or digit");
	expect_error(4, 3, "services.a/b: 'a/b' is not a valid service name");
	expect_error(5, 3, "services..: '.' is not a valid service name");
	expect_error(6, 3, "services.: '' is not a valid service name");
	expect_error(7, 3, "services.a\\nb: 'a\\nb' is not a valid service name");
	assert_int_equal(diags.nerrors, 5);
	memset(big, 'a', 300);
	big[300] = '\0';
	snprintf(yaml, sizeof(yaml), HDR "  %s: {command: ls}\n", big);
	assert_int_equal(load(yaml), -1);
	assert_int_equal(diags.nerrors, 1);
	assert_int_equal(diags.v[0].line, 3);
	assert_string_equal(diags.v[0].msg + strlen(diags.v[0].msg) - 28, " is not a valid service name");
}

static void test_project_ids(void **state UNUSED)
{
	assert_int_equal(load("version: \"2\"\nprojects:\n  ../p:\n    services: {a: {command: ls}}\n"
			      "  \"x y\":\n    services: {a: {command: ls}}\n"),
			 -1);
	expect_error(3, 3, "projects.../p: '../p' is not a valid project id");
	expect_error(5, 3, "projects.x y: 'x y' is not a valid project id");
	expect_only_error("version: \"2\"\nproject: \"a;b\"\nservices: {a: {command: ls}}\n", 2, 10,
			  "project: 'a;b' is not a valid project id");
}

static void test_depends_on(void **state UNUSED)
{
	const struct svc_config *s;

	expect_ok(HDR "  web:\n    command: ls\n    depends_on: [db, {service: cache, condition: started}]\n"
		      "  cache:\n    command: ls\n    depends_on:\n      - {service: db, condition: completed}\n"
		      "  db:\n    command: ls\n");
	s = &cfg->svcs[0];
	assert_int_equal(s->ndeps, 2);
	assert_string_equal(s->deps[0].name, "db");
	assert_int_equal(s->deps[0].index, 2);
	assert_int_equal(s->deps[0].cond, DEP_READY);
	assert_int_equal(s->deps[0].line, 5);
	assert_int_equal(s->deps[0].col, 18);
	assert_int_equal(s->deps[1].cond, DEP_STARTED);
	assert_int_equal(cfg->svcs[1].deps[0].cond, DEP_COMPLETED);
	/* dependencies first: db, cache, web */
	assert_int_equal(cfg->order[0], 2);
	assert_int_equal(cfg->order[1], 1);
	assert_int_equal(cfg->order[2], 0);
}

static void test_depends_on_errors(void **state UNUSED)
{
	assert_int_equal(load(HDR "  web:\n    command: ls\n    depends_on: [dbb, web, db, db, "
			      "{service: x, condition: healthy}]\n  db:\n    command: ls\n"
			      "  x:\n    command: ls\n"),
			 -1);
	expect_error(5, 18, "services.web.depends_on[0]: unknown service 'dbb'");
	expect_hint(5, 18, "services.web.depends_on[0]: unknown service 'dbb'", "did you mean 'db'?");
	expect_error(5, 23, "services.web.depends_on[1]: the service depends on itself");
	expect_error(5, 32, "services.web.depends_on[3]: 'db' is listed twice");
	expect_error(5, 60, "services.web.depends_on[4].condition: 'healthy' is not one of started, "
			    "ready or completed");
	assert_int_equal(diags.nerrors, 4);
}

static void test_cycles(void **state UNUSED)
{
	expect_only_error(HDR "  c:\n    command: ls\n    depends_on: [a]\n  a:\n    command: ls\n"
			      "    depends_on: [b]\n  b:\n    command: ls\n    depends_on: [c]\n"
			      "  d:\n    command: ls\n    depends_on: [a]\n",
			  5, 18, "services.c.depends_on[0]: dependency cycle: c -> a -> b -> c");
	/* two separate cycles, each named once */
	assert_int_equal(load(HDR "  a: {command: ls, depends_on: [b]}\n  b: {command: ls, depends_on: [a]}\n"
			      "  x: {command: ls, depends_on: [y]}\n  y: {command: ls, depends_on: [x]}\n"),
			 -1);
	assert_int_equal(diags.nerrors, 2);
	expect_error(3, 33, "services.a.depends_on[0]: dependency cycle: a -> b -> a");
	expect_error(5, 33, "services.x.depends_on[0]: dependency cycle: x -> y -> x");
}

static void test_long_chain_no_recursion(void **state UNUSED)
{
	size_t n = 20000, cap = n * 64, len = 0;
	char *s = malloc(cap);

	len += (size_t)sprintf(s, HDR);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "  s%zu: {command: ls, depends_on: [s%zu]}\n", i,
				       i + 1 < n ? i + 1 : 0);
	assert_int_equal(load(s), -1);
	assert_int_equal(diags.nerrors, 1);
	assert_true(strstr(diags.v[0].msg, "dependency cycle: s0 -> s1 -> s2") != NULL);
	/* without the closing edge it is valid, and the order is reversed */
	len = (size_t)sprintf(s, HDR);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "  s%zu: {command: ls%s%zu%s}\n", i,
				       i + 1 < n ? ", depends_on: [s" : "", i + 1 < n ? i + 1 : 0,
				       i + 1 < n ? "]" : "");
	expect_ok(s);
	assert_int_equal(cfg->order[0], n - 1);
	assert_int_equal(cfg->order[n - 1], 0);
	free(s);
}

/* Quadratic traps: many back edges, one service with many duplicates. */
static void test_hostile_graphs_are_fast(void **state UNUSED)
{
	size_t n = 40000, cap = n * 64 + 64, len;
	char *s = malloc(cap);
	struct timespec t0, t1;

	len = (size_t)sprintf(s, HDR);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "  s%zu: {command: ls, depends_on: [s%zu, s0]}\n", i,
				       i + 1 < n ? i + 1 : 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(load(s), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_true(diags.nerrors >= 1 && diags.nerrors <= 70);
	len = (size_t)sprintf(s, HDR "  a: {command: ls, depends_on: [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "b, ");
	len += (size_t)sprintf(s + len, "b]}\n  b: {command: ls}\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(load(s), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_int_equal(diags.nerrors, CFG_MAX_SHOWN_ERRORS + 1);
	free(s);
}

static void test_command_xor_exec(void **state UNUSED)
{
	expect_only_error(HDR "  a:\n    command: ls\n    exec: [ls]\n", 3, 3,
			  "services.a: has both command and exec");
	expect_only_error(HDR "  a:\n    restart_policy: always\n", 3, 3,
			  "services.a: has neither command nor exec");
	expect_only_error(HDR "  a:\n    exec: []\n", 4, 11, "services.a.exec: the argv list has no program");
	expect_only_error(HDR "  a:\n    command: \"   \"\n", 4, 14, "services.a.command: the command is empty");
}

static void test_enums(void **state UNUSED)
{
	pending_ignore = true;
	assert_int_equal(load(HDR "  a:\n    command: ls\n    restart_policy: on_failure\n"
			      "    kill_mode: groups\n    logs: {sink: jornal}\n"
			      "    isolation: {preset: sever, seccomp: defualt, protect_home: readonly}\n"),
			 -1);
	pending_ignore = false;
	expect_error(5, 21, "services.a.restart_policy: 'on_failure' is not one of never, on-failure or always");
	expect_hint(5, 21, "services.a.restart_policy: 'on_failure' is not one of never, on-failure or always",
		    "did you mean 'on-failure'?");
	expect_error(6, 16, "services.a.kill_mode: 'groups' is not one of cgroup, group or process");
	expect_hint(6, 16, "services.a.kill_mode: 'groups' is not one of cgroup, group or process",
		    "did you mean 'group'?");
	expect_error(7, 18, "services.a.logs.sink: 'jornal' is not one of file, none, journal or stdout");
	expect_hint(7, 18, "services.a.logs.sink: 'jornal' is not one of file, none, journal or stdout",
		    "did you mean 'journal'?");
	expect_error(8, 25, "services.a.isolation.preset: 'sever' is not one of none, minimal, server, "
			    "strict, worker or database");
	expect_error(8, 41, "services.a.isolation.seccomp: 'defualt' is not one of unconfined, default, "
			    "strict or baseline-v1");
	expect_hint(8, 41, "services.a.isolation.seccomp: 'defualt' is not one of unconfined, default, "
			   "strict or baseline-v1",
		    "did you mean 'default'?");
	expect_error(8, 64, "services.a.isolation.protect_home: 'readonly' is not one of no, yes, "
			    "read-only or tmpfs");
	assert_int_equal(diags.nerrors, 6);
}

static void test_version(void **state UNUSED)
{
	expect_ok("version: 3\nservices: {a: {command: ls}}\n");
	assert_int_equal(cfg->version, 3);
	expect_only_error("services: {a: {command: ls}}\n", 0, 0, "the file has no version");
	expect_only_error("version: \"1\"\nservices: {a: {command: ls}}\n", 1, 10,
			  "version: version 1 is no longer supported");
	expect_only_error("version: 4\nservices: {a: {command: ls}}\n", 1, 10,
			  "version: unsupported version '4'");
}

static void test_pending_features(void **state UNUSED)
{
	/* Each feature's case runs while the feature is still pending: landing a
	 * feature removes its line from config/pending.c, and its own tests take over. */
	static const struct {
		const char *path, *yaml, *msg;
		unsigned line, col;
	} cases[] = {
		{"sockets", "    sockets: [{listen: \"tcp://127.0.0.1:80\"}]\n",
		 "services.a.sockets: socket activation (sockets) is not supported yet", 5, 5},
		{"ready", "    ready: notify\n", "services.a.ready: readiness probes (ready) is not supported yet", 5, 5},
		{"health_check", "    health_check: {exec: \"true\"}\n",
		 "services.a.health_check: liveness probes (health_check) is not supported yet", 5, 5},
		{"deployment.health_check", "    deployment: {health_check: {command: \"true\"}}\n",
		 "services.a.deployment.health_check: deployment.health_check (a readiness probe) is not "
		 "supported yet",
		 5, 18},
		{"watchdog", "    watchdog: 10s\n", "services.a.watchdog: watchdog is not supported yet", 5, 5},
		{"hooks", "    hooks: {onstart: {command: \"true\"}}\n", "services.a.hooks: hooks is not supported yet", 5, 5},
		{"cron", "    cron: {expression: \"* * * * *\"}\n", "services.a.cron: cron scheduling is not supported yet", 5, 5},
		{"skip", "    skip: true\n", "services.a.skip: skip is not supported yet", 5, 5},
		{"isolation", "    isolation: {pid: true}\n", "services.a.isolation: isolation is not supported yet", 5, 5},
		{"capabilities", "    capabilities: [NET_BIND_SERVICE]\n",
		 "services.a.capabilities: capabilities is not supported yet", 5, 5},
		{"limits.cgroup", "    limits: {cgroup: {memory_max: 1G}}\n",
		 "services.a.limits.cgroup: cgroup limits (limits.cgroup) is not supported yet", 5, 14},
		{"kill_mode", "    kill_mode: process\n", "services.a.kill_mode: kill_mode is not supported yet", 5, 5},
		{"secrets", "    secrets: {TOKEN: {value: x}}\n", "services.a.secrets: secrets is not supported yet", 5, 5},
		{"network", "    network: {mode: none}\n",
		 "services.a.network: service networking (network) is not supported yet", 5, 5},
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!pending_feature(PENDING_SERVICE, cases[i].path))
			continue;
		snprintf(yaml, sizeof(yaml), HDR "  a:\n    command: ls\n%s", cases[i].yaml);
		expect_only_error(yaml, cases[i].line, cases[i].col, cases[i].msg);
	}
	if (!pending_feature(PENDING_TOP, "networks"))
		return;
	assert_int_equal(load_opts("version: \"2\"\nnetworks: {back: {subnet: 10.1.0.0/16}}\nservices: {}\n",
				   true),
			 -1);
	assert_int_equal(diags.nerrors, 1);
	expect_error(2, 1, "networks: networks is not supported yet");
}

static void test_systemg_only_features(void **state UNUSED)
{
	pending_ignore = true;
	assert_int_equal(load(HDR "  a:\n    command: ls\n    spawn: {mode: dynamic}\n"
			      "    deployment:\n      strategy: rolling\n      pre_start: x\n"
			      "      grace_period: 1s\n      blue_green: {slots: [a, b]}\n"
			      "    isolation: {apparmor_profile: x, selinux_context: y}\n"
			      "    limits: {cgroup: {root: /sys/fs/cgroup/x}}\n"),
			 -1);
	pending_ignore = false;
	expect_error(5, 5, "services.a.spawn: spawn is a systemg feature that sysg does not support");
	expect_error(7, 17, "services.a.deployment.strategy: rolling deployments are a systemg feature "
			    "that sysg does not support");
	expect_error(8, 7, "services.a.deployment.pre_start: pre_start is a systemg feature that sysg "
			   "does not support");
	expect_error(9, 7, "services.a.deployment.grace_period: grace_period is a systemg feature that "
			   "sysg does not support");
	expect_error(10, 7, "services.a.deployment.blue_green: blue_green is a systemg feature that "
			    "sysg does not support");
	expect_error(11, 17, "services.a.isolation.apparmor_profile: apparmor_profile is a systemg "
			     "feature that sysg does not support");
	expect_error(11, 38, "services.a.isolation.selinux_context: selinux_context is a systemg "
			     "feature that sysg does not support");
	expect_error(12, 23, "services.a.limits.cgroup.root: root is a systemg feature that sysg does "
			     "not support");
	assert_int_equal(diags.nerrors, 8);
}

static void test_no_effect_keys(void **state UNUSED)
{
	expect_ok("version: \"2\"\nmetrics:\n  retention_minutes: 60\n  spillover_path: /tmp/x\n"
		  "status: {snapshot_mode: summary, snapshot_interval_secs: 5}\nservices: {}\n");
	assert_non_null(find_diag(2, 1, "metrics: accepted for systemg compatibility; it has no effect in sysg"));
	assert_int_equal(find_diag(2, 1, "metrics: accepted for systemg compatibility; it has no effect in sysg")->sev,
			 DIAG_NOTE);
	assert_non_null(find_diag(5, 1, "status: accepted for systemg compatibility; it has no effect in sysg"));
	expect_only_error("version: \"2\"\nstatus: {snapshot_mode: loud}\nservices: {}\n", 2, 25,
			  "status.snapshot_mode: 'loud' is not one of off, summary or detailed");
}

static void test_deployment_health_maps_to_ready(void **state UNUSED)
{
	const struct probe *p;

	pending_ignore = true;
	expect_ok(HDR "  db:\n    command: ls\n    deployment:\n      strategy: immediate\n"
		      "      health_check: {command: \"pg_isready -q\", interval: 2s, retries: 15}\n"
		      "  web:\n    command: ls\n    deployment:\n"
		      "      health_check: {url: \"http://127.0.0.1:8080/health\", timeout: 30s, "
		      "attempt_timeout: 2s}\n");
	pending_ignore = false;
	p = &cfg->svcs[0].ready;
	assert_int_equal(p->kind, PROBE_EXEC);
	assert_string_equal(p->target, "pg_isready -q");
	assert_string_equal(p->exec.argv.v[0], "pg_isready");
	assert_int_equal(p->interval, 2000000);
	assert_int_equal(p->timeout, 30000000);
	p = &cfg->svcs[1].ready;
	assert_int_equal(p->kind, PROBE_HTTP);
	assert_string_equal(p->target, "http://127.0.0.1:8080/health");
	assert_int_equal(p->interval, 1000000);
	assert_int_equal(p->timeout, 30000000);
	assert_int_equal(p->attempt_timeout, 2000000);

	pending_ignore = true;
	assert_int_equal(load(HDR "  a:\n    command: ls\n    ready: notify\n"
			      "    deployment: {health_check: {command: x}}\n"
			      "  b:\n    command: ls\n    deployment: {health_check: {interval: 1s}}\n"
			      "  c:\n    command: ls\n    deployment: {health_check: {url: \"https://x/\"}}\n"),
			 -1);
	pending_ignore = false;
	expect_error(6, 32, "services.a: has both ready and deployment.health_check");
	expect_error(9, 32, "services.b.deployment.health_check: health check requires at least one of "
			    "'url' or 'command'");
	expect_error(12, 38, "services.c.deployment.health_check: https URLs are not supported");
	assert_int_equal(diags.nerrors, 3);
}

static void test_backoff_max(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: ls\n    backoff: 5m\n");
	assert_int_equal(cfg->svcs[0].backoff_max, 300000000);
	expect_only_error(HDR "  a:\n    command: ls\n    backoff: 5m\n    backoff_max: 1m30s\n", 3, 3,
			  "services.a: backoff (5m) is longer than backoff_max (1m30s)");
}

static void test_stop_signal(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: ls\n    stop_signal: 3\n");
	assert_int_equal(cfg->svcs[0].stop_signal, 3);
	expect_only_error(HDR "  a:\n    command: ls\n    stop_signal: SIGFOO\n", 5, 18,
			  "services.a.stop_signal: 'SIGFOO' is not a signal");
	expect_only_error(HDR "  a:\n    command: ls\n    stop_signal: SIGSTOP\n", 5, 18,
			  "services.a.stop_signal: 'SIGSTOP' only suspends the process");
}

static void test_null_means_absent(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: ls\n    hooks:\n    backoff: ~\n    env: null\n");
	assert_int_equal(cfg->svcs[0].backoff, 1000000);
	assert_false(cfg->svcs[0].onstart.set);
}

static void test_completed_on_always_warns(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: ls\n    depends_on: [{service: b, condition: completed}]\n"
		      "  b:\n    command: ls\n    restart_policy: always\n");
	assert_non_null(find_diag(5, 18, "services.a.depends_on[0]: 'b' has restart_policy always, so it "
					 "never completes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_core_keys),
		cmocka_unit_test(test_unknown_keys_everywhere),
		cmocka_unit_test(test_hint_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_bad_durations),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_service_names),
		cmocka_unit_test(test_project_ids),
		cmocka_unit_test(test_depends_on),
		cmocka_unit_test(test_depends_on_errors),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_long_chain_no_recursion),
		cmocka_unit_test(test_hostile_graphs_are_fast),
		cmocka_unit_test(test_command_xor_exec),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_pending_features),
		cmocka_unit_test(test_systemg_only_features),
		cmocka_unit_test(test_no_effect_keys),
		cmocka_unit_test(test_deployment_health_maps_to_ready),
		cmocka_unit_test(test_backoff_max),
		cmocka_unit_test(test_stop_signal),
		cmocka_unit_test(test_null_means_absent),
		cmocka_unit_test(test_completed_on_always_warns),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
