/* Helpers shared by the config unit tests: load YAML from a string or a
 * file under tests/data/config and assert on exact diagnostics. */
#ifndef SYSG_CONFIG_TEST_H
#define SYSG_CONFIG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/internal.h"

#define UNUSED __attribute__((unused))

UNUSED static char *const test_environ[] = {
	"HOME=/home/tester", "PATH=/usr/bin:/bin", "DB_HOST=db.internal", "EMPTY=", NULL,
};

UNUSED static struct sysg_diags diags;
UNUSED static struct sysg_config *cfg;

UNUSED static void dump_diags(void)
{
	diags_print(&diags, stderr);
}

UNUSED static void reset(void)
{
	sysg_config_free(cfg);
	cfg = NULL;
	diags_free(&diags);
}

/* Loads yaml as "t.yaml" (relative to /tmp/sysg-test so paths are stable). */
UNUSED static int load_opts(const char *yaml, bool system_mode)
{
	struct sysg_load_opts opts = {.system_mode = system_mode, .environ = test_environ};
	reset();
	return sysg_config_load_buf("/tmp/sysg-test/t.yaml", yaml, strlen(yaml), &opts, &cfg, &diags);
}

UNUSED static int load(const char *yaml)
{
	return load_opts(yaml, false);
}

UNUSED static int load_data_opts(const char *name, bool system_mode)
{
	struct sysg_load_opts opts = {.system_mode = system_mode, .environ = test_environ};
	char path[512];
	reset();
	snprintf(path, sizeof(path), "%s/tests/data/config/%s", SYSG_SOURCE_DIR, name);
	return sysg_config_load(path, &opts, &cfg, &diags);
}

UNUSED static int load_data(const char *name)
{
	return load_data_opts(name, false);
}

UNUSED static const struct sysg_diag *find_diag(unsigned line, unsigned col, const char *msg)
{
	for (size_t i = 0; i < diags.n; i++)
		if (diags.v[i].line == line && diags.v[i].col == col && !strcmp(diags.v[i].msg, msg))
			return &diags.v[i];
	return NULL;
}

/* The load failed and among its errors is exactly this one. */
#define expect_error(line, col, msg)                                                       \
	do {                                                                                   \
		const struct sysg_diag *g_ = find_diag(line, col, msg);                            \
		if (!g_ || g_->sev != DIAG_ERROR) {                                                \
			fprintf(stderr, "expected %u:%u: %s\ngot:\n", line, col, msg);             \
			dump_diags();                                                              \
		}                                                                                  \
		assert_non_null(g_);                                                               \
		assert_int_equal(g_->sev, DIAG_ERROR);                                             \
		assert_null(cfg);                                                                  \
	} while (0)

/* The load failed with this error and no other. */
#define expect_only_error(yaml, line, col, msg)                                            \
	do {                                                                                   \
		int r_ = load(yaml);                                                               \
		if (diags.nerrors != 1)                                                            \
			dump_diags();                                                              \
		assert_int_equal(r_, -1);                                                          \
		assert_int_equal(diags.nerrors, 1);                                                \
		expect_error(line, col, msg);                                                      \
	} while (0)

#define expect_hint(line, col, msg, hint_)                                                 \
	do {                                                                                   \
		const struct sysg_diag *g_ = find_diag(line, col, msg);                            \
		assert_non_null(g_);                                                               \
		assert_non_null(g_->hint);                                                         \
		assert_string_equal(g_->hint, hint_);                                              \
	} while (0)

#define expect_ok(yaml)                                                                    \
	do {                                                                                   \
		int r_ = load(yaml);                                                               \
		if (r_)                                                                            \
			dump_diags();                                                              \
		assert_int_equal(r_, 0);                                                           \
		assert_non_null(cfg);                                                              \
	} while (0)

UNUSED static int teardown_all(void **state)
{
	(void)state;
	reset();
	return 0;
}

#endif
