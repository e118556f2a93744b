/* The network model: networks and the services attached to them, as plain
 * data owned here (nothing points into a config that a reload may free). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"
#include "supervisor/util.h"

static uint32_t prefix_mask(uint8_t prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

ssize_t net_model_find_network(const struct net_model *m, const char *name)
{
	for (size_t i = 0; i < m->nnets; i++)
		if (streq(m->nets[i].name, name))
			return (ssize_t)i;
	return -1;
}

int net_model_add_network(struct net_model *m, const char *name, uint32_t addr, uint8_t prefix,
			  size_t *idx, char **why)
{
	struct net_network n = {0};

	if (!net_name_valid(name)) {
		net_set_why(why, xasprintf("network name '%s' is not [A-Za-z0-9][A-Za-z0-9_.-]{0,62}",
				       name));
		return -EINVAL;
	}
	if (prefix < 8 || prefix > 30 || (ntohl(addr) & ~prefix_mask(prefix))) {
		char cidr[32];
		net_set_why(why, xasprintf("network %s: %s is not a network address with a prefix "
				       "of 8 to 30", name, net_fmt_cidr(addr, prefix, cidr,
									sizeof(cidr))));
		return -EINVAL;
	}
	net_bridge_name(n.ifname, name);
	for (size_t i = 0; i < m->nnets; i++) {
		if (streq(m->nets[i].name, name) || streq(m->nets[i].ifname, n.ifname)) {
			net_set_why(why, xasprintf("network %s: %s", name,
					       streq(m->nets[i].name, name)
						       ? "exists"
						       : "bridge name collides with another network's"));
			return -EEXIST;
		}
	}
	n.name = xstrdup(name);
	n.addr = addr;
	n.prefix = prefix;
	m->nets = xreallocarray(m->nets, m->nnets + 1, sizeof(*m->nets));
	m->nets[m->nnets] = n;
	if (idx)
		*idx = m->nnets;
	m->nnets++;
	return 0;
}

int net_model_remove_network(struct net_model *m, const char *name, char **why)
{
	ssize_t i = net_model_find_network(m, name);

	if (i < 0)
		return -ENOENT;
	for (size_t e = 0; e < m->neps; e++) {
		if (m->eps[e].net == (size_t)i) {
			net_set_why(why, xasprintf("network %s is in use by %s", name, m->eps[e].name));
			return -EBUSY;
		}
	}
	free(m->nets[i].name);
	memmove(&m->nets[i], &m->nets[i + 1], (m->nnets - i - 1) * sizeof(*m->nets));
	m->nnets--;
	for (size_t e = 0; e < m->neps; e++)
		if (m->eps[e].net > (size_t)i)
			m->eps[e].net--;
	return 0;
}

const char *net_svc_hostname(const struct svc_config *svc)
{
	const char *slash;

	if (svc->net.hostname)
		return svc->net.hostname;
	slash = strrchr(svc->name, '/');
	return slash ? slash + 1 : svc->name;
}

const char *net_svc_network(const struct svc_config *svc)
{
	return svc->net.network ? svc->net.network : NET_DEFAULT_NAME;
}

int net_config_subnet(const struct sysg_config *cfg, const char *name, uint32_t *addr,
		      uint8_t *prefix)
{
	for (size_t i = 0; i < cfg->nnets; i++) {
		if (streq(cfg->nets[i].name, name)) {
			*addr = cfg->nets[i].addr;
			*prefix = cfg->nets[i].prefix;
			return 0;
		}
	}
	if (streq(name, NET_DEFAULT_NAME))
		return net_parse_cidr(NET_DEFAULT_SUBNET, addr, prefix);
	return -ENOENT;
}

static void strv_copy(struct strv *dst, const struct strv *src)
{
	dst->n = src->n;
	dst->v = xcalloc(src->n + 1, sizeof(char *));
	for (size_t i = 0; i < src->n; i++)
		dst->v[i] = xstrdup(src->v[i]);
}

static void strv_release(struct strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	*v = (struct strv){0};
}

static char *strdup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static void endpoint_copy_policy(struct net_endpoint *ep, const struct svc_net *n)
{
	ep->nports = n->nports;
	ep->ports = xcalloc(n->nports, sizeof(*ep->ports));
	for (size_t i = 0; i < n->nports; i++) {
		ep->ports[i] = n->ports[i];
		ep->ports[i].spec = strdup_or_null(n->ports[i].spec);
	}
	ep->allow_from_set = n->allow_from_set;
	strv_copy(&ep->allow_from, &n->allow_from);
	ep->egress_set = n->egress_set;
	ep->negress = n->negress;
	ep->egress = xcalloc(n->negress, sizeof(*ep->egress));
	for (size_t i = 0; i < n->negress; i++) {
		ep->egress[i] = n->egress[i];
		ep->egress[i].host = strdup_or_null(n->egress[i].host);
		ep->egress[i].spec = strdup_or_null(n->egress[i].spec);
	}
}

static void endpoint_free(struct net_endpoint *ep)
{
	free(ep->name);
	free(ep->unit);
	free(ep->hostname);
	for (size_t i = 0; i < ep->nports; i++)
		free(ep->ports[i].spec);
	free(ep->ports);
	strv_release(&ep->allow_from);
	for (size_t i = 0; i < ep->negress; i++) {
		free(ep->egress[i].host);
		free(ep->egress[i].spec);
	}
	free(ep->egress);
}

/* A service address: in the subnet, not the network, gateway (.1) or broadcast address. */
static bool host_in_net(const struct net_network *n, uint32_t addr)
{
	uint32_t mask = prefix_mask(n->prefix), a = ntohl(addr), base = ntohl(n->addr);

	return (a & mask) == base && a > base + 1 && a != (base | ~mask);
}

int net_model_add_endpoint(struct net_model *m, const struct svc_config *svc, size_t net,
			   uint32_t addr, char **why)
{
	struct net_endpoint ep = {0};
	const char *host = net_svc_hostname(svc);

	if (net >= m->nnets)
		return -ENOENT;
	/* These strings reach nftables text and /etc/hosts: refuse anything but
	 * the plain characters the config layer lets through anyway. */
	if (!net_text_safe(svc->unit) || !net_text_safe(host)) {
		net_set_why(why, xasprintf("service %s: unit or hostname has characters other than "
				       "[A-Za-z0-9_.@-]", svc->name));
		return -EINVAL;
	}
	if (!host_in_net(&m->nets[net], addr)) {
		char a[32];
		net_set_why(why, xasprintf("service %s: %s is not a host address of network %s",
				       svc->name, net_fmt_addr(addr, a, sizeof(a)),
				       m->nets[net].name));
		return -EINVAL;
	}
	net_veth_name(ep.ifname, svc->unit);
	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *o = &m->eps[i];
		if (streq(o->unit, svc->unit)) {
			net_set_why(why, xasprintf("service %s is already attached", svc->name));
			return -EEXIST;
		}
		if (streq(o->ifname, ep.ifname)) {
			net_set_why(why, xasprintf("service %s: link name %s collides with %s's",
					       svc->name, ep.ifname, o->name));
			return -EEXIST;
		}
		if (o->addr == addr) {
			net_set_why(why, xasprintf("service %s: address is in use by %s", svc->name,
					       o->name));
			return -EADDRINUSE;
		}
	}
	ep.name = xstrdup(svc->name);
	ep.unit = xstrdup(svc->unit);
	ep.hostname = xstrdup(host);
	ep.net = net;
	ep.addr = addr;
	endpoint_copy_policy(&ep, &svc->net);
	m->eps = xreallocarray(m->eps, m->neps + 1, sizeof(*m->eps));
	m->eps[m->neps++] = ep;
	return 0;
}

int net_model_remove_endpoint(struct net_model *m, const char *unit)
{
	for (size_t i = 0; i < m->neps; i++) {
		if (!streq(m->eps[i].unit, unit))
			continue;
		endpoint_free(&m->eps[i]);
		memmove(&m->eps[i], &m->eps[i + 1], (m->neps - i - 1) * sizeof(*m->eps));
		m->neps--;
		return 0;
	}
	return -ENOENT;
}

const struct net_endpoint *net_model_find_endpoint(const struct net_model *m, const char *unit)
{
	for (size_t i = 0; i < m->neps; i++)
		if (streq(m->eps[i].unit, unit))
			return &m->eps[i];
	return NULL;
}

const struct net_endpoint *net_model_resolve(const struct net_model *m, const char *name)
{
	size_t len = strlen(name), dlen = strlen("." NET_DOMAIN);

	for (size_t i = 0; i < m->neps; i++) {
		const struct net_endpoint *ep = &m->eps[i];
		if (streq(ep->name, name) || streq(ep->hostname, name))
			return ep;
		if (len > dlen && streq(name + len - dlen, "." NET_DOMAIN) &&
		    strlen(ep->hostname) == len - dlen &&
		    strncmp(ep->hostname, name, len - dlen) == 0)
			return ep;
	}
	return NULL;
}

void net_model_free(struct net_model *m)
{
	for (size_t i = 0; i < m->neps; i++)
		endpoint_free(&m->eps[i]);
	free(m->eps);
	for (size_t i = 0; i < m->nnets; i++)
		free(m->nets[i].name);
	free(m->nets);
	*m = (struct net_model){0};
}
