"""debug/bench/movinggc.py: what the moving-GC checker costs (wall time, best of several runs).

    .venv/bin/python debug/bench/movinggc.py        (make bench-movinggc)

Builds debug/bench/movinggc.c once (universal ABI) and runs it, each configuration in a process of its
own: universal mode, debug mode, debug mode with the checker on. Prints nanoseconds per field (global)
store+load in a C loop, per field load, and the time of one gc.collect() with N live objects of two
fields each.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

WORKER = r"""
import gc, json, sys, time, importlib.util
import hpy.universal
mode, path, checker = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
spec = importlib.util.spec_from_file_location("mgcbench", path)
m = hpy.universal.load("mgcbench", path, spec, mode=getattr(hpy.universal, mode))
if checker:
    import hpy.debug
    hpy.debug.set_movinggc(True)
gc.disable()  # collections only where measured

def best(f, repeat=7):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)

out = {}
p = m.Pair()
n = 200000
value = object()
out["field store+load"] = best(lambda: p.store_load(value, n)) / n * 1e9
out["field load"] = best(lambda: p.load(n)) / n * 1e9
out["global store+load"] = best(lambda: m.global_store_load(value, n)) / n * 1e9
for count in (1000, 10000, 100000):
    objs = [m.Pair() for _ in range(count)]
    for o in objs:
        o.fill([])
    gc.collect()
    out["gc.collect, %d objects" % count] = best(gc.collect, 5) * 1e6
    del objs
    gc.collect()
print(json.dumps(out))
"""


def main():
    import build
    out = ROOT / "build" / "bench-movinggc"
    out.mkdir(parents=True, exist_ok=True)
    so = build.hpy_build([Path(__file__).with_name("movinggc.c")], out / "mgcbench.hpy0.so", "universal")
    configs = [("universal", "MODE_UNIVERSAL", "0"), ("debug", "MODE_DEBUG", "0"),
               ("debug + checker", "MODE_DEBUG", "1")]
    results = {}
    for name, mode, checker in configs:
        proc = subprocess.run([sys.executable, "-c", WORKER, mode, str(so), checker], capture_output=True,
                              text=True, check=True)
        results[name] = json.loads(proc.stdout)
    keys = list(results["universal"])
    print("| operation | " + " | ".join(n for n, _, _ in configs) + " | checker/debug |")
    print("|---|" + "---:|" * (len(configs) + 1))
    for k in keys:
        unit = "us" if k.startswith("gc") else "ns"
        row = [results[n][k] for n, _, _ in configs]
        print("| %s (%s) | %s | %.2fx |" % (k, unit, " | ".join("%.0f" % v for v in row), row[2] / row[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
