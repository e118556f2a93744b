/* Secret masking: exact output, every split point, encoded forms, and a
 * randomized comparison against a naive reference. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/mask.h"

static struct mask_dfa *dfa_of(const char *const *v, size_t n)
{
	size_t lens[16];
	int err = 0;
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(v[i]);
	struct mask_dfa *d = mask_dfa_new(v, lens, n, &err);
	assert_int_equal(err, 0);
	return d;
}

/* Feeds input in pieces cut at the given points, returns the masked text. */
static char *run(const struct mask_dfa *d, const char *in, const size_t *cuts, size_t ncuts)
{
	struct mask_stream s;
	struct sbuf out = {0};
	size_t at = 0, len = strlen(in);

	mask_stream_init(&s, d);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		mask_stream_feed(&s, in + at, end - at, &out);
		at = end;
	}
	mask_stream_flush(&s, &out);
	mask_stream_free(&s);
	sbuf_add(&out, "", 0);
	return out.s;
}

static void expect(const struct mask_dfa *d, const char *in, const char *want)
{
	char *got = run(d, in, NULL, 0);
	assert_string_equal(got, want);
	free(got);
	/* the same at every single split point */
	for (size_t cut = 1; cut < strlen(in); cut++) {
		got = run(d, in, &cut, 1);
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_whole_and_split(void **state)
{
	static const char *const v[] = {"hunter2!"};
	struct mask_dfa *d = dfa_of(v, 1);
	(void)state;
	expect(d, "password=hunter2!\n", "password=***\n");
	expect(d, "hunter2!hunter2! and hunter2", "*** and hunter2");
	expect(d, "no secret here\n", "no secret here\n");
	expect(d, "hunter2", "hunter2"); /* a prefix at the very end is emitted at flush */
	mask_dfa_free(d);
}

static void test_overlaps(void **state)
{
	static const char *const v[] = {"abc", "bcd"};
	struct mask_dfa *d = dfa_of(v, 2);
	(void)state;
	expect(d, "xabcdx", "x***x");
	expect(d, "xabcx", "x***x");  /* "bc" was held as a prefix of "bcd" but belongs to "abc" */
	expect(d, "xbcdx", "x***x");
	expect(d, "abcabc", "***");
	mask_dfa_free(d);
}

static void test_encoded_forms(void **state)
{
	static const char *const v[] = {"s3cr3t-T0ken/value"};
	struct mask_dfa *d = dfa_of(v, 1);
	(void)state;
	/* base64 of the value on its own, and inside a longer stream at offsets 1 and 2 */
	expect(d, "Authorization: Basic czNjcjN0LVQwa2VuL3ZhbHVl\n", "Authorization: Basic ***\n");
	char *got = run(d, "eHMzY3IzdC1UMGtlbi92YWx1ZQ==", NULL, 0); /* "x" + value */
	assert_null(strstr(got, "czNjcjN0LVQwa2VuL3ZhbHVl"));
	assert_non_null(strstr(got, "***"));
	free(got);
	got = run(d, "eHlzM2NyM3QtVDBrZW4vdmFsdWU=", NULL, 0); /* "xy" + value */
	assert_non_null(strstr(got, "***"));
	free(got);
	/* URL-encoded, upper and lower case hex */
	expect(d, "GET /?t=s3cr3t-T0ken%2Fvalue HTTP/1.1", "GET /?t=*** HTTP/1.1");
	expect(d, "t=s3cr3t-T0ken%2fvalue", "t=***");
	mask_dfa_free(d);
}

static void test_padded_base64(void **state)
{
	static const char *const v[] = {"pw-17-chars-long!"};
	struct mask_dfa *d = dfa_of(v, 1);
	(void)state;
	/* 17 bytes: the encoding ends in padding, and its last character is the value's alone */
	expect(d, "basic cHctMTctY2hhcnMtbG9uZyE= done", "basic *** done");
	mask_dfa_free(d);
}

static void test_mask_string(void **state)
{
	static const char *const v[] = {"topsecret"};
	struct mask_dfa *d = dfa_of(v, 1);
	char buf[64] = "cannot read topsecret: denied";
	(void)state;
	mask_string(d, buf, sizeof(buf));
	assert_string_equal(buf, "cannot read ***: denied");
	mask_string(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "cannot read ***: denied");
	mask_dfa_free(d);
}

static void test_nothing_to_mask(void **state)
{
	static const char *const v[] = {""};
	size_t len = 0;
	int err = 0;
	(void)state;
	assert_null(mask_dfa_new(v, &len, 1, &err));
	assert_int_equal(err, 0);
	char *got = run(NULL, "plain", NULL, 0);
	assert_string_equal(got, "plain");
	free(got);
}

static void test_too_big(void **state)
{
	char *big = malloc(5000);
	const char *v[] = {big};
	size_t len = 5000;
	int err = 0;
	(void)state;
	memset(big, 'x', 5000);
	assert_null(mask_dfa_new(v, &len, 1, &err));
	assert_int_equal(err, -E2BIG);
	free(big);
}

/* Naive reference: mark every occurrence of every pattern, collapse runs. */
static char *reference(const char *in, const char *const *pats, size_t npats)
{
	size_t n = strlen(in);
	char *masked = calloc(n + 1, 1), *out = malloc(3 * n + 4);
	size_t o = 0;
	for (size_t p = 0; p < npats; p++)
		for (const char *at = in; (at = strstr(at, pats[p])); at++)
			memset(masked + (at - in), 1, strlen(pats[p]));
	for (size_t i = 0; i < n; i++) {
		if (!masked[i]) {
			out[o++] = in[i];
		} else if (i == 0 || !masked[i - 1]) {
			memcpy(out + o, "***", 3);
			o += 3;
		}
	}
	out[o] = '\0';
	free(masked);
	return out;
}

static void test_random_against_reference(void **state)
{
	/* raw patterns only: too short for derived forms, so the reference is exact */
	static const char *const pats[] = {"ab", "ba", "aab", "ca"};
	size_t lens[] = {2, 2, 3, 2};
	int err = 0;
	struct mask_dfa *d = mask_dfa_new(pats, lens, 4, &err);
	char in[200];
	(void)state;

	srand(42);
	for (int round = 0; round < 3000; round++) {
		size_t n = rand() % 60, cuts[8], ncuts = rand() % 8;
		for (size_t i = 0; i < n; i++)
			in[i] = "abcx"[rand() % 4];
		in[n] = '\0';
		for (size_t i = 0; i < ncuts; i++)
			cuts[i] = n ? rand() % (n + 1) : 0;
		for (size_t i = 1; i < ncuts; i++) /* sorted */
			for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t t = cuts[j];
				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		char *want = reference(in, pats, 4), *got = run(d, in, cuts, ncuts);
		if (strcmp(want, got))
			fail_msg("input '%s': want '%s', got '%s'", in, want, got);
		free(want);
		free(got);
	}
	mask_dfa_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_and_split),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_encoded_forms),
		cmocka_unit_test(test_padded_base64),
		cmocka_unit_test(test_mask_string),
		cmocka_unit_test(test_nothing_to_mask),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
