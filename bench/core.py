#!/usr/bin/env python3
"""Supervisor core benchmarks (issue: the supervisor), sysg beside s6, runit, supervisord.

    bench/core.py [--quick]

Scenarios: cold start of N sleep services until all run (N = 1, 100, 1000) against a
posix_spawn floor; supervisor-side PSS at N = 1000; idle wakeups over 30 s with 100 services;
restarts per second of a service that exits at once (backoff 0 where configurable); stop time
for 100 services that die on SIGTERM. Prints a markdown table with ratios.
"""
import os
import subprocess
import sys
import time

import lib


def cold_start(cls, n):
    mark = lib.marker()
    p = cls(n, ["sleep", mark])
    try:
        p.start()
        t = lib.procwait(mark, n) - p.t0
        pss = lib.pss_kb(p.supervisor_pids())
        p.stop()
        lib.procwait(mark, 0)
        return t, pss
    finally:
        p.cleanup()


def idle_wakeups(cls, n, secs):
    mark = lib.marker()
    p = cls(n, ["sleep", mark])
    try:
        p.start()
        lib.procwait(mark, n)
        time.sleep(2)
        pids = p.supervisor_pids()
        c0 = lib.ctxt_switches(pids)
        time.sleep(secs)
        return (lib.ctxt_switches(pids) - c0) / secs
    finally:
        p.cleanup()


def restart_rate(cls, secs):
    counter = os.path.join(lib.tempfile.mkdtemp(prefix="sysg-bench-tick-"), "runs")
    p = cls(1, [lib.tool("tick"), counter])
    size = lambda: os.path.getsize(counter) if os.path.exists(counter) else 0
    try:
        p.start()
        time.sleep(1)
        c0 = size()
        time.sleep(secs)
        return (size() - c0) / secs
    finally:
        p.cleanup()


def stop_time(cls, n):
    mark = lib.marker()
    p = cls(n, ["sleep", mark])
    try:
        p.start()
        lib.procwait(mark, n)
        time.sleep(1)
        t0 = time.monotonic()
        p.stop()
        return lib.procwait(mark, 0) - t0
    finally:
        p.cleanup()


def floor(n):
    out = subprocess.run([lib.tool("floor_spawn"), str(n), lib.marker()], capture_output=True,
                         text=True, check=True).stdout
    return float(out)


def main():
    quick = "--quick" in sys.argv
    lib.build_tools()
    peers = lib.available()
    names = [p.name for p in peers]
    rows = []
    sizes = [1, 100] if quick else [1, 100, 1000]
    for n in sizes:
        f = floor(n)
        results = {p.name: cold_start(p, n) for p in peers}
        rows.append((f"cold start, N={n} (s)", {k: v[0] for k, v in results.items()}, f))
        if n == sizes[-1]:
            rows.append((f"supervisor PSS, N={n} (MB)",
                         {k: v[1] / 1024 for k, v in results.items()}, None))
    secs = 5 if quick else 30
    rows.append((f"idle wakeups/s, 100 services, {secs}s",
                 {p.name: idle_wakeups(p, 100, secs) for p in peers}, None))
    rows.append(("restarts/s, exits at once",
                 {p.name: restart_rate(p, 5) for p in peers}, None))
    rows.append(("stop time, 100 services (s)", {p.name: stop_time(p, 100) for p in peers}, None))

    print("| scenario | " + " | ".join(names) + " | floor | sysg vs floor / best peer |")
    print("|---|" + "---|" * (len(names) + 2))
    for label, vals, fl in rows:
        cells = [f"{vals[n]:.4g}" for n in names]
        others = [vals[n] for n in names if n != "sysg"]
        if fl:
            ratio = f"{vals['sysg'] / fl:.2f}x floor"
        elif "restarts" in label:
            ratio = f"{vals['sysg'] / max(others):.0f}x best peer" if others else ""
        elif others and min(others) > 0:
            ratio = f"{vals['sysg'] / min(others):.2f}x best peer"
        else:
            ratio = ""
        print(f"| {label} | " + " | ".join(cells) + f" | {fl:.4g} | {ratio} |" if fl else
              f"| {label} | " + " | ".join(cells) + f" | | {ratio} |")


if __name__ == "__main__":
    main()
