"""tests/e2e/test_metaclass.py: HPyType_SpecParam_Metaclass: Python and HPy metaclasses, on every
CPython (before 3.12 the host builds such types in two steps; see ctx_type.cpp)."""
import gc
import sys

import pytest

SOURCE = r"""
    /* An HPy metaclass with a struct of its own (builtin shape Type). */
    typedef struct { long magic; } MetaObject;
    HPyType_HELPERS(MetaObject, HPyType_BuiltinShape_Type)
    HPyDef_GET(Meta_magic, "magic")
    static HPy Meta_magic_get(HPyContext *ctx, HPy self, void *closure)
    {
        return HPyLong_FromLong(ctx, MetaObject_AsStruct(ctx, self)->magic);
    }
    static HPyDef *Meta_defines[] = { &Meta_magic, NULL };
    static HPyType_Spec Meta_spec = {
        .name = "mytest.Meta", .basicsize = sizeof(MetaObject),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
        .builtin_shape = HPyType_BuiltinShape_Type, .defines = Meta_defines,
    };

    typedef struct { long value; } ThingObject;
    HPyType_HELPERS(ThingObject)
    HPyDef_SLOT(Thing_new, HPy_tp_new)
    static HPy Thing_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        ThingObject *t;
        HPy h = HPy_New(ctx, type, &t);
        if (!HPy_IsNull(h))
            t->value = nargs > 0 ? HPyLong_AsLong(ctx, args[0]) : 0;
        return h;
    }
    HPyDef_MEMBER(Thing_value, "value", HPyMember_LONG, offsetof(ThingObject, value))
    HPyDef_SLOT(Thing_call, HPy_tp_call)
    static HPy Thing_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        return HPyLong_FromLong(ctx, ThingObject_AsStruct(ctx, self)->value + (long)nargs);
    }
    static HPyDef *Thing_defines[] = { &Thing_new, &Thing_value, &Thing_call, NULL };

    HPyDef_METH(make_thing, "make_thing", HPyFunc_VARARGS)
    static HPy make_thing_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        static HPyType_Spec spec = { .name = "mytest.Thing", .basicsize = sizeof(ThingObject),
                                     .flags = HPy_TPFLAGS_DEFAULT, .defines = Thing_defines,
                                     .doc = "A thing with a metaclass." };
        HPyType_SpecParam params[] = { { HPyType_SpecParam_Metaclass, args[0] }, { (HPyType_SpecParam_Kind)0 } };
        HPy type = HPyType_FromSpec(ctx, &spec, params);
        if (HPy_IsNull(type) || nargs < 2)
            return type;
        MetaObject_AsStruct(ctx, type)->magic = HPyLong_AsLong(ctx, args[1]);
        return type;
    }
    HPyDef_METH(make_meta, "make_meta", HPyFunc_NOARGS)
    static HPy make_meta_impl(HPyContext *ctx, HPy self)
    {
        HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, ctx->h_TypeType }, { (HPyType_SpecParam_Kind)0 } };
        return HPyType_FromSpec(ctx, &Meta_spec, params);
    }
    @EXPORT(make_thing) @EXPORT(make_meta)
    @INIT
"""


@pytest.fixture
def mod(compiler):
    return compiler.make_module(SOURCE)


def check_thing(T):
    assert T.__name__ == "Thing" and T.__module__ == "mytest" and T.__doc__ == "A thing with a metaclass."
    t = T(40)
    assert type(t) is T and t.value == 40
    t.value = 41
    assert t(1) == 42                          # the call protocol survives the metaclass
    with pytest.raises(TypeError):
        class Sub(T):                          # no HPy_TPFLAGS_BASETYPE: not subclassable
            pass


def test_python_metaclass(mod):
    class Meta(type):
        def describe(cls):
            return "made by Meta: " + cls.__name__

    T = mod.make_thing(Meta)
    assert type(T) is Meta and T.describe() == "made by Meta: Thing"
    check_thing(T)


def test_hpy_metaclass_with_a_struct(mod):
    Meta = mod.make_meta()
    T = mod.make_thing(Meta, 1234)
    assert type(T) is Meta and T.magic == 1234
    check_thing(T)


def test_class_of_an_hpy_metaclass_is_freed_whole(mod):
    # A class is an instance of its metaclass: its dealloc also frees what makes it a class (its
    # name, MRO, doc, cached keys), as type's own dealloc does. Blocks of the interpreter's
    # allocator: a class leaking its parts leaves several per class behind.
    Meta = mod.make_meta()

    def make_and_free(n):
        for i in range(n):
            T = mod.make_thing(Meta, i)
            T().value = i
            del T
        gc.collect()

    make_and_free(20)
    before = sys.getallocatedblocks()
    make_and_free(500)
    assert sys.getallocatedblocks() - before < 100


def test_bad_metaclasses(mod):
    with pytest.raises(TypeError, match=r"'mytest.Thing'.*not a subclass of type"):
        mod.make_thing(int)

    class CustomNew(type):
        def __new__(mcls, *args):
            return super().__new__(mcls, *args)

    with pytest.raises(TypeError, match="custom tp_new"):
        mod.make_thing(CustomNew)


TWICE_SOURCE = r"""
    static HPyDef *defines[] = { NULL };
    HPyDef_METH(make, "make", HPyFunc_VARARGS)
    static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        static HPyType_Spec spec = { .name = "mytest.Twice", .flags = HPy_TPFLAGS_DEFAULT, .defines = defines };
        HPyType_SpecParam params[] = { { HPyType_SpecParam_Metaclass, args[0] },
                                       { HPyType_SpecParam_Metaclass, args[1] }, { (HPyType_SpecParam_Kind)0 } };
        return HPyType_FromSpec(ctx, &spec, params);
    }
    @EXPORT(make)
    @INIT
"""


def test_metaclass_given_twice(compiler):
    mod = compiler.make_module(TWICE_SOURCE)

    class Meta(type):
        pass
    with pytest.raises(ValueError, match=r"'mytest.Twice'.*more than once"):
        mod.make(Meta, Meta)
    # a second metaclass is refused as such, whatever it is
    with pytest.raises(ValueError, match=r"'mytest.Twice'.*more than once"):
        mod.make(type, int)
