"""tests/e2e/test_type.py: HPyType_FromSpec in full: spec parameters, methods, members of every field type,
getsets, subclassing, GC, builtin shapes with _HPy_AsStruct_*, the type functions, and the invalid specs."""
import gc
import re
import sys
import warnings
import weakref

import pytest

import support
from modcache import shared_module

MAKE_TYPE = r"""
    /* make(): HPyType_FromSpec(&spec, NULL), for specs a test expects to be refused */
    HPyDef_METH(make, "make", HPyFunc_NOARGS)
    static HPy make_impl(HPyContext *ctx, HPy self)
    {
        return HPyType_FromSpec(ctx, &spec, NULL);
    }
    @EXPORT(make)
    @INIT
"""

METHODS_SOURCE = r"""
    typedef struct { long v; } Obj;
    HPyType_HELPERS(Obj)
    HPyDef_METH(Obj_noargs, "noargs", HPyFunc_NOARGS, .doc = "no arguments")
    static HPy Obj_noargs_impl(HPyContext *ctx, HPy self)
    {
        return HPyLong_FromLong(ctx, Obj_AsStruct(ctx, self)->v);
    }
    HPyDef_METH(Obj_o, "o", HPyFunc_O)
    static HPy Obj_o_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPy_BuildValue(ctx, "(lO)", Obj_AsStruct(ctx, self)->v, arg);
    }
    HPyDef_METH(Obj_varargs, "varargs", HPyFunc_VARARGS)
    static HPy Obj_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long a, b = 7;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "l|l", &a, &b))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, Obj_AsStruct(ctx, self)->v * 100 + a * 10 + b);
    }
    HPyDef_METH(Obj_keywords, "keywords", HPyFunc_KEYWORDS)
    static HPy Obj_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        static const char *kwlist[] = { "a", "b", NULL };
        long a, b = 7;
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l|l", kwlist, &a, &b))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, Obj_AsStruct(ctx, self)->v * 100 + a * 10 + b);
    }
    HPyDef_SLOT(Obj_new, HPy_tp_new)
    static HPy Obj_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        long v = 0;
        if (!HPyArg_Parse(ctx, NULL, args, (size_t)nargs, "|l", &v))
            return HPy_NULL;
        Obj *o;
        HPy h = HPy_New(ctx, cls, &o);
        if (!HPy_IsNull(h))
            o->v = v;
        return h;
    }
    static HPyDef *Obj_defines[] = { &Obj_new, &Obj_noargs, &Obj_o, &Obj_varargs, &Obj_keywords, NULL };
    static HPyType_Spec Obj_spec = { .name = "mytest.Obj", .basicsize = sizeof(Obj),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Obj_defines, .doc = "an Obj" };
    static HPyType_Spec Final_spec = { .name = "mytest.Final", .basicsize = sizeof(Obj),
        .flags = HPy_TPFLAGS_DEFAULT, .defines = Obj_defines };
    /* an HPy subclass without definitions of its own, and one with a method that overrides */
    HPyDef_METH(Sub2_noargs, "noargs", HPyFunc_NOARGS)
    static HPy Sub2_noargs_impl(HPyContext *ctx, HPy self)
    {
        return HPyLong_FromLong(ctx, -Obj_AsStruct(ctx, self)->v);
    }
    static HPyDef *Sub2_defines[] = { &Sub2_noargs, NULL };
    static HPyType_Spec Sub_spec = { .name = "mytest.Sub", .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE };
    static HPyType_Spec Sub2_spec = { .name = "mytest.Sub2", .flags = HPy_TPFLAGS_DEFAULT, .defines = Sub2_defines };
    static HPyType_Spec Multi_spec = { .name = "mytest.Multi", .flags = HPy_TPFLAGS_DEFAULT };

    static int add_type(HPyContext *ctx, HPy module, const char *name, HPyType_Spec *spec, HPyType_SpecParam *params)
    {
        HPy t = HPyType_FromSpec(ctx, spec, params);
        if (HPy_IsNull(t))
            return -1;
        int r = HPy_SetAttr_s(ctx, module, name, t);
        HPy_Close(ctx, t);
        return r;
    }
    HPyDef_SLOT(add_types, HPy_mod_exec)
    static int add_types_impl(HPyContext *ctx, HPy module)
    {
        if (add_type(ctx, module, "Obj", &Obj_spec, NULL) < 0 || add_type(ctx, module, "Final", &Final_spec, NULL) < 0)
            return -1;
        HPy obj = HPy_GetAttr_s(ctx, module, "Obj");
        HPyType_SpecParam base[] = { { HPyType_SpecParam_Base, obj }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
        int r = add_type(ctx, module, "Sub", &Sub_spec, base);
        if (r == 0)
            r = add_type(ctx, module, "Sub2", &Sub2_spec, base);
        HPy sub = r == 0 ? HPy_GetAttr_s(ctx, module, "Sub") : HPy_NULL;
        if (r == 0 && HPy_IsNull(sub))
            r = -1;
        if (r == 0) {
            /* BasesTuple: (Sub, Exception-free plain object base) -> an MRO through both */
            HPy bases = HPyTuple_Pack(ctx, 1, sub);
            HPyType_SpecParam tuple[] = { { HPyType_SpecParam_BasesTuple, bases },
                                          { (HPyType_SpecParam_Kind)0, HPy_NULL } };
            r = HPy_IsNull(bases) ? -1 : add_type(ctx, module, "Multi", &Multi_spec, tuple);
            HPy_Close(ctx, bases);
        }
        HPy_Close(ctx, sub);
        HPy_Close(ctx, obj);
        return r;
    }

    HPyDef_METH(type_info, "type_info", HPyFunc_VARARGS)
    static HPy type_info_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        /* (obj, type): HPy_Type(obj) is type, HPy_TypeCheck, HPyType_IsSubtype(type(obj), type), name */
        HPy t = HPy_Type(ctx, args[0]);
        int sub = HPyType_IsSubtype(ctx, t, args[1]);
        const char *name = HPyType_GetName(ctx, t);
        HPy r = HPy_BuildValue(ctx, "(iiisi)", HPy_Is(ctx, t, args[1]), HPy_TypeCheck(ctx, args[0], args[1]),
                               sub, name, (int)_HPyType_GetBuiltinShape(ctx, t));
        HPy_Close(ctx, t);
        return r;
    }
    HPyDef_METH(get_name, "get_name", HPyFunc_O)
    static HPy get_name_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        const char *name = HPyType_GetName(ctx, arg);
        return name ? HPyUnicode_FromString(ctx, name) : HPy_NULL;
    }
    HPyDef_METH(is_subtype, "is_subtype", HPyFunc_VARARGS)
    static HPy is_subtype_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        int r = HPyType_IsSubtype(ctx, args[0], args[1]);
        return HPyErr_Occurred(ctx) ? HPy_NULL : HPyLong_FromLong(ctx, r);
    }
    HPyDef_METH(shape, "shape", HPyFunc_O)
    static HPy shape_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        int r = (int)_HPyType_GetBuiltinShape(ctx, arg);
        return HPyErr_Occurred(ctx) ? HPy_NULL : HPyLong_FromLong(ctx, r);
    }
    HPyDef_METH(hpy_new, "hpy_new", HPyFunc_O)
    static HPy hpy_new_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        Obj *o = NULL;
        HPy h = HPy_New(ctx, arg, &o);
        if (!HPy_IsNull(h) && o->v != 0) {
            HPy_Close(ctx, h);
            HPyErr_SetString(ctx, ctx->h_AssertionError, "HPy_New gave a struct that is not zeroed");
            return HPy_NULL;
        }
        return h;
    }
    HPyDef_METH(generic_new, "generic_new", HPyFunc_VARARGS)
    static HPy generic_new_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyType_GenericNew(ctx, args[0], args + 1, (HPy_ssize_t)nargs - 1, HPy_NULL);
    }
    @EXPORT(add_types) @EXPORT(type_info) @EXPORT(get_name) @EXPORT(is_subtype) @EXPORT(shape)
    @EXPORT(hpy_new) @EXPORT(generic_new)
    @INIT
"""

@pytest.fixture
def mod(compiler):
    return shared_module(compiler, METHODS_SOURCE, name="types_meth")


def test_methods_of_every_signature(mod):
    o = mod.Obj(3)
    assert o.noargs() == 3 and mod.Obj.noargs(o) == 3
    assert mod.Obj.noargs.__doc__ == "no arguments"
    assert o.o("x") == (3, "x")
    assert o.varargs(1) == 317 and o.varargs(1, 2) == 312
    assert o.keywords(1) == 317 and o.keywords(b=5, a=1) == 315 and o.keywords(2, b=0) == 320
    with pytest.raises(TypeError):
        o.varargs()
    with pytest.raises(TypeError):
        o.keywords(c=1)
    with pytest.raises(TypeError):
        o.noargs(1)
    with pytest.raises(TypeError):
        mod.Obj.noargs(42)  # a method descriptor checks self's type
    assert mod.Obj.__doc__ == "an Obj"
    assert mod.Obj.__name__ == "Obj" and mod.Obj.__module__ == "mytest"
    assert mod.Obj.__qualname__ == "Obj"


def test_hpy_subclasses(mod):
    s = mod.Sub(4)
    assert isinstance(s, mod.Obj) and type(s) is mod.Sub
    assert s.noargs() == 4 and s.varargs(1) == 417
    s2 = mod.Sub2(4)
    assert s2.noargs() == -4 and s2.o(0) == (4, 0)
    m = mod.Multi(5)
    assert mod.Multi.__mro__ == (mod.Multi, mod.Sub, mod.Obj, object)
    assert m.noargs() == 5
    assert mod.Sub.__base__ is mod.Obj and mod.Multi.__bases__ == (mod.Sub,)


def test_python_subclasses(mod):
    class PySub(mod.Obj):
        def noargs(self):
            return "py " + str(super().noargs())

    p = PySub(6)
    assert p.noargs() == "py 6" and p.o(1) == (6, 1)
    p.extra = 1  # Python subclasses get a __dict__
    assert p.extra == 1

    class PySub2(mod.Sub):
        pass

    assert PySub2(2).varargs(0, 0) == 200


def test_not_a_base_type(mod):
    with pytest.raises(TypeError, match="type 'mytest.Final' is not an acceptable base type"):
        class Bad(mod.Final):
            pass
    assert mod.Final(2).noargs() == 2


def test_type_functions(mod, hpy_abi):
    o, s = mod.Obj(1), mod.Sub(1)
    # HPyType_GetName is the type's __name__: no module part, for heap and static types alike
    assert mod.type_info(o, mod.Obj) == (1, 1, 1, "Obj", 0)
    assert mod.type_info(s, mod.Obj) == (0, 1, 1, "Sub", 0)
    assert mod.type_info(o, mod.Sub) == (0, 0, 0, "Obj", 0)
    assert mod.type_info(1, int) == (1, 1, 1, "int", -1)
    assert mod.type_info(True, int) == (0, 1, 1, "bool", -1)
    assert mod.get_name(mod.Multi) == "Multi" and mod.get_name(dict) == "dict"
    import array
    assert mod.get_name(array.array) == "array"  # tp_name "array.array"
    Renamed = type("Dotted.Name", (), {})
    assert mod.get_name(Renamed) == "Dotted.Name"  # a class's own name, dots included
    mod.Multi.__name__ = "Other"
    try:
        assert mod.get_name(mod.Multi) == "Other"
    finally:
        mod.Multi.__name__ = "Multi"
    assert mod.is_subtype(mod.Multi, mod.Obj) == 1 and mod.is_subtype(mod.Obj, mod.Multi) == 0
    assert mod.is_subtype(bool, object) == 1
    assert mod.shape(mod.Obj) == 0 and mod.shape(float) == -1
    if hpy_abi == "debug":
        return  # a non-type where a type is required is a misuse debug mode reports (tests/e2e/debug)
    with pytest.raises(TypeError, match="HPyType_GetName"):
        mod.get_name(1)
    with pytest.raises(TypeError, match="HPyType_IsSubtype"):
        mod.is_subtype(1, int)
    with pytest.raises(TypeError, match="_HPyType_GetBuiltinShape"):
        mod.shape("str")


def test_hpy_new_and_generic_new(mod, hpy_abi):
    o = mod.hpy_new(mod.Obj)
    assert type(o) is mod.Obj and o.noargs() == 0
    s = mod.hpy_new(mod.Sub)
    assert type(s) is mod.Sub
    with pytest.raises(TypeError, match="HPy_New: type 'dict' was not created by HPyType_FromSpec"):
        mod.hpy_new(dict)
    g = mod.generic_new(mod.Obj, 1, 2)  # the arguments are ignored
    assert type(g) is mod.Obj and g.noargs() == 0
    if hpy_abi == "debug":
        return  # a non-type where a type is required is a misuse debug mode reports (tests/e2e/debug)
    with pytest.raises(TypeError, match="HPy_New: the first argument is not a type"):
        mod.hpy_new(1)
    with pytest.raises(TypeError, match="^HPyType_GenericNew: the first argument is not a type$"):
        mod.generic_new(42)


def test_refcounts_balanced(mod):
    # counts are taken outside `assert`: pytest's assertion rewriting holds its operands in temporaries
    o, t = mod.Obj(1), mod.Obj
    gc.collect()  # subclasses that earlier tests made of this shared type hold it until collected
    before = sys.getrefcount(t), sys.getrefcount(o)
    for _ in range(20):
        mod.type_info(o, t)
        mod.get_name(t)
        mod.is_subtype(t, t)
        mod.shape(t)
        o.o(o)
        mod.hpy_new(t)
        mod.generic_new(t)
    gc.collect()
    after = sys.getrefcount(t), sys.getrefcount(o)
    assert after == before
    objs = [t(i) for i in range(20)]
    with_objs = sys.getrefcount(t)
    del objs
    after = sys.getrefcount(t)
    assert (with_objs, after) == (before[0] + 20, before[0])  # each instance holds its heap type


MEMBERS_SOURCE = r"""
    typedef struct {
        short s; int i; long l; float f; double d; const char *str; HPyField o; char c; signed char b;
        unsigned char ub; unsigned short us; unsigned int ui; unsigned long ul; char inplace[8]; bool bo;
        HPyField oex; long long ll; unsigned long long ull; HPy_ssize_t ss; long ro;
    } M;
    HPyType_HELPERS(M)
    HPyDef_MEMBER(M_s, "s", HPyMember_SHORT, offsetof(M, s))
    HPyDef_MEMBER(M_i, "i", HPyMember_INT, offsetof(M, i))
    HPyDef_MEMBER(M_l, "l", HPyMember_LONG, offsetof(M, l), .doc = "a long")
    HPyDef_MEMBER(M_f, "f", HPyMember_FLOAT, offsetof(M, f))
    HPyDef_MEMBER(M_d, "d", HPyMember_DOUBLE, offsetof(M, d))
    HPyDef_MEMBER(M_str, "str", HPyMember_STRING, offsetof(M, str))
    HPyDef_MEMBER(M_o, "o", HPyMember_OBJECT, offsetof(M, o))
    HPyDef_MEMBER(M_c, "c", HPyMember_CHAR, offsetof(M, c))
    HPyDef_MEMBER(M_b, "b", HPyMember_BYTE, offsetof(M, b))
    HPyDef_MEMBER(M_ub, "ub", HPyMember_UBYTE, offsetof(M, ub))
    HPyDef_MEMBER(M_us, "us", HPyMember_USHORT, offsetof(M, us))
    HPyDef_MEMBER(M_ui, "ui", HPyMember_UINT, offsetof(M, ui))
    HPyDef_MEMBER(M_ul, "ul", HPyMember_ULONG, offsetof(M, ul))
    HPyDef_MEMBER(M_inplace, "inplace", HPyMember_STRING_INPLACE, offsetof(M, inplace))
    HPyDef_MEMBER(M_bo, "bo", HPyMember_BOOL, offsetof(M, bo))
    HPyDef_MEMBER(M_oex, "oex", HPyMember_OBJECT_EX, offsetof(M, oex))
    HPyDef_MEMBER(M_ll, "ll", HPyMember_LONGLONG, offsetof(M, ll))
    HPyDef_MEMBER(M_ull, "ull", HPyMember_ULONGLONG, offsetof(M, ull))
    HPyDef_MEMBER(M_ss, "ss", HPyMember_HPYSSIZET, offsetof(M, ss))
    HPyDef_MEMBER(M_none, "none", HPyMember_NONE, 0)
    HPyDef_MEMBER(M_ro, "ro", HPyMember_LONG, offsetof(M, ro), .readonly = 1)

    HPyDef_SLOT(M_new, HPy_tp_new)
    static HPy M_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        M *m;
        HPy h = HPy_New(ctx, cls, &m);
        if (HPy_IsNull(h))
            return HPy_NULL;
        m->str = "a C string";
        memcpy(m->inplace, "inplace", 8);
        m->ro = 99;
        return h;
    }
    HPyDef_SLOT(M_traverse, HPy_tp_traverse)
    static int M_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
    {
        M *m = (M *)object;
        HPy_VISIT(&m->o);
        HPy_VISIT(&m->oex);
        return 0;
    }
    HPyDef_METH(M_load_o, "load_o", HPyFunc_NOARGS)
    static HPy M_load_o_impl(HPyContext *ctx, HPy self)
    {
        M *m = M_AsStruct(ctx, self);
        if (HPyField_IsNull(m->o))
            return HPyUnicode_FromString(ctx, "<null>");
        return HPyField_Load(ctx, self, m->o);
    }
    HPyDef_METH(M_raw, "raw", HPyFunc_NOARGS)
    static HPy M_raw_impl(HPyContext *ctx, HPy self)
    {
        M *m = M_AsStruct(ctx, self);
        return HPy_BuildValue(ctx, "(iiiI)", (int)m->s, (int)m->b, (int)m->ub, m->ui);
    }
    static HPyDef *M_defines[] = { &M_new, &M_traverse, &M_load_o, &M_raw, &M_s, &M_i, &M_l, &M_f, &M_d,
        &M_str, &M_o, &M_c, &M_b, &M_ub, &M_us, &M_ui, &M_ul, &M_inplace, &M_bo, &M_oex, &M_ll, &M_ull, &M_ss,
        &M_none, &M_ro, NULL };
    static HPyType_Spec M_spec = { .name = "mytest.M", .basicsize = sizeof(M),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC | HPy_TPFLAGS_BASETYPE, .defines = M_defines };
    @EXPORT_TYPE("M", M_spec)
    @INIT
"""


def test_members_of_every_field_type(compiler):
    mod = shared_module(compiler, "#include <string.h>\n" + MEMBERS_SOURCE)
    m = mod.M()
    assert gc.is_tracked(m)  # HPy_TPFLAGS_HAVE_GC
    for name, value in [("s", -3), ("i", -70000), ("l", -2**40), ("b", -5), ("ub", 250), ("us", 65000),
                        ("ui", 2**32 - 1), ("ul", 2**64 - 1), ("ll", -2**62), ("ull", 2**64 - 1),
                        ("ss", -2**62)]:
        assert getattr(m, name) == 0, name
        setattr(m, name, value)
        assert getattr(m, name) == value, name
    assert mod.M.l.__doc__ == "a long"
    m.f = 1.5
    m.d = 2.25
    assert (m.f, m.d) == (1.5, 2.25)
    m.f = 3  # ints are accepted for floats
    assert m.f == 3.0
    assert m.str == "a C string" and m.inplace == "inplace"
    assert m.none is None
    assert m.c == "\x00"
    m.c = "z"
    assert m.c == "z"
    assert m.bo is False
    m.bo = True
    assert m.bo is True
    assert m.ro == 99
    assert m.raw() == (-3, -5, 250, 2**32 - 1)


def test_object_members_hold_fields(compiler):
    mod = shared_module(compiler, "#include <string.h>\n" + MEMBERS_SOURCE)
    m = mod.M()
    assert m.o is None and m.load_o() == "<null>"  # OBJECT reads NULL as None
    with pytest.raises(AttributeError):
        m.oex  # OBJECT_EX raises for NULL
    value = object()
    before = sys.getrefcount(value)
    m.o = value
    m.oex = value
    assert m.o is value and m.oex is value and m.load_o() is value
    assert sys.getrefcount(value) == before + 2
    assert value in gc.get_referents(m)  # through tp_traverse
    del m.oex
    with pytest.raises(AttributeError):
        m.oex
    del m.o
    assert m.o is None
    assert sys.getrefcount(value) == before
    m.o = value
    del m  # the fields are released at deallocation
    gc.collect()
    assert sys.getrefcount(value) == before


def test_member_errors(compiler):
    mod = shared_module(compiler, "#include <string.h>\n" + MEMBERS_SOURCE)
    m = mod.M()
    for name in ("ro", "str", "inplace"):
        with pytest.raises((AttributeError, TypeError)):
            setattr(m, name, 1)
    with pytest.raises(AttributeError, match="readonly attribute"):
        m.ro = 1
    # HPyMember_NONE reads as None and has no storage: a write is refused (CPython's SystemError for a
    # member type it cannot set), a deletion too
    assert m.none is None
    with pytest.raises((SystemError, TypeError)):
        m.none = None
    with pytest.raises(TypeError):
        del m.none
    with pytest.raises(TypeError):
        m.l = "x"
    with pytest.raises(OverflowError):
        m.l = 2**70
    with pytest.raises(OverflowError):
        m.ll = 2**70
    with pytest.raises(OverflowError):
        m.ull = -1
    with pytest.raises(OverflowError):
        m.ss = 2**70
    with pytest.raises(TypeError):
        m.bo = 1  # only bool
    with pytest.raises(TypeError):
        m.c = "ab"
    with pytest.raises(TypeError, match="can't delete numeric/char attribute"):
        del m.l
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="Truncation of value to short"):
            m.s = 2**20
        with pytest.raises(RuntimeWarning, match="Truncation of value to char"):
            m.b = 300


GETSET_SOURCE = r"""
    typedef struct { long a; long b; long set_calls; } G;
    HPyType_HELPERS(G)
    HPyDef_GETSET(G_a, "a", .closure = (void *)"A", .doc = "a with closure A")
    static HPy G_a_get(HPyContext *ctx, HPy self, void *closure)
    {
        return HPy_BuildValue(ctx, "(sl)", (const char *)closure, G_AsStruct(ctx, self)->a);
    }
    static int G_a_set(HPyContext *ctx, HPy self, HPy value, void *closure)
    {
        if (HPy_IsNull(value)) {
            HPyErr_Format(ctx, ctx->h_AttributeError, "cannot delete %s", (const char *)closure);
            return -1;
        }
        long v = HPyLong_AsLong(ctx, value);
        if (v == -1 && HPyErr_Occurred(ctx))
            return -1;
        G_AsStruct(ctx, self)->a = v;
        G_AsStruct(ctx, self)->set_calls++;
        return 0;
    }
    /* one getter/setter pair for two attributes, told apart by their closures */
    HPyDef_GETSET(G_b, "b", .closure = (void *)"B")
    static HPy G_b_get(HPyContext *ctx, HPy self, void *closure)
    {
        return HPy_BuildValue(ctx, "(sl)", (const char *)closure, G_AsStruct(ctx, self)->b);
    }
    static int G_b_set(HPyContext *ctx, HPy self, HPy value, void *closure)
    {
        G_AsStruct(ctx, self)->b = HPy_IsNull(value) ? -1 : HPyLong_AsLong(ctx, value);
        return HPyErr_Occurred(ctx) ? -1 : 0;
    }
    HPyDef_GET(G_ronly, "ronly", .doc = "read only")
    static HPy G_ronly_get(HPyContext *ctx, HPy self, void *closure)
    {
        return HPyLong_FromLong(ctx, G_AsStruct(ctx, self)->set_calls);
    }
    HPyDef_SET(G_wonly, "wonly")
    static int G_wonly_set(HPyContext *ctx, HPy self, HPy value, void *closure)
    {
        if (closure != NULL) {
            HPyErr_SetString(ctx, ctx->h_SystemError, "closure should be NULL");
            return -1;
        }
        G_AsStruct(ctx, self)->a = 1000;
        return 0;
    }
    static HPyDef *G_defines[] = { &G_a, &G_b, &G_ronly, &G_wonly, NULL };
    static HPyType_Spec G_spec = { .name = "mytest.G", .basicsize = sizeof(G), .flags = HPy_TPFLAGS_DEFAULT,
        .defines = G_defines };
    HPyDef_METH(G_make, "make", HPyFunc_NOARGS)
    static HPy G_make_impl(HPyContext *ctx, HPy self)
    {
        HPy t = HPy_GetAttr_s(ctx, self, "G");
        if (HPy_IsNull(t))
            return HPy_NULL;
        G *g;
        HPy h = HPy_New(ctx, t, &g);
        HPy_Close(ctx, t);
        return h;
    }
    @EXPORT(G_make)
    @EXPORT_TYPE("G", G_spec)
    @INIT
"""


def test_getsets(compiler):
    mod = compiler.make_module(GETSET_SOURCE)
    g = mod.make()
    assert g.a == ("A", 0) and g.b == ("B", 0)
    g.a = 5
    g.b = 6
    assert g.a == ("A", 5) and g.b == ("B", 6) and g.ronly == 1
    assert mod.G.a.__doc__ == "a with closure A" and mod.G.ronly.__doc__ == "read only"
    with pytest.raises(AttributeError, match="^cannot delete A$"):
        del g.a
    del g.b
    assert g.b == ("B", -1)
    with pytest.raises(TypeError):
        g.a = "x"
    with pytest.raises(AttributeError):
        g.ronly = 1
    g.wonly = None
    assert g.a == ("A", 1000)
    with pytest.raises(AttributeError):
        g.wonly


SHAPES_SOURCE = r"""
    typedef struct { long tag; } Data;
    HPyType_HELPERS(Data)                         /* Object */
    typedef struct { long tag; } MetaData;
    HPyType_HELPERS(MetaData, HPyType_BuiltinShape_Type)
    typedef struct { long tag; } FloatData;
    HPyType_HELPERS(FloatData, HPyType_BuiltinShape_Float)
    typedef struct { long tag; } ListData;
    HPyType_HELPERS(ListData, HPyType_BuiltinShape_List)

    #define TAG_METHODS(T)                                                       \
    HPyDef_METH(T##_set, "set_tag", HPyFunc_O)                                   \
    static HPy T##_set_impl(HPyContext *ctx, HPy self, HPy arg)                  \
    {                                                                            \
        T##_AsStruct(ctx, self)->tag = HPyLong_AsLong(ctx, arg);                 \
        return HPyErr_Occurred(ctx) ? HPy_NULL : HPy_Dup(ctx, ctx->h_None);      \
    }                                                                            \
    HPyDef_METH(T##_get, "get_tag", HPyFunc_NOARGS)                              \
    static HPy T##_get_impl(HPyContext *ctx, HPy self)                           \
    {                                                                            \
        return HPyLong_FromLong(ctx, T##_AsStruct(ctx, self)->tag);              \
    }                                                                            \
    static HPyDef *T##_defines[] = { &T##_set, &T##_get, NULL };
    TAG_METHODS(Data)
    TAG_METHODS(MetaData)
    TAG_METHODS(FloatData)
    TAG_METHODS(ListData)
    static HPyType_Spec Data_spec = { .name = "mytest.Data", .basicsize = sizeof(Data),
        .flags = HPy_TPFLAGS_DEFAULT, .builtin_shape = HPyType_BuiltinShape_Object, .defines = Data_defines };
    static HPyType_Spec MetaData_spec = { .name = "mytest.MetaData", .basicsize = sizeof(MetaData),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .builtin_shape = HPyType_BuiltinShape_Type,
        .defines = MetaData_defines };
    static HPyType_Spec FloatData_spec = { .name = "mytest.FloatData", .basicsize = sizeof(FloatData),
        .flags = HPy_TPFLAGS_DEFAULT, .builtin_shape = HPyType_BuiltinShape_Float, .defines = FloatData_defines };
    static HPyType_Spec ListData_spec = { .name = "mytest.ListData", .basicsize = sizeof(ListData),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .builtin_shape = HPyType_BuiltinShape_List,
        .defines = ListData_defines };

    /* the _HPy_AsStruct_* functions called directly, each on an object of its own shape */
    HPyDef_METH(as_struct, "as_struct", HPyFunc_VARARGS)
    static HPy as_struct_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long shape = HPyLong_AsLong(ctx, args[1]);
        void *p;
        switch (shape) {
        case HPyType_BuiltinShape_Object: p = _HPy_AsStruct_Object(ctx, args[0]); break;
        case HPyType_BuiltinShape_Type: p = _HPy_AsStruct_Type(ctx, args[0]); break;
        case HPyType_BuiltinShape_Float: p = _HPy_AsStruct_Float(ctx, args[0]); break;
        case HPyType_BuiltinShape_List: p = _HPy_AsStruct_List(ctx, args[0]); break;
        default:
            HPyErr_SetString(ctx, ctx->h_ValueError, "shape");
            return HPy_NULL;
        }
        return HPyLong_FromLong(ctx, ((Data *)p)->tag);
    }
    HPyDef_METH(shape, "shape", HPyFunc_O)
    static HPy shape_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyLong_FromLong(ctx, (int)_HPyType_GetBuiltinShape(ctx, arg));
    }
    /* a Type-shaped spec names its base `type` itself, as in HPy 0.9 */
    HPyDef_SLOT(add_meta, HPy_mod_exec)
    static int add_meta_impl(HPyContext *ctx, HPy module)
    {
        HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, ctx->h_TypeType }, { (HPyType_SpecParam_Kind)0 } };
        return HPyHelpers_AddType(ctx, module, "MetaData", &MetaData_spec, params) ? 0 : -1;
    }
    @EXPORT(as_struct) @EXPORT(shape) @EXPORT(add_meta)
    @EXPORT_TYPE("Data", Data_spec)
    @EXPORT_TYPE("FloatData", FloatData_spec)
    @EXPORT_TYPE("ListData", ListData_spec)
    @INIT
"""


def test_type_shape_without_base_is_an_object(compiler):
    # No base implied by the Type shape (HPy 0.9): the instances are plain objects carrying the struct.
    mod = compiler.make_module("""
        typedef struct { long value; } Dummy;
        HPyType_HELPERS(Dummy, HPyType_BuiltinShape_Type)
        HPyDef_METH(get, "get", HPyFunc_O)
        static HPy get_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyLong_FromLong(ctx, Dummy_AsStruct(ctx, arg)->value);
        }
        static HPyType_Spec Dummy_spec = { .name = "mytest.Dummy", .basicsize = sizeof(Dummy),
            .builtin_shape = SHAPE(Dummy) };
        @EXPORT(get)
        @EXPORT_TYPE("Dummy", Dummy_spec)
        @INIT
    """)
    d = mod.Dummy()
    assert type(d).__mro__ == (mod.Dummy, object) and mod.get(d) == 0
    del d


def test_builtin_shapes(compiler):
    mod = compiler.make_module(SHAPES_SOURCE)
    assert [mod.shape(t) for t in (mod.Data, mod.MetaData, mod.FloatData, mod.ListData)] == [0, 1, 3, 6]
    d = mod.Data()
    d.set_tag(11)
    assert d.get_tag() == 11 and mod.as_struct(d, 0) == 11

    # a metaclass: its instances are classes whose HPy struct follows the heap type
    X = mod.MetaData("X", (), {"attr": 1})
    assert isinstance(X, type) and X.attr == 1 and X().__class__ is X
    X.set_tag(22)
    assert X.get_tag() == 22 and mod.as_struct(X, 1) == 22

    class Y(metaclass=mod.MetaData):
        pass

    assert Y.get_tag() == 0
    Y.set_tag(5)
    assert Y.get_tag() == 5 and X.get_tag() == 22

    f = mod.FloatData(2.5)
    f.set_tag(33)
    assert f == 2.5 and f + 1 == 3.5 and f.get_tag() == 33 and mod.as_struct(f, 3) == 33
    lst = mod.ListData(range(3))
    lst.set_tag(44)
    lst.extend(range(1000))
    assert len(lst) == 1003 and lst.get_tag() == 44 and mod.as_struct(lst, 6) == 44

    class PyList(mod.ListData):
        pass

    pl = PyList([1])
    pl.set_tag(55)
    pl.extra = "x"
    assert pl.get_tag() == 55 and pl == [1] and mod.shape(PyList) == 6


LEGACY_SOURCE = r"""
    #include <Python.h>
    typedef struct { PyObject_HEAD long tag; } LegacyObject;
    HPyType_LEGACY_HELPERS(LegacyObject)
    static PyObject *legacy_get(PyObject *self, PyObject *unused)
    {
        return PyLong_FromLong(((LegacyObject *)self)->tag);
    }
    static PyMethodDef legacy_methods[] = { { "legacy_get", legacy_get, METH_NOARGS, NULL }, { NULL } };
    static PyType_Slot legacy_slots[] = { { Py_tp_methods, legacy_methods }, { 0, NULL } };
    HPyDef_METH(L_set, "set_tag", HPyFunc_O)
    static HPy L_set_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        LegacyObject_AsStruct(ctx, self)->tag = HPyLong_AsLong(ctx, arg);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(L_get, "get_tag", HPyFunc_NOARGS)
    static HPy L_get_impl(HPyContext *ctx, HPy self)
    {
        return HPyLong_FromLong(ctx, ((LegacyObject *)_HPy_AsStruct_Legacy(ctx, self))->tag);
    }
    static HPyDef *L_defines[] = { &L_set, &L_get, NULL };
    static HPyType_Spec L_spec = { .name = "mytest.Legacy", .basicsize = sizeof(LegacyObject),
        .flags = HPy_TPFLAGS_DEFAULT, .builtin_shape = HPyType_BuiltinShape_Legacy,
        .legacy_slots = legacy_slots, .defines = L_defines };
    HPyDef_METH(shape, "shape", HPyFunc_O)
    static HPy shape_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return HPyLong_FromLong(ctx, (int)_HPyType_GetBuiltinShape(ctx, arg));
    }
    @EXPORT(shape)
    @EXPORT_TYPE("Legacy", L_spec)
    @INIT
"""


@pytest.mark.abis("cpython", "hybrid")
def test_legacy_shape(compiler):
    mod = compiler.make_module(LEGACY_SOURCE)
    obj = mod.Legacy()
    obj.set_tag(77)
    assert obj.get_tag() == 77 and obj.legacy_get() == 77
    assert mod.shape(mod.Legacy) == -1


@pytest.mark.parametrize("shape", ["Long", "Unicode", "Tuple"])
def test_variable_size_shapes(compiler, shape):
    """int, str and tuple subclasses, with and without a struct: _HPy_AsStruct_* on an object without a
    struct is an error, not a pointer; with one, each object has its own, whatever its value's size."""
    base = {"Long": int, "Unicode": str, "Tuple": tuple}[shape]
    mod = compiler.make_module(r"""
        typedef struct { long tag; } D;
        HPyType_HELPERS(D, HPyType_BuiltinShape_%(shape)s)
        HPyDef_METH(D_set, "set_tag", HPyFunc_O)
        static HPy D_set_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            D *d = D_AsStruct(ctx, self);
            if (d == NULL)
                return HPy_NULL;
            d->tag = HPyLong_AsLong(ctx, arg);
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(D_get, "get_tag", HPyFunc_NOARGS)
        static HPy D_get_impl(HPyContext *ctx, HPy self)
        {
            D *d = (D *)_HPy_AsStruct_%(shape)s(ctx, self);
            return d == NULL ? HPy_NULL : HPyLong_FromLong(ctx, d->tag);
        }
        HPyDef_METH(D_shape, "shape", HPyFunc_NOARGS)
        static HPy D_shape_impl(HPyContext *ctx, HPy self)
        {
            HPy t = HPy_Type(ctx, self);
            HPy r = HPyLong_FromLong(ctx, (long)_HPyType_GetBuiltinShape(ctx, t));
            HPy_Close(ctx, t);
            return r;
        }
        static HPyDef *D_defines[] = { &D_set, &D_get, &D_shape, NULL };
        static HPyType_Spec spec = { .name = "mytest.D", .basicsize = sizeof(D), .flags = HPy_TPFLAGS_DEFAULT,
            .builtin_shape = HPyType_BuiltinShape_%(shape)s, .defines = D_defines };
        static HPyType_Spec spec0 = { .name = "mytest.D0", .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
            .builtin_shape = HPyType_BuiltinShape_%(shape)s, .defines = D_defines };
        HPyDef_METH(make0, "make0", HPyFunc_NOARGS)
        static HPy make0_impl(HPyContext *ctx, HPy self)
        {
            return HPyType_FromSpec(ctx, &spec0, NULL);
        }
        @EXPORT(make0)
    """ % {"shape": shape} + MAKE_TYPE)
    value = {int: 2**100 + 3, str: "some text" * 10, tuple: (1, 2, 3)}[base]
    expected_shape = {"Long": 2, "Unicode": 4, "Tuple": 5}[shape]

    t0 = mod.make0()
    assert issubclass(t0, base) and t0.__name__ == "D0"
    obj = t0(value)
    assert obj == value and isinstance(obj, base) and obj.shape() == expected_shape
    with pytest.raises(SystemError, match="_HPy_AsStruct_%s: an object of type 'mytest.D0' carries no C struct" % shape):
        obj.get_tag()

    class PySub(t0):
        pass

    assert PySub(value) == value and PySub(value).shape() == expected_shape

    t = mod.make()
    obj = t(value)
    obj.set_tag(123)
    assert obj == value and obj.get_tag() == 123
    small = t(value[:1] if base is not int else 1)
    small.set_tag(-5)
    assert obj.get_tag() == 123 and small.get_tag() == -5


def test_spec_param_base_and_bases_tuple_errors(compiler, hpy_abi):
    mod = compiler.make_module(r"""
        static HPyType_Spec spec = { .name = "mytest.P", .flags = HPy_TPFLAGS_DEFAULT };
        HPyDef_METH(make, "make", HPyFunc_VARARGS)
        static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            /* make(kind, object[, kind, object[, kind, object]]) */
            HPyType_SpecParam params[4] = { { 0 } };
            for (size_t i = 0; i + 1 < nargs && i < 6; i += 2) {
                params[i / 2].kind = (HPyType_SpecParam_Kind)HPyLong_AsLong(ctx, args[i]);
                params[i / 2].object = args[i + 1];
            }
            return HPyType_FromSpec(ctx, &spec, params);
        }
        @EXPORT(make)
        @INIT
    """)
    Base = type("Base", (), {"x": 1})
    Other = type("Other", (), {"y": 2})
    t = mod.make(1, Base)
    assert t.__bases__ == (Base,) and t().x == 1
    t = mod.make(2, (Base, Other))
    assert t.__bases__ == (Base, Other) and (t().x, t().y) == (1, 2)
    assert mod.make().__bases__ == (object,)
    with pytest.raises(TypeError, match="^HPyType_FromSpec: type 'mytest.P': HPyType_SpecParam_Base is not a type$"):
        mod.make(1, 42)
    with pytest.raises(TypeError, match="^HPyType_FromSpec: type 'mytest.P': HPyType_SpecParam_BasesTuple is not a tuple$"):
        mod.make(2, [Base])
    with pytest.raises(TypeError, match="HPyType_SpecParam_Metaclass is not a subclass of type$"):
        mod.make(3, 42)
    with pytest.raises(SystemError, match="^HPyType_FromSpec: type 'mytest.P': unknown HPyType_SpecParam kind 7$"):
        mod.make(7, Base)
    # each HPyType_SpecParam_Base adds a base, in order
    t = mod.make(1, Base, 1, Other)
    assert t.__bases__ == (Base, Other) and (t().x, t().y) == (1, 2)
    Third = type("Third", (), {})
    t = mod.make(1, Other, 1, Base, 1, Third)
    assert t.__bases__ == (Other, Base, Third)
    with pytest.raises(TypeError, match="^HPyType_FromSpec: type 'mytest.P': HPyType_SpecParam_Base and "
                                        "HPyType_SpecParam_BasesTuple cannot be used together$"):
        mod.make(1, Base, 2, (Other,))
    with pytest.raises(TypeError, match="HPyType_SpecParam_BasesTuple is given more than once$"):
        mod.make(2, (Base,), 2, (Other,))
    del t
    gc.collect()  # the subclasses made above are cycles (type <-> mro): gone before counting
    before = sys.getrefcount(Base)
    for _ in range(5):
        with pytest.raises(TypeError):
            mod.make(1, Base, 2, 5)  # the tuple check fails after Base was taken
        with pytest.raises(TypeError):
            mod.make(1, Base, 2, (Base,))  # both forms: refused after both were taken
    gc.collect()
    after = sys.getrefcount(Base)
    assert after == before


@pytest.mark.parametrize("destroy", [False, True], ids=["plain", "destroy"])
def test_python_base_parts_are_released(compiler, hpy_abi, destroy):
    # A type (without a struct of its own) whose base is a Python class: the instance's dict, its
    # weak references and the base's __slots__ belong to the Python part and are released with
    # the object.
    mod = compiler.make_module(r"""
        static long destroyed;
        HPyDef_SLOT(p_destroy, HPy_tp_destroy)
        static void p_destroy_impl(void *obj) { destroyed++; }
        HPyDef_METH(destroyed_count, "destroyed_count", HPyFunc_NOARGS)
        static HPy destroyed_count_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, destroyed); }
        static HPyDef *with_destroy[] = { &p_destroy, NULL };
        HPyDef_METH(make, "make", HPyFunc_VARARGS)
        static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            /* make(base, destroy) */
            HPyType_Spec spec = { .name = "mytest.P",
                                  .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE };
            if (HPy_IsTrue(ctx, args[1]))
                spec.defines = with_destroy;
            HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, args[0] }, { 0 } };
            return HPyType_FromSpec(ctx, &spec, params);
        }
        @EXPORT(make)
        @EXPORT(destroyed_count)
        @INIT
    """)
    class Value:
        freed = 0
        def __del__(self):
            Value.freed += 1

    class WithDict:
        pass

    class WithSlots:
        __slots__ = ("a", "__weakref__")

    for base in (WithDict, WithSlots):
        t = mod.make(base, destroy)
        gc.collect()
        Value.freed = 0
        before = mod.destroyed_count()
        callbacks = []
        obj = t()
        if base is WithDict:
            obj.x, obj.y = Value(), Value()
        else:
            obj.a = Value()
        ref = weakref.ref(obj, callbacks.append)
        del obj
        gc.collect()
        assert ref() is None and callbacks == [ref], base
        assert Value.freed == (2 if base is WithDict else 1), base
        assert mod.destroyed_count() - before == (1 if destroy else 0)

        class PySub(t):  # a Python subclass: its dealloc runs first, then the HPy type's
            pass

        Value.freed = 0
        obj = PySub()
        obj.z = Value()
        if base is WithDict:
            obj.x = Value()
        else:
            obj.a = Value()
        ref = weakref.ref(obj)
        del obj
        gc.collect()
        assert ref() is None and Value.freed == 2, base


def test_spec_param_metaclass(compiler):
    mod = compiler.make_module(r"""
        static HPyType_Spec spec = { .name = "mytest.WithMeta", .flags = HPy_TPFLAGS_DEFAULT };
        HPyDef_METH(make, "make", HPyFunc_O)
        static HPy make_impl(HPyContext *ctx, HPy self, HPy meta)
        {
            HPyType_SpecParam params[] = { { HPyType_SpecParam_Metaclass, meta }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
            return HPyType_FromSpec(ctx, &spec, params);
        }
        @EXPORT(make)
        @INIT
    """)

    class Meta(type):
        def hello(cls):
            return "hello from " + cls.__name__

    t = mod.make(Meta)  # before CPython 3.12 the host builds it in two steps (test_metaclass.py)
    assert type(t) is Meta and t.hello() == "hello from WithMeta"
    assert isinstance(t(), t)
    with pytest.raises(TypeError, match="HPyType_SpecParam_Metaclass is not a subclass of type$"):
        mod.make(int)


BAD_SPECS = {
    "empty name": (r"""static HPyType_Spec spec = { .name = "", .flags = HPy_TPFLAGS_DEFAULT };""",
                   SystemError, "type '': the spec has an empty name"),
    "null name": (r"""static HPyType_Spec spec = { .name = NULL, .flags = HPy_TPFLAGS_DEFAULT };""",
                  SystemError, "type '<unnamed>': the spec has an empty name"),
    "negative basicsize": (r"""static HPyType_Spec spec = { .name = "mytest.Bad", .basicsize = -8 };""",
                           SystemError, "type 'mytest.Bad': basicsize and itemsize must not be negative"),
    "negative itemsize": (r"""static HPyType_Spec spec = { .name = "mytest.Bad", .itemsize = -1 };""",
                          SystemError, "type 'mytest.Bad': basicsize and itemsize must not be negative"),
    "member offset": (r"""
        HPyDef_MEMBER(far, "far", HPyMember_LONG, 64)
        static HPyDef *defines[] = { &far, NULL };
        static HPyType_Spec spec = { .name = "mytest.Bad", .basicsize = 16, .defines = defines };""",
                      SystemError, "type 'mytest.Bad': member 'far' has an offset outside the struct"),
    "negative member offset": (r"""
        HPyDef_MEMBER(neg, "neg", HPyMember_LONG, -8)
        static HPyDef *defines[] = { &neg, NULL };
        static HPyType_Spec spec = { .name = "mytest.Bad", .basicsize = 16, .defines = defines };""",
                               SystemError, "type 'mytest.Bad': member 'neg' has an offset outside the struct"),
    "getset without functions": (r"""
        static HPyDef gs = { .kind = HPyDef_Kind_GetSet, .getset = { .name = "nothing" } };
        static HPyDef *defines[] = { &gs, NULL };
        static HPyType_Spec spec = { .name = "mytest.Bad", .defines = defines };""",
                                 SystemError, "type 'mytest.Bad': getset 'nothing' has neither a getter nor a setter"),
    "method signature": (r"""
        static HPy f(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, self); }
        static HPyDef m = { .kind = HPyDef_Kind_Meth, .meth = { .name = "m", .impl = (HPyCFunction)f,
            .cpy_trampoline = (cpy_PyCFunction)(void (*)(void))f, .signature = HPyFunc_UNARYFUNC } };
        static HPyDef *defines[] = { &m, NULL };
        static HPyType_Spec spec = { .name = "mytest.Bad", .defines = defines };""",
                         SystemError, "type 'mytest.Bad': method 'm' has an unsupported signature 8"),
    "unknown shape": (r"""static HPyType_Spec spec = { .name = "mytest.Bad",
                           .builtin_shape = (HPyType_BuiltinShape)42 };""",
                      ValueError, "type 'mytest.Bad': invalid builtin shape 42"),
}


# the names the declarations of BAD_SPECS use, renamed per case so that all cases fit one module
_BAD_SPEC_NAMES = ["spec", "defines", "far", "neg", "legacy_slots", "gs", "m", "f"]


def _bad_specs_source(cases):
    parts = []
    for i, case in enumerate(cases):
        decl = BAD_SPECS[case][0]
        for n in _BAD_SPEC_NAMES:  # identifiers only: not field designators (.name) nor strings ("name")
            decl = re.sub(r'(?<![.\w"])%s\b(?!")' % n, "%s_%d" % (n, i), decl)
        parts.append(decl)
    switch = "\n".join("case %d: return HPyType_FromSpec(ctx, &spec_%d, NULL);" % (i, i) for i in range(len(cases)))
    return "\n".join(parts) + r"""
        HPyDef_METH(make, "make", HPyFunc_O)
        static HPy make_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            switch (HPyLong_AsLong(ctx, arg)) {
            %s
            }
            return HPy_NULL;
        }
        @EXPORT(make)
        @INIT
    """ % switch


def test_bad_specs(compiler):
    cases = sorted(BAD_SPECS)
    mod = compiler.make_module(_bad_specs_source(cases))
    for i, case in enumerate(cases):
        _, exc, message = BAD_SPECS[case]
        with pytest.raises(exc) as info:
            mod.make(i)
        assert str(info.value).startswith("HPyType_FromSpec: " + message), (case, str(info.value))


def test_unknown_member_type(compiler):
    mod = compiler.make_module(r"""
        typedef struct { long x; } S;
        HPyDef_MEMBER(odd, "odd", (HPyMember_FieldType)15, 0)
        static HPyDef *defines[] = { &odd, NULL };
        static HPyType_Spec spec = { .name = "mytest.Bad", .basicsize = sizeof(S), .defines = defines };
    """ + MAKE_TYPE)
    with pytest.raises(SystemError, match="^HPyType_FromSpec: type 'mytest.Bad': member 'odd' has an unknown type 15$"):
        mod.make()


def test_member_past_the_end(compiler):
    """A member whose value would end past basicsize is refused, not only one that starts past it."""
    mod = compiler.make_module(r"""
        HPyDef_MEMBER(tail, "tail", HPyMember_LONGLONG, 12)
        static HPyDef *defines[] = { &tail, NULL };
        static HPyType_Spec spec = { .name = "mytest.Bad", .basicsize = 16, .defines = defines };
    """ + MAKE_TYPE)
    with pytest.raises(SystemError, match="^HPyType_FromSpec: type 'mytest.Bad': member 'tail' has an offset outside"):
        mod.make()


def test_gc_flag_without_traverse(compiler):
    """HPy_TPFLAGS_HAVE_GC needs HPy_tp_traverse: refused (ValueError, as HPy 0.9) naming the type."""
    mod = compiler.make_module(r"""
        typedef struct { long x; } S;
        static HPyType_Spec spec = { .name = "mytest.NoTraverse", .basicsize = sizeof(S),
            .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC };
    """ + MAKE_TYPE)
    with pytest.raises(ValueError, match="^HPyType_FromSpec: type 'mytest.NoTraverse': HPy_TPFLAGS_HAVE_GC needs an "
                                         "HPy_tp_traverse slot$"):
        mod.make()
