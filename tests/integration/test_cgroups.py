"""cgroups through the real supervisor on this (hybrid) host: whole-tree kill,
limits, OOM reporting, cleanup, adoption. System mode, as root."""
import glob
import os
import signal
import subprocess
import time
import unittest

from harness import PROBE, Stack, needs_root, pids_matching, pids_running, wait_for

UNIFIED = "/sys/fs/cgroup/unified"


def cgroup_of(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return {line.split(":")[1] or "v2": line.strip().split(":", 2)[2] for line in f}


def sysg_dirs(stack):
    """Every cgroup directory under this stack's base, in every hierarchy."""
    base = os.path.basename(stack.base)
    return [p for p in glob.glob(f"/sys/fs/cgroup/*/{base}*") +
            glob.glob(f"/sys/fs/cgroup/*/{base}/*") if os.path.isdir(p)]


def has_cgroups():
    return os.path.exists(os.path.join(UNIFIED, "cgroup.procs")) or \
        os.path.exists("/sys/fs/cgroup/cgroup.procs")


@needs_root
@unittest.skipUnless(has_cgroups(), "no cgroup v2 hierarchy")
class Cgroups(unittest.TestCase):
    def stack(self, yaml):
        st = Stack(self, yaml)
        st.start()
        return st

    def find_base(self, st, pid):
        path = cgroup_of(pid)["v2"]  # /sysg-xxxx/<unit>.service
        st.base = os.path.dirname(path)
        return path

    def test_service_in_own_cgroup_before_exec(self):
        st = self.stack("""
            version: "2"
            services:
              p:
                exec: ["{probe}", "--sleep", "0", "--out", "{dir}/p.json"]
            """)
        p = st.probe("p")
        cg = {line.split(":")[1] or "v2": line.split(":", 2)[2]
              for line in p["cgroup"].strip().splitlines()}
        # the probe recorded its cgroups as its very first act: it was placed before exec
        self.assertTrue(cg["v2"].endswith("/p.service"), cg)
        self.assertTrue(cg["memory"].endswith("/p.service"), cg)
        self.assertTrue(cg["pids"].endswith("/p.service"), cg)
        sup = cgroup_of(st.proc.pid)["v2"]
        self.assertTrue(sup.endswith("/supervisor"), sup)

    def test_escapees_are_killed_and_nothing_is_left(self):
        st = self.stack("""
            version: "2"
            services:
              escaper:
                command: "sh -c 'setsid sleep 2001 & (sleep 2002 &) ; setsid sh -c \\"sleep 2003 &\\"; exec sleep 2004'"
            """)
        pid = wait_for(lambda: pids_running("sleep", "2004"))[0]
        for n in ("2001", "2002", "2003"):
            wait_for(lambda: pids_running("sleep", n), what="sleep " + n)
        self.find_base(st, pid)
        self.assertEqual(st.stop(), 0)
        for n in ("2001", "2002", "2003", "2004"):
            self.assertEqual(pids_running("sleep", n), [])
        self.assertEqual(sysg_dirs(st), [])

    def test_kill_mode_group_leaves_setsid_escapee(self):
        # kill_mode: group is the process group only: a setsid child escapes (documented)
        st = self.stack("""
            version: "2"
            services:
              g:
                command: "sh -c 'setsid sleep 2011 & exec sleep 2012'"
                kill_mode: group
            """)
        wait_for(lambda: len(pids_matching("sleep 201")) == 2)
        self.assertEqual(st.stop(), 0)
        self.assertEqual(pids_matching("sleep 2012"), [])
        esc = pids_matching("sleep 2011")
        self.assertEqual(len(esc), 1)
        os.kill(esc[0], signal.SIGKILL)

    def test_fork_bomb_stops_at_pids_max_and_stop_empties(self):
        st = self.stack("""
            version: "2"
            services:
              bomb:
                exec: ["python3", "-c", "import os, time\\nwhile True:\\n  try: os.fork()\\n  except OSError: time.sleep(0.01)"]
                limits: {cgroup: {pids_max: 40}}
                stop_timeout: 2s
            """)
        wait_for(lambda: len(pids_matching("os.fork")) >= 40, 10, what="40 bombs")
        time.sleep(0.5)
        pids = pids_matching("os.fork")
        self.assertLessEqual(len(pids), 40)
        self.assertGreater(len(pids), 10)
        self.find_base(st, pids[0])
        self.assertIn(st.stop(), (0, 1))
        self.assertEqual(pids_matching("os.fork"), [])
        self.assertEqual(sysg_dirs(st), [])

    def test_memory_hog_is_oom_killed_and_reported(self):
        st = self.stack("""
            version: "2"
            services:
              hog:
                exec: ["python3", "-c", "import time; x = []\\nwhile True: x.append(bytearray(1 << 20)); time.sleep(0.001)"]
                limits: {cgroup: {memory_max: 32M, memory_swap_max: 0}}
            """)
        st.wait_log("hog", "sysg: oom-kill", 20)
        st.wait_err("out of memory", 5)

    def test_cpu_max_halves_a_busy_loop(self):
        st = self.stack("""
            version: "2"
            services:
              busy:
                exec: ["sh", "-c", "while :; do :; done"]
                limits: {cgroup: {cpu_max: "50%"}}
            """)
        pid = wait_for(lambda: [p for p in pids_matching("while :; do :; done")
                                if p != st.proc.pid])[0]
        with open(f"/proc/{pid}/stat") as f:
            t0 = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        time.sleep(2)
        with open(f"/proc/{pid}/stat") as f:
            t1 = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        share = (t1 - t0) / os.sysconf("SC_CLK_TCK") / 2
        self.assertGreater(share, 0.3)
        self.assertLess(share, 0.7)

    def test_limit_that_cannot_be_enforced_fails_closed(self):
        # an unprivileged user without a delegated cgroup cannot get memory_max
        st = Stack(self, """
            version: "2"
            services:
              limited:
                command: "sleep 2041"
                limits: {cgroup: {memory_max: 64M}}
              free:
                command: "sleep 2042"
            """, system=False, user="nobody")
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"limited: failed: cannot start: memory_max: no delegated "
                                   r"cgroup v2 subtree for uid 65534")
        self.assertEqual(pids_matching("sleep 2041"), [])
        self.assertEqual(len(pids_matching("sleep 2042")), 1)  # the others run, untracked
        for pid in pids_matching(st.config):
            os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pids_matching("sleep 2042"), 10)

    def test_kill_9_supervisor_then_start_adopts_and_never_duplicates(self):
        st = Stack(self, """
            version: "2"
            services:
              keeper:
                command: "sh -c 'sleep 2021 & exec sleep 2022'"
                restart_policy: always
            """)
        self.assertEqual(st.sysg("start", "-c", st.config, "--daemonize").returncode, 0)
        main = wait_for(lambda: pids_matching("sleep 2022"))[0]
        child = wait_for(lambda: pids_matching("sleep 2021"))[0]
        self.find_base(st, main)
        for _ in range(5):
            sup = pids_matching(st.config)
            os.kill(sup[0], signal.SIGKILL)
            wait_for(lambda: not os.path.exists(f"/proc/{sup[0]}"))
            r = st.sysg("start", "-c", st.config, "--daemonize")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(pids_matching("sleep 2022"), [main])
            self.assertEqual(pids_matching("sleep 2021"), [child])
        os.kill(pids_matching(st.config)[0], signal.SIGTERM)
        wait_for(lambda: not pids_matching("sleep 202"), 15, what="stack stopped")
        wait_for(lambda: sysg_dirs(st) == [], 5, what="cgroups removed")

    def test_leftover_processes_of_removed_service_are_killed(self):
        st = Stack(self, """
            version: "2"
            services:
              old:
                command: "sh -c 'setsid sleep 2031 & exec sleep 2032'"
            """)
        self.assertEqual(st.sysg("start", "-c", st.config, "--daemonize").returncode, 0)
        wait_for(lambda: len(pids_matching("sleep 203")) == 2)
        sup = pids_matching(st.config)[0]
        os.kill(sup, signal.SIGKILL)
        wait_for(lambda: not os.path.exists(f"/proc/{sup}"))
        st.write("""
            version: "2"
            services:
              new:
                command: "sleep 2033"
            """)
        r = st.sysg("start", "-c", st.config, "--daemonize")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: pids_matching("sleep 2033"))
        wait_for(lambda: not pids_matching("sleep 2031") and not pids_matching("sleep 2032"),
                 5, what="old service's processes gone, escapee included")
        os.kill(pids_matching(st.config)[0], signal.SIGTERM)
        wait_for(lambda: not pids_matching("sleep 203"), 15)


if __name__ == "__main__":
    unittest.main()
