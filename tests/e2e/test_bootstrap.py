"""tests/e2e/test_bootstrap.py: hpy.universal._load_bootstrap, the entry the `.py` stubs of HPy 0.9's
hpy.devel call: a package built with HPy 0.9's tools loads in unihpy's host as it is."""
import importlib
import os
import sys

import pytest

SOURCE = r"""
    HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
    static HPy answer_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 42); }
    @EXPORT(answer)
    @INIT
"""

# What such a stub does, in the calling convention of HPy 0.9's hosts.
STUB = """\
def __bootstrap__():
    from sys import modules
    from os import environ
    from hpy.universal import _load_bootstrap
    m = _load_bootstrap({short!r}, __name__, __package__, {path!r}, __loader__, __spec__, environ)
    modules[__name__] = m
__bootstrap__()
"""


@pytest.mark.abis("universal", "hybrid")
def test_stub_of_hpy_09(compiler, tmp_path, monkeypatch):
    path = compiler.compile_module(SOURCE, name="booted")
    pkg = tmp_path / "bootpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "booted.py").write_text(STUB.format(short="booted", path=str(path)))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        m = importlib.import_module("bootpkg.booted")
        assert m.answer() == 42
        assert m.__name__ == "bootpkg.booted" and sys.modules["bootpkg.booted"] is m
        assert m.__file__ == str(path)
        # The stub's spec and loader become the module's, the spec's origin the shared object.
        assert m.__package__ == "bootpkg"
        assert m.__loader__.name == "bootpkg.booted" and m.__spec__.loader is m.__loader__
        assert m.__spec__.name == "bootpkg.booted" and m.__spec__.origin == str(path)
        assert repr(m) == "<module 'bootpkg.booted' from %r>" % str(path)
    finally:
        for name in ("bootpkg.booted", "bootpkg"):
            sys.modules.pop(name, None)


@pytest.mark.abis("universal")
def test_load_bootstrap_refuses_a_different_environment(compiler):
    import hpy.universal
    path = compiler.compile_module(SOURCE, name="booted")
    env = dict(os.environ, HPY="nonsense-mode-value")
    with pytest.raises(ImportError, match="reads HPY from os.environ"):
        hpy.universal._load_bootstrap("booted", "booted", None, str(path), None, None, env)
