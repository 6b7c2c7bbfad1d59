#!/usr/bin/env python3
# devtools/steps.py: runs a long make job as steps a person can follow (`make demo`): one line per step.
"""Run make targets as the steps of a job, one progress line each, their raw output in a log file.

    steps.py --log build/logs/demo.log install hosts-if-root wheels -- demo-hosts demo-debug

The targets before `--` are set-up steps: their output (apt, debootstrap, compilers, pip) goes to
the log file only, and the terminal gets one line per step with its time, plus the progress lines
of unihpy's own tools (those starting with `hosts:`), indented. The targets after `--` print the
results (the tables): their output goes to the terminal and the log. When a step fails, its last
lines are printed with the log's path, and the job stops with its exit status.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

# What each set-up step does, in the words of the progress line (a target not named here shows its name).
STEP_TITLES = {
    "install": "unihpy built and installed into .venv (Debian packages and PyPI tools first)",
    "hosts-if-root": "the other interpreters: Debian chroots and source builds (first time: about 15 min)",
    "wheels": "unihpy's own wheel (make wheels)",
    "packaging-deps": "the example projects' build tools (meson-python, auditwheel; pkg-config)",
}
# Lines of a set-up step shown on the terminal too: the progress lines of unihpy's own tools.
PROGRESS_PREFIXES = ("hosts: ",)
TAIL_LINES = 40


def make(target, silent):
    return [os.environ.get("MAKE", "make"), "--no-print-directory"] + (["-s"] if silent else []) + [target]


def run_setup(target, number, total, log):
    title = STEP_TITLES.get(target, target)
    print("[%d/%d] %s ..." % (number, total, title), flush=True)
    log.write("\n===== %s: make %s\n" % (time.strftime("%H:%M:%S"), target))
    log.flush()
    start = time.monotonic()
    tail = []
    proc = subprocess.Popen(make(target, silent=False), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    for line in proc.stdout:
        log.write(line)
        tail = (tail + [line])[-TAIL_LINES:]
        if line.startswith(PROGRESS_PREFIXES):
            print("      " + line.rstrip(), flush=True)
    status = proc.wait()
    log.flush()
    seconds = time.monotonic() - start
    if status != 0:
        print("[%d/%d] FAILED after %.0f s (make %s, exit status %d); its last lines:" % (
            number, total, seconds, target, status))
        sys.stdout.write("".join("      | " + line for line in tail))
        return status
    print("[%d/%d] done in %.0f s" % (number, total, seconds), flush=True)
    return 0


def run_results(target, log):
    log.write("\n===== %s: make %s (results)\n" % (time.strftime("%H:%M:%S"), target))
    log.flush()
    # unihpy is installed by now: `make install` (every result target's prerequisite) skips its work
    proc = subprocess.Popen(make(target, silent=True), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace", env=dict(os.environ, UNIHPY_INSTALLED="1"))
    for line in proc.stdout:
        log.write(line)
        sys.stdout.write(line)
        sys.stdout.flush()
    return proc.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", required=True, type=Path, help="the file that gets every step's output")
    parser.add_argument("targets", nargs="*", help="set-up targets (then --, then the targets that print results)")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args, results = parser.parse_args(argv[:split]), argv[split + 1:]
    args.log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(args.log, "w", encoding="utf-8") as log:
        print("raw output of every step: %s" % args.log, flush=True)
        for number, target in enumerate(args.targets, 1):
            status = run_setup(target, number, len(args.targets), log)
            if status:
                print("the whole output: %s" % args.log)
                return status
        print(flush=True)
        for target in results:
            status = run_results(target, log)
            if status:
                print("make %s failed (exit status %d); the whole output: %s" % (target, status, args.log))
                return status
    print("\nall steps done in %.0f s; raw output: %s" % (time.monotonic() - start, args.log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
