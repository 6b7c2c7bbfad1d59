/* include/hpy/source_compat.h: names that sources written for HPy 0.9's headers use and unihpy's
   own headers do not need: annotation macros, the generic HPyFunc macros, and the standard headers
   HPy 0.9's hpy.h brings in. Nothing here changes the ABI. */
#ifndef HPY_SOURCE_COMPAT_H
#define HPY_SOURCE_COMPAT_H

#include <assert.h>
#include <stdlib.h>
#if defined(__has_include)
#    if __has_include(<alloca.h>)
#        include <alloca.h>
#    endif
#endif

/* Annotations of API functions, helpers and implementation functions. */
#define HPyAPI_INLINE_HELPER HPyAPI_FUNC
#define HPyAPI_HELPER _HPy_HIDDEN
#define HPyAPI_IMPL _HPy_HIDDEN
#define HPyAPI_UNUSED __attribute__((unused)) static inline

/* An exported function with C linkage (the module entry points use it). */
#define HPy_EXPORTED_FUNC HPy_EXPORTED_SYMBOL

/* The declaration of an implementation function of signature SIG (an HPyFunc_Signature name), and
   the trampoline that calls IMPL; the enum constant makes an unknown SIG a readable error. */
#define HPyFunc_DECLARE(SYM, SIG) \
    enum { SYM##_sig = SIG };     \
    _HPyFunc_DECLARE_##SIG(SYM)
#define HPyFunc_TRAMPOLINE(SYM, IMPL, SIG) \
    enum { SYM##_sig = SIG };              \
    _HPyFunc_TRAMPOLINE_##SIG(SYM, IMPL)

#endif /* HPY_SOURCE_COMPAT_H */
