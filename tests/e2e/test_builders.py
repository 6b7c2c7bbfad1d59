"""tests/e2e/test_builders.py: HPyListBuilder and HPyTupleBuilder (New/Set/Build/Cancel) with reference counts."""
import sys

import pytest


def test_builders(compiler):
    mod = compiler.make_module("""
        /* build(kind, items, cancel): kind 0 list, 1 tuple; sets items in reverse order */
        HPyDef_METH(build, "build", HPyFunc_VARARGS)
        static HPy build_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long kind = HPyLong_AsLong(ctx, args[0]);
            HPy_ssize_t n = HPy_Length(ctx, args[1]);
            int cancel = HPy_IsTrue(ctx, args[2]);
            if (kind == 0) {
                HPyListBuilder b = HPyListBuilder_New(ctx, n);
                for (HPy_ssize_t i = n - 1; i >= 0; i--) {
                    HPy item = HPy_GetItem_i(ctx, args[1], i);
                    HPyListBuilder_Set(ctx, b, i, item);
                    HPy_Close(ctx, item);
                }
                if (cancel) {
                    HPyListBuilder_Cancel(ctx, b);
                    return HPy_Dup(ctx, ctx->h_None);
                }
                return HPyListBuilder_Build(ctx, b);
            }
            HPyTupleBuilder b = HPyTupleBuilder_New(ctx, n);
            for (HPy_ssize_t i = n - 1; i >= 0; i--) {
                HPy item = HPy_GetItem_i(ctx, args[1], i);
                HPyTupleBuilder_Set(ctx, b, i, item);
                HPy_Close(ctx, item);
            }
            if (cancel) {
                HPyTupleBuilder_Cancel(ctx, b);
                return HPy_Dup(ctx, ctx->h_None);
            }
            return HPyTupleBuilder_Build(ctx, b);
        }
        /* a builder whose items are new handles made in the loop and closed right after Set */
        HPyDef_METH(squares, "squares", HPyFunc_O)
        static HPy squares_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t n = HPyLong_AsSsize_t(ctx, arg);
            HPyTupleBuilder b = HPyTupleBuilder_New(ctx, n);
            for (HPy_ssize_t i = 0; i < n; i++) {
                HPy v = HPyLong_FromSsize_t(ctx, i * i);
                HPyTupleBuilder_Set(ctx, b, i, v);
                HPy_Close(ctx, v);
            }
            return HPyTupleBuilder_Build(ctx, b);
        }
        @EXPORT(build) @EXPORT(squares)
        @INIT
    """)
    assert mod.build(0, [], False) == []
    assert mod.build(1, [], False) == ()
    assert mod.build(0, [1, "a", None], False) == [1, "a", None]
    assert mod.build(1, (1, "a", None), False) == (1, "a", None)
    assert type(mod.build(0, [1], False)) is list and type(mod.build(1, [1], False)) is tuple
    assert mod.squares(5) == (0, 1, 4, 9, 16)
    big = list(range(1000))
    assert mod.build(0, big, False) == big
    assert mod.build(1, big, False) == tuple(big)

    item = object()
    before = sys.getrefcount(item)
    lst = mod.build(0, [item, item], False)
    tup = mod.build(1, [item, item, item], False)
    assert sys.getrefcount(item) == before + 5
    del lst, tup
    assert sys.getrefcount(item) == before
    for kind in (0, 1):
        assert mod.build(kind, [item] * 4, True) is None
        assert sys.getrefcount(item) == before       # Cancel released the items it held
