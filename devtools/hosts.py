#!/usr/bin/env python3
"""devtools/hosts.py: the interpreters unihpy runs on, created once and cached outside the work tree.

    hosts.py list                      what is available, and why anything is missing
    hosts.py create [SYSTEM ...]       installs/creates bookworm packages and the trixie/sid chroots, and
                                       builds the interpreters made from a Debian source package
    hosts.py build [HOST ...]          builds unihpy's hpy.universal for hosts that use it
    hosts.py run HOST -- CMD ...       runs CMD with HOST's interpreter as `python` (chroot, mounts)
    hosts.py test [--host H ...] [-- PYTEST ARGS]
                                       the e2e matrix: modules built once here, run on each host
    hosts.py devel [--host H ...]      hpy.devel on each host: the proof of concept built there in the
                                       CPython and hybrid ABIs (setuptools), its files named, tested
    hosts.py wheels [--host H ...]     the wheel route (devtools/wheelroute.py): each example's universal
                                       wheel, built once here, and unihpy's wheel for each host,
                                       installed by pip into a fresh venv there, tested, uninstalled

A *system* is a Debian root: this machine (bookworm) or a chroot made with debootstrap in the cache
folder ($UNIHPY_HOSTS_CACHE, default /var/cache/unihpy/hosts). A *host* is one interpreter of a
system plus the HPy host it uses: unihpy's hpy.universal (built here against that interpreter's C-API
headers) or the interpreter's own (PyPy 7.3.19). An interpreter Debian has no binary package of is
built inside its system from a Debian source package (a SourceBuild: free-threaded CPython 3.13).
Standard library only; docs/hosts.md explains it.
"""
import argparse
import collections
import concurrent.futures
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("UNIHPY_HOSTS_CACHE", "/var/cache/unihpy/hosts"))
BUILD = ROOT / "build" / "hosts"
MIRROR = os.environ.get("UNIHPY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Pure-Python test tools every host imports from one shared folder (these versions run on 3.9 to 3.14).
PYLIB = CACHE / "pylib"
PYLIB_REQUIREMENTS = ["pytest==8.4.2", "pluggy==1.6.0", "iniconfig==2.0.0", "exceptiongroup", "tomli",
                      "filelock==3.16.1"]
APT_NO_EXPIRY = ["-o", "Acquire::Check-Valid-Until=false"]


# HPy 0.9.0's own suite (tests/conformance) compiles its modules inside the host through hpy.devel and
# setuptools, as its users do: the chroots carry a C compiler and Debian's setuptools (whose .pth
# provides `distutils` on CPython 3.12+).
# g++: the proof of concept has a C++ module, and CPython-ABI extensions link the C++ runtime
# (`hosts.py devel`).
BUILD_TOOLS = ["gcc", "g++", "libc6-dev", "python3-setuptools"]


@dataclass
class System:
    name: str
    packages: list  # Debian packages the hosts of this system need
    chroot: bool = True

    @property
    def root(self):
        return CACHE / self.name if self.chroot else Path("/")

    @property
    def stamp(self):
        return (CACHE / self.name / ".unihpy-ready") if self.chroot else (CACHE / "bookworm.ready")


@dataclass
class SourceBuild:
    """An interpreter built by `create` inside its system from a Debian source package: `apt-get
    source` (from a deb-src line of the system's own suite), the upstream tree as released (Debian's
    patches, written for its own layout and debian/rules, are not applied), `./configure
    --prefix=PREFIX CONFIGURE...`, make, make install (or INSTALL). The recipe is the cache key: PREFIX/.unihpy-recipe
    holds the one the installed interpreter was built from, and a changed recipe builds it again."""
    package: str      # the Debian source package
    prefix: str       # where it is installed, inside the system
    configure: list   # more ./configure options
    build_deps: list  # Debian packages the build needs (installed in the system with its packages)
    pip: list = field(default_factory=list)  # pure-Python wheels from PyPI put into its site-packages
    keep: list = field(default_factory=list)  # files of the source tree kept, in PREFIX/share/unihpy
    install: str = "make install"  # the install phase's command

    def stamp(self, system):
        return system.root / self.prefix.lstrip("/") / ".unihpy-recipe"


@dataclass
class Host:
    name: str
    system: str
    exe: str  # the interpreter inside its system
    hpy: str  # "unihpy": our hpy.universal built for it; "native": the interpreter's own HPy host
    note: str = ""
    suites: list = None  # what `test` runs there (default: tests/e2e and proof-of-concept/test_pof.py)
    source: SourceBuild = None  # built from a Debian source package (else Debian's binary packages)
    env: dict = field(default_factory=dict)  # environment variables every run on the host gets
    wheels: bool = True  # `wheels` installs wheels into a venv of its interpreter
    facts: dict = field(default_factory=dict)

    @property
    def free_threaded(self):
        """A CPython without the GIL (Debian ships none: only a source build configured so is one)."""
        return self.source is not None and "--disable-gil" in self.source.configure

    @property
    def sanitizer(self):
        """"thread" for a CPython built with ThreadSanitizer: hpy.universal is built for it with the
        same instrumentation, and a report fails the run (None for every other host)."""
        return "thread" if self.source is not None and "--with-thread-sanitizer" in self.source.configure else None


SYSTEMS = {
    "bookworm": System("bookworm", ["pypy3", "pypy3-dev"], chroot=False),
    "trixie": System("trixie", ["python3.13", "python3.13-dev", "pypy3", "pypy3-dev"] + BUILD_TOOLS),
    "sid": System("sid", ["python3.14", "python3.14-dev", "python3.14-dbg", "python3.15", "python3.15-dev",
                          "pypy3", "pypy3-dev"] + BUILD_TOOLS),
}
HOSTS = [
    Host("cpython-3.11", "bookworm", str(ROOT / ".venv" / "bin" / "python"), "unihpy",
         "the main host, unihpy installed in .venv: `make test`"),
    Host("pypy-7.3.11", "bookworm", "/usr/bin/pypy3", "unihpy", "its own HPy is 0.0.4: unihpy over cpyext"),
    Host("cpython-3.13", "trixie", "/usr/bin/python3.13", "unihpy"),
    Host("pypy-7.3.19", "trixie", "/usr/bin/pypy3", "native", "PyPy's HPy host (0.9 ABI, shifted context)"),
    # Free-threaded CPython: Debian ships no binary package of it; trixie's source package builds it
    # (sid's and forky's source packages are not on the mirror: docs/hosts.md).
    Host("cpython-3.13t", "trixie", "/opt/python3.13t/bin/python3.13t", "unihpy",
         "free-threaded, built from trixie's python3.13 source package",
         source=SourceBuild("python3.13", "/opt/python3.13t", ["--disable-gil", "--without-ensurepip"],
                            ["build-essential", "libffi-dev", "zlib1g-dev"],
                            pip=["setuptools==78.1.1"])),  # trixie's own python3-setuptools version
    # The same source with ThreadSanitizer: hpy.universal and the debug context built with it run the
    # thread tests (docs/threads.md); CPython's own suppressions cover its known benign races.
    Host("cpython-3.13t-tsan", "trixie", "/opt/python3.13t-tsan/bin/python3.13t", "unihpy",
         "free-threaded, CPython and hpy.universal built with ThreadSanitizer: the thread tests",
         suites=["tests/e2e/test_threads.py", "tests/e2e/debug/test_debug_threads.py"],
         env={"TSAN_OPTIONS": "suppressions=/opt/python3.13t-tsan/share/unihpy/suppressions_free_threading.txt"
                              " halt_on_error=0 exitcode=66"},
         source=SourceBuild("python3.13", "/opt/python3.13t-tsan",
                            ["--disable-gil", "--with-thread-sanitizer", "--without-ensurepip",
                             "--disable-test-modules"],
                            ["build-essential", "libffi-dev", "zlib1g-dev"],
                            keep=["Tools/tsan/suppressions_free_threading.txt"],
                            # `make install` byte-compiles the library at 3 optimisation levels with
                            # the sanitized interpreter (slow): here once, at the level the tests use
                            install='make install PYTHON_FOR_BUILD=: && "$PREFIX/bin/python3.13t" -m compileall'
                                    ' -q -j0 -x "bad_coding|badsyntax" "$PREFIX/lib/python3.13t"')),
    Host("cpython-3.14", "sid", "/usr/bin/python3.14", "unihpy"),
    Host("cpython-3.14d", "sid", "/usr/bin/python3.14d", "unihpy", "debug build of CPython"),
    Host("cpython-3.15", "sid", "/usr/bin/python3.15", "unihpy"),
    Host("pypy-8.0", "sid", "/usr/bin/pypy3", "unihpy", "no native HPy host: unihpy over cpyext"),
    # A cross-check of the context adapter on HPy 0.9.0's layout: the modules calling the shifted
    # members and the proof of concept (HPy 0.9.0's host has crashes of its own elsewhere); and its
    # refusal of a module that requests ABI 0.1.
    Host("hpy-0.9.0", "bookworm", str(ROOT / ".venv-hpy09" / "bin" / "python"), "native",
         "HPy 0.9.0's own host from PyPI (make hpy09-venv)",
         suites=["tests/e2e/test_shifted.py", "tests/e2e/test_abi_minor.py", "proof-of-concept/test_pof.py"],
         wheels=False),  # a venv holding PyPI's HPy: not an interpreter of its own
]
HOST_BY_NAME = {h.name: h for h in HOSTS}
NAME_WIDTH = max(len(h.name) for h in HOSTS)  # the host column of the tables printed

# Asked of each interpreter: what the build of hpy.universal needs and what `list` shows.
FACTS_PROBE = (
    "import json, platform, sys, sysconfig; "
    "print(json.dumps({'version': platform.python_implementation() + ' ' + "
    "(('%d.%d.%d' % sys.pypy_version_info[:3]) + ' (Python ' + platform.python_version() + ')' "
    "if hasattr(sys, 'pypy_version_info') else platform.python_version()), "
    "'include': sysconfig.get_paths()['include'], "
    "'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'), 'debug': hasattr(sys, 'gettotalrefcount'), "
    "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED'))}))"
)


def log(*args):
    print("hosts:", *args, flush=True)


def is_root():
    return os.geteuid() == 0


# ---------------------------------------------------------------------------------------------------
# Systems: create and check


def system_packages(system):
    """The Debian packages of `system`: its own and those its hosts built from source need."""
    deps = [d for h in HOSTS if h.system == system.name and h.source for d in h.source.build_deps]
    return system.packages + [d for d in dict.fromkeys(deps) if d not in system.packages]


def source_hosts(system):
    return [h for h in HOSTS if h.system == system.name and h.source]


def source_missing(host):
    """Why the interpreter `host` builds from source is not there as its recipe says (None when it is)."""
    stamp = host.source.stamp(SYSTEMS[host.system])
    if not stamp.exists():
        return "not built yet from the %s source package: run `make hosts`" % host.source.package
    if json.loads(stamp.read_text()).get("recipe") != recipe_of(host):
        return "built from another recipe: run `make hosts` to build it again"
    return None


def recipe_of(host):
    return {key: list(value) if isinstance(value, list) else value for key, value in vars(host.source).items()}


def system_missing(system):
    """Why `system` cannot be used now (None when it can)."""
    if system.chroot and not is_root():
        return "chroots need root (run as root)"
    if not system.stamp.exists():
        return "not created yet: run `make hosts` (devtools/hosts.py create %s)" % system.name
    wanted = set(system_packages(system))
    done = set(system.stamp.read_text().split())
    if not wanted <= done:
        return "packages missing: %s (run `make hosts`)" % " ".join(sorted(wanted - done))
    return None


def system_todo(system):
    """What `create` still has to do for `system` (None when nothing)."""
    return system_missing(system) or next(
        ("%s: %s" % (h.name, why) for h in source_hosts(system) for why in [source_missing(h)] if why), None)


def create_system(system):
    """Creates `system` once; a created one only gets the packages it lacks. Then builds the
    interpreters of its hosts made from source whose recipe changed or that are not built yet.
    Returns seconds spent."""
    start = time.monotonic()
    if system_todo(system) is None:
        return 0.0
    if not is_root():
        raise SystemExit("hosts: creating %s needs root" % system.name)
    packages = system_packages(system)
    if system_missing(system) is None:
        pass
    elif not system.chroot:
        apt_install(Path("/"), packages, update=not all(dpkg_installed(p) for p in packages))
    else:
        root = system.root
        if not (root / "usr" / "bin").is_dir():
            if not shutil.which("debootstrap"):
                apt_install(Path("/"), ["debootstrap"], update=True)
            partial = root.with_name(root.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            CACHE.mkdir(parents=True, exist_ok=True)
            log("debootstrap %s into %s (a few minutes)" % (system.name, root))
            run(["debootstrap", "--variant=minbase", "--include=" + ",".join(packages),
                 system.name, str(partial), MIRROR])
            partial.rename(root)
        else:
            with mounted(system):
                apt_install(root, packages, update=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    system.stamp.write_text("\n".join(packages) + "\n")
    for host in source_hosts(system):
        if source_missing(host):
            build_from_source(host)
    return time.monotonic() - start


def build_from_source(host):
    """Builds `host`'s interpreter inside its system from its Debian source package (SourceBuild).
    The raw output of apt-get source, configure, make and make install goes to a log file in the
    cache; the build tree, inside the system, is removed once installed (kept when the build fails)."""
    recipe, system = host.source, SYSTEMS[host.system]
    if not system.chroot:
        raise SystemExit("hosts: %s: building from source is done in a chroot" % host.name)
    start = time.monotonic()
    build_log = CACHE / ("%s.build.log" % host.name)
    work = "/usr/src/unihpy-%s" % host.name
    log("building %s from the %s source package of %s (a few minutes; output in %s)"
        % (host.name, recipe.package, system.name, build_log))
    # The sources of the system's own suite, next to its binary packages (debootstrap wrote those),
    # for this build only.
    deb_src = system.root / "etc" / "apt" / "sources.list.d" / "unihpy-deb-src.list"
    deb_src.write_text("deb-src %s %s main\n" % (MIRROR, system.name))
    phases = [
        ("source", ["apt-get update -qq " + " ".join(APT_NO_EXPIRY),
                    'rm -rf "$W" "$PREFIX" && mkdir -p "$W" && cd "$W"',
                    "apt-get source --download-only %s %s" % (" ".join(APT_NO_EXPIRY), recipe.package),
                    "dpkg-source --skip-patches -x *.dsc src", "ls *.dsc", "cd src"]),
        ("configure", ['./configure --prefix="$PREFIX" ' + " ".join(recipe.configure)]),
        ("make", ["make -j%d" % (os.cpu_count() or 1)]),
        ("install", [recipe.install] + ['mkdir -p "$PREFIX/share/unihpy"']
                    + ['cp %s "$PREFIX/share/unihpy/"' % path for path in recipe.keep]),
    ]
    # Each phase starts with a marker line (name, time) in the log: the summary gives their times.
    script = "\n".join(["set -e"] + [line for name, lines in phases
                                      for line in ["echo unihpy-phase %s $(date +%%s)" % name] + lines]
                        + ["echo unihpy-phase end $(date +%s)"])
    try:
        with mounted(system), open(build_log, "w") as out:
            proc = subprocess.run(host_command(host, ["/bin/sh", "-c", script], cwd="/"),
                                  env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
                                       "DEBIAN_FRONTEND": "noninteractive", "W": work, "PREFIX": recipe.prefix},
                                  cwd="/", stdout=out, stderr=subprocess.STDOUT)
    finally:
        deb_src.unlink()
    if proc.returncode != 0:
        raise SystemExit("hosts: building %s from source failed (exit %d): see %s (build tree %s in %s)"
                         % (host.name, proc.returncode, build_log, work, system.name))
    lines = build_log.read_text().splitlines()
    marks = [line.split()[1:] for line in lines if line.startswith("unihpy-phase ")]
    times = ", ".join("%s %d s" % (name, int(marks[i + 1][1]) - int(when)) for i, (name, when) in enumerate(marks[:-1]))
    dsc = next(line for line in lines if line.endswith(".dsc") and " " not in line)
    shutil.rmtree(system.root / work.lstrip("/"))
    if recipe.pip:
        # Pure-Python wheels (setuptools for hpy.devel), installed with this machine's pip: the
        # interpreter built needs no ssl module nor network of its own.
        host.facts = {}
        purelib = run_on(host, ["python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, cwd="/", check=True).stdout.strip()
        with open(build_log, "a") as out:
            run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-compile",
                 "--only-binary", ":all:", "--target", str(system.root / purelib.lstrip("/"))] + recipe.pip,
                stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    recipe.stamp(system).write_text(json.dumps({"recipe": recipe_of(host), "source": dsc,
                                                "seconds": round(seconds), "phases": times}, indent=1) + "\n")
    log("built %s from source in %.0f s (%s: %s; log: %s)" % (host.name, seconds, dsc, times, build_log))


def dpkg_installed(package):
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def apt_install(root, packages, update):
    prefix = [] if str(root) == "/" else ["chroot", str(root)]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if update:
        run(prefix + ["apt-get", "update", "-qq"] + APT_NO_EXPIRY, env=env)
    run(prefix + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + APT_NO_EXPIRY + packages,
        env=env)


def create_pylib():
    """pytest and its dependencies, pure Python, shared by every host through one folder."""
    pip_once(PYLIB, PYLIB_REQUIREMENTS, ["install", "--no-compile", "--target"])


def pip_once(folder, requirements, command):
    """This machine's pip run once for `requirements` into `folder` (`command` ends with the option
    naming the folder), with binary packages only; kept until the requirements change."""
    stamp = folder / ".unihpy-ready"
    if stamp.exists() and stamp.read_text().split() == requirements:
        return
    shutil.rmtree(folder, ignore_errors=True)
    run([sys.executable, "-m", "pip"] + command + [str(folder), "-q", "--disable-pip-version-check",
                                                   "--only-binary", ":all:"] + requirements)
    stamp.write_text("\n".join(requirements) + "\n")


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, **kwargs)
    if proc.returncode != 0:
        raise SystemExit("hosts: command failed (%d): %s" % (proc.returncode, " ".join(map(str, cmd))))
    return proc


# ---------------------------------------------------------------------------------------------------
# Running inside a system


# The systems this process has mounted: {name: [users, ExitStack]}. Hosts of one chroot may run at
# the same time (test --jobs): the first user mounts, the last one unmounts.
_MOUNTS = {}
_MOUNTS_LOCK = threading.Lock()


@contextlib.contextmanager
def mounted(system, extra=()):
    """/proc, /dev, the work tree and `extra` folders mounted in the chroot (same paths inside); only
    the mounts made here are undone. A lock file serialises the processes that share a chroot."""
    if not system.chroot:
        yield
        return
    with _MOUNTS_LOCK:
        entry = _MOUNTS.get(system.name)
        if entry is None:
            stack = contextlib.ExitStack()
            stack.enter_context(_mount(system, extra))
            entry = _MOUNTS[system.name] = [0, stack]
        entry[0] += 1
    try:
        yield
    finally:
        with _MOUNTS_LOCK:
            entry[0] -= 1
            if entry[0] == 0:
                del _MOUNTS[system.name]
                entry[1].close()


@contextlib.contextmanager
def _mount(system, extra):
    root = system.root
    lock = open(root / ".unihpy-lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    made = []
    try:
        for source, bind in [("/proc", False), ("/dev", True), (str(ROOT), True)] + [(str(e), True) for e in extra]:
            target = root / source.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            if os.path.ismount(target):
                continue
            cmd = ["mount", "--bind", source, str(target)] if bind else ["mount", "-t", "proc", "proc", str(target)]
            run(cmd)
            made.append(target)
        yield
    finally:
        for target in reversed(made):
            subprocess.run(["umount", "-l", str(target)])
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def host_env(host, extra_env=None):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
           "UNIHPY_HOST": host.name, "UNIHPY_HPY_HOST": host.hpy, "PYTHONDONTWRITEBYTECODE": "1"}
    for key, value in os.environ.items():  # the switches of hpy.universal, CPython's GIL and the e2e suite
        if key in ("HPY", "HPY_LOG", "TERM", "PYTHON_GIL") or key.startswith("UNIHPY_E2E"):
            env[key] = value
    paths = [str(PYLIB)]
    if host.hpy == "unihpy" and host.name != "cpython-3.11":
        paths.insert(0, str(site_dir(host)))
    env["PYTHONPATH"] = ":".join(paths)
    env.update(host.env)
    env.update(extra_env or {})
    return {key: value for key, value in env.items() if value is not None}  # None: not set


def host_command(host, argv, cwd=None):
    """The command line that runs `argv` (argv[0] == "python" means the host's interpreter) in the
    folder `cwd` (default: the current one; in a chroot, the same path inside)."""
    system = SYSTEMS[host.system]
    argv = [host.exe if a == "python" and i == 0 else a for i, a in enumerate(argv)]
    if system.chroot:
        return [shutil.which("chroot") or "/usr/sbin/chroot", str(system.root), "/bin/sh", "-c", 'cd "$0" && exec "$@"',
                str(cwd or os.getcwd())] + argv
    return argv


def run_on(host, argv, extra_env=None, **kwargs):
    system = SYSTEMS[host.system]
    with mounted(system, extra=[PYLIB]):
        return subprocess.run(host_command(host, argv, kwargs.get("cwd")), env=host_env(host, extra_env), **kwargs)


def host_missing(host):
    """Why `host` cannot run now (None when it can)."""
    system = SYSTEMS[host.system]
    why = system_missing(system)
    if why:
        return "%s: %s" % (system.name, why)
    why = host.source and source_missing(host)
    if why:
        return why
    if not (system.root / host.exe.lstrip("/")).exists():
        hint = {"cpython-3.11": " (make install)", "hpy-0.9.0": " (make hpy09-venv)"}.get(host.name, "")
        return "%s not installed in %s%s" % (host.exe, system.name, hint)
    return None


def host_facts(host):
    """Version, C-API include folder and extension suffix of the host's interpreter (cached per run)."""
    if not host.facts:
        proc = run_on(host, ["python", "-c", FACTS_PROBE], capture_output=True, text=True, cwd="/")
        if proc.returncode != 0:
            raise SystemExit("hosts: %s does not start:\n%s" % (host.name, proc.stderr))
        host.facts = json.loads(proc.stdout.strip().splitlines()[-1])
        if host.facts["debug"]:
            host.facts["version"] += " debug build"
        if host.facts.get("free_threaded"):
            host.facts["version"] += " free-threaded"
    return host.facts


# ---------------------------------------------------------------------------------------------------
# unihpy's hpy.universal for a host


def site_dir(host):
    return BUILD / host.name / "site"


def build_host(host, quiet=True, announce=True):
    """Builds hpy.universal against the host's C-API headers and assembles an `hpy` package for it.

    The compiler of this machine builds it; the headers come from the host's system (a chroot's
    headers are found through -idirafter, after this machine's C library headers)."""
    if host.hpy != "unihpy" or host.name == "cpython-3.11":
        return
    facts = host_facts(host)
    system = SYSTEMS[host.system]
    include = str(system.root / facts["include"].lstrip("/"))
    options = ["-idirafter", str(system.root / "usr" / "include")] if system.chroot else []
    link = []
    if host.sanitizer:  # the host's own code instrumented like the interpreter (its runtime is the interpreter's)
        options += ["-fsanitize=" + host.sanitizer, "-g"]
        link = ["-DCMAKE_%s_LINKER_FLAGS=-fsanitize=%s" % (kind, host.sanitizer) for kind in ("SHARED", "MODULE")]
    build = BUILD / host.name / "cmake"
    venv_bin = ROOT / ".venv" / "bin"
    cmake = str(venv_bin / "cmake") if (venv_bin / "cmake").exists() else "cmake"
    ninja = venv_bin / "ninja"
    configure = [cmake, "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", "-DHPY_WERROR=ON",
                 "-DHPY_TARGET_INCLUDE_DIRS=" + include, "-DHPY_TARGET_COMPILE_OPTIONS=" + ";".join(options),
                 "-DHPY_TARGET_EXT_SUFFIX=" + facts["ext_suffix"]] + link
    if ninja.exists():
        configure += ["-G", "Ninja", "-DCMAKE_MAKE_PROGRAM=" + str(ninja)]
    out = subprocess.DEVNULL if quiet else None
    run(configure, stdout=out)
    # the host, and the CPython-ABI runtime library for hpy.devel there (`devel`): both are compiled
    # against this interpreter's headers (its object layout, Py_GIL_DISABLED...)
    run([cmake, "--build", str(build), "--target", "universal", "hpy-cpython"], stdout=out)
    site = site_dir(host)
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(ROOT / "python" / "hpy", site / "hpy",
                    ignore=shutil.ignore_patterns("__pycache__", "devel"))
    # hpy.devel as installed here (headers, helper sources, libhpy-universal.a: none depends on the
    # interpreter), for the suites that compile modules on the host itself; libhpy-cpython.a is this
    # host's own.
    installed_devel = Path(subprocess.run([str(venv_bin / "python"), "-c", "import hpy.devel, os; "
                                           "print(os.path.dirname(hpy.devel.__file__))"],
                                          capture_output=True, text=True, check=True).stdout.strip())
    shutil.copytree(installed_devel, site / "hpy" / "devel", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(build / "libhpy-cpython.a", site / "hpy" / "devel" / "lib")
    # The distribution's metadata: its entry point gives setuptools the `hpy_ext_modules` keyword
    # (setup.py builds on the host: `devel`).
    for info in installed_devel.parents[1].glob("unihpy-*.dist-info"):
        (site / info.name).mkdir()
        for name in ("METADATA", "entry_points.txt"):
            shutil.copy2(info / name, site / info.name)
    shutil.copy2(build / ("universal" + facts["ext_suffix"]), site / "hpy")
    shutil.copy2(ROOT / "python" / "unihpy.pth", site)
    if announce:
        log("built hpy.universal for %s (%s)" % (host.name, facts["version"]))


# ---------------------------------------------------------------------------------------------------
# Commands


def cmd_list(args):
    row = "%-" + str(NAME_WIDTH) + "s %-9s %-8s %-34s %s"
    print(row % ("host", "system", "hpy", "interpreter", "status"))
    for host in HOSTS:
        why = host_missing(host)
        version = "" if why else host_facts(host)["version"]
        print(row % (host.name, host.system, host.hpy, version,
                     ("missing: " + why) if why else "available" + (" (%s)" % host.note if host.note else "")))
    return 0


def cmd_create(args):
    names = args.systems or list(SYSTEMS)
    start = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    create_pylib()
    # The chroots download and unpack in parallel; the machine's own packages first (debootstrap).
    create_system(SYSTEMS["bookworm"]) if "bookworm" in names else None
    children = []
    for name in names:
        if name != "bookworm" and system_todo(SYSTEMS[name]) is not None:
            children.append((name, subprocess.Popen([sys.executable, __file__, "create-one", name])))
    failed = [name for name, child in children if child.wait() != 0]
    log("systems %s ready in %.0f s" % (", ".join(names), time.monotonic() - start))
    if failed:
        raise SystemExit("hosts: could not create %s" % ", ".join(failed))
    return 0


def cmd_create_one(args):
    seconds = create_system(SYSTEMS[args.system])
    log("%s created in %.0f s" % (args.system, seconds))
    return 0


def selected_hosts(names):
    unknown = [n for n in names if n not in HOST_BY_NAME]
    if unknown:
        raise SystemExit("hosts: unknown host %s (known: %s)" % (", ".join(unknown), ", ".join(HOST_BY_NAME)))
    return [HOST_BY_NAME[n] for n in names] if names else list(HOSTS)


def cmd_build(args):
    for host in selected_hosts(args.hosts):
        why = host_missing(host)
        if why:
            log("skip %s: %s" % (host.name, why))
        else:
            build_host(host, quiet=False)
    return 0


def cmd_run(args):
    host = selected_hosts([args.host])[0]
    why = host_missing(host)
    if why:
        raise SystemExit("hosts: %s is missing: %s" % (host.name, why))
    build_host(host)
    return run_on(host, args.argv).returncode


def file_hash(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_modules(modules, suites, pytest_args, env):
    """Runs the suites once here, in the ABIs other hosts use, keeping every module compiled."""
    shutil.rmtree(modules, ignore_errors=True)
    modules.mkdir(parents=True)
    venv_python = str(ROOT / ".venv" / "bin" / "python")
    log("building the test modules once on this machine (cpython-3.11)")
    start = time.monotonic()
    build = subprocess.run([venv_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"] + suites
                           + pytest_args,
                           env=dict(os.environ, UNIHPY_E2E_MODULES="build:%s" % modules, UNIHPY_HOST="build", **env),
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if build.returncode != 0:
        print(build.stdout)
        raise SystemExit("hosts: building the test modules failed")
    log("test modules built in %.0f s: %s" % (time.monotonic() - start, build.stdout.strip().splitlines()[-1]))


PROGRESS = re.compile(r"^(?:\S+\.py )?([.FEsxX]+)\s*(\[\s*\d+%\])?$")
OUTCOMES = {".": "passed", "F": "failed", "E": "error", "s": "skipped", "x": "xfailed", "X": "xpassed"}


def summarize(output, returncode):
    """pytest's last line; for a run that crashed the interpreter, what crashed, where, and the
    outcomes of the tests before (counted from pytest's progress characters)."""
    lines = output.strip().splitlines() or ["(no output)"]
    for line in lines[-3:]:  # pytest's summary, or a line or two (a sanitizer's total) after it
        if re.search(r"\d+ (passed|failed|errors?|skipped|xfailed|xpassed)|no tests ran", line):
            # pytest's own failure status (1) is in the line; another one (a sanitizer's) is not
            return line.strip("= ") + ("" if returncode in (0, 1) else " (exit status %d)" % returncode)
    counts = collections.Counter()
    crash = "exit status %d" % returncode if returncode >= 0 else "signal %d" % -returncode
    where = None
    for i, line in enumerate(lines):
        head, fatal, rest = line.partition("Fatal Python error:")
        if fatal and crash.startswith(("exit", "signal")):
            crash = fatal + rest
        match = PROGRESS.match(head.strip()) if head.strip() else None
        if match:
            counts.update(match.group(1))
        found = re.search(r'File "[^"]*/((?:tests|proof-of-concept)/[^"]+)", line \d+ in (\w+)', line)
        if found and where is None and any("Fatal Python error" in x for x in lines[:i]):
            where = "%s::%s" % (found.group(1), found.group(2))
    done = ", ".join("%d %s" % (counts[c], OUTCOMES[c]) for c in OUTCOMES if counts[c])
    return "CRASHED (%s) in %s after %s" % (crash.strip(), where or "?", done or "no test")


# A sanitizer host's reports go to files (pytest would swallow those printed by a test that passes):
# the sanitizer's options variable gets log_path.
SANITIZER_OPTIONS = {"thread": "TSAN_OPTIONS"}
SANITIZER_REPORT = re.compile(r"^(?:ERROR|WARNING): \w+Sanitizer: .*", re.M)


def test_host(host, suites, modules, args, env):
    """Runs the suites on one host: (host name, return code, summary, seconds, output). On a sanitizer
    host a report of any process (the children of tests too) fails the run and is printed."""
    build_host(host)
    start = time.monotonic()
    extra_env = dict(env, UNIHPY_E2E_MODULES="use:%s" % modules)
    if host.sanitizer:
        reports_dir = BUILD / host.name / "sanitizer-reports"
        shutil.rmtree(reports_dir, ignore_errors=True)
        reports_dir.mkdir(parents=True)
        variable = SANITIZER_OPTIONS[host.sanitizer]
        extra_env[variable] = "%s log_path=%s/report" % (host.env.get(variable, ""), reports_dir)
    proc = run_on(host, ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"]
                  + (host.suites if host.suites and not args.suites else suites) + args.pytest_args,
                  extra_env=extra_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    returncode, summary, output = proc.returncode, summarize(proc.stdout, proc.returncode), proc.stdout
    if host.sanitizer:
        logs = "".join(f.read_text(errors="replace") for f in sorted(reports_dir.glob("report*")))
        reports = SANITIZER_REPORT.findall(logs)
        summary += "; %d %s sanitizer reports (%s)" % (len(reports), host.sanitizer, reports_dir)
        if reports:
            returncode = returncode or 1
            output += "\n".join(logs.splitlines()[:300]) + "\n"
    return host.name, returncode, summary, time.monotonic() - start, output


def runnable_hosts(hosts):
    """(the hosts that can run tests now, [(name, why not) for the others]), the reasons logged."""
    runnable, skipped = [], []
    for host in hosts:
        why = host_missing(host) or (None if PYLIB.joinpath(".unihpy-ready").exists() else
                                     "the shared pytest folder is missing (make hosts)")
        if why:
            skipped.append((host.name, why))
            log("SKIP %s: %s" % (host.name, why))
        else:
            host_facts(host)
            runnable.append(host)
    return runnable, skipped


def cmd_test(args):
    """The e2e matrix. Test modules are compiled once, by this machine's CPython 3.11 run of the suite
    (UNIHPY_E2E_MODULES=build:DIR records each file and its hash); each host then runs the same tests
    with UNIHPY_E2E_MODULES=use:DIR, loading those very files (their hash is checked at load)."""
    start = time.monotonic()
    hosts = selected_hosts(args.host or os.environ.get("UNIHPY_HOSTS", "").split())
    hosts = [h for h in hosts if h.name != "cpython-3.11" or args.host]
    suites = args.suites or ["tests/e2e", "proof-of-concept/test_pof.py"]
    abis = args.abis.split(",")
    env = {"UNIHPY_E2E_HOST_ABIS": ",".join(abis)}
    # the debug context's own tests (tests/e2e/debug) run on other hosts with the debug ABI only
    if "debug" not in abis:
        args.pytest_args = ["--ignore=tests/e2e/debug"] + args.pytest_args
    modules = BUILD / ("modules-" + "-".join(abis) if abis != ["universal"] else "modules")
    if args.reuse_modules and modules.is_dir():
        log("reusing the test modules of the last run in %s" % modules)
    else:
        build_modules(modules, suites, args.pytest_args, env)
    runnable, skipped = runnable_hosts(hosts)
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, rc, summary, seconds, output in pool.map(
                lambda h: test_host(h, suites, modules, args, env), runnable):
            host = HOST_BY_NAME[name]
            log("== %s (%s, HPy host: %s, ABIs: %s)" % (name, host.facts["version"], host.hpy, ",".join(abis)))
            print(output if rc != 0 or args.verbose else "", end="")
            log("%s: %s [%.0f s]" % (name, summary, seconds))
            results.append((name, rc, summary))
    failed = [name for name, rc, _ in results if rc != 0]
    print("hosts: %d run in %.0f s (%s); failed: %s; skipped: %s" % (
        len(results), time.monotonic() - start,
        "; ".join("%s: %s" % (name, summary) for name, _, summary in results) or "none",
        ", ".join(failed) or "none", "; ".join("%s (%s)" % s for s in skipped) or "none"))
    return 1 if failed else 0


POF_SOURCES = ["setup.py", "pof.c", "pofcpp.cpp", "pofpackage/__init__.py", "pofpackage/foo.c"]


def other_cpythons():
    """The CPython hosts with unihpy besides this machine's: where `devel` and HPy 0.9.0's suite
    (tests/conformance) run. A sanitizer build runs only its own suites (the test matrix)."""
    return [h for h in HOSTS if h.name.startswith("cpython-") and h.hpy == "unihpy" and h.name != "cpython-3.11"
            and not h.sanitizer]


def devel_one(host, abi):
    """hpy.devel inside `host`: the proof of concept built there in `abi` with setuptools (setup.py
    build_ext --inplace), then proof-of-concept/test_pof.py run on those files. Returns (ok, line, output)."""
    start = time.monotonic()
    dest = BUILD / host.name / ("devel-" + abi)
    shutil.rmtree(dest, ignore_errors=True)
    for rel in POF_SOURCES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "proof-of-concept" / rel, dest / rel)
    build = run_on(host, ["python", "setup.py", "-q", "build_ext", "--inplace", "--hpy-abi=" + abi], cwd=dest,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    files = sorted(str(f.relative_to(dest)) for f in dest.rglob("*.so") if "build" not in f.relative_to(dest).parts)
    if build.returncode != 0 or not files:
        return False, "%s %s: the build failed" % (host.name, abi), build.stdout
    path = "%s:%s" % (dest, host_env(host)["PYTHONPATH"])
    test = run_on(host, ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "proof-of-concept/test_pof.py",
                         "--pof-installed"], extra_env={"PYTHONPATH": path}, cwd=ROOT,
                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = "%s %s: %s; test_pof.py: %s [%.0f s]" % (host.name, abi, ", ".join(files),
                                                    summarize(test.stdout, test.returncode), time.monotonic() - start)
    return test.returncode == 0, line, build.stdout + test.stdout


def cmd_devel(args):
    """hpy.devel on other interpreters: the CPython-ABI runtime library and the hybrid ABI's tag are
    the interpreter's own, so these builds happen on the host itself (its compiler, its headers)."""
    start = time.monotonic()
    abis = args.abis.split(",")
    failed, skipped = [], []
    for host in selected_hosts(args.host) if args.host else other_cpythons():
        why = host_missing(host)
        if why:
            skipped.append("%s (%s)" % (host.name, why))
            log("SKIP %s: %s" % (host.name, why))
            continue
        build_host(host)
        for abi in abis:
            ok, line, output = devel_one(host, abi)
            if not ok:
                print(output)
                failed.append("%s %s" % (host.name, abi))
            log(line)
    print("hosts: devel in %.0f s; failed: %s; skipped: %s" % (time.monotonic() - start, ", ".join(failed) or "none",
                                                               "; ".join(skipped) or "none"))
    return 1 if failed else 0


def cmd_wheels(args):
    """The wheel route: devtools/wheelroute.py."""
    import wheelroute
    return wheelroute.cmd_wheels(args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list").set_defaults(fn=cmd_list)
    p = sub.add_parser("create")
    p.add_argument("systems", nargs="*", help="bookworm, trixie, sid (default: all)")
    p.set_defaults(fn=cmd_create)
    p = sub.add_parser("create-one")
    p.add_argument("system", choices=list(SYSTEMS))
    p.set_defaults(fn=cmd_create_one)
    p = sub.add_parser("build")
    p.add_argument("hosts", nargs="*")
    p.set_defaults(fn=cmd_build)
    p = sub.add_parser("run")
    p.add_argument("host")
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("test")
    p.add_argument("--host", action="append", help="run on this host (repeatable; default: every host "
                   "but cpython-3.11, or $UNIHPY_HOSTS)")
    p.add_argument("--suite", dest="suites", action="append", help="test folder (default: tests/e2e and "
                   "proof-of-concept/test_pof.py)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every host's pytest output")
    p.add_argument("--reuse-modules", action="store_true", help="keep the modules of the last run (no rebuild)")
    p.add_argument("--abis", default="universal", help="ABI modes run on the hosts: universal (default), "
                   "debug, or universal,debug")
    p.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("UNIHPY_HOSTS_JOBS", "1")),
                   help="hosts tested at the same time (default 1, or $UNIHPY_HOSTS_JOBS)")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_test)
    p = sub.add_parser("devel")
    p.add_argument("--host", action="append", help="this host (repeatable; default: every CPython host "
                   "but cpython-3.11)")
    p.add_argument("--abis", default="cpython,hybrid", help="ABIs to build (default: cpython,hybrid)")
    p.set_defaults(fn=cmd_devel)
    p = sub.add_parser("wheels")
    p.add_argument("--host", action="append", help="this host (repeatable; default: every host but the "
                   "sanitizer builds and HPy 0.9.0's venv)")
    p.add_argument("-v", "--verbose", action="store_true", help="print the commands run and their output")
    p.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("UNIHPY_HOSTS_JOBS", "1")),
                   help="hosts run at the same time (default 1, or $UNIHPY_HOSTS_JOBS)")
    p.set_defaults(fn=cmd_wheels)
    args = parser.parse_args(argv)
    if getattr(args, "argv", None) and args.argv[0] == "--":
        args.argv = args.argv[1:]
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
