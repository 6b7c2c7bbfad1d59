#!/usr/bin/env python3
"""devtools/wheelroute.py: the wheel route, `hosts.py wheels` (docs/packaging.md).

One universal wheel of each example project (proof-of-concept/packaging/: setuptools, CMake, meson),
built once here, taken to every host of the host manager (hosts.py), where pip installs it into a
fresh venv of the host's interpreter with unihpy's wheel for that interpreter; the proof of concept's
tests run on the installed modules, a CPython-ABI wheel is offered and must be refused, and `pip
uninstall` must leave the venv as it was. `make demo` runs the same route in short (devtools/demo.py).
Standard library only.
"""

import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

from hosts import (BUILD, CACHE, HOSTS, NAME_WIDTH, PYLIB, ROOT, build_host, file_hash, log, pip_once, run,
                   run_on, runnable_hosts, selected_hosts, site_dir, summarize)


# The example projects, one per build system (setuptools, cmake, meson): each builds the proof of
# concept's modules into one universal wheel.
EXAMPLES = ROOT / "proof-of-concept" / "packaging"
BUILD_SYSTEMS = ("setuptools", "cmake", "meson")
WHEELS = BUILD / "wheels"  # the example's wheels and unihpy's, one per host (the chroots see it)
# pip runs on each host from its wheel file (`python pip-X.whl/pip ...`): no apt package, no
# ensurepip. setuptools is unihpy's requirement. The last versions that run on Python 3.9 (PyPy 7.3.11),
# downloaded once into the cache, copied into the work tree (the chroots see it) by each run.
PYPI_WHEELS = CACHE / "wheelhouse"
WHEELHOUSE = WHEELS / "pypi"
WHEELHOUSE_REQUIREMENTS = ["pip==25.2", "setuptools==80.9.0"]
PIP_OPTIONS = ["--disable-pip-version-check", "--no-cache-dir", "--no-input", "-q"]
PIP_INSTALL = ["install", "--no-compile", "--no-index"] + PIP_OPTIONS  # no .pyc: setuptools is large
REFUSED = re.compile(r"is not a supported wheel on this platform")

# The tag of a wheel built for the host, as the host's own pip sees it (argv[1]: pip's wheel): the
# interpreter and ABI of its most specific tag with sysconfig's plain platform (the wheels are not
# repaired into manylinux ones), checked to be a tag the interpreter accepts.
TAG_PROBE = (
    "import sys, sysconfig; sys.path.insert(0, sys.argv[1]); from pip._vendor.packaging import tags; "
    "best = next(tags.sys_tags()); "
    "tag = tags.Tag(best.interpreter, best.abi, sysconfig.get_platform().replace('-', '_').replace('.', '_')); "
    "assert tag in set(tags.sys_tags()), tag; print(tag)"
)
# Run in the venv: the example's modules come from its site-packages (their spec's origin: PyPy's own
# host sets __file__ to the module's name); prints which HPy host loaded them.
IMPORT_PROBE = (
    "import os, sysconfig, pof, pofcpp, pofpackage.foo, hpy.universal; "
    "site = sysconfig.get_paths()['platlib'] + os.sep; "
    "outside = [m.__spec__.origin for m in (pof, pofcpp, pofpackage.foo) if not m.__spec__.origin.startswith(site)]; "
    "assert not outside, outside; assert pof.add_ints(2, 3) == 5 and pofcpp.add_ints(20, 22) == 42; "
    "print(repr(pof.Point(3.0, 4.0)), 'unihpy' if hpy.universal.__file__.startswith(site) else "
    "'own (' + hpy.universal.__file__ + ')', sep=' | ')"
)


def build_example(build_system, dest, options=()):
    """One `pip wheel` of the example project of `build_system`, here, in .venv (unihpy and the build
    backends installed there: no build isolation); its ABI is the project's unless `options` name
    another. Returns the wheel, alone in `dest`."""
    shutil.rmtree(dest, ignore_errors=True)
    src = dest.with_name(dest.name + "-src")
    shutil.rmtree(src, ignore_errors=True)
    # the sources are symbolic links two folders up: copied as files
    shutil.copytree(EXAMPLES / build_system, src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    env = {key: value for key, value in os.environ.items() if key != "HPY_ABI"}
    run([str(ROOT / ".venv" / "bin" / "python"), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(dest)] + PIP_OPTIONS + list(options) + [str(src)], env=env, stdout=subprocess.DEVNULL)
    (wheel,) = dest.glob("*.whl")
    return wheel


def dist_name(wheel):
    """The distribution a wheel file holds (pof_example_cmake-0.1.0-... -> pof-example-cmake)."""
    return wheel.name.split("-")[0].replace("_", "-")


def unihpy_wheel(host, tag, dest):
    """unihpy's wheel for `host`, tagged `tag` (the host's own answer), written into `dest`.

    On this machine's CPython it is the PEP 517 build of `make wheels` (build/wheels). On the other
    hosts with unihpy's HPy host it is assembled from the host's build (build_host: the `hpy` package
    with hpy.universal compiled for that interpreter, and unihpy.pth), with a dist-info written from
    pyproject.toml. Where the interpreter's own HPy host loads modules (PyPy 7.3.19) unihpy stands
    aside: the wheel holds its dist-info alone, so a requirement on unihpy is met and the interpreter's
    `hpy` (its host and hpy.devel) stays the one imported."""
    import tomllib
    sys.path.insert(0, str(ROOT / "python" / "hpy-alias"))
    import make_wheel

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = "%s-%s-%s.whl" % (project["name"], project["version"], tag)
    if host.name == "cpython-3.11":
        built = ROOT / "build" / "wheels" / name
        if not built.exists():
            raise SystemExit("hosts: %s is not in build/wheels (make wheels builds it)" % name)
        shutil.copy2(built, dest / (name + ".part"))
        return os.replace(dest / (name + ".part"), dest / name) or dest / name
    dist_info = "%s-%s.dist-info" % (project["name"], project["version"])
    files = {}
    if host.hpy == "unihpy":
        build_host(host, announce=False)
        site = site_dir(host)
        for path in sorted(site.rglob("*")):
            rel = path.relative_to(site)
            if path.is_file() and not rel.parts[0].endswith(".dist-info") and "__pycache__" not in rel.parts:
                files[rel.as_posix()] = path.read_bytes()
        files[dist_info + "/entry_points.txt"] = "".join(
            "[%s]\n%s\n" % (group, "".join("%s = %s\n" % item for item in entries.items()))
            for group, entries in project["entry-points"].items()).encode()
    metadata = ["Metadata-Version: 2.1", "Name: " + project["name"], "Version: " + project["version"],
                "Summary: " + project["description"], "License: " + project["license"]["text"],
                "Requires-Python: " + project["requires-python"]]
    metadata += ["Requires-Dist: " + r for r in project["dependencies"]]
    if host.hpy != "unihpy":
        metadata += ["", "This interpreter has an HPy host of its own: unihpy stands aside (no files)."]
    files[dist_info + "/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[dist_info + "/WHEEL"] = make_wheel.wheel_file(tag, purelib=False).encode()
    make_wheel.write_wheel(dest / (name + ".part"), files)  # renamed once whole: other hosts' pip read dest
    os.replace(dest / (name + ".part"), dest / name)
    return dest / name


def tree(folder):
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def wheel_route(host, examples, refused, full):
    """The examples' wheels on `host`: unihpy's wheel made for it, a fresh venv, then for each example
    (`examples`: build system -> wheel) in turn `pip install --no-index` from the wheel folders, the
    modules imported from the venv (with `full`, test_pof.py run on them) and the example uninstalled;
    with `full`, the CPython-ABI wheel `refused` offered to pip (refused where its tag is not the
    host's); at the end `pip uninstall` leaves the venv as it was. Returns (host name, ok, fields,
    seconds, output)."""
    start = time.monotonic()
    work = BUILD / host.name / "wheels"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pip_wheel = str(next(WHEELHOUSE.glob("pip-*.whl"))) + "/pip"
    fields, output = {}, []

    def step(argv, **env):
        began = time.monotonic()
        proc = run_on(host, [str(a) for a in argv], extra_env=dict({"PYTHONPATH": None}, **env), cwd=str(work),
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output.append("$ %s [%.1f s]\n%s" % (" ".join(map(str, argv)), time.monotonic() - began, proc.stdout))
        return proc

    def done(ok):
        return host.name, ok, fields, time.monotonic() - start, "".join(output)

    probe = step(["python", "-c", TAG_PROBE, pip_wheel[:-len("/pip")]])
    if probe.returncode != 0:
        return done(False)
    tag = probe.stdout.split()[-1]
    fields["unihpy"] = unihpy_wheel(host, tag, WHEELS / "unihpy").name
    venv = work / "venv"
    python = venv / "bin" / "python"
    pip = [python, pip_wheel]
    if step(["python", "-m", "venv", "--without-pip", venv]).returncode != 0:
        return done(False)
    fresh = tree(venv)
    ok = True
    for build_system, example in examples.items():
        install = [*pip, *PIP_INSTALL, "--find-links", WHEELS / "unihpy", "--find-links", example.parent,
                   "--find-links", WHEELHOUSE, "unihpy", dist_name(example)]
        if step(install).returncode != 0:
            fields[build_system] = "install FAILED"
            return done(False)
        imported = step([python, "-c", IMPORT_PROBE])
        if imported.returncode != 0:
            fields[build_system] = "import FAILED"
            return done(False)
        # "Point(3.0, 4.0) | unihpy": an object of the example and the HPy host that loaded its modules
        fields[build_system], fields["HPy host"] = imported.stdout.strip().splitlines()[-1].split(" | ", 1)
        if full:
            test = step([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         ROOT / "proof-of-concept" / "test_pof.py", "--pof-installed"], PYTHONPATH=str(PYLIB),
                        # modules built here and used there: the host's known differences apply (host_differences.py)
                        UNIHPY_E2E_MODULES="use:" + str(example.parent))
            fields[build_system] = summarize(test.stdout, test.returncode)
            ok = ok and test.returncode == 0
        if step([*pip, "uninstall", *PIP_OPTIONS, "-y", dist_name(example)]).returncode != 0:
            fields[build_system] += "; uninstall FAILED"
            ok = False
    if not full:
        return done(ok)
    if not refused.name.endswith("-%s.whl" % tag):
        offered = step([*pip, *PIP_INSTALL, "--no-deps", refused])
        fields[refused.name.split("-")[-3] + " wheel"] = "refused" if REFUSED.search(offered.stdout) else "NOT REFUSED"
        ok = ok and offered.returncode != 0 and bool(REFUSED.search(offered.stdout))
    removed = step([*pip, "uninstall", *PIP_OPTIONS, "-y", "unihpy", "setuptools"])
    left = sorted(tree(venv) - fresh)
    fields["uninstall"] = "clean" if removed.returncode == 0 and not left else "LEFT %s" % ", ".join(left[:5])
    return done(ok and fields["uninstall"] == "clean")


def wheel_hosts():
    """The hosts the wheel route runs on: all but the sanitizer builds (their own suites only) and
    those whose `wheels` is off (HPy 0.9.0's venv)."""
    return [h for h in HOSTS if h.wheels and not h.sanitizer]


def wheel_route_all(hosts, jobs, full):
    """The examples' universal wheels (and, with `full`, the setuptools example's CPython-ABI wheel)
    built once here, then wheel_route on each host that can run, `jobs` at a time. Returns (examples:
    build system -> wheel, their sha256, skipped, results in the order of `hosts`)."""
    pip_once(PYPI_WHEELS, WHEELHOUSE_REQUIREMENTS, ["download", "--no-deps", "-d"])
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    shutil.copytree(PYPI_WHEELS, WHEELHOUSE)
    shutil.rmtree(WHEELS / "unihpy", ignore_errors=True)
    (WHEELS / "unihpy").mkdir(parents=True)
    examples = {system: build_example(system, WHEELS / ("example-" + system)) for system in BUILD_SYSTEMS}
    refused = build_example("setuptools", WHEELS / "example-cpython",
                            ["-C--global-option=--hpy-abi=cpython"]) if full else None
    digests = {system: file_hash(wheel) for system, wheel in examples.items()}
    runnable, skipped = runnable_hosts(hosts)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda h: wheel_route(h, examples, refused, full), runnable))
    changed = [wheel.name for system, wheel in examples.items() if file_hash(wheel) != digests[system]]
    if changed:
        raise SystemExit("hosts: %s changed while the hosts installed them" % ", ".join(changed))
    return examples, digests, skipped, results


def cmd_wheels(args):
    """The wheel route on every host (docs/packaging.md): one universal wheel of each example (setuptools,
    CMake, meson), the same files everywhere, installed by pip with unihpy's wheel for that host,
    tested, uninstalled."""
    start = time.monotonic()
    hosts = selected_hosts(args.host) if args.host else wheel_hosts()
    examples, digests, skipped, results = wheel_route_all(hosts, args.jobs, full=True)
    for system, wheel in examples.items():
        log("built once here with %s: %s (sha256 %s)" % (system, wheel.name, digests[system]))
    for name, ok, fields, seconds, output in results:
        print(output if not ok or args.verbose else "", end="")
        log("%-*s %s [%.0f s]" % (NAME_WIDTH, name, "; ".join("%s: %s" % kv for kv in fields.items()), seconds))
    failed = [name for name, ok, *_ in results if not ok]
    print("hosts: wheels on %d hosts in %.0f s, %s the same files everywhere; failed: %s; skipped: %s" % (
        len(results), time.monotonic() - start, ", ".join("%s (sha256 %s)" % (w.name, digests[s][:12])
                                                          for s, w in examples.items()),
        ", ".join(failed) or "none", "; ".join("%s (%s)" % s for s in skipped) or "none"))
    return 1 if failed else 0
