/* rtnetlink requests through libmnl (see netlink.h). */
#include "net/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/util.h"

/* Dumps arrive in chunks up to 32 KiB; requests are far smaller. */
#define NL_BUF 32768

struct nl {
	struct mnl_socket *sk;
	unsigned portid, seq;
	char buf[NL_BUF];
};

int nl_open(struct nl **out)
{
	const struct timeval timeout = {.tv_sec = 10};
	struct nl *nl = xcalloc(1, sizeof(*nl));
	int err;

	nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sk) {
		err = -errno;
		free(nl);
		return err;
	}
	/* A kernel that never answers must not hang the supervisor forever. */
	if (setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &timeout,
		       sizeof(timeout)) < 0 ||
	    mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl->sk);
		free(nl);
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned)time(NULL);
	*out = nl;
	return 0;
}

int nl_open_netns(struct nl **out, int netns_fd)
{
	int self, err;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		err = -errno;
		close(self);
		return err;
	}
	err = nl_open(out);
	if (setns(self, CLONE_NEWNET) < 0) {
		log_err("cannot return to our own network namespace");
		abort();
	}
	close(self);
	return err;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

static struct nlmsghdr *msg_new(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Sends nlh and runs cb over every answer until the ack, error or end of dump. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	/* NLM_F_DUMP is two bits, one of which is NLM_F_EXCL on NEW requests:
	 * only a GET with both bits is a dump, which ends with NLMSG_DONE. */
	bool dump = (nlh->nlmsg_type & 3) == 2 && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

	if (!dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ret = mnl_cb_run(nl->buf, n, seq, nl->portid, cb, data);
		if (ret == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *link_msg(struct nl *nl, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = msg_new(nl, type, flags);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

/* ---- reading links ------------------------------------------------------ */

static void parse_linkinfo(const struct nlattr *info, struct nl_link *l)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, info) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
			snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	}
}

static int parse_link(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	*l = (struct nl_link){.ifindex = ifm->ifi_index, .up = ifm->ifi_flags & IFF_UP};
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
				snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
			break;
		case IFLA_IFALIAS:
			if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
				snprintf(l->alias, sizeof(l->alias), "%s", mnl_attr_get_str(a));
			break;
		case IFLA_MASTER:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l->master = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(a, l);
			break;
		}
	}
	return MNL_CB_OK;
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	return parse_link(nlh, data);
}

int nl_link_get(struct nl *nl, const char *name, struct nl_link *out)
{
	struct nlmsghdr *nlh;

	if (strlen(name) >= IFNAMSIZ)
		return -ENODEV;
	nlh = link_msg(nl, RTM_GETLINK, 0, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	*out = (struct nl_link){0};
	return nl_talk(nl, nlh, link_get_cb, out);
}

int nl_link_index(struct nl *nl, const char *name)
{
	struct nl_link l;
	int err = nl_link_get(nl, name, &l);

	return err ? err : l.ifindex;
}

struct link_list {
	int (*cb)(const struct nl_link *, void *);
	void *data;
	int stopped;
};

static int link_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list *ll = data;
	struct nl_link l;

	/* After a stop, keep reading to the end of the dump: an unread tail would
	 * be taken for the answer to the next request on this socket. */
	if (ll->stopped)
		return MNL_CB_OK;
	parse_link(nlh, &l);
	ll->stopped = ll->cb(&l, ll->data);
	return MNL_CB_OK;
}

int nl_link_list(struct nl *nl, int (*cb)(const struct nl_link *, void *), void *data)
{
	struct nlmsghdr *nlh = link_msg(nl, RTM_GETLINK, NLM_F_DUMP, 0);
	struct link_list ll = {.cb = cb, .data = data};
	int err = nl_talk(nl, nlh, link_list_cb, &ll);

	return err ? err : ll.stopped;
}

/* ---- creating and changing links --------------------------------------- */

int nl_bridge_add(struct nl *nl, const char *name, const uint8_t mac[6])
{
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_veth_add(struct nl *nl, const char *name, const char *peer, int peer_netns_fd, int master)
{
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data, *peer_nest;
	struct ifinfomsg *pifm;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is described by a whole ifinfomsg plus attributes. */
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_del(struct nl *nl, int ifindex)
{
	return nl_talk(nl, link_msg(nl, RTM_DELLINK, 0, ifindex), NULL, NULL);
}

int nl_link_set_up(struct nl *nl, int ifindex, bool up)
{
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_set_alias(struct nl *nl, int ifindex, const char *alias)
{
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, ifindex);

	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_bridge_port_set_isolated(struct nl *nl, int ifindex, bool on)
{
	struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, ifindex);
	struct nlattr *info, *data;

	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, on);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh, NULL, NULL);
}

/* ---- addresses and routes --------------------------------------------- */

static uint32_t bcast_of(uint32_t addr, uint8_t prefix)
{
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;

	return htonl(ntohl(addr) | ~mask);
}

static struct nlmsghdr *addr_msg(struct nl *nl, uint16_t type, uint16_t flags, int ifindex,
				 uint32_t addr, uint8_t prefix)
{
	struct nlmsghdr *nlh = msg_new(nl, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, addr);
	return nlh;
}

int nl_addr_add(struct nl *nl, int ifindex, uint32_t addr, uint8_t prefix)
{
	struct nlmsghdr *nlh = addr_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
					addr, prefix);

	mnl_attr_put_u32(nlh, IFA_BROADCAST, bcast_of(addr, prefix));
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_addr_del(struct nl *nl, int ifindex, uint32_t addr, uint8_t prefix)
{
	return nl_talk(nl, addr_msg(nl, RTM_DELADDR, 0, ifindex, addr, prefix), NULL, NULL);
}

struct addr_list {
	int ifindex;
	int (*cb)(uint32_t, uint8_t, void *);
	void *data;
	int stopped;
};

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list *al = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	uint32_t addr = 0;
	bool have = false;

	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != al->ifindex || al->stopped)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL && mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			addr = mnl_attr_get_u32(a);
			have = true;
		}
	}
	if (have)
		al->stopped = al->cb(addr, ifa->ifa_prefixlen, al->data);
	return MNL_CB_OK;
}

int nl_addr_list(struct nl *nl, int ifindex, int (*cb)(uint32_t, uint8_t, void *), void *data)
{
	struct nlmsghdr *nlh = msg_new(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct addr_list al = {.ifindex = ifindex, .cb = cb, .data = data};
	int err;

	ifa->ifa_family = AF_INET;
	err = nl_talk(nl, nlh, addr_list_cb, &al);
	return err ? err : al.stopped;
}

int nl_route_add_default(struct nl *nl, uint32_t gw, int ifindex)
{
	struct nlmsghdr *nlh = msg_new(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_talk(nl, nlh, NULL, NULL);
}
