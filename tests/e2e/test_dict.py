"""tests/e2e/test_dict.py: HPyDict_New/Check/Keys/Copy and dict access through the object protocol."""
import pytest


def test_dict(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(new, "new", HPyFunc_NOARGS)
        static HPy new_impl(HPyContext *ctx, HPy self)
        {
            HPy d = HPyDict_New(ctx);
            HPy v = HPyLong_FromLong(ctx, 1);
            if (HPy_SetItem_s(ctx, d, "one", v) < 0 || HPy_SetItem(ctx, d, v, ctx->h_None) < 0) {
                HPy_Close(ctx, v);
                HPy_Close(ctx, d);
                return HPy_NULL;
            }
            HPy_Close(ctx, v);
            return d;
        }
        HPyDef_METH(empty, "empty", HPyFunc_NOARGS)
        static HPy empty_impl(HPyContext *ctx, HPy self)
        {
            return HPyDict_New(ctx);
        }
        HPyDef_METH(check, "check", HPyFunc_O)
        static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyLong_FromLong(ctx, HPyDict_Check(ctx, arg));
        }
        HPyDef_METH(keys, "keys", HPyFunc_O)
        static HPy keys_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyDict_Keys(ctx, arg);
        }
        HPyDef_METH(copy, "copy", HPyFunc_O)
        static HPy copy_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyDict_Copy(ctx, arg);
        }
        @EXPORT(new) @EXPORT(empty) @EXPORT(check) @EXPORT(keys) @EXPORT(copy)
        @INIT
    """)
    assert mod.new() == {"one": 1, 1: None}
    assert mod.empty() == {} and type(mod.empty()) is dict
    assert mod.empty() is not mod.empty()

    class Sub(dict):
        pass
    assert [mod.check(x) for x in ({}, Sub(), [], None, ())] == [1, 1, 0, 0, 0]
    d = {"b": 1, "a": 2, 3: 4}
    keys = mod.keys(d)
    assert keys == ["b", "a", 3] and type(keys) is list
    assert mod.keys({}) == []
    with pytest.raises(SystemError, match="bad argument to internal function"):
        mod.keys([])
    c = mod.copy(d)
    assert c == d and c is not d and type(c) is dict
    c["new"] = 1
    assert "new" not in d
    inner = [1]
    c = mod.copy({"x": inner})
    assert c["x"] is inner                          # a shallow copy
    assert type(mod.copy(Sub(a=1))) is dict
    with pytest.raises(SystemError, match="bad argument to internal function"):
        mod.copy([("a", 1)])


def test_keys_and_copy_of_null(compiler):
    # A NULL handle is refused with SystemError, on every interpreter (PyDict_Keys itself crashes on
    # NULL in CPython's free-threaded build, both in PyPy's C-API emulation: include/hpy/cpython/inline.h).
    mod = compiler.make_module("""
        HPyDef_METH(keys_of_null, "keys_of_null", HPyFunc_NOARGS)
        static HPy keys_of_null_impl(HPyContext *ctx, HPy self)
        {
            return HPyDict_Keys(ctx, HPy_NULL);
        }
        HPyDef_METH(copy_of_null, "copy_of_null", HPyFunc_NOARGS)
        static HPy copy_of_null_impl(HPyContext *ctx, HPy self)
        {
            return HPyDict_Copy(ctx, HPy_NULL);
        }
        @EXPORT(keys_of_null) @EXPORT(copy_of_null)
        @INIT
    """)
    with pytest.raises(SystemError):
        mod.keys_of_null()
    with pytest.raises(SystemError):
        mod.copy_of_null()
