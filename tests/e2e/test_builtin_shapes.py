"""tests/e2e/test_builtin_shapes.py: types whose objects are int, str or tuple objects (builtin shapes
Long, Unicode, Tuple): they carry no C struct on CPython, and say so clearly when asked for one."""
import pytest

SHAPES_SOURCE = r"""
    HPyDef_METH(twice, "twice", HPyFunc_NOARGS)
    static HPy twice_impl(HPyContext *ctx, HPy self)
    {
        return HPy_Add(ctx, self, self);
    }
    HPyDef_METH(as_struct, "as_struct", HPyFunc_NOARGS)
    static HPy as_struct_impl(HPyContext *ctx, HPy self)
    {
        HPy type = HPy_Type(ctx, self);
        HPyType_BuiltinShape shape = _HPyType_GetBuiltinShape(ctx, type);
        HPy_Close(ctx, type);
        void *p = shape == HPyType_BuiltinShape_Long ? _HPy_AsStruct_Long(ctx, self)
                : shape == HPyType_BuiltinShape_Unicode ? _HPy_AsStruct_Unicode(ctx, self)
                : _HPy_AsStruct_Tuple(ctx, self);
        if (p == NULL)
            return HPy_NULL;
        return HPy_Dup(ctx, ctx->h_None);
    }
    static HPyDef *defines[] = { &twice, &as_struct, NULL };

    HPyDef_METH(make, "make", HPyFunc_VARARGS)
    static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        static HPyType_Spec spec = { .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = defines };
        spec.name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
        spec.builtin_shape = (HPyType_BuiltinShape)HPyLong_AsLong(ctx, args[1]);
        spec.basicsize = (int)HPyLong_AsLong(ctx, args[2]);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
        return HPyType_FromSpec(ctx, &spec, NULL);
    }
    HPyDef_METH(shape_of, "shape_of", HPyFunc_O)
    static HPy shape_of_impl(HPyContext *ctx, HPy self, HPy type)
    {
        HPyType_BuiltinShape shape = _HPyType_GetBuiltinShape(ctx, type);
        if (shape == (HPyType_BuiltinShape)-2)
            return HPy_NULL;
        return HPyLong_FromLong(ctx, shape);
    }
    @EXPORT(make) @EXPORT(shape_of)
    @INIT
"""

LONG, UNICODE, TUPLE = 2, 4, 5


@pytest.fixture
def mod(compiler):
    return compiler.make_module(SHAPES_SOURCE)


@pytest.mark.parametrize("shape, base, value, doubled", [
    (LONG, int, 21, 42), (UNICODE, str, "ab", "abab"), (TUPLE, tuple, (1,), (1, 1))])
def test_struct_free_shapes(mod, shape, base, value, doubled):
    t = mod.make("mytest.Shaped", shape, 0)
    assert t.__base__ is base and mod.shape_of(t) == shape
    obj = t(value)
    assert obj == value and isinstance(obj, base) and obj.twice() == doubled
    with pytest.raises(SystemError, match="carries no C struct"):
        obj.as_struct()

    class Sub(t):
        pass
    assert Sub(value).twice() == doubled and mod.shape_of(Sub) == shape


@pytest.mark.parametrize("shape, name", [(LONG, "Long"), (UNICODE, "Unicode"), (TUPLE, "Tuple")])
def test_struct_free_shapes_refuse_a_struct(mod, shape, name):
    with pytest.raises(SystemError, match=r"type 'mytest.WithStruct': builtin shape %s cannot carry a C struct" % name):
        mod.make("mytest.WithStruct", shape, 16)


def test_invalid_shape(mod):
    with pytest.raises(ValueError, match=r"'mytest.Odd': invalid builtin shape 42"):
        mod.make("mytest.Odd", 42, 0)
    with pytest.raises(TypeError, match="not a type"):
        mod.shape_of(42)


@pytest.mark.parametrize("shape, make_value", [
    (UNICODE, lambda i: "x" * 1000 + str(i)), (TUPLE, lambda i: tuple(range(50))), (LONG, lambda i: 10 ** 300 + i)])
def test_builtin_part_is_freed(mod, shape, make_value):
    # The builtin base's dealloc runs: a str's data, a tuple's items, an int's digits are freed.
    import tracemalloc
    t = mod.make("mytest.Freed", shape, 0)
    values = [make_value(i) for i in range(200)]
    for v in values:
        t(v)                                  # warm-up (caches, free lists)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            for v in values:
                t(v)
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < 50_000, "%d bytes kept by 1000 freed objects" % growth
