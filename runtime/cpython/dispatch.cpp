// runtime/cpython/dispatch.cpp: the universal context's ctx_CallRealFunctionFromTrampoline, and the buffer calls
// of CPython-ABI trampolines.
#include "runtime/cpython/dispatch.h"

namespace hpy::dispatch {

void unknown_signature(HPyContext *, HPyFunc_Signature sig)
{
    PyErr_Format(PyExc_SystemError, "HPy trampoline called the host with unsupported signature %d", (int)sig);
}

}  // namespace hpy::dispatch

extern "C" {

void ctx_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig, HPyCFunction func, void *args)
{
    hpy::dispatch::UniversalPolicy p{ctx};
    hpy::dispatch::call(p, sig, func, args);
}

// A buffer exported by an HPy getbuffer slot, as CPython's Py_buffer (the handle becomes the reference).
__attribute__((visibility("hidden"))) int _HPy_CallGetBufferProc(HPyContext *ctx, HPyCFunction impl,
                                                                 PyObject *self, Py_buffer *view, int flags)
{
    hpy::dispatch::UniversalPolicy p{ctx};
    return hpy::dispatch::get_buffer(p, impl, self, view, flags);
}

__attribute__((visibility("hidden"))) void _HPy_CallReleaseBufferProc(HPyContext *ctx, HPyCFunction impl,
                                                                      PyObject *self, Py_buffer *view)
{
    hpy::dispatch::UniversalPolicy p{ctx};
    hpy::dispatch::release_buffer(p, impl, self, view);
}

}  // extern "C"
