/* tests/fuzz/fuzz_argparse_kw.c: libFuzzer driver of HPyArg_ParseKeywords: random format, keyword list,
   positional arguments and keyword arguments.
   Input: FORMAT '\n' KEYWORDS(','-separated) '\n' NPOS NKW OBJECTS... KWNAMES(','-separated). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HPyContext *ctx = fuzz_context();
    FuzzReader r = {data, size};
    char fmt[FUZZ_MAX_FORMAT + 1], kwtext[128], names[16][16];
    fuzz_string(&r, '\n', fmt, sizeof(fmt));
    fuzz_string(&r, '\n', kwtext, sizeof(kwtext));
    /* The keyword list: the text split at ',' (empty names mark positional-only arguments). */
    const char *keywords[17];
    int nkeywords = 0;
    FuzzReader kr = {(const uint8_t *)kwtext, strlen(kwtext)};
    while (nkeywords < 16 && kr.size > 0)
        keywords[nkeywords] = fuzz_string(&kr, ',', names[nkeywords], sizeof(names[0])), nkeywords++;
    keywords[nkeywords] = NULL;

    size_t npos = fuzz_byte(&r) % 6, nkw = fuzz_byte(&r) % 4;
    HPy args[10];
    for (size_t i = 0; i < npos + nkw; i++)
        args[i] = fuzz_object(ctx, &r);
    HPy kwnames = HPy_NULL;
    if (nkw > 0) {
        HPy kwn[4];
        char buf[16];
        for (size_t i = 0; i < nkw; i++) {
            kwn[i] = HPyUnicode_FromString(ctx, fuzz_string(&r, ',', buf, sizeof(buf)));
            if (HPy_IsNull(kwn[i])) { /* not UTF-8 */
                HPyErr_Clear(ctx);
                kwn[i] = HPyUnicode_FromString(ctx, "?");
            }
        }
        kwnames = HPyTuple_FromArray(ctx, kwn, (HPy_ssize_t)nkw);
        for (size_t i = 0; i < nkw; i++)
            HPy_Close(ctx, kwn[i]);
    }
    FuzzOut out[FUZZ_SLOTS];
    memset(out, 0, sizeof(out));
    HPyTracker ht;
    int ok = HPyArg_ParseKeywords(ctx, &ht, args, npos, kwnames, fmt, keywords, FUZZ_ADDR64(out));
    if (ok)
        HPyTracker_Close(ctx, ht);
    else if (!HPyErr_Occurred(ctx))
        __builtin_trap(); /* a failure must say why */
    HPyErr_Clear(ctx);
    HPy_Close(ctx, kwnames);
    for (size_t i = 0; i < npos + nkw; i++)
        HPy_Close(ctx, args[i]);
    return 0;
}
