"""tests/e2e/test_object.py: the generic object protocol (attributes, items, repr/str, comparison, hash, length, type checks)."""
import sys

import pytest

from support import message_of

OBJECT_SOURCE = r"""
    #define RET_INT(expr) do { long _r = (long)(expr); \
        if (_r == -1 && HPyErr_Occurred(ctx)) return HPy_NULL; \
        return HPyLong_FromLong(ctx, _r); } while (0)
    #define VA(NAME) HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS) \
        static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    #define O(NAME) HPyDef_METH(NAME, #NAME, HPyFunc_O) \
        static HPy NAME##_impl(HPyContext *ctx, HPy self, HPy arg)

    /* the *_s and *_i variants take their key from a Python str/int argument */
    static const char *s_of(HPyContext *ctx, HPy h) { return HPyUnicode_AsUTF8AndSize(ctx, h, NULL); }
    static HPy_ssize_t i_of(HPyContext *ctx, HPy h) { return HPyLong_AsSsize_t(ctx, h); }

    VA(getattr) { return HPy_GetAttr(ctx, args[0], args[1]); }
    VA(getattr_s) { return HPy_GetAttr_s(ctx, args[0], s_of(ctx, args[1])); }
    VA(hasattr) { RET_INT(HPy_HasAttr(ctx, args[0], args[1])); }
    VA(hasattr_s) { RET_INT(HPy_HasAttr_s(ctx, args[0], s_of(ctx, args[1]))); }
    VA(setattr) { RET_INT(HPy_SetAttr(ctx, args[0], args[1], args[2])); }
    VA(setattr_s) { RET_INT(HPy_SetAttr_s(ctx, args[0], s_of(ctx, args[1]), args[2])); }
    VA(delattr) { RET_INT(HPy_DelAttr(ctx, args[0], args[1])); }
    VA(delattr_s) { RET_INT(HPy_DelAttr_s(ctx, args[0], s_of(ctx, args[1]))); }
    VA(getitem) { return HPy_GetItem(ctx, args[0], args[1]); }
    VA(getitem_i) { return HPy_GetItem_i(ctx, args[0], i_of(ctx, args[1])); }
    VA(getitem_s) { return HPy_GetItem_s(ctx, args[0], s_of(ctx, args[1])); }
    VA(setitem) { RET_INT(HPy_SetItem(ctx, args[0], args[1], args[2])); }
    VA(setitem_i) { RET_INT(HPy_SetItem_i(ctx, args[0], i_of(ctx, args[1]), args[2])); }
    VA(setitem_s) { RET_INT(HPy_SetItem_s(ctx, args[0], s_of(ctx, args[1]), args[2])); }
    VA(delitem) { RET_INT(HPy_DelItem(ctx, args[0], args[1])); }
    VA(delitem_i) { RET_INT(HPy_DelItem_i(ctx, args[0], i_of(ctx, args[1]))); }
    VA(delitem_s) { RET_INT(HPy_DelItem_s(ctx, args[0], s_of(ctx, args[1]))); }
    VA(contains) { RET_INT(HPy_Contains(ctx, args[0], args[1])); }
    O(repr) { return HPy_Repr(ctx, arg); }
    O(str) { return HPy_Str(ctx, arg); }
    O(ascii) { return HPy_ASCII(ctx, arg); }
    O(bytes) { return HPy_Bytes(ctx, arg); }
    VA(richcompare) { return HPy_RichCompare(ctx, args[0], args[1], (int)i_of(ctx, args[2])); }
    VA(richcomparebool) { RET_INT(HPy_RichCompareBool(ctx, args[0], args[1], (int)i_of(ctx, args[2]))); }
    O(hash) { RET_INT(HPy_Hash(ctx, arg)); }
    O(length) { RET_INT(HPy_Length(ctx, arg)); }
    O(istrue) { RET_INT(HPy_IsTrue(ctx, arg)); }
    O(type) { return HPy_Type(ctx, arg); }
    VA(typecheck) { return HPyLong_FromLong(ctx, HPy_TypeCheck(ctx, args[0], args[1])); }
    VA(is_) { return HPyLong_FromLong(ctx, HPy_Is(ctx, args[0], args[1])); }
    O(callable) { return HPyLong_FromLong(ctx, HPyCallable_Check(ctx, arg)); }
    HPyDef_METH(ops, "ops", HPyFunc_NOARGS)
    static HPy ops_impl(HPyContext *ctx, HPy self)
    {
        return HPy_BuildValue(ctx, "(iiiiii)", HPy_LT, HPy_LE, HPy_EQ, HPy_NE, HPy_GT, HPy_GE);
    }

    @EXPORT(getattr) @EXPORT(getattr_s) @EXPORT(hasattr) @EXPORT(hasattr_s) @EXPORT(setattr)
    @EXPORT(setattr_s) @EXPORT(delattr) @EXPORT(delattr_s) @EXPORT(getitem) @EXPORT(getitem_i)
    @EXPORT(getitem_s) @EXPORT(setitem) @EXPORT(setitem_i) @EXPORT(setitem_s) @EXPORT(delitem)
    @EXPORT(delitem_i) @EXPORT(delitem_s) @EXPORT(contains) @EXPORT(repr) @EXPORT(str) @EXPORT(ascii)
    @EXPORT(bytes) @EXPORT(richcompare) @EXPORT(richcomparebool) @EXPORT(hash) @EXPORT(length)
    @EXPORT(istrue) @EXPORT(type) @EXPORT(typecheck) @EXPORT(is_) @EXPORT(callable) @EXPORT(ops)
    @INIT
"""


@pytest.fixture
def mod(compiler):
    return compiler.make_module(OBJECT_SOURCE)


class Obj:
    pass


class Mapping:
    """Records item accesses with whatever key type arrives."""

    def __init__(self):
        self.log = []

    def __getitem__(self, key):
        self.log.append(("get", key))
        return key

    def __setitem__(self, key, value):
        self.log.append(("set", key, value))

    def __delitem__(self, key):
        self.log.append(("del", key))


def test_attributes(mod):
    o = Obj()
    o.x = 1
    assert mod.getattr(o, "x") == 1
    assert mod.getattr_s(o, "x") == 1
    assert mod.getattr_s(1, "real") == 1
    with pytest.raises(AttributeError, match="^'Obj' object has no attribute 'y'$"):
        mod.getattr(o, "y")
    with pytest.raises(AttributeError, match="^'Obj' object has no attribute 'y'$"):
        mod.getattr_s(o, "y")
    with pytest.raises(TypeError, match="^attribute name must be string, not 'int'$"):
        mod.getattr(o, 1)
    assert (mod.hasattr(o, "x"), mod.hasattr(o, "y"), mod.hasattr_s(o, "x"), mod.hasattr_s(o, "y")) == (1, 0, 1, 0)

    class Raising:
        @property
        def p(self):
            raise ValueError("boom")
    assert mod.hasattr(Raising(), "p") == 0      # errors are swallowed
    assert mod.hasattr_s(Raising(), "p") == 0

    assert mod.setattr(o, "y", 5) == 0 and o.y == 5
    assert mod.setattr_s(o, "z", [1]) == 0 and o.z == [1]
    with pytest.raises(AttributeError, match="^attribute 'real' of 'int' objects is not writable$"):
        mod.setattr(1, "real", 2)
    # CPython 3.13 adds "and no __dict__ for setting new attributes"
    with pytest.raises(AttributeError, match="^'object' object has no attribute 'a'"):
        mod.setattr_s(object(), "a", 2)
    assert mod.delattr(o, "y") == 0 and not hasattr(o, "y")
    assert mod.delattr_s(o, "z") == 0 and not hasattr(o, "z")
    with pytest.raises(AttributeError, match="^'Obj' object has no attribute 'z'$"):
        mod.delattr_s(o, "z")
    with pytest.raises(AttributeError):
        mod.delattr(o, "zz")
    value = object()
    before = sys.getrefcount(value)
    mod.setattr(o, "v", value)
    assert sys.getrefcount(value) == before + 1
    mod.delattr(o, "v")
    assert sys.getrefcount(value) == before


def test_items(mod):
    lst = [10, 20, 30]
    d = {"a": 1, 5: "five"}
    assert mod.getitem(lst, 1) == 20
    assert mod.getitem(lst, -1) == 30
    assert mod.getitem(d, 5) == "five"
    assert mod.getitem_i(lst, 2) == 30
    assert mod.getitem_i(lst, -3) == 10
    assert mod.getitem_i(d, 5) == "five"        # the index is an int key
    assert mod.getitem_i("xyz", 1) == "y"
    assert mod.getitem_s(d, "a") == 1
    with pytest.raises(IndexError, match="^list index out of range$"):
        mod.getitem_i(lst, 3)
    with pytest.raises(IndexError, match="^list index out of range$"):
        mod.getitem(lst, 3)
    with pytest.raises(KeyError, match="^'b'$"):
        mod.getitem_s(d, "b")
    with pytest.raises(KeyError, match="^7$"):
        mod.getitem_i(d, 7)
    with pytest.raises(TypeError, match="^list indices must be integers or slices, not str$"):
        mod.getitem_s(lst, "a")
    with pytest.raises(TypeError, match="^'int' object is not subscriptable$"):
        mod.getitem(1, 0)

    assert mod.setitem(lst, 0, "x") == 0 and lst == ["x", 20, 30]
    assert mod.setitem_i(lst, -1, "y") == 0 and lst == ["x", 20, "y"]
    assert mod.setitem_s(d, "b", 2) == 0 and d["b"] == 2
    assert mod.setitem_i(d, 9, 0) == 0 and d[9] == 0
    with pytest.raises(IndexError, match="^list assignment index out of range$"):
        mod.setitem_i(lst, 5, 0)
    with pytest.raises(TypeError, match="^'tuple' object does not support item assignment$"):
        mod.setitem((1,), 0, 0)
    with pytest.raises(TypeError, match=message_of(lambda: d.__setitem__([], 0))):
        mod.setitem(d, [], 0)

    assert mod.delitem(lst, 0) == 0 and lst == [20, "y"]
    assert mod.delitem_i(lst, -1) == 0 and lst == [20]
    assert mod.delitem_s(d, "b") == 0 and "b" not in d
    assert mod.delitem_i(d, 9) == 0 and 9 not in d
    with pytest.raises(IndexError, match="^list assignment index out of range$"):
        mod.delitem_i(lst, 4)
    with pytest.raises(KeyError, match="^'zz'$"):
        mod.delitem_s(d, "zz")
    with pytest.raises(TypeError, match="^'str' object doesn't support item deletion$"):
        mod.delitem("abc", 0)

    m = Mapping()
    mod.getitem_i(m, 3)
    mod.getitem_s(m, "k")
    mod.setitem_i(m, 4, "v")
    mod.setitem_s(m, "k", "w")
    mod.delitem_i(m, 5)
    mod.delitem_s(m, "k")
    assert m.log == [("get", 3), ("get", "k"), ("set", 4, "v"), ("set", "k", "w"), ("del", 5), ("del", "k")]
    assert [type(e[1]) for e in m.log] == [int, str, int, str, int, str]


def test_contains(mod):
    assert mod.contains([1, 2], 2) == 1
    assert mod.contains([1, 2], 3) == 0
    assert mod.contains({"a": 1}, "a") == 1
    assert mod.contains("hello", "ell") == 1
    with pytest.raises(TypeError, match=message_of(lambda: 1 in 1)):
        mod.contains(1, 1)
    with pytest.raises(TypeError, match=message_of(lambda: [] in {})):
        mod.contains({}, [])


def test_repr_str_ascii_bytes(mod):
    assert mod.repr("a\u00e9") == "'a\u00e9'"
    assert mod.str("a\u00e9") == "a\u00e9"
    assert mod.ascii("a\u00e9") == "'a\\xe9'"
    assert mod.repr([1, "x"]) == "[1, 'x']"
    assert mod.str(1.5) == "1.5"
    assert mod.bytes(b"ab") == b"ab"
    assert mod.bytes(bytearray(b"xy")) == b"xy"
    assert mod.bytes([65, 66]) == b"AB"
    assert mod.bytes(memoryview(b"mv")) == b"mv"

    class R:
        def __repr__(self):
            return "<R>"

        def __str__(self):
            raise RuntimeError("no str")

        def __bytes__(self):
            return b"R!"
    assert mod.repr(R()) == "<R>"
    assert mod.bytes(R()) == b"R!"
    with pytest.raises(RuntimeError, match="^no str$"):
        mod.str(R())
    with pytest.raises(TypeError, match="^cannot convert 'int' object to bytes$"):
        mod.bytes(1)
    with pytest.raises(TypeError, match="^cannot convert 'str' object to bytes$"):
        mod.bytes("s")

    class BadRepr:
        def __repr__(self):
            return 1
    # CPython's own message, as CPython 3.11-3.14 and 3.15 (which names the method) word it
    with pytest.raises(TypeError, match=r"^(__repr__ returned non-string \(type int\)|"
                                        r"\S+\.BadRepr\.__repr__\(\) must return a str, not int)$"):
        mod.repr(BadRepr())


def test_rich_compare(mod):
    LT, LE, EQ, NE, GT, GE = mod.ops()
    assert (LT, LE, EQ, NE, GT, GE) == (0, 1, 2, 3, 4, 5)
    for a, b in [(1, 2), (2, 2), (3, 2), ("a", "b"), (1.5, 1)]:
        expected = (a < b, a <= b, a == b, a != b, a > b, a >= b)
        got = tuple(mod.richcompare(a, b, op) for op in (LT, LE, EQ, NE, GT, GE))
        assert got == expected and all(type(x) is bool for x in got), (a, b)
        gotb = tuple(mod.richcomparebool(a, b, op) for op in (LT, LE, EQ, NE, GT, GE))
        assert gotb == tuple(int(x) for x in expected), (a, b)

    class C:
        def __lt__(self, other):
            return "lt-result"
    assert mod.richcompare(C(), 1, LT) == "lt-result"
    assert mod.richcomparebool(C(), 1, LT) == 1
    assert mod.richcompare({1}, {1, 2}, LE) is True
    with pytest.raises(TypeError, match="^'<' not supported between instances of 'int' and 'str'$"):
        mod.richcompare(1, "a", LT)
    with pytest.raises(TypeError, match="^'>=' not supported between instances of 'int' and 'str'$"):
        mod.richcomparebool(1, "a", GE)
    # identity implies equality for RichCompareBool, not for RichCompare
    nan = float("nan")
    assert mod.richcomparebool(nan, nan, EQ) == 1
    assert mod.richcomparebool(nan, nan, NE) == 0
    assert mod.richcompare(nan, nan, EQ) is False


def test_hash_length_istrue(mod):
    for v in (0, 1, -1, 2**100, "abc", (1, 2), 1.5, None):
        assert mod.hash(v) == hash(v), v
    with pytest.raises(TypeError, match="^unhashable type: 'list'$"):
        mod.hash([])
    assert mod.length([1, 2, 3]) == 3
    assert mod.length("") == 0
    assert mod.length({"a": 1}) == 1
    with pytest.raises(TypeError, match="^object of type 'int' has no len\\(\\)$"):
        mod.length(5)
    assert (mod.istrue([]), mod.istrue([0]), mod.istrue(None), mod.istrue("x")) == (0, 1, 0, 1)


def test_type_checks(mod):
    class Base:
        pass

    class Sub(Base):
        pass
    s = Sub()
    assert mod.type(s) is Sub
    assert mod.type(1) is int
    assert mod.type(int) is type
    assert mod.typecheck(s, Sub) == 1
    assert mod.typecheck(s, Base) == 1
    assert mod.typecheck(s, object) == 1
    assert mod.typecheck(s, int) == 0
    assert mod.typecheck(True, int) == 1
    assert mod.typecheck(1, bool) == 0
    o = object()
    assert mod.is_(o, o) == 1
    assert mod.is_(o, object()) == 0
    assert mod.is_(None, None) == 1
    assert mod.callable(len) == 1
    assert mod.callable(Sub) == 1
    assert mod.callable(lambda: 0) == 1
    assert mod.callable(s) == 0
    assert mod.callable(mod.callable) == 1

    class Call:
        def __call__(self):
            pass
    assert mod.callable(Call()) == 1
    assert mod.callable(1) == 0
    before = sys.getrefcount(s)
    for _ in range(10):
        mod.type(s)
        mod.typecheck(s, Base)
    assert sys.getrefcount(s) == before
