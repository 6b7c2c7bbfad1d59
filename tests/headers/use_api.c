/* tests/headers/use_api.c: a small extension that expands every definition macro; must compile cleanly in each ABI. */
/*
 * Compiled (not linked) by tests/CMakeLists.txt as C11 and as C++17 in the universal, CPython and
 * hybrid ABIs with warnings as errors: the public macros must expand to valid, warning-free code
 * in both languages, as extension authors use them.
 */
#include "hpy.h"

typedef struct {
    long x;
    HPyField payload;
} Point;

HPyType_HELPERS(Point)

HPyDef_METH(noargs, "noargs", HPyFunc_NOARGS, .doc = "no arguments")
static HPy noargs_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, self);
}

HPyDef_METH(one, "one", HPyFunc_O)
static HPy one_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_Add(ctx, arg, arg);
}

HPyDef_METH(varargs, "varargs", HPyFunc_VARARGS)
static HPy varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    (void)args;
    return HPyLong_FromSize_t(ctx, nargs);
}

HPyDef_METH(keywords, "keywords", HPyFunc_KEYWORDS)
static HPy keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    (void)args;
    (void)kwnames;
    return HPyLong_FromSize_t(ctx, nargs);
}

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    Point *point;
    HPy h = HPy_New(ctx, type, &point);
    (void)args;
    (void)kw;
    if (!HPy_IsNull(h))
        point->x = (long)nargs;
    return h;
}

HPyDef_SLOT(Point_init, HPy_tp_init)
static int Point_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    (void)ctx;
    (void)self;
    (void)args;
    (void)kw;
    return nargs > 1 ? -1 : 0;
}

HPyDef_SLOT(Point_repr, HPy_tp_repr)
static HPy Point_repr_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromInt64_t(ctx, Point_AsStruct(ctx, self)->x);
}

HPyDef_SLOT(Point_richcompare, HPy_tp_richcompare)
static HPy Point_richcompare_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    (void)self;
    (void)other;
    return op == HPy_EQ ? HPy_Dup(ctx, ctx->h_True) : HPy_Dup(ctx, ctx->h_NotImplemented);
}

HPyDef_SLOT(Point_length, HPy_sq_length)
static HPy_ssize_t Point_length_impl(HPyContext *ctx, HPy self)
{
    return Point_AsStruct(ctx, self)->x;
}

HPyDef_SLOT(Point_traverse, HPy_tp_traverse)
static int Point_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    Point *point = (Point *)object;
    HPy_VISIT(&point->payload);
    return 0;
}

HPyDef_SLOT(Point_destroy, HPy_tp_destroy)
static void Point_destroy_impl(void *object)
{
    (void)object;
}

HPyDef_SLOT(Point_getbuffer, HPy_bf_getbuffer)
static int Point_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *buffer, int flags)
{
    (void)flags;
    buffer->obj = HPy_Dup(ctx, self);
    buffer->buf = &Point_AsStruct(ctx, self)->x;
    buffer->len = (HPy_ssize_t)sizeof(long);
    buffer->readonly = 1;
    return 0;
}

HPyDef_MEMBER(Point_x, "x", HPyMember_LONG, offsetof(Point, x), .readonly = 1)

HPyDef_GETSET(Point_payload, "payload", .doc = "a stored object")
static HPy Point_payload_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    return HPyField_Load(ctx, self, Point_AsStruct(ctx, self)->payload);
}
static int Point_payload_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)closure;
    HPyField_Store(ctx, self, &Point_AsStruct(ctx, self)->payload, value);
    return 0;
}

HPyDef_CALL_FUNCTION(Point_call)
static HPy Point_call_impl(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)callable;
    (void)args;
    (void)kwnames;
    return HPyLong_FromSize_t(ctx, nargs);
}

HPyCapsule_DESTRUCTOR(capsule_destructor)
static void capsule_destructor_impl(const char *name, void *pointer, void *context)
{
    (void)name;
    (void)pointer;
    (void)context;
}

static HPyDef *Point_defines[] = {
    &Point_new,     &Point_init,      &Point_repr, &Point_richcompare, &Point_length, &Point_traverse,
    &Point_destroy, &Point_getbuffer, &Point_x,    &Point_payload,     NULL,
};

static HPyType_Spec Point_spec = {
    "use_api.Point",
    (int)sizeof(Point),
    0,
    HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
    HPyType_BuiltinShape_Object,
    NULL,
    Point_defines,
    "a point",
};

static HPyGlobal point_type;

HPyDef_SLOT(module_exec, HPy_mod_exec)
static int module_exec_impl(HPyContext *ctx, HPy module)
{
    HPyType_SpecParam params[] = {{HPyType_SpecParam_Base, ctx->h_BaseObjectType},
                                  {(HPyType_SpecParam_Kind)0, HPy_NULL}};
    HPy type = HPyType_FromSpec(ctx, &Point_spec, params);
    if (HPy_IsNull(type))
        return -1;
    HPyGlobal_Store(ctx, &point_type, type);
    if (HPy_SetCallFunction(ctx, type, &Point_call) < 0 || HPy_SetAttr_s(ctx, module, "Point", type) < 0) {
        HPy_Close(ctx, type);
        return -1;
    }
    HPy_Close(ctx, type);
    HPy capsule = HPyCapsule_New(ctx, &point_type, "use_api.point", &capsule_destructor);
    if (HPy_IsNull(capsule))
        return -1;
    HPy_Close(ctx, capsule);
    return 0;
}

static HPyDef *module_defines[] = {&noargs, &one, &varargs, &keywords, &module_exec, NULL};
static HPyGlobal *module_globals[] = {&point_type, NULL};

static HPyModuleDef moduledef = {"exercises the public macros", 0, NULL, module_defines, module_globals};

HPy_MODINIT(use_api, moduledef)
HPy_MOD_GIL(use_api, HPy_MOD_GIL_NOT_USED)
