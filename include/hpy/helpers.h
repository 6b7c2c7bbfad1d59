/* include/hpy/helpers.h: helper functions compiled into every extension (runtime/helpers), ABI-neutral. */
#ifndef HPY_HELPERS_H
#define HPY_HELPERS_H

_HPY_EXTERN_C_BEGIN

/* Adds the type built from `spec` (with `params`, may be NULL) to module `obj` as `name`.
   Returns 1 on success, 0 with an exception set. */
HPyAPI_RUNTIME_FUNC int HPyHelpers_AddType(HPyContext *ctx, HPy obj, const char *name, HPyType_Spec *hpyspec,
                                           HPyType_SpecParam *params);

/* Parses positional arguments by format units (b B h H i I l k L K n f d s O p; "|" before the
   optional ones, "$" before keyword-only ones in the keyword variants); 1 on success, 0 with an
   exception set (TypeError for a wrong call, SystemError for a bad format). Messages read
   "name() what" after a ":name" suffix, "function what" without one; a ";message" suffix replaces
   them all.
   Handles stored through "O" are borrowed from `args`. */
HPyAPI_RUNTIME_FUNC int HPyArg_Parse(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                                     const char *fmt, ...);

/* As HPyArg_Parse, with keyword values after the positional ones and their names in kwnames
   (vectorcall style); `keywords` is NULL-terminated, "" marks a positional-only argument. */
HPyAPI_RUNTIME_FUNC int HPyArg_ParseKeywords(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                                             HPy kwnames, const char *fmt, const char *keywords[], ...);

/* As HPyArg_ParseKeywords, with the keywords in a dict (tp_new / tp_init style). "O" needs `ht`:
   the handles it stores (positional ones included) belong to the tracker. */
HPyAPI_RUNTIME_FUNC int HPyArg_ParseKeywordsDict(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                                                 HPy_ssize_t nargs, HPy kw, const char *fmt,
                                                 const char *keywords[], ...);

/* Builds a value from a format (as CPython's Py_BuildValue); a new handle, HPy_NULL on error. */
HPyAPI_RUNTIME_FUNC HPy HPy_BuildValue(HPyContext *ctx, const char *fmt, ...);

/* A new str from a printf-like format (the units of PyUnicode_FromFormat). */
HPyAPI_RUNTIME_FUNC HPy HPyUnicode_FromFormat(HPyContext *ctx, const char *fmt, ...);
HPyAPI_RUNTIME_FUNC HPy HPyUnicode_FromFormatV(HPyContext *ctx, const char *fmt, va_list vargs);

/* Sets exception h_type with a formatted message; always returns HPy_NULL. */
HPyAPI_RUNTIME_FUNC HPy HPyErr_Format(HPyContext *ctx, HPy h_type, const char *fmt, ...);

/* Splits vectorcall-style (args, nargs, kwnames) into a tuple and a dict: new handles, HPy_NULL for
   no positional arguments or no keywords. Returns 1 on success (the outputs are written then only),
   0 with an exception set (SystemError when an output pointer is NULL). */
HPyAPI_RUNTIME_FUNC int HPyHelpers_PackArgsAndKeywords(HPyContext *ctx, const HPy *args, size_t nargs,
                                                       HPy kwnames, HPy *out_args_tuple, HPy *out_kwd);

/* Struct sequences: tuples whose items are also attributes (like os.stat_result). */
typedef struct {
    const char
        *name; /* UTF-8; HPyStructSequence_UnnamedField for an item without a name; NULL ends the list */
    const char *doc; /* may be NULL */
} HPyStructSequence_Field;

typedef struct {
    const char *name;                /* "module.Name" (UTF-8, required) */
    const char *doc;                 /* may be NULL */
    HPyStructSequence_Field *fields; /* NULL-terminated, required */
} HPyStructSequence_Desc;

/* The name of a field that has no attribute (compared by address). */
HPyAPI_RUNTIME_FUNC const char *const HPyStructSequence_UnnamedField; /* hidden, like the helpers */

/* A new struct sequence type (a tuple subclass), or HPy_NULL with an exception set. */
HPyAPI_RUNTIME_FUNC HPy HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc);

/* A new instance of a struct sequence type made by HPyStructSequence_NewType, from exactly as many
   items as the type has fields; HPy_NULL with an exception set otherwise. */
HPyAPI_RUNTIME_FUNC HPy HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args);

_HPY_EXTERN_C_END

#endif /* HPY_HELPERS_H */
