// runtime/cpython/ctx_module.cpp: an HPyModuleDef as a multi-phase PyModuleDef (CPython ABI and universal host alike).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cpython/context_init.h"

namespace hpy::cpython {
namespace {

// The PyModuleDef comes first, so the def CPython hands back leads to the rest.
struct ModuleHolder {
    PyModuleDef def;
    HPyContext *ctx;
    HPyModuleDef *hpydef;
    std::string name;
    std::vector<PyMethodDef> methods;
    std::vector<PyModuleDef_Slot> slots;
    HPyFunc_mod_create create = nullptr;
    std::vector<HPyFunc_inquiry> execs;
};
static_assert(offsetof(ModuleHolder, def) == 0, "the holder is found from its PyModuleDef");

ModuleHolder *holder_of(PyModuleDef *def)
{
    return reinterpret_cast<ModuleHolder *>(def);
}

PyObject *module_create(PyObject *spec, PyModuleDef *def)
{
    ModuleHolder *h = holder_of(def);
    // Through the context's dispatch, as a trampoline would: the debug context opens its own handles.
    _HPyFunc_args_MOD_CREATE a = {spec, nullptr};
    h->ctx->ctx_CallRealFunctionFromTrampoline(h->ctx, HPyFunc_MOD_CREATE,
                                               reinterpret_cast<HPyCFunction>(h->create), &a);
    // HPy_mod_create makes objects that are not modules: a module object would skip what the host
    // does for the modules it creates itself (its definition, exec slots, globals).
    if (a.result != nullptr && PyModule_Check(a.result)) {
        Py_DECREF(a.result);
        PyErr_Format(PyExc_SystemError,
                     "HPy module '%s': HPy_mod_create slot returned a builtin module object. This is "
                     "currently not supported: let the host create the module, or return another object",
                     h->name.c_str());
        return nullptr;
    }
    return a.result;
}

int module_exec(PyObject *module)
{
    PyModuleDef *def = PyModule_GetDef(module);
    if (def == nullptr)
        return -1;
    ModuleHolder *h = holder_of(def);
    // Globals start empty at each module initialisation.
    for (HPyGlobal **g = h->hpydef->globals; g != nullptr && *g != nullptr; ++g)
        hpy_reset_global(*g);
    for (HPyFunc_inquiry exec : h->execs) {
        _HPyFunc_args_INQUIRY a = {module, 0};
        h->ctx->ctx_CallRealFunctionFromTrampoline(h->ctx, HPyFunc_INQUIRY,
                                                   reinterpret_cast<HPyCFunction>(exec), &a);
        if (a.result != 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_SystemError, "HPy_mod_exec of module '%s' failed without an exception",
                             h->name.c_str());
            return -1;
        }
    }
    return 0;
}

PyModuleDef *def_error(const std::string &name, const std::string &cause)
{
    PyErr_Format(PyExc_SystemError, "HPy module '%s': %s", name.c_str(), cause.c_str());
    return nullptr;
}

// A function whose signature is none of the four of HPyDef_METH: a ValueError with the one-line
// message code may compare against, and a note that names the module, the function and the value.
PyModuleDef *signature_error(const std::string &name, const HPyMeth &meth)
{
    std::string note = "HPy module '" + name + "': " + unsupported_signature("function", meth) +
                       " (HPyFunc_VARARGS, HPyFunc_KEYWORDS, HPyFunc_NOARGS or HPyFunc_O expected)";
    const char *message = "Unsupported HPyMeth signature";
    PyObject *exc = PyObject_CallFunction(PyExc_ValueError, "s", message);
    if (exc == nullptr)
        return nullptr;
    PyObject *r = PyObject_CallMethod(exc, "add_note", "s", note.c_str());
    Py_XDECREF(r);
    if (r == nullptr) {
        // An interpreter without exception notes (Python 3.10 and older): the note on a second line.
        PyErr_Clear();
        Py_DECREF(exc);
        exc = PyObject_CallFunction(PyExc_ValueError, "s", (std::string(message) + "\n" + note).c_str());
        if (exc == nullptr)
            return nullptr;
    }
    PyErr_SetObject(PyExc_ValueError, exc);
    Py_DECREF(exc);
    return nullptr;
}

// What, besides HPy_mod_create, the definition asks of the module: "" when nothing.
std::string other_definitions(const HPyModuleDef *hpydef, bool methods, bool execs)
{
    std::string what;
    auto add = [&what](bool present, const char *name) {
        if (present)
            what += (what.empty() ? "" : ", ") + std::string(name);
    };
    add(hpydef->doc != nullptr, "a doc string");
    add(methods, "methods");
    add(execs, "HPy_mod_exec slots");
    add(hpydef->globals != nullptr, "globals");
    add(hpydef->legacy_methods != nullptr, "legacy methods");
    return what;
}

}  // namespace

PyModuleDef *make_module_def(HPyModuleDef *hpydef, const char *name, HPyContext *ctx, bool allow_legacy,
                             int gil)
{
    std::string mod_name = name ? name : "?";
    if (hpydef == nullptr)
        return def_error(mod_name, "the module definition is NULL");
    if (hpydef->size < 0)
        return def_error(mod_name, "HPy does not permit HPyModuleDef.size < 0 (got " +
                                       std::to_string(hpydef->size) + ")");
    if (hpydef->size != 0)
        return def_error(mod_name, "module state is not supported (HPyModuleDef.size must be 0, got " +
                                       std::to_string(hpydef->size) + ")");
    if (hpydef->legacy_methods != nullptr && !allow_legacy)
        return def_error(mod_name, "legacy_methods need the hybrid or CPython ABI, not the universal ABI");

    // Freed on an error; on success it lives as long as the process, like any PyModuleDef.
    auto h = std::make_unique<ModuleHolder>();
    h->ctx = ctx;
    h->hpydef = hpydef;
    h->name = mod_name;
    for (HPyDef **p = hpydef->defines; p != nullptr && *p != nullptr; ++p) {
        HPyDef *d = *p;
        const int kind = enum_value(d->kind);
        const int slot = kind == HPyDef_Kind_Slot ? enum_value(d->slot.slot) : 0;
        if (kind == HPyDef_Kind_Meth) {
            std::optional<PyMethodDef> method = method_def(d->meth, ctx);
            if (!method)
                return signature_error(mod_name, d->meth);
            // A NOARGS module function of the CPython ABI: its METH_FASTCALL form, when HPyDef_METH
            // made one (CPython specialises those calls, not METH_NOARGS ones).
            if (ctx == &_hpy_cpython_context && enum_value(d->meth.signature) == HPyFunc_NOARGS &&
                d->_meth_fastcall.fastcall_trampoline != nullptr) {
                method->ml_meth = d->_meth_fastcall.fastcall_trampoline;
                method->ml_flags = METH_FASTCALL;
            }
            h->methods.push_back(*method);
        } else if (kind == HPyDef_Kind_Slot && slot == HPy_mod_create) {
            if (h->create != nullptr)
                return def_error(mod_name, "HPyModuleDef.defines has more than one HPy_mod_create slot");
            h->create = reinterpret_cast<HPyFunc_mod_create>(d->slot.impl);
        } else if (kind == HPyDef_Kind_Slot && slot == HPy_mod_exec) {
            h->execs.push_back(reinterpret_cast<HPyFunc_inquiry>(d->slot.impl));
        } else {
            if (kind == HPyDef_Kind_Slot)
                return def_error(mod_name, "slot " + std::to_string(slot) + " is not a module slot");
            return def_error(mod_name, "only methods and the HPy_mod_create/HPy_mod_exec slots may define a "
                                       "module (got a definition of kind " +
                                           std::to_string(kind) + ")");
        }
    }
    if (h->create != nullptr) {
        // The object HPy_mod_create returns is not a module: nothing else of the definition can go
        // into it. The message starts as the one code written for HPy 0.9 may look for.
        std::string others = other_definitions(hpydef, !h->methods.empty(), !h->execs.empty());
        if (!others.empty()) {
            PyErr_Format(PyExc_SystemError,
                         "HPyModuleDef defines a HPy_mod_create slot and also %s (HPy module '%s'): a "
                         "module with HPy_mod_create may not have other definitions (doc, methods, exec "
                         "slots, globals or legacy methods), since the object it creates is not a module",
                         others.c_str(), mod_name.c_str());
            return nullptr;
        }
    }
    for (cpy_PyMethodDef *m = hpydef->legacy_methods; m != nullptr && m->ml_name != nullptr; ++m)
        h->methods.push_back(*m);
    if (!h->methods.empty())
        h->methods.push_back({nullptr, nullptr, 0, nullptr});
    if (h->create != nullptr)
        h->slots.push_back({Py_mod_create, reinterpret_cast<void *>(module_create)});
    // CPython refuses exec slots on a created object that is not a module: add one only when needed.
    if (!h->execs.empty() || hpydef->globals != nullptr)
        h->slots.push_back({Py_mod_exec, reinterpret_cast<void *>(module_exec)});
#if PY_VERSION_HEX >= 0x030C0000
    h->slots.push_back({Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED});
#endif
    if (gil != HPy_MOD_GIL_USED && gil != HPy_MOD_GIL_NOT_USED)
        return def_error(mod_name, "HPy_MOD_GIL: " + std::to_string(gil) +
                                       " is neither HPy_MOD_GIL_USED nor HPy_MOD_GIL_NOT_USED");
#ifdef Py_mod_gil  // CPython 3.13+: without the slot, importing the module re-enables the GIL
    if (gil == HPy_MOD_GIL_NOT_USED)
        h->slots.push_back({Py_mod_gil, Py_MOD_GIL_NOT_USED});
#endif
    h->slots.push_back({0, nullptr});

    h->def = PyModuleDef{PyModuleDef_HEAD_INIT,
                         h->name.c_str(),
                         hpydef->doc,
                         0,
                         h->methods.empty() ? nullptr : h->methods.data(),
                         h->slots.data(),
                         nullptr,
                         nullptr,
                         nullptr};
    return &keep_for_process(std::move(h))->def;
}

}  // namespace hpy::cpython
