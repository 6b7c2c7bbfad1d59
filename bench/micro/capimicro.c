/* bench/micro/capimicro.c: the microbenchmark operations written by hand with CPython's C API, the
   baseline of every ratio. Same Python names and behaviour as hpymicro.c, written as a careful C-API
   author would: the fastest public calling convention for each signature, heap types. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* ---- calls ---- */

static PyObject *noargs(PyObject *self, PyObject *unused)
{
    Py_RETURN_NONE;
}

static PyObject *onearg(PyObject *self, PyObject *arg)
{
    Py_INCREF(arg);
    return arg;
}

static PyObject *varargs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "varargs() takes 2 arguments");
        return NULL;
    }
    Py_INCREF(args[0]);
    return args[0];
}

static PyObject *keywords(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "keywords() takes at least 1 argument");
        return NULL;
    }
    Py_INCREF(args[0]);
    return args[0];
}

/* ---- allocation ---- */

static PyObject *new_int(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(123456789);
}

static PyObject *new_tuple(PyObject *self, PyObject *unused)
{
    PyObject *t = PyTuple_New(2);
    if (t == NULL)
        return NULL;
    Py_INCREF(Py_None);
    PyTuple_SET_ITEM(t, 0, Py_None);
    Py_INCREF(Py_True);
    PyTuple_SET_ITEM(t, 1, Py_True);
    return t;
}

/* ---- a heap type: allocation, a method, an attribute ---- */

typedef struct {
    PyObject_HEAD long x;
    long y;
} PointObject;

static PyObject *Point_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PointObject *p = (PointObject *)type->tp_alloc(type, 0);
    if (p == NULL)
        return NULL;
    p->x = 1;
    p->y = 2;
    return (PyObject *)p;
}

static void Point_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *Point_get_x(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(((PointObject *)self)->x);
}

static PyObject *Point_x_get(PyObject *self, void *closure)
{
    return PyLong_FromLong(((PointObject *)self)->x);
}

static int Point_x_set(PyObject *self, PyObject *value, void *closure)
{
    long v = PyLong_AsLong(value);
    if (v == -1 && PyErr_Occurred())
        return -1;
    ((PointObject *)self)->x = v;
    return 0;
}

static PyMethodDef Point_methods[] = {
    {"get_x", Point_get_x, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
static PyGetSetDef Point_getset[] = {
    {"x", Point_x_get, Point_x_set, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
static PyType_Slot Point_slots[] = {
    {Py_tp_new, Point_new},
    {Py_tp_dealloc, Point_dealloc},
    {Py_tp_methods, Point_methods},
    {Py_tp_getset, Point_getset},
    {0, NULL},
};
static PyType_Spec Point_spec = {"capimicro.Point", sizeof(PointObject), 0, Py_TPFLAGS_DEFAULT, Point_slots};

/* ---- item access and len ---- */

static PyObject *Seq_item(PyObject *self, Py_ssize_t i)
{
    if (i < 0 || i >= 4) {
        PyErr_SetString(PyExc_IndexError, "Seq index out of range");
        return NULL;
    }
    return PyLong_FromSsize_t(i);
}

static Py_ssize_t Seq_len(PyObject *self)
{
    return 4;
}

static PyType_Slot Seq_slots[] = {
    {Py_sq_item, Seq_item},
    {Py_sq_length, Seq_len},
    {0, NULL},
};
static PyType_Spec Seq_spec = {"capimicro.Seq", sizeof(PyObject), 0, Py_TPFLAGS_DEFAULT, Seq_slots};

static PyObject *Map_subscript(PyObject *self, PyObject *key)
{
    Py_INCREF(key);
    return key;
}

static PyType_Slot Map_slots[] = {
    {Py_mp_subscript, Map_subscript},
    {0, NULL},
};
static PyType_Spec Map_spec = {"capimicro.Map", sizeof(PyObject), 0, Py_TPFLAGS_DEFAULT, Map_slots};

/* ---- API functions called from C ---- */

static PyObject *call_func(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "call_func() takes 2 arguments");
        return NULL;
    }
    return PyObject_Vectorcall(args[0], &args[1], 1, NULL);
}

static PyObject *parse(PyObject *self, PyObject *args)
{
    long a, b;
    double c;
    if (!PyArg_ParseTuple(args, "lld", &a, &b, &c))
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *build(PyObject *self, PyObject *unused)
{
    return Py_BuildValue("(iiO)", 1, 2, Py_None);
}

/* ---- the module ---- */

static int add_type(PyObject *module, const char *name, PyType_Spec *spec)
{
    PyObject *type = PyType_FromSpec(spec);
    if (type == NULL)
        return -1;
    int rc = PyModule_AddObject(module, name, type);
    if (rc < 0)
        Py_DECREF(type);
    return rc;
}

static int exec_module(PyObject *module)
{
    if (add_type(module, "Point", &Point_spec) < 0 || add_type(module, "Seq", &Seq_spec) < 0 ||
        add_type(module, "Map", &Map_spec) < 0)
        return -1;
    return 0;
}

static PyMethodDef module_methods[] = {
    {"noargs", noargs, METH_NOARGS, NULL},
    {"onearg", onearg, METH_O, NULL},
    {"varargs", (PyCFunction)(void (*)(void))varargs, METH_FASTCALL, NULL},
    {"keywords", (PyCFunction)(void (*)(void))keywords, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"new_int", new_int, METH_NOARGS, NULL},
    {"new_tuple", new_tuple, METH_NOARGS, NULL},
    {"call_func", (PyCFunction)(void (*)(void))call_func, METH_FASTCALL, NULL},
    {"parse", parse, METH_VARARGS, NULL},
    {"build", build, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    "capimicro",
    "unihpy microbenchmarks (C API baseline)",
    0,
    module_methods,
    module_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit_capimicro(void)
{
    return PyModuleDef_Init(&moduledef);
}
