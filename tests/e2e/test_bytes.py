"""tests/e2e/test_bytes.py: HPyBytes_Check/Size/GET_SIZE/AsString/AS_STRING/FromString/FromStringAndSize."""
import pytest


def test_bytes(compiler):
    mod = compiler.make_module(r"""
        #include <string.h>
        HPyDef_METH(check, "check", HPyFunc_O)
        static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyLong_FromLong(ctx, HPyBytes_Check(ctx, arg));
        }
        HPyDef_METH(size, "size", HPyFunc_O)
        static HPy size_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t n = HPyBytes_Size(ctx, arg);
            if (n == -1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
            return HPy_BuildValue(ctx, "(nn)", n, HPyBytes_Check(ctx, arg) ? HPyBytes_GET_SIZE(ctx, arg) : -2);
        }
        /* copies the contents through both accessors; the first includes the trailing NUL */
        HPyDef_METH(as_string, "as_string", HPyFunc_O)
        static HPy as_string_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            const char *s = HPyBytes_AsString(ctx, arg);
            if (s == NULL)
                return HPy_NULL;
            HPy_ssize_t n = HPyBytes_Size(ctx, arg);
            const char *t = HPyBytes_AS_STRING(ctx, arg);
            if (s[n] != '\0' || memcmp(s, t, (size_t)n) != 0)
                return HPyErr_Format(ctx, ctx->h_SystemError, "inconsistent");
            return HPyBytes_FromStringAndSize(ctx, s, n + 1);
        }
        HPyDef_METH(from_string, "from_string", HPyFunc_NOARGS)
        static HPy from_string_impl(HPyContext *ctx, HPy self)
        {
            HPy items[] = { HPyBytes_FromString(ctx, "abc\0def"), HPyBytes_FromString(ctx, ""),
                            HPyBytes_FromStringAndSize(ctx, "abc\0def", 7),
                            HPyBytes_FromStringAndSize(ctx, "xyz", 2), HPyBytes_FromStringAndSize(ctx, "", 0),
                            HPyBytes_FromString(ctx, "\xff\x80") };
            HPy r = HPyTuple_FromArray(ctx, items, 6);
            for (int i = 0; i < 6; i++)
                HPy_Close(ctx, items[i]);
            return r;
        }
        HPyDef_METH(negative_size, "negative_size", HPyFunc_NOARGS)
        static HPy negative_size_impl(HPyContext *ctx, HPy self)
        {
            return HPyBytes_FromStringAndSize(ctx, "abc", -1);
        }
        /* NULL bytes: CPython would hand out uninitialised bytes to fill in, which HPy cannot do */
        HPyDef_METH(from_null, "from_null", HPyFunc_O)
        static HPy from_null_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t n = HPyLong_AsSsize_t(ctx, arg);
            if (n == -1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
            return HPyBytes_FromStringAndSize(ctx, NULL, n);
        }
        @EXPORT(check) @EXPORT(size) @EXPORT(as_string) @EXPORT(from_string) @EXPORT(negative_size)
        @EXPORT(from_null)
        @INIT
    """)

    class Sub(bytes):
        pass
    assert [mod.check(x) for x in (b"", b"x", Sub(b"s"), bytearray(b"x"), "x", memoryview(b"m"))] == \
        [1, 1, 1, 0, 0, 0]
    assert mod.size(b"") == (0, 0)
    assert mod.size(b"a\0b") == (3, 3)
    assert mod.size(Sub(b"four")) == (4, 4)
    with pytest.raises(TypeError, match="^expected bytes, str found$"):
        mod.size("str")
    with pytest.raises(TypeError, match="^expected bytes, bytearray found$"):
        mod.size(bytearray(b"x"))
    assert mod.as_string(b"hello") == b"hello\0"
    assert mod.as_string(b"a\0b") == b"a\0b\0"
    assert mod.as_string(b"") == b"\0"
    with pytest.raises(TypeError, match="^expected bytes, int found$"):
        mod.as_string(5)
    r = mod.from_string()
    assert r == (b"abc", b"", b"abc\0def", b"xy", b"", b"\xff\x80")
    assert all(type(x) is bytes for x in r)
    with pytest.raises(SystemError, match="^Negative size passed to PyBytes_FromStringAndSize$"):
        mod.negative_size()
    for n in (-1, 0, 5):
        with pytest.raises(ValueError, match="^NULL char \\* passed to HPyBytes_FromStringAndSize$"):
            mod.from_null(n)
