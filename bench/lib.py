"""Shared bench plumbing: build helpers, run peers, measure processes."""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SYSG = os.environ.get("SYSG_BIN", os.path.join(ROOT, "build", "sysg"))
TOOLS = os.path.join(tempfile.gettempdir(), "sysg-bench-tools")


def build_tools():
    os.makedirs(TOOLS, exist_ok=True)
    for name in ("floor_spawn", "procwait", "tick"):
        src = os.path.join(HERE, name + ".c")
        out = os.path.join(TOOLS, name)
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
            subprocess.run(["cc", "-O2", "-o", out, src], check=True)


def tool(name):
    return os.path.join(TOOLS, name)


def marker():
    return str(random.randint(200000, 900000))


def procwait(mark, n, timeout=120):
    out = subprocess.run([tool("procwait"), mark, str(n), str(timeout)], capture_output=True,
                         text=True, check=True).stdout
    return float(out)


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def pss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def ctxt_switches(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if "ctxt_switches" in line:
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Peer:
    """One supervisor under test, running N copies of `argv` as services."""
    name = "?"
    service_comms = ("sleep", "tick")

    def __init__(self, n, argv, restart=True):
        self.n, self.argv, self.restart = n, argv, restart
        self.dir = tempfile.mkdtemp(prefix=f"sysg-bench-{self.name}-")
        self.proc = None
        self.setup()

    def supervisor_pids(self):
        return [p for p in descendants(self.proc.pid) if comm(p) not in self.service_comms]

    def start(self):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.command(), cwd=self.dir, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True,
                                     env=self.env())

    def env(self):
        return dict(os.environ)

    def stop(self):
        self.proc.send_signal(self.stop_signal())

    def stop_signal(self):
        return signal.SIGTERM

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in descendants(self.proc.pid) if self.proc else []:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Sysg(Peer):
    name = "sysg"

    def setup(self):
        lines = ['version: "2"', "logs: {sink: none}", "services:"]
        args = json.dumps(self.argv)
        for i in range(self.n):
            lines.append(f"  s{i}:")
            lines.append(f"    exec: {args}")
            if self.restart:
                lines.append("    restart_policy: always")
                lines.append("    backoff: 0")
        with open(os.path.join(self.dir, "sysg.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def env(self):
        # The runtime dir is a tmpfs in real use (/run, $XDG_RUNTIME_DIR).
        self.run_dir = tempfile.mkdtemp(prefix="sysg-bench-", dir="/dev/shm")
        env = dict(os.environ)
        env.update(SYSG_RUNTIME_DIR=self.run_dir, SYSG_STATE_DIR=os.path.join(self.dir, "state"))
        return env

    def cleanup(self):
        super().cleanup()
        shutil.rmtree(getattr(self, "run_dir", "/nonexistent"), ignore_errors=True)

    def command(self):
        return [SYSG, "--sys" if os.geteuid() == 0 else "--plain", "start", "-c", "sysg.yaml"]


def write_run_scripts(base, n, argv):
    for i in range(n):
        d = os.path.join(base, f"s{i}")
        os.makedirs(d)
        with open(os.path.join(d, "run"), "w") as f:
            f.write("#!/bin/sh\nexec " + " ".join(argv) + "\n")
        os.chmod(os.path.join(d, "run"), 0o755)


class S6(Peer):
    name = "s6"
    service_comms = ("sleep", "tick", "run")

    def setup(self):
        write_run_scripts(os.path.join(self.dir, "scan"), self.n, self.argv)

    def command(self):
        return ["s6-svscan", "-c", str(2 * self.n + 10), "scan"]

    def stop(self):
        subprocess.run(["s6-svscanctl", "-t", os.path.join(self.dir, "scan")], check=False)


class Runit(Peer):
    name = "runit"
    service_comms = ("sleep", "tick", "run")

    def setup(self):
        write_run_scripts(os.path.join(self.dir, "sv"), self.n, self.argv)

    def command(self):
        return ["runsvdir", "-P", "sv"]

    def stop_signal(self):
        return signal.SIGHUP  # runsvdir: TERM to every runsv, which stops its service


class Supervisord(Peer):
    name = "supervisord"

    def setup(self):
        lines = ["[supervisord]", "nodaemon=true", f"logfile={self.dir}/supervisord.log",
                 f"pidfile={self.dir}/supervisord.pid", f"childlogdir={self.dir}", ""]
        for i in range(self.n):
            lines += [f"[program:s{i}]", "command=" + " ".join(self.argv), "autostart=true",
                      "startsecs=0", f"autorestart={'true' if self.restart else 'false'}",
                      "stdout_logfile=NONE", "stderr_logfile=NONE", "stopasgroup=true",
                      "killasgroup=true", ""]
        with open(os.path.join(self.dir, "supervisord.conf"), "w") as f:
            f.write("\n".join(lines))

    def command(self):
        return ["supervisord", "-c", "supervisord.conf"]


Sysg.binary, S6.binary, Runit.binary, Supervisord.binary = SYSG, "s6-svscan", "runsvdir", "supervisord"
PEERS = [Sysg, S6, Runit, Supervisord]


def available(peers=PEERS):
    return [p for p in peers if shutil.which(p.binary) or os.path.exists(p.binary)]
