"""tests/e2e/test_compat_macros.py: HPy 0.9's convenience macros: HPyDef_*_IMPL, HPy_RETURN_RICHCOMPARE,
HPY_ABI, HPY_SSIZE_T_MAX/MIN, HPy_AsVoidP/HPy_FromVoidP."""
import sys

import pytest

SOURCE = r"""
typedef struct { long v; } NumObject;
HPyType_HELPERS(NumObject)

/* implementations with names of their own, shared by two definitions */
static HPy shared_noargs(HPyContext *ctx, HPy self) { return HPyUnicode_FromString(ctx, "shared"); }
HPyDef_METH_IMPL(first, "first", shared_noargs, HPyFunc_NOARGS, .doc = "first doc")
HPyDef_METH_IMPL(second, "second", shared_noargs, HPyFunc_NOARGS)

HPyDef_SLOT_IMPL(Num_new, num_new, HPy_tp_new)
static HPy num_new(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    long v = 0;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "|l", &v))
        return HPy_NULL;
    NumObject *n;
    HPy h = HPy_New(ctx, type, &n);
    if (!HPy_IsNull(h))
        n->v = v;
    return h;
}

HPyDef_SLOT_IMPL(Num_cmp, num_cmp, HPy_tp_richcompare)
static HPy num_cmp(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    long a = NumObject_AsStruct(ctx, self)->v;
    long b = HPyLong_AsLong(ctx, other);
    if (b == -1 && HPyErr_Occurred(ctx)) {
        HPyErr_Clear(ctx);
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    HPy_RETURN_RICHCOMPARE(ctx, a, b, op);
}

HPyDef_GET_IMPL(Num_double, "double", num_double, .doc = "2v")
static HPy num_double(HPyContext *ctx, HPy self, void *closure)
{
    return HPyLong_FromLong(ctx, 2 * NumObject_AsStruct(ctx, self)->v);
}

HPyDef_SET_IMPL(Num_half, "half", num_set_half)
static int num_set_half(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    NumObject_AsStruct(ctx, self)->v = HPyLong_AsLong(ctx, value) * 2;
    return HPyErr_Occurred(ctx) ? -1 : 0;
}

HPyDef_GETSET_IMPL(Num_value, "value", num_get_value, num_set_value)
static HPy num_get_value(HPyContext *ctx, HPy self, void *closure)
{
    return HPyLong_FromLong(ctx, NumObject_AsStruct(ctx, self)->v);
}
static int num_set_value(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    NumObject_AsStruct(ctx, self)->v = HPyLong_AsLong(ctx, value);
    return HPyErr_Occurred(ctx) ? -1 : 0;
}

static HPyDef *Num_defines[] = { &Num_new, &Num_cmp, &Num_double, &Num_half, &Num_value, NULL };
static HPyType_Spec Num_spec = { "mytest.Num", sizeof(NumObject), 0, HPy_TPFLAGS_DEFAULT,
                                 HPyType_BuiltinShape_Object, NULL, Num_defines, NULL };

HPyDef_METH(info, "info", HPyFunc_O)
static HPy info_impl(HPyContext *ctx, HPy self, HPy arg)
{
    /* a handle through void * and back is the same handle */
    HPy back = HPy_FromVoidP(HPy_AsVoidP(arg));
    if (back._i != arg._i || HPy_AsVoidP(HPy_NULL) != NULL)
        return HPyUnicode_FromString(ctx, "void* round trip failed");
    return HPy_BuildValue(ctx, "(snn)", HPY_ABI, (HPy_ssize_t)HPY_SSIZE_T_MAX, (HPy_ssize_t)HPY_SSIZE_T_MIN);
}

@EXPORT(first)
@EXPORT(second)
@EXPORT(info)
@EXPORT_TYPE("Num", Num_spec)
@INIT
"""


@pytest.mark.parametrize("cplusplus", [False, True], ids=["c", "c++"])
def test_compat_macros(compiler, hpy_abi, cplusplus):
    mod = compiler.make_module(SOURCE, cplusplus=cplusplus)
    assert mod.first() == mod.second() == "shared"
    assert mod.first.__doc__ == "first doc"
    # HPY_ABI names the build: debug mode loads the universal one.
    assert mod.info(object()) == (compiler.abi, sys.maxsize, -sys.maxsize - 1)
    n = mod.Num(4)
    assert (n < 5, n <= 4, n == 4, n != 4, n > 3, n >= 5) == (True, True, True, False, True, False)
    assert (n == "x") is False
    assert n.double == 8 and type(n).double.__doc__ == "2v"
    n.half = 3
    assert n.value == 6
    n.value = 10
    assert n.double == 20
    with pytest.raises(AttributeError):
        n.half
