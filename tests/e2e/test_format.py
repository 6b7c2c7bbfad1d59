# tests/e2e/test_format.py: HPyUnicode_FromFormat(V) and HPyErr_Format: every unit, width/precision, errors.
import pytest

# (C format, C arguments, expected str)
CASES = [
    ("plain text", "0", "plain text"),
    ("", "0", ""),
    ("100%%", "0", "100%"),
    ("%%d", "0", "%d"),
    ("%d", "42", "42"),
    ("%d", "-42", "-42"),
    ("%i", "-7", "-7"),
    ("%u", "4294967295u", "4294967295"),
    ("%ld", "-9223372036854775807L - 1", str(-2**63)),
    ("%li", "123456789012L", "123456789012"),
    ("%lu", "18446744073709551615UL", str(2**64 - 1)),
    ("%lld", "-9223372036854775807LL - 1", str(-2**63)),
    ("%lli", "5LL", "5"),
    ("%llu", "18446744073709551615ULL", str(2**64 - 1)),
    ("%zd", "(HPy_ssize_t)-3", "-3"),
    ("%zi", "(HPy_ssize_t)3", "3"),
    ("%zu", "(size_t)7", "7"),
    ("%x", "255", "ff"),
    ("%x", "-1", "ffffffff"),
    ("%5d", "42", "   42"),
    ("%05d", "42", "00042"),
    ("%05d", "-42", "-0042"),
    ("%.3d", "7", "007"),
    ("%.3d", "-7", "-007"),
    ("%6.3d", "-7", "  -007"),
    ("%1d", "12345", "12345"),
    ("%04x", "255", "00ff"),
    ("%c", "65", "A"),
    ("%c", "0xe9", "\u00e9"),
    ("%c", "0x20ac", "\u20ac"),
    ("%c", "0x1f600", "\U0001f600"),
    ("%c", "0", "\x00"),
    ("%c", "0xd800", "\ud800"),
    ("a%cb", "0", "a\x00b"),
    ("%s", '"abc"', "abc"),
    ("%s", '"h\\xc3\\xa9llo"', "h\u00e9llo"),
    ("%.2s", '"abc"', "ab"),
    ("%5s", '"ab"', "   ab"),
    ("%3s", '"\\xc3\\xa9"', "  \u00e9"),
    ("%5.2s", '"abcdef"', "   ab"),
    ("%.1s", '"\\xc3\\xa9"', "\ufffd"),
    ("%s", '"bad \\xff byte"', "bad \ufffd byte"),
    ("%d %s %u!", '1, "two", 3u', "1 two 3!"),
    # Non-ASCII text belongs in the values, not in the format.
    ("%s %d %s", '"h\\xc3\\xa9", 1, "\\xe2\\x82\\xac"', "h\u00e9 1 \u20ac"),
]


def cases_source():
    lines = []
    for n, (fmt, args, _) in enumerate(CASES):
        lines.append(f'        case {n}: return HPyUnicode_FromFormat(ctx, "{fmt}", {args});')
    return """
        HPyDef_METH(fmt, "fmt", HPyFunc_O)
        static HPy fmt_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            switch (HPyLong_AsLong(ctx, arg)) {
%s
            default:
                HPyErr_SetString(ctx, ctx->h_IndexError, "no such case");
                return HPy_NULL;
            }
        }
        HPyDef_METH(ptr, "ptr", HPyFunc_NOARGS)
        static HPy ptr_impl(HPyContext *ctx, HPy self)
        {
            return HPyUnicode_FromFormat(ctx, "%%p|%%p", (void *)0x1234abcd, (void *)0);
        }
        @EXPORT(fmt)
        @EXPORT(ptr)
        @INIT
    """ % "\n".join(lines)


def test_c_units(compiler):
    mod = compiler.make_module(cases_source())
    for n, (fmt, _, expected) in enumerate(CASES):
        got = mod.fmt(n)
        assert got == expected, (fmt, got, expected)
    a, b = mod.ptr().split("|")
    assert a.startswith("0x") and int(a, 16) == 0x1234abcd
    assert b.startswith("0x") and int(b, 16) == 0


OBJ_SOURCE = """
    static HPy fmt1(HPyContext *ctx, long n, HPy o)
    {
        switch (n) {
        case 0: return HPyUnicode_FromFormat(ctx, "%S", o);
        case 1: return HPyUnicode_FromFormat(ctx, "%R", o);
        case 2: return HPyUnicode_FromFormat(ctx, "%A", o);
        case 3: return HPyUnicode_FromFormat(ctx, "%U", o);
        case 4: return HPyUnicode_FromFormat(ctx, "%V", o, "fallback");
        case 5: return HPyUnicode_FromFormat(ctx, "%V", HPy_NULL, "fallback");
        case 6: return HPyUnicode_FromFormat(ctx, "[%8S]", o);
        case 7: return HPyUnicode_FromFormat(ctx, "[%.3R]", o);
        case 8: return HPyUnicode_FromFormat(ctx, "[%6.2U]", o);
        case 9: return HPyUnicode_FromFormat(ctx, "[%.4V]", HPy_NULL, "abcdefgh");
        case 10: return HPyUnicode_FromFormat(ctx, "<%S|%R|%d>", o, o, 5);
        default: return HPyUnicode_FromFormat(ctx, "[%5.2V]", o, "unused");
        }
    }
    HPyDef_METH(obj, "obj", HPyFunc_VARARGS)
    static HPy obj_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long n;
        HPy o;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "lO", &n, &o))
            return HPy_NULL;
        return fmt1(ctx, n, o);
    }
    @EXPORT(obj)
    @INIT
"""


def test_object_units(compiler):
    mod = compiler.make_module(OBJ_SOURCE)
    s = "h\u00e9llo \u20ac"
    assert mod.obj(0, s) == s
    assert mod.obj(0, 42) == "42"
    assert mod.obj(1, s) == repr(s)
    assert mod.obj(1, [1, "a"]) == "[1, 'a']"
    assert mod.obj(2, s) == ascii(s)
    assert mod.obj(3, s) == s
    assert mod.obj(4, s) == s
    assert mod.obj(5, s) == "fallback"
    assert mod.obj(6, "\u00e9\u00e9") == "[      \u00e9\u00e9]"
    assert mod.obj(7, "\u00e9t\u00e9") == "['\u00e9t]"
    assert mod.obj(8, "\u20ac\u20ac\u20ac") == "[    \u20ac\u20ac]"
    assert mod.obj(9, None) == "[abcd]"
    assert mod.obj(10, "x") == "<x|'x'|5>"
    assert mod.obj(11, "\U0001f600bc") == "[   \U0001f600b]"


def test_object_unit_errors(compiler):
    mod = compiler.make_module(OBJ_SOURCE.replace("@EXPORT(obj)", """
        HPyDef_METH(null, "null", HPyFunc_O)
        static HPy null_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return fmt1(ctx, HPyLong_AsLong(ctx, arg), HPy_NULL);
        }
        @EXPORT(obj)
        @EXPORT(null)"""))

    class BadRepr:
        def __repr__(self):
            raise ValueError("repr failed")

        def __str__(self):
            raise KeyError("str failed")

    with pytest.raises(ValueError, match="repr failed"):
        mod.obj(1, BadRepr())
    with pytest.raises(KeyError):
        mod.obj(0, BadRepr())
    with pytest.raises(SystemError):   # %U needs a str
        mod.obj(3, 42)
    with pytest.raises(SystemError):   # %V needs a str or HPy_NULL
        mod.obj(4, 42)
    for n in (0, 1, 2, 3):             # HPy_NULL for %S %R %A %U
        with pytest.raises(SystemError):
            mod.null(n)
    assert mod.null(5) == "fallback"


def test_bad_formats(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(bad, "bad", HPyFunc_O)
        static HPy bad_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            switch (HPyLong_AsLong(ctx, arg)) {
            case 0: return HPyUnicode_FromFormat(ctx, "%05s", "x");
            case 1: return HPyUnicode_FromFormat(ctx, "%5c", 65);
            case 2: return HPyUnicode_FromFormat(ctx, "%.1c", 65);
            case 3: return HPyUnicode_FromFormat(ctx, "%5p", (void *)0);
            case 4: return HPyUnicode_FromFormat(ctx, "%q", 1);
            case 5: return HPyUnicode_FromFormat(ctx, "abc %", 1);
            case 6: return HPyUnicode_FromFormat(ctx, "%lx", 1L);
            case 7: return HPyUnicode_FromFormat(ctx, "%zs", "x");
            case 8: return HPyUnicode_FromFormat(ctx, "%05S", ctx->h_None);
            case 9: return HPyUnicode_FromFormat(ctx, "%.5", 1);
            case 10: return HPyUnicode_FromFormat(ctx, "%c", 0x110000);
            case 11: return HPyUnicode_FromFormat(ctx, "%c", -1);
            case 13: return HPyUnicode_FromFormat(ctx, "%s", (const char *)NULL);
            case 14: return HPyUnicode_FromFormat(ctx, "%0%");
            case 15: return HPyUnicode_FromFormat(ctx, "%04p", (void *)0);
            case 16: return HPyUnicode_FromFormat(ctx, "%.4p", (void *)0);
            case 17: return HPyUnicode_FromFormat(ctx, "%0U", ctx->h_None);
            case 18: return HPyUnicode_FromFormat(ctx, "%U", HPy_NULL);
            case 19: return HPyUnicode_FromFormat(ctx, "h\\xc3\\xa9 %d", 1);
            case 20: return HPyErr_Format(ctx, ctx->h_KeyError, "%d \\xe2\\x82\\xac", 1);
            default: return HPyUnicode_FromFormat(ctx, "%99999999999999999999999d", 1);
            }
        }
        @EXPORT(bad)
        @INIT
    """)
    for n in range(10):
        with pytest.raises(SystemError) as exc:
            mod.bad(n)
        assert "HPyUnicode_FromFormat" in str(exc.value)
    for n in (10, 11):
        with pytest.raises(OverflowError) as exc:
            mod.bad(n)
        assert str(exc.value) == "character argument not in range(0x110000)"
    with pytest.raises(ValueError, match="width too big"):
        mod.bad(12)
    # The messages name the unit and what it does not take.
    for n, message in [
        (4, "invalid format string"),
        (13, "null c string passed as value for formatting unit '%s'"),
        (14, "invalid format string"),
        (15, "formatting unit '%p' does not support 0-padding"),
        (16, "formatting unit '%p' does not support width nor precision"),
        (17, "formatting unit '%U' does not support 0-padding"),
        (18, "HPy_NULL passed as value for formatting unit '%U'"),
    ]:
        with pytest.raises(SystemError) as exc:
            mod.bad(n)
        assert message in str(exc.value), (n, str(exc.value))
    # The format itself is ASCII: a ValueError names the first other byte (HPyErr_Format too).
    for n in (19, 20):
        with pytest.raises(ValueError) as exc:
            mod.bad(n)
    with pytest.raises(ValueError, match="expected an ASCII-encoded format string, got a non-ASCII byte: 0xc3"):
        mod.bad(19)
    with pytest.raises(ValueError, match="got a non-ASCII byte: 0xe2"):
        mod.bad(20)


def test_err_format(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long n;
            HPy o;
            if (!HPyArg_Parse(ctx, NULL, args, nargs, "lO", &n, &o))
                return HPy_NULL;
            if (n == 0)
                return HPyErr_Format(ctx, ctx->h_ValueError, "bad %d %s: %R", 42, "thing", o);
            if (n == 1)
                return HPyErr_Format(ctx, o, "custom %s", "type");
            /* a failing format: its SystemError is what the caller sees */
            return HPyErr_Format(ctx, ctx->h_ValueError, "%S", HPy_NULL);
        }
        @EXPORT(f)
        @INIT
    """)
    with pytest.raises(ValueError) as exc:
        mod.f(0, [1])
    assert str(exc.value) == "bad 42 thing: [1]"

    class MyError(Exception):
        pass

    with pytest.raises(MyError) as exc:
        mod.f(1, MyError)
    assert str(exc.value) == "custom type"
    with pytest.raises(SystemError):
        mod.f(2, None)
