// tests/fuzz/fuzz_init.cpp: the C entry to the runtime's context set-up, for the C fuzz drivers.
#include "runtime/cpython/context_init.h"

extern "C" int fuzz_init_context(HPyContext *ctx)
{
    return hpy::cpython::init_context(ctx, "HPy CPython ABI (fuzzing)") ? 1 : 0;
}

extern "C" PyModuleDef *fuzz_make_module_def(HPyModuleDef *hpydef, const char *name, HPyContext *ctx)
{
    return hpy::cpython::make_module_def(hpydef, name, ctx, /*allow_legacy=*/false, HPy_MOD_GIL_USED);
}
