"""tests/e2e/test_bool.py: HPyBool_FromBool/FromLong, HPy_IsTrue and the bool type handle."""
import sys

import pytest


def test_bool(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(from_bool, "from_bool", HPyFunc_NOARGS)
        static HPy from_bool_impl(HPyContext *ctx, HPy self)
        {
            HPy items[] = { HPyBool_FromBool(ctx, true), HPyBool_FromBool(ctx, false),
                                  HPyBool_FromLong(ctx, 0), HPyBool_FromLong(ctx, -7),
                                  HPyBool_FromLong(ctx, 1L << 40) };
            HPy r = HPyTuple_FromArray(ctx, items, 5);
            for (int i = 0; i < 5; i++)
                HPy_Close(ctx, items[i]);
            return r;
        }
        HPyDef_METH(is_true, "is_true", HPyFunc_O)
        static HPy is_true_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            int r = HPy_IsTrue(ctx, arg);
            if (r < 0)
                return HPy_NULL;
            return HPyLong_FromLong(ctx, r);
        }
        HPyDef_METH(make_many, "make_many", HPyFunc_O)
        static HPy make_many_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            long n = HPyLong_AsLong(ctx, arg);
            for (long i = 0; i < n; i++)
                HPy_Close(ctx, HPyBool_FromBool(ctx, i & 1));
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(bool_type, "bool_type", HPyFunc_O)
        static HPy bool_type_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPy_BuildValue(ctx, "(iO)", HPy_TypeCheck(ctx, arg, ctx->h_BoolType), ctx->h_BoolType);
        }
        @EXPORT(from_bool) @EXPORT(is_true) @EXPORT(make_many) @EXPORT(bool_type)
        @INIT
    """)
    t, f, zero, neg, big = mod.from_bool()
    assert t is True and f is False and zero is False and neg is True and big is True

    for v, expected in [(True, 1), (False, 0), (None, 0), (0, 0), (3, 1), (0.0, 0), ("", 0), ("a", 1),
                        ([], 0), ([0], 1), ({}, 0), (object(), 1)]:
        assert mod.is_true(v) == expected, v

    class Bad:
        def __bool__(self):
            raise ZeroDivisionError("nope")

    class Wrong:
        def __bool__(self):
            return 2

    class Len:
        def __len__(self):
            return 0

    with pytest.raises(ZeroDivisionError, match="^nope$"):
        mod.is_true(Bad())
    # CPython's own message, as CPython 3.11-3.14 and 3.15 (which names the method) word it
    with pytest.raises(TypeError, match=r"^(__bool__ should return bool, returned int|"
                                        r"\S+\.Wrong\.__bool__\(\) must return a bool, not int)$"):
        mod.is_true(Wrong())
    assert mod.is_true(Len()) == 0

    rt, rf = sys.getrefcount(True), sys.getrefcount(False)
    mod.make_many(1000)
    assert (sys.getrefcount(True), sys.getrefcount(False)) == (rt, rf)
    assert mod.bool_type(True) == (1, bool)
    assert mod.bool_type(1) == (0, bool)
