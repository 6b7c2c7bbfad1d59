// runtime/cpython/capi_compat.h: the few C-API pieces that interpreters emulating CPython's API lack.
#pragma once
// The runtime is written against CPython's C API. Interpreters that emulate it (PyPy's cpyext,
// GraalPy) miss a handful of functions and struct fields; each gap is filled here, once, with
// public API only, so the host builds unchanged against their headers (docs/hosts.md).
#include <Python.h>

// Python 3.9 (PyPy 7.3.11) lacks two functions of 3.10 that the runtime uses: the same from older API.
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *obj)
{
    Py_INCREF(obj);
    return obj;
}

static inline int PyModule_AddObjectRef(PyObject *module, const char *name, PyObject *value)
{
    Py_XINCREF(value);
    if (PyModule_AddObject(module, name, value) < 0) {  // steals `value` only on success
        Py_XDECREF(value);
        return -1;
    }
    return 0;
}
#endif

namespace hpy::compat {

// Puts `item` (a new reference) in an item slot of a sequence under construction, releasing the old one.
inline void replace_item(PyObject **slot, PyObject *item)
{
    PyObject *old = *slot;
    *slot = item;
    Py_XDECREF(old);
}

// Stores `item` (a new reference, may be NULL) at `index` of a list under construction, releasing
// what was there. cpyext lists keep their items on PyPy's side: there is no ob_item array there.
inline void list_store(PyObject *list, Py_ssize_t index, PyObject *item)
{
#if defined(PYPY_VERSION)
    PyList_SetItem(list, index, item);
#else
    replace_item(&reinterpret_cast<PyListObject *>(list)->ob_item[index], item);
#endif
}

// PyPy 7.3.11 (Python 3.9) has no slot wrapper for tp_finalize: a Python subclass of a type with
// one aborts the interpreter ("cpyext: missing slot wrapper wrap_del") when its instance dies. There
// the type gets no tp_finalize; its tp_dealloc runs the finalizer (ctx_type.cpp).
#if defined(PYPY_VERSION) && PY_VERSION_HEX < 0x030A0000
constexpr bool finalize_in_dealloc = true;
#else
constexpr bool finalize_in_dealloc = false;
#endif

// A getset's getter for an attribute that has only a setter. CPython refuses to read such an
// attribute itself; cpyext calls the NULL getter (PyPy 8.0 crashes), so there it gets this one.
inline getter write_only_getter(getter get)
{
#if defined(PYPY_VERSION)
    if (get == nullptr)
        return [](PyObject *self, void *) -> PyObject * {
            PyErr_Format(PyExc_AttributeError,
                         "an attribute of '%s' objects is not readable (it has no getter)",
                         Py_TYPE(self)->tp_name);
            return nullptr;
        };
#endif
    return get;
}

// PyModule_FromDefAndSpec: the module object of a multi-phase definition, before its exec slots run.
inline PyObject *module_from_def_and_spec(PyModuleDef *def, PyObject *spec)
{
#if defined(PYPY_VERSION)
    PyObject *module = nullptr;
    for (PyModuleDef_Slot *slot = def->m_slots; slot && slot->slot; ++slot) {
        if (slot->slot == Py_mod_create) {
            auto create = reinterpret_cast<PyObject *(*)(PyObject *, PyModuleDef *)>(slot->value);
            module = create(spec, def);
            if (module == nullptr)
                return nullptr;
        }
    }
    if (module == nullptr) {
        PyObject *name = PyObject_GetAttrString(spec, "name");
        if (name == nullptr)
            return nullptr;
        module = PyModule_NewObject(name);
        Py_DECREF(name);
        if (module == nullptr)
            return nullptr;
    }
    if (!PyModule_Check(module))
        return module;
    reinterpret_cast<PyModuleObject *>(module)->md_def = def;  // what PyModule_GetDef returns
    if (def->m_methods && PyModule_AddFunctions(module, def->m_methods) != 0) {
        Py_DECREF(module);
        return nullptr;
    }
    if (def->m_doc) {
        PyObject *doc = PyUnicode_FromString(def->m_doc);
        if (doc == nullptr || PyObject_SetAttrString(module, "__doc__", doc) != 0) {
            Py_XDECREF(doc);
            Py_DECREF(module);
            return nullptr;
        }
        Py_DECREF(doc);
    }
    return module;
#else
    return PyModule_FromDefAndSpec(def, spec);
#endif
}

}  // namespace hpy::compat
