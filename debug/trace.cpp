// debug/trace.cpp: the trace context's dispatch and hpy.universal._trace (hpy.trace builds on it).
#include "debug/trace.h"

#include <cstring>

namespace hpy::trace {

State g_state;

namespace {
// Guards the hooks (replaced by set_trace_functions while other threads call them) and the creation
// of the context. Counts and durations are added to atomically without it (threads::add).
threads::Lock g_lock;
}  // namespace

void call_hook(PyObject *const *slot, int index)
{
    PyObject *hook;
    {
        threads::Guard guard(g_lock);
        hook = *slot;
        Py_XINCREF(hook);  // it may be replaced while it runs
    }
    if (hook == nullptr)
        return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *name = PyUnicode_FromString(debug::kFunctionNames[index]);
    PyObject *r = name ? PyObject_CallOneArg(hook, name) : nullptr;
    if (r == nullptr)
        PyErr_WriteUnraisable(hook);
    Py_XDECREF(r);
    Py_XDECREF(name);
    Py_DECREF(hook);
    PyErr_Restore(type, value, tb);
}

HPyContext *context(HPyContext *uctx)
{
    threads::Guard guard(g_lock);
    if (g_state.uctx == nullptr) {
        g_state.uctx = uctx;
        memcpy(&g_state.tctx, uctx,
               sizeof(HPyContext));  // the same handles: a trace handle is a universal one
        g_state.tctx.name = "HPy Trace Mode ABI (unihpy, over the universal context)";
        g_state.tctx._private = nullptr;
        fill_trace_functions(&g_state.tctx);
    }
    return &g_state.tctx;
}

namespace {

PyObject *table(const uint64_t *values, bool counts_only_nonzero)
{
    PyObject *d = PyDict_New();
    for (int i = 0; d != nullptr && i < debug::kFunctionCount; ++i) {
        if (counts_only_nonzero && threads::load(&g_state.counts[i]) == 0)
            continue;
        PyObject *v = PyLong_FromUnsignedLongLong(threads::load(&values[i]));
        if (v == nullptr || PyDict_SetItemString(d, debug::kFunctionNames[i], v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    return d;
}

PyObject *py_get_call_counts(PyObject *, PyObject *)
{
    return table(g_state.counts, false);
}
PyObject *py_get_durations(PyObject *, PyObject *)
{
    return table(g_state.nanoseconds, false);
}
PyObject *py_get_frequency(PyObject *, PyObject *)
{
    return PyLong_FromLong(1000000000L);
}

PyObject *py_reset(PyObject *, PyObject *)
{
    for (int i = 0; i < debug::kFunctionCount; ++i) {  // word by word: traced calls may run meanwhile
        threads::store(&g_state.counts[i], uint64_t{0});
        threads::store(&g_state.nanoseconds[i], uint64_t{0});
    }
    Py_RETURN_NONE;
}

PyObject *py_set_trace_functions(PyObject *, PyObject *args, PyObject *kwargs)
{
    // An argument left out keeps its function; None removes it.
    static const char *kwlist[] = {"on_enter", "on_exit", nullptr};
    PyObject *on_enter = nullptr, *on_exit = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:set_trace_functions", const_cast<char **>(kwlist),
                                     &on_enter, &on_exit))
        return nullptr;
    for (PyObject *f : {on_enter, on_exit})
        if (f != nullptr && f != Py_None && !PyCallable_Check(f))
            return PyErr_Format(PyExc_TypeError, "set_trace_functions: expected callables or None, got %R",
                                f);
    PyObject *old[2] = {nullptr, nullptr};
    {
        threads::Guard guard(g_lock);
        PyObject **slots[2] = {&g_state.on_enter, &g_state.on_exit};
        PyObject *given[2] = {on_enter, on_exit};
        for (int i = 0; i < 2; ++i)
            if (given[i] != nullptr) {
                old[i] = *slots[i];
                threads::store(slots[i], given[i] == Py_None ? nullptr : Py_NewRef(given[i]));
            }
    }
    Py_XDECREF(old[0]);  // outside the lock: releasing a hook may run any code
    Py_XDECREF(old[1]);
    Py_RETURN_NONE;
}

PyMethodDef methods[] = {
    {"get_call_counts", py_get_call_counts, METH_NOARGS,
     "get_call_counts()\n--\n\n{context function name: calls} for every function of the context."},
    {"get_durations", py_get_durations, METH_NOARGS,
     "get_durations()\n--\n\n{context function name: accumulated time in units of 1/get_frequency() s}."},
    {"get_frequency", py_get_frequency, METH_NOARGS,
     "get_frequency()\n--\n\nTime units per second of durations."},
    {"reset", py_reset, METH_NOARGS, "reset()\n--\n\nSets every count and duration to zero."},
    {"set_trace_functions",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(py_set_trace_functions)),
     METH_VARARGS | METH_KEYWORDS,
     "set_trace_functions(on_enter=<unchanged>, on_exit=<unchanged>)\n--\n\nCallables called with the "
     "function's name around each traced call; None removes one, an argument left out keeps it."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                          "hpy.universal._trace",
                          "The trace context's low-level API (see hpy.trace).",
                          -1,
                          methods,
                          nullptr,
                          nullptr,
                          nullptr,
                          nullptr};

}  // namespace

PyObject *make_python_module()
{
    return PyModule_Create(&module_def);
}

}  // namespace hpy::trace

extern "C" void trace_host_ctx_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig,
                                                              HPyCFunction func, void *args)
{
    // The dispatch into the module is the host's, not a call the module makes: neither counted nor timed,
    // so the figures say what the module's own code asks of the context.
    hpy::dispatch::UniversalPolicy p{ctx};
    hpy::dispatch::call(p, sig, func, args);
}
