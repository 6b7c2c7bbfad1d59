"""tests/e2e/test_bad_modules.py: the catalogue of broken modules: each gives a clear error, never a crash.

Every broken module is loaded in a child interpreter (a crash there fails the test with the child's
output instead of killing the test run); the child then loads and calls a good module, to show that
the interpreter keeps working after the error. Entry points and file-name tags only exist for
modules the HPy host loads, so those cases run in the modes the host loads (universal, and debug
where the suite has it); broken definitions run in every ABI mode.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import ABI_MODES, ExtensionCompiler, prebuilt

HERE = Path(__file__).resolve().parent
# The modes in which hpy.universal itself loads the file.
HOST_MODES = tuple(m for m in ("universal", "debug") if m in ABI_MODES)
host_modes = pytest.mark.abis(*HOST_MODES)

GOOD_SOURCE = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 42); }
    @EXPORT(f)
    @INIT
"""

CHILD = r"""
import gc, json, sys
sys.path.insert(0, %(e2e)r)
from support import ExtensionCompiler
compiler = ExtensionCompiler(%(tmp)r, %(abi)r)
try:
    compiler.load_module(%(name)r, %(path)r)
    outcome = ["loaded", "", []]
except Exception as e:
    # The message, then the exception's notes; and every class the exception is an instance of.
    outcome = [type(e).__name__, "\n".join([str(e)] + list(getattr(e, "__notes__", []))),
               [c.__name__ for c in type(e).__mro__]]
gc.collect()
good = compiler.load_module("goodmod", %(good)r)
assert good.f() == 42, "the interpreter does not work any more"
print(json.dumps(outcome))
"""

_good_modules = {}


@pytest.fixture
def good_module(hpy_abi, tmp_path_factory):
    """A working module of this mode, built once per mode and test process."""
    if hpy_abi not in _good_modules:
        c = ExtensionCompiler(tmp_path_factory.mktemp("good-" + hpy_abi), hpy_abi)
        _good_modules[hpy_abi] = c.compile_module(GOOD_SOURCE, name="goodmod")
    return _good_modules[hpy_abi]


@pytest.fixture
def load_isolated(compiler, good_module, tmp_path):
    """load_isolated(name, path) -> (exception class name or 'loaded', message and notes, names of the
    exception's classes), from a child interpreter."""

    def load(name, path):
        code = CHILD % {"e2e": str(HERE), "tmp": str(tmp_path), "abi": compiler.abi, "name": name,
                        "path": str(path), "good": str(good_module)}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.fail("loading %s crashed the interpreter or left it broken (exit %d):\n%s%s"
                        % (path, proc.returncode, proc.stdout, proc.stderr), pytrace=False)
        return tuple(json.loads(proc.stdout.strip().splitlines()[-1]))

    return load


def expect(outcome, exc_name, pattern):
    """The load raised an instance of class `exc_name` whose message (then notes) matches `pattern`."""
    kind, message, classes = outcome
    assert exc_name in classes, "expected %s matching %r, got %s: %s" % (exc_name, pattern, kind, message)
    assert re.search(pattern, message), "%r does not match %r" % (message, pattern)


def expect_load_error(outcome, pattern):
    """The loader refused the file: hpy.universal.HPyLoadError, an ImportError and a RuntimeError."""
    expect(outcome, "HPyLoadError", pattern)
    assert {"ImportError", "RuntimeError"} <= set(outcome[2]), outcome


# ------------------------------------------------------------------------------------------------
# What the host checks before it reads the definition: entry points, versions, file names, files.

ENTRY_POINTS = ("get_required_hpy_major_version_", "get_required_hpy_minor_version_",
                "HPyInitGlobalContext_", "HPyInit_")


def hand_written_module(name, major="HPY_ABI_VERSION", minor="HPY_ABI_VERSION_MINOR", init="&moddef",
                        omit=None):
    """A universal module whose four entry points (and its HPy_MOD_GIL declaration) are written out, so
    that each can be wrong or missing."""
    bodies = {
        "get_required_hpy_major_version_": "uint32_t %%s(void) { return %s; }" % major,
        "get_required_hpy_minor_version_": "uint32_t %%s(void) { return %s; }" % minor,
        "HPyInitGlobalContext_": "void %s(HPyContext *ctx) { _ctx_for_trampolines = ctx; }",
        "HPyInit_": "HPyModuleDef *%%s(void) { return %s; }" % init,
        # optional (HPy_MOD_GIL): so that a free-threaded CPython keeps its GIL off
        "_HPyModGIL_": "int %s(void) { return HPy_MOD_GIL_NOT_USED; }",
    }
    eps = "\n".join("HPy_EXPORTED_SYMBOL " + body % (prefix + name)
                    for prefix, body in bodies.items() if prefix != omit)
    return """
        #include "hpy.h"
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 42); }
        static HPyDef *defines[] = { &f, NULL };
        HPyModuleDef moddef = { "entry points written by hand", 0, NULL, defines, NULL };
        _HPY_EXTERN_C_BEGIN _HPy_HIDDEN HPyContext *_ctx_for_trampolines; _HPY_EXTERN_C_END
    """ + eps + "\n"


@host_modes
def test_hand_written_entry_points_load(compiler):
    # The reference for the cases below: written out correctly, the module loads.
    mod = compiler.make_module(hand_written_module("handmade"), name="handmade")
    assert mod.f() == 42 and mod.__doc__ == "entry points written by hand"


@host_modes
def test_wrong_major_version(compiler, load_isolated):
    path = compiler.compile_module(hand_written_module("bad", major="1"), name="bad")
    # Worded as HPy 0.9's host words it.
    expect_load_error(load_isolated("bad", path),
                      r"^HPy extension module 'bad' requires unsupported version of the HPy runtime\. "
                      r"Requested version: 1\.0\. Current HPy version: 0\.0\.$")


@host_modes
@pytest.mark.parametrize("minor", ["2", "9999"])
def test_minor_version_too_new(compiler, load_isolated, minor):
    # The host speaks minors 0 and 1: as its current version it names the newest one, 0.1.
    path = compiler.compile_module(hand_written_module("bad", minor=minor), name="bad")
    expect_load_error(load_isolated("bad", path),
                      r"^HPy extension module 'bad' requires unsupported version of the HPy runtime\. "
                      r"Requested version: 0\.%s\. Current HPy version: 0\.1\.$" % minor)


@host_modes
def test_minor_version_1_loads(compiler):
    # ABI 0.1 (the buffer consumer API) is this host's newest minor: a module that asks for it loads.
    mod = compiler.make_module(hand_written_module("handmade01", minor="1"), name="handmade01")
    assert mod.f() == 42


@host_modes
@pytest.mark.parametrize("missing", ENTRY_POINTS)
def test_missing_entry_point(compiler, load_isolated, missing):
    path = compiler.compile_module(hand_written_module("bad", omit=missing), name="bad")
    expect_load_error(load_isolated("bad", path),
                      r"^cannot load HPy module 'bad' .*: the entry point %sbad is missing" % missing)


@host_modes
def test_init_returns_null(compiler, load_isolated):
    path = compiler.compile_module(hand_written_module("bad", init="NULL"), name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPy module 'bad': HPyInit_bad returned NULL$")


@host_modes
def test_module_name_differs_from_symbols(compiler, load_isolated):
    # Built as 'other', loaded as 'bad': the entry points carry the other name.
    path = compiler.compile_module(hand_written_module("other"), name="bad")
    expect_load_error(load_isolated("bad", path),
                      r"the entry point get_required_hpy_major_version_bad is missing \(is it an HPy universal "
           r"module named 'bad'\?\)")


# A missing or different major version is worded as HPy 0.9's host words it (PATH: the file's path).
NO_TAG = (r"^HPy extension module 'bad' at path 'PATH': could not find HPy ABI tag encoded in the filename\. "
          r"The extension claims to be compiled with HPy ABI version: 0\.0\.$")


@host_modes
@pytest.mark.parametrize("file_name, pattern", [
    ("bad.so", NO_TAG),
    ("bad.hpy.so", NO_TAG),
    ("bad.hpy1.so", r"^HPy extension module 'bad' at path 'PATH': mismatch between the HPy ABI tag encoded in "
                    r"the filename and the major version requested by the HPy extension itself\. Major version "
                    r"tag parsed from filename: 1\. Requested version: 0\.0\.$"),
    ("bad.hpy0-cp27.so", r"^cannot load HPy module 'bad' from 'PATH': the hybrid module was built for 'cp27', "
                         r"this interpreter is 'cp\d+"),
    ("bad.hpy99999999999999999999999.so", r"^cannot load HPy module 'bad' from 'PATH': the ABI tag "
                                          r"'\.hpy99999999999999999999999' .* is not a valid"),
], ids=["none", "no-digits", "major-1", "other-python", "huge-major"])
def test_wrong_file_name_tag(compiler, load_isolated, file_name, pattern):
    built = compiler.compile_module(hand_written_module("bad"), name="bad")
    path = built.with_name(file_name)
    built.rename(path)
    expect_load_error(load_isolated("bad", path), pattern.replace("PATH", re.escape(str(path))))


@host_modes
def test_load_error_class(compiler):
    # In process: what load() raises is an ImportError that names the module and the file, and a
    # RuntimeError, the class code written for HPy 0.9's host catches.
    import hpy.universal
    from support import module_spec

    built = compiler.compile_module(hand_written_module("bad"), name="bad")
    path = built.with_name("bad.so")
    built.rename(path)
    with pytest.raises(hpy.universal.HPyLoadError) as info:
        hpy.universal.load("bad", str(path), module_spec("bad", path))
    assert isinstance(info.value, ImportError) and isinstance(info.value, RuntimeError)
    assert info.value.name == "bad" and info.value.path == str(path)
    assert re.search(NO_TAG.replace("PATH", re.escape(str(path))), str(info.value))


@host_modes
@pytest.mark.parametrize("kind", ["plain-library", "cpython-extension"])
def test_not_an_hpy_module(compiler, load_isolated, kind, tmp_path):
    # A loadable shared object without HPy's entry points: a C library, or a CPython extension.
    import sysconfig

    source = tmp_path / "notmod.c"
    if kind == "plain-library":
        source.write_text("int bad_answer(void) { return 42; }\n")
    else:
        source.write_text('#include <Python.h>\nstatic struct PyModuleDef d = { PyModuleDef_HEAD_INIT, "bad" };\n'
                          "PyMODINIT_FUNC PyInit_bad(void) { return PyModuleDef_Init(&d); }\n")
    path = tmp_path / "bad.hpy0.so"

    def build():
        subprocess.run(["gcc", "-shared", "-fPIC", "-I" + sysconfig.get_paths()["include"], str(source),
                        "-o", str(path)], check=True)
        return path

    # Built once on the build machine, like every test module (other hosts have no compiler).
    path = prebuilt(["not-an-hpy-module", kind, source.read_text()], tmp_path, build)
    expect_load_error(load_isolated("bad", path),
                      r"^cannot load HPy module 'bad' .*: the entry point get_required_hpy_major_version_bad is missing")


@host_modes
@pytest.mark.parametrize("content, cause", [
    ("half", r"the file is truncated"),          # the end (section headers) missing
    ("headers-only", r"the file is truncated"),  # loadable segments missing: dlopen would map them anyway
    ("empty", r""),
    ("text", r""),
])
def test_not_a_shared_object(compiler, load_isolated, content, cause):
    built = compiler.compile_module(hand_written_module("bad"), name="bad")
    data = built.read_bytes()
    built.write_bytes({"half": data[:len(data) // 2], "headers-only": data[:1024], "empty": b"",
                       "text": b"this is not an ELF file\n"}[content])
    expect_load_error(load_isolated("bad", built),
                      r"^cannot load HPy module 'bad' .*: not a loadable shared object: " + cause)


# ------------------------------------------------------------------------------------------------
# Broken definitions: the module's HPyModuleDef and its types' HPyType_Spec (every ABI mode).

FUNC_F = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 42); }
"""


def module_with(moddef, extra="", name="bad"):
    """A module whose HPyModuleDef is `moddef` (its `defines` array is called `defines`)."""
    return ('#include "hpy.h"\n%s\n%s\nstatic HPyModuleDef moddef = %s;\nHPy_MODINIT(%s, moddef)\n'
            'HPy_MOD_GIL(%s, HPy_MOD_GIL_NOT_USED)\n' % (FUNC_F, extra, moddef, name, name))


def test_null_defines_is_an_empty_module(compiler):
    mod = compiler.make_module(module_with('{ "nothing inside", 0, NULL, NULL, NULL }'), name="bad")
    assert mod.__doc__ == "nothing inside" and not hasattr(mod, "f")


def test_defines_not_terminated(compiler, load_isolated):
    # The array lacks its NULL: the host reads on and must refuse what follows as a definition.
    extra = "static HPyDef junk = { .kind = (HPyDef_Kind)77 };\nstatic HPyDef *defines[] = { &f, &junk };"
    path = compiler.compile_module(module_with('{ "doc", 0, NULL, defines, NULL }', extra), name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPy module 'bad': .*kind 77")


def test_unknown_module_slot(compiler, load_isolated):
    extra = ("static HPyDef slot = { .kind = HPyDef_Kind_Slot, .slot = { .slot = (HPySlot_Slot)9999, "
             ".impl = (HPyCFunction)f_impl } };\nstatic HPyDef *defines[] = { &slot, NULL };")
    path = compiler.compile_module(module_with('{ "doc", 0, NULL, defines, NULL }', extra), name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPy module 'bad': slot 9999 is not a module slot$")


@pytest.mark.parametrize("signature", ["77", "-2"])
def test_unknown_function_signature(compiler, load_isolated, signature):
    # -2: outside the enumeration's range, which the host must read without undefined behaviour.
    extra = ("static HPyDef g = { .kind = HPyDef_Kind_Meth, .meth = { .name = \"g\", .impl = (HPyCFunction)f_impl, "
             ".signature = (HPyFunc_Signature)%s } };\nstatic HPyDef *defines[] = { &f, &g, NULL };" % signature)
    path = compiler.compile_module(module_with('{ "doc", 0, NULL, defines, NULL }', extra), name="bad")
    # The message as HPy 0.9 gives it, then a note naming the module, the function and the value.
    expect(load_isolated("bad", path), "ValueError",
           r"^Unsupported HPyMeth signature\nHPy module 'bad': function 'g' has an unsupported signature %s "
           r"\(HPyFunc_VARARGS, HPyFunc_KEYWORDS, HPyFunc_NOARGS or HPyFunc_O expected\)$" % signature)


def test_module_state(compiler, load_isolated):
    extra = "static HPyDef *defines[] = { &f, NULL };"
    path = compiler.compile_module(module_with('{ "doc", 16, NULL, defines, NULL }', extra), name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPy module 'bad': module state is not supported")


CREATE = """
    HPyDef_SLOT(create, HPy_mod_create)
    static HPy create_impl(HPyContext *ctx, HPy spec) { return HPy_Dup(ctx, ctx->h_None); }
    HPyDef_SLOT(exec_, HPy_mod_exec)
    static int exec__impl(HPyContext *ctx, HPy module) { return 0; }
    HPyGlobal g;
    HPyGlobal *globals[] = { &g, NULL };
"""


@pytest.mark.parametrize("other", ["doc", "method", "exec", "globals"])
def test_mod_create_with_other_definitions(compiler, load_isolated, other):
    defines = {"method": "&create, &f", "exec": "&create, &exec_"}.get(other, "&create")
    extra = CREATE + "static HPyDef *defines[] = { %s, NULL };" % defines
    moddef = '{ %s, 0, NULL, defines, %s }' % ('"doc"' if other == "doc" else "NULL",
                                               "globals" if other == "globals" else "NULL")
    path = compiler.compile_module(module_with(moddef, extra), name="bad")
    what = {"doc": "a doc string", "method": "methods", "exec": "HPy_mod_exec slots", "globals": "globals"}[other]
    expect(load_isolated("bad", path), "SystemError",
           r"^HPyModuleDef defines a HPy_mod_create slot and also %s \(HPy module 'bad'\): a module with "
           r"HPy_mod_create may not have other definitions" % what)


def type_module(spec_fields, defines="", extra=""):
    """A module that adds type T, built from an HPyType_Spec with `spec_fields`."""
    return """
        typedef struct { long x; long y; } PointObject;
        HPyDef_METH(m, "m", HPyFunc_NOARGS)
        static HPy m_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 1); }
        %s
        static HPyDef *T_defines[] = { %s NULL };
        static HPyType_Spec T_spec = { %s, .defines = T_defines };
        @EXPORT_TYPE("T", T_spec)
        @INIT
    """ % (extra, defines, spec_fields)


def test_type_reference_loads(compiler):
    # The reference for the type cases: a correct spec gives a working type.
    mod = compiler.make_module(type_module('.name = "bad.T", .basicsize = sizeof(PointObject)', "&m,"))
    assert mod.T().m() == 1


@pytest.mark.parametrize("name", ['""', "NULL"], ids=["empty", "null"])
def test_type_without_name(compiler, load_isolated, name):
    path = compiler.compile_module(type_module(".name = %s, .basicsize = sizeof(PointObject)" % name, "&m,"),
                                   name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPyType_FromSpec: .*the spec has an empty name")


def test_unknown_type_slot(compiler, load_isolated):
    extra = ("static HPyDef slot = { .kind = HPyDef_Kind_Slot, .slot = { .slot = (HPySlot_Slot)9999, "
             ".impl = (HPyCFunction)m_impl } };")
    path = compiler.compile_module(type_module('.name = "bad.T"', "&slot,", extra), name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPyType_FromSpec: type 'bad\.T': invalid slot id 9999$")


def test_unknown_method_signature(compiler, load_isolated):
    extra = ("static HPyDef g = { .kind = HPyDef_Kind_Meth, .meth = { .name = \"g\", .impl = (HPyCFunction)m_impl, "
             ".signature = (HPyFunc_Signature)77 } };")
    path = compiler.compile_module(type_module('.name = "bad.T"', "&g,", extra), name="bad")
    expect(load_isolated("bad", path), "SystemError",
           r"^HPyType_FromSpec: type 'bad\.T': method 'g' has an unsupported signature 77$")


def test_type_defines_not_terminated(compiler, load_isolated):
    extra = "static HPyDef junk = { .kind = (HPyDef_Kind)77 };"
    src = type_module('.name = "bad.T"', "&m, &junk,", extra).replace(" NULL };\n        static HPyType_Spec",
                                                                      " };\n        static HPyType_Spec")
    path = compiler.compile_module(src, name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPyType_FromSpec: type 'bad\.T': invalid HPyDef kind 77$")


@pytest.mark.parametrize("member_type, offset, basicsize", [
    ("HPyMember_LONG", "64", "sizeof(PointObject)"),                   # starts after the struct
    ("HPyMember_LONG", "sizeof(PointObject) - 4", "sizeof(PointObject)"),  # starts inside, ends after
    ("HPyMember_DOUBLE", "0", "4"),                                     # wider than the whole struct
    ("HPyMember_LONG", "-8", "sizeof(PointObject)"),                    # before the struct
    ("HPyMember_LONG", "0", "0"),                                       # a struct of size 0
], ids=["after", "straddling", "wider", "negative", "no-struct"])
def test_member_outside_the_struct(compiler, load_isolated, member_type, offset, basicsize):
    extra = ("static HPyDef x = { .kind = HPyDef_Kind_Member, .member = { .name = \"x\", .type = %s, "
             ".offset = %s } };" % (member_type, offset))
    path = compiler.compile_module(type_module('.name = "bad.T", .basicsize = %s' % basicsize, "&x,", extra),
                                   name="bad")
    expect(load_isolated("bad", path), "SystemError",
           r"^HPyType_FromSpec: type 'bad\.T': member 'x' .*outside the struct")


def test_member_at_the_end_of_the_struct_is_fine(compiler):
    # The last field that fits exactly is accepted (the boundary of the check above).
    extra = ("static HPyDef y = { .kind = HPyDef_Kind_Member, .member = { .name = \"y\", .type = HPyMember_LONG, "
             ".offset = offsetof(PointObject, y) } };")
    mod = compiler.make_module(type_module('.name = "bad.T", .basicsize = sizeof(PointObject)', "&y,",
                                           "#include <stddef.h>\n" + extra))
    t = mod.T()
    t.y = 7
    assert t.y == 7


# Found by fuzzing the loader (tests/fuzz/regressions/loader): specs that corrupted memory.

def member_def(name, member_type, offset):
    return ("static HPyDef x = { .kind = HPyDef_Kind_Member, .member = { .name = \"%s\", .type = %s, "
            ".offset = %s } };" % (name, member_type, offset))


@pytest.mark.parametrize("fields, defines, extra, pattern", [
    ('.name = "bad.T", .flags = ~0UL', "", "", r"unknown flags 0x"),
    ('.name = "bad.T", .builtin_shape = HPyType_BuiltinShape_Legacy, .basicsize = 8', "", "",
     r"basicsize 8 is smaller than the base type's \(16\)"),
    ('.name = "bad.T", .builtin_shape = HPyType_BuiltinShape_Legacy, .basicsize = 64', "&x,",
     member_def("x", "HPyMember_STRING_INPLACE", "8"), r"member 'x' at offset 8 lies in the object header"),
    ('.name = "bad.T", .basicsize = 8, .itemsize = 8', "&x,", member_def("x", "HPyMember_STRING", "108"),
     r"member 'x' (\(8 bytes at offset 108\) lies|has an offset) outside the struct"),
    ('.name = "bad.T", .basicsize = 16', "&x,", member_def("__vectorcalloffset__", "HPyMember_STRING", "0"),
     r"member '__vectorcalloffset__' must have the type HPyMember_HPYSSIZET"),
    ('.name = "bad.T", .basicsize = 16', "&x,", member_def("x", "(HPyMember_FieldType)15", "0"),
     r"member 'x' has an unknown type 15"),
], ids=["flags", "legacy-basicsize", "member-in-header", "member-past-varsize", "vectorcalloffset-type",
        "member-type"])
def test_type_spec_that_corrupted_memory(compiler, load_isolated, fields, defines, extra, pattern):
    path = compiler.compile_module(type_module(fields, defines, extra), name="bad")
    expect(load_isolated("bad", path), "SystemError", r"^HPyType_FromSpec: type 'bad\.T': " + pattern)
