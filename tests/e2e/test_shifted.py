"""tests/e2e/test_shifted.py: the 19 context members that HPy 0.9.1.dev hosts (PyPy 7.3.18+) place one slot
later, each called once by one module (include/hpy/universal/context_adapter.h routes them)."""
import sys

import pytest

SHIFTED_MEMBERS = [
    "Capsule_New", "Capsule_Get", "Capsule_IsValid", "Capsule_Set", "Compile_s", "EvalCode",
    "ContextVar_New", "ContextVar_Get", "ContextVar_Set", "Type_GetName", "Type_IsSubtype",
    "Unicode_FromEncodedObject", "Unicode_Substring", "Dict_Keys", "Dict_Copy", "Slice_Unpack",
    "SetCallFunction", "Call", "CallMethod",
]

SOURCE = r"""
    static int first = 1, second = 2;

    /* capsule() -> (is_valid, pointer read back is &first, Set to &second, read back is &second) */
    HPyDef_METH(capsule, "capsule", HPyFunc_NOARGS)
    static HPy capsule_impl(HPyContext *ctx, HPy self)
    {
        HPy cap = HPyCapsule_New(ctx, &first, "shifted.cap", NULL);
        if (HPy_IsNull(cap))
            return HPy_NULL;
        int valid = HPyCapsule_IsValid(ctx, cap, "shifted.cap");
        int wrong_name = HPyCapsule_IsValid(ctx, cap, "other.cap");
        int got_first = HPyCapsule_Get(ctx, cap, HPyCapsule_key_Pointer, "shifted.cap") == &first;
        int set = HPyCapsule_Set(ctx, cap, HPyCapsule_key_Pointer, &second);
        int got_second = HPyCapsule_Get(ctx, cap, HPyCapsule_key_Pointer, "shifted.cap") == &second;
        HPy_Close(ctx, cap);
        return HPy_BuildValue(ctx, "iiiii", valid, wrong_name, got_first, set, got_second);
    }

    /* evaluate(source, globals): HPy_Compile_s as an expression, then HPy_EvalCode */
    HPyDef_METH(evaluate, "evaluate", HPyFunc_VARARGS)
    static HPy evaluate_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        const char *source = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
        if (source == NULL)
            return HPy_NULL;
        HPy code = HPy_Compile_s(ctx, source, "<shifted>", HPy_SourceKind_Expr);
        if (HPy_IsNull(code))
            return HPy_NULL;
        HPy result = HPy_EvalCode(ctx, code, args[1], args[1]);
        HPy_Close(ctx, code);
        return result;
    }

    /* context_var(default, value) -> (value read before Set, value read after Set) */
    HPyDef_METH(context_var, "context_var", HPyFunc_VARARGS)
    static HPy context_var_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPy var = HPyContextVar_New(ctx, "shifted_var", args[0]);
        if (HPy_IsNull(var))
            return HPy_NULL;
        HPy before = HPy_NULL, after = HPy_NULL, token = HPy_NULL, result = HPy_NULL;
        if (HPyContextVar_Get(ctx, var, HPy_NULL, &before) < 0)
            goto done;
        token = HPyContextVar_Set(ctx, var, args[1]);
        if (HPy_IsNull(token))
            goto done;
        if (HPyContextVar_Get(ctx, var, HPy_NULL, &after) < 0)
            goto done;
        result = HPyTuple_Pack(ctx, 2, before, after);
    done:
        HPy_Close(ctx, var);
        if (!HPy_IsNull(before)) HPy_Close(ctx, before);
        if (!HPy_IsNull(after)) HPy_Close(ctx, after);
        if (!HPy_IsNull(token)) HPy_Close(ctx, token);
        return result;
    }

    HPyDef_METH(type_name, "type_name", HPyFunc_O)
    static HPy type_name_impl(HPyContext *ctx, HPy self, HPy type)
    {
        const char *name = HPyType_GetName(ctx, type);
        return name ? HPyUnicode_FromString(ctx, name) : HPy_NULL;
    }

    HPyDef_METH(is_subtype, "is_subtype", HPyFunc_VARARGS)
    static HPy is_subtype_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyBool_FromLong(ctx, HPyType_IsSubtype(ctx, args[0], args[1]));
    }

    HPyDef_METH(decode, "decode", HPyFunc_O)
    static HPy decode_impl(HPyContext *ctx, HPy self, HPy data)
    {
        return HPyUnicode_FromEncodedObject(ctx, data, "utf-8", "strict");
    }

    HPyDef_METH(substring, "substring", HPyFunc_VARARGS)
    static HPy substring_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyUnicode_Substring(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]), HPyLong_AsSsize_t(ctx, args[2]));
    }

    HPyDef_METH(dict_keys, "dict_keys", HPyFunc_O)
    static HPy dict_keys_impl(HPyContext *ctx, HPy self, HPy d) { return HPyDict_Keys(ctx, d); }

    HPyDef_METH(dict_copy, "dict_copy", HPyFunc_O)
    static HPy dict_copy_impl(HPyContext *ctx, HPy self, HPy d) { return HPyDict_Copy(ctx, d); }

    HPyDef_METH(slice_unpack, "slice_unpack", HPyFunc_O)
    static HPy slice_unpack_impl(HPyContext *ctx, HPy self, HPy slice)
    {
        HPy_ssize_t start, stop, step;
        if (HPySlice_Unpack(ctx, slice, &start, &stop, &step) < 0)
            return HPy_NULL;
        return HPy_BuildValue(ctx, "nnn", start, stop, step);
    }

    HPyDef_CALL_FUNCTION(answer)
    static HPy answer_impl(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
    {
        return HPyLong_FromLong(ctx, 42);
    }

    /* set_call_function(obj): HPy_SetCallFunction on an object whose type has no call-function slot */
    HPyDef_METH(set_call_function, "set_call_function", HPyFunc_O)
    static HPy set_call_function_impl(HPyContext *ctx, HPy self, HPy obj)
    {
        if (HPy_SetCallFunction(ctx, obj, &answer) < 0)
            return HPy_NULL;
        return HPy_Dup(ctx, ctx->h_None);
    }

    /* call(f, *args): HPy_Call without keywords; call_method(name, receiver, *args): HPy_CallMethod */
    HPyDef_METH(call, "call", HPyFunc_VARARGS)
    static HPy call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPy_Call(ctx, args[0], args + 1, nargs - 1, HPy_NULL);
    }

    HPyDef_METH(call_method, "call_method", HPyFunc_VARARGS)
    static HPy call_method_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPy_CallMethod(ctx, args[0], args + 1, nargs - 1, HPy_NULL);
    }

    @EXPORT(capsule) @EXPORT(evaluate) @EXPORT(context_var) @EXPORT(type_name) @EXPORT(is_subtype)
    @EXPORT(decode) @EXPORT(substring) @EXPORT(dict_keys) @EXPORT(dict_copy) @EXPORT(slice_unpack)
    @EXPORT(set_call_function) @EXPORT(call) @EXPORT(call_method)
    @INIT
"""


@pytest.fixture
def mod(compiler):
    return compiler.make_module(SOURCE, name="shifted")


def test_source_calls_every_shifted_member():
    import re

    called = set(re.findall(r"\b(HPy\w*?)\(ctx", SOURCE))
    api = {"Capsule_New": "HPyCapsule_New", "Capsule_Get": "HPyCapsule_Get",
           "Capsule_IsValid": "HPyCapsule_IsValid", "Capsule_Set": "HPyCapsule_Set",
           "Compile_s": "HPy_Compile_s", "EvalCode": "HPy_EvalCode", "ContextVar_New": "HPyContextVar_New",
           "ContextVar_Get": "HPyContextVar_Get", "ContextVar_Set": "HPyContextVar_Set",
           "Type_GetName": "HPyType_GetName", "Type_IsSubtype": "HPyType_IsSubtype",
           "Unicode_FromEncodedObject": "HPyUnicode_FromEncodedObject",
           "Unicode_Substring": "HPyUnicode_Substring", "Dict_Keys": "HPyDict_Keys",
           "Dict_Copy": "HPyDict_Copy", "Slice_Unpack": "HPySlice_Unpack",
           "SetCallFunction": "HPy_SetCallFunction", "Call": "HPy_Call", "CallMethod": "HPy_CallMethod"}
    assert sorted(api) == sorted(SHIFTED_MEMBERS)
    assert not [m for m in SHIFTED_MEMBERS if api[m] not in called]


def test_capsule(mod):
    assert mod.capsule() == (1, 0, 1, 0, 1)


def test_compile_and_eval(mod):
    assert mod.evaluate("a * b + 1", {"a": 6, "b": 7}) == 43
    with pytest.raises(SyntaxError):
        mod.evaluate("a +", {})
    with pytest.raises(NameError):
        mod.evaluate("missing", {})


def test_context_var(mod):
    default, value = object(), object()
    before, after = mod.context_var(default, value)
    assert before is default and after is value


def test_types(mod):
    class Base:
        pass

    class Derived(Base):
        pass

    assert mod.type_name(Derived) == "Derived"
    assert mod.type_name(int) == "int"
    assert mod.is_subtype(Derived, Base) is True
    assert mod.is_subtype(Base, Derived) is False


def test_unicode(mod):
    assert mod.decode("héllo".encode()) == "héllo"
    with pytest.raises(UnicodeDecodeError):
        mod.decode(b"\xff")
    assert mod.substring("abcdef", 1, 4) == "bcd"


def test_dict(mod):
    d = {"a": 1, "b": 2}
    assert mod.dict_keys(d) == ["a", "b"]
    copy = mod.dict_copy(d)
    assert copy == d and copy is not d


def test_slice_unpack(mod):
    assert mod.slice_unpack(slice(1, 10, 2)) == (1, 10, 2)
    assert mod.slice_unpack(slice(None, None, -1)) == (sys.maxsize, -sys.maxsize - 1, -1)
    with pytest.raises(ValueError):
        mod.slice_unpack(slice(0, 1, 0))


def test_set_call_function_refused(mod):
    # A plain object's type has no call-function slot: an error, on every host, never a crash.
    with pytest.raises((TypeError, SystemError)):
        mod.set_call_function(object())


def test_call_and_call_method(mod):
    assert mod.call(max, 3, 9, 4) == 9
    assert mod.call(lambda: "no args") == "no args"
    assert mod.call_method("upper", "abc") == "ABC"
    assert mod.call_method("split", "a,b", ",") == ["a", "b"]
    with pytest.raises(AttributeError):
        mod.call_method("no_such_method", "abc")
