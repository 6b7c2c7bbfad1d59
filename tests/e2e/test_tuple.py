"""tests/e2e/test_tuple.py: HPyTuple_Check/FromArray/Pack and the tuple type handle."""
import sys

import pytest


def test_tuple(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(check, "check", HPyFunc_O)
        static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyLong_FromLong(ctx, HPyTuple_Check(ctx, arg));
        }
        HPyDef_METH(from_array, "from_array", HPyFunc_VARARGS)
        static HPy from_array_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
        }
        HPyDef_METH(pack, "pack", HPyFunc_VARARGS)
        static HPy pack_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            switch (nargs) {
            case 0: return HPyTuple_Pack(ctx, 0);
            case 1: return HPyTuple_Pack(ctx, 1, args[0]);
            case 2: return HPyTuple_Pack(ctx, 2, args[0], args[1]);
            case 3: return HPyTuple_Pack(ctx, 3, args[0], args[1], args[2]);
            default: return HPyTuple_Pack(ctx, 4, args[0], args[1], args[2], args[3]);
            }
        }
        HPyDef_METH(tuple_type, "tuple_type", HPyFunc_NOARGS)
        static HPy tuple_type_impl(HPyContext *ctx, HPy self)
        {
            return HPy_Dup(ctx, ctx->h_TupleType);
        }
        @EXPORT(check) @EXPORT(from_array) @EXPORT(pack) @EXPORT(tuple_type)
        @INIT
    """)

    class Sub(tuple):
        pass
    assert [mod.check(x) for x in ((), (1,), Sub(), [], "ab")] == [1, 1, 1, 0, 0]
    assert mod.from_array() == ()
    assert mod.from_array(1, "a", None) == (1, "a", None)
    assert type(mod.from_array(1)) is tuple
    assert mod.pack() == ()
    assert mod.pack(1) == (1,)
    assert mod.pack(1, 2) == (1, 2)
    assert mod.pack(1, 2, 3) == (1, 2, 3)
    assert mod.pack("a", "b", "c", "d", "ignored") == ("a", "b", "c", "d")
    item = object()
    before = sys.getrefcount(item)
    t1 = mod.from_array(item, item)
    t2 = mod.pack(item, item, item)
    assert sys.getrefcount(item) == before + 5
    assert t1[0] is item and t2[2] is item
    del t1, t2
    assert sys.getrefcount(item) == before
    assert mod.tuple_type() is tuple
