"""tests/e2e/debug/test_debug_threads.py: the debug context with several threads: a handle used by a thread
that did not open it, and leak detection that counts each thread's own handles only."""
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from hpy.debug import HPyDebugError, HPyLeakError, LeakDetector

KEPT = """
    static HPy kept;    /* a handle kept by one thread's call, then used by another thread's */
    HPyDef_METH(keep, "keep", HPyFunc_O)
    static HPy keep_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        kept = HPy_Dup(ctx, arg);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(use, "use", HPyFunc_NOARGS)
    static HPy use_impl(HPyContext *ctx, HPy self)
    {
        return HPy_Dup(ctx, kept);
    }
    HPyDef_METH(drop, "drop", HPyFunc_NOARGS)
    static HPy drop_impl(HPyContext *ctx, HPy self)
    {
        HPy_Close(ctx, kept);
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(keep)
    @EXPORT(use)
    @EXPORT(drop)
    @INIT
"""


def test_handle_used_by_another_thread(misuse):
    mod = misuse.make_module(KEPT)
    value = ("kept", 1)
    owner = ThreadPoolExecutor(max_workers=1)  # one thread, which keeps the handle and closes it
    owner.submit(mod.keep, value).result()
    if misuse.mode == "universal":
        assert mod.use() is value
    else:
        with pytest.raises(HPyDebugError) as info:
            mod.use()
        err = info.value
        assert (err.check, err.function, err.obj_type) == ("handle-other-thread", "HPy_Dup", "tuple")
        assert "argument 'h' is a handle opened by another thread" in str(err)
        # Closing it from a third thread is reported too, and leaves it open for its own thread.
        with pytest.raises(HPyDebugError, match=r"^\[handle-other-thread\] HPy_Close: "):
            mod.drop()
    owner.submit(mod.drop).result()  # its own thread may close it
    owner.shutdown()


HOLD = """
    HPyDef_METH(hold, "hold", HPyFunc_O)
    static HPy hold_impl(HPyContext *ctx, HPy self, HPy wait)
    {
        /* a handle open while the call waits in Python (another thread meanwhile checks for leaks) */
        HPy h = HPyLong_FromLong(ctx, 111111);
        HPy r = HPy_CallTupleDict(ctx, wait, HPy_NULL, HPy_NULL);
        HPy_Close(ctx, h);
        return r;
    }
    HPyDef_METH(leak, "leak", HPyFunc_NOARGS)
    static HPy leak_impl(HPyContext *ctx, HPy self)
    {
        HPyLong_FromLong(ctx, 424242);     /* leaked on purpose */
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(hold)
    @EXPORT(leak)
    @INIT
"""


@contextlib.contextmanager
def held_in_another_thread(hold):
    """Runs hold(wait) in another thread; the body runs while that call waits in Python, its handle
    or builder open."""
    entered, release = threading.Event(), threading.Event()

    def wait():
        entered.set()
        assert release.wait(30)
        return 5

    holder = threading.Thread(target=lambda: hold(wait))
    holder.start()
    try:
        assert entered.wait(30)
        yield
    finally:
        release.set()
        holder.join()


@pytest.mark.debug_only("leak detection is the debug context's")
def test_leak_detection_per_thread(misuse):
    mod = misuse.make_module(HOLD)
    with held_in_another_thread(mod.hold):
        with LeakDetector():  # the holder's open handle is not this thread's leak
            pass
        with pytest.raises(HPyLeakError) as info:
            with LeakDetector():
                mod.leak()
        assert [h.obj for h in info.value.leaks] == [424242]


BUILDERS = """
    HPyDef_METH(hold, "hold", HPyFunc_O)
    static HPy hold_impl(HPyContext *ctx, HPy self, HPy wait)
    {
        /* a builder open while the call waits in Python (another thread meanwhile checks for leaks) */
        HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 1);
        HPy r = HPy_CallTupleDict(ctx, wait, HPy_NULL, HPy_NULL);
        HPyTupleBuilder_Cancel(ctx, b);
        return r;
    }
    HPyDef_METH(abandon, "abandon", HPyFunc_NOARGS)
    static HPy abandon_impl(HPyContext *ctx, HPy self)
    {
        HPyListBuilder_New(ctx, 4);         /* never built nor cancelled */
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(hold)
    @EXPORT(abandon)
    @INIT
"""


@pytest.mark.debug_only("leak detection is the debug context's")
def test_builder_leak_detection_per_thread(misuse):
    mod = misuse.make_module(BUILDERS)
    with held_in_another_thread(mod.hold):
        with LeakDetector():  # the holder's open builder is not this thread's leak
            pass
        with pytest.raises(HPyLeakError) as info:
            with LeakDetector():
                mod.abandon()
        assert [(b.created_by, b.size) for b in info.value.builders] == [("HPyListBuilder_New", 4)]
        # Builders made by several threads at once, each detector seeing its own thread's only.
        def abandon_in_detector():
            with pytest.raises(HPyLeakError) as info:
                with LeakDetector():
                    mod.abandon()
            return len(info.value.builders)
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert list(pool.map(lambda _: abandon_in_detector(), range(8))) == [1] * 8
