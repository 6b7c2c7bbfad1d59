"""tests/e2e/test_contextvar.py: HPyContextVar_New/Get/Set against Python's contextvars."""
import contextvars

import pytest
from modcache import shared_module

CONTEXTVAR_SOURCE = r"""
    /* new(name, default or a missing marker): the marker (Ellipsis) creates a variable without default */
    HPyDef_METH(new, "new", HPyFunc_VARARGS)
    static HPy new_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
        if (name == NULL)
            return HPy_NULL;
        HPy def = HPy_Is(ctx, args[1], ctx->h_Ellipsis) ? HPy_NULL : args[1];
        return HPyContextVar_New(ctx, name, def);
    }
    /* get(var, default or Ellipsis): the value, or the string "<unset>" when there is none */
    HPyDef_METH(get, "get", HPyFunc_VARARGS)
    static HPy get_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPy def = HPy_Is(ctx, args[1], ctx->h_Ellipsis) ? HPy_NULL : args[1];
        HPy result = HPy_NULL;
        if (HPyContextVar_Get(ctx, args[0], def, &result) < 0)
            return HPy_NULL;
        if (HPy_IsNull(result))
            return HPyUnicode_FromString(ctx, "<unset>");
        return result;
    }
    HPyDef_METH(set, "set", HPyFunc_VARARGS)
    static HPy set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyContextVar_Set(ctx, args[0], args[1]);
    }
    @EXPORT(new) @EXPORT(get) @EXPORT(set)
    @INIT
"""


@pytest.fixture
def mod(compiler):
    return shared_module(compiler, CONTEXTVAR_SOURCE)


def test_new_and_defaults(mod):
    v = mod.new("v", ...)
    assert isinstance(v, contextvars.ContextVar) and v.name == "v"
    assert mod.get(v, ...) == "<unset>"
    assert mod.get(v, 5) == 5
    with pytest.raises(LookupError):
        v.get()
    w = mod.new("w", "var default")
    assert mod.get(w, ...) == "var default" and w.get() == "var default"
    assert mod.get(w, "call default") == "call default"  # the call's default comes first


def test_set_and_token(mod):
    v = mod.new("v", 0)

    def inside():
        token = mod.set(v, "inside")
        assert isinstance(token, contextvars.Token) and token.var is v
        assert mod.get(v, ...) == "inside" and v.get() == "inside"
        v.reset(token)
        assert mod.get(v, ...) == 0
        mod.set(v, "kept")
        return mod.get(v, "ignored")

    ctx = contextvars.copy_context()
    assert ctx.run(inside) == "kept"
    assert ctx[v] == "kept"
    assert mod.get(v, ...) == 0  # the outer context did not change
    v.set(7)
    assert mod.get(v, ...) == 7


def test_errors(mod):
    with pytest.raises(TypeError):
        mod.get("not a variable", ...)
    with pytest.raises(TypeError):
        mod.set(42, 1)
