/* The kernel objects behind networks and services: the bridge with its
 * gateway address and sysctls, the veth pair of a service and what is set up
 * inside the service's netns, and deleting them by label. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/internal.h"
#include "supervisor/log.h"
#include "supervisor/util.h"

/* ---- small kernel helpers ---------------------------------------------- */

static int write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int err;

	if (fd < 0)
		return -errno;
	err = write_all(fd, value, strlen(value));
	close(fd);
	return err;
}

int net_forwarding_enable(int *prev)
{
	char *buf;
	size_t len;
	int err = read_file("/proc/sys/net/ipv4/ip_forward", 16, &buf, &len);

	if (err)
		return err;
	if (prev)
		*prev = buf[0] == '1';
	free(buf);
	return write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
}

int net_netns_open_pid(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ---- bridges ------------------------------------------------------------ */

int links_del_owned(struct nl *nl, const char *ifname, const char *kind, const char *alias)
{
	struct nl_link l;
	int err = nl_link_get(nl, ifname, &l);

	if (err)
		return err == -ENODEV ? 0 : err;
	/* Unlabelled: created, and the crash or error came before the label. */
	if (!streq(l.kind, kind) || (l.alias[0] && !streq(l.alias, alias)))
		return -EEXIST;
	return nl_link_del(nl, l.ifindex);
}

struct addr_prune {
	uint32_t keep;
	uint8_t keep_prefix;
	uint32_t stale[16];
	uint8_t stale_prefix[16];
	size_t nstale;
	bool have_keep;
};

static int addr_prune_cb(uint32_t addr, uint8_t prefix, void *data)
{
	struct addr_prune *ap = data;

	if (addr == ap->keep && prefix == ap->keep_prefix)
		ap->have_keep = true;
	else if (ap->nstale < ARRAY_SIZE(ap->stale)) {
		ap->stale[ap->nstale] = addr;
		ap->stale_prefix[ap->nstale++] = prefix;
	}
	return 0;
}

/* The bridge holds the gateway address and only it: a network redefined
 * with another subnet must not keep answering on the old one. */
static int bridge_set_gateway(struct nl *nl, int ifindex, uint32_t gw, uint8_t prefix)
{
	struct addr_prune ap = {.keep = gw, .keep_prefix = prefix};
	int err = nl_addr_list(nl, ifindex, addr_prune_cb, &ap);

	for (size_t i = 0; !err && i < ap.nstale; i++)
		err = nl_addr_del(nl, ifindex, ap.stale[i], ap.stale_prefix[i]);
	if (!err && !ap.have_keep)
		err = nl_addr_add(nl, ifindex, gw, prefix);
	return err;
}

/* Per-bridge sysctls (only our own interface is touched):
 *   proxy_arp_pvlan: answer ARP for every subnet address with the bridge's
 *     MAC, since isolated ports cannot reach each other directly;
 *   neigh proxy_delay 0: otherwise those answers are delayed up to 0.8 s;
 *   route_localnet: let 127.0.0.1 -> published port be routed to a service. */
static int bridge_sysctls(const char *ifname)
{
	static const struct {
		const char *fmt, *value;
	} knobs[] = {
		{"/proc/sys/net/ipv4/conf/%s/proxy_arp_pvlan", "1"},
		{"/proc/sys/net/ipv4/neigh/%s/proxy_delay", "0"},
		{"/proc/sys/net/ipv4/conf/%s/route_localnet", "1"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
		char path[128];
		int err;
		snprintf(path, sizeof(path), knobs[i].fmt, ifname);
		err = write_sysctl(path, knobs[i].value);
		if (err)
			return err;
	}
	return 0;
}

int links_bridge_setup(struct nl *nl, const struct net_network *n, char **why)
{
	char *alias = net_bridge_alias(n->name);
	struct nl_link l;
	uint8_t mac[6];
	int err;

	err = nl_link_get(nl, n->ifname, &l);
	if (err == -ENODEV) {
		net_bridge_mac(mac, n->name);
		err = nl_bridge_add(nl, n->ifname, mac);
		if (!err)
			err = nl_link_get(nl, n->ifname, &l);
	} else if (!err && (!streq(l.kind, "bridge") || (l.alias[0] && !streq(l.alias, alias)))) {
		net_set_why(why, xasprintf("network %s: link %s exists and is not sysg's bridge",
				       n->name, n->ifname));
		free(alias);
		return -EEXIST;
	}
	if (!err)
		err = nl_link_set_alias(nl, l.ifindex, alias);
	free(alias);
	if (!err)
		err = bridge_set_gateway(nl, l.ifindex, htonl(ntohl(n->addr) + 1), n->prefix);
	if (!err)
		err = bridge_sysctls(n->ifname);
	if (!err)
		err = nl_link_set_up(nl, l.ifindex, true);
	if (err)
		net_set_why(why, xasprintf("network %s: bridge %s: %s", n->name, n->ifname,
				       strerror(-err)));
	return err;
}

struct net_links {
	char *bridge_alias, *port_prefix;
	int ports[256], bridges[4];
	size_t nports, nbridges;
};

static int collect_net_links(const struct nl_link *l, void *data)
{
	struct net_links *nls = data;

	if (!net_link_name_ours(l->name))
		return 0;
	if (streq(l->alias, nls->bridge_alias) && nls->nbridges < ARRAY_SIZE(nls->bridges))
		nls->bridges[nls->nbridges++] = l->ifindex;
	else if (str_has_prefix(l->alias, nls->port_prefix) && nls->nports < ARRAY_SIZE(nls->ports))
		nls->ports[nls->nports++] = l->ifindex;
	return 0;
}

int links_del_all(struct nl *nl, const int *idx, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		int e = nl_link_del(nl, idx[i]);
		if (e && e != -ENODEV && !err)
			err = e;
	}
	return err;
}

int links_del_network(struct nl *nl, const struct net_network *n)
{
	struct net_links nls = {.bridge_alias = net_bridge_alias(n->name)};
	int err;

	nls.port_prefix = xasprintf("%s:", nls.bridge_alias);
	err = nl_link_list(nl, collect_net_links, &nls);
	/* Ports first, so none is left unenslaved and still up for a moment. */
	if (!err)
		err = links_del_all(nl, nls.ports, nls.nports);
	if (!err)
		err = links_del_all(nl, nls.bridges, nls.nbridges);
	if (!err)
		err = links_del_owned(nl, n->ifname, "bridge", nls.bridge_alias);
	free(nls.port_prefix);
	free(nls.bridge_alias);
	return err;
}

int links_configure_inside(int netns_fd, const struct net_network *n,
			   const struct net_endpoint *ep, const char **step)
{
	uint32_t gw = htonl(ntohl(n->addr) + 1);
	struct nl *nl;
	int lo, eth, err;

	*step = "entering the service's network namespace";
	err = nl_open_netns(&nl, netns_fd);
	if (err)
		return err;
	*step = "lo";
	lo = nl_link_index(nl, "lo");
	err = lo < 0 ? lo : nl_link_set_up(nl, lo, true);
	if (err)
		goto out_close;
	*step = NET_SVC_IFNAME;
	eth = nl_link_index(nl, NET_SVC_IFNAME);
	err = eth < 0 ? eth : nl_addr_add(nl, eth, ep->addr, n->prefix);
	if (!err)
		err = nl_link_set_up(nl, eth, true);
	if (err)
		goto out_close;
	/* After eth0 is up: only then is the gateway on a connected route. */
	*step = "default route";
	err = nl_route_add_default(nl, gw, eth);
out_close:
	nl_close(nl);
	return err;
}

/* The host end: created with the peer already in the service's netns and
 * already enslaved; then labelled as ours, isolated, and up. */
int links_create_host_end(struct nl *nl, int netns_fd, const struct net_network *n,
			   const struct net_endpoint *ep, const char **step)
{
	char *alias = net_veth_alias(n->name, ep->unit);
	int master, idx, err;

	/* A pair left from this unit's last run is replaced; a link of that
	 * name that is not this unit's veth is someone else's and stays. */
	*step = "a link of the same name";
	err = links_del_owned(nl, ep->ifname, "veth", alias);
	if (err)
		goto out_free;
	*step = "the network's bridge";
	err = master = nl_link_index(nl, n->ifname);
	if (master < 0)
		goto out_free;
	*step = "creating the veth pair";
	err = nl_veth_add(nl, ep->ifname, NET_SVC_IFNAME, netns_fd, master);
	if (err)
		goto out_free;
	err = idx = nl_link_index(nl, ep->ifname);
	if (idx < 0)
		goto out_free;
	*step = "labelling the host end";
	err = nl_link_set_alias(nl, idx, alias);
	if (!err) {
		*step = "isolating the bridge port";
		err = nl_bridge_port_set_isolated(nl, idx, true);
	}
	if (!err) {
		*step = "bringing the host end up";
		err = nl_link_set_up(nl, idx, true);
	}
out_free:
	free(alias);
	return err;
}
