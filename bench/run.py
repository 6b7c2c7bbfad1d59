"""bench/run.py: the benchmarks side by side, in one run; writes bench/results/*.md, *.json and *.png.

    python bench/run.py [--quick] [--out DIR] [--hpy09 PYTHON] [--host NAME=CMD[@ROOT]] ...

Run with the interpreter that has unihpy installed (`make bench` uses .venv). Every route runs in a
worker process of its own (bench/micro/worker.py), so hosts that cannot share a process (unihpy's and
HPy 0.9's `hpy.universal`, other interpreters) are measured side by side:
- instructions: each route's worker runs under `valgrind --tool=callgrind`; every case runs at two
  iteration counts and the difference of the counts, divided by the difference of the iterations,
  is the cost per iteration (start-up and warm-up cancel); the empty loop's cost is subtracted;
- thread CPU time: all workers stay up and the coordinator asks them in turn (interleaved repeats),
  the median per case, the empty loop's median subtracted.
A route that cannot load (a mode the host lacks, an absent interpreter) is reported "unavailable"
with the reason, and is measured automatically once it loads.
"""
import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "micro"))
import adapter  # noqa: E402
import build  # noqa: E402
import cgdump  # noqa: E402
import ffi_bench  # noqa: E402
import report  # noqa: E402
from cases import CASES, QUICK  # noqa: E402

WORKER = HERE / "micro" / "worker.py"
SLOW_ROUTES = ("debug", "trace")


class Route:
    """One way of running the operations: an interpreter and how it loads the module."""

    def __init__(self, key, label, python, spec, root=None, env=None):
        self.key, self.label, self.python, self.spec, self.root = key, label, python, spec, root
        self.env = env  # the worker's whole environment (devtools/hosts.py hosts), or None: inherited
        self.unavailable = None  # the reason, when it cannot run
        self.info = {}
        self.callgrind = root is None and key in ("capi", "cpython", "universal", "hpy09", "debug", "trace")

    def command(self):
        return list(self.python) if isinstance(self.python, (list, tuple)) else [self.python]


def micro_routes(art, args):
    py = sys.executable
    cg = art["cgmark"]
    universal = {"kind": "hpy", "name": "hpymicro", "path": art["hpymicro-universal"], "cgmark": cg}
    routes = [
        Route("capi", "C API", py, {"kind": "ext", "name": "capimicro", "path": art["capimicro"], "cgmark": cg}),
        Route("cpython", "unihpy CPython ABI", py,
              {"kind": "ext", "name": "hpymicro", "path": art["hpymicro-cpython"], "cgmark": cg}),
        Route("universal", "unihpy universal", py, dict(universal)),
        Route("hpy09", "HPy 0.9 host, same file", args.hpy09, dict(universal)),
        Route("debug", "unihpy debug mode", py, dict(universal, mode="MODE_DEBUG")),
        Route("trace", "unihpy trace mode", py, dict(universal, mode="MODE_TRACE")),
    ]
    if not Path(args.hpy09).exists():
        routes[3].unavailable = "no HPy 0.9 interpreter at %s (make hpy09-venv)" % args.hpy09
    for name, cmd, root in args.hosts:
        routes += host_routes(name, cmd, root, art)
    for host, system_root in getattr(args, "hpy_hosts_ready", []):
        routes += managed_host_routes(host, system_root, art)
    if not any(r.key.startswith("pypy") for r in routes):
        why = ("no PyPy host in this run (see hosts.md: `make bench` measures the BENCH_HOSTS of "
               "devtools/hosts.py, bench/run.py --hpy-host NAME)")
        for key, label in (("pypy-universal", "PyPy native HPy host"), ("pypy-cpyext", "PyPy cpyext")):
            r = Route(key, label, None, {})
            r.unavailable = why
            routes.append(r)
    return routes


def host_routes(name, cmd, root, art):
    """Another interpreter: the same universal file in its native HPy host, and the C-API module
    built for its C-API emulation. With ROOT (a chroot), the files are copied inside it."""
    python = cmd.split()
    universal = Route(name + "-universal", "%s native HPy host" % name, python,
                      {"kind": "hpy", "name": "hpymicro", "path": art["hpymicro-universal"]}, root)
    capi = Route(name + "-cpyext", "%s C API (emulated)" % name, python, {}, root)
    try:
        capi.spec = {"kind": "ext", "name": "capimicro", "path": build_capi_for(python, root, art)}
    except Exception as e:
        capi.unavailable = "cannot build the C-API module for %s: %s" % (name, e)
    return [universal, capi]


def managed_host_routes(host, system_root, art):
    """A host of devtools/hosts.py (its system mounted by the caller): the universal file in the
    HPy host it uses (its own, or unihpy's built for it), and capimicro.c built for its C API. The
    work tree is mounted at the same path inside a chroot, so the files need no copy."""
    import hosts as hosts_mod

    python = hosts_mod.host_command(host, ["python"])
    env = hosts_mod.host_env(host)
    which = "native HPy host" if host.hpy == "native" else "unihpy's host"
    universal = Route(host.name + "-universal", "%s, %s" % (host.name, which), python,
                      {"kind": "hpy", "name": "hpymicro", "path": art["hpymicro-universal"]}, env=env)
    capi = Route(host.name + "-cpyext", "%s, C API (cpyext)" % host.name, python, {}, env=env)
    try:
        capi.spec = {"kind": "ext", "name": "capimicro",
                     "path": build_capi_for(python, system_root, art, env=env, tag=host.name)}
    except Exception as e:
        capi.unavailable = "cannot build the C-API module for %s: %s" % (host.name, e)
    return [universal, capi]


def build_capi_for(python, root, art, env=None, tag=None):
    probe = ("import sysconfig; print(sysconfig.get_paths()['include']); "
             "print(sysconfig.get_config_var('EXT_SUFFIX') or '.so')")
    out = subprocess.run(python + ["-c", probe], capture_output=True, text=True, timeout=120, env=env)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "probe failed")
    include, suffix = out.stdout.split()
    include = str(Path(root) / include.lstrip("/")) if root else include
    dest = Path(art["capimicro"]).parent / "hosts" / (tag or python[-1].replace("/", "_"))
    dest.mkdir(parents=True, exist_ok=True)
    return str(build.compile_c([HERE / "micro" / "capimicro.c"], dest / ("capimicro" + suffix), [include]))


def visible_path(route, path, stage):
    """A path as the route's interpreter sees it: inside a chroot, a copy under /tmp/unihpy-bench."""
    if not route.root:
        return path
    rel = Path("tmp") / "unihpy-bench" / stage / Path(path).name
    target = Path(route.root) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target)
    return "/" + str(rel)


def worker_argv(route, *rest):
    spec = dict(route.spec)
    for k in ("path", "cgmark"):
        if k in spec:
            spec[k] = visible_path(route, spec[k], "lib")
    worker = str(WORKER)
    if route.root:
        worker = visible_path(route, str(WORKER), "py")
        visible_path(route, str(HERE / "micro" / "cases.py"), "py")
    return route.command() + [worker, json.dumps(spec)] + list(rest)


def first_line(route, line):
    try:
        msg = json.loads(line)
    except ValueError:
        msg = {"unavailable": "the worker failed: %s" % (line.strip() or "no output")}
    if "unavailable" in msg:
        route.unavailable = msg["unavailable"]
        return False
    route.info = msg
    return True


# ---- instructions (callgrind) ----

def callgrind_route(route, names, n1, n2, tmp):
    out = Path(tmp) / route.key
    out.mkdir()
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.out" % out] + \
        worker_argv(route, "callgrind", str(n1), str(n2), *names)
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if not first_line(route, (proc.stdout.splitlines() or [""])[0]):
        return None
    counts = cgdump.read_dumps(out, "case=")
    if proc.returncode != 0 or not counts:
        route.unavailable = "callgrind run failed: %s" % (proc.stderr.strip().splitlines()[-1:] or ["?"])[0]
        return None
    per_iter = cgdump.per_iteration(counts, names, n1, n2)
    loop = per_iter.get("loop", 0.0)
    return {c: v - loop for c, v in per_iter.items() if c != "loop"}


# ---- thread CPU time (interleaved) ----

class Server:
    def __init__(self, route):
        self.route = route
        self.proc = subprocess.Popen(worker_argv(route, "serve"), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=route.env)
        self.ok = first_line(route, self.proc.stdout.readline())

    def measure(self, case, n):
        self.proc.stdin.write("%s\t%d\n" % (case, n))
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline()) / n

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def time_routes(routes, names, n, repeats):
    servers = [Server(r) for r in routes if not r.unavailable and r.python is not None]
    servers = [s for s in servers if s.ok]
    samples = {(s.route.key, c): [] for s in servers for c in names}
    rng = random.Random(0)
    for _ in range(repeats):
        for case in names:
            rng.shuffle(servers)
            for s in servers:
                samples[(s.route.key, case)].append(s.measure(case, n))
    for s in servers:
        s.close()
    result = {}
    for s in servers:
        k = s.route.key
        loop = statistics.median(samples[(k, "loop")])
        result[k] = {c: statistics.median(samples[(k, c)]) - loop for c in names if c != "loop"}
    return result


def machine_info():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip() or "?"
    try:
        valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        valgrind = "absent"
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": "%s %s, %s, %d CPUs" % (platform.system(), platform.machine(), cpu, os.cpu_count() or 0),
            "kernel": platform.release(), "commit": commit, "valgrind": valgrind,
            "compiler": subprocess.run([os.environ.get("CC", "gcc"), "--version"], capture_output=True,
                                       text=True).stdout.splitlines()[0],
            "cflags": " ".join(build.CFLAGS)}


def parse_host(text):
    name, _, cmd = text.partition("=")
    cmd, _, root = cmd.partition("@")
    if not name or not cmd:
        raise argparse.ArgumentTypeError("expected NAME=CMD[@ROOT], got %r" % text)
    return name, cmd, root or None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer cases, iterations and repeats (CI smoke)")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--build", default=str(ROOT / "build" / "bench"))
    ap.add_argument("--hpy09", default=str(ROOT / ".venv-hpy09" / "bin" / "python"),
                    help="interpreter with PyPI's hpy==0.9.0")
    ap.add_argument("--host", dest="hosts", action="append", default=[], type=parse_host,
                    help="another interpreter: NAME=CMD[@CHROOT], e.g. pypy=pypy3@/var/cache/trixie")
    ap.add_argument("--hpy-host", dest="hpy_hosts", action="append", default=[],
                    help="a host of devtools/hosts.py, e.g. pypy-7.3.19 or pypy-8.0 (repeatable): its HPy "
                         "host and its C API, in its system (a chroot is mounted for the run)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--hosts-only", action="store_true",
                    help="only the other interpreters' routes (thread CPU time), written as hosts.{md,json}")
    args = ap.parse_args(argv)

    with contextlib.ExitStack() as stack:
        args.hpy_hosts_ready = enter_managed_hosts(args.hpy_hosts, stack)
        return run(args)


def enter_managed_hosts(names, stack):
    """[(host, system root)] of devtools/hosts.py, each built and its system mounted until `stack` closes."""
    if not names:
        return []
    sys.path.insert(0, str(ROOT / "devtools"))
    import hosts as hosts_mod

    ready, systems = [], {}
    for name in names:
        host = hosts_mod.HOST_BY_NAME.get(name)
        if host is None:
            raise SystemExit("bench: no host %r in devtools/hosts.py (%s)" % (name, ", ".join(hosts_mod.HOST_BY_NAME)))
        why = hosts_mod.host_missing(host)
        if why:
            print("bench: host %s is missing: %s" % (name, why), flush=True)
            continue
        try:  # before the system is mounted here: the build mounts it itself (and takes its lock)
            hosts_mod.build_host(host, announce=False)
        except SystemExit as e:  # hosts.py reports a failed build this way
            print("bench: cannot build unihpy's host for %s: %s" % (name, e), flush=True)
            continue
        ready.append((host, hosts_mod.SYSTEMS[host.system]))
    for host, system in ready:
        if system.name not in systems:  # one mount (and lock) per system, held for the whole run
            stack.enter_context(hosts_mod.mounted(system, extra=[hosts_mod.PYLIB]))
            systems[system.name] = system
    return [(host, system.root if system.chroot else None) for host, system in ready]


def run(args):
    art = build.build_all(args.build)
    names = [c[0] for c in CASES if not args.quick or c[0] in QUICK]
    n1, n2 = (300, 900) if args.quick else (5000, 25000)
    tn, repeats = (2000, 3) if args.quick else (20000, 15)

    routes = micro_routes(art, args)
    if args.hosts_only:
        for r in routes[:6]:  # this interpreter's routes: measured by the full run (micro.md)
            r.unavailable = r.unavailable or "not in this run (--hosts-only; see micro.md)"
    runnable = [r for r in routes if not r.unavailable and r.python is not None]
    instr = {}
    if args.no_callgrind or shutil.which("valgrind") is None:
        why = "--no-callgrind" if args.no_callgrind else "valgrind is not installed"
        print("instructions: skipped (%s)" % why)
    else:
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=2) as pool:
            # The debug and trace contexts are many times slower under valgrind: a tenth of the
            # iterations (still exact per iteration), and none in quick mode (CPU time only).
            jobs = {}
            for r in runnable:
                if not r.callgrind or (args.quick and r.key in SLOW_ROUTES):
                    continue
                scale = 10 if r.key in SLOW_ROUTES else 1
                jobs[r.key] = pool.submit(callgrind_route, r, names, n1 // scale, n2 // scale, tmp)
            for key, job in jobs.items():
                res = job.result()
                if res is not None:
                    instr[key] = res
                print("instructions: %s %s" % (key, "done" if res is not None else "unavailable"), flush=True)
    cpu = time_routes(routes, names, tn, repeats)
    print("thread CPU time: done", flush=True)
    # quick mode: fib by CPU time only (one valgrind run less)
    ffi = None
    if not args.hosts_only:
        ffi = ffi_bench.run(art, quick=args.quick,
                            callgrind=not (args.quick or args.no_callgrind) and shutil.which("valgrind") is not None)
        print("ffi: done", flush=True)

    data = {"machine": machine_info(), "quick": args.quick, "hosts_only": args.hosts_only, "cases": [c for c in CASES if c[0] in names],
            "iterations": {"callgrind": [n1, n2], "time": tn, "repeats": repeats},
            "routes": [{"key": r.key, "label": r.label, "unavailable": r.unavailable, "info": r.info}
                       for r in routes],
            "instructions": instr, "cpu_ns": cpu, "ffi": ffi}
    try:
        data["adapter"] = adapter.markdown(art["hpymicro-universal"])
    except (OSError, subprocess.CalledProcessError) as e:  # no objdump
        data["adapter"] = "not examined: %s\n" % e
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "hosts" if args.hosts_only else "micro-quick" if args.quick else "micro"
    (out / (stem + ".json")).write_text(json.dumps(data, indent=1) + "\n")
    md = report.markdown(data)
    (out / (stem + ".md")).write_text(md)
    png = report.chart(data, out / (stem + ".png"))
    print(md)
    print("wrote %s%s" % (out / (stem + ".md"), ", " + str(png) if png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
