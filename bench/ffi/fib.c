/* bench/ffi/fib.c: fib(n), iteratively, in a shared library of its own (libfib.so). */
#include "fib.h"

__attribute__((visibility("default"))) long fib(long n)
{
    long a = 0, b = 1;
    for (long i = 0; i < n; i++) {
        long t = a + b;
        a = b;
        b = t;
    }
    return a;
}
