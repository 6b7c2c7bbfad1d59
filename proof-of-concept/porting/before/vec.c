/* proof-of-concept/porting/before/vec.c: a small CPython C-API extension, the starting point of the porting example. */
/*
 * Module `vec`: a 2-D vector type `Vec` (fields x and y, methods length / dot / scale, operators
 * + and ==, a repr) and two module functions, sum(*vecs) and from_polar(r, theta). Written
 * against the plain C API with PyType_FromSpec and multi-phase module initialisation.
 * ../after/vec.c is the same extension partly ported to HPy; test_porting.py tests both.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>

typedef struct {
    PyObject_HEAD double x;
    double y;
} VecObject;

/* The Vec type, created when the module is executed (one interpreter, one module). */
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

static PyObject *Vec_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", NULL};
    double x = 0.0, y = 0.0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|dd:Vec", kwlist, &x, &y))
        return NULL;
    return Vec_make(type, x, y);
}

static void Vec_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyObject *Vec_repr(PyObject *self)
{
    VecObject *v = (VecObject *)self;
    PyObject *x = PyFloat_FromDouble(v->x), *y = PyFloat_FromDouble(v->y);
    PyObject *r = (x && y) ? PyUnicode_FromFormat("Vec(%R, %R)", x, y) : NULL;
    Py_XDECREF(x);
    Py_XDECREF(y);
    return r;
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

static PyObject *Vec_length(PyObject *self, PyObject *unused)
{
    VecObject *v = (VecObject *)self;
    (void)unused;
    return PyFloat_FromDouble(hypot(v->x, v->y));
}

static PyObject *Vec_dot(PyObject *self, PyObject *other)
{
    if (!Vec_Check(other)) {
        PyErr_Format(PyExc_TypeError, "dot() needs a Vec, not %.100s", Py_TYPE(other)->tp_name);
        return NULL;
    }
    VecObject *u = (VecObject *)self, *v = (VecObject *)other;
    return PyFloat_FromDouble(u->x * v->x + u->y * v->y);
}

static PyObject *Vec_scale(PyObject *self, PyObject *args)
{
    double k;
    if (!PyArg_ParseTuple(args, "d:scale", &k))
        return NULL;
    VecObject *v = (VecObject *)self;
    return Vec_make(Py_TYPE(self), v->x * k, v->y * k);
}

static PyMethodDef Vec_methods[] = {
    {"length", Vec_length, METH_NOARGS, "length() -> the Euclidean norm"},
    {"dot", Vec_dot, METH_O, "dot(other) -> the scalar product"},
    {"scale", Vec_scale, METH_VARARGS, "scale(k) -> a new Vec, k times this one"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Vec_members[] = {
    {"x", T_DOUBLE, offsetof(VecObject, x), 0, "x coordinate"},
    {"y", T_DOUBLE, offsetof(VecObject, y), 0, "y coordinate"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Vec_slots[] = {
    {Py_tp_new, Vec_new},
    {Py_tp_dealloc, Vec_dealloc},
    {Py_tp_repr, Vec_repr},
    {Py_tp_richcompare, Vec_richcompare},
    {Py_nb_add, Vec_add},
    {Py_tp_methods, Vec_methods},
    {Py_tp_members, Vec_members},
    {Py_tp_doc, "Vec(x=0.0, y=0.0): a 2-D vector"},
    {0, NULL},
};

static PyType_Spec Vec_spec = {
    .name = "vec.Vec",
    .basicsize = sizeof(VecObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Vec_slots,
};

/* sum(*vecs) -> the sum of the vectors (Vec(0, 0) for none) */
static PyObject *vec_sum(PyObject *module, PyObject *args)
{
    (void)module;
    double x = 0.0, y = 0.0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++) {
        PyObject *item = PyTuple_GET_ITEM(args, i);
        if (!Vec_Check(item)) {
            PyErr_Format(PyExc_TypeError, "sum() needs Vec arguments, not %.100s", Py_TYPE(item)->tp_name);
            return NULL;
        }
        x += ((VecObject *)item)->x;
        y += ((VecObject *)item)->y;
    }
    return Vec_make(Vec_Type, x, y);
}

/* from_polar(r, theta) -> Vec(r cos theta, r sin theta) */
static PyObject *vec_from_polar(PyObject *module, PyObject *args)
{
    double r, theta;
    (void)module;
    if (!PyArg_ParseTuple(args, "dd:from_polar", &r, &theta))
        return NULL;
    return Vec_make(Vec_Type, r * cos(theta), r * sin(theta));
}

static PyMethodDef module_methods[] = {
    {"sum", vec_sum, METH_VARARGS, "sum(*vecs) -> the sum of the vectors"},
    {"from_polar", vec_from_polar, METH_VARARGS, "from_polar(r, theta) -> a Vec"},
    {NULL, NULL, 0, NULL},
};

static int vec_exec(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&Vec_spec);
    if (type == NULL)
        return -1;
    Py_XSETREF(Vec_Type, (PyTypeObject *)type); /* keeps the reference */
    return PyModule_AddObjectRef(module, "Vec", type);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, vec_exec},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "vec", "2-D vectors", 0, module_methods, module_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_vec(void)
{
    return PyModuleDef_Init(&moduledef);
}
