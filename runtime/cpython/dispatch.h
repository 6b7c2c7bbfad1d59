// runtime/cpython/dispatch.h: the host's side of the universal trampolines, over a handle policy.
//
// hpy::dispatch::call<P> (generated, dispatch_gen.h) unpacks a trampoline's argument block and calls the
// implementation. The policy P decides what a handle is: the universal context's policy below makes a
// handle of the PyObject* itself; the debug context (debug/debug.h) opens a debug handle per argument.
// A policy provides:
//   HPyContext *ctx()                        the context the implementation is called with
//   HPy arg(PyObject *o)                     a borrowed handle for an argument (o may be NULL)
//   const HPy *args(PyObject *const *a, n)   the same for an array
//   PyObject *owned(HPy h)                   the object of a handle the implementation hands over
//   PyObject *ret(HPy h) / T ret(T v)        the block's result from the implementation's return value
//   void ret_void()                          the end of a call without a result
#pragma once

#include "runtime/cpython/context_init.h"

namespace hpy::dispatch {

// A signature number no HPy 0.9 trampoline sends: a SystemError, never a crash.
void unknown_signature(HPyContext *ctx, HPyFunc_Signature sig);

// The universal context on CPython: a handle is the PyObject*, so every conversion is a cast.
struct UniversalPolicy {
    HPyContext *context;
    HPyContext *ctx() const { return context; }
    static HPy arg(PyObject *o) { return _py2h(o); }
    static const HPy *args(PyObject *const *a, size_t) { return reinterpret_cast<const HPy *>(a); }
    static PyObject *owned(HPy h) { return _h2py(h); }
    static PyObject *ret(HPy h) { return _h2py(h); }
    template <typename T>
    static T ret(T v)
    {
        return v;
    }
    static void ret_void() {}
};

// CPython hands tp_new/tp_init a tuple; its item array is the argument array.
inline PyObject *const *tuple_items(PyObject *args)
{
    return reinterpret_cast<PyTupleObject *>(args)->ob_item;
}

template <class P>
int get_buffer(P &p, HPyCFunction impl, PyObject *self, Py_buffer *view, int flags)
{
    HPy_buffer hbuf = {};
    int rc = reinterpret_cast<HPyFunc_getbufferproc>(impl)(p.ctx(), p.arg(self), &hbuf, flags);
    if (rc < 0) {
        view->obj = nullptr;
        return p.ret(-1);
    }
    view->buf = hbuf.buf;
    view->obj = p.owned(hbuf.obj);
    view->len = hbuf.len;
    view->itemsize = hbuf.itemsize;
    view->readonly = hbuf.readonly;
    view->ndim = hbuf.ndim;
    view->format = hbuf.format;
    view->shape = hbuf.shape;
    view->strides = hbuf.strides;
    view->suboffsets = hbuf.suboffsets;
    view->internal = hbuf.internal;
    return p.ret(0);
}

template <class P>
void release_buffer(P &p, HPyCFunction impl, PyObject *self, Py_buffer *view)
{
    HPy_buffer hbuf;
    hbuf.buf = view->buf;
    hbuf.obj = p.arg(view->obj);
    hbuf.len = view->len;
    hbuf.itemsize = view->itemsize;
    hbuf.readonly = view->readonly;
    hbuf.ndim = view->ndim;
    hbuf.format = view->format;
    hbuf.shape = view->shape;
    hbuf.strides = view->strides;
    hbuf.suboffsets = view->suboffsets;
    hbuf.internal = view->internal;
    reinterpret_cast<HPyFunc_releasebufferproc>(impl)(p.ctx(), p.arg(self), &hbuf);
    p.ret_void();
}

}  // namespace hpy::dispatch

#include "runtime/cpython/dispatch_gen.h"

namespace hpy::dispatch {

template <class P>
void call_varargs(P &p, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_VARARGS *>(args);
    size_t n = static_cast<size_t>(a->nargs);
    a->result =
        p.ret(reinterpret_cast<HPyFunc_varargs>(func)(p.ctx(), p.arg(a->self), p.args(a->args, n), n));
}

template <class P>
void call_keywords(P &p, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_KEYWORDS *>(args);
    size_t n = static_cast<size_t>(PyVectorcall_NARGS(a->nargsf));
    size_t all = n + (a->kwnames ? static_cast<size_t>(PyTuple_GET_SIZE(a->kwnames)) : 0);
    a->result = p.ret(reinterpret_cast<HPyFunc_keywords>(func)(p.ctx(), p.arg(a->self), p.args(a->args, all),
                                                               n, p.arg(a->kwnames)));
}

template <class P>
void call_initproc(P &p, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_INITPROC *>(args);
    HPy_ssize_t n = PyTuple_GET_SIZE(a->args);
    a->result = p.ret(reinterpret_cast<HPyFunc_initproc>(func)(
        p.ctx(), p.arg(a->self), p.args(tuple_items(a->args), static_cast<size_t>(n)), n, p.arg(a->kw)));
}

template <class P>
void call_newfunc(P &p, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_NEWFUNC *>(args);
    HPy_ssize_t n = PyTuple_GET_SIZE(a->args);
    a->result = p.ret(reinterpret_cast<HPyFunc_newfunc>(func)(
        p.ctx(), p.arg(a->self), p.args(tuple_items(a->args), static_cast<size_t>(n)), n, p.arg(a->kw)));
}

template <class P>
void call_getbufferproc(P &p, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_GETBUFFERPROC *>(args);
    a->result = get_buffer(p, func, a->self, a->view, a->flags);
}

template <class P>
void call_releasebufferproc(P &p, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_RELEASEBUFFERPROC *>(args);
    release_buffer(p, func, a->self, a->view);
}

// No context, no handles: the same for every policy.
template <class P>
void call_traverseproc(P &, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_TRAVERSEPROC *>(args);
    a->result = _HPy_CallTraverseProc(func, a->self, a->visit, a->arg);
}

template <class P>
void call_capsule_destructor(P &, HPyCFunction func, void *args)
{
    _HPy_CallCapsuleDestructor(func, static_cast<PyObject *>(args));
}

// tp_destroy runs from the host's tp_dealloc and call functions from vectorcall: no trampoline sends these.
template <class P>
void call_destroyfunc(P &p, HPyCFunction, void *)
{
    unknown_signature(p.ctx(), HPyFunc_DESTROYFUNC);
}

template <class P>
void call_vectorcallfunc(P &p, HPyCFunction, void *)
{
    unknown_signature(p.ctx(), HPyFunc_VECTORCALLFUNC);
}

}  // namespace hpy::dispatch
