/* tests/fuzz/fuzz_buildvalue.c: libFuzzer driver of HPy_BuildValue with random formats.
   Input: OBJECT FORMAT. Every argument slot holds the address of one Python object, which is valid
   whatever a unit reads it as: a handle ('O', 'S'), a C string (the object's header, whose reference
   count has a zero byte), or an integer; the eight doubles travel in registers of their own (x86-64
   calling convention), so that a format of at most FUZZ_MAX_FORMAT units never reads past the slots. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HPyContext *ctx = fuzz_context();
    FuzzReader r = {data, size};
    HPy obj = fuzz_object(ctx, &r);
    char fmt[FUZZ_MAX_FORMAT + 1];
    fuzz_string(&r, '\0', fmt, sizeof(fmt));
    double d = 1.5;
    HPy result = HPy_BuildValue(ctx, fmt, d, d, d, d, d, d, d, d, FUZZ_VAL64(obj));
    if (HPy_IsNull(result) && !HPyErr_Occurred(ctx))
        __builtin_trap(); /* a failure must say why */
    HPy_Close(ctx, result);
    HPyErr_Clear(ctx);
    HPy_Close(ctx, obj);
    return 0;
}
