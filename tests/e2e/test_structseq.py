"""tests/e2e/test_structseq.py: HPyStructSequence_NewType / HPyStructSequence_New in every ABI."""
import copy

import pytest

STRUCTSEQ_SOURCE = r"""
    static HPyStructSequence_Field point_fields[] = {
        {"x", "the x coordinate"},
        {"y", NULL},
        {"label", "what the point is"},
        {NULL, NULL},
    };
    static HPyStructSequence_Desc point_desc = {"mytest.Point", "A point in the plane.", point_fields};

    static HPyStructSequence_Field partly_fields[] = {{"a", NULL}, {NULL, NULL}, {NULL, NULL}};
    static HPyStructSequence_Desc partly_desc = {"mytest.Partly", NULL, partly_fields};

    HPyGlobal Point;

    HPyDef_SLOT(setup, HPy_mod_exec)
    static int setup_impl(HPyContext *ctx, HPy module)
    {
        partly_fields[1].name = HPyStructSequence_UnnamedField;
        HPy point = HPyStructSequence_NewType(ctx, &point_desc);
        HPy partly = HPyStructSequence_NewType(ctx, &partly_desc);
        if (HPy_IsNull(point) || HPy_IsNull(partly))
            return -1;
        HPyGlobal_Store(ctx, &Point, point);
        int rc = HPy_SetAttr_s(ctx, module, "Point", point) | HPy_SetAttr_s(ctx, module, "Partly", partly);
        HPy_Close(ctx, point);
        HPy_Close(ctx, partly);
        return rc;
    }

    HPyDef_METH(make_point, "make_point", HPyFunc_VARARGS)
    static HPy make_point_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPy type = HPyGlobal_Load(ctx, Point);
        HPy result = HPyStructSequence_New(ctx, type, (HPy_ssize_t)nargs, (HPy *)args);
        HPy_Close(ctx, type);
        return result;
    }

    HPyDef_METH(make_from, "make_from", HPyFunc_VARARGS)
    static HPy make_from_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyStructSequence_New(ctx, args[0], (HPy_ssize_t)nargs - 1, (HPy *)args + 1);
    }

    HPyDef_METH(bad_desc, "bad_desc", HPyFunc_NOARGS)
    static HPy bad_desc_impl(HPyContext *ctx, HPy self)
    {
        static HPyStructSequence_Desc nameless = {NULL, NULL, point_fields};
        return HPyStructSequence_NewType(ctx, &nameless);
    }

    @EXPORT_GLOBAL(Point)
    @EXPORT(setup) @EXPORT(make_point) @EXPORT(make_from) @EXPORT(bad_desc)
    @INIT
"""


@pytest.fixture
def mod(compiler):
    return compiler.make_module(STRUCTSEQ_SOURCE)


def test_type(mod):
    P = mod.Point
    assert issubclass(P, tuple)
    assert P.__name__ == "Point" and P.__module__ == "mytest"
    assert P.__doc__ == "A point in the plane."
    assert (P.n_fields, P.n_sequence_fields, P.n_unnamed_fields) == (3, 3, 0)
    assert P.x.__doc__ == "the x coordinate"


def test_instances(mod):
    p = mod.make_point(1, 2.5, "origin")
    assert type(p) is mod.Point
    assert p == (1, 2.5, "origin") and len(p) == 3
    assert (p.x, p.y, p.label) == (1, 2.5, "origin")
    x, y, label = p
    assert (x, y, label) == (1, 2.5, "origin")
    assert repr(p) == "mytest.Point(x=1, y=2.5, label='origin')"
    with pytest.raises(AttributeError):
        p.x = 3
    assert mod.Point((4, 5, 6)) == (4, 5, 6)   # the type is callable with a sequence too


def test_copy_round_trip(mod):
    # copy uses the same __reduce__ protocol as pickle (which needs an importable module).
    p = mod.make_point(1, [2], 3)
    for q in (copy.copy(p), copy.deepcopy(p)):
        assert type(q) is mod.Point and q == p


def test_unnamed_field(mod):
    P = mod.Partly
    assert (P.n_fields, P.n_unnamed_fields) == (2, 1)
    p = mod.make_from(P, "named", "hidden")
    assert p.a == "named" and p[1] == "hidden"


def test_errors(mod):
    with pytest.raises(TypeError, match="3 fields, 2 items given"):
        mod.make_point(1, 2)
    with pytest.raises(TypeError, match="not a struct sequence type"):
        mod.make_from(tuple, 1)
    with pytest.raises(TypeError, match="not a struct sequence type"):
        mod.make_from(42, 1)
    with pytest.raises(SystemError, match="needs a name and a field list"):
        mod.bad_desc()
