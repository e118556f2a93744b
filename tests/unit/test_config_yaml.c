/* Reading YAML: positions, duplicates, and hostile input refused fast. */
#include "config_test.h"

#include <time.h>

/* Time bounds are for optimized builds; sanitizers slow everything down. */
#ifdef __SANITIZE_ADDRESS__
#define SLOWDOWN 5.0
#else
#define SLOWDOWN 1.0
#endif

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads a generated document; it must fail within 1 s with this error. */
static void expect_refused(const char *yaml, size_t len, unsigned line, unsigned col,
			   const char *msg)
{
	struct sysg_load_opts opts = {.environ = test_environ};
	double t0 = now_s();
	int r;

	reset();
	r = sysg_config_load_buf("/tmp/sysg-test/t.yaml", yaml, len, &opts, &cfg, &diags);
	if (now_s() - t0 > 1.0 * SLOWDOWN)
		fail_msg("took %.2f s", now_s() - t0);
	assert_int_equal(r, -1);
	expect_error(line, col, msg);
}

static void test_empty_file(void **state UNUSED)
{
	expect_only_error("", 0, 0, "the file is empty");
	expect_only_error("# just a comment\n", 0, 0, "the file is empty");
	expect_only_error("---\n", 0, 0, "the document is empty");
}

static void test_root_not_mapping(void **state UNUSED)
{
	expect_only_error("- a\n- b\n", 1, 1, "the top level must be a mapping (key: value), not a list");
	expect_only_error("hello\n", 1, 1, "the top level must be a mapping (key: value), not a string");
}

static void test_multiple_documents(void **state UNUSED)
{
	expect_only_error("version: \"2\"\nservices: {}\n---\nversion: \"2\"\n", 3, 1,
			  "the file holds more than one YAML document");
}

static void test_syntax_error_position(void **state UNUSED)
{
	expect_only_error("version: \"2\"\nservices:\n  a: [1, 2\n", 4, 1,
			  "YAML syntax error: did not find expected ',' or ']'");
	expect_hint(4, 1, "YAML syntax error: did not find expected ',' or ']'",
		    "while parsing a flow sequence at line 3, column 6");
}

static void test_duplicate_keys(void **state UNUSED)
{
	int r = load("version: \"2\"\nservices:\n  a:\n    command: ls\n    backoff: 1s\n"
		     "    backoff: 2s\n  a:\n    command: ls\n");
	assert_int_equal(r, -1);
	assert_int_equal(diags.nerrors, 2);
	expect_error(6, 5, "services.a.backoff: duplicate key (first at line 5, column 5)");
	expect_error(7, 3, "services.a: duplicate key (first at line 3, column 3)");
}

static void test_nul_in_string(void **state UNUSED)
{
	expect_only_error("version: \"2\"\nservices:\n  a:\n    command: \"ls\\0-l\"\n", 4, 14,
			  "services.a.command: the string contains a NUL byte");
	/* A raw NUL byte in the file. */
	expect_refused("version: \"2\"\n\0", 14, 2, 1, "the file contains a NUL byte");
}

static void test_invalid_utf8(void **state UNUSED)
{
	expect_refused("version: \"2\"\nx: \"\xff\xfe\"\n", 18, 2, 5, "the file is not valid UTF-8");
}

static void test_self_alias(void **state UNUSED)
{
	/* libyaml 0.2.5 accepts this; a tree builder following it would loop. */
	expect_only_error("version: \"2\"\na: &a [1, *a]\n", 2, 11,
			  "a[1]: the alias refers to its own anchor (a recursive alias)");
	expect_only_error("version: \"2\"\na: &a {b: *a}\n", 2, 11,
			  "a.b: the alias refers to its own anchor (a recursive alias)");
	expect_only_error("version: \"2\"\na: *nope\n", 2, 4,
			  "a: the alias refers to an unknown anchor");
}

static void test_aliases_work(void **state UNUSED)
{
	expect_ok("version: \"2\"\nenv:\n  vars: &common {A: \"1\"}\nservices:\n"
		  "  a: &svc\n    command: ls\n    env: {vars: *common}\n  b: *svc\n");
	assert_int_equal(cfg->nsvcs, 2);
	assert_string_equal(cfg->svcs[1].name, "b");
	assert_string_equal(cfg->svcs[1].cmd.argv.v[0], "ls");
}

static void test_merge_key_refused(void **state UNUSED)
{
	assert_int_equal(load("version: \"2\"\nservices:\n  a:\n    command: ls\n    <<: {user: x}\n"),
			 -1);
	assert_int_equal(diags.nerrors, 1);
	expect_error(5, 5, "services.a: YAML merge keys (<<) are not supported");
}

static void test_alias_bomb(void **state UNUSED)
{
	/* Nine levels of ten aliases: 10^9 nodes once expanded. */
	struct cbuf {
		char s[4096];
		size_t n;
	} b = {{0}, 0};
	b.n += (size_t)sprintf(b.s + b.n, "version: \"2\"\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i <= 9; i++)
		b.n += (size_t)sprintf(b.s + b.n, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
						  "*a%d, *a%d, *a%d]\n",
				       i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
				       i - 1, i - 1);
	/* a0..a4 hold 123k nodes; a5's eighth alias of 111111 nodes crosses 10^6. */
	expect_refused(b.s, b.n, 7, 45,
		       "a5[7]: the document has more than 1000000 nodes once aliases are expanded");
}

static void test_deep_nesting(void **state UNUSED)
{
	size_t n = 1u << 20;
	char *s = malloc(n + 32);
	size_t len = (size_t)sprintf(s, "version: \"2\"\nx: ");

	memset(s + len, '[', n);
	len += n;
	expect_refused(s, len, 2, 67, "x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
				      "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
				      "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
				      "[0][0][0]: nesting deeper than 64 levels");
	free(s);
	/* 64 levels are fine (and then the value is simply the wrong type). */
	s = malloc(256);
	len = (size_t)sprintf(s, "version: \"2\"\nservices: {}\nx: ");
	memset(s + len, '[', 63);
	memset(s + len + 63, ']', 63);
	len += 126;
	s[len] = '\n';
	expect_refused(s, len + 1, 3, 1, "unknown key 'x'");
	free(s);
}

static void test_too_big(void **state UNUSED)
{
	size_t n = SYSG_MAX_FILE_BYTES + 1;
	char *s = malloc(n);
	memset(s, ' ', n);
	expect_refused(s, n, 0, 0, "the file is larger than 8 MiB");
	free(s);
}

static void test_big_flat_file_is_fast(void **state UNUSED)
{
	/* Just under 8 MiB of services with many errors: still well under a second. */
	size_t cap = SYSG_MAX_FILE_BYTES, len = 0;
	char *s = malloc(cap);
	struct sysg_load_opts opts = {.environ = test_environ};
	double t0;
	int i = 0;

	len += (size_t)sprintf(s, "version: \"2\"\nservices:\n");
	while (len + 80 < cap)
		len += (size_t)sprintf(s + len, "  service%d: {command: /usr/bin/true --with-args, "
						"depends_on: [s%d], backoff: qqqqqqqq}\n",
				       i, i + 1), i++;
	reset();
	t0 = now_s();
	assert_int_equal(sysg_config_load_buf("big.yaml", s, len, &opts, &cfg, &diags), -1);
	if (now_s() - t0 > 2.0 * SLOWDOWN)
		fail_msg("took %.2f s", now_s() - t0);
	assert_true(diags.nerrors > 100);
	assert_non_null(strstr(diags.v[diags.n - 1].msg, " more errors and 0 more warnings not shown"));
	assert_true(diags.v[diags.n - 1].line > 80000);
	free(s);
}

static void test_tags(void **state UNUSED)
{
	expect_ok("version: !!str 2\nservices:\n  a:\n    command: !!str ls\n");
	expect_only_error("version: \"2\"\nservices:\n  a:\n    command: !custom ls\n", 4, 14,
			  "services.a.command: unsupported YAML tag");
}

static void test_non_string_key(void **state UNUSED)
{
	expect_only_error("version: \"2\"\n? [a, b]\n: c\nservices: {}\n", 2, 3,
			  "a mapping key must be a string, not a collection");
}

static void test_positions_are_one_based(void **state UNUSED)
{
	expect_ok("version: \"2\"\nservices:\n  api:\n    command: ls\n");
	assert_int_equal(cfg->svcs[0].line, 3);
	assert_int_equal(cfg->svcs[0].col, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_root_not_mapping),
		cmocka_unit_test(test_multiple_documents),
		cmocka_unit_test(test_syntax_error_position),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_nul_in_string),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_self_alias),
		cmocka_unit_test(test_aliases_work),
		cmocka_unit_test(test_merge_key_refused),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_big_flat_file_is_fast),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_non_string_key),
		cmocka_unit_test(test_positions_are_one_based),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
