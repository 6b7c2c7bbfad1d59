"""tests/e2e/debug/test_debug_movinggc_host.py: the bugs the moving-GC checker reports on CPython
(test_debug_movinggc.py), on a host whose collector really moves objects: PyPy 7.3.19's own HPy host.

The modules are built everywhere (hosts.py builds them once on CPython); the runs apply only there."""
import os
import subprocess
import sys

import pytest

from support import loading_script
from test_debug_movinggc import HALF, KEPT

MOVING = sys.implementation.name == "pypy" and os.environ.get("UNIHPY_HPY_HOST") == "native"


def run_on_moving_host(compiler, source, script):
    path = compiler.compile_module(source, "misuse")
    if not MOVING or compiler.abi != "universal" or compiler.load_mode != "universal":
        pytest.skip("needs a moving collector in universal mode: PyPy's own HPy host (on CPython the checker of "
                    "test_debug_movinggc.py stands in for it)")
    return subprocess.run([sys.executable, "-c", loading_script("misuse", path) + script],
                          capture_output=True, text=True, timeout=120)


# The field's object, referenced by nothing else, made young just before the store; then collections, and
# memory reused by new objects. PyPy 7.3.19 aborts in both tests ("Fatal RPython error: AssertionError" in
# HPyField_Load); a different object loaded would show the bug as well.
SCRIPT = """
import gc
def fresh():
    return ["value %d" % i for i in range(20)]
{setup}
for _ in range(3):
    gc.collect()
junk = [[i] * 8 for i in range(200000)]
r = {load}
print("same" if r == fresh() else "different")
"""


@pytest.mark.abis("universal")
def test_untraversed_field_misbehaves_on_a_moving_collector(compiler):
    control = run_on_moving_host(compiler, HALF, SCRIPT.format(setup="h = mod.Half(); h.set(fresh(), 0)",
                                                               load="h.get_a()"))
    assert control.returncode == 0 and control.stdout == "same\n", control.stderr  # the traversed field
    proc = run_on_moving_host(compiler, HALF, SCRIPT.format(setup="h = mod.Half(); h.set(0, fresh())",
                                                            load="h.get_b()"))
    assert proc.returncode != 0 or proc.stdout == "different\n", (proc.stdout, proc.stderr)


@pytest.mark.abis("universal")
def test_field_value_kept_misbehaves_on_a_moving_collector(compiler):
    proc = run_on_moving_host(compiler, KEPT, SCRIPT.format(setup="c = mod.Cell(); c.set(fresh()); c.keep()",
                                                            load="c.load_kept()"))
    assert proc.returncode != 0 or proc.stdout == "different\n", (proc.stdout, proc.stderr)
