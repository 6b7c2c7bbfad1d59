"""bench/ffi_bench.py: fib(n) from one shared C library (libfib.so), called through every way Python
calls C, and in pure Python. Thread CPU time of 1,000,000 calls (interleaved repeats, median) and,
under callgrind, instructions per call (two iteration counts, the difference).

    python bench/ffi_bench.py callgrind ARTIFACTS_JSON N1 N2   (the worker run under valgrind)
"""
import ctypes
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
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "micro"))
import cgdump  # noqa: E402
from worker import load_extension  # noqa: E402

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


def functions(art):
    """{route: fib callable} and {route: why unavailable}."""
    fns, missing = {}, {}
    fns["capi"] = load_extension("fibcapi", art["fibcapi"]).fib
    fns["cpython"] = load_extension("fibhpy", art["fibhpy-cpython"]).fib
    import hpy.universal

    spec = importlib.util.spec_from_file_location("fibhpy_u", art["fibhpy-universal"])
    fns["universal"] = hpy.universal.load("fibhpy", art["fibhpy-universal"], spec).fib
    try:
        import cffi

        if art.get("fibcffi"):
            fns["cffi-api"] = load_extension("_fibcffi", art["fibcffi"]).lib.fib
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
            if proc.returncode == 0:
                result["instructions"] = cgdump.per_iteration(cgdump.read_dumps(tmp, "ffi="), keys, n1, n2)
    return result


def callgrind_main(art, n1, n2):
    fns, _ = functions(art)
    cgmark = load_extension("cgmark", art["cgmark"])
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
