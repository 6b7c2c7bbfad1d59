/* proof-of-concept/pofcpp.cpp: the pof example in C++17 (module functions and a Point type), built in every ABI. */
#include <cmath>
#include <hpy.h>

namespace pofcpp {

/* Closes the handle it holds when it goes out of scope. */
class OwnedHandle {
public:
    OwnedHandle(HPyContext *ctx, HPy h) : ctx_(ctx), h_(h) {}
    OwnedHandle(const OwnedHandle &) = delete;
    OwnedHandle &operator=(const OwnedHandle &) = delete;
    ~OwnedHandle()
    {
        if (!HPy_IsNull(h_))
            HPy_Close(ctx_, h_);
    }
    HPy get() const { return h_; }
    bool null() const { return HPy_IsNull(h_); }

private:
    HPyContext *ctx_;
    HPy h_;
};

struct PointObject {
    double x;
    double y;
};

}  // namespace pofcpp

using pofcpp::OwnedHandle;
using pofcpp::PointObject;

HPyType_HELPERS(PointObject)

HPyDef_METH(do_nothing, "do_nothing", HPyFunc_NOARGS)
static HPy do_nothing_impl(HPyContext *ctx, HPy /*self*/)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(double_obj, "double", HPyFunc_O)
static HPy double_obj_impl(HPyContext *ctx, HPy /*self*/, HPy obj)
{
    return HPy_Add(ctx, obj, obj);
}

HPyDef_METH(add_ints, "add_ints", HPyFunc_VARARGS)
static HPy add_ints_impl(HPyContext *ctx, HPy /*self*/, const HPy *args, size_t nargs)
{
    long a = 0, b = 0;
    if (!HPyArg_Parse(ctx, nullptr, args, nargs, "ll", &a, &b))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, a + b);
}

HPyDef_METH(add_ints_kw, "add_ints_kw", HPyFunc_KEYWORDS)
static HPy add_ints_kw_impl(HPyContext *ctx, HPy /*self*/, const HPy *args, size_t nargs, HPy kwnames)
{
    long a = 0, b = 0;
    static const char *kwlist[] = {"a", "b", nullptr};
    if (!HPyArg_ParseKeywords(ctx, nullptr, args, nargs, kwnames, "ll", kwlist, &a, &b))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, a + b);
}

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    double x = 0.0, y = 0.0;
    static const char *kwlist[] = {"x", "y", nullptr};
    if (!HPyArg_ParseKeywordsDict(ctx, nullptr, args, nargs, kw, "|dd", kwlist, &x, &y))
        return HPy_NULL;
    PointObject *point = nullptr;
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
    const PointObject *point = PointObject_AsStruct(ctx, self);
    return HPyUnicode_FromFormat(ctx, "Point(%d, %d)", static_cast<int>(point->x),
                                 static_cast<int>(point->y));
}

HPyDef_MEMBER(Point_x, "x", HPyMember_DOUBLE, offsetof(PointObject, x))
HPyDef_MEMBER(Point_y, "y", HPyMember_DOUBLE, offsetof(PointObject, y))

HPyDef_GET(Point_norm, "norm")
static HPy Point_norm_get(HPyContext *ctx, HPy self, void * /*closure*/)
{
    const PointObject *point = PointObject_AsStruct(ctx, self);
    return HPyFloat_FromDouble(ctx, std::hypot(point->x, point->y));
}

HPyDef_METH(Point_scale, "scale", HPyFunc_O)
static HPy Point_scale_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const double factor = HPyFloat_AsDouble(ctx, arg);
    if (factor == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    const PointObject *point = PointObject_AsStruct(ctx, self);
    OwnedHandle cls(ctx, HPy_Type(ctx, self));
    PointObject *result = nullptr;
    HPy h_result = HPy_New(ctx, cls.get(), &result);
    if (HPy_IsNull(h_result))
        return HPy_NULL;
    result->x = point->x * factor;
    result->y = point->y * factor;
    return h_result;
}

HPyDef_METH(Point_as_tuple, "as_tuple", HPyFunc_NOARGS)
static HPy Point_as_tuple_impl(HPyContext *ctx, HPy self)
{
    const PointObject *point = PointObject_AsStruct(ctx, self);
    return HPy_BuildValue(ctx, "(dd)", point->x, point->y);
}

static HPyDef *Point_defines[] = {
    &Point_new, &Point_repr, &Point_x, &Point_y, &Point_norm, &Point_scale, &Point_as_tuple, nullptr,
};

static HPyType_Spec Point_spec = {
    "pofcpp.Point",                /* name */
    sizeof(PointObject),           /* basicsize */
    0,                             /* itemsize */
    HPy_TPFLAGS_DEFAULT,           /* flags */
    HPyType_BuiltinShape_Object,   /* builtin_shape */
    nullptr,                       /* legacy_slots */
    Point_defines,                 /* defines */
    "A point in the plane (C++).", /* doc */
};

HPyDef_SLOT(pofcpp_exec, HPy_mod_exec)
static int pofcpp_exec_impl(HPyContext *ctx, HPy module)
{
    return HPyHelpers_AddType(ctx, module, "Point", &Point_spec, nullptr) ? 0 : -1;
}

static HPyDef *module_defines[] = {
    &do_nothing, &double_obj, &add_ints, &add_ints_kw, &pofcpp_exec, nullptr,
};

static HPyModuleDef moduledef = {
    "HPy proof of concept, in C++", /* doc */
    0,                              /* size */
    nullptr,                        /* legacy_methods */
    module_defines,                 /* defines */
    nullptr,                        /* globals */
};

HPy_MODINIT(pofcpp, moduledef)
// Nothing here is shared between threads: safe on a free-threaded CPython without the GIL. (Guarded:
// HPy_MOD_GIL is unihpy's, and this file also builds with HPy 0.9's headers.)
#ifdef HPy_MOD_GIL
HPy_MOD_GIL(pofcpp, HPy_MOD_GIL_NOT_USED)
#endif
