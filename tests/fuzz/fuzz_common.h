/* tests/fuzz/fuzz_common.h: what every fuzz driver shares: an embedded CPython, the CPython-ABI
   context, a reader over the fuzz input, and the argument slots of the varargs helpers. */
#ifndef HPY_FUZZ_COMMON_H
#define HPY_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hpy.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The runtime's context set-up (fuzz_init.cpp). */
int fuzz_init_context(HPyContext *ctx);

/* Starts the interpreter once and fills the CPython-ABI context; returns the context. */
HPyContext *fuzz_context(void);

/* Consumes the fuzz input front to back; reads past the end give zeros. */
typedef struct {
    const uint8_t *data;
    size_t size;
} FuzzReader;

static inline uint8_t fuzz_byte(FuzzReader *r)
{
    if (r->size == 0)
        return 0;
    r->size--;
    return *r->data++;
}

/* The next bytes up to `stop` (excluded) or the end, as a NUL-terminated string of at most
   `cap - 1` characters in `buf`. */
static inline const char *fuzz_string(FuzzReader *r, char stop, char *buf, size_t cap)
{
    size_t n = 0;
    while (r->size > 0) {
        char c = (char)fuzz_byte(r);
        if (c == stop)
            break;
        if (n + 1 < cap)
            buf[n++] = c;
    }
    buf[n] = '\0';
    return buf;
}

/* A Python object chosen by one byte (with more bytes for its value): ints of every range, floats,
   strings, bytes, None, booleans, containers. A new reference. */
HPy fuzz_object(HPyContext *ctx, FuzzReader *r);

/* The number of pointer-sized argument slots the varargs drivers pass: more than any format of at
   most FUZZ_MAX_FORMAT characters can consume, so that no read goes past what was passed. */
#define FUZZ_MAX_FORMAT 40
#define FUZZ_SLOTS 64

/* 64 arguments: the addresses of a[0] ... a[63], or the values, for the varargs calls. */
#define FUZZ_ADDR8(a, i) &a[i], &a[i + 1], &a[i + 2], &a[i + 3], &a[i + 4], &a[i + 5], &a[i + 6], &a[i + 7]
#define FUZZ_ADDR64(a)                                                                           \
    FUZZ_ADDR8(a, 0), FUZZ_ADDR8(a, 8), FUZZ_ADDR8(a, 16), FUZZ_ADDR8(a, 24), FUZZ_ADDR8(a, 32), \
        FUZZ_ADDR8(a, 40), FUZZ_ADDR8(a, 48), FUZZ_ADDR8(a, 56)
#define FUZZ_VAL8(v) v, v, v, v, v, v, v, v
#define FUZZ_VAL64(v)                                                                                 \
    FUZZ_VAL8(v), FUZZ_VAL8(v), FUZZ_VAL8(v), FUZZ_VAL8(v), FUZZ_VAL8(v), FUZZ_VAL8(v), FUZZ_VAL8(v), \
        FUZZ_VAL8(v)

/* Where HPyArg_Parse writes: big enough and aligned for any C type a unit stores. */
typedef union {
    long double ld;
    void *p;
    char bytes[16];
} FuzzOut;

#ifdef __cplusplus
}
#endif

#endif /* HPY_FUZZ_COMMON_H */
