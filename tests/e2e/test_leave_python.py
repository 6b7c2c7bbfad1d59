"""tests/e2e/test_leave_python.py: HPy_BEGIN/END_LEAVE_PYTHON (other Python threads run meanwhile) and
the process-id conversions HPyLong_FromPid / HPyLong_AsPid."""
import os
import threading
import time

SOURCE = r"""
    #include <time.h>

    /* Busy for `ms` milliseconds of wall time, touching nothing of Python's (C11 only). */
    static void busy_wait(long ms)
    {
        struct timespec start, now;
        timespec_get(&start, TIME_UTC);
        do {
            timespec_get(&now, TIME_UTC);
        } while ((now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L < ms);
    }

    HPyDef_METH(sleep_without_python, "sleep_without_python", HPyFunc_O)
    static HPy sleep_without_python_impl(HPyContext *ctx, HPy self, HPy ms)
    {
        long n = HPyLong_AsLong(ctx, ms);
        if (n == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        HPy_BEGIN_LEAVE_PYTHON(ctx)
        busy_wait(n);
        HPy_END_LEAVE_PYTHON(ctx)
        return HPy_Dup(ctx, ctx->h_None);
    }

    HPyDef_METH(pid_roundtrip, "pid_roundtrip", HPyFunc_O)
    static HPy pid_roundtrip_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        long pid = HPyLong_AsPid(ctx, arg);
        if (pid == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        return HPyLong_FromPid(ctx, pid);
    }
    @EXPORT(sleep_without_python) @EXPORT(pid_roundtrip)
    @INIT
"""


def test_leave_python_lets_other_threads_run(compiler):
    mod = compiler.make_module(SOURCE)
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.02)
        start = time.monotonic()
        mod.sleep_without_python(300)
        end = time.monotonic()
    finally:
        stop.set()
        t.join()
    during = [x for x in ticks if start < x < end]
    assert end - start >= 0.29
    assert len(during) >= 10, "the other thread did not run while the module slept outside Python"


def test_pid(compiler):
    mod = compiler.make_module(SOURCE)
    assert mod.pid_roundtrip(os.getpid()) == os.getpid()
    assert mod.pid_roundtrip(12345) == 12345
    import pytest
    with pytest.raises(OverflowError):
        mod.pid_roundtrip(2**70)
