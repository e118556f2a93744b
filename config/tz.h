/* Time zones read straight from tzdata (tzfile(5), RFC 8536), for cron.
 *
 * cron needs an arbitrary IANA zone per service while the rest of the
 * supervisor formats timestamps in the process's local zone. Switching the
 * process-wide TZ and calling tzset() around each computation would work in a
 * single thread but leaks into anything that formats a time meanwhile (and is
 * undefined with threads), so this is a small reader of the zone files
 * instead: the 64-bit transition table plus the POSIX TZ footer that governs
 * times after the last transition. It touches no global state.
 *
 * All times are POSIX seconds (UTC, no leap seconds); offsets are seconds
 * east of UTC, so local = utc + off.
 */
#ifndef SYSG_TZ_H
#define SYSG_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;

/* A stretch of time [start, end) with one UTC offset. start is INT64_MIN and
 * end INT64_MAX where the zone has no transition on that side; prev_off and
 * next_off are the offsets in force just before start and from end on. */
struct tz_span {
	int64_t start, end;
	int32_t off, prev_off, next_off;
};

/* Load a zone by IANA name ("Europe/Berlin") from $TZDIR or
 * /usr/share/zoneinfo; NULL means the local zone as the C library sees it
 * ($TZ as a file, name or POSIX string; else /etc/localtime; else UTC), which
 * never fails. Returns 0 or -EINVAL/-ENOENT with *why set (static storage,
 * valid until the next call in this thread). */
int tz_load(const char *name, struct tz **out, const char **why);
/* Parse a TZif image or a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"). */
int tz_from_tzif(const void *data, size_t len, struct tz **out, const char **why);
int tz_from_posix(const char *s, struct tz **out, const char **why);
void tz_free(struct tz *z);

void tz_span_at(const struct tz *z, int64_t t, struct tz_span *sp);
int32_t tz_offset_at(const struct tz *z, int64_t t);

/* Proleptic Gregorian calendar on day numbers (0 = 1970-01-01). */
int64_t days_from_civil(int64_t y, int m, int d);
void civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int weekday_from_days(int64_t days); /* 0 = Sunday */
bool is_leap_year(int64_t y);
int days_in_month(int64_t y, int m);

static inline int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

#endif
