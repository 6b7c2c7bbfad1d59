"""tests/e2e/debug/test_debug_trace.py: the trace context counts and times every context call; HPY selects modes."""
import os
import subprocess
import sys

import pytest

import hpy.trace
from support import ExtensionCompiler, loading_script, module_spec

SOURCE = """
    HPyDef_METH(add, "add", HPyFunc_O)
    static HPy add_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy one = HPyLong_FromInt64_t(ctx, 1);
        HPy r = HPy_Add(ctx, arg, one);
        HPy_Close(ctx, one);
        return r;
    }
    HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
    static HPy ctx_name_impl(HPyContext *ctx, HPy self)
    {
        return HPyUnicode_FromString(ctx, ctx->name);
    }
    @EXPORT(add)
    @EXPORT(ctx_name)
    @INIT
"""


def test_call_counts_and_durations(traced):
    mod = traced.make_module(SOURCE, "traced")
    assert mod.ctx_name().startswith("HPy Trace Mode ABI")
    hpy.trace.reset()
    assert [mod.add(i) for i in range(5)] == [1, 2, 3, 4, 5]
    counts = hpy.trace.get_call_counts()
    assert counts["ctx_Long_FromInt64_t"] == 5
    assert counts["ctx_Add"] == 5
    assert counts["ctx_Close"] == 5
    # The host's dispatch into the module is not one of the module's calls.
    assert counts["ctx_CallRealFunctionFromTrampoline"] == 0
    assert counts["ctx_Multiply"] == 0
    durations = hpy.trace.get_durations()
    assert set(durations) == set(counts)
    assert durations["ctx_Add"] > 0 and durations["ctx_Multiply"] == 0
    assert durations["ctx_CallRealFunctionFromTrampoline"] == 0
    assert hpy.trace.get_frequency() == 1_000_000_000


def test_trace_functions(traced):
    mod = traced.make_module(SOURCE, "traced2")
    events = []
    hpy.trace.set_trace_functions(on_enter=lambda name: events.append(("enter", name)),
                                  on_exit=lambda name: events.append(("exit", name)))
    try:
        assert mod.add(41) == 42
    finally:
        hpy.trace.set_trace_functions(on_enter=None, on_exit=None)
    names = [n for kind, n in events if kind == "enter"]
    assert names == ["ctx_Long_FromInt64_t", "ctx_Add", "ctx_Close"]
    assert events[-1] == ("exit", "ctx_Close")
    assert len(events) == 6
    # An argument left out keeps its function; None removes it.
    events.clear()
    hpy.trace.set_trace_functions(on_enter=lambda name: events.append(("enter", name)))
    hpy.trace.set_trace_functions(on_exit=lambda name: events.append(("exit", name)))
    hpy.trace.set_trace_functions(on_enter=None)
    try:
        assert mod.add(1) == 2
    finally:
        hpy.trace.set_trace_functions(on_exit=None)
    assert [kind for kind, n in events] == ["exit"] * 3
    assert mod.add(1) == 2 and len(events) == 3
    with pytest.raises(TypeError):
        hpy.trace.set_trace_functions(on_enter=42)


@pytest.mark.parametrize("env, expected", [("trace", "HPy Trace Mode ABI"), ("debug", "HPy Debug Mode ABI"),
                                           ("envmod:debug", "HPy Debug Mode ABI"),
                                           ("other:debug", "HPy Universal ABI"), ("", "HPy Universal ABI")])
def test_hpy_environment_variable(tmp_path, env, expected):

    path = ExtensionCompiler(tmp_path, "universal").compile_module(SOURCE, "envmod")
    script = loading_script("envmod", path) + "print(mod.ctx_name())\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=dict(os.environ, HPY=env), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(expected)


def test_debug_keyword(tmp_path):
    import hpy.universal

    path = ExtensionCompiler(tmp_path, "universal").compile_module(SOURCE, "kwmod")
    mod = hpy.universal.load("kwmod", str(path), module_spec("kwmod", path), debug=True)
    assert mod.ctx_name().startswith("HPy Debug Mode ABI")
    assert mod.add(1) == 2


def test_exit_report(tmp_path):

    leak = """
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self)
        {
            HPyLong_FromLong(ctx, 987654);
            return HPy_Dup(ctx, ctx->h_None);
        }
        @EXPORT(f)
        @INIT
    """
    path = ExtensionCompiler(tmp_path, "universal").compile_module(leak, "leaky")
    script = loading_script("leaky", path, ", debug=True") + "mod.f()\n"
    env = dict(os.environ, HPY_DEBUG_EXIT_REPORT="1")
    if "ASAN_OPTIONS" in env or "LD_PRELOAD" in env:  # the handle is leaked on purpose: no leak check
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "hpy.debug: 1 handle still open at exit:" in proc.stderr and "987654" in proc.stderr
    env["HPY_DEBUG_EXIT_REPORT"] = "0"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""


def test_pytest_plugin(tmp_path):

    leak = """
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self)
        {
            HPyLong_FromLong(ctx, 55555);
            return HPy_Dup(ctx, ctx->h_None);
        }
        @EXPORT(f)
        @INIT
    """
    path = ExtensionCompiler(tmp_path, "universal").compile_module(leak, "leaky2")
    (tmp_path / "test_leaky.py").write_text(
        loading_script("leaky2", path, ", debug=True") +
        "def test_leaks():\n    mod.f()\n"
        "def test_clean():\n    pass\n"
        "def test_fixture(hpy_debug):\n    mod.f()\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "hpy.debug.pytest",
                           str(tmp_path / "test_leaky.py")], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    # The plugin fails the leaking test; the fixture reports its leak at teardown (an error).
    assert "1 failed, 2 passed, 1 error" in proc.stdout, proc.stdout + proc.stderr
    assert "FAILED test_leaky.py::test_leaks" in proc.stdout and "ERROR test_leaky.py::test_fixture" in proc.stdout
    assert "HPyLeakError" in proc.stdout and "55555" in proc.stdout
