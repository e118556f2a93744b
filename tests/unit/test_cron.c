/* cron: parsing, validation messages, next fire times across calendars and
 * DST, and the tzdata reader (config/cron.c, config/tz.c).
 *
 * Expected instants are written as local time with an explicit UTC offset
 * ("2024-03-31 03:00 +0200") and converted with glibc (strptime-free sscanf +
 * timegm), so they are exact and independent of the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cron.h"
#include "config/tz.h"

#define USEC 1000000LL

/* "YYYY-MM-DD HH:MM[:SS] +HHMM" -> POSIX seconds. */
static int64_t ts(const char *s)
{
	int y, mo, d, h, mi, sec = 0, oh, om, n = 0;
	char sign;
	struct tm tm = { 0 };

	if (sscanf(s, "%d-%d-%d %d:%d:%d %c%2d%2d%n", &y, &mo, &d, &h, &mi, &sec, &sign, &oh, &om,
		   &n) != 9) {
		sec = 0;
		assert_int_equal(sscanf(s, "%d-%d-%d %d:%d %c%2d%2d%n", &y, &mo, &d, &h, &mi, &sign,
					&oh, &om, &n),
				 8);
	}
	assert_int_equal(s[n], '\0');
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm) - (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
}

static struct cron_expr parse_ok(const char *expr)
{
	struct cron_expr e;
	const char *why = NULL;
	int r = cron_parse(expr, &e, &why);

	if (r != 0)
		fail_msg("cron_parse(\"%s\"): %s", expr, why);
	return e;
}

static void expect_seq_usec(const char *expr, const char *tz, int64_t after_usec,
			    const char *const *want, size_t n)
{
	struct cron_expr e = parse_ok(expr);
	int64_t t = after_usec;

	for (size_t i = 0; i < n; i++) {
		int64_t next = 0;
		int r = cron_next(&e, tz, t, &next);
		if (r != 0 || next != ts(want[i]) * USEC)
			fail_msg("\"%s\" in %s after %lld: got %d/%lld, want %s (%lld)", expr,
				 tz ? tz : "local", (long long)t, r, (long long)(next / USEC),
				 want[i], (long long)ts(want[i]));
		t = next;
	}
}

#define EXPECT(expr, tz, after, ...)                                                  \
	do {                                                                          \
		const char *const want_[] = { __VA_ARGS__ };                          \
		expect_seq_usec(expr, tz, ts(after) * USEC, want_, ARRAY_SIZE(want_)); \
	} while (0)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static void expect_bad(const char *expr, const char *want)
{
	struct cron_expr e;
	const char *why = NULL;

	assert_int_equal(cron_parse(expr, &e, &why), -EINVAL);
	assert_non_null(why);
	assert_string_equal(why, want);
}

#define BIT(n) (1ULL << (n))
#define RANGE(a, b) ((((b) >= 63 ? 0 : BIT((b) + 1)) - 1) & ~(BIT(a) - 1))

/* ---- parsing --------------------------------------------------------------------- */

static void test_ts_helper(void **state)
{
	(void)state;
	assert_int_equal(ts("2024-03-31 03:00 +0200"), 1711846800);
	assert_int_equal(ts("2024-11-03 01:00 -0500"), 1730613600);
	assert_int_equal(ts("2024-03-31 01:59:30 +0100"), 1711846770);
}

static void test_parse_forms(void **state)
{
	struct cron_expr e;
	(void)state;

	e = parse_ok("* * * * *");
	assert_int_equal(e.sec, 1);
	assert_int_equal(e.min, RANGE(0, 59));
	assert_int_equal(e.hour, RANGE(0, 23));
	assert_int_equal(e.dom, RANGE(1, 31));
	assert_int_equal(e.mon, RANGE(1, 12));
	assert_int_equal(e.dow, RANGE(0, 6));
	assert_int_equal(e.flags, CRON_F_DOM_STAR | CRON_F_DOW_STAR | CRON_F_HOUR_STAR);

	e = parse_ok("5 4 3 2 1");
	assert_int_equal(e.min, BIT(5));
	assert_int_equal(e.hour, BIT(4));
	assert_int_equal(e.dom, BIT(3));
	assert_int_equal(e.mon, BIT(2));
	assert_int_equal(e.dow, BIT(1));
	assert_int_equal(e.flags, 0);

	e = parse_ok("1-5,10,20-22 */6 1-31/10 */5 1-5");
	assert_int_equal(e.min, RANGE(1, 5) | BIT(10) | RANGE(20, 22));
	assert_int_equal(e.hour, BIT(0) | BIT(6) | BIT(12) | BIT(18));
	assert_int_equal(e.dom, BIT(1) | BIT(11) | BIT(21) | BIT(31));
	assert_int_equal(e.mon, BIT(1) | BIT(6) | BIT(11));
	assert_int_equal(e.dow, RANGE(1, 5));
	assert_int_equal(e.flags, CRON_F_HOUR_STAR);

	/* a/n runs from a to the field's end */
	e = parse_ok("7/20 22/1 28/2 11/1 4/2");
	assert_int_equal(e.min, BIT(7) | BIT(27) | BIT(47));
	assert_int_equal(e.hour, BIT(22) | BIT(23));
	assert_int_equal(e.dom, BIT(28) | BIT(30));
	assert_int_equal(e.mon, BIT(11) | BIT(12));
	assert_int_equal(e.dow, BIT(4) | BIT(6));
}

static void test_parse_forms_more(void **state)
{
	struct cron_expr e;
	(void)state;

	/* 4/3 reaches 7 = Sunday */
	e = parse_ok("0 0 * * 4/3");
	assert_int_equal(e.dow, BIT(4) | BIT(0));
	e = parse_ok("0 0 * * 7");
	assert_int_equal(e.dow, BIT(0));
	e = parse_ok("0 0 * * 5-7");
	assert_int_equal(e.dow, BIT(5) | BIT(6) | BIT(0));
	e = parse_ok("0 0 * * 0-7");
	assert_int_equal(e.dow, RANGE(0, 6));
	assert_int_equal(e.flags & CRON_F_DOW_STAR, 0);

	/* six fields: seconds first */
	e = parse_ok("*/15 30 2 * * *");
	assert_int_equal(e.sec, BIT(0) | BIT(15) | BIT(30) | BIT(45));
	assert_int_equal(e.min, BIT(30));
	assert_int_equal(e.hour, BIT(2));
	assert_int_equal(e.flags, CRON_F_SECONDS | CRON_F_DOM_STAR | CRON_F_DOW_STAR);

	/* '?' is '*' in the day fields; tabs and extra blanks separate */
	e = parse_ok("  0\t12  ?  *   MON  ");
	assert_int_equal(e.dom, RANGE(1, 31));
	assert_int_equal(e.dow, BIT(1));
	assert_int_equal(e.flags, CRON_F_DOM_STAR);
	e = parse_ok("0 12 15 * ?");
	assert_int_equal(e.flags, CRON_F_DOW_STAR);

	/* leading zeros, lists with overlaps, '*' in a list */
	e = parse_ok("007 00,0,1-2,2 * * *");
	assert_int_equal(e.min, BIT(7));
	assert_int_equal(e.hour, RANGE(0, 2));
	e = parse_ok("*/30,7 * * * *");
	assert_int_equal(e.min, BIT(0) | BIT(7) | BIT(30));

	/* '*' only counts as unrestricted at the start of a field (Vixie) */
	e = parse_ok("0 0 1,*/10 * MON");
	assert_int_equal(e.flags & (CRON_F_DOM_STAR | CRON_F_DOW_STAR), 0);
	e = parse_ok("0 0 */10 * MON");
	assert_int_equal(e.flags & (CRON_F_DOM_STAR | CRON_F_DOW_STAR), CRON_F_DOM_STAR);

	/* the biggest steps */
	e = parse_ok("*/59 */23 */30 */11 */7");
	assert_int_equal(e.min, BIT(0) | BIT(59));
	assert_int_equal(e.hour, BIT(0) | BIT(23));
	assert_int_equal(e.dom, BIT(1) | BIT(31));
	assert_int_equal(e.mon, BIT(1) | BIT(12));
	assert_int_equal(e.dow, BIT(0));
}

static void test_parse_names(void **state)
{
	struct cron_expr e;
	(void)state;

	e = parse_ok("0 0 1 JAN,mar,May-jul,Oct-DEC SUN");
	assert_int_equal(e.mon, BIT(1) | BIT(3) | RANGE(5, 7) | RANGE(10, 12));
	assert_int_equal(e.dow, BIT(0));
	e = parse_ok("0 0 * feb-nov/3 mon-FRI");
	assert_int_equal(e.mon, BIT(2) | BIT(5) | BIT(8) | BIT(11));
	assert_int_equal(e.dow, RANGE(1, 5));
	e = parse_ok("0 0 * * sat,Sun,tue-thu");
	assert_int_equal(e.dow, BIT(6) | BIT(0) | RANGE(2, 4));
	/* Sunday closing a range is 7 */
	e = parse_ok("0 0 * * FRI-SUN");
	assert_int_equal(e.dow, BIT(5) | BIT(6) | BIT(0));
	e = parse_ok("0 0 * * MON-SUN/2");
	assert_int_equal(e.dow, BIT(1) | BIT(3) | BIT(5) | BIT(0));
	/* full names, as systemg's cron crate accepts them */
	e = parse_ok("0 0 * January,december Monday,saturday");
	assert_int_equal(e.mon, BIT(1) | BIT(12));
	assert_int_equal(e.dow, BIT(1) | BIT(6));
	/* mixed names and numbers in one range */
	e = parse_ok("0 0 * 2-APR 1-WED");
	assert_int_equal(e.mon, RANGE(2, 4));
	assert_int_equal(e.dow, RANGE(1, 3));
}

/* Six fields are systemg's syntax (the Rust cron crate): days of week count
 * 1-7 from Sunday there, so a manifest moved from systemg keeps its meaning.
 * Five fields keep crontab(5)'s 0-7 with 0 and 7 = Sunday. Names agree. */
static void test_six_field_day_of_week(void **state)
{
	struct cron_expr e;
	char buf[CRON_DESCRIBE_MAX];
	(void)state;

	assert_int_equal(parse_ok("0 0 9 * * 1").dow, BIT(0));     /* Sunday */
	assert_int_equal(parse_ok("0 9 * * 1").dow, BIT(1));       /* Monday in crontab */
	assert_int_equal(parse_ok("0 0 9 * * 7").dow, BIT(6));     /* Saturday */
	assert_int_equal(parse_ok("0 9 * * 7").dow, BIT(0));       /* Sunday in crontab */
	assert_int_equal(parse_ok("0 0 9 * * 2-6").dow, RANGE(1, 5));
	assert_int_equal(parse_ok("0 0 9 * * 1,7").dow, BIT(0) | BIT(6));
	assert_int_equal(parse_ok("0 0 9 * * 2/3").dow, BIT(1) | BIT(4));
	assert_int_equal(parse_ok("0 0 9 * * 2-WED").dow, RANGE(1, 3));
	/* names and star steps mean the same in both forms */
	assert_int_equal(parse_ok("0 0 9 * * MON-FRI").dow, RANGE(1, 5));
	assert_int_equal(parse_ok("0 0 9 * * sun").dow, BIT(0));
	assert_int_equal(parse_ok("0 0 9 * * SAT-SUN").dow, BIT(6) | BIT(0));
	assert_int_equal(parse_ok("0 0 9 * * FRI-SUN").dow, BIT(5) | BIT(6) | BIT(0));
	assert_int_equal(parse_ok("0 0 9 * * MON-SUN/2").dow, BIT(1) | BIT(3) | BIT(5) | BIT(0));
	for (int n = 1; n <= 7; n++) {
		char five[32], six[32];
		snprintf(five, sizeof(five), "0 0 * * */%d", n);
		snprintf(six, sizeof(six), "0 0 0 * * */%d", n);
		assert_int_equal(parse_ok(five).dow, parse_ok(six).dow);
	}
	e = parse_ok("0 0 9 * * *");
	assert_int_equal(e.dow, RANGE(0, 6));
	assert_true(e.flags & CRON_F_DOW_STAR);
	/* the crate has no day 0 or 8 */
	expect_bad("0 0 9 * * 0", "field 6 (day of week): 0 is out of range 1-7");
	expect_bad("0 0 9 * * 0-5", "field 6 (day of week): 0 is out of range 1-7");
	expect_bad("0 0 9 * * 8", "field 6 (day of week): 8 is out of range 1-7");
	expect_bad("0 0 9 * * 7-1", "field 6 (day of week): range 7-1 is reversed (ranges do "
				  "not wrap around)");
	expect_bad("0 0 9 * * */8", "field 6 (day of week): step 8 is out of range 1-7");
	/* the canonical form uses names, which read back the same */
	e = parse_ok("0 0 9 * * 2-6");
	cron_describe(&e, buf, sizeof(buf));
	assert_string_equal(buf, "0 0 9 * * MON-FRI");
	struct cron_expr back = parse_ok(buf);
	assert_true(cron_equal(&e, &back));
	/* next fire: 2024-06-01 is a Saturday */
	EXPECT("0 0 9 * * 1", "UTC", "2024-06-01 00:00 +0000", "2024-06-02 09:00 +0000",
	       "2024-06-09 09:00 +0000");
	EXPECT("0 9 * * 1", "UTC", "2024-06-01 00:00 +0000", "2024-06-03 09:00 +0000");
	EXPECT("0 0 9 * * 7", "UTC", "2024-05-31 00:00 +0000", "2024-06-01 09:00 +0000",
	       "2024-06-08 09:00 +0000");
	/* Feb 29 with seconds and a crate-numbered weekday (both day fields
	 * restricted: either matches; February only) */
	EXPECT("30 0 12 29 2 1", "UTC", "2024-02-20 00:00 +0000", "2024-02-25 12:00:30 +0000",
	       "2024-02-29 12:00:30 +0000", "2025-02-02 12:00:30 +0000");
}

static void test_parse_macros(void **state)
{
	struct cron_expr e, f;
	(void)state;

	e = parse_ok("@yearly");
	assert_true(cron_equal(&e, &(struct cron_expr){ 1, 1, 1, BIT(1), BIT(1), RANGE(0, 6),
						   CRON_F_DOW_STAR }));
	f = parse_ok("@annually");
	assert_true(cron_equal(&e, &f));
	e = parse_ok("@monthly");
	f = parse_ok("0 0 1 * *");
	assert_true(cron_equal(&e, &f));
	e = parse_ok("@weekly");
	f = parse_ok("0 0 * * 0");
	assert_true(cron_equal(&e, &f));
	e = parse_ok("@daily");
	f = parse_ok("0 0 * * *");
	assert_true(cron_equal(&e, &f));
	e = parse_ok(" @MIDNIGHT ");
	assert_true(cron_equal(&e, &f));
	e = parse_ok("@hourly");
	f = parse_ok("0 * * * *");
	assert_true(cron_equal(&e, &f));
	assert_int_equal(e.flags & CRON_F_HOUR_STAR, CRON_F_HOUR_STAR);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_bad("", "empty expression");
	expect_bad(" \t ", "empty expression");
	expect_bad("* * * *", "expected 5 or 6 fields (sec min hour dom mon dow), got 4");
	expect_bad("0 0 0 1 1 * 2030", "expected 5 or 6 fields (sec min hour dom mon dow), got 7");
	expect_bad("0 0 24 * * *", "field 3 (hour): 24 is out of range 0-23");
	expect_bad("60 * * * *", "field 1 (minute): 60 is out of range 0-59");
	expect_bad("60 * * * * *", "field 1 (second): 60 is out of range 0-59");
	expect_bad("* * 0 * *", "field 3 (day of month): 0 is out of range 1-31");
	expect_bad("* * 32 * *", "field 3 (day of month): 32 is out of range 1-31");
	expect_bad("* * * 0 *", "field 4 (month): 0 is out of range 1-12");
	expect_bad("* * * 13 *", "field 4 (month): 13 is out of range 1-12");
	expect_bad("* * * * 8", "field 5 (day of week): 8 is out of range 0-7");
	expect_bad("99999999999999999999 * * * *",
		   "field 1 (minute): 99999999999999999999 is out of range 0-59");
	expect_bad("1-99999999999 * * * *", "field 1 (minute): 99999999999 is out of range 0-59");
	expect_bad("5-3 * * * *",
		   "field 1 (minute): range 5-3 is reversed (ranges do not wrap around)");
	expect_bad("0 22-2 * * *",
		   "field 2 (hour): range 22-2 is reversed (ranges do not wrap around)");
	expect_bad("* * * * FRI-MON",
		   "field 5 (day of week): range FRI-MON is reversed (ranges do not wrap around)");
	expect_bad("* * * DEC-JAN *",
		   "field 4 (month): range DEC-JAN is reversed (ranges do not wrap around)");
	expect_bad("*/0 * * * *", "field 1 (minute): step 0 is out of range 1-59");
	expect_bad("*/60 * * * *", "field 1 (minute): step 60 is out of range 1-59");
	expect_bad("* */24 * * *", "field 2 (hour): step 24 is out of range 1-23");
	expect_bad("* * * * */8", "field 5 (day of week): step 8 is out of range 1-7");
	expect_bad("* * * * */99999999999999",
		   "field 5 (day of week): step 99999999999999 is out of range 1-7");
	expect_bad("1,,2 * * * *", "field 1 (minute): empty list item in '1,,2'");
	expect_bad("1, * * * *", "field 1 (minute): empty list item in '1,'");
	expect_bad(",1 * * * *", "field 1 (minute): empty list item in ',1'");
	expect_bad("5x * * * *", "field 1 (minute): unexpected 'x' in '5x'");
	expect_bad("1- * * * *", "field 1 (minute): '1-' is incomplete");
	expect_bad("*/ * * * *", "field 1 (minute): '*/' is incomplete");
	expect_bad("1-2-3 * * * *", "field 1 (minute): unexpected '-' in '1-2-3'");
	expect_bad("1/2/3 * * * *", "field 1 (minute): unexpected '/' in '1/2/3'");
	expect_bad("** * * * *", "field 1 (minute): unexpected '*' in '**'");
	expect_bad("-1 * * * *", "field 1 (minute): unexpected '-' in '-1'");
	expect_bad("+1 * * * *", "field 1 (minute): unexpected '+' in '+1'");
	expect_bad("*/x * * * *", "field 1 (minute): unexpected 'x' in '*/x'");
	expect_bad("5\xc3\xa9 * * * *", "field 1 (minute): unexpected byte 0xc3 in '5?" "?'");
	expect_bad("* * * FOO *", "field 4 (month): unknown month name 'FOO'");
	expect_bad("* * * JANU *", "field 4 (month): unknown month name 'JANU'");
	expect_bad("* * * * FOO", "field 5 (day of week): unknown day name 'FOO'");
	expect_bad("* JAN * * *", "field 2 (hour): 'JAN' is not a number");
	expect_bad("* * L * *", "field 3 (day of month): 'L' is not a number");
	expect_bad("? * * * *",
		   "field 1 (minute): '?' is only allowed in day of month and day of week");
	expect_bad("* * ?/2 * *", "field 3 (day of month): '?' must be the whole field");
	expect_bad("* * 1,? * *", "field 3 (day of month): '?' must be the whole field");
	expect_bad("0 0 30 2 *", "field 3 (day of month): day 30 never occurs in the selected "
				 "months (they have at most 29 days)");
	expect_bad("0 0 0 31 4,6,9,11 *", "field 4 (day of month): day 31 never occurs in the "
					  "selected months (they have at most 30 days)");
	expect_bad("@reboot", "@reboot is not supported (a service without cron starts at boot)");
	expect_bad("@fortnightly", "unknown macro '@fortnightly' (known: @yearly, @annually, "
				   "@monthly, @weekly, @daily, @midnight, @hourly)");
	expect_bad("@daily 5", "unexpected text after @daily");
	expect_bad("0123456789012345678901234567890123456789 * * * *",
		   "field 1 (minute): 0123456789012345678901234567890123456789 is out of range "
		   "0-59");

	/* both day fields restricted: the impossible date is harmless (OR) */
	parse_ok("0 0 30 2 MON");
	/* why may be NULL */
	struct cron_expr e;
	assert_int_equal(cron_parse("bogus", &e, NULL), -EINVAL);
}

static void test_describe_roundtrip(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "* * * * *", "* * * * *" },
		{ "*/15 9-17 * * 1-5", "*/15 9-17 * * MON-FRI" },
		{ "0 30 2 * * *", "0 30 2 * * *" },
		{ "@yearly", "0 0 1 JAN *" },
		{ "@hourly", "0 * * * *" },
		{ "0 0 ? * 7", "0 0 * * SUN" },
		{ "0 0 1,15 * 0-7", "0 0 1,15 * SUN-SAT" },
		{ "0 0-23 * * *", "0 0-23 * * *" },
		{ "0 */10,5 * * *", "0 */10,5 * * *" },
		{ "0 0 */10 * MON", "0 0 */10 * MON" },
		{ "0 0 * * */2", "0 0 * * */2" },
		{ "0 0 * * */7", "0 0 * * */7" },
		{ "1,3,5,7 0 * FEB-NOV/3 *", "1-7/2 0 * FEB-NOV/3 *" },
		{ "0 0 * * FRI-SUN", "0 0 * * SUN,FRI-SAT" },
		{ "*/20 * * * * *", "*/20 * * * * *" },
	};
	char buf[CRON_DESCRIBE_MAX];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cron_expr e = parse_ok(cases[i].in), f;
		cron_describe(&e, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
		f = parse_ok(buf);
		assert_true(cron_equal(&e, &f));
	}
	/* truncation is safe */
	struct cron_expr e = parse_ok("* * * * *");
	cron_describe(&e, buf, 4);
	assert_string_equal(buf, "* *");
}

/* ---- next fire times: calendar ------------------------------------------------------ */

static void test_next_calendar_utc(void **state)
{
	(void)state;
	/* month end, including a 31st that April lacks */
	EXPECT("0 0 1 * *", "UTC", "2024-01-31 12:00 +0000", "2024-02-01 00:00 +0000",
	       "2024-03-01 00:00 +0000");
	EXPECT("0 0 31 * *", "UTC", "2024-03-31 00:00 +0000", "2024-05-31 00:00 +0000",
	       "2024-07-31 00:00 +0000", "2024-08-31 00:00 +0000");
	/* year end */
	EXPECT("59 23 31 12 *", "UTC", "2024-06-01 00:00 +0000", "2024-12-31 23:59 +0000",
	       "2025-12-31 23:59 +0000");
	EXPECT("@yearly", "UTC", "2024-12-31 23:59:59 +0000", "2025-01-01 00:00 +0000",
	       "2026-01-01 00:00 +0000");
	/* Feb 29: the next leap year, and 8 years over 2100 */
	EXPECT("0 0 29 2 *", "UTC", "2024-03-01 00:00 +0000", "2028-02-29 00:00 +0000",
	       "2032-02-29 00:00 +0000");
	EXPECT("0 0 29 2 *", "UTC", "2096-03-01 00:00 +0000", "2104-02-29 00:00 +0000");
	/* day of month OR day of week when both are restricted */
	EXPECT("0 12 13 * FRI", "UTC", "2024-09-27 12:00 +0000", "2024-10-04 12:00 +0000",
	       "2024-10-11 12:00 +0000", "2024-10-13 12:00 +0000", "2024-10-18 12:00 +0000");
	EXPECT("0 0 30 2 MON", "UTC", "2024-02-20 00:00 +0000", "2024-02-26 00:00 +0000",
	       "2025-02-03 00:00 +0000");
	/* AND when one starts with '*': days 1, 11, 21, 31 that are Mondays */
	EXPECT("0 0 */10 * MON", "UTC", "2024-01-02 00:00 +0000", "2024-03-11 00:00 +0000",
	       "2024-04-01 00:00 +0000", "2024-07-01 00:00 +0000");
	/* ... and with the day of week stepped: Feb 29 on a Sunday, 40 years apart */
	EXPECT("0 0 29 2 */7", "UTC", "2088-03-01 00:00 +0000", "2128-02-29 00:00 +0000");
	/* 7 and 0 are Sunday */
	EXPECT("0 9 * * 7", "UTC", "2024-06-01 00:00 +0000", "2024-06-02 09:00 +0000",
	       "2024-06-09 09:00 +0000");
	EXPECT("0 9 * * MON-SUN/3", "UTC", "2024-06-01 00:00 +0000", "2024-06-02 09:00 +0000",
	       "2024-06-03 09:00 +0000", "2024-06-06 09:00 +0000", "2024-06-09 09:00 +0000");
	/* ranges, lists and steps together; skipping whole months */
	EXPECT("15,45 8-9 1-3 JAN,JUL *", "UTC", "2024-01-03 09:45 +0000",
	       "2024-07-01 08:15 +0000", "2024-07-01 08:45 +0000", "2024-07-01 09:15 +0000");
	/* before 1970 */
	EXPECT("0 0 1 1 *", "UTC", "1969-06-01 00:00 +0000", "1970-01-01 00:00 +0000");
	EXPECT("30 12 * * *", "UTC", "1900-02-28 13:00 +0000", "1900-03-01 12:30 +0000");
}

static void test_next_seconds(void **state)
{
	(void)state;
	/* six fields: second resolution */
	EXPECT("*/10 * * * * *", "UTC", "2024-06-01 12:00:05 +0000", "2024-06-01 12:00:10 +0000",
	       "2024-06-01 12:00:20 +0000");
	EXPECT("58-59 59 23 31 12 *", "UTC", "2024-12-31 23:59:58 +0000",
	       "2024-12-31 23:59:59 +0000", "2025-12-31 23:59:58 +0000");
	EXPECT("0 0 0 1 1 *", "UTC", "2024-12-31 23:59:59 +0000", "2025-01-01 00:00 +0000");
	/* strictly after, whatever the fraction of a second */
	struct cron_expr e = parse_ok("* * * * * *");
	int64_t next, t0 = ts("2024-06-01 12:00:00 +0000") * USEC;
	assert_int_equal(cron_next(&e, "UTC", t0, &next), 0);
	assert_int_equal(next, t0 + USEC);
	assert_int_equal(cron_next(&e, "UTC", t0 - 1, &next), 0);
	assert_int_equal(next, t0);
	assert_int_equal(cron_next(&e, "UTC", t0 + 999999, &next), 0);
	assert_int_equal(next, t0 + USEC);
	assert_int_equal(cron_next(&e, "UTC", -1, &next), 0);
	assert_int_equal(next, 0);
	/* five fields fire on the minute */
	e = parse_ok("* * * * *");
	assert_int_equal(cron_next(&e, "UTC", t0 + 1, &next), 0);
	assert_int_equal(next, t0 + 60 * USEC);
}

/* ---- next fire times: time zones and DST ---------------------------------------------- */

static void test_dst_berlin(void **state)
{
	const char *tz = "Europe/Berlin";
	(void)state;

	/* spring forward, 2024-03-31 02:00 CET -> 03:00 CEST: a job inside the gap
	 * runs once, at the first instant after it */
	EXPECT("30 2 * * *", tz, "2024-03-30 12:00 +0100", "2024-03-31 03:00 +0200",
	       "2024-04-01 02:30 +0200");
	EXPECT("0 2 * * *", tz, "2024-03-30 12:00 +0100", "2024-03-31 03:00 +0200",
	       "2024-04-01 02:00 +0200");
	EXPECT("0,30 2 * * *", tz, "2024-03-30 12:00 +0100", "2024-03-31 03:00 +0200",
	       "2024-04-01 02:00 +0200");
	/* ... also when asked a fraction of a second before the jump */
	struct cron_expr e = parse_ok("30 2 * * *");
	int64_t next, jump = ts("2024-03-31 03:00 +0200");
	assert_int_equal(cron_next(&e, tz, jump * USEC - 500000, &next), 0);
	assert_int_equal(next, jump * USEC);
	assert_int_equal(cron_next(&e, tz, jump * USEC, &next), 0);
	assert_int_equal(next, ts("2024-04-01 02:30 +0200") * USEC);
	/* the first valid time itself fires once */
	EXPECT("0 3 * * *", tz, "2024-03-30 12:00 +0100", "2024-03-31 03:00 +0200",
	       "2024-04-01 03:00 +0200");
	EXPECT("0 2,3 * * *", tz, "2024-03-31 01:00 +0100", "2024-03-31 03:00 +0200",
	       "2024-04-01 02:00 +0200");
	/* '*' in the hour keeps elapsed time: no run for the missing 02:xx */
	EXPECT("*/15 * * * *", tz, "2024-03-31 01:40 +0100", "2024-03-31 01:45 +0100",
	       "2024-03-31 03:00 +0200", "2024-03-31 03:15 +0200");
	EXPECT("5 * * * *", tz, "2024-03-31 01:30 +0100", "2024-03-31 03:05 +0200",
	       "2024-03-31 04:05 +0200");
	/* seconds in the gap */
	EXPECT("0 30 2 31 MAR *", tz, "2024-03-01 00:00 +0100", "2024-03-31 03:00 +0200",
	       "2025-03-31 02:30 +0200");
	EXPECT("30 59 1 * * *", tz, "2024-03-31 00:00 +0100", "2024-03-31 01:59:30 +0100",
	       "2024-04-01 01:59:30 +0200");

	/* fall back, 2024-10-27 03:00 CEST -> 02:00 CET: a fixed time runs once, in
	 * the first pass */
	EXPECT("30 2 * * *", tz, "2024-10-26 12:00 +0200", "2024-10-27 02:30 +0200",
	       "2024-10-28 02:30 +0100");
	EXPECT("*/30 2 * * *", tz, "2024-10-27 01:50 +0200", "2024-10-27 02:00 +0200",
	       "2024-10-27 02:30 +0200", "2024-10-28 02:00 +0100");
	EXPECT("30 2 * * *", tz, "2024-10-27 02:10 +0100", "2024-10-28 02:30 +0100");
	EXPECT("0 3 * * *", tz, "2024-10-27 01:00 +0200", "2024-10-27 03:00 +0100",
	       "2024-10-28 03:00 +0100");
	/* '*' in the hour: both passes are real, distinct instants */
	EXPECT("*/15 * * * *", tz, "2024-10-27 02:40 +0200", "2024-10-27 02:45 +0200",
	       "2024-10-27 02:00 +0100", "2024-10-27 02:15 +0100", "2024-10-27 02:30 +0100",
	       "2024-10-27 02:45 +0100", "2024-10-27 03:00 +0100");
	EXPECT("0 * * * *", tz, "2024-10-27 01:30 +0200", "2024-10-27 02:00 +0200",
	       "2024-10-27 02:00 +0100", "2024-10-27 03:00 +0100");

	/* far future: the rule in the zone file's footer, not the table */
	EXPECT("30 2 * * *", tz, "2090-03-25 12:00 +0100", "2090-03-26 03:00 +0200",
	       "2090-03-27 02:30 +0200");
}

static void test_dst_new_york(void **state)
{
	const char *tz = "America/New_York";
	(void)state;

	/* spring forward 2024-03-10 02:00 EST -> 03:00 EDT */
	EXPECT("30 2 * * *", tz, "2024-03-09 12:00 -0500", "2024-03-10 03:00 -0400",
	       "2024-03-11 02:30 -0400");
	EXPECT("*/20 * * * *", tz, "2024-03-10 01:30 -0500", "2024-03-10 01:40 -0500",
	       "2024-03-10 03:00 -0400", "2024-03-10 03:20 -0400");
	/* fall back 2024-11-03 02:00 EDT -> 01:00 EST: 01:xx happens twice */
	EXPECT("30 1 * * *", tz, "2024-11-02 12:00 -0400", "2024-11-03 01:30 -0400",
	       "2024-11-04 01:30 -0500");
	EXPECT("*/20 * * * *", tz, "2024-11-03 01:30 -0400", "2024-11-03 01:40 -0400",
	       "2024-11-03 01:00 -0500", "2024-11-03 01:20 -0500", "2024-11-03 01:40 -0500",
	       "2024-11-03 02:00 -0500");
	EXPECT("0 2 * * *", tz, "2024-11-02 12:00 -0400", "2024-11-03 02:00 -0500",
	       "2024-11-04 02:00 -0500");
	/* a weekly job on the DST Sunday */
	EXPECT("15 1 * * SUN", tz, "2024-11-01 00:00 -0400", "2024-11-03 01:15 -0400",
	       "2024-11-10 01:15 -0500");
}

static void test_dst_lord_howe(void **state)
{
	const char *tz = "Australia/Lord_Howe";
	(void)state;

	/* 30-minute shift. Spring 2024-10-06 02:00 +1030 -> 02:30 +11 */
	EXPECT("15 2 * * *", tz, "2024-10-05 12:00 +1030", "2024-10-06 02:30 +1100",
	       "2024-10-07 02:15 +1100");
	EXPECT("45 2 * * *", tz, "2024-10-05 12:00 +1030", "2024-10-06 02:45 +1100");
	EXPECT("*/15 * * * *", tz, "2024-10-06 01:50 +1030", "2024-10-06 02:30 +1100",
	       "2024-10-06 02:45 +1100");
	/* fall back 2024-04-07 02:00 +11 -> 01:30 +1030 */
	EXPECT("45 1 * * *", tz, "2024-04-06 12:00 +1100", "2024-04-07 01:45 +1100",
	       "2024-04-08 01:45 +1030");
	EXPECT("*/15 * * * *", tz, "2024-04-07 01:40 +1100", "2024-04-07 01:45 +1100",
	       "2024-04-07 01:30 +1030", "2024-04-07 01:45 +1030", "2024-04-07 02:00 +1030");
	/* southern-hemisphere footer rule */
	EXPECT("15 2 * * *", tz, "2090-09-30 12:00 +1030", "2090-10-01 02:30 +1100");
}

static void test_whole_day_gap(void **state)
{
	(void)state;
	/* Samoa skipped 2011-12-30 (-10 -> +14): a fixed-hour job catches up once
	 * at the first instant after the gap, a '*'-hour one just resumes */
	EXPECT("0 12 * * *", "Pacific/Apia", "2011-12-29 00:00 -1000", "2011-12-29 12:00 -1000",
	       "2011-12-31 00:00 +1400", "2011-12-31 12:00 +1400");
	EXPECT("0 */6 * * *", "Pacific/Apia", "2011-12-29 13:00 -1000", "2011-12-29 18:00 -1000",
	       "2011-12-31 00:00 +1400", "2011-12-31 06:00 +1400");
	EXPECT("0 9 30 12 *", "Pacific/Apia", "2011-06-01 00:00 -1000", "2011-12-31 00:00 +1400",
	       "2012-12-30 09:00 +1400");
}

static void test_fixed_offset_zones(void **state)
{
	(void)state;
	EXPECT("0 0 * * *", "Etc/GMT-14", "2024-01-01 00:00 +0000", "2024-01-02 00:00 +1400",
	       "2024-01-03 00:00 +1400");
	EXPECT("0 0 * * *", "Etc/GMT+5", "2024-01-01 00:00 +0000", "2024-01-01 00:00 -0500");
	EXPECT("30 9 * * MON-FRI", "Asia/Kolkata", "2024-06-07 10:00 +0530",
	       "2024-06-10 09:30 +0530");
	EXPECT("0 0 1 1 *", "UTC", "2024-06-01 00:00 +0000", "2025-01-01 00:00 +0000");
	EXPECT("0 0 1 1 *", "Etc/UTC", "2024-06-01 00:00 +0000", "2025-01-01 00:00 +0000");
}

static void test_local_zone(void **state)
{
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	(void)state;

	/* NULL means the process's zone, as the C library would see it */
	setenv("TZ", "America/New_York", 1);
	EXPECT("30 2 * * *", NULL, "2024-03-09 12:00 -0500", "2024-03-10 03:00 -0400");
	setenv("TZ", ":Europe/Berlin", 1);
	EXPECT("30 2 * * *", NULL, "2024-10-26 12:00 +0200", "2024-10-27 02:30 +0200",
	       "2024-10-28 02:30 +0100");
	setenv("TZ", "/usr/share/zoneinfo/Australia/Lord_Howe", 1);
	EXPECT("15 2 * * *", NULL, "2024-10-05 12:00 +1030", "2024-10-06 02:30 +1100");
	/* a POSIX TZ string, rules included */
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	EXPECT("30 1 * * *", NULL, "2024-11-02 12:00 -0400", "2024-11-03 01:30 -0400",
	       "2024-11-04 01:30 -0500");
	setenv("TZ", "<+0545>-5:45", 1);
	EXPECT("0 0 * * *", NULL, "2024-01-01 00:00 +0000", "2024-01-02 00:00 +0545");
	/* empty or nonsense: UTC, like glibc */
	setenv("TZ", "", 1);
	EXPECT("0 0 * * *", NULL, "2024-01-01 12:00 +0000", "2024-01-02 00:00 +0000");
	setenv("TZ", "No/Such_Zone", 1);
	EXPECT("0 0 * * *", NULL, "2024-01-01 12:00 +0000", "2024-01-02 00:00 +0000");
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	/* /etc/localtime (whatever it is here) loads */
	struct cron_expr e = parse_ok("@daily");
	int64_t next;
	assert_int_equal(cron_next(&e, NULL, 0, &next), 0);
}

static void test_check_tz(void **state)
{
	const char *why = NULL;
	struct cron_expr e = parse_ok("@daily");
	int64_t next;
	(void)state;

	assert_int_equal(cron_check_tz(NULL, &why), 0);
	assert_int_equal(cron_check_tz("Europe/Berlin", &why), 0);
	assert_int_equal(cron_check_tz("UTC", &why), 0); /* a symlink on Debian */
	assert_int_equal(cron_check_tz("Europe/Berln", &why), -ENOENT);
	assert_string_equal(why, "unknown time zone 'Europe/Berln'");
	assert_int_equal(cron_check_tz("Europe", &why), -ENOENT); /* a directory */
	assert_string_equal(why, "unknown time zone 'Europe'");
	assert_int_equal(cron_check_tz("zone1970.tab", &why), -EINVAL);
	assert_string_equal(why, "time zone 'zone1970.tab': not a TZif file");
	assert_int_equal(cron_check_tz("right/UTC", &why), -EINVAL);
	assert_string_equal(why, "time zone 'right/UTC': zones with leap seconds (right/...) are "
				 "not supported");
	assert_int_equal(cron_check_tz("../../../etc/passwd", &why), -EINVAL);
	assert_string_equal(why, "invalid time zone name '../../../etc/passwd'");
	assert_int_equal(cron_check_tz("/etc/localtime", &why), -EINVAL);
	assert_string_equal(why, "invalid time zone name '/etc/localtime'");
	assert_int_equal(cron_check_tz("", &why), -EINVAL);
	assert_int_equal(cron_check_tz("Europe/./Berlin", &why), -EINVAL);
	assert_int_equal(cron_check_tz("Europe//Berlin", &why), -EINVAL);
	assert_int_equal(cron_check_tz("Europe/Berlin/", &why), -EINVAL);
	assert_int_equal(cron_check_tz("EST5EDT,M3.2.0,M11.1.0", &why), -EINVAL);
	assert_int_equal(cron_next(&e, "Europe/Berln", 0, &next), -ENOENT);
	assert_int_equal(cron_next(&e, "../x", 0, &next), -EINVAL);
}

/* ---- termination ------------------------------------------------------------------------ */

static void test_impossible_terminates(void **state)
{
	struct cron_expr e = parse_ok("0 0 30 1 *");
	int64_t next = 42;
	struct timespec a, b;
	(void)state;

	/* cron_parse refuses Feb 30, so build it by hand */
	e.mon = 1 << 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(cron_next(&e, "UTC", 0, &next), -ENOENT);
	assert_int_equal(cron_next(&e, "Europe/Berlin", 0, &next), -ENOENT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(next, 42);
	/* generous even for a sanitizer build; the search skips whole months */
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 500);

	/* no month at all */
	e = parse_ok("* * * * *");
	e.mon = 0;
	assert_int_equal(cron_next(&e, "UTC", 0, &next), -ENOENT);

	/* the end of time */
	e = parse_ok("* * * * *");
	assert_int_equal(cron_next(&e, "UTC", INT64_MAX - 1, &next), -ERANGE);
	e = parse_ok("0 0 1 1 *");
	assert_int_equal(cron_next(&e, "UTC", INT64_MIN, &next), 0);
}

/* ---- the tzdata reader ---------------------------------------------------------------- */

static int32_t posix_off(const char *s, const char *when)
{
	struct tz *z;
	const char *why = NULL;
	int32_t off;

	if (tz_from_posix(s, &z, &why) != 0)
		fail_msg("tz_from_posix(\"%s\"): %s", s, why);
	off = tz_offset_at(z, ts(when));
	tz_free(z);
	return off;
}

static void test_tz_posix(void **state)
{
	const char *eu = "CET-1CEST,M3.5.0,M10.5.0/3";
	struct tz *z;
	const char *why;
	(void)state;

	assert_int_equal(posix_off(eu, "2024-03-31 01:59:59 +0100"), 3600);
	assert_int_equal(posix_off(eu, "2024-03-31 03:00:00 +0200"), 7200);
	assert_int_equal(posix_off(eu, "2024-10-27 02:59:59 +0200"), 7200);
	assert_int_equal(posix_off(eu, "2024-10-27 02:00:00 +0100"), 3600);
	/* no rule: the US rules */
	assert_int_equal(posix_off("EST5EDT", "2024-03-10 01:59:59 -0500"), -18000);
	assert_int_equal(posix_off("EST5EDT", "2024-03-10 03:00:00 -0400"), -14400);
	/* southern hemisphere, explicit DST offset, quoted names */
	const char *nz = "<+12>-12<+1245>-12:45,M9.5.0/2:45,M4.1.0/3:45";
	assert_int_equal(posix_off(nz, "2024-01-15 12:00 +0000"), 45900);
	assert_int_equal(posix_off(nz, "2024-07-15 12:00 +0000"), 43200);
	/* Julian days: J60 is always March 1; 59 (zero-based) is Feb 29 in leap years */
	assert_int_equal(posix_off("AAA0BBB,J60/0,J300/0", "2024-03-01 00:00 +0000"), 3600);
	assert_int_equal(posix_off("AAA0BBB,J60/0,J300/0", "2024-02-29 23:59:59 +0000"), 0);
	assert_int_equal(posix_off("AAA0BBB,59/0,300/0", "2024-02-29 00:00 +0000"), 3600);
	assert_int_equal(posix_off("AAA0BBB,59/0,300/0", "2024-02-28 23:59:59 +0000"), 0);
	/* RFC 8536 extensions: negative and > 24h rule times */
	assert_int_equal(posix_off("AAA0BBB,M3.5.0/-1,M10.5.0/49", "2024-03-30 22:59:59 +0000"), 0);
	assert_int_equal(posix_off("AAA0BBB,M3.5.0/-1,M10.5.0/49", "2024-03-30 23:00 +0000"), 3600);
	assert_int_equal(posix_off("AAA0BBB,M3.5.0/-1,M10.5.0/49", "2024-10-28 23:59:59 +0000"),
			 3600);
	assert_int_equal(posix_off("AAA0BBB,M3.5.0/-1,M10.5.0/49", "2024-10-29 00:00 +0000"), 0);
	/* permanent DST spans year ends without a phantom transition */
	const char *perm = "EST5EDT,0/0,J365/25";
	assert_int_equal(tz_from_posix(perm, &z, &why), 0);
	struct tz_span sp;
	tz_span_at(z, ts("2024-01-01 00:00 -0400"), &sp);
	assert_int_equal(sp.off, -14400);
	tz_span_at(z, ts("2024-12-31 23:59:59 -0400"), &sp);
	assert_int_equal(sp.off, -14400);
	tz_free(z);
	EXPECT("30 2 * * *", "UTC", "2024-01-01 00:00 +0000", "2024-01-01 02:30 +0000");

	static const char *const bad[] = {
		"", "EST", "ES5", "E5T5", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0",
		"EST5EDT,M3.2.0,M11.1.0x", "EST25", "EST5:60", "<AB>5", "EST5EDT,M3.6.0,M11.1.0",
		"EST5EDT,J0,J365", "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,M3.2.0/168,M11.1.0",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (tz_from_posix(bad[i], &z, &why) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(why, "invalid POSIX TZ string");
	}
}

static void test_tz_tzif_truncated(void **state)
{
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	unsigned char buf[8192];
	size_t n;
	struct tz *z;
	const char *why;
	(void)state;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(tz_from_tzif(buf, n, &z, &why), 0);
	tz_free(z);
	/* every shorter prefix lacks at least the footer's final newline */
	for (size_t len = 0; len < n; len++) {
		if (tz_from_tzif(buf, len, &z, &why) == 0)
			fail_msg("accepted a %zu-byte prefix", len);
	}
	/* a v1 reading of the same file: the 32-bit block only */
	buf[4] = 0;
	assert_int_equal(tz_from_tzif(buf, n, &z, &why), 0);
	assert_int_equal(tz_offset_at(z, ts("2024-07-01 00:00 +0000")), 7200);
	tz_free(z);
	buf[4] = '2';
	buf[0] = 'X';
	assert_int_equal(tz_from_tzif(buf, n, &z, &why), -EINVAL);
	assert_string_equal(why, "not a TZif file");
}

/* Offsets agree with glibc's own reading of tzdata, transitions included. */
static void test_tz_matches_libc(void **state)
{
	static const char *const zones[] = {
		"Europe/Berlin",  "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham",
		"America/Santiago", "Asia/Tehran",   "Africa/Casablanca",   "Pacific/Apia",
		"Europe/Dublin",   "America/Godthab", "Antarctica/Troll",    "Asia/Kolkata",
		"America/St_Johns", "Europe/London",  "Australia/Sydney",    "Pacific/Kiritimati",
	};
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	unsigned seed = 12345;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(zones); i++) {
		struct tz *z;
		const char *why;
		assert_int_equal(tz_load(zones[i], &z, &why), 0);
		setenv("TZ", zones[i], 1);
		tzset();
		for (int k = 0; k < 3000; k++) {
			seed = seed * 1103515245 + 12345;
			int64_t t = -2208988800LL + (int64_t)(seed % 1000000) * 7258 +
				    (int64_t)(seed >> 20 & 0xfff);
			struct tz_span sp;
			tz_span_at(z, t, &sp);
			int64_t s0 = sp.start == INT64_MIN ? t : sp.start;
			int64_t e0 = sp.end == INT64_MAX ? t : sp.end;
			int64_t probe[] = { t, s0, s0 - 1, e0, e0 - 1 };
			for (size_t p = 0; p < ARRAY_SIZE(probe); p++) {
				if (probe[p] < -2208988800LL || probe[p] > 7258118400LL)
					continue;
				time_t tt = (time_t)probe[p];
				struct tm tm;
				localtime_r(&tt, &tm);
				if (tz_offset_at(z, probe[p]) != tm.tm_gmtoff)
					fail_msg("%s at %lld: %d, libc %ld", zones[i],
						 (long long)probe[p], tz_offset_at(z, probe[p]),
						 tm.tm_gmtoff);
			}
		}
		tz_free(z);
	}
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

/* ---- against a brute-force reference --------------------------------------------------- */

/* The rules of docs/cron.md, restated minute by minute over glibc's local
 * time: fire at a real minute t when the local time matches (a fixed-hour job
 * only if that local time was not seen before), or, right after clocks jump
 * forward, when a fixed-hour job matches some local time in the gap. */
static bool ref_match(const struct cron_expr *e, int64_t local)
{
	time_t tt = (time_t)local;
	struct tm tm;

	gmtime_r(&tt, &tm);
	bool dom = e->dom >> tm.tm_mday & 1, dow = e->dow >> tm.tm_wday & 1;
	bool day = (e->flags & (CRON_F_DOM_STAR | CRON_F_DOW_STAR)) ? dom && dow : dom || dow;
	return (e->min >> tm.tm_min & 1) && (e->hour >> tm.tm_hour & 1) &&
	       (e->mon >> (tm.tm_mon + 1) & 1) && day;
}

static long libc_off(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

static int64_t ref_next(const struct cron_expr *e, int64_t after, int64_t limit)
{
	bool fixed = !(e->flags & CRON_F_HOUR_STAR);
	int64_t t = (after / 60 - 6 * 60) * 60, seen = INT64_MIN;

	for (; t <= limit; t += 60) {
		long off = libc_off(t), prev = libc_off(t - 1);
		int64_t local = t + off;
		bool fire = ref_match(e, local) && (!fixed || local > seen);
		for (int64_t g = t + prev; fixed && off > prev && g < t + off; g += 60)
			fire = fire || ref_match(e, g);
		if (local > seen)
			seen = local;
		if (fire && t > after)
			return t;
	}
	return -1;
}

static unsigned rnd(unsigned *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 8;
}

#define PICK(a) (a[rnd(&seed) % ARRAY_SIZE(a)])

static void test_against_reference(void **state)
{
	static const char *const zones[] = { "Europe/Berlin", "America/New_York",
					     "Australia/Lord_Howe", "Pacific/Chatham",
					     "America/Santiago", "Asia/Kolkata" };
	static const char *const mins[] = { "*", "*/15", "0", "30", "0,30", "5-10", "45", "*/7" };
	static const char *const doms[] = { "*", "*", "*", "1-15", "*/2", "13" };
	static const char *const dows[] = { "*", "*", "SUN", "MON-FRI", "0,6", "*/2" };
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	unsigned seed = 777;
	int compared = 0;
	(void)state;

	for (int k = 0; k < 600; k++) {
		const char *zone = PICK(zones);
		struct tz *z;
		struct tz_span sp;
		char expr[64], hour[32];
		struct cron_expr e;
		int64_t t = ts("2024-01-01 00:00 +0000") + (int64_t)(rnd(&seed) % (3 * 366 * 86400));

		/* start up to a day and a half before a transition; hours near h,
		 * the local hour at the transition, make the DST rules matter */
		assert_int_equal(tz_load(zone, &z, NULL), 0);
		tz_span_at(z, t, &sp);
		tz_free(z);
		if (sp.end != INT64_MAX)
			t = sp.end - (int64_t)(rnd(&seed) % (36 * 3600));
		int h = (int)(((sp.end == INT64_MAX ? t : sp.end) + sp.off) / 3600 % 24);
		int i = h + 1 > 23 ? 23 : h + 1;
		switch (rnd(&seed) % 8) {
		case 0: snprintf(hour, sizeof(hour), "*"); break;
		case 1:
		case 2: snprintf(hour, sizeof(hour), "%d", h); break;
		case 3: snprintf(hour, sizeof(hour), "%d-%d", h, i); break;
		case 4: snprintf(hour, sizeof(hour), "*/2"); break;
		case 5: snprintf(hour, sizeof(hour), "0,%d", h); break;
		case 6: snprintf(hour, sizeof(hour), "%d", i); break;
		default: snprintf(hour, sizeof(hour), "*/3,%d", h); break;
		}
		snprintf(expr, sizeof(expr), "%s %s %s * %s", PICK(mins), hour, PICK(doms),
			 PICK(dows));
		e = parse_ok(expr);
		setenv("TZ", zone, 1);
		tzset();
		for (int step = 0; step < 6; step++) {
			int64_t got, want = ref_next(&e, t, t + 9 * 86400);
			if (want < 0)
				break;
			assert_int_equal(cron_next(&e, zone, t * USEC, &got), 0);
			if (got != want * USEC)
				fail_msg("\"%s\" in %s after %lld: got %lld, want %lld", expr, zone,
					 (long long)t, (long long)(got / USEC), (long long)want);
			t = want;
			compared++;
		}
	}
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
	assert_true(compared > 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts_helper),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_forms_more),
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_six_field_day_of_week),
		cmocka_unit_test(test_parse_macros),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_describe_roundtrip),
		cmocka_unit_test(test_next_calendar_utc),
		cmocka_unit_test(test_next_seconds),
		cmocka_unit_test(test_dst_berlin),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_dst_lord_howe),
		cmocka_unit_test(test_whole_day_gap),
		cmocka_unit_test(test_fixed_offset_zones),
		cmocka_unit_test(test_local_zone),
		cmocka_unit_test(test_check_tz),
		cmocka_unit_test(test_impossible_terminates),
		cmocka_unit_test(test_tz_posix),
		cmocka_unit_test(test_tz_tzif_truncated),
		cmocka_unit_test(test_tz_matches_libc),
		cmocka_unit_test(test_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
