/* Shared between the net/ sources only; the supervisor includes net/net.h. */
#ifndef SYSG_NET_INTERNAL_H
#define SYSG_NET_INTERNAL_H

#include <stdlib.h>

#include "net/net.h"
#include "net/netlink.h"

/* Hands msg to the caller through why (when it asked for a reason). */
static inline void net_set_why(char **why, char *msg)
{
	if (why)
		*why = msg;
	else
		free(msg);
}

/* For best-effort sequences: keeps the first failure and its reason. */
static inline void net_keep_first(int *err, char **why, int e, char *msg)
{
	if (e && !*err) {
		*err = e;
		net_set_why(why, msg);
	} else {
		free(msg);
	}
}

/* links.c: the kernel objects behind a network and a service. */
int links_del_all(struct nl *nl, const int *ifindex, size_t n);
/* ifname if it is of `kind` and labelled alias (or not labelled at all): 0
 * when deleted or absent, -EEXIST when a link of that name is someone else's. */
int links_del_owned(struct nl *nl, const char *ifname, const char *kind, const char *alias);
int links_bridge_setup(struct nl *nl, const struct net_network *n, char **why);
/* The bridge of n and every port labelled for n, ports first. */
int links_del_network(struct nl *nl, const struct net_network *n);
/* *step names what failed, for the caller's message. */
int links_create_host_end(struct nl *nl, int netns_fd, const struct net_network *n,
			  const struct net_endpoint *ep, const char **step);
int links_configure_inside(int netns_fd, const struct net_network *n,
			   const struct net_endpoint *ep, const char **step);

#endif
