/* include/hpy/cpython/hpy_cpython.h: the CPython ABI: handles are PyObject pointers, API calls are inline. */
#ifndef HPY_CPYTHON_HPY_CPYTHON_H
#define HPY_CPYTHON_HPY_CPYTHON_H

/* A handle is the object's address: converting costs nothing. */
HPyAPI_FUNC PyObject *_h2py(HPy h)
{
    return (PyObject *)h._i;
}
HPyAPI_FUNC HPy _py2h(PyObject *o)
{
    return _hconv(o);
}

_HPY_EXTERN_C_BEGIN
/* The one context of a CPython-ABI extension (handle constants filled at PyInit). */
extern _HPy_HIDDEN struct _HPyContext_s _hpy_cpython_context;

/* Runtime pieces the special trampolines share with the universal host. */
HPyAPI_RUNTIME_FUNC int _HPy_CallGetBufferProc(HPyContext *ctx, HPyCFunction impl, PyObject *self,
                                               Py_buffer *view, int flags);
HPyAPI_RUNTIME_FUNC void _HPy_CallReleaseBufferProc(HPyContext *ctx, HPyCFunction impl, PyObject *self,
                                                    Py_buffer *view);
HPyAPI_RUNTIME_FUNC int _HPy_CallTraverseProc(HPyCFunction impl, PyObject *self, visitproc visit, void *arg);
HPyAPI_RUNTIME_FUNC void _HPy_CallCapsuleDestructor(HPyCFunction impl, PyObject *capsule);
/* Raises the TypeError of a NOARGS method called with nargs arguments; returns NULL. */
HPyAPI_RUNTIME_FUNC PyObject *_HPy_NoArgsError(PyObject *self, void (*trampoline)(void), Py_ssize_t nargs);
_HPY_EXTERN_C_END

HPyAPI_FUNC HPyContext *_HPyGetContext(void)
{
    return &_hpy_cpython_context;
}

/* A fact the compiler may rely on (trampolines: arguments CPython never passes as NULL). */
#if defined(__GNUC__) || defined(__clang__)
#    define _HPY_ASSUME(cond)            \
        do {                             \
            if (!(cond))                 \
                __builtin_unreachable(); \
        } while (0)
#else
#    define _HPY_ASSUME(cond) ((void)0)
#endif

#include "hpy/cpython/runtime_gen.h"
#include "hpy/cpython/inline.h"
#include "hpy/cpython/api_gen.h"
#include "hpy/cpython/trampolines_gen.h"
#include "hpy/cpython/trampolines.h"

#endif /* HPY_CPYTHON_HPY_CPYTHON_H */
