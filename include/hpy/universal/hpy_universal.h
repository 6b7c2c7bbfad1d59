/* include/hpy/universal/hpy_universal.h: the universal (and hybrid) ABI: API calls go through the context. */
#ifndef HPY_UNIVERSAL_HPY_UNIVERSAL_H
#define HPY_UNIVERSAL_HPY_UNIVERSAL_H

/* A legacy function called from a universal module is a compile-time error with this message. */
#define _HPY_LEGACY_ONLY(message) _HPY_UNAVAILABLE(message)

/* Direct calls. A host whose handles are the PyObject pointers themselves and whose tuples have
   CPython's usual layout (unihpy's CPython host in universal mode) calls _HPyInitDirectCalls_NAME
   with the context it just gave HPyInitGlobalContext_NAME (which resets it). While it is set, the
   module's trampolines convert arguments and result themselves, as the host would, and call the
   implementation without the round trip through ctx_CallRealFunctionFromTrampoline. Every other
   host and context (HPy 0.9, PyPy, debug and trace modes) takes the host's path. A host that
   calls it also promises that its ctx_AsStruct_Object adds a constant offset to the handle. */
#if defined(__GNUC__) || defined(__clang__)
#    define _HPY_DIRECT_CALLS() (__builtin_expect(_ctx_direct_calls != NULL, 1))
#    define _HPY_COLD __attribute__((noinline, cold))
#else
#    define _HPY_DIRECT_CALLS() (_ctx_direct_calls != NULL)
#    define _HPY_COLD
#endif
#define _hpy_direct_h(o) _hconv(o)
#define _hpy_direct_o(h) ((cpy_PyObject *)(h)._i)
/* The direct path of a trampoline that returns an object returns the implementation's handle as it
   is, on the ABIs where a one-pointer struct and a pointer come back in the same register, so that
   the call ending the implementation (inlined into the trampoline) can be a jump: compilers make
   none when the return types differ, and GCC makes none either once scalar replacement has split
   the handle that the inlined implementation returns (hence the function's optimize attribute).
   HPyDef casts trampolines to the C-API function types through void (*)(void). */
#if defined(__x86_64__) || defined(__aarch64__)
#    define _HPY_DIRECT_RESULT HPy
#    define _hpy_direct_r(h) (h)
#    define _hpy_direct_r_from_o(o) _hconv(o)
#    if defined(__GNUC__) && !defined(__clang__)
#        define _HPY_DIRECT_TAIL __attribute__((optimize("no-tree-sra")))
#    else
#        define _HPY_DIRECT_TAIL
#    endif
#else
#    define _HPY_DIRECT_RESULT cpy_PyObject *
#    define _hpy_direct_r(h) _hpy_direct_o(h)
#    define _hpy_direct_r_from_o(o) (o)
#    define _HPY_DIRECT_TAIL
#endif
/* A tuple's size and item array (PyObject_VAR_HEAD then the items): tp_new and tp_init arguments. */
#define _HPY_DIRECT_TUPLE_SIZE(t) (*(const HPy_ssize_t *)((const char *)(t) + 2 * sizeof(void *)))
#define _HPY_DIRECT_TUPLE_ITEMS(t) ((const HPy *)((const char *)(t) + 3 * sizeof(void *)))
/* The positional count of a vectorcall nargsf (CPython's PY_VECTORCALL_ARGUMENTS_OFFSET is the top bit). */
#define _HPY_VECTORCALL_NARGS(nargsf) ((size_t)(nargsf) & ~((size_t)1 << (8 * sizeof(size_t) - 1)))

/* API functions the module does itself with the context of direct calls (`universal=direct` in
   devtools/api/hpy.api). The struct of a pure type's object starts _HPy_DirectObjectOffset bytes
   into the object: the host's ctx_AsStruct_Object adds that constant, and _HPyInitDirectCalls_NAME
   asks it once (of the null handle). A Legacy type's struct is the object itself. */
_HPY_EXTERN_C_BEGIN
extern _HPy_HIDDEN intptr_t _HPy_DirectObjectOffset;
_HPY_EXTERN_C_END
#define _HPY_DIRECT__HPy_AsStruct_Object(ctx, h) ((void *)((char *)(h)._i + _HPy_DirectObjectOffset))
#define _HPY_DIRECT__HPy_AsStruct_Legacy(ctx, h) ((void *)(h)._i)

#include "hpy/universal/context_adapter.h"
#include "hpy/universal/api_gen.h"
#include "hpy/universal/trampolines_gen.h"

/* The capsule destructor's block is the capsule itself. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_CAPSULE_DESTRUCTOR(SYM, IMPL)                             \
    static void SYM(cpy_PyObject *capsule)                                                    \
    {                                                                                         \
        _HPy_CallRealFunctionFromTrampoline(_ctx_for_trampolines, HPyFunc_CAPSULE_DESTRUCTOR, \
                                            (HPyCFunction)IMPL, capsule);                     \
    }

#endif /* HPY_UNIVERSAL_HPY_UNIVERSAL_H */
