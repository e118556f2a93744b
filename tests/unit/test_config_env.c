/* env blocks, env files and ${VAR} expansion. */
#include "config_test.h"

#define HDR "version: \"2\"\nservices:\n"

static const char *var(const struct svc_env *e, const char *key)
{
	for (size_t i = 0; i < e->nvars; i++)
		if (!strcmp(e->vars[i].key, key))
			return e->vars[i].value;
	return NULL;
}

static void test_envfile_parse(void **state UNUSED)
{
	static const char text[] = "# c\n\nexport A=1\nB = two words  # note\nC=\"q\\\"x\\ny\"\n"
				   "D='$lit \\n'\nE=a#b\nF=\nG=\"multi\nline\"\r\nH=x\r\n";
	struct sysg_diags d = {0};
	struct envfile e;

	assert_int_equal(envfile_parse("x.env", text, sizeof(text) - 1, &e, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(e.n, 8);
	assert_string_equal(e.v[0].key, "A");
	assert_string_equal(e.v[0].value, "1");
	assert_string_equal(e.v[1].key, "B");
	assert_string_equal(e.v[1].value, "two words");
	assert_string_equal(e.v[2].value, "q\"x\ny");
	assert_string_equal(e.v[3].value, "$lit \\n");
	assert_string_equal(e.v[4].value, "a#b");
	assert_string_equal(e.v[5].value, "");
	assert_string_equal(e.v[6].value, "multi\nline");
	assert_string_equal(e.v[7].key, "H");
	assert_string_equal(e.v[7].value, "x");
	envfile_free(&e);
}

static void test_envfile_errors(void **state UNUSED)
{
	static const char text[] = "GOOD=1\n1BAD=x\nNOEQ\nAFTER=\"x\" junk\nQ='open\nLAST=2\n";
	struct sysg_diags d = {0};
	struct envfile e;

	assert_int_equal(envfile_parse("bad.env", text, sizeof(text) - 1, &e, &d), -1);
	assert_int_equal(d.nerrors, 4);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 1);
	assert_string_equal(d.v[0].msg, "expected KEY=VALUE");
	assert_int_equal(d.v[1].line, 3);
	assert_int_equal(d.v[1].col, 5);
	assert_string_equal(d.v[1].msg, "expected '=' after the variable name");
	assert_int_equal(d.v[2].line, 4);
	assert_int_equal(d.v[2].col, 11);
	assert_string_equal(d.v[2].msg, "unexpected text after the closing quote");
	assert_int_equal(d.v[3].line, 5);
	assert_int_equal(d.v[3].col, 3);
	assert_string_equal(d.v[3].msg, "the single quote is not closed");
	assert_string_equal(d.v[3].file, "bad.env");
	/* what parsed is kept: GOOD and LAST */
	assert_int_equal(e.n, 2);
	assert_string_equal(e.v[1].key, "LAST");
	envfile_free(&e);
	diags_free(&d);

	assert_int_equal(envfile_parse("nul.env", "A=1\nB=\0", 7, &e, &d), -1);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 3);
	assert_string_equal(d.v[0].msg, "the file contains a NUL byte");
	envfile_free(&e);
	diags_free(&d);
}

static void test_envfile_error_cap(void **state UNUSED)
{
	struct sysg_diags d = {0};
	struct envfile e;
	char *text = malloc(200001);

	for (int i = 0; i < 100000; i++)
		memcpy(text + 2 * i, "x\n", 2);
	text[200000] = '\0';
	assert_int_equal(envfile_parse("many.env", text, 200000, &e, &d), -1);
	assert_int_equal(d.nerrors, 101);
	assert_int_equal(d.v[100].line, 101);
	assert_string_equal(d.v[100].msg, "more than 100 errors: the rest of the file was not read");
	envfile_free(&e);
	diags_free(&d);
	free(text);
}

static void test_envfile_read(void **state UNUSED)
{
	struct sysg_diags d = {0};
	struct envfile e;
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/data/config/env/app.env", SYSG_SOURCE_DIR);
	assert_int_equal(envfile_read(path, &e, &d), 0);
	assert_int_equal(e.n, 8);
	envfile_free(&e);
	assert_int_equal(envfile_read("/nonexistent/x.env", &e, &d), -2);
	assert_int_equal(d.n, 0);
	snprintf(path, sizeof(path), "%s/tests/data/config/env/bad.env", SYSG_SOURCE_DIR);
	assert_int_equal(envfile_read(path, &e, &d), -22);
	assert_int_equal(d.nerrors, 4);
	envfile_free(&e);
	diags_free(&d);
}

static void test_env_levels_merge(void **state UNUSED)
{
	const struct svc_config *web, *plain;

	if (load_data("env.yaml"))
		dump_diags();
	assert_non_null(cfg);
	web = sysg_config_find(cfg, "shop/web");
	plain = sysg_config_find(cfg, "plain");
	assert_non_null(web);
	assert_non_null(plain);
	/* files first, then vars; service over project over top */
	assert_string_equal(var(&web->env, "DB_URL"), "postgres://db:5432/app");
	assert_string_equal(var(&web->env, "SHARED"), "from-top-vars");
	assert_string_equal(var(&web->env, "TOP"), "project-wins");
	assert_string_equal(var(&web->env, "PROJ"), "postgres://db:5432/app");
	assert_string_equal(var(&web->env, "SVC"), "/home/tester/x");
	assert_string_equal(var(&web->env, "SPACED"), "value with spaces");
	assert_string_equal(web->cmd.text, "echo from-top-vars project-wins postgres://db:5432/app");
	assert_false(web->cmd.shell);
	/* the file-written vars alone, for the supervisor to apply over re-read files */
	assert_int_equal(web->env.nyaml_vars, 4);
	assert_string_equal(web->env.yaml_vars[0].key, "PROJ");
	assert_string_equal(web->env.yaml_vars[3].key, "TOP");
	assert_string_equal(web->env.yaml_vars[3].value, "project-wins");
	assert_int_equal(web->env.files.n, 1);
	assert_string_equal(web->env.files.v[0] + strlen(web->env.files.v[0]) - 19,
			    "/config/env/app.env");
	assert_int_equal(web->env.inherit, INHERIT_LIST);
	assert_int_equal(web->env.inherit_names.n, 2);
	assert_string_equal(web->env.inherit_names.v[1], "TZ");
	assert_int_equal(web->env.strip.n, 2);
	assert_string_equal(web->env.strip.v[0], "TERM");
	assert_string_equal(web->env.strip.v[1], "LC_ALL");
	assert_false(web->env.clear_session_vars);
	/* vars see env files and sysg's environment, not each other */
	assert_string_equal(var(&plain->env, "HOME"), "/srv/plain");
	assert_string_equal(var(&plain->env, "WHERE"), "/home/tester");
	assert_int_equal(plain->env.inherit, INHERIT_NONE);
	assert_true(plain->env.clear_session_vars);
	/* other values see the service's env first */
	assert_string_equal(plain->cmd.text, "echo hello\nworld");
	assert_true(plain->cmd.shell);
	/* sorted by key */
	for (size_t i = 1; i < web->env.nvars; i++)
		assert_true(strcmp(web->env.vars[i - 1].key, web->env.vars[i].key) < 0);
}

static void test_env_file_errors_positions(void **state UNUSED)
{
	char path[512];

	assert_int_equal(load_data("badenv.yaml"), -1);
	snprintf(path, sizeof(path), "%s/tests/data/config/env/bad.env", SYSG_SOURCE_DIR);
	assert_int_equal(diags.nerrors, 4);
	for (size_t i = 0; i < diags.n; i++)
		if (diags.v[i].sev == DIAG_ERROR)
			assert_string_equal(diags.v[i].file, path);
	assert_non_null(find_diag(2, 1, "expected KEY=VALUE"));
	assert_non_null(find_diag(5, 7, "the double quote is not closed"));
	/* a missing file is a warning: it is read again at each start */
	snprintf(path, sizeof(path),
		 "services.a.env.file[1]: '%s/tests/data/config/env/missing.env' cannot be read now: "
		 "No such file or directory",
		 SYSG_SOURCE_DIR);
	assert_non_null(find_diag(6, 27, path));
	assert_int_equal(find_diag(6, 27, path)->sev, DIAG_WARNING);
}

static void test_expansion_forms(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: echo ${DB_HOST} ${NOPE:-dflt} ${EMPTY:-e} ${EMPTY-x}!\n"
		      "  b:\n    command: \"echo $$HOME $HOME\"\n"
		      "  c:\n    exec: [\"${HOME}/bin/run\", \"${NOPE:-}\", \"$${HOME}\"]\n"
		      "  d:\n    command: ls\n    working_dir: ${HOME}/work\n"
		      "    max_restarts: ${N:-7}\n    restart_policy: ${POLICY:-always}\n");
	assert_string_equal(cfg->svcs[0].cmd.text, "echo db.internal dflt e !");
	assert_string_equal(cfg->svcs[1].cmd.text, "echo $HOME $HOME");
	assert_true(cfg->svcs[1].cmd.shell);
	assert_string_equal(cfg->svcs[2].cmd.argv.v[0], "/home/tester/bin/run");
	assert_string_equal(cfg->svcs[2].cmd.argv.v[1], "");
	assert_string_equal(cfg->svcs[2].cmd.argv.v[2], "${HOME}");
	assert_string_equal(cfg->svcs[3].working_dir, "/home/tester/work");
	assert_int_equal(cfg->svcs[3].max_restarts, 7);
	assert_int_equal(cfg->svcs[3].restart, RESTART_ALWAYS);
}

static void test_expansion_errors(void **state UNUSED)
{
	assert_int_equal(load(HDR "  a:\n    command: echo ${MISSING}\n    working_dir: \"${HOME\"\n"
			      "    user: ${1}\n    env: {X: \"${A:?err}\"}\n"),
			 -1);
	expect_error(4, 14, "services.a.command: ${MISSING} is not set");
	expect_hint(4, 14, "services.a.command: ${MISSING} is not set",
		    "set MISSING in env or in sysg's environment, or write ${MISSING:-default}");
	expect_error(5, 18, "services.a.working_dir: '${HOME': ${ is not closed by }");
	expect_error(6, 11, "services.a.user: '${1}' is not a variable reference sysg understands");
	expect_error(7, 14, "services.a.env.X: '${A:?err}' is not a variable reference sysg understands");
	assert_int_equal(diags.nerrors, 4);
}

static void test_no_expansion_in_keys(void **state UNUSED)
{
	assert_int_equal(load(HDR "  \"${HOME}\":\n    command: ls\n"), -1);
	expect_error(3, 3, "services.${HOME}: '${HOME}' is not a valid service name");
	/* comments are not expanded: an unset variable in one is no error */
	expect_ok(HDR "  a:\n    command: ls  # ${NOT_SET}\n");
}

static void test_env_vars_errors(void **state UNUSED)
{
	assert_int_equal(load(HDR "  a:\n    command: ls\n    env:\n      vars:\n        \"1X\": a\n"
			      "        Y:\n        Z: [1]\n      fille: x.env\n      strip: [\"a b\"]\n"
			      "      inherit_env: maybe\n"),
			 -1);
	expect_error(7, 9, "services.a.env.vars.1X: '1X' is not a valid environment variable name");
	expect_error(8, 11, "services.a.env.vars.Y: needs a value");
	expect_error(9, 12, "services.a.env.vars.Z: expected a value, not a list");
	expect_error(11, 15, "services.a.env.strip[0]: 'a b' is not a valid environment variable name");
	expect_error(12, 20, "services.a.env.inherit_env: 'maybe' is not true, false or a list");
	assert_int_equal(diags.nerrors, 5);
	/* a lowercase plain entry close to a key is taken as a variable, with a warning */
	assert_non_null(find_diag(10, 7, "services.a.env.fille: taken as the environment variable 'fille'"));
	expect_hint(10, 7, "services.a.env.fille: taken as the environment variable 'fille'",
		    "did you mean 'file'? (variables go under vars:)");
}

static void test_plain_env_entries(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: ls\n    env:\n      GREETING: hello\n      PORT: 8080\n"
		      "      DEBUG: true\n      vars: {PORT: \"9090\"}\n");
	assert_string_equal(var(&cfg->svcs[0].env, "GREETING"), "hello");
	assert_string_equal(var(&cfg->svcs[0].env, "DEBUG"), "true");
	/* vars wins over plain entries, as in systemg */
	assert_string_equal(var(&cfg->svcs[0].env, "PORT"), "9090");
}

static void test_expansion_budget(void **state UNUSED)
{
	/* 8 KiB values, referenced 200 times per line in 100 lines: 160 MiB. */
	size_t cap = 2u << 20, len = 0;
	char *s = malloc(cap);

	len += (size_t)sprintf(s, "version: \"2\"\nenv:\n  vars:\n    B: \"");
	memset(s + len, 'x', 8192);
	len += 8192;
	len += (size_t)sprintf(s + len, "\"\nservices:\n");
	for (int i = 0; i < 100; i++) {
		len += (size_t)sprintf(s + len, "  s%d:\n    command: \"", i);
		for (int j = 0; j < 120; j++)
			len += (size_t)sprintf(s + len, "${B}");
		len += (size_t)sprintf(s + len, "\"\n");
	}
	s[len] = '\0';
	assert_int_equal(load(s), -1);
	assert_int_equal(diags.nerrors, 1);
	/* 68 commands of 960 KiB fit in 64 MiB; the 69th does not */
	expect_error(143, 14, "services.s68.command: ${...} expansions in this file add up to more "
			      "than 64 MiB");
	/* one value over 1 MiB */
	len = (size_t)sprintf(s, "version: \"2\"\nenv:\n  vars:\n    B: \"");
	memset(s + len, 'x', 8192);
	len += 8192;
	len += (size_t)sprintf(s + len, "\"\nservices:\n  a:\n    command: \"");
	for (int j = 0; j < 130; j++)
		len += (size_t)sprintf(s + len, "${B}");
	len += (size_t)sprintf(s + len, "\"\n");
	assert_int_equal(load(s), -1);
	assert_int_equal(diags.nerrors, 1);
	expect_error(7, 14, "services.a.command: the value is longer than 1 MiB once ${...} are expanded");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envfile_parse),
		cmocka_unit_test(test_envfile_errors),
		cmocka_unit_test(test_envfile_error_cap),
		cmocka_unit_test(test_envfile_read),
		cmocka_unit_test(test_env_levels_merge),
		cmocka_unit_test(test_env_file_errors_positions),
		cmocka_unit_test(test_expansion_forms),
		cmocka_unit_test(test_expansion_errors),
		cmocka_unit_test(test_no_expansion_in_keys),
		cmocka_unit_test(test_env_vars_errors),
		cmocka_unit_test(test_plain_env_entries),
		cmocka_unit_test(test_expansion_budget),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
