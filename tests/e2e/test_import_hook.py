"""tests/e2e/test_import_hook.py: `import foo` finds foo.hpy0.so / foo.hpy0-<tag>.so with no stub, cheaply."""
import importlib
import subprocess
import sys

import pytest


@pytest.mark.abis("universal", "hybrid")  # CPython-ABI modules are found by CPython's own finder
def test_plain_import_without_stub(compiler, monkeypatch):
    path = compiler.compile_module("""
        HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
        static HPy answer_impl(HPyContext *ctx, HPy self)
        {
            return HPyLong_FromLong(ctx, 42);
        }
        @EXPORT(answer)
        @INIT
    """, name="hooked")
    assert not path.with_name("hooked.py").exists()
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.delitem(sys.modules, "hooked", raising=False)
    importlib.invalidate_caches()
    import hpy.universal  # noqa: F401  (installs the hook, as unihpy.pth does at start-up)

    mod = importlib.import_module("hooked")
    assert mod.answer() == 42
    assert mod.__file__ == str(path)
    assert mod.__spec__.origin == str(path)


def test_hook_imports_little_at_startup():
    # unihpy.pth runs the hook in every interpreter start: it must not pull in importlib.abc
    # (which brings typing, pathlib, tempfile...: ~28 ms on CPython 3.11).
    code = "import sys, hpy._import_hook as h; h.install(); print('importlib.abc' in sys.modules)"
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": ":".join(p for p in sys.path if p)})
    assert out.stdout.strip() == "False"
