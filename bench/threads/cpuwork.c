/* bench/threads/cpuwork.c: a CPU-bound universal function for bench/threads.py, which runs it from one
   and from two threads. Each round goes through the HPy API (allocation, arithmetic, closing), so the
   host's own code is what must scale. */
#include "hpy.h"

HPyDef_METH(work, "work", HPyFunc_O)
static HPy work_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long n = HPyLong_AsLong(ctx, arg);
    if (n == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    long total = 0;
    for (long i = 0; i < n; i++) {
        HPy x = HPyLong_FromLong(ctx, 1000 + i % 1000);
        HPy y = HPy_IsNull(x) ? HPy_NULL : HPy_Multiply(ctx, x, x);
        HPy z = HPy_IsNull(y) ? HPy_NULL : HPy_Add(ctx, y, x);
        HPy_Close(ctx, x);
        HPy_Close(ctx, y);
        if (HPy_IsNull(z))
            return HPy_NULL;
        total = (total + HPyLong_AsLong(ctx, z)) % 1000003;
        HPy_Close(ctx, z);
    }
    return HPyLong_FromLong(ctx, total);
}

static HPyDef *defines[] = {&work, NULL};
static HPyModuleDef moduledef = {"A CPU-bound loop through the HPy API.", 0, NULL, defines, NULL};

HPy_MODINIT(cpuwork, moduledef)
/* work() shares nothing between calls: a free-threaded CPython keeps its GIL off. */
HPy_MOD_GIL(cpuwork, HPy_MOD_GIL_NOT_USED)
