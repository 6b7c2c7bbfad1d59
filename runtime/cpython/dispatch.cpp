// runtime/cpython/dispatch.cpp: signatures whose arguments the host converts by hand (the description's `special`).
#include "runtime/cpython/dispatch.h"

namespace hpy::dispatch {
namespace {

// CPython hands tp_new/tp_init a tuple; its item array is the HPy argument array.
const HPy *tuple_items(PyObject *args)
{
    return reinterpret_cast<const HPy *>(reinterpret_cast<PyTupleObject *>(args)->ob_item);
}

}  // namespace

void call_varargs(HPyContext *ctx, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_VARARGS *>(args);
    a->result = _h2py(reinterpret_cast<HPyFunc_varargs>(func)(ctx, _py2h(a->self),
                                                              reinterpret_cast<const HPy *>(a->args),
                                                              static_cast<size_t>(a->nargs)));
}

void call_keywords(HPyContext *ctx, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_KEYWORDS *>(args);
    a->result = _h2py(reinterpret_cast<HPyFunc_keywords>(func)(
        ctx, _py2h(a->self), reinterpret_cast<const HPy *>(a->args),
        static_cast<size_t>(PyVectorcall_NARGS(a->nargsf)), _py2h(a->kwnames)));
}

void call_initproc(HPyContext *ctx, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_INITPROC *>(args);
    a->result = reinterpret_cast<HPyFunc_initproc>(func)(ctx, _py2h(a->self), tuple_items(a->args),
                                                         PyTuple_GET_SIZE(a->args), _py2h(a->kw));
}

void call_newfunc(HPyContext *ctx, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_NEWFUNC *>(args);
    a->result = _h2py(reinterpret_cast<HPyFunc_newfunc>(func)(ctx, _py2h(a->self), tuple_items(a->args),
                                                              PyTuple_GET_SIZE(a->args), _py2h(a->kw)));
}

void call_getbufferproc(HPyContext *ctx, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_GETBUFFERPROC *>(args);
    a->result = _HPy_CallGetBufferProc(ctx, func, a->self, a->view, a->flags);
}

void call_releasebufferproc(HPyContext *ctx, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_RELEASEBUFFERPROC *>(args);
    _HPy_CallReleaseBufferProc(ctx, func, a->self, a->view);
}

void call_traverseproc(HPyContext *, HPyCFunction func, void *args)
{
    auto *a = static_cast<_HPyFunc_args_TRAVERSEPROC *>(args);
    a->result = _HPy_CallTraverseProc(func, a->self, a->visit, a->arg);
}

void call_capsule_destructor(HPyContext *, HPyCFunction func, void *args)
{
    _HPy_CallCapsuleDestructor(func, static_cast<PyObject *>(args));
}

// tp_destroy runs from the host's tp_dealloc and call functions from vectorcall: no trampoline sends these.
void call_destroyfunc(HPyContext *ctx, HPyCFunction, void *) { unknown_signature(ctx, HPyFunc_DESTROYFUNC); }
void call_vectorcallfunc(HPyContext *ctx, HPyCFunction, void *) { unknown_signature(ctx, HPyFunc_VECTORCALLFUNC); }

void unknown_signature(HPyContext *, HPyFunc_Signature sig)
{
    PyErr_Format(PyExc_SystemError, "HPy trampoline called the host with unsupported signature %d", (int)sig);
}

}  // namespace hpy::dispatch

extern "C" {

// A buffer exported by an HPy getbuffer slot, as CPython's Py_buffer (the handle becomes the reference).
__attribute__((visibility("hidden"))) int _HPy_CallGetBufferProc(HPyContext *ctx, HPyCFunction impl,
                                                                 PyObject *self, Py_buffer *view, int flags)
{
    HPy_buffer hbuf = {};
    int rc = reinterpret_cast<HPyFunc_getbufferproc>(impl)(ctx, _py2h(self), &hbuf, flags);
    if (rc < 0) {
        view->obj = nullptr;
        return -1;
    }
    view->buf = hbuf.buf;
    view->obj = _h2py(hbuf.obj);
    view->len = hbuf.len;
    view->itemsize = hbuf.itemsize;
    view->readonly = hbuf.readonly;
    view->ndim = hbuf.ndim;
    view->format = hbuf.format;
    view->shape = hbuf.shape;
    view->strides = hbuf.strides;
    view->suboffsets = hbuf.suboffsets;
    view->internal = hbuf.internal;
    return 0;
}

__attribute__((visibility("hidden"))) void _HPy_CallReleaseBufferProc(HPyContext *ctx, HPyCFunction impl,
                                                                      PyObject *self, Py_buffer *view)
{
    HPy_buffer hbuf;
    hbuf.buf = view->buf;
    hbuf.obj = _py2h(view->obj);
    hbuf.len = view->len;
    hbuf.itemsize = view->itemsize;
    hbuf.readonly = view->readonly;
    hbuf.ndim = view->ndim;
    hbuf.format = view->format;
    hbuf.shape = view->shape;
    hbuf.strides = view->strides;
    hbuf.suboffsets = view->suboffsets;
    hbuf.internal = view->internal;
    reinterpret_cast<HPyFunc_releasebufferproc>(impl)(ctx, _py2h(self), &hbuf);
}

}  // extern "C"
