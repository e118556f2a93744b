/* Checks across services, once every service is read: references to other
 * services (depends_on, network.mode service:NAME, allow_from, egress),
 * dependency cycles and the start order, and the networks (SPEC §2.3, §2.9). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

/* "did you mean" over service names costs O(services) per unknown name: a
 * hostile file with many of both gets hints only for its first ones. */
#define DYM_BUDGET 500000

struct vctx {
	struct lctx *c;
	const char **names; /* every service name, for "did you mean" */
	size_t dym_left;
	size_t *stamp;      /* stamp[dep] == i + 1: service i already lists dep */
};

static size_t lookup(struct lctx *c, const char *name)
{
	size_t idx;
	return strmap_get(&c->names, name, &idx) ? idx : SIZE_MAX;
}

/* In a project, a bare name is the project's service first, then a top-level one. */
static size_t resolve(struct lctx *c, const struct svc_config *from, const char *name)
{
	size_t idx;

	if (!strchr(name, '/') && from->project) {
		char *full = arena_printf(c->a, "%s/%s", from->project, name);
		idx = lookup(c, full);
		if (idx != SIZE_MAX)
			return idx;
	}
	return lookup(c, name);
}

static void unknown_service(struct vctx *v, const char *path, unsigned line, unsigned col,
			    const char *name)
{
	const char *best = NULL;
	char hint[160];

	if (v->dym_left >= v->c->cfg->nsvcs) {
		v->dym_left -= v->c->cfg->nsvcs;
		best = did_you_mean(name, v->names, v->c->cfg->nsvcs);
	}
	if (best)
		snprintf(hint, sizeof(hint), "did you mean '%.100s'?", best);
	lerr_path(v->c, path, line, col, best ? hint : NULL, "unknown service %s",
		  quote(v->c, name));
}

static void check_deps(struct vctx *v, size_t i)
{
	struct lctx *c = v->c;
	struct svc_config *s = &c->cfg->svcs[i];
	struct svc_build *b = &c->builds[i];

	for (size_t j = 0; j < s->ndeps; j++) {
		struct dep *d = &s->deps[j];
		char *path = arena_printf(c->a, "%s.depends_on[%zu]", b->path, j);
		size_t idx = resolve(c, s, d->name);

		if (idx == SIZE_MAX) {
			unknown_service(v, path, d->line, d->col, d->name);
			continue;
		}
		if (idx == i) {
			lerr_path(c, path, d->line, d->col, "remove it",
				  "the service depends on itself");
			continue;
		}
		if (v->stamp[idx] == i + 1) {
			lerr_path(c, path, d->line, d->col, NULL, "%s is listed twice",
				  quote(c, c->cfg->svcs[idx].name));
			continue;
		}
		v->stamp[idx] = i + 1;
		d->index = idx;
		d->name = c->cfg->svcs[idx].name;
		if (d->cond == DEP_COMPLETED && c->cfg->svcs[idx].restart == RESTART_ALWAYS)
			diags_add(c->d, DIAG_WARNING, c->file, d->line, d->col,
				  "use condition: started or ready, or another restart_policy",
				  "%s: %s has restart_policy always, so it never completes", path,
				  quote(c, d->name));
	}
}

static void check_net_refs(struct vctx *v, size_t i)
{
	struct lctx *c = v->c;
	struct svc_config *s = &c->cfg->svcs[i];
	struct svc_build *b = &c->builds[i];
	struct svc_net *n = &s->net;

	if (n->mode == NET_SERVICE && b->net_mode) {
		char *path = arena_printf(c->a, "%s.network.mode", b->path);
		size_t idx = resolve(c, s, n->share_with);
		if (idx == SIZE_MAX)
			unknown_service(v, path, b->net_mode->line, b->net_mode->col, n->share_with);
		else if (idx == i)
			lerr_path(c, path, b->net_mode->line, b->net_mode->col, NULL,
				  "a service cannot share its own network namespace");
		n->share_index = idx;
		if (idx != SIZE_MAX)
			n->share_with = c->cfg->svcs[idx].name;
	}
	for (size_t j = 0; b->allow_from && j < n->allow_from.n; j++) {
		const struct ynode *it = b->allow_from->kind == Y_SEQ ? b->allow_from->items[j]
								       : b->allow_from;
		size_t idx = resolve(c, s, n->allow_from.v[j]);
		if (idx == SIZE_MAX)
			unknown_service(v, arena_printf(c->a, "%s.network.policy.allow_from[%zu]",
							b->path, j),
					it->line, it->col, n->allow_from.v[j]);
		else
			n->allow_from.v[j] = c->cfg->svcs[idx].name;
	}
}

/* ---- dependency cycles and the start order ------------------------------------------ */

static size_t nedges(const struct svc_config *s)
{
	return s->ndeps + (s->net.mode == NET_SERVICE);
}

static size_t edge(const struct svc_config *s, size_t k)
{
	return k < s->ndeps ? s->deps[k].index : s->net.share_index;
}

static void report_cycle(struct lctx *c, const size_t *stack, size_t from, size_t top,
			 bool *in_cycle)
{
	size_t len = top - from + 1, start = from, first;
	struct cbuf msg = {0};
	bool fresh = false;
	const struct svc_config *s;

	for (size_t k = from; k <= top; k++) {
		fresh = fresh || !in_cycle[stack[k]];
		if (stack[k] < stack[start])
			start = k;
	}
	if (!fresh)
		return;
	for (size_t k = 0; k < len; k++) {
		size_t node = stack[from + (start - from + k) % len];
		in_cycle[node] = true;
		cbuf_addf(&msg, "%s -> ", c->cfg->svcs[node].name);
	}
	cbuf_adds(&msg, c->cfg->svcs[stack[start]].name);
	/* Reported at the first service's entry that leads into the cycle. */
	first = stack[start];
	s = &c->cfg->svcs[first];
	{
		size_t next = stack[from + (start - from + 1) % len];
		unsigned line = s->line, col = s->col;
		const char *path = c->builds[first].path;
		for (size_t k = 0; k < s->ndeps; k++) {
			if (s->deps[k].index == next) {
				line = s->deps[k].line;
				col = s->deps[k].col;
				path = arena_printf(c->a, "%s.depends_on[%zu]", c->builds[first].path, k);
				break;
			}
		}
		if (path == c->builds[first].path && c->builds[first].net_mode) {
			line = c->builds[first].net_mode->line;
			col = c->builds[first].net_mode->col;
			path = arena_printf(c->a, "%s.network.mode", c->builds[first].path);
		}
		lerr_path(c, path, line, col, "services cannot wait for each other",
			  "dependency cycle: %s", msg.s);
	}
	cbuf_free(&msg);
}

#define MAX_CYCLE_CHECKS 64

/* Depth-first, dependencies before dependents, without recursion (a chain
 * of a hundred thousand services must not overflow the stack). */
static void order_services(struct lctx *c)
{
	struct sysg_config *cfg = c->cfg;
	size_t n = cfg->nsvcs, top, no = 0, cycle_checks = 0;
	size_t *stack = cfg_xmalloc((n + 1) * sizeof(size_t));
	size_t *next = cfg_xmalloc((n + 1) * sizeof(size_t));
	size_t *pos = cfg_xmalloc((n + 1) * sizeof(size_t));
	unsigned char *state = calloc(n + 1, 1);
	bool *in_cycle = calloc(n + 1, sizeof(bool));

	cfg->order = arena_array(c->a, n + 1, sizeof(size_t));
	for (size_t root = 0; root < n; root++) {
		if (state[root])
			continue;
		top = 0;
		stack[0] = root;
		next[0] = 0;
		pos[root] = 0;
		state[root] = 1;
		for (;;) {
			size_t u = stack[top];
			if (next[top] < nedges(&cfg->svcs[u])) {
				size_t w = edge(&cfg->svcs[u], next[top]++);
				if (w >= n || w == u)
					continue;
				if (state[w] == 0) {
					state[w] = 1;
					stack[++top] = w;
					next[top] = 0;
					pos[w] = top;
				} else if (state[w] == 1 && cycle_checks++ < MAX_CYCLE_CHECKS) {
					/* Naming a cycle walks the stack: a hostile graph
					 * with a back edge per node would make that
					 * quadratic, and the first cycles say enough. */
					report_cycle(c, stack, pos[w], top, in_cycle);
				}
				continue;
			}
			state[u] = 2;
			cfg->order[no++] = u;
			if (top == 0)
				break;
			top--;
		}
	}
	free(stack);
	free(next);
	free(pos);
	free(state);
	free(in_cycle);
}

/* ---- networks ------------------------------------------------------------------------ */


static uint32_t mask_of(uint8_t prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

struct port_ref {
	const struct port_def *p;
	size_t svc, item;
};

static int port_cmp(const void *pa, const void *pb)
{
	const struct port_ref *a = pa, *b = pb;

	if (a->p->proto != b->p->proto)
		return a->p->proto < b->p->proto ? -1 : 1;
	if (a->p->host_port != b->p->host_port)
		return a->p->host_port < b->p->host_port ? -1 : 1;
	if (a->p->host_ip != b->p->host_ip)
		return a->p->host_ip < b->p->host_ip ? -1 : 1;
	return a->svc < b->svc ? -1 : a->svc > b->svc;
}

static void port_conflict(struct lctx *c, const struct port_ref *a, const struct port_ref *b)
{
	const struct svc_build *bb = &c->builds[b->svc];
	const struct ynode *it = bb->ports->items[b->item];

	lerr_path(c, arena_printf(c->a, "%s.network.ports[%zu]", bb->path, b->item), it->line,
		  it->col, "each host port can be published once",
		  "%s is already published by %s", quote(c, b->p->spec),
		  quote(c, c->cfg->svcs[a->svc].name));
}

static void check_ports(struct lctx *c)
{
	struct sysg_config *cfg = c->cfg;
	struct port_ref *r;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < cfg->nsvcs; i++)
		n += cfg->svcs[i].net.nports;
	if (n < 2)
		return;
	r = cfg_xmalloc(n * sizeof(*r));
	for (size_t i = 0; i < cfg->nsvcs; i++)
		for (size_t j = 0; j < cfg->svcs[i].net.nports; j++)
			r[k++] = (struct port_ref){&cfg->svcs[i].net.ports[j], i, j};
	qsort(r, n, sizeof(*r), port_cmp);
	/* Within one proto:port group, 0.0.0.0 (first after sorting) clashes with
	 * everything, and equal addresses clash with each other. */
	for (size_t g = 0; g < n;) {
		size_t e = g + 1;
		while (e < n && r[e].p->proto == r[g].p->proto && r[e].p->host_port == r[g].p->host_port)
			e++;
		for (size_t j = g + 1; j < e; j++) {
			const struct port_ref *prev = r[g].p->host_ip == 0 ? &r[g] : &r[j - 1];
			if (r[g].p->host_ip == 0 || r[j].p->host_ip == r[j - 1].p->host_ip)
				port_conflict(c, prev, &r[j]);
		}
		g = e;
	}
	free(r);
}

static int net_cmp(const void *pa, const void *pb)
{
	const struct net_def *a = *(const struct net_def *const *)pa;
	const struct net_def *b = *(const struct net_def *const *)pb;
	uint32_t x = ntohl(a->addr), y = ntohl(b->addr);

	if (x != y)
		return x < y ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Sorted by start address, a range overlaps an earlier one exactly when it
 * starts before the furthest end seen so far. Reported on the later one in
 * the file. */
static void check_overlaps(struct lctx *c)
{
	struct sysg_config *cfg = c->cfg;
	const struct net_def **v, *reach = NULL;
	uint64_t end = 0;

	if (cfg->nnets < 2)
		return;
	v = cfg_xmalloc(cfg->nnets * sizeof(*v));
	for (size_t i = 0; i < cfg->nnets; i++)
		v[i] = &cfg->nets[i];
	qsort(v, cfg->nnets, sizeof(*v), net_cmp);
	for (size_t i = 0; i < cfg->nnets; i++) {
		uint64_t start = ntohl(v[i]->addr);
		uint64_t last = start + (1ull << (32 - v[i]->prefix)) - 1;
		if (reach && start <= end) {
			const struct net_def *later = v[i] > reach ? v[i] : reach;
			const struct net_def *other = later == v[i] ? reach : v[i];
			lerr_path(c, arena_printf(c->a, "networks.%s.subnet", later->name), later->line,
				  later->col, NULL, "the subnet overlaps the network %s",
				  quote(c, other->name));
		}
		if (!reach || last > end) {
			end = last;
			reach = v[i];
		}
	}
	free(v);
}

static void check_networks(struct vctx *v)
{
	struct lctx *c = v->c;
	struct sysg_config *cfg = c->cfg;
	struct strmap hosts = {0}, nets = {0};

	check_overlaps(c);
	for (size_t i = 0; i < cfg->nnets; i++)
		strmap_put(&nets, cfg->nets[i].name, i);
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		struct svc_config *s = &cfg->svcs[i];
		struct svc_build *b = &c->builds[i];
		struct net_def *nd;
		const char *host, *key;
		size_t k;

		if (s->net.mode != NET_BRIDGE)
			continue;
		nd = strmap_get(&nets, s->net.network, &k) ? &cfg->nets[k] : NULL;
		if (!nd && !strcmp(s->net.network, "sysg0")) {
			/* top_networks leaves room for it */
			if (!cfg->nets)
				cfg->nets = arena_array(c->a, 1, sizeof(*cfg->nets));
			strmap_put(&nets, "sysg0", cfg->nnets);
			nd = &cfg->nets[cfg->nnets++];
			*nd = (struct net_def){.name = "sysg0", .addr = htonl(0x0a630000), .prefix = 24};
		}
		if (!nd) {
			lerr_path(c, arena_printf(c->a, "%s.network.network", b->path), b->key->line,
				  b->key->col, "define it under networks: at the top",
				  "unknown network %s", quote(c, s->net.network));
			continue;
		}
		if (s->net.ip_set) {
			uint32_t m = mask_of(nd->prefix), host_bits = ntohl(s->net.ip & ~m);
			if ((s->net.ip & m) != nd->addr || host_bits == 0 || host_bits == ntohl(~m))
				lerr_path(c, arena_printf(c->a, "%s.network.ip", b->path), b->ip->line,
					  b->ip->col, "pick a host address inside the subnet",
					  "%s is not a host address of the network %s",
					  quote(c, b->ip->str), quote(c, nd->name));
		}
		host = s->net.hostname ? s->net.hostname : strchr(s->name, '/') ? strchr(s->name, '/') + 1 : s->name;
		key = arena_printf(c->a, "%s %s", nd->name, host);
		if (strmap_get(&hosts, key, NULL))
			lerr_path(c, b->path, b->key->line, b->key->col,
				  "set network.hostname to tell them apart",
				  "another service on the network %s is already called %s",
				  quote(c, nd->name), quote(c, host));
		strmap_put(&hosts, key, i);
		strmap_put(&hosts, host, i);
		if (s->net.ip_set) {
			char ipkey[48];
			snprintf(ipkey, sizeof(ipkey), "%s ip %u", nd->name, s->net.ip);
			if (strmap_get(&hosts, arena_strdup(c->a, ipkey), NULL))
				lerr_path(c, arena_printf(c->a, "%s.network.ip", b->path), b->ip->line,
					  b->ip->col, NULL, "another service already has the address %s",
					  quote(c, b->ip->str));
			strmap_put(&hosts, arena_strdup(c->a, ipkey), i);
		}
	}
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		struct svc_net *n = &cfg->svcs[i].net;
		for (size_t j = 0; j < n->negress; j++) {
			const struct ynode *it = c->builds[i].egress->items[j];
			if (n->egress[j].host && !strmap_get(&hosts, n->egress[j].host, NULL))
				lerr_path(c, arena_printf(c->a, "%s.network.policy.egress.allow[%zu]",
							  c->builds[i].path, j),
					  it->line, it->col, "name a service on a bridge network",
					  "no service is called %s", quote(c, n->egress[j].host));
		}
	}
	strmap_free(&hosts);
	strmap_free(&nets);
	check_ports(c);
}

void validate_all(struct lctx *c)
{
	struct sysg_config *cfg = c->cfg;
	struct vctx v = {.c = c, .dym_left = DYM_BUDGET};

	v.names = arena_array(c->a, cfg->nsvcs + 1, sizeof(char *));
	v.stamp = arena_array(c->a, cfg->nsvcs + 1, sizeof(size_t));
	for (size_t i = 0; i < cfg->nsvcs; i++)
		v.names[i] = cfg->svcs[i].name;
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		check_deps(&v, i);
		check_net_refs(&v, i);
	}
	order_services(c);
	check_networks(&v);
}
