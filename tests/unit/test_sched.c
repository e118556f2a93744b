/* The cron runtime's plain-data half (supervisor/sched.c): the run history,
 * its file format, and the decision whether a run was missed while the
 * supervisor was down (catch_up). The timers are covered by
 * tests/integration/test_sched.py. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "supervisor/sched.h"

#define SEC 1000000LL

/* "YYYY-MM-DD HH:MM:SS +HHMM" -> µs, independent of the code under test. */
static int64_t at(const char *s)
{
	int y, mo, d, h, mi, sec, oh, om;
	char sign;
	struct tm tm = {0};

	assert_int_equal(sscanf(s, "%d-%d-%d %d:%d:%d %c%2d%2d", &y, &mo, &d, &h, &mi, &sec, &sign,
				&oh, &om),
			 9);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return ((int64_t)timegm(&tm) - (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60)) * SEC;
}

static struct cron_run run(int64_t scheduled, enum cron_outcome o)
{
	struct cron_run r = {.scheduled = scheduled, .outcome = o};
	snprintf(r.reason, sizeof(r.reason), "run %lld", (long long)(scheduled / SEC));
	return r;
}

static void test_history_order_and_capacity(void **state)
{
	struct cron_history h = {0};
	struct cron_run r;
	(void)state;

	/* a run ends after the overlaps recorded while it went on: it still
	 * comes first, by its scheduled time */
	cron_history_add(&h, &(struct cron_run){.scheduled = 2 * SEC, .outcome = CRON_OVERLAP});
	cron_history_add(&h, &(struct cron_run){.scheduled = 3 * SEC, .outcome = CRON_OVERLAP});
	cron_history_add(&h, &(struct cron_run){.scheduled = 1 * SEC, .outcome = CRON_SUCCESS});
	assert_int_equal(h.nruns, 3);
	assert_int_equal(h.runs[0].scheduled, 1 * SEC);
	assert_int_equal(h.runs[0].outcome, CRON_SUCCESS);
	assert_int_equal(h.runs[1].scheduled, 2 * SEC);
	assert_int_equal(h.runs[2].scheduled, 3 * SEC);
	/* a run not started by the schedule sorts by its start */
	r = (struct cron_run){.started = 2500000, .outcome = CRON_STOPPED};
	cron_history_add(&h, &r);
	assert_int_equal(h.runs[2].started, 2500000);
	assert_int_equal(h.runs[3].scheduled, 3 * SEC);

	/* the oldest go once the history is full */
	memset(&h, 0, sizeof(h));
	for (int i = 1; i <= CRON_HISTORY_MAX + 5; i++) {
		r = run(i * SEC, CRON_SUCCESS);
		cron_history_add(&h, &r);
	}
	assert_int_equal(h.nruns, CRON_HISTORY_MAX);
	assert_int_equal(h.runs[0].scheduled, 6 * SEC);
	assert_int_equal(h.runs[CRON_HISTORY_MAX - 1].scheduled, (CRON_HISTORY_MAX + 5) * SEC);
	assert_string_equal(h.runs[0].reason, "run 6");
	/* ... and something older than all of it is not kept */
	r = run(1 * SEC, CRON_OVERLAP);
	cron_history_add(&h, &r);
	assert_int_equal(h.runs[0].scheduled, 6 * SEC);
	assert_int_equal(h.nruns, CRON_HISTORY_MAX);
}

static void test_history_json_roundtrip(void **state)
{
	struct cron_history h = {0}, back;
	json_object *o, *parsed;
	const char *text;
	(void)state;

	h.checked_until = at("2024-06-01 12:00:07 +0000") + 123456;
	cron_history_add(&h, &(struct cron_run){
		.scheduled = at("2024-06-01 12:00:01 +0000"), .started = at("2024-06-01 12:00:01 +0000") + 1500,
		.duration = 1508000, .outcome = CRON_SUCCESS, .exit_valid = true, .code = 0,
		.reason = "exited with code 0"});
	cron_history_add(&h, &(struct cron_run){
		.scheduled = at("2024-06-01 12:00:02 +0000"), .outcome = CRON_OVERLAP,
		.reason = "the previous run is still going"});
	cron_history_add(&h, &(struct cron_run){
		.scheduled = at("2024-06-01 12:00:03 +0000"), .started = at("2024-06-01 12:00:03 +0000"),
		.duration = 2 * SEC, .outcome = CRON_TIMEOUT, .catch_up = true, .exit_valid = true,
		.code = -1, .signal = 15, .reason = "cron run timed out after 2s (killed by SIGTERM)"});
	h.has_current = true;
	h.current = (struct cron_run){.scheduled = at("2024-06-01 12:00:06 +0000"),
				      .started = at("2024-06-01 12:00:06 +0000") + 42,
				      .outcome = CRON_RUNNING};

	o = cron_history_to_json(&h);
	text = json_object_to_json_string(o);
	parsed = json_tokener_parse(text);
	assert_non_null(parsed);
	assert_int_equal(cron_history_from_json(parsed, &back), 0);
	assert_int_equal(back.checked_until, h.checked_until);
	assert_int_equal(back.nruns, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(back.runs[i].scheduled, h.runs[i].scheduled);
		assert_int_equal(back.runs[i].started, h.runs[i].started);
		assert_int_equal(back.runs[i].duration, h.runs[i].duration);
		assert_int_equal(back.runs[i].outcome, h.runs[i].outcome);
		assert_int_equal(back.runs[i].catch_up, h.runs[i].catch_up);
		assert_int_equal(back.runs[i].exit_valid, h.runs[i].exit_valid);
		assert_string_equal(back.runs[i].reason, h.runs[i].reason);
	}
	assert_int_equal(back.runs[0].code, 0);
	assert_int_equal(back.runs[0].signal, 0);
	assert_int_equal(back.runs[2].code, -1);
	assert_int_equal(back.runs[2].signal, 15);
	assert_true(back.has_current);
	assert_int_equal(back.current.outcome, CRON_RUNNING);
	assert_int_equal(back.current.started, h.current.started);

	/* what a person reading the file sees */
	json_object *runs, *first, *v;
	assert_true(json_object_object_get_ex(parsed, "runs", &runs));
	first = json_object_array_get_idx(runs, 0);
	assert_true(json_object_object_get_ex(first, "outcome", &v));
	assert_string_equal(json_object_get_string(v), "success");
	assert_true(json_object_object_get_ex(first, "duration_s", &v));
	assert_string_equal(json_object_to_json_string(v), "1.508");
	assert_true(json_object_object_get_ex(json_object_array_get_idx(runs, 1), "started", &v));
	assert_null(v);
	json_object_put(o);
	json_object_put(parsed);
}

static void test_history_json_rejects(void **state)
{
	struct cron_history h;
	json_object *o;
	(void)state;

	o = json_tokener_parse("[1, 2]");
	assert_int_equal(cron_history_from_json(o, &h), -EINVAL);
	json_object_put(o);
	assert_int_equal(cron_history_from_json(NULL, &h), -EINVAL);
	o = json_tokener_parse("{\"schema\": \"sysg.cron.v0\", \"runs\": []}");
	assert_int_equal(cron_history_from_json(o, &h), -EINVAL);
	assert_int_equal(h.nruns, 0);
	json_object_put(o);
	/* entries that make no sense are dropped, the rest is kept */
	o = json_tokener_parse("{\"schema\": \"sysg.cron.v1\", \"checked_until_us\": 5,"
			       " \"runs\": [{\"outcome\": \"exploded\"}, 7, {\"scheduled_us\": 9,"
			       " \"outcome\": \"missed\", \"reason\": \"down\"}]}");
	assert_int_equal(cron_history_from_json(o, &h), 0);
	assert_int_equal(h.checked_until, 5);
	assert_int_equal(h.nruns, 1);
	assert_int_equal(h.runs[0].outcome, CRON_MISSED);
	assert_int_equal(h.runs[0].scheduled, 9);
	assert_string_equal(h.runs[0].reason, "down");
	assert_false(h.has_current);
	json_object_put(o);
}

static void test_missed(void **state)
{
	struct cron_expr e;
	int64_t first = 0;
	(void)state;

	assert_int_equal(cron_parse("0 30 2 * * *", &e, NULL), 0);
	/* down from 01:00 to 03:00: the 02:30 run was missed */
	assert_int_equal(cron_missed(&e, "UTC", at("2024-06-01 01:00:00 +0000"),
				     at("2024-06-01 03:00:00 +0000"), &first),
			 1);
	assert_int_equal(first, at("2024-06-01 02:30:00 +0000"));
	/* down for days: the first missed time */
	assert_int_equal(cron_missed(&e, "UTC", at("2024-06-01 03:00:00 +0000"),
				     at("2024-06-05 12:00:00 +0000"), &first),
			 1);
	assert_int_equal(first, at("2024-06-02 02:30:00 +0000"));
	/* a fire exactly at the restart counts as missed, one right after does not */
	assert_int_equal(cron_missed(&e, "UTC", at("2024-06-01 01:00:00 +0000"),
				     at("2024-06-01 02:30:00 +0000"), &first),
			 1);
	assert_int_equal(cron_missed(&e, "UTC", at("2024-06-01 01:00:00 +0000"),
				     at("2024-06-01 02:29:59 +0000"), &first),
			 0);
	/* the last fire was accounted for before going down */
	assert_int_equal(cron_missed(&e, "UTC", at("2024-06-01 02:30:00 +0000"),
				     at("2024-06-01 03:00:00 +0000"), &first),
			 0);
	/* never watched before (first start), or a clock that went back */
	assert_int_equal(cron_missed(&e, "UTC", 0, at("2024-06-01 03:00:00 +0000"), &first), 0);
	assert_int_equal(cron_missed(&e, "UTC", at("2024-06-02 00:00:00 +0000"),
				     at("2024-06-01 03:00:00 +0000"), &first),
			 0);
	/* the zone decides: 02:30 in New York is 06:30 UTC */
	assert_int_equal(cron_missed(&e, "America/New_York", at("2024-06-01 01:00:00 +0000"),
				     at("2024-06-01 03:00:00 +0000"), &first),
			 0);
	/* down over Berlin's spring-forward night: the 02:30 run that had no
	 * wall-clock time is the one made up (at 03:00 CEST) */
	assert_int_equal(cron_parse("30 2 * * *", &e, NULL), 0);
	assert_int_equal(cron_missed(&e, "Europe/Berlin", at("2024-03-31 01:00:00 +0100"),
				     at("2024-03-31 03:30:00 +0200"), &first),
			 1);
	assert_int_equal(first, at("2024-03-31 03:00:00 +0200"));
	assert_int_equal(cron_missed(&e, "No/Such_Zone", at("2024-03-31 01:00:00 +0100"),
				     at("2024-03-31 03:30:00 +0200"), &first),
			 -ENOENT);
}

static void test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(cron_outcome_names[CRON_OVERLAP], "overlap");
	assert_string_equal(cron_outcome_names[CRON_INTERRUPTED], "interrupted");
	for (int i = 0; i < CRON__OUTCOMES; i++)
		assert_non_null(cron_outcome_names[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_history_order_and_capacity),
		cmocka_unit_test(test_history_json_roundtrip),
		cmocka_unit_test(test_history_json_rejects),
		cmocka_unit_test(test_missed),
		cmocka_unit_test(test_outcome_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
