/* The network model, the nftables ruleset it produces, and /etc/hosts
 * rendering (net/model.c, net/nft.c, net/hosts.c): pure, exact output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "supervisor/util.h"

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static struct svc_config svc(const char *name, const char *unit)
{
	return (struct svc_config){.name = (char *)name, .unit = (char *)unit,
				   .net = {.mode = NET_BRIDGE}};
}

static void add_net(struct net_model *m, const char *name, uint32_t addr, uint8_t prefix)
{
	char *why = NULL;
	int err = net_model_add_network(m, name, addr, prefix, NULL, &why);
	if (err)
		fail_msg("%s", why);
}

static void add_ep(struct net_model *m, const struct svc_config *s, size_t net, uint32_t addr)
{
	char *why = NULL;
	int err = net_model_add_endpoint(m, s, net, addr, &why);
	if (err)
		fail_msg("%s", why);
}

/* ---- model ----------------------------------------------------------------- */

static void test_model_checks(void **state)
{
	struct net_model m = {0};
	struct svc_config a = svc("a", "a"), b = svc("b", "b"), bad = svc("x y", "x y");
	char *why = NULL;
	size_t idx;

	(void)state;
	assert_int_equal(net_model_add_network(&m, "t0", IP(10, 99, 0, 0), 24, &idx, NULL), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(net_model_add_network(&m, "t0", IP(10, 98, 0, 0), 24, NULL, &why), -EEXIST);
	assert_string_equal(why, "network t0: exists");
	free(why);
	assert_int_equal(net_model_add_network(&m, "t1", IP(10, 98, 0, 1), 24, NULL, &why), -EINVAL);
	assert_string_equal(why, "network t1: 10.98.0.1/24 is not a network address with a prefix "
				 "of 8 to 30");
	free(why);
	assert_int_equal(net_model_add_network(&m, "t1", IP(10, 98, 0, 0), 31, NULL, NULL), -EINVAL);
	assert_int_equal(net_model_add_network(&m, "a/b", IP(10, 98, 0, 0), 24, NULL, NULL), -EINVAL);

	add_ep(&m, &a, 0, IP(10, 99, 0, 2));
	assert_int_equal(net_model_add_endpoint(&m, &a, 0, IP(10, 99, 0, 3), NULL), -EEXIST);
	assert_int_equal(net_model_add_endpoint(&m, &b, 0, IP(10, 99, 0, 2), &why), -EADDRINUSE);
	assert_string_equal(why, "service b: address is in use by a");
	free(why);
	assert_int_equal(net_model_add_endpoint(&m, &b, 0, IP(10, 99, 0, 1), NULL), -EINVAL);
	assert_int_equal(net_model_add_endpoint(&m, &b, 0, IP(10, 99, 1, 2), NULL), -EINVAL);
	assert_int_equal(net_model_add_endpoint(&m, &bad, 0, IP(10, 99, 0, 9), NULL), -EINVAL);
	assert_int_equal(net_model_add_endpoint(&m, &b, 3, IP(10, 99, 0, 9), NULL), -ENOENT);

	assert_int_equal(net_model_remove_network(&m, "t0", &why), -EBUSY);
	assert_string_equal(why, "network t0 is in use by a");
	free(why);
	assert_int_equal(net_model_remove_endpoint(&m, "a"), 0);
	assert_int_equal(net_model_remove_endpoint(&m, "a"), -ENOENT);
	assert_int_equal(net_model_remove_network(&m, "t0", NULL), 0);
	assert_int_equal(net_model_remove_network(&m, "t0", NULL), -ENOENT);
	net_model_free(&m);
}

static void test_model_resolve_and_copies(void **state)
{
	struct net_model m = {0};
	struct svc_config a = svc("shop/api", "shop@api"), db = svc("db", "db");
	char *allow[] = {xstrdup("db"), NULL};

	(void)state;
	a.net.allow_from_set = true;
	a.net.allow_from = (struct strv){.v = allow, .n = 1};
	db.net.hostname = "database";
	add_net(&m, "t0", IP(10, 99, 0, 0), 24);
	add_ep(&m, &a, 0, IP(10, 99, 0, 2));
	add_ep(&m, &db, 0, IP(10, 99, 0, 3));
	/* The model owns copies: the config may go away. */
	free(allow[0]);
	allow[0] = NULL;
	assert_string_equal(m.eps[0].allow_from.v[0], "db");
	assert_string_equal(m.eps[0].hostname, "api");
	assert_string_equal(m.eps[0].ifname, "sv_623e86609142");
	assert_ptr_equal(net_model_resolve(&m, "shop/api"), &m.eps[0]);
	assert_ptr_equal(net_model_resolve(&m, "api"), &m.eps[0]);
	assert_ptr_equal(net_model_resolve(&m, "api.sysg.local"), &m.eps[0]);
	assert_ptr_equal(net_model_resolve(&m, "db"), &m.eps[1]);
	assert_ptr_equal(net_model_resolve(&m, "database.sysg.local"), &m.eps[1]);
	assert_null(net_model_resolve(&m, "db.sysg.local")); /* db is published as "database" */
	assert_null(net_model_resolve(&m, ".sysg.local"));
	assert_null(net_model_resolve(&m, "apix.sysg.local"));
	assert_ptr_equal(net_model_find_endpoint(&m, "shop@api"), &m.eps[0]);
	assert_null(net_model_find_endpoint(&m, "shop/api"));
	net_model_free(&m);
}

static void test_config_subnet(void **state)
{
	struct net_def nets[] = {{.name = "backend", .addr = IP(10, 99, 1, 0), .prefix = 24},
				 {.name = "sysg0", .addr = IP(172, 30, 0, 0), .prefix = 16}};
	struct sysg_config cfg = {.nets = nets, .nnets = 1};
	struct svc_config s = svc("a", "a");
	uint32_t addr;
	uint8_t prefix;

	(void)state;
	assert_int_equal(net_config_subnet(&cfg, "backend", &addr, &prefix), 0);
	assert_int_equal(addr, IP(10, 99, 1, 0));
	assert_int_equal(prefix, 24);
	assert_int_equal(net_config_subnet(&cfg, "sysg0", &addr, &prefix), 0); /* the default */
	assert_int_equal(addr, IP(10, 99, 0, 0));
	assert_int_equal(prefix, 24);
	assert_int_equal(net_config_subnet(&cfg, "nope", &addr, &prefix), -ENOENT);
	cfg.nnets = 2; /* a file may redefine sysg0 */
	assert_int_equal(net_config_subnet(&cfg, "sysg0", &addr, &prefix), 0);
	assert_int_equal(addr, IP(172, 30, 0, 0));
	assert_int_equal(prefix, 16);
	assert_string_equal(net_svc_network(&s), "sysg0");
	s.net.network = "backend";
	assert_string_equal(net_svc_network(&s), "backend");
}

/* ---- nftables ------------------------------------------------------------- */

/* Network t0 10.99.0.0/24 with a (ports, allow_from [b]), b (egress to a:80,
 * any host on 443 and 192.168.0.0/16 any port), c (egress to a service that
 * is not running and to c itself); network t1 10.99.1.0/24 with d. */
static void build_model(struct net_model *m, struct port_def *ports, struct egress_def *eb,
			struct egress_def *ec, char **allow)
{
	struct svc_config a = svc("a", "a"), b = svc("b", "b"), c = svc("c", "c"),
			  d = svc("d", "d");

	ports[0] = (struct port_def){.host_port = 8080, .svc_port = 80, .proto = IPPROTO_TCP};
	ports[1] = (struct port_def){.host_ip = IP(127, 0, 0, 1), .host_port = 5353,
				     .svc_port = 53, .proto = IPPROTO_UDP};
	a.net.ports = ports;
	a.net.nports = 2;
	a.net.allow_from_set = true;
	a.net.allow_from = (struct strv){.v = allow, .n = 2};
	eb[0] = (struct egress_def){.host = "a.sysg.local", .port = 80};
	eb[1] = (struct egress_def){.addr = 0, .prefix = 0, .port = 443};
	eb[2] = (struct egress_def){.addr = IP(192, 168, 0, 0), .prefix = 16, .port = 0};
	b.net.egress_set = true;
	b.net.egress = eb;
	b.net.negress = 3;
	ec[0] = (struct egress_def){.host = "gone", .port = 5432};
	ec[1] = (struct egress_def){.addr = IP(10, 99, 0, 2), .prefix = 32, .port = 0};
	c.net.egress_set = true;
	c.net.egress = ec;
	c.net.negress = 2;
	add_net(m, "t0", IP(10, 99, 0, 0), 24);
	add_net(m, "t1", IP(10, 99, 1, 0), 24);
	add_ep(m, &a, 0, IP(10, 99, 0, 2));
	add_ep(m, &b, 0, IP(10, 99, 0, 3));
	add_ep(m, &c, 0, IP(10, 99, 0, 4));
	add_ep(m, &d, 1, IP(10, 99, 1, 2));
}

static const char expected_ruleset[] =
	"table inet sysg\n"
	"delete table inet sysg\n"
	"table bridge sysg\n"
	"delete table bridge sysg\n"
	"table inet sysg {\n"
	"\tchain prerouting {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tfib daddr type local jump ports\n"
	"\t}\n"
	"\tchain output_nat {\n"
	"\t\ttype nat hook output priority -100; policy accept;\n"
	"\t\tfib daddr type local jump ports\n"
	"\t}\n"
	"\tchain ports {\n"
	"\t\tmeta nfproto ipv4 tcp dport 8080 dnat ip to 10.99.0.2:80\n"
	"\t\tip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.99.0.2:53\n"
	"\t}\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\toifname \"sg-t0\" ip saddr 127.0.0.0/8 masquerade\n"
	"\t\tip saddr 10.99.0.0/24 oifname != \"sg-t0\" masquerade\n"
	"\t\toifname \"sg-t1\" ip saddr 127.0.0.0/8 masquerade\n"
	"\t\tip saddr 10.99.1.0/24 oifname != \"sg-t1\" masquerade\n"
	"\t}\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname \"sg-t0\" ip saddr 10.99.0.3 jump egress_sv-b\n"
	"\t\tiifname \"sg-t0\" ip saddr 10.99.0.4 jump egress_sv-c\n"
	"\t\toifname \"sg-t0\" ip daddr 10.99.0.2 jump ingress_sv-a\n"
	"\t\toifname \"sg-t0\" iifname != \"sg-t0\" ct status & dnat == 0 drop\n"
	"\t\toifname \"sg-t1\" iifname != \"sg-t1\" ct status & dnat == 0 drop\n"
	"\t}\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname \"sg-t0\" ip saddr 10.99.0.3 jump egress_sv-b\n"
	"\t\tiifname \"sg-t0\" ip saddr 10.99.0.4 jump egress_sv-c\n"
	"\t}\n"
	"\tchain output {\n"
	"\t\ttype filter hook output priority filter; policy accept;\n"
	"\t\toifname \"sg-t0\" icmp type redirect drop\n"
	"\t\toifname \"sg-t1\" icmp type redirect drop\n"
	"\t}\n"
	"\tchain egress_sv-b {\n"
	"\t\tip daddr 10.99.0.2 meta l4proto { tcp, udp } th dport 80 return\n"
	"\t\tmeta l4proto { tcp, udp } th dport 443 return\n"
	"\t\tip daddr 192.168.0.0/16 return\n"
	"\t\tdrop\n"
	"\t}\n"
	"\tchain egress_sv-c {\n"
	"\t\tip daddr 10.99.0.2 return\n"
	"\t\tdrop\n"
	"\t}\n"
	"\tchain ingress_sv-a {\n"
	"\t\tip saddr { 10.99.0.3, 10.99.1.2 } return\n"
	"\t\tiifname != { \"sg-t0\", \"sg-t1\" } ct status dnat return\n"
	"\t\tdrop\n"
	"\t}\n"
	"}\n"
	"table bridge sysg {\n"
	"\tchain prerouting {\n"
	"\t\ttype filter hook prerouting priority filter; policy accept;\n"
	"\t\tiifname \"sv-a\" arp saddr ip 10.99.0.2 accept\n"
	"\t\tiifname \"sv-a\" ip saddr 10.99.0.2 accept\n"
	"\t\tiifname \"sv-b\" arp saddr ip 10.99.0.3 accept\n"
	"\t\tiifname \"sv-b\" ip saddr 10.99.0.3 accept\n"
	"\t\tiifname \"sv-c\" arp saddr ip 10.99.0.4 accept\n"
	"\t\tiifname \"sv-c\" ip saddr 10.99.0.4 accept\n"
	"\t\tiifname \"sv-d\" arp saddr ip 10.99.1.2 accept\n"
	"\t\tiifname \"sv-d\" ip saddr 10.99.1.2 accept\n"
	"\t\tiifname \"sv-*\" drop\n"
	"\t\tiifname \"sv_*\" drop\n"
	"\t}\n"
	"}\n";

static void test_ruleset_exact(void **state)
{
	struct net_model m = {0};
	struct port_def ports[2];
	struct egress_def eb[3], ec[2];
	char *allow[] = {"b", "d", NULL};
	struct sbuf out = {0};

	(void)state;
	build_model(&m, ports, eb, ec, allow);
	assert_int_equal(nft_ruleset_build(&m, &out, NULL), 0);
	assert_string_equal(out.s, expected_ruleset);
	sbuf_free(&out);
	net_model_free(&m);
}

static void test_ruleset_empty_model(void **state)
{
	struct net_model m = {0};
	struct sbuf out = {0};

	(void)state;
	assert_int_equal(nft_ruleset_build(&m, &out, NULL), 0);
	/* Still a full replace: the chains exist, with nothing in them. */
	assert_non_null(strstr(out.s, "delete table inet sysg\n"));
	assert_non_null(strstr(out.s, "\tchain ports {\n\t}\n"));
	assert_non_null(strstr(out.s, "\t\tiifname \"sv-*\" drop\n"));
	sbuf_free(&out);
}

static void test_allow_from_nobody(void **state)
{
	struct net_model m = {0};
	struct svc_config a = svc("a", "a");
	struct sbuf out = {0};

	(void)state;
	a.net.allow_from_set = true; /* an empty list: only published ports get in */
	add_net(&m, "t0", IP(10, 99, 0, 0), 24);
	add_ep(&m, &a, 0, IP(10, 99, 0, 2));
	assert_int_equal(nft_ruleset_build(&m, &out, NULL), 0);
	assert_non_null(strstr(out.s, "\tchain ingress_sv-a {\n"
				      "\t\tiifname != { \"sg-t0\" } ct status dnat return\n"
				      "\t\tdrop\n"
				      "\t}\n"));
	sbuf_free(&out);
	net_model_free(&m);
}

static void test_port_clashes(void **state)
{
	struct net_model m = {0};
	struct svc_config a = svc("a", "a"), b = svc("b", "b");
	struct port_def pa = {.host_port = 8080, .svc_port = 80, .proto = IPPROTO_TCP};
	struct port_def pb = {.host_ip = IP(192, 0, 2, 1), .host_port = 8080, .svc_port = 81,
			      .proto = IPPROTO_TCP};
	struct sbuf out = {0};
	char *why = NULL;

	(void)state;
	a.net.ports = &pa;
	a.net.nports = 1;
	b.net.ports = &pb;
	b.net.nports = 1;
	add_net(&m, "t0", IP(10, 99, 0, 0), 24);
	add_ep(&m, &a, 0, IP(10, 99, 0, 2));
	add_ep(&m, &b, 0, IP(10, 99, 0, 3));
	/* 0.0.0.0:8080 covers 192.0.2.1:8080. */
	assert_int_equal(nft_ruleset_build(&m, &out, &why), -EADDRINUSE);
	assert_string_equal(why, "host port 8080/tcp is published by both a and b");
	free(why);
	/* Another protocol on the same port is no clash. */
	m.eps[1].ports[0].proto = IPPROTO_UDP;
	sbuf_reset(&out);
	assert_int_equal(nft_ruleset_build(&m, &out, NULL), 0);
	m.eps[1].ports[0].proto = 132; /* SCTP: not supported */
	sbuf_reset(&out);
	assert_int_equal(nft_ruleset_build(&m, &out, NULL), -EINVAL);
	sbuf_free(&out);
	net_model_free(&m);
}

static void test_unsafe_link_name_refused(void **state)
{
	struct net_model m = {0};
	struct sbuf out = {0};

	(void)state;
	add_net(&m, "t0", IP(10, 99, 0, 0), 24);
	/* Names are derived and checked long before; this is the last line. */
	strcpy(m.nets[0].ifname, "a\" drop");
	assert_int_equal(nft_ruleset_build(&m, &out, NULL), -EINVAL);
	assert_int_equal(out.len, 0);
	sbuf_free(&out);
	net_model_free(&m);
}

/* ---- /etc/hosts ------------------------------------------------------------ */

static void test_hosts_render(void **state)
{
	struct net_model m = {0};
	struct svc_config web = svc("web", "web"), api = svc("shop/api", "shop@api"),
			  db = svc("db", "db"), other = svc("other", "other");
	char *h;

	(void)state;
	db.net.hostname = "database";
	add_net(&m, "t0", IP(10, 99, 0, 0), 24);
	add_net(&m, "t1", IP(10, 99, 1, 0), 24);
	add_ep(&m, &web, 0, IP(10, 99, 0, 10));
	add_ep(&m, &api, 0, IP(10, 99, 0, 9));
	add_ep(&m, &db, 0, IP(10, 99, 0, 200));
	add_ep(&m, &other, 1, IP(10, 99, 1, 2));
	h = hosts_render(&m, "web");
	/* Ordered by address (numerically: .9 before .10 before .200); only t0. */
	assert_string_equal(h, "# generated by sysg for web on network t0; rewritten as services "
			       "come and go\n"
			       "127.0.0.1\tlocalhost\n"
			       "::1\tlocalhost ip6-localhost ip6-loopback\n"
			       "10.99.0.9\tapi api.sysg.local\n"
			       "10.99.0.10\tweb web.sysg.local\n"
			       "10.99.0.200\tdatabase database.sysg.local\n");
	free(h);
	h = hosts_render(&m, "other");
	assert_string_equal(h, "# generated by sysg for other on network t1; rewritten as services "
			       "come and go\n"
			       "127.0.0.1\tlocalhost\n"
			       "::1\tlocalhost ip6-localhost ip6-loopback\n"
			       "10.99.1.2\tother other.sysg.local\n");
	free(h);
	assert_null(hosts_render(&m, "nobody"));
	net_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_checks),
		cmocka_unit_test(test_model_resolve_and_copies),
		cmocka_unit_test(test_config_subnet),
		cmocka_unit_test(test_ruleset_exact),
		cmocka_unit_test(test_ruleset_empty_model),
		cmocka_unit_test(test_allow_from_nobody),
		cmocka_unit_test(test_port_clashes),
		cmocka_unit_test(test_unsafe_link_name_refused),
		cmocka_unit_test(test_hosts_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
