/* tests/fuzz/fuzz_format.c: libFuzzer driver of HPyUnicode_FromFormat with random formats.
   Input: OBJECT FORMAT. The argument slots work as in fuzz_buildvalue.c: each holds the address of
   one Python object, valid as a handle, a C string or an integer (no unit reads a double). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HPyContext *ctx = fuzz_context();
    FuzzReader r = {data, size};
    HPy obj = fuzz_object(ctx, &r);
    char fmt[FUZZ_MAX_FORMAT + 1];
    fuzz_string(&r, '\0', fmt, sizeof(fmt));
    /* A width or precision of a million or more asks for that much memory, as in CPython: out of
       this driver's scope (libFuzzer would report the allocation). */
    for (int i = 0, digits = 0; fmt[i] != '\0'; i++) {
        digits = fmt[i] >= '0' && fmt[i] <= '9' ? digits + 1 : 0;
        if (digits >= 7) {
            HPy_Close(ctx, obj);
            return 0;
        }
    }
    HPy result = HPyUnicode_FromFormat(ctx, fmt, FUZZ_VAL64(obj));
    if (HPy_IsNull(result) && !HPyErr_Occurred(ctx))
        __builtin_trap(); /* a failure must say why */
    HPy_Close(ctx, result);
    HPyErr_Clear(ctx);
    HPy_Close(ctx, obj);
    return 0;
}
