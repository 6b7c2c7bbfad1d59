// debug/debug_context.h: the debug context: debug handles (debug/handles.h) over a wrapped universal
// context, per-call contexts, and the checks that need the interpreter.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "debug/ctx_gen.h"
#include "debug/handles.h"
#include "debug/report.h"
#include "runtime/cpython/dispatch.h"

// Where in the extension the running API function was called: its return address. Evaluated in the API
// function itself (the wrappers are called through the context, never inlined).
#define HPY_DEBUG_CALLER __builtin_return_address(0)

namespace hpy::debug {

// What each context copy knows about its validity: ctx->_private points here.
struct CallInfo {
    bool global = false;  // the context handed to HPyInitGlobalContext_: valid inside any call of its thread
    bool valid = false;   // a call's own context: valid until the call returns (never set for the global one)
    bool gil_released = false;  // HPy_LeavePythonExecution was called with it (until the Reenter)
    bool suspended = false;     // a nested call of the same thread is running (valid is false meanwhile)
    ThreadId thread = 0;
};

// An object made at start-up and never destroyed: the debug context's state lives as long as the
// process (modules may call into the context until the very end, and the objects of handles left open
// stay reachable from it). Unlike an object behind a pointer, its fields are at fixed addresses: the
// calls' fast paths reach them without loading a pointer first.
template <typename T>
union Immortal {
    Immortal() : value() {}
    ~Immortal() {}
    T value;
};

// The process's handle table and settings.
extern Immortal<HandleTable> g_handle_table;
inline constexpr HandleTable &g_handles = g_handle_table.value;
inline constexpr Settings &g_settings = g_handle_table.value.settings;

[[gnu::always_inline]] inline Found lookup(HPy h)
{
    return g_handles.lookup(h);
}

// Whether this thread may use the open handle `h`: it opened it, or `h` is a context constant.
[[gnu::always_inline]] inline bool usable_here(const Handle *h)
{
    return h->owner == this_thread() || h->const_name != nullptr;
}

// Opens a debug handle for a universal handle; `owns`: closing it closes `uh`. `function`, `caller`:
// the API function that opens it and its caller's address (HPY_DEBUG_CALLER).
[[gnu::always_inline]] inline Handle *open_handle(HPy uh, bool owns, bool is_arg = false,
                                                  const char *function = nullptr,
                                                  const void *caller = nullptr)
{
    return g_handles.open(uh, owns, is_arg, function, caller);
}
// Closes an open handle (and its universal handle if it owns it) and queues its slot. `at`: where in the
// extension (a return address, or with `at_entry` an implementation function's entry).
void close_handle(Handle *h, const char *function, bool close_universal = true, const void *at = nullptr,
                  bool at_entry = false);
HPy constant_handle(HPy uh, const char *name);

// The wrapped universal context.
extern HPyContext *g_uctx;
HPyContext *wrapped();
// The context handed to modules loaded in debug mode (created on first use over `uctx`).
HPyContext *context(HPyContext *uctx);

// Where in the extension a report's faulty call was made: by default the first frame of the calling
// thread's stack outside the host (helpers of the HPy API compiled into the extension, HPyArg_Parse...,
// are passed through to the function that called them); `returned_by`: the implementation function
// whose return is faulty.
struct Where {
    const void *returned_by = nullptr;
};

// Reports a misuse (`check` is its class, e.g. "use-after-close") in `function`, about the handle
// `h` (may be nullptr). What happens next depends on the configured reaction; the answer says where the
// report went (a hook: the program goes on). `hpy_line`: HPy 0.9's own text for this misuse when the
// check's class does not give it (report.h: hpy_text); HPy 0.9's reaction makes such reports fatal.
Sink report(const char *check, const char *function, const Handle *h, const std::string &detail,
            const char *hpy_line = nullptr, Where where = {});
// Like report(), and sets the Python exception now: the call cannot go on.
void report_error(const char *check, const char *function, const Handle *h, const std::string &detail,
                  const char *hpy_line = nullptr, Where where = {});
// The first report of this thread not raised yet, and the one of a thread with no call running
// (debug_context.cpp: set_pending).
extern thread_local PyObject *t_pending [[gnu::tls_model("initial-exec")]];
extern PyObject *g_orphan_pending;
bool raise_pending_now();
// Raises a pending HPyDebugError now (the return to Python); true if there was one. Inline: every
// call's return asks.
[[gnu::always_inline]] inline bool raise_pending()
{
    if (t_pending == nullptr && threads::load(&g_orphan_pending) == nullptr)
        return false;
    return raise_pending_now();
}

template <typename T>
T error_value()
{
    if constexpr (std::is_pointer_v<T>)
        return nullptr;
    else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>)
        return static_cast<T>(-1);
    else
        return T{};
}

// The slow paths of Api (debug_context.cpp). They are given what they need and hand back what they
// found, never the Api itself: an Api whose address is never taken stays in registers.
struct Entered {
    bool gil_taken;
    PyGILState_STATE gil_state;
};
// A context used outside its call's fast path: reported as it deserves (and the GIL taken if missing).
Entered api_enter_slow(CallInfo *info, bool check_gil, const char *function);
struct Unwrapped {
    HPy uh;  // what the call goes on with (HPy_NULL when it cannot)
    bool failed;
};
// An argument that is no open handle of this thread: reported.
Unwrapped api_bad_arg(Found f, const char *param, const char *function);
// The same for an argument whose open handle is needed (HPy_NULL included).
Unwrapped api_bad_handle(Found f, const char *param, const char *function);
// Reports `uh` unless it is a type (true: reported); a str for require_unicode.
bool api_not_a_type(HPy uh, const char *param, const char *function);
bool api_not_a_str(HPy uh, const char *hpy_line, const char *function);

// One call of a context function: checks the context and unwraps arguments (generated wrappers use it).
class Api {
public:
    enum GilCheck { CheckGil, NoGilCheck };
    // `caller`: HPY_DEBUG_CALLER in the API function (where handles it opens were opened).
    [[gnu::always_inline]] Api(HPyContext *ctx, const char *function, const void *caller,
                               GilCheck gil = CheckGil)
        : function_(function), caller_(caller)
    {
        // The fast path: a call's own context, on the call's thread (which held the GIL when the call
        // began), which has not released the GIL through it since. Anything else is checked in full.
        auto *info = static_cast<CallInfo *>(ctx->_private);
        if (__builtin_expect(
                !(info->valid && !(gil == CheckGil && info->gil_released) && info->thread == this_thread()),
                0))
            entered_ = api_enter_slow(info, gil == CheckGil, function);
        u = g_uctx;
    }
    [[gnu::always_inline]] ~Api()
    {
        if (__builtin_expect(entered_.gil_taken, 0))
            PyGILState_Release(entered_.gil_state);
    }
    Api(const Api &) = delete;
    Api &operator=(const Api &) = delete;

    // The wrapped handle of `h`, or a report (and failed()) when `h` is not an open handle.
    [[gnu::always_inline]] HPy arg(HPy h, const char *param)
    {
        if (h._i == 0)
            return h;
        Found f = lookup(h);
        if (__builtin_expect(f.what == Lookup::Open && usable_here(f.h), 1))
            return f.h->uh;
        Unwrapped r = api_bad_arg(f, param, function_);
        failed_ |= r.failed;
        return r.uh;
    }
    // The open handle, or nullptr after a report.
    [[gnu::always_inline]] Handle *handle(HPy h, const char *param)
    {
        Found f = lookup(h);
        if (__builtin_expect(f.what == Lookup::Open && usable_here(f.h), 1))
            return f.h;
        Unwrapped r = api_bad_handle(f, param, function_);
        failed_ |= r.failed;
        return r.uh._i != 0 ? f.h : nullptr;  // after a hook, a closed handle whose object lives goes on
    }
    void require_type(HPy uh, const char *param)
    {
        if (!failed_ && uh._i != 0 && !PyType_Check(_h2py(uh)))
            failed_ = api_not_a_type(uh, param, function_);
    }
    // Reports `uh` unless it is a str (HPy 0.9's check of HPyUnicode_Substring).
    void require_unicode(HPy uh, const char *hpy_line)
    {
        if (!failed_ && uh._i != 0 && !PyUnicode_Check(_h2py(uh)))
            failed_ = api_not_a_str(uh, hpy_line, function_);
    }
    bool failed() const { return failed_; }
    void fail() { failed_ = true; }
    [[gnu::always_inline]] HPy wrap(HPy uh)
    {
        return uh._i == 0 ? uh : encode(open_handle(uh, true, false, function_, caller_));
    }
    const char *function() const { return function_; }
    const void *caller() const { return caller_; }

    HPyContext *u = nullptr;

private:
    const char *function_;
    const void *caller_;
    bool failed_ = false;
    Entered entered_{false, PyGILState_STATE{}};
};

// A context for calls, recycled through a pool (debug_context.cpp): a copy of the global context and
// its validity.
struct CallContext {
    HPyContext ctx;
    CallInfo info;
    CallContext *next = nullptr;
};

// The free contexts for calls, first in first out: a context kept beyond its call is reissued only
// after every other free one. Shared by the threads (under `lock`, nothing with a GIL).
struct CallPool {
    threads::Lock lock;
    CallContext *head = nullptr, *tail = nullptr;
    std::vector<std::unique_ptr<CallContext>> all;
    [[gnu::always_inline]] void push(CallContext *cc)
    {
        threads::Guard guard(lock);
        cc->next = nullptr;
        (tail ? tail->next : head) = cc;
        tail = cc;
    }
    [[gnu::always_inline]] CallContext *pop()
    {
        threads::Guard guard(lock);
        if (__builtin_expect(head == nullptr, 0))
            grow();
        CallContext *cc = head;
        head = cc->next;
        if (head == nullptr)
            tail = nullptr;
        return cc;
    }
    void grow();                        // 16 more contexts (copies of the global one), under `lock`
    bool in_call(ThreadId self) const;  // whether this thread is inside a call of a debug-mode module
};
extern Immortal<CallPool> g_call_pool;
inline constexpr CallPool &g_calls = g_call_pool.value;

// The innermost call of this thread: while a nested call runs, the outer call's context is not valid
// (it is valid again when the nested call returns).
extern thread_local CallContext *t_innermost [[gnu::tls_model("initial-exec")]];

// What every trampoline call does, as inline steps (the fast paths of debug_context.cpp and Call):
// take a context from the pool and make it the thread's innermost call's (enter_call), open a borrowed
// handle per argument (open_arg), take over the returned handle (take_result), close the arguments
// (close_arg) into the queue of closed handles, as every handle, and give the context back (leave_call).
struct Frame {
    CallContext *cc;
    CallContext *outer;
};

[[gnu::always_inline]] inline Frame enter_call()
{
    Frame f{g_calls.pop(), t_innermost};
    f.cc->info.valid = true;
    f.cc->info.gil_released = false;
    f.cc->info.suspended = false;
    f.cc->info.thread = this_thread();
    if (__builtin_expect(f.outer != nullptr, 0)) {
        f.outer->info.valid = false;
        f.outer->info.suspended = true;
    }
    t_innermost = f.cc;
    return f;
}

[[gnu::always_inline]] inline void leave_call(Frame f)
{
    f.cc->info.valid = false;
    if (__builtin_expect(f.outer != nullptr, 0)) {
        f.outer->info.valid = true;
        f.outer->info.suspended = false;
    }
    t_innermost = f.outer;
    g_calls.push(f.cc);
}

// A borrowed handle for the argument `o` (not NULL).
[[gnu::always_inline]] inline Handle *open_arg(PyObject *o)
{
    return g_handles.open(_py2h(o), false, true);
}

// An argument that is no longer an open argument of its call (closed by _force_close) or has raw data.
void close_arg_slow(Handle *h, const void *impl);
// Closes the argument `h` at the end of the call to `impl`.
[[gnu::always_inline]] inline void close_arg(Handle *h, const void *impl)
{
    if (__builtin_expect(h->state == HandleState::Open && h->is_arg && h->raw.base == nullptr, 1))
        g_handles.close(h, "the end of the call", nullptr, false, false, false, impl,
                        true);  // close_handle's work here
    else
        close_arg_slow(h, impl);
}

// A returned handle (`value`) that is no owned open handle without raw data: reported, or closed with them.
PyObject *take_result_slow(Found f, HPy value, const void *impl);
// The object of the handle `impl` returned: the handle is closed, its reference goes to the caller.
[[gnu::always_inline]] inline PyObject *take_result(HPy h, const void *impl)
{
    Found f = lookup(h);
    Handle *d = f.h;
    // An owned handle is neither an argument nor a context constant (those never own theirs).
    if (__builtin_expect(f.what == Lookup::Open && d->owns && d->raw.base == nullptr, 1)) {
        PyObject *o = _h2py(d->uh);  // what close_handle(d, "return", false) does for it
        PyTypeObject *tp = Py_TYPE(o);
        g_handles.close(d, "return", tp->tp_name, !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE), false, false, impl,
                        true);
        return o;
    }
    return take_result_slow(f, h, impl);
}

// The debug context's dispatch policy (runtime/cpython/dispatch.h) for the signatures without a fast
// path of their own (debug_context.cpp): one trampoline call. It gives the implementation a context
// valid for this call only, opens a borrowed debug handle per argument, takes over the returned handle,
// closes the arguments at the end and raises what was reported.
class Call {
public:
    static constexpr size_t kArgSlots = 6;  // most calls have few arguments: no allocation

    Call() : frame_(enter_call()) {}
    ~Call()
    {
        if (!finished_)
            finish();
    }
    Call(const Call &) = delete;
    Call &operator=(const Call &) = delete;

    HPyContext *ctx() const { return &frame_.cc->ctx; }
    // The implementation function called (where its arguments and returned handle are closed).
    void set_function(const void *impl) { impl_ = impl; }
    [[gnu::always_inline]] HPy arg(PyObject *o)
    {
        if (__builtin_expect(o != nullptr && nargs_ < kArgSlots, 1)) {
            Handle *h = open_arg(o);
            args_[nargs_++] = h;
            return encode(h);
        }
        return more_arg(o);
    }
    const HPy *args(PyObject *const *a, size_t n);
    PyObject *owned(HPy h) { return take_result(h, impl_); }
    PyObject *ret(HPy h)
    {
        PyObject *r = owned(h);
        finish();
        if (raise_pending()) {
            Py_XDECREF(r);
            return nullptr;
        }
        return r;
    }
    template <typename T>
    T ret(T v)
    {
        finish();
        return raise_pending() ? error_value<T>() : v;
    }
    void ret_void();

private:
    HPy more_arg(PyObject *o);
    // Closes the arguments and gives the context back.
    void finish()
    {
        finished_ = true;
        for (size_t i = 0; i < nargs_; ++i)
            close_arg(args_[i], impl_);
        if (extra_)
            for (Handle *h : extra_->more_args)
                close_arg(h, impl_);
        leave_call(frame_);
    }
    struct Extra {  // calls with more arguments than args_
        std::vector<Handle *> more_args;
        std::vector<HPy> array;
    };
    Frame frame_;
    const void *impl_ = nullptr;
    size_t nargs_ = 0;  // args_ used
    bool finished_ = false;
    std::unique_ptr<Extra> extra_;
    Handle *args_[kArgSlots];
    HPy inline_array_[kArgSlots];
};

Settings &settings();
uint64_t new_generation();
uint64_t current_generation();
std::vector<Handle *> open_handles(bool this_thread_only = false);  // oldest first
std::vector<Handle *> closed_handles();                             // oldest first
void trim_closed_queue();
std::string describe_object(const Handle *h);
// Where `h` was opened, one frame a line, after `header` ("" when no stack was recorded).
std::string describe_stack(const Handle *h, const char *header = "opened at:\n");
std::string describe_frames(const std::vector<void *> *frames, const char *header);
// "FUNCTION at FILE:LINE" for an address in the extension: a return address (the call before it), or
// with `entry` a function's first instruction; "" for nullptr. Without line information: the function.
std::string code_location(const void *pc, bool entry = false);
// "opened by HPyLong_FromLong in f_impl at mod.c:5" ("" when unknown).
std::string describe_opened(const Handle *h);

// A list or tuple builder never built nor cancelled (a leak: what it holds is never released).
struct OpenBuilder {
    uint64_t id;             // serial number
    const char *created_by;  // HPyListBuilder_New or HPyTupleBuilder_New
    HPy_ssize_t size;
    uint64_t generation;
    std::string created;  // "HPyTupleBuilder_New in f_impl at mod.c:5"
    std::string stack;    // where it was created, one frame a line ("" unless stack traces are on)
};
// The builders made in `generation` or later and still open, oldest first (`this_thread`: only the
// calling thread's).
std::vector<OpenBuilder> open_builders(uint64_t generation, bool this_thread);

// The raw data (read-only copy) for an open handle: see RawData.
const char *protect_raw_data(Handle *h, const char *data, size_t size, const char *function);

// hpy.universal._debug; nullptr with an exception set on failure.
PyObject *make_python_module();

}  // namespace hpy::debug
