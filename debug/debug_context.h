// debug/debug_context.h: the debug context: debug handles over a wrapped universal context, and their checks.
//
// A debug handle's `_i` is odd (((slot index << 20) | reuse count) << 1 | 1), so it is never a
// universal handle (an aligned PyObject*), and a value that was never issued, or whose slot has been
// reissued since, is recognised without dereferencing anything. Each slot records the universal handle,
// a serial id, the generation it was opened in and whether it is open or closed. Open handles form a
// list (LeakDetector walks it); closed ones wait in a bounded queue before their slot is reused, so a
// use after close is reported with the handle's object type.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "debug/ctx_gen.h"
#include "runtime/cpython/dispatch.h"

namespace hpy::debug {

enum class HandleState : uint8_t { Free, Open, Closed };

// A read-only copy of raw data handed out for a handle (UTF-8, bytes, type name), in its own pages.
struct RawData {
    char *base = nullptr;
    size_t mapped = 0;  // bytes mapped (whole pages)
    size_t size = 0;    // bytes of data
    const char *function = nullptr;
    int32_t region = -1;  // its entry in the fault handler's table, or -1
    bool inaccessible = false;  // made inaccessible at close: counted in the protected total
};

struct Handle {
    HPy uh{0};        // the wrapped context's handle
    uint64_t id = 0;  // serial number, never reused
    uint64_t generation = 0;
    uint32_t index = 0;
    uint32_t reuse = 0;  // how often this slot has been issued
    HandleState state = HandleState::Free;
    bool owns = false;                 // closing it closes `uh`
    bool is_arg = false;               // an argument of a running call: not the callee's to close or return
    const char *const_name = nullptr;  // a context constant (h_None...): never closed
    Handle *prev = nullptr, *next = nullptr;
    RawData raw;
    std::unique_ptr<std::vector<void *>> stack;  // where it was opened (when enabled)
    char closed_type[48] = {0};                  // the object's type name, kept at close
    const char *closed_by = nullptr;
};

// An intrusive list of handles (the open ones, or the queue of closed ones).
struct HandleList {
    Handle *head = nullptr, *tail = nullptr;
    size_t size = 0;
    void push_back(Handle *h);
    void remove(Handle *h);
    Handle *pop_front();
};

// What each context copy knows about its validity: ctx->_private points here.
struct CallInfo {
    bool global = false;  // the context handed to HPyInitGlobalContext_: valid inside any call of its thread
    bool valid = false;   // a call's own context: valid until the call returns (never set for the global one)
    pthread_t thread{};
};

// Returns `value` as an opened debug handle.
inline HPy encode(const Handle *h)
{
    return HPy{
        static_cast<intptr_t>((static_cast<uint64_t>(h->index) << 21) | ((h->reuse & 0xFFFFFu) << 1) | 1u)};
}

// What a handle value turned out to be.
enum class Lookup { Null, Invalid, Stale, Closed, Open };

struct Found {
    Lookup what;
    Handle *h;  // the slot (Stale, Closed, Open) or nullptr
};

Found lookup(HPy h);

// Opens a debug handle for a universal handle; `owns`: closing it closes `uh`.
Handle *open_handle(HPy uh, bool owns, bool is_arg = false);
// Closes an open handle (and its universal handle if it owns it) and queues its slot.
void close_handle(Handle *h, const char *function, bool close_universal = true);
HPy constant_handle(HPy uh, const char *name);

// The wrapped universal context.
HPyContext *wrapped();
// The context handed to modules loaded in debug mode (created on first use over `uctx`).
HPyContext *context(HPyContext *uctx);

// Reports a misuse (`check` is its class, e.g. "use-after-close") in `function`, about the handle
// `h` (may be nullptr). What happens next depends on the configured reaction.
void report(const char *check, const char *function, const Handle *h, const std::string &detail);
// Like report(), and sets the Python exception now: the call cannot go on.
void report_error(const char *check, const char *function, const Handle *h, const std::string &detail);
// Raises a pending HPyDebugError now (the return to Python); true if there was one.
bool raise_pending();

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

// One call of a context function: checks the context and unwraps arguments (generated wrappers use it).
class Api {
public:
    enum GilCheck { CheckGil, NoGilCheck };
    Api(HPyContext *ctx, const char *function, GilCheck gil = CheckGil) : function_(function)
    {
        auto *info = static_cast<CallInfo *>(ctx->_private);
        if (!(info->valid && pthread_equal(info->thread, pthread_self())) ||
            (gil == CheckGil && !PyGILState_Check()))
            enter_slow(ctx, info, gil);
        u = wrapped();
    }
    ~Api()
    {
        if (gil_taken_)
            PyGILState_Release(gil_state_);
    }
    Api(const Api &) = delete;
    Api &operator=(const Api &) = delete;

    // The wrapped handle of `h`, or a report (and failed()) when `h` is not an open handle.
    HPy arg(HPy h, const char *param)
    {
        if (h._i == 0)
            return h;
        Found f = lookup(h);
        if (f.what == Lookup::Open)
            return f.h->uh;
        bad_arg(f, param);
        return HPy{0};
    }
    Handle *handle(HPy h, const char *param);  // the open handle, or nullptr after a report
    void require_type(HPy uh, const char *param);
    bool failed() const { return failed_; }
    void fail() { failed_ = true; }
    HPy wrap(HPy uh) { return uh._i == 0 ? uh : encode(open_handle(uh, true)); }
    const char *function() const { return function_; }

    HPyContext *u = nullptr;

private:
    void enter_slow(HPyContext *ctx, CallInfo *info, GilCheck gil);
    void bad_arg(Found f, const char *param);
    const char *function_;
    bool failed_ = false;
    bool gil_taken_ = false;
    PyGILState_STATE gil_state_{};
};

// The debug context's dispatch policy (runtime/cpython/dispatch.h): one trampoline call. It gives the
// implementation a context valid for this call only, opens a borrowed debug handle per argument,
// takes over the returned handle, closes the arguments at the end and raises what was reported.
class Call {
public:
    Call();
    ~Call();
    Call(const Call &) = delete;
    Call &operator=(const Call &) = delete;

    HPyContext *ctx() const { return ctx_; }
    HPy arg(PyObject *o)
    {
        if (o == nullptr)
            return HPy{0};
        Handle *h = open_handle(_py2h(o), false, true);
        if (nargs_ < kInline)
            inline_args_[nargs_++] = h;
        else
            more_args_.push_back(h);
        return encode(h);
    }
    const HPy *args(PyObject *const *a, size_t n);
    PyObject *owned(HPy h);
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
    void finish();
    static constexpr size_t kInline = 6;  // most calls have few arguments: no allocation for them
    HPyContext *ctx_;
    CallInfo *info_;
    Handle *inline_args_[kInline];
    size_t nargs_ = 0;
    std::vector<Handle *> more_args_;
    HPy inline_array_[kInline];
    std::vector<HPy> array_;
    bool finished_ = false;
};

// Settings and counters shared with the Python API (hpy.universal._debug).
struct Settings {
    size_t closed_queue_max = 1024;
    size_t protected_raw_data_max = 10 * 1024 * 1024;
    int stack_limit = 0;  // frames recorded per handle; 0: none
    enum class Reaction { Raise, Hook, Abort } reaction = Reaction::Raise;
};
Settings &settings();
uint64_t new_generation();
uint64_t current_generation();
const HandleList &open_handles();
const HandleList &closed_handles();
void trim_closed_queue();
std::string describe_object(const Handle *h);
std::string describe_stack(const Handle *h);

// The raw data (read-only copy) for an open handle: see RawData.
const char *protect_raw_data(Handle *h, const char *data, size_t size, const char *function);

// hpy.universal._debug; nullptr with an exception set on failure.
PyObject *make_python_module();

}  // namespace hpy::debug
