// runtime/cpython/context.cpp: the CPython-ABI context of an extension, and context initialisation shared with the host.
#include "runtime/cpython/context_init.h"

extern "C" {
// Hidden: every CPython-ABI extension has its own.
__attribute__((visibility("hidden"))) struct _HPyContext_s _hpy_cpython_context;
}

namespace hpy::cpython {

PyObject *builtins_dict()
{
    // The module's own dict, not PyEval_GetBuiltins(): the context is filled once, and the builtins
    // of whatever frame happens to run then need not be the interpreter's.
    static PyObject *dict = [] {
        PyObject *module = PyImport_ImportModule("builtins");
        PyObject *d = module ? PyModule_GetDict(module) : nullptr;
        Py_XINCREF(d);
        Py_XDECREF(module);
        return d;
    }();
    return dict;
}

bool init_context(HPyContext *ctx, const char *name)
{
    if (builtins_dict() == nullptr)
        return false;
    ctx->name = name;
    ctx->_private = nullptr;
    ctx->abi_version = HPY_ABI_VERSION;
    fill_handles(ctx);
    fill_functions(ctx);
    return true;
}

}  // namespace hpy::cpython

extern "C" __attribute__((visibility("hidden"))) PyObject *_HPyModuleDef_AsPyInit(HPyModuleDef *def,
                                                                                  const char *name, int gil)
{
    HPyContext *ctx = &_hpy_cpython_context;
    if (ctx->name == nullptr && !hpy::cpython::init_context(ctx, "HPy CPython ABI"))
        return nullptr;
    PyModuleDef *pydef = hpy::cpython::make_module_def(def, name, ctx, /*allow_legacy=*/true, gil);
    if (pydef == nullptr)
        return nullptr;
    return PyModuleDef_Init(pydef);
}
