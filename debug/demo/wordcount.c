/* debug/demo/wordcount.c: a universal module with two real bugs that universal mode does not notice:
   total_length() leaks a handle per item, first_repr() uses a handle after closing it. */
#include "hpy.h"

/* The summed lengths of the items of a sequence. Bug: the item handles are never closed. */
HPyDef_METH(total_length, "total_length", HPyFunc_O)
static HPy total_length_impl(HPyContext *ctx, HPy self, HPy seq)
{
    HPy_ssize_t n = HPy_Length(ctx, seq), total = 0;
    if (n < 0)
        return HPy_NULL;
    for (HPy_ssize_t i = 0; i < n; i++) {
        HPy item = HPy_GetItem_i(ctx, seq, i);
        if (HPy_IsNull(item))
            return HPy_NULL;
        total += HPy_Length(ctx, item);
        /* missing: HPy_Close(ctx, item); */
    }
    return HPyLong_FromSsize_t(ctx, total);
}

/* repr() of the first item. Bug: the item's handle is closed before its last use; on CPython the list
   still holds the item, so universal mode happens to work (another host may have moved or freed it). */
HPyDef_METH(first_repr, "first_repr", HPyFunc_O)
static HPy first_repr_impl(HPyContext *ctx, HPy self, HPy seq)
{
    HPy first = HPy_GetItem_i(ctx, seq, 0);
    if (HPy_IsNull(first))
        return HPy_NULL;
    HPy_Close(ctx, first);       /* too early */
    return HPy_Repr(ctx, first); /* use after close */
}

static HPyDef *defines[] = {&total_length, &first_repr, NULL};
static HPyModuleDef moduledef = {.doc = "debug-mode demo", .defines = defines};
HPy_MODINIT(wordcount, moduledef)
