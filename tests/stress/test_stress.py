"""tests/stress/test_stress.py: long runs and threads: memory stays flat, results stay right.

Memory is measured two ways after a warm-up: the interpreter's count of allocated blocks
(sys.getallocatedblocks, exact for Python objects; with PYTHONMALLOC=malloc it is always 0 and
only RSS counts) and the process's resident set (RSS, from /proc/self/statm, which also sees C
allocations). Tolerances: at most BLOCKS_TOLERANCE more blocks and RSS_TOLERANCE more bytes after
the run than after the warm-up; a leak of one object per call or allocation exceeds both at
every scale >= 0.1 (1e5 calls leaking 32 bytes each is 3 MiB).
"""
import os
import sys
import threading

import pytest
from modcache import shared_module

BLOCKS_TOLERANCE = 1000
RSS_TOLERANCE = 1 << 20  # 1 MiB
PAGE = os.sysconf("SC_PAGE_SIZE")

SOURCE = r"""
    #include <string.h>

    HPyDef_METH(noargs, "noargs", HPyFunc_NOARGS)
    static HPy noargs_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 1); }

    HPyDef_METH(onearg, "onearg", HPyFunc_O)
    static HPy onearg_impl(HPyContext *ctx, HPy self, HPy arg) { return HPy_Add(ctx, arg, arg); }

    HPyDef_METH(varargs, "varargs", HPyFunc_VARARGS)
    static HPy varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long a, b;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll", &a, &b))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, a + b);
    }

    HPyDef_METH(keywords, "keywords", HPyFunc_KEYWORDS)
    static HPy keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        static const char *kwlist[] = { "a", "b", NULL };
        long a, b = 10;
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l|l", kwlist, &a, &b))
            return HPy_NULL;
        return HPy_BuildValue(ctx, "(ls)", a + b, "sum");
    }

    HPyDef_METH(raises, "raises", HPyFunc_O)
    static HPy raises_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPyErr_Format(ctx, ctx->h_ValueError, "bad value %R", arg);
        return HPy_NULL;
    }

    typedef struct { long value; HPyField other; } BoxObject;
    HPyType_HELPERS(BoxObject)

    HPyDef_SLOT(Box_new, HPy_tp_new)
    static HPy Box_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        BoxObject *box;
        HPy h = HPy_New(ctx, cls, &box);
        if (HPy_IsNull(h))
            return HPy_NULL;
        box->value = nargs > 0 ? HPyLong_AsLong(ctx, args[0]) : 0;
        if (nargs > 1)
            HPyField_Store(ctx, h, &box->other, args[1]);
        return h;
    }

    HPyDef_SLOT(Box_traverse, HPy_tp_traverse)
    static int Box_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        BoxObject *box = (BoxObject *)self;
        return box->other._i != 0 ? visit(&box->other, arg) : 0;
    }

    static long destroyed;
    HPyDef_SLOT(Box_destroy, HPy_tp_destroy)
    static void Box_destroy_impl(void *self) { destroyed++; }

    HPyDef_MEMBER(Box_value, "value", HPyMember_LONG, offsetof(BoxObject, value))

    static HPyDef *Box_defines[] = { &Box_new, &Box_traverse, &Box_destroy, &Box_value, NULL };
    static HPyType_Spec Box_spec = {
        .name = "stress.Box", .basicsize = sizeof(BoxObject),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC, .defines = Box_defines,
    };

    HPyDef_METH(destroyed_count, "destroyed_count", HPyFunc_NOARGS)
    static HPy destroyed_count_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, destroyed); }

    /* Allocates n objects of several kinds in C and drops them: tuples, lists, dicts, strings, Boxes. */
    HPyDef_METH(churn, "churn", HPyFunc_VARARGS)
    static HPy churn_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long n;
        HPy box_type;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "lO", &n, &box_type))
            return HPy_NULL;
        for (long i = 0; i < n; i++) {
            HPy v = HPyLong_FromLong(ctx, i);
            HPy t = HPy_BuildValue(ctx, "(Os[O]{s:O})", v, "x", v, "k", v);
            HPy s = HPyUnicode_FromFormat(ctx, "item %ld of %S", i, v);
            HPy box = HPy_IsNull(t) || HPy_IsNull(s) ? HPy_NULL : HPy_CallTupleDict(ctx, box_type, t, HPy_NULL);
            HPy_Close(ctx, v);
            HPy_Close(ctx, t);
            HPy_Close(ctx, s);
            if (HPy_IsNull(box))
                return HPy_NULL;
            HPy_Close(ctx, box);
        }
        return HPy_Dup(ctx, ctx->h_None);
    }

    /* The sum 0 + 1 + ... + n-1 computed outside Python: other threads run meanwhile. */
    HPyDef_METH(sum_without_python, "sum_without_python", HPyFunc_O)
    static HPy sum_without_python_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        long n = HPyLong_AsLong(ctx, arg);
        if (n == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        long long total = 0;
        HPy_BEGIN_LEAVE_PYTHON(ctx)
        for (long i = 0; i < n; i++)
            total += i;
        HPy_END_LEAVE_PYTHON(ctx)
        return HPyLong_FromLongLong(ctx, total);
    }

    /* Leaks the list it makes: the measurement must notice. */
    HPyDef_METH(leak, "leak", HPyFunc_NOARGS)
    static HPy leak_impl(HPyContext *ctx, HPy self)
    {
        HPy l = HPyList_New(ctx, 0);
        (void)l;
        return HPy_Dup(ctx, ctx->h_None);
    }

    @EXPORT(leak) @EXPORT(noargs) @EXPORT(onearg) @EXPORT(varargs) @EXPORT(keywords) @EXPORT(raises)
    @EXPORT(destroyed_count) @EXPORT(churn) @EXPORT(sum_without_python)
    @EXPORT_TYPE("Box", Box_spec)
    @INIT
"""

@pytest.fixture
def mod(compiler):
    # Built once per ABI and load mode (debug mode loads the universal build under the debug context).
    return shared_module(compiler, SOURCE, name="stress")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def assert_flat(run, warmup):
    """Runs warmup(), measures, runs run(), measures: blocks and RSS stay within the tolerances."""
    warmup()
    blocks0, rss0 = sys.getallocatedblocks(), rss()
    run()
    blocks1, rss1 = sys.getallocatedblocks(), rss()
    print("blocks %d -> %d, RSS %.1f -> %.1f MiB" % (blocks0, blocks1, rss0 / 2**20, rss1 / 2**20))
    assert blocks1 - blocks0 <= BLOCKS_TOLERANCE, "allocated blocks grew by %d" % (blocks1 - blocks0)
    assert rss1 - rss0 <= RSS_TOLERANCE, "RSS grew by %d bytes" % (rss1 - rss0)


def test_calls_through_every_signature(mod, scale):
    n = int(1_000_000 * scale)
    big = 2**70

    def calls(count):
        def run():
            for i in range(count):
                assert mod.noargs() == 1
                assert mod.onearg(big) == 2 * big
                assert mod.varargs(i, 1) == i + 1
                assert mod.keywords(i, b=2) == (i + 2, "sum")
                assert mod.keywords(a=i) == (i + 10, "sum")
                try:
                    mod.raises(i)
                except ValueError as e:
                    assert str(e) == "bad value %d" % i
        return run

    assert_flat(calls(n), warmup=calls(max(n // 10, 1000)))


@pytest.mark.leaks_on_purpose
def test_the_measurement_sees_a_leak(mod, scale, hpy_abi):
    n = int(100_000 * scale)

    def calls(count):
        return lambda: [mod.leak() for _ in range(count)]

    if hpy_abi != "debug":
        with pytest.raises(AssertionError, match="grew by"):
            assert_flat(calls(n), warmup=calls(10))
        return
    # Debug mode: the LeakDetector names every leaked handle, with its object.
    from hpy.debug import HPyLeakError, LeakDetector
    with pytest.raises(HPyLeakError) as info:
        with LeakDetector():
            calls(n)()
    assert len(info.value.leaks) == n and all(h.obj == [] for h in info.value.leaks)


def test_allocations(mod, scale):
    n = int(100_000 * scale)
    import gc

    destroyed0 = mod.destroyed_count()

    def allocate(count):
        def run():
            for i in range(count):
                b = mod.Box(i, mod.Box(i + 1))  # a Box holding another through an HPyField
                assert b.value == i
            mod.churn(count, mod.Box)
            gc.collect()
        return run

    warm = max(n // 10, 1000)
    assert_flat(allocate(n), warmup=allocate(warm))
    # Every Box made was destroyed: two per loop iteration and one per churn step.
    assert mod.destroyed_count() - destroyed0 == 3 * (n + warm)


def run_threads(target, count=8):
    errors = []

    def guarded(k):
        try:
            target(k)
        except BaseException as e:  # reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_with_the_gil(mod, scale):
    n = int(20_000 * scale)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads as often as possible
    try:
        def work(k):
            for i in range(n):
                assert mod.varargs(i, k) == i + k
                assert mod.keywords(k, b=i) == (k + i, "sum")
                assert mod.Box(k * n + i).value == k * n + i
        run_threads(work)
    finally:
        sys.setswitchinterval(switch)


def test_threads_leaving_python(mod, scale):
    n = int(2_000 * scale)

    def work(k):
        for i in range(n):
            m = 1000 + k * 10 + i % 7
            assert mod.sum_without_python(m) == m * (m - 1) // 2
            assert mod.onearg(k) == 2 * k
    run_threads(work)
