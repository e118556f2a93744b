/* Cron expressions: parse, validate, compute the next fire time (cron.h). */
#include "config/cron.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/tz.h"
#include "supervisor/util.h"

#define USEC 1000000LL
/* Every expression cron_parse accepts fires at least once in any 41 years
 * (the worst is Feb 29 on one weekday: 2096 -> 2136); search 50. */
#define HORIZON_SECS (50LL * 366 * 86400)

enum field_id { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_COUNT };

struct field {
	const char *name;
	int lo, hi;                /* as written; day of week allows 7 = Sunday */
	const char *const *names;  /* indexed by value - lo, or NULL */
	const char *const *longnames;
	const char *what;          /* "month" in "unknown month name" */
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const month_long[] = { "JANUARY", "FEBRUARY", "MARCH",     "APRIL",
					  "MAY",     "JUNE",     "JULY",      "AUGUST",
					  "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER" };
static const char *const day_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };
static const char *const day_long[] = { "SUNDAY",   "MONDAY", "TUESDAY", "WEDNESDAY",
					"THURSDAY", "FRIDAY", "SATURDAY" };
_Static_assert(ARRAY_SIZE(month_names) == 12 && ARRAY_SIZE(month_long) == 12, "months");
_Static_assert(ARRAY_SIZE(day_names) == 7 && ARRAY_SIZE(day_long) == 7, "days");

static const struct field fields[] = {
	[F_SEC] = { "second", 0, 59, NULL, NULL, NULL },
	[F_MIN] = { "minute", 0, 59, NULL, NULL, NULL },
	[F_HOUR] = { "hour", 0, 23, NULL, NULL, NULL },
	[F_DOM] = { "day of month", 1, 31, NULL, NULL, NULL },
	[F_MON] = { "month", 1, 12, month_names, month_long, "month" },
	[F_DOW] = { "day of week", 0, 7, day_names, day_long, "day" },
};
_Static_assert(ARRAY_SIZE(fields) == F_COUNT, "every field has a descriptor");

/* Six-field expressions are systemg's, read by the Rust `cron` crate, which
 * counts days of the week 1-7 from Sunday (SUN = 1, SAT = 7). A manifest moved
 * from systemg keeps its meaning; five fields keep crontab(5)'s 0-7. */
static const struct field dow_from_one = { "day of week", 1, 7, day_names, day_long, "day" };

static const struct {
	const char *name, *expansion;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static _Thread_local char why_buf[192];

/* ---- parsing ----------------------------------------------------------------- */

struct pctx {
	enum field_id id;
	const struct field *f; /* fields[id], or dow_from_one */
	int pos; /* 1-based position in the expression as written */
	const char *tok;
	size_t toklen;
	const char **why;
};

/* Input quoted in a message: bounded, and bytes that would garble a log line
 * replaced. */
static const char *quote(char *buf, size_t size, const char *s, size_t n)
{
	size_t i;

	if (n > size - 4)
		n = size - 4;
	for (i = 0; i < n; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	if (n == size - 4)
		strcpy(buf + i, "...");
	return buf;
}

static int fail(const char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	if (why)
		*why = why_buf;
	return -EINVAL;
}

static int ferr(const struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ferr(const struct pctx *c, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(c->why, "field %d (%s): %s", c->pos, fields[c->id].name, msg);
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int lookup_name(const struct field *f, const char *s, size_t n)
{
	int count = f->names == day_names ? 7 : f->hi - f->lo + 1;

	for (int i = 0; i < count; i++)
		if ((strlen(f->names[i]) == n && strncasecmp(s, f->names[i], n) == 0) ||
		    (strlen(f->longnames[i]) == n && strncasecmp(s, f->longnames[i], n) == 0))
			return f->lo + i;
	return -1;
}

static int unexpected(const struct pctx *c, const char *s, const char *end)
{
	char q[48];

	quote(q, sizeof(q), c->tok, c->toklen);
	if (s == end)
		return ferr(c, "'%s' is incomplete", q);
	if (*s > 0x20 && *s < 0x7f)
		return ferr(c, "unexpected '%c' in '%s'", *s, q);
	return ferr(c, "unexpected byte 0x%02x in '%s'", (unsigned char)*s, q);
}

/* One value: a number or (month, day of week) a name. *named tells which. */
static int parse_value(const struct pctx *c, const char **sp, const char *end, int *v,
		       bool *named)
{
	const struct field *f = c->f;
	const char *s = *sp, *start = s;
	char q[48];
	long n = 0;

	*named = false;
	if (s < end && is_digit(*s)) {
		for (; s < end && is_digit(*s); s++)
			if (n < 1000000)
				n = n * 10 + (*s - '0');
		if (n < f->lo || n > f->hi)
			return ferr(c, "%s is out of range %d-%d",
				    quote(q, sizeof(q), start, (size_t)(s - start)), f->lo, f->hi);
	} else if (s < end && is_alpha(*s)) {
		for (; s < end && is_alpha(*s); s++)
			;
		quote(q, sizeof(q), start, (size_t)(s - start));
		if (!f->names)
			return ferr(c, "'%s' is not a number", q);
		n = lookup_name(f, start, (size_t)(s - start));
		if (n < 0)
			return ferr(c, "unknown %s name '%s'", f->what, q);
		*named = true;
	} else {
		return unexpected(c, s, end);
	}
	*v = (int)n;
	*sp = s;
	return 0;
}

static int parse_step(const struct pctx *c, const char **sp, const char *end, int *step)
{
	/* Days of week: up to 7 in both numberings, so a step of 7 reads the same in both. */
	int span = c->id == F_DOW ? 7 : c->f->hi - c->f->lo;
	const char *s = *sp, *start = s;
	char q[48];
	long n = 0;

	if (s == end || !is_digit(*s))
		return unexpected(c, s, end);
	for (; s < end && is_digit(*s); s++)
		if (n < 1000000)
			n = n * 10 + (*s - '0');
	if (n < 1 || n > span)
		return ferr(c, "step %s is out of range 1-%d",
			    quote(q, sizeof(q), start, (size_t)(s - start)), span);
	*step = (int)n;
	*sp = s;
	return 0;
}

/* One list item: "*", "a", "a-b", each optionally "/step". */
static int parse_item(const struct pctx *c, const char *s, const char *end, uint64_t *bits)
{
	const struct field *f = c->f;
	int a, b, step = 1, r;
	bool single = false, named;
	char q[48];

	if (s == end)
		return ferr(c, "empty list item in '%s'", quote(q, sizeof(q), c->tok, c->toklen));
	if (*s == '?')
		return ferr(c, "'?' must be the whole field");
	if (*s == '*') {
		s++;
		a = f->lo;
		b = f->hi;
	} else {
		const char *start = s;
		r = parse_value(c, &s, end, &a, &named);
		if (r < 0)
			return r;
		b = a;
		single = true;
		if (s < end && *s == '-') {
			s++;
			r = parse_value(c, &s, end, &b, &named);
			if (r < 0)
				return r;
			single = false;
			/* "MON-SUN": Sunday closing a range is the day after Saturday. */
			if (c->id == F_DOW && named && b == f->lo && a > b)
				b = f->lo + 7;
			if (a > b)
				return ferr(c, "range %s is reversed (ranges do not wrap around)",
					    quote(q, sizeof(q), start, (size_t)(s - start)));
		}
	}
	if (s < end && *s == '/') {
		s++;
		r = parse_step(c, &s, end, &step);
		if (r < 0)
			return r;
		if (single)
			b = f->hi;
	}
	if (s != end)
		return unexpected(c, s, end);
	for (int v = a; v <= b; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int parse_field(struct pctx *c, uint64_t *bits, bool *star)
{
	const char *s = c->tok, *end = c->tok + c->toklen;

	*bits = 0;
	*star = *s == '*' || *s == '?';
	if (*s == '?') {
		if (c->id != F_DOM && c->id != F_DOW)
			return ferr(c, "'?' is only allowed in day of month and day of week");
		if (c->toklen != 1)
			return ferr(c, "'?' must be the whole field");
		s = "*";
		end = s + 1;
	}
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma ? comma : end;
		int r = parse_item(c, s, item_end, bits);
		if (r < 0)
			return r;
		if (!comma)
			break;
		s = comma + 1;
	}
	if (c->id == F_DOW && c->f->lo == 1)
		*bits >>= 1; /* 1 = Sunday -> bit 0 */
	if (c->id == F_DOW && (*bits & 1ULL << 7))
		*bits = (*bits & ~(1ULL << 7)) | 1;
	return 0;
}

/* With the day of week unrestricted only the day of month selects days, and
 * it may name days no selected month has ("30 2"): refuse that at load. */
static int check_possible(const struct cron_expr *e, int dom_pos, const char **why)
{
	static const int longest[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int maxd = 0;

	if (!(e->flags & CRON_F_DOW_STAR))
		return 0; /* either day field may match: a weekday comes every week */
	for (int m = 1; m <= 12; m++)
		if ((e->mon >> m & 1) && longest[m] > maxd)
			maxd = longest[m];
	if (e->dom & ((2ULL << maxd) - 1))
		return 0;
	return fail(why, "field %d (day of month): day %d never occurs in the selected months "
		    "(they have at most %d days)", dom_pos, __builtin_ctz(e->dom), maxd);
}

static size_t split_fields(const char *s, const char **tok, size_t *len, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (is_space(*s))
			s++;
		if (!*s)
			return n;
		const char *start = s;
		while (*s && !is_space(*s))
			s++;
		if (n < max) {
			tok[n] = start;
			len[n] = (size_t)(s - start);
		}
		n++;
	}
}

static int parse_macro(const char *tok, size_t len, size_t ntok, struct cron_expr *out,
		       const char **why)
{
	char q[48];

	quote(q, sizeof(q), tok, len);
	for (size_t i = 0; i < ARRAY_SIZE(macros); i++) {
		if (strlen(macros[i].name) != len || strncasecmp(tok, macros[i].name, len) != 0)
			continue;
		if (ntok > 1)
			return fail(why, "unexpected text after %s", macros[i].name);
		return cron_parse(macros[i].expansion, out, why);
	}
	if (len == 7 && strncasecmp(tok, "@reboot", 7) == 0)
		return fail(why, "@reboot is not supported (a service without cron starts at boot)");
	return fail(why, "unknown macro '%s' (known: @yearly, @annually, @monthly, @weekly, "
		    "@daily, @midnight, @hourly)", q);
}

int cron_parse(const char *expr, struct cron_expr *out, const char **why)
{
	const char *tok[F_COUNT];
	size_t len[F_COUNT];
	size_t n = split_fields(expr, tok, len, F_COUNT);
	struct cron_expr e = { 0 };
	int skip, r;

	if (n == 0)
		return fail(why, "empty expression");
	if (tok[0][0] == '@')
		return parse_macro(tok[0], len[0], n, out, why);
	if (n != 5 && n != 6)
		return fail(why, "expected 5 or 6 fields (sec min hour dom mon dow), got %zu", n);
	skip = n == 5; /* 5 fields start at the minute */
	for (int id = skip; id < F_COUNT; id++) {
		struct pctx c = { id, &fields[id], id - skip + 1, tok[id - skip], len[id - skip], why };
		uint64_t bits;
		bool star;

		if (id == F_DOW && !skip)
			c.f = &dow_from_one;
		r = parse_field(&c, &bits, &star);
		if (r < 0)
			return r;
		switch (id) {
		case F_SEC: e.sec = bits; break;
		case F_MIN: e.min = bits; break;
		case F_HOUR:
			e.hour = (uint32_t)bits;
			e.flags |= star ? CRON_F_HOUR_STAR : 0;
			break;
		case F_DOM:
			e.dom = (uint32_t)bits;
			e.flags |= star ? CRON_F_DOM_STAR : 0;
			break;
		case F_MON: e.mon = (uint16_t)bits; break;
		case F_DOW:
			e.dow = (uint8_t)bits;
			e.flags |= star ? CRON_F_DOW_STAR : 0;
			break;
		}
	}
	if (skip)
		e.sec = 1;
	else
		e.flags |= CRON_F_SECONDS;
	r = check_possible(&e, F_DOM - skip + 1, why);
	if (r < 0)
		return r;
	*out = e;
	return 0;
}

bool cron_equal(const struct cron_expr *a, const struct cron_expr *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->dom == b->dom &&
	       a->mon == b->mon && a->dow == b->dow && a->flags == b->flags;
}

int cron_check_tz(const char *tz, const char **why)
{
	struct tz *z;
	int r = tz_load(tz, &z, why);

	if (r == 0)
		tz_free(z);
	return r;
}

/* ---- the next fire time -------------------------------------------------------- */

/* A local wall-clock time, broken down. */
struct civil {
	int64_t y;
	int m, d, h, mi, s;
};

static int64_t civil_secs(const struct civil *c)
{
	return days_from_civil(c->y, c->m, c->d) * 86400 + c->h * 3600 + c->mi * 60 + c->s;
}

static void civil_split(int64_t secs, struct civil *c)
{
	int64_t days = floor_div(secs, 86400);
	int sod = (int)(secs - days * 86400);

	civil_from_days(days, &c->y, &c->m, &c->d);
	c->h = sod / 3600;
	c->mi = sod / 60 % 60;
	c->s = sod % 60;
}

static void next_day(struct civil *c)
{
	c->h = c->mi = c->s = 0;
	if (++c->d > days_in_month(c->y, c->m)) {
		c->d = 1;
		if (++c->m > 12) {
			c->m = 1;
			c->y++;
		}
	}
}

static void next_hour(struct civil *c)
{
	c->mi = c->s = 0;
	if (++c->h > 23)
		next_day(c);
}

static void next_minute(struct civil *c)
{
	c->s = 0;
	if (++c->mi > 59) {
		c->mi = 0;
		next_hour(c);
	}
}

/* The lowest set bit at or above `from`, or -1. */
static int next_bit(uint64_t mask, int from)
{
	if (from > 63)
		return -1;
	mask >>= from;
	return mask ? from + __builtin_ctzll(mask) : -1;
}

/* Vixie cron: when both day fields are restricted either may match. */
static bool day_matches(const struct cron_expr *e, const struct civil *c)
{
	bool dom = e->dom >> c->d & 1;
	bool dow = e->dow >> weekday_from_days(days_from_civil(c->y, c->m, c->d)) & 1;

	if (e->flags & (CRON_F_DOM_STAR | CRON_F_DOW_STAR))
		return dom && dow;
	return dom || dow;
}

/* The first local time in [from, to) that e matches, on a plain calendar
 * (no time zone). Skips whole months, days, hours and minutes at a time. */
static int cal_next(const struct cron_expr *e, int64_t from, int64_t to, int64_t *out)
{
	struct civil c;
	int v;

	civil_split(from, &c);
	while (civil_secs(&c) < to) {
		if (!(e->mon >> c.m & 1)) {
			v = next_bit(e->mon, c.m);
			if (v < 0) {
				c.y++;
				v = next_bit(e->mon, 1);
				if (v < 0)
					return -ENOENT; /* hand-built with no month */
			}
			c = (struct civil){ c.y, v, 1, 0, 0, 0 };
			continue;
		}
		if (!day_matches(e, &c)) {
			next_day(&c);
			continue;
		}
		v = next_bit(e->hour, c.h);
		if (v < 0) {
			next_day(&c);
			continue;
		}
		if (v != c.h)
			c = (struct civil){ c.y, c.m, c.d, v, 0, 0 };
		v = next_bit(e->min, c.mi);
		if (v < 0) {
			next_hour(&c);
			continue;
		}
		if (v != c.mi) {
			c.mi = v;
			c.s = 0;
		}
		v = next_bit(e->sec, c.s);
		if (v < 0) {
			next_minute(&c);
			continue;
		}
		c.s = v;
		*out = civil_secs(&c);
		return *out < to ? 0 : -ENOENT;
	}
	return -ENOENT;
}

static int emit(int64_t t, int64_t *next_usec)
{
	if (t > INT64_MAX / USEC)
		return -ERANGE;
	*next_usec = t * USEC;
	return 0;
}

/* Walk the zone's stretches of constant offset from `after` on. Within a
 * stretch local time is plain calendar time. At the edges (docs/cron.md):
 * - clocks jump forward: local times in the gap do not exist; a job with a
 *   fixed hour that matches one fires once, at the first instant after the
 *   gap; a job with '*' in the hour simply has those runs skipped (it keeps
 *   its rhythm by elapsed time);
 * - clocks fall back: local times repeat; a fixed-hour job fires only in the
 *   first pass, a '*'-hour job in both (they are distinct real instants). */
static int next_in_zone(const struct cron_expr *e, const struct tz *z, int64_t after_usec,
			int64_t *next_usec)
{
	bool fixed_hour = !(e->flags & CRON_F_HOUR_STAR);
	int64_t t = floor_div(after_usec, USEC) + 1;
	int64_t horizon = t + HORIZON_SECS;
	struct tz_span sp;
	int64_t local;

	while (t < horizon) {
		tz_span_at(z, t, &sp);
		/* t is the first instant after a gap: catch up the gap once. */
		if (fixed_hour && t == sp.start && sp.prev_off < sp.off &&
		    cal_next(e, t + sp.prev_off, t + sp.off, &local) == 0)
			return emit(t, next_usec);

		int64_t end = sp.end < horizon ? sp.end : horizon;
		int64_t from = t + sp.off;
		/* Second pass of a repeated hour: already run for fixed hours. */
		if (fixed_hour && sp.prev_off > sp.off && sp.start > t - 2 * 86400 &&
		    from < sp.start + sp.prev_off)
			from = sp.start + sp.prev_off;
		if (from < end + sp.off && cal_next(e, from, end + sp.off, &local) == 0)
			return emit(local - sp.off, next_usec);
		t = end;
	}
	return -ENOENT;
}

int cron_next(const struct cron_expr *e, const char *tz, int64_t after_usec, int64_t *next_usec)
{
	struct tz *z;
	int r = tz_load(tz, &z, NULL);

	if (r < 0)
		return r;
	r = next_in_zone(e, z, after_usec, next_usec);
	tz_free(z);
	return r;
}

/* ---- the canonical form ----------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, pos;
};

static void out_add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void out_value(struct out *o, enum field_id id, int v)
{
	const struct field *f = &fields[id];

	if (f->names)
		out_add(o, "%s", f->names[id == F_DOW ? v % 7 : v - f->lo]);
	else
		out_add(o, "%d", v);
}

/* The values lo, lo+n, ... up to the written maximum, 7 folded to Sunday. */
static uint64_t progression(enum field_id id, int a, int b, int n)
{
	uint64_t bits = 0;

	for (int v = a; v <= b; v += n)
		bits |= 1ULL << (id == F_DOW && v == 7 ? 0 : v);
	return bits;
}

/* Runs of consecutive values as "a-b", or one "a-b/n" if that is exact. */
static void out_list(struct out *o, enum field_id id, uint64_t bits)
{
	int lo = fields[id].lo, hi = id == F_DOW ? 6 : fields[id].hi;
	int first = next_bit(bits, lo), count = __builtin_popcountll(bits), sep = 0;

	if (count >= 3) {
		int n = next_bit(bits, first + 1) - first, last = 63 - __builtin_clzll(bits);
		if (n >= 2 && progression(id, first, last, n) == bits) {
			out_value(o, id, first);
			out_add(o, "-");
			out_value(o, id, last);
			out_add(o, "/%d", n);
			return;
		}
	}
	for (int v = first; v >= 0 && v <= hi;) {
		int w = v;
		while (w + 1 <= hi && (bits >> (w + 1) & 1))
			w++;
		out_add(o, sep++ ? "," : "");
		out_value(o, id, v);
		if (w > v) {
			out_add(o, "-");
			out_value(o, id, w);
		}
		v = next_bit(bits, w + 1);
	}
}

static void out_field(struct out *o, enum field_id id, uint64_t bits, bool star)
{
	int lo = fields[id].lo, hi = fields[id].hi;

	if (!star && id != F_SEC && id != F_MIN && id != F_MON) {
		out_list(o, id, bits);
		return;
	}
	/* Minute, second and month have no star semantics: any spelling will do. */
	for (int n = 1; n <= hi - lo; n++) {
		uint64_t p = progression(id, lo, hi, n);
		if ((p & ~bits) || (!star && p != bits))
			continue;
		out_add(o, n == 1 ? "*" : "*/%d", n);
		if (bits & ~p) {
			out_add(o, ",");
			out_list(o, id, bits & ~p);
		}
		return;
	}
	out_list(o, id, bits);
}

void cron_describe(const struct cron_expr *e, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (len == 0)
		return;
	buf[0] = '\0';
	if (e->flags & CRON_F_SECONDS) {
		out_field(&o, F_SEC, e->sec, false);
		out_add(&o, " ");
	}
	out_field(&o, F_MIN, e->min, false);
	out_add(&o, " ");
	out_field(&o, F_HOUR, e->hour, e->flags & CRON_F_HOUR_STAR);
	out_add(&o, " ");
	out_field(&o, F_DOM, e->dom, e->flags & CRON_F_DOM_STAR);
	out_add(&o, " ");
	out_field(&o, F_MON, e->mon, false);
	out_add(&o, " ");
	out_field(&o, F_DOW, e->dow, e->flags & CRON_F_DOW_STAR);
}
