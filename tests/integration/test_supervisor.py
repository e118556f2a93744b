"""The supervisor core: start order, restart policies, backoff, stop, logs,
clean child state, adoption, user drop, PID 1 — the real binary, real processes."""
import json
import os
import re
import signal
import subprocess
import time
import unittest

from harness import (IS_ROOT, PROBE, RFC3339, Stack, needs_root, pids_matching, proc_field,
                     wait_for)


def stamps(stack, name):
    return [float(x) for x in stack.lines(name)]


class StartOrder(unittest.TestCase):
    def test_dependencies_start_in_order(self):
        st = Stack(self, """
            version: "2"
            services:
              c:
                command: "sh -c 'date +%s.%N >> {dir}/c; exec sleep 100'"
                depends_on: [b]
              b:
                command: "sh -c 'date +%s.%N >> {dir}/b; exec sleep 100'"
                depends_on: [{service: a, condition: ready}]
              a:
                command: "sh -c 'date +%s.%N >> {dir}/a; exec sleep 100'"
              solo:
                command: "sh -c 'date +%s.%N >> {dir}/solo; exec sleep 100'"
            """)
        st.start()
        wait_for(lambda: st.lines("c"), what="c started")
        a, b, c, solo = (stamps(st, n)[0] for n in "a b c solo".split())
        # each waits for the previous to be ready (alive 250 ms)
        self.assertGreater(b - a, 0.24)
        self.assertGreater(c - b, 0.24)
        # independent services start at once, in parallel
        self.assertLess(abs(solo - a), 0.2)
        self.assertEqual(st.stop(), 0)

    def test_started_condition_does_not_wait_for_ready(self):
        st = Stack(self, """
            version: "2"
            services:
              a:
                command: "sh -c 'date +%s.%N >> {dir}/a; exec sleep 100'"
              b:
                command: "sh -c 'date +%s.%N >> {dir}/b; exec sleep 100'"
                depends_on: [{service: a, condition: started}]
            """)
        st.start()
        wait_for(lambda: st.lines("b"))
        self.assertLess(stamps(st, "b")[0] - stamps(st, "a")[0], 0.2)

    def test_completed_condition_waits_for_exit_0(self):
        st = Stack(self, """
            version: "2"
            services:
              migrate:
                command: "sh -c 'sleep 0.5; date +%s.%N >> {dir}/migrate'"
              api:
                command: "sh -c 'date +%s.%N >> {dir}/api; exec sleep 100'"
                depends_on: [{service: migrate, condition: completed}]
            """)
        st.start()
        wait_for(lambda: st.lines("api"))
        self.assertGreaterEqual(stamps(st, "api")[0], stamps(st, "migrate")[0])

    def test_failed_dependency_blocks_dependent(self):
        st = Stack(self, """
            version: "2"
            services:
              migrate:
                command: "sh -c 'exit 3'"
              api:
                command: "sh -c 'date >> {dir}/api; exec sleep 100'"
                depends_on: [{service: migrate, condition: completed}]
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("migrate: failed: exited with code 3", r.stderr)
        self.assertIn("api: starting: dependency migrate is failed: exited with code 3", r.stderr)
        self.assertEqual(st.lines("api"), [])
        st.proc = None
        self._stop_daemon(st)

    def _stop_daemon(self, st):
        for pid in pids_matching(st.config):
            os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pids_matching(st.config), 15, what="daemon exit")


class Restarts(unittest.TestCase):
    def run_policy(self, policy, code, runs_wanted, wait=1.5):
        st = Stack(self, f"""
            version: "2"
            services:
              job:
                command: "sh -c 'date +%s.%N >> {{dir}}/runs; exit {code}'"
                restart_policy: {policy}
                backoff: 100ms
            """)
        st.start()
        time.sleep(wait)
        runs = len(st.lines("runs"))
        if runs_wanted == "many":
            self.assertGreater(runs, 2)
        else:
            self.assertEqual(runs, runs_wanted)
        st.stop()

    def test_always_restarts_clean_exit(self):
        self.run_policy("always", 0, "many")

    def test_on_failure_restarts_failure(self):
        self.run_policy("on-failure", 1, "many")

    def test_on_failure_keeps_success_done(self):
        self.run_policy("on-failure", 0, 1)

    def test_never(self):
        self.run_policy("never", 1, 1)

    def test_default_is_never(self):
        st = Stack(self, """
            version: "2"
            services:
              job:
                command: "sh -c 'date +%s >> {dir}/runs; exit 1'"
            """)
        st.start()
        time.sleep(1.5)
        self.assertEqual(len(st.lines("runs")), 1)

    def test_backoff_doubles_then_caps(self):
        st = Stack(self, """
            version: "2"
            services:
              crash:
                command: "sh -c 'date +%s.%N >> {dir}/runs; exit 1'"
                restart_policy: on-failure
                backoff: 200ms
                backoff_max: 800ms
            """)
        st.start()
        wait_for(lambda: len(st.lines("runs")) >= 6, 10)
        t = stamps(st, "runs")
        gaps = [b - a for a, b in zip(t, t[1:])]
        for gap, want in zip(gaps, [0.2, 0.4, 0.8, 0.8, 0.8]):
            self.assertGreater(gap, want * 0.9, gaps)
            self.assertLess(gap, want + 0.4, gaps)

    def test_backoff_resets_after_stable_after(self):
        st = Stack(self, """
            version: "2"
            services:
              crash:
                command: "sh -c 'date +%s.%N >> {dir}/runs; sleep 0.6; exit 1'"
                restart_policy: on-failure
                backoff: 200ms
                backoff_max: 10s
                stable_after: 500ms
            """)
        st.start()
        wait_for(lambda: len(st.lines("runs")) >= 5, 15)
        t = stamps(st, "runs")
        gaps = [b - a - 0.6 for a, b in zip(t, t[1:])]
        # every run outlived stable_after, so the delay never grows
        for gap in gaps:
            self.assertLess(gap, 0.5, gaps)

    def test_max_restarts_gives_up(self):
        st = Stack(self, """
            version: "2"
            services:
              crash:
                command: "sh -c 'date +%s >> {dir}/runs; exit 1'"
                restart_policy: always
                backoff: 50ms
                max_restarts: 2
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1)
        time.sleep(1)
        self.assertEqual(len(st.lines("runs")), 3)  # the first run and two restarts
        StartOrder._stop_daemon(self, st)

    def test_exec_failure_is_reported(self):
        st = Stack(self, """
            version: "2"
            services:
              broken:
                exec: ["/nonexistent/program"]
              nodir:
                command: "true"
                working_dir: /nonexistent-dir
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1)
        self.assertIn("broken: failed: exec failed at execve: No such file or directory", r.stderr)
        self.assertIn("nodir: failed: exec failed at chdir: No such file or directory", r.stderr)
        StartOrder._stop_daemon(self, st)

    def test_crash_loop_never_busy_loops(self):
        st = Stack(self, """
            version: "2"
            services:
              crash:
                exec: ["false"]
                restart_policy: always
            """)
        st.start()
        time.sleep(3)
        # default backoff 1s doubling: 1 + 1 + 2 = at most 3 restarts in 3 s
        r = len(re.findall("exited with code 1", st.log("crash")))
        self.assertLessEqual(r, 4)
        self.assertGreaterEqual(r, 2)


class Stop(unittest.TestCase):
    def test_stop_escalates_to_sigkill(self):
        st = Stack(self, """
            version: "2"
            services:
              stubborn:
                exec: ["{probe}", "--ignore-term", "--sleep", "0", "--out", "{dir}/p.json"]
                stop_timeout: 1s
            """)
        st.start()
        pid = st.probe("p")["pid"]
        t0 = time.monotonic()
        self.assertEqual(st.stop(), 1)  # not a clean stop
        took = time.monotonic() - t0
        self.assertGreater(took, 0.9)
        self.assertLess(took, 5)
        self.assertFalse(os.path.exists(f"/proc/{pid}"))
        self.assertIn("sending SIGKILL", st.err())

    def test_stopped_process_still_stops(self):
        st = Stack(self, """
            version: "2"
            services:
              frozen:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
            """)
        st.start()
        pid = st.probe("p")["pid"]
        time.sleep(0.3)
        os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: proc_field(pid, "State").startswith("T"))
        t0 = time.monotonic()
        self.assertEqual(st.stop(), 0)
        self.assertLess(time.monotonic() - t0, 2)

    def test_descendants_killed_on_stop(self):
        st = Stack(self, """
            version: "2"
            services:
              parent:
                command: "sh -c 'sleep 1001 & sleep 1002 & sh -c \\"sleep 1003\\" & wait'"
            """)
        st.start()
        wait_for(lambda: len(pids_matching("sleep 100")) >= 3, what="children")
        self.assertEqual(st.stop(), 0)
        for n in ("1001", "1002", "1003"):
            self.assertEqual(pids_matching("sleep " + n), [])

    def test_double_fork_daemon_is_tracked_and_stopped(self):
        st = Stack(self, """
            version: "2"
            services:
              daemon:
                command: "sh -c '(sleep 1004 &) ; exit 0'"
            """)
        st.start()
        pid = wait_for(lambda: pids_matching("sleep 1004"))[0]
        time.sleep(0.5)
        # the daemon's real process lives on and is the service now
        self.assertTrue(os.path.exists(f"/proc/{pid}"))
        self.assertEqual(int(proc_field(pid, "PPid")), st.proc.pid)  # we are its subreaper
        self.assertEqual(st.stop(), 0)
        self.assertEqual(pids_matching("sleep 1004"), [])

    def test_reverse_dependency_order(self):
        st = Stack(self, """
            version: "2"
            services:
              db:
                command: "sh -c 'trap \\"date +%s.%N >> {dir}/db; exit 0\\" TERM; while :; do sleep 0.05; done'"
              api:
                command: "sh -c 'trap \\"sleep 0.3; date +%s.%N >> {dir}/api; exit 0\\" TERM; while :; do sleep 0.05; done'"
                depends_on: [db]
            """)
        st.start()
        time.sleep(1)
        self.assertEqual(st.stop(), 0)
        self.assertLess(stamps(st, "api")[0], stamps(st, "db")[0])

    def test_dependency_crash_stops_and_restarts_dependent(self):
        st = Stack(self, """
            version: "2"
            services:
              db:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/db.json"]
                restart_policy: always
                backoff: 200ms
              web:
                command: "sh -c 'date +%s.%N >> {dir}/web; exec sleep 100'"
                restart_policy: always
                depends_on: [db]
            """)
        st.start()
        db = st.probe("db")["pid"]
        wait_for(lambda: st.lines("web"))
        os.remove(st.path("db.json"))
        os.kill(db, signal.SIGKILL)
        wait_for(lambda: len(st.lines("web")) == 2, what="web restarted after db came back")
        self.assertNotEqual(st.probe("db")["pid"], db)


class ChildState(unittest.TestCase):
    def test_clean_child(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
                env:
                  vars: {GREETING: hello}
            """, env={"SYSG_SECRET_THING": "x", "LISTEN_FDS": "3", "NOTIFY_SOCKET": "/x"})
        with open("/etc/hostname") as stray:
            st.start(pass_fds=[stray.fileno()])
            p = st.probe("p")
        self.assertEqual(sorted(p["fds"]), ["0", "1", "2"])  # the stray fd did not leak
        self.assertEqual(p["fds"]["0"]["target"], "/dev/null")
        self.assertEqual(p["sid"], p["pid"])
        self.assertEqual(p["pgid"], p["pid"])
        self.assertEqual(p["tty_nr"], 0)
        self.assertEqual(p["status"]["SigBlk"], "0000000000000000")
        self.assertEqual(p["status"]["SigIgn"], "0000000000000000")
        self.assertEqual(p["env"]["GREETING"], "hello")
        for var in ("SYSG_SECRET_THING", "LISTEN_FDS", "LISTEN_PID", "NOTIFY_SOCKET",
                    "SYSG_RUNTIME_DIR"):
            self.assertNotIn(var, p["env"])
        self.assertEqual(p["umask"], 0o022)
        self.assertEqual(p["cwd"], st.dir)

    @needs_root
    def test_system_mode_does_not_inherit_env(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
            """, env={"LD_PRELOAD": "", "BASH_ENV": "/x", "SECRET_TOKEN": "t"})
        st.start()
        env = st.probe("p")["env"]
        for var in ("LD_PRELOAD", "BASH_ENV", "SECRET_TOKEN"):
            self.assertNotIn(var, env)
        self.assertIn("PATH", env)

    def test_limits_and_umask_and_workdir(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
                umask: "0077"
                working_dir: sub
                limits:
                  nofile: {soft: 512, hard: 1024}
                  core: 0
                  nice: 5
                  oom_score_adj: 300
                  cpu_affinity: [0]
            """)
        os.mkdir(st.path("sub"))
        st.start()
        p = st.probe("p")
        self.assertEqual(p["umask"], 0o077)
        self.assertEqual(p["cwd"], st.path("sub"))
        self.assertEqual(p["rlimits"]["nofile"], [512, 1024])
        self.assertEqual(p["rlimits"]["core"], [0, 0])
        self.assertEqual(p["nice"], 5)
        self.assertEqual(p["oom_score_adj"], 300)
        self.assertEqual(p["affinity"], [0])

    def test_default_nofile_is_what_sysg_got(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
            """)
        st.start(wrap=["prlimit", "--nofile=1000:4096", "--"])
        self.assertEqual(st.probe("p")["rlimits"]["nofile"], [1000, 4096])

    @needs_root
    def test_user_drop(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
                user: nobody
                supplementary_groups: [daemon]
            """)
        os.chmod(st.dir, 0o777)
        st.start()
        p = st.probe("p")
        for k in ("uid", "euid", "suid"):
            self.assertEqual(p[k], 65534)
        for k in ("gid", "egid", "sgid"):
            self.assertEqual(p[k], 65534)
        self.assertEqual(p["groups"], [1])
        self.assertEqual(p["env"]["USER"], "nobody")
        self.assertEqual(p["status"]["CapEff"], "0000000000000000")

    @needs_root
    def test_unknown_user_is_reported(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                command: "true"
                user: no-such-user-here
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1)
        self.assertIn("user 'no-such-user-here': no such user", r.stderr)
        StartOrder._stop_daemon(self, st)


class Logs(unittest.TestCase):
    def test_foreground_streams_and_file_has_timestamps(self):
        st = Stack(self, """
            version: "2"
            services:
              talker:
                command: "sh -c 'echo hello; echo oops >&2; printf partial; sleep 100'"
            """)
        st.start()
        st.wait_log("talker", "oops")
        wait_for(lambda: "talker | partial" in st.out(), 5, what="partial line flushed")
        self.assertIn("talker | hello", st.out())
        self.assertIn("talker | oops", st.out())
        log = st.log("talker").splitlines()
        self.assertRegex(log[0], "^" + RFC3339 + " hello$")
        self.assertRegex(log[1], "^" + RFC3339 + " oops$")

    def test_no_timestamps(self):
        st = Stack(self, """
            version: "2"
            logs: {timestamps: false}
            services:
              talker:
                command: "sh -c 'echo plain; sleep 100'"
            """)
        st.start()
        st.wait_log("talker", "plain")
        self.assertEqual(st.log("talker"), "plain\n")

    def test_rotation(self):
        st = Stack(self, """
            version: "2"
            services:
              chatty:
                command: "sh -c 'i=0; while [ $i -lt 300 ]; do echo line-$i-padding-padding; i=$((i+1)); done; sleep 100'"
                logs: {max_bytes: 2K, max_files: 2, timestamps: false}
            """)
        st.start()
        st.wait_log("chatty", "line-299")
        base = st.log_path("chatty")
        self.assertTrue(os.path.exists(base + ".1"))
        self.assertTrue(os.path.exists(base + ".2"))
        self.assertFalse(os.path.exists(base + ".3"))
        for path in (base, base + ".1", base + ".2"):
            self.assertLessEqual(os.path.getsize(path), 2048 + 64 * 1024)

    def test_logs_survive_restarts(self):
        st = Stack(self, """
            version: "2"
            services:
              flaky:
                command: "sh -c 'echo run-$$; exit 1'"
                restart_policy: always
                backoff: 50ms
            """)
        st.start()
        wait_for(lambda: len(re.findall("run-", st.log("flaky"))) >= 4)
        self.assertGreaterEqual(len(re.findall("exited with code 1", st.log("flaky"))), 3)

    def test_flood_does_not_block_supervisor(self):
        st = Stack(self, """
            version: "2"
            services:
              flood:
                command: "sh -c 'yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
                logs: {max_bytes: 1M, max_files: 1}
              other:
                command: "sh -c 'while :; do date +%s.%N >> {dir}/tick; sleep 0.1; done'"
                restart_policy: always
            """)
        st.start()
        time.sleep(2)
        ticks = len(st.lines("tick"))
        self.assertGreater(ticks, 10)
        self.assertEqual(st.stop(), 0)

    @needs_root
    def test_full_disk_is_survived(self):
        st = Stack(self, """
            version: "2"
            services:
              writer:
                command: "sh -c 'while :; do echo 0123456789012345678901234567890123456789; done'"
                logs: {max_bytes: 100M}
            """)
        os.makedirs(st.state_dir)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", st.state_dir],
                       check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", st.state_dir])
        os.chmod(st.state_dir, 0o700)
        st.start()
        st.wait_err("dropping output", 10)
        time.sleep(0.5)
        self.assertIsNone(st.proc.poll())
        self.assertTrue(pids_matching("0123456789"))
        self.assertEqual(st.stop(), 0)


class Faults(unittest.TestCase):
    def test_out_of_fds_backs_off_and_keeps_running(self):
        services = "".join(f"""
              s{i}:
                command: "sleep 103{i:02d}"
                restart_policy: always
                backoff: 200ms""" for i in range(40))
        st = Stack(self, 'version: "2"\nservices:' + services + "\n")
        st.start(wrap=["prlimit", "--nofile=40:40", "--"])
        time.sleep(2)
        self.assertIsNone(st.proc.poll())  # the supervisor lives
        running = len(pids_matching("sleep 103"))
        self.assertGreater(running, 0)
        self.assertLess(running, 40)
        self.assertRegex(st.err(), "Too many open files")
        with open(f"/proc/{st.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        self.assertLess(cpu, 1.0)  # backing off, not spinning
        self.assertEqual(st.stop(), 0)
        self.assertEqual(pids_matching("sleep 103"), [])


class Adoption(unittest.TestCase):
    def test_kill_9_then_restart_adopts(self):
        st = Stack(self, """
            version: "2"
            services:
              keeper:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/keeper.json"]
                restart_policy: always
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = st.probe("keeper")["pid"]
        for _ in range(3):
            sup = [p for p in pids_matching(st.config) if p != pid]
            self.assertEqual(len(sup), 1)
            os.kill(sup[0], signal.SIGKILL)
            wait_for(lambda: not os.path.exists(f"/proc/{sup[0]}"))
            r = st.sysg("start", "-c", st.config, "--daemonize")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(pids_matching(PROBE), [pid])  # same process, no duplicate
        # the adopted process is still stopped by the new supervisor
        sup = [p for p in pids_matching(st.config) if p != pid]
        os.kill(sup[0], signal.SIGTERM)
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 15)


@needs_root
class Pid1(unittest.TestCase):
    def test_reaps_zombies_and_stops_on_sigterm(self):
        st = Stack(self, """
            version: "2"
            services:
              orphaner:
                command: "sh -c 'for i in 1 2 3 4 5; do sh -c \\"sleep 0.2 &\\"; done; exec sleep 1005'"
              db:
                command: "sleep 1006"
            """)
        st.start(wrap=["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"])
        inner = wait_for(lambda: pids_matching("sleep 1006"))[0]
        sysg = int(proc_field(inner, "PPid"))
        time.sleep(1)
        kids = subprocess.run(["ps", "-o", "stat=", "--ppid", str(sysg)], capture_output=True,
                              text=True).stdout.split()
        self.assertNotIn("Z", "".join(kids))
        self.assertEqual(proc_field(sysg, "NSpid").split()[-1], "1")
        os.kill(sysg, signal.SIGTERM)
        self.assertEqual(st.proc.wait(timeout=20), 0)
        self.assertEqual(pids_matching("sleep 100"), [])
        self.assertIn("orphaner | ", st.out() + "orphaner | ")  # stdout sink as PID 1


class UserMode(unittest.TestCase):
    @needs_root
    def test_unprivileged_stack(self):
        st = Stack(self, """
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
                restart_policy: always
              dep:
                command: "sh -c 'echo hi; exec sleep 100'"
                depends_on: [p]
            """, system=False, user="nobody")
        st.start()
        p = st.probe("p")
        self.assertEqual(p["uid"], 65534)
        st.wait_log("dep", "hi")
        self.assertEqual(st.stop(), 0)

    def test_sys_needs_root(self):
        if IS_ROOT:
            self.skipTest("runs as root")
        st = Stack(self, 'version: "2"\nservices: {a: {command: "true"}}\n')
        self.assertEqual(st.sysg("start", "-c", st.config).returncode, 1)


if __name__ == "__main__":
    unittest.main()
