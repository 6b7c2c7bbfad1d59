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
    /* NULL, or the ':' (a function name for messages follows) or ';' (a message that replaces
       every error message follows) that ends the units. */
    const char *err_fmt;
} ParseFormat;

/* Every parse error goes through here, so that all of them read alike: "name() what" when the
   format names the function after ':', "function what" otherwise, and only the text after ';'
   when the format gives one. */
static void set_error(HPyContext *ctx, HPy exc, const ParseFormat *pf, const char *fmt, ...)
{
    if (pf->err_fmt != NULL && *pf->err_fmt == ';') {
        HPyErr_SetString(ctx, exc, pf->err_fmt + 1);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    HPy msg = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    if (HPy_IsNull(msg))
        return;
    /* The name is cut by bytes: the formatter repairs a cut inside a UTF-8 sequence. */
    if (pf->err_fmt != NULL)
        HPyErr_Format(ctx, exc, "%.200s() %U", pf->err_fmt + 1, msg);
    else
        HPyErr_Format(ctx, exc, "function %U", msg);
    HPy_Close(ctx, msg);
}

static const char unknown_unit[] = "unknown arg format code";

/* Validates the whole format before any argument is touched, so a malformed format fails the
   same way whatever the caller passed. */
static int scan_format(HPyContext *ctx, const char *fmt, int keywords_allowed, const char *api,
                       ParseFormat *pf)
{
    int seen_bar = 0, seen_dollar = 0;
    memset(pf, 0, sizeof(*pf));
    if (fmt == NULL) {
        HPyErr_Format(ctx, ctx->h_SystemError, "%s: the format string is NULL", api);
        return 0;
    }
    const char *end = fmt + strcspn(fmt, ":;");
    if (*end != '\0')
        pf->err_fmt = end;
    for (const char *p = fmt; p != end; p++) {
        char c = *p;
        if (c == '|') {
            if (seen_bar || seen_dollar) {
                set_error(ctx, ctx->h_SystemError, pf, "'|' %s in the format passed to %s",
                          seen_bar ? "given twice" : "after '$'", api);
                return 0;
            }
            seen_bar = 1;
            pf->min_args = pf->n_units;
        } else if (c == '$' && keywords_allowed) {
            if (seen_dollar) {
                set_error(ctx, ctx->h_SystemError, pf, "'$' given twice in the format passed to %s", api);
                return 0;
            }
            seen_dollar = 1;
            pf->max_pos = pf->n_units;
            /* Keyword-only arguments are always optional. */
            if (!seen_bar)
                pf->min_args = pf->n_units;
        } else if (strchr(parse_units, c) != NULL) {
            if (c == 'O')
                pf->has_O = 1;
            if (pf->n_units == INT_MAX) {
                set_error(ctx, ctx->h_SystemError, pf, "format passed to %s too long", api);
                return 0;
            }
            pf->n_units++;
        } else {
            set_error(ctx, ctx->h_SystemError, pf, unknown_unit);
            return 0;
        }
    }
    if (!seen_bar && !seen_dollar)
        pf->min_args = pf->n_units;
    if (!seen_dollar)
        pf->max_pos = pf->n_units;
    return 1;
}

/* Reports a conversion failure with the argument's place and type: "argument 1 must be int, not str". */
static void set_type_error(HPyContext *ctx, const ParseFormat *pf, HPy arg, const char *expected, int pos,
                           const char *kwname)
{
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
    if (kwname != NULL)
        set_error(ctx, ctx->h_TypeError, pf, "argument '%s' must be %s, not %.50s", kwname, expected, tname);
    else
        set_error(ctx, ctx->h_TypeError, pf, "argument %d must be %s, not %.50s", pos, expected, tname);
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

/* Signed units: the value must fit the C type. Through a C long, as the numbers units b, h, i
   and l are documented; L alone needs a long long. */
static int as_ranged(HPyContext *ctx, const ParseFormat *pf, HPy arg, int pos, const char *kwname,
                     long long min, long long max, const char *what, long long *out)
{
    long long v;
    if (max > LONG_MAX || min < LONG_MIN)
        v = HPyLong_AsLongLong(ctx, arg);
    else
        v = HPyLong_AsLong(ctx, arg);
    if (v == -1 && HPyErr_Occurred(ctx))
        return conversion_failed(ctx, pf, arg, "int", pos, kwname);
    if (v < min || v > max) {
        set_error(ctx, ctx->h_OverflowError, pf, "%s is %s", what,
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
        long long v = 0;                                               \
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
        unsigned long long v = 0;                    \
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
            set_error(ctx, ctx->h_TypeError, pf, "a str is required");
            return 0;
        }
        HPy_ssize_t size;
        const char *data = HPyUnicode_AsUTF8AndSize(ctx, arg, &size);
        if (data == NULL)
            return 0;
        if ((HPy_ssize_t)strlen(data) != size) {
            set_error(ctx, ctx->h_ValueError, pf, "embedded null character");
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
        set_error(ctx, ctx->h_SystemError, pf, unknown_unit);
        return 0;
    }
}
#undef SIGNED_UNIT
#undef MASK_UNIT
#undef FLOAT_UNIT

/* Walks the format and converts every unit. Unit i takes args[i] if positional, else kwvals[i]
   (HPy_NULL when absent). Dict values are owned: those whose C value borrows from them ('O', 's')
   move into the tracker; the rest stay in kwvals for the caller to close. With `track_positional`
   (the dict variant, whose caller may close its argument array right after parsing), positional
   arguments for 'O' and 's' are duplicated into the tracker too, when there is one. */
static int convert_all(HPyContext *ctx, HPyTracker *ht, const ParseFormat *pf, const char *fmt,
                       const char *keywords[], const HPy *args, size_t nargs, HPy *kwvals, int kw_owned,
                       int track_positional, va_list *ap)
{
    int i = 0;
    const char *end = pf->err_fmt != NULL ? pf->err_fmt : fmt + strlen(fmt);
    for (const char *p = fmt; p != end; p++) {
        char unit = *p;
        if (unit == '|' || unit == '$')
            continue;
        HPy arg = HPy_NULL;
        const char *kwname = NULL;
        int borrows = unit == 'O' || unit == 's';
        if ((size_t)i < nargs) {
            arg = args[i];
            if (track_positional && borrows && ht != NULL) {
                arg = HPy_Dup(ctx, arg);
                if (HPyTracker_Add(ctx, *ht, arg) < 0) {
                    HPy_Close(ctx, arg);
                    return 0;
                }
            }
        } else if (kwvals != NULL && !HPy_IsNull(kwvals[i])) {
            arg = kwvals[i];
            kwname = keywords[i];
        }
        if (!convert_unit(ctx, pf, unit, arg, i + 1, kwname, ap))
            return 0;
        if (kw_owned && kwname != NULL && ht != NULL && borrows) {
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

static const char too_many_args[] = "mismatched args (too many arguments for fmt)";

int HPyArg_Parse(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs, const char *fmt, ...)
{
    ParseFormat pf;
    if (!start_tracker(ctx, ht))
        return 0;
    if (!scan_format(ctx, fmt, 0, "HPyArg_Parse", &pf))
        goto fail;
    if (nargs < (size_t)pf.min_args) {
        set_error(ctx, ctx->h_TypeError, &pf, "required positional argument missing");
        goto fail;
    }
    if (nargs > (size_t)pf.n_units) {
        set_error(ctx, ctx->h_TypeError, &pf, too_many_args);
        goto fail;
    }
    va_list ap;
    va_start(ap, fmt);
    int ok = convert_all(ctx, ht, &pf, fmt, NULL, args, nargs, NULL, 0, 0, &ap);
    va_end(ap);
    if (!ok)
        fail_tracker(ctx, ht);
    return ok;

fail:
    fail_tracker(ctx, ht);
    return 0;
}

/* Checks `keywords` against the format; returns the number of leading positional-only ("")
   names, or -1 with an exception set. */
static int scan_keywords(HPyContext *ctx, const ParseFormat *pf, const char *keywords[], const char *api)
{
    int n = 0, npos_only = 0;
    if (keywords == NULL) {
        set_error(ctx, ctx->h_SystemError, pf, "keywords list passed to %s is NULL", api);
        return -1;
    }
    for (; keywords[n] != NULL; n++) {
        if (keywords[n][0] == '\0') {
            if (npos_only != n) {
                set_error(ctx, ctx->h_SystemError, pf, "empty keyword parameter name");
                return -1;
            }
            npos_only++;
        }
        if (n == INT_MAX - 1)
            break;
    }
    /* A TypeError, as for the other mismatches between the call and the format. */
    if (n != pf->n_units) {
        set_error(ctx, ctx->h_TypeError, pf, "mismatched args (too %s keywords for fmt)",
                  n < pf->n_units ? "few" : "many");
        return -1;
    }
    if (pf->max_pos < npos_only) {
        set_error(ctx, ctx->h_SystemError, pf,
                  "keyword-only argument ('$') cannot be positional-only (\"\") in %s", api);
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

static int check_positional(HPyContext *ctx, const ParseFormat *pf, size_t nargs)
{
    if (nargs <= (size_t)pf->max_pos)
        return 1;
    if (pf->max_pos < pf->n_units)
        set_error(ctx, ctx->h_TypeError, pf, "keyword only argument passed as positional argument");
    else
        set_error(ctx, ctx->h_TypeError, pf, too_many_args);
    return 0;
}

/* Required arguments neither passed by position nor by keyword (positional-only ones included). */
static int check_missing(HPyContext *ctx, const ParseFormat *pf, size_t nargs, const HPy *kwvals)
{
    for (int i = (int)nargs; i < pf->min_args; i++) {
        if (HPy_IsNull(kwvals[i])) {
            set_error(ctx, ctx->h_TypeError, pf, "no value for required argument");
            return 0;
        }
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

/* What is wrong with a keyword the signature cannot take; reported after missing arguments,
   which say more about a wrong call. */
enum { KW_OK, KW_UNKNOWN, KW_TWICE };

static void report_keyword(HPyContext *ctx, const ParseFormat *pf, int problem, HPy name)
{
    if (problem == KW_TWICE)
        set_error(ctx, ctx->h_TypeError, pf, "got multiple values for argument '%U'", name);
    else
        set_error(ctx, ctx->h_TypeError, pf, "got an unexpected keyword argument '%U'", name);
}

/* Where the keyword `name` goes: its unit, or -1 with *problem set. */
static int place_keyword(HPyContext *ctx, const char *keywords[], int npos_only, int n_units, size_t nargs,
                         const HPy *kwvals, HPy name, int *problem)
{
    HPy_ssize_t len;
    const char *s = HPyUnicode_AsUTF8AndSize(ctx, name, &len);
    if (s == NULL)
        return -2;
    int k = find_keyword(keywords, npos_only, n_units, s, len);
    if (k < 0)
        *problem = KW_UNKNOWN;
    else if ((size_t)k < nargs || !HPy_IsNull(kwvals[k]))
        *problem = KW_TWICE;
    else
        return k;
    return -1;
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
    HPy_ssize_t bad = -1; /* the first keyword with a problem */
    int problem = KW_OK;

    if (!start_tracker(ctx, ht))
        return 0;
    if (!scan_format(ctx, fmt, 1, api, &pf) || (npos_only = scan_keywords(ctx, &pf, keywords, api)) < 0)
        goto fail;
    if (!HPy_IsNull(kwnames)) {
        nkw = HPy_Length(ctx, kwnames);
        if (nkw < 0)
            goto fail;
    }
    if (!check_positional(ctx, &pf, nargs))
        goto fail;
    kwvals = scratch_new(ctx, local, pf.n_units);
    if (kwvals == NULL)
        goto fail;
    for (HPy_ssize_t j = 0; j < nkw; j++) {
        HPy name = HPy_GetItem_i(ctx, kwnames, j);
        if (HPy_IsNull(name))
            goto fail;
        int p = KW_OK;
        int k = place_keyword(ctx, keywords, npos_only, pf.n_units, nargs, kwvals, name, &p);
        HPy_Close(ctx, name);
        if (k == -2)
            goto fail;
        if (k >= 0) {
            /* Borrowed: vectorcall keeps the values alive for the whole call. */
            kwvals[k] = args[nargs + (size_t)j];
        } else if (bad < 0) {
            bad = j;
            problem = p;
        }
    }
    if (!check_missing(ctx, &pf, nargs, kwvals))
        goto fail;
    if (bad >= 0) {
        HPy name = HPy_GetItem_i(ctx, kwnames, bad);
        if (!HPy_IsNull(name)) {
            report_keyword(ctx, &pf, problem, name);
            HPy_Close(ctx, name);
        }
        goto fail;
    }

    va_list ap;
    va_start(ap, keywords);
    int ok = convert_all(ctx, ht, &pf, fmt, keywords, args, nargs, kwvals, 0, 0, &ap);
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
            set_error(ctx, ctx->h_TypeError, pf, "keywords must be strings");
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
        if (k < 0 || (size_t)k < nargs) {
            report_keyword(ctx, pf, k < 0 ? KW_UNKNOWN : KW_TWICE, key);
            HPy_Close(ctx, key);
            HPy_Close(ctx, keys);
            return;
        }
        HPy_Close(ctx, key);
    }
    HPy_Close(ctx, keys);
    /* Only reachable if the dict changed under us or a lookup failed. */
    if (!HPyErr_Occurred(ctx))
        set_error(ctx, ctx->h_TypeError, pf, "got unexpected keyword arguments");
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
        set_error(ctx, ctx->h_SystemError, &pf,
                  "%s cannot use the format unit 'O' without an HPyTracker: pass &ht", api);
        goto done;
    }
    if (!HPy_IsNull(kw)) {
        nkw = HPy_Length(ctx, kw);
        if (nkw < 0)
            goto done;
    }
    if (!check_positional(ctx, &pf, upos))
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
    if (!check_missing(ctx, &pf, upos, kwvals))
        goto done;
    if (found < nkw) {
        report_extra_key(ctx, &pf, keywords, npos_only, upos, kw);
        goto done;
    }

    va_list ap;
    va_start(ap, keywords);
    ok = convert_all(ctx, ht, &pf, fmt, keywords, args, upos, kwvals, 1, 1, &ap);
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
