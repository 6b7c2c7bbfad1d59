"""bench/ffi/fib_py.py: fib(n) in pure Python, the same algorithm as fib.c."""


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
