/* Cron expressions: parsing and the next fire time (SPEC §2.3, docs/cron.md).
 *
 * Pure logic: no timers, no global state, no allocation in a parsed
 * expression (the supervisor keeps one per service). Time zones are read from
 * tzdata by config/tz.c; the process's TZ is never changed.
 */
#ifndef SYSG_CRON_H
#define SYSG_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set flags of the fields, bit n standing for value n. */
struct cron_expr {
	uint64_t sec;  /* 0-59; {0} for 5-field expressions */
	uint64_t min;  /* 0-59 */
	uint32_t hour; /* 0-23 */
	uint32_t dom;  /* 1-31 */
	uint16_t mon;  /* 1-12 */
	uint8_t dow;   /* 0-6, 0 = Sunday (7 is folded into 0) */
	uint8_t flags; /* CRON_F_* */
};

enum {
	CRON_F_SECONDS = 1 << 0,  /* written with a seconds field (6 fields) */
	CRON_F_DOM_STAR = 1 << 1, /* day of month starts with '*' or '?': unrestricted */
	CRON_F_DOW_STAR = 1 << 2, /* day of week starts with '*' or '?': unrestricted */
	CRON_F_HOUR_STAR = 1 << 3, /* hour starts with '*': DST handled by elapsed time */
};

/* Large enough for any cron_describe() output. */
#define CRON_DESCRIBE_MAX 512

/* Parse "sec min hour dom mon dow", "min hour dom mon dow" or a macro
 * (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly).
 * Returns 0, or -EINVAL with *why naming the field and the problem, e.g.
 * "field 3 (hour): 24 is out of range 0-23". *why points to static
 * thread-local storage valid until the next call. why may be NULL. */
int cron_parse(const char *expr, struct cron_expr *out, const char **why);

/* Check that tz (an IANA name such as "Europe/Berlin") can be loaded; NULL
 * (the local zone) is always fine. 0 or -EINVAL/-ENOENT with *why. */
int cron_check_tz(const char *tz, const char **why);

/* The first fire time strictly after after_usec (CLOCK_REALTIME, µs), in
 * whole seconds, with e evaluated in zone tz (NULL: the local zone). DST rules
 * are in docs/cron.md. Returns 0, -ENOENT if nothing fires within 40 years
 * (only possible for a hand-built expression: cron_parse refuses dates that
 * never occur), -EINVAL/-ENOENT for an unknown zone, -ERANGE on overflow. */
int cron_next(const struct cron_expr *e, const char *tz, int64_t after_usec, int64_t *next_usec);

/* The canonical form ("0 30 2 * * MON-FRI"), the one cron_parse reads back
 * to an equal expression. Truncated to len (CRON_DESCRIBE_MAX always fits). */
void cron_describe(const struct cron_expr *e, char *buf, size_t len);

bool cron_equal(const struct cron_expr *a, const struct cron_expr *b);

#endif
