"""tests/e2e/test_buffer_consumer.py: the buffer consumer API of ABI 0.1 (HPy_GetBuffer, HPyBuffer_Release,
HPy_CheckBuffer), in every ABI mode, over the builtin exporters and an exporter written in HPy.

Modules that request ABI 0.1 load only on unihpy's host: on HPy 0.9's and PyPy's own hosts this file does
not apply (host_differences.py), and test_abi_minor.py checks their refusal instead."""
import array
import sys

import pytest

from test_slots import BUFFER_EXPORTER

SOURCE = r"""
    #define HPY_ABI_VERSION_MINOR 1
    @INCLUDE

    static HPy shape_of(HPyContext *ctx, const HPy_buffer *view)
    {
        if (view->shape == NULL)
            return HPy_Dup(ctx, ctx->h_None);
        HPy items[8];
        int n = view->ndim < 8 ? view->ndim : 8;
        for (int i = 0; i < n; i++)
            items[i] = HPyLong_FromSsize_t(ctx, view->shape[i]);
        HPy t = HPyTuple_FromArray(ctx, items, n);
        for (int i = 0; i < n; i++)
            HPy_Close(ctx, items[i]);
        return t;
    }

    /* info(obj, flags) -> (content, len, itemsize, readonly, ndim, format, shape, view.obj is obj) */
    HPyDef_METH(info, "info", HPyFunc_VARARGS)
    static HPy info_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        int flags = (int)HPyLong_AsLong(ctx, args[1]);
        HPy_buffer view;
        if (HPy_GetBuffer(ctx, args[0], &view, flags) < 0)
            return HPy_NULL;
        HPy items[8];
        items[0] = HPyBytes_FromStringAndSize(ctx, (const char *)view.buf, view.len);
        items[1] = HPyLong_FromSsize_t(ctx, view.len);
        items[2] = HPyLong_FromSsize_t(ctx, view.itemsize);
        items[3] = HPyBool_FromLong(ctx, view.readonly);
        items[4] = HPyLong_FromLong(ctx, view.ndim);
        items[5] = view.format ? HPyUnicode_FromString(ctx, view.format) : HPy_Dup(ctx, ctx->h_None);
        items[6] = shape_of(ctx, &view);
        items[7] = HPyBool_FromLong(ctx, HPy_Is(ctx, view.obj, args[0]));
        HPyBuffer_Release(ctx, &view);
        int released = HPy_IsNull(view.obj);  /* (view.internal is the host's) */
        HPy t = HPyTuple_FromArray(ctx, items, 8);
        for (int i = 0; i < 8; i++)
            HPy_Close(ctx, items[i]);
        if (!released) {
            HPy_Close(ctx, t);
            HPyErr_SetString(ctx, ctx->h_AssertionError, "the released view still holds obj");
            return HPy_NULL;
        }
        return t;
    }

    /* poke(obj, index, value): writes one byte through a writable view */
    HPyDef_METH(poke, "poke", HPyFunc_VARARGS)
    static HPy poke_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPy_buffer view;
        if (HPy_GetBuffer(ctx, args[0], &view, HPyBUF_WRITABLE) < 0)
            return HPy_NULL;
        ((char *)view.buf)[HPyLong_AsSsize_t(ctx, args[1])] = (char)HPyLong_AsLong(ctx, args[2]);
        HPyBuffer_Release(ctx, &view);
        return HPy_Dup(ctx, ctx->h_None);
    }

    HPyDef_METH(check, "check", HPyFunc_O)
    static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyBool_FromLong(ctx, HPy_CheckBuffer(ctx, arg));
    }

    /* hold(obj) keeps a view until release_held() */
    static HPy_buffer held;
    HPyDef_METH(hold, "hold", HPyFunc_O)
    static HPy hold_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        if (HPy_GetBuffer(ctx, arg, &held, HPyBUF_SIMPLE) < 0)
            return HPy_NULL;
        return HPyLong_FromSsize_t(ctx, held.len);
    }

    HPyDef_METH(release_held, "release_held", HPyFunc_NOARGS)
    static HPy release_held_impl(HPyContext *ctx, HPy self)
    {
        HPyBuffer_Release(ctx, &held);
        return HPy_Dup(ctx, ctx->h_None);
    }

    @BUFFER_EXPORTER

    @EXPORT(info)
    @EXPORT(poke)
    @EXPORT(check)
    @EXPORT(hold)
    @EXPORT(release_held)
    @EXPORT_TYPE("Buf", Buf_spec)
    @INIT
"""

SIMPLE, WRITABLE, FORMAT, ND = 0, 0x1, 0x4, 0x8
STRIDES = 0x10 | ND


@pytest.fixture
def mod(compiler):
    return compiler.make_module(SOURCE.replace("@BUFFER_EXPORTER", BUFFER_EXPORTER.replace("MODULE", "buffers")),
                                name="buffers")


def test_bytes(mod):
    b = b"hello buffers"
    assert mod.info(b, SIMPLE) == (b, len(b), 1, True, 1, None, None, True)
    assert mod.info(b, FORMAT | ND) == (b, len(b), 1, True, 1, "B", (len(b),), True)


def test_bytearray_writable(mod):
    ba = bytearray(b"abcdef")
    content, length, itemsize, *_ = mod.info(ba, WRITABLE)
    assert (content, length, itemsize) == (b"abcdef", 6, 1)
    mod.poke(ba, 2, ord("X"))
    assert ba == bytearray(b"abXdef")
    ba.append(ord("g"))  # no view is left: the bytearray may resize again


def test_memoryview_of_a_slice(mod):
    data = b"0123456789"
    m = memoryview(data)[2:6]
    content, length, itemsize, readonly, ndim, fmt, shape, same = mod.info(m, FORMAT | ND)
    assert (content, length, ndim, fmt, shape) == (b"2345", 4, 1, "B", (4,))
    assert same  # view.obj is the memoryview itself


def test_array_format_and_shape(mod):
    a = array.array("i", [1, 2, 3, -4])
    content, length, itemsize, readonly, ndim, fmt, shape, same = mod.info(a, FORMAT | ND)
    assert content == a.tobytes() and length == 4 * a.itemsize and itemsize == a.itemsize
    assert (ndim, fmt, shape, same) == (1, "i", (4,), True)


def test_readonly_flag(mod):
    objects = [(b"bytes", True), (bytearray(b"bytearray"), False), (memoryview(b"view of bytes"), True),
               (memoryview(bytearray(b"view of a bytearray")), False), (array.array("i", [1]), False)]
    assert [(repr(o), mod.info(o, SIMPLE)[3]) for o, _ in objects] == [(repr(o), ro) for o, ro in objects]


def test_not_a_buffer(mod):
    with pytest.raises(TypeError):
        mod.info(12345, SIMPLE)
    with pytest.raises(TypeError):
        mod.info("a str is no buffer", SIMPLE)


def test_writable_request_on_bytes(mod):
    with pytest.raises(BufferError):
        mod.info(b"read-only", WRITABLE)
    with pytest.raises(BufferError):
        mod.poke(b"read-only", 0, 1)


def test_check_buffer(mod):
    assert mod.check(b"x") and mod.check(bytearray()) and mod.check(memoryview(b"y"))
    assert mod.check(array.array("d")) and mod.check(mod.Buf())
    assert not mod.check(1) and not mod.check("str") and not mod.check(None) and not mod.check([1])


def test_hpy_exporter(compiler, mod):
    b = mod.Buf()
    assert mod.info(b, FORMAT | ND) == (b"abcdefgh", 8, 1, True, 1, "B", (8,), True)
    assert (b.exports, b.releases) == (1, 1)
    assert mod.hold(b) == 8
    assert (b.exports, b.releases) == (2, 1)  # held: not released yet
    mod.release_held()
    assert (b.exports, b.releases) == (2, 2)  # the release reached the exporter
    if compiler.load_mode != "debug":  # where debug mode reports it (tests/e2e/debug/test_debug_buffers.py)
        mod.release_held()  # released already: nothing happens
        assert (b.exports, b.releases) == (2, 2)
    with pytest.raises(BufferError, match="^Buf is read-only$"):
        mod.info(b, WRITABLE)
    assert (b.exports, b.releases) == (2, 2)


@pytest.mark.skipif(not hasattr(sys, "getrefcount"), reason="no reference counts")
def test_refcounts(mod):
    # (bytes made at run time: a free-threaded CPython makes the constants of code objects immortal)
    for obj in (bytes(bytearray(b"refcounted bytes")), bytearray(b"xyz"), mod.Buf(), array.array("i", [7])):
        before = sys.getrefcount(obj)
        mod.info(obj, FORMAT | ND)
        assert sys.getrefcount(obj) == before
        mod.hold(obj)
        assert sys.getrefcount(obj) > before  # the held view (and the exporter's record) keep it
        mod.release_held()
        assert sys.getrefcount(obj) == before
