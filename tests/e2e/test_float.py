"""tests/e2e/test_float.py: HPyFloat_FromDouble/AsDouble, HPy_Float and the float type handle."""
import math

import pytest


@pytest.fixture
def mod(compiler):
    return compiler.make_module("""
        #include <math.h>
        HPyDef_METH(from_double, "from_double", HPyFunc_NOARGS)
        static HPy from_double_impl(HPyContext *ctx, HPy self)
        {
            HPy items[] = { HPyFloat_FromDouble(ctx, 1.5),
                                  HPyFloat_FromDouble(ctx, -0.0), HPyFloat_FromDouble(ctx, INFINITY),
                                  HPyFloat_FromDouble(ctx, NAN), HPyFloat_FromDouble(ctx, 5e-324) };
            HPy r = HPyTuple_FromArray(ctx, items, 5);
            for (int i = 0; i < 5; i++)
                HPy_Close(ctx, items[i]);
            return r;
        }
        HPyDef_METH(as_double, "as_double", HPyFunc_O)
        static HPy as_double_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            double d = HPyFloat_AsDouble(ctx, arg);
            if (HPyErr_Occurred(ctx)) {
                if (d != -1.0)
                    return HPyErr_Format(ctx, ctx->h_SystemError, "bad error value");
                return HPy_NULL;
            }
            return HPyFloat_FromDouble(ctx, d * 2);
        }
        HPyDef_METH(to_float, "to_float", HPyFunc_O)
        static HPy to_float_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPy_Float(ctx, arg);
        }
        HPyDef_METH(is_float, "is_float", HPyFunc_O)
        static HPy is_float_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyBool_FromBool(ctx, HPy_TypeCheck(ctx, arg, ctx->h_FloatType));
        }
        @EXPORT(from_double) @EXPORT(as_double) @EXPORT(to_float) @EXPORT(is_float)
        @INIT
    """)


class F:
    def __float__(self):
        return 2.25


class I:
    def __index__(self):
        return 3


def test_from_double(mod):
    a, negzero, inf, nan, tiny = mod.from_double()
    assert type(a) is float and a == 1.5
    assert negzero == 0.0 and math.copysign(1, negzero) == -1
    assert inf == math.inf
    assert math.isnan(nan)
    assert tiny == 5e-324


def test_as_double(mod):
    assert mod.as_double(1.25) == 2.5
    assert mod.as_double(-3) == -6.0
    assert mod.as_double(True) == 2.0
    assert mod.as_double(F()) == 4.5
    assert mod.as_double(I()) == 6.0
    assert mod.as_double(math.inf) == math.inf
    assert mod.as_double(-0.5) == -1.0      # the error value without an error
    with pytest.raises(TypeError, match="^must be real number, not str$"):
        mod.as_double("1.0")
    with pytest.raises(TypeError, match="^must be real number, not NoneType$"):
        mod.as_double(None)
    with pytest.raises(OverflowError, match="^int too large to convert to float$"):
        mod.as_double(10**400)


def test_number_float(mod):
    assert mod.to_float(3) == 3.0 and type(mod.to_float(3)) is float
    assert mod.to_float("2.5") == 2.5
    assert mod.to_float(F()) == 2.25
    with pytest.raises(ValueError, match="^could not convert string to float: 'x'$"):
        mod.to_float("x")
    with pytest.raises(TypeError, match="^float\\(\\) argument must be a string or a real number, not 'list'$"):
        mod.to_float([])
    assert mod.is_float(1.0) is True
    assert mod.is_float(1) is False

    class Sub(float):
        pass
    assert mod.is_float(Sub(1)) is True
