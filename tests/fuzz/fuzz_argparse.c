/* tests/fuzz/fuzz_argparse.c: libFuzzer driver of HPyArg_Parse: a random format against random arguments.
   Input: FORMAT '\n' NARGS OBJECTS...; every unit writes to a slot of its own. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HPyContext *ctx = fuzz_context();
    FuzzReader r = {data, size};
    char fmt[FUZZ_MAX_FORMAT + 1];
    fuzz_string(&r, '\n', fmt, sizeof(fmt));
    size_t nargs = fuzz_byte(&r) % 8;
    HPy args[8];
    for (size_t i = 0; i < nargs; i++)
        args[i] = fuzz_object(ctx, &r);
    FuzzOut out[FUZZ_SLOTS];
    memset(out, 0, sizeof(out));
    HPyTracker ht;
    int use_tracker = fuzz_byte(&r) & 1;
    int ok = HPyArg_Parse(ctx, use_tracker ? &ht : NULL, args, nargs, fmt, FUZZ_ADDR64(out));
    if (ok && use_tracker)
        HPyTracker_Close(ctx, ht);
    if (!ok && !HPyErr_Occurred(ctx))
        __builtin_trap(); /* a failure must say why */
    HPyErr_Clear(ctx);
    for (size_t i = 0; i < nargs; i++)
        HPy_Close(ctx, args[i]);
    return 0;
}
