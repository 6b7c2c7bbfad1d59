"""tests/e2e/test_tracker.py: HPyTracker_New/Add/ForgetAll/Close on success and error paths."""
import sys

import pytest


def test_tracker(compiler):
    mod = compiler.make_module("""
        /* track(obj, n, forget): dups obj n times into a tracker, then closes it (after ForgetAll
           when forget); returns the number of dups still open, which it then closes itself */
        HPyDef_METH(track, "track", HPyFunc_VARARGS)
        static HPy track_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long n = HPyLong_AsLong(ctx, args[1]);
            int forget = HPy_IsTrue(ctx, args[2]);
            HPy hs[64];
            HPyTracker ht = HPyTracker_New(ctx, 0);     /* the tracker grows as needed */
            for (long i = 0; i < n; i++) {
                hs[i] = HPy_Dup(ctx, args[0]);
                if (HPyTracker_Add(ctx, ht, hs[i]) < 0) {
                    HPyTracker_Close(ctx, ht);
                    return HPy_NULL;
                }
            }
            if (forget)
                HPyTracker_ForgetAll(ctx, ht);
            HPyTracker_Close(ctx, ht);
            if (forget)
                for (long i = 0; i < n; i++)
                    HPy_Close(ctx, hs[i]);
            return HPyLong_FromLong(ctx, forget ? n : 0);
        }
        /* the common pattern: track temporaries, return a result built from them */
        HPyDef_METH(pairs, "pairs", HPyFunc_O)
        static HPy pairs_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t n = HPy_Length(ctx, arg);
            HPyTracker ht = HPyTracker_New(ctx, n);
            HPy result = HPyList_New(ctx, 0);
            for (HPy_ssize_t i = 0; i < n; i++) {
                HPy item = HPy_GetItem_i(ctx, arg, i);
                if (HPy_IsNull(item) || HPyTracker_Add(ctx, ht, item) < 0)
                    goto error;
                HPy pair = HPyTuple_Pack(ctx, 2, item, item);
                if (HPy_IsNull(pair) || HPyTracker_Add(ctx, ht, pair) < 0)
                    goto error;
                if (HPyList_Append(ctx, result, pair) < 0)
                    goto error;
            }
            HPyTracker_Close(ctx, ht);
            return result;
        error:
            HPyTracker_Close(ctx, ht);
            HPy_Close(ctx, result);
            return HPy_NULL;
        }
        @EXPORT(track) @EXPORT(pairs)
        @INIT
    """)
    obj = object()
    before = sys.getrefcount(obj)
    for n in (0, 1, 5, 60):
        assert mod.track(obj, n, False) == 0
        assert sys.getrefcount(obj) == before, n
        assert mod.track(obj, n, True) == n
        assert sys.getrefcount(obj) == before, n
    items = [object(), object()]
    rc = [sys.getrefcount(x) for x in items]
    r = mod.pairs(items)
    assert r == [(items[0], items[0]), (items[1], items[1])]
    assert [sys.getrefcount(x) for x in items] == [c + 2 for c in rc]
    del r
    assert [sys.getrefcount(x) for x in items] == rc

    class Bad:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            if i == 1:
                raise RuntimeError("second item")
            return items[0]
    with pytest.raises(RuntimeError, match="^second item$"):
        mod.pairs(Bad())
    assert [sys.getrefcount(x) for x in items] == rc
