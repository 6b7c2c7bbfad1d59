"""tests/e2e/test_long.py: every HPyLong_From*/As* conversion, its range limits, error values and exceptions."""
import sys

import pytest

LONG_SOURCE = r"""
    #include <stdint.h>
    #include <limits.h>

    /* as_X(obj): converts with HPyLong_AsX and back; on error checks the error value is (type)-1 */
    #define AS(NAME, CT, BACK)                                                          \
        HPyDef_METH(as_##NAME, "as_" #NAME, HPyFunc_O)                                  \
        static HPy as_##NAME##_impl(HPyContext *ctx, HPy self, HPy arg)                 \
        {                                                                               \
            CT v = HPyLong_As##NAME(ctx, arg);                                          \
            if (HPyErr_Occurred(ctx)) {                                                 \
                if (v != (CT)-1)                                                        \
                    return HPyErr_Format(ctx, ctx->h_SystemError, "bad error value");   \
                return HPy_NULL;                                                        \
            }                                                                           \
            return BACK(ctx, v);                                                        \
        }

    AS(Int32_t, int32_t, HPyLong_FromInt32_t)
    AS(UInt32_t, uint32_t, HPyLong_FromUInt32_t)
    AS(UInt32_tMask, uint32_t, HPyLong_FromUInt32_t)
    AS(Int64_t, int64_t, HPyLong_FromInt64_t)
    AS(UInt64_t, uint64_t, HPyLong_FromUInt64_t)
    AS(UInt64_tMask, uint64_t, HPyLong_FromUInt64_t)
    AS(Size_t, size_t, HPyLong_FromSize_t)
    AS(Ssize_t, HPy_ssize_t, HPyLong_FromSsize_t)
    AS(Long, long, HPyLong_FromLong)
    AS(UnsignedLong, unsigned long, HPyLong_FromUnsignedLong)
    AS(UnsignedLongMask, unsigned long, HPyLong_FromUnsignedLong)
    AS(LongLong, long long, HPyLong_FromLongLong)
    AS(UnsignedLongLong, unsigned long long, HPyLong_FromUnsignedLongLong)
    AS(UnsignedLongLongMask, unsigned long long, HPyLong_FromUnsignedLongLong)
    AS(Double, double, HPyFloat_FromDouble)

    HPyDef_METH(as_VoidPtr, "as_VoidPtr", HPyFunc_O)
    static HPy as_VoidPtr_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        void *p = HPyLong_AsVoidPtr(ctx, arg);
        if (HPyErr_Occurred(ctx)) {
            if (p != NULL)   /* as PyLong_AsVoidPtr: NULL on error */
                return HPyErr_Format(ctx, ctx->h_SystemError, "bad error value");
            return HPy_NULL;
        }
        return HPyLong_FromUInt64_t(ctx, (uint64_t)(uintptr_t)p);
    }

    HPyDef_METH(from_all, "from_all", HPyFunc_NOARGS)
    static HPy from_all_impl(HPyContext *ctx, HPy self)
    {
        HPy items[] = {
            HPyLong_FromInt32_t(ctx, INT32_MIN), HPyLong_FromInt32_t(ctx, INT32_MAX),
            HPyLong_FromUInt32_t(ctx, UINT32_MAX),
            HPyLong_FromInt64_t(ctx, INT64_MIN), HPyLong_FromInt64_t(ctx, INT64_MAX),
            HPyLong_FromUInt64_t(ctx, UINT64_MAX),
            HPyLong_FromSize_t(ctx, SIZE_MAX),
            HPyLong_FromSsize_t(ctx, (HPy_ssize_t)INT64_MIN), HPyLong_FromSsize_t(ctx, (HPy_ssize_t)INT64_MAX),
            HPyLong_FromLong(ctx, LONG_MIN), HPyLong_FromLong(ctx, LONG_MAX),
            HPyLong_FromUnsignedLong(ctx, ULONG_MAX),
            HPyLong_FromLongLong(ctx, LLONG_MIN), HPyLong_FromLongLong(ctx, LLONG_MAX),
            HPyLong_FromUnsignedLongLong(ctx, ULLONG_MAX),
            HPyLong_FromInt32_t(ctx, 0), HPyLong_FromLong(ctx, -1),
        };
        HPy_ssize_t n = sizeof(items) / sizeof(items[0]);
        HPy result = HPyTuple_FromArray(ctx, items, n);
        for (HPy_ssize_t i = 0; i < n; i++)
            HPy_Close(ctx, items[i]);
        return result;
    }

    HPyDef_METH(type_of_small, "type_of_small", HPyFunc_NOARGS)
    static HPy type_of_small_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromLong(ctx, 42);
        HPy t = HPy_Type(ctx, h);
        HPy_Close(ctx, h);
        return t;
    }

    @EXPORT(as_Int32_t) @EXPORT(as_UInt32_t) @EXPORT(as_UInt32_tMask) @EXPORT(as_Int64_t)
    @EXPORT(as_UInt64_t) @EXPORT(as_UInt64_tMask) @EXPORT(as_Size_t) @EXPORT(as_Ssize_t)
    @EXPORT(as_Long) @EXPORT(as_UnsignedLong) @EXPORT(as_UnsignedLongMask) @EXPORT(as_LongLong)
    @EXPORT(as_UnsignedLongLong) @EXPORT(as_UnsignedLongLongMask) @EXPORT(as_Double) @EXPORT(as_VoidPtr)
    @EXPORT(from_all) @EXPORT(type_of_small)
    @INIT
"""

I32 = (-2**31, 2**31 - 1)
U32 = 2**32 - 1
I64 = (-2**63, 2**63 - 1)
U64 = 2**64 - 1


class Idx:
    def __index__(self):
        return 7


@pytest.fixture
def mod(compiler):
    return compiler.make_module(LONG_SOURCE)


def test_from(mod):
    assert mod.from_all() == (I32[0], I32[1], U32, I64[0], I64[1], U64, sys.maxsize * 2 + 1,
                              -sys.maxsize - 1, sys.maxsize, I64[0], I64[1], U64, I64[0], I64[1], U64, 0, -1)
    assert all(type(x) is int for x in mod.from_all())
    assert mod.type_of_small() is int


def test_signed_in_range(mod):
    for f, (lo, hi) in [(mod.as_Int32_t, I32), (mod.as_Int64_t, I64), (mod.as_Long, I64),
                        (mod.as_LongLong, I64), (mod.as_Ssize_t, I64)]:
        for v in (lo, lo + 1, -1, 0, 1, 12345, hi - 1, hi):
            assert f(v) == v, (f, v)
        assert f(True) == 1


def test_signed_overflow(mod):
    with pytest.raises(OverflowError, match="^Python int too large to convert to C int32_t$"):
        mod.as_Int32_t(2**31)
    with pytest.raises(OverflowError, match="^Python int too large to convert to C int32_t$"):
        mod.as_Int32_t(-2**31 - 1)
    with pytest.raises(OverflowError, match="^Python int too large to convert to C long$"):
        mod.as_Int32_t(2**64)
    # long is 64 bits here: HPyLong_AsLong is HPyLong_AsInt64_t, i.e. PyLong_AsLongLong
    for f in (mod.as_Long, mod.as_Int64_t, mod.as_LongLong):
        with pytest.raises(OverflowError, match="^int too big to convert$"):
            f(2**63)
        with pytest.raises(OverflowError, match="^int too big to convert$"):
            f(-2**63 - 1)
    with pytest.raises(OverflowError, match="^Python int too large to convert to C ssize_t$"):
        mod.as_Ssize_t(2**63)


def test_unsigned(mod):
    for f, hi in [(mod.as_UInt32_t, U32), (mod.as_UInt64_t, U64), (mod.as_UnsignedLong, U64),
                  (mod.as_UnsignedLongLong, U64), (mod.as_Size_t, U64)]:
        for v in (0, 1, 2**31, hi - 1, hi):
            assert f(v) == v, (f, v)
    with pytest.raises(OverflowError, match="^Python int too large to convert to C uint32_t$"):
        mod.as_UInt32_t(2**32)
    with pytest.raises(OverflowError, match="^can't convert negative value to unsigned int$"):
        mod.as_UInt32_t(-1)
    for f in (mod.as_UnsignedLong, mod.as_UInt64_t, mod.as_UnsignedLongLong):
        with pytest.raises(OverflowError, match="^int too big to convert$"):
            f(2**64)
        with pytest.raises(OverflowError, match="^can't convert negative int to unsigned$"):
            f(-1)
    with pytest.raises(OverflowError, match="^Python int too large to convert to C size_t$"):
        mod.as_Size_t(2**64)
    with pytest.raises(OverflowError, match="^can't convert negative value to size_t$"):
        mod.as_Size_t(-1)


def test_masks(mod):
    assert mod.as_UInt32_tMask(-1) == U32
    assert mod.as_UInt32_tMask(2**32 + 5) == 5
    assert mod.as_UInt32_tMask(2**100 + 2**40 + 3) == 3
    assert mod.as_UInt32_tMask(Idx()) == 7
    for f in (mod.as_UInt64_tMask, mod.as_UnsignedLongLongMask, mod.as_UnsignedLongMask):
        assert f(-1) == U64
        assert f(-2) == U64 - 1
        assert f(2**64 + 9) == 9
        assert f(U64) == U64
        assert f(Idx()) == 7
        with pytest.raises(TypeError, match="^'str' object cannot be interpreted as an integer$"):
            f("x")


def test_index_and_type_errors(mod):
    for f in (mod.as_Int32_t, mod.as_Long, mod.as_Int64_t, mod.as_LongLong):
        assert f(Idx()) == 7
        with pytest.raises(TypeError, match="^'str' object cannot be interpreted as an integer$"):
            f("12")
        with pytest.raises(TypeError, match="^'float' object cannot be interpreted as an integer$"):
            f(1.5)
        with pytest.raises(TypeError, match="^'NoneType' object cannot be interpreted as an integer$"):
            f(None)
    for f in (mod.as_UInt32_t, mod.as_UInt64_t, mod.as_UnsignedLong, mod.as_UnsignedLongLong,
              mod.as_Size_t, mod.as_Ssize_t, mod.as_Double, mod.as_VoidPtr):
        with pytest.raises(TypeError, match="^an integer is required$"):
            f("12")
        with pytest.raises(TypeError, match="^an integer is required$"):
            f(1.0)


def test_double(mod):
    assert mod.as_Double(0) == 0.0
    assert mod.as_Double(-3) == -3.0
    assert mod.as_Double(2**53) == 2.0**53
    assert mod.as_Double(10**308) == 1e308
    with pytest.raises(OverflowError, match="^int too large to convert to float$"):
        mod.as_Double(10**400)


def test_void_ptr(mod):
    assert mod.as_VoidPtr(0) == 0
    assert mod.as_VoidPtr(0xdeadbeef) == 0xdeadbeef
    assert mod.as_VoidPtr(U64 - 1) == U64 - 1
    assert mod.as_VoidPtr(-2) == U64 - 1
    with pytest.raises(OverflowError):
        mod.as_VoidPtr(2**64)
