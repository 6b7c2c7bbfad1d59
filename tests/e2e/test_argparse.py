# tests/e2e/test_argparse.py: HPyArg_Parse, HPyArg_ParseKeywords and HPyArg_ParseKeywordsDict, in every ABI mode.
import pytest

# One VARARGS function per format unit: parse one argument, give it back as a Python value.
UNITS = [
    # (unit, C type, expression returning the parsed value)
    ("b", "unsigned char", "HPyLong_FromLong(ctx, (long)a)"),
    ("B", "unsigned char", "HPyLong_FromLong(ctx, (long)a)"),
    ("h", "short", "HPyLong_FromLong(ctx, (long)a)"),
    ("H", "unsigned short", "HPyLong_FromLong(ctx, (long)a)"),
    ("i", "int", "HPyLong_FromLong(ctx, (long)a)"),
    ("I", "unsigned int", "HPyLong_FromUnsignedLong(ctx, (unsigned long)a)"),
    ("l", "long", "HPyLong_FromLong(ctx, a)"),
    ("k", "unsigned long", "HPyLong_FromUnsignedLong(ctx, a)"),
    ("L", "long long", "HPyLong_FromLongLong(ctx, a)"),
    ("K", "unsigned long long", "HPyLong_FromUnsignedLongLong(ctx, a)"),
    ("n", "HPy_ssize_t", "HPyLong_FromSsize_t(ctx, a)"),
    ("f", "float", "HPyFloat_FromDouble(ctx, (double)a)"),
    ("d", "double", "HPyFloat_FromDouble(ctx, a)"),
    ("s", "const char *", "HPyUnicode_FromString(ctx, a)"),
    ("O", "HPy", "HPy_Dup(ctx, a)"),
    ("p", "int", "HPyLong_FromLong(ctx, (long)a)"),
]


def unit_name(unit):
    # Python attribute names are case-sensitive, but keep them readable: b -> u_b, B -> U_B.
    return ("U_" if unit.isupper() else "u_") + unit


def units_source():
    parts = []
    for unit, ctype, result in UNITS:
        name = unit_name(unit)
        parts.append(f"""
            HPyDef_METH({name}, "{name}", HPyFunc_VARARGS)
            static HPy {name}_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
            {{
                {ctype} a;
                if (!HPyArg_Parse(ctx, NULL, args, nargs, "{unit}", &a))
                    return HPy_NULL;
                return {result};
            }}
        """)
    parts.extend(f"@EXPORT({unit_name(u)})\n" for u, _, _ in UNITS)
    parts.append("@INIT\n")
    return "".join(parts)


class Index:
    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


@pytest.fixture
def units(compiler):
    return compiler.make_module(units_source())


def check_overflow(fn, value, message=None):
    with pytest.raises(OverflowError) as exc:
        fn(value)
    if message is not None:
        assert str(exc.value) == message


def test_unit_b(units):
    f = units.u_b
    assert [f(0), f(1), f(255)] == [0, 1, 255]
    check_overflow(f, 256, "function unsigned byte integer is greater than maximum")
    check_overflow(f, -1, "function unsigned byte integer is less than minimum")
    with pytest.raises(TypeError) as exc:
        f("x")
    assert str(exc.value) == "function argument 1 must be int, not str"


def test_unit_B_masks(units):
    f = units.U_B
    assert [f(0), f(255), f(256), f(-1), f(2**70 + 3)] == [0, 255, 0, 255, 3]


def test_unit_h(units):
    f = units.u_h
    assert [f(0), f(-1), f(2**15 - 1), f(-2**15)] == [0, -1, 2**15 - 1, -2**15]
    check_overflow(f, 2**15, "function signed short integer is greater than maximum")
    check_overflow(f, -2**15 - 1, "function signed short integer is less than minimum")


def test_unit_H_masks(units):
    f = units.U_H
    assert [f(0), f(2**16 - 1), f(2**16), f(-1)] == [0, 2**16 - 1, 0, 2**16 - 1]


def test_unit_i(units):
    f = units.u_i
    assert [f(0), f(-7), f(2**31 - 1), f(-2**31)] == [0, -7, 2**31 - 1, -2**31]
    assert f(True) == 1
    assert f(Index(12)) == 12
    check_overflow(f, 2**31, "function signed integer is greater than maximum")
    check_overflow(f, -2**31 - 1, "function signed integer is less than minimum")
    check_overflow(f, 2**100)
    with pytest.raises(TypeError) as exc:
        f(1.5)
    assert str(exc.value) == "function argument 1 must be int, not float"
    with pytest.raises(TypeError) as exc:
        f(None)
    assert str(exc.value) == "function argument 1 must be int, not None"


def test_unit_I_masks(units):
    f = units.U_I
    assert [f(0), f(2**32 - 1), f(2**32), f(-1)] == [0, 2**32 - 1, 0, 2**32 - 1]


def test_unit_l(units):
    f = units.u_l
    assert [f(0), f(2**63 - 1), f(-2**63)] == [0, 2**63 - 1, -2**63]
    check_overflow(f, 2**63)
    check_overflow(f, -2**63 - 1)
    with pytest.raises(TypeError) as exc:
        f("12")
    assert str(exc.value) == "function argument 1 must be int, not str"


def test_unit_k_masks(units):
    f = units.u_k
    assert [f(0), f(2**64 - 1), f(2**64), f(-1)] == [0, 2**64 - 1, 0, 2**64 - 1]


def test_unit_L(units):
    f = units.U_L
    assert [f(0), f(2**63 - 1), f(-2**63)] == [0, 2**63 - 1, -2**63]
    check_overflow(f, 2**63)
    check_overflow(f, -2**63 - 1)


def test_unit_K_masks(units):
    f = units.U_K
    assert [f(0), f(2**64 - 1), f(2**64 + 5), f(-1)] == [0, 2**64 - 1, 5, 2**64 - 1]


def test_unit_n(units):
    f = units.u_n
    assert [f(0), f(-3), f(2**63 - 1), f(-2**63)] == [0, -3, 2**63 - 1, -2**63]
    assert f(Index(9)) == 9
    check_overflow(f, 2**63)
    with pytest.raises(TypeError) as exc:
        f("x")
    assert str(exc.value) == "function argument 1 must be int, not str"


def test_units_f_d(units):
    assert units.u_f(1.5) == 1.5
    assert units.u_f(-2) == -2.0
    assert units.u_d(0.1) == 0.1
    assert units.u_d(3) == 3.0
    for f in (units.u_f, units.u_d):
        with pytest.raises(TypeError) as exc:
            f("x")
        assert str(exc.value) == "function argument 1 must be float, not str"


def test_unit_s(units):
    f = units.u_s
    assert f("hello") == "hello"
    assert f("") == ""
    assert f("h\u00e9llo \u20ac \U0001f600") == "h\u00e9llo \u20ac \U0001f600"
    with pytest.raises(TypeError) as exc:
        f(b"bytes")
    assert str(exc.value) == "function a str is required"
    with pytest.raises(ValueError) as exc:
        f("a\0b")
    assert str(exc.value) == "function embedded null character"
    with pytest.raises(UnicodeEncodeError):
        f("\ud800")


def test_unit_O(units):
    obj = object()
    assert units.U_O(obj) is obj
    assert units.U_O(None) is None


def test_unit_p(units):
    f = units.u_p
    assert [f(0), f(1), f(-1), f(False), f(True)] == [0, 1, 1, 0, 1]
    assert [f([]), f([0]), f(""), f("0"), f(None)] == [0, 1, 0, 1, 0]

    class Bad:
        def __bool__(self):
            raise RuntimeError("no truth")

    with pytest.raises(RuntimeError, match="no truth"):
        f(Bad())


def test_wrong_count_messages(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(two, "two", HPyFunc_VARARGS)
        static HPy two_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long a, b;
            if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll", &a, &b))
                return HPy_NULL;
            return HPyLong_FromLong(ctx, 10 * a + b);
        }
        HPyDef_METH(opt, "opt", HPyFunc_VARARGS)
        static HPy opt_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long a, b = 7;
            if (!HPyArg_Parse(ctx, NULL, args, nargs, "l|l", &a, &b))
                return HPy_NULL;
            return HPyLong_FromLong(ctx, 10 * a + b);
        }
        HPyDef_METH(none, "none", HPyFunc_VARARGS)
        static HPy none_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            if (!HPyArg_Parse(ctx, NULL, args, nargs, ""))
                return HPy_NULL;
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(named, "named", HPyFunc_VARARGS)
        static HPy named_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long a, b;
            if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll:my_func", &a, &b))
                return HPy_NULL;
            return HPyLong_FromLong(ctx, 10 * a + b);
        }
        HPyDef_METH(custom, "custom", HPyFunc_VARARGS)
        static HPy custom_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long a;
            if (!HPyArg_Parse(ctx, NULL, args, nargs, "l;give me one number", &a))
                return HPy_NULL;
            return HPyLong_FromLong(ctx, a);
        }
        @EXPORT(two)
        @EXPORT(opt)
        @EXPORT(none)
        @EXPORT(named)
        @EXPORT(custom)
        @INIT
    """)
    assert mod.two(4, 5) == 45
    assert mod.opt(4) == 47
    assert mod.opt(4, 5) == 45
    assert mod.none() is None
    assert mod.named(1, 2) == 12
    assert mod.custom(3) == 3

    def err(fn, *args):
        with pytest.raises(TypeError) as exc:
            fn(*args)
        return str(exc.value)

    # Without ':name' the messages start with "function", with it with "name()".
    missing = "required positional argument missing"
    too_many = "mismatched args (too many arguments for fmt)"
    assert err(mod.two, 1) == "function " + missing
    assert err(mod.two, 1, 2, 3) == "function " + too_many
    assert err(mod.opt) == "function " + missing
    assert err(mod.opt, 1, 2, 3) == "function " + too_many
    assert err(mod.none, 1) == "function " + too_many
    assert err(mod.named) == "my_func() " + missing
    assert err(mod.named, 1, 2, 3) == "my_func() " + too_many
    assert err(mod.named, 1, "x") == "my_func() argument 2 must be int, not str"
    # ';' replaces every message of the parser's own...
    assert err(mod.custom) == "give me one number"
    assert err(mod.custom, 1, 2) == "give me one number"
    assert err(mod.custom, "x") == "give me one number"
    # ...but an error of the C conversion itself keeps its message.
    with pytest.raises(OverflowError) as exc:
        mod.custom(2**64)
    assert str(exc.value) != "give me one number"


def test_messages_name_and_override(compiler):
    # The ':name' and ';message' suffixes apply to range errors and format errors too.
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            const char *fmt;
            unsigned char b = 0;
            if (!HPyArg_Parse(ctx, NULL, args, 1, "s", &fmt))
                return HPy_NULL;
            if (!HPyArg_Parse(ctx, NULL, args + 1, nargs - 1, fmt, &b, &b))
                return HPy_NULL;
            return HPyLong_FromLong(ctx, b);
        }
        @EXPORT(f)
        @INIT
    """)
    assert mod.f("b:byte", 7) == 7
    with pytest.raises(OverflowError) as exc:
        mod.f("b:byte", 300)
    assert str(exc.value) == "byte() unsigned byte integer is greater than maximum"
    with pytest.raises(OverflowError) as exc:
        mod.f("b;a byte please", -1)
    assert str(exc.value) == "a byte please"
    with pytest.raises(SystemError) as exc:
        mod.f("ZZ:two_add", 1)
    assert str(exc.value) == "two_add() unknown arg format code"
    # '$' (keyword-only) means nothing without keywords: an unknown unit here.
    with pytest.raises(SystemError) as exc:
        mod.f("b$b:two_add", 1, 2)
    assert str(exc.value) == "two_add() unknown arg format code"
    with pytest.raises(SystemError) as exc:
        mod.f("bZ;custom", 1, 2)
    assert str(exc.value) == "custom"
    with pytest.raises(TypeError) as exc:
        mod.f("s", 5)   # (fails before anything is stored)
    assert str(exc.value) == "function a str is required"
    # A long function name is cut to 200 bytes (UTF-8 ones here).
    long_name = "\u00e9" * 150
    with pytest.raises(TypeError) as exc:
        mod.f("bb:" + long_name)
    assert str(exc.value) == "\u00e9" * 100 + "() required positional argument missing"


def test_optional_args_keep_defaults(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            int i = -1;
            double d = -1.5;
            const char *s = "default";
            HPy o = ctx->h_Ellipsis;
            int p = 42;
            if (!HPyArg_Parse(ctx, NULL, args, nargs, "|idsOp", &i, &d, &s, &o, &p))
                return HPy_NULL;
            return HPy_BuildValue(ctx, "idsOi", i, d, s, o, p);
        }
        @EXPORT(f)
        @INIT
    """)
    assert mod.f() == (-1, -1.5, "default", Ellipsis, 42)
    assert mod.f(1) == (1, -1.5, "default", Ellipsis, 42)
    assert mod.f(1, 2.0, "x", None, []) == (1, 2.0, "x", None, 0)


def test_many_units_in_one_call(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            unsigned char b, B; short h; unsigned short H; int i; unsigned int I; long l;
            unsigned long k; long long L; unsigned long long K; HPy_ssize_t n; float f;
            double d; const char *s; HPy O; int p;
            if (!HPyArg_Parse(ctx, NULL, args, nargs, "bBhHiIlkLKnfdsOp:many",
                              &b, &B, &h, &H, &i, &I, &l, &k, &L, &K, &n, &f, &d, &s, &O, &p))
                return HPy_NULL;
            return HPy_BuildValue(ctx, "[iiiiiIlkLKndd sOi]", (int)b, (int)B, (int)h, (int)H, i, I,
                                  l, k, L, K, n, (double)f, d, s, O, p);
        }
        @EXPORT(f)
        @INIT
    """)
    args = (1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11, 0.5, 1.25, "s\u00e9", None, 1)
    assert mod.f(*args) == list(args[:15]) + [1]
    bad = list(args)
    bad[9] = "nope"
    with pytest.raises(TypeError) as exc:
        mod.f(*bad)
    assert str(exc.value) == "many() argument 10 must be int, not str"


def test_tracker(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy a, b, result;
            HPyTracker ht;
            if (!HPyArg_Parse(ctx, &ht, args, nargs, "OO", &a, &b))
                return HPy_NULL;   /* the parser closed ht already */
            result = HPy_Add(ctx, a, b);
            HPyTracker_Close(ctx, ht);
            return result;
        }
        @EXPORT(f)
        @INIT
    """)
    assert mod.f("a", "b") == "ab"
    assert mod.f(1, 2) == 3
    for _ in range(3):
        with pytest.raises(TypeError):
            mod.f(1)


def test_malformed_formats(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            long a = 0, b = 0;
            HPyTracker ht;
            const char *fmt;
            if (!HPyArg_Parse(ctx, NULL, args, 1, "s", &fmt))
                return HPy_NULL;
            if (!HPyArg_Parse(ctx, &ht, args + 1, nargs - 1, fmt, &a, &b))
                return HPy_NULL;
            HPyTracker_Close(ctx, ht);
            return HPyLong_FromLong(ctx, 10 * a + b);
        }
        @EXPORT(f)
        @INIT
    """)
    assert mod.f("ll", 1, 2) == 12
    for fmt in ["lZ", "l$l", "y", "(l)", "l#", "O!"]:
        with pytest.raises(SystemError) as exc:
            mod.f(fmt, 1, 2)
        assert str(exc.value) == "function unknown arg format code"
    for fmt in ["l||l", "l|l|"]:
        with pytest.raises(SystemError) as exc:
            mod.f(fmt, 1, 2)
        assert str(exc.value) == "function '|' given twice in the format passed to HPyArg_Parse"
    # The format is checked before the arguments: a bad format wins over a bad count.
    with pytest.raises(SystemError):
        mod.f("lZ")
    with pytest.raises(SystemError):
        mod.f("Zl:name", 1, 2)


KW_SOURCE = """
    HPyDef_METH(f, "f", HPyFunc_KEYWORDS)
    static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        long a, b = 5;
        static const char *kwlist[] = { "a", "b", NULL };
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l|l", kwlist, &a, &b))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, 10 * a + b);
    }
    HPyDef_METH(g, "g", HPyFunc_KEYWORDS)
    static HPy g_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        long a, b = 5;
        static const char *kwlist[] = { "a", "b", NULL };
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l|l:gee", kwlist, &a, &b))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, 10 * a + b);
    }
    HPyDef_METH(kwonly, "kwonly", HPyFunc_KEYWORDS)
    static HPy kwonly_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        long a, b = 5, c = 6;
        static const char *kwlist[] = { "a", "b", "c", NULL };
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l|$ll", kwlist, &a, &b, &c))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, 100 * a + 10 * b + c);
    }
    HPyDef_METH(posonly, "posonly", HPyFunc_KEYWORDS)
    static HPy posonly_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        long a, b;
        static const char *kwlist[] = { "", "b", NULL };
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "ll", kwlist, &a, &b))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, 10 * a + b);
    }
    HPyDef_METH(objs, "objs", HPyFunc_KEYWORDS)
    static HPy objs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        HPy a, b = HPy_NULL;
        const char *s = "none";
        int p = -1;
        double d = 0.0;
        static const char *kwlist[] = { "a", "b", "s", "p", "d", NULL };
        /* 'O' borrows from args in vectorcall parsing: no tracker needed. */
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "O|Ospd", kwlist, &a, &b, &s, &p, &d))
            return HPy_NULL;
        return HPy_BuildValue(ctx, "(OOsid)", a, HPy_IsNull(b) ? ctx->h_None : b, s, p, d);
    }
    HPyDef_METH(custom, "custom", HPyFunc_KEYWORDS)
    static HPy custom_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        long a;
        static const char *kwlist[] = { "a", NULL };
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l;custom message", kwlist, &a))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, a);
    }
    HPyDef_METH(tracked, "tracked", HPyFunc_KEYWORDS)
    static HPy tracked_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        HPy a, b, result;
        HPyTracker ht;
        static const char *kwlist[] = { "a", "b", NULL };
        if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "OO", kwlist, &a, &b))
            return HPy_NULL;
        result = HPy_Add(ctx, a, b);
        HPyTracker_Close(ctx, ht);
        return result;
    }
    @EXPORT(f)
    @EXPORT(g)
    @EXPORT(kwonly)
    @EXPORT(posonly)
    @EXPORT(objs)
    @EXPORT(custom)
    @EXPORT(tracked)
    @INIT
"""


@pytest.fixture
def kw(compiler):
    return compiler.make_module(KW_SOURCE)


def type_error(fn, *args, **kwargs):
    with pytest.raises(TypeError) as exc:
        fn(*args, **kwargs)
    return str(exc.value)


def test_keywords_ok(kw):
    assert kw.f(1) == 15
    assert kw.f(1, 2) == 12
    assert kw.f(1, b=2) == 12
    assert kw.f(a=1, b=2) == 12
    assert kw.f(b=2, a=1) == 12
    assert kw.f(a=3) == 35
    assert kw.kwonly(1) == 156
    assert kw.kwonly(1, c=9) == 159
    assert kw.kwonly(a=1, c=9, b=8) == 189
    assert kw.posonly(1, 2) == 12
    assert kw.posonly(1, b=2) == 12
    assert kw.tracked("x", b="y") == "xy"
    assert kw.tracked(b="y", a="x") == "xy"
    o = object()
    assert kw.objs(o) == (o, None, "none", -1, 0.0)
    assert kw.objs(o, d=2.5, s="t\u00e9", b=o, p=[1]) == (o, o, "t\u00e9", 1, 2.5)


def test_keywords_errors(kw):
    missing = "no value for required argument"
    assert type_error(kw.f) == "function " + missing
    assert type_error(kw.f, b=2) == "function " + missing
    assert type_error(kw.g, b=2) == "gee() " + missing
    assert type_error(kw.f, 1, c=3) == "function got an unexpected keyword argument 'c'"
    assert type_error(kw.g, 1, c=3) == "gee() got an unexpected keyword argument 'c'"
    assert type_error(kw.f, 1, **{"\u00e9t\u00e9": 3}) == (
        "function got an unexpected keyword argument '\u00e9t\u00e9'")
    # A missing argument says more about a wrong call than an unknown keyword.
    assert type_error(kw.g, c=3) == "gee() " + missing
    assert type_error(kw.f, 1, a=2) == "function got multiple values for argument 'a'"
    assert type_error(kw.f, 1, 2, 3) == "function mismatched args (too many arguments for fmt)"
    assert type_error(kw.f, 1, 2, b=3) == "function got multiple values for argument 'b'"
    assert type_error(kw.g, 1, "x") == "gee() argument 2 must be int, not str"
    assert type_error(kw.g, 1, b="x") == "gee() argument 'b' must be int, not str"
    assert type_error(kw.f, a=1.5) == "function argument 'a' must be int, not float"
    kwonly = "function keyword only argument passed as positional argument"
    assert type_error(kw.kwonly, 1, 2) == kwonly
    assert type_error(kw.kwonly, 1, 2, 3) == kwonly
    # Positional-only arguments cannot come by keyword: they are missing.
    assert type_error(kw.posonly, b=2) == "function " + missing
    assert type_error(kw.posonly, a=1, b=2) == "function " + missing
    assert type_error(kw.posonly, 1) == "function " + missing
    assert type_error(kw.posonly, 1, a=2) == "function " + missing
    assert type_error(kw.posonly, 1, 2, a=3) == "function got an unexpected keyword argument 'a'"
    assert type_error(kw.objs, 1, s=5) == "function a str is required"
    assert type_error(kw.custom) == "custom message"
    assert type_error(kw.custom, b=1) == "custom message"
    assert type_error(kw.custom, a="x") == "custom message"
    with pytest.raises(TypeError):
        kw.tracked(1)
    with pytest.raises(OverflowError):
        kw.f(2**70)


def test_keywords_malformed(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_KEYWORDS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
        {
            long a = 0, b = 0, which;
            static const char *two[] = { "a", "b", NULL };
            static const char *one[] = { "a", NULL };
            static const char *gap[] = { "a", "", NULL };
            static const char *pos[] = { "", "", NULL };
            HPyTracker ht;
            int ok;
            which = HPyLong_AsLong(ctx, args[0]);
            args++; nargs--;
            switch (which) {
            case 0: ok = HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "ll", one, &a, &b); break;
            case 1: ok = HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l", two, &a); break;
            case 2: ok = HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "ll", gap, &a, &b); break;
            case 3: ok = HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "lZ", two, &a, &b); break;
            case 4: ok = HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l$$l", two, &a, &b); break;
            case 5: ok = HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "$ll", pos, &a, &b); break;
            case 6: ok = HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "l$|l", two, &a, &b); break;
            default: ok = HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "l|l", two, &a, &b); break;
            }
            if (!ok)
                return HPy_NULL;
            if (which >= 6)
                HPyTracker_Close(ctx, ht);
            return HPyLong_FromLong(ctx, 10 * a + b);
        }
        @EXPORT(f)
        @INIT
    """)
    assert mod.f(7, 1, b=2) == 12
    # A keywords list of the wrong length is a mismatch between the call's description and the
    # format, a TypeError like the other mismatches.
    for which, exc_type, message in [
        (0, TypeError, "function mismatched args (too few keywords for fmt)"),
        (1, TypeError, "function mismatched args (too many keywords for fmt)"),
        (2, SystemError, "function empty keyword parameter name"),
        (3, SystemError, "function unknown arg format code"),
        (4, SystemError, "function '$' given twice in the format passed to HPyArg_ParseKeywords"),
        (5, SystemError, "function keyword-only argument ('$') cannot be positional-only (\"\") "
                         "in HPyArg_ParseKeywords"),
        (6, SystemError, "function '|' after '$' in the format passed to HPyArg_ParseKeywords"),
    ]:
        with pytest.raises(exc_type) as exc:
            mod.f(which, 1, 2)
        assert str(exc.value) == message


def test_keywords_many_units(compiler):
    # More units than the parser keeps on its stack: its heap path must work too.
    n = 24
    names = ", ".join(f'"k{i}"' for i in range(n))
    decls = " ".join(f"long k{i} = -1;" for i in range(n))
    ptrs = ", ".join(f"&k{i}" for i in range(n))
    vals = ", ".join(f"k{i}" for i in range(n))
    mod = compiler.make_module(f"""
        HPyDef_METH(f, "f", HPyFunc_KEYWORDS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
        {{
            {decls}
            static const char *kwlist[] = {{ {names}, NULL }};
            if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l|{'l' * (n - 1)}", kwlist, {ptrs}))
                return HPy_NULL;
            return HPy_BuildValue(ctx, "[{'l' * n}]", {vals});
        }}
        @EXPORT(f)
        @INIT
    """)
    assert mod.f(0) == [0] + [-1] * (n - 1)
    assert mod.f(0, 1, 2) == [0, 1, 2] + [-1] * (n - 3)
    assert mod.f(0, k23=23, k12=12) == [0] + [-1] * 11 + [12] + [-1] * 10 + [23]
    assert type_error(mod.f, k1=1) == "function no value for required argument"
    assert type_error(mod.f, 0, k24=1) == "function got an unexpected keyword argument 'k24'"


DICT_SOURCE = """
    HPyDef_SLOT(Pair_new, HPy_tp_new)
    static HPy Pair_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        long a, b = 5;
        const char *s = "none";
        static const char *kwlist[] = { "a", "b", "s", NULL };
        if (!HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "l|ls:Pair", kwlist, &a, &b, &s))
            return HPy_NULL;
        /* A tp_new may return any object; a tuple keeps the test free of instance layouts. */
        return HPy_BuildValue(ctx, "(lls)", a, b, s);
    }
    static HPyDef *Pair_defines[] = { &Pair_new, NULL };
    static HPyType_Spec Pair_spec = { .name = "argparse_test.Pair", .flags = HPy_TPFLAGS_DEFAULT, .defines = Pair_defines };

    HPyDef_SLOT(Objs_new, HPy_tp_new)
    static HPy Objs_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        HPy a, b = HPy_NULL, result;
        int p = -1;
        HPyTracker ht;
        static const char *kwlist[] = { "", "b", "p", NULL };
        if (!HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kw, "O|O$p", kwlist, &a, &b, &p))
            return HPy_NULL;
        result = HPy_BuildValue(ctx, "(OOi)", a, HPy_IsNull(b) ? ctx->h_None : b, p);
        HPyTracker_Close(ctx, ht);
        return result;
    }
    static HPyDef *Objs_defines[] = { &Objs_new, NULL };
    static HPyType_Spec Objs_spec = { .name = "argparse_test.Objs", .flags = HPy_TPFLAGS_DEFAULT, .defines = Objs_defines };

    HPyDef_SLOT(NoTracker_new, HPy_tp_new)
    static HPy NoTracker_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        HPy a;
        static const char *kwlist[] = { "a", NULL };
        if (!HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "O", kwlist, &a))
            return HPy_NULL;
        return HPy_Dup(ctx, a);
    }
    static HPyDef *NoTracker_defines[] = { &NoTracker_new, NULL };
    static HPyType_Spec NoTracker_spec = { .name = "argparse_test.NoTracker", .flags = HPy_TPFLAGS_DEFAULT,
                                            .defines = NoTracker_defines };

    @EXPORT_TYPE("Pair", Pair_spec)
    @EXPORT_TYPE("Objs", Objs_spec)
    @EXPORT_TYPE("NoTracker", NoTracker_spec)
    @INIT
"""


def test_keywords_dict(compiler):
    mod = compiler.make_module(DICT_SOURCE)
    assert mod.Pair(1) == (1, 5, "none")
    assert mod.Pair(1, 2) == (1, 2, "none")
    assert mod.Pair(1, s="x") == (1, 5, "x")
    assert mod.Pair(s="x", a=3, b=4) == (3, 4, "x")
    assert mod.Pair(*(1,), **{}) == (1, 5, "none")
    assert type_error(mod.Pair) == "Pair() no value for required argument"
    assert type_error(mod.Pair, c=2) == "Pair() no value for required argument"
    assert type_error(mod.Pair, 1, c=2) == "Pair() got an unexpected keyword argument 'c'"
    assert type_error(mod.Pair, 1, a=2) == "Pair() got multiple values for argument 'a'"
    assert type_error(mod.Pair, 1, 2, 3, 4) == "Pair() mismatched args (too many arguments for fmt)"
    assert type_error(mod.Pair, 1, b="x") == "Pair() argument 'b' must be int, not str"
    assert type_error(mod.Pair, 1, s=2) == "Pair() a str is required"

    o = object()
    assert mod.Objs(o) == (o, None, -1)
    assert mod.Objs(o, o, p=1) == (o, o, 1)
    assert mod.Objs(o, b=o, p=[]) == (o, o, 0)
    assert type_error(mod.Objs, o, o, 1) == "function keyword only argument passed as positional argument"
    assert type_error(mod.Objs, b=o) == "function no value for required argument"
    for _ in range(3):
        # Failures after a keyword value was fetched: the parser must close what it holds.
        assert type_error(mod.Objs, o, b=o, x=1) == "function got an unexpected keyword argument 'x'"

    # Dict values are new handles: returning one through 'O' needs a tracker.
    with pytest.raises(SystemError):
        mod.NoTracker(a=1)
    with pytest.raises(SystemError):
        mod.NoTracker(1)


def test_pack_args_and_keywords(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_KEYWORDS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
        {
            HPy tuple = ctx->h_Ellipsis, dict = ctx->h_Ellipsis, result;
            if (!HPyHelpers_PackArgsAndKeywords(ctx, args, nargs, kwnames, &tuple, &dict))
                return HPy_NULL;
            result = HPy_BuildValue(ctx, "(OO)", HPy_IsNull(tuple) ? ctx->h_None : tuple,
                                    HPy_IsNull(dict) ? ctx->h_None : dict);
            if (!HPy_IsNull(tuple))
                HPy_Close(ctx, tuple);
            if (!HPy_IsNull(dict))
                HPy_Close(ctx, dict);
            return result;
        }
        HPyDef_METH(bad, "bad", HPyFunc_O)
        static HPy bad_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy t = ctx->h_Ellipsis, d = ctx->h_Ellipsis;
            const HPy args[] = { ctx->h_None, ctx->h_True };
            int ok;
            switch (HPyLong_AsLong(ctx, arg)) {
            case 0: ok = HPyHelpers_PackArgsAndKeywords(ctx, args, 2, HPy_NULL, NULL, &d); break;
            case 1: ok = HPyHelpers_PackArgsAndKeywords(ctx, args, 2, HPy_NULL, &t, NULL); break;
            case 2: ok = HPyHelpers_PackArgsAndKeywords(ctx, args, 2, HPy_NULL, NULL, NULL); break;
            default: ok = HPyHelpers_PackArgsAndKeywords(ctx, args, 1, ctx->h_None, &t, &d); break;
            }
            if (ok)
                return HPyErr_Format(ctx, ctx->h_AssertionError, "packing should have failed");
            /* On failure the outputs are left alone. */
            if (!HPy_Is(ctx, t, ctx->h_Ellipsis) || !HPy_Is(ctx, d, ctx->h_Ellipsis))
                return HPyErr_Format(ctx, ctx->h_AssertionError, "an output was written");
            return HPy_NULL;
        }
        @EXPORT(f)
        @EXPORT(bad)
        @INIT
    """)
    # No positional arguments and no keywords both give HPy_NULL.
    assert mod.f() == (None, None)
    assert mod.f(1, "x") == ((1, "x"), None)
    assert mod.f(1, b=2, a=3) == ((1,), {"b": 2, "a": 3})
    assert mod.f(a=[]) == (None, {"a": []})
    for which, name in [(0, "out_pos_args"), (1, "out_kwd"), (2, "out_pos_args")]:
        with pytest.raises(SystemError) as exc:
            mod.bad(which)
        assert f"argument '{name}' must not be NULL" in str(exc.value)
    with pytest.raises(TypeError):   # kwnames that is no tuple
        mod.bad(3)


def test_keywords_dict_caller_closes_its_arguments(compiler):
    # A tp_new-style caller often builds its argument array itself and closes it right after
    # parsing: what 'O' and 's' give back must stay valid until the tracker is closed.
    mod = compiler.make_module("""
        #include <stdlib.h>
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy a, b = HPy_NULL, res;
            const char *s = "none";
            HPyTracker ht;
            static const char *kwlist[] = { "a", "b", "s", NULL };
            HPy_ssize_t n = HPy_Length(ctx, args[0]);
            HPy *arr = (HPy *)malloc((n + 1) * sizeof(HPy));
            for (HPy_ssize_t i = 0; i < n; i++)
                arr[i] = HPy_GetItem_i(ctx, args[0], i);
            int ok = HPyArg_ParseKeywordsDict(ctx, &ht, arr, n, args[1], "O|Os", kwlist, &a, &b, &s);
            for (HPy_ssize_t i = 0; i < n; i++)
                HPy_Close(ctx, arr[i]);
            free(arr);
            if (!ok)
                return HPy_NULL;
            res = HPy_BuildValue(ctx, "(OOs)", a, HPy_IsNull(b) ? ctx->h_None : b, s);
            HPyTracker_Close(ctx, ht);
            return res;
        }
        @EXPORT(f)
        @INIT
    """)
    x, y = object(), object()
    assert mod.f((x, y, "t\u00e9"), {}) == (x, y, "t\u00e9")
    assert mod.f((x,), {"s": "kw", "b": y}) == (x, y, "kw")
    assert mod.f((), {"a": x}) == (x, None, "none")
    with pytest.raises(TypeError) as exc:
        mod.f((), {})
    assert str(exc.value) == "function no value for required argument"


def test_add_type(compiler):
    mod = compiler.make_module("""
        HPyDef_SLOT(Thing_new, HPy_tp_new)
        static HPy Thing_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
        {
            return HPyLong_FromLong(ctx, (long)nargs);
        }
        static HPyDef *Thing_defines[] = { &Thing_new, NULL };
        static HPyType_Spec Thing_spec = { .name = "argparse_test.Thing", .flags = HPy_TPFLAGS_DEFAULT,
                                           .defines = Thing_defines };
        HPyDef_METH(add, "add", HPyFunc_O)
        static HPy add_impl(HPyContext *ctx, HPy self, HPy target)
        {
            int ok = HPyHelpers_AddType(ctx, target, "Thing", &Thing_spec, NULL);
            if (!ok && !HPyErr_Occurred(ctx))
                HPyErr_SetString(ctx, ctx->h_RuntimeError, "AddType failed without an exception");
            return ok ? HPyLong_FromLong(ctx, ok) : HPy_NULL;
        }
        @EXPORT(add)
        @INIT
    """)

    class Target:
        pass

    t = Target()
    assert mod.add(t) == 1
    assert isinstance(t.Thing, type) and t.Thing.__name__ == "Thing"
    assert t.Thing(1, 2) == 2
    with pytest.raises(AttributeError):   # ints take no attributes: 0 with the exception set
        mod.add(5)
