"""tests/e2e/test_slots.py: every type slot of HPy 0.9 but tp_call, driven through Python's operators and HPy's API.

Each slot of the recording types returns (or logs) a tuple naming the slot and its arguments, so a test
sees which slot ran and with what. Slot numbers come from include/hpy/hpyfunc_gen.h.
"""
import gc
import operator
import sys

import pytest
from modcache import shared_module

BINARY = ["add", "subtract", "multiply", "matrix_multiply", "floor_divide", "true_divide", "remainder",
          "divmod", "lshift", "rshift", "and", "xor", "or"]
INPLACE = ["inplace_" + n for n in BINARY if n != "divmod"]
UNARY = ["negative", "positive", "absolute", "invert"]
PY_BINARY = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
             "matrix_multiply": operator.matmul, "floor_divide": operator.floordiv,
             "true_divide": operator.truediv, "remainder": operator.mod, "divmod": divmod,
             "lshift": operator.lshift, "rshift": operator.rshift, "and": operator.and_,
             "xor": operator.xor, "or": operator.or_}
PY_INPLACE = {"inplace_add": operator.iadd, "inplace_subtract": operator.isub,
              "inplace_multiply": operator.imul, "inplace_matrix_multiply": operator.imatmul,
              "inplace_floor_divide": operator.ifloordiv, "inplace_true_divide": operator.itruediv,
              "inplace_remainder": operator.imod, "inplace_lshift": operator.ilshift,
              "inplace_rshift": operator.irshift, "inplace_and": operator.iand, "inplace_xor": operator.ixor,
              "inplace_or": operator.ior}
PY_UNARY = {"negative": operator.neg, "positive": operator.pos, "absolute": abs, "invert": operator.invert}


def _number_source():
    """Num: a long `v` and every nb_* slot; Seq: every sq_* slot; Map: every mp_* slot."""
    parts = [r"""
        typedef struct { long v; } Num;
        HPyType_HELPERS(Num)
        static HPy rec2(HPyContext *ctx, const char *slot, HPy a, HPy b)
        {
            return HPy_BuildValue(ctx, "(sOO)", slot, a, b);
        }
        HPyDef_SLOT(Num_new, HPy_tp_new)
        static HPy Num_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
        {
            long v = 0;
            if (!HPyArg_Parse(ctx, NULL, args, (size_t)nargs, "|l", &v))
                return HPy_NULL;
            Num *n;
            HPy h = HPy_New(ctx, cls, &n);
            if (!HPy_IsNull(h))
                n->v = v;
            return h;
        }
        HPyDef_SLOT(Num_power, HPy_nb_power)
        static HPy Num_power_impl(HPyContext *ctx, HPy a, HPy b, HPy c)
        {
            return HPy_BuildValue(ctx, "(sOOO)", "power", a, b, c);
        }
        HPyDef_SLOT(Num_inplace_power, HPy_nb_inplace_power)
        static HPy Num_inplace_power_impl(HPyContext *ctx, HPy a, HPy b, HPy c)
        {
            return HPy_BuildValue(ctx, "(sOOO)", "inplace_power", a, b, c);
        }
        HPyDef_SLOT(Num_bool, HPy_nb_bool)
        static int Num_bool_impl(HPyContext *ctx, HPy self)
        {
            long v = Num_AsStruct(ctx, self)->v;
            if (v == 13) {
                HPyErr_SetString(ctx, ctx->h_ValueError, "13 has no truth value");
                return -1;
            }
            return v != 0;
        }
        HPyDef_SLOT(Num_int, HPy_nb_int)
        static HPy Num_int_impl(HPyContext *ctx, HPy self)
        {
            return HPyLong_FromLong(ctx, Num_AsStruct(ctx, self)->v * 10);
        }
        HPyDef_SLOT(Num_float, HPy_nb_float)
        static HPy Num_float_impl(HPyContext *ctx, HPy self)
        {
            return HPyFloat_FromDouble(ctx, Num_AsStruct(ctx, self)->v + 0.5);
        }
        HPyDef_SLOT(Num_index, HPy_nb_index)
        static HPy Num_index_impl(HPyContext *ctx, HPy self)
        {
            return HPyLong_FromLong(ctx, Num_AsStruct(ctx, self)->v);
        }
        HPyDef_MEMBER(Num_v, "v", HPyMember_LONG, offsetof(Num, v))
    """]
    names = ["Num_new", "Num_power", "Num_inplace_power", "Num_bool", "Num_int", "Num_float", "Num_index", "Num_v"]
    for n in BINARY + INPLACE:
        parts.append("""
        HPyDef_SLOT(Num_%(n)s, HPy_nb_%(n)s)
        static HPy Num_%(n)s_impl(HPyContext *ctx, HPy a, HPy b) { return rec2(ctx, "%(n)s", a, b); }
        """ % {"n": n})
        names.append("Num_" + n)
    for n in UNARY:
        parts.append("""
        HPyDef_SLOT(Num_%(n)s, HPy_nb_%(n)s)
        static HPy Num_%(n)s_impl(HPyContext *ctx, HPy a) { return HPy_BuildValue(ctx, "(sO)", "%(n)s", a); }
        """ % {"n": n})
        names.append("Num_" + n)
    parts.append("""
        static HPyDef *Num_defines[] = { %s, NULL };
        static HPyType_Spec Num_spec = { .name = "mytest.Num", .basicsize = sizeof(Num),
            .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Num_defines };
        @EXPORT_TYPE("Num", Num_spec)
    """ % ", ".join("&" + n for n in names))
    parts.append(r"""
        /* a log list the setters of Seq and Map append to, set by set_log() */
        static HPyGlobal g_log;
        static int log_tuple(HPyContext *ctx, HPy t)
        {
            if (HPy_IsNull(t))
                return -1;
            HPy log = HPyGlobal_Load(ctx, g_log);
            int r = HPyList_Append(ctx, log, t);
            HPy_Close(ctx, log);
            HPy_Close(ctx, t);
            return r;
        }
        HPyDef_METH(set_log, "set_log", HPyFunc_O)
        static HPy set_log_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPyGlobal_Store(ctx, &g_log, arg);
            return HPy_Dup(ctx, ctx->h_None);
        }
        @EXPORT(set_log) @EXPORT_GLOBAL(g_log)

        typedef struct { long n; } Seq;
        HPyType_HELPERS(Seq)
        HPyDef_SLOT(Seq_new, HPy_tp_new)
        static HPy Seq_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
        {
            long n = 0;
            if (!HPyArg_Parse(ctx, NULL, args, (size_t)nargs, "|l", &n))
                return HPy_NULL;
            Seq *s;
            HPy h = HPy_New(ctx, cls, &s);
            if (!HPy_IsNull(h))
                s->n = n;
            return h;
        }
        HPyDef_SLOT(Seq_length, HPy_sq_length)
        static HPy_ssize_t Seq_length_impl(HPyContext *ctx, HPy self)
        {
            long n = Seq_AsStruct(ctx, self)->n;
            if (n < 0) {
                HPyErr_SetString(ctx, ctx->h_RuntimeError, "negative length");
                return -1;
            }
            return n;
        }
        HPyDef_SLOT(Seq_item, HPy_sq_item)
        static HPy Seq_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
        {
            if (i >= Seq_AsStruct(ctx, self)->n) {
                HPyErr_SetString(ctx, ctx->h_IndexError, "Seq index out of range");
                return HPy_NULL;
            }
            return HPy_BuildValue(ctx, "(sn)", "item", i);
        }
        HPyDef_SLOT(Seq_ass_item, HPy_sq_ass_item)
        static int Seq_ass_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i, HPy value)
        {
            if (HPy_IsNull(value))
                return log_tuple(ctx, HPy_BuildValue(ctx, "(sn)", "del_item", i));
            return log_tuple(ctx, HPy_BuildValue(ctx, "(snO)", "ass_item", i, value));
        }
        HPyDef_SLOT(Seq_concat, HPy_sq_concat)
        static HPy Seq_concat_impl(HPyContext *ctx, HPy a, HPy b) { return rec2(ctx, "concat", a, b); }
        HPyDef_SLOT(Seq_inplace_concat, HPy_sq_inplace_concat)
        static HPy Seq_inplace_concat_impl(HPyContext *ctx, HPy a, HPy b) { return rec2(ctx, "inplace_concat", a, b); }
        HPyDef_SLOT(Seq_repeat, HPy_sq_repeat)
        static HPy Seq_repeat_impl(HPyContext *ctx, HPy a, HPy_ssize_t n)
        {
            return HPy_BuildValue(ctx, "(sOn)", "repeat", a, n);
        }
        HPyDef_SLOT(Seq_inplace_repeat, HPy_sq_inplace_repeat)
        static HPy Seq_inplace_repeat_impl(HPyContext *ctx, HPy a, HPy_ssize_t n)
        {
            return HPy_BuildValue(ctx, "(sOn)", "inplace_repeat", a, n);
        }
        HPyDef_SLOT(Seq_contains, HPy_sq_contains)
        static int Seq_contains_impl(HPyContext *ctx, HPy self, HPy key)
        {
            if (HPyUnicode_Check(ctx, key)) {
                HPyErr_SetString(ctx, ctx->h_TypeError, "no strings in a Seq");
                return -1;
            }
            HPy_ssize_t k = HPyLong_AsSsize_t(ctx, key);
            if (k == -1 && HPyErr_Occurred(ctx))
                return -1;
            return k >= 0 && k < Seq_AsStruct(ctx, self)->n;
        }
        static HPyDef *Seq_defines[] = { &Seq_new, &Seq_length, &Seq_item, &Seq_ass_item, &Seq_concat,
            &Seq_inplace_concat, &Seq_repeat, &Seq_inplace_repeat, &Seq_contains, NULL };
        static HPyType_Spec Seq_spec = { .name = "mytest.Seq", .basicsize = sizeof(Seq),
            .flags = HPy_TPFLAGS_DEFAULT, .defines = Seq_defines };
        @EXPORT_TYPE("Seq", Seq_spec)

        HPyDef_SLOT(Map_length, HPy_mp_length)
        static HPy_ssize_t Map_length_impl(HPyContext *ctx, HPy self) { return 42; }
        HPyDef_SLOT(Map_subscript, HPy_mp_subscript)
        static HPy Map_subscript_impl(HPyContext *ctx, HPy self, HPy key)
        {
            if (HPy_Is(ctx, key, ctx->h_None)) {
                HPyErr_SetObject(ctx, ctx->h_KeyError, key);
                return HPy_NULL;
            }
            return HPy_BuildValue(ctx, "(sO)", "subscript", key);
        }
        HPyDef_SLOT(Map_ass_subscript, HPy_mp_ass_subscript)
        static int Map_ass_subscript_impl(HPyContext *ctx, HPy self, HPy key, HPy value)
        {
            if (HPy_IsNull(value))
                return log_tuple(ctx, HPy_BuildValue(ctx, "(sO)", "del_subscript", key));
            return log_tuple(ctx, HPy_BuildValue(ctx, "(sOO)", "ass_subscript", key, value));
        }
        static HPyDef *Map_defines[] = { &Map_length, &Map_subscript, &Map_ass_subscript, NULL };
        static HPyType_Spec Map_spec = { .name = "mytest.Map", .flags = HPy_TPFLAGS_DEFAULT,
            .defines = Map_defines };
        @EXPORT_TYPE("Map", Map_spec)

        /* HPy's own calls into the slots */
        HPyDef_METH(power3, "power3", HPyFunc_VARARGS)
        static HPy power3_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_Power(ctx, args[0], args[1], args[2]);
        }
        HPyDef_METH(inplace_power3, "inplace_power3", HPyFunc_VARARGS)
        static HPy inplace_power3_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_InPlacePower(ctx, args[0], args[1], args[2]);
        }
        HPyDef_METH(api_calls, "api_calls", HPyFunc_VARARGS)
        static HPy api_calls_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            /* args: (seq, map): length, items and contains through the HPy API */
            HPy one = HPyLong_FromLong(ctx, 1), key = HPyUnicode_FromString(ctx, "k");
            HPy seq_item = HPy_GetItem_i(ctx, args[0], 1);
            HPy map_item = HPy_GetItem(ctx, args[1], key);
            HPy map_item_s = HPy_GetItem_s(ctx, args[1], "s");
            HPy r = HPy_BuildValue(ctx, "(nnOOOi)", HPy_Length(ctx, args[0]), HPy_Length(ctx, args[1]),
                                   seq_item, map_item, map_item_s, HPy_Contains(ctx, args[0], one));
            HPy_Close(ctx, seq_item);
            HPy_Close(ctx, map_item);
            HPy_Close(ctx, map_item_s);
            if (!HPy_IsNull(r) && (HPy_SetItem_i(ctx, args[0], 2, one) < 0 || HPy_DelItem_i(ctx, args[0], 3) < 0 ||
                                   HPy_SetItem_s(ctx, args[1], "s", one) < 0 || HPy_DelItem(ctx, args[1], key) < 0)) {
                HPy_Close(ctx, r);
                r = HPy_NULL;
            }
            HPy_Close(ctx, one);
            HPy_Close(ctx, key);
            return r;
        }
        @EXPORT(power3) @EXPORT(inplace_power3) @EXPORT(api_calls)
        @INIT
    """)
    return "\n".join(parts)


@pytest.fixture
def mod(compiler):
    return shared_module(compiler, _number_source(), name="slots_num")


def test_binary_number_slots(mod):
    a = mod.Num(1)
    for name in BINARY:
        py = PY_BINARY[name]
        assert py(a, 5) == (name, a, 5), name
        # reflected: the right operand's slot runs with the operands in their original order
        assert py(5, a) == (name, 5, a), name
        assert py(a, a) == (name, a, a), name


def test_inplace_number_slots(mod):
    for name in INPLACE:
        a = mod.Num(1)
        b = a
        b = PY_INPLACE[name](b, 7)
        assert b == (name, a, 7), name


def test_unary_and_conversion_slots(mod):
    a = mod.Num(4)
    for name in UNARY:
        assert PY_UNARY[name](a) == (name, a)
    assert int(a) == 40
    assert float(a) == 4.5
    assert operator.index(a) == 4
    assert [10, 11, 12, 13, 14, 15][a] == 14  # nb_index as a list index
    assert bool(a) is True and bool(mod.Num(0)) is False
    assert (not mod.Num(0)) is True
    with pytest.raises(ValueError, match="^13 has no truth value$"):
        bool(mod.Num(13))


def test_power_slots(mod):
    a = mod.Num(2)
    assert a ** 3 == ("power", a, 3, None)
    assert 3 ** a == ("power", 3, a, None)
    assert pow(a, 3, 5) == ("power", a, 3, 5)
    assert mod.power3(a, 3, 7) == ("power", a, 3, 7)
    assert mod.power3(a, 3, None) == ("power", a, 3, None)
    b = a
    b **= 4
    assert b == ("inplace_power", a, 4, None)
    assert mod.inplace_power3(a, 4, 9) == ("inplace_power", a, 4, 9)


def test_number_slots_in_subclasses(mod):
    class PyNum(mod.Num):
        def __add__(self, other):
            return "py add"

    p = PyNum(3)
    assert p + 1 == "py add"
    assert p - 1 == ("subtract", p, 1)  # inherited slot
    assert int(p) == 30 and p.v == 3


def test_sequence_slots(mod):
    log = []
    mod.set_log(log)
    s = mod.Seq(5)
    assert len(s) == 5
    assert s[0] == ("item", 0) and s[4] == ("item", 4)
    assert s[-1] == ("item", 4)          # CPython adds the length to negative indices
    with pytest.raises(IndexError, match="^Seq index out of range$"):
        s[5]
    assert list(s) == [("item", i) for i in range(5)]  # iteration through sq_item until IndexError
    s[1] = "x"
    s[-2] = "y"
    del s[2]
    assert log == [("ass_item", 1, "x"), ("ass_item", 3, "y"), ("del_item", 2)]
    assert s + [1] == ("concat", s, [1])
    assert s * 3 == ("repeat", s, 3)
    assert 3 * s == ("repeat", s, 3)
    t = s
    t += (9,)
    assert t == ("inplace_concat", s, (9,))
    t = s
    t *= 2
    assert t == ("inplace_repeat", s, 2)
    assert 3 in s and 5 not in s and -1 not in s
    with pytest.raises(TypeError, match="^no strings in a Seq$"):
        "a" in s
    with pytest.raises(RuntimeError, match="^negative length$"):
        len(mod.Seq(-1))
    mod.set_log(None)


def test_mapping_slots(mod):
    log = []
    mod.set_log(log)
    m = mod.Map()
    assert len(m) == 42
    assert m["a"] == ("subscript", "a")
    assert m[1:2] == ("subscript", slice(1, 2))
    with pytest.raises(KeyError):
        m[None]
    m["k"] = [1]
    del m["k"]
    assert log == [("ass_subscript", "k", [1]), ("del_subscript", "k")]
    mod.set_log(None)


def test_slots_through_the_api(mod):
    log = []
    mod.set_log(log)
    s, m = mod.Seq(4), mod.Map()
    assert mod.api_calls(s, m) == (4, 42, ("item", 1), ("subscript", "k"), ("subscript", "s"), 1)
    assert log == [("ass_item", 2, 1), ("del_item", 3), ("ass_subscript", "s", 1), ("del_subscript", "k")]
    mod.set_log(None)


OBJECT_SLOTS = r"""
    typedef struct { long v; long init_calls; } Obj;
    HPyType_HELPERS(Obj)
    static long finalized = 0, destroyed = 0;

    HPyDef_SLOT(Obj_new, HPy_tp_new)
    static HPy Obj_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        /* keeps the arguments for tp_init to see; the value comes from the first one */
        Obj *o;
        HPy h = HPy_New(ctx, cls, &o);
        if (HPy_IsNull(h))
            return HPy_NULL;
        o->v = nargs > 0 ? HPyLong_AsLong(ctx, args[0]) : 0;
        if (o->v == -1 && HPyErr_Occurred(ctx)) {
            HPy_Close(ctx, h);
            return HPy_NULL;
        }
        return h;
    }
    HPyDef_SLOT(Obj_init, HPy_tp_init)
    static int Obj_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        Obj *o = Obj_AsStruct(ctx, self);
        o->init_calls++;
        if (nargs > 1) {
            HPyErr_SetString(ctx, ctx->h_TypeError, "Obj takes at most one positional argument");
            return -1;
        }
        HPy seen = HPyTuple_FromArray(ctx, (HPy *)args, nargs);
        HPy kwd = HPy_IsNull(kw) ? HPy_Dup(ctx, ctx->h_None) : HPy_Dup(ctx, kw);
        int r = HPy_SetAttr_s(ctx, self, "seen", seen);
        if (r == 0)
            r = HPy_SetAttr_s(ctx, self, "seen_kw", kwd);
        HPy_Close(ctx, seen);
        HPy_Close(ctx, kwd);
        if (r < 0 && HPyErr_ExceptionMatches(ctx, ctx->h_AttributeError)) {
            HPyErr_Clear(ctx);  /* Obj itself has no __dict__: nothing to record */
            r = 0;
        }
        return r;
    }
    HPyDef_SLOT(Obj_repr, HPy_tp_repr)
    static HPy Obj_repr_impl(HPyContext *ctx, HPy self)
    {
        return HPyUnicode_FromFormat(ctx, "<Obj %ld>", Obj_AsStruct(ctx, self)->v);
    }
    HPyDef_SLOT(Obj_str, HPy_tp_str)
    static HPy Obj_str_impl(HPyContext *ctx, HPy self)
    {
        return HPyUnicode_FromFormat(ctx, "Obj number %ld", Obj_AsStruct(ctx, self)->v);
    }
    HPyDef_SLOT(Obj_hash, HPy_tp_hash)
    static HPy_hash_t Obj_hash_impl(HPyContext *ctx, HPy self)
    {
        long v = Obj_AsStruct(ctx, self)->v;
        if (v == 666) {
            HPyErr_SetString(ctx, ctx->h_TypeError, "unhashable Obj 666");
            return -1;
        }
        return v * 1000;
    }
    HPyDef_SLOT(Obj_richcompare, HPy_tp_richcompare)
    static HPy Obj_richcompare_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
    {
        static const char *names[] = { "<", "<=", "==", "!=", ">", ">=" };
        if (HPy_Is(ctx, other, ctx->h_Ellipsis))
            return HPy_Dup(ctx, ctx->h_NotImplemented);
        if (HPy_Is(ctx, other, ctx->h_True)) {
            /* a plain bool answer, as the RichCompareBool test wants */
            return HPyBool_FromLong(ctx, op == HPy_EQ || op == HPy_LE || op == HPy_GE);
        }
        return HPy_BuildValue(ctx, "(sOO)", names[op], self, other);
    }
    HPyDef_SLOT(Obj_finalize, HPy_tp_finalize)
    static void Obj_finalize_impl(HPyContext *ctx, HPy self)
    {
        finalized += Obj_AsStruct(ctx, self)->v;
    }
    HPyDef_SLOT(Obj_destroy, HPy_tp_destroy)
    static void Obj_destroy_impl(void *data)
    {
        destroyed += ((Obj *)data)->v;
    }
    HPyDef_MEMBER(Obj_init_calls, "init_calls", HPyMember_LONG, offsetof(Obj, init_calls), .readonly = 1)
    static HPyDef *Obj_defines[] = { &Obj_new, &Obj_init, &Obj_repr, &Obj_str, &Obj_hash, &Obj_richcompare,
        &Obj_finalize, &Obj_destroy, &Obj_init_calls, NULL };
    /* instances of Obj itself have no __dict__ for what tp_init sets; Python subclasses have one */
    static HPyType_Spec Obj_spec = { .name = "mytest.Obj", .basicsize = sizeof(Obj),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Obj_defines };

    HPyDef_METH(counters, "counters", HPyFunc_NOARGS)
    static HPy counters_impl(HPyContext *ctx, HPy self)
    {
        return HPy_BuildValue(ctx, "(ll)", finalized, destroyed);
    }
    HPyDef_METH(richcompare, "richcompare", HPyFunc_VARARGS)
    static HPy richcompare_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPy_RichCompare(ctx, args[0], args[1], (int)HPyLong_AsLong(ctx, args[2]));
    }
    HPyDef_METH(richcomparebool, "richcomparebool", HPyFunc_VARARGS)
    static HPy richcomparebool_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        int r = HPy_RichCompareBool(ctx, args[0], args[1], (int)HPyLong_AsLong(ctx, args[2]));
        return r < 0 ? HPy_NULL : HPyLong_FromLong(ctx, r);
    }
    HPyDef_METH(hash, "hash", HPyFunc_O)
    static HPy hash_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_hash_t h = HPy_Hash(ctx, arg);
        return h == -1 && HPyErr_Occurred(ctx) ? HPy_NULL : HPyLong_FromSsize_t(ctx, h);
    }
    HPyDef_METH(repr_str, "repr_str", HPyFunc_O)
    static HPy repr_str_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy r = HPy_Repr(ctx, arg), s = HPy_Str(ctx, arg);
        HPy t = HPy_IsNull(r) || HPy_IsNull(s) ? HPy_NULL : HPy_BuildValue(ctx, "(OO)", r, s);
        HPy_Close(ctx, r);
        HPy_Close(ctx, s);
        return t;
    }
    @EXPORT(counters) @EXPORT(richcompare) @EXPORT(richcomparebool) @EXPORT(hash) @EXPORT(repr_str)
    @EXPORT_TYPE("Obj", Obj_spec)
    @INIT
"""

@pytest.fixture
def objmod(compiler):
    return shared_module(compiler, OBJECT_SLOTS, name="slots_obj")


def test_new_and_init(objmod):
    class Sub(objmod.Obj):
        pass

    o = Sub(5, key="v")
    assert o.init_calls == 1
    assert o.seen == (5,) and o.seen_kw == {"key": "v"}
    o2 = Sub(6)
    assert o2.seen == (6,) and o2.seen_kw in (None, {})
    with pytest.raises(TypeError, match="^Obj takes at most one positional argument$"):
        Sub(1, 2)
    with pytest.raises(TypeError):
        objmod.Obj("not an int")
    # tp_init runs again when called explicitly
    o.__init__(7)
    assert o.init_calls == 2 and o.seen == (7,)
    # HPy's own type: tp_init runs, its setattr fails (no __dict__) and it clears the error
    o3 = objmod.Obj(1)
    assert o3.init_calls == 1 and not hasattr(o3, "seen")


def test_repr_str_hash(objmod):
    class Sub(objmod.Obj):
        pass

    o = Sub(3)
    assert repr(o) == "<Obj 3>" and str(o) == "Obj number 3" and f"{o}" == "Obj number 3"
    assert objmod.repr_str(o) == ("<Obj 3>", "Obj number 3")
    assert hash(o) == 3000 and objmod.hash(o) == 3000
    assert {o: 1}[o] == 1
    with pytest.raises(TypeError, match="^unhashable Obj 666$"):
        hash(Sub(666))
    with pytest.raises(TypeError, match="^unhashable Obj 666$"):
        objmod.hash(Sub(666))


def test_richcompare(objmod):
    class Sub(objmod.Obj):
        pass

    o = Sub(1)
    assert (o < 2) == ("<", o, 2)
    assert (o <= 2) == ("<=", o, 2)
    assert (o == 2) == ("==", o, 2)
    assert (o != 2) == ("!=", o, 2)
    assert (o > 2) == (">", o, 2)
    assert (o >= 2) == (">=", o, 2)
    # reflected: 2 < o asks o > 2
    assert (2 < o) == (">", o, 2)
    for op, sym in enumerate(["<", "<=", "==", "!=", ">", ">="]):
        assert objmod.richcompare(o, "x", op) == (sym, o, "x")
        assert objmod.richcomparebool(o, True, op) == (op in (1, 2, 5))
    # NotImplemented from the slot: Python falls back to identity for == and raises for <
    assert (o == ...) is False and (o != ...) is True
    with pytest.raises(TypeError, match="'<' not supported"):
        o < ...


def test_finalize_and_destroy(objmod):
    gc.collect()
    f0, d0 = objmod.counters()
    o = objmod.Obj(10)
    del o
    gc.collect()
    assert objmod.counters() == (f0 + 10, d0 + 10)

    class Sub(objmod.Obj):
        pass

    o = Sub(100)
    del o
    gc.collect()
    assert objmod.counters() == (f0 + 110, d0 + 110)


def test_finalize_can_resurrect_nothing_twice(objmod):
    """tp_finalize runs once per object even when the object is collected as part of a cycle."""
    gc.collect()
    f0, d0 = objmod.counters()

    class Sub(objmod.Obj):
        pass

    o = Sub(1000)
    o.me = o  # a cycle through the subclass's __dict__
    del o
    gc.collect()
    assert objmod.counters() == (f0 + 1000, d0 + 1000)


# An HPy type that exports a read-only buffer of 8 bytes ("abcdefgh") and counts its exports and releases
# (the `exports` and `releases` members); test_buffer_consumer.py also reads it through HPy_GetBuffer. `MODULE` in the type's name is replaced by the module's.
BUFFER_EXPORTER = r"""
    typedef struct { char data[8]; long exports; long releases; HPy_ssize_t shape[1]; } Buf;
    HPyType_HELPERS(Buf)
    HPyDef_SLOT(Buf_new, HPy_tp_new)
    static HPy Buf_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        Buf *b;
        HPy h = HPy_New(ctx, cls, &b);
        if (!HPy_IsNull(h))
            for (int i = 0; i < 8; i++)
                b->data[i] = (char)('a' + i);
        return h;
    }
    HPyDef_SLOT(Buf_getbuffer, HPy_bf_getbuffer)
    static int Buf_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
    {
        Buf *b = Buf_AsStruct(ctx, self);
        if (flags & HPyBUF_WRITABLE) {
            HPyErr_SetString(ctx, ctx->h_BufferError, "Buf is read-only");
            return -1;
        }
        b->exports++;
        b->shape[0] = 8;
        view->buf = b->data;
        view->obj = HPy_Dup(ctx, self);
        view->len = 8;
        view->itemsize = 1;
        view->readonly = 1;
        view->ndim = 1;
        view->format = (flags & HPyBUF_FORMAT) ? "B" : NULL;
        view->shape = (flags & HPyBUF_ND) ? b->shape : NULL;
        view->strides = NULL;
        view->suboffsets = NULL;
        view->internal = b;
        return 0;
    }
    HPyDef_SLOT(Buf_releasebuffer, HPy_bf_releasebuffer)
    static void Buf_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
    {
        Buf *b = Buf_AsStruct(ctx, self);
        if (view->internal == b && HPy_Is(ctx, view->obj, self))
            b->releases++;
    }
    HPyDef_MEMBER(Buf_exports, "exports", HPyMember_LONG, offsetof(Buf, exports), .readonly = 1)
    HPyDef_MEMBER(Buf_releases, "releases", HPyMember_LONG, offsetof(Buf, releases), .readonly = 1)
    static HPyDef *Buf_defines[] = { &Buf_new, &Buf_getbuffer, &Buf_releasebuffer, &Buf_exports,
        &Buf_releases, NULL };
    static HPyType_Spec Buf_spec = { .name = "MODULE.Buf", .basicsize = sizeof(Buf),
        .flags = HPy_TPFLAGS_DEFAULT, .defines = Buf_defines };
"""


BUFFER_SOURCE = BUFFER_EXPORTER.replace("MODULE", "mytest") + """
    @EXPORT_TYPE("Buf", Buf_spec)
    @INIT
"""


def test_buffer_slots(compiler):
    mod = shared_module(compiler, BUFFER_SOURCE)
    b = mod.Buf()
    before = sys.getrefcount(b)
    m = memoryview(b)
    assert b.exports == 1 and b.releases == 0
    assert sys.getrefcount(b) == before + 1  # the view holds the exporter (HPy_buffer.obj)
    assert m.readonly and m.format == "B" and m.shape == (8,) and m.nbytes == 8
    assert m.tobytes() == b"abcdefgh" and m[2] == ord("c")
    assert bytes(m[1:3]) == b"bc"
    m.release()
    assert b.releases == 1
    assert sys.getrefcount(b) == before
    assert bytes(b) == b"abcdefgh"  # bytes() takes and releases a buffer too
    assert (b.exports, b.releases) == (2, 2)
    with memoryview(b) as m2:
        with pytest.raises(TypeError):
            m2[0] = 1  # read-only view
    assert b.exports == b.releases


def test_buffer_writable_request_refused(compiler):
    mod = shared_module(compiler, BUFFER_SOURCE)
    b = mod.Buf()
    import os

    r, w = os.pipe()
    try:
        with pytest.raises(BufferError, match="^Buf is read-only$"):
            os.readv(r, [b])  # asks for a writable buffer and passes the exporter's error on
    finally:
        os.close(r)
        os.close(w)
    assert b.exports == b.releases == 0


BAD_SLOTS = ["12345", "47", "0", "-1", "HPy_mod_exec", "HPy_mod_create"]


def _bad_slots_source():
    """One module: make(i) builds a type whose only definition is bad definition i (a slot id of BAD_SLOTS,
    then an unknown definition kind)."""
    decls, cases = [], []
    for i, slot in enumerate(BAD_SLOTS):
        decls.append("static HPyDef bad%d = { .kind = HPyDef_Kind_Slot, .slot = { .slot = (HPySlot_Slot)(%s), "
                     ".impl = (HPyCFunction)impl, .cpy_trampoline = (void *)impl } };" % (i, slot))
    decls.append("static HPyDef bad%d = { .kind = (HPyDef_Kind)9 };" % len(BAD_SLOTS))
    for i in range(len(BAD_SLOTS) + 1):
        decls.append("static HPyDef *defines%d[] = { &bad%d, NULL };" % (i, i))
        decls.append('static HPyType_Spec spec%d = { .name = "mytest.Bad", .flags = HPy_TPFLAGS_DEFAULT, '
                     '.defines = defines%d };' % (i, i))
        cases.append("case %d: return HPyType_FromSpec(ctx, &spec%d, NULL);" % (i, i))
    return r"""
        static HPy impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, self); }
        %s
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
    """ % ("\n".join(decls), "\n".join(cases))


def test_invalid_slot_ids(compiler):
    mod = compiler.make_module(_bad_slots_source())
    for i, slot in enumerate(BAD_SLOTS):
        with pytest.raises(SystemError, match=r"^HPyType_FromSpec: type 'mytest.Bad': invalid slot id -?[0-9]+$"):
            mod.make(i)
    with pytest.raises(SystemError, match=r"^HPyType_FromSpec: type 'mytest.Bad': invalid HPyDef kind 9$"):
        mod.make(len(BAD_SLOTS))
