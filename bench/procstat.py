#!/usr/bin/env python3
"""CPU time of a process, per thread name, from /proc (Linux) — where a server spends its time.

    procstat.py snap PID > before.json
    procstat.py diff before.json after.json REQUESTS [LABEL]  # CPU µs per request, by thread
                                  # (with LABEL: only "LABEL=total")
    procstat.py settle PID        # waits (max 120 s) until the process is idle; prints the wait
    procstat.py snap cmdline:TEXT  # every process whose command line contains TEXT, by pid

Thread names are grouped by their first word-ish prefix (tokio-runtime-w, sqlx-sqlite-wor, …).
"""
import json
import os
import sys
import time

TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def snap_matching(text):
    """CPU ticks of every process whose command line contains `text`, by pid (a PostgreSQL
    backend's command line names its database: `postgres: user db 127.0.0.1(port) idle`)."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/stat") as f:
                raw = f.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        out[f"pid {pid}"] = int(fields[11]) + int(fields[12])
    return out


def snap(pid):
    if pid.startswith("cmdline:"):
        return snap_matching(pid[len("cmdline:"):])
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                raw = f.read()
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        out[comm] = out.get(comm, 0) + ticks
    return out


def diff(before, after, requests, label=None):
    # a thread or process gone by `after` counts 0 (its time since `before` is lost)
    names = sorted(set(before) | set(after), key=lambda n: -(after.get(n, 0) - before.get(n, 0)))
    per = {n: (after.get(n, before.get(n, 0)) - before.get(n, 0)) * TICK_US / max(requests, 1) for n in names}
    total = sum(per.values())
    if label:
        return f"{label}={total:.0f}"
    parts = ", ".join(f"{n} {v:.0f}" for n, v in per.items() if v >= 0.5)
    return f"server_cpu_us_per_req={total:.0f} ({parts})"


def settle(pid):
    """Deferred work (the audit writer's backlog) belongs to the run that caused it."""
    start, quiet, last = time.monotonic(), 0, sum(snap(pid).values())
    while quiet < 2 and time.monotonic() - start < 120:
        time.sleep(0.5)
        now = sum(snap(pid).values())
        quiet = quiet + 1 if now - last <= 2 else 0  # <= 2 ticks (20 ms) per 0.5 s
        last = now
    return time.monotonic() - start


if __name__ == "__main__":
    if sys.argv[1] == "settle":
        print(f"{settle(sys.argv[2]):.1f}")
    elif sys.argv[1] == "snap":
        json.dump(snap(sys.argv[2]), sys.stdout)
    else:
        with open(sys.argv[2]) as b, open(sys.argv[3]) as a:
            print(diff(json.load(b), json.load(a), int(float(sys.argv[4])), (sys.argv[5:] or [None])[0]))
