"""tests/e2e/test_call_protocol.py: callable HPy objects: HPy_tp_call, HPy_SetCallFunction per object,
a '__vectorcalloffset__' member, subclasses (HPy and Python), and the errors of invalid uses."""
import pytest

CALLABLE_SOURCE = r"""
    typedef struct { long factor; } ScalerObject;
    HPyType_HELPERS(ScalerObject)

    /* The default call of every Scaler: factor * sum(args) + sum of the keyword values. */
    static HPy scale(HPyContext *ctx, long factor, const HPy *args, size_t nargs, HPy kwnames)
    {
        long total = 0;
        HPy_ssize_t nkw = HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames);
        for (size_t i = 0; i < nargs; i++)
            total += factor * HPyLong_AsLong(ctx, args[i]);
        for (HPy_ssize_t i = 0; i < nkw; i++)
            total += HPyLong_AsLong(ctx, args[nargs + i]);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, total);
    }

    HPyDef_SLOT(Scaler_call, HPy_tp_call)
    static HPy Scaler_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        return scale(ctx, ScalerObject_AsStruct(ctx, self)->factor, args, nargs, kwnames);
    }

    /* A call function some objects get instead: returns ("negated", -factor * sum(args)). */
    HPyDef_CALL_FUNCTION(negate)
    static HPy negate_impl(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
    {
        HPy r = scale(ctx, -ScalerObject_AsStruct(ctx, callable)->factor, args, nargs, kwnames);
        if (HPy_IsNull(r))
            return r;
        HPy out = HPy_BuildValue(ctx, "(sO)", "negated", r);
        HPy_Close(ctx, r);
        return out;
    }

    HPyDef_SLOT(Scaler_new, HPy_tp_new)
    static HPy Scaler_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        ScalerObject *s;
        HPy h = HPy_New(ctx, type, &s);
        if (HPy_IsNull(h))
            return h;
        s->factor = nargs > 0 ? HPyLong_AsLong(ctx, args[0]) : 1;
        return h;
    }

    HPyDef_METH(Scaler_negate, "negate", HPyFunc_NOARGS)
    static HPy Scaler_negate_impl(HPyContext *ctx, HPy self)
    {
        if (HPy_SetCallFunction(ctx, self, &negate) < 0)
            return HPy_NULL;
        return HPy_Dup(ctx, self);
    }

    static HPyDef *Scaler_defines[] = { &Scaler_call, &Scaler_new, &Scaler_negate, NULL };
    static HPyType_Spec Scaler_spec = {
        .name = "mytest.Scaler",
        .basicsize = sizeof(ScalerObject),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
        .defines = Scaler_defines,
    };

    /* An HPy subclass with a bigger struct: its call function must not overlap its own fields. */
    typedef struct { ScalerObject base; long extra[4]; } BigScalerObject;
    HPyType_HELPERS(BigScalerObject)

    HPyDef_SLOT(BigScaler_new, HPy_tp_new)
    static HPy BigScaler_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        BigScalerObject *s;
        HPy h = HPy_New(ctx, type, &s);
        if (HPy_IsNull(h))
            return h;
        s->base.factor = nargs > 0 ? HPyLong_AsLong(ctx, args[0]) : 1;
        for (int i = 0; i < 4; i++)
            s->extra[i] = -1;   /* would clobber a call function stored inside the struct */
        return h;
    }

    HPyDef_GET(BigScaler_extra, "extra")
    static HPy BigScaler_extra_get(HPyContext *ctx, HPy self, void *closure)
    {
        return HPyLong_FromLong(ctx, BigScalerObject_AsStruct(ctx, self)->extra[3]);
    }

    static HPyDef *BigScaler_defines[] = { &BigScaler_new, &BigScaler_extra, NULL };
    static HPyType_Spec BigScaler_spec = {
        .name = "mytest.BigScaler",
        .basicsize = sizeof(BigScalerObject),
        .flags = HPy_TPFLAGS_DEFAULT,
        .defines = BigScaler_defines,
    };

    /* A type that keeps its call function in its own struct, named by '__vectorcalloffset__':
       objects are callable only once a call function is set. */
    typedef struct { long factor; void *call_function; } PlainObject;
    HPyType_HELPERS(PlainObject)
    HPyDef_MEMBER(Plain_offset, "__vectorcalloffset__", HPyMember_HPYSSIZET,
                  offsetof(PlainObject, call_function), .readonly = 1)
    HPyDef_SLOT(Plain_new, HPy_tp_new)
    static HPy Plain_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        PlainObject *p;
        HPy h = HPy_New(ctx, type, &p);
        if (!HPy_IsNull(h))
            p->factor = 3;
        return h;
    }
    HPyDef_METH(Plain_arm, "arm", HPyFunc_NOARGS)
    static HPy Plain_arm_impl(HPyContext *ctx, HPy self)
    {
        if (HPy_SetCallFunction(ctx, self, &negate) < 0)
            return HPy_NULL;
        return HPy_Dup(ctx, self);
    }
    static HPyDef *Plain_defines[] = { &Plain_offset, &Plain_new, &Plain_arm, NULL };
    static HPyType_Spec Plain_spec = {
        .name = "mytest.Plain",
        .basicsize = sizeof(PlainObject),
        .flags = HPy_TPFLAGS_DEFAULT,
        .defines = Plain_defines,
    };

    HPyDef_SLOT(setup, HPy_mod_exec)
    static int setup_impl(HPyContext *ctx, HPy module)
    {
        if (!HPyHelpers_AddType(ctx, module, "Scaler", &Scaler_spec, NULL))
            return -1;
        HPy scaler = HPy_GetAttr_s(ctx, module, "Scaler");
        HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, scaler }, { (HPyType_SpecParam_Kind)0 } };
        int ok = HPyHelpers_AddType(ctx, module, "BigScaler", &BigScaler_spec, params);
        HPy_Close(ctx, scaler);
        if (!ok || !HPyHelpers_AddType(ctx, module, "Plain", &Plain_spec, NULL))
            return -1;
        return 0;
    }

    HPyDef_METH(set_call, "set_call", HPyFunc_O)
    static HPy set_call_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        if (HPy_SetCallFunction(ctx, arg, &negate) < 0)
            return HPy_NULL;
        return HPy_Dup(ctx, ctx->h_None);
    }

    @EXPORT(setup) @EXPORT(set_call)
    @INIT
"""


@pytest.fixture
def mod(compiler):
    return compiler.make_module(CALLABLE_SOURCE)


def test_tp_call(mod):
    s = mod.Scaler(10)
    assert callable(s)
    assert s() == 0
    assert s(1, 2) == 30
    assert s(1, x=5, y=7) == 22
    assert [s(i) for i in range(3)] == [0, 10, 20]   # the vectorcall path, repeatedly


def test_tp_call_argument_errors(mod):
    with pytest.raises(TypeError):
        mod.Scaler(2)("not an int")


def test_set_call_function_per_object(mod):
    a, b = mod.Scaler(2), mod.Scaler(2)
    assert a.negate() is a
    assert a(1, 2) == ("negated", -6)
    assert b(1, 2) == 6                   # other objects keep the type's call function
    assert mod.Scaler(2)(1) == 2          # and so do new ones


def test_call_through_tuple_and_dict(mod):
    # Calls that reach tp_call with a tuple and a dict (not vectorcall).
    s = mod.Scaler(4)
    assert s.__call__(1, 2, z=1) == 13
    assert type(s).__call__(s, 5) == 20


def test_hpy_subclass_with_bigger_struct(mod):
    big = mod.BigScaler(5)
    assert big.extra == -1
    assert big(1, 1) == 10
    assert big.extra == -1               # the call function lives outside the user's struct
    big.negate()
    assert big(1) == ("negated", -5)
    assert big.extra == -1


def test_python_subclass(mod):
    class Sub(mod.Scaler):
        pass

    s = Sub(3)
    assert s(2) == 6
    s.negate()
    assert s(2) == ("negated", -6)

    class WithCall(mod.Scaler):
        def __call__(self, *args):
            return "python"

    w = WithCall(3)
    assert w(1) == "python"
    with pytest.raises(TypeError, match="does not implement the HPy call protocol"):
        mod.set_call(w)


def test_explicit_vectorcalloffset_member(mod):
    p = mod.Plain()
    with pytest.raises(TypeError, match="not callable"):
        p(1)
    assert p.arm() is p
    assert p(1, 2) == ("negated", -9)


def test_set_call_function_on_a_type_without_the_protocol(mod):
    with pytest.raises(TypeError, match="'int' does not implement the HPy call protocol"):
        mod.set_call(42)


BAD_SPEC_SOURCE = r"""
    HPyDef_SLOT(Bad_call, HPy_tp_call)
    static HPy Bad_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
    {
        return HPy_Dup(ctx, ctx->h_None);
    }
    typedef struct { void *call_function; } BadObject;
    HPyDef_MEMBER(Bad_offset, "__vectorcalloffset__", HPyMember_HPYSSIZET, 0, .readonly = 1)

    static HPyDef *varsize_defines[] = { &Bad_call, NULL };
    static HPyType_Spec varsize_spec = {
        .name = "mytest.VarSize", .basicsize = 16, .itemsize = 8,
        .flags = HPy_TPFLAGS_DEFAULT, .defines = varsize_defines,
    };
    static HPyType_Spec legacy_spec = {
        .name = "mytest.LegacyInherited", .flags = HPy_TPFLAGS_DEFAULT,
        .builtin_shape = HPyType_BuiltinShape_Legacy, .defines = varsize_defines,
    };
    static HPyDef *both_defines[] = { &Bad_call, &Bad_offset, NULL };
    static HPyType_Spec both_spec = {
        .name = "mytest.Both", .basicsize = sizeof(BadObject),
        .flags = HPy_TPFLAGS_DEFAULT, .defines = both_defines,
    };

    HPyDef_METH(make, "make", HPyFunc_O)
    static HPy make_impl(HPyContext *ctx, HPy self, HPy which)
    {
        long n = HPyLong_AsLong(ctx, which);
        HPyType_Spec *spec = n == 0 ? &varsize_spec : n == 1 ? &both_spec : &legacy_spec;
        return HPyType_FromSpec(ctx, spec, NULL);
    }
    @EXPORT(make)
    @INIT
"""


def test_invalid_call_specs(compiler):
    mod = compiler.make_module(BAD_SPEC_SOURCE)
    with pytest.raises(TypeError, match=r"'mytest.VarSize'.*HPy_tp_call.*itemsize"):
        mod.make(0)
    with pytest.raises(TypeError, match=r"'mytest.Both'.*__vectorcalloffset__"):
        mod.make(1)
    # a legacy struct inherited whole (basicsize 0) may be longer than its base's size says: no place
    # for the hidden call-function slot
    with pytest.raises(TypeError, match=r"'mytest.LegacyInherited': HPy_tp_call needs a non-zero basicsize"):
        mod.make(2)
