/* runtime/helpers/argparse.c: HPyArg_Parse, HPyArg_ParseKeywords(Dict): arguments to C values by format units. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hpy.h"

/* The units HPy 0.9 documents; anything else in a format is a SystemError. */
static const char parse_units[] = "bBhHiIlkLKnfdsOp";

/* Keeps the per-call scratch arrays off the heap for ordinary signatures. */
#define SCRATCH_UNITS 16

typedef struct {
    int n_units;  /* value units, markers excluded */
    int min_args; /* units before '|' (or '$') are required */
    int max_pos;  /* units from '$' on are keyword-only */
    int has_O;
    const char *custom; /* the text after ';', replaces argument-error messages */
    char where[216];    /* "name()" for messages: from ':' or "function()" */
    int named;          /* 1 if ':' gave a name */
} ParseFormat;

static void set_system_error(HPyContext *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HPy msg = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    if (HPy_IsNull(msg))
        return;
    HPyErr_SetObject(ctx, ctx->h_SystemError, msg);
    HPy_Close(ctx, msg);
}

/* Errors about what the caller passed: the ';' message, if any, wins, as in CPython. */
static void set_arg_error(HPyContext *ctx, const ParseFormat *pf, const char *fmt, ...)
{
    if (pf->custom != NULL) {
        HPyErr_SetString(ctx, ctx->h_TypeError, pf->custom);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    HPy msg = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    if (HPy_IsNull(msg))
        return;
    HPyErr_SetObject(ctx, ctx->h_TypeError, msg);
    HPy_Close(ctx, msg);
}

/* Validates the whole format before any argument is touched, so a malformed format fails the
   same way whatever the caller passed. */
static int scan_format(HPyContext *ctx, const char *fmt, int keywords_allowed, const char *api,
                       ParseFormat *pf)
{
    int seen_bar = 0, seen_dollar = 0;
    const char *fname = NULL;
    memset(pf, 0, sizeof(*pf));
    if (fmt == NULL) {
        set_system_error(ctx, "%s: the format string is NULL", api);
        return 0;
    }
    for (const char *p = fmt; *p; p++) {
        char c = *p;
        if (c == ':') {
            fname = p + 1;
            break;
        }
        if (c == ';') {
            pf->custom = p + 1;
            break;
        }
        if (c == '|') {
            if (seen_bar || seen_dollar) {
                set_system_error(ctx, "%s: '|' %s in format \"%s\"", api,
                                 seen_bar ? "given twice" : "must come before '$'", fmt);
                return 0;
            }
            seen_bar = 1;
            pf->min_args = pf->n_units;
        } else if (c == '$') {
            if (!keywords_allowed) {
                set_system_error(
                    ctx, "%s: '$' (keyword-only) is only valid with keyword parsing, in format \"%s\"", api,
                    fmt);
                return 0;
            }
            if (seen_dollar) {
                set_system_error(ctx, "%s: '$' given twice in format \"%s\"", api, fmt);
                return 0;
            }
            seen_dollar = 1;
            pf->max_pos = pf->n_units;
            /* HPy 0.9: keyword-only arguments are always optional. */
            if (!seen_bar)
                pf->min_args = pf->n_units;
        } else if (c != '\0' && strchr(parse_units, c) != NULL) {
            if (c == 'O')
                pf->has_O = 1;
            if (pf->n_units == INT_MAX) {
                set_system_error(ctx, "%s: format too long", api);
                return 0;
            }
            pf->n_units++;
        } else {
            set_system_error(ctx, "%s: unknown format unit '%c' in format \"%s\"", api, (int)(unsigned char)c,
                             fmt);
            return 0;
        }
    }
    if (!seen_bar && !seen_dollar)
        pf->min_args = pf->n_units;
    if (!seen_dollar)
        pf->max_pos = pf->n_units;
    pf->named = fname != NULL;
    /* Bytes, not characters: the formatter repairs a name cut inside a UTF-8 sequence. */
    size_t len = fname ? strlen(fname) : 0;
    if (len > 200)
        len = 200;
    if (fname) {
        memcpy(pf->where, fname, len);
        memcpy(pf->where + len, "()", 3);
    } else {
        memcpy(pf->where, "function()", sizeof("function()"));
    }
    return 1;
}

static const char *plural(long n)
{
    return n == 1 ? "" : "s";
}

/* Reports a conversion failure in CPython's words: "f() argument 1 must be int, not str". */
static void set_type_error(HPyContext *ctx, const ParseFormat *pf, HPy arg, const char *expected, int pos,
                           const char *kwname)
{
    if (pf->custom != NULL) {
        HPyErr_SetString(ctx, ctx->h_TypeError, pf->custom);
        return;
    }
    HPy type = HPy_Type(ctx, arg);
    const char *tname = "?";
    if (HPy_Is(ctx, arg, ctx->h_None))
        tname = "None";
    else if (!HPy_IsNull(type)) {
        const char *n = HPyType_GetName(ctx, type);
        if (n != NULL)
            tname = n;
        else
            HPyErr_Clear(ctx);
    } else {
        HPyErr_Clear(ctx);
    }
    const char *sep = pf->named ? " " : "";
    const char *prefix = pf->named ? pf->where : "";
    if (kwname != NULL)
        set_arg_error(ctx, pf, "%s%sargument '%s' must be %s, not %.50s", prefix, sep, kwname, expected,
                      tname);
    else
        set_arg_error(ctx, pf, "%s%sargument %d must be %s, not %.50s", prefix, sep, pos, expected, tname);
    if (!HPy_IsNull(type))
        HPy_Close(ctx, type);
}

/* A failed C conversion left an exception; a TypeError there means "wrong kind of object",
   which reads better with the argument named. Other errors (OverflowError...) stand. */
static int conversion_failed(HPyContext *ctx, const ParseFormat *pf, HPy arg, const char *expected, int pos,
                             const char *kwname)
{
    if (HPyErr_ExceptionMatches(ctx, ctx->h_TypeError)) {
        HPyErr_Clear(ctx);
        set_type_error(ctx, pf, arg, expected, pos, kwname);
    }
    return 0;
}

/* Signed units: the value must fit the C type; the messages are CPython's, naming the type. */
static int as_ranged(HPyContext *ctx, const ParseFormat *pf, HPy arg, int pos, const char *kwname,
                     long long min, long long max, const char *what, long long *out)
{
    long long v = HPyLong_AsLongLong(ctx, arg);
    if (v == -1 && HPyErr_Occurred(ctx))
        return conversion_failed(ctx, pf, arg, "int", pos, kwname);
    if (v < min || v > max) {
        HPyErr_Format(ctx, ctx->h_OverflowError, "%s is %s", what,
                      v < min ? "less than minimum" : "greater than maximum");
        return 0;
    }
    *out = v;
    return 1;
}

static int as_mask(HPyContext *ctx, const ParseFormat *pf, HPy arg, int pos, const char *kwname,
                   unsigned long long *out)
{
    unsigned long long v = HPyLong_AsUnsignedLongLongMask(ctx, arg);
    if (v == (unsigned long long)-1 && HPyErr_Occurred(ctx))
        return conversion_failed(ctx, pf, arg, "int", pos, kwname);
    *out = v;
    return 1;
}

static int as_double(HPyContext *ctx, const ParseFormat *pf, HPy arg, int pos, const char *kwname,
                     double *out)
{
    double v = HPyFloat_AsDouble(ctx, arg);
    if (v == -1.0 && HPyErr_Occurred(ctx))
        return conversion_failed(ctx, pf, arg, "float", pos, kwname);
    *out = v;
    return 1;
}

/* The numeric units differ only in their C type and range. Each takes its output pointer first (so
   the va_list stays in step) and leaves the caller's default alone when the argument is absent. */
#define SIGNED_UNIT(CTYPE, MIN, MAX, WHAT)                             \
    {                                                                  \
        CTYPE *out = va_arg(*ap, CTYPE *);                             \
        long long v;                                                   \
        if (absent)                                                    \
            return 1;                                                  \
        if (!as_ranged(ctx, pf, arg, pos, kwname, MIN, MAX, WHAT, &v)) \
            return 0;                                                  \
        *out = (CTYPE)v;                                               \
        return 1;                                                      \
    }
/* Unsigned units wrap around without an overflow check, as CPython's do. */
#define MASK_UNIT(CTYPE)                             \
    {                                                \
        CTYPE *out = va_arg(*ap, CTYPE *);           \
        unsigned long long v;                        \
        if (absent)                                  \
            return 1;                                \
        if (!as_mask(ctx, pf, arg, pos, kwname, &v)) \
            return 0;                                \
        *out = (CTYPE)v;                             \
        return 1;                                    \
    }
#define FLOAT_UNIT(CTYPE)                              \
    {                                                  \
        CTYPE *out = va_arg(*ap, CTYPE *);             \
        double v = 0.0;                                \
        if (absent)                                    \
            return 1;                                  \
        if (!as_double(ctx, pf, arg, pos, kwname, &v)) \
            return 0;                                  \
        *out = (CTYPE)v;                               \
        return 1;                                      \
    }

/* Converts one value; the output pointer is always consumed so that the va_list stays in step,
   and an absent optional argument leaves the caller's default untouched. */
static int convert_unit(HPyContext *ctx, const ParseFormat *pf, char unit, HPy arg, int pos,
                        const char *kwname, va_list *ap)
{
    int absent = HPy_IsNull(arg);
    switch (unit) {
    case 'b':
        SIGNED_UNIT(unsigned char, 0, UCHAR_MAX, "unsigned byte integer")
    case 'h':
        SIGNED_UNIT(short, SHRT_MIN, SHRT_MAX, "signed short integer")
    case 'i':
        SIGNED_UNIT(int, INT_MIN, INT_MAX, "signed integer")
    case 'l':
        SIGNED_UNIT(long, LONG_MIN, LONG_MAX, "signed long integer")
    case 'L':
        SIGNED_UNIT(long long, LLONG_MIN, LLONG_MAX, "signed long long integer")
    case 'B':
        MASK_UNIT(unsigned char)
    case 'H':
        MASK_UNIT(unsigned short)
    case 'I':
        MASK_UNIT(unsigned int)
    case 'k':
        MASK_UNIT(unsigned long)
    case 'K':
        MASK_UNIT(unsigned long long)
    case 'f':
        FLOAT_UNIT(float)
    case 'd':
        FLOAT_UNIT(double)
    case 'n': {
        HPy_ssize_t *out = va_arg(*ap, HPy_ssize_t *);
        if (absent)
            return 1;
        HPy_ssize_t v = HPyLong_AsSsize_t(ctx, arg);
        if (v == -1 && HPyErr_Occurred(ctx)) {
            /* PyLong_AsSsize_t takes only ints; CPython's 'n' also takes objects with __index__. */
            if (!HPyErr_ExceptionMatches(ctx, ctx->h_TypeError))
                return 0;
            HPyErr_Clear(ctx);
            HPy idx = HPy_Index(ctx, arg);
            if (HPy_IsNull(idx))
                return conversion_failed(ctx, pf, arg, "int", pos, kwname);
            v = HPyLong_AsSsize_t(ctx, idx);
            HPy_Close(ctx, idx);
            if (v == -1 && HPyErr_Occurred(ctx))
                return conversion_failed(ctx, pf, arg, "int", pos, kwname);
        }
        *out = v;
        return 1;
    }
    case 's': {
        const char **out = va_arg(*ap, const char **);
        if (absent)
            return 1;
        if (!HPyUnicode_Check(ctx, arg)) {
            set_type_error(ctx, pf, arg, "str", pos, kwname);
            return 0;
        }
        HPy_ssize_t size;
        const char *data = HPyUnicode_AsUTF8AndSize(ctx, arg, &size);
        if (data == NULL)
            return 0;
        if ((HPy_ssize_t)strlen(data) != size) {
            HPyErr_SetString(ctx, ctx->h_ValueError, "embedded null character");
            return 0;
        }
        *out = data;
        return 1;
    }
    case 'O': {
        HPy *out = va_arg(*ap, HPy *);
        if (absent)
            return 1;
        *out = arg;
        return 1;
    }
    case 'p': {
        int *out = va_arg(*ap, int *);
        if (absent)
            return 1;
        int v = HPy_IsTrue(ctx, arg);
        if (v < 0)
            return 0;
        *out = v ? 1 : 0;
        return 1;
    }
    default:
        /* scan_format rejected everything else. */
        set_system_error(ctx, "unknown format unit '%c'", (int)(unsigned char)unit);
        return 0;
    }
}
#undef SIGNED_UNIT
#undef MASK_UNIT
#undef FLOAT_UNIT

/* Walks the format and converts every unit. Unit i takes args[i] if positional, else kwvals[i]
   (HPy_NULL when absent). Dict values are owned: those whose C value borrows from them ('O', 's')
   move into the tracker; the rest stay in kwvals for the caller to close. */
static int convert_all(HPyContext *ctx, HPyTracker *ht, const ParseFormat *pf, const char *fmt,
                       const char *keywords[], const HPy *args, size_t nargs, HPy *kwvals, int kw_owned,
                       va_list *ap)
{
    int i = 0;
    for (const char *p = fmt; *p && *p != ':' && *p != ';'; p++) {
        char unit = *p;
        if (unit == '|' || unit == '$')
            continue;
        HPy arg = HPy_NULL;
        const char *kwname = NULL;
        if ((size_t)i < nargs) {
            arg = args[i];
        } else if (kwvals != NULL && !HPy_IsNull(kwvals[i])) {
            arg = kwvals[i];
            kwname = keywords[i];
        }
        if (!convert_unit(ctx, pf, unit, arg, i + 1, kwname, ap))
            return 0;
        if (kw_owned && kwname != NULL && ht != NULL && (unit == 'O' || unit == 's')) {
            if (HPyTracker_Add(ctx, *ht, arg) < 0)
                return 0;
            kwvals[i] = HPy_NULL;
        }
        i++;
    }
    return 1;
}

static int start_tracker(HPyContext *ctx, HPyTracker *ht)
{
    if (ht == NULL)
        return 1;
    *ht = HPyTracker_New(ctx, 0);
    return ht->_i != 0;
}

static void fail_tracker(HPyContext *ctx, HPyTracker *ht)
{
    if (ht != NULL && ht->_i != 0) {
        HPyTracker_Close(ctx, *ht);
        ht->_i = 0;
    }
}

static int check_positional_count(HPyContext *ctx, const ParseFormat *pf, size_t nargs)
{
    long n = (long)nargs;
    if (pf->n_units == 0 && nargs > 0) {
        set_arg_error(ctx, pf, "%s takes no arguments (%ld given)", pf->where, n);
        return 0;
    }
    if (n > pf->n_units || n < pf->min_args) {
        int bound = n < pf->min_args ? pf->min_args : pf->n_units;
        const char *how = pf->min_args == pf->n_units ? "exactly" : n < pf->min_args ? "at least" : "at most";
        set_arg_error(ctx, pf, "%s takes %s %d argument%s (%ld given)", pf->where, how, bound, plural(bound),
                      n);
        return 0;
    }
    return 1;
}

int HPyArg_Parse(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs, const char *fmt, ...)
{
    ParseFormat pf;
    if (!start_tracker(ctx, ht))
        return 0;
    if (!scan_format(ctx, fmt, 0, "HPyArg_Parse", &pf) || !check_positional_count(ctx, &pf, nargs)) {
        fail_tracker(ctx, ht);
        return 0;
    }
    va_list ap;
    va_start(ap, fmt);
    int ok = convert_all(ctx, ht, &pf, fmt, NULL, args, nargs, NULL, 0, &ap);
    va_end(ap);
    if (!ok)
        fail_tracker(ctx, ht);
    return ok;
}

/* Checks `keywords` against the format; returns the number of leading positional-only ("")
   names, or -1 with SystemError. */
static int scan_keywords(HPyContext *ctx, const ParseFormat *pf, const char *keywords[], const char *api)
{
    int n = 0, npos_only = 0;
    if (keywords == NULL) {
        set_system_error(ctx, "%s: the keywords list is NULL", api);
        return -1;
    }
    for (; keywords[n] != NULL; n++) {
        if (keywords[n][0] == '\0') {
            if (npos_only != n) {
                set_system_error(ctx, "%s: empty keyword parameter name after a named one", api);
                return -1;
            }
            npos_only++;
        }
        if (n == INT_MAX - 1)
            break;
    }
    if (n != pf->n_units) {
        set_system_error(ctx, "%s: the format has %d unit%s but the keywords list has %d name%s", api,
                         pf->n_units, plural(pf->n_units), n, plural(n));
        return -1;
    }
    if (pf->max_pos < npos_only) {
        set_system_error(ctx, "%s: a keyword-only argument ('$') cannot be positional-only (\"\")", api);
        return -1;
    }
    return npos_only;
}

static int find_keyword(const char *keywords[], int from, int n_units, const char *name, HPy_ssize_t len)
{
    for (int k = from; k < n_units; k++) {
        if (strlen(keywords[k]) == (size_t)len && memcmp(keywords[k], name, (size_t)len) == 0)
            return k;
    }
    return -1;
}

/* The checks CPython makes before converting anything: too many, unknown or doubled arguments,
   and missing required ones. kwvals[i] is already filled for arguments given by keyword. */
static int check_counts(HPyContext *ctx, const ParseFormat *pf, size_t nargs, HPy_ssize_t nkw)
{
    long n = (long)nargs;
    if (n > pf->max_pos) {
        /* "positional" only tells the caller something when keyword-only arguments exist. */
        const char *kind = pf->max_pos < pf->n_units ? "positional " : "";
        if (pf->max_pos == 0)
            set_arg_error(ctx, pf, "%s takes no %sarguments (%ld given)", pf->where, kind, n);
        else
            set_arg_error(ctx, pf, "%s takes at most %d %sargument%s (%ld given)", pf->where, pf->max_pos,
                          kind, plural(pf->max_pos), n);
        return 0;
    }
    if ((HPy_ssize_t)nargs + nkw > pf->n_units) {
        long total = (long)((HPy_ssize_t)nargs + nkw);
        set_arg_error(ctx, pf, "%s takes at most %d argument%s (%ld given)", pf->where, pf->n_units,
                      plural(pf->n_units), total);
        return 0;
    }
    return 1;
}

static int check_missing(HPyContext *ctx, const ParseFormat *pf, const char *keywords[], int npos_only,
                         size_t nargs, const HPy *kwvals)
{
    for (int i = (int)nargs; i < pf->min_args; i++) {
        if (!HPy_IsNull(kwvals[i]))
            continue;
        if (i < npos_only) {
            int need = pf->min_args < npos_only ? pf->min_args : npos_only;
            set_arg_error(ctx, pf, "%s takes %s %d positional argument%s (%ld given)", pf->where,
                          need < pf->max_pos ? "at least" : "exactly", need, plural(need), (long)nargs);
        } else {
            set_arg_error(ctx, pf, "%s missing required argument '%s' (pos %d)", pf->where, keywords[i],
                          i + 1);
        }
        return 0;
    }
    return 1;
}

/* Per-call arrays of one handle per unit: on the stack unless the signature is long. */
static HPy *scratch_new(HPyContext *ctx, HPy *local, int n)
{
    if (n <= SCRATCH_UNITS) {
        for (int i = 0; i < n; i++)
            local[i] = HPy_NULL;
        return local;
    }
    HPy *buf = (HPy *)calloc((size_t)n, sizeof(HPy));
    if (buf == NULL)
        HPyErr_NoMemory(ctx);
    return buf;
}

static void scratch_free(HPy *buf, const HPy *local)
{
    if (buf != local)
        free(buf);
}

static void invalid_keyword(HPyContext *ctx, const ParseFormat *pf, HPy name)
{
    set_arg_error(ctx, pf, "'%U' is an invalid keyword argument for %s", name,
                  pf->named ? pf->where : "this function");
}

int HPyArg_ParseKeywords(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs, HPy kwnames,
                         const char *fmt, const char *keywords[], ...)
{
    static const char api[] = "HPyArg_ParseKeywords";
    ParseFormat pf;
    HPy local[SCRATCH_UNITS];
    HPy *kwvals = NULL;
    int npos_only;
    HPy_ssize_t nkw = 0;

    if (!start_tracker(ctx, ht))
        return 0;
    if (!scan_format(ctx, fmt, 1, api, &pf) || (npos_only = scan_keywords(ctx, &pf, keywords, api)) < 0)
        goto fail;
    if (!HPy_IsNull(kwnames)) {
        nkw = HPy_Length(ctx, kwnames);
        if (nkw < 0)
            goto fail;
    }
    if (!check_counts(ctx, &pf, nargs, nkw))
        goto fail;
    kwvals = scratch_new(ctx, local, pf.n_units);
    if (kwvals == NULL)
        goto fail;
    for (HPy_ssize_t j = 0; j < nkw; j++) {
        HPy name = HPy_GetItem_i(ctx, kwnames, j);
        if (HPy_IsNull(name))
            goto fail;
        HPy_ssize_t len;
        const char *s = HPyUnicode_AsUTF8AndSize(ctx, name, &len);
        if (s == NULL) {
            HPy_Close(ctx, name);
            goto fail;
        }
        int k = find_keyword(keywords, npos_only, pf.n_units, s, len);
        if (k < 0) {
            invalid_keyword(ctx, &pf, name);
        } else if ((size_t)k < nargs) {
            set_arg_error(ctx, &pf, "argument for %s given by name ('%s') and position (%d)", pf.where,
                          keywords[k], k + 1);
        } else if (!HPy_IsNull(kwvals[k])) {
            set_arg_error(ctx, &pf, "%s got multiple values for argument '%s'", pf.where, keywords[k]);
        } else {
            /* Borrowed: vectorcall keeps the values alive for the whole call. */
            kwvals[k] = args[nargs + (size_t)j];
            HPy_Close(ctx, name);
            continue;
        }
        HPy_Close(ctx, name);
        goto fail;
    }
    if (!check_missing(ctx, &pf, keywords, npos_only, nargs, kwvals))
        goto fail;

    va_list ap;
    va_start(ap, keywords);
    int ok = convert_all(ctx, ht, &pf, fmt, keywords, args, nargs, kwvals, 0, &ap);
    va_end(ap);
    scratch_free(kwvals, local);
    if (!ok)
        fail_tracker(ctx, ht);
    return ok;

fail:
    if (kwvals != NULL)
        scratch_free(kwvals, local);
    fail_tracker(ctx, ht);
    return 0;
}

/* Called when the dict holds keys the signature did not take: finds one and names it. */
static void report_extra_key(HPyContext *ctx, const ParseFormat *pf, const char *keywords[], int npos_only,
                             size_t nargs, HPy kw)
{
    HPy keys = HPyDict_Keys(ctx, kw);
    if (HPy_IsNull(keys))
        return;
    HPy_ssize_t n = HPy_Length(ctx, keys);
    for (HPy_ssize_t j = 0; j < n; j++) {
        HPy key = HPy_GetItem_i(ctx, keys, j);
        if (HPy_IsNull(key))
            break;
        if (!HPyUnicode_Check(ctx, key)) {
            HPy_Close(ctx, key);
            set_arg_error(ctx, pf, "keywords must be strings");
            HPy_Close(ctx, keys);
            return;
        }
        HPy_ssize_t len;
        const char *s = HPyUnicode_AsUTF8AndSize(ctx, key, &len);
        if (s == NULL) {
            HPy_Close(ctx, key);
            break;
        }
        int k = find_keyword(keywords, npos_only, pf->n_units, s, len);
        if (k < 0) {
            invalid_keyword(ctx, pf, key);
            HPy_Close(ctx, key);
            HPy_Close(ctx, keys);
            return;
        }
        if ((size_t)k < nargs) {
            set_arg_error(ctx, pf, "argument for %s given by name ('%s') and position (%d)", pf->where,
                          keywords[k], k + 1);
            HPy_Close(ctx, key);
            HPy_Close(ctx, keys);
            return;
        }
        HPy_Close(ctx, key);
    }
    HPy_Close(ctx, keys);
    /* Only reachable if the dict changed under us or a lookup failed. */
    if (!HPyErr_Occurred(ctx))
        set_arg_error(ctx, pf, "%s got unexpected keyword arguments", pf->where);
}

int HPyArg_ParseKeywordsDict(HPyContext *ctx, HPyTracker *ht, const HPy *args, HPy_ssize_t nargs, HPy kw,
                             const char *fmt, const char *keywords[], ...)
{
    static const char api[] = "HPyArg_ParseKeywordsDict";
    ParseFormat pf;
    HPy local[SCRATCH_UNITS];
    HPy *kwvals = NULL;
    int npos_only;
    HPy_ssize_t nkw = 0, found = 0;
    size_t upos = nargs < 0 ? 0 : (size_t)nargs;
    int ok = 0;

    if (!start_tracker(ctx, ht))
        return 0;
    if (!scan_format(ctx, fmt, 1, api, &pf) || (npos_only = scan_keywords(ctx, &pf, keywords, api)) < 0)
        goto done;
    /* Dict values come as new handles; an 'O' result must outlive this call, so it needs a tracker. */
    if (pf.has_O && ht == NULL) {
        set_system_error(ctx, "%s: format unit 'O' needs an HPyTracker (pass &ht)", api);
        goto done;
    }
    if (!HPy_IsNull(kw)) {
        nkw = HPy_Length(ctx, kw);
        if (nkw < 0)
            goto done;
    }
    if (!check_counts(ctx, &pf, upos, nkw))
        goto done;
    kwvals = scratch_new(ctx, local, pf.n_units);
    if (kwvals == NULL)
        goto done;
    int first = (int)upos > npos_only ? (int)upos : npos_only;
    for (int i = first; i < pf.n_units && found < nkw; i++) {
        HPy v = HPy_GetItem_s(ctx, kw, keywords[i]);
        if (HPy_IsNull(v)) {
            if (!HPyErr_ExceptionMatches(ctx, ctx->h_KeyError))
                goto done;
            HPyErr_Clear(ctx);
            continue;
        }
        kwvals[i] = v;
        found++;
    }
    if (found < nkw) {
        report_extra_key(ctx, &pf, keywords, npos_only, upos, kw);
        goto done;
    }
    if (!check_missing(ctx, &pf, keywords, npos_only, upos, kwvals))
        goto done;

    va_list ap;
    va_start(ap, keywords);
    ok = convert_all(ctx, ht, &pf, fmt, keywords, args, upos, kwvals, 1, &ap);
    va_end(ap);

done:
    if (kwvals != NULL) {
        for (int i = 0; i < pf.n_units; i++)
            if (!HPy_IsNull(kwvals[i]))
                HPy_Close(ctx, kwvals[i]);
        scratch_free(kwvals, local);
    }
    if (!ok)
        fail_tracker(ctx, ht);
    return ok;
}
