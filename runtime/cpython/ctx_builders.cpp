// runtime/cpython/ctx_builders.cpp: list and tuple builders and HPyTracker over CPython.
#include <new>

#include "runtime/cpython/capi_compat.h"
#include "runtime/cpython/context_init.h"

namespace {

// A builder is the list or tuple under construction: its unset items are NULL until Build.
// Lists and tuples differ only in how they are made and where their item array is.
struct ListKind {
    static PyObject *make(HPy_ssize_t size) { return PyList_New(size); }
    static void store(PyObject *seq, HPy_ssize_t index, PyObject *item)
    {
        hpy::compat::list_store(seq, index, item);
    }
};
struct TupleKind {
    static PyObject *make(HPy_ssize_t size) { return PyTuple_New(size); }
    static void store(PyObject *seq, HPy_ssize_t index, PyObject *item)
    {
        hpy::compat::replace_item(&reinterpret_cast<PyTupleObject *>(seq)->ob_item[index], item);
    }
};

template <typename Kind>
intptr_t builder_new(HPy_ssize_t size)
{
    return reinterpret_cast<intptr_t>(Kind::make(size));
}

template <typename Kind>
void builder_set(intptr_t builder, HPy_ssize_t index, HPy h_item)
{
    auto *seq = reinterpret_cast<PyObject *>(builder);
    if (seq == nullptr)
        return;  // New failed: its exception is what Build reports
    PyObject *item = _h2py(h_item);
    Py_XINCREF(item);
    Kind::store(seq, index, item);
}

HPy builder_build(intptr_t builder)
{
    return _py2h(reinterpret_cast<PyObject *>(builder));
}
void builder_cancel(intptr_t builder)
{
    Py_XDECREF(reinterpret_cast<PyObject *>(builder));
}

// A tracker: the handles to close together (HPyTracker_Close) or to forget (ForgetAll).
struct Tracker {
    HPy_ssize_t length = 0;
    HPy_ssize_t capacity = 0;
    HPy *handles = nullptr;
};

Tracker *tracker_of(HPyTracker ht)
{
    return reinterpret_cast<Tracker *>(ht._i);
}

}  // namespace

extern "C" {

HPyListBuilder ctx_ListBuilder_New(HPyContext *, HPy_ssize_t size)
{
    return {builder_new<ListKind>(size)};
}
void ctx_ListBuilder_Set(HPyContext *, HPyListBuilder b, HPy_ssize_t index, HPy h_item)
{
    builder_set<ListKind>(b._lst, index, h_item);
}
HPy ctx_ListBuilder_Build(HPyContext *, HPyListBuilder b)
{
    return builder_build(b._lst);
}
void ctx_ListBuilder_Cancel(HPyContext *, HPyListBuilder b)
{
    builder_cancel(b._lst);
}

HPyTupleBuilder ctx_TupleBuilder_New(HPyContext *, HPy_ssize_t size)
{
    return {builder_new<TupleKind>(size)};
}
void ctx_TupleBuilder_Set(HPyContext *, HPyTupleBuilder b, HPy_ssize_t index, HPy h_item)
{
    builder_set<TupleKind>(b._tup, index, h_item);
}
HPy ctx_TupleBuilder_Build(HPyContext *, HPyTupleBuilder b)
{
    return builder_build(b._tup);
}
void ctx_TupleBuilder_Cancel(HPyContext *, HPyTupleBuilder b)
{
    builder_cancel(b._tup);
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
        auto *grown =
            static_cast<HPy *>(PyMem_Realloc(t->handles, static_cast<size_t>(capacity) * sizeof(HPy)));
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
