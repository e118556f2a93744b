/* IPv4 leases from a network's subnet. The gateway is always .1 (the bridge);
 * static addresses from the config are reserved so dynamic leases avoid them.
 *
 * File format (one per network, replaced atomically on every change):
 *     sysg-leases 1 10.99.0.0/24
 *     10.99.0.2 api
 *     10.99.0.3 shop@db
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "supervisor/log.h"
#include "supervisor/util.h"

#define LEASE_MAGIC "sysg-leases 1"
#define LEASE_FILE_MAX (4u << 20)

static uint32_t mask_of(uint8_t prefix) { return prefix ? ~0u << (32 - prefix) : 0; }
static uint32_t bcast(const struct lease_pool *p) { return p->base | ~mask_of(p->prefix); }

int lease_pool_init(struct lease_pool *p, const char *net, uint32_t addr, uint8_t prefix,
		    const char *path)
{
	uint32_t base = ntohl(addr);

	*p = (struct lease_pool){0};
	if (prefix < 8 || prefix > 30 || (base & ~mask_of(prefix)))
		return -EINVAL;
	p->net = xstrdup(net);
	p->base = base;
	p->prefix = prefix;
	p->path = path ? xstrdup(path) : NULL;
	return 0;
}

static void leases_clear(struct lease **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i].unit);
	free(*v);
	*v = NULL;
	*n = 0;
}

void lease_pool_free(struct lease_pool *p)
{
	leases_clear(&p->leases, &p->n);
	leases_clear(&p->reserved, &p->nreserved);
	free(p->net);
	free(p->path);
	*p = (struct lease_pool){0};
}

/* A usable host address: inside the subnet and not network, gateway or broadcast. */
static bool host_ok(const struct lease_pool *p, uint32_t ip)
{
	return (ip & mask_of(p->prefix)) == p->base && ip > p->base + 1 && ip < bcast(p);
}

static const struct lease *by_ip(const struct lease *v, size_t n, uint32_t ip)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ip == ip)
			return &v[i];
	return NULL;
}

static const struct lease *by_unit(const struct lease *v, size_t n, const char *unit)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i].unit, unit))
			return &v[i];
	return NULL;
}

static void insert_sorted(struct lease **v, size_t *n, uint32_t ip, const char *unit)
{
	size_t at = 0;

	while (at < *n && (*v)[at].ip < ip)
		at++;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	memmove(&(*v)[at + 1], &(*v)[at], (*n - at) * sizeof(**v));
	(*v)[at] = (struct lease){.ip = ip, .unit = xstrdup(unit)};
	(*n)++;
}

static void remove_at(struct lease *v, size_t *n, size_t at)
{
	free(v[at].unit);
	memmove(&v[at], &v[at + 1], (*n - at - 1) * sizeof(*v));
	(*n)--;
}

const struct lease *lease_find(const struct lease_pool *p, const char *unit)
{
	return by_unit(p->leases, p->n, unit);
}

uint32_t lease_gateway(const struct lease_pool *p) { return htonl(p->base + 1); }

int lease_reserve(struct lease_pool *p, const char *unit, uint32_t ip_be)
{
	uint32_t ip = ntohl(ip_be);
	const struct lease *r;

	if (!host_ok(p, ip))
		return -EINVAL;
	r = by_ip(p->reserved, p->nreserved, ip);
	if (r)
		return streq(r->unit, unit) ? 0 : -EADDRINUSE;
	insert_sorted(&p->reserved, &p->nreserved, ip, unit);
	return 0;
}

/* Free for `unit`: not leased, and not reserved for someone else. */
static bool ip_free_for(const struct lease_pool *p, uint32_t ip, const char *unit)
{
	const struct lease *r = by_ip(p->reserved, p->nreserved, ip);

	return !by_ip(p->leases, p->n, ip) && (!r || streq(r->unit, unit));
}

static int pick(const struct lease_pool *p, const char *unit, uint32_t want, uint32_t *ip)
{
	if (want) {
		if (!host_ok(p, want))
			return -EINVAL;
		if (!ip_free_for(p, want, unit))
			return -EADDRINUSE;
		*ip = want;
		return 0;
	}
	for (uint32_t a = p->base + 2; a < bcast(p); a++) {
		if (ip_free_for(p, a, unit)) {
			*ip = a;
			return 0;
		}
	}
	return -ENOSPC;
}

int lease_acquire(struct lease_pool *p, const char *unit, uint32_t want_be, uint32_t *out)
{
	uint32_t want = ntohl(want_be), ip;
	const struct lease *have = lease_find(p, unit);
	int err;

	if (have && (!want || have->ip == want)) {
		*out = htonl(have->ip);
		return 0;
	}
	if (have) /* the static address changed since the lease was taken */
		remove_at(p->leases, &p->n, have - p->leases);
	err = pick(p, unit, want, &ip);
	if (err)
		return err;
	insert_sorted(&p->leases, &p->n, ip, unit);
	err = lease_pool_save(p);
	if (err) {
		remove_at(p->leases, &p->n, by_unit(p->leases, p->n, unit) - p->leases);
		return err;
	}
	*out = htonl(ip);
	return 0;
}

int lease_release(struct lease_pool *p, const char *unit)
{
	const struct lease *l = lease_find(p, unit);

	if (!l)
		return -ENOENT;
	remove_at(p->leases, &p->n, l - p->leases);
	return lease_pool_save(p);
}

static void header(const struct lease_pool *p, struct sbuf *b)
{
	char cidr[32];

	sbuf_addf(b, LEASE_MAGIC " %s\n", net_fmt_cidr(htonl(p->base), p->prefix, cidr,
						       sizeof(cidr)));
}

static int fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

int lease_pool_save(const struct lease_pool *p)
{
	struct sbuf b = {0};
	char *tmp;
	int fd, err = 0;

	if (!p->path)
		return 0;
	header(p, &b);
	for (size_t i = 0; i < p->n; i++) {
		char a[20];
		sbuf_addf(&b, "%s %s\n", net_fmt_addr(htonl(p->leases[i].ip), a, sizeof(a)),
			  p->leases[i].unit);
	}
	/* Write aside, then rename: a crash leaves either the old or the new file. */
	tmp = xasprintf("%s.tmp", p->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	err = write_all(fd, b.s, b.len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	if (!err && rename(tmp, p->path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	else
		err = fsync_dir_of(p->path);
out_free:
	free(tmp);
	sbuf_free(&b);
	return err;
}

static bool parse_line(const struct lease_pool *p, char *line, uint32_t *ip, char **unit)
{
	char *sp = strchr(line, ' ');
	struct in_addr a;

	if (!sp)
		return false;
	*sp = '\0';
	*unit = sp + 1;
	if (inet_pton(AF_INET, line, &a) != 1 || !net_text_safe(*unit))
		return false;
	*ip = ntohl(a.s_addr);
	return host_ok(p, *ip) && !by_ip(p->leases, p->n, *ip) && !by_unit(p->leases, p->n, *unit);
}

int lease_pool_load(struct lease_pool *p)
{
	struct sbuf want = {0};
	char *buf, *line, *next;
	size_t len;
	unsigned lineno = 1;
	int err;

	if (!p->path)
		return 0;
	err = read_file(p->path, LEASE_FILE_MAX, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	leases_clear(&p->leases, &p->n);
	header(p, &want);
	if (len < want.len || memcmp(buf, want.s, want.len) != 0) {
		log_warnx("%s: leases for another subnet or format; starting afresh", p->path);
		goto out;
	}
	for (line = buf + want.len; *line; line = next) {
		uint32_t ip;
		char *unit;
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		lineno++;
		if (parse_line(p, line, &ip, &unit))
			insert_sorted(&p->leases, &p->n, ip, unit);
		else
			log_warnx("%s:%u: malformed or duplicate lease skipped", p->path, lineno);
	}
out:
	sbuf_free(&want);
	free(buf);
	return 0;
}
