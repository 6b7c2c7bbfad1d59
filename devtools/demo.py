#!/usr/bin/env python3
"""devtools/demo.py: builds the proof of concept ONCE as a universal module and runs that same file on
every interpreter the host manager has (devtools/hosts.py; `make demo`): one line per host."""
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POF = ROOT / "proof-of-concept"

# Run in each interpreter with the folder of universal files as argv[1]. With unihpy's host a plain
# `import` finds the .hpy0.so files (unihpy.pth installs the import hook: no stubs); an interpreter's
# own HPy host (PyPy 7.3.19) loads them through its hpy.universal.load, as HPy's stubs would.
PROBE = r"""
import hashlib, os, site, sys
gil = getattr(sys, "_is_gil_enabled", None)  # CPython 3.13+: False at start on a free-threaded build
gil_at_start = gil() if gil else None
for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):  # unihpy.pth: as in site-packages
    if entry and os.path.exists(os.path.join(entry, "unihpy.pth")):
        site.addsitedir(entry)
sys.path.insert(0, sys.argv[1])
if os.environ.get("UNIHPY_HPY_HOST") == "native":
    import importlib.util, hpy.universal
    def load(name, rel):
        path = os.path.join(sys.argv[1], rel)
        mod = hpy.universal.load(name, path, importlib.util.spec_from_file_location(name, path))
        sys.modules[name] = mod
        return mod
    pof, pofcpp = load("pof", "pof.hpy0.so"), load("pofcpp", "pofcpp.hpy0.so")
    import pofpackage
    foo = load("pofpackage.foo", "pofpackage/foo.hpy0.so")
else:
    import pof, pofcpp, pofpackage.foo as foo
p = pof.Point(3.0, 4.0)
assert pof.add_ints(2, 3) == 5 and pof.add_ints_kw(b=2, a=40) == 42 and p.norm == 5.0
assert pofcpp.add_ints(20, 22) == 42 and foo.__name__ == "pofpackage.foo"
seen = hashlib.sha256(open(os.path.join(sys.argv[1], "pof.hpy0.so"), "rb").read()).hexdigest()[:12]
gil_text = ""
if gil and gil_at_start is False:  # a free-threaded build: the modules declare HPy_MOD_GIL_NOT_USED
    gil_text = "  GIL: off" if not gil() else "  GIL: off at start, turned on by an import"
print("ok  %r  add_ints(2, 3)=%d  (pof.hpy0.so sha256 %s)%s" % (p, pof.add_ints(2, 3), seen, gil_text))
"""


def build_universal(dest):
    """Builds the proof of concept in `dest`; returns its universal files, their .py stubs removed."""
    shutil.copytree(POF, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("build", "__pycache__", "*.so", ".pytest_cache"))
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace", "--hpy-abi=universal"],
                   cwd=dest, check=True, stdout=subprocess.DEVNULL)
    built = sorted(p for p in dest.rglob("*.hpy0.so") if "build" not in p.relative_to(dest).parts)
    for so in built:  # prove that a plain import needs no stub
        so.with_name(so.name.split(".")[0] + ".py").unlink(missing_ok=True)
    return [str(p.relative_to(dest)) for p in built]


def main():
    sys.path.insert(0, str(ROOT / "devtools"))
    import hosts

    dest = hosts.BUILD / "demo"  # inside the work tree: the chroots see it at the same path
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    files = build_universal(dest)
    digest = {f: hashlib.sha256((dest / f).read_bytes()).hexdigest()[:12] for f in files}
    print("built once, universal ABI: " + ", ".join("%s (sha256 %s)" % (f, digest[f]) for f in files))
    row = "%-" + str(hosts.NAME_WIDTH) + "s %-34s %-8s %s"
    print(row % ("host", "interpreter", "HPy host", "pof result"))
    failures, missing = 0, []
    for host in hosts.HOSTS:
        why = hosts.host_missing(host)
        if why:
            missing.append("%s (%s)" % (host.name, why))
            continue
        hosts.build_host(host, announce=False)
        proc = hosts.run_on(host, ["python", "-c", PROBE, str(dest)], extra_env={"UNIHPY_HPY_HOST": host.hpy},
                            capture_output=True, text=True, cwd="/")
        same = all(hashlib.sha256((dest / f).read_bytes()).hexdigest()[:12] == digest[f] for f in files)
        result = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 and proc.stdout.strip() else None
        if result is None or not same:
            failures += 1
            result = "FAILED\n" + proc.stderr.strip()[-2000:]
        print(row % (host.name, hosts.host_facts(host)["version"], host.hpy, result))
    if missing:
        print("hosts not run (make hosts creates them): " + "; ".join(missing))
    return 1 if failures + wheel_route(hosts) else 0


def wheel_route(hosts):
    """The wheel route (docs/packaging.md): each example's universal wheel (setuptools, CMake, meson),
    built once, and unihpy's wheel for each host, installed by pip into a fresh venv there and imported.
    Returns the failures."""
    import wheelroute
    examples, digests, skipped, results = wheelroute.wheel_route_all(wheelroute.wheel_hosts(), jobs=2, full=False)
    print("the wheel route: one universal wheel per build system, pip-installed on each host with unihpy's "
          "wheel for it:")
    for system, wheel in examples.items():
        print("  %-10s %s (sha256 %s)" % (system, wheel.name, digests[system][:12]))
    row = "%-" + str(hosts.NAME_WIDTH) + "s %-32s" + " %-16s" * len(examples) + " %s"
    print(row % ("host", "unihpy's wheel", *examples, "HPy host"))
    for name, ok, fields, seconds, output in results:
        wheel = fields.get("unihpy", "-").split("-", 2)[-1][:-len(".whl")]  # its tags
        if ok:
            print(row % (name, wheel, *(fields[system] for system in examples), fields["HPy host"]))
        else:
            print(("%-" + str(hosts.NAME_WIDTH) + "s FAILED: %s\n%s") % (name, fields, output.strip()[-2000:]))
    if skipped:
        print("not run: " + "; ".join("%s (%s)" % s for s in skipped))
    return sum(not ok for _, ok, *_ in results)


if __name__ == "__main__":
    sys.exit(main())
