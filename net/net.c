/* The runtime facade: networks up and down, services prepared, attached and
 * released, crash leftovers removed. It keeps the model and the lease pools
 * in step and re-applies the whole ruleset after every change (the ruleset is
 * small, and a full replace can never drift from the model). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"
#include "net/netlink.h"
#include "supervisor/log.h"
#include "supervisor/util.h"

struct resv {
	char *net, *unit;
	uint32_t ip;
};

struct net_state {
	char *lease_dir;   /* <state_dir>/net */
	char *hosts_dir;
	struct net_model model;
	struct lease_pool *pools; /* pools[i] belongs to model.nets[i] */
	struct resv *resv;        /* static addresses from the config */
	size_t nresv;
	bool forwarding_done;
};

static void set_why(char **why, char *msg)
{
	if (why)
		*why = msg;
	else
		free(msg);
}

/* Keeps the first failure's reason, drops later ones. */
static void keep_first(int *err, char **why, int e, char *msg)
{
	if (e && !*err) {
		*err = e;
		set_why(why, msg);
	} else {
		free(msg);
	}
}

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

/* ---- state --------------------------------------------------------------- */

struct net_state *net_state_new(const char *state_dir, const char *hosts_dir)
{
	struct net_state *st = xcalloc(1, sizeof(*st));

	st->lease_dir = xasprintf("%s/net", state_dir);
	st->hosts_dir = xstrdup(hosts_dir);
	return st;
}

static void resv_clear(struct net_state *st)
{
	for (size_t i = 0; i < st->nresv; i++) {
		free(st->resv[i].net);
		free(st->resv[i].unit);
	}
	free(st->resv);
	st->resv = NULL;
	st->nresv = 0;
}

void net_state_free(struct net_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->model.nnets; i++)
		lease_pool_free(&st->pools[i]);
	free(st->pools);
	net_model_free(&st->model);
	resv_clear(st);
	free(st->lease_dir);
	free(st->hosts_dir);
	free(st);
}

const struct net_model *net_state_model(const struct net_state *st) { return &st->model; }

char *net_hosts_path(const struct net_state *st, const char *unit)
{
	return xasprintf("%s/%s", st->hosts_dir, unit);
}

static int pool_apply_reservations(struct net_state *st, struct lease_pool *p, char **why)
{
	for (size_t i = 0; i < st->nresv; i++) {
		const struct resv *r = &st->resv[i];
		int err;
		char a[20];
		if (!streq(r->net, p->net))
			continue;
		err = lease_reserve(p, r->unit, r->ip);
		if (err) {
			set_why(why, xasprintf("service %s: ip %s: %s", r->unit,
					       net_fmt_addr(r->ip, a, sizeof(a)),
					       err == -EADDRINUSE ? "reserved by another service"
								  : "not a host address of the network"));
			return err;
		}
	}
	return 0;
}

static const char *svc_network(const struct svc_config *svc)
{
	return svc->net.network ? svc->net.network : NET_DEFAULT_NAME;
}

int net_state_reserve(struct net_state *st, const struct sysg_config *cfg, char **why)
{
	resv_clear(st);
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const struct svc_config *svc = &cfg->svcs[i];
		if (svc->net.mode != NET_BRIDGE || !svc->net.ip_set)
			continue;
		st->resv = xreallocarray(st->resv, st->nresv + 1, sizeof(*st->resv));
		st->resv[st->nresv++] = (struct resv){.net = xstrdup(svc_network(svc)),
						      .unit = xstrdup(svc->unit),
						      .ip = svc->net.ip};
	}
	for (size_t i = 0; i < st->model.nnets; i++) {
		struct lease_pool *p = &st->pools[i];
		int err;
		for (size_t r = 0; r < p->nreserved; r++)
			free(p->reserved[r].unit);
		free(p->reserved);
		p->reserved = NULL;
		p->nreserved = 0;
		err = pool_apply_reservations(st, p, why);
		if (err)
			return err;
	}
	return 0;
}

/* ---- links ---------------------------------------------------------------- */

static int link_del_by_name(struct nl *nl, const char *name)
{
	int idx = nl_link_index(nl, name);

	if (idx == -ENODEV)
		return 0;
	return idx < 0 ? idx : nl_link_del(nl, idx);
}

struct addr_prune {
	struct nl *nl;
	int ifindex;
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
	struct addr_prune ap = {.nl = nl, .ifindex = ifindex, .keep = gw, .keep_prefix = prefix};
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

static int bridge_setup(struct nl *nl, const struct net_network *n, char **why)
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
		set_why(why, xasprintf("network %s: link %s exists and is not sysg's bridge",
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
		set_why(why, xasprintf("network %s: bridge %s: %s", n->name, n->ifname,
				       strerror(-err)));
	return err;
}

/* ---- networks -------------------------------------------------------------- */

static int apply_rules(struct net_state *st, char **why)
{
	if (st->model.nnets == 0)
		return nft_remove(why);
	return nft_apply(&st->model, why);
}

static int pool_open(struct net_state *st, struct lease_pool *p, const struct net_network *n,
		     char **why)
{
	char *path;
	int err = mkdir_secure(st->lease_dir, 0700, geteuid());

	if (err) {
		set_why(why, xasprintf("%s: %s", st->lease_dir, strerror(-err)));
		return err;
	}
	path = xasprintf("%s/%s.leases", st->lease_dir, n->name);
	err = lease_pool_init(p, n->name, n->addr, n->prefix, path);
	free(path);
	if (!err)
		err = lease_pool_load(p);
	/* Written before the bridge exists, so crash cleanup knows it is ours. */
	if (!err)
		err = lease_pool_save(p);
	if (err) {
		set_why(why, xasprintf("network %s: leases: %s", n->name, strerror(-err)));
		lease_pool_free(p);
		return err;
	}
	err = pool_apply_reservations(st, p, why);
	if (err)
		lease_pool_free(p);
	return err;
}

static void forwarding_on(struct net_state *st)
{
	int prev, err;

	if (st->forwarding_done)
		return;
	err = net_forwarding_enable(&prev);
	if (err) {
		errno = -err;
		log_warn("net.ipv4.ip_forward");
		return;
	}
	st->forwarding_done = true;
	if (!prev)
		log_info("net.ipv4.ip_forward was 0, set to 1 (left on at exit)");
}

int net_network_up(struct net_state *st, const char *name, uint32_t addr, uint8_t prefix,
		   char **why)
{
	ssize_t have = net_model_find_network(&st->model, name);
	struct lease_pool pool;
	struct nl *nl;
	size_t idx;
	int err;

	if (have >= 0 && (st->model.nets[have].addr != addr || st->model.nets[have].prefix != prefix)) {
		set_why(why, xasprintf("network %s exists with another subnet", name));
		return -EEXIST;
	}
	if (have < 0) {
		err = net_model_add_network(&st->model, name, addr, prefix, &idx, why);
		if (err)
			return err;
		err = pool_open(st, &pool, &st->model.nets[idx], why);
		if (err) {
			net_model_remove_network(&st->model, name, NULL);
			return err;
		}
		st->pools = xreallocarray(st->pools, st->model.nnets, sizeof(*st->pools));
		st->pools[idx] = pool;
	} else {
		idx = (size_t)have;
	}
	err = nl_open(&nl);
	if (err) {
		set_why(why, xasprintf("netlink: %s", strerror(-err)));
		return err;
	}
	err = bridge_setup(nl, &st->model.nets[idx], why);
	nl_close(nl);
	if (err)
		return err;
	forwarding_on(st);
	return apply_rules(st, why);
}

/* The links labelled for network `name`: its bridge and any port left
 * behind, whether or not the model knows them. */
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

static int delete_links(struct nl *nl, const int *idx, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		int e = nl_link_del(nl, idx[i]);
		if (e && e != -ENODEV && !err)
			err = e;
	}
	return err;
}

static int delete_net_links(struct nl *nl, const struct net_network *n)
{
	struct net_links nls = {.bridge_alias = net_bridge_alias(n->name)};
	int err;

	nls.port_prefix = xasprintf("%s:", nls.bridge_alias);
	err = nl_link_list(nl, collect_net_links, &nls);
	/* Ports first, so none is left unenslaved and still up for a moment. */
	if (!err)
		err = delete_links(nl, nls.ports, nls.nports);
	if (!err)
		err = delete_links(nl, nls.bridges, nls.nbridges);
	if (!err)
		err = link_del_by_name(nl, n->ifname);
	free(nls.port_prefix);
	free(nls.bridge_alias);
	return err;
}

static void pools_remove_at(struct net_state *st, size_t i)
{
	lease_pool_free(&st->pools[i]);
	memmove(&st->pools[i], &st->pools[i + 1], (st->model.nnets - i - 1) * sizeof(*st->pools));
}

int net_network_down(struct net_state *st, const char *name, bool force, char **why)
{
	ssize_t idx = net_model_find_network(&st->model, name);
	struct lease_pool *pool;
	struct nl *nl;
	char *msg = NULL;
	int err = 0, e;

	if (idx < 0) {
		set_why(why, xasprintf("network %s does not exist", name));
		return -ENOENT;
	}
	for (size_t i = st->model.neps; i-- > 0;) {
		if (st->model.eps[i].net != (size_t)idx)
			continue;
		if (!force) {
			set_why(why, xasprintf("network %s is in use by %s", name,
					       st->model.eps[i].name));
			return -EBUSY;
		}
		char *unit = xstrdup(st->model.eps[i].unit);
		e = net_service_release(st, unit, &msg);
		keep_first(&err, why, e, msg);
		msg = NULL;
		free(unit);
	}
	e = nl_open(&nl);
	if (!e) {
		e = delete_net_links(nl, &st->model.nets[idx]);
		nl_close(nl);
	}
	if (e)
		keep_first(&err, why, e, xasprintf("network %s: deleting links: %s", name,
						   strerror(-e)));
	pool = &st->pools[idx];
	if (pool->path && unlink(pool->path) < 0 && errno != ENOENT) {
		e = -errno;
		keep_first(&err, why, e, xasprintf("%s: %s", pool->path, strerror(-e)));
	}
	pools_remove_at(st, (size_t)idx);
	net_model_remove_network(&st->model, name, NULL);
	e = apply_rules(st, &msg);
	keep_first(&err, why, e, msg);
	return err;
}

int net_shutdown(struct net_state *st, char **why)
{
	char *msg = NULL;
	int err = 0, e;

	while (st->model.nnets) {
		char *name = xstrdup(st->model.nets[st->model.nnets - 1].name);
		e = net_network_down(st, name, true, &msg);
		keep_first(&err, why, e, msg);
		msg = NULL;
		free(name);
	}
	e = nft_remove(&msg);
	keep_first(&err, why, e, msg);
	return err;
}

/* ---- services ------------------------------------------------------------- */

static void hosts_refresh(struct net_state *st, size_t net)
{
	for (size_t i = 0; i < st->model.neps; i++) {
		const struct net_endpoint *ep = &st->model.eps[i];
		char *path, *content;
		int err;
		if (ep->net != net)
			continue;
		path = net_hosts_path(st, ep->unit);
		content = hosts_render(&st->model, ep->unit);
		err = hosts_write(path, content);
		if (err) {
			errno = -err;
			log_warn("%s", path);
		}
		free(content);
		free(path);
	}
}

int net_service_prepare(struct net_state *st, const struct svc_config *svc, char **why)
{
	const char *name = svc_network(svc);
	ssize_t net = net_model_find_network(&st->model, name);
	struct lease_pool *pool;
	uint32_t addr;
	int err;

	if (svc->net.mode != NET_BRIDGE) {
		set_why(why, xasprintf("service %s: network mode is not bridge", svc->name));
		return -EINVAL;
	}
	if (net < 0) {
		set_why(why, xasprintf("service %s: network %s is not up", svc->name, name));
		return -ENOENT;
	}
	if (net_model_find_endpoint(&st->model, svc->unit)) {
		set_why(why, xasprintf("service %s is already attached", svc->name));
		return -EEXIST;
	}
	err = mkdir_secure(st->hosts_dir, 0755, geteuid());
	if (err) {
		set_why(why, xasprintf("%s: %s", st->hosts_dir, strerror(-err)));
		return err;
	}
	pool = &st->pools[net];
	err = lease_acquire(pool, svc->unit, svc->net.ip_set ? svc->net.ip : 0, &addr);
	if (err) {
		char a[20];
		set_why(why, xasprintf("service %s: no address on network %s%s%s: %s", svc->name,
				       name, svc->net.ip_set ? " for " : "",
				       svc->net.ip_set ? net_fmt_addr(svc->net.ip, a, sizeof(a)) : "",
				       err == -ENOSPC ? "subnet is full" : strerror(-err)));
		return err;
	}
	err = net_model_add_endpoint(&st->model, svc, (size_t)net, addr, why);
	if (err) {
		lease_release(pool, svc->unit);
		return err;
	}
	hosts_refresh(st, (size_t)net);
	return 0;
}

/* Inside the service's netns: lo up, eth0 with its address, default route. */
static int configure_inside(int netns_fd, const struct net_network *n,
			    const struct net_endpoint *ep, const char **step)
{
	struct nl *nl;
	int lo, eth, err;

	*step = "entering the service's network namespace";
	err = nl_open_netns(&nl, netns_fd);
	if (err)
		return err;
	*step = "lo";
	lo = err = nl_link_index(nl, "lo");
	if (lo > 0)
		err = nl_link_set_up(nl, lo, true);
	if (err >= 0) {
		*step = NET_SVC_IFNAME;
		eth = err = nl_link_index(nl, NET_SVC_IFNAME);
		if (eth > 0)
			err = nl_addr_add(nl, eth, ep->addr, n->prefix);
		if (!err)
			err = nl_link_set_up(nl, eth, true);
		if (!err) {
			*step = "default route";
			err = nl_route_add_default(nl, htonl(ntohl(n->addr) + 1), eth);
		}
	}
	nl_close(nl);
	return err < 0 ? err : 0;
}

/* The host end: created with the peer already in the service's netns and
 * already enslaved; then labelled as ours, isolated, and up. */
static int create_host_end(struct nl *nl, int netns_fd, const struct net_network *n,
			   const struct net_endpoint *ep, const char **step)
{
	char *alias;
	int master, idx, err;

	*step = "a stale link of the same name";
	idx = nl_link_index(nl, ep->ifname);
	if (idx > 0 && (err = nl_link_del(nl, idx)))
		return err;
	*step = "the network's bridge";
	master = nl_link_index(nl, n->ifname);
	if (master < 0)
		return master;
	*step = "creating the veth pair";
	err = nl_veth_add(nl, ep->ifname, NET_SVC_IFNAME, netns_fd, master);
	if (err)
		return err;
	idx = nl_link_index(nl, ep->ifname);
	if (idx < 0)
		return idx;
	*step = "labelling the host end";
	alias = net_veth_alias(n->name, ep->unit);
	err = nl_link_set_alias(nl, idx, alias);
	free(alias);
	if (!err) {
		*step = "isolating the bridge port";
		err = nl_bridge_port_set_isolated(nl, idx, true);
	}
	if (!err) {
		*step = "bringing the host end up";
		err = nl_link_set_up(nl, idx, true);
	}
	return err;
}

int net_service_attach(struct net_state *st, const char *unit, int netns_fd, char **why)
{
	const struct net_endpoint *ep = net_model_find_endpoint(&st->model, unit);
	const struct net_network *n;
	const char *step = "";
	struct nl *nl;
	int err;

	if (!ep) {
		set_why(why, xasprintf("service %s is not prepared", unit));
		return -ENOENT;
	}
	n = &st->model.nets[ep->net];
	err = nl_open(&nl);
	if (err) {
		set_why(why, xasprintf("netlink: %s", strerror(-err)));
		return err;
	}
	err = create_host_end(nl, netns_fd, n, ep, &step);
	if (!err)
		err = configure_inside(netns_fd, n, ep, &step);
	if (err) {
		set_why(why, xasprintf("service %s: %s: %s", ep->name, step, strerror(-err)));
		link_del_by_name(nl, ep->ifname); /* takes the peer with it */
		nl_close(nl);
		return err;
	}
	nl_close(nl);
	err = apply_rules(st, why);
	if (err && (nl_open(&nl) == 0)) {
		link_del_by_name(nl, ep->ifname);
		nl_close(nl);
	}
	return err;
}

int net_service_release(struct net_state *st, const char *unit, char **why)
{
	const struct net_endpoint *ep = net_model_find_endpoint(&st->model, unit);
	char ifname[IFNAMSIZ], *path, *msg = NULL;
	size_t net;
	struct nl *nl;
	int err = 0, e;

	if (!ep) {
		set_why(why, xasprintf("service %s is not attached", unit));
		return -ENOENT;
	}
	net = ep->net;
	snprintf(ifname, sizeof(ifname), "%s", ep->ifname);
	e = nl_open(&nl);
	if (!e) {
		e = link_del_by_name(nl, ifname);
		nl_close(nl);
	}
	if (e)
		keep_first(&err, why, e, xasprintf("service %s: deleting %s: %s", unit, ifname,
						   strerror(-e)));
	net_model_remove_endpoint(&st->model, unit);
	e = apply_rules(st, &msg);
	keep_first(&err, why, e, msg);
	e = lease_release(&st->pools[net], unit);
	if (e && e != -ENOENT)
		keep_first(&err, why, e, xasprintf("service %s: releasing its lease: %s", unit,
						   strerror(-e)));
	path = net_hosts_path(st, unit);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("%s", path);
	free(path);
	hosts_refresh(st, net);
	return err;
}

/* ---- crash cleanup ---------------------------------------------------------- */

struct stale_links {
	char (*named)[IFNAMSIZ]; /* links the lease files say are sysg's */
	size_t nnamed;
	int ports[1024], bridges[256];
	size_t nports, nbridges;
};

static void stale_name(struct stale_links *sl, const char *ifname)
{
	sl->named = xreallocarray(sl->named, sl->nnamed + 1, sizeof(*sl->named));
	snprintf(sl->named[sl->nnamed++], IFNAMSIZ, "%s", ifname);
}

/* Every network with a lease file had its bridge, every unit in it a veth:
 * the files are written before the links are created, so they name even a
 * link the crash left unlabelled. */
static void stale_names_from_leases(struct stale_links *sl, const char *lease_dir)
{
	DIR *d = opendir(lease_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char ifname[IFNAMSIZ], *path, *buf, *line, *save = NULL;
		size_t blen;
		if (len <= 7 || !streq(de->d_name + len - 7, ".leases"))
			continue;
		de->d_name[len - 7] = '\0';
		net_bridge_name(ifname, de->d_name);
		stale_name(sl, ifname);
		path = xasprintf("%s/%s.leases", lease_dir, de->d_name);
		if (read_file(path, 4u << 20, &buf, &blen) == 0) {
			/* Line 1 is the header; then "ADDR UNIT". */
			strtok_r(buf, "\n", &save);
			while ((line = strtok_r(NULL, "\n", &save))) {
				char *unit = strchr(line, ' ');
				if (unit && net_text_safe(unit + 1)) {
					net_veth_name(ifname, unit + 1);
					stale_name(sl, ifname);
				}
			}
			free(buf);
		}
		free(path);
	}
	closedir(d);
}

static bool stale_named(const struct stale_links *sl, const char *ifname)
{
	for (size_t i = 0; i < sl->nnamed; i++)
		if (streq(sl->named[i], ifname))
			return true;
	return false;
}

/* Ours: one of our name prefixes, the kind that prefix stands for, and our
 * label, or no label and a lease file naming it. A link someone else
 * labelled is never ours. */
static int collect_stale(const struct nl_link *l, void *data)
{
	struct stale_links *sl = data;
	bool bridge = str_has_prefix(l->name, "sg");

	if (!net_link_name_ours(l->name))
		return 0;
	if (!str_has_prefix(l->alias, NET_ALIAS_PREFIX) && (l->alias[0] || !stale_named(sl, l->name)))
		return 0;
	if (bridge && streq(l->kind, "bridge") && sl->nbridges < ARRAY_SIZE(sl->bridges))
		sl->bridges[sl->nbridges++] = l->ifindex;
	else if (!bridge && streq(l->kind, "veth") && sl->nports < ARRAY_SIZE(sl->ports))
		sl->ports[sl->nports++] = l->ifindex;
	return 0;
}

static int remove_dir_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), slen = suffix ? strlen(suffix) : 0;
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		if (suffix && (len < slen || !streq(de->d_name + len - slen, suffix)))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && !err)
			err = -errno;
	}
	closedir(d);
	return err;
}

int net_cleanup_stale(const char *state_dir, const char *hosts_dir, char **why)
{
	struct stale_links *sl = xcalloc(1, sizeof(*sl));
	char *lease_dir = xasprintf("%s/net", state_dir), *msg = NULL;
	struct nl *nl;
	int err = 0, e;

	stale_names_from_leases(sl, lease_dir);
	e = nl_open(&nl);
	if (!e) {
		e = nl_link_list(nl, collect_stale, sl);
		if (!e)
			e = delete_links(nl, sl->ports, sl->nports);
		if (!e)
			e = delete_links(nl, sl->bridges, sl->nbridges);
		nl_close(nl);
	}
	if (e)
		keep_first(&err, why, e, xasprintf("removing stale links: %s", strerror(-e)));
	e = nft_remove(&msg);
	keep_first(&err, why, e, msg);
	e = remove_dir_files(lease_dir, ".leases");
	if (!e)
		e = remove_dir_files(lease_dir, ".leases.tmp");
	if (e)
		keep_first(&err, why, e, xasprintf("%s: %s", lease_dir, strerror(-e)));
	if (hosts_dir && (e = remove_dir_files(hosts_dir, NULL)))
		keep_first(&err, why, e, xasprintf("%s: %s", hosts_dir, strerror(-e)));
	free(lease_dir);
	free(sl->named);
	free(sl);
	return err;
}

/* ---- inspect ---------------------------------------------------------------- */

static json_object *ports_json(const struct net_endpoint *ep)
{
	json_object *arr = json_object_new_array();
	char a[20];

	for (size_t i = 0; i < ep->nports; i++) {
		const struct port_def *p = &ep->ports[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "host_ip", json_object_new_string(
							     net_fmt_addr(p->host_ip, a, sizeof(a))));
		json_object_object_add(o, "host_port", json_object_new_int(p->host_port));
		json_object_object_add(o, "port", json_object_new_int(p->svc_port));
		json_object_object_add(o, "protocol",
				       json_object_new_string(p->proto == IPPROTO_UDP ? "udp" : "tcp"));
		json_object_array_add(arr, o);
	}
	return arr;
}

char *net_inspect_json(const struct net_state *st, const char *name)
{
	ssize_t idx = net_model_find_network(&st->model, name);
	const struct net_network *n;
	json_object *root, *svcs;
	char buf[32];
	char *out;

	if (idx < 0)
		return NULL;
	n = &st->model.nets[idx];
	root = json_object_new_object();
	json_object_object_add(root, "name", json_object_new_string(n->name));
	json_object_object_add(root, "subnet", json_object_new_string(
						       net_fmt_cidr(n->addr, n->prefix, buf, sizeof(buf))));
	json_object_object_add(root, "gateway", json_object_new_string(net_fmt_addr(
							htonl(ntohl(n->addr) + 1), buf, sizeof(buf))));
	json_object_object_add(root, "bridge", json_object_new_string(n->ifname));
	svcs = json_object_new_array();
	for (size_t i = 0; i < st->model.neps; i++) {
		const struct net_endpoint *ep = &st->model.eps[i];
		json_object *o;
		if (ep->net != (size_t)idx)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(ep->name));
		json_object_object_add(o, "unit", json_object_new_string(ep->unit));
		json_object_object_add(o, "hostname", json_object_new_string(ep->hostname));
		json_object_object_add(o, "address", json_object_new_string(
							     net_fmt_addr(ep->addr, buf, sizeof(buf))));
		json_object_object_add(o, "link", json_object_new_string(ep->ifname));
		json_object_object_add(o, "ports", ports_json(ep));
		json_object_array_add(svcs, o);
	}
	json_object_object_add(root, "services", svcs);
	out = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}
