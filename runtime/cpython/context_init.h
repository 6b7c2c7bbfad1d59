// runtime/cpython/context_init.h: building a context over CPython (handles and functions), and the runtime's shared internals.
#pragma once

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hpy.h"
#include "runtime/cpython/capi_compat.h"  // what interpreters emulating the C API lack

extern "C" void hpy_reset_global(HPyGlobal *global);  // ctx_misc.cpp: a global made empty again

namespace hpy::cpython {

// Generated (context_init_gen.cpp): the objects behind h_None... and the ctx_ function table.
void fill_handles(HPyContext *ctx);
void fill_functions(HPyContext *ctx);

// The namespace of the builtins module (builtins.__dict__, what h_Builtins stands for), a strong
// reference kept for the life of the process.
PyObject *builtins_dict();

// A complete context: name, ABI version, handles, functions. Returns false with an exception set.
bool init_context(HPyContext *ctx, const char *name);

// Gives back the Py_buffer that HPy_GetBuffer keeps in view->internal (ctx_buffer.cpp), if any, and
// empties view->internal; view->obj is left to the caller.
void release_view_buffer(HPy_buffer *view);

// What the runtime knows about a type it built from an HPyType_Spec: owned by the type itself
// (ctx_type.cpp), it lives exactly as long as the type.
struct TypeExtra {
    HPyType_BuiltinShape shape;
    HPyFunc_destroyfunc destroy;  // HPy_tp_destroy, or nullptr
    HPyFunc_traverseproc traverse;
    vectorcallfunc default_call;  // HPy_tp_call's trampoline (own or inherited), or nullptr
    destructor finalize;    // HPy_tp_finalize, run by tp_dealloc (compat::finalize_in_dealloc), or nullptr
    bool python_base;       // a Python class is among its bases: its parts are released too
    PyTypeObject *builtin;  // the builtin base whose dealloc frees the base part (builtin_base), or nullptr
};

// HPyField and HPyGlobal words that hold a token of the debug context's moving-GC checker
// (debug/movinggc.h) instead of an object: tokens are odd, objects' addresses even. The host reads
// fields itself in tp_traverse, tp_clear and tp_dealloc, and globals at a module's initialisation:
// there a token goes to these hooks, set by the checker when it first turns on (nullptr before, and
// always in CPython-ABI extensions, which never see a token).
struct TokenHooks {
    PyObject *(*field_object)(const HPyField *field, intptr_t token);  // borrowed; nullptr: none
    void (*field_release)(const HPyField *field, intptr_t token);      // the field was cleared
    void (*owner_gone)(PyObject *owner);                               // from its tp_dealloc
    void (*global_release)(const HPyGlobal *global, intptr_t token);   // the global was reset
};
extern std::atomic<const TokenHooks *> g_token_hooks;
inline const TokenHooks *token_hooks()
{
    return g_token_hooks.load(std::memory_order_relaxed);
}
inline bool is_token(intptr_t word)
{
    return (word & 1) != 0;
}

// The TypeExtra of `type` or of its nearest HPy base; nullptr for types not made by HPy.
const TypeExtra *type_extra(PyTypeObject *type);

// The user's struct inside `obj` (the rules of the object's builtin shape).
void *instance_data(PyObject *obj);
// The bytes of `obj` from instance_data(obj) to the end of its allocation (at least the struct); 0 for
// an object whose type HPy did not make.
Py_ssize_t instance_data_size(PyObject *obj);

// Whether the HPyField at `field` in `obj` is also an HPyMember_OBJECT(_EX) member of its type: CPython's
// member descriptors then read and write its word as an object's address.
bool field_is_object_member(PyObject *obj, const HPyField *field);

// The CPython method of an HPy method definition; nothing for a signature methods cannot have.
// `ctx` is the context the method runs with. NOARGS is METH_NOARGS (make_module_def uses the
// METH_FASTCALL form HPyDef_METH adds in the CPython ABI for module functions).
std::optional<PyMethodDef> method_def(const HPyMeth &meth, HPyContext *ctx);

// "<what> '<name>' has an unsupported signature <n>", for the SystemError of an invalid method.
std::string unsupported_signature(const char *what, const HPyMeth &meth);

// Builds the PyModuleDef for an HPyModuleDef; `ctx` is the context its slots run with.
// `allow_legacy`: legacy_methods are accepted (CPython ABI and hybrid modules).
// Returns nullptr with SystemError set on an invalid definition.
// `gil`: the module's HPy_MOD_GIL declaration (HPy_MOD_GIL_USED when it has none).
PyModuleDef *make_module_def(HPyModuleDef *hpydef, const char *name, HPyContext *ctx, bool allow_legacy,
                             int gil);

// The number in an enum field of a user's struct (a kind, slot id, signature, member type, shape).
// Read as an int: loading a value outside the enumeration as the C++ enum type is undefined
// behaviour, and such values are exactly what the checks must refuse.
template <typename E>
int enum_value(const E &field)
{
    static_assert(sizeof(E) == sizeof(int), "an enum stored as an int");
    int v;
    std::memcpy(&v, &field, sizeof(v));
    return v;
}

// Owns `p` for the rest of the process and returns it: for what CPython keeps pointers into
// (module and type definitions). Owned, not released, so that the object stays reachable and a
// leak checker tells it from a leak. Called with the GIL held.
template <typename T>
T *keep_for_process(std::unique_ptr<T> p)
{
    static auto *kept = new std::vector<std::unique_ptr<T>>();
    kept->push_back(std::move(p));
    return kept->back().get();
}

}  // namespace hpy::cpython
