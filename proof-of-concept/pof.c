/* proof-of-concept/pof.c: example HPy module (functions of every call signature and a Point type), built in every ABI. */
#include <math.h>
#include <hpy.h>

/* ---------- module functions, one per call signature ---------- */

HPyDef_METH(do_nothing, "do_nothing", HPyFunc_NOARGS, .doc = "Returns None.")
static HPy do_nothing_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(double_obj, "double", HPyFunc_O, .doc = "Returns obj + obj.")
static HPy double_obj_impl(HPyContext *ctx, HPy self, HPy obj)
{
    (void)self;
    return HPy_Add(ctx, obj, obj);
}

HPyDef_METH(add_ints, "add_ints", HPyFunc_VARARGS, .doc = "add_ints(a, b): a + b for C longs.")
static HPy add_ints_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    long a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll", &a, &b))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, a + b);
}

HPyDef_METH(add_ints_kw, "add_ints_kw", HPyFunc_KEYWORDS,
            .doc = "add_ints_kw(a, b): a + b, by position or keyword.")
static HPy add_ints_kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    long a, b;
    static const char *kwlist[] = {"a", "b", NULL};
    if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "ll", kwlist, &a, &b))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, a + b);
}

HPyDef_METH(make_pair, "make_pair", HPyFunc_VARARGS,
            .doc = "make_pair(a, b): the tuple (a, b) built with HPy_BuildValue.")
static HPy make_pair_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    HPy a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO", &a, &b))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "(OO)", a, b);
}

/* ---------- the Point type ---------- */

typedef struct {
    double x;
    double y;
} PointObject;

HPyType_HELPERS(PointObject)

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    double x = 0.0, y = 0.0;
    static const char *kwlist[] = {"x", "y", NULL};
    if (!HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "|dd", kwlist, &x, &y))
        return HPy_NULL;
    PointObject *point;
    HPy h_point = HPy_New(ctx, cls, &point);
    if (HPy_IsNull(h_point))
        return HPy_NULL;
    point->x = x;
    point->y = y;
    return h_point;
}

HPyDef_SLOT(Point_repr, HPy_tp_repr)
static HPy Point_repr_impl(HPyContext *ctx, HPy self)
{
    PointObject *point = PointObject_AsStruct(ctx, self);
    /* %d of whole numbers keeps the repr free of float formatting differences. */
    return HPyUnicode_FromFormat(ctx, "Point(%d, %d)", (int)point->x, (int)point->y);
}

HPyDef_MEMBER(Point_x, "x", HPyMember_DOUBLE, offsetof(PointObject, x), .doc = "The x coordinate.")
HPyDef_MEMBER(Point_y, "y", HPyMember_DOUBLE, offsetof(PointObject, y), .doc = "The y coordinate.")

HPyDef_GET(Point_norm, "norm", .doc = "Distance from the origin.")
static HPy Point_norm_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    PointObject *point = PointObject_AsStruct(ctx, self);
    return HPyFloat_FromDouble(ctx, sqrt(point->x * point->x + point->y * point->y));
}

HPyDef_GETSET(Point_xy, "xy", .doc = "The coordinates as a tuple; settable.")
static HPy Point_xy_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    PointObject *point = PointObject_AsStruct(ctx, self);
    return HPy_BuildValue(ctx, "(dd)", point->x, point->y);
}

static int Point_xy_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)closure;
    if (HPy_IsNull(value)) {
        HPyErr_SetString(ctx, ctx->h_AttributeError, "cannot delete xy");
        return -1;
    }
    HPy x = HPy_GetItem_i(ctx, value, 0);
    if (HPy_IsNull(x))
        return -1;
    HPy y = HPy_GetItem_i(ctx, value, 1);
    if (HPy_IsNull(y)) {
        HPy_Close(ctx, x);
        return -1;
    }
    double dx = HPyFloat_AsDouble(ctx, x);
    double dy = HPyFloat_AsDouble(ctx, y);
    HPy_Close(ctx, x);
    HPy_Close(ctx, y);
    if ((dx == -1.0 || dy == -1.0) && HPyErr_Occurred(ctx))
        return -1;
    PointObject *point = PointObject_AsStruct(ctx, self);
    point->x = dx;
    point->y = dy;
    return 0;
}

HPyDef_METH(Point_scale, "scale", HPyFunc_O, .doc = "scale(factor): a new Point, factor times this one.")
static HPy Point_scale_impl(HPyContext *ctx, HPy self, HPy arg)
{
    double factor = HPyFloat_AsDouble(ctx, arg);
    if (factor == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    PointObject *point = PointObject_AsStruct(ctx, self);
    HPy cls = HPy_Type(ctx, self);
    PointObject *result;
    HPy h_result = HPy_New(ctx, cls, &result);
    HPy_Close(ctx, cls);
    if (HPy_IsNull(h_result))
        return HPy_NULL;
    result->x = point->x * factor;
    result->y = point->y * factor;
    return h_result;
}

static HPyDef *Point_defines[] = {
    &Point_new, &Point_repr, &Point_x, &Point_y, &Point_norm, &Point_xy, &Point_scale, NULL,
};

static HPyType_Spec Point_spec = {
    .name = "pof.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = HPyType_BuiltinShape_Object,
    .defines = Point_defines,
    .doc = "A point in the plane: Point(x=0.0, y=0.0).",
};

/* ---------- the module ---------- */

HPyDef_SLOT(pof_exec, HPy_mod_exec)
static int pof_exec_impl(HPyContext *ctx, HPy module)
{
    if (!HPyHelpers_AddType(ctx, module, "Point", &Point_spec, NULL))
        return -1;
    return 0;
}

static HPyDef *module_defines[] = {
    &do_nothing, &double_obj, &add_ints, &add_ints_kw, &make_pair, &pof_exec, NULL,
};

static HPyModuleDef moduledef = {
    .doc = "HPy proof of concept",
    .size = 0,
    .defines = module_defines,
};

HPy_MODINIT(pof, moduledef)
// Nothing here is shared between threads: safe on a free-threaded CPython without the GIL. (Guarded:
// HPy_MOD_GIL is unihpy's, and this file also builds with HPy 0.9's headers.)
#ifdef HPy_MOD_GIL
HPy_MOD_GIL(pof, HPy_MOD_GIL_NOT_USED)
#endif
