"""tests/e2e/test_source_compat.py: sources written against HPy 0.9's headers compile unchanged: its
annotation macros, HPyFunc_DECLARE/HPyFunc_TRAMPOLINE, HPy_TPFLAGS_HAVE_VECTORCALL in a spec,
HPyType_Vectorcall, and the standard headers its hpy.h includes."""

SOURCE = r"""
    /* No #include <stdlib.h>, <assert.h> or <alloca.h>: HPy 0.9's hpy.h brings them in. */
    HPyAPI_INLINE_HELPER long twice(long x) { assert(x < 1000000); return 2 * x; }
    HPyAPI_HELPER long helper_sum(const long *xs, int n);
    HPyAPI_HELPER long helper_sum(const long *xs, int n)
    {
        long *copy = (long *)alloca(sizeof(long) * (size_t)n);
        long total = 0;
        for (int i = 0; i < n; i++)
            total += (copy[i] = xs[i]);
        return total;
    }

    /* A method written with the generic macros instead of HPyDef_METH. */
    HPyFunc_DECLARE(doubled_impl, HPyFunc_O);
    HPyFunc_TRAMPOLINE(doubled_trampoline, doubled_impl, HPyFunc_O)
    static HPy doubled_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        long xs[3] = { HPyLong_AsLong(ctx, arg), 1, 2 };
        return HPyLong_FromLong(ctx, twice(helper_sum(xs, 3)));
    }
    static HPyDef doubled = {
        .kind = HPyDef_Kind_Meth,
        .meth = { .name = "doubled", .impl = (HPyCFunction)doubled_impl,
                  .cpy_trampoline = (cpy_PyCFunction)doubled_trampoline, .signature = HPyFunc_O },
    };

    static HPyType_Vectorcall unused_vectorcall_record;

    static HPyDef *Plain_defines[] = { NULL };
    static HPyType_Spec Plain_spec = {
        .name = "mytest.Plain",
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_VECTORCALL,   /* without a call: no effect */
        .defines = Plain_defines,
    };
    HPyDef_METH(make_plain, "make_plain", HPyFunc_NOARGS)
    static HPy make_plain_impl(HPyContext *ctx, HPy self)
    {
        (void)unused_vectorcall_record;
        return HPyType_FromSpec(ctx, &Plain_spec, NULL);
    }
    @EXPORT(doubled) @EXPORT(make_plain)
    @INIT
"""


def test_hpy_09_spellings(compiler):
    mod = compiler.make_module(SOURCE)
    assert mod.doubled(4) == 14
    Plain = mod.make_plain()
    assert not callable(Plain())
