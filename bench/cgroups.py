#!/usr/bin/env python3
"""Stop time and survivors: 100 services that ignore SIGTERM and each forked 10
children (some into a new session), stop_timeout 1 s; sysg (kill_mode cgroup) versus
supervisord with stopasgroup/killasgroup. Target: zero survivors, gone within
stop_timeout + 100 ms."""
import json
import os
import signal
import subprocess
import sys
import time

import lib

N, KIDS = 100, 10


def script(mark):
    # every process ignores TERM (SIG_IGN is inherited); two children escape the
    # process group with setsid, as daemons do
    return ["sh", "-c", f"trap '' TERM; i=0; while [ $i -lt {KIDS - 2} ]; do sleep {mark} & "
            f"i=$((i+1)); done; setsid sleep {mark} & setsid sleep {mark} & exec sleep {mark}"]


class SysgStubborn(lib.Sysg):
    def setup(self):
        lines = ['version: "2"', "logs: {sink: none}", "services:"]
        for i in range(self.n):
            lines += [f"  s{i}:", "    exec: " + json.dumps(self.argv),
                      "    stop_timeout: 1s"]
        with open(os.path.join(self.dir, "sysg.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")


class SupervisordStubborn(lib.Supervisord):
    def setup(self):
        self.argv = ["sh", "-c", '"' + self.argv[2].replace('"', '\\"') + '"']
        super().setup()
        conf = os.path.join(self.dir, "supervisord.conf")
        text = open(conf).read().replace("killasgroup=true", "killasgroup=true\nstopwaitsecs=1")
        open(conf, "w").write(text)


def run(cls):
    mark = lib.marker()
    p = cls(N, script(mark), restart=False)
    try:
        p.start()
        lib.procwait(mark, N * (KIDS + 1), 60)
        time.sleep(1)
        t0 = time.monotonic()
        p.stop()
        try:
            took = lib.procwait(mark, 0, 30) - t0
        except subprocess.CalledProcessError:
            took = float("inf")
        survivors = subprocess.run(["pgrep", "-fc", f"sleep {mark}"], capture_output=True,
                                   text=True).stdout.strip()
        return took, int(survivors or 0)
    finally:
        subprocess.run(["pkill", "-9", "-f", f"sleep {mark}"])
        p.cleanup()


def main():
    lib.build_tools()
    print("| stop 100 stubborn services x 11 processes | time until all gone (s) | survivors |")
    print("|---|---|---|")
    for cls in (SysgStubborn, SupervisordStubborn):
        if not lib.available([cls]):
            continue
        took, survivors = run(cls)
        print(f"| {cls.name} | {took:.3f} | {survivors} |")


if __name__ == "__main__":
    main()
