/* Link names, ownership marks, the character rules for nftables text, and
 * address formatting: pure functions. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "supervisor/util.h"

#define READABLE_MAX (IFNAMSIZ - 1 - 3) /* after "sg-" / "sv-" */

uint64_t net_hash64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a: tiny, stable across builds */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool readable_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static void link_name(char out[IFNAMSIZ], const char *readable, const char *hashed,
		      const char *name)
{
	size_t len = strlen(name);
	bool ok = len > 0 && len <= READABLE_MAX;

	for (size_t i = 0; ok && i < len; i++)
		ok = readable_char(name[i]);
	if (ok) {
		snprintf(out, IFNAMSIZ, "%s%s", readable, name);
		return;
	}
	/* 48 bits of the hash: 12 hex digits fill the 15 bytes exactly. */
	snprintf(out, IFNAMSIZ, "%s%012llx", hashed,
		 (unsigned long long)(net_hash64(name) >> 16));
}

void net_bridge_name(char out[IFNAMSIZ], const char *net) { link_name(out, "sg-", "sg_", net); }
void net_veth_name(char out[IFNAMSIZ], const char *unit) { link_name(out, "sv-", "sv_", unit); }

bool net_link_name_ours(const char *ifname)
{
	return str_has_prefix(ifname, "sg-") || str_has_prefix(ifname, "sg_") ||
	       str_has_prefix(ifname, "sv-") || str_has_prefix(ifname, "sv_");
}

void net_bridge_mac(uint8_t mac[6], const char *net)
{
	uint64_t h = net_hash64(net);

	mac[0] = 0x02; /* locally administered, unicast */
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

char *net_bridge_alias(const char *net) { return xasprintf(NET_ALIAS_PREFIX "net=%s", net); }

char *net_veth_alias(const char *net, const char *unit)
{
	return xasprintf(NET_ALIAS_PREFIX "net=%s:unit=%s", net, unit);
}

bool net_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 63 || name[0] == '.' || name[0] == '_' || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!readable_char(name[i]))
			return false;
	return true;
}

bool net_text_safe(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!readable_char(s[i]) && s[i] != '@')
			return false;
	return true;
}

const char *net_fmt_addr(uint32_t addr, char *buf, size_t len)
{
	struct in_addr a = {.s_addr = addr};

	if (!inet_ntop(AF_INET, &a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *net_fmt_cidr(uint32_t addr, uint8_t prefix, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", net_fmt_addr(addr, a, sizeof(a)), prefix);
	return buf;
}

int net_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char host[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	unsigned long p;

	if (!slash || (size_t)(slash - s) >= sizeof(host) || !slash[1])
		return -EINVAL;
	memcpy(host, s, slash - s);
	host[slash - s] = '\0';
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (*end || errno || p > 32 || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	if (inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	if (p < 32 && (ntohl(a.s_addr) & ~(p ? ~0u << (32 - p) : 0u)))
		return -EINVAL;
	*addr = a.s_addr;
	*prefix = (uint8_t)p;
	return 0;
}
