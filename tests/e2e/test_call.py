"""tests/e2e/test_call.py: HPy_Call, HPy_CallTupleDict, HPy_CallMethod and HPy_CallMethodTupleDict(_s)."""
import sys

import pytest


@pytest.fixture
def mod(compiler):
    return compiler.make_module("""
        /* call(f, kwnames_or_None, *args): HPy_Call with the last len(kwnames) args as keywords */
        HPyDef_METH(call, "call", HPyFunc_VARARGS)
        static HPy call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy kwnames = HPy_Is(ctx, args[1], ctx->h_None) ? HPy_NULL : args[1];
            size_t nkw = HPy_IsNull(kwnames) ? 0 : (size_t)HPy_Length(ctx, kwnames);
            return HPy_Call(ctx, args[0], args + 2, nargs - 2 - nkw, kwnames);
        }
        /* call_method(name, kwnames_or_None, receiver, *args) */
        HPyDef_METH(call_method, "call_method", HPyFunc_VARARGS)
        static HPy call_method_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy kwnames = HPy_Is(ctx, args[1], ctx->h_None) ? HPy_NULL : args[1];
            size_t nkw = HPy_IsNull(kwnames) ? 0 : (size_t)HPy_Length(ctx, kwnames);
            return HPy_CallMethod(ctx, args[0], args + 2, nargs - 2 - nkw, kwnames);
        }
        /* None stands for HPy_NULL in the tuple/dict arguments */
        static HPy null_if_none(HPyContext *ctx, HPy h) { return HPy_Is(ctx, h, ctx->h_None) ? HPy_NULL : h; }
        HPyDef_METH(call_td, "call_td", HPyFunc_VARARGS)
        static HPy call_td_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_CallTupleDict(ctx, args[0], null_if_none(ctx, args[1]), null_if_none(ctx, args[2]));
        }
        HPyDef_METH(call_method_td, "call_method_td", HPyFunc_VARARGS)
        static HPy call_method_td_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_CallMethodTupleDict(ctx, args[1], args[0], null_if_none(ctx, args[2]),
                                           null_if_none(ctx, args[3]));
        }
        HPyDef_METH(call_method_td_s, "call_method_td_s", HPyFunc_VARARGS)
        static HPy call_method_td_s_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
            return HPy_CallMethodTupleDict_s(ctx, name, args[0], null_if_none(ctx, args[2]),
                                             null_if_none(ctx, args[3]));
        }
        @EXPORT(call) @EXPORT(call_method) @EXPORT(call_td) @EXPORT(call_method_td) @EXPORT(call_method_td_s)
        @INIT
    """)


def f(*args, **kw):
    return args, kw


class Target:
    def m(self, *args, **kw):
        return self, args, kw


def test_call(mod):
    assert mod.call(f, None) == ((), {})
    assert mod.call(f, None, 1, 2) == ((1, 2), {})
    assert mod.call(f, ("a",), 1, 2) == ((1,), {"a": 2})
    assert mod.call(f, ("a", "b"), 1, 2) == ((), {"a": 1, "b": 2})
    assert mod.call(f, (), 1) == ((1,), {})
    assert mod.call(len, None, "abc") == 3
    assert mod.call(dict, ("x",), 5) == {"x": 5}
    assert mod.call(int, ("base",), "ff", 16) == 255
    with pytest.raises(TypeError, match="^'int' object is not callable$"):
        mod.call(1, None)
    with pytest.raises(TypeError, match=r"^len\(\) takes exactly one argument \(2 given\)$"):
        mod.call(len, None, 1, 2)
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'zz'$"):
        mod.call(lambda: 0, ("zz",), 1)
    with pytest.raises(ZeroDivisionError):
        mod.call(lambda: 1 / 0, None)
    arg = object()
    before = sys.getrefcount(arg)
    for _ in range(10):
        mod.call(f, ("k",), arg, arg)
    assert sys.getrefcount(arg) == before


def test_call_tuple_dict(mod):
    assert mod.call_td(f, None, None) == ((), {})
    assert mod.call_td(f, (1, 2), None) == ((1, 2), {})
    assert mod.call_td(f, None, {"a": 1}) == ((), {"a": 1})
    assert mod.call_td(f, (1,), {"a": 1}) == ((1,), {"a": 1})
    assert mod.call_td(f, (), {}) == ((), {})
    assert mod.call_td(max, (3, 9, 4), None) == 9
    with pytest.raises(TypeError, match="^HPy_CallTupleDict requires args to be a tuple or null handle$"):
        mod.call_td(f, [1], None)
    with pytest.raises(TypeError, match="^HPy_CallTupleDict requires kw to be a dict or null handle$"):
        mod.call_td(f, (1,), [("a", 1)])
    with pytest.raises(TypeError, match="^'str' object is not callable$"):
        mod.call_td("x", None, None)


def test_call_method(mod):
    t = Target()
    assert mod.call_method("m", None, t) == (t, (), {})
    assert mod.call_method("m", None, t, 1, 2) == (t, (1, 2), {})
    assert mod.call_method("m", ("k",), t, 1, 2) == (t, (1,), {"k": 2})
    assert mod.call_method("upper", None, "abc") == "ABC"
    assert mod.call_method("split", ("sep",), "a-b", "-") == ["a", "b"]
    lst = [3, 1, 2]
    assert mod.call_method("sort", ("reverse",), lst, True) is None and lst == [3, 2, 1]
    with pytest.raises(AttributeError, match="^'Target' object has no attribute 'nope'$"):
        mod.call_method("nope", None, t)
    with pytest.raises(AttributeError, match="^'int' object has no attribute 'nope'$"):
        mod.call_method("nope", None, 1)


def test_call_method_tuple_dict(mod):
    t = Target()
    for fn in (mod.call_method_td, mod.call_method_td_s):
        assert fn(t, "m", None, None) == (t, (), {})
        assert fn(t, "m", (1,), None) == (t, (1,), {})
        assert fn(t, "m", None, {"a": 2}) == (t, (), {"a": 2})
        assert fn(t, "m", (1, 2), {"a": 3}) == (t, (1, 2), {"a": 3})
        assert fn("a,b", "split", (",",), None) == ["a", "b"]
        with pytest.raises(AttributeError, match="^'Target' object has no attribute 'x'$"):
            fn(t, "x", None, None)
        with pytest.raises(TypeError, match="^HPy_CallTupleDict requires args to be a tuple or null handle$"):
            fn(t, "m", [1], None)
        with pytest.raises(TypeError, match="^HPy_CallTupleDict requires kw to be a dict or null handle$"):
            fn(t, "m", None, 1)
