/* include/hpy/universal/hpy_universal.h: the universal (and hybrid) ABI: API calls go through the context. */
#ifndef HPY_UNIVERSAL_HPY_UNIVERSAL_H
#define HPY_UNIVERSAL_HPY_UNIVERSAL_H

/* A legacy function called from a universal module is a compile-time error with this message. */
#if defined(__clang__)
#  define _HPY_LEGACY_ONLY(message) __attribute__((unavailable(message)))
#else
#  define _HPY_LEGACY_ONLY(message) __attribute__((error(message)))
#endif

#include "hpy/universal/context_adapter.h"
#include "hpy/universal/api_gen.h"
#include "hpy/universal/trampolines_gen.h"

/* The capsule destructor's block is the capsule itself. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_CAPSULE_DESTRUCTOR(SYM, IMPL)                  \
    static void SYM(cpy_PyObject *capsule)                                        \
    {                                                                             \
        _HPy_CallRealFunctionFromTrampoline(_ctx_for_trampolines,                 \
            HPyFunc_CAPSULE_DESTRUCTOR, (HPyCFunction)IMPL, capsule);             \
    }

#endif /* HPY_UNIVERSAL_HPY_UNIVERSAL_H */
