// debug/ctx_manual.cpp: the debug context's hand-written functions (the members marked debug=manual).
#include <cstring>
#include <unordered_map>

#include "debug/debug_context.h"
#include "runtime/cpython/context_init.h"

namespace hpy::debug {
namespace {

// ---------------------------------------------------------------- builders and trackers

// A builder or tracker handed out by the debug context: `_i` is the address of one of these, found
// again through a table, so a value never issued is reported without being dereferenced.
struct Builder {
    intptr_t inner;  // the wrapped context's builder
    HPy_ssize_t size;
    std::vector<bool> set;
    enum class State { Open, Built, Cancelled } state = State::Open;
};

struct Tracker {
    std::vector<HPy> handles;  // debug handles
    bool closed = false;
};

// Entries stay after Build/Cancel/Close (so a second use is reported as such), up to a bound. Shared
// by the threads; an item itself is used by the thread whose call made it.
template <typename T>
class Registry {
public:
    intptr_t add(std::unique_ptr<T> item)
    {
        hpy::threads::Guard guard(lock_);
        auto key = reinterpret_cast<intptr_t>(item.get());
        items_.emplace(key, std::move(item));
        return key;
    }
    T *find(intptr_t key)
    {
        hpy::threads::Guard guard(lock_);
        auto it = items_.find(key);
        return it == items_.end() ? nullptr : it->second.get();
    }
    void retire(intptr_t key)
    {
        hpy::threads::Guard guard(lock_);
        retired_.push_back(key);
        if (retired_.size() > 1024) {
            items_.erase(retired_.front());
            retired_.erase(retired_.begin());
        }
    }

private:
    hpy::threads::Lock lock_;
    std::unordered_map<intptr_t, std::unique_ptr<T>> items_;
    std::vector<intptr_t> retired_;
};

Registry<Builder> g_builders;
Registry<Tracker> g_trackers;

const char *builder_state_text(Builder::State s)
{
    return s == Builder::State::Built ? "already built" : "already cancelled";
}

Builder *open_builder(Api &api, intptr_t key)
{
    // After set_on_invalid_builder_handle's hook the program goes on, as with HPy 0.9: the call does
    // nothing (a build fails with MemoryError, the wrapped builder being gone).
    Builder *b = g_builders.find(key);
    if (b == nullptr) {
        report("builder-misuse", api.function(), nullptr, "the builder is not one this context made");
        return nullptr;
    }
    if (b->state != Builder::State::Open) {
        report("builder-misuse", api.function(), nullptr,
               std::string("the builder was ") + builder_state_text(b->state));
        return nullptr;
    }
    return b;
}

intptr_t builder_new(Api &api, intptr_t inner, HPy_ssize_t size)
{
    (void)api;
    if (inner == 0)
        return 0;
    auto b = std::make_unique<Builder>();
    b->inner = inner;
    b->size = size;
    b->set.assign(size > 0 ? static_cast<size_t>(size) : 0, false);
    return g_builders.add(std::move(b));
}

// Checks index and item; returns the builder and the wrapped item, or nullptr after a report.
Builder *builder_set(Api &api, intptr_t key, HPy_ssize_t index, HPy item, HPy *u_item)
{
    Builder *b = open_builder(api, key);
    if (b == nullptr)
        return nullptr;
    if (index < 0 || index >= b->size) {
        report_error("builder-misuse", api.function(), nullptr,
                     "index " + std::to_string(index) + " is out of range for a builder of size " +
                         std::to_string(b->size));
        return nullptr;
    }
    *u_item = api.arg(item, "h_item");
    if (api.failed())
        return nullptr;
    b->set[static_cast<size_t>(index)] = true;
    return b;
}

Builder *builder_finish(Api &api, intptr_t key, Builder::State to)
{
    Builder *b = open_builder(api, key);
    if (b == nullptr)
        return nullptr;
    if (to == Builder::State::Built) {
        for (size_t i = 0; i < b->set.size(); ++i) {
            if (!b->set[i]) {
                report("builder-misuse", api.function(), nullptr,
                       "item " + std::to_string(i) + " was never set (it is None in the result)");
                break;
            }
        }
    }
    b->state = to;
    g_builders.retire(key);
    return b;
}

// The wrapped context's list or tuple builder functions, and the API names reports use.
struct ListOps {
    using B = HPyListBuilder;
    static B wrap(intptr_t i) { return {i}; }
    static intptr_t raw(B b) { return b._lst; }
    static constexpr auto New = &HPyContext::ctx_ListBuilder_New;
    static constexpr auto Set = &HPyContext::ctx_ListBuilder_Set;
    static constexpr auto Build = &HPyContext::ctx_ListBuilder_Build;
    static constexpr auto Cancel = &HPyContext::ctx_ListBuilder_Cancel;
    static constexpr const char *names[4] = {"HPyListBuilder_New", "HPyListBuilder_Set",
                                             "HPyListBuilder_Build", "HPyListBuilder_Cancel"};
};
struct TupleOps {
    using B = HPyTupleBuilder;
    static B wrap(intptr_t i) { return {i}; }
    static intptr_t raw(B b) { return b._tup; }
    static constexpr auto New = &HPyContext::ctx_TupleBuilder_New;
    static constexpr auto Set = &HPyContext::ctx_TupleBuilder_Set;
    static constexpr auto Build = &HPyContext::ctx_TupleBuilder_Build;
    static constexpr auto Cancel = &HPyContext::ctx_TupleBuilder_Cancel;
    static constexpr const char *names[4] = {"HPyTupleBuilder_New", "HPyTupleBuilder_Set",
                                             "HPyTupleBuilder_Build", "HPyTupleBuilder_Cancel"};
};

// One implementation of the debug builders for lists and tuples.
template <typename Ops>
struct BuilderOps {
    static intptr_t make(HPyContext *ctx, HPy_ssize_t size)
    {
        Api api(ctx, Ops::names[0]);
        return builder_new(api, Ops::raw((api.u->*Ops::New)(api.u, size)), size);
    }
    static void set(HPyContext *ctx, intptr_t key, HPy_ssize_t index, HPy h_item)
    {
        Api api(ctx, Ops::names[1]);
        HPy u_item;
        if (Builder *b = builder_set(api, key, index, h_item, &u_item))
            (api.u->*Ops::Set)(api.u, Ops::wrap(b->inner), index, u_item);
    }
    static HPy build(HPyContext *ctx, intptr_t key)
    {
        Api api(ctx, Ops::names[2]);
        Builder *b = builder_finish(api, key, Builder::State::Built);
        if (b == nullptr) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            return HPy{0};
        }
        // Unset items are NULL in the wrapped builder: None keeps the result a valid object.
        for (size_t i = 0; i < b->set.size(); ++i)
            if (!b->set[i])
                (api.u->*Ops::Set)(api.u, Ops::wrap(b->inner), static_cast<HPy_ssize_t>(i), api.u->h_None);
        return api.wrap((api.u->*Ops::Build)(api.u, Ops::wrap(b->inner)));
    }
    static void cancel(HPyContext *ctx, intptr_t key)
    {
        Api api(ctx, Ops::names[3]);
        if (Builder *b = builder_finish(api, key, Builder::State::Cancelled))
            (api.u->*Ops::Cancel)(api.u, Ops::wrap(b->inner));
    }
};

Tracker *open_tracker(Api &api, HPyTracker ht)
{
    Tracker *t = g_trackers.find(ht._i);
    if (t == nullptr) {
        report_error("tracker-misuse", api.function(), nullptr, "the tracker is not one this context made");
        return nullptr;
    }
    if (t->closed) {
        report_error("tracker-misuse", api.function(), nullptr, "the tracker was already closed");
        return nullptr;
    }
    return t;
}

// ---------------------------------------------------------------- AsStruct

const char *shape_name(HPyType_BuiltinShape s)
{
    switch (s) {
    case HPyType_BuiltinShape_Legacy:
        return "Legacy";
    case HPyType_BuiltinShape_Object:
        return "Object";
    case HPyType_BuiltinShape_Type:
        return "Type";
    case HPyType_BuiltinShape_Long:
        return "Long";
    case HPyType_BuiltinShape_Float:
        return "Float";
    case HPyType_BuiltinShape_Unicode:
        return "Unicode";
    case HPyType_BuiltinShape_Tuple:
        return "Tuple";
    case HPyType_BuiltinShape_List:
        return "List";
    }
    return "?";
}

template <HPyType_BuiltinShape Shape>
void *as_struct(HPyContext *ctx, HPy h, const char *function, void *(*HPyContext::*member)(HPyContext *, HPy))
{
    Api api(ctx, function);
    Handle *d = api.handle(h, "h");
    if (d == nullptr)
        return nullptr;
    PyObject *o = _h2py(d->uh);
    const cpython::TypeExtra *extra = cpython::type_extra(Py_TYPE(o));
    // A type HPyType_FromSpec did not make has the Legacy shape: its objects start with a PyObject.
    HPyType_BuiltinShape actual = extra ? extra->shape : HPyType_BuiltinShape_Legacy;
    if (actual != Shape) {
        std::string got = extra ? std::string("a type of shape ") + shape_name(extra->shape)
                                : std::string("a type not made by HPyType_FromSpec");
        // HPy 0.9's fatal error names the shapes; a type it did not make has the Legacy shape there.
        std::string line = std::string("Invalid usage of ") + function +
                           ". Expected shape HPyType_BuiltinShape_" + shape_name(Shape) +
                           " but got HPyType_BuiltinShape_" + shape_name(actual);
        report_error("wrong-shape", function, d,
                     std::string("the object's type is ") + got + ", not of shape " + shape_name(Shape),
                     line.c_str());
        return nullptr;
    }
    return (api.u->*member)(api.u, d->uh);
}

template <typename Fn>
const char *raw_data(Api &api, HPy h, const char *param, Fn get)
{
    Handle *d = api.handle(h, param);
    if (d == nullptr)
        return nullptr;
    size_t size = 0;
    const char *data = get(d->uh, &size);
    if (data == nullptr)
        return nullptr;
    return protect_raw_data(d, data, size, api.function());
}

std::vector<HPy> unwrap_array(Api &api, const HPy *items, size_t n, const char *param)
{
    std::vector<HPy> out(n);
    for (size_t i = 0; i < n && !api.failed(); ++i)
        out[i] = api.arg(items[i], param);
    return out;
}

size_t kwnames_count(HPy u_kwnames)
{
    PyObject *k = _h2py(u_kwnames);
    return k != nullptr && PyTuple_Check(k) ? static_cast<size_t>(PyTuple_GET_SIZE(k)) : 0;
}

}  // namespace
}  // namespace hpy::debug

using hpy::debug::Api;
using hpy::debug::Handle;

extern "C" {

HPy debug_ctx_Dup(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPy_Dup");
    HPy uh = api.arg(h, "h");
    if (api.failed() || uh._i == 0)
        return HPy{0};
    HPy u = api.u->ctx_Dup(api.u, uh);
    if (u._i == 0)
        return u;
    Handle *d = hpy::debug::open_handle(u, true);
    d->dup = true;
    return hpy::debug::encode(d);
}

void debug_ctx_Close(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPy_Close");
    hpy::debug::Found f = hpy::debug::lookup(h);
    switch (f.what) {
    case hpy::debug::Lookup::Null:
        return;
    case hpy::debug::Lookup::Open:
        if (!hpy::debug::usable_here(f.h)) {
            hpy::debug::report("handle-other-thread", "HPy_Close", f.h,
                               "the handle was opened by another thread: it stays open, for that thread");
        } else if (f.h->const_name != nullptr) {
            hpy::debug::report("close-constant", "HPy_Close", f.h,
                               std::string("the context constant ") + f.h->const_name +
                                   " must not be closed");
        } else if (f.h->is_arg) {
            hpy::debug::report(
                "close-argument", "HPy_Close", f.h,
                "an argument handle belongs to the caller and must not be closed by the callee");
        } else {
            hpy::debug::close_handle(f.h, "HPy_Close");
        }
        return;
    case hpy::debug::Lookup::Closed:
    case hpy::debug::Lookup::Stale:
        hpy::debug::report("double-close", "HPy_Close", f.what == hpy::debug::Lookup::Closed ? f.h : nullptr,
                           "the handle was already closed");
        return;
    case hpy::debug::Lookup::Invalid:
        break;
    }
    hpy::debug::report("invalid-handle", "HPy_Close", nullptr, "the value is not a handle of this context");
}

HPy debug_ctx_Type_FromSpec(HPyContext *ctx, HPyType_Spec *spec, HPyType_SpecParam *params)
{
    Api api(ctx, "HPyType_FromSpec");
    std::vector<HPyType_SpecParam> u_params;
    for (HPyType_SpecParam *p = params; p != nullptr; ++p) {
        u_params.push_back(*p);
        // The kind may be invalid: the universal context reports it.
        if (hpy::cpython::enum_value(p->kind) == 0)
            break;
        u_params.back().object = api.arg(p->object, "params");
    }
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Type_FromSpec(api.u, spec, params ? u_params.data() : nullptr));
}

HPy debug_ctx_Type_GenericNew(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    Api api(ctx, "HPyType_GenericNew");
    HPy u_type = api.arg(type, "type");
    api.require_type(u_type, "type");
    std::vector<HPy> u_args =
        hpy::debug::unwrap_array(api, args, nargs > 0 ? static_cast<size_t>(nargs) : 0, "args");
    HPy u_kw = api.arg(kw, "kw");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Type_GenericNew(api.u, u_type, u_args.data(), nargs, u_kw));
}

#define HPY_DEBUG_AS_STRUCT(NAME, SHAPE)                                                              \
    void *debug_ctx_AsStruct_##NAME(HPyContext *ctx, HPy h)                                           \
    {                                                                                                 \
        return hpy::debug::as_struct<HPyType_BuiltinShape_##SHAPE>(ctx, h, "_HPy_AsStruct_" #NAME,    \
                                                                   &HPyContext::ctx_AsStruct_##NAME); \
    }
HPY_DEBUG_AS_STRUCT(Object, Object)
HPY_DEBUG_AS_STRUCT(Legacy, Legacy)
HPY_DEBUG_AS_STRUCT(Type, Type)
HPY_DEBUG_AS_STRUCT(Long, Long)
HPY_DEBUG_AS_STRUCT(Float, Float)
HPY_DEBUG_AS_STRUCT(Unicode, Unicode)
HPY_DEBUG_AS_STRUCT(Tuple, Tuple)
HPY_DEBUG_AS_STRUCT(List, List)
#undef HPY_DEBUG_AS_STRUCT

const char *debug_ctx_Bytes_AsString(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPyBytes_AsString");
    return hpy::debug::raw_data(api, h, "h", [&](HPy uh, size_t *size) {
        const char *s = api.u->ctx_Bytes_AsString(api.u, uh);
        *size = s ? static_cast<size_t>(api.u->ctx_Bytes_Size(api.u, uh)) + 1 : 0;
        return s;
    });
}

const char *debug_ctx_Bytes_AS_STRING(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPyBytes_AS_STRING");
    return hpy::debug::raw_data(api, h, "h", [&](HPy uh, size_t *size) {
        const char *s = api.u->ctx_Bytes_AS_STRING(api.u, uh);
        *size = s ? static_cast<size_t>(api.u->ctx_Bytes_GET_SIZE(api.u, uh)) + 1 : 0;
        return s;
    });
}

const char *debug_ctx_Unicode_AsUTF8AndSize(HPyContext *ctx, HPy h, HPy_ssize_t *size)
{
    Api api(ctx, "HPyUnicode_AsUTF8AndSize");
    return hpy::debug::raw_data(api, h, "h", [&](HPy uh, size_t *bytes) {
        HPy_ssize_t n = 0;
        const char *s = api.u->ctx_Unicode_AsUTF8AndSize(api.u, uh, &n);
        if (size != nullptr)
            *size = n;
        *bytes = s ? static_cast<size_t>(n) + 1 : 0;
        return s;
    });
}

const char *debug_ctx_Type_GetName(HPyContext *ctx, HPy type)
{
    Api api(ctx, "HPyType_GetName");
    HPy u_type = api.arg(type, "type");
    api.require_type(u_type, "type");
    if (api.failed())
        return nullptr;
    return hpy::debug::raw_data(api, type, "type", [&](HPy uh, size_t *size) {
        const char *s = api.u->ctx_Type_GetName(api.u, uh);
        *size = s ? strlen(s) + 1 : 0;
        return s;
    });
}

HPy debug_ctx_Unicode_Substring(HPyContext *ctx, HPy str, HPy_ssize_t start, HPy_ssize_t end)
{
    Api api(ctx, "HPyUnicode_Substring");
    HPy u_str = api.arg(str, "str");
    api.require_unicode(u_str, "HPyUnicode_Substring arg 1 must be a Unicode object");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Unicode_Substring(api.u, u_str, start, end));
}

HPy debug_ctx_Tuple_FromArray(HPyContext *ctx, HPy items[], HPy_ssize_t n)
{
    Api api(ctx, "HPyTuple_FromArray");
    std::vector<HPy> u_items =
        hpy::debug::unwrap_array(api, items, n > 0 ? static_cast<size_t>(n) : 0, "items");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Tuple_FromArray(api.u, u_items.data(), n));
}

HPy debug_ctx_FromPyObject(HPyContext *ctx, cpy_PyObject *obj)
{
    Api api(ctx, "HPy_FromPyObject");
    return api.wrap(api.u->ctx_FromPyObject(api.u, obj));
}

cpy_PyObject *debug_ctx_AsPyObject(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPy_AsPyObject");
    HPy uh = api.arg(h, "h");
    if (api.failed())
        return nullptr;
    return api.u->ctx_AsPyObject(api.u, uh);
}

// ---------------------------------------------------------------- builders

HPyListBuilder debug_ctx_ListBuilder_New(HPyContext *ctx, HPy_ssize_t size)
{
    return {hpy::debug::BuilderOps<hpy::debug::ListOps>::make(ctx, size)};
}
void debug_ctx_ListBuilder_Set(HPyContext *ctx, HPyListBuilder builder, HPy_ssize_t index, HPy h_item)
{
    hpy::debug::BuilderOps<hpy::debug::ListOps>::set(ctx, builder._lst, index, h_item);
}
HPy debug_ctx_ListBuilder_Build(HPyContext *ctx, HPyListBuilder builder)
{
    return hpy::debug::BuilderOps<hpy::debug::ListOps>::build(ctx, builder._lst);
}
void debug_ctx_ListBuilder_Cancel(HPyContext *ctx, HPyListBuilder builder)
{
    hpy::debug::BuilderOps<hpy::debug::ListOps>::cancel(ctx, builder._lst);
}

HPyTupleBuilder debug_ctx_TupleBuilder_New(HPyContext *ctx, HPy_ssize_t size)
{
    return {hpy::debug::BuilderOps<hpy::debug::TupleOps>::make(ctx, size)};
}
void debug_ctx_TupleBuilder_Set(HPyContext *ctx, HPyTupleBuilder builder, HPy_ssize_t index, HPy h_item)
{
    hpy::debug::BuilderOps<hpy::debug::TupleOps>::set(ctx, builder._tup, index, h_item);
}
HPy debug_ctx_TupleBuilder_Build(HPyContext *ctx, HPyTupleBuilder builder)
{
    return hpy::debug::BuilderOps<hpy::debug::TupleOps>::build(ctx, builder._tup);
}
void debug_ctx_TupleBuilder_Cancel(HPyContext *ctx, HPyTupleBuilder builder)
{
    hpy::debug::BuilderOps<hpy::debug::TupleOps>::cancel(ctx, builder._tup);
}

// ---------------------------------------------------------------- trackers

HPyTracker debug_ctx_Tracker_New(HPyContext *ctx, HPy_ssize_t size)
{
    Api api(ctx, "HPyTracker_New");
    auto t = std::make_unique<hpy::debug::Tracker>();
    t->handles.reserve(size > 0 ? static_cast<size_t>(size) : 0);
    return {hpy::debug::g_trackers.add(std::move(t))};
}

int debug_ctx_Tracker_Add(HPyContext *ctx, HPyTracker ht, HPy h)
{
    Api api(ctx, "HPyTracker_Add");
    hpy::debug::Tracker *t = hpy::debug::open_tracker(api, ht);
    if (t == nullptr)
        return -1;
    if (api.handle(h, "h") == nullptr)
        return -1;
    t->handles.push_back(h);
    return 0;
}

void debug_ctx_Tracker_ForgetAll(HPyContext *ctx, HPyTracker ht)
{
    Api api(ctx, "HPyTracker_ForgetAll");
    if (hpy::debug::Tracker *t = hpy::debug::open_tracker(api, ht))
        t->handles.clear();
}

void debug_ctx_Tracker_Close(HPyContext *ctx, HPyTracker ht)
{
    Api api(ctx, "HPyTracker_Close");
    hpy::debug::Tracker *t = hpy::debug::open_tracker(api, ht);
    if (t == nullptr)
        return;
    t->closed = true;
    std::vector<HPy> handles;
    handles.swap(t->handles);
    hpy::debug::g_trackers.retire(ht._i);
    for (HPy h : handles) {
        hpy::debug::Found f = hpy::debug::lookup(h);
        if (f.what == hpy::debug::Lookup::Open && f.h->const_name == nullptr && !f.h->is_arg)
            hpy::debug::close_handle(f.h, "HPyTracker_Close");
        else if (f.what == hpy::debug::Lookup::Open)
            hpy::debug::report(
                "tracker-misuse", "HPyTracker_Close", f.h,
                "the tracker holds an argument or a context constant, which it must not close");
        else
            hpy::debug::report("tracker-misuse", "HPyTracker_Close",
                               f.what == hpy::debug::Lookup::Closed ? f.h : nullptr,
                               "a handle added to the tracker was closed before HPyTracker_Close");
    }
}

// ---------------------------------------------------------------- fields and globals

void debug_ctx_Field_Store(HPyContext *ctx, HPy target_object, HPyField *target_field, HPy h)
{
    Api api(ctx, "HPyField_Store");
    HPy u_obj = api.arg(target_object, "target_object");
    HPy uh = api.arg(h, "h");
    if (!api.failed())
        api.u->ctx_Field_Store(api.u, u_obj, target_field, uh);
}

HPy debug_ctx_Field_Load(HPyContext *ctx, HPy source_object, HPyField source_field)
{
    Api api(ctx, "HPyField_Load");
    Handle *obj = api.handle(source_object, "source_object");
    if (obj == nullptr)
        return HPy{0};
    if (source_field._i == 0) {
        hpy::debug::report("unset-field", "HPyField_Load", obj,
                           "the field was never stored (it is HPyField_NULL)");
        return HPy{0};
    }
    return api.wrap(api.u->ctx_Field_Load(api.u, obj->uh, source_field));
}

void debug_ctx_Global_Store(HPyContext *ctx, HPyGlobal *global, HPy h)
{
    Api api(ctx, "HPyGlobal_Store");
    HPy uh = api.arg(h, "h");
    if (!api.failed())
        api.u->ctx_Global_Store(api.u, global, uh);
}

HPy debug_ctx_Global_Load(HPyContext *ctx, HPyGlobal global)
{
    Api api(ctx, "HPyGlobal_Load");
    if (global._i == 0) {
        hpy::debug::report("unset-global", "HPyGlobal_Load", nullptr, "the global was never stored");
        return HPy{0};
    }
    return api.wrap(api.u->ctx_Global_Load(api.u, global));
}

HPyThreadState debug_ctx_LeavePythonExecution(HPyContext *ctx)
{
    Api api(ctx, "HPy_LeavePythonExecution");
    HPyThreadState state = api.u->ctx_LeavePythonExecution(api.u);
    // Api's fast path checks the GIL again from now on.
    static_cast<hpy::debug::CallInfo *>(ctx->_private)->gil_released = true;
    return state;
}

void debug_ctx_ReenterPythonExecution(HPyContext *ctx, HPyThreadState state)
{
    Api api(ctx, "HPy_ReenterPythonExecution", Api::NoGilCheck);
    api.u->ctx_ReenterPythonExecution(api.u, state);
    static_cast<hpy::debug::CallInfo *>(ctx->_private)->gil_released = false;
}

int32_t debug_ctx_ContextVar_Get(HPyContext *ctx, HPy context_var, HPy default_value, HPy *result)
{
    Api api(ctx, "HPyContextVar_Get");
    HPy u_var = api.arg(context_var, "context_var");
    HPy u_default = api.arg(default_value, "default_value");
    if (api.failed())
        return -1;
    HPy u_result{0};
    int32_t rc = api.u->ctx_ContextVar_Get(api.u, u_var, u_default, &u_result);
    if (result != nullptr)
        *result = rc == 0 ? api.wrap(u_result) : HPy{0};
    return rc;
}

HPy debug_ctx_Call(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
{
    Api api(ctx, "HPy_Call");
    HPy u_callable = api.arg(callable, "callable");
    HPy u_kwnames = api.arg(kwnames, "kwnames");
    if (api.failed())
        return HPy{0};
    std::vector<HPy> u_args =
        hpy::debug::unwrap_array(api, args, nargs + hpy::debug::kwnames_count(u_kwnames), "args");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Call(api.u, u_callable, u_args.data(), nargs, u_kwnames));
}

HPy debug_ctx_CallMethod(HPyContext *ctx, HPy name, const HPy *args, size_t nargs, HPy kwnames)
{
    Api api(ctx, "HPy_CallMethod");
    HPy u_name = api.arg(name, "name");
    HPy u_kwnames = api.arg(kwnames, "kwnames");
    if (api.failed())
        return HPy{0};
    std::vector<HPy> u_args =
        hpy::debug::unwrap_array(api, args, nargs + hpy::debug::kwnames_count(u_kwnames), "args");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_CallMethod(api.u, u_name, u_args.data(), nargs, u_kwnames));
}

}  // extern "C"
