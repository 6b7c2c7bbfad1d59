// debug/module.cpp: hpy.universal._debug, the debug context's Python API (hpy.debug builds on it).
#include <cstdint>
#include "debug/debug_context.h"
#include "debug/movinggc.h"

#include <structmember.h>

#include <cstdio>

namespace hpy::debug {
namespace detail {
PyObject *&error_type();
PyObject *&on_report();
PyObject *&on_invalid_handle();
PyObject *&on_invalid_builder();
PyObject *&recent_reports();
uint64_t report_count();
}  // namespace detail

namespace {

// A view of one debug handle's slot (slots are never freed): what it shows follows the slot, so a
// view of a closed handle shows the handle that reuses its slot later. Views of the same slot compare
// equal; `id` is the slot's address, as HPy 0.9's is its handle's.
struct DebugHandleObject {
    PyObject_HEAD Handle *slot;
};

PyTypeObject *g_handle_type = nullptr;

Handle *slot_of(PyObject *self)
{
    return reinterpret_cast<DebugHandleObject *>(self)->slot;
}

unsigned long long id_of(const Handle *h)
{
    return static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(h));
}

void handle_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

PyObject *handle_repr(PyObject *self)
{
    const Handle *h = slot_of(self);
    // HPy 0.9's lines first (the handle, then where it was opened or how to record it), then unihpy's.
    // Where it was opened is known without stack traces (the API function and its caller's line).
    std::string frames = describe_stack(h, "");
    std::string trace = frames.empty() ? "To get the stack trace of where it was allocated use:\n"
                                         "hpy.debug.set_handle_stack_trace_limit(16)"
                                       : "Allocation stacktrace:\n" + frames;
    std::string opened = describe_opened(h);
    if (!opened.empty())
        trace = opened + "\n" + trace;
    char id[32];
    snprintf(id, sizeof id, "0x%llx", id_of(h));
    if (h->state != HandleState::Open) {
        std::string closed = "\n" + describe_closed(h->closed_type, h->closed_by,
                                                    code_location(h->closed_at, h->closed_at_entry));
        closed[1] = 'A';  // "An object" / "A 'str' object"
        return PyUnicode_FromFormat("<DebugHandle %s CLOSED>\n%s%s", id, trace.c_str(), closed.c_str());
    }
    return PyUnicode_FromFormat("<DebugHandle %s for %R>\n%s", id, _h2py(h->uh), trace.c_str());
}

PyObject *handle_richcompare(PyObject *self, PyObject *other, int op)
{
    if (!PyObject_TypeCheck(other, g_handle_type) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    bool same = slot_of(self) == slot_of(other);
    return PyBool_FromLong(op == Py_EQ ? same : !same);
}

Py_hash_t handle_hash(PyObject *self)
{
    // Views of one slot are equal, so they hash alike: the slot's address (without its alignment
    // bits, as CPython hashes pointers; -1 means an error to CPython).
    const auto h = static_cast<Py_hash_t>(reinterpret_cast<std::uintptr_t>(slot_of(self)) >> 4);
    return h == -1 ? -2 : h;
}

PyObject *get_obj(PyObject *self, void *)
{
    const Handle *h = slot_of(self);
    return Py_NewRef(h->state == HandleState::Open ? _h2py(h->uh) : Py_None);
}
PyObject *get_id(PyObject *self, void *)
{
    return PyLong_FromUnsignedLongLong(id_of(slot_of(self)));
}
PyObject *get_generation(PyObject *self, void *)
{
    return PyLong_FromUnsignedLongLong(slot_of(self)->generation);
}
PyObject *get_is_closed(PyObject *self, void *)
{
    return PyBool_FromLong(slot_of(self)->state != HandleState::Open);
}
PyObject *get_raw_data_size(PyObject *self, void *)
{
    const Handle *h = slot_of(self);
    return PyLong_FromSsize_t(h->raw.base ? static_cast<Py_ssize_t>(h->raw.size) : -1);
}
PyObject *get_stack(PyObject *self, void *)
{
    return PyUnicode_FromString(describe_stack(slot_of(self)).c_str());
}

PyObject *handle_force_close(PyObject *self, PyObject *)
{
    Handle *h = slot_of(self);
    if (h->state == HandleState::Open && h->const_name == nullptr)
        close_handle(h, "_force_close", !h->is_arg);
    Py_RETURN_NONE;
}

PyGetSetDef handle_getset[] = {
    {"obj", get_obj, nullptr, "the object (None once closed)", nullptr},
    {"id", get_id, nullptr, "the handle's identity (its slot's address): equal for views of the same handle",
     nullptr},
    {"generation", get_generation, nullptr, "the generation it opened in", nullptr},
    {"is_closed", get_is_closed, nullptr, "closed (in the queue of closed handles)", nullptr},
    {"raw_data_size", get_raw_data_size, nullptr,
     "bytes of protected raw data (UTF-8, bytes...) handed out for it, -1 if none", nullptr},
    {"stack", get_stack, nullptr, "where it was opened (symbolized C stack), '' unless stack traces are on",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyMethodDef handle_methods[] = {
    {"_force_close", handle_force_close, METH_NOARGS, "Closes the handle now (for tests)."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot handle_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void *>(handle_dealloc)},
    {Py_tp_repr, reinterpret_cast<void *>(handle_repr)},
    {Py_tp_richcompare, reinterpret_cast<void *>(handle_richcompare)},
    {Py_tp_hash, reinterpret_cast<void *>(handle_hash)},
    {Py_tp_getset, handle_getset},
    {Py_tp_methods, handle_methods},
    {Py_tp_doc, const_cast<char *>("A view of a debug handle.")},
    {0, nullptr},
};

PyType_Spec handle_spec = {"hpy.universal._debug.DebugHandle", sizeof(DebugHandleObject), 0,
                           Py_TPFLAGS_DEFAULT, handle_slots};

PyObject *snapshot(Handle *h)
{
    auto *o = PyObject_New(DebugHandleObject, g_handle_type);
    if (o == nullptr)
        return nullptr;
    Py_INCREF(g_handle_type);  // heap type instances own a reference to it
    o->slot = h;
    return reinterpret_cast<PyObject *>(o);
}

PyObject *list_handles(const std::vector<Handle *> &list, unsigned long long gen)
{
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out != nullptr && i < list.size(); ++i) {
        Handle *h = list[i];
        if (h->generation < gen)
            continue;
        PyObject *s = snapshot(h);
        if (s == nullptr || PyList_Append(out, s) < 0)
            Py_CLEAR(out);
        Py_XDECREF(s);
    }
    return out;
}

PyObject *py_new_generation(PyObject *, PyObject *)
{
    return PyLong_FromUnsignedLongLong(new_generation());
}
PyObject *py_get_open_handles(PyObject *, PyObject *args)
{
    unsigned long long gen = 0;
    int this_thread_only = 0;
    if (!PyArg_ParseTuple(args, "|Kp:get_open_handles", &gen, &this_thread_only))
        return nullptr;
    return list_handles(open_handles(this_thread_only != 0), gen);
}
PyObject *py_get_closed_handles(PyObject *, PyObject *args)
{
    unsigned long long gen = 0;
    if (!PyArg_ParseTuple(args, "|K:get_closed_handles", &gen))
        return nullptr;
    return list_handles(closed_handles(), gen);
}

// A builder never built nor cancelled, as get_open_builders lists it.
PyStructSequence_Field builder_fields[] = {
    {"id", "serial number of the builder"},
    {"created_by", "HPyListBuilder_New or HPyTupleBuilder_New"},
    {"size", "the size it was created with"},
    {"generation", "the generation it was created in"},
    {"created", "the API function and where the extension called it: 'HPyTupleBuilder_New in f at m.c:5'"},
    {"stack", "where it was created (symbolized C stack), '' unless stack traces are on"},
    {nullptr, nullptr},
};
PyStructSequence_Desc builder_desc = {"hpy.universal._debug.OpenBuilder",
                                      "A list or tuple builder never built nor cancelled.", builder_fields,
                                      6};
PyTypeObject *g_builder_type = nullptr;

PyObject *py_get_open_builders(PyObject *, PyObject *args)
{
    unsigned long long gen = 0;
    int this_thread = 0;
    if (!PyArg_ParseTuple(args, "|Kp:get_open_builders", &gen, &this_thread))
        return nullptr;
    std::vector<OpenBuilder> builders = open_builders(gen, this_thread != 0);
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out != nullptr && i < builders.size(); ++i) {
        const OpenBuilder &b = builders[i];
        PyObject *item = PyStructSequence_New(g_builder_type);
        if (item == nullptr) {
            Py_CLEAR(out);
            break;
        }
        PyStructSequence_SetItem(item, 0, PyLong_FromUnsignedLongLong(b.id));
        PyStructSequence_SetItem(item, 1, PyUnicode_FromString(b.created_by));
        PyStructSequence_SetItem(item, 2, PyLong_FromSsize_t(b.size));
        PyStructSequence_SetItem(item, 3, PyLong_FromUnsignedLongLong(b.generation));
        PyStructSequence_SetItem(item, 4, PyUnicode_FromString(b.created.c_str()));
        PyStructSequence_SetItem(item, 5, PyUnicode_FromString(b.stack.c_str()));
        if (PyErr_Occurred() || PyList_Append(out, item) < 0)
            Py_CLEAR(out);
        Py_DECREF(item);
    }
    return out;
}

PyObject *py_get_queue_max(PyObject *, PyObject *)
{
    return PyLong_FromSize_t(settings().closed_queue_max);
}
PyObject *py_set_queue_max(PyObject *, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return nullptr;
    if (n < 0)
        return PyErr_Format(PyExc_ValueError, "the size of the queue of closed handles must be >= 0, got %zd",
                            n);
    // The queue shrinks to the new limit as handles open (each takes the oldest queued slot), not now.
    settings().closed_queue_max = static_cast<size_t>(n);
    Py_RETURN_NONE;
}

PyObject *py_get_raw_max(PyObject *, PyObject *)
{
    return PyLong_FromSize_t(settings().protected_raw_data_max);
}
PyObject *py_set_raw_max(PyObject *, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return nullptr;
    if (n < 0)
        return PyErr_Format(PyExc_ValueError, "the protected raw data size must be >= 0, got %zd", n);
    // Applies to the raw data of handles closed from now on.
    settings().protected_raw_data_max = static_cast<size_t>(n);
    Py_RETURN_NONE;
}

PyObject *set_callable(PyObject *&slot, PyObject *arg, const char *what)
{
    if (arg != Py_None && !PyCallable_Check(arg))
        return PyErr_Format(PyExc_TypeError, "%s: expected a callable or None, got %R", what, arg);
    Py_XSETREF(slot, arg == Py_None ? nullptr : Py_NewRef(arg));
    Py_RETURN_NONE;
}

PyObject *py_set_on_invalid_handle(PyObject *, PyObject *arg)
{
    return set_callable(detail::on_invalid_handle(), arg, "set_on_invalid_handle");
}
PyObject *py_set_on_invalid_builder_handle(PyObject *, PyObject *arg)
{
    return set_callable(detail::on_invalid_builder(), arg, "set_on_invalid_builder_handle");
}

PyObject *py_set_handle_stack_trace_limit(PyObject *, PyObject *arg)
{
    long n = arg == Py_None ? 0 : PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred())
        return nullptr;
    if (n < 0 || n > 256)
        return PyErr_Format(PyExc_ValueError, "the stack trace limit must be in 0..256 (or None), got %ld",
                            n);
    settings().stack_limit = static_cast<int>(n);
    Py_RETURN_NONE;
}

PyObject *py_set_reaction(PyObject *, PyObject *args)
{
    const char *how;
    PyObject *hook = Py_None;
    if (!PyArg_ParseTuple(args, "s|O:set_reaction", &how, &hook))
        return nullptr;
    std::string h = how;
    if (h == "hpy")
        settings().reaction = Settings::Reaction::Hpy;
    else if (h == "raise")
        settings().reaction = Settings::Reaction::Raise;
    else if (h == "abort")
        settings().reaction = Settings::Reaction::Abort;
    else if (h == "hook" && hook != Py_None && PyCallable_Check(hook))
        settings().reaction = Settings::Reaction::Hook;
    else
        return PyErr_Format(
            PyExc_ValueError,
            "set_reaction: use 'hpy', 'raise', 'abort' or 'hook' with a callable, got %R and %R",
            PyTuple_GET_ITEM(args, 0), hook);
    return set_callable(detail::on_report(), hook, "set_reaction");
}

PyObject *py_get_reaction(PyObject *, PyObject *)
{
    switch (settings().reaction) {
    case Settings::Reaction::Hpy:
        return PyUnicode_FromString("hpy");
    case Settings::Reaction::Raise:
        return PyUnicode_FromString("raise");
    case Settings::Reaction::Abort:
        return PyUnicode_FromString("abort");
    case Settings::Reaction::Hook:
        break;
    }
    return PyUnicode_FromString("hook");
}

PyObject *py_get_report_count(PyObject *, PyObject *)
{
    return PyLong_FromUnsignedLongLong(detail::report_count());
}

PyObject *py_pop_reports(PyObject *, PyObject *)
{
    PyObject *&recent = detail::recent_reports();
    PyObject *out = recent;
    recent = PyList_New(0);
    return out;
}

PyMethodDef methods[] = {
    {"new_generation", py_new_generation, METH_NOARGS,
     "new_generation()\n--\n\nStarts a generation; returns its number (handles opened from now on belong to "
     "it)."},
    {"get_open_handles", py_get_open_handles, METH_VARARGS,
     "get_open_handles(generation=0, this_thread=False)\n--\n\nThe open handles opened in `generation` or "
     "later (by the calling thread only, with this_thread)."},
    {"get_closed_handles", py_get_closed_handles, METH_VARARGS,
     "get_closed_handles(generation=0)\n--\n\nThe closed handles still in the queue."},
    {"get_open_builders", py_get_open_builders, METH_VARARGS,
     "get_open_builders(generation=0, this_thread=False)\n--\n\nThe list and tuple builders created in "
     "`generation` or later and never built nor cancelled (by the calling thread only, with this_thread)."},
    {"get_closed_handles_queue_max_size", py_get_queue_max, METH_NOARGS, nullptr},
    {"set_closed_handles_queue_max_size", py_set_queue_max, METH_O, nullptr},
    {"get_protected_raw_data_max_size", py_get_raw_max, METH_NOARGS, nullptr},
    {"set_protected_raw_data_max_size", py_set_raw_max, METH_O, nullptr},
    {"set_on_invalid_handle", py_set_on_invalid_handle, METH_O,
     "set_on_invalid_handle(callback)\n--\n\nCalls callback() instead of raising on a closed or invalid "
     "handle."},
    {"set_on_invalid_builder_handle", py_set_on_invalid_builder_handle, METH_O,
     "set_on_invalid_builder_handle(callback)\n--\n\nCalls callback() instead of raising on builder misuse."},
    {"set_handle_stack_trace_limit", py_set_handle_stack_trace_limit, METH_O,
     "set_handle_stack_trace_limit(n)\n--\n\nRecord n C frames where each handle is opened (0 or None: "
     "off)."},
    {"set_reaction", py_set_reaction, METH_VARARGS,
     "set_reaction(how, hook=None)\n--\n\n'hpy' (default): HPy 0.9's reaction: the misuses HPy 0.9 finds "
     "call "
     "set_on_invalid_handle's or set_on_invalid_builder_handle's hook, or are fatal errors; the others "
     "raise. "
     "'raise': HPyDebugError at the next return to Python; 'hook': hook(error) for each report; 'abort': "
     "print "
     "the report and abort."},
    {"get_reaction", py_get_reaction, METH_NOARGS, nullptr},
    {"get_report_count", py_get_report_count, METH_NOARGS, "get_report_count()\n--\n\nReports made so far."},
    {"pop_reports", py_pop_reports, METH_NOARGS,
     "pop_reports()\n--\n\nThe last reports (HPyDebugError instances, at most 64) since the previous call."},
    {"set_movinggc", movinggc::py_set_movinggc, METH_O,
     "set_movinggc(on)\n--\n\nTurns the moving-GC checker on or off; returns whether it was on (see "
     "hpy.debug.set_movinggc)."},
    {"get_movinggc", movinggc::py_get_movinggc, METH_NOARGS,
     "get_movinggc()\n--\n\nWhether the checker is on."},
    {"movinggc_collect", movinggc::py_movinggc_collect, METH_NOARGS,
     "movinggc_collect()\n--\n\nOne simulated collection now; returns the number of fields their owner's "
     "traverse did not visit."},
    {"get_movinggc_stats", movinggc::py_get_movinggc_stats, METH_NOARGS,
     "get_movinggc_stats()\n--\n\nThe checker's fields and globals, collections, re-issued tokens and "
     "fields found not traversed."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                          "hpy.universal._debug",
                          "The debug context's low-level API (see hpy.debug).",
                          -1,
                          methods,
                          nullptr,
                          nullptr,
                          nullptr,
                          nullptr};

}  // namespace

PyObject *make_python_module()
{
    PyObject *m = PyModule_Create(&module_def);
    if (m == nullptr)
        return nullptr;
    if (g_handle_type == nullptr)
        g_handle_type = reinterpret_cast<PyTypeObject *>(PyType_FromSpec(&handle_spec));
    if (g_builder_type == nullptr)
        g_builder_type = PyStructSequence_NewType(&builder_desc);
    PyObject *&error = detail::error_type();
    if (error == nullptr)
        error =
            PyErr_NewExceptionWithDoc("hpy.debug.HPyDebugError",
                                      "A misuse of the HPy API found by the debug context. Attributes: check "
                                      "(its class), function, obj_type, obj_repr, handle_id, stack.",
                                      nullptr, nullptr);
    if (detail::recent_reports() == nullptr)
        detail::recent_reports() = PyList_New(0);
    if (g_handle_type == nullptr || g_builder_type == nullptr || error == nullptr ||
        detail::recent_reports() == nullptr ||
        PyModule_AddObjectRef(m, "DebugHandle", reinterpret_cast<PyObject *>(g_handle_type)) < 0 ||
        PyModule_AddObjectRef(m, "OpenBuilder", reinterpret_cast<PyObject *>(g_builder_type)) < 0 ||
        PyModule_AddObjectRef(m, "HPyDebugError", error) < 0) {
        Py_DECREF(m);
        return nullptr;
    }
    return m;
}

}  // namespace hpy::debug
