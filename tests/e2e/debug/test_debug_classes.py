"""tests/e2e/debug/test_debug_classes.py: abandoned builders, fields without traverse or with the wrong owner,
and the C location every report names."""
import pytest

import support
from hpy.debug import HPyDebugError, HPyLeakError, LeakDetector
from hpy.universal import _debug


def debug_error(func, *args):
    with pytest.raises(HPyDebugError) as info:
        func(*args)
    return info.value


BUILDERS = """
    HPyDef_METH(abandon, "abandon", HPyFunc_NOARGS)
    static HPy abandon_impl(HPyContext *ctx, HPy self)
    {
        HPyTupleBuilder t = HPyTupleBuilder_New(ctx, 3);     /* tuple: never built */
        HPyTupleBuilder_Set(ctx, t, 0, ctx->h_None);
        HPyListBuilder l = HPyListBuilder_New(ctx, 2);       /* list: never built */
        (void)l;
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(finish, "finish", HPyFunc_NOARGS)
    static HPy finish_impl(HPyContext *ctx, HPy self)
    {
        HPyTupleBuilder t = HPyTupleBuilder_New(ctx, 1);
        HPyTupleBuilder_Set(ctx, t, 0, ctx->h_True);
        HPy r = HPyTupleBuilder_Build(ctx, t);
        HPyListBuilder l = HPyListBuilder_New(ctx, 1);
        HPyListBuilder_Cancel(ctx, l);
        return r;
    }
    @EXPORT(abandon)
    @EXPORT(finish)
    @INIT
"""


def test_abandoned_builders_are_leaks(misuse):
    mod = misuse.make_module(BUILDERS)
    if misuse.mode == "universal":
        assert mod.abandon() is None  # what the builders hold is never released: unnoticed
        assert mod.finish() == (True,)
        return
    with LeakDetector():
        assert mod.finish() == (True,)  # built and cancelled: no leak
    with pytest.raises(HPyLeakError) as info:
        with LeakDetector():
            mod.abandon()
    err = info.value
    assert err.leaks == [] and err.check == "leak"
    assert [(b.created_by, b.size) for b in err.builders] == [("HPyTupleBuilder_New", 3),
                                                              ("HPyListBuilder_New", 2)]
    tuple_line = misuse.line_of(BUILDERS, "tuple: never built")
    list_line = misuse.line_of(BUILDERS, "list: never built")
    assert err.builders[0].created == "HPyTupleBuilder_New in abandon_impl at misuse.c:%d" % tuple_line
    text = str(err)
    assert text.startswith("2 builders never built nor cancelled")
    assert "<HPyTupleBuilder of size 3> created by HPyTupleBuilder_New in abandon_impl at misuse.c:%d" % tuple_line \
        in text
    assert "<HPyListBuilder of size 2> created by HPyListBuilder_New in abandon_impl at misuse.c:%d" % list_line \
        in text
    assert text.endswith("To get the stack trace of where each was created use:\n"
                         "    hpy.debug.set_handle_stack_trace_limit(16)")
    # Each LeakDetector sees only the builders of its own generation.
    with LeakDetector():
        mod.finish()


@pytest.mark.debug_only("stack traces are part of debug mode")
def test_abandoned_builder_stack_trace(misuse):
    mod = misuse.make_module(BUILDERS)
    error = misuse.leak_error(mod.abandon, stack_trace_limit=16)
    assert "Allocation stacktrace:" in str(error) and "abandon_impl" in error.builders[0].stack


@pytest.mark.debug_only("the exit report is part of debug mode")
def test_abandoned_builders_in_the_exit_report(misuse):
    import os
    os.environ["HPY_DEBUG_EXIT_REPORT"] = "1"
    try:
        proc = misuse.run_script(BUILDERS, "import hpy.debug; hpy.debug._install_exit_report(); mod.abandon()")
    finally:
        del os.environ["HPY_DEBUG_EXIT_REPORT"]
    assert proc.returncode == 0, proc.stderr
    assert "hpy.debug: 2 builders never built nor cancelled at exit:" in proc.stderr
    assert "created by HPyTupleBuilder_New in abandon_impl at misuse.c:%d" % misuse.line_of(
        BUILDERS, "tuple: never built") in proc.stderr


FIELDS = """
    typedef struct { long n; HPyField f; } BoxObject;
    HPyType_HELPERS(BoxObject)
    HPyDef_SLOT(Box_traverse, HPy_tp_traverse)
    static int Box_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        return visit(&((BoxObject *)self)->f, arg);
    }
    HPyDef_METH(Box_set, "set", HPyFunc_O)
    static HPy Box_set_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HPyField_Store(ctx, self, &BoxObject_AsStruct(ctx, self)->f, value);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Box_get, "get", HPyFunc_NOARGS)
    static HPy Box_get_impl(HPyContext *ctx, HPy self)
    {
        return HPyField_Load(ctx, self, BoxObject_AsStruct(ctx, self)->f);
    }
    /* other.set_into(box, value): stores into box's field, with `other` as the owner */
    HPyDef_METH(Box_set_into, "set_into", HPyFunc_VARARGS)
    static HPy Box_set_into_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPyField_Store(ctx, self, &BoxObject_AsStruct(ctx, args[0])->f, args[1]);   /* wrong owner */
        return HPy_Dup(ctx, ctx->h_None);
    }
    /* other.get_from(box): loads box's field, with `other` as the owner */
    HPyDef_METH(Box_get_from, "get_from", HPyFunc_O)
    static HPy Box_get_from_impl(HPyContext *ctx, HPy self, HPy box)
    {
        return HPyField_Load(ctx, self, BoxObject_AsStruct(ctx, box)->f);             /* wrong owner */
    }
    static HPyDef *Box_defines[] = { &Box_traverse, &Box_set, &Box_get, &Box_set_into, &Box_get_from, NULL };
    static HPyType_Spec Box_spec = { .name = "misuse.Box", .basicsize = sizeof(BoxObject),
                                     .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
                                     .builtin_shape = HPyType_BuiltinShape_Object, .defines = Box_defines };

    typedef struct { long n; HPyField f; } BareObject;
    HPyType_HELPERS(BareObject)
    HPyDef_METH(Bare_set, "set", HPyFunc_O)
    static HPy Bare_set_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HPyField_Store(ctx, self, &BareObject_AsStruct(ctx, self)->f, value);          /* no traverse */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Bare_clear, "clear", HPyFunc_NOARGS)
    static HPy Bare_clear_impl(HPyContext *ctx, HPy self)
    {
        HPyField_Store(ctx, self, &BareObject_AsStruct(ctx, self)->f, HPy_NULL);       /* clearing: fine */
        return HPy_Dup(ctx, ctx->h_None);
    }
    static HPyDef *Bare_defines[] = { &Bare_set, &Bare_clear, NULL };
    static HPyType_Spec Bare_spec = { .name = "misuse.Bare", .basicsize = sizeof(BareObject),
                                      .builtin_shape = HPyType_BuiltinShape_Object, .defines = Bare_defines };
    @EXPORT_TYPE("Box", Box_spec)
    @EXPORT_TYPE("Bare", Bare_spec)
    @INIT
"""


def test_field_store_without_traverse(misuse):
    mod = misuse.make_module(FIELDS)
    bare = mod.Bare()
    bare.clear()  # no referent: nothing to report
    if misuse.mode == "universal":
        assert bare.set([1]) is None  # the list is never released: unnoticed
        return
    err = debug_error(bare.set, [1])
    assert (err.check, err.function, err.obj_type) == ("field-without-traverse", "HPyField_Store", "misuse.Bare")
    assert "type 'misuse.Bare' has no HPy_tp_traverse, so its field at offset 8 of the struct" in str(err)
    assert err.location == "Bare_set_impl at misuse.c:%d" % misuse.line_of(FIELDS, "/* no traverse */")


def test_field_with_the_wrong_owner(misuse):
    mod = misuse.make_module(FIELDS)
    box, other = mod.Box(), mod.Box()
    box.set("mine")
    assert box.get() == "mine"  # the right owner: fine in every mode
    if misuse.mode == "universal":
        assert other.get_from(box) == "mine"  # CPython ignores the owner: unnoticed
        assert other.set_into(box, "again") is None and box.get() == "again"
        return
    err = debug_error(other.get_from, box)
    assert (err.check, err.function, err.obj_type) == ("field-wrong-owner", "HPyField_Load", "misuse.Box")
    assert "no field of the owner object passed holds this value" in str(err)
    assert err.location == "Box_get_from_impl at misuse.c:%d" % misuse.line_of(FIELDS, "return HPyField_Load(ctx, self, "
                                                                                "BoxObject_AsStruct(ctx, box)")
    err = debug_error(other.set_into, box, "again")
    assert (err.check, err.function, err.obj_type) == ("field-wrong-owner", "HPyField_Store", "misuse.Box")
    assert "is not inside the struct of the owner object passed with it" in str(err)
    assert err.location == "Box_set_into_impl at misuse.c:%d" % misuse.line_of(FIELDS, "HPyField_Store(ctx, self, "
                                                                                 "&BoxObject_AsStruct(ctx, args[0])")
    assert box.get() == "again"  # reported, then stored as the universal context does


CRASH = """
    #include <signal.h>
    typedef struct { long n; HPyField f; } BareObject;
    HPyType_HELPERS(BareObject)
    HPyDef_METH(Bare_set_and_die, "set_and_die", HPyFunc_O)
    static HPy Bare_set_and_die_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HPyField_Store(ctx, self, &BareObject_AsStruct(ctx, self)->f, value);   /* no traverse */
        raise(SIGSEGV);                                                          /* before the return */
        return HPy_Dup(ctx, ctx->h_None);
    }
    static HPyDef *Bare_defines[] = { &Bare_set_and_die, NULL };
    static HPyType_Spec Bare_spec = { .name = "misuse.Bare", .basicsize = sizeof(BareObject),
                                      .builtin_shape = HPyType_BuiltinShape_Object, .defines = Bare_defines };
    @EXPORT_TYPE("Bare", Bare_spec)
    @INIT
"""


@support.PROVOKES_SIGSEGV
@pytest.mark.debug_only("the extension dies on purpose: the report is debug mode's")
def test_field_report_is_printed_when_the_process_dies(misuse):
    import signal
    proc = misuse.run_script(CRASH, "mod.Bare().set_and_die([1])", reaction=None)  # HPy 0.9's reaction
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert "hpy.debug: the process dies of SIGSEGV with reports of the debug context not raised yet" in proc.stderr
    assert "hpy.debug: [field-without-traverse] HPyField_Store: type 'misuse.Bare' has no" in proc.stderr
    assert "    called from Bare_set_and_die_impl at misuse.c:%d" % misuse.line_of(CRASH, "/* no traverse */") \
        in proc.stderr


LOCATIONS = """
    static HPyGlobal g_unset;
    HPyDef_METH(invalid, "invalid", HPyFunc_NOARGS)
    static HPy invalid_impl(HPyContext *ctx, HPy self)
    {
        HPy bogus = { 0x12340 };
        return HPy_Repr(ctx, bogus);                           /* invalid handle */
    }
    HPyDef_METH(unset_global, "unset_global", HPyFunc_NOARGS)
    static HPy unset_global_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyGlobal_Load(ctx, g_unset);                  /* never stored */
        return HPy_IsNull(h) ? HPy_Dup(ctx, ctx->h_None) : h;
    }
    HPyDef_METH(build_twice, "build_twice", HPyFunc_NOARGS)
    static HPy build_twice_impl(HPyContext *ctx, HPy self)
    {
        HPyListBuilder b = HPyListBuilder_New(ctx, 0);
        HPy l = HPyListBuilder_Build(ctx, b);
        HPy_Close(ctx, l);
        return HPyListBuilder_Build(ctx, b);                   /* built twice */
    }
    HPyDef_METH(after_close, "after_close", HPyFunc_NOARGS)
    static HPy after_close_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromInt64_t(ctx, 42);                  /* opened */
        HPy_Close(ctx, h);                                     /* closed */
        return HPy_Repr(ctx, h);                               /* used after close */
    }
    HPyDef_METH(through_helper, "through_helper", HPyFunc_NOARGS)
    static HPy through_helper_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromLong(ctx, 42);
        HPy_Close(ctx, h);
        return HPy_BuildValue(ctx, "(iO)", 1, h);              /* used after close, in a helper */
    }
    HPyDef_METH(ret_const, "ret_const", HPyFunc_NOARGS)
    static HPy ret_const_impl(HPyContext *ctx, HPy self)   /* returns a constant */
    {
        return ctx->h_None;
    }
    @EXPORT(invalid)
    @EXPORT(unset_global)
    @EXPORT(build_twice)
    @EXPORT(after_close)
    @EXPORT(through_helper)
    @EXPORT(ret_const)
    @EXPORT_GLOBAL(g_unset)
    @INIT
"""


@pytest.mark.debug_only("the reports are debug mode's (universal mode crashes on some of these bugs)")
def test_every_report_names_its_c_location(misuse):
    mod = misuse.make_module(LOCATIONS)

    def where(marker):
        return "misuse.c:%d" % misuse.line_of(LOCATIONS, marker)

    for func, check, location in [
            (mod.invalid, "invalid-handle", "invalid_impl at " + where("/* invalid handle */")),
            (mod.unset_global, "unset-global", "unset_global_impl at " + where("/* never stored */")),
            (mod.build_twice, "builder-misuse", "build_twice_impl at " + where("/* built twice */")),
            (mod.after_close, "use-after-close", "after_close_impl at " + where("/* used after close */")),
            (mod.through_helper, "use-after-close",
             "through_helper_impl at %s (through HPy_BuildValue)" % where("in a helper */")),
    ]:
        err = debug_error(func)
        assert (err.check, err.location) == (check, location), str(err)
        assert str(err).split("\n")[1] == "    called from " + location
    err = debug_error(mod.after_close)
    # A use after close also says where the handle was closed, and where it was opened.
    assert "closed by HPy_Close in after_close_impl at %s)" % where("/* closed */") in str(err)
    assert "    opened by HPyLong_FromInt64_t in after_close_impl at %s" % where("/* opened */") in str(err)
    # A faulty return names the function that returned, and the line where its code starts (its first
    # instruction, in its body): which return statement ran is not known, and no line is claimed for it.
    err = debug_error(mod.ret_const)
    first = misuse.line_of(LOCATIONS, "returns a constant")
    last = misuse.line_of(LOCATIONS, "return ctx->h_None")
    assert (err.check, err.location) == ("return-constant", "ret_const_impl")
    assert str(err).split("\n")[1] in [
        "    returned by ret_const_impl (its code starts at misuse.c:%d; the line of the return statement is "
        "not known)" % n for n in range(first, last + 1)]


@pytest.mark.debug_only("the leak report is debug mode's")
def test_leak_report_says_where_and_how_to_get_stacks(misuse):
    source = """
        static HPy kept;
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self)
        {
            kept = HPyUnicode_FromString(ctx, "leaked");   /* never closed */
            return HPy_Dup(ctx, ctx->h_None);
        }
        @EXPORT(f)
        @INIT
    """
    mod = misuse.make_module(source)
    with pytest.raises(HPyLeakError) as info:
        with LeakDetector():
            mod.f()
    text = str(info.value)
    assert text.startswith("1 unclosed handle:")
    assert "opened by HPyUnicode_FromString in f_impl at misuse.c:%d" % misuse.line_of(source, "never closed") in text
    assert "hpy.debug.set_handle_stack_trace_limit(16)" in text
    info.value.leaks[0]._force_close()
    assert _debug.get_open_handles(info.value.leaks[0].generation) == []
