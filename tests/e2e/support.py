"""tests/e2e/support.py: compiles a small C module for one ABI and loads it as that ABI loads modules.

Sources use HPy's test shorthand:
    @EXPORT(sym)              add the HPyDef `sym` to the module
    @EXPORT_TYPE("Name", spec) add the type built from HPyType_Spec `spec` as module.Name
    @EXPORT_GLOBAL(g)         list the HPyGlobal `g` in the module definition
    @INIT                     end of the module: the defines, the HPyModuleDef, HPy_MODINIT and
                              HPy_MOD_GIL(name, HPy_MOD_GIL_NOT_USED)
"""
import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

# "debug": the universal build, loaded under the debug context (hpy.universal.MODE_DEBUG).
ABI_MODES = ("cpython", "universal", "hybrid", "debug")
# A free-threaded CPython (3.13t) whose GIL is off unless a module needs it (PYTHON_GIL=1 forces it on).
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED")) and os.environ.get("PYTHON_GIL") != "1"
# On another host (devtools/hosts.py test) the modules are compiled once, on the build machine:
# UNIHPY_E2E_MODULES=build:DIR records every module built there, use:DIR loads those very files.
PREBUILT_MODE, _, PREBUILT_DIR = os.environ.get("UNIHPY_E2E_MODULES", "").partition(":")


@functools.lru_cache(maxsize=None)
def devel():
    """Where the installed headers and runtime libraries are (only where modules are compiled)."""
    from hpy.devel import HPyDevel

    return HPyDevel()
# Tests compile directly (fast); hpy.devel's setuptools path is tested by test_devel.py.
CFLAGS = ["-std=c11", "-O1", "-g", "-fPIC", "-shared", "-fvisibility=hidden",
          "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-unused-function"]
CXXFLAGS = ["-std=c++17"] + CFLAGS[1:]
# Extra compiler and linker flags for every test module, e.g. the sanitizers of `make test-asan`.
EXTRA_FLAGS = shlex.split(os.environ.get("HPY_TEST_CFLAGS", ""))
# Under AddressSanitizer (make test-asan): its SIGSEGV handler and leak check see what some tests
# provoke on purpose.
SANITIZED = any(f.startswith("-fsanitize") for f in EXTRA_FLAGS)
# For the tests that provoke a SIGSEGV on purpose to see debug mode explain it: under AddressSanitizer
# its own SIGSEGV handler takes the fault first (they run in make test).
PROVOKES_SIGSEGV = pytest.mark.skipif(SANITIZED, reason="the fault is provoked on purpose: AddressSanitizer's "
                                                        "SIGSEGV handler takes it before debug mode's")


def expand_source(source, name):
    """Replaces the @ shorthand with plain HPy code. `#include "hpy.h"` comes first, or where the
    source says @INCLUDE (after the macros it defines for hpy.h, e.g. HPY_ABI_VERSION_MINOR)."""
    defines, types, globals_ = [], [], []

    def export(m):
        defines.append(m.group(1))
        return ""

    def export_type(m):
        types.append((m.group(1), m.group(2)))
        return ""

    def export_global(m):
        globals_.append(m.group(1))
        return ""

    source = re.sub(r"@EXPORT\((\w+)\)", export, source)
    source = re.sub(r'@EXPORT_TYPE\(("[^"]*"),\s*(\w+)\)', export_type, source)
    source = re.sub(r"@EXPORT_GLOBAL\((\w+)\)", export_global, source)
    init = []
    if types:
        adds = "\n".join(
            "    if (!HPyHelpers_AddType(ctx, module, %s, &%s, NULL)) return -1;" % t for t in types)
        init.append("HPyDef_SLOT(_test_add_types, HPy_mod_exec)\n"
                    "static int _test_add_types_impl(HPyContext *ctx, HPy module)\n{\n%s\n    return 0;\n}\n" % adds)
        defines.append("_test_add_types")
    init.append("static HPyDef *_test_defines[] = { %sNULL };" % "".join("&%s, " % d for d in defines))
    if globals_:
        init.append("static HPyGlobal *_test_globals[] = { %sNULL };" % "".join("&%s, " % g for g in globals_))
    init.append("static HPyModuleDef _test_moduledef = { \"%s test module\", 0, NULL, _test_defines, %s };"
                % (name, "_test_globals" if globals_ else "NULL"))
    init.append("HPy_MODINIT(%s, _test_moduledef)" % name)
    # Test modules share nothing between threads: on a free-threaded CPython the GIL stays off.
    init.append("HPy_MOD_GIL(%s, HPy_MOD_GIL_NOT_USED)" % name)
    if "@INIT" not in source:
        raise ValueError("test module source has no @INIT")
    source = source.replace("@INIT", "\n".join(init))
    if "@INCLUDE" in source:
        return source.replace("@INCLUDE", '#include "hpy.h"') + "\n"
    return '#include "hpy.h"\n' + source + "\n"


def prebuilt(key, folder, build):
    """The file `build()` makes from what `key` describes (a JSON-able list), built once.

    Without UNIHPY_E2E_MODULES it is just build(). With build:DIR the file is recorded in DIR with its
    hash (or the compile error); with use:DIR (another host) the recorded file is copied into
    `folder`, its hash checked: nothing is compiled on the host."""
    if not PREBUILT_MODE:
        return build()
    record = Path(PREBUILT_DIR) / hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]
    if PREBUILT_MODE == "build":
        record.mkdir(parents=True, exist_ok=True)
        try:
            out = build()
        except CompileError as e:
            (record / "compile-error").write_text(str(e))
            raise
        shutil.copy2(out, record / out.name)
        (record / "sha256").write_text("%s %s\n" % (file_hash(out), out.name))
        return out
    if (record / "compile-error").exists():
        raise CompileError((record / "compile-error").read_text())
    if not (record / "sha256").exists():
        raise RuntimeError("%r was not built on the build machine: run the suite through "
                           "devtools/hosts.py test" % (key[:2],))
    digest, filename = (record / "sha256").read_text().split()
    out = Path(folder) / filename
    shutil.copy2(record / filename, out)
    assert file_hash(out) == digest, "%s differs from the file built on the build machine" % out
    return out


class ExtensionCompiler:
    """Builds test modules for one ABI in a private folder."""

    def __init__(self, tmp_path, abi):
        self.tmp_path = Path(tmp_path)
        self.load_mode = abi
        self.abi = "universal" if abi in ("debug", "trace") else abi  # what the module is built for
        self._count = 0

    def compile_module(self, source, name="mytest", cplusplus=False, extra_source=None):
        """Compiles the module and returns the path of the shared object (not loaded)."""
        self._count += 1
        folder = self.tmp_path / ("build%d" % self._count)
        folder.mkdir()
        src = folder / (name + (".cpp" if cplusplus else ".c"))
        src.write_text(expand_source(source, name) if "@INIT" in source else source)
        if PREBUILT_MODE:
            return self._prebuilt(src, name, cplusplus, extra_source, folder)
        return self._compile(src, name, cplusplus, extra_source, folder)

    def _prebuilt(self, src, name, cplusplus, extra_source, folder):
        """Records (build:) or fetches (use:) the module compiled from exactly this source and ABI."""
        return prebuilt([self.abi, name, cplusplus, src.read_text(),
                         Path(extra_source).read_text() if extra_source else None], folder,
                        lambda: self._compile(src, name, cplusplus, extra_source, folder))

    def _compile(self, src, name, cplusplus, extra_source, folder):
        from hpy.devel.abitag import get_hpy_ext_suffix

        dev = devel()
        out = folder / (name + get_hpy_ext_suffix(self.abi))
        cmd = ["g++" if cplusplus else "gcc"] + (CXXFLAGS if cplusplus else CFLAGS)
        cmd += ["-DHPY_ABI_%s" % self.abi.upper()] + ["-I%s" % d for d in dev.get_extra_include_dirs()]
        if self.abi != "universal":
            cmd.append("-I%s" % sysconfig.get_paths()["include"])
        cmd += [str(src)] + ([str(extra_source)] if extra_source else [])
        cmd += dev.get_static_libs(self.abi)
        if self.abi == "cpython":
            cmd.append("-lstdc++")  # the CPython-ABI runtime is C++
        cmd += EXTRA_FLAGS + ["-o", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise CompileError("%s\n%s%s" % (" ".join(cmd), proc.stdout, proc.stderr))
        return out

    def load_module(self, name, path):
        """Loads a compiled module as its ABI does: CPython's extension loader or hpy.universal."""
        if self.abi == "cpython":
            loader = importlib.machinery.ExtensionFileLoader(name, str(path))
            spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            return module
        import hpy.universal

        # without a mode (universal) the load follows HPY, as an import would
        modes = {"debug": hpy.universal.MODE_DEBUG, "trace": hpy.universal.MODE_TRACE}
        extra = {"mode": modes[self.load_mode]} if self.load_mode in modes else {}
        return hpy.universal.load(name, str(path), module_spec(name, path), **extra)

    def make_module(self, source, name="mytest", cplusplus=False):
        return self.load_module(name, self.compile_module(source, name, cplusplus))


def module_spec(name, path):
    """The spec hpy.universal.load takes for the universal module file `path`. Where no standard loader
    knows the file's suffix (PyPy's extension suffixes have no plain `.so`; Python 3.9), importlib
    gives none, and the spec only names the file."""
    return (importlib.util.spec_from_file_location(name, str(path))
            or importlib.machinery.ModuleSpec(name, None, origin=str(path)))


def loading_script(name, path, load_args=""):
    """Python source for a child interpreter: loads the universal module `path` as `mod`
    (hpy.universal.load(name, path, spec + load_args), e.g. load_args=", debug=True")."""
    return ("import sys, hpy.universal\n"
            "sys.path.insert(0, %r)\n"
            "from support import module_spec\n"
            "mod = hpy.universal.load(%r, %r, module_spec(%r, %r)%s)\n"
            % (str(Path(__file__).parent), name, str(path), name, str(path), load_args))


def message_of(operation):
    """^message$ of the exception the running interpreter raises for operation() (its wording
    changes between versions and implementations), as a pytest.raises pattern."""
    try:
        operation()
    except Exception as e:  # noqa: BLE001 - any exception: its text is what we want
        return "^%s$" % re.escape(str(e))
    raise AssertionError("%r raised nothing" % operation)


def file_hash(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class CompileError(Exception):
    pass
