"""debug/bench/ratios.py: debug/universal instruction ratios per bench case (callgrind), nothing else.

    .venv/bin/python debug/bench/ratios.py [CASE...]     (default: every case of bench/micro/cases.py)

Uses bench/'s module, worker and callgrind measurement (bench/run.py, docs/benchmarks.md) for the two
routes only, with the same iteration counts as `make bench` (the debug route a tenth of them).
"""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "micro"))
import build  # noqa: E402
import run  # noqa: E402
from cases import CASES  # noqa: E402


def main(argv):
    names = ["loop"] + [a for a in argv if a != "loop"] if argv else [c[0] for c in CASES]
    out = ROOT / "build" / "bench-debug"
    (out / "universal").mkdir(parents=True, exist_ok=True)
    micro = ROOT / "bench" / "micro"
    cg = build.compile_c([micro / "cgmark.c"], out / ("cgmark" + build.EXT_SUFFIX),
                         [build.sysconfig.get_paths()["include"]])
    so = build.hpy_build([micro / "hpymicro.c"], out / "universal" / "hpymicro.hpy0.so", "universal")
    spec = {"kind": "hpy", "name": "hpymicro", "path": str(so), "cgmark": str(cg)}
    n1, n2 = 5000, 25000
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, mode, scale in (("universal", "MODE_UNIVERSAL", 1), ("debug", "MODE_DEBUG", 10)):
            r = run.Route(key, key, sys.executable, dict(spec, mode=mode))
            res[key] = run.callgrind_route(r, names, n1 // scale, n2 // scale, tmp)
            if res[key] is None:
                print("%s: unavailable: %s" % (key, r.unavailable))
                return 1
    print("| case | universal | debug | debug/universal |")
    print("|---|---:|---:|---:|")
    worst = 0.0
    for name in names:
        if name == "loop":
            continue
        u, d = res["universal"][name], res["debug"][name]
        worst = max(worst, d / u)
        print("| %s | %.0f | %.0f | %.2fx |" % (name, u, d, d / u))
    print("worst: %.2fx (target <= 3x)" % worst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
