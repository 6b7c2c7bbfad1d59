"""tests/e2e/debug/test_debug_buffers.py: debug mode over the buffer consumer API of ABI 0.1: a view never
released is a leak of the handle HPy_GetBuffer opened, a view released twice is reported."""
import pytest

from hpy.debug import HPyDebugError, HPyLeakError, LeakDetector

SOURCE = """
    #define HPY_ABI_VERSION_MINOR 1
    @INCLUDE
    static HPy_buffer kept;
    HPyDef_METH(take, "take", HPyFunc_O)
    static HPy take_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        if (HPy_GetBuffer(ctx, arg, &kept, HPyBUF_SIMPLE) < 0)   /* never released */
            return HPy_NULL;
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(give_back, "give_back", HPyFunc_NOARGS)
    static HPy give_back_impl(HPyContext *ctx, HPy self)
    {
        HPyBuffer_Release(ctx, &kept);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(twice, "twice", HPyFunc_O)
    static HPy twice_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_buffer view;
        if (HPy_GetBuffer(ctx, arg, &view, HPyBUF_SIMPLE) < 0)
            return HPy_NULL;
        HPyBuffer_Release(ctx, &view);
        HPyBuffer_Release(ctx, &view);                            /* released twice */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(close_obj, "close_obj", HPyFunc_O)
    static HPy close_obj_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_buffer view;
        if (HPy_GetBuffer(ctx, arg, &view, HPyBUF_SIMPLE) < 0)
            return HPy_NULL;
        HPy_Close(ctx, view.obj);                                 /* the view's: not the module's */
        HPyBuffer_Release(ctx, &view);
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(take)
    @EXPORT(give_back)
    @EXPORT(twice)
    @EXPORT(close_obj)
    @INIT
"""


def line_of(marker):
    # @INCLUDE puts hpy.h in place: the file's lines are the source's
    return next(i for i, line in enumerate(SOURCE.split("\n")) if marker in line) + 1


def test_unreleased_view_is_a_leak(misuse):
    mod = misuse.make_module(SOURCE)
    data = bytearray(b"leaked view")
    if misuse.mode == "universal":
        mod.take(data)
        mod.give_back()
        return
    with pytest.raises(HPyLeakError) as info:
        with LeakDetector():
            mod.take(data)
    text = str(info.value)
    assert text.startswith("1 unclosed handle:"), text
    assert "opened by HPy_GetBuffer in take_impl at misuse.c:%d" % line_of("never released") in text, text
    mod.give_back()  # the view is given back: the bytearray can resize again
    data.extend(b"!")


def test_released_view_is_no_leak(misuse):
    mod = misuse.make_module(SOURCE)
    with LeakDetector():
        mod.take(b"given back")
        mod.give_back()


@pytest.mark.debug_only("in universal mode a second release of a view is a no-op")
def test_double_release(misuse):
    mod = misuse.make_module(SOURCE)
    with pytest.raises(HPyDebugError) as info:
        mod.twice(b"released twice")
    err = info.value
    assert (err.check, err.function, err.obj_type) == ("double-close", "HPyBuffer_Release", "bytes"), str(err)
    assert "the buffer view was already released" in str(err)
    assert "closed by HPyBuffer_Release" in str(err)


@pytest.mark.debug_only("in universal mode closing view.obj drops a reference the view still needs")
def test_view_obj_closed_by_the_module(misuse):
    mod = misuse.make_module(SOURCE)
    data = bytearray(b"closed obj")
    with pytest.raises(HPyDebugError) as info:
        mod.close_obj(data)
    err = info.value
    assert (err.check, err.function) == ("use-after-close", "HPyBuffer_Release"), str(err)
    data.extend(b"!")  # the interpreter's record of the view was given back all the same
