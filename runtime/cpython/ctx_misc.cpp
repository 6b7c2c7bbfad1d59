// runtime/cpython/ctx_misc.cpp: context functions over CPython that need more than one C-API call.
#include <climits>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "runtime/cpython/context_init.h"
#include "runtime/cpython/threads.h"

namespace {

// The _i and _s variants: `key` is a new reference (NULL if making it failed), released after `op`.
template <typename Op>
auto with_key(PyObject *key, Op op) -> decltype(op(key))
{
    using Result = decltype(op(key));
    if (key == nullptr) {
        if constexpr (std::is_pointer_v<Result>)
            return nullptr;
        else
            return Result(-1);
    }
    auto result = op(key);
    Py_DECREF(key);
    return result;
}

}  // namespace

namespace hpy::cpython {
std::atomic<const TokenHooks *> g_token_hooks{nullptr};
}

extern "C" {

int32_t ctx_Long_AsInt32_t(HPyContext *, HPy h)
{
    long v = PyLong_AsLong(_h2py(h));
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < INT32_MIN || v > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C int32_t");
        return -1;
    }
    return (int32_t)v;
}

uint32_t ctx_Long_AsUInt32_t(HPyContext *, HPy h)
{
    unsigned long v = PyLong_AsUnsignedLong(_h2py(h));
    if (v == (unsigned long)-1 && PyErr_Occurred())
        return (uint32_t)-1;
    if (v > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C uint32_t");
        return (uint32_t)-1;
    }
    return (uint32_t)v;
}

HPy ctx_GetItem_i(HPyContext *, HPy obj, HPy_ssize_t idx)
{
    PyObject *o = _h2py(obj);
    if (PyList_CheckExact(o) && idx >= 0 && idx < PyList_GET_SIZE(o)) {
        PyObject *item = PyList_GET_ITEM(o, idx);
        Py_INCREF(item);
        return _py2h(item);
    }
    PyObject *r = with_key(PyLong_FromSsize_t(idx), [o](PyObject *k) { return PyObject_GetItem(o, k); });
    return _py2h(r);
}

HPy ctx_GetItem_s(HPyContext *, HPy obj, const char *utf8_key)
{
    PyObject *o = _h2py(obj);
    return _py2h(
        with_key(PyUnicode_FromString(utf8_key), [o](PyObject *k) { return PyObject_GetItem(o, k); }));
}

int ctx_SetItem_i(HPyContext *, HPy obj, HPy_ssize_t idx, HPy value)
{
    PyObject *o = _h2py(obj), *v = _h2py(value);
    return with_key(PyLong_FromSsize_t(idx), [o, v](PyObject *k) { return PyObject_SetItem(o, k, v); });
}

int ctx_SetItem_s(HPyContext *, HPy obj, const char *utf8_key, HPy value)
{
    PyObject *o = _h2py(obj), *v = _h2py(value);
    return with_key(PyUnicode_FromString(utf8_key),
                    [o, v](PyObject *k) { return PyObject_SetItem(o, k, v); });
}

int ctx_DelItem_i(HPyContext *, HPy obj, HPy_ssize_t idx)
{
    PyObject *o = _h2py(obj);
    return with_key(PyLong_FromSsize_t(idx), [o](PyObject *k) { return PyObject_DelItem(o, k); });
}

int ctx_DelItem_s(HPyContext *, HPy obj, const char *utf8_key)
{
    PyObject *o = _h2py(obj);
    return with_key(PyUnicode_FromString(utf8_key), [o](PyObject *k) { return PyObject_DelItem(o, k); });
}

HPy ctx_CallTupleDict(HPyContext *, HPy callable, HPy args, HPy kw)
{
    PyObject *a = _h2py(args), *k = _h2py(kw);
    if (a != nullptr && !PyTuple_Check(a)) {
        PyErr_SetString(PyExc_TypeError, "HPy_CallTupleDict requires args to be a tuple or null handle");
        return HPy_NULL;
    }
    if (k != nullptr && !PyDict_Check(k)) {
        PyErr_SetString(PyExc_TypeError, "HPy_CallTupleDict requires kw to be a dict or null handle");
        return HPy_NULL;
    }
    if (a == nullptr) {
        PyObject *empty = PyTuple_New(0);
        if (empty == nullptr)
            return HPy_NULL;
        PyObject *r = PyObject_Call(_h2py(callable), empty, k);
        Py_DECREF(empty);
        return _py2h(r);
    }
    return _py2h(PyObject_Call(_h2py(callable), a, k));
}

// Handles are object pointers, so the handle array is the vectorcall argument array.
HPy ctx_CallMethod(HPyContext *, HPy name, const HPy *args, size_t nargs, HPy kwnames)
{
    PyObject *kn = _h2py(kwnames);
    if (kn != nullptr && !PyTuple_Check(kn)) {
        PyErr_SetString(PyExc_TypeError, "HPy_CallMethod requires kwnames to be a tuple or null handle");
        return HPy_NULL;
    }
    if (nargs == 0) {
        PyErr_SetString(PyExc_TypeError, "HPy_CallMethod requires the receiver as args[0]");
        return HPy_NULL;
    }
    return _py2h(
        PyObject_VectorcallMethod(_h2py(name), reinterpret_cast<PyObject *const *>(args), nargs, kn));
}

const char *ctx_Type_GetName(HPyContext *, HPy type)
{
    PyObject *t = _h2py(type);
    if (!PyType_Check(t)) {
        PyErr_SetString(PyExc_TypeError, "HPyType_GetName: the argument is not a type");
        return nullptr;
    }
    // The name without its module, as `__name__`: a class's own name for a heap type (owned by the
    // type), and what follows the last dot of a static type's tp_name ("array.array" -> "array").
    auto *tp = reinterpret_cast<PyTypeObject *>(t);
#ifndef PYPY_VERSION
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        return PyUnicode_AsUTF8(reinterpret_cast<PyHeapTypeObject *>(tp)->ht_name);
#endif
    const char *dot = std::strrchr(tp->tp_name, '.');
    return dot != nullptr ? dot + 1 : tp->tp_name;
}

int ctx_Type_IsSubtype(HPyContext *, HPy sub, HPy type)
{
    PyObject *s = _h2py(sub), *t = _h2py(type);
    if (!PyType_Check(s) || !PyType_Check(t)) {
        PyErr_SetString(PyExc_TypeError, "HPyType_IsSubtype: both arguments must be types");
        return 0;
    }
    return PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(s), reinterpret_cast<PyTypeObject *>(t));
}

void ctx_Dump(HPyContext *, HPy h)
{
    PyObject *o = _h2py(h);
    std::fprintf(stderr, "object address: %p\n", static_cast<void *>(o));
    if (o == nullptr)
        return;
    std::fprintf(stderr, "object type   : %s\n", Py_TYPE(o)->tp_name);
    PyObject *r = PyObject_Repr(o);
    const char *text = r ? PyUnicode_AsUTF8(r) : nullptr;
    std::fprintf(stderr, "object repr   : %s\n", text ? text : "<repr failed>");
    if (text == nullptr)
        PyErr_Clear();
    Py_XDECREF(r);
}

int ctx_Slice_Unpack(HPyContext *, HPy slice, HPy_ssize_t *start, HPy_ssize_t *stop, HPy_ssize_t *step)
{
    PyObject *s = _h2py(slice);
    if (!PySlice_Check(s)) {  // PySlice_Unpack reads the object as a slice without checking
        PyErr_Format(PyExc_TypeError, "HPySlice_Unpack: expected a slice, not '%s'", Py_TYPE(s)->tp_name);
        return -1;
    }
    return PySlice_Unpack(s, start, stop, step);
}

HPy ctx_Compile_s(HPyContext *, const char *utf8_source, const char *utf8_filename, HPy_SourceKind kind)
{
    int start;
    switch (kind) {
    case HPy_SourceKind_Expr:
        start = Py_eval_input;
        break;
    case HPy_SourceKind_File:
        start = Py_file_input;
        break;
    case HPy_SourceKind_Single:
        start = Py_single_input;
        break;
    default:
        PyErr_SetString(PyExc_SystemError, "HPy_Compile_s: invalid source kind");
        return HPy_NULL;
    }
    return _py2h(Py_CompileString(utf8_source, utf8_filename, start));
}

int32_t ctx_ContextVar_Get(HPyContext *, HPy context_var, HPy default_value, HPy *result)
{
    PyObject *value = nullptr;
    int rc = PyContextVar_Get(_h2py(context_var), _h2py(default_value), &value);
    *result = _py2h(value);
    return rc;
}

HPyThreadState ctx_LeavePythonExecution(HPyContext *)
{
    HPyThreadState state;
    state._i = reinterpret_cast<intptr_t>(PyEval_SaveThread());
    return state;
}

void ctx_ReenterPythonExecution(HPyContext *, HPyThreadState state)
{
    PyEval_RestoreThread(reinterpret_cast<PyThreadState *>(state._i));
}

// Fields and globals hold strong references on CPython (the GC sees fields through tp_traverse).
//
// Threads (runtime/cpython/threads.h): a store swaps the new reference in atomically, so concurrent
// stores into one field never lose or release a reference twice. A field's value is read by the
// module (HPyField_Load receives it by value), so, as for a PyObject* member of a C-API type under
// CPython's free-threading rules, a module that replaces a field while other threads load it must
// serialise the two itself. A global is a cell of the host's instead (below): its loads and stores
// are safe from any thread.
void ctx_Field_Store(HPyContext *, HPy target_object, HPyField *target_field, HPy h)
{
    (void)target_object;
    PyObject *value = _h2py(h);
    Py_XINCREF(value);
    Py_XDECREF(reinterpret_cast<PyObject *>(
        hpy::threads::exchange(&target_field->_i, reinterpret_cast<intptr_t>(value))));
}

HPy ctx_Field_Load(HPyContext *, HPy source_object, HPyField source_field)
{
    (void)source_object;
    PyObject *value = reinterpret_cast<PyObject *>(source_field._i);
    Py_XINCREF(value);
    return _py2h(value);
}

namespace {

// What an HPyGlobal holds once stored: the address of a cell, made by the first store and kept for
// the process (globals are few, and a global outlives every call). A load reads the cell under its
// lock, so the reference it takes cannot be released by a store racing with it.
struct GlobalCell {
    PyObject *value = nullptr;
    hpy::threads::Lock lock;
};

GlobalCell *global_cell(HPyGlobal *global)
{
    auto *cell = reinterpret_cast<GlobalCell *>(hpy::threads::load(&global->_i));
    if (cell != nullptr)
        return cell;
    auto *fresh = new GlobalCell;
    intptr_t expected = 0;
    if (__atomic_compare_exchange_n(&global->_i, &expected, reinterpret_cast<intptr_t>(fresh), false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    delete fresh;  // another thread's first store won
    return reinterpret_cast<GlobalCell *>(expected);
}

}  // namespace

// A module's globals start empty at each initialisation (ctx_module.cpp): the cell is kept, its value
// released.
void hpy_reset_global(HPyGlobal *global)
{
    intptr_t word = hpy::threads::load(&global->_i);
    if (hpy::cpython::is_token(word)) {  // stored under the moving-GC checker
        global->_i = 0;
        if (const auto *hooks = hpy::cpython::token_hooks())
            hooks->global_release(global, word);
        return;
    }
    auto *cell = reinterpret_cast<GlobalCell *>(word);
    if (cell == nullptr)
        return;
    PyObject *old;
    {
        hpy::threads::Guard guard(cell->lock);
        old = cell->value;
        cell->value = nullptr;
    }
    Py_XDECREF(old);
}

void ctx_Global_Store(HPyContext *, HPyGlobal *global, HPy h)
{
    GlobalCell *cell = global_cell(global);
    PyObject *value = _h2py(h);
    Py_XINCREF(value);
    PyObject *old;
    {
        hpy::threads::Guard guard(cell->lock);
        old = cell->value;
        cell->value = value;
    }
    Py_XDECREF(old);  // outside the lock: releasing an object may run any code
}

HPy ctx_Global_Load(HPyContext *, HPyGlobal global)
{
    auto *cell = reinterpret_cast<GlobalCell *>(global._i);
    if (cell == nullptr)
        return HPy_NULL;
    hpy::threads::Guard guard(cell->lock);
    PyObject *value = cell->value;
    Py_XINCREF(value);
    return _py2h(value);
}

}  // extern "C"
