/* include/hpy/cpython/inline.h: CPython-ABI API functions written by hand (the description's cpython=inline). */
#ifndef HPY_CPYTHON_INLINE_H
#define HPY_CPYTHON_INLINE_H

/* PyObject_HasAttr(String) as HPy 0.9 defines it: 1 or 0, any error cleared without a trace.
   CPython 3.13 and later report such errors as "Exception ignored" on stderr; the WithError
   variants let the error be cleared quietly instead. */
#if PY_VERSION_HEX >= 0x030D0000
static inline int _HPyCompat_ErrorAsFalse(int result)
{
    if (result < 0) {
        PyErr_Clear();
        return 0;
    }
    return result;
}
#    define _HPyCompat_HasAttr(obj, name) _HPyCompat_ErrorAsFalse(PyObject_HasAttrWithError(obj, name))
#    define _HPyCompat_HasAttrString(obj, name) \
        _HPyCompat_ErrorAsFalse(PyObject_HasAttrStringWithError(obj, name))
#else
#    define _HPyCompat_HasAttr PyObject_HasAttr
#    define _HPyCompat_HasAttrString PyObject_HasAttrString
#endif

/* HPyDict_Keys and HPyDict_Copy of HPy_NULL raise SystemError. PyDict_Keys itself crashes on NULL
   in CPython's free-threaded build (Py_GIL_DISABLED: it locks the object before checking it), and
   both crash on NULL in PyPy's C-API emulation: the check comes first. */
static inline PyObject *_HPyCompat_DictKeys(PyObject *dict)
{
    if (dict == NULL) {
        PyErr_BadInternalCall();
        return NULL;
    }
    return PyDict_Keys(dict);
}

static inline PyObject *_HPyCompat_DictCopy(PyObject *dict)
{
    if (dict == NULL) {
        PyErr_BadInternalCall();
        return NULL;
    }
    return PyDict_Copy(dict);
}

/* Modules are created from their HPyModuleDef by HPy_MODINIT and the host. HPy 0.9 declares
   HPyModule_Create in the CPython ABI but defines it nowhere (a call fails at load time with an
   undefined symbol); here a call raises SystemError and returns HPy_NULL. */
HPyAPI_FUNC HPy HPyModule_Create(HPyContext *ctx, HPyModuleDef *def)
{
    (void)ctx;
    (void)def;
    PyErr_SetString(
        PyExc_SystemError,
        "HPyModule_Create is not supported: a module is created from its HPyModuleDef by HPy_MODINIT");
    return HPy_NULL;
}

/* A new handle to the same object (HPy_NULL stays HPy_NULL). */
HPyAPI_FUNC HPy HPy_Dup(HPyContext *ctx, HPy h)
{
    (void)ctx;
    Py_XINCREF(_h2py(h));
    return h;
}

/* Releases a handle; closing HPy_NULL does nothing. */
HPyAPI_FUNC void HPy_Close(HPyContext *ctx, HPy h)
{
    (void)ctx;
    Py_XDECREF(_h2py(h));
}

/* 1 if both handles refer to the same object. */
HPyAPI_FUNC int HPy_Is(HPyContext *ctx, HPy obj, HPy other)
{
    (void)ctx;
    return _h2py(obj) == _h2py(other);
}

/* 1 if obj is an instance of type (or of a subtype); type must be a type. */
HPyAPI_FUNC int HPy_TypeCheck(HPyContext *ctx, HPy obj, HPy type)
{
    (void)ctx;
    return PyObject_TypeCheck(_h2py(obj), (PyTypeObject *)_h2py(type));
}

/* 1 if an exception is set. */
HPyAPI_FUNC int HPyErr_Occurred(HPyContext *ctx)
{
    (void)ctx;
    return PyErr_Occurred() != NULL;
}

/* A new handle to a CPython object (legacy API). */
HPyAPI_FUNC HPy HPy_FromPyObject(HPyContext *ctx, cpy_PyObject *obj)
{
    (void)ctx;
    Py_XINCREF(obj);
    return _py2h(obj);
}

/* A new reference to the handle's object (legacy API). */
HPyAPI_FUNC cpy_PyObject *HPy_AsPyObject(HPyContext *ctx, HPy h)
{
    (void)ctx;
    PyObject *obj = _h2py(h);
    Py_XINCREF(obj);
    return obj;
}

/* A new bytes object of the len bytes at `bytes`. Unlike PyBytes_FromStringAndSize, NULL is an error
   (ValueError): a bytes object is never written after its creation through HPy. */
HPyAPI_FUNC HPy HPyBytes_FromStringAndSize(HPyContext *ctx, const char *bytes, HPy_ssize_t len)
{
    (void)ctx;
    if (bytes == NULL) {
        PyErr_SetString(PyExc_ValueError, "NULL char * passed to HPyBytes_FromStringAndSize");
        return HPy_NULL;
    }
    return _py2h(PyBytes_FromStringAndSize(bytes, len));
}

/* A new tuple of the n items (each gets a new reference); HPy_NULL on error. */
HPyAPI_FUNC HPy HPyTuple_FromArray(HPyContext *ctx, HPy items[], HPy_ssize_t n)
{
    (void)ctx;
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return HPy_NULL;
    for (HPy_ssize_t i = 0; i < n; i++) {
        PyObject *item = _h2py(items[i]);
        Py_INCREF(item);
        PyTuple_SET_ITEM(t, i, item);
    }
    return _py2h(t);
}

/* Where the user's struct starts in an instance of a pure (Object-shape) type: after the object
   header, aligned as max_align_t (runtime/cpython/ctx_type.cpp asserts the same offset). */
#define _HPy_OBJECT_SHAPE_OFFSET (((sizeof(PyObject) + 15) / 16) * 16)

/* The instance struct of a pure type's object: one addition, as in hand-written C-API code. */
HPyAPI_FUNC void *_HPy_AsStruct_Object(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return (char *)_h2py(h) + _HPy_OBJECT_SHAPE_OFFSET;
}

/* A Legacy-shape type's struct starts with PyObject_HEAD: it is the object itself. */
HPyAPI_FUNC void *_HPy_AsStruct_Legacy(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return _h2py(h);
}

/* Calls `callable` with vectorcall arguments (keyword values after the positional ones, their names
   in the tuple kwnames, or HPy_NULL); a new handle, HPy_NULL on error. */
HPyAPI_FUNC HPy HPy_Call(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)ctx;
    PyObject *kn = _h2py(kwnames);
    if (kn != NULL && !PyTuple_Check(kn)) {
        PyErr_SetString(PyExc_TypeError, "HPy_Call requires kwnames to be a tuple or null handle");
        return HPy_NULL;
    }
    return _py2h(PyObject_Vectorcall(_h2py(callable), (PyObject *const *)args, nargs, kn));
}

#endif /* HPY_CPYTHON_INLINE_H */
