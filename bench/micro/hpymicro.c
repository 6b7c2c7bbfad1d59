/* bench/micro/hpymicro.c: the microbenchmark operations written once against hpy.h (any ABI).
   capimicro.c does the same operations with CPython's C API; both expose the same Python names. */
#include "hpy.h"

/* ---- calls ---- */

HPyDef_METH(noargs, "noargs", HPyFunc_NOARGS)
static HPy noargs_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(onearg, "onearg", HPyFunc_O)
static HPy onearg_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Dup(ctx, arg);
}

HPyDef_METH(varargs, "varargs", HPyFunc_VARARGS)
static HPy varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "varargs() takes 2 arguments");
        return HPy_NULL;
    }
    return HPy_Dup(ctx, args[0]);
}

HPyDef_METH(keywords, "keywords", HPyFunc_KEYWORDS)
static HPy keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    if (nargs < 1) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "keywords() takes at least 1 argument");
        return HPy_NULL;
    }
    return HPy_Dup(ctx, args[0]);
}

/* ---- allocation ---- */

HPyDef_METH(new_int, "new_int", HPyFunc_NOARGS)
static HPy new_int_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, 123456789); /* outside the small-int cache: a real allocation */
}

HPyDef_METH(new_tuple, "new_tuple", HPyFunc_NOARGS)
static HPy new_tuple_impl(HPyContext *ctx, HPy self)
{
    HPy items[2] = {ctx->h_None, ctx->h_True};
    return HPyTuple_FromArray(ctx, items, 2);
}

/* ---- a pure type: allocation, a method, an attribute ---- */

typedef struct {
    long x;
    long y;
} PointObject;
HPyType_HELPERS(PointObject)

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    PointObject *p;
    HPy h = HPy_New(ctx, cls, &p);
    if (HPy_IsNull(h))
        return HPy_NULL;
    p->x = 1;
    p->y = 2;
    return h;
}

HPyDef_METH(Point_get_x, "get_x", HPyFunc_NOARGS)
static HPy Point_get_x_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, PointObject_AsStruct(ctx, self)->x);
}

HPyDef_GETSET(Point_x, "x")
static HPy Point_x_get(HPyContext *ctx, HPy self, void *closure)
{
    return HPyLong_FromLong(ctx, PointObject_AsStruct(ctx, self)->x);
}
static int Point_x_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    long v = HPyLong_AsLong(ctx, value);
    if (v == -1 && HPyErr_Occurred(ctx))
        return -1;
    PointObject_AsStruct(ctx, self)->x = v;
    return 0;
}

static HPyDef *Point_defines[] = {&Point_new, &Point_get_x, &Point_x, NULL};
static HPyType_Spec Point_spec = {
    .name = "hpymicro.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = HPyType_BuiltinShape_Object,
    .defines = Point_defines,
};

/* ---- item access and len: a sequence (sq_item, sq_length) and a mapping (mp_subscript) ---- */

HPyDef_SLOT(Seq_item, HPy_sq_item)
static HPy Seq_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    if (i < 0 || i >= 4) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "Seq index out of range");
        return HPy_NULL;
    }
    return HPyLong_FromSsize_t(ctx, i); /* small ints are cached: no allocation */
}

HPyDef_SLOT(Seq_len, HPy_sq_length)
static HPy_ssize_t Seq_len_impl(HPyContext *ctx, HPy self)
{
    return 4;
}

static HPyDef *Seq_defines[] = {&Seq_item, &Seq_len, NULL};
static HPyType_Spec Seq_spec = {
    .name = "hpymicro.Seq",
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = HPyType_BuiltinShape_Object,
    .defines = Seq_defines,
};

HPyDef_SLOT(Map_subscript, HPy_mp_subscript)
static HPy Map_subscript_impl(HPyContext *ctx, HPy self, HPy key)
{
    return HPy_Dup(ctx, key);
}

static HPyDef *Map_defines[] = {&Map_subscript, NULL};
static HPyType_Spec Map_spec = {
    .name = "hpymicro.Map",
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = HPyType_BuiltinShape_Object,
    .defines = Map_defines,
};

/* ---- API functions called from C ---- */

HPyDef_METH(call_func, "call_func", HPyFunc_VARARGS)
static HPy call_func_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "call_func() takes 2 arguments");
        return HPy_NULL;
    }
    return HPy_Call(ctx, args[0], &args[1], 1, HPy_NULL);
}

HPyDef_METH(parse, "parse", HPyFunc_VARARGS)
static HPy parse_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a, b;
    double c;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "lld", &a, &b, &c))
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(build, "build", HPyFunc_NOARGS)
static HPy build_impl(HPyContext *ctx, HPy self)
{
    return HPy_BuildValue(ctx, "(iiO)", 1, 2, ctx->h_None);
}

/* ---- the module ---- */

HPyDef_SLOT(add_types, HPy_mod_exec)
static int add_types_impl(HPyContext *ctx, HPy module)
{
    if (!HPyHelpers_AddType(ctx, module, "Point", &Point_spec, NULL) ||
        !HPyHelpers_AddType(ctx, module, "Seq", &Seq_spec, NULL) ||
        !HPyHelpers_AddType(ctx, module, "Map", &Map_spec, NULL))
        return -1;
    return 0;
}

static HPyDef *module_defines[] = {
    &noargs, &onearg, &varargs, &keywords, &new_int, &new_tuple, &call_func, &parse, &build, &add_types, NULL,
};

static HPyModuleDef moduledef = {
    .doc = "unihpy microbenchmarks (HPy)",
    .defines = module_defines,
};

HPy_MODINIT(hpymicro, moduledef)
