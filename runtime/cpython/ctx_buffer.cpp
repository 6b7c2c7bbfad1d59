// runtime/cpython/ctx_buffer.cpp: the buffer consumer API of ABI 0.1 (HPy_GetBuffer, HPyBuffer_Release, HPy_CheckBuffer).
//
// An HPy_buffer is never handed to the interpreter as a Py_buffer: the two agree field by field on
// CPython, but PyPy's C-API emulation has a larger Py_buffer (arrays of its own before `internal`),
// and an exporter may point shape and strides into it. The interpreter fills a Py_buffer of its own,
// allocated here and kept in view->internal until HPyBuffer_Release; the view gets a copy of its
// fields and a handle of its own to the exporting object.
#include "runtime/cpython/context_init.h"

// The request flags are CPython's, so they pass through unchanged.
static_assert(HPyBUF_SIMPLE == PyBUF_SIMPLE && HPyBUF_WRITABLE == PyBUF_WRITABLE &&
                  HPyBUF_FORMAT == PyBUF_FORMAT && HPyBUF_ND == PyBUF_ND && HPyBUF_STRIDES == PyBUF_STRIDES &&
                  HPyBUF_C_CONTIGUOUS == PyBUF_C_CONTIGUOUS && HPyBUF_F_CONTIGUOUS == PyBUF_F_CONTIGUOUS &&
                  HPyBUF_ANY_CONTIGUOUS == PyBUF_ANY_CONTIGUOUS && HPyBUF_INDIRECT == PyBUF_INDIRECT,
              "HPyBUF_* request flags differ from PyBUF_*");
static_assert(HPyBUF_CONTIG == PyBUF_CONTIG && HPyBUF_CONTIG_RO == PyBUF_CONTIG_RO &&
                  HPyBUF_STRIDED == PyBUF_STRIDED && HPyBUF_STRIDED_RO == PyBUF_STRIDED_RO &&
                  HPyBUF_RECORDS == PyBUF_RECORDS && HPyBUF_RECORDS_RO == PyBUF_RECORDS_RO &&
                  HPyBUF_FULL == PyBUF_FULL && HPyBUF_FULL_RO == PyBUF_FULL_RO,
              "HPyBUF_* combined request flags differ from PyBUF_*");

namespace hpy::cpython {

void release_view_buffer(HPy_buffer *view)
{
    auto *kept = static_cast<Py_buffer *>(view->internal);
    view->internal = nullptr;
    if (kept != nullptr) {
        PyBuffer_Release(kept);  // the exporter's release, and the Py_buffer's own reference
        PyMem_Free(kept);
    }
}

}  // namespace hpy::cpython

extern "C" {

int ctx_GetBuffer(HPyContext *, HPy obj, HPy_buffer *view, int flags)
{
    view->obj = HPy_NULL;
    view->internal = nullptr;
    auto *kept = static_cast<Py_buffer *>(PyMem_Malloc(sizeof(Py_buffer)));
    if (kept == nullptr) {
        PyErr_NoMemory();
        return -1;
    }
    if (PyObject_GetBuffer(_h2py(obj), kept, flags) < 0) {
        PyMem_Free(kept);
        return -1;
    }
    // The view's own reference (an exporter may leave the Py_buffer's obj NULL: then the object asked).
    PyObject *owner = kept->obj != nullptr ? kept->obj : _h2py(obj);
    Py_INCREF(owner);
    view->buf = kept->buf;
    view->obj = _py2h(owner);
    view->len = kept->len;
    view->itemsize = kept->itemsize;
    view->readonly = kept->readonly;
    view->ndim = kept->ndim;
    view->format = kept->format;
    view->shape = kept->shape;
    view->strides = kept->strides;
    view->suboffsets = kept->suboffsets;
    view->internal = kept;
    return 0;
}

void ctx_Buffer_Release(HPyContext *, HPy_buffer *view)
{
    if (view->obj._i == 0)  // released already (or never filled)
        return;
    PyObject *owner = _h2py(view->obj);
    view->obj = HPy_NULL;
    hpy::cpython::release_view_buffer(view);
    Py_DECREF(owner);
}

int ctx_CheckBuffer(HPyContext *, HPy obj)
{
    return PyObject_CheckBuffer(_h2py(obj));
}

}  // extern "C"
