/* bench/micro/cgmark.c: callgrind client requests for the benchmark workers. dump(label) writes the
   counts since the previous dump under that label; outside valgrind every call does nothing. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#if defined(__has_include) && __has_include(<valgrind/callgrind.h>)
#    include <valgrind/callgrind.h>
#else /* no valgrind here: the marks do nothing */
#    define CALLGRIND_DUMP_STATS_AT(label) ((void)(label))
#    define RUNNING_ON_VALGRIND 0
#endif

static PyObject *dump(PyObject *self, PyObject *label)
{
    const char *s = PyUnicode_AsUTF8(label);
    if (s == NULL)
        return NULL;
    CALLGRIND_DUMP_STATS_AT(s);
    Py_RETURN_NONE;
}

static PyObject *running(PyObject *self, PyObject *unused)
{
    return PyBool_FromLong(RUNNING_ON_VALGRIND);
}

static PyMethodDef methods[] = {
    {"dump", dump, METH_O, "dump(label): callgrind counts since the last dump, saved under label"},
    {"running", running, METH_NOARGS, "True under valgrind"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "cgmark", NULL, 0, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_cgmark(void)
{
    return PyModuleDef_Init(&moduledef);
}
