/* tests/headers/use_buffer.c: the buffer consumer API of ABI 0.1, opted in; must compile cleanly in each ABI. */
#define HPY_ABI_VERSION_MINOR 1
#include "hpy.h"

#if HPY_ABI_VERSION_MINOR != 1 || HPY_ABI_VERSION_MINOR_LATEST < 1
#    error "the module's request is HPY_ABI_VERSION_MINOR"
#endif

HPyDef_METH(first_byte, "first_byte", HPyFunc_O)
static HPy first_byte_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    if (!HPy_CheckBuffer(ctx, arg))
        return HPyErr_SetString(ctx, ctx->h_TypeError, "not a buffer");
    HPy_buffer view;
    if (HPy_GetBuffer(ctx, arg, &view, HPyBUF_RECORDS_RO | HPyBUF_FULL_RO) < 0)
        return HPy_NULL;
    long first = view.len > 0 ? (long)((const unsigned char *)view.buf)[0] : -1;
    HPyBuffer_Release(ctx, &view);
    return HPyLong_FromLong(ctx, first);
}

static HPyDef *defines[] = {&first_byte, NULL};
static HPyModuleDef moddef = {"the buffer consumer API", 0, NULL, defines, NULL};
HPy_MODINIT(use_buffer, moddef)
