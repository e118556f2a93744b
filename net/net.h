/* Networking for system mode (SPEC §2.9): bridges, veth pairs, addresses,
 * leases, /etc/hosts content and the nftables rules of sysg's own tables.
 *
 * Layout of what sysg creates (docs/networking.md explains each choice):
 *   - a Linux bridge per network, "sg-<net>", holding the gateway (.1) address;
 *     every service port on it is "isolated", and the bridge answers ARP for
 *     the whole subnet (proxy_arp_pvlan), so service-to-service traffic is
 *     routed by the host and passes the `inet sysg` forward chain (policy);
 *   - a veth pair per service: host end "sv-<unit>" on the bridge, peer created
 *     directly inside the service's netns as eth0, with its address, lo up and
 *     a default route via the gateway;
 *   - tables `inet sysg` (NAT, DNAT for ports, policy) and `bridge sysg`
 *     (per-port anti-spoofing), always replaced whole in one transaction;
 *   - leases in <state_dir>/net/<net>.leases, hosts files in <hosts_dir>/<unit>.
 * Every link carries an ifalias "sysg:net=<net>[:unit=<unit>]" so crash
 * cleanup deletes only links that are sysg's.
 *
 * Addresses in this API are IPv4 in network byte order, as in config.h.
 * Actions return 0 or -errno; on failure *why (when the caller passed one) is
 * set to a malloc'd sentence the caller frees. Everything here is meant for a
 * single-threaded supervisor (see nl_open_netns in netlink.h).
 */
#ifndef SYSG_NET_H
#define SYSG_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"

struct sbuf;

#define NET_DEFAULT_NAME "sysg0"
#define NET_DEFAULT_SUBNET "10.99.0.0/24"
#define NET_DOMAIN "sysg.local"
#define NET_TABLE "sysg"             /* nftables: inet sysg and bridge sysg */
#define NET_ALIAS_PREFIX "sysg:"
#define NET_SVC_IFNAME "eth0"        /* the service's end of its veth pair */

/* ---- link names (names.c) ------------------------------------------------ */

/* Link names are at most IFNAMSIZ-1 = 15 bytes. A name that fits and uses only
 * [A-Za-z0-9_.-] is kept readable ("sg-backend", "sv-api"); anything else is
 * hashed ("sg_" / "sv_" + 12 hex digits of FNV-1a). The readable forms have
 * '-' third and the hashed forms '_', so the two can never collide; two hashed
 * names colliding is detected when the model is built (-EEXIST). */
void net_bridge_name(char out[IFNAMSIZ], const char *net);
void net_veth_name(char out[IFNAMSIZ], const char *unit);
/* Whether a link name has one of sysg's four prefixes. */
bool net_link_name_ours(const char *ifname);
/* A locally administered, stable MAC for a network's bridge: a bridge
 * without a fixed address takes the lowest port MAC and changes it as
 * services come and go, which breaks every service's ARP entry for the gateway. */
void net_bridge_mac(uint8_t mac[6], const char *net);
/* The ifalias values that mark links as sysg's. Caller frees. */
char *net_bridge_alias(const char *net);
char *net_veth_alias(const char *net, const char *unit);
/* Network names follow service names: [A-Za-z0-9][A-Za-z0-9_.-]{0,62}. */
bool net_name_valid(const char *name);
/* The characters allowed in every string sysg puts into nftables text:
 * non-empty, [A-Za-z0-9_.@-] only, at most 255 bytes. */
bool net_text_safe(const char *s);
uint64_t net_hash64(const char *s);

/* ---- the model: what exists, as plain data (model.c) -------------------- */

struct net_network {
	char *name;
	char ifname[IFNAMSIZ];  /* the bridge */
	uint32_t addr;          /* network address */
	uint8_t prefix;
};

struct net_endpoint {           /* a service attached to a network */
	char *name;             /* as users write it: "api", "shop/api" */
	char *unit;             /* file-system-safe: "api", "shop@api" */
	char *hostname;         /* in /etc/hosts as NAME and NAME.sysg.local */
	size_t net;             /* index into net_model.nets */
	uint32_t addr;
	char ifname[IFNAMSIZ];  /* host end of the veth pair */
	struct port_def *ports;
	size_t nports;
	bool allow_from_set;
	struct strv allow_from;
	bool egress_set;
	struct egress_def *egress;
	size_t negress;
};

struct net_model {
	struct net_network *nets;
	size_t nnets;
	struct net_endpoint *eps;
	size_t neps;
};

/* 0 and the index in *idx, or -EINVAL (bad name/prefix/unaligned address),
 * -EEXIST (name exists, or its bridge name collides with another network's). */
int net_model_add_network(struct net_model *m, const char *name, uint32_t addr, uint8_t prefix,
			  size_t *idx, char **why);
/* -ENOENT, or -EBUSY while endpoints are attached. */
int net_model_remove_network(struct net_model *m, const char *name, char **why);
/* Deep-copies what the network layer needs from svc (ports, policy), so the
 * config can be freed. -ENOENT (no such network), -EEXIST (unit already
 * attached, or its veth name collides), -EINVAL (unsafe names). */
int net_model_add_endpoint(struct net_model *m, const struct svc_config *svc, size_t net,
			   uint32_t addr, char **why);
int net_model_remove_endpoint(struct net_model *m, const char *unit);
/* -1 when absent. */
ssize_t net_model_find_network(const struct net_model *m, const char *name);
const struct net_endpoint *net_model_find_endpoint(const struct net_model *m, const char *unit);
/* A name as the hosts table knows it: a service name, its hostname, or
 * hostname.sysg.local; NULL when no running service answers to it. */
const struct net_endpoint *net_model_resolve(const struct net_model *m, const char *name);
void net_model_free(struct net_model *m);
/* The hostname a service is published under: network.hostname, else the
 * service name without its project ("shop/api" -> "api"). */
const char *net_svc_hostname(const struct svc_config *svc);
/* The network a bridged service joins: network.network, else "sysg0". */
const char *net_svc_network(const struct svc_config *svc);
/* The subnet of network `name` from cfg->nets, or NET_DEFAULT_SUBNET for
 * "sysg0" when the file does not define it; -ENOENT otherwise. */
int net_config_subnet(const struct sysg_config *cfg, const char *name, uint32_t *addr,
		      uint8_t *prefix);

/* ---- nftables (nft.c) --------------------------------------------------- */

/* The transaction that replaces sysg's two tables with the model's rules
 * (create-then-delete-then-define, so it is idempotent and atomic, and never
 * touches another table). Pure: no I/O. -EADDRINUSE for two ports mapping the
 * same host address, port and protocol; -EINVAL for an unsafe name. */
int nft_ruleset_build(const struct net_model *m, struct sbuf *out, char **why);
/* Builds and commits it with libnftables. */
int nft_apply(const struct net_model *m, char **why);
/* Deletes both tables if they exist. */
int nft_remove(char **why);
/* The live tables as nft prints them (for `sysg net rules`). */
int nft_list(struct sbuf *out, char **why);

/* ---- /etc/hosts content (hosts.c) ---------------------------------------- */

/* The hosts file of the service `unit`: localhost lines, then every endpoint
 * on the same network, ordered by address, as "ADDR\tHOST HOST.sysg.local".
 * NULL if unit is not attached. Caller frees. */
char *hosts_render(const struct net_model *m, const char *unit);
/* Rewrites path in place, keeping its inode: a bind mount over /etc/hosts pins
 * the inode, so a rename would leave the service seeing the old file. Creates
 * it 0644 if missing; never follows a symlink. */
int hosts_write(const char *path, const char *content);

/* ---- leases (lease.c) ----------------------------------------------------- */

struct lease {
	uint32_t ip;     /* host byte order */
	char *unit;
};

struct lease_pool {
	char *net;
	uint32_t base;   /* network address, host byte order */
	uint8_t prefix;
	struct lease *leases;   /* sorted by ip */
	size_t n;
	struct lease *reserved; /* static addresses from the config, sorted by ip */
	size_t nreserved;
	char *path;      /* the persistence file, or NULL (kept in memory only) */
};

/* -EINVAL for a prefix outside 8..30 or an address with host bits set. */
int lease_pool_init(struct lease_pool *p, const char *net, uint32_t addr, uint8_t prefix,
		    const char *path);
void lease_pool_free(struct lease_pool *p);
/* Reads p->path if it exists. Leases for another subnet (the network was
 * redefined) are dropped; malformed lines are skipped with a warning. */
int lease_pool_load(struct lease_pool *p);
/* Writes p->path atomically: temp file, fsync, rename, fsync of the dir. */
int lease_pool_save(const struct lease_pool *p);
/* Records that `unit` has the static address ip (so no one else is leased
 * it). -EINVAL (outside the subnet, or network/gateway/broadcast address),
 * -EADDRINUSE (reserved for another unit). */
int lease_reserve(struct lease_pool *p, const char *unit, uint32_t ip);
/* The unit's address: its existing lease, else `want` when nonzero (a static
 * address), else the lowest free one. Saved before returning. -ENOSPC when
 * the subnet is full, -EADDRINUSE when want is taken, -EINVAL when want is
 * not a host address of the subnet. */
int lease_acquire(struct lease_pool *p, const char *unit, uint32_t want, uint32_t *out);
/* -ENOENT when the unit holds no lease. Saved before returning. */
int lease_release(struct lease_pool *p, const char *unit);
const struct lease *lease_find(const struct lease_pool *p, const char *unit);
uint32_t lease_gateway(const struct lease_pool *p); /* network byte order */

/* ---- the runtime facade the supervisor calls (net.c, cleanup.c) ---------- */

struct net_state;

/* leases go to <state_dir>/net/, hosts files to <hosts_dir>/<unit>. */
struct net_state *net_state_new(const char *state_dir, const char *hosts_dir);
void net_state_free(struct net_state *st);
const struct net_model *net_state_model(const struct net_state *st);

/* Removes everything a previous sysg left in this netns and on disk: links
 * with sysg's prefixes whose alias is sysg's (or unset), both nft tables,
 * lease files, hosts files. Safe to run when nothing is left (idempotent). */
int net_cleanup_stale(const char *state_dir, const char *hosts_dir, char **why);

/* The static addresses of every bridged service in cfg, so that dynamic
 * leases avoid them. Call before net_service_prepare. */
int net_state_reserve(struct net_state *st, const struct sysg_config *cfg, char **why);

/* Creates (or adopts, idempotently) the network's bridge with its gateway
 * address, turns on IPv4 forwarding, loads its leases and applies the rules. */
int net_network_up(struct net_state *st, const char *name, uint32_t addr, uint8_t prefix,
		   char **why);
/* Deletes the bridge, its leases and rules. With services attached: -EBUSY,
 * unless force (supervisor shutdown), which detaches them first. */
int net_network_down(struct net_state *st, const char *name, bool force, char **why);
/* Brings every network down and removes the tables (supervisor exit). */
int net_shutdown(struct net_state *st, char **why);

/* Before the service's process exists: leases its address, adds it to the
 * model and writes the hosts file of every service on its network (its own
 * included, at net_hosts_path). The network must be up. */
int net_service_prepare(struct net_state *st, const struct svc_config *svc, char **why);
/* With the service's netns (e.g. /proc/<pid>/ns/net, before it is released
 * to exec): veth pair, eth0 address, lo up, default route; then the rules. */
int net_service_attach(struct net_state *st, const char *unit, int netns_fd, char **why);
/* Undoes prepare and attach, whichever happened: link, rules, lease, hosts
 * files (its own removed, the others rewritten). -ENOENT if unknown. */
int net_service_release(struct net_state *st, const char *unit, char **why);
/* Caller frees. */
char *net_hosts_path(const struct net_state *st, const char *unit);

/* `net inspect`: {"name","subnet","gateway","bridge","services":[{"name",
 * "unit","hostname","address","link","ports":[...]}]}; NULL if unknown. */
char *net_inspect_json(const struct net_state *st, const char *name);

/* ---- small helpers (links.c: kernel; names.c: formatting) ---------------- */

/* Sets /proc/sys/net/ipv4/ip_forward to 1; *prev gets the old value (0/1). */
int net_forwarding_enable(int *prev);
/* Opens /proc/<pid>/ns/net (O_CLOEXEC). Returns the fd or -errno. */
int net_netns_open_pid(pid_t pid);
/* "10.99.0.2" / "10.99.0.0/24" into buf (>= 19 bytes). */
const char *net_fmt_addr(uint32_t addr, char *buf, size_t len);
const char *net_fmt_cidr(uint32_t addr, uint8_t prefix, char *buf, size_t len);
/* "10.99.0.0/24" -> addr, prefix; -EINVAL. Host bits must be zero. */
int net_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix);

#endif
