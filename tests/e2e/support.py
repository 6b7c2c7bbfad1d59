"""tests/e2e/support.py: compiles a small C module for one ABI and loads it as that ABI loads modules.

Sources use HPy's test shorthand:
    @EXPORT(sym)              add the HPyDef `sym` to the module
    @EXPORT_TYPE("Name", spec) add the type built from HPyType_Spec `spec` as module.Name
    @EXPORT_GLOBAL(g)         list the HPyGlobal `g` in the module definition
    @INIT                     end of the module: the defines, the HPyModuleDef and HPy_MODINIT
"""
import importlib.machinery
import importlib.util
import os
import re
import shlex
import subprocess
import sysconfig
from pathlib import Path

from hpy.devel import HPyDevel
from hpy.devel.abitag import get_hpy_ext_suffix

# "debug": the universal build, loaded under the debug context (hpy.universal.MODE_DEBUG).
ABI_MODES = ("cpython", "universal", "hybrid", "debug")
DEVEL = HPyDevel()  # where the installed headers and runtime libraries are
# Tests compile directly (fast); hpy.devel's setuptools path is tested by test_devel.py.
CFLAGS = ["-std=c11", "-O1", "-g", "-fPIC", "-shared", "-fvisibility=hidden",
          "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-unused-function"]
CXXFLAGS = ["-std=c++17"] + CFLAGS[1:]
# Extra compiler and linker flags for every test module, e.g. the sanitizers of `make test-asan`.
EXTRA_FLAGS = shlex.split(os.environ.get("HPY_TEST_CFLAGS", ""))


def expand_source(source, name):
    """Replaces the @ shorthand with plain HPy code."""
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
    if "@INIT" not in source:
        raise ValueError("test module source has no @INIT")
    return '#include "hpy.h"\n' + source.replace("@INIT", "\n".join(init)) + "\n"


class ExtensionCompiler:
    """Builds test modules for one ABI in a private folder."""

    def __init__(self, tmp_path, abi):
        self.tmp_path = Path(tmp_path)
        self.load_mode = abi
        self.abi = "universal" if abi == "debug" else abi  # what the module is built for
        self._count = 0

    def compile_module(self, source, name="mytest", cplusplus=False, extra_source=None):
        """Compiles the module and returns the path of the shared object (not loaded)."""
        self._count += 1
        folder = self.tmp_path / ("build%d" % self._count)
        folder.mkdir()
        src = folder / (name + (".cpp" if cplusplus else ".c"))
        src.write_text(expand_source(source, name) if "@INIT" in source else source)
        out = folder / (name + get_hpy_ext_suffix(self.abi))
        cmd = ["g++" if cplusplus else "gcc"] + (CXXFLAGS if cplusplus else CFLAGS)
        cmd += ["-DHPY_ABI_%s" % self.abi.upper()] + ["-I%s" % d for d in DEVEL.get_extra_include_dirs()]
        if self.abi != "universal":
            cmd.append("-I%s" % sysconfig.get_paths()["include"])
        cmd += [str(src)] + ([str(extra_source)] if extra_source else [])
        cmd += DEVEL.get_static_libs(self.abi)
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

        spec = importlib.util.spec_from_file_location(name, str(path))
        mode = hpy.universal.MODE_DEBUG if self.load_mode == "debug" else hpy.universal.MODE_UNIVERSAL
        return hpy.universal.load(name, str(path), spec, mode=mode)

    def make_module(self, source, name="mytest", cplusplus=False):
        return self.load_module(name, self.compile_module(source, name, cplusplus))


class CompileError(Exception):
    pass
