/* include/hpy/hpytype.h: type specifications (HPyType_Spec) and the per-type helper macros. */
#ifndef HPY_HPYTYPE_H
#define HPY_HPYTYPE_H

/* Type flags: the values of CPython's Py_TPFLAGS_* that HPy exposes. */
#define HPy_TPFLAGS_DEFAULT ((1UL << 9) | (1UL << 18))
#define HPy_TPFLAGS_BASETYPE (1UL << 10)
#define HPy_TPFLAGS_HAVE_GC (1UL << 14)
/* Set by the host itself on types with the HPy call protocol (HPy_tp_call or a '__vectorcalloffset__'
   member); a spec may name it, and it means nothing more there. */
#define HPy_TPFLAGS_HAVE_VECTORCALL (1UL << 11)

/* A call function paired with its trampoline, as HPy 0.9 declares it (no API takes it). */
typedef struct {
    cpy_vectorcallfunc cpy_trampoline;
    HPyCallFunction impl;
} HPyType_Vectorcall;

/* How to build a type. `defines` is a NULL-terminated array; `basicsize` is the size of the
   instance's C struct (without any object header: HPy adds it). */
typedef struct {
    const char *name; /* "module.Name" */
    int basicsize;
    int itemsize;
    unsigned long flags;
    HPyType_BuiltinShape builtin_shape;
    void *legacy_slots; /* PyType_Slot[] (Legacy shape only, not in universal modules) */
    HPyDef **defines;
    const char *doc;
} HPyType_Spec;

typedef enum {
    HPyType_SpecParam_Base = 1,
    HPyType_SpecParam_BasesTuple = 2,
    HPyType_SpecParam_Metaclass = 3
} HPyType_SpecParam_Kind;

/* Extra parameters of HPyType_FromSpec; the array ends with kind 0. */
typedef struct {
    HPyType_SpecParam_Kind kind;
    HPy object;
} HPyType_SpecParam;

/* HPyType_HELPERS(TYPE [, SHAPE]) defines TYPE_AsStruct(ctx, h), returning the instance's TYPE
   struct, and the constant TYPE_SHAPE, which SHAPE(TYPE) names for a spec's `.builtin_shape`;
   SHAPE defaults to HPyType_BuiltinShape_Object. */
#define HPyType_HELPERS(...) _HPyType_HELPERS_PICK(__VA_ARGS__, HPyType_BuiltinShape_Object, )
#define _HPyType_HELPERS_PICK(TYPE, SHAPE, ...)                             \
    enum { TYPE##_SHAPE = (int)SHAPE };                                     \
    _HPy_UNUSED static inline TYPE *TYPE##_AsStruct(HPyContext *ctx, HPy h) \
    {                                                                       \
        return (TYPE *)SHAPE##_AsStruct(ctx, h);                            \
    }
/* The same for Legacy-shape types (their struct starts with PyObject_HEAD). */
#define HPyType_LEGACY_HELPERS(TYPE) HPyType_HELPERS(TYPE, HPyType_BuiltinShape_Legacy)
/* The builtin shape HPyType_HELPERS gave TYPE, for the type's spec: `.builtin_shape = SHAPE(TYPE)`. */
#define SHAPE(TYPE) ((HPyType_BuiltinShape)TYPE##_SHAPE)

/* SHAPE_AsStruct(ctx, h): the struct of an instance of a type of that builtin shape. */
#define HPyType_BuiltinShape_Legacy_AsStruct _HPy_AsStruct_Legacy
#define HPyType_BuiltinShape_Object_AsStruct _HPy_AsStruct_Object
#define HPyType_BuiltinShape_Type_AsStruct _HPy_AsStruct_Type
#define HPyType_BuiltinShape_Long_AsStruct _HPy_AsStruct_Long
#define HPyType_BuiltinShape_Float_AsStruct _HPy_AsStruct_Float
#define HPyType_BuiltinShape_Unicode_AsStruct _HPy_AsStruct_Unicode
#define HPyType_BuiltinShape_Tuple_AsStruct _HPy_AsStruct_Tuple
#define HPyType_BuiltinShape_List_AsStruct _HPy_AsStruct_List

/* Inside an HPy_tp_traverse implementation (parameters named `visit` and `arg`): visits the
   HPyField at `hpyfield` unless it is NULL, and returns early if the visitor returns non-zero. */
#define HPy_VISIT(hpyfield)                                 \
    do {                                                    \
        if (!HPyField_IsNull(*(hpyfield))) {                \
            int _hpy_visit_result = visit((hpyfield), arg); \
            if (_hpy_visit_result != 0)                     \
                return _hpy_visit_result;                   \
        }                                                   \
    } while (0)

/* In an HPy_tp_richcompare implementation: returns True or False (new handles) from comparing
   val1 with val2 by `op`; an invalid op is a fatal error. */
#define HPy_RETURN_RICHCOMPARE(ctx, val1, val2, op)                                 \
    do {                                                                            \
        int _hpy_cmp = 0;                                                           \
        switch (op) {                                                               \
        case HPy_LT:                                                                \
            _hpy_cmp = (val1) < (val2);                                             \
            break;                                                                  \
        case HPy_LE:                                                                \
            _hpy_cmp = (val1) <= (val2);                                            \
            break;                                                                  \
        case HPy_EQ:                                                                \
            _hpy_cmp = (val1) == (val2);                                            \
            break;                                                                  \
        case HPy_NE:                                                                \
            _hpy_cmp = (val1) != (val2);                                            \
            break;                                                                  \
        case HPy_GT:                                                                \
            _hpy_cmp = (val1) > (val2);                                             \
            break;                                                                  \
        case HPy_GE:                                                                \
            _hpy_cmp = (val1) >= (val2);                                            \
            break;                                                                  \
        default:                                                                    \
            HPy_FatalError((ctx), "HPy_RETURN_RICHCOMPARE: invalid HPy_RichCmpOp"); \
        }                                                                           \
        return HPy_Dup((ctx), _hpy_cmp ? (ctx)->h_True : (ctx)->h_False);           \
    } while (0)

/* HPy_New(ctx, type, &data): a new instance and a pointer to its zeroed struct. */
#define HPy_New(ctx, h_type, data) (_HPy_New((ctx), (h_type), (void **)(data)))

#endif /* HPY_HPYTYPE_H */
