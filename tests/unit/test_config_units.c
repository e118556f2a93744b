/* The value parsers of config.h: durations, sizes, signals, capabilities,
 * names, host:port, and the name tables. */
#include "config_test.h"

#include <signal.h>

static void test_duration_units(void **state UNUSED)
{
	static const struct {
		const char *s;
		sysg_usec_t v;
	} ok[] = {
		{"250ms", 250000}, {"5s", 5000000}, {"2m", 120000000}, {"1h", 3600000000LL},
		{"1d", 86400000000LL}, {"90", 90000000}, {"1.5s", 1500000}, {"0.25", 250000},
		{"1h30m", 5400000000LL}, {" 250 ms ", 250000}, {"+3s", 3000000}, {"0", 0},
		{"1.5ms", 1500}, {"1m 30s", 90000000}, {"10us", 10},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		sysg_usec_t v = -1;
		const char *why = NULL;
		if (parse_duration(ok[i].s, &v, &why))
			fail_msg("%s: %s", ok[i].s, why);
		assert_int_equal(v, ok[i].v);
	}
}

static void test_duration_errors(void **state UNUSED)
{
	static const struct {
		const char *s, *why;
	} bad[] = {
		{"abc", "is not a duration"}, {"", "is empty"}, {"   ", "is empty"},
		{"-1s", "is negative"}, {"nan", "is not a duration"}, {"inf", "is not a duration"},
		{"5x", "is not a duration"}, {"5s junk", "is not a duration"},
		{"1m30", "is not a duration"}, {"1e3", "is not a duration"},
		{"0.0000001s", "is more precise than a microsecond"},
		{"99999999999999999999s", "is too large"}, {"9999999999999h", "is too large"},
		{"106751992d", "is too large"}, {"s", "is not a duration"}, {"0x10", "is not a duration"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sysg_usec_t v = 42;
		const char *why = NULL;
		if (parse_duration(bad[i].s, &v, &why) != -1)
			fail_msg("'%s' parsed as %lld", bad[i].s, (long long)v);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(v, 42);
	}
}

static void test_size(void **state UNUSED)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{"512K", 512ull << 10}, {"64M", 64ull << 20}, {"2G", 2ull << 30}, {"1T", 1ull << 40},
		{"100", 100}, {"1KiB", 1024}, {"1kb", 1024}, {"1 MB", 1ull << 20}, {"1.5K", 1536},
		{"10B", 10}, {"0", 0},
	};
	const char *why;
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse_size(ok[i].s, false, &v, &why))
			fail_msg("%s: %s", ok[i].s, why);
		assert_int_equal(v, ok[i].v);
	}
	assert_int_equal(parse_size("unlimited", true, &v, &why), 0);
	assert_true(v == SYSG_UNLIMITED);
	assert_int_equal(parse_size("max", true, &v, &why), 0);
	assert_true(v == SYSG_UNLIMITED);
	assert_int_equal(parse_size("unlimited", false, &v, &why), -1);
	assert_string_equal(why, "cannot be unlimited here");
	assert_int_equal(parse_size("-1", true, &v, &why), -1);
	assert_string_equal(why, "is negative");
	assert_int_equal(parse_size("16E", false, &v, &why), -1);
	assert_string_equal(why, "is too large");
	assert_int_equal(parse_size("18446744073709551615", false, &v, &why), -1);
	assert_string_equal(why, "is too large");
	assert_int_equal(parse_size("18446744073709551616", false, &v, &why), -1);
	assert_string_equal(why, "is too large");
	assert_int_equal(parse_size("1.0000001K", false, &v, &why), -1);
	assert_string_equal(why, "is not a whole number of bytes");
	assert_int_equal(parse_size("12Q", false, &v, &why), -1);
	assert_string_equal(why, "is not a size");
	assert_int_equal(parse_size("", false, &v, &why), -1);
	assert_string_equal(why, "is empty");
	assert_int_equal(parse_size("NaN", false, &v, &why), -1);
	assert_string_equal(why, "is not a size");
}

static void test_signals(void **state UNUSED)
{
	assert_int_equal(parse_signal("SIGTERM"), SIGTERM);
	assert_int_equal(parse_signal("TERM"), SIGTERM);
	assert_int_equal(parse_signal("sigint"), SIGINT);
	assert_int_equal(parse_signal("9"), SIGKILL);
	assert_int_equal(parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(parse_signal("0"), -1);
	assert_int_equal(parse_signal("65"), -1);
	assert_int_equal(parse_signal("SIGFOO"), -1);
	assert_int_equal(parse_signal(""), -1);
	assert_string_equal(signal_name(SIGHUP), "SIGHUP");
	assert_string_equal(signal_name(SIGSYS), "SIGSYS");
	assert_null(signal_name(0));
	for (int i = 1; i < 32; i++)
		if (signal_name(i))
			assert_int_equal(parse_signal(signal_name(i)), i);
}

static void test_capabilities(void **state UNUSED)
{
	assert_int_equal(parse_capability("CAP_NET_BIND_SERVICE"), 10);
	assert_int_equal(parse_capability("net_bind_service"), 10);
	assert_int_equal(parse_capability("cap_sys_admin"), 21);
	assert_int_equal(parse_capability("CAP_NOPE"), -1);
	assert_int_equal(parse_capability(""), -1);
	assert_int_equal(capability_last(), 40);
	for (int i = 0; i <= capability_last(); i++) {
		assert_non_null(capability_name(i));
		assert_int_equal(parse_capability(capability_name(i)), i);
	}
	assert_null(capability_name(capability_last() + 1));
}

static void test_service_names(void **state UNUSED)
{
	static const char *const good[] = {"api", "a", "A9", "my-svc_1.2", "0db",
					   "a23456789012345678901234567890123456789012345678901234567890123"};
	static const char *const bad[] = {"", ".", "..", "../x", "a/b", "-a", "_a", "a b", "a\nb",
					  "a;b", "é",
					  "a234567890123456789012345678901234567890123456789012345678901234"};
	char big[301];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!service_name_valid(good[i]))
			fail_msg("'%s' should be valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (service_name_valid(bad[i]))
			fail_msg("'%s' should be invalid", bad[i]);
	memset(big, 'a', 300);
	big[300] = '\0';
	assert_false(service_name_valid(big));
}

static void test_host_port(void **state UNUSED)
{
	char *host;
	uint16_t port;
	const char *why;

	assert_int_equal(parse_host_port("127.0.0.1:8080", &host, &port, &why), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	free(host);
	assert_int_equal(parse_host_port("[::1]:53", &host, &port, &why), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 53);
	free(host);
	assert_int_equal(parse_host_port("db.local:5432", &host, &port, &why), 0);
	assert_string_equal(host, "db.local");
	free(host);
	assert_int_equal(parse_host_port("127.0.0.1:0", &host, &port, &why), -1);
	assert_string_equal(why, "has no valid port (1-65535)");
	assert_int_equal(parse_host_port("127.0.0.1:65536", &host, &port, &why), -1);
	assert_int_equal(parse_host_port("::1:80", &host, &port, &why), -1);
	assert_string_equal(why, "has an IPv6 address without brackets (use [addr]:port)");
	assert_int_equal(parse_host_port("a;b:80", &host, &port, &why), -1);
	assert_string_equal(why, "has an invalid host name");
	assert_int_equal(parse_host_port(":80", &host, &port, &why), -1);
	assert_int_equal(parse_host_port("host", &host, &port, &why), -1);
}

static void test_name_tables(void **state UNUSED)
{
	const char *const *tables[] = {restart_policy_names, dep_cond_names, kill_mode_names,
				       probe_kind_names, iso_preset_names, seccomp_kind_names,
				       protect_system_names, protect_home_names, log_sink_names,
				       net_mode_names, secret_source_names, secret_delivery_names};
	const size_t counts[] = {RESTART__COUNT, DEP__COUNT, KILL__COUNT, PROBE__COUNT,
				 PRESET__COUNT, SECCOMP__COUNT, PROTECT_SYSTEM__COUNT,
				 PROTECT_HOME__COUNT, LOG_SINK__COUNT, NET__COUNT, SECRET__COUNT,
				 DELIVER__COUNT};

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (size_t i = 0; i < counts[t]; i++)
			assert_non_null(tables[t][i]);
	for (size_t i = 0; i < SYSG_RLIM__COUNT; i++)
		assert_non_null(sysg_rlimit_names[i].name);
	assert_string_equal(restart_policy_names[RESTART_ON_FAILURE], "on-failure");
	assert_string_equal(sysg_rlimit_names[SYSG_RLIM_NOFILE].name, "nofile");
	assert_string_equal(sysg_session_env_vars[0], "SSH_AUTH_SOCK");
}

static void test_did_you_mean(void **state UNUSED)
{
	static const char *const c[] = {"backoff", "backoff_max", "restart_policy", "command"};
	assert_string_equal(did_you_mean("bakoff", c, 4), "backoff");
	assert_string_equal(did_you_mean("restart_polcy", c, 4), "restart_policy");
	assert_string_equal(did_you_mean("COMMAND", c, 4), "command");
	assert_string_equal(did_you_mean("comand", c, 4), "command");
	assert_null(did_you_mean("zzz", c, 4));
	assert_null(did_you_mean("", c, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units), cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_size),           cmocka_unit_test(test_signals),
		cmocka_unit_test(test_capabilities),   cmocka_unit_test(test_service_names),
		cmocka_unit_test(test_host_port),      cmocka_unit_test(test_name_tables),
		cmocka_unit_test(test_did_you_mean),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
