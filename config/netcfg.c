/* sockets (SPEC §2.4), a service's network block and the top-level
 * networks (SPEC §2.9). Names of other services are resolved in validate.c. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/internal.h"

/* ---- sockets ----------------------------------------------------------------------- */

static int sock_name(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct sock_def *sd = obj;
	const char *t = v_word(c, v, "the name");

	(void)kd;
	if (t && !fdname_valid(t)) {
		lerr(c, v, "letters, digits, '_', '.', '-' (it goes into LISTEN_FDNAMES)",
		     "%s is not a valid socket name", quote(c, t));
		return -1;
	}
	sd->name = (char *)t;
	return t ? 0 : -1;
}

static int sock_listen(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct sock_def *sd = obj;
	const char *t = v_word(c, v, "the address"), *why;

	(void)kd;
	if (!t)
		return -1;
	if (parse_listen(c->a, t, sd, &why) < 0) {
		lerr(c, v, "such as tcp://0.0.0.0:80, tcp6://[::]:80, udp://127.0.0.1:53, "
			   "unix:///run/app.sock or unix:@app",
		     "%s %s", quote(c, t), why);
		return -1;
	}
	sd->listen = (char *)t;
	return 0;
}

static int sock_mode(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct sock_def *sd = obj;
	const char *t = v_word(c, v, NULL);

	(void)kd;
	if (!t)
		return -1;
	if (!*t || strlen(t) > 4 || t[strspn(t, "01234567")]) {
		lerr(c, v, "an octal mode such as \"0660\"", "%s is not a file mode", quote(c, t));
		return -1;
	}
	sd->mode = (mode_t)strtoul(t, NULL, 8);
	sd->mode_set = true;
	return 0;
}

static int sock_user(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	const char *t = user_item(c, v, NULL);

	if (t)
		*(char **)((char *)obj + kd->off) = (char *)t;
	return t ? 0 : -1;
}

KEYS(socket_table, "sockets[]",
	K_FN("name", sock_name, "its LISTEN_FDNAMES entry (default: the service's name)"),
	K_FN("listen", sock_listen, "tcp://, tcp6://, udp://, udp6://, unix:///path or unix:@name"),
	K_RANGE("backlog", V_INT, struct sock_def, backlog, 1, 65535,
		"listen queue length (default 511)"),
	K_FN("mode", sock_mode, "unix socket file mode, octal (default 0666 & ~umask)"),
	K_FNX("owner", sock_user, offsetof(struct sock_def, owner),
	      "unix socket owner (default: the service's user)"),
	K_FNX("group", sock_user, offsetof(struct sock_def, group),
	      "unix socket group (default: the service's group)"),
);

KEY_FN(svc_sockets)
{
	struct svc_config *s = obj;
	struct strmap names = {0};

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	s->sockets = arena_array(c->a, v->n ? v->n : 1, sizeof(*s->sockets));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *it = v->items[i];
		struct sock_def sd = {.backlog = 511, .line = it->line, .col = it->col};
		size_t mark = path_push_index(c, i);
		uint64_t seen = walk_map(c, it, &socket_table, &sd);

		if (it->kind == Y_MAP && !key_seen(seen, &socket_table, "listen") && !sd.listen) {
			lerr(c, it, "such as listen: \"tcp://0.0.0.0:80\"", "has no listen address");
		} else if (sd.listen) {
			if (!sd.name)
				sd.name = s->unit;
			if (sd.family != AF_UNIX && (sd.mode_set || sd.owner || sd.group))
				lerr(c, it, "mode, owner and group apply to unix socket files",
				     "mode, owner and group need a unix:///path socket");
			else if (sd.abstract && (sd.mode_set || sd.owner || sd.group))
				lerr(c, it, "an abstract socket has no file",
				     "mode, owner and group need a unix:///path socket");
			if (strmap_get(&names, sd.name, NULL) && key_seen(seen, &socket_table, "name"))
				lerr(c, y_map_get(it, "name"), "LISTEN_FDNAMES entries must differ",
				     "the socket name %s is used twice", quote(c, sd.name));
			strmap_put(&names, sd.name, i);
			s->sockets[s->nsockets++] = sd;
		}
		path_pop(c, mark);
	}
	strmap_free(&names);
	return 0;
}

/* ---- a service's network ------------------------------------------------------------ */

static bool service_ref_valid(struct lctx *c, const char *t);

static int net_mode(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_net *n = obj;
	const char *t = v_word(c, v, NULL);
	int e;

	(void)kd;
	if (!t)
		return -1;
	if (!strncmp(t, "service:", 8)) {
		if (!service_ref_valid(c, t + 8)) {
			lerr(c, v, NULL, "%s does not name a valid service", quote(c, t));
			return -1;
		}
		n->mode = NET_SERVICE;
		n->share_with = (char *)t + 8;
		c->sb->net_mode = v;
		return 0;
	}
	if (v_enum(c, v, net_mode_names, NET_SERVICE, 1, &e) < 0)
		return -1;
	n->mode = (enum net_mode)e;
	return 0;
}

static int net_network(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_net *n = obj;
	const char *t = v_word(c, v, "the network name");

	(void)kd;
	if (t && !net_name_valid(t)) {
		lerr(c, v, "letters, digits, '_', '.', '-', at most 12", "%s is not a valid network name",
		     quote(c, t));
		return -1;
	}
	n->network = (char *)t;
	return t ? 0 : -1;
}

static int net_hostname(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_net *n = obj;
	const char *t = v_word(c, v, "the host name");

	(void)kd;
	if (t && (!hostname_valid(t) || strchr(t, '.'))) {
		lerr(c, v, "one label: letters, digits and '-'; it is also resolvable as NAME.sysg.local",
		     "%s is not a valid host name", quote(c, t));
		return -1;
	}
	n->hostname = (char *)t;
	return t ? 0 : -1;
}

static int net_ip(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_net *n = obj;
	const char *t = v_word(c, v, "the address");

	(void)kd;
	if (!t)
		return -1;
	if (parse_ipv4(t, &n->ip) < 0) {
		lerr(c, v, "such as 10.99.0.10", "%s is not an IPv4 address", quote(c, t));
		return -1;
	}
	n->ip_set = true;
	c->sb->ip = v;
	return 0;
}

static int net_ports(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_net *n = obj;

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	c->sb->ports = v;
	n->ports = arena_array(c->a, v->n ? v->n : 1, sizeof(*n->ports));
	for (size_t i = 0; i < v->n; i++) {
		size_t mark = path_push_index(c, i);
		const char *t = v_word(c, v->items[i], "the port mapping"), *why;
		if (t && parse_port_spec(c->a, t, &n->ports[n->nports], &why) < 0)
			lerr(c, v->items[i], "such as \"8080:80\", \"0.0.0.0:443:8443/tcp\" or \"53:53/udp\"",
			     "%s %s", quote(c, t), why);
		else if (t)
			n->nports++;
		path_pop(c, mark);
	}
	return 0;
}

/* "name" or "project/name". */
static bool service_ref_valid(struct lctx *c, const char *t)
{
	const char *slash = strchr(t, '/');

	if (!slash)
		return service_name_valid(t);
	return service_name_valid(slash + 1) &&
	       service_name_valid(arena_strndup(c->a, t, (size_t)(slash - t)));
}

static const char *service_ref(struct lctx *c, const struct ynode *n, void *arg)
{
	const char *t = v_word(c, n, "the service name");

	(void)arg;
	if (t && !service_ref_valid(c, t)) {
		lerr(c, n, NULL, "%s is not a valid service name", quote(c, t));
		return NULL;
	}
	return t;
}

static const char *egress_item(struct lctx *c, const struct ynode *n, void *arg)
{
	struct svc_net *net = arg;
	struct egress_def *e = &net->egress[net->negress];
	const char *t = v_word(c, n, "the destination"), *colon, *why, *host;
	uint16_t port = 0;

	if (!t)
		return NULL;
	colon = strrchr(t, ':');
	host = colon ? arena_strndup(c->a, t, (size_t)(colon - t)) : t;
	if (colon) {
		unsigned p = 0;
		const char *q = colon + 1;
		for (; *q >= '0' && *q <= '9' && p <= 65535; q++)
			p = p * 10 + (unsigned)(*q - '0');
		if (*q || q == colon + 1 || p < 1 || p > 65535)
			goto bad;
		port = (uint16_t)p;
	}
	e->spec = (char *)t;
	e->port = port;
	if (strchr(host, '/')) {
		if (parse_cidr(host, &e->addr, &e->prefix, &why) < 0) {
			lerr(c, n, NULL, "%s %s", quote(c, t), why);
			return NULL;
		}
	} else if (parse_ipv4(host, &e->addr) == 0) {
		e->prefix = 32;
	} else {
		size_t hl = strlen(host);
		if (hl > 11 && !strcmp(host + hl - 11, ".sysg.local"))
			host = arena_strndup(c->a, host, hl - 11);
		if (!hostname_valid(host) || strchr(host, '.'))
			goto bad;
		e->host = (char *)host;
	}
	net->negress++;
	return t;
bad:
	lerr(c, n, "NAME:PORT (a service), NAME.sysg.local:PORT, IP:PORT or CIDR:PORT; the port is optional",
	     "%s is not a destination", quote(c, t));
	return NULL;
}

static int egress_allow(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_net *n = obj;
	struct strv dummy;

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	n->egress = arena_array(c->a, v->n ? v->n : 1, sizeof(*n->egress));
	n->egress_set = true;
	c->sb->egress = v;
	return v_list(c, v, false, egress_item, n, &dummy);
}

KEYS(egress_table, "network.policy.egress",
	K_FN("allow", egress_allow, "the only destinations allowed out: NAME:PORT, CIDR:PORT"),
);

static int policy_egress(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)kd;
	walk_map(c, v, &egress_table, obj);
	return 0;
}

static int policy_allow_from(struct lctx *c, const struct key_def *kd, const struct ynode *v,
			     void *obj)
{
	struct svc_net *n = obj;

	(void)kd;
	n->allow_from_set = true;
	c->sb->allow_from = v;
	return v_list(c, v, false, service_ref, NULL, &n->allow_from);
}

KEYS(policy_table, "network.policy",
	K_FN("allow_from", policy_allow_from, "the only services that may connect in"),
	K_FN("egress", policy_egress, "outgoing traffic: {allow: [...]}; everything else dropped"),
);

static int net_policy(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)kd;
	walk_map(c, v, &policy_table, obj);
	return 0;
}

KEYS(network_table, "network",
	K_FN("mode", net_mode, "bridge (default), host, none or service:NAME"),
	K_FN("network", net_network, "which network to join (default sysg0)"),
	K_FN("hostname", net_hostname, "the name other services resolve (default: the service name)"),
	K_FN("ip", net_ip, "a static address in the network's subnet (default: leased)"),
	K_FN("ports", net_ports, "published ports: \"HOST:SERVICE[/udp]\", \"IP:HOST:SERVICE\""),
	K_FN("policy", net_policy, "allow_from and egress rules"),
);

KEY_FN(svc_network)
{
	struct svc_config *s = obj;
	uint64_t seen;

	(void)kd;
	seen = walk_map(c, v, &network_table, &s->net);
	if (v->kind != Y_MAP)
		return -1;
	if (!key_seen(seen, &network_table, "mode"))
		s->net.mode = NET_BRIDGE;
	if (s->net.mode == NET_BRIDGE && !s->net.network)
		s->net.network = "sysg0";
	if (s->net.mode != NET_BRIDGE &&
	    (s->net.network || s->net.ip_set || s->net.nports || s->net.hostname)) {
		lerr(c, v, "network, ip, ports and hostname apply to mode: bridge",
		     "mode %s takes no network, ip, ports or hostname", net_mode_names[s->net.mode]);
		return -1;
	}
	if (s->net.mode == NET_BRIDGE && !c->opts->system_mode)
		lerr(c, v, "run sysg --sys, or use isolation.network for a private lo-only namespace",
		     "bridge networking needs system mode");
	return 0;
}

/* ---- top-level networks ----------------------------------------------------------------- */

static int net_subnet(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct net_def *nd = obj;
	const char *t = v_word(c, v, "the subnet"), *why;
	uint32_t addr;
	uint8_t prefix;

	(void)kd;
	if (!t)
		return -1;
	if (parse_cidr(t, &addr, &prefix, &why) < 0) {
		lerr(c, v, "such as 10.99.1.0/24", "%s %s", quote(c, t), why);
		return -1;
	}
	if (prefix < 8 || prefix > 30) {
		lerr(c, v, "between /8 and /30", "%s is too large or too small a network", quote(c, t));
		return -1;
	}
	nd->addr = addr;
	nd->prefix = prefix; /* non-zero: the subnet is good */
	return 0;
}

KEYS(net_table, "networks.NAME",
	K_FN("subnet", net_subnet, "the network's IPv4 range, such as 10.99.1.0/24"),
);

KEY_FN(top_networks)
{
	struct sysg_config *cfg = c->cfg;

	(void)kd, (void)obj;
	if (!v_expect(c, v, Y_MAP))
		return -1;
	if (!c->opts->system_mode)
		lerr(c, v, "run sysg --sys", "networks need system mode");
	cfg->nets = arena_array(c->a, v->n + 1, sizeof(*cfg->nets));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *k = y_key(v, i), *nv = y_val(v, i);
		struct net_def nd = {.name = (char *)k->str, .line = k->line, .col = k->col};
		size_t mark = path_push(c, k->str);
		uint64_t seen;

		if (!net_name_valid(k->str)) {
			lerr(c, k, "letters, digits, '_', '.', '-', at most 12 (it names a bridge)",
			     "%s is not a valid network name", quote(c, k->str));
			path_pop(c, mark);
			continue;
		}
		seen = y_is_null(nv) ? 0 : walk_map(c, nv, &net_table, &nd);
		if (!key_seen(seen, &net_table, "subnet"))
			lerr(c, k, "such as subnet: 10.99.1.0/24", "has no subnet");
		else if (nd.prefix)
			cfg->nets[cfg->nnets++] = nd;
		path_pop(c, mark);
	}
	return 0;
}
