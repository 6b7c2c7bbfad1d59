"""bench/profile.py: where the instructions of one case go, per function, for some routes.

    python bench/profile.py [--routes capi,cpython,universal] [--n1 2000 --n2 6000] CASE...

Runs each route's worker under callgrind as bench/run.py does (two iteration counts, the difference
divided by the difference of iterations) and prints, per case, the instructions per iteration of
every function that costs at least 0.5 per iteration, side by side for the routes: what a route
pays more than the C API, function by function. Uses the artefacts of the last `bench/run.py`
build (build/bench); `callgrind_annotate` must be on PATH (it comes with valgrind).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build  # noqa: E402
import run as bench_run  # noqa: E402

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\*\s+)?(\S.*?)\s*$")


def functions(path):
    """{function: instructions} of one callgrind dump (inclusive of nothing: self cost)."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", "--auto=no", str(path)],
                         capture_output=True, text=True).stdout
    costs = {}
    started = False
    for line in out.splitlines():
        if "file:function" in line:
            started = True
            continue
        if not started:
            continue
        m = LINE.match(line)
        if m:
            name = m.group(2).split(":", 1)[-1].strip()
            name = re.sub(r"\s*\[.*\]$", "", name)
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def profile(route, cases, n1, n2):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.out" % tmp] + \
            bench_run.worker_argv(route, "callgrind", str(n1), str(n2), *cases)
        subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"))
        dumps = {}
        for f in Path(tmp).glob("cg.out*"):
            text = f.read_text(errors="replace")
            m = re.search(r"desc: Trigger: Client Request: case=(.*)\|n=(\d+)", text)
            if m:
                dumps[(m.group(1), int(m.group(2)))] = functions(f)
    result = {}
    for case in cases:
        a, b = dumps.get((case, n1), {}), dumps.get((case, n2), {})
        result[case] = {k: (b.get(k, 0) - a.get(k, 0)) / (n2 - n1) for k in set(a) | set(b)}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--routes", default="capi,cpython,universal")
    ap.add_argument("--n1", type=int, default=2000)
    ap.add_argument("--n2", type=int, default=6000)
    ap.add_argument("--build", default=str(HERE.parent / "build" / "bench"))
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()
    art = build.build_all(args.build)
    ns = argparse.Namespace(hpy09=str(HERE.parent / ".venv-hpy09" / "bin" / "python"), hosts=[])
    routes = {r.key: r for r in bench_run.micro_routes(art, ns)}
    keys = args.routes.split(",")
    cases = ["loop"] + args.cases
    data = {k: profile(routes[k], cases, args.n1, args.n2) for k in keys}
    for case in args.cases:
        print("== %s" % case)
        names = set()
        for k in keys:
            names |= {f for f, v in data[k][case].items() if abs(v - data[k]["loop"].get(f, 0)) >= 0.5}
        rows = []
        for f in names:
            vals = [data[k][case].get(f, 0) - data[k]["loop"].get(f, 0) for k in keys]
            rows.append((f, vals))
        rows.sort(key=lambda r: -max(abs(v) for v in r[1]))
        print("%-60s %s" % ("function", " ".join("%10s" % k for k in keys)))
        for f, vals in rows:
            print("%-60s %s" % (f[:60], " ".join("%10.1f" % v for v in vals)))
        print("%-60s %s" % ("TOTAL", " ".join("%10.1f" % (sum(data[k][case].values()) - sum(data[k]["loop"].values())) for k in keys)))
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
