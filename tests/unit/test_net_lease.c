/* Lease allocation and its file (net/lease.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"
#include "supervisor/util.h"

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static char tmpdir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sysg-lease-%d-XXXXXX", (int)getpid());
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint32_t acquire(struct lease_pool *p, const char *unit, uint32_t want)
{
	uint32_t out = 0;
	assert_int_equal(lease_acquire(p, unit, want, &out), 0);
	return out;
}

static void test_init_rejects(void **state)
{
	struct lease_pool p;

	(void)state;
	assert_int_equal(lease_pool_init(&p, "n", IP(10, 99, 0, 1), 24, NULL), -EINVAL);
	assert_int_equal(lease_pool_init(&p, "n", IP(10, 99, 0, 0), 31, NULL), -EINVAL);
	assert_int_equal(lease_pool_init(&p, "n", IP(10, 0, 0, 0), 7, NULL), -EINVAL);
	assert_int_equal(lease_pool_init(&p, "n", IP(10, 99, 0, 0), 24, NULL), 0);
	assert_int_equal(lease_gateway(&p), IP(10, 99, 0, 1));
	lease_pool_free(&p);
}

static void test_lowest_free_and_reuse(void **state)
{
	struct lease_pool p;
	uint32_t out;

	(void)state;
	assert_int_equal(lease_pool_init(&p, "n", IP(10, 99, 0, 0), 24, NULL), 0);
	assert_int_equal(acquire(&p, "a", 0), IP(10, 99, 0, 2)); /* .1 is the gateway */
	assert_int_equal(acquire(&p, "b", 0), IP(10, 99, 0, 3));
	assert_int_equal(acquire(&p, "a", 0), IP(10, 99, 0, 2)); /* same unit, same lease */
	assert_int_equal(p.n, 2);
	assert_int_equal(lease_release(&p, "a"), 0);
	assert_int_equal(lease_release(&p, "a"), -ENOENT);
	assert_int_equal(acquire(&p, "c", 0), IP(10, 99, 0, 2));
	assert_null(lease_find(&p, "a"));
	assert_int_equal(lease_find(&p, "c")->ip, 0x0a630002);
	assert_int_equal(lease_acquire(&p, "d", IP(10, 99, 0, 3), &out), -EADDRINUSE);
	lease_pool_free(&p);
}

static void test_static_and_reserved(void **state)
{
	struct lease_pool p;
	uint32_t out;

	(void)state;
	assert_int_equal(lease_pool_init(&p, "n", IP(10, 99, 1, 0), 24, NULL), 0);
	assert_int_equal(lease_reserve(&p, "db", IP(10, 99, 1, 2)), 0);
	assert_int_equal(lease_reserve(&p, "db", IP(10, 99, 1, 2)), 0); /* again: fine */
	assert_int_equal(lease_reserve(&p, "other", IP(10, 99, 1, 2)), -EADDRINUSE);
	assert_int_equal(lease_reserve(&p, "x", IP(10, 99, 1, 1)), -EINVAL);   /* gateway */
	assert_int_equal(lease_reserve(&p, "x", IP(10, 99, 1, 0)), -EINVAL);   /* network */
	assert_int_equal(lease_reserve(&p, "x", IP(10, 99, 1, 255)), -EINVAL); /* broadcast */
	assert_int_equal(lease_reserve(&p, "x", IP(10, 99, 2, 5)), -EINVAL);   /* outside */
	/* Dynamic leases go around the reservation even while db is not running. */
	assert_int_equal(acquire(&p, "api", 0), IP(10, 99, 1, 3));
	assert_int_equal(lease_acquire(&p, "web", IP(10, 99, 1, 2), &out), -EADDRINUSE);
	assert_int_equal(acquire(&p, "db", IP(10, 99, 1, 2)), IP(10, 99, 1, 2));
	assert_int_equal(lease_acquire(&p, "web", IP(10, 99, 1, 1), &out), -EINVAL);
	/* A static address that changed replaces the unit's old lease. */
	assert_int_equal(acquire(&p, "api", IP(10, 99, 1, 50)), IP(10, 99, 1, 50));
	assert_int_equal(p.n, 2);
	assert_int_equal(acquire(&p, "web", 0), IP(10, 99, 1, 3));
	lease_pool_free(&p);
}

static void test_full_subnet(void **state)
{
	struct lease_pool p;
	uint32_t out;

	(void)state;
	/* A /30 has one address besides network, gateway and broadcast. */
	assert_int_equal(lease_pool_init(&p, "n", IP(10, 99, 0, 4), 30, NULL), 0);
	assert_int_equal(acquire(&p, "a", 0), IP(10, 99, 0, 6));
	assert_int_equal(lease_acquire(&p, "b", 0, &out), -ENOSPC);
	assert_int_equal(lease_release(&p, "a"), 0);
	assert_int_equal(acquire(&p, "b", 0), IP(10, 99, 0, 6));
	lease_pool_free(&p);
}

static char *slurp(const char *path)
{
	char *buf;
	size_t len;
	assert_int_equal(read_file(path, 1 << 20, &buf, &len), 0);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_persist_and_reload(void **state)
{
	char path[128], tmp[160];
	struct lease_pool p, q;
	char *text;

	(void)state;
	snprintf(path, sizeof(path), "%s/t0.leases", tmpdir);
	assert_int_equal(lease_pool_init(&p, "t0", IP(10, 99, 0, 0), 24, path), 0);
	assert_int_equal(lease_pool_load(&p), 0); /* no file yet: empty */
	acquire(&p, "b", IP(10, 99, 0, 9));
	acquire(&p, "shop@a", 0);
	text = slurp(path);
	assert_string_equal(text, "sysg-leases 1 10.99.0.0/24\n10.99.0.2 shop@a\n10.99.0.9 b\n");
	free(text);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed into place, nothing left aside */

	assert_int_equal(lease_pool_init(&q, "t0", IP(10, 99, 0, 0), 24, path), 0);
	assert_int_equal(lease_pool_load(&q), 0);
	assert_int_equal(q.n, 2);
	assert_int_equal(lease_find(&q, "b")->ip, 0x0a630009);
	assert_int_equal(acquire(&q, "c", 0), IP(10, 99, 0, 3));
	lease_pool_free(&q);

	assert_int_equal(lease_release(&p, "b"), 0);
	text = slurp(path);
	assert_string_equal(text, "sysg-leases 1 10.99.0.0/24\n10.99.0.2 shop@a\n");
	free(text);
	lease_pool_free(&p);
}

static void test_reload_is_defensive(void **state)
{
	char path[128];
	struct lease_pool p;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.leases", tmpdir);
	/* Bad address, gateway, duplicate address, duplicate unit, unsafe unit,
	 * outside the subnet, no unit: all skipped; the two good lines kept. */
	spit(path, "sysg-leases 1 10.99.0.0/24\n"
		   "10.99.0.5 good\n"
		   "10.99.0.x bad\n"
		   "10.99.0.1 gw\n"
		   "10.99.0.5 dupaddr\n"
		   "10.99.0.6 good\n"
		   "10.99.0.7 a\"b\n"
		   "10.99.1.7 outside\n"
		   "10.99.0.8\n"
		   "10.99.0.9 fine\n");
	assert_int_equal(lease_pool_init(&p, "bad", IP(10, 99, 0, 0), 24, path), 0);
	assert_int_equal(lease_pool_load(&p), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(lease_find(&p, "good")->ip, 0x0a630005);
	assert_int_equal(lease_find(&p, "fine")->ip, 0x0a630009);
	lease_pool_free(&p);

	/* The network was redefined with another subnet: its old leases go. */
	spit(path, "sysg-leases 1 10.98.0.0/24\n10.98.0.5 old\n");
	assert_int_equal(lease_pool_init(&p, "bad", IP(10, 99, 0, 0), 24, path), 0);
	assert_int_equal(lease_pool_load(&p), 0);
	assert_int_equal(p.n, 0);
	lease_pool_free(&p);
}

static void test_save_failure_keeps_memory_consistent(void **state)
{
	char path[160];
	struct lease_pool p;
	uint32_t out;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing-dir/x.leases", tmpdir);
	assert_int_equal(lease_pool_init(&p, "x", IP(10, 99, 0, 0), 24, path), 0);
	assert_int_equal(lease_acquire(&p, "a", 0, &out), -ENOENT);
	assert_int_equal(p.n, 0); /* not leased in memory when it could not be recorded */
	lease_pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_lowest_free_and_reuse),
		cmocka_unit_test(test_static_and_reserved),
		cmocka_unit_test(test_full_subnet),
		cmocka_unit_test(test_persist_and_reload),
		cmocka_unit_test(test_reload_is_defensive),
		cmocka_unit_test(test_save_failure_keeps_memory_consistent),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
