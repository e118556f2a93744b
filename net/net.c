/* The runtime facade: networks up and down, services prepared, attached and
 * released. It keeps the model and the lease pools in step and re-applies the
 * whole ruleset after every change (the ruleset is small, and a full replace
 * can never drift from the model). */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/internal.h"
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
			net_set_why(why, xasprintf("service %s: ip %s: %s", r->unit,
					       net_fmt_addr(r->ip, a, sizeof(a)),
					       err == -EADDRINUSE ? "reserved by another service"
								  : "not a host address of the network"));
			return err;
		}
	}
	return 0;
}

int net_state_reserve(struct net_state *st, const struct sysg_config *cfg, char **why)
{
	resv_clear(st);
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const struct svc_config *svc = &cfg->svcs[i];
		if (svc->net.mode != NET_BRIDGE || !svc->net.ip_set)
			continue;
		st->resv = xreallocarray(st->resv, st->nresv + 1, sizeof(*st->resv));
		st->resv[st->nresv++] = (struct resv){.net = xstrdup(net_svc_network(svc)),
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
		net_set_why(why, xasprintf("%s: %s", st->lease_dir, strerror(-err)));
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
		net_set_why(why, xasprintf("network %s: leases: %s", n->name, strerror(-err)));
		lease_pool_free(p);
		return err;
	}
	err = pool_apply_reservations(st, p, why);
	if (err)
		lease_pool_free(p);
	return err;
}

/* Without forwarding nothing is routed, not even between two services of
 * one network (their ports are isolated): a failure here is fatal to the
 * network. The old value is only logged; see docs/networking.md. */
static int forwarding_on(struct net_state *st, char **why)
{
	int prev, err;

	if (st->forwarding_done)
		return 0;
	err = net_forwarding_enable(&prev);
	if (err) {
		net_set_why(why, xasprintf("net.ipv4.ip_forward: %s", strerror(-err)));
		return err;
	}
	st->forwarding_done = true;
	if (!prev)
		log_info("net.ipv4.ip_forward was 0, set to 1 (left on at exit)");
	return 0;
}

/* Brings the kernel side of network idx to its model: bridge, forwarding, rules. */
static int network_realize(struct net_state *st, size_t idx, char **why)
{
	struct nl *nl;
	int err = nl_open(&nl);

	if (err) {
		net_set_why(why, xasprintf("netlink: %s", strerror(-err)));
		return err;
	}
	err = links_bridge_setup(nl, &st->model.nets[idx], why);
	nl_close(nl);
	if (!err)
		err = forwarding_on(st, why);
	if (!err)
		err = apply_rules(st, why);
	return err;
}

int net_network_up(struct net_state *st, const char *name, uint32_t addr, uint8_t prefix,
		   char **why)
{
	ssize_t have = net_model_find_network(&st->model, name);
	struct lease_pool pool;
	size_t idx;
	int err;

	if (have >= 0 && (st->model.nets[have].addr != addr || st->model.nets[have].prefix != prefix)) {
		net_set_why(why, xasprintf("network %s exists with another subnet", name));
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
	err = network_realize(st, idx, why);
	/* A network that could not be completed is not left half made. A network
	 * that existed stays: its services are still attached to it. */
	if (err && have < 0)
		net_network_down(st, name, true, NULL);
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
		net_set_why(why, xasprintf("network %s does not exist", name));
		return -ENOENT;
	}
	for (size_t i = st->model.neps; i-- > 0;) {
		if (st->model.eps[i].net != (size_t)idx)
			continue;
		if (!force) {
			net_set_why(why, xasprintf("network %s is in use by %s", name,
					       st->model.eps[i].name));
			return -EBUSY;
		}
		char *unit = xstrdup(st->model.eps[i].unit);
		e = net_service_release(st, unit, &msg);
		net_keep_first(&err, why, e, msg);
		msg = NULL;
		free(unit);
	}
	e = nl_open(&nl);
	if (!e) {
		e = links_del_network(nl, &st->model.nets[idx]);
		nl_close(nl);
	}
	if (e)
		net_keep_first(&err, why, e, xasprintf("network %s: deleting links: %s", name,
						   strerror(-e)));
	pool = &st->pools[idx];
	if (pool->path && unlink(pool->path) < 0 && errno != ENOENT) {
		e = -errno;
		net_keep_first(&err, why, e, xasprintf("%s: %s", pool->path, strerror(-e)));
	}
	pools_remove_at(st, (size_t)idx);
	net_model_remove_network(&st->model, name, NULL);
	e = apply_rules(st, &msg);
	net_keep_first(&err, why, e, msg);
	return err;
}

int net_shutdown(struct net_state *st, char **why)
{
	char *msg = NULL;
	int err = 0, e;

	while (st->model.nnets) {
		char *name = xstrdup(st->model.nets[st->model.nnets - 1].name);
		e = net_network_down(st, name, true, &msg);
		net_keep_first(&err, why, e, msg);
		msg = NULL;
		free(name);
	}
	e = nft_remove(&msg);
	net_keep_first(&err, why, e, msg);
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
	const char *name = net_svc_network(svc);
	ssize_t net = net_model_find_network(&st->model, name);
	struct lease_pool *pool;
	uint32_t addr;
	int err;

	if (svc->net.mode != NET_BRIDGE) {
		net_set_why(why, xasprintf("service %s: network mode is not bridge", svc->name));
		return -EINVAL;
	}
	if (net < 0) {
		net_set_why(why, xasprintf("service %s: network %s is not up", svc->name, name));
		return -ENOENT;
	}
	if (net_model_find_endpoint(&st->model, svc->unit)) {
		net_set_why(why, xasprintf("service %s is already attached", svc->name));
		return -EEXIST;
	}
	err = mkdir_secure(st->hosts_dir, 0755, geteuid());
	if (err) {
		net_set_why(why, xasprintf("%s: %s", st->hosts_dir, strerror(-err)));
		return err;
	}
	pool = &st->pools[net];
	err = lease_acquire(pool, svc->unit, svc->net.ip_set ? svc->net.ip : 0, &addr);
	if (err) {
		char a[20];
		net_set_why(why, xasprintf("service %s: no address on network %s%s%s: %s", svc->name,
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
int net_service_attach(struct net_state *st, const char *unit, int netns_fd, char **why)
{
	const struct net_endpoint *ep = net_model_find_endpoint(&st->model, unit);
	const struct net_network *n;
	const char *step = "";
	struct nl *nl;
	char *alias;
	int err;

	if (!ep) {
		net_set_why(why, xasprintf("service %s is not prepared", unit));
		return -ENOENT;
	}
	n = &st->model.nets[ep->net];
	err = nl_open(&nl);
	if (err) {
		net_set_why(why, xasprintf("netlink: %s", strerror(-err)));
		return err;
	}
	alias = net_veth_alias(n->name, ep->unit);
	err = links_create_host_end(nl, netns_fd, n, ep, &step);
	if (!err)
		err = links_configure_inside(netns_fd, n, ep, &step);
	if (!err)
		err = apply_rules(st, why);
	else
		net_set_why(why, xasprintf("service %s: %s: %s", ep->name, step, strerror(-err)));
	/* Failed half way: the host end goes, and takes the peer with it. */
	if (err)
		links_del_owned(nl, ep->ifname, "veth", alias);
	nl_close(nl);
	free(alias);
	return err;
}

int net_service_release(struct net_state *st, const char *unit, char **why)
{
	const struct net_endpoint *ep = net_model_find_endpoint(&st->model, unit);
	char ifname[IFNAMSIZ], *path, *alias, *msg = NULL;
	size_t net;
	struct nl *nl;
	int err = 0, e;

	if (!ep) {
		net_set_why(why, xasprintf("service %s is not attached", unit));
		return -ENOENT;
	}
	net = ep->net;
	snprintf(ifname, sizeof(ifname), "%s", ep->ifname);
	alias = net_veth_alias(st->model.nets[net].name, unit);
	e = nl_open(&nl);
	if (!e) {
		e = links_del_owned(nl, ifname, "veth", alias);
		nl_close(nl);
	}
	free(alias);
	if (e)
		net_keep_first(&err, why, e, xasprintf("service %s: deleting %s: %s", unit, ifname,
						   strerror(-e)));
	net_model_remove_endpoint(&st->model, unit);
	e = apply_rules(st, &msg);
	net_keep_first(&err, why, e, msg);
	e = lease_release(&st->pools[net], unit);
	if (e && e != -ENOENT)
		net_keep_first(&err, why, e, xasprintf("service %s: releasing its lease: %s", unit,
						   strerror(-e)));
	path = net_hosts_path(st, unit);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("%s", path);
	free(path);
	hosts_refresh(st, net);
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

