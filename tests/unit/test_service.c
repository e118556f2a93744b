/* The service state machine through the sys_ops seam: no processes, a fake clock. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "supervisor/service.h"

static struct fake {
	int spawns, spawn_err;
	int sigs[16], sig_all[16], nsigs;
	sysg_usec_t timer; /* last armed, -1 = disarmed */
	int64_t now;
	bool alive;
	pid_t follow;
	int changes;
} F;

static int f_spawn(struct service *s, char **why)
{
	F.spawns++;
	if (F.spawn_err) {
		*why = strdup("user 'nobody2': no such user");
		return F.spawn_err;
	}
	s->pid = 100 + F.spawns;
	return 0;
}

static void f_signal(struct service *s, int sig, bool all)
{
	(void)s;
	F.sigs[F.nsigs] = sig;
	F.sig_all[F.nsigs++] = all;
}

static void f_timer(struct service *s, sysg_usec_t after) { (void)s; F.timer = after; }
static int64_t f_now(void) { return F.now; }
static bool f_alive(struct service *s) { return s->pid > 0 || F.alive; }
static void f_changed(struct service *s) { (void)s; F.changes++; }
static pid_t f_follow(struct service *s) { (void)s; return F.follow; }

static const struct sys_ops fake_ops = {f_spawn, f_signal, f_timer, f_now, f_alive, f_follow,
					f_changed};

static struct svc_config cfg;
static struct service svc;

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.timer = -1;
	F.now = 1000 * USEC_PER_SEC;
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "api";
	cfg.unit = "api";
	cfg.restart = RESTART_ALWAYS;
	cfg.backoff = 1 * USEC_PER_SEC;
	cfg.backoff_max = 8 * USEC_PER_SEC;
	cfg.stable_after = 60 * USEC_PER_SEC;
	cfg.restart_window = 15 * 60 * USEC_PER_SEC;
	cfg.max_restarts = SYSG_UNLIMITED;
	cfg.stop_signal = SIGTERM;
	cfg.stop_timeout = 10 * USEC_PER_SEC;
	cfg.kill_mode = KILL_CGROUP;
	svc_init(&svc, &cfg, 0, &fake_ops);
	svc.want = WANT_UP;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	svc_free(&svc);
	return 0;
}

/* Spawn, exec, and reach readiness (alive for 250 ms). */
static void bring_up(void)
{
	svc_event(&svc, SVC_EV_UP);
	assert_int_equal(svc.state, SVC_STARTING);
	svc_event(&svc, SVC_EV_EXEC_OK);
	assert_int_equal(F.timer, 250 * USEC_PER_MSEC);
	svc_event(&svc, SVC_EV_TIMER);
	assert_int_equal(svc.state, SVC_RUNNING);
	assert_int_equal(F.timer, -1);
}

static void exit_with(int status, sysg_usec_t after)
{
	F.now += after;
	svc.status = status;
	svc.pid = 0;
	svc_event(&svc, SVC_EV_EXIT);
}

static void test_start_ready(void **state)
{
	(void)state;
	bring_up();
	assert_int_equal(F.spawns, 1);
	assert_int_equal(svc.pid, 101);
}

static void test_always_restarts_clean_exit(void **state)
{
	(void)state;
	bring_up();
	exit_with(W_EXITCODE(0, 0), 5 * USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_BACKOFF);
	assert_int_equal(F.timer, 1 * USEC_PER_SEC);
	assert_string_equal(svc.last_exit.reason, "exited with code 0");
	svc_event(&svc, SVC_EV_TIMER);
	assert_int_equal(svc.state, SVC_WAITING);
	assert_int_equal(svc.restarts, 1);
}

/* A cron run is one run: the schedule, not the restart policy, starts the next. */
static void test_cron_run_is_one_shot(void **state)
{
	(void)state;
	cfg.cron.set = true;
	bring_up();
	exit_with(W_EXITCODE(0, 0), 5 * USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_DONE);
	assert_int_equal(F.timer, -1);
	svc.state = SVC_STOPPED;
	bring_up();
	exit_with(W_EXITCODE(2, 0), 5 * USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_FAILED);
	assert_string_equal(svc.last_exit.reason, "exited with code 2");
	assert_int_equal(svc.restarts, 0);
}

static void test_backoff_doubles_and_caps(void **state)
{
	static const sysg_usec_t want[] = {1, 2, 4, 8, 8, 8};
	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		svc_event(&svc, SVC_EV_UP);
		svc_event(&svc, SVC_EV_EXEC_OK);
		exit_with(W_EXITCODE(1, 0), 100 * USEC_PER_MSEC);
		assert_int_equal(svc.state, SVC_BACKOFF);
		assert_int_equal(F.timer, want[i] * USEC_PER_SEC);
		svc_event(&svc, SVC_EV_TIMER);
	}
}

static void test_backoff_resets_after_stable(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		svc_event(&svc, SVC_EV_UP);
		exit_with(W_EXITCODE(1, 0), USEC_PER_SEC);
		svc_event(&svc, SVC_EV_TIMER);
	}
	svc_event(&svc, SVC_EV_UP);
	exit_with(W_EXITCODE(1, 0), 61 * USEC_PER_SEC); /* stayed up longer than stable_after */
	assert_int_equal(F.timer, 1 * USEC_PER_SEC);
}

static void test_on_failure(void **state)
{
	(void)state;
	cfg.restart = RESTART_ON_FAILURE;
	bring_up();
	exit_with(W_EXITCODE(0, 0), USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_DONE);
	svc.state = SVC_STOPPED;
	bring_up();
	exit_with(W_EXITCODE(3, 0), USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_BACKOFF);
	svc_event(&svc, SVC_EV_TIMER);
	svc_event(&svc, SVC_EV_UP);
	exit_with(SIGSEGV, USEC_PER_SEC); /* killed by a signal is a failure */
	assert_int_equal(svc.state, SVC_BACKOFF);
	assert_string_equal(svc.last_exit.reason, "killed by SIGSEGV");
}

static void test_never(void **state)
{
	(void)state;
	cfg.restart = RESTART_NEVER;
	bring_up();
	exit_with(W_EXITCODE(2, 0), USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_FAILED);
	assert_int_equal(F.spawns, 1);
}

static void test_max_restarts_gives_up(void **state)
{
	(void)state;
	cfg.max_restarts = 3;
	for (int i = 0; i < 3; i++) {
		svc_event(&svc, SVC_EV_UP);
		exit_with(W_EXITCODE(1, 0), USEC_PER_SEC);
		assert_int_equal(svc.state, SVC_BACKOFF);
		svc_event(&svc, SVC_EV_TIMER);
	}
	svc_event(&svc, SVC_EV_UP);
	exit_with(W_EXITCODE(1, 0), USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_FAILED);
	assert_string_equal(svc.blocked, "gave up after 3 restarts (last: exited with code 1)");
}

static void test_max_restarts_window_slides(void **state)
{
	(void)state;
	cfg.max_restarts = 2;
	cfg.restart_window = 60 * USEC_PER_SEC;
	for (int i = 0; i < 6; i++) {
		svc_event(&svc, SVC_EV_UP);
		exit_with(W_EXITCODE(1, 0), 40 * USEC_PER_SEC); /* two restarts never fit in 60 s */
		assert_int_equal(svc.state, SVC_BACKOFF);
		svc_event(&svc, SVC_EV_TIMER);
	}
}

static void test_stop_escalates(void **state)
{
	(void)state;
	bring_up();
	svc.want = WANT_DOWN;
	svc_event(&svc, SVC_EV_DOWN);
	assert_int_equal(svc.state, SVC_STOPPING);
	assert_int_equal(F.nsigs, 2);
	assert_int_equal(F.sigs[0], SIGTERM);
	assert_int_equal(F.sigs[1], SIGCONT);
	assert_true(F.sig_all[0]);
	assert_int_equal(F.timer, 10 * USEC_PER_SEC);
	svc_event(&svc, SVC_EV_TIMER);
	assert_int_equal(F.sigs[2], SIGKILL);
	assert_true(svc.sigkilled);
	exit_with(SIGKILL, 0);
	assert_int_equal(svc.state, SVC_STOPPED);
	assert_int_equal(F.timer, -1);
}

static void test_stop_waits_for_survivors(void **state)
{
	(void)state;
	bring_up();
	svc.want = WANT_DOWN;
	svc_event(&svc, SVC_EV_DOWN);
	F.alive = true; /* a child ignoring SIGTERM outlives the main process */
	exit_with(SIGTERM, 0);
	assert_int_equal(svc.state, SVC_STOPPING);
	F.alive = false;
	svc_event(&svc, SVC_EV_EMPTY);
	assert_int_equal(svc.state, SVC_STOPPED);
}

static void test_kill_mode_process(void **state)
{
	(void)state;
	cfg.kill_mode = KILL_PROCESS;
	cfg.stop_signal = SIGINT;
	bring_up();
	svc.want = WANT_DOWN;
	svc_event(&svc, SVC_EV_DOWN);
	assert_int_equal(F.sigs[0], SIGINT);
	assert_false(F.sig_all[0]);
}

static void test_exec_failure(void **state)
{
	(void)state;
	cfg.restart = RESTART_NEVER;
	svc_event(&svc, SVC_EV_UP);
	svc.exec_fail = (struct exec_report){.stage = EXEC_STAGE_CHDIR, .err = 2};
	svc_event(&svc, SVC_EV_EXEC_FAIL);
	exit_with(W_EXITCODE(127, 0), 0);
	assert_int_equal(svc.state, SVC_FAILED);
	assert_true(svc.last_exit.exec_failed);
	assert_string_equal(svc.last_exit.reason, "exec failed at chdir: No such file or directory");
}

static void test_plan_failure(void **state)
{
	(void)state;
	cfg.restart = RESTART_ON_FAILURE;
	F.spawn_err = -2;
	svc_event(&svc, SVC_EV_UP);
	assert_int_equal(svc.state, SVC_BACKOFF);
	assert_string_equal(svc.last_exit.reason, "cannot start: user 'nobody2': no such user");
}

static void test_exit_with_survivors_stops_them_first(void **state)
{
	(void)state;
	bring_up();
	F.alive = true;
	exit_with(W_EXITCODE(1, 0), USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_STOPPING);
	assert_int_equal(F.sigs[0], SIGTERM);
	F.alive = false;
	svc_event(&svc, SVC_EV_EMPTY);
	assert_int_equal(svc.state, SVC_BACKOFF);
	assert_string_equal(svc.last_exit.reason, "exited with code 1");
}

static void test_forking_daemon_followed(void **state)
{
	(void)state;
	bring_up();
	F.alive = true;
	F.follow = 4242;
	exit_with(W_EXITCODE(0, 0), USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_RUNNING);
	assert_int_equal(svc.pid, 4242);
	assert_false(svc.last_exit.valid);
	F.alive = false;
	exit_with(W_EXITCODE(1, 0), USEC_PER_SEC);
	assert_int_equal(svc.state, SVC_BACKOFF);
}

static void test_dependency_stop_waits(void **state)
{
	(void)state;
	bring_up();
	svc.stop_cause = STOP_DEPENDENCY;
	svc_event(&svc, SVC_EV_DOWN);
	exit_with(SIGTERM, 0);
	assert_int_equal(svc.state, SVC_WAITING);
	assert_int_equal(svc.restarts, 0);
}

static void test_unhealthy_restarts(void **state)
{
	(void)state;
	bring_up();
	strcpy(svc.fail_reason, "health check failed 3 times");
	svc_event(&svc, SVC_EV_UNHEALTHY);
	assert_int_equal(svc.state, SVC_STOPPING);
	exit_with(SIGTERM, 0);
	assert_int_equal(svc.state, SVC_BACKOFF);
	assert_string_equal(svc.last_exit.reason, "health check failed 3 times (killed by SIGTERM)");
}

static void test_ready_timeout_with_probe(void **state)
{
	(void)state;
	cfg.ready.kind = PROBE_TCP;
	cfg.ready.timeout = 90 * USEC_PER_SEC;
	svc_event(&svc, SVC_EV_UP);
	svc_event(&svc, SVC_EV_EXEC_OK);
	assert_int_equal(F.timer, 90 * USEC_PER_SEC);
	svc_event(&svc, SVC_EV_TIMER);
	assert_int_equal(svc.state, SVC_STOPPING);
	assert_string_equal(svc.fail_reason, "not ready after 90s");
}

static void test_ignored_events(void **state)
{
	(void)state;
	svc_event(&svc, SVC_EV_EXIT); /* nothing running: nothing happens */
	svc_event(&svc, SVC_EV_TIMER);
	assert_int_equal(svc.state, SVC_STOPPED);
	assert_int_equal(F.spawns, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_start_ready),
		T(test_always_restarts_clean_exit),
		T(test_cron_run_is_one_shot),
		T(test_backoff_doubles_and_caps),
		T(test_backoff_resets_after_stable),
		T(test_on_failure),
		T(test_never),
		T(test_max_restarts_gives_up),
		T(test_max_restarts_window_slides),
		T(test_stop_escalates),
		T(test_stop_waits_for_survivors),
		T(test_kill_mode_process),
		T(test_exec_failure),
		T(test_plan_failure),
		T(test_exit_with_survivors_stops_them_first),
		T(test_forking_daemon_followed),
		T(test_dependency_stop_waits),
		T(test_unhealthy_restarts),
		T(test_ready_timeout_with_probe),
		T(test_ignored_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
