"""tests/e2e/test_threads.py: many threads in one module: calls, allocation, HPyField and HPyGlobal stores
and loads, and the HPy_MOD_GIL declaration. On a free-threaded CPython the threads run at the same time
(the module declares HPy_MOD_GIL_NOT_USED, so the GIL stays off); with a GIL they interleave at its
switches. Either way: no crash, no lost or doubled reference, the same results as one thread."""
import gc
import subprocess
import sys
import threading
import weakref

import pytest

from support import FREE_THREADED, expand_source, loading_script

THREADS = 8

# A box holds one object in an HPyField; the module's global holds one object too.
SOURCE = """
    typedef struct {
        HPyField item;
        long n;
    } BoxObject;
    HPyType_HELPERS(BoxObject)

    HPyDef_SLOT(Box_traverse, HPy_tp_traverse)
    static int Box_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        HPy_VISIT(&((BoxObject *)self)->item);
        return 0;
    }

    HPyDef_SLOT(Box_new, HPy_tp_new)
    static HPy Box_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        BoxObject *box;
        HPy h = HPy_New(ctx, cls, &box);
        if (HPy_IsNull(h))
            return HPy_NULL;
        HPyField_Store(ctx, h, &box->item, nargs > 0 ? args[0] : ctx->h_None);
        return h;
    }

    HPyDef_METH(Box_get, "get", HPyFunc_NOARGS)
    static HPy Box_get_impl(HPyContext *ctx, HPy self)
    {
        return HPyField_Load(ctx, self, BoxObject_AsStruct(ctx, self)->item);
    }

    HPyDef_METH(Box_set, "set", HPyFunc_O)
    static HPy Box_set_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HPyField_Store(ctx, self, &BoxObject_AsStruct(ctx, self)->item, value);
        return HPy_Dup(ctx, ctx->h_None);
    }

    static HPyDef *Box_defines[] = {&Box_traverse, &Box_new, &Box_get, &Box_set, NULL};
    static HPyType_Spec Box_spec = {
        .name = "mytest.Box",
        .basicsize = sizeof(BoxObject),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
        .defines = Box_defines,
    };

    static HPyGlobal shared;

    HPyDef_METH(global_set, "global_set", HPyFunc_O)
    static HPy global_set_impl(HPyContext *ctx, HPy self, HPy value)
    {
        HPyGlobal_Store(ctx, &shared, value);
        return HPy_Dup(ctx, ctx->h_None);
    }

    HPyDef_METH(global_get, "global_get", HPyFunc_NOARGS)
    static HPy global_get_impl(HPyContext *ctx, HPy self)
    {
        return HPyGlobal_Load(ctx, shared);
    }

    /* churn(box_type, n, seed): n rounds of allocation, a field store and load, a tuple and a list,
       each checked; returns the sum of what was loaded back (the same from every thread). */
    HPyDef_METH(churn, "churn", HPyFunc_VARARGS)
    static HPy churn_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long n, seed;
        HPy box_type;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "Oll", &box_type, &n, &seed))
            return HPy_NULL;
        long total = 0;
        for (long i = 0; i < n; i++) {
            HPy value = HPyLong_FromLong(ctx, seed + i);
            HPy box = HPy_CallTupleDict(ctx, box_type, HPy_NULL, HPy_NULL);
            if (HPy_IsNull(value) || HPy_IsNull(box)) {
                HPy_Close(ctx, value);
                return HPy_NULL;
            }
            BoxObject *data = BoxObject_AsStruct(ctx, box);
            HPyField_Store(ctx, box, &data->item, value);
            HPy back = HPyField_Load(ctx, box, data->item);
            HPy items[2] = {back, box};
            HPy tuple = HPyTuple_FromArray(ctx, items, 2);
            HPy list = HPyList_New(ctx, 0);
            int ok = !HPy_IsNull(tuple) && !HPy_IsNull(list) && HPyList_Append(ctx, list, tuple) == 0 &&
                     HPy_Is(ctx, back, value);
            total += ok ? HPyLong_AsLong(ctx, back) : 0;
            HPy_Close(ctx, list);
            HPy_Close(ctx, tuple);
            HPy_Close(ctx, back);
            HPy_Close(ctx, box);
            HPy_Close(ctx, value);
            if (!ok) {
                if (!HPyErr_Occurred(ctx))
                    HPyErr_SetString(ctx, ctx->h_AssertionError, "churn: a field did not give back its value");
                return HPy_NULL;
            }
        }
        return HPyLong_FromLong(ctx, total);
    }

    @EXPORT_TYPE("Box", Box_spec)
    @EXPORT(global_set)
    @EXPORT(global_get)
    @EXPORT(churn)
    @EXPORT_GLOBAL(shared)
    @INIT
"""


class Token:
    """An object whose death is observable (weakref), unlike an int's."""

    def __init__(self, n):
        self.n = n


def run_threads(target, count=THREADS):
    """Runs target(i) on `count` threads started together; returns their results, raises the first error."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def body(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def assert_alive_exactly(refs, survivor):
    """After the stores: every token but `survivor` is dead (no reference lost in a store), and
    `survivor` is alive (no reference released twice)."""
    gc.collect()
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert alive == [survivor], [t.n for t in alive]


def test_calls_and_allocation(compiler):
    mod = compiler.make_module(SOURCE)
    rounds = 300

    def work(i):
        return [mod.churn(mod.Box, rounds, 1000 * i) for _ in range(5)]

    results = run_threads(work)
    for i, sums in enumerate(results):
        assert sums == [sum(range(1000 * i, 1000 * i + rounds))] * 5


def test_own_fields(compiler):
    # Each thread stores into and loads from its own boxes.
    mod = compiler.make_module(SOURCE)

    def work(i):
        boxes = [mod.Box(i) for _ in range(20)]
        for r in range(200):
            for b in boxes:
                b.set((i, r))
                assert b.get() == (i, r)
        return [b.get() for b in boxes]

    for i, got in enumerate(run_threads(work)):
        assert got == [(i, 199)] * 20


def test_stores_into_one_field(compiler):
    # All threads replace the same field: every replaced object is released once, the last one is kept.
    mod = compiler.make_module(SOURCE)
    box = mod.Box(None)
    refs = []
    lock = threading.Lock()

    def work(i):
        for r in range(200):
            token = Token((i, r))
            with lock:
                refs.append(weakref.ref(token))
            box.set(token)
        return None

    run_threads(work)
    survivor = box.get()
    assert isinstance(survivor, Token)
    assert_alive_exactly(refs, survivor)
    box.set(None)
    del survivor
    gc.collect()
    assert all(r() is None for r in refs)


def test_global_stores_and_loads(compiler):
    # A global is loaded and replaced from every thread at once: each load is one of the stored objects.
    mod = compiler.make_module(SOURCE)
    refs = []
    lock = threading.Lock()
    mod.global_set(Token((-1, -1)))

    def work(i):
        seen = 0
        for r in range(200):
            token = Token((i, r))
            with lock:
                refs.append(weakref.ref(token))
            mod.global_set(token)
            got = mod.global_get()
            assert isinstance(got, Token)
            seen += 1
        return seen

    assert run_threads(work) == [200] * THREADS
    survivor = mod.global_get()
    assert_alive_exactly(refs, survivor)
    mod.global_set(None)


GIL_SCRIPT = """
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    %s
    import sys
    before = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else None
    assert mod.churn(mod.Box, 10, 0) == 45
print("gil:", before, [str(w.message) for w in caught])
"""


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_gil_declaration(compiler, hpy_abi, declared):
    """HPy_MOD_GIL_NOT_USED keeps a free-threaded CPython's GIL off; a module without it gets CPython's
    own behaviour: the GIL is re-enabled, with CPython's RuntimeWarning. Elsewhere it changes nothing."""
    source = expand_source(SOURCE, "mytest")
    if not declared:
        source = source.replace("HPy_MOD_GIL(mytest, HPy_MOD_GIL_NOT_USED)", "")
    path = compiler.compile_module(source)
    if hpy_abi == "cpython":
        load = ("import importlib.machinery, importlib.util; "
                "spec = importlib.util.spec_from_file_location('mytest', %r); "
                "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)" % str(path))
        script = GIL_SCRIPT % load
    else:
        mode = {"debug": ", mode=hpy.universal.MODE_DEBUG"}.get(hpy_abi, "")
        script = GIL_SCRIPT % "\n    ".join(loading_script("mytest", path, mode).splitlines())
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    if not FREE_THREADED:
        assert "The global interpreter lock (GIL) has been enabled" not in line
    elif declared:
        assert line == "gil: False []", line
    else:
        assert line.startswith("gil: True [") and "has been enabled to load module 'mytest'" in line, line


def test_gil_declaration_refused_value(compiler):
    source = expand_source(SOURCE, "mytest").replace("HPy_MOD_GIL(mytest, HPy_MOD_GIL_NOT_USED)",
                                                      "HPy_MOD_GIL(mytest, 7)")
    with pytest.raises(SystemError, match="HPy module 'mytest': HPy_MOD_GIL: 7 is neither HPy_MOD_GIL_USED "
                                          "nor HPy_MOD_GIL_NOT_USED"):
        compiler.make_module(source)
