"""tests/e2e/test_embedded.py: HPY_EMBEDDED_MODULES and HPY_MOD_EMBEDDABLE: two HPy modules in one binary."""
import pytest

MODULE = r"""
#define HPY_EMBEDDED_MODULES
#include "hpy.h"
HPY_MOD_EMBEDDABLE(%(name)s)

HPyDef_METH(%(name)s_which, "which", HPyFunc_NOARGS)
static HPy %(name)s_which_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, "%(name)s");
}

HPyDef_METH(%(name)s_add, "add", HPyFunc_VARARGS)
static HPy %(name)s_add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll", &a, &b))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, a + b + %(bias)d);
}

/* HPyDef symbols are global, as in HPy 0.9: each module names its own */
static HPyDef *defines[] = { &%(name)s_which, &%(name)s_add, NULL };
static HPyModuleDef moduledef = { "%(name)s", 0, NULL, defines, NULL };
HPy_MODINIT(%(name)s, moduledef)
HPy_MOD_GIL(%(name)s, HPy_MOD_GIL_NOT_USED)
"""


@pytest.mark.parametrize("cplusplus", [False, True], ids=["c", "c++"])
def test_two_modules_in_one_binary(compiler, tmp_path, cplusplus):
    ext = ".cpp" if cplusplus else ".c"
    second = tmp_path / ("second" + ext)
    second.write_text(MODULE % {"name": "second", "bias": 100})
    path = compiler.compile_module(MODULE % {"name": "first", "bias": 0}, name="first",
                                   cplusplus=cplusplus, extra_source=second)
    first = compiler.load_module("first", path)
    other = compiler.load_module("second", path)
    assert (first.which(), other.which()) == ("first", "second")
    assert (first.add(1, 2), other.add(1, 2)) == (3, 103)
    with pytest.raises(TypeError):
        other.add(1)


def test_embeddable_without_embedded_modules(compiler):
    # Without HPY_EMBEDDED_MODULES the macro is accepted and does nothing.
    src = (MODULE % {"name": "mytest", "bias": 0}).replace("#define HPY_EMBEDDED_MODULES\n", "")
    assert compiler.make_module(src).add(2, 3) == 5
