/* tests/headers/legacy_call.c: calls the legacy API; compiles in the hybrid ABI, must NOT in the universal ABI. */
#include "hpy.h"

cpy_PyObject *hpy_headers_legacy_call(HPyContext *ctx, HPy h);

cpy_PyObject *hpy_headers_legacy_call(HPyContext *ctx, HPy h)
{
    return HPy_AsPyObject(ctx, h);
}
