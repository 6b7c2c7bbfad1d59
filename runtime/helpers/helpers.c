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
    *out_args_tuple = HPy_NULL;
    *out_kwd = HPy_NULL;
    if (!HPy_IsNull(kwnames)) {
        nkw = HPy_Length(ctx, kwnames);
        if (nkw < 0)
            return 0;
    }
    /* HPyTuple_FromArray only reads the array; its prototype merely lacks the const. */
    HPy tuple = HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
    if (HPy_IsNull(tuple))
        return 0;
    if (nkw == 0) {
        *out_args_tuple = tuple;
        return 1;
    }
    HPy dict = HPyDict_New(ctx);
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
    *out_args_tuple = tuple;
    *out_kwd = dict;
    return 1;

fail:
    HPy_Close(ctx, tuple);
    if (!HPy_IsNull(dict))
        HPy_Close(ctx, dict);
    return 0;
}
