/* bench/ffi/fib.h: the one C function every FFI route calls (from libfib.so). */
#ifndef BENCH_FIB_H
#define BENCH_FIB_H
long fib(long n);
#endif
