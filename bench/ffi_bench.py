"""bench/ffi_bench.py: fib(n) from one shared C library (libfib.so), called through every way Python
calls C, and in pure Python. Thread CPU time of 1,000,000 calls (interleaved repeats, median) and,
under callgrind, instructions per call (two iteration counts, the difference).

    python bench/ffi_bench.py callgrind ARTIFACTS_JSON N1 N2   (the worker run under valgrind)
"""
import ctypes
import importlib.machinery
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIB_N = 20
ROUTES = [
    ("capi", "C API extension"),
    ("cpython", "unihpy CPython ABI"),
    ("universal", "unihpy universal"),
    ("cffi-api", "cffi API mode"),
    ("cffi-abi", "cffi ABI mode"),
    ("ctypes", "ctypes"),
    ("python", "pure Python"),
]


def _load_ext(name, path):
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def functions(art):
    """{route: fib callable} and {route: why unavailable}."""
    fns, missing = {}, {}
    fns["capi"] = _load_ext("fibcapi", art["fibcapi"]).fib
    fns["cpython"] = _load_ext("fibhpy", art["fibhpy-cpython"]).fib
    import hpy.universal

    spec = importlib.util.spec_from_file_location("fibhpy_u", art["fibhpy-universal"])
    fns["universal"] = hpy.universal.load("fibhpy", art["fibhpy-universal"], spec).fib
    try:
        import cffi

        if art.get("fibcffi"):
            fns["cffi-api"] = _load_ext("_fibcffi", art["fibcffi"]).lib.fib
        else:
            missing["cffi-api"] = "the cffi API-mode module did not build"
        abi = cffi.FFI()
        abi.cdef("long fib(long n);")
        lib = abi.dlopen(art["libfib"])
        fns["cffi-abi"] = lib.fib
        fns["cffi-abi-lib"] = lib  # keep the library open
    except ImportError:
        missing["cffi-api"] = missing["cffi-abi"] = "cffi is not installed (pip install cffi)"
    cdll = ctypes.CDLL(art["libfib"])
    cdll.fib.argtypes = [ctypes.c_long]
    cdll.fib.restype = ctypes.c_long
    fns["ctypes"] = cdll.fib
    sys.path.insert(0, str(HERE / "ffi"))
    from fib_py import fib

    fns["python"] = fib
    for key, fn in list(fns.items()):
        if key in dict(ROUTES) and fn(FIB_N) != 6765:
            raise RuntimeError("fib(%d) through %s gave %r" % (FIB_N, key, fn(FIB_N)))
    return fns, missing


def loop(fn, n):
    arg = FIB_N
    for _ in range(n):
        fn(arg)


def run(art, quick=False, callgrind=False):
    fns, missing = functions(art)
    keys = [k for k, _ in ROUTES if k in fns]
    calls, repeats = (100000, 3) if quick else (1000000, 5)
    clock = time.thread_time_ns
    samples = {k: [] for k in keys}
    empty = []
    for _ in range(repeats):
        t0 = clock()
        loop(lambda n: None, calls)
        empty.append((clock() - t0) / calls)
        for k in keys:
            t0 = clock()
            loop(fns[k], calls)
            samples[k].append((clock() - t0) / calls)
    result = {"n": FIB_N, "calls": calls, "repeats": repeats, "labels": dict(ROUTES),
              "unavailable": missing, "cpu_ns": {k: statistics.median(v) for k, v in samples.items()},
              "loop_ns": statistics.median(empty), "instructions": {}}
    if callgrind:
        n1, n2 = (500, 1500) if quick else (2000, 10000)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.out" % tmp, sys.executable,
                   __file__, "callgrind", json.dumps(art), str(n1), str(n2)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"))
            counts = {}
            for f in Path(tmp).glob("cg.out*"):
                label = total = None
                for line in f.read_text(errors="replace").splitlines():
                    if line.startswith("desc: Trigger: Client Request: ffi="):
                        label = line.split("ffi=", 1)[1]
                    elif line.startswith("totals:") or line.startswith("summary:"):
                        total = int(line.split()[1])
                if label and total is not None:
                    k, n = label.rsplit("|n=", 1)
                    counts[(k, int(n))] = total
            if proc.returncode == 0:
                result["instructions"] = {k: (counts[(k, n2)] - counts[(k, n1)]) / (n2 - n1)
                                          for k in keys if (k, n2) in counts}
    return result


def callgrind_main(art, n1, n2):
    fns, _ = functions(art)
    cgmark = _load_ext("cgmark", art["cgmark"])
    for k, _ in ROUTES:
        if k not in fns:
            continue
        loop(fns[k], 200)
        for n in (n1, n2):
            cgmark.dump("skip")
            loop(fns[k], n)
            cgmark.dump("ffi=%s|n=%d" % (k, n))
    cgmark.dump("skip")


if __name__ == "__main__":
    if sys.argv[1] == "callgrind":
        callgrind_main(json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
