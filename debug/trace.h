// debug/trace.h: the trace context: per-function call counts and time over a wrapped universal context.
#pragma once

#include <time.h>

#include <cstdint>

#include "debug/ctx_gen.h"
#include "runtime/cpython/dispatch.h"
#include "runtime/cpython/threads.h"

extern "C" void trace_host_ctx_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig,
                                                              HPyCFunction func, void *args);

namespace hpy::trace {

struct State {
    HPyContext *uctx = nullptr;
    HPyContext tctx{};
    uint64_t counts[debug::kFunctionCount] = {};
    uint64_t nanoseconds[debug::kFunctionCount] = {};
    PyObject *on_enter = nullptr;  // on_enter(name), on_exit(name): optional Python callables
    PyObject *on_exit = nullptr;
};
extern State g_state;

inline HPyContext *wrapped(HPyContext *)
{
    return g_state.uctx;
}

// Calls the hook in `slot` (g_state.on_enter or on_exit), if it is still set, with the function's name.
void call_hook(PyObject *const *slot, int index);

inline uint64_t now_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// One traced call: counted on entry, timed until it returns.
class Scope {
public:
    explicit Scope(int index) : index_(index)
    {
        threads::add(&g_state.counts[index], 1);
        if (threads::load(&g_state.on_enter) != nullptr)
            call_hook(&g_state.on_enter, index);
        start_ = now_ns();
    }
    ~Scope()
    {
        threads::add(&g_state.nanoseconds[index_], now_ns() - start_);
        if (threads::load(&g_state.on_exit) != nullptr)
            call_hook(&g_state.on_exit, index_);
    }
    Scope(const Scope &) = delete;
    Scope &operator=(const Scope &) = delete;

private:
    int index_;
    uint64_t start_;
};

void fill_trace_functions(HPyContext *tctx);
// The context handed to modules loaded in trace mode (created on first use over `uctx`).
HPyContext *context(HPyContext *uctx);
// hpy.universal._trace; nullptr with an exception set on failure.
PyObject *make_python_module();

}  // namespace hpy::trace
