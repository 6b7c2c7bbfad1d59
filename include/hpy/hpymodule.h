/* include/hpy/hpymodule.h: module definitions (HPyModuleDef) and the HPy_MODINIT entry points. */
#ifndef HPY_HPYMODULE_H
#define HPY_HPYMODULE_H

/* What a module holds. `defines` and `globals` are NULL-terminated; module state (size != 0)
   is not part of HPy 0.9 and hosts refuse it. */
typedef struct {
    const char *doc;
    HPy_ssize_t size;
    cpy_PyMethodDef *legacy_methods; /* CPython-ABI and hybrid modules only */
    HPyDef **defines;
    HPyGlobal **globals;
} HPyModuleDef;

#ifdef HPY_UNIVERSAL_DISPATCH
/* The context every trampoline of this module passes to the host (set by the host at load), and the
   context, if any, whose handles are the PyObject pointers themselves: with it the trampolines call
   the implementation directly instead of through the host (see universal/hpy_universal.h).
   With HPY_EMBEDDED_MODULES defined, several modules share one binary: each keeps them in static
   variables, which HPY_MOD_EMBEDDABLE(name) declares before the module's first HPyDef (all of a
   module's definitions are then in one C file). Without it, HPY_MOD_EMBEDDABLE does nothing. */
#    ifdef HPY_EMBEDDED_MODULES
#        define HPY_MOD_EMBEDDABLE(EXT)              \
            static HPyContext *_ctx_for_trampolines; \
            static HPyContext *_ctx_direct_calls;
#        define _HPY_CTX_DEFINITION /* HPY_MOD_EMBEDDABLE defined them */
/* Shared by the modules of the binary, like _HPy_ContextShift (one host loads them all). */
#        define _HPY_OFFSET_DEFINITION                                                              \
            _HPY_EXTERN_C_BEGIN __attribute__((weak)) _HPy_HIDDEN intptr_t _HPy_DirectObjectOffset; \
            _HPY_EXTERN_C_END
#    else
#        define HPY_MOD_EMBEDDABLE(EXT)
#        define _HPY_CTX_DEFINITION                                           \
            _HPY_EXTERN_C_BEGIN _HPy_HIDDEN HPyContext *_ctx_for_trampolines; \
            _HPY_EXTERN_C_END
_HPY_EXTERN_C_BEGIN
extern _HPy_HIDDEN HPyContext *_ctx_for_trampolines;
/* Weak, and defined in every file that includes hpy.h: a module whose entry points are written by
   hand (no HPy_MODINIT) has it too, and it stays NULL there (no direct calls). */
__attribute__((weak)) _HPy_HIDDEN HPyContext *_ctx_direct_calls;
/* The struct offset of direct calls (universal/hpy_universal.h), defined the same way. */
__attribute__((weak)) _HPy_HIDDEN intptr_t _HPy_DirectObjectOffset;
_HPY_EXTERN_C_END
#        define _HPY_OFFSET_DEFINITION
#    endif

/* The layout shift of the host's context (hpy/universal/context_adapter.h): one per binary, weak so
   that the modules embedded in one binary share it (they are all loaded by the same host). */
#    define _HPY_SHIFT_DEFINITION                                                         \
        _HPY_EXTERN_C_BEGIN __attribute__((weak)) _HPy_HIDDEN intptr_t _HPy_ContextShift; \
        _HPY_EXTERN_C_END                                                                 \
        _HPY_OFFSET_DEFINITION

/* The four entry points of a universal module (EXT: the last part of the module's name). */
#    define HPy_MODINIT(EXT, MODDEF)                                                                     \
        HPy_EXPORTED_SYMBOL uint32_t get_required_hpy_major_version_##EXT(void)                          \
        {                                                                                                \
            return HPY_ABI_VERSION;                                                                      \
        }                                                                                                \
        HPy_EXPORTED_SYMBOL uint32_t get_required_hpy_minor_version_##EXT(void)                          \
        {                                                                                                \
            return HPY_ABI_VERSION_MINOR;                                                                \
        }                                                                                                \
        _HPY_CTX_DEFINITION                                                                              \
        _HPY_SHIFT_DEFINITION                                                                            \
        HPy_EXPORTED_SYMBOL void HPyInitGlobalContext_##EXT(HPyContext *ctx)                             \
        {                                                                                                \
            _HPy_ContextShift = _HPy_DetectContextShift(ctx);                                            \
            _ctx_for_trampolines = ctx;                                                                  \
            _ctx_direct_calls = NULL; /* until the host says otherwise, right after */                   \
        }                                                                                                \
        /* Optional, beyond HPy 0.9: a host whose handles are PyObject pointers */                       \
        /* passes the context it gave HPyInitGlobalContext (other hosts never call). */                  \
        HPy_EXPORTED_SYMBOL void _HPyInitDirectCalls_##EXT(HPyContext *ctx)                              \
        {                                                                                                \
            _HPy_DirectObjectOffset = (intptr_t)ctx->ctx_AsStruct_Object(ctx, HPy_NULL);                 \
            _ctx_direct_calls = ctx;                                                                     \
        }                                                                                                \
        /* An HPy 0.9 host hands over its context first. A host of an older HPy (0.0.x: PyPy 7.3.11's */ \
        /* own) does not, calls this with its context and reads the result as a module handle: NULL, */  \
        /* its "failed", is the only answer it reads safely, and it raises instead of crashing. */       \
        HPy_EXPORTED_SYMBOL HPyModuleDef *HPyInit_##EXT(void)                                            \
        {                                                                                                \
            return _ctx_for_trampolines != NULL ? &MODDEF : NULL;                                        \
        }
/* The declaration of HPy_MOD_GIL: an optional entry point, looked up by unihpy's host only. */
#    define HPy_MOD_GIL(EXT, VALUE)                    \
        HPy_EXPORTED_SYMBOL int _HPyModGIL_##EXT(void) \
        {                                              \
            return (VALUE);                            \
        }
#else
/* CPython-ABI modules have no module context variable: nothing to declare. */
#    define HPY_MOD_EMBEDDABLE(EXT)
_HPY_EXTERN_C_BEGIN
HPyAPI_RUNTIME_FUNC PyObject *_HPyModuleDef_AsPyInit(HPyModuleDef *def, const char *name, int gil);
_HPY_EXTERN_C_END
/* A CPython-ABI module is an ordinary extension: PyInit_EXT with multi-phase initialisation. Its
   HPy_MOD_GIL declaration, if the file has one, is a function that a weak reference finds. */
#    define HPy_MODINIT(EXT, MODDEF)                                                                         \
        _HPY_EXTERN_C_BEGIN __attribute__((weak)) _HPy_HIDDEN int _HPyModGIL_##EXT(void);                    \
        _HPY_EXTERN_C_END                                                                                    \
        PyMODINIT_FUNC PyInit_##EXT(void)                                                                    \
        {                                                                                                    \
            return _HPyModuleDef_AsPyInit(&MODDEF, #EXT,                                                     \
                                          _HPyModGIL_##EXT != NULL ? _HPyModGIL_##EXT() : HPy_MOD_GIL_USED); \
        }
#    define HPy_MOD_GIL(EXT, VALUE)                                \
        _HPY_EXTERN_C_BEGIN _HPy_HIDDEN int _HPyModGIL_##EXT(void) \
        {                                                          \
            return (VALUE);                                        \
        }                                                          \
        _HPY_EXTERN_C_END
#endif

/* Beyond HPy 0.9: whether a module needs the GIL, with the meaning of CPython's Py_mod_gil slot.
   Written after HPy_MODINIT, `HPy_MOD_GIL(EXT, HPy_MOD_GIL_NOT_USED)` says the module is safe to run
   without the GIL: on a free-threaded CPython, importing it then leaves the GIL disabled. A module
   without it gets CPython's default (HPy_MOD_GIL_USED: importing it re-enables the GIL, with
   CPython's RuntimeWarning). The declaration is a hint that is safe to ignore, so it needs no newer
   ABI minor version: HPy 0.9 hosts (PyPy's) never look for it and load the module as before, and on
   interpreters with a GIL it changes nothing. */
#define HPy_MOD_GIL_USED 0
#define HPy_MOD_GIL_NOT_USED 1

#endif /* HPY_HPYMODULE_H */
