// debug/movinggc.cpp: the moving-GC checker of the debug context (see movinggc.h).
#include "debug/movinggc.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/cpython/context_init.h"
#include "runtime/cpython/threads.h"

namespace hpy::debug::movinggc {
namespace {

using cpython::is_token;

// What a token stands for: one value stored into one field or global.
struct Entry {
    PyObject *obj = nullptr;          // a strong reference: the one the field or global holds
    PyObject *owner = nullptr;        // the field's owner (its tp_dealloc drops the entry); nullptr: a global
    intptr_t *word = nullptr;         // the HPyField's or HPyGlobal's word
    ptrdiff_t offset = 0;             // the field's offset in its owner's struct
    const void *stored_at = nullptr;  // the return address of the store, in the extension
    intptr_t token = 0;               // the current token
    uint64_t missed_at = 0;           // the first collection whose traverse did not visit the field (0: none)
    intptr_t cell = 0;  // a global's: the universal context's cell (empty) it held before, given back after
};

enum class Found { Current, Reissued, Gone, Unknown };

// The side table, under `lock` (no Python object is made or released while it is held). An entry lives
// in a slot; a token is the slot's index and the slot's serial number at the time it was issued (odd:
// never an object's address). Re-issuing or reusing a slot gives it the next serial, so any token ever
// issued tells, without a search, whether it is current, re-issued since, or of a released entry.
class Table {
public:
    threads::Lock lock;
    std::unordered_map<PyObject *, std::vector<uint32_t>> owners;
    std::unordered_set<uint32_t> globals;
    uint64_t stored = 0, collections = 0, reissued = 0, missed = 0;
    std::atomic<size_t> size{0};  // live entries, read without the lock by owner_gone

    Entry &entry(uint32_t id) { return slots_[id].e; }

    // The entry of `token` and how the token stands to it (nullptr for Gone and Unknown).
    Entry *find(intptr_t token, Found *how, uint32_t *id_out = nullptr)
    {
        const auto bits = static_cast<uint64_t>(token);
        const auto id = static_cast<uint32_t>(bits >> 32);
        const auto serial = static_cast<uint32_t>(bits >> 1) & kSerialMask;
        if (!is_token(token) || id >= slots_.size() || serial > slots_[id].serial) {
            *how = Found::Unknown;
            return nullptr;
        }
        Slot &s = slots_[id];
        if (!s.live || serial < s.first) {
            *how = Found::Gone;
            return nullptr;
        }
        *how = serial == s.serial ? Found::Current : Found::Reissued;
        if (id_out)
            *id_out = id;
        return &s.e;
    }
    // The entry whose current token `token` is, stored in `word`; nullptr otherwise.
    Entry *current(intptr_t token, const void *word, uint32_t *id_out = nullptr)
    {
        Found how;
        Entry *e = find(token, &how, id_out);
        return e != nullptr && how == Found::Current && e->word == word ? e : nullptr;
    }
    intptr_t add(const Entry &e)
    {
        uint32_t id;
        if (free_ != kNone) {
            id = free_;
            free_ = slots_[id].next_free;
        } else {
            id = static_cast<uint32_t>(slots_.size());
            slots_.emplace_back();
        }
        Slot &s = slots_[id];
        s.e = e;
        s.live = true;
        s.first = s.serial = next_serial(s.serial);
        s.e.token = token_of(id, s.serial);
        if (e.owner != nullptr)
            owners[e.owner].push_back(id);
        else
            globals.insert(id);
        ++stored;
        size.fetch_add(1, std::memory_order_relaxed);
        return s.e.token;
    }
    // Drops the entry; returns its object's reference, to be released once the lock is given back.
    PyObject *erase(uint32_t id)
    {
        Slot &s = slots_[id];
        if (s.e.owner != nullptr) {
            auto o = owners.find(s.e.owner);
            o->second.erase(std::find(o->second.begin(), o->second.end(), id));
            if (o->second.empty())
                owners.erase(o);
        } else {
            globals.erase(id);
        }
        s.live = false;
        s.next_free = free_;
        free_ = id;
        size.fetch_sub(1, std::memory_order_relaxed);
        return s.e.obj;
    }
    // A new token for the entry, written where it is stored: what a moving collector does to an address.
    void reissue(uint32_t id)
    {
        Slot &s = slots_[id];
        s.serial = next_serial(s.serial);
        s.e.token = token_of(id, s.serial);
        threads::store(s.e.word, s.e.token);
        ++reissued;
    }

private:
    static constexpr uint32_t kSerialMask = 0x7fffffff;
    static constexpr uint32_t kNone = UINT32_MAX;
    struct Slot {
        Entry e;
        uint32_t serial = 0;  // of the current token (or the last one, once released)
        uint32_t first = 0;   // the serial of the entry's first token
        uint32_t next_free = kNone;
        bool live = false;
    };
    std::vector<Slot> slots_;
    uint32_t free_ = kNone;

    // A slot re-issued 2**31 times starts again from 1: a value kept that long may then pass for current.
    static uint32_t next_serial(uint32_t serial) { return serial == kSerialMask ? 1 : serial + 1; }
    static intptr_t token_of(uint32_t id, uint32_t serial)
    {
        return static_cast<intptr_t>((static_cast<uint64_t>(id) << 32) | (uint64_t{serial} << 1) | 1);
    }
};

Table &table()
{
    static Table *t = new Table;  // never destroyed: the host's hooks may run at exit
    return *t;
}

std::atomic<bool> g_enabled{false};

// ---------------------------------------------------------------- the host's hooks

PyObject *hook_field_object(const HPyField *field, intptr_t token)
{
    Table &t = table();
    threads::Guard guard(t.lock);
    Entry *e = t.current(token, &field->_i);
    return e ? e->obj : nullptr;
}

// Releases the entry of `token` stored in `word`; returns the universal cell it kept (a global's), or 0.
intptr_t release(const void *word, intptr_t token)
{
    Table &t = table();
    PyObject *drop = nullptr;
    intptr_t cell = 0;
    {
        threads::Guard guard(t.lock);
        uint32_t id;
        if (Entry *e = t.current(token, word, &id)) {
            cell = e->cell;
            drop = t.erase(id);
        }
    }
    Py_XDECREF(drop);
    return cell;
}

void hook_field_release(const HPyField *field, intptr_t token)
{
    release(&field->_i, token);
}

void hook_global_release(const HPyGlobal *global, intptr_t token)
{
    if (intptr_t cell = release(&global->_i, token))  // the global empty again, with its cell
        threads::store(const_cast<intptr_t *>(&global->_i), cell);
}

// The fields its traverse did not visit (a tp_clear or tp_dealloc released the others).
void hook_owner_gone(PyObject *owner)
{
    Table &t = table();
    if (t.size.load(std::memory_order_relaxed) == 0)
        return;
    std::vector<PyObject *> drops;
    {
        threads::Guard guard(t.lock);
        auto it = t.owners.find(owner);
        if (it == t.owners.end())
            return;
        std::vector<uint32_t> ids = it->second;
        for (uint32_t id : ids)
            drops.push_back(t.erase(id));
    }
    for (PyObject *o : drops)
        Py_XDECREF(o);
}

const cpython::TokenHooks kHooks = {hook_field_object, hook_field_release, hook_owner_gone,
                                    hook_global_release};

// ---------------------------------------------------------------- reports

// What a load found, copied out of the table: reports are made without its lock (a repr may run any
// code, a collection among it).
struct Loaded {
    Found how = Found::Unknown;
    PyObject *obj = nullptr;    // a new reference (Current and Reissued)
    PyObject *owner = nullptr;  // compared only
    std::string type_name;      // the owner's
    ptrdiff_t offset = 0;
    const void *stored_at = nullptr;
    uint64_t missed_at = 0;
};

Loaded look_up(intptr_t token)
{
    Table &t = table();
    threads::Guard guard(t.lock);
    Loaded l;
    Entry *e = t.find(token, &l.how);
    if (e != nullptr) {
        l.obj = e->obj;
        Py_INCREF(l.obj);
        l.owner = e->owner;
        l.type_name = e->owner ? Py_TYPE(e->owner)->tp_name : "";
        l.offset = e->offset;
        l.stored_at = e->stored_at;
        l.missed_at = e->missed_at;
    }
    return l;
}

std::string stored_by(const char *function, const Loaded &l)
{
    std::string where = code_location(l.stored_at);
    return std::string("stored by ") + function + (where.empty() ? "" : " in " + where);
}

std::string place(const Loaded &l)
{
    if (l.owner == nullptr)
        return "the global (" + stored_by("HPyGlobal_Store", l) + ")";
    return "the field at offset " + std::to_string(l.offset) + " of the struct of a '" + l.type_name +
           "' object (" + stored_by("HPyField_Store", l) + ")";
}

// Reports the load of a value that is not a current token; false when there is no object to hand out.
bool check_loaded(Api &api, const Handle *owner, const Loaded &l, const char *check, const char *what)
{
    switch (l.how) {
    case Found::Current:
        return true;
    case Found::Reissued:
        report(check, api.function(), owner,
               "the value was read from " + place(l) +
                   " before a simulated collection re-issued it: with a moving collector, a copy of " + what +
                   " kept across a collection is the address its object had; pass " + what +
                   " itself each time");
        return true;
    case Found::Gone:
        report_error(check, api.function(), owner,
                     std::string("the value is no longer ") + what +
                         "'s: it was stored again or released since it was read (its object may be gone)");
        return false;
    case Found::Unknown:
        break;
    }
    report_error(check, api.function(), owner,
                 std::string("the value is not one the moving-GC checker issued for ") + what +
                     " (read long ago, or garbage)");
    return false;
}

// The visitor a simulated collection gives each owner's HPy_tp_traverse.
struct Visit {
    Table *t;
    std::vector<const intptr_t *> seen;
};

int visit_field(HPyField *field, void *arg)
{
    auto *v = static_cast<Visit *>(arg);
    v->seen.push_back(&field->_i);
    intptr_t word = threads::load(&field->_i);
    uint32_t id;
    if (is_token(word) && v->t->current(word, &field->_i, &id) != nullptr)
        v->t->reissue(id);
    return 0;
}

}  // namespace

bool enabled()
{
    return g_enabled.load(std::memory_order_relaxed);
}

// ---------------------------------------------------------------- fields and globals

bool field_store(Api &api, Handle *owner, HPyField *field, HPy uh, bool owner_ok)
{
    intptr_t old = threads::load(&field->_i);
    PyObject *o = _h2py(owner->uh);
    // Checker off: nothing looked up (every debug-mode store passes here). A type without a traverse is
    // reported by field-without-traverse; its dealloc may not be the host's. A field that is also an object
    // member is read by CPython's member descriptor, which knows no token.
    bool tokens = enabled() && uh._i != 0 && owner_ok;
    if (tokens) {
        const cpython::TypeExtra *extra = cpython::type_extra(Py_TYPE(o));
        tokens = extra != nullptr && extra->traverse != nullptr && !cpython::field_is_object_member(o, field);
    }
    if (!tokens && !is_token(old))
        return false;
    Table &t = table();
    PyObject *drop[2] = {nullptr, nullptr};
    {
        threads::Guard guard(t.lock);
        uint32_t id;
        if (is_token(old) && t.current(old, &field->_i, &id) != nullptr)
            drop[0] = t.erase(id);
        intptr_t value = 0;
        if (tokens) {
            Entry e;
            e.obj = _h2py(uh);
            Py_INCREF(e.obj);
            e.owner = o;
            e.word = &field->_i;
            e.offset = reinterpret_cast<char *>(field) - static_cast<char *>(cpython::instance_data(o));
            e.stored_at = api.caller();
            value = t.add(e);
        }
        intptr_t was = threads::exchange(&field->_i, value);
        if (!is_token(was))
            drop[1] = reinterpret_cast<PyObject *>(was);  // stored before the checker was on
    }
    Py_XDECREF(drop[0]);
    Py_XDECREF(drop[1]);
    return tokens;
}

HPy field_load(Api &api, Handle *owner, HPyField field)
{
    Loaded l = look_up(field._i);
    if (!check_loaded(api, owner, l, "stale-field", "the field"))
        return HPy{0};
    if (l.owner != _h2py(owner->uh))
        report(
            "field-wrong-owner", api.function(), owner,
            "no field of the owner object passed holds this value (a field of another object, or a copy of "
            "a field stored again since)");
    else if (l.how == Found::Current && l.missed_at != 0)
        report("field-not-traversed", api.function(), owner,
               place(l) + " was not visited by its type's HPy_tp_traverse at simulated collection " +
                   std::to_string(l.missed_at) +
                   ": a moving collector would have moved its object and left the field pointing to the old "
                   "place");
    return _py2h(l.obj);
}

bool global_store(Api &api, HPyGlobal *global, HPy uh)
{
    intptr_t old = threads::load(&global->_i);
    bool tokens = enabled() && uh._i != 0;
    if (!tokens && !is_token(old))
        return false;
    // The universal context's cell, emptied, is kept in the entry and given back when a store without the
    // checker replaces the token.
    intptr_t cell = old != 0 && !is_token(old) ? old : 0;
    if (tokens && cell != 0)
        api.u->ctx_Global_Store(api.u, global, HPy{0});
    Table &t = table();
    PyObject *drop = nullptr;
    {
        threads::Guard guard(t.lock);
        uint32_t id;
        if (Entry *e = is_token(old) ? t.current(old, &global->_i, &id) : nullptr) {
            cell = e->cell;
            drop = t.erase(id);
        }
        intptr_t value = cell;
        if (tokens) {
            Entry e;
            e.obj = _h2py(uh);
            Py_INCREF(e.obj);
            e.word = &global->_i;
            e.stored_at = api.caller();
            e.cell = cell;
            value = t.add(e);
        }
        threads::store(&global->_i, value);
    }
    Py_XDECREF(drop);
    return tokens;
}

HPy global_load(Api &api, HPyGlobal global)
{
    Loaded l = look_up(global._i);
    return check_loaded(api, nullptr, l, "stale-global", "the global") ? _py2h(l.obj) : HPy{0};
}

size_t collect()
{
    Table &t = table();
    threads::Guard guard(t.lock);
    ++t.collections;
    size_t missed = 0;
    Visit v{&t, {}};
    for (auto &[owner, ids] : t.owners) {
        const cpython::TypeExtra *extra = cpython::type_extra(Py_TYPE(owner));
        v.seen.clear();
        if (extra != nullptr && extra->traverse != nullptr)
            extra->traverse(cpython::instance_data(owner), visit_field, &v);
        for (uint32_t id : ids) {
            Entry &e = t.entry(id);
            if (std::find(v.seen.begin(), v.seen.end(), e.word) != v.seen.end())
                continue;
            if (e.missed_at == 0)
                e.missed_at = t.collections;
            ++missed;
        }
    }
    for (uint32_t id : t.globals)  // every global is a root
        t.reissue(id);
    t.missed += missed;
    return missed;
}

// ---------------------------------------------------------------- Python

namespace {

PyObject *gc_callback(PyObject *, PyObject *args)
{
    PyObject *phase = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : nullptr;
    if (phase != nullptr && PyUnicode_Check(phase) && PyUnicode_CompareWithASCIIString(phase, "start") == 0)
        collect();
    Py_RETURN_NONE;
}

PyMethodDef g_callback_def = {"hpy_movinggc_collect", gc_callback, METH_VARARGS,
                              "The moving-GC checker's simulated collection, at each start of the gc's."};
PyObject *g_callback = nullptr;  // the function in gc.callbacks while the checker is on

PyObject *gc_callbacks()
{
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == nullptr)
        return nullptr;
    PyObject *list = PyObject_GetAttrString(gc, "callbacks");
    Py_DECREF(gc);
    if (list == nullptr && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        // PyPy's gc module has no callbacks; its own HPy host has a collector that really moves objects.
        PyErr_Clear();
        PyErr_SetString(
            PyExc_RuntimeError,
            "hpy.debug: the moving-GC checker runs its simulated collections from gc.callbacks, which "
            "this interpreter's gc module does not have (PyPy): use the checker on CPython");
    }
    return list;
}

}  // namespace

bool set_enabled(bool on)
{
    if (on == enabled())
        return true;
    PyObject *list = gc_callbacks();
    if (list == nullptr)
        return false;
    int rc = 0;
    if (on) {
        if (g_callback == nullptr)
            g_callback = PyCFunction_New(&g_callback_def, nullptr);
        rc = g_callback == nullptr ? -1 : PyList_Append(list, g_callback);
        cpython::g_token_hooks.store(
            &kHooks, std::memory_order_relaxed);  // kept once set: tokens outlive the checker's being on
    } else {
        Py_ssize_t at = PySequence_Index(list, g_callback);
        if (at < 0)
            PyErr_Clear();  // removed by someone else
        else
            rc = PySequence_DelItem(list, at);
    }
    Py_DECREF(list);
    if (rc < 0)
        return false;
    g_enabled.store(on, std::memory_order_relaxed);
    return true;
}

PyObject *py_set_movinggc(PyObject *, PyObject *arg)
{
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return nullptr;
    bool was = enabled();
    if (!set_enabled(on != 0))
        return nullptr;
    return PyBool_FromLong(was);
}

PyObject *py_get_movinggc(PyObject *, PyObject *)
{
    return PyBool_FromLong(enabled());
}

PyObject *py_movinggc_collect(PyObject *, PyObject *)
{
    return PyLong_FromSize_t(collect());
}

PyObject *py_get_movinggc_stats(PyObject *, PyObject *)
{
    Table &t = table();
    size_t fields, globals;
    uint64_t stored, collections, reissued, missed;
    {
        threads::Guard guard(t.lock);
        globals = t.globals.size();
        fields = t.size.load(std::memory_order_relaxed) - globals;
        stored = t.stored;
        collections = t.collections;
        reissued = t.reissued;
        missed = t.missed;
    }
    return Py_BuildValue("{s:n,s:n,s:K,s:K,s:K,s:K}", "fields", static_cast<Py_ssize_t>(fields), "globals",
                         static_cast<Py_ssize_t>(globals), "stored", static_cast<unsigned long long>(stored),
                         "collections", static_cast<unsigned long long>(collections), "reissued",
                         static_cast<unsigned long long>(reissued), "not_traversed",
                         static_cast<unsigned long long>(missed));
}

}  // namespace hpy::debug::movinggc
