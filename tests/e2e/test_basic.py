"""tests/e2e/test_basic.py: a module with each method signature, a pure type, and module documentation."""


def test_empty_module(compiler):
    mod = compiler.make_module("@INIT")
    assert mod.__doc__ == "mytest test module"
    assert mod.__name__ == "mytest"


def test_method_signatures(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(f_noargs, "f_noargs", HPyFunc_NOARGS, .doc = "takes nothing")
        static HPy f_noargs_impl(HPyContext *ctx, HPy self)
        {
            return HPyUnicode_FromString(ctx, "noargs");
        }
        HPyDef_METH(f_o, "f_o", HPyFunc_O)
        static HPy f_o_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPy_Add(ctx, arg, arg);
        }
        HPyDef_METH(f_varargs, "f_varargs", HPyFunc_VARARGS)
        static HPy f_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
        }
        HPyDef_METH(f_keywords, "f_keywords", HPyFunc_KEYWORDS)
        static HPy f_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
        {
            HPy_ssize_t nkw = HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames);
            return HPy_BuildValue(ctx, "(nn)", (HPy_ssize_t)nargs, nkw);
        }
        @EXPORT(f_noargs)
        @EXPORT(f_o)
        @EXPORT(f_varargs)
        @EXPORT(f_keywords)
        @INIT
    """)
    assert mod.f_noargs() == "noargs"
    assert mod.f_noargs.__doc__ == "takes nothing"
    assert mod.f_o(21) == 42
    assert mod.f_varargs() == ()
    assert mod.f_varargs(1, "a", None) == (1, "a", None)
    assert mod.f_keywords(1, 2, a=3) == (2, 1)
    assert mod.f_keywords() == (0, 0)


def test_pure_type(compiler):
    mod = compiler.make_module("""
        typedef struct { long x; long y; } PointObject;
        HPyType_HELPERS(PointObject)

        HPyDef_SLOT(Point_new, HPy_tp_new)
        static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
        {
            long x = 0, y = 0;
            if (!HPyArg_Parse(ctx, NULL, args, (size_t)nargs, "|ll", &x, &y))
                return HPy_NULL;
            PointObject *p;
            HPy h = HPy_New(ctx, cls, &p);
            if (HPy_IsNull(h))
                return HPy_NULL;
            p->x = x;
            p->y = y;
            return h;
        }
        HPyDef_SLOT(Point_repr, HPy_tp_repr)
        static HPy Point_repr_impl(HPyContext *ctx, HPy self)
        {
            PointObject *p = PointObject_AsStruct(ctx, self);
            return HPyUnicode_FromFormat(ctx, "Point(%ld, %ld)", p->x, p->y);
        }
        HPyDef_METH(Point_norm2, "norm2", HPyFunc_NOARGS)
        static HPy Point_norm2_impl(HPyContext *ctx, HPy self)
        {
            PointObject *p = PointObject_AsStruct(ctx, self);
            return HPyLong_FromLong(ctx, p->x * p->x + p->y * p->y);
        }
        HPyDef_MEMBER(Point_x, "x", HPyMember_LONG, offsetof(PointObject, x))
        HPyDef_MEMBER(Point_y, "y", HPyMember_LONG, offsetof(PointObject, y), .readonly = 1)
        static HPyDef *Point_defines[] = { &Point_new, &Point_repr, &Point_norm2, &Point_x, &Point_y, NULL };
        static HPyType_Spec Point_spec = {
            .name = "mytest.Point",
            .basicsize = sizeof(PointObject),
            .flags = HPy_TPFLAGS_DEFAULT,
            .defines = Point_defines,
        };
        @EXPORT_TYPE("Point", Point_spec)
        @INIT
    """)
    p = mod.Point(3, 4)
    assert repr(p) == "Point(3, 4)"
    assert p.norm2() == 25
    p.x = 10
    assert (p.x, p.y) == (10, 4)
    try:
        p.y = 1
    except AttributeError:
        pass
    else:
        raise AssertionError("a readonly member accepted a write")
    assert type(p).__name__ == "Point"
    assert type(p).__module__ == "mytest"
    del p
