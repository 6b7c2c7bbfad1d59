/* proof-of-concept/porting/after/vec.c: ../before/vec.c partly ported to HPy; builds for the hybrid and CPython ABIs. */
/*
 * The port is incremental: this file mixes HPy code and the unchanged C-API code, and the module
 * behaves exactly like the original (test_porting.py runs the same tests on both).
 *
 *   ported to HPy                          still C API (legacy)
 *   ------------------------------------   -----------------------------------------------
 *   module definition (HPyModuleDef,       from_polar()         (HPyModuleDef.legacy_methods)
 *     HPy_MOD_EXEC, HPy_MODINIT)           Vec.scale()          (Py_tp_methods in legacy_slots)
 *   sum()                 HPyFunc_VARARGS  ==, !=               (Py_tp_richcompare in legacy_slots)
 *   Vec(), repr()         HPy_tp_new/repr  +                    (Py_nb_add in legacy_slots)
 *   Vec.length(), dot()   NOARGS / O       Vec_make(), Vec_Check() (helpers both sides call)
 *   Vec.x, Vec.y          HPyDef_MEMBER
 *   deallocation          (HPy's default)
 *
 * Vec keeps its C-API layout (the struct starts with PyObject_HEAD): its spec says
 * HPyType_BuiltinShape_Legacy, the only shape that allows legacy slots and legacy methods, and
 * HPyType_LEGACY_HELPERS gives VecObject_AsStruct. HPy code reaches legacy helpers through
 * HPy_AsPyObject (a new reference) and brings their results back with HPy_FromPyObject (a new
 * handle; the PyObject reference stays the caller's).
 *
 * Build: hpy.devel with --hpy-abi=hybrid (NAME.hpy0-cp311.so, loaded by hpy.universal: the
 * universal context plus the C API) or --hpy-abi=cpython. The universal ABI refuses this file:
 * it includes Python.h.
 */
#include "hpy.h" /* in the hybrid and CPython ABIs it includes Python.h first */
#include <math.h>

typedef struct {
    PyObject_HEAD double x;
    double y;
} VecObject;

HPyType_LEGACY_HELPERS(VecObject)

/* ---------- still C API: the legacy helpers and slots, unchanged ---------- */

/* The Vec type for the C-API code (a strong reference, set when the module is executed). */
static PyTypeObject *Vec_Type = NULL;

#define Vec_Check(obj) PyObject_TypeCheck((obj), Vec_Type)

static PyObject *Vec_make(PyTypeObject *type, double x, double y)
{
    VecObject *v = (VecObject *)type->tp_alloc(type, 0);
    if (v != NULL) {
        v->x = x;
        v->y = y;
    }
    return (PyObject *)v;
}

static PyObject *Vec_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || !Vec_Check(b))
        Py_RETURN_NOTIMPLEMENTED;
    VecObject *u = (VecObject *)a, *v = (VecObject *)b;
    int equal = u->x == v->x && u->y == v->y;
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

static PyObject *Vec_add(PyObject *a, PyObject *b)
{
    if (!Vec_Check(a) || !Vec_Check(b))
        Py_RETURN_NOTIMPLEMENTED;
    VecObject *u = (VecObject *)a, *v = (VecObject *)b;
    return Vec_make(Vec_Type, u->x + v->x, u->y + v->y);
}

static PyObject *Vec_scale(PyObject *self, PyObject *args)
{
    double k;
    if (!PyArg_ParseTuple(args, "d:scale", &k))
        return NULL;
    VecObject *v = (VecObject *)self;
    return Vec_make(Py_TYPE(self), v->x * k, v->y * k);
}

static PyMethodDef Vec_legacy_methods[] = {
    {"scale", Vec_scale, METH_VARARGS, "scale(k) -> a new Vec, k times this one"},
    {NULL, NULL, 0, NULL},
};

/* What is left of the original PyType_Slot array (tp_dealloc went: HPy's default does the same). */
static PyType_Slot Vec_legacy_slots[] = {
    {Py_tp_richcompare, Vec_richcompare},
    {Py_nb_add, Vec_add},
    {Py_tp_methods, Vec_legacy_methods},
    {0, NULL},
};

/* from_polar(r, theta) -> Vec(r cos theta, r sin theta) */
static PyObject *vec_from_polar(PyObject *module, PyObject *args)
{
    double r, theta;
    (void)module;
    if (!PyArg_ParseTuple(args, "dd:from_polar", &r, &theta))
        return NULL;
    return Vec_make(Vec_Type, r * cos(theta), r * sin(theta));
}

static PyMethodDef module_legacy_methods[] = {
    {"from_polar", vec_from_polar, METH_VARARGS, "from_polar(r, theta) -> a Vec"},
    {NULL, NULL, 0, NULL},
};

/* ---------- ported to HPy ---------- */

/* The Vec type for the HPy code. */
static HPyGlobal g_vec_type;

static int is_vec(HPyContext *ctx, HPy obj)
{
    HPy type = HPyGlobal_Load(ctx, g_vec_type);
    int r = HPy_TypeCheck(ctx, obj, type);
    HPy_Close(ctx, type);
    return r;
}

/* Raises TypeError with `fmt`, whose one %S is the name of obj's type; returns HPy_NULL. */
static HPy type_error(HPyContext *ctx, const char *fmt, HPy obj)
{
    HPy type = HPy_Type(ctx, obj);
    HPy name = HPy_GetAttr_s(ctx, type, "__name__");
    if (!HPy_IsNull(name))
        HPyErr_Format(ctx, ctx->h_TypeError, fmt, name);
    HPy_Close(ctx, name);
    HPy_Close(ctx, type);
    return HPy_NULL;
}

HPyDef_SLOT(Vec_new, HPy_tp_new)
static HPy Vec_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    static const char *kwlist[] = {"x", "y", NULL};
    double x = 0.0, y = 0.0;
    if (!HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "|dd:Vec", kwlist, &x, &y))
        return HPy_NULL;
    VecObject *v;
    HPy h = HPy_New(ctx, type, &v);
    if (!HPy_IsNull(h)) {
        v->x = x;
        v->y = y;
    }
    return h;
}

HPyDef_SLOT(Vec_repr, HPy_tp_repr)
static HPy Vec_repr_impl(HPyContext *ctx, HPy self)
{
    VecObject *v = VecObject_AsStruct(ctx, self);
    HPy x = HPyFloat_FromDouble(ctx, v->x), y = HPyFloat_FromDouble(ctx, v->y);
    HPy r = (!HPy_IsNull(x) && !HPy_IsNull(y)) ? HPyUnicode_FromFormat(ctx, "Vec(%R, %R)", x, y) : HPy_NULL;
    HPy_Close(ctx, x);
    HPy_Close(ctx, y);
    return r;
}

HPyDef_METH(Vec_length, "length", HPyFunc_NOARGS, .doc = "length() -> the Euclidean norm")
static HPy Vec_length_impl(HPyContext *ctx, HPy self)
{
    VecObject *v = VecObject_AsStruct(ctx, self);
    return HPyFloat_FromDouble(ctx, hypot(v->x, v->y));
}

HPyDef_METH(Vec_dot, "dot", HPyFunc_O, .doc = "dot(other) -> the scalar product")
static HPy Vec_dot_impl(HPyContext *ctx, HPy self, HPy other)
{
    /* The type check still goes through the legacy helper: HPy_AsPyObject gives a new reference. */
    PyObject *py_other = HPy_AsPyObject(ctx, other);
    int ok = Vec_Check(py_other);
    Py_DECREF(py_other);
    if (!ok)
        return type_error(ctx, "dot() needs a Vec, not %S", other);
    VecObject *u = VecObject_AsStruct(ctx, self), *v = VecObject_AsStruct(ctx, other);
    return HPyFloat_FromDouble(ctx, u->x * v->x + u->y * v->y);
}

HPyDef_MEMBER(Vec_x, "x", HPyMember_DOUBLE, offsetof(VecObject, x), .doc = "x coordinate")
HPyDef_MEMBER(Vec_y, "y", HPyMember_DOUBLE, offsetof(VecObject, y), .doc = "y coordinate")

static HPyDef *Vec_defines[] = {&Vec_new, &Vec_repr, &Vec_length, &Vec_dot, &Vec_x, &Vec_y, NULL};

static HPyType_Spec Vec_spec = {
    .name = "vec.Vec",
    .basicsize = sizeof(VecObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = HPyType_BuiltinShape_Legacy,
    .legacy_slots = Vec_legacy_slots,
    .defines = Vec_defines,
    .doc = "Vec(x=0.0, y=0.0): a 2-D vector",
};

/* sum(*vecs) -> the sum of the vectors (Vec(0, 0) for none) */
HPyDef_METH(vec_sum, "sum", HPyFunc_VARARGS, .doc = "sum(*vecs) -> the sum of the vectors")
static HPy vec_sum_impl(HPyContext *ctx, HPy module, const HPy *args, size_t nargs)
{
    (void)module;
    double x = 0.0, y = 0.0;
    for (size_t i = 0; i < nargs; i++) {
        if (!is_vec(ctx, args[i]))
            return type_error(ctx, "sum() needs Vec arguments, not %S", args[i]);
        VecObject *v = VecObject_AsStruct(ctx, args[i]);
        x += v->x;
        y += v->y;
    }
    /* The result still comes from the legacy helper: HPy_FromPyObject makes a handle of it. */
    PyObject *result = Vec_make(Vec_Type, x, y);
    if (result == NULL)
        return HPy_NULL;
    HPy h = HPy_FromPyObject(ctx, result);
    Py_DECREF(result);
    return h;
}

HPyDef_SLOT(vec_exec, HPy_mod_exec)
static int vec_exec_impl(HPyContext *ctx, HPy module)
{
    HPy type = HPyType_FromSpec(ctx, &Vec_spec, NULL);
    if (HPy_IsNull(type))
        return -1;
    HPyGlobal_Store(ctx, &g_vec_type, type);
    Py_XSETREF(Vec_Type, (PyTypeObject *)HPy_AsPyObject(ctx, type)); /* keeps the new reference */
    int r = HPy_SetAttr_s(ctx, module, "Vec", type);
    HPy_Close(ctx, type);
    return r;
}

static HPyDef *module_defines[] = {&vec_sum, &vec_exec, NULL};
static HPyGlobal *module_globals[] = {&g_vec_type, NULL};

static HPyModuleDef moduledef = {
    .doc = "2-D vectors",
    .legacy_methods = module_legacy_methods,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(vec, moduledef)
