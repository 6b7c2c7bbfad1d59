// runtime/cpython/ctx_type.cpp: types from HPyType_Spec over CPython: slots, methods, members, instance layout, dealloc.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cpython/context_init.h"
#include "runtime/cpython/threads.h"
#include "structmember.h"

namespace hpy::cpython {
namespace {

constexpr Py_ssize_t align_up(Py_ssize_t n)
{
    constexpr Py_ssize_t a = alignof(std::max_align_t);
    return (n + a - 1) / a * a;
}

// Where the user's struct starts for each builtin shape whose objects have a fixed size: after the
// base's C struct, aligned. (An instance of a str subclass is a PyUnicodeObject whose characters are
// allocated apart.) -1 for int and tuple, whose items follow the header in the object itself.
constexpr Py_ssize_t shape_offset(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Legacy:
        return 0;
    case HPyType_BuiltinShape_Object:
        return align_up(sizeof(PyObject));
    case HPyType_BuiltinShape_Type:
        return align_up(sizeof(PyHeapTypeObject));
    case HPyType_BuiltinShape_Float:
        return align_up(sizeof(PyFloatObject));
    case HPyType_BuiltinShape_List:
        return align_up(sizeof(PyListObject));
    case HPyType_BuiltinShape_Unicode:
#ifndef PYPY_VERSION
        return align_up(sizeof(PyUnicodeObject));
#endif
    case HPyType_BuiltinShape_Long:
    case HPyType_BuiltinShape_Tuple:
        break;
    }
    return -1;
}

// int and tuple objects keep their items (digits, item pointers) inside the object, after the
// header, so many of them that the object's size depends on its value. The user's struct of such a
// type follows the items: its offset is one per object, found from the item count, and the type's
// basicsize reserves the struct plus the alignment padding. (PyPy's emulated objects are laid out
// otherwise: no struct there.)
constexpr bool struct_after_items(HPyType_BuiltinShape shape)
{
#ifdef PYPY_VERSION
    (void)shape;
    return false;
#else
    return shape == HPyType_BuiltinShape_Long || shape == HPyType_BuiltinShape_Tuple;
#endif
}

// Where the user's struct starts in an object of this shape, for the constant offsets (0 for the
// shapes without one, and for the struct after the items, which items_struct_offset gives).
constexpr Py_ssize_t data_offset_of(HPyType_BuiltinShape shape)
{
    return shape_offset(shape) < 0 ? 0 : shape_offset(shape);
}

// The part of a type's basicsize before the user's struct: the base object with one item, and, for
// the struct after the items, room for its alignment.
constexpr Py_ssize_t fixed_part(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Long:
        return align_up(sizeof(PyLongObject)) + static_cast<Py_ssize_t>(alignof(std::max_align_t));
    case HPyType_BuiltinShape_Tuple:
        return align_up(sizeof(PyTupleObject)) + static_cast<Py_ssize_t>(alignof(std::max_align_t));
    default:
        return data_offset_of(shape);
    }
}

#ifndef PYPY_VERSION
// The items an int or tuple object holds (digits, item pointers), where they start and their size.
struct Items {
    Py_ssize_t start, count, size;
};
Items items_of(PyObject *obj, HPyType_BuiltinShape shape)
{
    if (shape == HPyType_BuiltinShape_Long) {
        auto *o = reinterpret_cast<PyLongObject *>(obj);
#    if PY_VERSION_HEX >= 0x030C0000
        return {offsetof(PyLongObject, long_value.ob_digit),
                static_cast<Py_ssize_t>(o->long_value.lv_tag >> _PyLong_NON_SIZE_BITS), sizeof(digit)};
#    else
        return {offsetof(PyLongObject, ob_digit), Py_ABS(Py_SIZE(o)), sizeof(digit)};
#    endif
    }
    return {offsetof(PyTupleObject, ob_item), Py_SIZE(obj), sizeof(PyObject *)};
}

// The user's struct in an int or tuple object: after its items (at least one, as the base's
// basicsize counts), aligned. The allocation holds it: basicsize + n * itemsize >= fixed_part +
// n * itemsize, and the aligned end of n items is less than that by at least the struct's size.
Py_ssize_t items_struct_offset(PyObject *obj, HPyType_BuiltinShape shape)
{
    Items items = items_of(obj, shape);
    return align_up(items.start + std::max<Py_ssize_t>(items.count, 1) * items.size);
}
#endif

// Where the user's struct starts in `obj`, an instance of a type of this shape.
inline Py_ssize_t struct_offset(PyObject *obj, HPyType_BuiltinShape shape)
{
#ifndef PYPY_VERSION
    if (struct_after_items(shape))
        return items_struct_offset(obj, shape);
#else
    (void)obj;
#endif
    return data_offset_of(shape);
}

inline void *struct_of(PyObject *obj, HPyType_BuiltinShape shape)
{
    return reinterpret_cast<char *>(obj) + struct_offset(obj, shape);
}

PyTypeObject *shape_base(HPyType_BuiltinShape shape);
const char *shape_name(HPyType_BuiltinShape shape);
void *no_struct(HPy h, HPyType_BuiltinShape shape);
inline const TypeExtra *own_record(PyTypeObject *type);

// struct_of for _HPy_AsStruct_Long/Unicode/Tuple, which are also asked about objects of other types:
// the nearest type built here must have this shape and a struct (its basicsize past the fixed part;
// a Python subclass may add more after it, a dict or weak-reference slot, that is not a struct).
#ifndef PYPY_VERSION
void *checked_struct_of(PyObject *obj, HPyType_BuiltinShape shape)
{
    PyTypeObject *t = Py_TYPE(obj);
    while (t != nullptr && own_record(t) == nullptr)
        t = t->tp_base;
    const TypeExtra *extra = t != nullptr ? own_record(t) : nullptr;
    if (extra == nullptr || extra->shape != shape || t->tp_basicsize <= fixed_part(shape))
        return no_struct(_py2h(obj), shape);
    return struct_of(obj, shape);
}
#endif

// A strong reference, released at the end of its scope.
struct DecRef {
    void operator()(PyObject *o) const { Py_XDECREF(o); }
};
using PyObjectPtr = std::unique_ptr<PyObject, DecRef>;

// The base a type of this shape gets when the spec names none (nullptr: object). A Type-shaped spec
// names `type` (or a metaclass) itself, as in HPy 0.9: without one its instances are plain objects.
PyTypeObject *shape_base(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Float:
        return &PyFloat_Type;
    case HPyType_BuiltinShape_List:
        return &PyList_Type;
    case HPyType_BuiltinShape_Long:
        return &PyLong_Type;
    case HPyType_BuiltinShape_Unicode:
        return &PyUnicode_Type;
    case HPyType_BuiltinShape_Tuple:
        return &PyTuple_Type;
    default:
        return nullptr;
    }
}

const char *shape_name(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Long:
        return "Long";
    case HPyType_BuiltinShape_Unicode:
        return "Unicode";
    case HPyType_BuiltinShape_Tuple:
        return "Tuple";
    default:
        return "?";
    }
}

// Where an object keeps its call function: the slot tp_vectorcall_offset names.
vectorcallfunc *call_slot(PyObject *obj)
{
    return reinterpret_cast<vectorcallfunc *>(reinterpret_cast<char *>(obj) +
                                              Py_TYPE(obj)->tp_vectorcall_offset);
}

// tp_call of the types with the HPy call protocol. Vectorcall reaches the object's call function
// directly; this path runs when it is not set yet (an object allocated without HPy_New, e.g. by a
// Python subclass): it installs the type's default first.
PyObject *hpy_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    vectorcallfunc *slot = call_slot(self);
    if (*slot == nullptr) {
        const TypeExtra *extra = type_extra(Py_TYPE(self));
        if (extra == nullptr || extra->default_call == nullptr) {
            PyErr_Format(
                PyExc_TypeError,
                "'%s' object is not callable: its type has no HPy_tp_call and no call function was set "
                "with HPy_SetCallFunction",
                Py_TYPE(self)->tp_name);
            return nullptr;
        }
        *slot = extra->default_call;
    }
    return PyVectorcall_Call(self, args, kwargs);
}

// _HPy_AsStruct_Long/Unicode/Tuple on an object without a struct (and on PyPy, where none has one).
void *no_struct(HPy h, HPyType_BuiltinShape shape)
{
    PyErr_Format(PyExc_SystemError, "_HPy_AsStruct_%s: an object of type '%s' carries no C struct",
                 shape_name(shape), Py_TYPE(_h2py(h))->tp_name);
    return nullptr;
}

bool has_call_protocol(PyTypeObject *type)
{
    return type->tp_call == hpy_call;
}

// A new object of a type with HPy_tp_call gets the type's call function.
void init_call_function(PyObject *obj, const TypeExtra &extra)
{
    if (extra.default_call != nullptr && has_call_protocol(Py_TYPE(obj)))
        *call_slot(obj) = extra.default_call;
}

// The user's struct in an instance of a type of shape S: one addition, no lookup.
template <HPyType_BuiltinShape S>
void *as_struct(HPy h)
{
    constexpr Py_ssize_t offset = shape_offset(S);
    static_assert(offset >= 0, "a shape with a fixed layout");
    return reinterpret_cast<char *>(_h2py(h)) + offset;
}

// The last type whose own record type_extra found, for allocation and deallocation loops (HPy_New
// and tp_dealloc look up the same type again and again). A record clears it when it dies.
struct LastType {
    PyTypeObject *type = nullptr;
    const TypeExtra *extra = nullptr;
    Py_ssize_t data_offset = 0;  // where the user's struct starts in its instances
    bool plain_alloc = false;    // a struct, fixed size, outside the GC, PyType_GenericAlloc, no call
                                 // function to set: HPy_New's fast path
    uint64_t deaths = 0;         // free-threaded: record_deaths when it was filled
};
#ifdef Py_GIL_DISABLED
// Without a GIL each thread keeps its own entry (several words, which another thread could tear), and
// an entry is stale once any record has died since it was filled: a thread holds a reference to the
// type it asks about, so only a dead type's entry can mislead, and its death is counted first.
std::atomic<uint64_t> record_deaths{0};
thread_local LastType last_type;
inline bool last_type_is(PyTypeObject *type)
{
    return last_type.type == type && last_type.deaths == record_deaths.load(std::memory_order_acquire);
}
inline void forget_last_type(const TypeExtra *)
{
    record_deaths.fetch_add(1, std::memory_order_acq_rel);
}
inline uint64_t last_type_deaths()
{
    return record_deaths.load(std::memory_order_acquire);
}
#else
LastType last_type;
inline bool last_type_is(PyTypeObject *type)
{
    return last_type.type == type;
}
inline void forget_last_type(const TypeExtra *extra)
{
    if (last_type.extra == extra)
        last_type = LastType{};
}
inline uint64_t last_type_deaths()
{
    return 0;
}
#endif

// A type built here owns its TypeExtra: a small object in the type's tp_cache slot. No interpreter
// this runs on uses that slot (CPython documents it as unused; PyPy's C-API emulation does not read
// it); type_dealloc releases it and type_clear leaves it. So the record lives exactly as long as the
// type, outlives every instance (each holds a reference to its type, also while the collector breaks
// a cycle), and is found from the type itself: there is no table keyed by addresses, nothing a later
// type allocated at a dead type's address could find.
struct TypeRecord {
    PyObject_HEAD TypeExtra extra;
};

void record_dealloc(PyObject *self)
{
    forget_last_type(&reinterpret_cast<TypeRecord *>(self)->extra);
    Py_TYPE(self)->tp_free(self);
}

// The type of the records: static, ready once (its other members are filled before PyType_Ready).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject record_type_object = {PyVarObject_HEAD_INIT(nullptr, 0)};
#pragma GCC diagnostic pop
PyTypeObject *const record_type = &record_type_object;

bool record_type_ready()
{
    static hpy::threads::Lock lock;  // two threads creating their first types at once
    hpy::threads::Guard guard(lock);
    if (record_type->tp_flags & Py_TPFLAGS_READY)
        return true;
    record_type->tp_name = "hpy.universal.TypeRecord";
    record_type->tp_basicsize = sizeof(TypeRecord);
    record_type->tp_flags = Py_TPFLAGS_DEFAULT;
    record_type->tp_dealloc = record_dealloc;
    return PyType_Ready(record_type) == 0;
}

// The record `type` owns itself; nullptr for any other type.
inline const TypeExtra *own_record(PyTypeObject *type)
{
    PyObject *cache = type->tp_cache;
    if (cache != nullptr && Py_TYPE(cache) == record_type)
        return &reinterpret_cast<TypeRecord *>(cache)->extra;
    return nullptr;
}

// Gives the new type `tp` its record; false with an exception set.
bool attach_record(PyTypeObject *tp, const TypeExtra &extra)
{
    if (tp->tp_cache != nullptr) {
        PyErr_Format(PyExc_SystemError,
                     "HPyType_FromSpec: type '%s': this interpreter uses the type's tp_cache slot, where "
                     "hpy.universal keeps what it knows about the type",
                     tp->tp_name);
        return false;
    }
    if (!record_type_ready())
        return false;
    auto *record = PyObject_New(TypeRecord, record_type);
    if (record == nullptr)
        return false;
    record->extra = extra;
    tp->tp_cache = reinterpret_cast<PyObject *>(record);
    return true;
}

int clear_field(HPyField *field, void *)
{
    // tp_clear may race with a store of another thread that still reaches the object.
    intptr_t old = hpy::threads::exchange(&field->_i, 0);
    if (is_token(old)) {
        if (const TokenHooks *hooks = token_hooks())
            hooks->field_release(field, old);
        return 0;
    }
    Py_XDECREF(reinterpret_cast<PyObject *>(old));
    return 0;
}

// HPy_tp_finalize (PEP 442) from our tp_dealloc, when the object's own type uses `own` as its dealloc: a
// Python subclass's dealloc has run the finalizer already before it calls ours. False: the finalizer
// resurrected the object, which must not be freed.
bool finalize_from_dealloc(PyObject *self, PyTypeObject *tp, destructor own)
{
    return tp->tp_finalize == nullptr || tp->tp_dealloc != own ||
           PyObject_CallFinalizerFromDealloc(self) == 0;
}

// tp_dealloc of a type with nothing to run at deallocation: no lookup on this path.
void hpy_dealloc_plain(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (!finalize_from_dealloc(self, tp, hpy_dealloc_plain))
        return;
    if (PyType_IS_GC(tp))
        PyObject_GC_UnTrack(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

// The builtin type whose part of the object owns memory or references of its own (a list's items,
// a str's data...): its dealloc must free them. nullptr for the shapes whose base part owns nothing.
PyTypeObject *builtin_base(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Float:
    case HPyType_BuiltinShape_List:
    case HPyType_BuiltinShape_Long:
    case HPyType_BuiltinShape_Unicode:
    case HPyType_BuiltinShape_Tuple:
        return shape_base(shape);
#ifndef PYPY_VERSION
    case HPyType_BuiltinShape_Type:
        return &PyType_Type;  // a class's dict, MRO, name and doc
#endif
    default:
        return nullptr;
    }
}

#ifndef PYPY_VERSION
// The tp_dealloc CPython gives a class (a `class` statement's, or a spec's without Py_tp_dealloc):
// it releases what the class adds to its base (slots, dict, weak references), then runs the
// nearest base's dealloc that is not its own. (Not needed on PyPy: see has_python_class_base.)
destructor python_class_dealloc()
{
    static destructor found = [] {
        static PyType_Slot no_slots[] = {{0, nullptr}};
        static PyType_Spec probe = {"unihpy.dealloc_probe", 0, 0, Py_TPFLAGS_DEFAULT, no_slots};
        PyObject *type = PyType_FromSpec(&probe);
        destructor d = type ? reinterpret_cast<PyTypeObject *>(type)->tp_dealloc : nullptr;
        Py_XDECREF(type);
        PyErr_Clear();
        return d;
    }();
    return found;
}
#endif

bool has_python_class_base(PyTypeObject *tp)
{
#ifdef PYPY_VERSION
    (void)tp;
    return false;  // PyPy keeps a class's slots, dict and weak references outside the C object
#else
    destructor python_dealloc = python_class_dealloc();
    for (PyTypeObject *base = tp->tp_base; base != nullptr; base = base->tp_base)
        if (base->tp_dealloc == python_dealloc)
            return true;
    return false;
#endif
}

#ifndef PYPY_VERSION
// What a Python class among the bases of an HPy type adds to its instances, released in the order
// CPython's own dealloc of a class uses. `own`: the object's type is the HPy type (not a Python
// subclass of it, whose dealloc has released its own parts and, before 3.13, the managed dict).
// Each step is safe to repeat.
void release_python_parts(PyObject *self, bool own)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (tp->tp_weaklistoffset != 0)
        PyObject_ClearWeakRefs(self);
    destructor python_dealloc = python_class_dealloc();
    for (PyTypeObject *base = tp; base != nullptr; base = base->tp_base) {
        if (base->tp_dealloc != python_dealloc || base->tp_members == nullptr)
            continue;
        // A class's __slots__ are the first Py_SIZE(class) of its members.
        PyMemberDef *member = base->tp_members;
        for (Py_ssize_t i = 0; i < Py_SIZE(base) && member->name != nullptr; ++i, ++member)
            if (member->type == T_OBJECT_EX && !(member->flags & READONLY))
                Py_CLEAR(*reinterpret_cast<PyObject **>(reinterpret_cast<char *>(self) + member->offset));
    }
#    if PY_VERSION_HEX >= 0x030D0000
    (void)own;  // 3.13+ clears a managed dict whoever's dealloc ran first
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        PyObject_ClearManagedDict(self);
        return;
    }
#    else
    if ((tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) && !own)
        return;
#    endif
    if (tp->tp_dictoffset != 0 || (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT)) {
        PyObject **dict = _PyObject_GetDictPtr(self);
        if (dict != nullptr)
            Py_CLEAR(*dict);
    }
}
#endif

// tp_dealloc of a type with HPy_tp_destroy, HPyFields (its own or inherited), a builtin base part or
// a Python class among its bases: those first, then the builtin base's dealloc (which frees the
// object) or tp_free.
void hpy_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (!finalize_from_dealloc(self, tp, hpy_dealloc))
        return;
    if (PyType_IS_GC(tp))
        PyObject_GC_UnTrack(self);
    const TypeExtra *extra = type_extra(tp);
    if (extra != nullptr && extra->finalize != nullptr) {
        // alive while its finalizer runs (a handle it opens and closes must not free it again)
        Py_SET_REFCNT(self, Py_REFCNT(self) + 1);
        extra->finalize(self);
        Py_SET_REFCNT(self, Py_REFCNT(self) - 1);
    }
#ifndef PYPY_VERSION
    if (extra != nullptr && extra->python_base)
        release_python_parts(self, tp->tp_dealloc == hpy_dealloc);
#endif
    if (extra != nullptr) {
        void *data = struct_of(self, extra->shape);
        if (extra->destroy != nullptr)
            extra->destroy(data);
        if (extra->traverse != nullptr)
            extra->traverse(data, clear_field, nullptr);
        if (const TokenHooks *hooks = token_hooks())  // the fields its traverse does not visit
            hooks->owner_gone(self);
    }
    PyTypeObject *builtin = extra ? extra->builtin : nullptr;
    if (builtin != nullptr) {
        // The builtin's dealloc untracks the object itself (type's without checking): tracked again,
        // as CPython's own class dealloc does before it calls its base's.
        if (PyType_IS_GC(builtin))
            PyObject_GC_Track(self);
        builtin->tp_dealloc(self);
    } else
        tp->tp_free(self);
    Py_DECREF(tp);
}

// tp_clear of a type with HPy_tp_traverse: the GC breaks a cycle that runs through HPyFields by
// clearing them (a cycle of HPy objects alone, such as an object whose field holds itself, has no
// other object whose tp_clear could break it).
int hpy_clear(PyObject *self)
{
    const TypeExtra *extra = type_extra(Py_TYPE(self));
    if (extra != nullptr && extra->traverse != nullptr)
        extra->traverse(struct_of(self, extra->shape), clear_field, nullptr);
    return 0;
}

std::string type_name(const HPyType_Spec *spec)
{
    return spec->name ? spec->name : "<unnamed>";
}

PyObject *spec_error(PyObject *exc, const HPyType_Spec *spec, const std::string &cause)
{
    PyErr_Format(exc, "HPyType_FromSpec: type '%s': %s", type_name(spec).c_str(), cause.c_str());
    return nullptr;
}

bool is_type_slot(int id)
{
    switch (id) {
#define HPY_CASE(name, number, sig) case number:
        _HPY_SLOT_LIST(HPY_CASE)
#undef HPY_CASE
        return id != HPy_mod_create && id != HPy_mod_exec;
    default:
        return false;
    }
}

// A member of a type whose struct follows the items (int and tuple shapes): CPython's member
// descriptors read at a constant offset, so such a member is a getset that finds the struct first.
// `def.offset` is the offset inside the user's struct.
struct ItemsMember {
    PyMemberDef def;
    HPyType_BuiltinShape shape;
};

#ifndef PYPY_VERSION
// Object members are read and written here: the C API's functions would take the struct's address
// for the object's (in the AttributeError they raise, and in the lock of a free-threaded build).
PyObject *items_member_get(PyObject *self, void *closure)
{
    const auto *m = static_cast<const ItemsMember *>(closure);
    char *data = static_cast<char *>(struct_of(self, m->shape));
    if (m->def.type != T_OBJECT && m->def.type != T_OBJECT_EX)
        return PyMember_GetOne(data, const_cast<PyMemberDef *>(&m->def));
    // A spec may place a member at any offset: copied, not dereferenced, in case it is unaligned.
    PyObject *value;
    std::memcpy(&value, data + m->def.offset, sizeof value);
    if (value == nullptr && m->def.type == T_OBJECT_EX) {
        PyErr_Format(PyExc_AttributeError, "'%.200s' object has no attribute '%s'", Py_TYPE(self)->tp_name,
                     m->def.name);
        return nullptr;
    }
    value = value != nullptr ? value : Py_None;
    Py_INCREF(value);
    return value;
}

int items_member_set(PyObject *self, PyObject *value, void *closure)
{
    const auto *m = static_cast<const ItemsMember *>(closure);
    char *data = static_cast<char *>(struct_of(self, m->shape));
    if (m->def.type != T_OBJECT && m->def.type != T_OBJECT_EX)
        return PyMember_SetOne(data, const_cast<PyMemberDef *>(&m->def), value);
    char *slot = data + m->def.offset;  // possibly unaligned, as in items_member_get
    PyObject *old;
    std::memcpy(&old, slot, sizeof old);
    if (value == nullptr && m->def.type == T_OBJECT_EX && old == nullptr) {
        PyErr_SetString(PyExc_AttributeError, m->def.name);
        return -1;
    }
    Py_XINCREF(value);
    std::memcpy(slot, &value, sizeof value);
    Py_XDECREF(old);
    return 0;
}
#endif

// Everything PyType_FromSpec needs, kept alive with the type (CPython keeps pointers into it).
struct TypeDefs {
    std::string name;
    std::vector<PyType_Slot> slots;
    std::vector<PyMethodDef> methods;
    std::vector<PyMemberDef> members;
    std::vector<PyGetSetDef> getsets;
    std::vector<std::unique_ptr<ItemsMember>> items_members;  // the getsets' closures
};

PyObject *bases_from_params(const HPyType_Spec *spec, HPyType_SpecParam *params, PyTypeObject *default_base,
                            PyObject **metaclass)
{
    // Every HPyType_SpecParam_Base adds one base, in order; a BasesTuple gives them all at once and
    // excludes the other form.
    *metaclass = nullptr;
    PyObjectPtr base_list(PyList_New(0));
    if (base_list == nullptr)
        return nullptr;
    PyObject *bases_tuple = nullptr;
    for (HPyType_SpecParam *p = params; p != nullptr && enum_value(p->kind) != 0; ++p) {
        PyObject *obj = _h2py(p->object);
        switch (enum_value(p->kind)) {
        case HPyType_SpecParam_Base:
            if (!PyType_Check(obj))
                return spec_error(PyExc_TypeError, spec, "HPyType_SpecParam_Base is not a type");
            if (PyList_Append(base_list.get(), obj) < 0)
                return nullptr;
            break;
        case HPyType_SpecParam_BasesTuple:
            if (!PyTuple_Check(obj))
                return spec_error(PyExc_TypeError, spec, "HPyType_SpecParam_BasesTuple is not a tuple");
            if (bases_tuple != nullptr)
                return spec_error(PyExc_TypeError, spec,
                                  "HPyType_SpecParam_BasesTuple is given more than once");
            bases_tuple = obj;
            break;
        case HPyType_SpecParam_Metaclass:
            // A second metaclass is refused whatever it is: the spec is ambiguous.
            if (*metaclass != nullptr)
                return spec_error(PyExc_ValueError, spec,
                                  "HPyType_SpecParam_Metaclass is given more than once");
            if (!PyType_Check(obj) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(obj), &PyType_Type))
                return spec_error(PyExc_TypeError, spec,
                                  "HPyType_SpecParam_Metaclass is not a subclass of type");
            *metaclass = obj;
            break;
        default:
            return spec_error(PyExc_SystemError, spec,
                              "unknown HPyType_SpecParam kind " + std::to_string(enum_value(p->kind)));
        }
    }
    if (bases_tuple != nullptr && PyList_GET_SIZE(base_list.get()) > 0)
        return spec_error(PyExc_TypeError, spec,
                          "HPyType_SpecParam_Base and HPyType_SpecParam_BasesTuple cannot be used together");
    if (bases_tuple != nullptr) {
        Py_INCREF(bases_tuple);
        return bases_tuple;
    }
    if (PyList_GET_SIZE(base_list.get()) > 0)
        return PyList_AsTuple(base_list.get());
    if (default_base != nullptr)
        return PyTuple_Pack(1, reinterpret_cast<PyObject *>(default_base));
    return nullptr;  // no exception: no bases, `object` (CPython fails on an empty tuple)
}

}  // namespace

std::optional<PyMethodDef> method_def(const HPyMeth &meth, HPyContext * /* ctx */)
{
    int flags;
    switch (enum_value(meth.signature)) {
    case HPyFunc_NOARGS:
        flags = METH_NOARGS;
        break;
    case HPyFunc_O:
        flags = METH_O;
        break;
    case HPyFunc_VARARGS:
        flags = METH_FASTCALL;
        break;
    case HPyFunc_KEYWORDS:
        flags = METH_FASTCALL | METH_KEYWORDS;
        break;
    default:
        return std::nullopt;
    }
    auto trampoline = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(meth.cpy_trampoline));
    return PyMethodDef{meth.name, trampoline, flags, meth.doc};
}

std::string unsupported_signature(const char *what, const HPyMeth &meth)
{
    return std::string(what) + " '" + (meth.name ? meth.name : "?") + "' has an unsupported signature " +
           std::to_string(enum_value(meth.signature));
}

const TypeExtra *type_extra(PyTypeObject *type)
{
    if (last_type_is(type))
        return last_type.extra;
    for (PyTypeObject *t = type; t != nullptr; t = t->tp_base) {
        if (const TypeExtra *extra = own_record(t)) {
            // Only a type's own record is remembered: it clears last_type when it dies.
            if (t == type)
                last_type = LastType{type, extra, data_offset_of(extra->shape),
                                     shape_offset(extra->shape) >= 0 && extra->default_call == nullptr &&
                                         type->tp_alloc == PyType_GenericAlloc && type->tp_itemsize == 0 &&
                                         !PyType_IS_GC(type),
                                     last_type_deaths()};
            return extra;
        }
    }
    return nullptr;
}

void *instance_data(PyObject *obj)
{
    const TypeExtra *extra = type_extra(Py_TYPE(obj));
    return extra ? struct_of(obj, extra->shape) : obj;
}

Py_ssize_t instance_data_size(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    const TypeExtra *extra = type_extra(tp);
    if (extra == nullptr)
        return 0;
    // The object's allocation (CPython's var-size rule), less what precedes the struct.
    Py_ssize_t items = 0;
#ifndef PYPY_VERSION
    if (struct_after_items(extra->shape))
        items = items_of(obj, extra->shape).count;
#endif
    Py_ssize_t end = tp->tp_basicsize + std::max<Py_ssize_t>(items, 0) * tp->tp_itemsize;
    Py_ssize_t size = end - struct_offset(obj, extra->shape);
    return size > 0 ? size : 0;
}

bool field_is_object_member(PyObject *obj, const HPyField *field)
{
    const auto at = reinterpret_cast<const char *>(field);
    const Py_ssize_t in_object = at - reinterpret_cast<const char *>(obj);
#ifndef PYPY_VERSION
    // Members of variable-size types are getsets whose offset counts from the struct (ItemsMember).
    const Py_ssize_t in_struct = at - static_cast<const char *>(instance_data(obj));
#endif
    for (PyTypeObject *t = Py_TYPE(obj); t != nullptr; t = t->tp_base) {
        for (const PyMemberDef *m = t->tp_members; m != nullptr && m->name != nullptr; ++m)
            if ((m->type == T_OBJECT || m->type == T_OBJECT_EX) && m->offset == in_object)
                return true;
#ifndef PYPY_VERSION
        for (const PyGetSetDef *g = t->tp_getset; g != nullptr && g->name != nullptr; ++g) {
            const auto *m = static_cast<const ItemsMember *>(g->closure);
            if (g->get == items_member_get && (m->def.type == T_OBJECT || m->def.type == T_OBJECT_EX) &&
                m->def.offset == in_struct)
                return true;
        }
#endif
    }
    return false;
}

namespace {

constexpr const char *CALL_OFFSET_MEMBER = "__vectorcalloffset__";

// The bytes a member of this type occupies in the struct; -1 for a type that is not a member type.
Py_ssize_t member_size(int type)
{
    switch (type) {
    case HPyMember_CHAR:
    case HPyMember_BYTE:
    case HPyMember_UBYTE:
    case HPyMember_BOOL:
    case HPyMember_STRING_INPLACE:  // at least its terminating NUL
        return 1;
    case HPyMember_SHORT:
    case HPyMember_USHORT:
        return sizeof(short);
    case HPyMember_INT:
    case HPyMember_UINT:
        return sizeof(int);
    case HPyMember_LONG:
    case HPyMember_ULONG:
        return sizeof(long);
    case HPyMember_FLOAT:
        return sizeof(float);
    case HPyMember_DOUBLE:
        return sizeof(double);
    case HPyMember_STRING:
        return sizeof(char *);
    case HPyMember_OBJECT:
    case HPyMember_OBJECT_EX:
        return sizeof(PyObject *);
    case HPyMember_LONGLONG:
    case HPyMember_ULONGLONG:
        return sizeof(long long);
    case HPyMember_HPYSSIZET:
        return sizeof(HPy_ssize_t);
    case HPyMember_NONE:
        return 0;
    default:
        return -1;
    }
}

#if PY_VERSION_HEX < 0x030C0000
// CPython before 3.12 builds types from specs with `type` as their metaclass only. The type is built
// that way first, then the metaclass is called to make the final type, with the first one as its
// only base and nothing of its own (`__slots__ = ()`): its instances have the same layout and
// behaviour, and `type(T)` is the metaclass. The one visible difference: `T.__mro__` lists the
// inner type too (under the same name).
PyObject *type_with_metaclass(const HPyType_Spec *spec, PyType_Spec *pyspec, PyObject *bases,
                              PyTypeObject *meta)
{
    if (meta->tp_new != PyType_Type.tp_new)
        return spec_error(PyExc_TypeError, spec, "metaclasses with a custom tp_new are not supported");
    const unsigned int flags = pyspec->flags;
    pyspec->flags |= Py_TPFLAGS_BASETYPE;  // the final type derives from it
    PyObjectPtr inner(PyType_FromSpecWithBases(pyspec, bases));
    pyspec->flags = flags;
    if (inner == nullptr)
        return nullptr;
    const char *dot = std::strrchr(pyspec->name, '.');
    const char *short_name = dot ? dot + 1 : pyspec->name;
    PyObjectPtr ns(PyDict_New());
    PyObjectPtr slots(PyTuple_New(0));
    PyObjectPtr module(dot ? PyUnicode_FromStringAndSize(pyspec->name, dot - pyspec->name) : nullptr);
    PyObject *doc = PyDict_GetItemString(reinterpret_cast<PyTypeObject *>(inner.get())->tp_dict, "__doc__");
    if (ns == nullptr || slots == nullptr || (dot && module == nullptr) ||
        PyDict_SetItemString(ns.get(), "__slots__", slots.get()) < 0 ||
        (module && PyDict_SetItemString(ns.get(), "__module__", module.get()) < 0) ||
        (doc && PyDict_SetItemString(ns.get(), "__doc__", doc) < 0))
        return nullptr;
    PyObject *type =
        PyObject_CallFunction(reinterpret_cast<PyObject *>(meta), "s(O)O", short_name, inner.get(), ns.get());
    if (type != nullptr) {
        auto *tp = reinterpret_cast<PyTypeObject *>(type);
        if (!(flags & Py_TPFLAGS_BASETYPE))
            tp->tp_flags &= ~Py_TPFLAGS_BASETYPE;
        tp->tp_flags |= flags & Py_TPFLAGS_HAVE_VECTORCALL;  // not inherited before 3.12
    }
    return type;
}
#endif

// The visit function of gc.get_referents, learnt once from a probe object (nullptr where that
// function does not go through tp_traverse, as on PyPy). An HPy object's referents are its fields
// alone, but the collector itself must also see the reference an instance holds to its (heap) type,
// or a cycle through the type (a class attribute holding an instance) would never be collected.
std::atomic<visitproc> referents_visit{nullptr};

int probe_traverse(PyObject *, visitproc visit, void *)
{
    referents_visit.store(visit, std::memory_order_relaxed);
    return 0;
}

// Once; a thread creating a type meanwhile waits until the function is known.
void learn_referents_visit()
{
    static hpy::threads::Lock lock;
    static bool done = false;
    hpy::threads::Guard guard(lock);
    if (done)
        return;
    done = true;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
    static PyTypeObject probe_type = {PyVarObject_HEAD_INIT(nullptr, 0)};
#pragma GCC diagnostic pop
    probe_type.tp_name = "hpy.universal.ReferentsProbe";
    probe_type.tp_basicsize = sizeof(PyObject);
    probe_type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
    probe_type.tp_traverse = probe_traverse;
    probe_type.tp_dealloc = [](PyObject *o) { PyObject_GC_Del(o); };  // never tracked
    PyObject *saved_type, *saved_value, *saved_tb;
    PyErr_Fetch(&saved_type, &saved_value, &saved_tb);
    if (PyType_Ready(&probe_type) == 0) {
        PyObject *probe = PyObject_GC_New(PyObject, &probe_type);
        PyObjectPtr gc(PyImport_ImportModule("gc"));
        if (probe != nullptr && gc != nullptr)
            Py_XDECREF(PyObject_CallMethod(gc.get(), "get_referents", "O", probe));
        Py_XDECREF(probe);
    }
    PyErr_Clear();
    PyErr_Restore(saved_type, saved_value, saved_tb);
}

PyObject *type_from_spec(HPyContext *ctx, HPyType_Spec *spec, HPyType_SpecParam *params)
{
    learn_referents_visit();
    if (spec == nullptr) {
        PyErr_SetString(PyExc_SystemError, "HPyType_FromSpec: spec is NULL");
        return nullptr;
    }
    if (spec->name == nullptr || spec->name[0] == '\0')
        return spec_error(PyExc_SystemError, spec, "the spec has an empty name");
    if (spec->basicsize < 0 || spec->itemsize < 0)
        return spec_error(PyExc_SystemError, spec, "basicsize and itemsize must not be negative");
    // Other Py_TPFLAGS_* bits describe layouts and behaviours CPython trusts without checking
    // (a managed dict, a type subclass...): set by a spec, they corrupt memory.
    constexpr unsigned long known_flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC |
                                          HPy_TPFLAGS_HAVE_VECTORCALL | (1UL << 8) /* INTERNAL_PURE */;
    if ((spec->flags & ~known_flags) != 0) {
        char hex[32];
        std::snprintf(hex, sizeof(hex), "0x%lx", spec->flags & ~known_flags);
        return spec_error(PyExc_SystemError, spec, std::string("unknown flags ") + hex);
    }
    const int shape = enum_value(spec->builtin_shape);
    if (shape < HPyType_BuiltinShape_Legacy || shape > HPyType_BuiltinShape_List)
        return spec_error(PyExc_ValueError, spec, "invalid builtin shape " + std::to_string(shape));
    // The shapes whose objects have no place for a C struct on this interpreter.
    const bool after_items = struct_after_items(spec->builtin_shape);
    const bool struct_free_shape = shape_offset(spec->builtin_shape) < 0 && !after_items;
    if (struct_free_shape && spec->basicsize != 0)
        return spec_error(PyExc_SystemError, spec,
                          std::string("builtin shape ") + shape_name(spec->builtin_shape) +
                              " cannot carry a C struct on this interpreter: basicsize must be 0");
    // Where the struct starts in the type's basicsize (for the struct after the items, the part
    // reserved before it).
    const Py_ssize_t data_offset = fixed_part(spec->builtin_shape);
    PyTypeObject *default_base = shape_base(spec->builtin_shape);
    const bool legacy = spec->builtin_shape == HPyType_BuiltinShape_Legacy;
    if (spec->legacy_slots != nullptr && !legacy) {
        // Extensions match this message as it is, without the usual prefix.
        PyErr_SetString(
            PyExc_TypeError,
            "cannot specify .legacy_slots without setting .builtin_shape=HPyType_BuiltinShape_Legacy");
        return nullptr;
    }

    // Freed on an error; on success it lives as long as the process (CPython keeps pointers into it).
    auto defs = std::make_unique<TypeDefs>();
    defs->name = spec->name;
    TypeExtra extra{spec->builtin_shape, nullptr, nullptr, nullptr, nullptr, false, nullptr};
    bool has_dealloc = false;
    bool explicit_call_offset = false;
    bool legacy_traverse = false;  // a Py_tp_traverse among the legacy slots
    bool legacy_clear = false;     // a Py_tp_clear among the legacy slots

    for (HPyDef **p = spec->defines; p != nullptr && *p != nullptr; ++p) {
        HPyDef *d = *p;
        switch (enum_value(d->kind)) {
        case HPyDef_Kind_Slot: {
            int id = enum_value(d->slot.slot);
            if (!is_type_slot(id))
                return spec_error(PyExc_SystemError, spec, "invalid slot id " + std::to_string(id));
            if (id == HPy_tp_destroy) {
                extra.destroy = reinterpret_cast<HPyFunc_destroyfunc>(d->slot.impl);
                continue;
            }
            if (id == HPy_tp_call) {
                extra.default_call = reinterpret_cast<vectorcallfunc>(d->slot.cpy_trampoline);
                continue;
            }
            if (id == HPy_tp_finalize && compat::finalize_in_dealloc) {
                extra.finalize = reinterpret_cast<destructor>(d->slot.cpy_trampoline);
                continue;
            }
            if (id == HPy_tp_traverse)
                extra.traverse = reinterpret_cast<HPyFunc_traverseproc>(d->slot.impl);
            defs->slots.push_back({id, d->slot.cpy_trampoline});
            break;
        }
        case HPyDef_Kind_Meth: {
            std::optional<PyMethodDef> method = method_def(d->meth, ctx);
            if (!method)
                return spec_error(PyExc_SystemError, spec, unsupported_signature("method", d->meth));
            defs->methods.push_back(*method);
            break;
        }
        case HPyDef_Kind_Member: {
            const std::string member =
                std::string("member '") + (d->member.name ? d->member.name : "?") + "'";
            if (struct_free_shape || (after_items && spec->basicsize == 0))
                return spec_error(PyExc_SystemError, spec,
                                  member + ": a type of builtin shape " + shape_name(spec->builtin_shape) +
                                      (struct_free_shape
                                           ? " has no C struct to hold members"
                                           : " and basicsize 0 has no C struct to hold members"));
            if (after_items && d->member.name != nullptr &&
                std::strcmp(d->member.name, CALL_OFFSET_MEMBER) == 0)
                return spec_error(PyExc_TypeError, spec,
                                  std::string("a '") + CALL_OFFSET_MEMBER +
                                      "' member cannot be used with builtin shape " +
                                      shape_name(spec->builtin_shape) + " (its objects have variable size)");
            if (d->member.name != nullptr && std::strcmp(d->member.name, CALL_OFFSET_MEMBER) == 0) {
                if (enum_value(d->member.type) != HPyMember_HPYSSIZET)
                    return spec_error(PyExc_SystemError, spec,
                                      std::string("member '") + CALL_OFFSET_MEMBER +
                                          "' must have the type HPyMember_HPYSSIZET");
                explicit_call_offset = true;
            }
            const Py_ssize_t size = member_size(enum_value(d->member.type));
            if (size < 0)
                return spec_error(PyExc_SystemError, spec,
                                  member + " has an unknown type " +
                                      std::to_string(enum_value(d->member.type)));
            const bool none = enum_value(d->member.type) == HPyMember_NONE;  // no storage: always None
            if (!none && (d->member.offset < 0 ||
                          (!legacy && spec->basicsize > 0 && d->member.offset + size > spec->basicsize)))
                return spec_error(PyExc_SystemError, spec, member + " has an offset outside the struct");
#ifndef PYPY_VERSION
            if (after_items) {
                defs->items_members.push_back(std::make_unique<ItemsMember>(
                    ItemsMember{{d->member.name, static_cast<int>(d->member.type), d->member.offset,
                                 d->member.readonly ? READONLY : 0, d->member.doc},
                                spec->builtin_shape}));
                ItemsMember *m = defs->items_members.back().get();
                defs->getsets.push_back({d->member.name, items_member_get,
                                         d->member.readonly ? nullptr : items_member_set, d->member.doc, m});
                break;
            }
#endif
            // An HPyMember_NONE member reads as None and refuses writes and deletions by itself.
            defs->members.push_back({d->member.name, static_cast<int>(d->member.type),
                                     d->member.offset + data_offset, d->member.readonly ? READONLY : 0,
                                     d->member.doc});
            break;
        }
        case HPyDef_Kind_GetSet:
            if (d->getset.getter_cpy_trampoline == nullptr && d->getset.setter_cpy_trampoline == nullptr)
                return spec_error(PyExc_SystemError, spec,
                                  std::string("getset '") + (d->getset.name ? d->getset.name : "?") +
                                      "' has neither a getter nor a setter");
            defs->getsets.push_back({d->getset.name,
                                     compat::write_only_getter(d->getset.getter_cpy_trampoline),
                                     d->getset.setter_cpy_trampoline, d->getset.doc, d->getset.closure});
            break;
        default:
            return spec_error(PyExc_SystemError, spec,
                              "invalid HPyDef kind " + std::to_string(enum_value(d->kind)));
        }
    }
    if (spec->legacy_slots != nullptr) {
        for (auto *s = static_cast<PyType_Slot *>(spec->legacy_slots); s->slot != 0; ++s) {
            has_dealloc |= s->slot == Py_tp_dealloc;
            legacy_traverse |= s->slot == Py_tp_traverse;
            legacy_clear |= s->slot == Py_tp_clear;
            if (s->slot == Py_tp_methods) {
                for (auto *m = static_cast<PyMethodDef *>(s->pfunc); m->ml_name != nullptr; ++m)
                    defs->methods.push_back(*m);
            } else if (s->slot == Py_tp_members) {
                for (auto *m = static_cast<PyMemberDef *>(s->pfunc); m->name != nullptr; ++m) {
                    explicit_call_offset |= std::strcmp(m->name, CALL_OFFSET_MEMBER) == 0;
                    defs->members.push_back(*m);
                }
            } else if (s->slot == Py_tp_getset) {
                for (auto *g = static_cast<PyGetSetDef *>(s->pfunc); g->name != nullptr; ++g) {
                    defs->getsets.push_back(*g);
                    defs->getsets.back().get = compat::write_only_getter(g->get);
                }
            } else {
                defs->slots.push_back(*s);
            }
        }
    }
    // A legacy tp_dealloc frees the object itself: the dealloc that would run HPy_tp_destroy and
    // release the HPyFields never runs.
    if (has_dealloc && (extra.destroy != nullptr || extra.traverse != nullptr))
        return spec_error(PyExc_TypeError, spec,
                          "legacy tp_dealloc is incompatible with HPy_tp_traverse or HPy_tp_destroy");
    if (extra.default_call != nullptr) {
        if (explicit_call_offset)
            return spec_error(PyExc_TypeError, spec,
                              "HPy_tp_call and a '__vectorcalloffset__' member cannot be used together");
        if (spec->itemsize != 0)
            return spec_error(PyExc_TypeError, spec,
                              "HPy_tp_call cannot be used with a variable-size type (itemsize != 0)");
        // The hidden call-function slot goes after the struct; a legacy struct inherited from the
        // base (basicsize 0) may be longer in the base's instances than the base's size says.
        if (legacy && spec->basicsize == 0)
            return spec_error(PyExc_TypeError, spec,
                              "HPy_tp_call needs a non-zero basicsize in a legacy type (or use the legacy "
                              "slot Py_tp_call)");
    }
    // A type with its own HPy_tp_traverse gets the tp_clear that goes with it (unless a legacy slot
    // gives one); a subtype without either inherits both from its base.
    if (extra.traverse != nullptr && std::none_of(defs->slots.begin(), defs->slots.end(),
                                                  [](const PyType_Slot &s) { return s.slot == Py_tp_clear; }))
        defs->slots.push_back({Py_tp_clear, reinterpret_cast<void *>(hpy_clear)});

    PyObject *metaclass = nullptr;
    PyObject *bases = bases_from_params(spec, params, default_base, &metaclass);
    if (bases == nullptr && PyErr_Occurred())
        return nullptr;
    PyObjectPtr bases_ref(bases);
    PyObject *first = bases != nullptr && PyTuple_GET_SIZE(bases) > 0 ? PyTuple_GET_ITEM(bases, 0) : nullptr;
    PyTypeObject *first_base = first != nullptr && PyType_Check(first)
                                   ? reinterpret_cast<PyTypeObject *>(first)
                                   : &PyBaseObject_Type;

    // The user's struct starts where the shape says; a base that is not an HPy type must end there.
    if (!legacy && spec->basicsize > 0 && type_extra(first_base) == nullptr &&
        first_base->tp_basicsize > data_offset)
        return spec_error(PyExc_TypeError, spec,
                          std::string("the struct would overlap the C fields of its base '") +
                              first_base->tp_name + "' (give the type the builtin shape of its base)");
    // The collector must be able to see what an object holds: its own traverse or its base's.
    if ((spec->flags & HPy_TPFLAGS_HAVE_GC) && extra.traverse == nullptr && !legacy_traverse &&
        !PyType_IS_GC(first_base))
        return spec_error(PyExc_ValueError, spec, "HPy_TPFLAGS_HAVE_GC needs an HPy_tp_traverse slot");
    if ((spec->flags & HPy_TPFLAGS_HAVE_GC) && extra.traverse == nullptr && !legacy_traverse) {
        // CPython wants the slots of a collected type in its spec, even when the base has them.
        defs->slots.push_back({Py_tp_traverse, reinterpret_cast<void *>(first_base->tp_traverse)});
        if (first_base->tp_clear != nullptr && !legacy_clear)
            defs->slots.push_back({Py_tp_clear, reinterpret_cast<void *>(first_base->tp_clear)});
    }

    // 0 inherits the base's size, as in CPython; otherwise the user's struct follows the shape's part.
    Py_ssize_t basicsize = legacy || spec->basicsize == 0 ? spec->basicsize : data_offset + spec->basicsize;
    // An object smaller than its base's would be overrun by everything that knows the base (the
    // base's call-protocol slot, placed after the struct, is laid out again below).
    const TypeExtra *base_extra = type_extra(first_base);
    if (basicsize != 0 && basicsize < first_base->tp_basicsize && !(base_extra && base_extra->default_call))
        return spec_error(PyExc_SystemError, spec,
                          "basicsize " + std::to_string(spec->basicsize) +
                              " is smaller than the base type's (" +
                              std::to_string(first_base->tp_basicsize - (legacy ? 0 : data_offset)) + ")");
    // Every member lies inside the fixed part of the object: a member past the end would read and
    // write another allocation (a variable-size object may have no items at all).
    const Py_ssize_t object_size = basicsize != 0 ? basicsize : first_base->tp_basicsize;
    for (const PyMemberDef &m : defs->members) {
        Py_ssize_t size = member_size(m.type);
        if (size > 0 && m.offset < static_cast<Py_ssize_t>(sizeof(PyObject)))
            return spec_error(PyExc_SystemError, spec,
                              std::string("member '") + (m.name ? m.name : "?") + "' at offset " +
                                  std::to_string(m.offset) +
                                  " lies in the object header, outside the struct");
        if (size > 0 && m.offset + size > object_size)
            return spec_error(PyExc_SystemError, spec,
                              std::string("member '") + (m.name ? m.name : "?") + "' (" +
                                  std::to_string(size) + " bytes at offset " +
                                  std::to_string(m.offset - data_offset) + ") lies outside the struct");
    }
    // The HPy call protocol: HPy_tp_call (own or of an HPy base) puts the object's call function in a
    // hidden slot after the struct; a '__vectorcalloffset__' member names a slot of the user's own.
    if (extra.default_call == nullptr && !explicit_call_offset)
        if (const TypeExtra *base = type_extra(first_base))
            extra.default_call = base->default_call;
    if (extra.default_call != nullptr) {
        if (explicit_call_offset)
            return spec_error(PyExc_TypeError, spec,
                              "HPy_tp_call (of the base) and a '__vectorcalloffset__' member cannot be used "
                              "together");
        if (spec->itemsize != 0)
            return spec_error(
                PyExc_TypeError, spec,
                "HPy_tp_call (of the base) cannot be used with a variable-size type (itemsize != 0)");
        // The hidden slot sits at a constant offset, where the items of a larger object would be.
        if (first_base->tp_itemsize != 0)
            return spec_error(PyExc_TypeError, spec,
                              std::string("HPy_tp_call cannot be used with a base of variable size ('") +
                                  first_base->tp_name + "')");
        Py_ssize_t size = basicsize != 0 ? basicsize : first_base->tp_basicsize;
        Py_ssize_t call_offset =
            (size + alignof(vectorcallfunc) - 1) / alignof(vectorcallfunc) * alignof(vectorcallfunc);
        basicsize = call_offset + static_cast<Py_ssize_t>(sizeof(vectorcallfunc));
        defs->members.push_back({CALL_OFFSET_MEMBER, T_PYSSIZET, call_offset, READONLY, nullptr});
    }
    const bool call_protocol = extra.default_call != nullptr || explicit_call_offset;
    if (call_protocol)
        defs->slots.push_back({Py_tp_call, reinterpret_cast<void *>(hpy_call)});

    if (!defs->methods.empty()) {
        defs->methods.push_back({nullptr, nullptr, 0, nullptr});
        defs->slots.push_back({Py_tp_methods, defs->methods.data()});
    }
    if (!defs->members.empty()) {
        defs->members.push_back({nullptr, 0, 0, 0, nullptr});
        defs->slots.push_back({Py_tp_members, defs->members.data()});
    }
    if (!defs->getsets.empty()) {
        defs->getsets.push_back({nullptr, nullptr, nullptr, nullptr, nullptr});
        defs->slots.push_back({Py_tp_getset, defs->getsets.data()});
    }
    if (spec->doc != nullptr)
        defs->slots.push_back({Py_tp_doc, const_cast<char *>(spec->doc)});
    if (!has_dealloc)
        defs->slots.push_back({Py_tp_dealloc, reinterpret_cast<void *>(hpy_dealloc)});
    defs->slots.push_back({0, nullptr});

    PyType_Spec pyspec;
    pyspec.name = defs->name.c_str();
    pyspec.basicsize = static_cast<int>(basicsize);
    pyspec.itemsize = spec->itemsize;
    // HPy_TPFLAGS_HAVE_VECTORCALL in a spec says nothing by itself: the call protocol decides.
    pyspec.flags = (static_cast<unsigned int>(spec->flags) & ~Py_TPFLAGS_HAVE_VECTORCALL) |
                   (call_protocol ? Py_TPFLAGS_HAVE_VECTORCALL : 0);
    pyspec.slots = defs->slots.data();

    PyObject *type;
#if PY_VERSION_HEX >= 0x030C0000
    type = PyType_FromMetaclass(reinterpret_cast<PyTypeObject *>(metaclass), nullptr, &pyspec, bases);
#else
    type = metaclass != nullptr
               ? type_with_metaclass(spec, &pyspec, bases, reinterpret_cast<PyTypeObject *>(metaclass))
               : PyType_FromSpecWithBases(&pyspec, bases);
#endif
    if (type == nullptr)
        return nullptr;
    auto *tp = reinterpret_cast<PyTypeObject *>(type);
    // The struct after the items is found from the object's item count: the objects must be ints
    // (tuples), whichever base gave them their layout.
    if (after_items && spec->basicsize > 0 && !PyType_IsSubtype(tp, shape_base(spec->builtin_shape))) {
        Py_DECREF(type);
        return spec_error(PyExc_TypeError, spec,
                          std::string("a type of builtin shape ") + shape_name(spec->builtin_shape) +
                              " must derive from '" + shape_base(spec->builtin_shape)->tp_name + "'");
    }
    // A legacy type's C code knows its struct as one that starts with PyObject_HEAD; a pure base's
    // instances have their struct elsewhere. (Extensions match this message as it is.)
    if (legacy) {
        const TypeExtra *base = type_extra(tp->tp_base);
        if (base != nullptr && base->shape != HPyType_BuiltinShape_Legacy) {
            Py_DECREF(type);
            PyErr_SetString(PyExc_TypeError,
                            "A legacy type should not inherit its memory layout from a pure type");
            return nullptr;
        }
    }
    // An HPy base's destroy function and fields are this type's too, unless it has its own.
    if (const TypeExtra *base = type_extra(tp->tp_base)) {
        extra.destroy = extra.destroy ? extra.destroy : base->destroy;
        extra.traverse = extra.traverse ? extra.traverse : base->traverse;
        extra.finalize = extra.finalize ? extra.finalize : base->finalize;
    }
    extra.python_base = has_python_class_base(tp);
    // Only a base the type really has frees its part of the object (a Type-shaped spec over object
    // has no type part to free).
    extra.builtin = builtin_base(extra.shape);
    if (extra.builtin != nullptr && !PyType_IsSubtype(tp, extra.builtin))
        extra.builtin = nullptr;
    if (!has_dealloc && extra.destroy == nullptr && extra.traverse == nullptr && extra.finalize == nullptr &&
        extra.builtin == nullptr && !extra.python_base)
        tp->tp_dealloc = hpy_dealloc_plain;  // no instance exists yet: safe to choose now
    if (!attach_record(tp, extra)) {
        Py_DECREF(type);
        return nullptr;
    }
    keep_for_process(std::move(defs));
    return type;
}

PyObject *new_instance(PyObject *type_obj, void **data)
{
    if (!PyType_Check(type_obj)) {
        PyErr_SetString(PyExc_TypeError, "HPy_New: the first argument is not a type");
        return nullptr;
    }
    auto *type = reinterpret_cast<PyTypeObject *>(type_obj);
    const TypeExtra *extra = type_extra(type);
    if (extra == nullptr) {
        PyErr_Format(PyExc_TypeError, "HPy_New: type '%s' was not created by HPyType_FromSpec",
                     type->tp_name);
        return nullptr;
    }
    PyObject *obj = type->tp_alloc(type, 0);
    if (obj == nullptr)
        return nullptr;
    init_call_function(obj, *extra);
    if (data != nullptr)
        *data = struct_of(obj, extra->shape);
    return obj;
}

}  // namespace
}  // namespace hpy::cpython

using hpy::cpython::instance_data;

extern "C" {

HPy ctx_Type_FromSpec(HPyContext *ctx, HPyType_Spec *spec, HPyType_SpecParam *params)
{
    return _py2h(hpy::cpython::type_from_spec(ctx, spec, params));
}

HPy ctx_New(HPyContext *, HPy h_type, void **data)
{
    using hpy::cpython::last_type;
    PyTypeObject *type = reinterpret_cast<PyTypeObject *>(_h2py(h_type));
    if (hpy::cpython::last_type_is(type) && last_type.plain_alloc) {
        // The type allocated last time (the usual loop): what PyType_GenericAlloc does for a
        // fixed-size object outside the GC, without the general cases or the lookup.
        auto *obj = static_cast<PyObject *>(PyObject_Malloc(type->tp_basicsize));
        if (obj == nullptr)
            return _py2h(PyErr_NoMemory());
        std::memset(obj, 0, type->tp_basicsize);
        PyObject_Init(obj, type);
        if (data != nullptr)
            *data = reinterpret_cast<char *>(obj) + last_type.data_offset;
        return _py2h(obj);
    }
    return _py2h(hpy::cpython::new_instance(_h2py(h_type), data));
}

HPy ctx_Type_GenericNew(HPyContext *, HPy type, const HPy *, HPy_ssize_t, HPy)
{
    if (!PyType_Check(_h2py(type))) {
        PyErr_SetString(PyExc_TypeError, "HPyType_GenericNew: the first argument is not a type");
        return HPy_NULL;
    }
    auto *tp = reinterpret_cast<PyTypeObject *>(_h2py(type));
    PyObject *obj = tp->tp_alloc(tp, 0);
    if (obj != nullptr && hpy::cpython::has_call_protocol(tp))
        if (const hpy::cpython::TypeExtra *extra = hpy::cpython::type_extra(tp))
            hpy::cpython::init_call_function(obj, *extra);
    return _py2h(obj);
}

// The shapes a type can have here have constant offsets: no lookup on these hot paths.
// Object and Legacy are inline in the CPython ABI (cpython/inline.h), with this same offset.
static_assert(hpy::cpython::shape_offset(HPyType_BuiltinShape_Object) == _HPy_OBJECT_SHAPE_OFFSET);
void *ctx_AsStruct_Type(HPyContext *, HPy h)
{
    return hpy::cpython::as_struct<HPyType_BuiltinShape_Type>(h);
}
void *ctx_AsStruct_Float(HPyContext *, HPy h)
{
    return hpy::cpython::as_struct<HPyType_BuiltinShape_Float>(h);
}
void *ctx_AsStruct_List(HPyContext *, HPy h)
{
    return hpy::cpython::as_struct<HPyType_BuiltinShape_List>(h);
}
#ifndef PYPY_VERSION
// int, str and tuple objects: the struct follows the base object (int and tuple: its items, one
// offset per object). An object whose type reserved no room for one (basicsize 0 in its spec, or
// not a type of this shape at all) has none: a pointer there would be past the object's end.
void *ctx_AsStruct_Long(HPyContext *, HPy h)
{
    return hpy::cpython::checked_struct_of(_h2py(h), HPyType_BuiltinShape_Long);
}
void *ctx_AsStruct_Unicode(HPyContext *, HPy h)
{
    return hpy::cpython::checked_struct_of(_h2py(h), HPyType_BuiltinShape_Unicode);
}
void *ctx_AsStruct_Tuple(HPyContext *, HPy h)
{
    return hpy::cpython::checked_struct_of(_h2py(h), HPyType_BuiltinShape_Tuple);
}
#else
// PyPy's emulated int, str and tuple objects carry no C struct (HPyType_FromSpec requires basicsize 0).
void *ctx_AsStruct_Long(HPyContext *, HPy h)
{
    return hpy::cpython::no_struct(h, HPyType_BuiltinShape_Long);
}
void *ctx_AsStruct_Unicode(HPyContext *, HPy h)
{
    return hpy::cpython::no_struct(h, HPyType_BuiltinShape_Unicode);
}
void *ctx_AsStruct_Tuple(HPyContext *, HPy h)
{
    return hpy::cpython::no_struct(h, HPyType_BuiltinShape_Tuple);
}
#endif

HPyType_BuiltinShape ctx_Type_GetBuiltinShape(HPyContext *, HPy h_type)
{
    PyObject *t = _h2py(h_type);
    if (!PyType_Check(t)) {
        PyErr_SetString(PyExc_TypeError, "_HPyType_GetBuiltinShape: the argument is not a type");
        return static_cast<HPyType_BuiltinShape>(-2);
    }
    const hpy::cpython::TypeExtra *extra = hpy::cpython::type_extra(reinterpret_cast<PyTypeObject *>(t));
    return extra ? extra->shape : HPyType_BuiltinShape_Legacy;
}

int ctx_SetCallFunction(HPyContext *, HPy h, HPyCallFunction *func)
{
    PyObject *obj = _h2py(h);
    if (!hpy::cpython::has_call_protocol(Py_TYPE(obj))) {
        PyErr_Format(
            PyExc_TypeError,
            "HPy_SetCallFunction: type '%s' does not implement the HPy call protocol (it needs HPy_tp_call "
            "or a '__vectorcalloffset__' member)",
            Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (func == nullptr || func->cpy_trampoline == nullptr) {
        PyErr_SetString(PyExc_TypeError, "HPy_SetCallFunction: the call function is NULL");
        return -1;
    }
    *hpy::cpython::call_slot(obj) = func->cpy_trampoline;
    return 0;
}

// The TypeError of a CPython-ABI NOARGS method (METH_FASTCALL) called with arguments, naming the
// method as CPython would: found from its trampoline in the module's or the type's method table.
__attribute__((visibility("hidden"))) PyObject *_HPy_NoArgsError(PyObject *self, void (*trampoline)(void),
                                                                 Py_ssize_t nargs)
{
    auto matches = [trampoline](const PyMethodDef *m) {
        return reinterpret_cast<void (*)(void)>(m->ml_meth) == trampoline;
    };
    const char *name = nullptr;
    if (PyModule_Check(self)) {
        PyModuleDef *def = PyModule_GetDef(self);
        for (PyMethodDef *m = def ? def->m_methods : nullptr; m && m->ml_name && !name; ++m)
            if (matches(m))
                name = m->ml_name;
    } else {
        for (PyTypeObject *t = Py_TYPE(self); t && !name; t = t->tp_base)
            for (PyMethodDef *m = t->tp_methods; m && m->ml_name && !name; ++m)
                if (matches(m))
                    name = m->ml_name;
    }
    PyErr_Format(PyExc_TypeError, "%s() takes no arguments (%zd given)", name ? name : "function", nargs);
    return nullptr;
}

// The GC sees an HPy object's fields through its HPy traverse function, and, except for
// gc.get_referents (which lists the fields alone), the object's type (see referents_visit).
__attribute__((visibility("hidden"))) int _HPy_CallTraverseProc(HPyCFunction impl, PyObject *self,
                                                                visitproc visit, void *arg)
{
    struct Closure {
        visitproc visit;
        void *arg;
    } closure{visit, arg};
    if (visit != hpy::cpython::referents_visit.load(std::memory_order_relaxed))
        Py_VISIT(Py_TYPE(self));
    auto field_visitor = [](HPyField *field, void *c) -> int {
        auto *cl = static_cast<Closure *>(c);
        intptr_t word = field->_i;
        const hpy::cpython::TokenHooks *hooks = hpy::cpython::token_hooks();
        PyObject *o = !hpy::cpython::is_token(word) ? reinterpret_cast<PyObject *>(word)
                      : hooks != nullptr            ? hooks->field_object(field, word)
                                                    : nullptr;
        return o ? cl->visit(o, cl->arg) : 0;
    };
    return reinterpret_cast<HPyFunc_traverseproc>(impl)(instance_data(self), field_visitor, &closure);
}

}  // extern "C"
