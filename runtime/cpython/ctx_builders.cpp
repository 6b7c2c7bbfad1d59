// runtime/cpython/ctx_builders.cpp: list and tuple builders and HPyTracker over CPython.
#include <new>

#include "runtime/cpython/context_init.h"

namespace {

// A builder is the list or tuple under construction: its unset items are NULL until Build.
template <typename Builder>
PyObject *object_of(Builder b) { return reinterpret_cast<PyObject *>(b); }

// A tracker: the handles to close together (HPyTracker_Close) or to forget (ForgetAll).
struct Tracker {
    HPy_ssize_t length = 0;
    HPy_ssize_t capacity = 0;
    HPy *handles = nullptr;
};

Tracker *tracker_of(HPyTracker ht) { return reinterpret_cast<Tracker *>(ht._i); }

}  // namespace

extern "C" {

HPyListBuilder ctx_ListBuilder_New(HPyContext *, HPy_ssize_t size)
{
    return HPyListBuilder{reinterpret_cast<intptr_t>(PyList_New(size))};
}

void ctx_ListBuilder_Set(HPyContext *, HPyListBuilder builder, HPy_ssize_t index, HPy h_item)
{
    PyObject *list = object_of(builder._lst);
    if (list == nullptr)
        return;
    PyObject *item = _h2py(h_item);
    Py_XINCREF(item);
    PyObject *old = PyList_GET_ITEM(list, index);
    PyList_SET_ITEM(list, index, item);
    Py_XDECREF(old);
}

HPy ctx_ListBuilder_Build(HPyContext *, HPyListBuilder builder)
{
    return _py2h(object_of(builder._lst));
}

void ctx_ListBuilder_Cancel(HPyContext *, HPyListBuilder builder)
{
    Py_XDECREF(object_of(builder._lst));
}

HPyTupleBuilder ctx_TupleBuilder_New(HPyContext *, HPy_ssize_t size)
{
    return HPyTupleBuilder{reinterpret_cast<intptr_t>(PyTuple_New(size))};
}

void ctx_TupleBuilder_Set(HPyContext *, HPyTupleBuilder builder, HPy_ssize_t index, HPy h_item)
{
    PyObject *tuple = object_of(builder._tup);
    if (tuple == nullptr)
        return;
    PyObject *item = _h2py(h_item);
    Py_XINCREF(item);
    PyObject *old = PyTuple_GET_ITEM(tuple, index);
    PyTuple_SET_ITEM(tuple, index, item);
    Py_XDECREF(old);
}

HPy ctx_TupleBuilder_Build(HPyContext *, HPyTupleBuilder builder)
{
    return _py2h(object_of(builder._tup));
}

void ctx_TupleBuilder_Cancel(HPyContext *, HPyTupleBuilder builder)
{
    Py_XDECREF(object_of(builder._tup));
}

HPyTracker ctx_Tracker_New(HPyContext *, HPy_ssize_t size)
{
    auto *t = new (std::nothrow) Tracker;
    HPy_ssize_t capacity = size > 0 ? size : 8;
    HPy *handles = t ? static_cast<HPy *>(PyMem_Calloc(static_cast<size_t>(capacity), sizeof(HPy))) : nullptr;
    if (handles == nullptr) {
        delete t;
        PyErr_NoMemory();
        return HPyTracker{0};
    }
    t->capacity = capacity;
    t->handles = handles;
    return HPyTracker{reinterpret_cast<intptr_t>(t)};
}

int ctx_Tracker_Add(HPyContext *, HPyTracker ht, HPy h)
{
    Tracker *t = tracker_of(ht);
    if (t == nullptr) {
        PyErr_SetString(PyExc_SystemError, "HPyTracker_Add on a NULL tracker");
        return -1;
    }
    if (t->length == t->capacity) {
        HPy_ssize_t capacity = t->capacity * 2;
        auto *grown = static_cast<HPy *>(PyMem_Realloc(t->handles, static_cast<size_t>(capacity) * sizeof(HPy)));
        if (grown == nullptr) {
            PyErr_NoMemory();
            return -1;
        }
        t->handles = grown;
        t->capacity = capacity;
    }
    t->handles[t->length++] = h;
    return 0;
}

void ctx_Tracker_ForgetAll(HPyContext *, HPyTracker ht)
{
    if (Tracker *t = tracker_of(ht))
        t->length = 0;
}

void ctx_Tracker_Close(HPyContext *, HPyTracker ht)
{
    Tracker *t = tracker_of(ht);
    if (t == nullptr)
        return;
    for (HPy_ssize_t i = 0; i < t->length; i++)
        Py_XDECREF(_h2py(t->handles[i]));
    PyMem_Free(t->handles);
    delete t;
}

}  // extern "C"
