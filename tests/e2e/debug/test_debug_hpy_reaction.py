"""tests/e2e/debug/test_debug_hpy_reaction.py: the default reaction is HPy 0.9's (its hooks, or fatal errors
with its lines, then unihpy's report); the closed queue, raw data and nested contexts behave as HPy 0.9's."""
import signal

import pytest
import support

from hpy.universal import _debug

pytestmark = pytest.mark.debug_only("reactions are part of debug mode")

HANDLES = """
    static HPy kept;
    HPyDef_METH(double_close, "double_close", HPyFunc_O)
    static HPy double_close_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy h = HPy_Dup(ctx, arg);
        HPy_Close(ctx, h);
        HPy_Close(ctx, h);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(ret_none, "ret_none", HPyFunc_NOARGS)
    static HPy ret_none_impl(HPyContext *ctx, HPy self)
    {
        return ctx->h_None;
    }
    HPyDef_METH(close_true, "close_true", HPyFunc_NOARGS)
    static HPy close_true_impl(HPyContext *ctx, HPy self)
    {
        HPy_Close(ctx, ctx->h_True);
        return HPy_Dup(ctx, ctx->h_False);
    }
    HPyDef_METH(close_arg, "close_arg", HPyFunc_O)
    static HPy close_arg_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_Close(ctx, arg);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(ret_arg, "ret_arg", HPyFunc_O)
    static HPy ret_arg_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return arg;
    }
    HPyDef_METH(keep, "keep", HPyFunc_O)
    static HPy keep_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        kept = arg;
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(kept_len, "kept_len", HPyFunc_NOARGS)
    static HPy kept_len_impl(HPyContext *ctx, HPy self)
    {
        return HPyLong_FromSsize_t(ctx, HPy_Length(ctx, kept));
    }
    @EXPORT(double_close)
    @EXPORT(ret_none)
    @EXPORT(close_true)
    @EXPORT(close_arg)
    @EXPORT(ret_arg)
    @EXPORT(keep)
    @EXPORT(kept_len)
    @INIT
"""


@pytest.mark.parametrize("call, check", [("mod.double_close(42)", "[double-close] HPy_Close"),
                                         ("mod.ret_none()", "[return-constant] return"),
                                         ("mod.close_true()", "[close-constant] HPy_Close")])
def test_handle_misuse_is_fatal_without_hook(misuse, call, check):
    proc = misuse.run_script(HANDLES, call, reaction=None)
    assert _debug.get_reaction() == "raise"  # the fixture's; a fresh interpreter starts with HPy 0.9's
    assert proc.returncode == -signal.SIGABRT, proc.stderr
    # HPy 0.9's line first, then unihpy's report.
    line = proc.stderr.index("Invalid usage of already closed handle")
    assert proc.stderr.index("hpy.debug: " + check) > line


def test_default_reaction_is_hpys(misuse):
    proc = misuse.run_script(HANDLES, "print(hpy.universal._debug.get_reaction())", reaction=None)
    assert proc.stdout.split() == ["hpy"]


def test_invalid_handle_hook_lets_the_program_go_on(misuse):
    mod = misuse.make_module(HANDLES)
    calls = []
    _debug.set_reaction("hpy")
    _debug.set_on_invalid_handle(lambda: calls.append(1))
    try:
        assert mod.double_close(42) is None and len(calls) == 1
        assert mod.close_arg("x") is None and len(calls) == 2  # ignored: the caller's handle
        assert mod.ret_arg("y") == "y" and len(calls) == 3  # repaired with the missing HPy_Dup
        s = "kept beyond its call"
        assert mod.keep(s) is None and len(calls) == 3
        assert mod.kept_len() == len(s) and len(calls) == 4  # the closed argument's object still lives
    finally:
        _debug.set_on_invalid_handle(None)


BUILDERS = """
    HPyDef_METH(build_twice, "build_twice", HPyFunc_NOARGS)
    static HPy build_twice_impl(HPyContext *ctx, HPy self)
    {
        HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 1);
        HPyTupleBuilder_Set(ctx, b, 0, ctx->h_None);
        HPy t = HPyTupleBuilder_Build(ctx, b);
        HPy_Close(ctx, t);
        return HPyTupleBuilder_Build(ctx, b);
    }
    HPyDef_METH(cancel_after_build, "cancel_after_build", HPyFunc_NOARGS)
    static HPy cancel_after_build_impl(HPyContext *ctx, HPy self)
    {
        HPyListBuilder b = HPyListBuilder_New(ctx, 1);
        HPyListBuilder_Set(ctx, b, 0, ctx->h_None);
        HPy l = HPyListBuilder_Build(ctx, b);
        HPyListBuilder_Cancel(ctx, b);
        HPy_Close(ctx, l);
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(build_twice)
    @EXPORT(cancel_after_build)
    @INIT
"""


def test_builder_hook_lets_the_program_go_on(misuse):
    mod = misuse.make_module(BUILDERS)
    calls = []
    _debug.set_reaction("hpy")
    _debug.set_on_invalid_builder_handle(lambda: calls.append(1))
    try:
        with pytest.raises(MemoryError):  # the builder is gone: the build fails as an allocation would
            mod.build_twice()
        assert mod.cancel_after_build() is None
    finally:
        _debug.set_on_invalid_builder_handle(None)
    assert calls == [1, 1]


def test_builder_misuse_is_fatal_without_hook(misuse):
    proc = misuse.run_script(BUILDERS, "mod.build_twice()", reaction=None)
    assert proc.returncode == -signal.SIGABRT
    assert proc.stderr.index("hpy.debug: [builder-misuse]") > proc.stderr.index(
        "Invalid usage of already closed builder")


CONTEXTS = """
    #include <stdio.h>
    static HPyContext *kept;
    HPyDef_METH(use_kept, "use_kept", HPyFunc_NOARGS)
    static HPy use_kept_impl(HPyContext *ctx, HPy self)
    {
        return HPy_Dup(kept, ctx->h_None);
    }
    HPyDef_METH(keep_and_call, "keep_and_call", HPyFunc_O)
    static HPy keep_and_call_impl(HPyContext *ctx, HPy self, HPy callback)
    {
        kept = ctx;
        return HPy_CallTupleDict(ctx, callback, HPy_NULL, HPy_NULL);
    }
    @EXPORT(use_kept)
    @EXPORT(keep_and_call)
    @INIT
"""


def test_outer_calls_context_is_invalid_during_a_nested_call(misuse):
    mod = misuse.make_module(CONTEXTS)
    with pytest.raises(Exception, match=r"\[context-reused\] HPy_Dup: a context was used inside a nested call"):
        mod.keep_and_call(mod.use_kept)
    proc = misuse.run_script(CONTEXTS, "mod.keep_and_call(mod.use_kept)", reaction=None)
    assert proc.returncode == -signal.SIGABRT
    assert proc.stderr.index("hpy.debug: [context-reused]") > proc.stderr.index("Error: Wrong HPy Context!")


TYPES = """
    HPyDef_METH(typecheck, "typecheck", HPyFunc_VARARGS)
    static HPy typecheck_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyBool_FromLong(ctx, HPy_TypeCheck(ctx, args[0], args[1]));
    }
    HPyDef_METH(issubtype, "issubtype", HPyFunc_VARARGS)
    static HPy issubtype_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyBool_FromLong(ctx, HPyType_IsSubtype(ctx, args[0], args[1]));
    }
    HPyDef_METH(getname, "getname", HPyFunc_O)
    static HPy getname_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        const char *name = HPyType_GetName(ctx, arg);
        return name ? HPyUnicode_FromString(ctx, name) : HPy_NULL;
    }
    HPyDef_METH(substring, "substring", HPyFunc_O)
    static HPy substring_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyUnicode_Substring(ctx, arg, 0, 1);
    }
    HPyDef_METH(as_object, "as_object", HPyFunc_O)
    static HPy as_object_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyBool_FromBool(ctx, _HPy_AsStruct_Object(ctx, arg) != NULL);
    }
    HPyDef_METH(as_legacy, "as_legacy", HPyFunc_O)
    static HPy as_legacy_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyBool_FromBool(ctx, _HPy_AsStruct_Legacy(ctx, arg) != NULL);
    }
    @EXPORT(as_legacy)
    @EXPORT(typecheck)
    @EXPORT(issubtype)
    @EXPORT(getname)
    @EXPORT(substring)
    @EXPORT(as_object)
    @INIT
"""


def test_as_struct_legacy_of_a_type_not_made_by_hpy(misuse):
    # Such a type has the Legacy shape: its objects start with a PyObject, no report.
    mod = misuse.make_module(TYPES)
    assert mod.as_legacy(12345) is True


@pytest.mark.parametrize("call, line, check", [
    ("mod.typecheck(1, 2)", "HPy_TypeCheck arg 2 must be a type", "[not-a-type] HPy_TypeCheck"),
    ("mod.issubtype('a', str)", "HPyType_IsSubtype arg 1 must be a type", "[not-a-type] HPyType_IsSubtype"),
    ("mod.issubtype(str, 'a')", "HPyType_IsSubtype arg 2 must be a type", "[not-a-type] HPyType_IsSubtype"),
    ("mod.getname('a')", "HPyType_GetName arg must be a type", "[not-a-type] HPyType_GetName"),
    ("mod.substring(b'ab')", "HPyUnicode_Substring arg 1 must be a Unicode object",
     "[not-a-str] HPyUnicode_Substring"),
    ("mod.as_object(5)", "Invalid usage of _HPy_AsStruct_Object. Expected shape HPyType_BuiltinShape_Object but "
                         "got HPyType_BuiltinShape_Legacy", "[wrong-shape] _HPy_AsStruct_Object"),
])
def test_type_misuse_is_fatal_with_hpys_line(misuse, call, line, check):
    proc = misuse.run_script(TYPES, call, reaction=None)
    assert proc.returncode == -signal.SIGABRT, proc.stderr
    assert proc.stderr.index("hpy.debug: " + check) > proc.stderr.index(line)
    raised = misuse.run_script(TYPES, call)  # the 'raise' reaction: an HPyDebugError instead
    assert raised.returncode == 1 and check in raised.stderr


RAW = """
    HPyDef_METH(after_dup_close, "after_dup_close", HPyFunc_O)
    static HPy after_dup_close_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy d = HPy_Dup(ctx, arg);
        const char *s = HPyUnicode_AsUTF8AndSize(ctx, d, NULL);
        HPy_Close(ctx, d);   /* the data were the dup's: gone, though the object lives on */
        return HPyUnicode_FromString(ctx, s);
    }
    HPyDef_METH(utf8, "utf8", HPyFunc_O)
    static HPy utf8_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(churn, "churn", HPyFunc_O)
    static HPy churn_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        long n = HPyLong_AsLong(ctx, arg);
        for (long i = 0; i < n; i++)
            HPy_Close(ctx, HPyLong_FromLong(ctx, i));
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(after_dup_close)
    @EXPORT(utf8)
    @EXPORT(churn)
    @INIT
"""


@support.PROVOKES_SIGSEGV
def test_raw_data_of_a_dup_die_with_it(misuse):
    proc = misuse.run_script(RAW, "mod.after_dup_close('some text')")
    assert proc.returncode == -signal.SIGSEGV and proc.stderr == ""  # silent without faulthandler


def test_arguments_are_queued_and_the_raw_data_budget_keeps_what_fits(misuse):
    mod = misuse.make_module(RAW)
    old_raw, old_queue = _debug.get_protected_raw_data_max_size(), _debug.get_closed_handles_queue_max_size()
    try:
        # A full queue hands out its oldest slots: churning through all of them releases every raw data kept.
        n = len(_debug.get_closed_handles())
        _debug.set_closed_handles_queue_max_size(n)
        mod.churn(n)
        assert all(h.raw_data_size == -1 for h in _debug.get_closed_handles())
        _debug.set_closed_handles_queue_max_size(n + 100)
        _debug.set_protected_raw_data_max_size(10)
        gen = _debug.new_generation()
        mod.utf8("abcd")           # 5 bytes: kept
        mod.utf8("0123456789")     # 11 bytes: over the budget, released at once
        sizes = [h.raw_data_size for h in _debug.get_closed_handles(gen)]
        assert len(sizes) == 6  # self, the argument and the result of each call
        assert sorted(sizes) == [-1] * 5 + [5]
    finally:
        _debug.set_protected_raw_data_max_size(old_raw)
        _debug.set_closed_handles_queue_max_size(old_queue)
