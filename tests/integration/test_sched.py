"""Scheduled and conditional services: cron runs, overlaps, timeouts, history
and catch-up; one-shot chains; skip; onstart/onerr hooks — the real binary,
real processes. Cron tests use 1-second (6-field) schedules."""
import datetime
import json
import os
import signal
import time
import unittest

from harness import PROBE, Stack, needs_root, pids_matching, wait_for


def stamps(stack, name):
    return [float(x) for x in stack.lines(name)]


def history(st, unit):
    try:
        with open(os.path.join(st.state_dir, "cron", unit + ".json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def outcomes(st, unit, outcome):
    h = history(st, unit)
    return [r for r in h["runs"] if r["outcome"] == outcome] if h else []


def wait_outcomes(st, unit, outcome, n, timeout=8):
    return wait_for(lambda: (lambda rs: rs if len(rs) >= n else None)(
        outcomes(st, unit, outcome)), timeout, what=f"{n} '{outcome}' runs of {unit}")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def stop_daemon(st):
    for pid in pids_matching(st.config):
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pids_matching(st.config), 15, what="daemon exit")


def utc_daily(t):
    """A 6-field expression firing every day at the UTC second of t."""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return f"{d.second} {d.minute} {d.hour} * * *"


class Cron(unittest.TestCase):
    def test_runs_every_second_with_history(self):
        st = Stack(self, """
            version: "2"
            services:
              tick:
                command: "sh -c 'date +%s.%N >> {dir}/runs'"
                cron: {expression: "* * * * * *", timezone: UTC}
            """)
        st.start()
        ok = wait_outcomes(st, "tick", "success", 3)
        runs = stamps(st, "runs")
        self.assertGreaterEqual(len(runs), 3)
        for t in runs:  # at whole seconds (plus the time to spawn)
            self.assertLess(t - int(t), 0.3, runs)
        sched = [r["scheduled_us"] for r in ok]
        self.assertEqual([b - a for a, b in zip(sched, sched[1:])], [1000000] * (len(sched) - 1))
        for r in ok:
            self.assertEqual(r["scheduled_us"] % 1000000, 0)
            self.assertGreaterEqual(r["started_us"], r["scheduled_us"])
            self.assertLess(r["started_us"] - r["scheduled_us"], 300000)
            self.assertLess(r["duration_s"], 1.0)
            self.assertEqual(r["exit"], {"code": 0, "signal": None})
            self.assertEqual(r["reason"], "exited with code 0")
            self.assertFalse(r["catch_up"])
        self.assertEqual(st.stop(), 0)
        h = history(st, "tick")
        self.assertEqual(h["schema"], "sysg.cron.v1")
        self.assertIsNone(h["current"])
        self.assertGreater(h["checked_until_us"], ok[-1]["scheduled_us"])

    def test_not_started_by_start(self):
        st = Stack(self, """
            version: "2"
            services:
              yearly:
                command: "sh -c 'echo run >> {dir}/yearly'"
                cron: {expression: "@yearly"}
              web:
                command: "sh -c 'echo run >> {dir}/web; exec sleep 100'"
            """)
        t0 = time.time()
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.addCleanup(stop_daemon, st)
        self.assertEqual(r.returncode, 0, r.stderr)  # the cron service does not hold it up
        self.assertEqual(len(st.lines("web")), 1)
        time.sleep(1.2)
        self.assertEqual(st.lines("yearly"), [])
        h = history(st, "yearly")
        self.assertEqual(h["runs"], [])
        self.assertIsNone(h["current"])
        self.assertLess(abs(h["checked_until_us"] / 1e6 - t0), 5)

    def test_overlap_is_skipped_and_recorded(self):
        st = Stack(self, """
            version: "2"
            services:
              slow:
                command: "sh -c 'date +%s.%N >> {dir}/runs; sleep 1.5'"
                cron: {expression: "* * * * * *"}
            """)
        st.start()
        ok = wait_outcomes(st, "slow", "success", 2, timeout=10)
        over = outcomes(st, "slow", "overlap")
        self.assertGreaterEqual(len(over), 1)
        runs = stamps(st, "runs")
        for a, b in zip(runs, runs[1:]):  # never two at once: every other second
            self.assertGreater(b - a, 1.7, runs)
            self.assertLess(b - a, 2.4, runs)
        first = ok[0]["scheduled_us"]
        self.assertEqual(over[0]["scheduled_us"], first + 1000000)
        self.assertEqual(ok[1]["scheduled_us"], first + 2000000)
        self.assertIsNone(over[0]["started"])
        self.assertIsNone(over[0]["exit"])
        self.assertRegex(over[0]["reason"], r"^the previous run \(started \d{4}-.*\) is still going$")
        self.assertGreaterEqual(ok[0]["duration_s"], 1.5)
        st.wait_log("slow", r"cron: run due at \S+ not started: the previous run")
        self.assertEqual(st.stop(), 0)

    def test_timeout_kills_the_run(self):
        st = Stack(self, """
            version: "2"
            services:
              stuck:
                command: "sh -c 'sleep 60 & echo $! >> {dir}/children; wait'"
                stop_timeout: 1s
                cron: {expression: "* * * * * *", timeout: 500ms}
            """)
        st.start()
        r = wait_outcomes(st, "stuck", "timeout", 1)[0]
        self.assertEqual(r["reason"], "cron run timed out after 0.5s (killed by SIGTERM)")
        self.assertEqual(r["exit"], {"code": None, "signal": signal.SIGTERM})
        self.assertGreaterEqual(r["duration_s"], 0.5)
        self.assertLess(r["duration_s"], 0.9)
        child = int(st.lines("children")[0])
        wait_for(lambda: not alive(child), 3, what="the run's child killed with it")
        st.wait_log("stuck", r"cron run timed out after 0.5s: stopping it")
        self.assertEqual(st.stop(), 0)

    def test_catch_up_after_supervisor_downtime(self):
        due = int(time.time()) + 3
        yaml = f"""
            version: "2"
            services:
              nightly:
                command: "sh -c 'date +%s.%N >> {{dir}}/runs'"
                cron: {{expression: "{utc_daily(due)}", timezone: UTC, catch_up: true}}
            """
        st = Stack(self, yaml)
        st.start()
        wait_for(lambda: history(st, "nightly"), what="the schedule armed")
        self.assertEqual(st.stop(), 0)  # down before the run is due
        self.assertEqual(st.lines("runs"), [])
        time.sleep(max(0, due + 0.3 - time.time()))
        restarted = time.time()
        st.start()
        wait_for(lambda: st.lines("runs"), 5, what="the catch-up run")
        self.assertLess(stamps(st, "runs")[0] - restarted, 1.0)
        r = wait_outcomes(st, "nightly", "success", 1)[0]
        self.assertTrue(r["catch_up"])
        self.assertEqual(r["scheduled_us"], due * 1000000)
        st.wait_log("nightly", r"cron: catching up the run due at")
        time.sleep(0.5)
        self.assertEqual(len(st.lines("runs")), 1)  # once, not once per missed fire
        self.assertEqual(st.stop(), 0)

    def test_missed_run_recorded_without_catch_up(self):
        now = time.time()
        due = int(now) - 2
        st = Stack(self, f"""
            version: "2"
            services:
              nightly:
                command: "sh -c 'echo run >> {{dir}}/runs'"
                cron: {{expression: "{utc_daily(due)}", timezone: utc}}
            """)
        # the state a supervisor that went down 5 s ago left behind
        os.makedirs(os.path.join(st.state_dir, "cron"), mode=0o700)
        with open(os.path.join(st.state_dir, "cron", "nightly.json"), "w") as f:
            json.dump({"schema": "sysg.cron.v1", "checked_until_us": int((now - 5) * 1e6),
                       "current": None, "runs": []}, f)
        st.start()
        r = wait_outcomes(st, "nightly", "missed", 1)[0]
        self.assertEqual(r["scheduled_us"], due * 1000000)
        self.assertEqual(r["reason"], "the supervisor was not running (catch_up is off)")
        time.sleep(0.7)
        self.assertEqual(st.lines("runs"), [])
        self.assertEqual(st.stop(), 0)

    def test_run_outlives_a_supervisor_crash_and_the_schedule_resumes(self):
        st = Stack(self, """
            version: "2"
            services:
              job:
                command: "sh -c 'date +%s.%N >> {dir}/runs; sleep 2'"
                cron: {expression: "* * * * * *"}
            """)
        st.start()
        wait_for(lambda: history(st, "job") and history(st, "job")["current"], 4,
                 what="the first run")
        st.proc.kill()
        st.proc.wait()
        st.start()
        wait_for(lambda: len(st.lines("runs")) >= 2, 6, what="a run after the restart")
        runs = stamps(st, "runs")
        self.assertGreater(runs[1] - runs[0], 1.9)  # adopted, not run twice at once
        adopted = wait_for(lambda: [r for r in history(st, "job")["runs"] if r["started"]], 4,
                           what="the adopted run recorded")[0]
        self.assertEqual(adopted["reason"], "exit status unknown: adopted from an earlier "
                         "supervisor")
        self.assertGreaterEqual(adopted["duration_s"], 1.9)
        self.assertIsNone(adopted["exit"])
        self.assertEqual(st.stop(), 0)

    def test_validate_reports_bad_expression_and_zone(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "true"
                cron:
                  expression: "0 0 24 * * *"
              b:
                command: "true"
                cron: {expression: "0 0 9 * * 2-6", timezone: Europe/Berln}
            """)
        r = st.sysg("validate", "-c", st.config)
        self.assertEqual(r.returncode, 1)
        out = r.stdout + r.stderr
        self.assertIn("sysg.yaml:7:19: error: services.a.cron.expression: '0 0 24 * * *': "
                      "field 3 (hour): 24 is out of range 0-23", out)
        self.assertIn("sysg.yaml:10:51: error: services.b.cron.timezone: unknown time zone "
                      "'Europe/Berln'", out)
        self.assertIn("sysg.yaml:10:24: note: services.b.cron.expression: six fields: days of "
                      "week count 1-7 from Sunday", out)


class Example(unittest.TestCase):
    def test_jobs_example_is_valid(self):
        st = Stack(self, 'version: "2"\nservices: {}\n')
        path = os.path.join(os.environ.get("SYSG_SOURCE_DIR", "../.."), "examples", "jobs",
                            "sysg.yaml")
        r = st.sysg("validate", "-c", os.path.abspath(path))
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))


class OneShots(unittest.TestCase):
    def test_completed_chain_runs_in_order(self):
        st = Stack(self, """
            version: "2"
            services:
              c:
                command: "sh -c 'date +%s.%N >> {dir}/c'"
                depends_on: [{service: b, condition: completed}]
              b:
                command: "sh -c 'sleep 0.3; date +%s.%N >> {dir}/b'"
                depends_on: [{service: a, condition: completed}]
              a:
                command: "sh -c 'sleep 0.3; date +%s.%N >> {dir}/a'"
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.addCleanup(stop_daemon, st)
        self.assertEqual(r.returncode, 0, r.stderr)
        a, b, c = (stamps(st, n) for n in "abc")
        self.assertEqual((len(a), len(b), len(c)), (1, 1, 1))
        self.assertGreater(b[0] - a[0], 0.29)
        self.assertGreater(c[0], b[0])

    def test_failed_one_shot_blocks_the_chain_and_says_why(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "sh -c 'exit 3'"
              b:
                command: "sh -c 'echo run >> {dir}/b'"
                depends_on: [{service: a, condition: completed}]
              c:
                command: "sh -c 'echo run >> {dir}/c'"
                depends_on: [{service: b, condition: completed}]
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize", timeout=15)
        self.addCleanup(stop_daemon, st)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("service a: failed: exited with code 3", r.stderr)
        self.assertIn("service b: starting: dependency a is failed: exited with code 3",
                      r.stderr)
        self.assertIn("service c: starting: dependency b is blocked: dependency a is failed: "
                      "exited with code 3", r.stderr)
        self.assertEqual(st.lines("b") + st.lines("c"), [])


class Skip(unittest.TestCase):
    def test_skip_true_blocks_dependents(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "sh -c 'echo run >> {dir}/a; exec sleep 100'"
                skip: true
              b:
                command: "sh -c 'echo run >> {dir}/b; exec sleep 100'"
                depends_on: [a]
              c:
                command: "sh -c 'echo run >> {dir}/c; exec sleep 100'"
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.addCleanup(stop_daemon, st)
        self.assertEqual(r.returncode, 1)
        self.assertIn("service b: starting: dependency a is skipped\n", r.stderr)
        self.assertNotIn("service a", r.stderr)
        self.assertEqual(st.lines("a") + st.lines("b"), [])
        self.assertEqual(len(st.lines("c")), 1)
        st.wait_log("a", r"skipped \(skip: true\)")

    @needs_root
    def test_skip_command_exit_0_skips_and_runs_as_the_service(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "sh -c 'echo run >> {dir}/a; exec sleep 100'"
                user: nobody
                env: {vars: {WHERE: here}}
                skip: "{probe} --out {dir}/skip.json"
              b:
                command: "sh -c 'echo run >> {dir}/b'"
                depends_on: [{service: a, condition: started}]
            """)
        os.chmod(st.dir, 0o777)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.addCleanup(stop_daemon, st)
        self.assertEqual(r.returncode, 1)
        self.assertIn("service b: starting: dependency a is skipped\n", r.stderr)
        p = st.probe("skip")
        self.assertEqual((p["uid"], p["euid"], p["gid"]), (65534, 65534, 65534))
        self.assertEqual(p["env"]["WHERE"], "here")
        self.assertEqual(st.lines("a") + st.lines("b"), [])
        st.wait_log("a", r"skipped: the skip command exited with code 0")

    def test_skip_command_nonzero_starts_the_service(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "sh -c 'echo run >> {dir}/a; exec sleep 100'"
                skip: "sh -c 'echo checked >> {dir}/checks; exit 1'"
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.addCleanup(stop_daemon, st)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(st.lines("checks"), ["checked"])
        self.assertEqual(len(st.lines("a")), 1)

    def test_skip_command_that_cannot_run_fails_the_service(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "sh -c 'echo run >> {dir}/a; exec sleep 100'"
                skip: "/nonexistent/check --now"
              b:
                command: "sh -c 'echo run >> {dir}/b; exec sleep 100'"
                depends_on: [a]
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.addCleanup(stop_daemon, st)
        self.assertEqual(r.returncode, 1)
        self.assertIn("service a: failed: skip command could not run: exited with code 127\n",
                      r.stderr)
        self.assertIn("service b: starting: dependency a is failed: skip command", r.stderr)
        self.assertEqual(st.lines("a") + st.lines("b"), [])


class Hooks(unittest.TestCase):
    @needs_root
    def test_onstart_after_ready_with_the_service_identity(self):
        st = Stack(self, """
            version: "2"
            services:
              web:
                command: "sh -c 'date +%s.%N > {dir}/svc; exec sleep 100'"
                user: nobody
                env: {vars: {HOOKVAR: from-service}}
                hooks:
                  onstart:
                    command: "sh -c 'date +%s.%N > {dir}/hook; exec {probe} --out {dir}/hook.json'"
            """)
        os.chmod(st.dir, 0o777)
        st.start()
        p = st.probe("hook")
        self.assertEqual((p["uid"], p["euid"], p["suid"]), (65534, 65534, 65534))
        self.assertEqual(p["env"]["HOOKVAR"], "from-service")
        self.assertEqual(p["pgid"], p["pid"])  # its own process group, killable as one
        self.assertGreater(stamps(st, "hook")[0] - stamps(st, "svc")[0], 0.24)  # once ready
        st.wait_log("web", r"onstart hook: exited with code 0")
        self.assertEqual(st.stop(), 0)

    def test_onerr_after_failures_only(self):
        st = Stack(self, """
            version: "2"
            services:
              crash:
                command: "sh -c 'exit 3'"
                hooks:
                  onerr: {command: "sh -c 'echo crash >> {dir}/onerr'"}
              noexec:
                command: "/nonexistent/binary"
                hooks:
                  onerr: {command: "sh -c 'echo noexec >> {dir}/onerr'"}
              clean:
                command: "true"
                hooks:
                  onerr: {command: "sh -c 'echo clean >> {dir}/onerr'"}
              stopped:
                command: "sleep 100"
                hooks:
                  onerr: {command: "sh -c 'echo stopped >> {dir}/onerr'"}
            """)
        st.start()
        wait_for(lambda: len(st.lines("onerr")) >= 2, what="two onerr hooks")
        st.wait_log("crash", r"onerr hook: exited with code 0")
        self.assertEqual(st.stop(), 0)
        time.sleep(0.3)
        self.assertEqual(sorted(st.lines("onerr")), ["crash", "noexec"])

    def test_timeout_kills_the_hook_group_not_the_service(self):
        st = Stack(self, """
            version: "2"
            services:
              web:
                command: "sh -c 'echo $$$$ > {dir}/svcpid; exec sleep 100'"
                hooks:
                  onstart:
                    command: "sh -c 'sleep 100 & echo $! > {dir}/child; echo $$$$ > {dir}/hookpid; wait'"
                    timeout: 1s
            """)
        st.start()
        wait_for(lambda: st.lines("child") and st.lines("hookpid"), what="the hook started")
        hook, child = int(st.lines("hookpid")[0]), int(st.lines("child")[0])
        self.assertTrue(alive(hook) and alive(child))
        st.wait_log("web", r"onstart hook timed out after 1s: killed", timeout=5)
        wait_for(lambda: not alive(hook) and not alive(child), 3, what="the hook group killed")
        self.assertTrue(alive(int(st.lines("svcpid")[0])))  # the service is untouched
        self.assertEqual(st.stop(), 0)

    def test_one_shot_ending_while_its_onstart_hook_runs_is_done(self):
        # With cgroups the hook shares the service's cgroup: it must not be
        # taken for the service's main process when the one-shot exits.
        st = Stack(self, """
            version: "2"
            services:
              once:
                command: "sh -c 'date +%s.%N > {dir}/once; sleep 0.5'"
                hooks:
                  onstart: {command: "sh -c 'sleep 5; echo late >> {dir}/late'"}
              after:
                command: "sh -c 'date +%s.%N > {dir}/after'"
                depends_on: [{service: once, condition: completed}]
            """)
        st.start()
        wait_for(lambda: st.lines("after"), 4, what="the dependent of the one-shot")
        self.assertLess(stamps(st, "after")[0] - stamps(st, "once")[0], 1.5)
        st.wait_log("once", r"onstart hook")
        self.assertEqual(st.stop(), 0)
        self.assertEqual(st.lines("late"), [])

    def test_failing_hook_is_logged_and_changes_nothing(self):
        st = Stack(self, """
            version: "2"
            services:
              web:
                command: "sh -c 'echo $$$$ > {dir}/svcpid; exec sleep 100'"
                hooks:
                  onstart: {command: "sh -c 'echo hook-says-hi; exit 4'"}
            """)
        st.start()
        st.wait_log("web", r"onstart hook failed: exited with code 4")
        self.assertIn("hook-says-hi", st.log("web"))
        st.wait_err(r"service web: onstart hook failed: exited with code 4")
        self.assertTrue(alive(int(st.lines("svcpid")[0])))
        self.assertEqual(st.stop(), 0)


class UserMode(unittest.TestCase):
    @needs_root
    def test_cron_hooks_and_skip_unprivileged(self):
        st = Stack(self, """
            version: "2"
            services:
              tick:
                command: "sh -c 'id -u >> {dir}/tick'"
                cron: {expression: "* * * * * *"}
              web:
                command: "sleep 100"
                hooks:
                  onstart: {command: "sh -c 'id -u > {dir}/hook'"}
              maybe:
                command: "sh -c 'echo run >> {dir}/maybe'"
                skip: "sh -c 'id -u > {dir}/skip; exit 0'"
            """, system=False, user="nobody")
        st.start()
        wait_outcomes(st, "tick", "success", 2)
        wait_for(lambda: st.lines("hook") and st.lines("skip"), what="hook and skip check")
        self.assertEqual(set(st.lines("tick")), {"65534"})
        self.assertEqual(st.lines("hook"), ["65534"])
        self.assertEqual(st.lines("skip"), ["65534"])
        self.assertEqual(st.lines("maybe"), [])
        self.assertEqual(os.stat(os.path.join(st.state_dir, "cron", "tick.json")).st_uid, 65534)
        self.assertEqual(st.stop(), 0)


if __name__ == "__main__":
    unittest.main()
