/* bench/ffi/fibhpy.c: fib from libfib.so exposed with HPy (HPyFunc_O), built for any ABI. */
#include "hpy.h"
#include "fib.h"

HPyDef_METH(py_fib, "fib", HPyFunc_O)
static HPy py_fib_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long n = HPyLong_AsLong(ctx, arg);
    if (n == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, fib(n));
}

static HPyDef *defines[] = {&py_fib, NULL};
static HPyModuleDef moduledef = {.doc = NULL, .defines = defines};

HPy_MODINIT(fibhpy, moduledef)
