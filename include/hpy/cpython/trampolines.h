/* include/hpy/cpython/trampolines.h: CPython-ABI trampolines whose arguments need converting by hand. */
#ifndef HPY_CPYTHON_TRAMPOLINES_H
#define HPY_CPYTHON_TRAMPOLINES_H

/* NOARGS: the METH_NOARGS trampoline (as HPy 0.9), and for HPyDef_METH also a METH_FASTCALL form.
   CPython 3.11 and later specialise calls of METH_FASTCALL module functions but not of METH_NOARGS
   ones, and specialise METH_NOARGS methods of types more cheaply than METH_FASTCALL ones: the
   runtime registers a module function with the METH_FASTCALL form, a method with the other. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_NOARGS(SYM, IMPL)      \
    static PyObject *SYM(PyObject *self, PyObject *noargs) \
    {                                                      \
        (void)noargs;                                      \
        _HPY_ASSUME(self != NULL);                         \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self))); \
    }
#define _HPyMeth_TRAMPOLINES_HPyFunc_NOARGS(SYM, IMPL)                                          \
    _HPyFunc_TRAMPOLINE_HPyFunc_NOARGS(SYM##_trampoline, IMPL) static PyObject *SYM##_fastcall( \
        PyObject * self, PyObject *const *args, Py_ssize_t nargs)                               \
    {                                                                                           \
        (void)args;                                                                             \
        if (nargs != 0)                                                                         \
            return _HPy_NoArgsError(self, (void (*)(void))SYM##_fastcall, nargs);               \
        _HPY_ASSUME(self != NULL);                                                              \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self)));                                      \
    }
#define _HPyMeth_FASTCALL_HPyFunc_NOARGS(SYM) ((cpy_PyCFunction)(void (*)(void))SYM##_fastcall)

/* METH_FASTCALL: the argument array is already an array of handles. (Saying that its first item
   is not NULL, as the KEYWORDS method does, makes GCC test nargs once more here: it places the
   load under that test when the implementation compares nargs with something else than 0.) */
#define _HPyFunc_TRAMPOLINE_HPyFunc_VARARGS(SYM, IMPL)                                       \
    static PyObject *SYM(PyObject *self, PyObject *const *args, Py_ssize_t nargs)            \
    {                                                                                        \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args, (size_t)nargs)); \
    }

#define _HPyMeth_TRAMPOLINES_HPyFunc_VARARGS(SYM, IMPL) \
    _HPyFunc_TRAMPOLINE_HPyFunc_VARARGS(SYM##_trampoline, IMPL)
#define _HPyMeth_FASTCALL_HPyFunc_VARARGS(SYM) ((cpy_PyCFunction)0)
#define _HPyMeth_TRAMPOLINES_HPyFunc_O(SYM, IMPL) _HPyFunc_TRAMPOLINE_HPyFunc_O(SYM##_trampoline, IMPL)
#define _HPyMeth_FASTCALL_HPyFunc_O(SYM) ((cpy_PyCFunction)0)

/* Vectorcall (HPy_tp_call, call functions): keyword values follow the positional ones, and nargsf
   may carry PY_VECTORCALL_ARGUMENTS_OFFSET. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_KEYWORDS(SYM, IMPL)                                           \
    static PyObject *SYM(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) \
    {                                                                                             \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args,                       \
                          (size_t)PyVectorcall_NARGS(nargsf), _py2h(kwnames)));                   \
    }

/* A KEYWORDS method is METH_FASTCALL | METH_KEYWORDS: CPython passes the positional count itself,
   and never a NULL item (said for the first, which implementations read most). */
#define _HPyMeth_TRAMPOLINES_HPyFunc_KEYWORDS(SYM, IMPL)                                                     \
    static PyObject *SYM##_trampoline(PyObject *self, PyObject *const *args, Py_ssize_t nargs,               \
                                      PyObject *kwnames)                                                     \
    {                                                                                                        \
        _HPY_ASSUME(nargs <= 0 || args[0] != NULL);                                                          \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args, (size_t)nargs, _py2h(kwnames))); \
    }
#define _HPyMeth_FASTCALL_HPyFunc_KEYWORDS(SYM) ((cpy_PyCFunction)0)

/* tp_init and tp_new receive a tuple and a dict: the tuple's items are the handle array. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_INITPROC(SYM, IMPL)                                           \
    static int SYM(PyObject *self, PyObject *args, PyObject *kw)                                  \
    {                                                                                             \
        return IMPL(_HPyGetContext(), _py2h(self), (const HPy *)((PyTupleObject *)args)->ob_item, \
                    PyTuple_GET_SIZE(args), _py2h(kw));                                           \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_NEWFUNC(SYM, IMPL)                                                  \
    static PyObject *SYM(PyObject *type, PyObject *args, PyObject *kw)                                  \
    {                                                                                                   \
        return _h2py(IMPL(_HPyGetContext(), _py2h(type), (const HPy *)((PyTupleObject *)args)->ob_item, \
                          PyTuple_GET_SIZE(args), _py2h(kw)));                                          \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_GETBUFFERPROC(SYM, IMPL)                                    \
    static int SYM(PyObject *self, Py_buffer *view, int flags)                                  \
    {                                                                                           \
        return _HPy_CallGetBufferProc(_HPyGetContext(), (HPyCFunction)IMPL, self, view, flags); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_RELEASEBUFFERPROC(SYM, IMPL)                      \
    static void SYM(PyObject *self, Py_buffer *view)                                  \
    {                                                                                 \
        _HPy_CallReleaseBufferProc(_HPyGetContext(), (HPyCFunction)IMPL, self, view); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_TRAVERSEPROC(SYM, IMPL)                 \
    static int SYM(PyObject *self, visitproc visit, void *arg)              \
    {                                                                       \
        return _HPy_CallTraverseProc((HPyCFunction)IMPL, self, visit, arg); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_CAPSULE_DESTRUCTOR(SYM, IMPL) \
    static void SYM(PyObject *capsule)                            \
    {                                                             \
        _HPy_CallCapsuleDestructor((HPyCFunction)IMPL, capsule);  \
    }

#endif /* HPY_CPYTHON_TRAMPOLINES_H */
