#!/usr/bin/env python3
# tests/conformance/hpy09.py: HPy 0.9.0's own tests, docs examples, proof of concept and porting example, run unmodified against unihpy.
"""HPy 0.9.0's conformance material, run against the installed unihpy.

The input is PyPI's ``hpy==0.9.0`` source distribution, downloaded once into a cache outside the work
tree and checked against its pinned sha256; nothing of it lives in this repository. Each run unpacks
it afresh under OUT and runs, unmodified:

  suite     its ``test/`` folder (pytest, every ABI it parametrizes), counted per ABI
  examples  its ``docs/examples/`` projects, installed with ``setup.py install`` as its Makefile does,
            then ``docs/examples/tests.py``
  porting   its ``docs/porting-example/steps``: the four setup scripts, then the step tests
  pof       its ``proof-of-concept/``: built in place and as a wheel, in the universal and CPython
            ABIs, then ``test_pof.py``
  requirements  projects that require the distribution ``hpy`` build against unihpy offline, with
            no HPy from PyPI: ``setup_requires=['hpy>=0.9.0rc1']`` (setup.py build_ext), a PEP 517
            project with ``hpy>=0.9`` in ``build-system.requires`` (pip, isolated build, from a wheel
            folder only), the same with ``--no-build-isolation --check-build-dependencies``
  hosts     the suite again in the universal and debug ABIs on every other CPython that
            devtools/hosts.py has created (3.13, 3.13t, 3.14, 3.14d, 3.15), modules compiled there by hpy.devel
            (a host not created is named with the reason and skipped)
  surface   every public name of its headers (macros, functions, types, enumerators), per ABI, must
            be declared by unihpy's installed headers too (surface.py, with libclang)

All of it runs in one fresh virtual environment, OUT/venv, holding the unihpy wheel, the ``hpy``
requirement alias wheel (python/hpy-alias: it makes ``setup_requires=['hpy']`` satisfied by
unihpy) and the test tools. The example builds run with ``PIP_NO_INDEX=1``: if anything asked for
PyPI's hpy, the build would fail instead of quietly testing HPy itself.

    python tests/conformance/hpy09.py --wheels build/wheels [--out build/conformance] [--parts suite,examples,...]

Prints passed/total per ABI and per part; exit status 0 only when every test passed.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

SDIST = "hpy-0.9.0.tar.gz"
SDIST_REQ = "hpy==0.9.0"
SDIST_SHA256 = "4545310f3a7f9ac249c0f19a80a9b05f46565afb62b7e9225b79493b7b6c70cc"
PARTS = ("surface", "requirements", "suite", "examples", "porting", "pof", "hosts")
# The ABI names the suite's hpy_abi fixture takes, in the order the summary prints them.
ABIS = ("cpython", "universal", "debug", "hybrid", "hybrid+debug", "trace", "nopy")
# test_distutils.py upgrades pip, wheel and setuptools from PyPI into a fresh virtual environment and
# pip-installs HPy's own source tree (the folder above test/) there: it needs the network and an HPy
# source tree, which this check has neither of by design.
SUITE_LEFT_OUT = {"test/hpy_devel/test_distutils.py":
                  "needs PyPI at test time and pip-installs HPy's own source tree (the folder above test/)"}
TEST_TOOLS = ["pytest", "pytest-xdist", "filelock", "wheel", "libclang"]


def cache_dir():
    if os.environ.get("UNIHPY_CACHE"):
        return Path(os.environ["UNIHPY_CACHE"])
    system = Path("/var/cache/unihpy")
    if os.access(system if system.exists() else system.parent, os.W_OK):
        return system
    return Path.home() / ".cache" / "unihpy"


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_sdist(log):
    """The sdist from the cache, downloaded first if absent; refuses one whose sha256 differs."""
    cache = cache_dir()
    path = cache / SDIST
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"conformance: downloading {SDIST_REQ} (sdist) into {cache}", flush=True)
        run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             SDIST_REQ, "-d", str(cache)], log)
    digest = sha256(path)
    if digest != SDIST_SHA256:
        sys.exit(f"conformance: {path} has sha256 {digest}, expected {SDIST_SHA256}; remove it to fetch again")
    return path


def run(cmd, log, cwd=None, env=None, check=True):
    """Runs cmd with its output appended to the log file; returns the exit status."""
    with open(log, "a") as f:
        f.write(f"\n$ (cd {cwd or os.getcwd()}) {' '.join(map(str, cmd))}\n")
        f.flush()
        proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT)
    if check and proc.returncode:
        sys.exit(f"conformance: `{' '.join(map(str, cmd))}` failed ({proc.returncode}); see {log}")
    return proc.returncode


def make_venv(out, wheels, log):
    """OUT/venv with unihpy and the hpy alias from the wheel folder, and the test tools from PyPI."""
    venv = out / "venv"
    run([sys.executable, "-m", "venv", venv], log)
    py = venv / "bin" / "python"
    found = sorted(str(w) for w in Path(wheels).glob("*.whl"))
    if not any(Path(w).name.startswith("unihpy-") for w in found) or \
       not any(Path(w).name.startswith("hpy-") for w in found):
        sys.exit(f"conformance: {wheels} needs the unihpy wheel and the hpy alias wheel (make wheels)")
    run([py, "-m", "pip", "install", "-q", "--find-links", wheels, "unihpy", "hpy"] + TEST_TOOLS, log)
    return py


def pytest_counts(junit):
    """{abi: [passed, total]} from a junit XML report; the ABI is the hpy_abi parameter of the id."""
    counts = {}
    failed = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        params = re.search(r"\[(.*)\]$", name)
        # The files of test/debug and test/trace fix their ABI without a parameter.
        folder = case.get("classname", "").split(".")
        abi = "debug" if "debug" in folder[:-1] else "trace" if "trace" in folder[:-1] else "nopy"
        if params:
            abi = next((p for p in params.group(1).split("-") if p in ABIS), abi)
        outcome = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        row = counts.setdefault(abi, [0, 0, 0])
        row[1] += 1
        if not outcome:
            row[0] += 1
        elif outcome[0] == "skipped":
            row[2] += 1
        else:
            failed.append(f"{case.get('classname')}::{name}")
    return counts, failed


def run_pytest(py, args, cwd, junit, log, env=None):
    run([py, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={junit}"] + args, log,
        cwd=cwd, env=env, check=False)
    if not junit.exists():
        sys.exit(f"conformance: pytest wrote no report in {cwd}; see {log}")
    return pytest_counts(junit)


def copy_suite(src, work):
    """test/ copied alone into work (the sdist's own hpy/ folder must not shadow the installed one),
    and the pytest arguments that leave out SUITE_LEFT_OUT."""
    shutil.copytree(src / "test", work / "test")
    return work, [f"--ignore={p}" for p in SUITE_LEFT_OUT]


def part_suite(src, py, out, log, jobs, wheels):
    work, ignore = copy_suite(src, out / "suite")
    return run_pytest(py, ["-n", str(jobs)] + ignore + ["test"], work, out / "suite.xml", log)


def offline_env():
    # Nothing may come from an index while HPy's projects build: their setup_requires=['hpy'] must be
    # met by what is installed (unihpy and its alias), never by a download of HPy itself.
    return dict(os.environ, PIP_NO_INDEX="1")


def part_examples(src, py, out, log, jobs, wheels):
    ex = src / "docs" / "examples"
    env = offline_env()
    # The projects and ABIs of HPy's `docs-examples-tests` target.
    for project, abi in [("simple-example", "universal"), ("mixed-example", None),
                         ("snippets", "universal"), ("quickstart", "universal"),
                         ("hpytype-example", "universal")]:
        abi_arg = [f"--hpy-abi={abi}"] if abi else []
        run([py, "setup.py"] + abi_arg + ["install"], log, cwd=ex / project, env=env)
    # tests.py imports the installed modules: run it from a folder without their sources.
    return run_pytest(py, [str(ex / "tests.py")], out, out / "examples.xml", log, env=env)


def part_porting(src, py, out, log, jobs, wheels):
    steps = src / "docs" / "porting-example" / "steps"
    env = offline_env()
    for script, abi in [("setup00.py", None), ("setup01.py", None), ("setup02.py", None),
                        ("setup03.py", "universal")]:
        abi_arg = [f"--hpy-abi={abi}"] if abi else []
        run([py, script] + abi_arg + ["build_ext", "-i"], log, cwd=steps, env=env)
    return run_pytest(py, ["."], steps, out / "porting.xml", log, env=env)


def part_pof(src, py, out, log, jobs, wheels):
    """The proof of concept per ABI, built in place and as an installed wheel, as its test script does."""
    env = offline_env()
    counts, failed = {}, []
    for abi in ("universal", "cpython"):
        for how in ("build_ext_inplace", "wheel"):
            work = out / f"pof-{abi}-{how}"
            shutil.copytree(src / "proof-of-concept", work)
            if how == "build_ext_inplace":
                run([py, "setup.py", f"--hpy-abi={abi}", "build_ext", "--inplace"], log, cwd=work, env=env)
                cwd = work
            else:
                run([py, "setup.py", f"--hpy-abi={abi}", "bdist_wheel"], log, cwd=work, env=env)
                wheel = next((work / "dist").glob("*.whl"))
                run([py, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", wheel], log, env=env)
                cwd = out / f"pof-{abi}-tests"
                cwd.mkdir()
                shutil.copy(work / "test_pof.py", cwd)
            part_counts, part_failed = run_pytest(py, ["test_pof.py"], cwd, out / f"pof-{abi}-{how}.xml",
                                                  log, env=env)
            if how == "wheel":
                run([py, "-m", "pip", "uninstall", "-q", "-y", "hpy-pof"], log, env=env)
            row = counts.setdefault(abi, [0, 0, 0])
            for got in part_counts.values():
                row[0] += got[0]
                row[1] += got[1]
                row[2] += got[2]
            failed += [f"{abi}/{how}: {name}" for name in part_failed]
    return counts, failed


REQ_MODULE = r"""
#include <hpy.h>
HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
static HPy answer_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 42); }
static HPyDef *defines[] = { &answer, NULL };
static HPyModuleDef moduledef = { .doc = "requires hpy", .defines = defines };
HPy_MODINIT(reqmod, moduledef)
"""
REQ_SETUP = """
from setuptools import setup, Extension
setup(name="reqproj", version="1.0", hpy_ext_modules=[Extension("reqmod", sources=["reqmod.c"])],
      {extra})
"""
REQ_PYPROJECT = """
[build-system]
requires = ["setuptools", "wheel", "hpy>=0.9"]
build-backend = "setuptools.build_meta"
[project]
name = "reqproj"
version = "1.0"
dependencies = ["hpy>=0.9"]
"""


def part_requirements(src, py, out, log, jobs, wheels):
    """Three ways a project asks for the distribution hpy; each must find unihpy's alias and build."""
    folder = out / "requirements-wheels"
    # The isolated build installs its build requirements from this folder alone: unihpy and its alias,
    # and setuptools and wheel (fetched now; the build itself runs with --no-index).
    folder.mkdir()
    for whl in wheels.glob("*.whl"):
        shutil.copy(whl, folder)
    run([py, "-m", "pip", "download", "-q", "-d", folder, "setuptools", "wheel"], log)
    env = offline_env()
    check_import = [py, "-c", "import reqmod, importlib.metadata as m; assert reqmod.answer() == 42; "
                    "v = m.version('hpy'); assert '+unihpy' in v, v; print('hpy', v)"]
    results = {}

    def project(name, setup_extra, pyproject):
        work = out / f"req-{name}"
        work.mkdir()
        (work / "reqmod.c").write_text(REQ_MODULE)
        (work / "setup.py").write_text(REQ_SETUP.format(extra=setup_extra))
        if pyproject:
            (work / "pyproject.toml").write_text(REQ_PYPROJECT)
        return work

    work = project("setup_requires", "setup_requires=['hpy>=0.9.0rc1']", False)
    ok = run([py, "setup.py", "--hpy-abi=universal", "build_ext", "--inplace"], log, cwd=work, env=env,
             check=False) == 0
    # setuptools puts what it had to fetch for setup_requires into .eggs: nothing may be there.
    ok = ok and not list(work.glob(".eggs/hpy*"))
    results["setup_requires"] = ok and run(check_import, log, cwd=work, env=env, check=False) == 0

    for name, flags in [("pep517-isolated", ["--find-links", folder]),
                        ("pep517-no-isolation", ["--no-build-isolation", "--check-build-dependencies"])]:
        work = project(name, "", True)
        ok = run([py, "-m", "pip", "install", "-q", "--no-index", *flags, "."],
                 log, cwd=work, env=env, check=False) == 0
        here = out / f"req-{name}-run"
        here.mkdir()
        results[name] = ok and run(check_import, log, cwd=here, env=env, check=False) == 0
        run([py, "-m", "pip", "uninstall", "-q", "-y", "reqproj"], log, env=env, check=False)
    passed = sum(results.values())
    return {"nopy": [passed, len(results), 0]}, [name for name, ok in results.items() if not ok]


ROOT = Path(__file__).resolve().parents[2]


def other_cpythons():
    """The CPython hosts of devtools/hosts.py besides this one: (name, why missing or None, free-threaded)."""
    sys.path.insert(0, str(ROOT / "devtools"))
    import hosts
    return [(h.name, hosts.host_missing(h), h.free_threaded) for h in hosts.other_cpythons()]


def part_hosts(src, py, out, log, jobs, wheels):
    """The suite's universal and debug tests on each other CPython (two hosts at a time)."""
    import concurrent.futures
    work, ignore = copy_suite(src, out / "hosts-suite")
    counts, failed = {}, []

    def one(name, free_threaded):
        junit = out / f"hosts-{name}.xml"
        host_log = out / f"hosts-{name}.log"
        # HPy 0.9's modules predate HPy_MOD_GIL: on a free-threaded CPython each would turn the GIL on,
        # with CPython's warning in the stderr some tests compare. PYTHON_GIL=0 keeps it off, as it does
        # for any extension module: the suite then runs without the GIL, the harder case for the host.
        env = dict(os.environ, PYTHON_GIL="0") if free_threaded else None
        run([sys.executable, ROOT / "devtools" / "hosts.py", "run", name, "--", "python", "-m", "pytest",
             "-p", "no:cacheprovider", "-q", f"--junitxml={junit}", "-k", "(universal or debug) and not hybrid"]
            + ignore + [work / "test"], host_log, cwd=work, env=env, check=False)
        if not junit.exists():
            # The interpreter died: that is one failed run, with what it printed last.
            last = host_log.read_text(errors="replace").strip().splitlines()[-3:]
            return name, {"crashed": [0, 1, 0]}, [f"{name}: the run died; last output: {' | '.join(last)}"]
        return (name,) + pytest_counts(junit)

    available = []
    for name, why, free_threaded in other_cpythons():
        if why:
            print(f"    {name}: skipped: {why}")
        else:
            available.append((name, free_threaded))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for name, host_counts, host_failed in pool.map(lambda a: one(*a), available):
            for abi, row in host_counts.items():
                counts[f"{name} {abi}"] = row
            failed += [f"{name}: {t}" for t in host_failed]
    return counts, failed


def part_surface(src, py, out, log, jobs, wheels):
    """One test per ABI (and per header users include by name): passed when no name is missing."""
    script = Path(__file__).with_name("surface.py")
    proc = subprocess.run([py, script, "--hpy09-include", src / "hpy" / "devel" / "include"],
                          capture_output=True, text=True)
    with open(log, "a") as f:
        f.write(proc.stdout + proc.stderr)
    counts, failed = {}, []
    for line in proc.stdout.splitlines():
        check = re.match(r"surface: (\w+) ABI(?:, \S+)?: (?:.*: (\d+) missing|present)", line)
        lost_header = line.startswith("surface: header ")
        if not check and not lost_header:
            continue
        row = counts.setdefault(check.group(1) if check else "nopy", [0, 0, 0])
        row[1] += 1
        if check and check.group(2) in (None, "0"):
            row[0] += 1
        else:
            failed.append(line)
    failed += [line.strip() for line in proc.stdout.splitlines() if line.startswith("    missing")]
    if proc.returncode and not failed:
        failed.append(f"surface.py failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return counts, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheels", required=True, help="folder with the unihpy and hpy alias wheels")
    ap.add_argument("--out", default="build/conformance")
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--jobs", type=int, default=2, help="pytest-xdist workers for the suite")
    args = ap.parse_args()
    parts = args.parts.split(",")
    for p in parts:
        if p not in PARTS:
            ap.error(f"unknown part {p!r}; parts: {', '.join(PARTS)}")

    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    log = out / "log.txt"
    print(f"conformance: HPy 0.9.0 suite against unihpy; commands and output in {log}", flush=True)
    sdist = fetch_sdist(log)
    with tarfile.open(sdist) as tar:
        tar.extractall(out / "sdist", filter="data")
    src = out / "sdist" / "hpy-0.9.0"
    start = time.monotonic()
    wheels = Path(args.wheels).resolve()
    py = make_venv(out, wheels, log)
    print(f"conformance: virtual environment ready in {time.monotonic() - start:.0f} s", flush=True)

    ok = True
    for part in parts:
        start = time.monotonic()
        counts, failed = globals()[f"part_{part}"](src, py, out, log, args.jobs, wheels)
        passed = sum(c[0] for c in counts.values())
        total = sum(c[1] for c in counts.values())
        skipped = sum(c[2] for c in counts.values())
        # In the suite a skip is not a pass: 100 % means every collected test ran and passed. The
        # porting example skips its leak check by design in the steps that are not universal yet.
        ok &= total > 0 and passed + (skipped if part == "porting" else 0) == total
        print(f"conformance: {part}: {passed} passed of {total}"
              + (f" ({skipped} skipped)" if skipped else "")
              + f" in {time.monotonic() - start:.0f} s", flush=True)
        order = ABIS + ("crashed",)
        for key in sorted(counts, key=lambda k: (k.rpartition(" ")[0], order.index(k.rpartition(" ")[2]))):
            print(f"    {key:<26} {counts[key][0]:>5} / {counts[key][1]}")
        for name in failed[:40]:
            print(f"    FAILED {name}")
        if len(failed) > 40:
            print(f"    ... and {len(failed) - 40} more (see {out}/{part}*.xml)")
        if part == "suite":
            for path, why in SUITE_LEFT_OUT.items():
                print(f"    left out: {path}: {why}")
    print("conformance: " + ("all passed" if ok else "FAILED"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
