"""tests/e2e/test_builtin_shapes.py: types whose objects are int, str or tuple objects (builtin shapes
Long, Unicode, Tuple): without a struct, and with one (after the int's digits or the tuple's items,
one offset per object; after the str object), with members, fields, destroy and Python subclasses."""
import gc
import sys

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


STRUCT_SOURCE = r"""
    typedef struct { long n; HPyField f; long ro; char pad[40]; } S;
    static long destroyed = 0;

    static S *S_of(HPyContext *ctx, HPy self)
    {
        HPy type = HPy_Type(ctx, self);
        HPyType_BuiltinShape shape = _HPyType_GetBuiltinShape(ctx, type);
        HPy_Close(ctx, type);
        return (S *)(shape == HPyType_BuiltinShape_Long ? _HPy_AsStruct_Long(ctx, self)
                   : shape == HPyType_BuiltinShape_Unicode ? _HPy_AsStruct_Unicode(ctx, self)
                   : _HPy_AsStruct_Tuple(ctx, self));
    }
    HPyDef_METH(fill, "fill", HPyFunc_VARARGS)
    static HPy fill_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        /* fill(n, obj, ro): the whole struct, padding included */
        S *s = S_of(ctx, self);
        if (s == NULL)
            return HPy_NULL;
        s->n = HPyLong_AsLong(ctx, args[0]);
        HPyField_Store(ctx, self, &s->f, args[1]);
        s->ro = HPyLong_AsLong(ctx, args[2]);
        for (int i = 0; i < 40; i++)
            s->pad[i] = (char)(s->n + i);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(pad_ok, "pad_ok", HPyFunc_NOARGS)
    static HPy pad_ok_impl(HPyContext *ctx, HPy self)
    {
        S *s = S_of(ctx, self);
        if (s == NULL)
            return HPy_NULL;
        for (int i = 0; i < 40; i++)
            if (s->pad[i] != (char)(s->n + i))
                return HPy_Dup(ctx, ctx->h_False);
        return HPy_Dup(ctx, ctx->h_True);
    }
    HPyDef_METH(new_empty, "new_empty", HPyFunc_NOARGS)
    static HPy new_empty_impl(HPyContext *ctx, HPy self)
    {
        HPy type = HPy_Type(ctx, self);
        S *s;
        HPy r = HPy_New(ctx, type, &s);
        HPy_Close(ctx, type);
        if (HPy_IsNull(r))
            return r;
        if (s->n != 0 || s->ro != 0 || !HPyField_IsNull(s->f) || s != S_of(ctx, r)) {
            HPy_Close(ctx, r);
            HPyErr_SetString(ctx, ctx->h_AssertionError, "HPy_New: not the zeroed struct AsStruct finds");
            return HPy_NULL;
        }
        return r;
    }
    HPyDef_SLOT(S_traverse, HPy_tp_traverse)
    static int S_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        HPy_VISIT(&((S *)self)->f);
        return 0;
    }
    HPyDef_SLOT(S_destroy, HPy_tp_destroy)
    static void S_destroy_impl(void *self) { destroyed += ((S *)self)->n; }
    HPyDef_MEMBER(S_n, "n", HPyMember_LONG, offsetof(S, n))
    HPyDef_MEMBER(S_ro, "ro", HPyMember_LONG, offsetof(S, ro), .readonly = 1)
    HPyDef_MEMBER(S_obj, "obj", HPyMember_OBJECT_EX, offsetof(S, f))
    static HPyDef *defines[] = { &fill, &pad_ok, &new_empty, &S_traverse, &S_destroy, &S_n, &S_ro, &S_obj, NULL };

    HPyDef_METH(make, "make", HPyFunc_VARARGS)
    static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        /* make(name, shape[, base]) */
        static HPyType_Spec spec = { .basicsize = sizeof(S),
            .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC, .defines = defines };
        spec.name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
        spec.builtin_shape = (HPyType_BuiltinShape)HPyLong_AsLong(ctx, args[1]);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
        HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, nargs > 2 ? args[2] : HPy_NULL },
                                       { (HPyType_SpecParam_Kind)0 } };
        return HPyType_FromSpec(ctx, &spec, nargs > 2 ? params : NULL);
    }
    HPyDef_METH(get_destroyed, "get_destroyed", HPyFunc_NOARGS)
    static HPy get_destroyed_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, destroyed); }
    @EXPORT(make) @EXPORT(get_destroyed)
    @INIT
"""


@pytest.fixture
def smod(compiler):
    return compiler.make_module(STRUCT_SOURCE)


class Thing:
    pass


def _check_struct_shape(smod, shape, base, values):
    t = smod.make("mytest.WithStruct", shape)
    assert t.__base__ is base and issubclass(t, base)
    objs = [t(v) for v in values]
    things = [Thing() for _ in values]
    refcounts = [sys.getrefcount(thing) for thing in things] if hasattr(sys, "getrefcount") else None
    for i, (o, thing) in enumerate(zip(objs, things)):
        o.fill(i + 1, thing, -i)
    for i, (o, v, thing) in enumerate(zip(objs, values, things)):
        # the value (digits, items, characters) and the struct do not overlap
        assert o == v and o.n == i + 1 and o.ro == -i and o.obj is thing and o.pad_ok()
    o = objs[-1]
    o.n = 77
    o.obj = 5
    assert o.n == 77 and o.obj == 5 and o.pad_ok() is False and o == values[-1]
    with pytest.raises(AttributeError):
        o.ro = 1
    del o.obj
    with pytest.raises(AttributeError, match="obj"):
        o.obj
    with pytest.raises(AttributeError):
        del o.obj
    assert things[0] in gc.get_referents(objs[0])
    e = objs[0].new_empty()
    assert isinstance(e, t) and e.n == 0

    class PySub(t):
        pass
    p = PySub(values[-1])
    p.fill(5, p, 0)  # a cycle through the field
    p.attr = [p]     # and through the subclass's own part
    assert p == values[-1] and p.n == 5 and p.obj is p and p.attr[0] is p and p.pad_ok()
    before = smod.get_destroyed()
    del objs, o, e, p, thing
    gc.collect()
    assert smod.get_destroyed() == before + sum(range(1, len(values))) + 77 + 5
    if refcounts is not None:  # the fields were released
        assert [sys.getrefcount(thing) for thing in things] == refcounts


@pytest.mark.parametrize("shape, base, values", [
    (LONG, int, [0, 1, -1, 2**31, 2**64 + 5, -(10**300), 7**1000]),
    (TUPLE, tuple, [(), (1,), (1, 2, 3), tuple(range(100)), tuple(map(str, range(1000)))])])
def test_struct_after_items(smod, shape, base, values):
    _check_struct_shape(smod, shape, base, values)


def test_str_struct(smod):
    _check_struct_shape(smod, UNICODE, str, ["", "a", "\u20ac" * 3, "x" * 10000, "\U0001F600" * 50])


@pytest.mark.parametrize("shape, base", [(LONG, "int"), (TUPLE, "tuple")])
def test_struct_after_items_needs_its_base(smod, shape, base):
    # the struct's place is found from the item count, which only an int (tuple) has
    with pytest.raises(TypeError, match=r"'mytest.Odd': a type of builtin shape \w+ must derive from '%s'" % base):
        smod.make("mytest.Odd", shape, object)


@pytest.mark.parametrize("shape, name", [(LONG, "Long"), (TUPLE, "Tuple")])
def test_struct_after_items_refuses_members_without_struct(compiler, shape, name):
    with pytest.raises(SystemError, match="member 'x': a type of builtin shape %s and basicsize 0" % name):
        compiler.make_module(r"""
            HPyDef_MEMBER(x, "x", HPyMember_LONG, 0)
            static HPyDef *defines[] = { &x, NULL };
            static HPyType_Spec spec = { .name = "mytest.NoStruct", .builtin_shape = (HPyType_BuiltinShape)%d,
                                         .defines = defines };
            @EXPORT_TYPE("NoStruct", spec)
            @INIT
        """ % shape)


@pytest.mark.parametrize("shape", [LONG, TUPLE])
def test_call_protocol_refused_with_items(compiler, shape):
    # the hidden call-function slot has a constant offset, where a larger object's items would be
    with pytest.raises(TypeError, match=r"'mytest.Callable': HPy_tp_call cannot be used with a base of variable size"):
        compiler.make_module(r"""
            HPyDef_SLOT(c, HPy_tp_call)
            static HPy c_impl(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
            {
                return HPy_Dup(ctx, ctx->h_None);
            }
            static HPyDef *defines[] = { &c, NULL };
            static HPyType_Spec spec = { .name = "mytest.Callable", .builtin_shape = (HPyType_BuiltinShape)%d,
                                         .defines = defines };
            @EXPORT_TYPE("Callable", spec)
            @INIT
        """ % shape)


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
