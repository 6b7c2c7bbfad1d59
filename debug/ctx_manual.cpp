// debug/ctx_manual.cpp: the debug context's hand-written functions (the members marked debug=manual).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <unordered_map>

#include "debug/debug_context.h"
#include "debug/movinggc.h"
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
    // Changed by the builder's thread under the registry's lock (open_builders() reads it from any thread).
    enum class State { Open, Built, Cancelled } state = State::Open;
    // What a leak report says of a builder never built nor cancelled (open_builders()).
    const char *created_by = nullptr;  // HPyListBuilder_New or HPyTupleBuilder_New
    const void *created_at = nullptr;  // the return address of that call, in the extension
    std::unique_ptr<std::vector<void *>> stack;
    uint64_t generation = 0;
    uint64_t id = 0;
    pthread_t owner{};
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
    // `f(item)` for each item, under the lock.
    template <typename F>
    void each(F f)
    {
        hpy::threads::Guard guard(lock_);
        for (auto &kv : items_)
            f(*kv.second);
    }
    // `f(item)` under the lock (for changes other threads may read through each()).
    template <typename F>
    void change(T *item, F f)
    {
        hpy::threads::Guard guard(lock_);
        f(*item);
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

std::atomic<uint64_t> g_builder_ids{1};

intptr_t builder_new(Api &api, intptr_t inner, HPy_ssize_t size)
{
    if (inner == 0)
        return 0;
    auto b = std::make_unique<Builder>();
    b->inner = inner;
    b->size = size;
    b->set.assign(size > 0 ? static_cast<size_t>(size) : 0, false);
    b->created_by = api.function();
    b->created_at = api.caller();
    b->stack = capture_stack(g_settings.stack_limit, 0);
    b->generation = current_generation();
    b->id = g_builder_ids.fetch_add(1, std::memory_order_relaxed);
    b->owner = pthread_self();
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
    g_builders.change(b, [to](Builder &item) { item.state = to; });
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
    static intptr_t make(HPyContext *ctx, HPy_ssize_t size, const void *caller)
    {
        Api api(ctx, Ops::names[0], caller);
        return builder_new(api, Ops::raw((api.u->*Ops::New)(api.u, size)), size);
    }
    static void set(HPyContext *ctx, intptr_t key, HPy_ssize_t index, HPy h_item, const void *caller)
    {
        Api api(ctx, Ops::names[1], caller);
        HPy u_item;
        if (Builder *b = builder_set(api, key, index, h_item, &u_item))
            (api.u->*Ops::Set)(api.u, Ops::wrap(b->inner), index, u_item);
    }
    static HPy build(HPyContext *ctx, intptr_t key, const void *caller)
    {
        Api api(ctx, Ops::names[2], caller);
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
    static void cancel(HPyContext *ctx, intptr_t key, const void *caller)
    {
        Api api(ctx, Ops::names[3], caller);
        if (Builder *b = builder_finish(api, key, Builder::State::Cancelled))
            (api.u->*Ops::Cancel)(api.u, Ops::wrap(b->inner));
    }
};

// ---------------------------------------------------------------- fields

// The HPyField at `field` must lie in the struct of `owner` (an object of a type HPyType_FromSpec
// made): a field elsewhere is not visited with its owner, nor cleared when the owner dies.
bool check_field_owner(Api &api, Handle *owner, const HPyField *field)
{
    PyObject *o = _h2py(owner->uh);
    auto *begin = static_cast<const char *>(cpython::instance_data(o));
    Py_ssize_t size = cpython::instance_data_size(o);
    auto *at = reinterpret_cast<const char *>(field);
    if (cpython::type_extra(Py_TYPE(o)) == nullptr) {
        report("field-wrong-owner", api.function(), owner,
               "the owner's type was not made by HPyType_FromSpec: its objects hold no HPyField");
        return false;
    }
    if (at < begin || at + sizeof(HPyField) > begin + size) {
        char where[32];
        snprintf(where, sizeof where, "%p", static_cast<const void *>(field));
        report("field-wrong-owner", api.function(), owner,
               std::string("the field (at ") + where +
                   ") is not inside the struct of the owner object passed with it (the field of another "
                   "object, a copy, or memory of the extension's own)");
        return false;
    }
    return true;
}

// A field store into an object whose type has no HPy_tp_traverse: the field is never visited (a cycle
// through it is never collected, and on CPython the runtime cannot clear it at the owner's death: its
// object leaks; a moving collector would not update it).
void check_field_traverse(Api &api, Handle *owner, const HPyField *field)
{
    PyObject *o = _h2py(owner->uh);
    const cpython::TypeExtra *extra = cpython::type_extra(Py_TYPE(o));
    if (extra == nullptr || extra->traverse != nullptr)
        return;
    auto offset =
        reinterpret_cast<const char *>(field) - static_cast<const char *>(cpython::instance_data(o));
    report("field-without-traverse", api.function(), owner,
           std::string("type '") + Py_TYPE(o)->tp_name + "' has no HPy_tp_traverse, so its field at offset " +
               std::to_string(offset) +
               " of the struct is never visited: its object leaks on CPython (never released when the owner "
               "dies) and would not be updated by a moving collector");
}

// Whether the struct of `owner` holds a field whose value is `field` (HPyField_Load takes the field by
// value: a field loaded with another owner, or a copy made before a later store, is found nowhere).
bool owner_holds(PyObject *owner, HPyField field)
{
    if (cpython::type_extra(Py_TYPE(owner)) == nullptr)
        return false;
    auto *begin = static_cast<const char *>(cpython::instance_data(owner));
    Py_ssize_t size = cpython::instance_data_size(owner);
    // Fields are word-aligned in the struct; another thread may store into one meanwhile (atomically).
    for (Py_ssize_t at = 0; at + static_cast<Py_ssize_t>(sizeof(HPyField)) <= size;
         at += static_cast<Py_ssize_t>(alignof(HPyField))) {
        const auto *word = reinterpret_cast<const intptr_t *>(begin + at);
        if (__atomic_load_n(word, __ATOMIC_RELAXED) == field._i)
            return true;
    }
    return false;
}

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
void *as_struct(HPyContext *ctx, HPy h, const char *function, void *(*HPyContext::*member)(HPyContext *, HPy),
                const void *caller)
{
    Api api(ctx, function, caller);
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

std::vector<OpenBuilder> open_builders(uint64_t generation, bool this_thread)
{
    struct Raw {
        uint64_t id;
        const char *created_by;
        const void *created_at;
        HPy_ssize_t size;
        uint64_t generation;
        std::vector<void *> stack;
    };
    std::vector<Raw> raw;
    pthread_t self = pthread_self();
    g_builders.each([&](const Builder &b) {
        if (b.state == Builder::State::Open && b.generation >= generation &&
            (!this_thread || pthread_equal(b.owner, self)))
            raw.push_back(Raw{b.id, b.created_by, b.created_at, b.size, b.generation,
                              b.stack ? *b.stack : std::vector<void *>{}});
    });
    // Described outside the lock: symbolizing may run addr2line.
    std::sort(raw.begin(), raw.end(), [](const Raw &a, const Raw &b) { return a.id < b.id; });
    std::vector<OpenBuilder> out;
    for (const Raw &r : raw) {
        std::string where = code_location(r.created_at);
        out.push_back(OpenBuilder{r.id, r.created_by, r.size, r.generation,
                                  std::string(r.created_by) + (where.empty() ? "" : " in " + where),
                                  describe_frames(&r.stack, "")});
    }
    return out;
}

}  // namespace hpy::debug

using hpy::debug::Api;
using hpy::debug::Handle;

extern "C" {

HPy debug_ctx_Dup(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPy_Dup", HPY_DEBUG_CALLER);
    HPy uh = api.arg(h, "h");
    if (api.failed() || uh._i == 0)
        return HPy{0};
    // The universal context's own HPy_Dup (its ctx_Dup is this inline function), called directly: on
    // every call that returns an argument, without the indirect call and the frame it needs.
    HPy u = HPy_Dup(api.u, uh);
    Handle *d = hpy::debug::open_handle(u, true, false, "HPy_Dup", HPY_DEBUG_CALLER);
    d->dup = true;
    return hpy::debug::encode(d);
}

void debug_ctx_Close(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPy_Close", HPY_DEBUG_CALLER);
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
            hpy::debug::close_handle(f.h, "HPy_Close", true, HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPyType_FromSpec", HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPyType_GenericNew", HPY_DEBUG_CALLER);
    HPy u_type = api.arg(type, "type");
    api.require_type(u_type, "type");
    std::vector<HPy> u_args =
        hpy::debug::unwrap_array(api, args, nargs > 0 ? static_cast<size_t>(nargs) : 0, "args");
    HPy u_kw = api.arg(kw, "kw");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Type_GenericNew(api.u, u_type, u_args.data(), nargs, u_kw));
}

#define HPY_DEBUG_AS_STRUCT(NAME, SHAPE)                                                         \
    void *debug_ctx_AsStruct_##NAME(HPyContext *ctx, HPy h)                                      \
    {                                                                                            \
        return hpy::debug::as_struct<HPyType_BuiltinShape_##SHAPE>(                              \
            ctx, h, "_HPy_AsStruct_" #NAME, &HPyContext::ctx_AsStruct_##NAME, HPY_DEBUG_CALLER); \
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
    Api api(ctx, "HPyBytes_AsString", HPY_DEBUG_CALLER);
    return hpy::debug::raw_data(api, h, "h", [&](HPy uh, size_t *size) {
        const char *s = api.u->ctx_Bytes_AsString(api.u, uh);
        *size = s ? static_cast<size_t>(api.u->ctx_Bytes_Size(api.u, uh)) + 1 : 0;
        return s;
    });
}

const char *debug_ctx_Bytes_AS_STRING(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPyBytes_AS_STRING", HPY_DEBUG_CALLER);
    return hpy::debug::raw_data(api, h, "h", [&](HPy uh, size_t *size) {
        const char *s = api.u->ctx_Bytes_AS_STRING(api.u, uh);
        *size = s ? static_cast<size_t>(api.u->ctx_Bytes_GET_SIZE(api.u, uh)) + 1 : 0;
        return s;
    });
}

const char *debug_ctx_Unicode_AsUTF8AndSize(HPyContext *ctx, HPy h, HPy_ssize_t *size)
{
    Api api(ctx, "HPyUnicode_AsUTF8AndSize", HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPyType_GetName", HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPyUnicode_Substring", HPY_DEBUG_CALLER);
    HPy u_str = api.arg(str, "str");
    api.require_unicode(u_str, "HPyUnicode_Substring arg 1 must be a Unicode object");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Unicode_Substring(api.u, u_str, start, end));
}

HPy debug_ctx_Tuple_FromArray(HPyContext *ctx, HPy items[], HPy_ssize_t n)
{
    Api api(ctx, "HPyTuple_FromArray", HPY_DEBUG_CALLER);
    std::vector<HPy> u_items =
        hpy::debug::unwrap_array(api, items, n > 0 ? static_cast<size_t>(n) : 0, "items");
    if (api.failed())
        return HPy{0};
    return api.wrap(api.u->ctx_Tuple_FromArray(api.u, u_items.data(), n));
}

HPy debug_ctx_FromPyObject(HPyContext *ctx, cpy_PyObject *obj)
{
    Api api(ctx, "HPy_FromPyObject", HPY_DEBUG_CALLER);
    return api.wrap(api.u->ctx_FromPyObject(api.u, obj));
}

cpy_PyObject *debug_ctx_AsPyObject(HPyContext *ctx, HPy h)
{
    Api api(ctx, "HPy_AsPyObject", HPY_DEBUG_CALLER);
    HPy uh = api.arg(h, "h");
    if (api.failed())
        return nullptr;
    return api.u->ctx_AsPyObject(api.u, uh);
}

// ---------------------------------------------------------------- builders

HPyListBuilder debug_ctx_ListBuilder_New(HPyContext *ctx, HPy_ssize_t size)
{
    return {hpy::debug::BuilderOps<hpy::debug::ListOps>::make(ctx, size, HPY_DEBUG_CALLER)};
}
void debug_ctx_ListBuilder_Set(HPyContext *ctx, HPyListBuilder builder, HPy_ssize_t index, HPy h_item)
{
    hpy::debug::BuilderOps<hpy::debug::ListOps>::set(ctx, builder._lst, index, h_item, HPY_DEBUG_CALLER);
}
HPy debug_ctx_ListBuilder_Build(HPyContext *ctx, HPyListBuilder builder)
{
    return hpy::debug::BuilderOps<hpy::debug::ListOps>::build(ctx, builder._lst, HPY_DEBUG_CALLER);
}
void debug_ctx_ListBuilder_Cancel(HPyContext *ctx, HPyListBuilder builder)
{
    hpy::debug::BuilderOps<hpy::debug::ListOps>::cancel(ctx, builder._lst, HPY_DEBUG_CALLER);
}

HPyTupleBuilder debug_ctx_TupleBuilder_New(HPyContext *ctx, HPy_ssize_t size)
{
    return {hpy::debug::BuilderOps<hpy::debug::TupleOps>::make(ctx, size, HPY_DEBUG_CALLER)};
}
void debug_ctx_TupleBuilder_Set(HPyContext *ctx, HPyTupleBuilder builder, HPy_ssize_t index, HPy h_item)
{
    hpy::debug::BuilderOps<hpy::debug::TupleOps>::set(ctx, builder._tup, index, h_item, HPY_DEBUG_CALLER);
}
HPy debug_ctx_TupleBuilder_Build(HPyContext *ctx, HPyTupleBuilder builder)
{
    return hpy::debug::BuilderOps<hpy::debug::TupleOps>::build(ctx, builder._tup, HPY_DEBUG_CALLER);
}
void debug_ctx_TupleBuilder_Cancel(HPyContext *ctx, HPyTupleBuilder builder)
{
    hpy::debug::BuilderOps<hpy::debug::TupleOps>::cancel(ctx, builder._tup, HPY_DEBUG_CALLER);
}

// ---------------------------------------------------------------- trackers

HPyTracker debug_ctx_Tracker_New(HPyContext *ctx, HPy_ssize_t size)
{
    Api api(ctx, "HPyTracker_New", HPY_DEBUG_CALLER);
    auto t = std::make_unique<hpy::debug::Tracker>();
    t->handles.reserve(size > 0 ? static_cast<size_t>(size) : 0);
    return {hpy::debug::g_trackers.add(std::move(t))};
}

int debug_ctx_Tracker_Add(HPyContext *ctx, HPyTracker ht, HPy h)
{
    Api api(ctx, "HPyTracker_Add", HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPyTracker_ForgetAll", HPY_DEBUG_CALLER);
    if (hpy::debug::Tracker *t = hpy::debug::open_tracker(api, ht))
        t->handles.clear();
}

void debug_ctx_Tracker_Close(HPyContext *ctx, HPyTracker ht)
{
    Api api(ctx, "HPyTracker_Close", HPY_DEBUG_CALLER);
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
            hpy::debug::close_handle(f.h, "HPyTracker_Close", true, HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPyField_Store", HPY_DEBUG_CALLER);
    Handle *owner = api.handle(target_object, "target_object");
    HPy uh = api.arg(h, "h");
    if (owner == nullptr || api.failed())
        return;
    // Reported, then stored as the universal context does (the program goes on after a hook).
    bool owner_ok = hpy::debug::check_field_owner(api, owner, target_field);
    if (owner_ok && uh._i != 0)
        hpy::debug::check_field_traverse(api, owner, target_field);
    if (!hpy::debug::movinggc::field_store(api, owner, target_field, uh, owner_ok))
        api.u->ctx_Field_Store(api.u, owner->uh, target_field, uh);
}

HPy debug_ctx_Field_Load(HPyContext *ctx, HPy source_object, HPyField source_field)
{
    Api api(ctx, "HPyField_Load", HPY_DEBUG_CALLER);
    Handle *obj = api.handle(source_object, "source_object");
    if (obj == nullptr)
        return HPy{0};
    if (source_field._i == 0) {
        hpy::debug::report("unset-field", "HPyField_Load", obj,
                           "the field was never stored (it is HPyField_NULL)");
        return HPy{0};
    }
    if (hpy::cpython::is_token(source_field._i))  // stored under the moving-GC checker
        return api.wrap(hpy::debug::movinggc::field_load(api, obj, source_field));
    if (!hpy::debug::owner_holds(_h2py(obj->uh), source_field)) {
        // Reported, then loaded as the universal context does: the object may still be alive.
        hpy::debug::report("field-wrong-owner", "HPyField_Load", obj,
                           "no field of the owner object passed holds this value (a field of another object, "
                           "or a copy of a field stored again since)");
    }
    return api.wrap(api.u->ctx_Field_Load(api.u, obj->uh, source_field));
}

void debug_ctx_Global_Store(HPyContext *ctx, HPyGlobal *global, HPy h)
{
    Api api(ctx, "HPyGlobal_Store", HPY_DEBUG_CALLER);
    HPy uh = api.arg(h, "h");
    if (!api.failed() && !hpy::debug::movinggc::global_store(api, global, uh))
        api.u->ctx_Global_Store(api.u, global, uh);
}

HPy debug_ctx_Global_Load(HPyContext *ctx, HPyGlobal global)
{
    Api api(ctx, "HPyGlobal_Load", HPY_DEBUG_CALLER);
    if (global._i == 0) {
        hpy::debug::report("unset-global", "HPyGlobal_Load", nullptr, "the global was never stored");
        return HPy{0};
    }
    if (hpy::cpython::is_token(global._i))  // stored under the moving-GC checker
        return api.wrap(hpy::debug::movinggc::global_load(api, global));
    return api.wrap(api.u->ctx_Global_Load(api.u, global));
}

HPyThreadState debug_ctx_LeavePythonExecution(HPyContext *ctx)
{
    Api api(ctx, "HPy_LeavePythonExecution", HPY_DEBUG_CALLER);
    HPyThreadState state = api.u->ctx_LeavePythonExecution(api.u);
    // Api's fast path checks the GIL again from now on.
    static_cast<hpy::debug::CallInfo *>(ctx->_private)->gil_released = true;
    return state;
}

void debug_ctx_ReenterPythonExecution(HPyContext *ctx, HPyThreadState state)
{
    Api api(ctx, "HPy_ReenterPythonExecution", HPY_DEBUG_CALLER, Api::NoGilCheck);
    api.u->ctx_ReenterPythonExecution(api.u, state);
    static_cast<hpy::debug::CallInfo *>(ctx->_private)->gil_released = false;
}

int32_t debug_ctx_ContextVar_Get(HPyContext *ctx, HPy context_var, HPy default_value, HPy *result)
{
    Api api(ctx, "HPyContextVar_Get", HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPy_Call", HPY_DEBUG_CALLER);
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
    Api api(ctx, "HPy_CallMethod", HPY_DEBUG_CALLER);
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

// The buffer consumer API (ABI 0.1). The view's obj is a debug handle opened by HPy_GetBuffer at the
// caller's line, so a view never released is a leak like any other handle. HPyBuffer_Release closes
// it and leaves its value (odd, where a kept Py_buffer's address is even) in view->internal, beside
// view->obj = HPy_NULL as in the universal context: a second release finds the closed handle there.
int debug_ctx_GetBuffer(HPyContext *ctx, HPy obj, HPy_buffer *view, int flags)
{
    Api api(ctx, "HPy_GetBuffer", HPY_DEBUG_CALLER);
    HPy u_obj = api.arg(obj, "obj");
    if (api.failed())
        return -1;
    if (api.u->ctx_GetBuffer(api.u, u_obj, view, flags) < 0)
        return -1;
    view->obj = api.wrap(view->obj);
    return 0;
}

void debug_ctx_Buffer_Release(HPyContext *ctx, HPy_buffer *view)
{
    Api api(ctx, "HPyBuffer_Release", HPY_DEBUG_CALLER);
    auto released = [](const void *internal) { return (reinterpret_cast<uintptr_t>(internal) & 1) != 0; };
    if (view->obj._i == 0) {
        if (released(view->internal)) {
            hpy::debug::Found f = hpy::debug::lookup(HPy{reinterpret_cast<intptr_t>(view->internal)});
            hpy::debug::report("double-close", "HPyBuffer_Release",
                               f.what == hpy::debug::Lookup::Closed ? f.h : nullptr,
                               "the buffer view was already released");
        }
        return;
    }
    hpy::debug::Found f = hpy::debug::lookup(view->obj);
    if (f.what != hpy::debug::Lookup::Open || !hpy::debug::usable_here(f.h)) {
        // Reported as any other bad handle (another thread's view goes on after the report).
        bool other_thread = api.arg(view->obj, "view->obj")._i != 0 && f.what == hpy::debug::Lookup::Open;
        if (!other_thread) {
            if (f.what == hpy::debug::Lookup::Closed || f.what == hpy::debug::Lookup::Stale) {
                // The module closed view->obj itself, and the view's reference with it: what the
                // interpreter keeps for the view is still given back.
                view->obj = HPy{0};
                hpy::cpython::release_view_buffer(view);
            }
            return;  // an invalid value: no view of HPy_GetBuffer's, left alone
        }
    }
    HPy closed = view->obj;
    view->obj = HPy{0};
    hpy::cpython::release_view_buffer(view);  // the exporter's release first: its reference stays till then
    hpy::debug::close_handle(f.h, "HPyBuffer_Release", true, HPY_DEBUG_CALLER);
    view->internal = reinterpret_cast<void *>(closed._i);
}

}  // extern "C"
