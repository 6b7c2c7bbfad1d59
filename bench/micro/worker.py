"""bench/micro/worker.py: runs the microbenchmark cases for one route, inside that route's interpreter.

    python worker.py ROUTE_JSON callgrind N1 N2 CASE...   (under valgrind: dumps counts per window)
    python worker.py ROUTE_JSON serve                     (reads "CASE<TAB>N" lines, prints ns)

ROUTE_JSON says how to load the module: {"kind": "ext", "name": ..., "path": ...} (a CPython
extension) or {"kind": "hpy", "name": ..., "path": ..., "mode": "MODE_UNIVERSAL"|...} (a universal
module through hpy.universal.load), plus "cgmark": the path of the callgrind marker extension.
The first line printed is {"ok": true} or {"unavailable": reason}. Standard library only.
"""
import gc
import importlib.machinery
import importlib.util
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES  # noqa: E402

CASE_BY_NAME = dict((c[0], c) for c in CASES)


def load_extension(name, path):
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def load_route(route):
    if route["kind"] == "ext":
        return load_extension(route["name"], route["path"])
    try:
        import hpy.universal as universal
    except ImportError:  # PyPy's built-in host
        import _hpy_universal as universal
    # None where the interpreter does not know the .hpy0.so suffix (unihpy's host over cpyext).
    spec = importlib.util.spec_from_file_location(route["name"], route["path"]) or \
        importlib.machinery.ModuleSpec(route["name"], None, origin=route["path"])
    mode = route.get("mode", "MODE_UNIVERSAL")
    if mode == "MODE_UNIVERSAL":
        return universal.load(route["name"], route["path"], spec)
    if not hasattr(universal, mode):
        raise ImportError("this host has no hpy.universal.%s" % mode)
    return universal.load(route["name"], route["path"], spec, mode=getattr(universal, mode))


def python_function(x):
    return x


class Bindings:
    """The objects a case statement uses; `kept` is emptied after each run."""

    def __init__(self, module):
        self.kept = []
        self.values = {"m": module, "p": module.Point(), "s": module.Seq(), "mp": module.Map(),
                       "keep": self.kept.append, "g": python_function, "ln": len}

    def runner(self, case):
        name, group, stmt, fn = case
        names = sorted(self.values)
        src = "def run(n, fn, %s):\n    for _ in range(n):\n        %s\n" % (", ".join(names), stmt)
        namespace = {}
        exec(compile(src, "<case %s>" % name, "exec"), namespace)
        run = namespace["run"]
        fn_value = eval(fn, {}, dict(self.values)) if fn else None
        args = [self.values[k] for k in names]

        return lambda n: run(n, fn_value, *args)

    def clear(self):
        del self.kept[:]


def main():
    route = json.loads(sys.argv[1])
    command = sys.argv[2]
    try:
        module = load_route(route)
        bindings = Bindings(module)
        runners = dict((c[0], bindings.runner(c)) for c in CASES)
        for run in runners.values():  # check every case once, and let the interpreter specialise
            run(50)
            bindings.clear()
    except Exception as e:  # any failure to load or run makes the route unavailable, with why
        print(json.dumps({"unavailable": "%s: %s" % (type(e).__name__, e)}))
        return 0
    info = {"ok": True, "python": "%s %s" % (platform.python_implementation(), platform.python_version())}
    universal = sys.modules.get("hpy.universal") or sys.modules.get("_hpy_universal")
    if universal is not None and hasattr(universal, "get_version"):
        info["hpy"] = str(universal.get_version())
    print(json.dumps(info))
    sys.stdout.flush()
    gc.disable()  # collections would land in arbitrary windows; every route allocates the same
    if command == "callgrind":
        cgmark = load_extension("cgmark", route["cgmark"])
        n1, n2 = int(sys.argv[3]), int(sys.argv[4])
        for name in sys.argv[5:]:
            run = runners[name]
            run(200)
            bindings.clear()
            for n in (n1, n2):
                cgmark.dump("skip")
                run(n)
                cgmark.dump("case=%s|n=%d" % (name, n))
                bindings.clear()
        cgmark.dump("skip")
        return 0
    # serve: one measurement per request, thread CPU time of the loop
    clock = getattr(time, "thread_time_ns", None) or time.perf_counter_ns
    for line in sys.stdin:
        name, n = line.rstrip("\n").split("\t")
        run = runners[name]
        t0 = clock()
        run(int(n))
        t1 = clock()
        bindings.clear()
        print(t1 - t0)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
