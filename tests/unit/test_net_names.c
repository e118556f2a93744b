/* Link names, ownership labels, name rules and address formatting (net/names.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

static void test_bridge_names(void **state)
{
	char n[IFNAMSIZ];

	(void)state;
	net_bridge_name(n, "sysg0");
	assert_string_equal(n, "sg-sysg0");
	net_bridge_name(n, "abcdefghijkl"); /* 12 chars: exactly fits */
	assert_string_equal(n, "sg-abcdefghijkl");
	assert_int_equal(strlen(n), 15);
	net_bridge_name(n, "abcdefghijklm"); /* 13: hashed */
	assert_string_equal(n, "sg_4213ea06398b");
	net_bridge_name(n, "backend-network-1");
	assert_string_equal(n, "sg_1c6604957826");
	assert_int_equal(strlen(n), 15);
}

static void test_veth_names(void **state)
{
	char n[IFNAMSIZ];

	(void)state;
	net_veth_name(n, "api");
	assert_string_equal(n, "sv-api");
	net_veth_name(n, "db.v2_x-y");
	assert_string_equal(n, "sv-db.v2_x-y");
	/* '@' (project units) is hashed: it would need quoting in nft chain names. */
	net_veth_name(n, "shop@api");
	assert_string_equal(n, "sv_623e86609142");
	/* The readable and hashed forms differ in their third byte, so a unit named
	 * like a hash cannot take a hashed unit's name. */
	net_veth_name(n, "623e86609142");
	assert_string_equal(n, "sv-623e86609142");
}

static void test_ours_and_labels(void **state)
{
	char *a;

	(void)state;
	assert_true(net_link_name_ours("sg-sysg0"));
	assert_true(net_link_name_ours("sg_1c6604957826"));
	assert_true(net_link_name_ours("sv-api"));
	assert_true(net_link_name_ours("sv_623e86609142"));
	assert_false(net_link_name_ours("eth0"));
	assert_false(net_link_name_ours("svc0"));
	assert_false(net_link_name_ours("sgx"));
	a = net_bridge_alias("backend");
	assert_string_equal(a, "sysg:net=backend");
	free(a);
	a = net_veth_alias("backend", "shop@api");
	assert_string_equal(a, "sysg:net=backend:unit=shop@api");
	free(a);
}

static void test_bridge_mac(void **state)
{
	uint8_t mac[6];
	const uint8_t want[6] = {0x02, 0xe9, 0x7d, 0x53, 0x43, 0xd7};

	(void)state;
	net_bridge_mac(mac, "sysg0");
	assert_memory_equal(mac, want, 6);
	assert_int_equal(mac[0] & 0x03, 0x02); /* locally administered, unicast */
}

static void test_name_rules(void **state)
{
	(void)state;
	assert_true(net_name_valid("sysg0"));
	assert_true(net_name_valid("back_end.v2-x"));
	assert_false(net_name_valid(""));
	assert_false(net_name_valid("-x"));
	assert_false(net_name_valid("a b"));
	assert_false(net_name_valid("a/b"));
	assert_false(net_name_valid("a\"b"));
	assert_false(net_name_valid("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"));
	assert_true(net_text_safe("shop@api"));
	assert_false(net_text_safe(""));
	assert_false(net_text_safe("a\"; flush ruleset; \""));
	assert_false(net_text_safe("a\nb"));
	assert_false(net_text_safe("a}"));
}

static void test_cidr(void **state)
{
	uint32_t a;
	uint8_t p;
	char buf[32];

	(void)state;
	assert_int_equal(net_parse_cidr("10.99.0.0/24", &a, &p), 0);
	assert_int_equal(ntohl(a), 0x0a630000);
	assert_int_equal(p, 24);
	assert_string_equal(net_fmt_cidr(a, p, buf, sizeof(buf)), "10.99.0.0/24");
	assert_int_equal(net_parse_cidr("0.0.0.0/0", &a, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(net_parse_cidr("10.99.0.1/24", &a, &p), -EINVAL); /* host bits */
	assert_int_equal(net_parse_cidr("10.99.0.0/33", &a, &p), -EINVAL);
	assert_int_equal(net_parse_cidr("10.99.0.0/", &a, &p), -EINVAL);
	assert_int_equal(net_parse_cidr("10.99.0.0/-1", &a, &p), -EINVAL);
	assert_int_equal(net_parse_cidr("10.99.0.0", &a, &p), -EINVAL);
	assert_int_equal(net_parse_cidr("10.99.0/24", &a, &p), -EINVAL);
	assert_int_equal(net_parse_cidr("10.99.0.0/2x", &a, &p), -EINVAL);
	assert_string_equal(net_fmt_addr(htonl(0xc0000201), buf, sizeof(buf)), "192.0.2.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bridge_names), cmocka_unit_test(test_veth_names),
		cmocka_unit_test(test_ours_and_labels), cmocka_unit_test(test_bridge_mac),
		cmocka_unit_test(test_name_rules), cmocka_unit_test(test_cidr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
