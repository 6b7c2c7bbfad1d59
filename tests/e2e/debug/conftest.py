"""tests/e2e/debug/conftest.py: the misuse catalogue loads the same universal build in debug and universal mode."""
import subprocess
import sys
import textwrap

import pytest

from support import ExtensionCompiler


class MisuseLoader:
    def __init__(self, tmp_path, mode):
        self.mode = mode
        self.compiler = ExtensionCompiler(tmp_path, mode)

    def make_module(self, source, name="misuse"):
        return self.compiler.make_module(source, name)

    def run_script(self, source, script, name="misuse"):
        """Builds the module, then runs `script` (with `mod` loaded in this mode) in a fresh interpreter."""
        path = self.compiler.compile_module(source, name)
        mode = "MODE_DEBUG" if self.mode == "debug" else "MODE_UNIVERSAL"
        prelude = textwrap.dedent(f"""
            import importlib.util, hpy.universal
            spec = importlib.util.spec_from_file_location({name!r}, {str(path)!r})
            mod = hpy.universal.load({name!r}, {str(path)!r}, spec, mode=hpy.universal.{mode})
        """)
        return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)],
                              capture_output=True, text=True, timeout=60)


@pytest.fixture(params=["debug", "universal"])
def misuse(request, tmp_path):
    from hpy.universal import _debug

    _debug.pop_reports()
    yield MisuseLoader(tmp_path, request.param)
    _debug.pop_reports()
