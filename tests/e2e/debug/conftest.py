"""tests/e2e/debug/conftest.py: the misuse catalogue loads the same universal build in debug and universal mode."""
import subprocess
import sys
import textwrap

import pytest

from support import ExtensionCompiler, loading_script


class MisuseLoader:
    def __init__(self, tmp_path, mode):
        self.mode = mode
        self.compiler = ExtensionCompiler(tmp_path, mode)  # the universal build, loaded in `mode`

    def make_module(self, source, name="misuse"):
        return self.compiler.make_module(source, name)

    @staticmethod
    def line_of(source, marker):
        """The line of `marker` in the file the test module is compiled from (support.expand_source puts one
        line before the source)."""
        return next(i for i, line in enumerate(source.split("\n")) if marker in line) + 2

    def run_script(self, source, script, name="misuse", reaction="raise", env=None):
        """Builds the module, then runs `script` (with `mod` loaded in this mode) in a fresh interpreter.

        In debug mode the reports raise HPyDebugError there (`reaction`; None: the default, HPy 0.9's)."""
        path = self.compiler.compile_module(source, name)
        prelude = loading_script(name, path, ", mode=hpy.universal.MODE_" + self.mode.upper())
        if reaction is not None and self.mode == "debug":
            prelude += "hpy.universal._debug.set_reaction(%r)\n" % reaction
        return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)],
                              capture_output=True, text=True, timeout=60, env=env)

    @staticmethod
    def leak_error(call, stack_trace_limit):
        """The HPyLeakError that call() raises inside a LeakDetector, with stack traces of handles and
        builders recorded (up to stack_trace_limit frames) meanwhile."""
        import hpy.debug
        hpy.debug.set_handle_stack_trace_limit(stack_trace_limit)
        try:
            with pytest.raises(hpy.debug.HPyLeakError) as info:
                with hpy.debug.LeakDetector():
                    call()
        finally:
            hpy.debug.disable_handle_stack_traces()
        return info.value


def pytest_configure(config):
    config.addinivalue_line("markers", "debug_only(why): the misuse would crash or is meaningless in universal "
                                       "mode, so the module runs in debug mode only")


def pytest_generate_tests(metafunc):
    # Each misuse module runs in debug mode (the report) and in universal mode (where it does not crash).
    if "misuse_mode" in metafunc.fixturenames:
        debug_only = metafunc.definition.get_closest_marker("debug_only")
        metafunc.parametrize("misuse_mode", ["debug"] if debug_only else ["debug", "universal"])


@pytest.fixture
def misuse(misuse_mode, tmp_path):
    from hpy.universal import _debug

    # The catalogue reads each report as an HPyDebugError: 'raise' instead of HPy 0.9's fatal errors.
    _debug.pop_reports()
    reaction = _debug.get_reaction()
    _debug.set_reaction("raise")
    try:
        yield MisuseLoader(tmp_path, misuse_mode)
    finally:
        _debug.set_reaction(reaction)
        _debug.pop_reports()


@pytest.fixture
def traced(tmp_path):
    return MisuseLoader(tmp_path, "trace")
