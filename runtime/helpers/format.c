/* runtime/helpers/format.c: HPyUnicode_FromFormat(V) and HPyErr_Format, printf-style str building. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpy.h"

/* The result is assembled as UTF-8 (the only encoding HPy exposes strings in) and decoded once. */
typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
    int needs_escape; /* a NUL or a lone surrogate: HPyUnicode_FromString cannot take it */
    char local[256];
} Writer;

static void w_init(Writer *w)
{
    w->buf = w->local;
    w->len = 0;
    w->cap = sizeof(w->local);
    w->oom = 0;
    w->needs_escape = 0;
}

static void w_free(Writer *w)
{
    if (w->buf != w->local)
        free(w->buf);
}

static int w_reserve(Writer *w, size_t extra)
{
    if (w->oom)
        return 0;
    if (extra <= w->cap - w->len)
        return 1;
    if (extra > SIZE_MAX / 2 - w->len) {
        w->oom = 1;
        return 0;
    }
    size_t cap = w->cap * 2;
    if (cap < w->len + extra)
        cap = w->len + extra;
    char *nbuf;
    if (w->buf == w->local) {
        nbuf = (char *)malloc(cap);
        if (nbuf != NULL)
            memcpy(nbuf, w->local, w->len);
    } else {
        nbuf = (char *)realloc(w->buf, cap);
    }
    if (nbuf == NULL) {
        w->oom = 1;
        return 0;
    }
    w->buf = nbuf;
    w->cap = cap;
    return 1;
}

static int w_put(Writer *w, const char *s, size_t n)
{
    if (!w_reserve(w, n))
        return 0;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    return 1;
}

static int w_fill(Writer *w, char c, size_t n)
{
    if (!w_reserve(w, n))
        return 0;
    memset(w->buf + w->len, c, n);
    w->len += n;
    return 1;
}

/* Puts `width - chars` spaces in front of what was written since `start`. */
static int w_pad_before(Writer *w, size_t start, HPy_ssize_t chars, HPy_ssize_t width)
{
    if (width <= chars)
        return 1;
    size_t pad = (size_t)(width - chars);
    if (!w_reserve(w, pad))
        return 0;
    memmove(w->buf + start + pad, w->buf + start, w->len - start);
    memset(w->buf + start, ' ', pad);
    w->len += pad;
    return 1;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 if it is malformed. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* encoded surrogates are not UTF-8 */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Copies C-string bytes, replacing malformed UTF-8 with U+FFFD as CPython's "replace" decoding
   does; returns the number of characters written. */
static HPy_ssize_t w_put_repaired(Writer *w, const char *s, size_t n)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)s;
    HPy_ssize_t chars = 0;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        /* Copy runs of ASCII in one go: the common case. */
        while (run < n && p[run] < 0x80 && p[run] != 0)
            run++;
        if (run > i) {
            if (!w_put(w, s + i, run - i))
                return -1;
            chars += (HPy_ssize_t)(run - i);
            i = run;
            continue;
        }
        size_t len = p[i] == 0 ? 1 : utf8_seq_len(p + i, n - i);
        if (p[i] == 0)
            w->needs_escape = 1;
        if (len == 0) {
            if (!w_put(w, replacement, 3))
                return -1;
            len = 1;
        } else if (!w_put(w, s + i, len)) {
            return -1;
        }
        chars++;
        i += len;
    }
    return chars;
}

/* Byte length of the first `chars` characters of valid UTF-8. */
static size_t utf8_prefix(const char *s, size_t n, HPy_ssize_t chars)
{
    size_t i = 0;
    while (i < n && chars > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars--;
    }
    return i;
}

static HPy_ssize_t utf8_count(const char *s, size_t n)
{
    HPy_ssize_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            chars++;
    return chars;
}

/* Writes a str object, width and precision counted in characters. */
static int w_put_str(HPyContext *ctx, Writer *w, HPy str, HPy_ssize_t width, HPy_ssize_t precision)
{
    HPy_ssize_t size;
    const char *s = HPyUnicode_AsUTF8AndSize(ctx, str, &size);
    if (s == NULL)
        return 0;
    size_t n = (size_t)size;
    if (precision >= 0)
        n = utf8_prefix(s, n, precision);
    if (memchr(s, '\0', n) != NULL)
        w->needs_escape = 1;
    HPy_ssize_t chars = utf8_count(s, n);
    if (width > chars && !w_fill(w, ' ', (size_t)(width - chars)))
        return 0;
    return w_put(w, s, n);
}

static size_t bounded_strlen(const char *s, size_t max)
{
    const char *end = (const char *)memchr(s, '\0', max);
    return end ? (size_t)(end - s) : max;
}

/* Writes a C string: precision in bytes (a cut sequence becomes U+FFFD), width in characters. */
static int w_put_cstr(Writer *w, const char *s, HPy_ssize_t width, HPy_ssize_t precision)
{
    size_t n = precision >= 0 ? bounded_strlen(s, (size_t)precision) : strlen(s);
    size_t start = w->len;
    HPy_ssize_t chars = w_put_repaired(w, s, n);
    if (chars < 0)
        return 0;
    return w_pad_before(w, start, chars, width);
}

/* Sign, precision (minimum digits) and width for an integer already printed in `digits`. */
static int w_put_number(Writer *w, const char *digits, int zeropad, HPy_ssize_t width, HPy_ssize_t precision)
{
    int neg = digits[0] == '-';
    const char *d = digits + neg;
    HPy_ssize_t nd = (HPy_ssize_t)strlen(d);
    HPy_ssize_t zeros = precision > nd ? precision - nd : 0;
    HPy_ssize_t body = neg + zeros + nd;
    HPy_ssize_t pad = width > body ? width - body : 0;
    if (!zeropad && pad > 0 && !w_fill(w, ' ', (size_t)pad))
        return 0;
    if (neg && !w_put(w, "-", 1))
        return 0;
    if (zeropad)
        zeros += pad;
    if (zeros > 0 && !w_fill(w, '0', (size_t)zeros))
        return 0;
    return w_put(w, d, (size_t)nd);
}

static int w_put_codepoint(Writer *w, unsigned int cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
        w->needs_escape = 1;
    return w_put(w, b, n);
}

static HPy w_finish(HPyContext *ctx, Writer *w)
{
    HPy result = HPy_NULL;
    if (w->oom || !w_reserve(w, 1)) {
        HPyErr_NoMemory(ctx);
    } else if (w->needs_escape) {
        /* Lone surrogates (from %c) only survive the "surrogatepass" UTF-8 codec. */
        HPy bytes = HPyBytes_FromStringAndSize(ctx, w->buf, (HPy_ssize_t)w->len);
        if (!HPy_IsNull(bytes)) {
            result = HPyUnicode_FromEncodedObject(ctx, bytes, "utf-8", "surrogatepass");
            HPy_Close(ctx, bytes);
        }
    } else {
        w->buf[w->len] = '\0';
        result = HPyUnicode_FromString(ctx, w->buf);
    }
    w_free(w);
    return result;
}

static int parse_decimal(HPyContext *ctx, const char **pf, HPy_ssize_t *out, const char *what)
{
    const char *f = *pf;
    HPy_ssize_t v = 0;
    while (*f >= '0' && *f <= '9') {
        int digit = *f - '0';
        if (v > (INTPTR_MAX - digit) / 10) {
            HPyErr_SetString(ctx, ctx->h_ValueError, what);
            return 0;
        }
        v = v * 10 + digit;
        f++;
    }
    *pf = f;
    *out = v;
    return 1;
}

static void bad_format(HPyContext *ctx, const char *spec, const char *why)
{
    /* spec points into the caller's format, at the '%'; show the unit, not the whole tail. */
    char shown[40];
    size_t n = strcspn(spec + 1, "%");
    if (n > sizeof(shown) - 2)
        n = sizeof(shown) - 2;
    shown[0] = '%';
    memcpy(shown + 1, spec + 1, n);
    shown[n + 1] = '\0';
    /* Through the formatter itself, which repairs a unit cut inside a UTF-8 sequence. */
    HPyErr_Format(ctx, ctx->h_SystemError, "HPyUnicode_FromFormat: %s in \"%s\"", why, shown);
}

/* Handles one "%..." unit at *pf; advances *pf past it. */
static int format_unit(HPyContext *ctx, Writer *w, const char **pf, va_list *ap)
{
    const char *spec = *pf;
    const char *f = spec + 1;
    int zeropad = 0;
    HPy_ssize_t width = -1, precision = -1;
    int lng = 0, size_t_flag = 0;

    if (*f == '%') {
        *pf = f + 1;
        return w_put(w, "%", 1);
    }
    if (*f == '0') {
        zeropad = 1;
        f++;
    }
    if (*f >= '0' && *f <= '9' && !parse_decimal(ctx, &f, &width, "width too big"))
        return 0;
    if (*f == '.') {
        f++;
        if (!parse_decimal(ctx, &f, &precision, "precision too big"))
            return 0;
    }
    if (*f == 'l') {
        lng = 1;
        f++;
        if (*f == 'l') {
            lng = 2;
            f++;
        }
    } else if (*f == 'z') {
        size_t_flag = 1;
        f++;
    }
    char unit = *f;
    if (unit == '\0') {
        bad_format(ctx, spec, "invalid format string (the unit is missing)");
        return 0;
    }
    *pf = f + 1;
    if ((lng || size_t_flag) && unit != 'd' && unit != 'i' && unit != 'u') {
        bad_format(ctx, spec, "invalid format string (a length modifier on a unit that takes none)");
        return 0;
    }

    char digits[72];
    switch (unit) {
    case 'd':
    case 'i':
        if (lng == 2)
            snprintf(digits, sizeof(digits), "%lld", va_arg(*ap, long long));
        else if (lng == 1)
            snprintf(digits, sizeof(digits), "%ld", va_arg(*ap, long));
        else if (size_t_flag)
            snprintf(digits, sizeof(digits), "%" PRIdPTR, (intptr_t)va_arg(*ap, HPy_ssize_t));
        else
            snprintf(digits, sizeof(digits), "%d", va_arg(*ap, int));
        return w_put_number(w, digits, zeropad, width, precision);
    case 'u':
        if (lng == 2)
            snprintf(digits, sizeof(digits), "%llu", va_arg(*ap, unsigned long long));
        else if (lng == 1)
            snprintf(digits, sizeof(digits), "%lu", va_arg(*ap, unsigned long));
        else if (size_t_flag)
            snprintf(digits, sizeof(digits), "%zu", va_arg(*ap, size_t));
        else
            snprintf(digits, sizeof(digits), "%u", va_arg(*ap, unsigned int));
        return w_put_number(w, digits, zeropad, width, precision);
    case 'x':
        snprintf(digits, sizeof(digits), "%x", (unsigned int)va_arg(*ap, int));
        return w_put_number(w, digits, zeropad, width, precision);
    case 'c': {
        /* Stricter than CPython here: flags it would silently ignore are errors. */
        if (zeropad) {
            bad_format(ctx, spec, "formatting unit '%c' does not support 0-padding");
            return 0;
        }
        if (width >= 0 || precision >= 0) {
            bad_format(ctx, spec, "formatting unit '%c' does not support width nor precision");
            return 0;
        }
        int ordinal = va_arg(*ap, int);
        if (ordinal < 0 || ordinal > 0x10FFFF) {
            HPyErr_SetString(ctx, ctx->h_OverflowError, "character argument not in range(0x110000)");
            return 0;
        }
        return w_put_codepoint(w, (unsigned int)ordinal);
    }
    case 'p': {
        if (zeropad) {
            bad_format(ctx, spec, "formatting unit '%p' does not support 0-padding");
            return 0;
        }
        if (width >= 0 || precision >= 0) {
            bad_format(ctx, spec, "formatting unit '%p' does not support width nor precision");
            return 0;
        }
        /* Always "0x...", whatever the platform's printf does with %p (glibc prints "(nil)"). */
        snprintf(digits, sizeof(digits), "0x%" PRIxPTR, (uintptr_t)va_arg(*ap, const void *));
        return w_put(w, digits, strlen(digits));
    }
    case 's':
    case 'U':
    case 'V':
    case 'S':
    case 'R':
    case 'A':
        if (zeropad) {
            char why[64];
            snprintf(why, sizeof(why), "formatting unit '%%%c' does not support 0-padding", unit);
            bad_format(ctx, spec, why);
            return 0;
        }
        break;
    default:
        bad_format(ctx, spec, "invalid format string (unknown unit)");
        return 0;
    }

    switch (unit) {
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (s == NULL) {
            bad_format(ctx, spec, "null c string passed as value for formatting unit '%s'");
            return 0;
        }
        return w_put_cstr(w, s, width, precision);
    }
    case 'U': {
        HPy h = va_arg(*ap, HPy);
        if (HPy_IsNull(h) || !HPyUnicode_Check(ctx, h)) {
            bad_format(ctx, spec,
                       HPy_IsNull(h) ? "HPy_NULL passed as value for formatting unit '%U'"
                                     : "'%U' needs a str");
            return 0;
        }
        return w_put_str(ctx, w, h, width, precision);
    }
    case 'V': {
        HPy h = va_arg(*ap, HPy);
        const char *s = va_arg(*ap, const char *);
        if (!HPy_IsNull(h)) {
            if (!HPyUnicode_Check(ctx, h)) {
                bad_format(ctx, spec, "'%V' needs a str or HPy_NULL");
                return 0;
            }
            return w_put_str(ctx, w, h, width, precision);
        }
        if (s == NULL) {
            bad_format(ctx, spec, "'%V' got HPy_NULL and a NULL string");
            return 0;
        }
        return w_put_cstr(w, s, width, precision);
    }
    default: { /* S, R, A */
        HPy h = va_arg(*ap, HPy);
        if (HPy_IsNull(h)) {
            bad_format(ctx, spec, "HPy_NULL passed as value for formatting unit '%S', '%R' or '%A'");
            return 0;
        }
        HPy str = unit == 'S' ? HPy_Str(ctx, h) : unit == 'R' ? HPy_Repr(ctx, h) : HPy_ASCII(ctx, h);
        if (HPy_IsNull(str))
            return 0;
        int ok = w_put_str(ctx, w, str, width, precision);
        HPy_Close(ctx, str);
        return ok;
    }
    }
}

HPy HPyUnicode_FromFormatV(HPyContext *ctx, const char *fmt, va_list vargs)
{
    Writer w;
    va_list ap;
    if (fmt == NULL) {
        HPyErr_SetString(ctx, ctx->h_SystemError, "HPyUnicode_FromFormat: the format string is NULL");
        return HPy_NULL;
    }
    w_init(&w);
    va_copy(ap, vargs);
    const char *f = fmt;
    while (*f) {
        if (*f != '%') {
            /* The format is ASCII, as in CPython: its text is code, and non-ASCII text belongs in
               the values ('%s' takes UTF-8). */
            const char *run = f;
            while (*run != '\0' && *run != '%') {
                if ((unsigned char)*run > 0x7F) {
                    HPyErr_Format(ctx, ctx->h_ValueError,
                                  "expected an ASCII-encoded format string, got a non-ASCII byte: 0x%x",
                                  (int)(unsigned char)*run);
                    va_end(ap);
                    w_free(&w);
                    return HPy_NULL;
                }
                run++;
            }
            if (!w_put(&w, f, (size_t)(run - f)))
                break;
            f = run;
            continue;
        }
        if (!format_unit(ctx, &w, &f, &ap)) {
            va_end(ap);
            w_free(&w);
            return HPy_NULL;
        }
    }
    va_end(ap);
    return w_finish(ctx, &w);
}

HPy HPyUnicode_FromFormat(HPyContext *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HPy result = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    return result;
}

HPy HPyErr_Format(HPyContext *ctx, HPy h_type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HPy msg = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    /* If formatting failed, its own exception is the more useful one to leave set. */
    if (!HPy_IsNull(msg)) {
        HPyErr_SetObject(ctx, h_type, msg);
        HPy_Close(ctx, msg);
    }
    return HPy_NULL;
}
