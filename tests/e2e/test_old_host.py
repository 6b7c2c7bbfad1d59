"""tests/e2e/test_old_host.py: a host of an older HPy (0.0.x, e.g. PyPy 7.3.11's own) refuses a universal
module with an error instead of crashing.

Such a host never calls HPyInitGlobalContext_NAME, calls HPyInit_NAME with its context and takes the
result for a module handle. HPy_MODINIT's HPyInit_NAME answers NULL (that host's "failed") until a
context was handed over."""
import ctypes
import subprocess
import sys

import pytest

SOURCE = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        return HPyLong_FromLong(ctx, 42);
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.abis("universal")
def test_init_without_a_context_answers_null(compiler):
    path = compiler.compile_module(SOURCE, "early")
    lib = ctypes.CDLL(str(path))  # a fresh copy of the file: no host has handed it a context
    lib.HPyInit_early.restype = ctypes.c_void_p
    assert lib.HPyInit_early() is None
    # the order of an HPy 0.9 host: the context first, then the module definition
    mod = compiler.load_module("early", path)
    assert mod.f() == 42


@pytest.mark.abis("universal")
def test_older_hpy_host_raises(compiler):
    path = compiler.compile_module(SOURCE, "early")
    probe = subprocess.run([sys.executable, "-c", "import _hpy_universal as u; print(u.get_version()[0])"],
                           capture_output=True, text=True, timeout=60)
    version = probe.stdout.strip()
    if probe.returncode != 0 or not version.startswith("0.0."):
        pytest.skip("this interpreter has no HPy host older than 0.9 built in (PyPy 7.3.11 has 0.0.4)")
    script = ("import _hpy_universal as u\n"
              "try:\n"
              f"    u.load('early', {str(path)!r})\n"
              "except SystemError as e:\n"
              "    print('refused:', e)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr  # before: a segmentation fault
    assert proc.stdout.strip() == "refused: initialization of early failed without raising an exception"
