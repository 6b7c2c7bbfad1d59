"""tests/e2e/test_abi_minor.py: the ABI minor version a module requests (HPY_ABI_VERSION_MINOR), on every host.

A module requests 0, HPy 0.9's ABI, unless it defines HPY_ABI_VERSION_MINOR before including hpy.h to use
what later minor versions add (docs/beyond-0.9.md). unihpy's host loads minors 0 and 1; a host of ABI 0.0
(HPy 0.9's own, PyPy's) refuses a module that requests 0.1 with an error naming the version."""
import ctypes
import os

import pytest

from support import CompileError

NATIVE_HOST = os.environ.get("UNIHPY_HPY_HOST", "unihpy") != "unihpy"

SOURCE_01 = """
    #define HPY_ABI_VERSION_MINOR 1
    @INCLUDE
    HPyDef_METH(check, "check", HPyFunc_O)
    static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyBool_FromLong(ctx, HPy_CheckBuffer(ctx, arg));
    }
    @EXPORT(check)
    @INIT
"""

SOURCE_00 = """
    HPyDef_METH(check, "check", HPyFunc_O)
    static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_buffer view;
        if (HPy_GetBuffer(ctx, arg, &view, HPyBUF_SIMPLE) < 0)
            return HPy_NULL;
        HPyBuffer_Release(ctx, &view);
        return HPy_Dup(ctx, ctx->h_True);
    }
    @EXPORT(check)
    @INIT
"""


@pytest.mark.abis("universal", "debug")
def test_module_requesting_01(compiler):
    path = compiler.compile_module(SOURCE_01, name="minor01")
    if NATIVE_HOST:
        # A host of ABI 0.0 refuses it, and says which version the module asked for.
        with pytest.raises(Exception, match=r"Requested version: 0\.1\b") as info:
            compiler.load_module("minor01", path)
        assert "unsupported version of the HPy runtime" in str(info.value)
        return
    mod = compiler.load_module("minor01", path)
    assert mod.check(b"bytes") is True and mod.check(42) is False


@pytest.mark.abis("universal")
def test_requested_minor_is_in_the_file(compiler):
    # What the host reads: 1 for a module that opted in, 0 (HPy 0.9's ABI) by default.
    plain = SOURCE_01.replace("#define HPY_ABI_VERSION_MINOR 1", "").replace("HPy_CheckBuffer(ctx, arg)", "1")
    for source, name, minor in ((SOURCE_01, "minor01", 1), (plain, "minor00", 0)):
        lib = ctypes.CDLL(str(compiler.compile_module(source, name=name)))
        fn = getattr(lib, "get_required_hpy_minor_version_" + name)
        fn.restype = ctypes.c_uint32
        assert fn() == minor


def test_minor_0_module_cannot_call_01_functions(compiler):
    # In every ABI alike: a compile error that names the version to request.
    with pytest.raises(CompileError) as info:
        compiler.compile_module(SOURCE_00, name="minor00")
    assert ("HPy_GetBuffer is beyond HPy 0.9: it needs HPy ABI 0.1; #define HPY_ABI_VERSION_MINOR 1 before "
            "including hpy.h") in str(info.value)
