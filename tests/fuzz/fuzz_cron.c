/* libFuzzer target for config/cron.c and config/tz.c.
 *
 * Input: a cron expression; or "TZif..." (a zone file image); or "TZ=" and a
 * POSIX TZ string. Invariants checked beyond memory safety:
 * - what cron_parse accepts, cron_describe prints back to an equal expression;
 * - what cron_parse accepts fires within the search horizon (the parser
 *   refuses dates that never occur), strictly later, and asking again from
 *   just before that instant gives the same instant;
 * - a zone's spans contain the instant asked about and chain up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/cron.h"
#include "config/tz.h"

#define AFTER_USEC 1711800000000000LL /* 2024-03-30, the day before Berlin's DST */

static const char *const zones[] = { "Europe/Berlin", "Australia/Lord_Howe", "UTC" };

static void check_expr(const char *s)
{
	struct cron_expr e, f;
	char buf[CRON_DESCRIBE_MAX];
	const char *why;

	if (cron_parse(s, &e, &why) != 0) {
		if (!why || !*why)
			abort();
		return;
	}
	cron_describe(&e, buf, sizeof(buf));
	if (strlen(buf) >= sizeof(buf) - 1 || cron_parse(buf, &f, &why) != 0 || !cron_equal(&e, &f))
		abort();
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		int64_t next, again;
		if (cron_next(&e, zones[i], AFTER_USEC, &next) != 0 || next <= AFTER_USEC ||
		    next % 1000000 != 0)
			abort();
		if (cron_next(&e, zones[i], next - 1, &again) != 0 || again != next)
			abort();
	}
}

static void check_zone(const struct tz *z)
{
	static const int64_t probes[] = { INT64_MIN, -5000000000LL, 0, 1711846800, 4102444800LL,
					  253402300799LL, INT64_MAX };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct tz_span sp, next;
		tz_span_at(z, probes[i], &sp);
		if (sp.start > probes[i] || (sp.end <= probes[i] && sp.end != INT64_MAX))
			abort();
		if (sp.end != INT64_MAX) {
			tz_span_at(z, sp.end, &next);
			if (next.off != sp.next_off)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz *z;
	const char *why;
	char *s;

	if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
		if (tz_from_tzif(data, size, &z, &why) == 0) {
			check_zone(z);
			tz_free(z);
		}
		return 0;
	}
	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (size >= 3 && memcmp(s, "TZ=", 3) == 0) {
		if (tz_from_posix(s + 3, &z, &why) == 0) {
			check_zone(z);
			tz_free(z);
		}
	} else if (strlen(s) == size) {
		check_expr(s);
	}
	free(s);
	return 0;
}
