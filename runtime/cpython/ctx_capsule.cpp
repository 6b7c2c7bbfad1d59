// runtime/cpython/ctx_capsule.cpp: capsules over CPython, with HPy destructors.
#include "runtime/cpython/context_init.h"

namespace {

// An HPy destructor needs both halves; false with ValueError set otherwise. NULL is "no destructor".
bool valid_destructor(const HPyCapsule_Destructor *d)
{
    if (d != nullptr && (d->cpy_trampoline == nullptr || d->impl == nullptr)) {
        PyErr_SetString(PyExc_ValueError, "Invalid HPyCapsule destructor");
        return false;
    }
    return true;
}

// CPython's capsule functions refuse another object with ValueError themselves; PyPy 8.0's C-API
// emulation aborts the interpreter. Checked here, once, for every interpreter.
bool is_capsule(PyObject *c, const char *function)
{
    if (PyCapsule_CheckExact(c))
        return true;
    PyErr_Format(PyExc_ValueError, "%s called with invalid PyCapsule object", function);
    return false;
}

}  // namespace

extern "C" {

HPy ctx_Capsule_New(HPyContext *, void *pointer, const char *utf8_name, HPyCapsule_Destructor *destructor)
{
    if (!valid_destructor(destructor))
        return HPy_NULL;
    return _py2h(PyCapsule_New(pointer, utf8_name, destructor ? destructor->cpy_trampoline : nullptr));
}

void *ctx_Capsule_Get(HPyContext *, HPy capsule, _HPyCapsule_key key, const char *utf8_name)
{
    PyObject *c = _h2py(capsule);
    if (!is_capsule(c, "HPyCapsule_Get"))
        return nullptr;
    switch (key) {
    case HPyCapsule_key_Pointer:
        return PyCapsule_GetPointer(c, utf8_name);
    case HPyCapsule_key_Name:
        return const_cast<char *>(PyCapsule_GetName(c));
    case HPyCapsule_key_Context:
        return PyCapsule_GetContext(c);
    case HPyCapsule_key_Destructor:
        break;
    }
    PyErr_SetString(PyExc_ValueError, "HPyCapsule_Get: invalid key");
    return nullptr;
}

int ctx_Capsule_IsValid(HPyContext *, HPy capsule, const char *utf8_name)
{
    return PyCapsule_IsValid(_h2py(capsule), utf8_name);
}

int ctx_Capsule_Set(HPyContext *, HPy capsule, _HPyCapsule_key key, void *value)
{
    PyObject *c = _h2py(capsule);
    if (!is_capsule(c, "HPyCapsule_Set"))
        return -1;
    switch (key) {
    case HPyCapsule_key_Pointer:
        if (value == nullptr) {  // CPython refuses it; PyPy 8.0's C-API emulation would store it
            PyErr_SetString(PyExc_ValueError, "HPyCapsule_SetPointer called with null pointer");
            return -1;
        }
        return PyCapsule_SetPointer(c, value);
    case HPyCapsule_key_Name:
        return PyCapsule_SetName(c, static_cast<const char *>(value));
    case HPyCapsule_key_Context:
        return PyCapsule_SetContext(c, value);
    case HPyCapsule_key_Destructor: {
        auto *d = static_cast<HPyCapsule_Destructor *>(value);
        if (!valid_destructor(d))
            return -1;
        return PyCapsule_SetDestructor(c, d ? d->cpy_trampoline : nullptr);
    }
    }
    PyErr_SetString(PyExc_ValueError, "HPyCapsule_Set: invalid key");
    return -1;
}

// The capsule keeps only the C-side trampoline; it calls here with the HPy implementation.
__attribute__((visibility("hidden"))) void _HPy_CallCapsuleDestructor(HPyCFunction impl, PyObject *capsule)
{
    const char *name = PyCapsule_GetName(capsule);
    void *pointer = PyCapsule_GetPointer(capsule, name);
    void *context = PyCapsule_GetContext(capsule);
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(capsule);
        return;
    }
    reinterpret_cast<HPyFunc_Capsule_Destructor>(impl)(name, pointer, context);
}

}  // extern "C"
