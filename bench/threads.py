#!/usr/bin/env python3
"""bench/threads.py: one universal file, a CPU-bound function run from 1 and from 2 threads, on CPython
with the GIL and on free-threaded CPython (devtools/hosts.py), side by side in one run.

The same total work is done by one thread, then split between two; the speed-up is the ratio of the
two wall times (best of the repeats). With a GIL it stays near 1; without, two threads on two cores
approach 2. Writes bench/results/threads.{md,json}. Numbers are reported, never asserted.

    python bench/threads.py [--host NAME ...] [--rounds N] [--repeats R]
"""
import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "devtools"))
sys.path.insert(0, str(HERE))

import build  # noqa: E402  (bench/build.py)
import hosts as hosts_mod  # noqa: E402  (devtools/hosts.py)

DEFAULT_HOSTS = ["cpython-3.13", "cpython-3.13t"]

# Run inside each host: loads the file, checks the GIL, times work(total) on 1 thread and
# work(total / 2) on each of 2 threads (started together), best of the repeats; one JSON line.
WORKER = r"""
import importlib.util, json, sys, threading, time
import hpy.universal
path, rounds, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mod = hpy.universal.load("cpuwork", path, importlib.util.spec_from_file_location("cpuwork", path))
def timed(nthreads):
    barrier = threading.Barrier(nthreads + 1)
    def body():
        barrier.wait()
        mod.work(rounds // nthreads)
    threads = [threading.Thread(target=body) for _ in range(nthreads)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - start
mod.work(1000)  # warm up
one = min(timed(1) for _ in range(repeats))
two = min(timed(2) for _ in range(repeats))
gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
print(json.dumps({"one": one, "two": two, "gil": gil, "version": sys.version.split()[0]}))
"""


def measure(host, path, rounds, repeats):
    proc = hosts_mod.run_on(host, ["python", "-c", WORKER, str(path), str(rounds), str(repeats)],
                            capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(rows, rounds, out_dir):
    lines = ["# Threads: one universal file, 1 thread against 2",
             "",
             "`bench/threads.py`: `cpuwork.work(%d)` (a loop through the HPy API: allocation, arithmetic, "
             "closing) on one thread, then `work(%d)` on each of two threads started together; wall time, "
             "best of the repeats. The same `cpuwork.hpy0.so` everywhere (sha256 %s). Machine: %s, %d cores."
             % (rounds, rounds // 2, rows[0]["sha256"][:12] if rows else "-", platform.machine(),
                os.cpu_count() or 0),
             "",
             "| host | GIL | 1 thread (s) | 2 threads (s) | speed-up (1 thread / 2 threads) |",
             "|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append("| %s | - | - | - | not measured: %s |" % (r["host"], r["error"]))
        else:
            lines.append("| %s (%s) | %s | %.3f | %.3f | **%.2fx** |" % (
                r["host"], r["version"], "on" if r["gil"] else "off", r["one"], r["two"], r["one"] / r["two"]))
    text = "\n".join(lines) + "\n"
    (out_dir / "threads.md").write_text(text)
    (out_dir / "threads.json").write_text(json.dumps({"rounds": rounds, "hosts": rows}, indent=1) + "\n")
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", action="append", dest="hosts", help="a host of devtools/hosts.py (repeatable)")
    p.add_argument("--rounds", type=int, default=10_000_000, help="rounds of work in total per measurement")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="threads-", dir=ROOT / "build"))
    path = build.hpy_build([HERE / "threads" / "cpuwork.c"], work / "cpuwork.hpy0.so", "universal")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = []
    for name in args.hosts or DEFAULT_HOSTS:
        host = hosts_mod.HOST_BY_NAME.get(name)
        why = "no such host" if host is None else hosts_mod.host_missing(host)
        if why:
            rows.append({"host": name, "error": why})
            continue
        try:
            hosts_mod.build_host(host, announce=False)
            r = measure(host, path, args.rounds, args.repeats)
        except (Exception, SystemExit) as e:  # noqa: BLE001 - reported in the table
            rows.append({"host": name, "error": str(e)})
            continue
        r.update(host=name, sha256=sha)
        rows.append(r)
        print("threads: %-14s GIL %-3s 1 thread %.3f s, 2 threads %.3f s: %.2fx"
              % (name, "on" if r["gil"] else "off", r["one"], r["two"], r["one"] / r["two"]), flush=True)
    print(report(rows, args.rounds, out_dir), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
