/* include/hpy/universal/hpy_universal.h: the universal (and hybrid) ABI: API calls go through the context. */
#ifndef HPY_UNIVERSAL_HPY_UNIVERSAL_H
#define HPY_UNIVERSAL_HPY_UNIVERSAL_H

/* A legacy function called from a universal module is a compile-time error with this message. */
#if defined(__clang__)
#  define _HPY_LEGACY_ONLY(message) __attribute__((unavailable(message)))
#else
#  define _HPY_LEGACY_ONLY(message) __attribute__((error(message)))
#endif

/* Direct calls. A host whose handles are the PyObject pointers themselves (unihpy's CPython host in
   universal mode) calls _HPyInitDirectCalls_NAME with the module's context; while the module runs
   with that context, its trampolines convert arguments and result themselves, as the host would,
   and call the implementation without the round trip through ctx_CallRealFunctionFromTrampoline.
   Every other host and context (HPy 0.9, PyPy, debug and trace modes) takes the host's path. */
#define _HPY_DIRECT_CALLS() (__builtin_expect(_ctx_for_trampolines == _ctx_direct_calls, 1))
#define _hpy_direct_h(o) _hconv(o)
#define _hpy_direct_o(h) ((cpy_PyObject *)(h)._i)
/* The positional count of a vectorcall nargsf (CPython's PY_VECTORCALL_ARGUMENTS_OFFSET is the top bit). */
#define _HPY_VECTORCALL_NARGS(nargsf) ((size_t)(nargsf) & ~((size_t)1 << (8 * sizeof(size_t) - 1)))

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
