/* include/hpy/hpydef.h: definitions of methods, slots, members and getsets (HPyDef) and their macros. */
#ifndef HPY_HPYDEF_H
#define HPY_HPYDEF_H

typedef enum {
    HPyDef_Kind_Slot = 1,
    HPyDef_Kind_Meth = 2,
    HPyDef_Kind_Member = 3,
    HPyDef_Kind_GetSet = 4
} HPyDef_Kind;

/* A type or module slot: `slot` says which, `impl` has the slot's HPyFunc signature. */
typedef struct {
    HPySlot_Slot slot;
    HPyCFunction impl;
    void *cpy_trampoline;
} HPySlot;

/* A method: `impl` has the signature `signature` (VARARGS, KEYWORDS, NOARGS or O). */
typedef struct {
    const char *name;
    HPyCFunction impl;
    cpy_PyCFunction cpy_trampoline;
    HPyFunc_Signature signature;
    const char *doc;
} HPyMeth;

/* The C types of members; the numbers are CPython's T_* codes. */
typedef enum {
    HPyMember_SHORT = 0,
    HPyMember_INT = 1,
    HPyMember_LONG = 2,
    HPyMember_FLOAT = 3,
    HPyMember_DOUBLE = 4,
    HPyMember_STRING = 5,
    HPyMember_OBJECT = 6,
    HPyMember_CHAR = 7,
    HPyMember_BYTE = 8,
    HPyMember_UBYTE = 9,
    HPyMember_USHORT = 10,
    HPyMember_UINT = 11,
    HPyMember_ULONG = 12,
    HPyMember_STRING_INPLACE = 13,
    HPyMember_BOOL = 14,
    HPyMember_OBJECT_EX = 16,
    HPyMember_LONGLONG = 17,
    HPyMember_ULONGLONG = 18,
    HPyMember_HPYSSIZET = 19,
    HPyMember_NONE = 20
} HPyMember_FieldType;

/* A member: a field at `offset` of the instance's struct, exposed as an attribute. */
typedef struct {
    const char *name;
    HPyMember_FieldType type;
    HPy_ssize_t offset;
    int readonly;
    const char *doc;
} HPyMember;

/* A computed attribute: getter and/or setter, with a closure passed to both. */
typedef struct {
    const char *name;
    HPyCFunction getter_impl;
    HPyCFunction setter_impl;
    cpy_getter getter_cpy_trampoline;
    cpy_setter setter_cpy_trampoline;
    const char *doc;
    void *closure;
} HPyGetSet;

/* What HPyDef_METH initialises: the method and, in the CPython ABI for a NOARGS method, the same
   method as a METH_FASTCALL function (`cpy_trampoline` is the METH_NOARGS one, as in HPy 0.9).
   CPython calls a module function faster as METH_FASTCALL and a method of a type faster as
   METH_NOARGS; the runtime picks. A definition written by hand (`.meth = {...}`) leaves it null. */
typedef struct {
    HPyMeth meth;
    cpy_PyCFunction fastcall_trampoline;
} _HPyMethFastcall;

/* One definition of a module or a type; lists of them end with NULL. `_meth_fastcall` overlays
   `meth` (it fits in the space of `getset`: the layout of HPyDef is HPy 0.9's). */
typedef struct {
    HPyDef_Kind kind;
    union {
        HPySlot slot;
        HPyMeth meth;
        HPyMember member;
        HPyGetSet getset;
        _HPyMethFastcall _meth_fastcall;
    };
} HPyDef;

/* Definitions name only the fields they set; C++ would warn about the others. */
#ifdef __cplusplus
#    define _HPY_DEF_BEGIN \
        _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")
#    define _HPY_DEF_END _Pragma("GCC diagnostic pop")
#else
#    define _HPY_DEF_BEGIN
#    define _HPY_DEF_END
#endif

/* Declares SYM and its implementation SYM_impl, written right after:
       HPyDef_METH(add, "add", HPyFunc_VARARGS, .doc = "adds")
       static HPy add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs) { ... }
   Each HPyDef_X has an HPyDef_X_IMPL form that names the implementation (or getter and setter)
   instead of deriving it from SYM, as in HPy 0.9. */
#define HPyDef_METH(SYM, NAME, SIG, ...) HPyDef_METH_IMPL(SYM, NAME, SYM##_impl, SIG, __VA_ARGS__)
#define HPyDef_METH_IMPL(SYM, NAME, IMPL, SIG, ...)                                       \
    _HPyFunc_DECLARE_##SIG(IMPL);                                                         \
    _HPyMeth_TRAMPOLINES_##SIG(SYM, IMPL) _HPY_DEF_BEGIN HPyDef SYM = {                   \
        .kind = HPyDef_Kind_Meth,                                                         \
        ._meth_fastcall = {                                                               \
            .meth = {.name = NAME,                                                        \
                     .impl = (HPyCFunction)IMPL,                                          \
                     .cpy_trampoline = (cpy_PyCFunction)(void (*)(void))SYM##_trampoline, \
                     .signature = SIG,                                                    \
                     __VA_ARGS__},                                                        \
            .fastcall_trampoline = _HPyMeth_FASTCALL_##SIG(SYM),                          \
        }};                                                                               \
    _HPY_DEF_END

/* A slot, e.g. HPyDef_SLOT(Point_repr, HPy_tp_repr); the implementation is SYM_impl. */
#define HPyDef_SLOT(SYM, SLOT) HPyDef_SLOT_IMPL(SYM, SYM##_impl, SLOT)
#define HPyDef_SLOT_IMPL(SYM, IMPL, SLOT) _HPyDef_SLOT_EXPAND(SYM, IMPL, SLOT, HPySlot_SIG(SLOT))
/* The HPyFunc_Signature of a slot: HPySlot_SIG(HPy_tp_repr) is HPyFunc_REPRFUNC. */
#define HPySlot_SIG(SLOT) _HPySlot_SIG__##SLOT
#define _HPyDef_SLOT_EXPAND(SYM, IMPL, SLOT, SIG) _HPyDef_SLOT_WITH_SIG(SYM, IMPL, SLOT, SIG)
#define _HPyDef_SLOT_WITH_SIG(SYM, IMPL, SLOT, SIG)                                  \
    _HPyFunc_DECLARE_##SIG(IMPL);                                                    \
    _HPyFunc_TRAMPOLINE_##SIG(SYM##_trampoline, IMPL)                                \
        _HPY_DEF_BEGIN HPyDef SYM = {.kind = HPyDef_Kind_Slot,                       \
                                     .slot = {                                       \
                                         .slot = SLOT,                               \
                                         .impl = (HPyCFunction)IMPL,                 \
                                         .cpy_trampoline = (void *)SYM##_trampoline, \
                                     }};                                             \
    _HPY_DEF_END

/* A member, e.g. HPyDef_MEMBER(Point_x, "x", HPyMember_LONG, offsetof(Point, x), .readonly = 1). */
#define HPyDef_MEMBER(SYM, NAME, TYPE, OFFSET, ...)                                       \
    _HPY_DEF_BEGIN                                                                        \
    HPyDef SYM = {.kind = HPyDef_Kind_Member,                                             \
                  .member = {.name = NAME, .type = TYPE, .offset = OFFSET, __VA_ARGS__}}; \
    _HPY_DEF_END

/* A read-only attribute computed by SYM_get(ctx, self, closure). */
#define HPyDef_GET(SYM, NAME, ...) HPyDef_GET_IMPL(SYM, NAME, SYM##_get, __VA_ARGS__)
#define HPyDef_GET_IMPL(SYM, NAME, GETIMPL, ...)                                                    \
    _HPyFunc_DECLARE_HPyFunc_GETTER(GETIMPL);                                                       \
    _HPyFunc_TRAMPOLINE_HPyFunc_GETTER(SYM##_get_trampoline, GETIMPL) _HPY_DEF_BEGIN HPyDef SYM = { \
        .kind = HPyDef_Kind_GetSet,                                                                 \
        .getset = {.name = NAME,                                                                    \
                   .getter_impl = (HPyCFunction)GETIMPL,                                            \
                   .getter_cpy_trampoline = (cpy_getter)(void (*)(void))SYM##_get_trampoline,       \
                   __VA_ARGS__}};                                                                   \
    _HPY_DEF_END

/* A write-only attribute set by SYM_set(ctx, self, value, closure). */
#define HPyDef_SET(SYM, NAME, ...) HPyDef_SET_IMPL(SYM, NAME, SYM##_set, __VA_ARGS__)
#define HPyDef_SET_IMPL(SYM, NAME, SETIMPL, ...)                                                           \
    _HPyFunc_DECLARE_HPyFunc_SETTER(SETIMPL);                                                              \
    _HPyFunc_TRAMPOLINE_HPyFunc_SETTER(SYM##_set_trampoline, SETIMPL)                                      \
        _HPY_DEF_BEGIN HPyDef SYM = {.kind = HPyDef_Kind_GetSet,                                           \
                                     .getset = {.name = NAME,                                              \
                                                .setter_impl = (HPyCFunction)SETIMPL,                      \
                                                .setter_cpy_trampoline = (cpy_setter)SYM##_set_trampoline, \
                                                __VA_ARGS__}};                                             \
    _HPY_DEF_END

/* An attribute with both SYM_get and SYM_set. */
#define HPyDef_GETSET(SYM, NAME, ...) HPyDef_GETSET_IMPL(SYM, NAME, SYM##_get, SYM##_set, __VA_ARGS__)
#define HPyDef_GETSET_IMPL(SYM, NAME, GETIMPL, SETIMPL, ...)                                            \
    _HPyFunc_DECLARE_HPyFunc_GETTER(GETIMPL);                                                           \
    _HPyFunc_DECLARE_HPyFunc_SETTER(SETIMPL);                                                           \
    _HPyFunc_TRAMPOLINE_HPyFunc_GETTER(SYM##_get_trampoline, GETIMPL)                                   \
        _HPyFunc_TRAMPOLINE_HPyFunc_SETTER(SYM##_set_trampoline, SETIMPL) _HPY_DEF_BEGIN HPyDef SYM = { \
            .kind = HPyDef_Kind_GetSet,                                                                 \
            .getset = {.name = NAME,                                                                    \
                       .getter_impl = (HPyCFunction)GETIMPL,                                            \
                       .setter_impl = (HPyCFunction)SETIMPL,                                            \
                       .getter_cpy_trampoline = (cpy_getter)(void (*)(void))SYM##_get_trampoline,       \
                       .setter_cpy_trampoline = (cpy_setter)SYM##_set_trampoline,                       \
                       __VA_ARGS__}};                                                                   \
    _HPY_DEF_END

/* A call function for HPy_SetCallFunction / HPy_tp_call; SYM_impl(ctx, callable, args, nargs, kwnames). */
#define HPyDef_CALL_FUNCTION(SYM)                                                                    \
    _HPyFunc_DECLARE_HPyFunc_VECTORCALLFUNC(SYM##_impl);                                             \
    _HPyFunc_TRAMPOLINE_HPyFunc_VECTORCALLFUNC(SYM##_trampoline, SYM##_impl) HPyCallFunction SYM = { \
        (cpy_vectorcallfunc)(void (*)(void))SYM##_trampoline, (HPyCFunction)SYM##_impl};

/* The C-side function of a capsule destructor: SYM(capsule) calls IMPL(name, pointer, context). */
#define HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM, IMPL) _HPyFunc_TRAMPOLINE_HPyFunc_CAPSULE_DESTRUCTOR(SYM, IMPL)

/* A capsule destructor; SYM_impl(name, pointer, context) runs without a context. */
#define HPyCapsule_DESTRUCTOR(SYM)                                 \
    _HPyFunc_DECLARE_HPyFunc_CAPSULE_DESTRUCTOR(SYM##_impl);       \
    HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM##_trampoline, SYM##_impl) \
        HPyCapsule_Destructor SYM = {(cpy_PyCapsule_Destructor)SYM##_trampoline, (HPyCFunction)SYM##_impl};

/* tp_destroy never has a C-side trampoline: the host's tp_dealloc calls the implementation. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTROYFUNC(SYM, IMPL) \
    static void SYM(void) {}
/* A call function has the KEYWORDS shape on the C side (vectorcall). */
#define _HPyFunc_TRAMPOLINE_HPyFunc_VECTORCALLFUNC(SYM, IMPL) _HPyFunc_TRAMPOLINE_HPyFunc_KEYWORDS(SYM, IMPL)

#endif /* HPY_HPYDEF_H */
