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
#  define _HPyCompat_HasAttr(obj, name) _HPyCompat_ErrorAsFalse(PyObject_HasAttrWithError(obj, name))
#  define _HPyCompat_HasAttrString(obj, name) \
      _HPyCompat_ErrorAsFalse(PyObject_HasAttrStringWithError(obj, name))
#else
#  define _HPyCompat_HasAttr PyObject_HasAttr
#  define _HPyCompat_HasAttrString PyObject_HasAttrString
#endif

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

#endif /* HPY_CPYTHON_INLINE_H */
