"""tests/e2e/test_eval.py: HPy_Compile_s in the three source kinds and HPy_EvalCode, with their errors."""
import sys
import types

import pytest
from modcache import shared_module

EVAL_SOURCE = r"""
    /* compile(source, filename, kind) */
    HPyDef_METH(compile, "compile", HPyFunc_VARARGS)
    static HPy compile_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        const char *source, *filename;
        int kind;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "ssi", &source, &filename, &kind))
            return HPy_NULL;
        return HPy_Compile_s(ctx, source, filename, (HPy_SourceKind)kind);
    }
    /* eval(code, globals, locals or None) */
    HPyDef_METH(eval, "eval", HPyFunc_VARARGS)
    static HPy eval_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPy_EvalCode(ctx, args[0], args[1], HPy_Is(ctx, args[2], ctx->h_None) ? args[1] : args[2]);
    }
    HPyDef_METH(kinds, "kinds", HPyFunc_NOARGS)
    static HPy kinds_impl(HPyContext *ctx, HPy self)
    {
        return HPy_BuildValue(ctx, "(iii)", HPy_SourceKind_Expr, HPy_SourceKind_File, HPy_SourceKind_Single);
    }
    @EXPORT(compile) @EXPORT(eval) @EXPORT(kinds)
    @INIT
"""

EXPR, FILE, SINGLE = 0, 1, 2


@pytest.fixture
def mod(compiler):
    return shared_module(compiler, EVAL_SOURCE)


def test_kinds(mod):
    assert mod.kinds() == (EXPR, FILE, SINGLE)


def test_expr(mod):
    code = mod.compile("a * 2 + 1", "<expr>", EXPR)
    assert isinstance(code, types.CodeType) and code.co_filename == "<expr>"
    assert mod.eval(code, {"a": 20}, None) == 41
    assert mod.eval(code, {}, {"a": 1}) == 3  # locals come first
    assert mod.eval(mod.compile("len('abc')", "f", EXPR), {}, None) == 3


def test_file(mod):
    code = mod.compile("x = 5\ndef f(y):\n    return x * y\nz = f(3)\n", "my_file.py", FILE)
    g = {}
    assert mod.eval(code, g, None) is None
    assert g["z"] == 15 and g["f"].__code__.co_filename == "my_file.py"
    loc = {}
    mod.eval(mod.compile("w = 1", "f", FILE), g, loc)
    assert loc == {"w": 1} and "w" not in g


def test_single(mod):
    seen = []
    old = sys.displayhook
    sys.displayhook = seen.append
    try:
        g = {}
        assert mod.eval(mod.compile("40 + 2", "<stdin>", SINGLE), g, None) is None
        mod.eval(mod.compile("v = 1", "<stdin>", SINGLE), g, None)
    finally:
        sys.displayhook = old
    assert seen == [42] and g["v"] == 1


def test_errors(mod):
    with pytest.raises(SyntaxError) as info:
        mod.compile("1 +", "bad_source.py", EXPR)
    assert info.value.filename == "bad_source.py" and info.value.lineno == 1
    with pytest.raises(SyntaxError):
        mod.compile("x = 1", "f", EXPR)  # a statement is no expression
    with pytest.raises(SyntaxError):
        mod.compile("a = 1\nb = 2\n", "f", SINGLE)  # one statement only
    with pytest.raises(IndentationError):
        mod.compile("if x:\nreturn", "f", FILE)
    with pytest.raises(SystemError, match="HPy_Compile_s"):
        mod.compile("1", "f", 7)
    with pytest.raises(ZeroDivisionError):
        mod.eval(mod.compile("1 / 0", "f", EXPR), {}, None)
    with pytest.raises(NameError, match="undefined_name"):
        mod.eval(mod.compile("undefined_name", "f", EXPR), {}, None)
    with pytest.raises((TypeError, SystemError)):  # CPython's own check: SystemError
        mod.eval(mod.compile("1", "f", EXPR), "not a dict", None)
