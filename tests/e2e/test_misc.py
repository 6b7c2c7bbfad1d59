"""tests/e2e/test_misc.py: leaving and re-entering Python execution, HPy_Dump, HPy_FatalError (in a child
process), and HPy_FromPyObject/HPy_AsPyObject in the ABIs that have the C API."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from modcache import shared_module
from support import FREE_THREADED

MISC_SOURCE = r"""
    #include <time.h>
    /* count_a(str): counts 'a' with Python execution left, as HPy_BEGIN_LEAVE_PYTHON code does */
    HPyDef_METH(count_a, "count_a", HPyFunc_O)
    static HPy count_a_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_ssize_t n;
        const char *data = HPyUnicode_AsUTF8AndSize(ctx, arg, &n);
        if (data == NULL)
            return HPy_NULL;
        HPy_ssize_t count = 0;
        HPyThreadState state = HPy_LeavePythonExecution(ctx);
        for (HPy_ssize_t i = 0; i < n; i++)
            count += data[i] == 'a';
        HPy_ReenterPythonExecution(ctx, state);
        return HPyLong_FromSsize_t(ctx, count);
    }
    /* spin(seconds, leave): busy-waits, with Python execution left or not */
    HPyDef_METH(spin, "spin", HPyFunc_VARARGS)
    static HPy spin_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        double seconds = HPyFloat_AsDouble(ctx, args[0]);
        int leave = HPy_IsTrue(ctx, args[1]);
        HPyThreadState state = { 0 };
        if (leave)
            state = HPy_LeavePythonExecution(ctx);
        struct timespec t0, t;
        timespec_get(&t0, TIME_UTC);
        do {
            timespec_get(&t, TIME_UTC);
        } while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9 < seconds);
        if (leave)
            HPy_ReenterPythonExecution(ctx, state);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(dump, "dump", HPyFunc_O)
    static HPy dump_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        _HPy_Dump(ctx, arg);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(fatal, "fatal", HPyFunc_O)
    static HPy fatal_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        /* no return: HPy_FatalError is declared as never returning (-Werror=return-type otherwise) */
        HPy_FatalError(ctx, HPyUnicode_AsUTF8AndSize(ctx, arg, NULL));
    }
    @EXPORT(count_a) @EXPORT(spin) @EXPORT(dump) @EXPORT(fatal)
    @INIT
"""


@pytest.fixture
def mod(compiler):
    return shared_module(compiler, MISC_SOURCE)


def test_leave_python_execution(mod):
    assert mod.count_a("abracadabra") == 5
    assert mod.count_a("") == 0


def test_leaving_lets_other_threads_run(mod):
    """A thread that wakes every millisecond gets no turn inside a busy C loop that holds the GIL, and
    many while the loop has left Python execution. Without a GIL (free-threaded CPython) it gets turns
    in both."""
    stamps = []
    stop = threading.Event()

    def work():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    def wakeups_inside(leave):
        start = time.perf_counter()
        mod.spin(0.6, leave)
        end = time.perf_counter()
        return sum(1 for t in list(stamps) if start + 0.1 < t < end - 0.1)

    t = threading.Thread(target=work)
    t.start()
    try:
        time.sleep(0.01)
        held = wakeups_inside(False)
        released = wakeups_inside(True)
    finally:
        stop.set()
        t.join()
    assert held > 0 if FREE_THREADED else held == 0
    assert released > 0


def test_helper_macros_available(compiler):
    """HPy_BEGIN_LEAVE_PYTHON/HPy_END_LEAVE_PYTHON and HPyLong_FromPid/AsPid."""
    source = r"""
        #include <sys/types.h>
        HPyDef_METH(count_b, "count_b", HPyFunc_O)
        static HPy count_b_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t n, count = 0;
            const char *data = HPyUnicode_AsUTF8AndSize(ctx, arg, &n);
            if (data == NULL)
                return HPy_NULL;
            HPy_BEGIN_LEAVE_PYTHON(ctx)
            for (HPy_ssize_t i = 0; i < n; i++)
                count += data[i] == 'b';
            HPy_END_LEAVE_PYTHON(ctx)
            return HPyLong_FromSsize_t(ctx, count);
        }
        HPyDef_METH(pid_roundtrip, "pid_roundtrip", HPyFunc_O)
        static HPy pid_roundtrip_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            pid_t pid = HPyLong_AsPid(ctx, arg);
            if (pid == (pid_t)-1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
            return HPyLong_FromPid(ctx, pid);
        }
        @EXPORT(count_b) @EXPORT(pid_roundtrip)
        @INIT
    """
    mod = compiler.make_module(source)
    assert mod.count_b("bubble") == 3
    assert mod.pid_roundtrip(os.getpid()) == os.getpid()
    with pytest.raises(OverflowError):
        mod.pid_roundtrip(2**70)


def test_dump(mod, capfd):
    mod.dump([1, "two"])
    sys.stderr.flush()
    out, err = capfd.readouterr()
    assert "list" in err and "[1, 'two']" in err
    mod.dump(None)
    out, err = capfd.readouterr()
    assert "NoneType" in err and "None" in err


CHILD = r"""
import sys
sys.path.insert(0, %(support_dir)r)
import support
mod = support.ExtensionCompiler(%(tmp)r, %(abi)r).load_module("mytest", %(path)r)
print("loaded", flush=True)
mod.fatal("a fatal error from an HPy module")
print("still alive", flush=True)
"""


def test_fatal_error(compiler, hpy_abi, tmp_path):
    path = compiler.compile_module(MISC_SOURCE)
    script = CHILD % {"support_dir": os.path.dirname(os.path.abspath(__file__)), "tmp": str(tmp_path),
                      "abi": hpy_abi, "path": str(path)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stdout == "loaded\n"
    assert proc.returncode != 0
    assert "Fatal Python error" in proc.stderr and "a fatal error from an HPy module" in proc.stderr
    if sys.implementation.name == "cpython":
        # CPython's fatal error: the first line names the function, the process aborts.
        assert proc.returncode == -signal.SIGABRT, proc.stderr
        first = proc.stderr.splitlines()[0]
        assert first.startswith("Fatal Python error: ") and first.endswith(": a fatal error from an HPy module")


PYOBJECT_SOURCE = r"""
    #include <Python.h>
    /* roundtrip(obj): HPy -> PyObject* -> HPy, with the C API in between */
    HPyDef_METH(roundtrip, "roundtrip", HPyFunc_O)
    static HPy roundtrip_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        PyObject *o = HPy_AsPyObject(ctx, arg);   /* a new reference */
        if (o == NULL)
            return HPy_NULL;
        PyObject *t = PyTuple_Pack(2, o, Py_None);
        Py_DECREF(o);
        if (t == NULL)
            return HPy_NULL;
        HPy h = HPy_FromPyObject(ctx, t);         /* a new handle; the reference stays ours */
        Py_DECREF(t);
        return h;
    }
    HPyDef_METH(null_roundtrip, "null_roundtrip", HPyFunc_NOARGS)
    static HPy null_roundtrip_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPy_FromPyObject(ctx, NULL);
        PyObject *o = HPy_AsPyObject(ctx, HPy_NULL);
        return HPyBool_FromLong(ctx, HPy_IsNull(h) && o == NULL);
    }
    @EXPORT(roundtrip) @EXPORT(null_roundtrip)
    @INIT
"""


@pytest.mark.abis("cpython", "hybrid")
def test_from_and_as_pyobject(compiler):
    mod = compiler.make_module(PYOBJECT_SOURCE)
    obj = object()
    before = sys.getrefcount(obj)
    for _ in range(10):
        assert mod.roundtrip(obj) == (obj, None)
    after = sys.getrefcount(obj)
    assert after == before
    assert mod.null_roundtrip() is True


@pytest.mark.abis("universal")
def test_legacy_functions_refused_in_universal(compiler):
    """A universal module cannot call the C-API bridge: the headers make that a compile error."""
    from support import CompileError

    with pytest.raises(CompileError, match="HPy_AsPyObject is part of the legacy API. Cannot use legacy "
                                           "functions when targeting the HPy Universal ABI: build with the hybrid"):
        compiler.compile_module(r"""
            HPyDef_METH(f, "f", HPyFunc_O)
            static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
            {
                (void)HPy_AsPyObject(ctx, arg);
                return HPy_Dup(ctx, arg);
            }
            @EXPORT(f)
            @INIT
        """)
