/* Addresses as written in the file: listen URLs, port mappings, CIDRs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "config/internal.h"

static int port_of(const char *s, uint16_t *out)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr a;

	/* inet_pton takes only the dotted quad: no "10.1", no octal. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*addr = a.s_addr;
	return 0;
}

int parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix, const char **why)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	unsigned p = 0;
	uint32_t mask;

	if (!slash || (size_t)(slash - s) >= sizeof(buf) || !slash[1] || strlen(slash + 1) > 2) {
		*why = "is not an IPv4 CIDR such as 10.99.1.0/24";
		return -1;
	}
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	for (const char *q = slash + 1; *q; q++) {
		if (*q < '0' || *q > '9') {
			*why = "is not an IPv4 CIDR such as 10.99.1.0/24";
			return -1;
		}
		p = p * 10 + (unsigned)(*q - '0');
	}
	if (parse_ipv4(buf, addr) < 0 || p > 32) {
		*why = "is not an IPv4 CIDR such as 10.99.1.0/24";
		return -1;
	}
	mask = p ? htonl(~0u << (32 - p)) : 0;
	if (*addr & ~mask) {
		*why = "has host bits set (the network address has zeros after the prefix)";
		return -1;
	}
	*prefix = (uint8_t)p;
	return 0;
}

static int listen_inet(struct arena *a, const char *rest, bool v6, struct sock_def *out,
		       const char **why)
{
	const char *colon, *host = rest;
	size_t hlen;
	unsigned char buf[16];
	char h[64];

	if (*rest == '[') {
		const char *rb = strchr(rest, ']');
		if (!rb || rb[1] != ':') {
			*why = "has an IPv6 address without [brackets]:port";
			return -1;
		}
		host = rest + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
		v6 = true;
	} else {
		colon = strrchr(rest, ':');
		if (!colon) {
			*why = "has no :port";
			return -1;
		}
		hlen = (size_t)(colon - rest);
		if (memchr(rest, ':', hlen)) {
			*why = "has an IPv6 address without [brackets]:port";
			return -1;
		}
	}
	if (port_of(colon + 1, &out->port) < 0) {
		*why = "has no valid port (1-65535)";
		return -1;
	}
	if (hlen >= sizeof(h)) {
		*why = "has an invalid address";
		return -1;
	}
	memcpy(h, host, hlen);
	h[hlen] = '\0';
	if (!hlen || !strcmp(h, "*"))
		strcpy(h, v6 ? "::" : "0.0.0.0");
	out->family = v6 ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, h, buf) != 1) {
		/* Names would need DNS at start: sysg binds numeric addresses only. */
		*why = v6 ? "has an invalid IPv6 address" : "has an invalid IPv4 address (numbers only)";
		return -1;
	}
	out->addr = arena_strdup(a, h);
	return 0;
}

int parse_listen(struct arena *a, const char *s, struct sock_def *out, const char **why)
{
	static const struct {
		const char *scheme;
		int type;
		bool v6;
	} inet[] = {
		{"tcp://", SOCK_STREAM, false}, {"tcp6://", SOCK_STREAM, true},
		{"udp://", SOCK_DGRAM, false}, {"udp6://", SOCK_DGRAM, true},
	};
	const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	for (size_t i = 0; i < CFG_ARRAY_SIZE(inet); i++) {
		if (!strncmp(s, inet[i].scheme, strlen(inet[i].scheme))) {
			out->type = inet[i].type;
			return listen_inet(a, s + strlen(inet[i].scheme), inet[i].v6, out, why);
		}
	}
	out->family = AF_UNIX;
	out->type = SOCK_STREAM;
	if (!strncmp(s, "unix://", 7) && s[7] == '/') {
		out->addr = path_resolve(a, NULL, s + 7);
		if (strlen(out->addr) > max || strlen(out->addr) < 2) {
			*why = "has a socket path longer than 107 bytes";
			return -1;
		}
		return 0;
	}
	if (!strncmp(s, "unix:@", 6)) {
		out->abstract = true;
		out->addr = arena_strdup(a, s + 6);
		if (!*out->addr || strlen(out->addr) > max - 1) {
			*why = "has an empty or too long abstract name";
			return -1;
		}
		return 0;
	}
	*why = "is not tcp://, tcp6://, udp://, udp6://, unix:///path or unix:@name";
	return -1;
}

/* "8080:80", "0.0.0.0:443:8443/tcp", "53:53/udp". */
int parse_port_spec(struct arena *a, const char *s, struct port_def *out, const char **why)
{
	char buf[64], *parts[3], *proto, *p = buf;
	size_t n = 0;

	if (strlen(s) >= sizeof(buf)) {
		*why = "is too long";
		return -1;
	}
	strcpy(buf, s);
	out->proto = IPPROTO_TCP;
	proto = strchr(buf, '/');
	if (proto) {
		*proto++ = '\0';
		if (!strcmp(proto, "udp"))
			out->proto = IPPROTO_UDP;
		else if (strcmp(proto, "tcp")) {
			*why = "has a protocol other than tcp or udp";
			return -1;
		}
	}
	while (n < 3) {
		parts[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (p || n < 2) {
		*why = "is not HOST_PORT:SERVICE_PORT[/tcp|udp] or HOST_IP:HOST_PORT:SERVICE_PORT";
		return -1;
	}
	out->host_ip = 0;
	if (n == 3 && parse_ipv4(parts[0], &out->host_ip) < 0) {
		*why = "has an invalid host IPv4 address";
		return -1;
	}
	if (port_of(parts[n - 2], &out->host_port) < 0 || port_of(parts[n - 1], &out->svc_port) < 0) {
		*why = "has a port outside 1-65535";
		return -1;
	}
	out->spec = arena_strdup(a, s);
	return 0;
}
