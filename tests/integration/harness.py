"""Shared helpers for integration tests: the real sysg binary, real processes.

Each Stack owns a private temp dir with its own runtime and state dirs
(SYSG_RUNTIME_DIR / SYSG_STATE_DIR), so tests run in parallel without
meeting. Service files are written with two placeholders: {dir} (the temp
dir) and {probe} (the probe helper); they are replaced textually so YAML
braces need no escaping.
"""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest

BIN = os.environ.get("SYSG_BIN", os.path.abspath("../../build/sysg"))
HELPERS = os.environ.get("SYSG_HELPERS", os.path.abspath("../../build/helpers"))
SOURCE = os.environ.get("SYSG_SOURCE_DIR", os.path.abspath("../.."))
PROBE = os.path.join(HELPERS, "probe")
IS_ROOT = os.geteuid() == 0
RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """Poll pred() until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pids_matching(needle):
    """Live (non-zombie) processes whose command line contains needle."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmd and state != "Z" and int(entry) != os.getpid():
            found.append(int(entry))
    return found


def pids_running(*argv):
    """Live processes whose command line is exactly argv."""
    want = ("\0".join(argv) + "\0").encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if f.read() == want:
                    found.append(int(entry))
        except OSError:
            continue
    return found


def proc_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


class Stack:
    """A supervisor on one service file, in its own temp dir."""

    def __init__(self, test, yaml, system=True, user=None, env=None, name="sysg.yaml"):
        self.test = test
        self.system = system
        self.user = user  # run sysg as this user (user mode tests)
        self.dir = tempfile.mkdtemp(prefix="sysg-test-")
        os.chmod(self.dir, 0o755)
        self.run_dir = os.path.join(self.dir, "run")
        self.state_dir = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, name)
        self.extra_env = env or {}
        self.proc = None
        self.write(yaml)
        if user:
            pw = pwd.getpwnam(user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chown(self.config, pw.pw_uid, pw.pw_gid)
        test.addCleanup(self.cleanup)

    def expand(self, text):
        return textwrap.dedent(text).replace("{dir}", self.dir).replace("{probe}", PROBE)

    def write(self, yaml, path=None):
        path = path or self.config
        with open(path, "w") as f:
            f.write(self.expand(yaml))
        return path

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def env(self):
        env = dict(os.environ)
        env.update(SYSG_RUNTIME_DIR=self.run_dir, SYSG_STATE_DIR=self.state_dir)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("LISTEN_FDS", None)
        env.update(self.extra_env)
        return env

    def argv(self, *args):
        cmd = [BIN] + (["--sys"] if self.system else []) + list(args)
        if self.user:
            pw = pwd.getpwnam(self.user)
            cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                   "--clear-groups", "--"] + cmd
        return cmd

    def sysg(self, *args, timeout=30, input=None):
        """Run a sysg CLI command; returns CompletedProcess with text output."""
        return subprocess.run(self.argv(*args), env=self.env(), cwd=self.dir, input=input,
                              capture_output=True, text=True, timeout=timeout)

    def start(self, *args, pass_fds=(), wrap=()):
        """sysg start in the foreground, in its own session; output to files."""
        self.out_path = self.path("sysg.out")
        self.err_path = self.path("sysg.err")
        out = open(self.out_path, "w")
        err = open(self.err_path, "w")
        argv = list(wrap) + self.argv("start", "-c", self.config, *args)
        self.proc = subprocess.Popen(argv, env=self.env(), cwd=self.dir, stdout=out, stderr=err,
                                     stdin=subprocess.DEVNULL, pass_fds=pass_fds,
                                     start_new_session=True)
        out.close()
        err.close()
        return self.proc

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the foreground supervisor and wait for it; returns its exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def out(self):
        with open(self.out_path) as f:
            return f.read()

    def err(self):
        with open(self.err_path) as f:
            return f.read()

    def log_path(self, unit):
        return os.path.join(self.state_dir, "logs", unit + ".log")

    def log(self, unit):
        try:
            with open(self.log_path(unit)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, unit, pattern, timeout=10):
        return wait_for(lambda: re.search(pattern, self.log(unit)), timeout,
                        what=f"{pattern!r} in {unit}'s log")

    def wait_err(self, pattern, timeout=10):
        return wait_for(lambda: re.search(pattern, self.err()), timeout,
                        what=f"{pattern!r} in sysg's stderr")

    def probe(self, name, timeout=10):
        """The JSON a probe service wrote to {dir}/<name>.json."""
        path = self.path(name + ".json")
        wait_for(lambda: os.path.exists(path), timeout, what=path)
        with open(path) as f:
            return json.load(f)

    def lines(self, name):
        try:
            with open(self.path(name)) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Services are in their own sessions: anything still running that
        # mentions our directory is a leftover of this test.
        for pid in pids_matching(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if os.environ.get("SYSG_TEST_KEEP"):
            print(f"\n(kept {self.dir})")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def needs_root(cls_or_fn):
    return unittest.skipUnless(IS_ROOT, "needs root")(cls_or_fn)
