/* Time zones from tzdata without touching the process's TZ (see tz.h). */
#include "config/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/util.h"

#define TZIF_MAX_SIZE (1 << 20) /* real files are a few KiB */
#define TZ_MAX_OFFSET (26 * 3600) /* RFC 8536: |utoff| < 26h */
#define TZ_RULE_LIMIT (1LL << 55)

/* When DST starts or ends: POSIX "Jn", "n" or "Mm.w.d", plus a local time. */
struct tz_date {
	char kind; /* 'J': 1-365 without Feb 29, 'N': 0-365, 'M': month.week.day */
	int n, m, w, d;
	int32_t time;
};

struct tz_rule {
	bool set, has_dst;
	int32_t std_off, dst_off;
	struct tz_date start, end;
};

struct tz {
	size_t n;
	int64_t *at;       /* transition times, strictly ascending */
	int32_t *off;      /* offset from at[i] on */
	int32_t first_off; /* before the first transition (time type 0) */
	struct tz_rule rule; /* the footer: after the last transition */
};

static _Thread_local char why_buf[192];

static int fail(const char **why, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const char **why, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	if (why)
		*why = why_buf;
	return -err;
}

/* ---- calendar ------------------------------------------------------------ */

/* Day counting after H. Hinnant's "chrono-compatible low-level date
 * algorithms": eras of 400 years starting in March make leap days fall last. */
int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	days += 719468;
	int64_t era = floor_div(days, 146097);
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int weekday_from_days(int64_t days)
{
	return (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
}

bool is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int64_t y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap_year(y) ? 29 : mdays[m - 1];
}

/* ---- POSIX TZ strings ------------------------------------------------------ */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A zone abbreviation: 3+ letters, or <...> with letters, digits, + and -. */
static bool posix_name(const char **sp)
{
	const char *s = *sp;
	size_t n = 0;

	if (*s == '<') {
		for (s++; is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-'; s++)
			n++;
		if (*s != '>' || n < 3)
			return false;
		*sp = s + 1;
		return true;
	}
	for (; is_alpha(*s); s++)
		n++;
	if (n < 3)
		return false;
	*sp = s;
	return true;
}

static bool posix_num(const char **sp, int max, int *out)
{
	const char *s = *sp;
	int v = 0;

	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	*sp = s;
	return true;
}

/* [+-]hh[:mm[:ss]] in seconds, hours at most max_h. */
static bool posix_hms(const char **sp, int max_h, int32_t *out)
{
	const char *s = *sp;
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!posix_num(&s, max_h, &h))
		return false;
	if (*s == ':') {
		s++;
		if (!posix_num(&s, 59, &m))
			return false;
		if (*s == ':') {
			s++;
			if (!posix_num(&s, 59, &sec))
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	*sp = s;
	return true;
}

static bool posix_date(const char **sp, struct tz_date *dt)
{
	const char *s = *sp;

	memset(dt, 0, sizeof(*dt));
	if (*s == 'J') {
		s++;
		dt->kind = 'J';
		if (!posix_num(&s, 365, &dt->n) || dt->n < 1)
			return false;
	} else if (*s == 'M') {
		s++;
		dt->kind = 'M';
		if (!posix_num(&s, 12, &dt->m) || dt->m < 1 || *s++ != '.' ||
		    !posix_num(&s, 5, &dt->w) || dt->w < 1 || *s++ != '.' ||
		    !posix_num(&s, 6, &dt->d))
			return false;
	} else {
		dt->kind = 'N';
		if (!posix_num(&s, 365, &dt->n))
			return false;
	}
	dt->time = 2 * 3600;
	if (*s == '/') {
		s++;
		if (!posix_hms(&s, 167, &dt->time))
			return false;
	}
	*sp = s;
	return true;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]. POSIX offsets count
 * west of UTC; ours count east. */
static bool posix_parse(const char *s, struct tz_rule *r)
{
	int32_t v;

	memset(r, 0, sizeof(*r));
	if (!posix_name(&s) || !posix_hms(&s, 24, &v))
		return false;
	r->set = true;
	r->std_off = r->dst_off = -v;
	if (*s == '\0')
		return true;
	if (!posix_name(&s))
		return false;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (!posix_hms(&s, 24, &v))
			return false;
		r->dst_off = -v;
	}
	if (*s == '\0') {
		/* No rule: the US rules, as glibc assumes without posixrules. */
		const char *dflt = "M3.2.0,M11.1.0";
		return posix_date(&dflt, &r->start) && dflt++ && posix_date(&dflt, &r->end);
	}
	if (*s++ != ',' || !posix_date(&s, &r->start) || *s++ != ',' ||
	    !posix_date(&s, &r->end))
		return false;
	return *s == '\0';
}

/* The day (since the epoch) a rule date falls on in year y. */
static int64_t rule_day(const struct tz_date *dt, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1);

	switch (dt->kind) {
	case 'J':
		return jan1 + dt->n - 1 + (is_leap_year(y) && dt->n >= 60);
	case 'N':
		return jan1 + dt->n;
	default: {
		int64_t first = days_from_civil(y, dt->m, 1);
		int day = 1 + (dt->d - weekday_from_days(first) + 7) % 7 + 7 * (dt->w - 1);
		while (day > days_in_month(y, dt->m))
			day -= 7;
		return first + day - 1;
	}
	}
}

struct tz_event {
	int64_t at;
	int32_t off; /* from `at` on */
};

/* Transitions of the rule in years y-2..y+2, sorted, with zero-length
 * stretches and no-op changes removed (permanent DST is written
 * "0/0,J365/25"). *first and *last are the window's edges: an event there
 * may only look like a change because its partner lies outside the window. */
static size_t rule_events(const struct tz_rule *r, int64_t y, struct tz_event *ev,
			  int64_t *first, int64_t *last)
{
	struct tz_event raw[10];
	size_t n = 0, k = 0;

	for (int64_t yy = y - 2; yy <= y + 2; yy++) {
		raw[n++] = (struct tz_event){
			rule_day(&r->start, yy) * 86400 + r->start.time - r->std_off, r->dst_off
		};
		raw[n++] = (struct tz_event){
			rule_day(&r->end, yy) * 86400 + r->end.time - r->dst_off, r->std_off
		};
	}
	for (size_t i = 1; i < n; i++) /* insertion sort, stable */
		for (size_t j = i; j > 0 && raw[j - 1].at > raw[j].at; j--) {
			struct tz_event tmp = raw[j];
			raw[j] = raw[j - 1];
			raw[j - 1] = tmp;
		}
	*first = raw[0].at;
	*last = raw[n - 1].at;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && raw[i + 1].at == raw[i].at)
			continue;
		if (k > 0 && ev[k - 1].off == raw[i].off)
			continue;
		ev[k++] = raw[i];
	}
	return k;
}

static void rule_span_in(const struct tz_rule *r, int64_t t, struct tz_span *sp)
{
	struct tz_event ev[10];
	int64_t y, first, last;
	int m, d;
	size_t n, i;

	civil_from_days(floor_div(t, 86400), &y, &m, &d);
	n = rule_events(r, y, ev, &first, &last);
	for (i = 0; i < n && ev[i].at <= t; i++)
		;
	/* ev[0..i) are at or before t. */
	if (i == 0) {
		sp->off = ev[0].off == r->std_off ? r->dst_off : r->std_off;
		sp->prev_off = sp->off;
	} else {
		sp->start = ev[i - 1].at;
		sp->off = ev[i - 1].off;
		sp->prev_off = i >= 2 ? ev[i - 2].off
				      : (sp->off == r->std_off ? r->dst_off : r->std_off);
	}
	if (i == 1 && ev[0].at == first) {
		sp->start = INT64_MIN;
		sp->prev_off = sp->off;
	}
	sp->next_off = sp->off;
	if (i < n && ev[i].at != last) {
		sp->end = ev[i].at;
		sp->next_off = ev[i].off;
	}
}

/* The rule holds in [-TZ_RULE_LIMIT, TZ_RULE_LIMIT) (a billion years either
 * way, so day * 86400 cannot overflow); standard time beyond, so that spans
 * still chain up at absurd instants. */
static void rule_span(const struct tz_rule *r, int64_t t, struct tz_span *sp)
{
	*sp = (struct tz_span){ INT64_MIN, INT64_MAX, r->std_off, r->std_off, r->std_off };
	if (!r->has_dst || r->std_off == r->dst_off)
		return;
	if (t < -TZ_RULE_LIMIT) {
		sp->end = -TZ_RULE_LIMIT;
		rule_span(r, sp->end, sp);
		*sp = (struct tz_span){ INT64_MIN, -TZ_RULE_LIMIT, r->std_off, r->std_off, sp->off };
		return;
	}
	if (t >= TZ_RULE_LIMIT) {
		rule_span(r, TZ_RULE_LIMIT - 1, sp);
		*sp = (struct tz_span){ TZ_RULE_LIMIT, INT64_MAX, r->std_off, sp->off, r->std_off };
		return;
	}
	rule_span_in(r, t, sp);
	if (sp->start < -TZ_RULE_LIMIT) {
		sp->start = -TZ_RULE_LIMIT;
		sp->prev_off = r->std_off;
	}
	if (sp->end > TZ_RULE_LIMIT) {
		sp->end = TZ_RULE_LIMIT;
		sp->next_off = r->std_off;
	}
}

/* ---- the transition table -------------------------------------------------- */

void tz_span_at(const struct tz *z, int64_t t, struct tz_span *sp)
{
	size_t lo = 0, hi = z->n;

	if (z->rule.set && (z->n == 0 || t >= z->at[z->n - 1])) {
		rule_span(&z->rule, t, sp);
		if (z->n > 0 && sp->start < z->at[z->n - 1]) {
			sp->start = z->at[z->n - 1];
			sp->prev_off = z->n >= 2 ? z->off[z->n - 2] : z->first_off;
		}
		return;
	}
	*sp = (struct tz_span){ INT64_MIN, INT64_MAX, z->first_off, z->first_off, z->first_off };
	while (lo < hi) { /* first transition after t */
		size_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		sp->start = z->at[lo - 1];
		sp->off = z->off[lo - 1];
		sp->prev_off = lo >= 2 ? z->off[lo - 2] : z->first_off;
	}
	sp->next_off = sp->off;
	if (lo < z->n) {
		sp->end = z->at[lo];
		sp->next_off = z->off[lo];
		if (lo == z->n - 1 && z->rule.set) {
			/* The footer, not the table, rules from the last transition on. */
			struct tz_span after;
			rule_span(&z->rule, sp->end, &after);
			sp->next_off = after.off;
		}
	}
}

int32_t tz_offset_at(const struct tz *z, int64_t t)
{
	struct tz_span sp;

	tz_span_at(z, t, &sp);
	return sp.off;
}

void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->at);
	free(z->off);
	free(z);
}

static struct tz *tz_new_fixed(int32_t off)
{
	struct tz *z = xcalloc(1, sizeof(*z));
	z->first_off = off;
	return z;
}

int tz_from_posix(const char *s, struct tz **out, const char **why)
{
	struct tz_rule r;

	if (!posix_parse(s, &r))
		return fail(why, EINVAL, "invalid POSIX TZ string");
	*out = tz_new_fixed(r.std_off);
	(*out)->rule = r;
	return 0;
}

/* ---- TZif ------------------------------------------------------------------ */

struct tzif_hdr {
	int version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int tzif_header(const unsigned char *p, size_t len, struct tzif_hdr *h, const char **why)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return fail(why, EINVAL, "not a TZif file");
	h->version = p[4] ? p[4] - '0' : 1;
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	if (h->version < 1 || h->typecnt == 0 || h->typecnt > 256 ||
	    (h->isutcnt && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt && h->isstdcnt != h->typecnt))
		return fail(why, EINVAL, "malformed TZif header");
	if (h->leapcnt)
		return fail(why, EINVAL, "zones with leap seconds (right/...) are not supported");
	return 0;
}

static uint64_t tzif_block_size(const struct tzif_hdr *h, unsigned tsize)
{
	return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
	       (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Fill z from one data block (4- or 8-byte times). */
static int tzif_block(const unsigned char *p, const struct tzif_hdr *h, unsigned tsize,
		      struct tz *z, const char **why)
{
	const unsigned char *idx = p + (size_t)h->timecnt * tsize;
	const unsigned char *types = idx + h->timecnt;
	int32_t offs[256];

	for (uint32_t i = 0; i < h->typecnt; i++) {
		int32_t off = (int32_t)be32(types + 6 * i);
		if (off < -TZ_MAX_OFFSET || off > TZ_MAX_OFFSET || types[6 * i + 4] > 1)
			return fail(why, EINVAL, "malformed TZif time type");
		offs[i] = off;
	}
	z->first_off = offs[0];
	z->n = h->timecnt;
	z->at = xreallocarray(NULL, z->n, sizeof(*z->at));
	z->off = xreallocarray(NULL, z->n, sizeof(*z->off));
	for (size_t i = 0; i < z->n; i++) {
		z->at[i] = tsize == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
		if (idx[i] >= h->typecnt || (i > 0 && z->at[i] <= z->at[i - 1]))
			return fail(why, EINVAL, "malformed TZif transitions");
		z->off[i] = offs[idx[i]];
	}
	return 0;
}

static int tzif_parse(const unsigned char *p, size_t len, struct tz *z, const char **why)
{
	struct tzif_hdr h;
	uint64_t size;
	int r;

	r = tzif_header(p, len, &h, why);
	if (r < 0)
		return r;
	size = tzif_block_size(&h, 4);
	if (size > len - 44)
		return fail(why, EINVAL, "truncated TZif file");
	if (h.version == 1)
		return tzif_block(p + 44, &h, 4, z, why);

	p += 44 + size;
	len -= 44 + size;
	r = tzif_header(p, len, &h, why);
	if (r < 0)
		return r;
	size = tzif_block_size(&h, 8);
	if (size > len - 44)
		return fail(why, EINVAL, "truncated TZif file");
	r = tzif_block(p + 44, &h, 8, z, why);
	if (r < 0)
		return r;

	const char *foot = (const char *)p + 44 + size, *nl;
	size_t flen = len - 44 - size;
	if (flen < 2 || foot[0] != '\n' || !(nl = memchr(foot + 1, '\n', flen - 1)))
		return fail(why, EINVAL, "TZif footer missing");
	if (nl == foot + 1)
		return 0; /* empty footer: the last type holds forever */
	char tzstr[128];
	if ((size_t)(nl - foot - 1) >= sizeof(tzstr))
		return fail(why, EINVAL, "TZif footer too long");
	memcpy(tzstr, foot + 1, (size_t)(nl - foot - 1));
	tzstr[nl - foot - 1] = '\0';
	if (!posix_parse(tzstr, &z->rule))
		return fail(why, EINVAL, "malformed TZif footer");
	return 0;
}

int tz_from_tzif(const void *data, size_t len, struct tz **out, const char **why)
{
	struct tz *z = xcalloc(1, sizeof(*z));
	int r = tzif_parse(data, len, z, why);

	if (r < 0) {
		tz_free(z);
		return r;
	}
	*out = z;
	return 0;
}

/* ---- loading --------------------------------------------------------------- */

/* Read a whole (small) file, following symlinks: /etc/localtime and much of
 * zoneinfo are links. O_NONBLOCK so a FIFO planted there cannot hang us. */
static int read_small(const char *path, unsigned char **buf, size_t *len)
{
	size_t cap = 8192, n = 0;
	unsigned char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	b = xmalloc(cap);
	for (;;) {
		ssize_t k = read(fd, b + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int err = -errno;
			close(fd);
			free(b);
			return err;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == cap) {
			if (cap >= TZIF_MAX_SIZE) {
				close(fd);
				free(b);
				return -EFBIG;
			}
			cap *= 2;
			b = xrealloc(b, cap);
		}
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

/* IANA names are relative paths of [A-Za-z0-9._+-] components; refuse
 * anything that could climb out of the zoneinfo directory. */
static bool valid_zone_name(const char *name)
{
	size_t comp = 0, n = strlen(name);

	if (n == 0 || n > 255)
		return false;
	for (const char *s = name;; s++) {
		if (*s == '/' || *s == '\0') {
			if (comp == 0 || (comp == 1 && s[-1] == '.') ||
			    (comp == 2 && s[-1] == '.' && s[-2] == '.'))
				return false;
			if (*s == '\0')
				return true;
			comp = 0;
		} else if (is_alpha(*s) || is_digit(*s) || *s == '.' || *s == '_' || *s == '+' ||
			   *s == '-') {
			comp++;
		} else {
			return false;
		}
	}
}

static int load_file(const char *path, struct tz **out, const char **why)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r = read_small(path, &buf, &len);

	if (r < 0)
		return r;
	r = tz_from_tzif(buf, len, out, why);
	free(buf);
	return r;
}

static int load_name(const char *name, struct tz **out, const char **why)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];

	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return load_file(path, out, why);
}

/* What glibc does with $TZ: a file (":" optional), else a POSIX string, and
 * UTC when nothing makes sense. */
static struct tz *load_local(void)
{
	const char *env = getenv("TZ");
	struct tz *z = NULL;

	if (!env) {
		if (load_file("/etc/localtime", &z, NULL) == 0)
			return z;
		return tz_new_fixed(0);
	}
	if (*env == ':')
		env++;
	if (!*env)
		return tz_new_fixed(0);
	if (*env == '/' ? load_file(env, &z, NULL) == 0
			: valid_zone_name(env) && load_name(env, &z, NULL) == 0)
		return z;
	if (tz_from_posix(env, &z, NULL) == 0)
		return z;
	return tz_new_fixed(0);
}

int tz_load(const char *name, struct tz **out, const char **why)
{
	const char *inner = "";
	int r;

	if (!name) {
		*out = load_local();
		return 0;
	}
	if (!valid_zone_name(name))
		return fail(why, EINVAL, "invalid time zone name '%.64s'", name);
	r = load_name(name, out, &inner);
	if (r == -EINVAL) {
		char what[64];
		snprintf(what, sizeof(what), "%s", inner);
		return fail(why, EINVAL, "time zone '%.64s': %s", name, what);
	}
	if (r < 0)
		return fail(why, ENOENT, "unknown time zone '%.64s'", name);
	return 0;
}
