/* rtnetlink through libmnl: the few link, address and route operations sysg
 * needs. Each function sends one request, waits for the kernel's answer and
 * returns 0 or -errno (the kernel's errno: -EEXIST, -ENODEV, ...).
 *
 * A socket acts in the network namespace it was created in, for its whole
 * life. nl_open_netns() creates one inside another netns; see there.
 * There is no rename or move-to-netns: a service's end of its veth pair is
 * created in its netns under its final name (nl_veth_add), and enslaved at
 * creation, which leaves no half-configured link in between.
 */
#ifndef SYSG_NET_NETLINK_H
#define SYSG_NET_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct nl;

struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[32];     /* IFLA_INFO_KIND: "bridge", "veth", ""... */
	char alias[256];   /* IFLA_IFALIAS, "" when unset */
	int master;        /* ifindex of the bridge it is a port of, 0 if none */
	bool up;
};

int nl_open(struct nl **out);
/* A socket in the netns `netns_fd`: setns() into it, socket(), setns() back.
 * setns() moves only the calling thread, and the socket keeps the netns it
 * was created in. In a single-threaded process nothing else runs during the
 * switch (signal handlers only write to a pipe and open no sockets), so no
 * other code ever observes the foreign netns. If the switch back fails the
 * process is in the wrong netns with no way to know what it would break:
 * that aborts. */
int nl_open_netns(struct nl **out, int netns_fd);
void nl_close(struct nl *nl);

/* > 0: the ifindex; -ENODEV if there is no such link. */
int nl_link_index(struct nl *nl, const char *name);
int nl_link_get(struct nl *nl, const char *name, struct nl_link *out);
/* Every link, in ifindex order; stops at the first nonzero cb return. */
int nl_link_list(struct nl *nl, int (*cb)(const struct nl_link *, void *), void *data);

int nl_bridge_add(struct nl *nl, const char *name, const uint8_t mac[6]);
/* A veth pair: `name` here, `peer` created directly in the netns peer_netns_fd
 * (so the service end never exists under a temporary name in ours), and the
 * local end enslaved to master when master > 0. */
int nl_veth_add(struct nl *nl, const char *name, const char *peer, int peer_netns_fd,
		int master);
int nl_link_del(struct nl *nl, int ifindex);
int nl_link_set_up(struct nl *nl, int ifindex, bool up);
int nl_link_set_alias(struct nl *nl, int ifindex, const char *alias);
/* Bridge port flag: isolated ports exchange no frames with each other. */
int nl_bridge_port_set_isolated(struct nl *nl, int ifindex, bool on);

/* IPv4, network byte order. Adding an address that exists is not an error. */
int nl_addr_add(struct nl *nl, int ifindex, uint32_t addr, uint8_t prefix);
int nl_addr_del(struct nl *nl, int ifindex, uint32_t addr, uint8_t prefix);
/* The IPv4 addresses on ifindex; stops at the first nonzero cb return. */
int nl_addr_list(struct nl *nl, int ifindex,
		 int (*cb)(uint32_t addr, uint8_t prefix, void *), void *data);
/* default via gw dev ifindex, in the main table (replacing one that exists). */
int nl_route_add_default(struct nl *nl, uint32_t gw, int ifindex);

#endif
