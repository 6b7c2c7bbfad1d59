/* include/hpy/cpython/trampolines.h: CPython-ABI trampolines whose arguments need converting by hand. */
#ifndef HPY_CPYTHON_TRAMPOLINES_H
#define HPY_CPYTHON_TRAMPOLINES_H

/* NOARGS is METH_FASTCALL in the CPython ABI (the runtime's method_def): CPython's interpreter
   specialises calls of METH_FASTCALL functions and not of METH_NOARGS ones. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_NOARGS(SYM, IMPL)                             \
    static PyObject *SYM(PyObject *self, PyObject *const *args, Py_ssize_t nargs) \
    {                                                                             \
        (void)args;                                                               \
        if (nargs != 0)                                                           \
            return _HPy_NoArgsError(self, (void (*)(void))SYM, nargs);            \
        _HPY_ASSUME(self != NULL);                                                \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self)));                        \
    }

/* METH_FASTCALL: the argument array is already an array of handles. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_VARARGS(SYM, IMPL)                            \
    static PyObject *SYM(PyObject *self, PyObject *const *args, Py_ssize_t nargs) \
    {                                                                             \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args, (size_t)nargs)); \
    }

/* METH_FASTCALL | METH_KEYWORDS (and vectorcall): keyword values follow the positional ones. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_KEYWORDS(SYM, IMPL)                           \
    static PyObject *SYM(PyObject *self, PyObject *const *args, size_t nargsf,   \
                         PyObject *kwnames)                                       \
    {                                                                             \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args,      \
                          (size_t)PyVectorcall_NARGS(nargsf), _py2h(kwnames)));  \
    }

/* tp_init and tp_new receive a tuple and a dict: the tuple's items are the handle array. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_INITPROC(SYM, IMPL)                           \
    static int SYM(PyObject *self, PyObject *args, PyObject *kw)                 \
    {                                                                             \
        return IMPL(_HPyGetContext(), _py2h(self), (const HPy *)((PyTupleObject *)args)->ob_item, \
                    PyTuple_GET_SIZE(args), _py2h(kw));                           \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_NEWFUNC(SYM, IMPL)                            \
    static PyObject *SYM(PyObject *type, PyObject *args, PyObject *kw)           \
    {                                                                             \
        return _h2py(IMPL(_HPyGetContext(), _py2h(type), (const HPy *)((PyTupleObject *)args)->ob_item, \
                          PyTuple_GET_SIZE(args), _py2h(kw)));                    \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_GETBUFFERPROC(SYM, IMPL)                      \
    static int SYM(PyObject *self, Py_buffer *view, int flags)                   \
    {                                                                             \
        return _HPy_CallGetBufferProc(_HPyGetContext(), (HPyCFunction)IMPL, self, view, flags); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_RELEASEBUFFERPROC(SYM, IMPL)                  \
    static void SYM(PyObject *self, Py_buffer *view)                             \
    {                                                                             \
        _HPy_CallReleaseBufferProc(_HPyGetContext(), (HPyCFunction)IMPL, self, view); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_TRAVERSEPROC(SYM, IMPL)                       \
    static int SYM(PyObject *self, visitproc visit, void *arg)                   \
    {                                                                             \
        return _HPy_CallTraverseProc((HPyCFunction)IMPL, self, visit, arg);       \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_CAPSULE_DESTRUCTOR(SYM, IMPL)                 \
    static void SYM(PyObject *capsule)                                           \
    {                                                                             \
        _HPy_CallCapsuleDestructor((HPyCFunction)IMPL, capsule);                  \
    }

#endif /* HPY_CPYTHON_TRAMPOLINES_H */
