#!/usr/bin/env python3
"""devtools/demo.py: builds the proof of concept ONCE as a universal module and runs that same file on
every interpreter this machine has that unihpy's host supports (`make demo`)."""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POF = ROOT / "proof-of-concept"

# Run in each interpreter: a plain `import` of the universal files, no stubs, no hpy.universal import first.
PROBE = r"""
import site, sys
site.addsitedir(sys.argv[1])          # unihpy's site-packages: hpy and unihpy.pth (the import hook)
sys.path.insert(0, sys.argv[2])       # the folder with the universal .hpy0.so files
import pof, pofcpp, pofpackage.foo
p = pof.Point(3.0, 4.0)
assert pof.add_ints(2, 3) == 5 and pof.add_ints_kw(b=2, a=40) == 42 and p.norm == 5.0
assert pofcpp.add_ints(20, 22) == 42 and pofpackage.foo.__name__ == "pofpackage.foo"
print("%-26s %-8s %s  %r  add_ints(2, 3)=%d" % (sys.implementation.name + " " + sys.version.split()[0],
      "ok", pof.__file__.rsplit("/", 1)[1], p, pof.add_ints(2, 3)))
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


def interpreters():
    """CPython 3.11 builds here (the host's ABI is cp311; other versions come with the host manager)."""
    found = [sys.executable]
    for candidate in sorted(set(glob.glob("/usr/bin/python3.11") + glob.glob("/usr/local/bin/python3.11"))):
        if os.path.realpath(candidate) != os.path.realpath(sys.executable):
            found.append(candidate)
    return found


def main():
    site_packages = sysconfig.get_paths()["purelib"]
    with tempfile.TemporaryDirectory(prefix="unihpy-demo-") as tmp:
        dest = Path(tmp)
        files = build_universal(dest)
        print("built once, universal ABI:", ", ".join(files))
        print("%-26s %-8s %s" % ("interpreter", "result", "module file, Point, call"))
        failures = 0
        for exe in interpreters():
            proc = subprocess.run([exe, "-c", PROBE, site_packages, str(dest)], capture_output=True, text=True)
            if proc.returncode == 0:
                print(proc.stdout.strip())
            else:
                failures += 1
                print("%-26s FAILED\n%s" % (exe, proc.stderr.strip()))
        print("not run here yet: CPython 3.13/3.14 and PyPy (the host manager, issue 6)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
