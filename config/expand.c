/* ${VAR} expansion in string values (SPEC §2): ${NAME}, ${NAME:-default}
 * (default when unset or empty), ${NAME-default} (default when unset), $$ for
 * a literal $. A bare $X is left alone: it is shell syntax, and makes the
 * command run under /bin/sh. Lookups: the service's env (files + vars), then
 * the process environment. Expansion is bounded: a scalar may grow to 1 MiB
 * and a whole file's expansions to 64 MiB.
 */
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

/* Stable on equal keys is what "later wins" needs; qsort is not stable, so
 * sort (key, index) pairs. */
struct kv_idx {
	struct kv kv;
	size_t i;
};

static int kvi_cmp(const void *pa, const void *pb)
{
	const struct kv_idx *a = pa, *b = pb;
	int r = strcmp(a->kv.key, b->kv.key);
	return r ? r : (a->i < b->i ? -1 : a->i > b->i);
}

size_t kv_sort_unique(struct kv *v, size_t n)
{
	struct kv_idx *t;
	size_t out = 0;

	if (n < 2)
		return n;
	t = cfg_xmalloc(n * sizeof(*t));
	for (size_t i = 0; i < n; i++)
		t[i] = (struct kv_idx){v[i], i};
	qsort(t, n, sizeof(*t), kvi_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(t[i].kv.key, t[i + 1].kv.key))
			continue; /* the next one is later: it wins */
		v[out++] = t[i].kv;
	}
	free(t);
	return out;
}

const char *varset_get(const struct varset *s, const char *name, size_t namelen)
{
	size_t lo = 0, hi = s ? s->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *k = s->v[mid].key;
		int r = strncmp(name, k, namelen);
		if (r == 0 && k[namelen])
			r = -1; /* name is a proper prefix of k: it sorts before k */
		if (r == 0)
			return s->v[mid].value;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool name_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool name_char(char ch)
{
	return name_start(ch) || (ch >= '0' && ch <= '9');
}

static const char *lookup(const struct lctx *c, const char *name, size_t len)
{
	const char *v = varset_get(c->scope, name, len);
	return v ? v : varset_get(&c->proc_env, name, len);
}

/* One ${...} starting at s[0] == '$', s[1] == '{'. Appends the value to out
 * and returns the length consumed, or 0 with an error reported. */
static size_t expand_one(struct lctx *c, const struct ynode *n, const char *s, struct cbuf *out)
{
	const char *name = s + 2, *p = name, *close, *value, *def = NULL;
	size_t namelen, deflen = 0;
	bool colon = false;
	char what[96];

	while (name_char(*p))
		p++;
	namelen = (size_t)(p - name);
	close = strchr(p, '}');
	if (!close) {
		lerr(c, n, "write $$ for a literal $", "%s: ${ is not closed by }",
		     quote(c, n->str));
		return 0;
	}
	if (!namelen || !name_start(*name) || (*p != '}' && strncmp(p, ":-", 2) && *p != '-')) {
		snprintf(what, sizeof(what), "%.*s", (int)(close - s + 1 > 60 ? 60 : close - s + 1), s);
		lerr(c, n, "use ${NAME} or ${NAME:-default}; $$ is a literal $",
		     "%s is not a variable reference sysg understands", quote(c, what));
		return 0;
	}
	if (*p != '}') {
		colon = *p == ':';
		def = p + (colon ? 2 : 1);
		deflen = (size_t)(close - def);
	}
	value = lookup(c, name, namelen);
	if (def && (!value || (colon && !*value))) {
		cbuf_add(out, def, deflen);
	} else if (value) {
		cbuf_adds(out, value);
	} else {
		char hint[200];
		snprintf(hint, sizeof(hint),
			 "set %.*s in env or in sysg's environment, or write ${%.*s:-default}",
			 (int)(namelen > 64 ? 64 : namelen), name, (int)(namelen > 64 ? 64 : namelen),
			 name);
		lerr(c, n, hint, "${%.*s} is not set", (int)(namelen > 64 ? 64 : namelen), name);
		return 0;
	}
	return (size_t)(close - s + 1);
}

const char *expand_scalar(struct lctx *c, const struct ynode *n)
{
	const char *s = n->str;
	struct cbuf out = {0};
	const char *result = NULL;

	if (!memchr(s, '$', n->len))
		return s;
	for (size_t i = 0; i < n->len;) {
		if (s[i] != '$') {
			const char *d = memchr(s + i, '$', n->len - i);
			size_t k = d ? (size_t)(d - (s + i)) : n->len - i;
			cbuf_add(&out, s + i, k);
			i += k;
		} else if (s[i + 1] == '$') {
			cbuf_addc(&out, '$');
			i += 2;
		} else if (s[i + 1] == '{') {
			size_t k = expand_one(c, n, s + i, &out);
			if (!k)
				goto out_free;
			i += k;
		} else {
			cbuf_addc(&out, '$');
			i++;
		}
		if (out.len > CFG_MAX_SCALAR_EXPANDED) {
			lerr(c, n, NULL, "the value is longer than 1 MiB once ${...} are expanded");
			goto out_free;
		}
	}
	c->expanded_bytes += out.len;
	if (c->expanded_bytes > CFG_MAX_EXPANDED_BYTES) {
		if (c->expanded_bytes - out.len <= CFG_MAX_EXPANDED_BYTES)
			lerr(c, n, NULL, "${...} expansions in this file add up to more than 64 MiB");
		goto out_free;
	}
	result = arena_strndup(c->a, out.s ? out.s : "", out.len);
out_free:
	cbuf_free(&out);
	return result;
}
