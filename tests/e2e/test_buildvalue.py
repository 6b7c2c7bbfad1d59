# tests/e2e/test_buildvalue.py: HPy_BuildValue: every unit, nesting, malformed formats and failing values.
import pytest

# (format, C arguments, expected value); built by one function that switches on the case number.
CASES = [
    ("", "", None),
    ("i", "42", 42),
    ("i", "-2147483647 - 1", -2**31),
    ("I", "4294967295u", 2**32 - 1),
    ("l", "-9223372036854775807L - 1", -2**63),
    ("k", "18446744073709551615UL", 2**64 - 1),
    ("L", "-9223372036854775807LL - 1", -2**63),
    ("K", "18446744073709551615ULL", 2**64 - 1),
    ("n", "(HPy_ssize_t)-5", -5),
    ("f", "1.5f", 1.5),
    ("d", "0.1", 0.1),
    ("s", '"hello"', "hello"),
    ("s", '"h\\xc3\\xa9 \\xe2\\x82\\xac"', "h\u00e9 \u20ac"),
    ("s", "(const char *)NULL", None),
    ("O", "ctx->h_True", True),
    ("S", "ctx->h_Ellipsis", Ellipsis),
    ("ii", "1, 2", (1, 2)),
    ("i, i", "1, 2", (1, 2)),
    (" i ,\ti ", "1, 2", (1, 2)),
    ("()", "", ()),
    ("(i)", "7", (7,)),
    ("(i,)", "7", (7,)),
    ("[]", "", []),
    ("[i]", "7", [7]),
    ("[i, s]", '7, "x"', [7, "x"]),
    ("{}", "", {}),
    ("{s:i}", '"a", 1', {"a": 1}),
    ("{s: i, s :d}", '"a", 1, "b", 2.5', {"a": 1, "b": 2.5}),
    ("{s:i s:i}", '"a", 1, "b", 2', {"a": 1, "b": 2}),
    ("{i:(ii)}", "1, 2, 3", {1: (2, 3)}),
    ("(i(ii)[s{s:[d]}])", '1, 2, 3, "x", "k", 0.5', (1, (2, 3), ["x", {"k": [0.5]}])),
    ("((((i))))", "9", ((((9,),),),)),
    ("[[], (), {}]", "", [[], (), {}]),
    ("O(O)[O]", "ctx->h_None, ctx->h_False, ctx->h_NotImplemented", (None, (False,), [NotImplemented])),
    ("iIlkLKnfdsOS", '-1, 1u, -2L, 2UL, -3LL, 3ULL, (HPy_ssize_t)4, 0.25f, 0.75, "s", ctx->h_None, ctx->h_True',
     (-1, 1, -2, 2, -3, 3, 4, 0.25, 0.75, "s", None, True)),
]


def cases_source():
    lines = []
    for n, (fmt, args, _) in enumerate(CASES):
        c_fmt = fmt.replace("\t", "\\t")
        call = f'HPy_BuildValue(ctx, "{c_fmt}"{", " + args if args else ""})'
        lines.append(f"        case {n}: return {call};")
    return """
        HPyDef_METH(build, "build", HPyFunc_O)
        static HPy build_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            switch (HPyLong_AsLong(ctx, arg)) {
%s
            default:
                HPyErr_SetString(ctx, ctx->h_IndexError, "no such case");
                return HPy_NULL;
            }
        }
        @EXPORT(build)
        @INIT
    """ % "\n".join(lines)


def test_units_and_nesting(compiler):
    mod = compiler.make_module(cases_source())
    for n, (fmt, _, expected) in enumerate(CASES):
        got = mod.build(n)
        assert got == expected and type(got) is type(expected), (fmt, got, expected)


def test_O_returns_a_new_handle(compiler):
    # The caller still owns its handle after the call, and the result is the same object.
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy a = HPy_BuildValue(ctx, "O", arg);
            HPy b = HPy_BuildValue(ctx, "(OO)", arg, a);
            HPy_Close(ctx, a);
            return b;
        }
        @EXPORT(f)
        @INIT
    """)
    obj = object()
    for _ in range(3):
        t = mod.f(obj)
        assert t[0] is obj and t[1] is obj


MALFORMED = [
    ("(", "unmatched '('"),
    ("(i", "unmatched '('"),
    ("[i", "unmatched '['"),
    ("{s:i", "unmatched '{'"),
    ("((i)", "unmatched '('"),
    # A closer of the wrong kind, or an end too early, leaves the (outermost) bracket unmatched.
    ("[i)", "unmatched '['"),
    ("(i]", "unmatched '('"),
    ("([(i)k", "unmatched '('"),
    ("({i:i)", "unmatched '{'"),
    ("i)", "unexpected ')'"),
    ("}", "unexpected '}'"),
    ("i:i", "unexpected ':'"),
    ("{i}", "missing ':'"),
    ("{i:}", "missing dict value after ':'"),
    ("{i:,i:i}", "missing dict value after ':'"),
    ("Z", "bad format char 'Z'"),
    ("i#", "bad format char '#'"),
    ("iz", "bad format char 'z'"),
    ("{i:i,,}", "unexpected ','"),
    ("{,i:i}", "unexpected ','"),
    ("{i:ii,}", "missing ','"),
    ("N", "HPy_BuildValue does not support the 'N' formatting unit."),
    ("(iN)", "HPy_BuildValue does not support the 'N' formatting unit."),
]


def test_malformed_formats(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t size;
            const char *fmt = HPyUnicode_AsUTF8AndSize(ctx, arg, &size);
            if (fmt == NULL)
                return HPy_NULL;
            /* Enough arguments for any format in the list; a bad format must consume none. */
            return HPy_BuildValue(ctx, fmt, 1, 2, 3, 4, 5, 6);
        }
        @EXPORT(f)
        @INIT
    """)
    assert mod.f("(ii)") == (1, 2)
    for fmt, message in MALFORMED:
        with pytest.raises(SystemError) as exc:
            mod.f(fmt)
        assert message in str(exc.value), (fmt, str(exc.value))
        if "unit." not in message:
            assert message + " in the format string passed to HPy_BuildValue" in str(exc.value)
        assert "HPy_BuildValue" in str(exc.value)


def test_failing_values(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            switch (HPyLong_AsLong(ctx, arg)) {
            case 0:  /* HPy_NULL with no exception set: SystemError */
                return HPy_BuildValue(ctx, "(iO)", 1, HPy_NULL);
            case 1: { /* HPy_NULL from a failed call: that call's exception stays */
                HPy h = HPy_GetAttr_s(ctx, ctx->h_None, "no_such_attribute");
                return HPy_BuildValue(ctx, "[i(iO)]", 1, 2, h);
            }
            case 2: { /* an unhashable key: the dict's TypeError, no leaked handles */
                HPy key = HPyList_New(ctx, 0);
                HPy res = HPy_BuildValue(ctx, "{s:i,O:i}", "a", 1, key, 2);
                HPy_Close(ctx, key);
                return res;
            }
            case 3:  /* invalid UTF-8 for 's' */
                return HPy_BuildValue(ctx, "(is)", 1, "\\xff\\xfe");
            default:
                return HPy_BuildValue(ctx, "{s:O}", "k", HPy_NULL);
            }
        }
        @EXPORT(f)
        @INIT
    """)
    with pytest.raises(SystemError) as exc:
        mod.f(0)
    assert "HPy_NULL object passed to HPy_BuildValue" in str(exc.value)
    with pytest.raises(AttributeError, match="no_such_attribute"):
        mod.f(1)
    with pytest.raises(TypeError, match="unhashable"):
        mod.f(2)
    with pytest.raises(UnicodeDecodeError):
        mod.f(3)
    with pytest.raises(SystemError):
        mod.f(4)
    for n in range(5):  # errors leave the interpreter usable
        with pytest.raises(Exception):
            mod.f(n)
