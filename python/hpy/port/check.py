# python/hpy/port/check.py: `python -m hpy.port check`, builds a source with hpy.devel and runs tests on it.
"""Builds one extension source with setuptools' ``hpy_ext_modules`` (unihpy's hpy.devel) in a copy of
the package's folder, checks that the module imports from that build (not from an installed copy,
and not a pure-Python fallback), and runs a test command there, once per ABI: hybrid, and universal
when the source uses no C API any more; with ``--debug``, each also in debug mode, failing on any
handle left open at exit."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SETUP = """\
# written by python -m hpy.port check
from setuptools import Extension, setup
setup(name="hpy-port-check", packages=[], py_modules=[], package_dir={{"": {work!r}}}, hpy_ext_modules=[Extension({module!r}, sources={sources!r},
      include_dirs={includes!r}, define_macros={macros!r})])
"""

PROBE = """\
import importlib, sys
m = importlib.import_module(sys.argv[1])
print(getattr(m, "__file__", None) or "")
"""


def _run(cmd, cwd, env, log):
    log.append("$ " + " ".join(map(str, cmd)))
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    log.append(p.stdout + p.stderr)
    return p


def pure_hpy(source, includes=()):
    """Whether source uses no C API (the report finds nothing in the hybrid ABI's view of it)."""
    from .. import devel
    from . import frontend
    ext = frontend.parse(source, [f"-I{devel.get_include()}", "-DHPY_ABI_HYBRID"]
                         + [f"-I{i}" for i in includes])
    return not any(f.uses for f in ext.functions.values()) and not ext.file_scope


def check_one(source, module, root, at, abi, test, includes, work, debug=False, extra=(), defines=()):
    """Builds and tests in `work`; a dict of the outcome."""
    log = []
    if work.exists():
        shutil.rmtree(work)
    if root:
        shutil.copytree(root, work, ignore=shutil.ignore_patterns(".git", "build", "*.so", "__pycache__"))
    else:
        work.mkdir(parents=True)
    rel = Path(at) if at else Path(*module.split(".")).with_suffix(".c")
    (work / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, work / rel)
    incs = [str(Path(i).resolve()) for i in includes] + [str(Path(source).resolve().parent)]
    # Built from a folder of its own: setuptools would read the package's pyproject.toml and setup.cfg.
    bld = work.parent / (work.name + "-build")
    shutil.rmtree(bld, ignore_errors=True)
    bld.mkdir()
    (bld / "_hpy_port_setup.py").write_text(
        SETUP.format(module=module, work=str(work), includes=incs,
                     sources=[str(work / rel)] + [str(work / e) for e in extra],
                     macros=[tuple(d.split("=", 1)) if "=" in d else (d, None) for d in defines]))
    env = dict(os.environ)
    env.pop("HPY", None)
    env["PYTHONPATH"] = os.pathsep.join([str(work)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    out = {"abi": abi + (" (debug)" if debug else ""), "built": False, "imported": None, "tests": None}
    b = _run([sys.executable, "_hpy_port_setup.py", f"--hpy-abi={abi}", "build_ext", "--inplace"],
             bld, env, log)
    if b.returncode != 0:
        out["error"] = "build failed"
        out["log"] = "\n".join(log)
        return out
    out["built"] = True
    if debug:
        env["HPY"] = "debug"
        env["HPY_DEBUG_EXIT_REPORT"] = "1"
    probe = _run([sys.executable, "-c", PROBE, module], work, dict(env, HPY_LOG="1") if debug else env, log)
    origin = probe.stdout.strip().splitlines()[-1] if probe.returncode == 0 and probe.stdout.strip() else ""
    tag = {"hybrid": ".hpy0-", "universal": ".hpy0.", "cpython": ".cpython-"}[abi]
    if probe.returncode != 0 or tag not in origin or not Path(origin).resolve().is_relative_to(work.resolve()):
        out["error"] = f"{module} does not import from this build ({origin or 'import failed'})"
        out["log"] = "\n".join(log)
        return out
    if debug and "debug" not in probe.stdout:
        out["error"] = f"{module} was not loaded in debug mode (HPY_LOG says: {probe.stdout.strip()[:200]})"
        out["log"] = "\n".join(log)
        return out
    out["imported"] = origin
    if test:
        # `python` in the command is this interpreter, whose hpy.universal loads the build.
        test = [sys.executable if i == 0 and w in ("python", "python3") else w for i, w in enumerate(test)]
        t = _run(test, work, env, log)
        out["tests"] = "passed" if t.returncode == 0 else f"failed ({t.returncode})"
        if debug:
            # hpy.debug's exit report: "hpy.debug: N handle(s) still open at exit:"
            words = [line.split() for line in t.stderr.splitlines() if line.startswith("hpy.debug: ")
                     and line.rstrip().endswith("still open at exit:")]
            out["leaks"] = sum(int(w[1]) for w in words)
            if out["leaks"]:
                out["tests"] = f"{out['tests']}, {out['leaks']} handles leaked"
        out["test_tail"] = "\n".join((t.stdout + t.stderr).strip().splitlines()[-5:])
    out["log"] = "\n".join(log)
    return out


def main(args, test):
    source = Path(args.file)
    if not source.is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return 2
    if args.root and not Path(args.root).is_dir():
        print(f"error: --root {args.root}: no such folder", file=sys.stderr)
        return 2
    for rel in [args.at] + args.extra:
        if rel and (Path(rel).is_absolute() or ".." in Path(rel).parts):
            print(f"error: {rel}: --at and --extra are paths inside --root (relative, without ..)",
                  file=sys.stderr)
            return 2
    abis = [a.strip() for a in args.abi.split(",")]
    if "auto" in abis:
        try:
            pure = pure_hpy(str(source), args.include)
        except ImportError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        abis = ["hybrid"] + (["universal"] if pure else [])
    for a in abis:
        if a not in ("hybrid", "universal", "cpython"):
            print(f"error: unknown ABI {a!r}: hybrid, universal, cpython or auto", file=sys.stderr)
            return 2
    # Debug mode (HPY=debug) for every build the host loads: hybrid modules get a debug context too.
    runs = [(a, d) for a in abis for d in ((False, True) if args.debug and a != "cpython" else (False,))]
    results = []
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hpy-port-check-"))
    try:
        for abi, debug in runs:
            work = base / (abi + ("-debug" if debug else ""))
            r = check_one(str(source), args.module, args.root, args.at, abi, test, args.include, work, debug,
                          args.extra, args.define)
            results.append(r)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    ok = all(r["built"] and r["imported"] and r["tests"] in (None, "passed") and not r.get("leaks")
             for r in results)
    if args.json:
        print(json.dumps({"file": str(source), "module": args.module, "ok": ok, "runs": results}, indent=1))
    else:
        for r in results:
            state = ("build failed" if not r["built"] else r.get("error") or
                     f"built, imports from {r['imported']}, tests: {r['tests'] or 'none given'}")
            print(f"{args.module} [{r['abi']}]: {state}")
            if not ok and (r.get("error") or r["tests"] not in (None, "passed")):
                print(r.get("test_tail") or r["log"][-3000:])
    return 0 if ok else 1
