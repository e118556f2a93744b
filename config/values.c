/* Reading typed values out of nodes. Each reader reports its own error at
 * the node, with the key path, and returns -1/NULL; callers just go on. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

bool v_expect(struct lctx *c, const struct ynode *n, enum ykind kind)
{
	static const char *const want[] = {
		[Y_SCALAR] = "a single value", [Y_SEQ] = "a list", [Y_MAP] = "a mapping (key: value)",
	};

	if (n->kind == kind)
		return true;
	lerr(c, n, NULL, "expected %s, not %s", want[kind], y_kind_name(n));
	return false;
}

const char *v_text(struct lctx *c, const struct ynode *n)
{
	if (n->kind != Y_SCALAR) {
		lerr(c, n, NULL, "expected a string, not %s", y_kind_name(n));
		return NULL;
	}
	if (y_is_null(n)) {
		lerr(c, n, NULL, "needs a value");
		return NULL;
	}
	return expand_scalar(c, n);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

const char *v_word(struct lctx *c, const struct ynode *n, const char *what)
{
	const char *s = v_text(c, n);

	if (s && has_control(s)) {
		lerr(c, n, "newlines, tabs and other control characters are not allowed here",
		     "%s %s contains a control character", what ? what : "the value", quote(c, s));
		return NULL;
	}
	return s;
}

/* Numbers and booleans must be plain scalars: "5" in quotes is a string.
 * A plain ${VAR} is expanded first, so `max_restarts: ${N:-5}` works. */
static const char *plain_text(struct lctx *c, const struct ynode *n, const char *want,
			      const char *example)
{
	if (n->kind != Y_SCALAR) {
		lerr(c, n, NULL, "expected %s, not %s", want, y_kind_name(n));
		return NULL;
	}
	if (!n->plain) {
		char hint[96];
		snprintf(hint, sizeof(hint), "remove the quotes: %s", example);
		lerr(c, n, hint, "expected %s, not a quoted string", want);
		return NULL;
	}
	return v_text(c, n);
}

int v_bool(struct lctx *c, const struct ynode *n, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
	static const char *const yaml11[] = {"yes", "no", "on", "off", "y", "n", "Yes", "No",
					     "On", "Off", "YES", "NO", "ON", "OFF"};
	const char *s = plain_text(c, n, "true or false", "true");

	if (!s)
		return -1;
	for (size_t i = 0; i < CFG_ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			return 0;
		}
	}
	for (size_t i = 0; i < CFG_ARRAY_SIZE(yaml11); i++) {
		if (!strcmp(s, yaml11[i])) {
			lerr(c, n, "YAML 1.1 words are not booleans here: use true or false",
			     "%s is not true or false", quote(c, s));
			return -1;
		}
	}
	lerr(c, n, NULL, "%s is not true or false", quote(c, s));
	return -1;
}

/* A decimal integer, strictly: no spaces, no base prefixes, no fraction. */
static int parse_i64(const char *s, int64_t *out, bool *overflow)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0, limit;

	*overflow = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return -1;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (limit - (uint64_t)(*p - '0')) / 10) {
			*overflow = true;
			while (isdigit((unsigned char)*p))
				p++;
			return *p ? -1 : 0;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int v_int(struct lctx *c, const struct ynode *n, int64_t min, int64_t max, int64_t *out)
{
	const char *s = plain_text(c, n, "a whole number", "5");
	bool overflow;
	int64_t v;

	if (!s)
		return -1;
	if (parse_i64(s, &v, &overflow) < 0) {
		lerr(c, n, NULL, "%s is not a whole number", quote(c, s));
		return -1;
	}
	if (overflow || v < min || v > max) {
		char hint[80];
		snprintf(hint, sizeof(hint), "from %lld to %lld", (long long)min, (long long)max);
		lerr(c, n, hint, "%s is out of range", quote(c, s));
		return -1;
	}
	*out = v;
	return 0;
}

int v_u64(struct lctx *c, const struct ynode *n, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = plain_text(c, n, "a whole number", "5"), *p;
	bool big = false, neg;
	uint64_t v = 0;
	char hint[80];

	if (!s)
		return -1;
	neg = *s == '-';
	p = neg || *s == '+' ? s + 1 : s;
	if (!isdigit((unsigned char)*p) || p[strspn(p, "0123456789")]) {
		lerr(c, n, NULL, "%s is not a whole number", quote(c, s));
		return -1;
	}
	for (; *p; p++)
		big = big || __builtin_mul_overflow(v, 10, &v) ||
		      __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v);
	/* -0 is 0; any other negative number is below every range here */
	if (big || (neg && v) || v < min || v > max) {
		snprintf(hint, sizeof(hint), "from %llu to %llu", (unsigned long long)min,
			 (unsigned long long)max);
		lerr(c, n, hint, "%s is out of range", quote(c, s));
		return -1;
	}
	*out = v;
	return 0;
}

static const char *scalar_any(struct lctx *c, const struct ynode *n, const char *want)
{
	if (n->kind != Y_SCALAR) {
		lerr(c, n, NULL, "expected %s, not %s", want, y_kind_name(n));
		return NULL;
	}
	return v_text(c, n);
}

int v_duration(struct lctx *c, const struct ynode *n, bool positive, sysg_usec_t *out)
{
	static const char hint[] = "use 250ms, 5s, 2m, 1h or a number of seconds";
	const char *s = scalar_any(c, n, "a duration"), *why;
	sysg_usec_t v;

	if (!s)
		return -1;
	if (parse_duration(s, &v, &why) < 0) {
		lerr(c, n, hint, "%s %s", quote(c, s), why);
		return -1;
	}
	if (positive && v == 0) {
		lerr(c, n, "a zero interval would spin", "%s must be more than zero", quote(c, s));
		return -1;
	}
	*out = v;
	return 0;
}

int v_size(struct lctx *c, const struct ynode *n, bool allow_unlimited, uint64_t *out)
{
	const char *s = scalar_any(c, n, "a size"), *why;
	const char *hint = allow_unlimited ? "use 512K, 64M, 2G, 1T, a number of bytes or unlimited"
					   : "use 512K, 64M, 2G, 1T or a number of bytes";
	if (!s)
		return -1;
	if (parse_size(s, allow_unlimited, out, &why) < 0) {
		lerr(c, n, hint, "%s %s", quote(c, s), why);
		return -1;
	}
	return 0;
}

static void join_names(struct cbuf *b, const char *const *names, size_t count, size_t first)
{
	for (size_t i = first; i < count; i++) {
		if (i > first)
			cbuf_adds(b, i + 1 == count ? " or " : ", ");
		cbuf_adds(b, names[i]);
	}
}

int v_enum(struct lctx *c, const struct ynode *n, const char *const *names, size_t count,
	   size_t first, int *out)
{
	const char *s = scalar_any(c, n, "one of the listed words"), *best;
	struct cbuf list = {0};
	char hint[96];

	if (!s)
		return -1;
	for (size_t i = first; i < count; i++) {
		if (!strcmp(s, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	best = did_you_mean(s, names + first, count - first);
	if (best)
		snprintf(hint, sizeof(hint), "did you mean '%s'?", best);
	join_names(&list, names, count, first);
	lerr(c, n, best ? hint : NULL, "%s is not one of %s", quote(c, s), list.s);
	cbuf_free(&list);
	return -1;
}

/* Lexically: "a//b/./c/" -> "a/b/c"; ".." is kept (symlinks decide it). */
static char *path_clean(struct arena *a, const char *base, const char *rel)
{
	struct cbuf b = {0};
	const char *parts[2] = {base, rel};
	char *r;

	cbuf_addc(&b, '/');
	for (int k = 0; k < 2; k++) {
		const char *p = parts[k];
		while (p && *p) {
			const char *e;
			while (*p == '/')
				p++;
			e = p;
			while (*e && *e != '/')
				e++;
			if (e - p == 1 && *p == '.') {
				p = e;
				continue;
			}
			if (e > p) {
				if (b.s[b.len - 1] != '/')
					cbuf_addc(&b, '/');
				cbuf_add(&b, p, (size_t)(e - p));
			}
			p = e;
		}
	}
	r = arena_strdup(a, b.s);
	cbuf_free(&b);
	return r;
}

char *path_resolve(struct arena *a, const char *base, const char *p)
{
	return *p == '/' ? path_clean(a, NULL, p) : path_clean(a, base, p);
}

char *v_path(struct lctx *c, const struct ynode *n, const char *base)
{
	const char *s = v_word(c, n, "the path");

	if (!s)
		return NULL;
	if (!*s) {
		lerr(c, n, NULL, "the path is empty");
		return NULL;
	}
	if (*s != '/' && !base) {
		lerr(c, n, "write the path from the root, starting with /",
		     "%s is not an absolute path", quote(c, s));
		return NULL;
	}
	if (strlen(s) >= 4096) {
		lerr(c, n, NULL, "the path is longer than 4095 bytes");
		return NULL;
	}
	return path_resolve(c->a, base, s);
}

const char *v_path_item(struct lctx *c, const struct ynode *n, void *base)
{
	return v_path(c, n, base);
}

int v_list(struct lctx *c, const struct ynode *n, bool one_ok,
	   const char *(*fn)(struct lctx *c, const struct ynode *item, void *arg), void *arg,
	   struct strv *out)
{
	const struct ynode *const *items = (const struct ynode *const *)n->items;
	size_t count = n->n;
	int ret = 0;

	if (n->kind == Y_SCALAR && one_ok) {
		items = &n;
		count = 1;
	} else if (n->kind != Y_SEQ) {
		lerr(c, n, NULL, "expected a list, not %s", y_kind_name(n));
		return -1;
	}
	out->v = arena_array(c->a, count + 1, sizeof(char *));
	out->n = 0;
	for (size_t i = 0; i < count; i++) {
		size_t mark = n->kind == Y_SEQ ? path_push_index(c, i) : c->path.len;
		const char *s = fn ? fn(c, items[i], arg) : v_text(c, items[i]);
		if (s)
			out->v[out->n++] = (char *)s;
		else
			ret = -1;
		path_pop(c, mark);
	}
	out->v[out->n] = NULL;
	return ret;
}

char *duration_str(struct arena *a, sysg_usec_t v)
{
	static const struct {
		const char *unit;
		int64_t usec;
	} units[] = {{"d", 86400 * USEC_PER_SEC}, {"h", 3600 * USEC_PER_SEC},
		     {"m", 60 * USEC_PER_SEC}, {"s", USEC_PER_SEC}, {"ms", USEC_PER_MSEC}, {"us", 1}};
	struct cbuf b = {0};
	char *r;

	if (v <= 0)
		return arena_strdup(a, "0s");
	for (size_t i = 0; i < CFG_ARRAY_SIZE(units); i++) {
		if (v >= units[i].usec) {
			cbuf_addf(&b, "%lld%s", (long long)(v / units[i].usec), units[i].unit);
			v %= units[i].usec;
		}
	}
	r = arena_strdup(a, b.s);
	cbuf_free(&b);
	return r;
}
