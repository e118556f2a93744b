/* sysg's nftables rules: `table inet sysg` (NAT, published ports, policy)
 * and `table bridge sysg` (anti-spoofing on service ports).
 *
 * The ruleset is a pure function of the model, written as nft command text
 * and committed by libnftables as one transaction that replaces both tables
 * and nothing else. Every string in the text is a link name or chain name we
 * derived ourselves and re-checked with net_text_safe(); every address and
 * number is formatted here. Nothing from the config reaches the text verbatim.
 *
 * Why the rules look like this (docs/networking.md has the long form):
 *   - service ports are isolated on the bridge and the bridge proxy-ARPs the
 *     subnet, so even same-network traffic is routed and seen by `forward`;
 *   - `forward` and `input` run a service's egress chain on what it sends and
 *     the destination's ingress chain on what reaches it; ingress admits the
 *     allow_from services and anything from outside sysg's networks that came
 *     through a published port (ct status dnat);
 *   - traffic into a network from any other interface must be a published
 *     port or a reply; networks do not reach each other directly;
 *   - published ports are DNAT'd for every local address (fib daddr type
 *     local) in prerouting and, for the host's own clients, in output;
 *     127.0.0.1 works because the bridge has route_localnet and such traffic
 *     is masqueraded;
 *   - the host never sends ICMP redirects into a network (it routes between
 *     ports of the same bridge on purpose).
 * nftables 1.0.6 (Debian 12) quirks this file works around: a statement
 * directly followed by '}' on one line is a syntax error (so every statement
 * ends its line); chain names cannot be quoted (so they are built from our
 * link names); `ct status != dnat` compares the whole value (so the negation
 * is written `ct status & dnat == 0`); there is no `destroy table` (so
 * "add, delete, define" it is).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"
#include "supervisor/util.h"

static const char *proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

static int check_names(const struct net_model *m, char **why)
{
	for (size_t i = 0; i < m->nnets; i++) {
		if (!net_text_safe(m->nets[i].ifname)) {
			net_set_why(why, xasprintf("network %s: unsafe link name", m->nets[i].name));
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		if (!net_text_safe(ep->ifname) || ep->net >= m->nnets) {
			net_set_why(why, xasprintf("service %s: unsafe link name or no network",
					       ep->name));
			return -EINVAL;
		}
		for (size_t p = 0; p < ep->nports; p++) {
			if (!proto_name(ep->ports[p].proto) || !ep->ports[p].host_port ||
			    !ep->ports[p].svc_port) {
				net_set_why(why, xasprintf("service %s: port %s: bad protocol or port",
						       ep->name, ep->ports[p].spec ? ep->ports[p].spec : "?"));
				return -EINVAL;
			}
		}
	}
	return 0;
}

static bool ports_clash(const struct port_def *a, const struct port_def *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (a->host_ip == b->host_ip || !a->host_ip || !b->host_ip);
}

/* Two services publishing the same host port would race for it in the
 * ruleset (first rule wins, silently); refuse instead. */
static int check_port_clashes(const struct net_model *m, char **why)
{
	for (size_t i = 0; i < m->neps; i++) {
		for (size_t p = 0; p < m->eps[i].nports; p++) {
			const struct port_def *a = &m->eps[i].ports[p];
			for (size_t j = i; j < m->neps; j++) {
				for (size_t q = (j == i ? p + 1 : 0); q < m->eps[j].nports; q++) {
					if (!ports_clash(a, &m->eps[j].ports[q]))
						continue;
					net_set_why(why, xasprintf("host port %u/%s is published by both %s "
							       "and %s", a->host_port,
							       proto_name(a->proto), m->eps[i].name,
							       m->eps[j].name));
					return -EADDRINUSE;
				}
			}
		}
	}
	return 0;
}

static const char *ep_bridge(const struct net_model *m, const struct net_endpoint *ep)
{
	return m->nets[ep->net].ifname;
}

static void emit_bridge_set(const struct net_model *m, struct sbuf *b)
{
	sbuf_adds(b, "{ ");
	for (size_t i = 0; i < m->nnets; i++)
		sbuf_addf(b, "%s\"%s\"", i ? ", " : "", m->nets[i].ifname);
	sbuf_adds(b, " }");
}

static void emit_nat(const struct net_model *m, struct sbuf *b)
{
	char a[20], c[32];

	sbuf_adds(b, "\tchain prerouting {\n"
		     "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		     "\t\tfib daddr type local jump ports\n"
		     "\t}\n"
		     "\tchain output_nat {\n"
		     "\t\ttype nat hook output priority -100; policy accept;\n"
		     "\t\tfib daddr type local jump ports\n"
		     "\t}\n"
		     "\tchain ports {\n");
	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		for (size_t p = 0; p < ep->nports; p++) {
			const struct port_def *pd = &ep->ports[p];
			if (pd->host_ip)
				sbuf_addf(b, "\t\tip daddr %s", net_fmt_addr(pd->host_ip, a, sizeof(a)));
			else
				sbuf_adds(b, "\t\tmeta nfproto ipv4");
			sbuf_addf(b, " %s dport %u dnat ip to %s:%u\n", proto_name(pd->proto),
				  pd->host_port, net_fmt_addr(ep->addr, a, sizeof(a)), pd->svc_port);
		}
	}
	sbuf_adds(b, "\t}\n"
		     "\tchain postrouting {\n"
		     "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < m->nnets; i++) {
		const struct net_network *n = &m->nets[i];
		sbuf_addf(b, "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n", n->ifname);
		sbuf_addf(b, "\t\tip saddr %s oifname != \"%s\" masquerade\n",
			  net_fmt_cidr(n->addr, n->prefix, c, sizeof(c)), n->ifname);
	}
	sbuf_adds(b, "\t}\n");
}

static void emit_egress_jumps(const struct net_model *m, struct sbuf *b)
{
	char a[20];

	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		if (ep->egress_set)
			sbuf_addf(b, "\t\tiifname \"%s\" ip saddr %s jump egress_%s\n",
				  ep_bridge(m, ep), net_fmt_addr(ep->addr, a, sizeof(a)), ep->ifname);
	}
}

static void emit_filter(const struct net_model *m, struct sbuf *b)
{
	char a[20];

	sbuf_adds(b, "\tchain forward {\n"
		     "\t\ttype filter hook forward priority filter; policy accept;\n"
		     "\t\tct state established,related accept\n");
	emit_egress_jumps(m, b);
	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		if (ep->allow_from_set)
			sbuf_addf(b, "\t\toifname \"%s\" ip daddr %s jump ingress_%s\n",
				  ep_bridge(m, ep), net_fmt_addr(ep->addr, a, sizeof(a)), ep->ifname);
	}
	for (size_t i = 0; i < m->nnets; i++)
		sbuf_addf(b, "\t\toifname \"%s\" iifname != \"%s\" ct status & dnat == 0 drop\n",
			  m->nets[i].ifname, m->nets[i].ifname);
	sbuf_adds(b, "\t}\n"
		     "\tchain input {\n"
		     "\t\ttype filter hook input priority filter; policy accept;\n"
		     "\t\tct state established,related accept\n");
	emit_egress_jumps(m, b);
	sbuf_adds(b, "\t}\n"
		     "\tchain output {\n"
		     "\t\ttype filter hook output priority filter; policy accept;\n");
	for (size_t i = 0; i < m->nnets; i++)
		sbuf_addf(b, "\t\toifname \"%s\" icmp type redirect drop\n", m->nets[i].ifname);
	sbuf_adds(b, "\t}\n");
}

/* One allowed destination: `ip daddr` unless any address, `th dport` unless any port. */
static void emit_egress_rule(const struct net_model *m, const struct egress_def *e,
			     struct sbuf *b)
{
	uint32_t addr = e->addr;
	uint8_t prefix = e->prefix;
	char c[32];

	if (e->host) {
		const struct net_endpoint *to = net_model_resolve(m, e->host);
		if (!to)
			return; /* not running: nothing to allow yet */
		addr = to->addr;
		prefix = 32;
	}
	sbuf_adds(b, "\t\t");
	if (prefix == 32)
		sbuf_addf(b, "ip daddr %s ", net_fmt_addr(addr, c, sizeof(c)));
	else if (prefix)
		sbuf_addf(b, "ip daddr %s ", net_fmt_cidr(addr, prefix, c, sizeof(c)));
	if (e->port)
		sbuf_addf(b, "meta l4proto { tcp, udp } th dport %u ", e->port);
	sbuf_adds(b, "return\n");
}

static void emit_policy_chains(const struct net_model *m, struct sbuf *b)
{
	char a[20];

	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		if (!ep->egress_set)
			continue;
		sbuf_addf(b, "\tchain egress_%s {\n", ep->ifname);
		for (size_t e = 0; e < ep->negress; e++)
			emit_egress_rule(m, &ep->egress[e], b);
		sbuf_adds(b, "\t\tdrop\n\t}\n");
	}
	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		struct sbuf from = {0};
		size_t n = 0;
		if (!ep->allow_from_set)
			continue;
		for (size_t f = 0; f < ep->allow_from.n; f++) {
			const struct net_endpoint *src = net_model_resolve(m, ep->allow_from.v[f]);
			if (src)
				sbuf_addf(&from, "%s%s", n++ ? ", " : "",
					  net_fmt_addr(src->addr, a, sizeof(a)));
		}
		sbuf_addf(b, "\tchain ingress_%s {\n", ep->ifname);
		if (n)
			sbuf_addf(b, "\t\tip saddr { %s } return\n", from.s);
		sbuf_adds(b, "\t\tiifname != ");
		emit_bridge_set(m, b);
		sbuf_adds(b, " ct status dnat return\n\t\tdrop\n\t}\n");
		sbuf_free(&from);
	}
}

static void emit_bridge_table(const struct net_model *m, struct sbuf *b)
{
	char a[20];

	sbuf_adds(b, "table bridge " NET_TABLE " {\n"
		     "\tchain prerouting {\n"
		     "\t\ttype filter hook prerouting priority filter; policy accept;\n");
	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		net_fmt_addr(ep->addr, a, sizeof(a));
		sbuf_addf(b, "\t\tiifname \"%s\" arp saddr ip %s accept\n", ep->ifname, a);
		sbuf_addf(b, "\t\tiifname \"%s\" ip saddr %s accept\n", ep->ifname, a);
	}
	/* Anything else from a service port: another source address, IPv6, a
	 * port of a service we do not know (yet). */
	sbuf_adds(b, "\t\tiifname \"sv-*\" drop\n"
		     "\t\tiifname \"sv_*\" drop\n"
		     "\t}\n"
		     "}\n");
}

int nft_ruleset_build(const struct net_model *m, struct sbuf *out, char **why)
{
	int err = check_names(m, why);

	if (!err)
		err = check_port_clashes(m, why);
	if (err)
		return err;
	/* Creating an existing table is a no-op and deleting a missing one an
	 * error, so "add, delete, define" replaces whatever is there, atomically. */
	sbuf_adds(out, "table inet " NET_TABLE "\n"
		       "delete table inet " NET_TABLE "\n"
		       "table bridge " NET_TABLE "\n"
		       "delete table bridge " NET_TABLE "\n"
		       "table inet " NET_TABLE " {\n");
	emit_nat(m, out);
	emit_filter(m, out);
	emit_policy_chains(m, out);
	sbuf_adds(out, "}\n");
	emit_bridge_table(m, out);
	return 0;
}

/* Runs one command buffer; on failure *why is nft's own error text. */
static int nft_run(const char *cmd, struct sbuf *out, char **why)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int err = 0;

	if (!ctx) {
		net_set_why(why, xstrdup("libnftables: cannot create a context"));
		return -ENOMEM;
	}
	/* Without buffering libnftables prints to our stdout/stderr. */
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		net_set_why(why, xasprintf("nftables: %s", e && *e ? e : "command failed"));
		err = -EIO;
	} else if (out) {
		sbuf_adds(out, nft_ctx_get_output_buffer(ctx));
	}
	nft_ctx_free(ctx);
	return err;
}

int nft_apply(const struct net_model *m, char **why)
{
	struct sbuf cmd = {0};
	int err = nft_ruleset_build(m, &cmd, why);

	if (!err)
		err = nft_run(cmd.s, NULL, why);
	sbuf_free(&cmd);
	return err;
}

int nft_remove(char **why)
{
	return nft_run("table inet " NET_TABLE "\n"
		       "delete table inet " NET_TABLE "\n"
		       "table bridge " NET_TABLE "\n"
		       "delete table bridge " NET_TABLE "\n",
		       NULL, why);
}

int nft_list(struct sbuf *out, char **why)
{
	int err = nft_run("list table inet " NET_TABLE "\n", out, why);

	if (!err)
		err = nft_run("list table bridge " NET_TABLE "\n", out, why);
	return err;
}
