"""tests/e2e/test_import.py: HPyImport_ImportModule for top-level, dotted, already loaded and missing modules."""
import sys

import pytest


def test_import(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(imp, "imp", HPyFunc_O)
        static HPy imp_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyImport_ImportModule(ctx, HPyUnicode_AsUTF8AndSize(ctx, arg, NULL));
        }
        @EXPORT(imp)
        @INIT
    """)
    import math
    import os.path
    assert mod.imp("math") is math
    assert mod.imp("sys") is sys
    assert mod.imp("os.path") is os.path              # the submodule, not the package
    sys.modules.pop("json.decoder", None)
    sys.modules.pop("json", None)
    json_decoder = mod.imp("json.decoder")
    assert json_decoder.__name__ == "json.decoder" and "json" in sys.modules
    with pytest.raises(ModuleNotFoundError, match="^No module named 'no_such_module_xyz'$") as exc:
        mod.imp("no_such_module_xyz")
    assert exc.value.name == "no_such_module_xyz"
    with pytest.raises(ModuleNotFoundError, match="^No module named 'os.nope'; 'os' is not a package$"):
        mod.imp("os.nope")
    with pytest.raises(ValueError, match="^Empty module name$"):
        mod.imp("")
