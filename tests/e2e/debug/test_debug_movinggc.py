"""tests/e2e/debug/test_debug_movinggc.py: the moving-GC checker (HPY=debug:movinggc, hpy.debug.set_movinggc):
fields a traverse does not visit, field and global values kept across a collection, raw handles kept in a
struct, and no report for correct types."""
import gc
import os
import subprocess
import sys

import pytest

import hpy.debug
from hpy.debug import HPyDebugError
from hpy.universal import _debug
from support import FREE_THREADED, loading_script


def set_movinggc(on, every=None):
    return hpy.debug.set_movinggc(on, every)


def get_movinggc():
    return hpy.debug.get_movinggc()


@pytest.fixture
def checker():
    """The checker on for the test, off again after (and no report left behind)."""
    was = set_movinggc(True)
    try:
        yield
    finally:
        set_movinggc(was)
        gc.collect()


@pytest.fixture
def checker_off():
    """For the tests that switch the checker themselves."""
    if get_movinggc():
        pytest.skip("the checker is on for the whole run (UNIHPY_E2E_MOVINGGC)")


def debug_error(func, *args):
    with pytest.raises(HPyDebugError) as info:
        func(*args)
    return info.value


PAIR = """
    typedef struct { HPyField a; HPyField b; } PairObject;
    HPyType_HELPERS(PairObject)
    static long destroyed;
    HPyDef_SLOT(Pair_traverse, HPy_tp_traverse)
    static int Pair_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        HPy_VISIT(&((PairObject *)self)->a);
        HPy_VISIT(&((PairObject *)self)->b);
        return 0;
    }
    HPyDef_SLOT(Pair_destroy, HPy_tp_destroy)
    static void Pair_destroy_impl(void *self) { destroyed++; }
    HPyDef_METH(Pair_set, "set", HPyFunc_VARARGS)
    static HPy Pair_set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        PairObject *p = PairObject_AsStruct(ctx, self);
        HPyField_Store(ctx, self, &p->a, args[0]);
        HPyField_Store(ctx, self, &p->b, args[1]);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Pair_get, "get", HPyFunc_NOARGS)
    static HPy Pair_get_impl(HPyContext *ctx, HPy self)
    {
        PairObject *p = PairObject_AsStruct(ctx, self);
        HPy a = HPyField_Load(ctx, self, p->a), b = HPyField_Load(ctx, self, p->b);
        HPy r = HPyTuple_Pack(ctx, 2, a, b);
        HPy_Close(ctx, a);
        HPy_Close(ctx, b);
        return r;
    }
    HPyDef_METH(destroyed_count, "destroyed", HPyFunc_NOARGS)
    static HPy destroyed_count_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, destroyed); }
    static HPyDef *Pair_defines[] = { &Pair_traverse, &Pair_destroy, &Pair_set, &Pair_get, NULL };
    static HPyType_Spec Pair_spec = { .name = "misuse.Pair", .basicsize = sizeof(PairObject),
                                      .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC | HPy_TPFLAGS_BASETYPE,
                                      .builtin_shape = HPyType_BuiltinShape_Object, .defines = Pair_defines };
    @EXPORT(destroyed_count)
    @EXPORT_TYPE("Pair", Pair_spec)
    @INIT
"""


def test_traversed_fields_are_never_reported(misuse, checker):
    mod = misuse.make_module(PAIR)
    pairs = [mod.Pair() for _ in range(20)]
    for i, p in enumerate(pairs):
        p.set("a%d" % i, [i])
    before = _debug.get_movinggc_stats()
    for _ in range(3):
        gc.collect()
        assert [p.get() for p in pairs] == [("a%d" % i, [i]) for i in range(20)]
    for i, p in enumerate(pairs):  # stored again: the old tokens are released
        p.set(i, None)
    gc.collect()
    assert [p.get() for p in pairs] == [(i, None) for i in range(20)]
    if misuse.mode == "debug":
        stats = _debug.get_movinggc_stats()
        assert stats["fields"] >= 40 and stats["collections"] >= before["collections"] + 4
        assert stats["reissued"] >= before["reissued"] + 4 * 40 and stats["not_traversed"] == before["not_traversed"]
    assert _debug.pop_reports() == []


def test_cycles_through_tokens_are_collected(misuse, checker):
    mod = misuse.make_module(PAIR)
    gc.collect()
    fields = _debug.get_movinggc_stats()["fields"]
    for _ in range(10):
        p = mod.Pair()
        p.set(p, [p])  # a cycle through both fields
    del p
    gc.collect()
    assert mod.destroyed() == 10
    assert _debug.get_movinggc_stats()["fields"] == fields  # every token released with its owner
    # A Python subclass: its dealloc reaches the host's through the base's.
    Sub = type("Sub", (mod.Pair,), {})
    s = Sub()
    s.set(s, 1)
    del s
    gc.collect()
    assert mod.destroyed() == 11 and _debug.get_movinggc_stats()["fields"] == fields


HALF = """
    typedef struct { HPyField a; HPyField b; } HalfObject;
    HPyType_HELPERS(HalfObject)
    HPyDef_SLOT(Half_traverse, HPy_tp_traverse)
    static int Half_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        HPy_VISIT(&((HalfObject *)self)->a);                    /* b is forgotten */
        return 0;
    }
    HPyDef_METH(Half_set, "set", HPyFunc_VARARGS)
    static HPy Half_set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HalfObject *h = HalfObject_AsStruct(ctx, self);
        HPyField_Store(ctx, self, &h->a, args[0]);
        HPyField_Store(ctx, self, &h->b, args[1]);                 /* store of b */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Half_get_b, "get_b", HPyFunc_NOARGS)
    static HPy Half_get_b_impl(HPyContext *ctx, HPy self)
    {
        return HPyField_Load(ctx, self, HalfObject_AsStruct(ctx, self)->b);   /* load of b */
    }
    HPyDef_METH(Half_get_a, "get_a", HPyFunc_NOARGS)
    static HPy Half_get_a_impl(HPyContext *ctx, HPy self)
    {
        return HPyField_Load(ctx, self, HalfObject_AsStruct(ctx, self)->a);
    }
    static HPyDef *Half_defines[] = { &Half_traverse, &Half_set, &Half_get_a, &Half_get_b, NULL };
    static HPyType_Spec Half_spec = { .name = "misuse.Half", .basicsize = sizeof(HalfObject),
                                      .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
                                      .builtin_shape = HPyType_BuiltinShape_Object, .defines = Half_defines };
    @EXPORT_TYPE("Half", Half_spec)
    @INIT
"""


def test_field_not_traversed(misuse, checker):
    mod = misuse.make_module(HALF)
    h = mod.Half()
    h.set("a", ["b"])
    assert h.get_b() == ["b"]  # no collection yet: nothing moved
    gc.collect()
    assert h.get_a() == "a"
    if misuse.mode == "universal":
        assert h.get_b() == ["b"]  # CPython moves nothing: unnoticed
        return
    err = debug_error(h.get_b)
    assert (err.check, err.function, err.obj_type) == ("field-not-traversed", "HPyField_Load", "misuse.Half")
    text = str(err)
    assert ("the field at offset 8 of the struct of a 'misuse.Half' object (stored by HPyField_Store in "
            "Half_set_impl at misuse.c:%d) was not visited by its type's HPy_tp_traverse at simulated collection"
            % misuse.line_of(HALF, "/* store of b */")) in text
    assert "a moving collector would have moved its object" in text
    assert err.location == "Half_get_b_impl at misuse.c:%d" % misuse.line_of(HALF, "/* load of b */")
    _debug.pop_reports()
    h.set(1, 2)  # stored again: a new value, not moved yet
    assert h.get_b() == 2
    del h
    gc.collect()  # the forgotten field is released with its owner, without a report
    assert _debug.pop_reports() == []


@pytest.mark.debug_only("the checker is a debug-mode checker")
def test_field_not_traversed_needs_the_checker(misuse, checker_off):
    mod = misuse.make_module(HALF)
    assert not get_movinggc()
    h = mod.Half()
    h.set("a", ["b"])
    gc.collect()
    assert h.get_b() == ["b"]  # debug mode alone does not see it
    assert _debug.pop_reports() == []


KEPT = """
    typedef struct { HPyField f; } CellObject;
    HPyType_HELPERS(CellObject)
    static HPyField kept;      /* a copy of a field's value, kept across calls: the bug */
    static HPyGlobal g;
    static HPyGlobal g_kept;   /* a copy of a global's value */
    HPyDef_SLOT(Cell_traverse, HPy_tp_traverse)
    static int Cell_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        HPy_VISIT(&((CellObject *)self)->f);
        return 0;
    }
    HPyDef_METH(Cell_set, "set", HPyFunc_O)
    static HPy Cell_set_impl(HPyContext *ctx, HPy self, HPy value)
    {
        CellObject *cell = CellObject_AsStruct(ctx, self);
        HPyField_Store(ctx, self, &cell->f, value);                             /* field store */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Cell_keep, "keep", HPyFunc_NOARGS)
    static HPy Cell_keep_impl(HPyContext *ctx, HPy self)
    {
        kept = CellObject_AsStruct(ctx, self)->f;    /* the copy */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Cell_load_kept, "load_kept", HPyFunc_NOARGS)
    static HPy Cell_load_kept_impl(HPyContext *ctx, HPy self)
    {
        return HPyField_Load(ctx, self, kept);                                   /* kept field */
    }
    HPyDef_METH(gset, "gset", HPyFunc_O)
    static HPy gset_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HPyGlobal_Store(ctx, &g, value);                                        /* global store */
        g_kept = g;
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(gget, "gget", HPyFunc_NOARGS)
    static HPy gget_impl(HPyContext *ctx, HPy self) { return HPyGlobal_Load(ctx, g); }
    HPyDef_METH(gget_kept, "gget_kept", HPyFunc_NOARGS)
    static HPy gget_kept_impl(HPyContext *ctx, HPy self)
    {
        return HPyGlobal_Load(ctx, g_kept);                                     /* kept global */
    }
    static HPyDef *Cell_defines[] = { &Cell_traverse, &Cell_set, &Cell_keep, &Cell_load_kept, NULL };
    static HPyType_Spec Cell_spec = { .name = "misuse.Cell", .basicsize = sizeof(CellObject),
                                      .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
                                      .builtin_shape = HPyType_BuiltinShape_Object, .defines = Cell_defines };
    @EXPORT(gset)
    @EXPORT(gget)
    @EXPORT(gget_kept)
    @EXPORT_GLOBAL(g)
    @EXPORT_GLOBAL(g_kept)
    @EXPORT_TYPE("Cell", Cell_spec)
    @INIT
"""


def test_field_value_kept_across_a_collection(misuse, checker):
    mod = misuse.make_module(KEPT)
    c = mod.Cell()
    c.set("x")
    c.keep()
    assert c.load_kept() == "x"  # no collection since: the copy is still the field's value
    gc.collect()
    if misuse.mode == "universal":
        assert c.load_kept() == "x"  # CPython moves nothing: unnoticed
        return
    err = debug_error(c.load_kept)
    assert (err.check, err.function, err.obj_type) == ("stale-field", "HPyField_Load", "misuse.Cell")
    assert ("the value was read from the field at offset 0 of the struct of a 'misuse.Cell' object (stored by "
            "HPyField_Store in Cell_set_impl at misuse.c:%d) before a simulated collection re-issued it"
            % misuse.line_of(KEPT, "/* field store */")) in str(err)
    assert err.location == "Cell_load_kept_impl at misuse.c:%d" % misuse.line_of(KEPT, "/* kept field */")
    # A copy of a value the field no longer holds: its object may be gone, the load fails.
    c.keep()
    c.set("y")
    err = debug_error(c.load_kept)
    assert err.check == "stale-field" and "the value is no longer the field's" in str(err)


def test_global_value_kept_across_a_collection(misuse, checker):
    mod = misuse.make_module(KEPT)
    mod.gset(["v"])
    assert mod.gget() == mod.gget_kept() == ["v"]
    for _ in range(3):
        gc.collect()
        assert mod.gget() == ["v"]  # the global itself, re-issued: fine
    if misuse.mode == "universal":
        assert mod.gget_kept() == ["v"]
        return
    err = debug_error(mod.gget_kept)
    assert (err.check, err.function) == ("stale-global", "HPyGlobal_Load")
    assert ("the value was read from the global (stored by HPyGlobal_Store in gset_impl at misuse.c:%d) before a "
            "simulated collection re-issued it" % misuse.line_of(KEPT, "/* global store */")) in str(err)
    assert err.location == "gget_kept_impl at misuse.c:%d" % misuse.line_of(KEPT, "/* kept global */")


@pytest.mark.debug_only("switching the checker is a debug-mode matter")
def test_switching_on_and_off(misuse, checker_off):
    mod = misuse.make_module(KEPT)
    assert not get_movinggc()
    c = mod.Cell()
    c.set("before")             # a plain field: the object's address
    mod.gset("g-before")
    fields = _debug.get_movinggc_stats()["fields"]
    assert set_movinggc(True) is False and get_movinggc()
    try:
        gc.collect()
        assert mod.gget() == "g-before"
        c.set("during")         # a token from now on
        mod.gset("g-during")
        assert _debug.get_movinggc_stats()["fields"] == fields + 1
        gc.collect()
        assert mod.gget() == "g-during"
    finally:
        assert set_movinggc(False) is True
    collections = _debug.get_movinggc_stats()["collections"]
    gc.collect()                # off: nothing re-issued, the tokens stored while on still work
    assert _debug.get_movinggc_stats()["collections"] == collections
    c.keep()
    assert c.load_kept() == "during" and mod.gget() == "g-during"
    c.set("after")              # the token released, a plain field again
    mod.gset("g-after")
    assert _debug.get_movinggc_stats()["fields"] == fields
    assert mod.gget() == "g-after"
    assert _debug.pop_reports() == []


@pytest.mark.debug_only("the collections come from the checker's setting")
@pytest.mark.skipif(FREE_THREADED, reason="a free-threaded CPython's gc also waits for the heap to grow: "
                                          "gc.set_threshold(N) does not collect each N allocations there")
def test_every_n_allocations(misuse, checker_off):
    mod = misuse.make_module(PAIR)
    threshold = gc.get_threshold()
    set_movinggc(True, every=50)
    try:
        assert gc.get_threshold()[0] == 50
        p = mod.Pair()
        p.set(1, 2)
        before = _debug.get_movinggc_stats()["collections"]
        junk = [[] for _ in range(1000)]  # gc-tracked allocations
        assert _debug.get_movinggc_stats()["collections"] >= before + 10
        assert p.get() == (1, 2) and len(junk) == 1000
    finally:
        set_movinggc(False)
    assert gc.get_threshold() == threshold


RAW = """
    typedef struct { HPy raw; } HolderObject;   /* a raw handle kept in a struct: the bug */
    HPyType_HELPERS(HolderObject)
    HPyDef_METH(Holder_hold, "hold", HPyFunc_O)
    static HPy Holder_hold_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HolderObject_AsStruct(ctx, self)->raw = value;
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Holder_use, "use", HPyFunc_NOARGS)
    static HPy Holder_use_impl(HPyContext *ctx, HPy self)
    {
        return HPy_Repr(ctx, HolderObject_AsStruct(ctx, self)->raw);            /* later call */
    }
    static HPyDef *Holder_defines[] = { &Holder_hold, &Holder_use, NULL };
    static HPyType_Spec Holder_spec = { .name = "misuse.Holder", .basicsize = sizeof(HolderObject),
                                        .builtin_shape = HPyType_BuiltinShape_Object, .defines = Holder_defines };
    @EXPORT_TYPE("Holder", Holder_spec)
    @INIT
"""


def test_raw_handle_kept_in_a_struct(misuse, checker):
    # Debug mode already reports it, without the checker: an argument handle closes at the end of its call.
    mod = misuse.make_module(RAW)
    value = ["kept"]
    h = mod.Holder()
    h.hold(value)
    if misuse.mode == "universal":
        assert h.use() == "['kept']"  # CPython's handle is the object's address, alive here: unnoticed
        return
    err = debug_error(h.use)
    assert (err.check, err.function) == ("use-after-close", "HPy_Repr")
    assert "closed by the end of the call in Holder_hold_impl" in str(err)


def run(env_hpy, script, path):
    env = dict(os.environ, HPY=env_hpy)
    return subprocess.run([sys.executable, "-c", loading_script("misuse", path) + script],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.debug_only("HPY=debug:movinggc")
def test_environment_switch(misuse):
    path = misuse.compiler.compile_module(HALF, "misuse")
    script = """
import gc, hpy.debug
from hpy.universal import _debug
_debug.set_reaction("raise")
assert hpy.debug.get_movinggc()
h = mod.Half()
h.set(1, 2)
gc.collect()
try:
    h.get_b()
except hpy.debug.HPyDebugError as e:
    print(e.check)
"""
    for value in ("debug:movinggc", "misuse:debug:movinggc", "trace, misuse:debug:movinggc"):
        proc = run(value, script, path)
        assert proc.returncode == 0 and proc.stdout == "field-not-traversed\n", (value, proc.stderr)
    proc = run("debug", "import hpy.debug; print(hpy.debug.get_movinggc())", path)
    assert proc.stdout == "False\n", proc.stderr
    proc = run("trace:movinggc", "", path)
    assert proc.returncode != 0
    assert "the moving-GC checker runs in debug mode only (debug:movinggc)" in proc.stderr


@pytest.mark.debug_only("switching the checker is a debug-mode matter")
def test_refused_without_gc_callbacks(misuse, checker_off, monkeypatch):
    """Where the gc module has no callbacks (PyPy), turning the checker on is a clear error, and it stays off."""
    monkeypatch.delattr(gc, "callbacks", raising=False)
    with pytest.raises(RuntimeError, match=r"moving-GC checker .*gc\.callbacks.*use the checker on CPython"):
        set_movinggc(True)
    assert not get_movinggc()
