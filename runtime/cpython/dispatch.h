// runtime/cpython/dispatch.h: the host's side of the universal trampolines (ctx_CallRealFunctionFromTrampoline).
#pragma once

#include "runtime/cpython/context_init.h"
#include "runtime/cpython/dispatch_gen.h"

namespace hpy::dispatch {

// A signature number no HPy 0.9 trampoline sends: a SystemError, never a crash.
void unknown_signature(HPyContext *ctx, HPyFunc_Signature sig);

}  // namespace hpy::dispatch
