"""tests/e2e/test_unicode.py: all fifteen HPyUnicode_* functions, their results and their errors."""
import sys

import pytest


@pytest.fixture
def mod(compiler):
    return compiler.make_module(r"""
        #include <wchar.h>
        static const char *s_of(HPyContext *ctx, HPy h) { return HPyBytes_AsString(ctx, h); }
        static HPy_ssize_t n_of(HPyContext *ctx, HPy h) { return HPyBytes_Size(ctx, h); }
        static const char *opt_s(HPyContext *ctx, HPy h)
        {
            return HPy_Is(ctx, h, ctx->h_None) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, h, NULL);
        }

        HPyDef_METH(from_string, "from_string", HPyFunc_O)
        static HPy from_string_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyUnicode_FromString(ctx, s_of(ctx, arg));
        }
        HPyDef_METH(check, "check", HPyFunc_O)
        static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyLong_FromLong(ctx, HPyUnicode_Check(ctx, arg));
        }
        HPyDef_METH(as_ascii, "as_ascii", HPyFunc_O)
        static HPy as_ascii_impl(HPyContext *ctx, HPy self, HPy arg) { return HPyUnicode_AsASCIIString(ctx, arg); }
        HPyDef_METH(as_latin1, "as_latin1", HPyFunc_O)
        static HPy as_latin1_impl(HPyContext *ctx, HPy self, HPy arg) { return HPyUnicode_AsLatin1String(ctx, arg); }
        HPyDef_METH(as_utf8, "as_utf8", HPyFunc_O)
        static HPy as_utf8_impl(HPyContext *ctx, HPy self, HPy arg) { return HPyUnicode_AsUTF8String(ctx, arg); }
        /* returns (bytes through the size, size, bytes through the NUL-terminated no-size call) */
        HPyDef_METH(as_utf8_and_size, "as_utf8_and_size", HPyFunc_O)
        static HPy as_utf8_and_size_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t n = -5;
            const char *s = HPyUnicode_AsUTF8AndSize(ctx, arg, &n);
            if (s == NULL)
                return HPy_NULL;
            const char *s2 = HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
            HPy a = HPyBytes_FromStringAndSize(ctx, s, n);
            HPy b = HPyBytes_FromString(ctx, s2);
            HPy r = HPy_BuildValue(ctx, "(OnO)", a, n, b);
            HPy_Close(ctx, a);
            HPy_Close(ctx, b);
            return r;
        }
        HPyDef_METH(from_wide, "from_wide", HPyFunc_NOARGS)
        static HPy from_wide_impl(HPyContext *ctx, HPy self)
        {
            const wchar_t w[] = L"h\u00e9\u20ac\U0001F600";
            HPy a = HPyUnicode_FromWideChar(ctx, w, -1);
            HPy b = HPyUnicode_FromWideChar(ctx, w, 2);
            HPy c = HPyUnicode_FromWideChar(ctx, w, 0);
            HPy r = HPy_BuildValue(ctx, "(OOO)", a, b, c);
            HPy_Close(ctx, a);
            HPy_Close(ctx, b);
            HPy_Close(ctx, c);
            return r;
        }
        HPyDef_METH(decode_fs, "decode_fs", HPyFunc_O)
        static HPy decode_fs_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyUnicode_DecodeFSDefault(ctx, s_of(ctx, arg));
        }
        HPyDef_METH(decode_fs_size, "decode_fs_size", HPyFunc_VARARGS)
        static HPy decode_fs_size_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyUnicode_DecodeFSDefaultAndSize(ctx, s_of(ctx, args[0]), HPyLong_AsSsize_t(ctx, args[1]));
        }
        HPyDef_METH(encode_fs, "encode_fs", HPyFunc_O)
        static HPy encode_fs_impl(HPyContext *ctx, HPy self, HPy arg) { return HPyUnicode_EncodeFSDefault(ctx, arg); }
        HPyDef_METH(read_char, "read_char", HPyFunc_VARARGS)
        static HPy read_char_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy_UCS4 c = HPyUnicode_ReadChar(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]));
            if (c == (HPy_UCS4)-1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
            return HPyLong_FromUInt32_t(ctx, c);
        }
        HPyDef_METH(decode_ascii, "decode_ascii", HPyFunc_VARARGS)
        static HPy decode_ascii_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyUnicode_DecodeASCII(ctx, s_of(ctx, args[0]), n_of(ctx, args[0]), opt_s(ctx, args[1]));
        }
        HPyDef_METH(decode_latin1, "decode_latin1", HPyFunc_VARARGS)
        static HPy decode_latin1_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyUnicode_DecodeLatin1(ctx, s_of(ctx, args[0]), n_of(ctx, args[0]), opt_s(ctx, args[1]));
        }
        HPyDef_METH(from_encoded, "from_encoded", HPyFunc_VARARGS)
        static HPy from_encoded_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyUnicode_FromEncodedObject(ctx, args[0], opt_s(ctx, args[1]), opt_s(ctx, args[2]));
        }
        HPyDef_METH(substring, "substring", HPyFunc_VARARGS)
        static HPy substring_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyUnicode_Substring(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]), HPyLong_AsSsize_t(ctx, args[2]));
        }
        @EXPORT(from_string) @EXPORT(check) @EXPORT(as_ascii) @EXPORT(as_latin1) @EXPORT(as_utf8)
        @EXPORT(as_utf8_and_size) @EXPORT(from_wide) @EXPORT(decode_fs) @EXPORT(decode_fs_size)
        @EXPORT(encode_fs) @EXPORT(read_char) @EXPORT(decode_ascii) @EXPORT(decode_latin1)
        @EXPORT(from_encoded) @EXPORT(substring)
        @INIT
    """)


def test_from_string_check(mod):
    assert mod.from_string(b"hello") == "hello"
    assert mod.from_string("h\u00e9\U0001F600".encode()) == "h\u00e9\U0001F600"
    assert mod.from_string(b"") == ""
    assert type(mod.from_string(b"x")) is str
    with pytest.raises(UnicodeDecodeError, match="can't decode byte 0xff in position 1"):
        mod.from_string(b"a\xff")

    class S(str):
        pass
    assert [mod.check(x) for x in ("", "x", S("s"), b"x", 1, None)] == [1, 1, 1, 0, 0, 0]


def test_encoders(mod):
    assert mod.as_ascii("abc") == b"abc"
    assert mod.as_latin1("caf\u00e9") == b"caf\xe9"
    assert mod.as_utf8("caf\u00e9\u20ac") == "caf\u00e9\u20ac".encode()
    with pytest.raises(UnicodeEncodeError,
                       match="^'ascii' codec can't encode character '\\\\xe9' in position 3: ordinal not in range\\(128\\)$"):
        mod.as_ascii("caf\u00e9")
    with pytest.raises(UnicodeEncodeError,
                       match="^'latin-1' codec can't encode character '\\\\u20ac' in position 0: ordinal not in range\\(256\\)$"):
        mod.as_latin1("\u20ac")
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        mod.as_utf8("\ud800")
    for f in (mod.as_ascii, mod.as_latin1, mod.as_utf8):
        with pytest.raises(TypeError, match="^bad argument type for built-in operation$"):
            f(b"bytes")


def test_as_utf8_and_size(mod):
    assert mod.as_utf8_and_size("abc") == (b"abc", 3, b"abc")
    assert mod.as_utf8_and_size("\u20ac") == (b"\xe2\x82\xac", 3, b"\xe2\x82\xac")
    assert mod.as_utf8_and_size("") == (b"", 0, b"")
    assert mod.as_utf8_and_size("a\0b") == (b"a\0b", 3, b"a")
    with pytest.raises(TypeError, match="^bad argument type for built-in operation$"):
        mod.as_utf8_and_size(1)
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        mod.as_utf8_and_size("\udc80")


def test_wide_and_fs(mod):
    assert mod.from_wide() == ("h\u00e9\u20ac\U0001F600", "h\u00e9", "")
    assert mod.decode_fs("h\u00e9".encode()) == "h\u00e9"
    assert mod.decode_fs(b"a\xff") == "a\udcff"          # surrogateescape
    assert mod.decode_fs_size(b"abcdef", 3) == "abc"
    assert mod.decode_fs_size(b"a\xffb", 2) == "a\udcff"
    assert mod.encode_fs("h\u00e9") == "h\u00e9".encode()
    assert mod.encode_fs("a\udcff") == b"a\xff"
    assert sys.getfilesystemencoding() == "utf-8"
    with pytest.raises(TypeError):
        mod.encode_fs(b"x")


def test_read_char_substring(mod):
    s = "a\u00e9\u20ac\U0001F600"
    assert [mod.read_char(s, i) for i in range(4)] == [0x61, 0xE9, 0x20AC, 0x1F600]
    with pytest.raises(IndexError, match="^string index out of range$"):
        mod.read_char(s, 4)
    with pytest.raises(IndexError, match="^string index out of range$"):
        mod.read_char(s, -1)
    with pytest.raises(TypeError, match="^bad argument type for built-in operation$"):
        mod.read_char(b"abc", 0)
    assert mod.substring("hello world", 0, 5) == "hello"
    assert mod.substring("hello world", 6, 100) == "world"
    assert mod.substring(s, 1, 3) == "\u00e9\u20ac"
    assert mod.substring("abc", 2, 1) == ""
    assert mod.substring("abc", 0, 3) == "abc"
    with pytest.raises(IndexError, match="^string index out of range$"):
        mod.substring("abc", -1, 2)


def test_decoders(mod):
    assert mod.decode_ascii(b"abc", None) == "abc"
    assert mod.decode_ascii(b"a\xffc", "replace") == "a\ufffdc"
    assert mod.decode_ascii(b"a\xffc", "ignore") == "ac"
    with pytest.raises(UnicodeDecodeError,
                       match="^'ascii' codec can't decode byte 0xff in position 1: ordinal not in range\\(128\\)$"):
        mod.decode_ascii(b"a\xffc", None)
    with pytest.raises(LookupError, match="^unknown error handler name 'bogus'$"):
        mod.decode_ascii(b"a\xff", "bogus")
    assert mod.decode_latin1(b"caf\xe9", None) == "caf\u00e9"
    assert mod.decode_latin1(bytes(range(256)), "strict") == "".join(map(chr, range(256)))

    assert mod.from_encoded(b"caf\xc3\xa9", None, None) == "caf\u00e9"
    assert mod.from_encoded(b"caf\xe9", "latin-1", None) == "caf\u00e9"
    assert mod.from_encoded(bytearray(b"xy"), "ascii", "strict") == "xy"
    assert mod.from_encoded(b"a\xff", "utf-8", "replace") == "a\ufffd"
    with pytest.raises(UnicodeDecodeError):
        mod.from_encoded(b"a\xff", "utf-8", None)
    with pytest.raises(TypeError, match="^decoding str is not supported$"):
        mod.from_encoded("already str", None, None)
    with pytest.raises(TypeError, match="^decoding to str: need a bytes-like object, int found$"):
        mod.from_encoded(5, None, None)
    with pytest.raises(LookupError, match="^unknown encoding: nope$"):
        mod.from_encoded(b"x", "nope", None)
