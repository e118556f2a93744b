#!/usr/bin/env python3
"""Log throughput: a service writes 100-byte lines as fast as it can for a few
seconds into its log file. sysg without timestamps, with timestamps, and with 10
secrets configured (one appears every 10 lines), beside supervisord (raw bytes) and
s6-log (raw, and with T timestamps) in the same run. Reports MB/s persisted and the
logger's CPU share."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import lib

SECS = float(os.environ.get("BENCH_LOG_SECS", "3"))
SECRETS = [f"s3cr3t-value-{i:02d}-xyzzy" for i in range(10)]


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs
               if os.path.isfile(os.path.join(r, f)))


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def run(argv, env, wait_done, logger_pids, logdir):
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        time.sleep(0.3)
        pids = logger_pids(proc)
        c0, t0 = cpu_ticks(pids), time.monotonic()
        wait_done()
        took = time.monotonic() - t0
        cpu = (cpu_ticks(pids) - c0) / os.sysconf("SC_CLK_TCK") / took
        return dir_bytes(logdir) / SECS / 1e6, cpu
    finally:
        subprocess.run(["pkill", "-9", "-s", str(proc.pid)])
        proc.wait()


def sysg(variant):
    d = tempfile.mkdtemp(prefix="sysg-bench-logs-")
    run_dir = tempfile.mkdtemp(prefix="sysg-bench-", dir="/dev/shm")
    flood = [lib.tool("flood"), str(SECS)] + ([SECRETS[3]] if variant == "secrets" else [])
    svc = {"exec": flood, "logs": {"timestamps": variant != "raw", "max_bytes": "unlimited"}}
    if variant == "secrets":
        svc["secrets"] = {f"S{i}": {"value": v} for i, v in enumerate(SECRETS)}
    with open(os.path.join(d, "s.yaml"), "w") as f:
        json.dump({"version": "2", "services": {"flood": svc}}, f)
    env = dict(os.environ, SYSG_RUNTIME_DIR=run_dir, SYSG_STATE_DIR=d)
    logdir = os.path.join(d, "logs")
    marker = os.path.join(logdir, "flood.log")
    done = lambda: lib.wait(lambda: b"sysg: exited" in open(marker, "rb").read()[-200:], 60)
    try:
        return run([lib.SYSG, "--sys", "start", "-c", os.path.join(d, "s.yaml")], env, done,
                   lambda p: [p.pid], logdir)
    finally:
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)


def s6(timestamps):
    d = tempfile.mkdtemp(prefix="sysg-bench-s6log-")
    svc = os.path.join(d, "scan", "flood")
    os.makedirs(os.path.join(svc, "log"))
    logdir = os.path.join(d, "logdir")
    with open(os.path.join(svc, "run"), "w") as f:
        f.write(f"#!/bin/sh\nexec {lib.tool('flood')} {SECS}\n")
    with open(os.path.join(svc, "finish"), "w") as f:
        f.write(f"#!/bin/sh\ntouch {d}/done\ns6-svc -O {svc}\n")
    with open(os.path.join(svc, "log", "run"), "w") as f:
        f.write(f"#!/bin/sh\nexec s6-log -b n100 s100000000 {'T ' if timestamps else ''}{logdir}\n")
    for p in ("run", "finish", "log/run"):
        os.chmod(os.path.join(svc, p), 0o755)

    def logger(proc):
        return [p for p in lib.descendants(proc.pid) if lib.comm(p) == "s6-log"]
    try:
        return run(["s6-svscan", os.path.join(d, "scan")], dict(os.environ),
                   lambda: lib.wait(lambda: os.path.exists(f"{d}/done"), 60) or time.sleep(0.5),
                   logger, logdir)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def supervisord():
    d = tempfile.mkdtemp(prefix="sysg-bench-svd-")
    logdir = os.path.join(d, "out")
    os.makedirs(logdir)
    with open(os.path.join(d, "s.conf"), "w") as f:
        f.write(f"[supervisord]\nnodaemon=true\nlogfile={d}/svd.log\npidfile={d}/svd.pid\n"
                f"[program:flood]\ncommand={lib.tool('flood')} {SECS}\nautorestart=false\n"
                f"startsecs=0\nstdout_logfile={logdir}/flood.log\nstdout_logfile_maxbytes=0\n")
    done = lambda: lib.wait(lambda: b"exited: flood" in open(f"{d}/svd.log", "rb").read(), 60)
    try:
        return run(["supervisord", "-c", os.path.join(d, "s.conf")], dict(os.environ), done,
                   lambda p: [p.pid], logdir)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    lib.build_tools()
    rows = [("sysg, raw", lambda: sysg("raw")), ("sysg, timestamps", lambda: sysg("ts")),
            ("sysg, timestamps + 10 secrets", lambda: sysg("secrets"))]
    if shutil.which("supervisord"):
        rows.append(("supervisord, raw", supervisord))
    if shutil.which("s6-log"):
        rows += [("s6-log, raw", lambda: s6(False)), ("s6-log, timestamps (T)", lambda: s6(True))]
    print(f"| {SECS:g} s of 100-byte lines | MB/s persisted | logger CPU |")
    print("|---|---|---|")
    for name, fn in rows:
        mbs, cpu = fn()
        print(f"| {name} | {mbs:.0f} | {cpu * 100:.0f}% |")


if __name__ == "__main__":
    main()
