"""tests/e2e/test_number.py: every HPy number operation (binary, unary, in-place, power) against Python's operators."""
import operator

import pytest

from support import message_of

BINARY = ["Add", "Subtract", "Multiply", "MatrixMultiply", "FloorDivide", "TrueDivide", "Remainder",
          "Divmod", "Lshift", "Rshift", "And", "Xor", "Or"]
INPLACE = ["InPlace" + n for n in BINARY if n != "Divmod"]
UNARY = ["Negative", "Positive", "Absolute", "Invert", "Index", "Long", "Float"]

PY_BINARY = {"Add": operator.add, "Subtract": operator.sub, "Multiply": operator.mul,
             "MatrixMultiply": operator.matmul, "FloorDivide": operator.floordiv,
             "TrueDivide": operator.truediv, "Remainder": operator.mod, "Divmod": divmod,
             "Lshift": operator.lshift, "Rshift": operator.rshift, "And": operator.and_,
             "Xor": operator.xor, "Or": operator.or_}
PY_INPLACE = {"InPlace" + k: getattr(operator, "i" + v.__name__.strip("_"))
              for k, v in PY_BINARY.items() if k != "Divmod"}
PY_UNARY = {"Negative": operator.neg, "Positive": operator.pos, "Absolute": abs, "Invert": operator.invert,
            "Index": operator.index, "Long": int, "Float": float}


def _source():
    parts = []
    for n in BINARY + INPLACE:
        parts.append("""
            HPyDef_METH(f_%(n)s, "%(n)s", HPyFunc_VARARGS)
            static HPy f_%(n)s_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
            {
                return HPy_%(n)s(ctx, args[0], args[1]);
            }
            @EXPORT(f_%(n)s)""" % {"n": n})
    for n in UNARY:
        parts.append("""
            HPyDef_METH(f_%(n)s, "%(n)s", HPyFunc_O)
            static HPy f_%(n)s_impl(HPyContext *ctx, HPy self, HPy arg)
            {
                return HPy_%(n)s(ctx, arg);
            }
            @EXPORT(f_%(n)s)""" % {"n": n})
    parts.append("""
        HPyDef_METH(f_Power, "Power", HPyFunc_VARARGS)
        static HPy f_Power_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_Power(ctx, args[0], args[1], args[2]);
        }
        HPyDef_METH(f_InPlacePower, "InPlacePower", HPyFunc_VARARGS)
        static HPy f_InPlacePower_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_InPlacePower(ctx, args[0], args[1], args[2]);
        }
        HPyDef_METH(f_Check, "Check", HPyFunc_O)
        static HPy f_Check_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyLong_FromLong(ctx, HPyNumber_Check(ctx, arg));
        }
        @EXPORT(f_Power) @EXPORT(f_InPlacePower) @EXPORT(f_Check)
        @INIT""")
    return "\n".join(parts)


@pytest.fixture
def mod(compiler):
    return compiler.make_module(_source())


class M:
    """Records matrix multiplications (in place or not) and other in-place ops."""

    def __init__(self, v):
        self.v = v

    def __matmul__(self, other):
        return ("matmul", self.v, other)

    def __rmatmul__(self, other):
        return ("rmatmul", other, self.v)

    def __imatmul__(self, other):
        self.v = ("imatmul", self.v, other)
        return self

    def __ipow__(self, other):
        self.v = ("ipow", self.v, other)
        return self

    def __iadd__(self, other):
        self.v = ("iadd", self.v, other)
        return self


def test_binary_ints_floats(mod):
    for name in BINARY:
        if name == "MatrixMultiply":
            continue
        f, py = getattr(mod, name), PY_BINARY[name]
        for a, b in [(17, 5), (-17, 5), (2**70, 3), (6, 1)]:
            assert f(a, b) == py(a, b), (name, a, b)
        if name not in ("Lshift", "Rshift", "And", "Xor", "Or"):
            assert f(7.5, 2) == py(7.5, 2), name
    assert mod.Add("ab", "cd") == "abcd"
    assert mod.Multiply([1], 3) == [1, 1, 1]
    assert mod.Remainder("%d-%s", (1, "x")) == "1-x"
    assert mod.Or({1}, {2}) == {1, 2}
    assert mod.Divmod(-7, 2) == (-4, 1)


def test_binary_errors(mod):
    with pytest.raises(ZeroDivisionError, match="^division by zero$"):
        mod.TrueDivide(1, 0)
    with pytest.raises(ZeroDivisionError, match=message_of(lambda: 1 // 0)):
        mod.FloorDivide(1, 0)
    with pytest.raises(ZeroDivisionError, match=message_of(lambda: 1 % 0)):
        mod.Remainder(1, 0)
    with pytest.raises(ValueError, match="^negative shift count$"):
        mod.Lshift(1, -1)
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for \+: 'int' and 'str'$"):
        mod.Add(1, "a")
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for -: 'str' and 'str'$"):
        mod.Subtract("a", "b")
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for @: 'int' and 'int'$"):
        mod.MatrixMultiply(1, 2)
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for divmod\(\): 'str' and 'int'$"):
        mod.Divmod("a", 1)
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for &: 'float' and 'int'$"):
        mod.And(1.0, 1)


def test_matrix_multiply(mod):
    m = M(3)
    assert mod.MatrixMultiply(m, 4) == ("matmul", 3, 4)
    assert mod.MatrixMultiply(4, m) == ("rmatmul", 4, 3)
    r = mod.InPlaceMatrixMultiply(m, 5)
    assert r is m and m.v == ("imatmul", 3, 5)


def test_inplace(mod):
    for name in INPLACE:
        if name == "InPlaceMatrixMultiply":
            continue
        f, py = getattr(mod, name), PY_INPLACE[name]
        assert f(17, 5) == py(17, 5), name
    lst = [1]
    assert mod.InPlaceAdd(lst, [2]) is lst and lst == [1, 2]
    assert mod.InPlaceMultiply(lst, 2) is lst and lst == [1, 2, 1, 2]
    s = {1, 2, 3}
    assert mod.InPlaceAnd(s, {2, 3, 4}) is s and s == {2, 3}
    assert mod.InPlaceOr(s, {9}) is s and s == {2, 3, 9}
    assert mod.InPlaceXor(s, {2}) is s and s == {3, 9}
    assert mod.InPlaceSubtract(s, {3}) is s and s == {9}
    t = (1,)
    r = mod.InPlaceAdd(t, (2,))
    assert r == (1, 2) and t == (1,)
    m = M(0)
    assert mod.InPlaceAdd(m, 1) is m and m.v == ("iadd", 0, 1)
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for \+=: 'int' and 'str'$"):
        mod.InPlaceAdd(1, "a")
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for @=: 'int' and 'int'$"):
        mod.InPlaceMatrixMultiply(1, 2)
    with pytest.raises(ZeroDivisionError):
        mod.InPlaceTrueDivide(1, 0)


def test_power(mod):
    assert mod.Power(2, 10, None) == 1024
    assert mod.Power(2, 10, 1000) == 24
    assert mod.Power(3, -1, 7) == 5
    assert mod.Power(2.0, 0.5, None) == 2.0 ** 0.5
    assert mod.Power(2, -2, None) == 0.25
    assert mod.InPlacePower(2, 5, None) == 32
    assert mod.InPlacePower(2, 5, 3) == 2
    m = M(1)
    assert mod.InPlacePower(m, 2, None) is m and m.v == ("ipow", 1, 2)
    with pytest.raises(ValueError, match="^pow\\(\\) 3rd argument cannot be 0$"):
        mod.Power(2, 3, 0)
    with pytest.raises(TypeError, match=r"^pow\(\) 3rd argument not allowed unless all arguments are integers$"):
        mod.Power(2.0, 3, 5)
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for \*\* or pow\(\): 'str' and 'int'$"):
        mod.Power("a", 2, None)
    with pytest.raises(ZeroDivisionError):
        mod.Power(0, -1, None)


def test_unary(mod):
    for name in UNARY:
        f, py = getattr(mod, name), PY_UNARY[name]
        for v in (5, -5, 0, 2**80, True):
            r = f(v)
            assert r == py(v) and type(r) is type(py(v)), (name, v)
    assert mod.Negative(1.5) == -1.5
    assert mod.Absolute(-2.5) == 2.5
    assert mod.Long(3.9) == 3
    assert mod.Long("42") == 42
    assert mod.Float("1e3") == 1000.0
    assert type(mod.Index(True)) is int

    class Idx:
        def __index__(self):
            return 11
    assert mod.Index(Idx()) == 11
    with pytest.raises(TypeError, match="^'float' object cannot be interpreted as an integer$"):
        mod.Index(1.5)
    with pytest.raises(TypeError, match="^bad operand type for unary -: 'str'$"):
        mod.Negative("a")
    with pytest.raises(TypeError, match="^bad operand type for unary \\+: 'list'$"):
        mod.Positive([])
    with pytest.raises(TypeError, match="^bad operand type for abs\\(\\): 'str'$"):
        mod.Absolute("a")
    with pytest.raises(TypeError, match="^bad operand type for unary ~: 'float'$"):
        mod.Invert(1.0)
    with pytest.raises(ValueError, match="^invalid literal for int\\(\\) with base 10: 'x'$"):
        mod.Long("x")


def test_number_check(mod):
    assert mod.Check(1) == 1
    assert mod.Check(1.5) == 1
    assert mod.Check(1j) == 1
    assert mod.Check("1") == 0
    assert mod.Check([]) == 0

    class Idx:
        def __index__(self):
            return 1
    assert mod.Check(Idx()) == 1
