/* include/hpy/base.h: HPy's basic types (handles, sizes, enums, plain structs), the same in every ABI. */
#ifndef HPY_BASE_H
#define HPY_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#    include <stdbool.h>
#endif

#ifdef __cplusplus
#    define HPY_EXTERN_C extern "C"
#    define _HPY_EXTERN_C_BEGIN extern "C" {
#    define _HPY_EXTERN_C_END }
#else
#    define HPY_EXTERN_C
#    define _HPY_EXTERN_C_BEGIN
#    define _HPY_EXTERN_C_END
#endif

/* HPyAPI_FUNC: every API function; inline, so a CPython-ABI call costs what the C-API call costs. */
#define HPyAPI_FUNC static inline
/* HPyAPI_RUNTIME_FUNC: runtime and helper functions linked into each extension, never exported. */
#define HPyAPI_RUNTIME_FUNC __attribute__((visibility("hidden"))) extern
/* HPy_EXPORTED_SYMBOL: the module entry points a host looks up. */
#define HPy_EXPORTED_SYMBOL HPY_EXTERN_C __attribute__((visibility("default")))
#define _HPy_HIDDEN __attribute__((visibility("hidden")))
#define _HPy_UNUSED __attribute__((unused))
#define HPy_NORETURN __attribute__((noreturn))
/* A declaration whose call is a compile error carrying `message` (legacy functions in the universal ABI,
   functions beyond the ABI minor version a module requests). */
#if defined(__clang__)
#    define _HPY_UNAVAILABLE(message) __attribute__((unavailable(message)))
#else
#    define _HPY_UNAVAILABLE(message) __attribute__((error(message)))
#endif

#ifdef Py_PYTHON_H
typedef Py_ssize_t HPy_ssize_t;
typedef Py_hash_t HPy_hash_t;
typedef Py_UCS4 HPy_UCS4;
#else
typedef intptr_t HPy_ssize_t;
typedef intptr_t HPy_hash_t;
typedef uint32_t HPy_UCS4;
#endif
/* The range of HPy_ssize_t (the same as Py_ssize_t's). */
#define HPY_SSIZE_T_MAX INTPTR_MAX
#define HPY_SSIZE_T_MIN INTPTR_MIN

/* CPython types as the universal ABI sees them: opaque, never dereferenced by extensions. */
#ifdef Py_PYTHON_H
typedef PyObject cpy_PyObject;
typedef PyMethodDef cpy_PyMethodDef;
typedef PyGetSetDef cpy_PyGetSetDef;
typedef Py_buffer cpy_Py_buffer;
typedef PyCFunction cpy_PyCFunction;
typedef visitproc cpy_visitproc;
typedef getter cpy_getter;
typedef setter cpy_setter;
typedef vectorcallfunc cpy_vectorcallfunc;
typedef PyCapsule_Destructor cpy_PyCapsule_Destructor;
typedef PyModuleDef cpy_PyModuleDef;
#else
typedef struct _object cpy_PyObject;
typedef struct PyMethodDef cpy_PyMethodDef;
typedef struct PyGetSetDef cpy_PyGetSetDef;
typedef struct bufferinfo cpy_Py_buffer;
typedef cpy_PyObject *(*cpy_PyCFunction)(cpy_PyObject *, cpy_PyObject *);
typedef int (*cpy_visitproc)(cpy_PyObject *, void *);
typedef cpy_PyObject *(*cpy_getter)(cpy_PyObject *, void *);
typedef int (*cpy_setter)(cpy_PyObject *, cpy_PyObject *, void *);
typedef cpy_PyObject *(*cpy_vectorcallfunc)(cpy_PyObject *, cpy_PyObject *const *, size_t, cpy_PyObject *);
typedef void (*cpy_PyCapsule_Destructor)(cpy_PyObject *);
typedef struct PyModuleDef cpy_PyModuleDef;
#endif

/* Handles. Only _i == 0 (HPy_NULL) has a meaning shared by all hosts; the rest is the host's. */
typedef struct _HPy_s {
    intptr_t _i;
} HPy; /* an owned reference to an object */
typedef struct {
    intptr_t _i;
} HPyField; /* a reference stored inside an object */
typedef struct {
    intptr_t _i;
} HPyGlobal; /* a reference stored in a C global */
typedef struct {
    intptr_t _lst;
} HPyListBuilder;
typedef struct {
    intptr_t _tup;
} HPyTupleBuilder;
typedef struct {
    intptr_t _i;
} HPyTracker;
typedef struct {
    intptr_t _i;
} HPyThreadState;

typedef struct _HPyContext_s HPyContext;

/* Handle literals that work in C and C++ initialisers. */
#ifdef __cplusplus
#    define _hconv(v)     \
        HPy               \
        {                 \
            (intptr_t)(v) \
        }
#    define _hfconv(v)    \
        HPyField          \
        {                 \
            (intptr_t)(v) \
        }
#    define _hgconv(v)    \
        HPyGlobal         \
        {                 \
            (intptr_t)(v) \
        }
#else
#    define _hconv(v) ((HPy){(intptr_t)(v)})
#    define _hfconv(v) ((HPyField){(intptr_t)(v)})
#    define _hgconv(v) ((HPyGlobal){(intptr_t)(v)})
#endif
#define HPy_NULL _hconv(0)
#define HPyField_NULL _hfconv(0)
#define HPyGlobal_NULL _hgconv(0)
#define HPy_IsNull(h) ((h)._i == 0)
#define HPyField_IsNull(f) ((f)._i == 0)

/* A handle as an opaque pointer and back, e.g. to pass it through a C library's `void *` argument.
   The pointer is not an object: only HPy_FromVoidP gives it meaning again. */
static inline void *HPy_AsVoidP(HPy h)
{
    return (void *)h._i;
}
static inline HPy HPy_FromVoidP(void *p)
{
    return _hconv(p);
}

/* The type of function pointers stored in definitions; cast to the real signature before a call. */
typedef void (*HPyCFunction)(void);

/* The visitor tp_traverse implementations call on each HPyField of an object. */
typedef int (*HPyFunc_visitproc)(HPyField *, void *);

typedef enum { HPy_LT = 0, HPy_LE = 1, HPy_EQ = 2, HPy_NE = 3, HPy_GT = 4, HPy_GE = 5 } HPy_RichCmpOp;

/* For HPy_Compile_s: what the source is. */
typedef enum { HPy_SourceKind_Expr = 0, HPy_SourceKind_File = 1, HPy_SourceKind_Single = 2 } HPy_SourceKind;

/* For HPyCapsule_Get/Set: which part of the capsule. */
typedef enum {
    HPyCapsule_key_Pointer = 0,
    HPyCapsule_key_Name = 1,
    HPyCapsule_key_Context = 2,
    HPyCapsule_key_Destructor = 3
} _HPyCapsule_key;

/* What a type's instances are made of (HPyType_Spec.builtin_shape). */
typedef enum {
    HPyType_BuiltinShape_Legacy = -1,
    HPyType_BuiltinShape_Object = 0,
    HPyType_BuiltinShape_Type = 1,
    HPyType_BuiltinShape_Long = 2,
    HPyType_BuiltinShape_Float = 3,
    HPyType_BuiltinShape_Unicode = 4,
    HPyType_BuiltinShape_Tuple = 5,
    HPyType_BuiltinShape_List = 6
} HPyType_BuiltinShape;

/* What a buffer request asks of the exporter (HPy_GetBuffer's and HPy_bf_getbuffer's `flags`): the
   values of CPython's PyBUF_* flags. */
#define HPyBUF_SIMPLE 0
#define HPyBUF_WRITABLE 0x0001
#define HPyBUF_FORMAT 0x0004
#define HPyBUF_ND 0x0008
#define HPyBUF_STRIDES (0x0010 | HPyBUF_ND)
#define HPyBUF_C_CONTIGUOUS (0x0020 | HPyBUF_STRIDES)
#define HPyBUF_F_CONTIGUOUS (0x0040 | HPyBUF_STRIDES)
#define HPyBUF_ANY_CONTIGUOUS (0x0080 | HPyBUF_STRIDES)
#define HPyBUF_INDIRECT (0x0100 | HPyBUF_STRIDES)
#define HPyBUF_CONTIG (HPyBUF_ND | HPyBUF_WRITABLE)
#define HPyBUF_CONTIG_RO (HPyBUF_ND)
#define HPyBUF_STRIDED (HPyBUF_STRIDES | HPyBUF_WRITABLE)
#define HPyBUF_STRIDED_RO (HPyBUF_STRIDES)
#define HPyBUF_RECORDS (HPyBUF_STRIDES | HPyBUF_WRITABLE | HPyBUF_FORMAT)
#define HPyBUF_RECORDS_RO (HPyBUF_STRIDES | HPyBUF_FORMAT)
#define HPyBUF_FULL (HPyBUF_INDIRECT | HPyBUF_WRITABLE | HPyBUF_FORMAT)
#define HPyBUF_FULL_RO (HPyBUF_INDIRECT | HPyBUF_FORMAT)

/* A buffer as exported by HPy_bf_getbuffer or filled by HPy_GetBuffer; the same fields as CPython's
   Py_buffer. A view filled by HPy_GetBuffer owns `obj` and keeps the host's own record in `internal`:
   give it back with HPyBuffer_Release, never close `obj` yourself. */
typedef struct {
    void *buf;
    HPy obj; /* owned by the view */
    HPy_ssize_t len;
    HPy_ssize_t itemsize;
    int readonly;
    int ndim;
    char *format;
    HPy_ssize_t *shape;
    HPy_ssize_t *strides;
    HPy_ssize_t *suboffsets;
    void *internal;
} HPy_buffer;

/* A call function (HPyDef_CALL_FUNCTION): what calling an object runs. */
typedef struct {
    cpy_vectorcallfunc cpy_trampoline;
    HPyCFunction impl;
} HPyCallFunction;

/* A capsule destructor (HPyCapsule_DESTRUCTOR). */
typedef struct {
    cpy_PyCapsule_Destructor cpy_trampoline;
    HPyCFunction impl;
} HPyCapsule_Destructor;

#endif /* HPY_BASE_H */
