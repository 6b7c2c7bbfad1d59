/* tests/fuzz/fuzz_common.c: the embedded interpreter and the object maker the fuzz drivers share. */
#include <Python.h>

#include "fuzz_common.h"

HPyContext *fuzz_context(void)
{
    static HPyContext *ctx = NULL;
    if (ctx == NULL) {
        Py_InitializeEx(0);
        ctx = _HPyGetContext();
        if (!fuzz_init_context(ctx)) {
            PyErr_Print();
            abort();
        }
    }
    return ctx;
}

static HPy make_object(HPyContext *ctx, FuzzReader *r)
{
    uint8_t kind = fuzz_byte(r) % 12;
    long v = (long)(int8_t)fuzz_byte(r);
    switch (kind) {
    case 0:
        return HPyLong_FromLong(ctx, v);
    case 1:
        return HPyLong_FromLongLong(ctx, (long long)v * (1LL << 40));
    case 2:
        return HPyLong_FromUnsignedLongLong(ctx, ~0ULL - (unsigned long long)(v & 0xff));
    case 3: { /* larger than any C integer */
        HPy big = HPyLong_FromUnsignedLongLong(ctx, ~0ULL);
        HPy shift = HPyLong_FromLong(ctx, 64 + (v & 31));
        HPy r2 = HPy_Lshift(ctx, big, shift);
        HPy_Close(ctx, big);
        HPy_Close(ctx, shift);
        return r2;
    }
    case 4:
        return HPyFloat_FromDouble(ctx, v == 0 ? 1e308 * 10 : v / 3.0);
    case 5: {
        char buf[32];
        return HPyUnicode_FromString(ctx, fuzz_string(r, ',', buf, sizeof(buf)));
    }
    case 6:
        return HPyUnicode_FromString(ctx, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\x8d");
    case 7:
        return HPyBytes_FromStringAndSize(ctx, "b\0ytes", 6);
    case 8:
        return HPy_Dup(ctx, ctx->h_None);
    case 9:
        return HPy_Dup(ctx, v & 1 ? ctx->h_True : ctx->h_False);
    case 10: {
        HPy items[2] = {HPyLong_FromLong(ctx, v), HPy_Dup(ctx, ctx->h_None)};
        HPy t = HPyTuple_FromArray(ctx, items, 2);
        HPy_Close(ctx, items[0]);
        HPy_Close(ctx, items[1]);
        return t;
    }
    default:
        return HPyList_New(ctx, (HPy_ssize_t)(v & 3));
    }
}

HPy fuzz_object(HPyContext *ctx, FuzzReader *r)
{
    HPy h = make_object(ctx, r);
    if (HPy_IsNull(h)) { /* e.g. bytes that are not UTF-8: an argument is never HPy_NULL */
        HPyErr_Clear(ctx);
        h = HPy_Dup(ctx, ctx->h_None);
    }
    return h;
}
