/* tests/headers/beyond_minor.c: calls a function of ABI 0.1 without requesting it; must NOT compile in any ABI. */
#include "hpy.h"

int hpy_headers_beyond_minor(HPyContext *ctx, HPy h);

int hpy_headers_beyond_minor(HPyContext *ctx, HPy h)
{
    HPy_buffer view;
    return HPy_GetBuffer(ctx, h, &view, HPyBUF_SIMPLE);
}
