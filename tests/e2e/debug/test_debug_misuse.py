"""tests/e2e/debug/test_debug_misuse.py: context, raw data, builder, tracker, shape, type and GIL misuse."""
import signal

import pytest

import support

from hpy.debug import HPyDebugError


def debug_error(func, *args):
    with pytest.raises(HPyDebugError) as info:
        func(*args)
    return info.value


def report_of(err):
    return (err.check, err.function, err.obj_type)


CONTEXT = """
    static HPyContext *kept;
    HPyDef_METH(keep, "keep", HPyFunc_NOARGS)
    static HPy keep_impl(HPyContext *ctx, HPy self)
    {
        kept = ctx;                    /* kept beyond the call */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(use, "use", HPyFunc_NOARGS)
    static HPy use_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromInt64_t(kept, 5);
        HPy r = HPy_Dup(ctx, h);
        HPy_Close(ctx, h);
        return r;
    }
    @EXPORT(keep)
    @EXPORT(use)
    @INIT
"""


def test_context_reused_outside_its_call(misuse):
    mod = misuse.make_module(CONTEXT)
    mod.keep()
    if misuse.mode == "universal":
        assert mod.use() == 5
        return
    assert report_of(debug_error(mod.use)) == ("context-reused", "HPyLong_FromInt64_t", None)


RAW_DATA = """
    HPyDef_METH(after_close, "after_close", HPyFunc_NOARGS)
    static HPy after_close_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyUnicode_FromString(ctx, "protected text");
        const char *s = HPyUnicode_AsUTF8AndSize(ctx, h, NULL);
        HPy_Close(ctx, h);
        return HPyLong_FromLong(ctx, s[0]);     /* raw data after close */
    }
    HPyDef_METH(write_ro, "write_ro", HPyFunc_NOARGS)
    static HPy write_ro_impl(HPyContext *ctx, HPy self)
    {
        HPy b = HPyBytes_FromString(ctx, "abc");
        char *p = (char *)HPyBytes_AsString(ctx, b);
        p[0] = 'x';                             /* write into read-only data */
        HPy r = HPyLong_FromLong(ctx, p[0]);
        HPy_Close(ctx, b);
        return r;
    }
    HPyDef_METH(while_open, "while_open", HPyFunc_NOARGS)
    static HPy while_open_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyUnicode_FromString(ctx, "fine");
        HPy_ssize_t n;
        const char *s = HPyUnicode_AsUTF8AndSize(ctx, h, &n);
        HPy r = HPyLong_FromLong(ctx, s[0] + 1000 * (long)n);
        HPy_Close(ctx, h);
        return r;
    }
    @EXPORT(after_close)
    @EXPORT(write_ro)
    @EXPORT(while_open)
    @INIT
"""


@support.PROVOKES_SIGSEGV
def test_raw_data_after_close(misuse):
    # The fault is explained when faulthandler is on; without it the process dies silently, as with HPy 0.9.
    silent = misuse.run_script(RAW_DATA, "print(mod.after_close())")
    if misuse.mode == "debug":
        assert silent.returncode == -signal.SIGSEGV and silent.stderr == ""
    proc = misuse.run_script(RAW_DATA, "import faulthandler; faulthandler.enable()\n"
                                       "print(mod.while_open(), flush=True); print(mod.after_close())")
    if misuse.mode == "universal":
        assert proc.stdout.split()[0] == str(ord("f") + 4000)
        return
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert proc.stdout.split() == [str(ord("f") + 4000)]
    assert ("hpy.debug: raw-data-after-close: a read of the raw data returned by HPyUnicode_AsUTF8AndSize"
            in proc.stderr)
    # The faulting instruction, as FILE+OFFSET, then its C function and source line (the e2e modules are
    # built with -g): addr2line run from the signal handler, or without binutils the function's name alone
    # from the symbol table read before the signal.
    import re
    import shutil
    assert re.search(r"hpy.debug:     by the instruction at misuse\.hpy0\.so\+0x[0-9a-f]+\n", proc.stderr), proc.stderr
    line = misuse.line_of(RAW_DATA, "raw data after close")
    if shutil.which("addr2line"):
        assert "hpy.debug:     in after_close_impl at misuse.c:%d\n" % line in proc.stderr, proc.stderr
    else:
        assert "hpy.debug:     in after_close_impl (no source line" in proc.stderr, proc.stderr
    # The report's first lines come before the location, and faulthandler's traceback after it.
    assert proc.stderr.index("raw-data-after-close") < proc.stderr.index("in after_close_impl")
    assert proc.stderr.index("in after_close_impl") < proc.stderr.index("Fatal Python error")


@support.PROVOKES_SIGSEGV
def test_write_into_read_only_data(misuse):
    proc = misuse.run_script(RAW_DATA, "import faulthandler; faulthandler.enable()\nprint(mod.write_ro())")
    if misuse.mode == "universal":
        assert proc.returncode == 0 and proc.stdout.split() == [str(ord("x"))]
        return
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert "hpy.debug: read-only-raw-data: a write into the read-only data returned by HPyBytes_AsString" in proc.stderr
    import shutil
    line = misuse.line_of(RAW_DATA, "write into read-only data")
    if shutil.which("addr2line"):
        assert "hpy.debug:     in write_ro_impl at misuse.c:%d\n" % line in proc.stderr, proc.stderr
    else:
        assert "hpy.debug:     in write_ro_impl (no source line" in proc.stderr, proc.stderr


@support.PROVOKES_SIGSEGV
def test_raw_data_fault_without_binutils(misuse, tmp_path):
    # Without addr2line on PATH the handler names the function from the symbol table it read before the
    # signal (no source line); the first lines of the report are the same.
    if misuse.mode != "debug":
        pytest.skip("the explanation is debug mode's")
    import os
    env = dict(os.environ, PATH=str(tmp_path))
    proc = misuse.run_script(RAW_DATA, "import faulthandler; faulthandler.enable()\nprint(mod.after_close())",
                             env=env)
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert "hpy.debug: raw-data-after-close: a read of the raw data returned by HPyUnicode_AsUTF8AndSize" in proc.stderr
    assert "hpy.debug:     in after_close_impl (no source line: addr2line" in proc.stderr, proc.stderr


BUILDERS = """
    HPyDef_METH(build_twice, "build_twice", HPyFunc_NOARGS)
    static HPy build_twice_impl(HPyContext *ctx, HPy self)
    {
        HPyListBuilder b = HPyListBuilder_New(ctx, 1);
        HPyListBuilder_Set(ctx, b, 0, ctx->h_None);
        HPy l = HPyListBuilder_Build(ctx, b);
        HPy again = HPyListBuilder_Build(ctx, b);   /* built twice */
        HPy_Close(ctx, l);
        return again;
    }
    HPyDef_METH(set_after_cancel, "set_after_cancel", HPyFunc_NOARGS)
    static HPy set_after_cancel_impl(HPyContext *ctx, HPy self)
    {
        HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 2);
        HPyTupleBuilder_Cancel(ctx, b);
        HPyTupleBuilder_Set(ctx, b, 0, ctx->h_None);   /* use after cancel */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(out_of_range, "out_of_range", HPyFunc_NOARGS)
    static HPy out_of_range_impl(HPyContext *ctx, HPy self)
    {
        HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 2);
        HPyTupleBuilder_Set(ctx, b, 0, ctx->h_None);
        HPyTupleBuilder_Set(ctx, b, 1, ctx->h_None);
        HPyTupleBuilder_Set(ctx, b, 2, ctx->h_None);   /* index 2 of 2 */
        return HPyTupleBuilder_Build(ctx, b);
    }
    HPyDef_METH(unset_item, "unset_item", HPyFunc_NOARGS)
    static HPy unset_item_impl(HPyContext *ctx, HPy self)
    {
        HPyListBuilder b = HPyListBuilder_New(ctx, 2);
        HPyListBuilder_Set(ctx, b, 0, ctx->h_True);
        return HPyListBuilder_Build(ctx, b);         /* item 1 never set */
    }
    @EXPORT(build_twice)
    @EXPORT(set_after_cancel)
    @EXPORT(out_of_range)
    @EXPORT(unset_item)
    @INIT
"""


@pytest.mark.debug_only("builder misuse corrupts memory in universal mode: not run there")
def test_builder_misuse(misuse):
    mod = misuse.make_module(BUILDERS)
    assert report_of(debug_error(mod.build_twice)) == ("builder-misuse", "HPyListBuilder_Build", None)
    err = debug_error(mod.set_after_cancel)
    assert report_of(err) == ("builder-misuse", "HPyTupleBuilder_Set", None) and "cancelled" in str(err)
    err = debug_error(mod.out_of_range)
    assert report_of(err) == ("builder-misuse", "HPyTupleBuilder_Set", None) and "index 2" in str(err)
    err = debug_error(mod.unset_item)
    assert report_of(err) == ("builder-misuse", "HPyListBuilder_Build", None) and "item 1" in str(err)


CRASHES = """
    HPyDef_METH(use_wrong_shape, "use_wrong_shape", HPyFunc_O)
    static HPy use_wrong_shape_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        long *p = (long *)_HPy_AsStruct_Object(ctx, arg);   /* not an HPy object type: NULL */
        p[4] += 1;                                           /* ... used without a check */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(use_built_twice, "use_built_twice", HPyFunc_NOARGS)
    static HPy use_built_twice_impl(HPyContext *ctx, HPy self)
    {
        HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 1);
        HPyTupleBuilder_Set(ctx, b, 0, ctx->h_None);
        HPy t = HPyTupleBuilder_Build(ctx, b);
        HPy again = HPyTupleBuilder_Build(ctx, b);           /* built twice: HPy_NULL */
        const char *s = HPyBytes_AsString(ctx, again);       /* a second report: NULL */
        HPy_Close(ctx, t);
        return HPyLong_FromLong(ctx, s[0]);
    }
    @EXPORT(use_wrong_shape)
    @EXPORT(use_built_twice)
    @INIT
"""


@support.PROVOKES_SIGSEGV
@pytest.mark.debug_only("the invalid values are debug mode's answers: universal mode corrupts memory instead")
@pytest.mark.parametrize("faulthandler", [False, True])
def test_reports_not_raised_yet_are_printed_when_the_process_dies(misuse, faulthandler):
    # The report waits for the call's return to Python; the extension dies first, of the NULL it got.
    enable = "import faulthandler; faulthandler.enable()\n" if faulthandler else ""
    proc = misuse.run_script(CRASHES, enable + "mod.use_wrong_shape([1, 2])")
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert "hpy.debug: the process dies of SIGSEGV with reports of the debug context not raised yet" in proc.stderr
    assert "hpy.debug: [wrong-shape] _HPy_AsStruct_Object: " in proc.stderr
    assert ("Fatal Python error: Segmentation fault" in proc.stderr) == faulthandler
    proc = misuse.run_script(CRASHES, enable + "mod.use_built_twice()")
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("hpy.debug: [")]
    assert [line.split(":")[1].strip() for line in lines] == ["[builder-misuse] HPyTupleBuilder_Build",
                                                               "[invalid-handle] HPyBytes_AsString"], proc.stderr


@support.PROVOKES_SIGSEGV
@pytest.mark.debug_only("the invalid values are debug mode's answers: universal mode corrupts memory instead")
def test_reports_raised_or_hooked_are_not_printed_again(misuse):
    proc = misuse.run_script(SHAPES, """
        import os, signal
        from hpy.debug import HPyDebugError
        try:
            mod.as_object([1, 2])
        except HPyDebugError as e:
            print("raised:", e.check, flush=True)
        os.kill(os.getpid(), signal.SIGABRT)
        """)
    assert proc.returncode == -signal.SIGABRT and proc.stdout == "raised: wrong-shape\n"
    assert "dies of" not in proc.stderr, proc.stderr
    proc = misuse.run_script(CRASHES, """
        hpy.universal._debug.set_reaction("hook", lambda error: print("hooked:", error.check, flush=True))
        mod.use_wrong_shape([1, 2])
        """)
    assert proc.returncode == -signal.SIGSEGV and proc.stdout == "hooked: wrong-shape\n"
    assert "dies of" not in proc.stderr, proc.stderr


TRACKER = """
    HPyDef_METH(add_after_close, "add_after_close", HPyFunc_NOARGS)
    static HPy add_after_close_impl(HPyContext *ctx, HPy self)
    {
        HPyTracker ht = HPyTracker_New(ctx, 1);
        HPy h = HPyLong_FromLong(ctx, 1);
        HPyTracker_Add(ctx, ht, h);
        HPyTracker_Close(ctx, ht);
        HPyTracker_Add(ctx, ht, ctx->h_None);   /* tracker used after close */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(closed_twice, "closed_twice", HPyFunc_NOARGS)
    static HPy closed_twice_impl(HPyContext *ctx, HPy self)
    {
        HPyTracker ht = HPyTracker_New(ctx, 1);
        HPy h = HPyUnicode_FromString(ctx, "tracked");
        HPyTracker_Add(ctx, ht, h);
        HPy_Close(ctx, h);                       /* and the tracker closes it again */
        HPyTracker_Close(ctx, ht);
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(add_after_close)
    @EXPORT(closed_twice)
    @INIT
"""


@pytest.mark.debug_only("tracker misuse corrupts memory in universal mode: not run there")
def test_tracker_misuse(misuse):
    mod = misuse.make_module(TRACKER)
    assert report_of(debug_error(mod.add_after_close)) == ("tracker-misuse", "HPyTracker_Add", None)
    assert report_of(debug_error(mod.closed_twice)) == ("tracker-misuse", "HPyTracker_Close", "str")


SHAPES = """
    HPyDef_METH(as_object, "as_object", HPyFunc_O)
    static HPy as_object_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        void *p = _HPy_AsStruct_Object(ctx, arg);   /* not an HPy object type */
        return HPyBool_FromBool(ctx, p != NULL);
    }
    HPyDef_METH(type_check, "type_check", HPyFunc_O)
    static HPy type_check_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyLong_FromLong(ctx, HPy_TypeCheck(ctx, ctx->h_None, arg));  /* arg must be a type */
    }
    @EXPORT(as_object)
    @EXPORT(type_check)
    @INIT
"""


def test_as_struct_wrong_shape(misuse):
    mod = misuse.make_module(SHAPES)
    if misuse.mode == "universal":
        assert mod.as_object([]) is True  # a pointer into a list: nothing checks it
        return
    err = debug_error(mod.as_object, [1, 2])
    assert report_of(err) == ("wrong-shape", "_HPy_AsStruct_Object", "list")
    assert err.obj_repr == "[1, 2]"


def test_not_a_type(misuse):
    mod = misuse.make_module(SHAPES)
    assert mod.type_check(type(None)) == 1
    if misuse.mode == "universal":
        return  # the non-type is dereferenced as a type there: not run
    assert report_of(debug_error(mod.type_check, 42)) == ("not-a-type", "HPy_TypeCheck", "int")


FIELDS = """
    static HPyGlobal g_unset;
    HPyDef_METH(load_unset, "load_unset", HPyFunc_NOARGS)
    static HPy load_unset_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyGlobal_Load(ctx, g_unset);        /* never stored */
        if (HPy_IsNull(h))
            return HPy_Dup(ctx, ctx->h_None);
        return h;
    }
    @EXPORT(load_unset)
    @EXPORT_GLOBAL(g_unset)
    @INIT
"""


def test_unset_global(misuse):
    mod = misuse.make_module(FIELDS)
    if misuse.mode == "universal":
        assert mod.load_unset() is None
        return
    assert report_of(debug_error(mod.load_unset)) == ("unset-global", "HPyGlobal_Load", None)


NO_GIL = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPyThreadState st = HPy_LeavePythonExecution(ctx);
        HPy h = HPyLong_FromInt64_t(ctx, 3);        /* without the GIL */
        HPy_ReenterPythonExecution(ctx, st);
        return h;
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.debug_only("calling CPython without the GIL is undefined behaviour: not run in universal mode")
def test_call_without_gil(misuse):
    mod = misuse.make_module(NO_GIL)
    assert report_of(debug_error(mod.f)) == ("no-gil", "HPyLong_FromInt64_t", None)


FIELD = """
    typedef struct { HPyField f; } BoxObject;
    HPyType_HELPERS(BoxObject)
    HPyDef_SLOT(Box_traverse, HPy_tp_traverse)
    static int Box_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        return visit(&((BoxObject *)self)->f, arg);
    }
    HPyDef_METH(Box_get, "get", HPyFunc_NOARGS)
    static HPy Box_get_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyField_Load(ctx, self, BoxObject_AsStruct(ctx, self)->f);   /* maybe never stored */
        if (HPy_IsNull(h))
            return HPy_Dup(ctx, ctx->h_None);
        return h;
    }
    HPyDef_METH(Box_set, "set", HPyFunc_O)
    static HPy Box_set_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HPyField_Store(ctx, self, &BoxObject_AsStruct(ctx, self)->f, value);
        return HPy_Dup(ctx, ctx->h_None);
    }
    static HPyDef *Box_defines[] = { &Box_traverse, &Box_get, &Box_set, NULL };
    static HPyType_Spec Box_spec = { .name = "misuse.Box", .basicsize = sizeof(BoxObject),
                                     .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
                                     .builtin_shape = HPyType_BuiltinShape_Object, .defines = Box_defines };
    @EXPORT_TYPE("Box", Box_spec)
    @INIT
"""


def test_unset_field(misuse):
    mod = misuse.make_module(FIELD)
    box = mod.Box()
    box.set([1])
    assert box.get() == [1]  # stored, then loaded: fine in every mode
    empty = mod.Box()
    if misuse.mode == "universal":
        assert empty.get() is None
        return
    err = debug_error(empty.get)
    assert report_of(err) == ("unset-field", "HPyField_Load", "misuse.Box")


@pytest.mark.debug_only("the hook is part of debug mode")
def test_on_invalid_builder_handle_hook(misuse):
    from hpy.universal import _debug

    mod = misuse.make_module(BUILDERS)
    calls = []
    _debug.set_on_invalid_builder_handle(lambda: calls.append(1))
    try:
        with pytest.raises(Exception):  # the call still fails: the builder is gone
            mod.build_twice()
    finally:
        _debug.set_on_invalid_builder_handle(None)
    assert calls == [1]


OTHER_THREAD = """
    #include <pthread.h>
    static HPyContext *call_ctx;
    static void *worker(void *arg)
    {
        (void)arg;
        HPy h = HPyLong_FromInt64_t(call_ctx, 7);   /* the call's context, from another thread */
        HPy_Close(call_ctx, h);
        return NULL;
    }
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        pthread_t t;
        call_ctx = ctx;
        HPyThreadState st = HPy_LeavePythonExecution(ctx);
        pthread_create(&t, NULL, worker, NULL);
        pthread_join(t, NULL);
        HPy_ReenterPythonExecution(ctx, st);
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.debug_only("another thread calling CPython without the GIL is undefined behaviour: not run in "
                        "universal mode")
def test_context_used_from_another_thread(misuse):
    from hpy.universal import _debug

    mod = misuse.make_module(OTHER_THREAD)
    err = debug_error(mod.f)
    # The thread holds no GIL (HPy has no call to take it): both checks report, for each call; the first
    # report is raised at the return to Python, every one is kept.
    # Each report names the C function and line of the faulty call.
    assert str(err) == ("[no-gil] HPyLong_FromInt64_t: an HPy function was called by a thread that does not "
                        "hold the GIL\n    called from worker at misuse.c:8")
    reports = [(e.check, e.function, e.obj_type, str(e)) for e in _debug.pop_reports()]
    other = "a context was used by another thread than the one whose call it was given to"
    no_gil = "an HPy function was called by a thread that does not hold the GIL"
    line8, line9 = "\n    called from worker at misuse.c:8", "\n    called from worker at misuse.c:9"
    assert reports == [
        ("no-gil", "HPyLong_FromInt64_t", None, "[no-gil] HPyLong_FromInt64_t: " + no_gil + line8),
        ("context-other-thread", "HPyLong_FromInt64_t", None,
         "[context-other-thread] HPyLong_FromInt64_t: " + other + line8),
        ("no-gil", "HPy_Close", None, "[no-gil] HPy_Close: " + no_gil + line9),
        ("context-other-thread", "HPy_Close", None, "[context-other-thread] HPy_Close: " + other + line9),
    ]
