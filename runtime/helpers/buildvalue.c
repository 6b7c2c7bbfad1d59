/* runtime/helpers/buildvalue.c: HPy_BuildValue, a Python value (often a tuple) from a format and C values. */
#include <stdio.h>
#include <string.h>

#include "hpy.h"

/* Recursion guard: formats are written by hand, nobody nests this deep on purpose. */
#define MAX_NESTING 100

/* The item counts of the first brackets of a format, in the order they open: the check pass records
   them, the build pass reads them instead of scanning each bracket again. */
#define RECORDED_BRACKETS 16
typedef struct {
    HPy_ssize_t counts[RECORDED_BRACKETS];
    int recorded; /* brackets seen by the check pass */
    int next;     /* brackets opened by the build pass */
} BracketCounts;

/* What the build pass carries: the C values and the recorded counts. */
typedef struct {
    va_list *ap;
    BracketCounts *brackets;
} Build;

/* The value units (a switch: called once per unit of every format, it is on the hot path). */
static int is_build_unit(char c)
{
    switch (c) {
    case 'i':
    case 'I':
    case 'l':
    case 'k':
    case 'L':
    case 'K':
    case 'n':
    case 'f':
    case 'd':
    case 's':
    case 'O':
    case 'S':
        return 1;
    default:
        return 0;
    }
}

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == ',';
}

/* The messages name what is wrong first, in words extension authors may search for, then where.
   No double quote in them: Python shows such a message in reprs with its single quotes escaped. */
static void format_error(HPyContext *ctx, const char *fmt, const char *at, const char *why)
{
    /* HPyErr_Format, not snprintf: it repairs a format cut inside a UTF-8 sequence. */
    HPyErr_Format(ctx, ctx->h_SystemError,
                  "%s in the format string passed to HPy_BuildValue (at position %d of: %.80s)", why,
                  (int)(at - fmt), fmt);
}

static void unmatched(HPyContext *ctx, const char *fmt, const char *open)
{
    char why[16];
    snprintf(why, sizeof(why), "unmatched '%c'", *open);
    format_error(ctx, fmt, open, why);
}

/* Where the check pass is: the format, the outermost bracket still open (what a format that ends
   too early reports), the nesting depth and the recorded counts. */
typedef struct {
    const char *fmt;
    const char *outer;
    int depth;
    BracketCounts *bc;
} Check;

static int check_items(HPyContext *ctx, Check *ck, const char **pf, const char *open, char end,
                       HPy_ssize_t *count);

static int is_closer(char c)
{
    return c == ')' || c == ']' || c == '}';
}

/* Checks one item at *pf and moves past it. `open` is the bracket the item is in (NULL at the top). */
static int check_item(HPyContext *ctx, Check *ck, const char **pf, const char *open)
{
    const char *f = *pf;
    char c = *f;
    if (c == '(' || c == '[' || c == '{') {
        if (ck->depth >= MAX_NESTING) {
            format_error(ctx, ck->fmt, f, "brackets nested too deep");
            return 0;
        }
        *pf = f + 1;
        HPy_ssize_t inner;
        int index = ck->bc->recorded++;
        const char *outer = ck->outer;
        if (outer == NULL)
            ck->outer = f;
        ck->depth++;
        int ok = check_items(ctx, ck, pf, f, c == '(' ? ')' : c == '[' ? ']' : '}', &inner);
        ck->depth--;
        ck->outer = outer;
        if (!ok)
            return 0;
        if (index < RECORDED_BRACKETS)
            ck->bc->counts[index] = inner;
        return 1;
    }
    if (c == 'N') {
        HPyErr_Format(ctx, ctx->h_SystemError,
                      "HPy_BuildValue does not support the 'N' formatting unit. HPy never steals a handle: "
                      "pass it with 'O' and close it yourself where needed (at position %d of: %.80s)",
                      (int)(f - ck->fmt), ck->fmt);
        return 0;
    }
    if (!is_build_unit(c)) {
        char why[48];
        if (is_closer(c) && open != NULL)
            snprintf(why, sizeof(why), "unmatched '%c'", *open); /* a closer of the wrong kind */
        else if (is_closer(c) || c == ':' || c == ',')
            snprintf(why, sizeof(why), "unexpected '%c'", c);
        else
            snprintf(why, sizeof(why), "bad format char '%c'", c);
        format_error(ctx, ck->fmt, is_closer(c) && open != NULL ? open : f, why);
        return 0;
    }
    *pf = f + 1;
    return 1;
}

static const char *skip_blanks(const char *f)
{
    while (*f == ' ' || *f == '\t')
        f++;
    return f;
}

/* A dict's "key:value" pairs up to '}': one comma between pairs, one allowed after the last. */
static int check_dict_items(HPyContext *ctx, Check *ck, const char **pf, const char *open, HPy_ssize_t *count)
{
    const char *f = skip_blanks(*pf);
    *count = 0;
    for (;;) {
        if (*f == '}') {
            *pf = f + 1;
            return 1;
        }
        if (*f == '\0') {
            unmatched(ctx, ck->fmt, ck->outer);
            return 0;
        }
        if (*f == ',') {
            format_error(ctx, ck->fmt, f, "unexpected ','");
            return 0;
        }
        if (!check_item(ctx, ck, &f, open))
            return 0;
        f = skip_blanks(f);
        if (*f != ':') {
            if (*f == '\0')
                unmatched(ctx, ck->fmt, ck->outer);
            else
                format_error(ctx, ck->fmt, f, "missing ':'");
            return 0;
        }
        f = skip_blanks(f + 1);
        if (*f == '\0') {
            unmatched(ctx, ck->fmt, ck->outer);
            return 0;
        }
        if (*f == '}' || *f == ',') {
            format_error(ctx, ck->fmt, f, "missing dict value after ':'");
            return 0;
        }
        if (!check_item(ctx, ck, &f, open))
            return 0;
        *count += 2;
        const char *after = f;
        f = skip_blanks(f);
        if (*f == ',') {
            f = skip_blanks(f + 1);
        } else if (is_closer(*f) && *f != '}') {
            unmatched(ctx, ck->fmt, open);
            return 0;
        } else if (*f != '}' && *f != '\0' && f == after) {
            /* Blanks alone may separate pairs too (as in CPython); nothing at all may not. */
            format_error(ctx, ck->fmt, f, "missing ','");
            return 0;
        }
    }
}

/* Checks the items up to `end` (and consumes it) and counts them (a dict's key:value pair counts 2).
   `open` is the opening bracket, NULL at the top level. */
static int check_items(HPyContext *ctx, Check *ck, const char **pf, const char *open, char end,
                       HPy_ssize_t *count)
{
    if (end == '}')
        return check_dict_items(ctx, ck, pf, open, count);
    const char *f = *pf;
    *count = 0;
    for (;;) {
        while (is_sep(*f))
            f++;
        if (*f == end) {
            *pf = end == '\0' ? f : f + 1;
            return 1;
        }
        if (*f == '\0') {
            unmatched(ctx, ck->fmt, ck->outer);
            return 0;
        }
        if (is_build_unit(*f)) { /* the common case, without a call */
            f++;
            ++*count;
            continue;
        }
        if (!check_item(ctx, ck, &f, open))
            return 0;
        ++*count;
    }
}

/* Number of items before `end` in a format already checked. */
static HPy_ssize_t count_items(const char *f, char end)
{
    HPy_ssize_t n = 0;
    int level = 0;
    for (; *f; f++) {
        char c = *f;
        if (level == 0 && c == end)
            break;
        if (c == '(' || c == '[' || c == '{') {
            if (level == 0)
                n++;
            level++;
        } else if (c == ')' || c == ']' || c == '}') {
            level--;
        } else if (level == 0 && !is_sep(c) && c != ':') {
            n++;
        }
    }
    return n;
}

static void skip_seps(const char **pf)
{
    while (is_sep(**pf) || **pf == ':')
        (*pf)++;
}

static HPy build_item(HPyContext *ctx, const char **pf, Build *b);

/* The item count of the bracket the build pass opens now: recorded by the check pass, or counted. */
static HPy_ssize_t bracket_count(Build *b, const char *f, char end)
{
    int index = b->brackets->next++;
    return index < RECORDED_BRACKETS ? b->brackets->counts[index] : count_items(f, end);
}

/* Tuples up to this size are built from an array on the stack, larger ones with a tuple builder. */
#define SMALL_TUPLE 8

/* A tuple of the n items at *pf (n: counted by the caller); consumes `end` unless it is '\0'. */
static HPy build_tuple_n(HPyContext *ctx, const char **pf, Build *b, char end, HPy_ssize_t n)
{
    if (n <= SMALL_TUPLE) {
        HPy items[SMALL_TUPLE];
        for (HPy_ssize_t i = 0; i < n; i++) {
            skip_seps(pf);
            items[i] = build_item(ctx, pf, b);
            if (HPy_IsNull(items[i])) {
                while (i > 0)
                    HPy_Close(ctx, items[--i]);
                return HPy_NULL;
            }
        }
        skip_seps(pf);
        if (end != '\0')
            (*pf)++;
#ifdef HPY_ABI_CPYTHON
        /* The items are new references: the tuple takes them over, as HPyTuple_FromArray and the
           closes would, without a reference count up and down per item. */
        PyObject *t = PyTuple_New(n);
        if (t == NULL) {
            for (HPy_ssize_t i = 0; i < n; i++)
                HPy_Close(ctx, items[i]);
            return HPy_NULL;
        }
        for (HPy_ssize_t i = 0; i < n; i++)
            PyTuple_SET_ITEM(t, i, _h2py(items[i]));
        return _py2h(t);
#else
        HPy result = HPyTuple_FromArray(ctx, items, n);
        for (HPy_ssize_t i = 0; i < n; i++)
            HPy_Close(ctx, items[i]);
        return result;
#endif
    }
    HPyTupleBuilder tb = HPyTupleBuilder_New(ctx, n);
    if (tb._tup == 0)
        return HPy_NULL;
    for (HPy_ssize_t i = 0; i < n; i++) {
        skip_seps(pf);
        HPy item = build_item(ctx, pf, b);
        if (HPy_IsNull(item)) {
            HPyTupleBuilder_Cancel(ctx, tb);
            return HPy_NULL;
        }
        HPyTupleBuilder_Set(ctx, tb, i, item);
        HPy_Close(ctx, item);
    }
    skip_seps(pf);
    if (end != '\0')
        (*pf)++;
    return HPyTupleBuilder_Build(ctx, tb);
}

static HPy build_tuple(HPyContext *ctx, const char **pf, Build *b, char end)
{
    return build_tuple_n(ctx, pf, b, end, bracket_count(b, *pf, end));
}

static HPy build_list(HPyContext *ctx, const char **pf, Build *b)
{
    HPy_ssize_t n = bracket_count(b, *pf, ']');
    HPyListBuilder lb = HPyListBuilder_New(ctx, n);
    if (lb._lst == 0)
        return HPy_NULL;
    for (HPy_ssize_t i = 0; i < n; i++) {
        skip_seps(pf);
        HPy item = build_item(ctx, pf, b);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, lb);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, lb, i, item);
        HPy_Close(ctx, item);
    }
    skip_seps(pf);
    (*pf)++;
    return HPyListBuilder_Build(ctx, lb);
}

static HPy build_dict(HPyContext *ctx, const char **pf, Build *b)
{
    HPy dict = HPyDict_New(ctx);
    if (HPy_IsNull(dict))
        return HPy_NULL;
    for (;;) {
        skip_seps(pf);
        if (**pf == '}')
            break;
        HPy key = build_item(ctx, pf, b);
        if (HPy_IsNull(key)) {
            HPy_Close(ctx, dict);
            return HPy_NULL;
        }
        skip_seps(pf);
        HPy value = build_item(ctx, pf, b);
        if (HPy_IsNull(value)) {
            HPy_Close(ctx, key);
            HPy_Close(ctx, dict);
            return HPy_NULL;
        }
        int rc = HPy_SetItem(ctx, dict, key, value);
        HPy_Close(ctx, key);
        HPy_Close(ctx, value);
        if (rc < 0) {
            HPy_Close(ctx, dict);
            return HPy_NULL;
        }
    }
    (*pf)++;
    return dict;
}

/* Builds the item at *pf as a new handle, consuming its C values. */
static HPy build_item(HPyContext *ctx, const char **pf, Build *b)
{
    char c = *(*pf)++;
    switch (c) {
    case '(':
        return build_tuple(ctx, pf, b, ')');
    case '[':
        return build_list(ctx, pf, b);
    case '{':
        b->brackets->next++; /* a dict needs no count, but it is a bracket: keep the order */
        return build_dict(ctx, pf, b);
    case 'i':
        return HPyLong_FromLong(ctx, (long)va_arg(*b->ap, int));
    case 'I':
        return HPyLong_FromUnsignedLong(ctx, (unsigned long)va_arg(*b->ap, unsigned int));
    case 'l':
        return HPyLong_FromLong(ctx, va_arg(*b->ap, long));
    case 'k':
        return HPyLong_FromUnsignedLong(ctx, va_arg(*b->ap, unsigned long));
    case 'L':
        return HPyLong_FromLongLong(ctx, va_arg(*b->ap, long long));
    case 'K':
        return HPyLong_FromUnsignedLongLong(ctx, va_arg(*b->ap, unsigned long long));
    case 'n':
        return HPyLong_FromSsize_t(ctx, va_arg(*b->ap, HPy_ssize_t));
    case 'f': /* a float argument arrives promoted to double */
    case 'd':
        return HPyFloat_FromDouble(ctx, va_arg(*b->ap, double));
    case 's': {
        const char *s = va_arg(*b->ap, const char *);
        /* As Py_BuildValue: a NULL string is None rather than a crash. */
        if (s == NULL)
            return HPy_Dup(ctx, ctx->h_None);
        return HPyUnicode_FromString(ctx, s);
    }
    case 'O':
    case 'S': {
        HPy h = va_arg(*b->ap, HPy);
        /* HPy_NULL usually means the call that produced it failed: keep that exception. */
        if (HPy_IsNull(h)) {
            if (!HPyErr_Occurred(ctx))
                HPyErr_SetString(ctx, ctx->h_SystemError,
                                 "HPy_NULL object passed to HPy_BuildValue for the unit 'O' or 'S'");
            return HPy_NULL;
        }
        /* The caller keeps its handle: HPy never steals. */
        return HPy_Dup(ctx, h);
    }
    default:
        /* check_items let nothing else through. */
        HPyErr_SetString(ctx, ctx->h_SystemError, "HPy_BuildValue: internal error, unchecked format unit");
        return HPy_NULL;
    }
}

HPy HPy_BuildValue(HPyContext *ctx, const char *fmt, ...)
{
    if (fmt == NULL) {
        HPyErr_SetString(ctx, ctx->h_SystemError, "HPy_BuildValue: the format string is NULL");
        return HPy_NULL;
    }
    /* Checking the whole format first means a malformed one fails before any value is built. */
    const char *f = fmt;
    HPy_ssize_t n;
    BracketCounts brackets;
    brackets.recorded = brackets.next = 0;
    Check ck = {fmt, NULL, 0, &brackets};
    if (!check_items(ctx, &ck, &f, NULL, '\0', &n))
        return HPy_NULL;

    va_list ap;
    va_start(ap, fmt);
    Build b = {&ap, &brackets};
    HPy result;
    f = fmt;
    if (n == 0) {
        result = HPy_Dup(ctx, ctx->h_None);
    } else if (n == 1) {
        skip_seps(&f);
        result = build_item(ctx, &f, &b);
    } else {
        result = build_tuple_n(ctx, &f, &b, '\0', n);
    }
    va_end(ap);
    return result;
}
