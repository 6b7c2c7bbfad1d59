/* include/hpy/universal/context_adapter.h: one universal module for hosts whose contexts differ. */
#ifndef HPY_UNIVERSAL_CONTEXT_ADAPTER_H
#define HPY_UNIVERSAL_CONTEXT_ADAPTER_H

/* All hosts that report ABI 0.0 agree on members 0..243. Hosts built on HPy 0.9.1.dev (PyPy 7.3.18
   and later) insert one member (h_DictType) at 244, so the HPy 0.9.0 members 244..262 sit one slot
   later there. The module learns the host's layout once, when the host hands over its context
   (HPyInitGlobalContext_NAME), and keeps it in _HPy_ContextShift: 0 on HPy 0.9.0's layout, 1 on the
   shifted one. The generated API functions of those 19 members index the context with it (one more
   load per call); every other member is called exactly as before. */
_HPY_EXTERN_C_BEGIN
/* The detected shift of this module's host (one per module file; set at load, read-only after). */
extern _HPy_HIDDEN intptr_t _HPy_ContextShift;
_HPY_EXTERN_C_END

/* Whether `text` contains `part`. */
static inline int _HPy_TextContains(const char *text, const char *part)
{
    for (; text != NULL && *text; ++text) {
        const char *t = text, *p = part;
        while (*p && *t == *p) {
            ++t;
            ++p;
        }
        if (*p == '\0')
            return 1;
    }
    return 0;
}

/* (major, minor, patch) of a version string such as "0.9.0", "0.9.0rc1" or "0.9.1.dev61+g79fb".
   Returns major*1000000 + minor*1000 + patch; parts that are missing count as 0. */
static inline long _HPy_VersionNumber(const char *text)
{
    long parts[3] = {0, 0, 0};
    for (int i = 0; i < 3 && text && *text >= '0' && *text <= '9'; ++i) {
        while (*text >= '0' && *text <= '9')
            parts[i] = parts[i] * 10 + (*text++ - '0');
        if (*text != '.')
            break;
        ++text;
    }
    return parts[0] * 1000000 + parts[1] * 1000 + parts[2];
}

/* The layout of `ctx`'s host, from what members 0..243 tell: unihpy's hosts (the context name says
   "unihpy") have HPy 0.9.0's layout; any other host is asked for the HPy version it implements
   (hpy.universal.get_version(), as every HPy host offers it): 0.9.1 and later, development versions
   included, have the shifted layout. A host that cannot say is taken as HPy 0.9.0. */
static inline intptr_t _HPy_DetectContextShift(HPyContext *ctx)
{
    if (ctx == NULL || ctx->name == NULL || _HPy_TextContains(ctx->name, "unihpy"))
        return 0;
    intptr_t shift = 0;
    /* Only members below 244 are called here: they are where every host has them. */
    HPy mod = ctx->ctx_Import_ImportModule(ctx, "hpy.universal");
    HPy fn = HPy_IsNull(mod) ? HPy_NULL : ctx->ctx_GetAttr_s(ctx, mod, "get_version");
    HPy version = HPy_IsNull(fn) ? HPy_NULL : ctx->ctx_CallTupleDict(ctx, fn, HPy_NULL, HPy_NULL);
    HPy text = HPy_IsNull(version) ? HPy_NULL : ctx->ctx_GetItem_i(ctx, version, 0);
    const char *utf8 = HPy_IsNull(text) ? NULL : ctx->ctx_Unicode_AsUTF8AndSize(ctx, text, NULL);
    if (utf8 != NULL && _HPy_VersionNumber(utf8) >= 9001)
        shift = 1;
    if (utf8 == NULL)
        ctx->ctx_Err_Clear(ctx);
    HPy handles[] = {text, version, fn, mod};
    for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); ++i) {
        if (!HPy_IsNull(handles[i]))
            ctx->ctx_Close(ctx, handles[i]);
    }
    return shift;
}

#endif /* HPY_UNIVERSAL_CONTEXT_ADAPTER_H */
