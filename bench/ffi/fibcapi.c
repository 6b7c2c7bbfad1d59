/* bench/ffi/fibcapi.c: fib from libfib.so exposed with CPython's C API (METH_O). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "fib.h"

static PyObject *py_fib(PyObject *self, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(fib(n));
}

static PyMethodDef methods[] = {{"fib", py_fib, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "fibcapi", NULL, 0, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_fibcapi(void)
{
    return PyModuleDef_Init(&moduledef);
}
