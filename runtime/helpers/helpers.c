/* runtime/helpers/helpers.c: HPyHelpers_AddType and HPyHelpers_PackArgsAndKeywords. */
#include "hpy.h"

int HPyHelpers_AddType(HPyContext *ctx, HPy obj, const char *name, HPyType_Spec *hpyspec,
                       HPyType_SpecParam *params)
{
    HPy h_type = HPyType_FromSpec(ctx, hpyspec, params);
    if (HPy_IsNull(h_type))
        return 0;
    int rc = HPy_SetAttr_s(ctx, obj, name, h_type);
    /* The module attribute holds its own reference; ours was only needed to set it. */
    HPy_Close(ctx, h_type);
    return rc == 0;
}

int HPyHelpers_PackArgsAndKeywords(HPyContext *ctx, const HPy *args, size_t nargs, HPy kwnames,
                                   HPy *out_args_tuple, HPy *out_kwd)
{
    HPy_ssize_t nkw = 0;
    HPy tuple = HPy_NULL, dict = HPy_NULL;
    if (out_args_tuple == NULL || out_kwd == NULL) {
        HPyErr_Format(ctx, ctx->h_SystemError,
                      "HPyHelpers_PackArgsAndKeywords: argument '%s' must not be NULL",
                      out_args_tuple == NULL ? "out_pos_args" : "out_kwd");
        return 0;
    }
    if (!HPy_IsNull(kwnames)) {
        nkw = HPy_Length(ctx, kwnames);
        if (nkw < 0)
            return 0;
    }
    /* No positional arguments give HPy_NULL, like no keywords: the caller tests for absence alone. */
    if (nargs > 0) {
        /* HPyTuple_FromArray only reads the array; its prototype merely lacks the const. */
        tuple = HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
        if (HPy_IsNull(tuple))
            return 0;
    }
    if (nkw > 0) {
        dict = HPyDict_New(ctx);
        if (HPy_IsNull(dict))
            goto fail;
        for (HPy_ssize_t i = 0; i < nkw; i++) {
            HPy key = HPy_GetItem_i(ctx, kwnames, i);
            if (HPy_IsNull(key))
                goto fail;
            int rc = HPy_SetItem(ctx, dict, key, args[nargs + (size_t)i]);
            HPy_Close(ctx, key);
            if (rc < 0)
                goto fail;
        }
    }
    /* The outputs are written on success only. */
    *out_args_tuple = tuple;
    *out_kwd = dict;
    return 1;

fail:
    if (!HPy_IsNull(tuple))
        HPy_Close(ctx, tuple);
    if (!HPy_IsNull(dict))
        HPy_Close(ctx, dict);
    return 0;
}
