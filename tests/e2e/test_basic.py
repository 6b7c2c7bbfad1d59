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


def test_destroy_runs_for_subclasses(compiler):
    """HPy_tp_destroy of a base runs for its own instances, an HPy subclass without a destroy of its
    own, and a Python subclass; a type without destroy or fields is freed without running any."""
    mod = compiler.make_module("""
        static long destroyed = 0;
        typedef struct { long v; } BaseObject;

        HPyDef_SLOT(Base_new, HPy_tp_new)
        static HPy Base_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
        {
            long v;
            if (!HPyArg_Parse(ctx, NULL, args, (size_t)nargs, "l", &v))
                return HPy_NULL;
            BaseObject *data;
            HPy h = HPy_New(ctx, cls, &data);
            if (!HPy_IsNull(h))
                data->v = v;
            return h;
        }
        HPyDef_SLOT(Base_destroy, HPy_tp_destroy)
        static void Base_destroy_impl(void *data)
        {
            destroyed += ((BaseObject *)data)->v;
        }
        static HPyDef *Base_defines[] = { &Base_new, &Base_destroy, NULL };
        static HPyType_Spec Base_spec = { .name = "mytest.Base", .basicsize = sizeof(BaseObject),
            .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Base_defines };
        static HPyType_Spec Sub_spec = { .name = "mytest.Sub", .flags = HPy_TPFLAGS_DEFAULT };
        static HPyDef *Plain_defines[] = { &Base_new, NULL };
        static HPyType_Spec Plain_spec = { .name = "mytest.Plain", .basicsize = sizeof(BaseObject),
            .flags = HPy_TPFLAGS_DEFAULT, .defines = Plain_defines };

        HPyDef_METH(get_destroyed, "get_destroyed", HPyFunc_NOARGS)
        static HPy get_destroyed_impl(HPyContext *ctx, HPy self)
        {
            return HPyLong_FromLong(ctx, destroyed);
        }
        HPyDef_SLOT(add_types, HPy_mod_exec)
        static int add_types_impl(HPyContext *ctx, HPy module)
        {
            HPy base = HPyType_FromSpec(ctx, &Base_spec, NULL);
            if (HPy_IsNull(base))
                return -1;
            HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, base }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
            HPy sub = HPyType_FromSpec(ctx, &Sub_spec, params);
            int rc = HPy_IsNull(sub) ? -1 : HPy_SetAttr_s(ctx, module, "Sub", sub);
            if (rc == 0)
                rc = HPy_SetAttr_s(ctx, module, "Base", base);
            HPy_Close(ctx, sub);
            HPy_Close(ctx, base);
            return rc;
        }
        @EXPORT(get_destroyed)
        @EXPORT(add_types)
        @EXPORT_TYPE("Plain", Plain_spec)
        @INIT
    """)
    obj = mod.Base(1)
    del obj
    assert mod.get_destroyed() == 1
    obj = mod.Sub(10)
    assert isinstance(obj, mod.Base)
    del obj
    assert mod.get_destroyed() == 11

    class PySub(mod.Base):
        pass

    obj = PySub(100)
    del obj
    assert mod.get_destroyed() == 111
    obj = mod.Plain(1000)
    del obj
    assert mod.get_destroyed() == 111


def test_list_and_float_shapes(compiler):
    """A type with a builtin base keeps its own struct after the base's; AsStruct finds it."""
    mod = compiler.make_module("""
        typedef struct { long tag; } TaggedList;
        HPyType_HELPERS(TaggedList, HPyType_BuiltinShape_List)
        typedef struct { long tag; } TaggedFloat;
        HPyType_HELPERS(TaggedFloat, HPyType_BuiltinShape_Float)

        HPyDef_METH(TaggedList_set_tag, "set_tag", HPyFunc_O)
        static HPy TaggedList_set_tag_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            TaggedList_AsStruct(ctx, self)->tag = HPyLong_AsLong(ctx, arg);
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(TaggedList_get_tag, "get_tag", HPyFunc_NOARGS)
        static HPy TaggedList_get_tag_impl(HPyContext *ctx, HPy self)
        {
            return HPyLong_FromLong(ctx, TaggedList_AsStruct(ctx, self)->tag);
        }
        HPyDef_METH(TaggedFloat_set_tag, "set_tag", HPyFunc_O)
        static HPy TaggedFloat_set_tag_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            TaggedFloat_AsStruct(ctx, self)->tag = HPyLong_AsLong(ctx, arg);
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(TaggedFloat_get_tag, "get_tag", HPyFunc_NOARGS)
        static HPy TaggedFloat_get_tag_impl(HPyContext *ctx, HPy self)
        {
            return HPyLong_FromLong(ctx, TaggedFloat_AsStruct(ctx, self)->tag);
        }
        HPyDef_METH(shapes, "shapes", HPyFunc_VARARGS)
        static HPy shapes_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_BuildValue(ctx, "(ii)", (int)_HPyType_GetBuiltinShape(ctx, args[0]),
                                  (int)_HPyType_GetBuiltinShape(ctx, args[1]));
        }
        static HPyDef *TaggedList_defines[] = { &TaggedList_set_tag, &TaggedList_get_tag, NULL };
        static HPyType_Spec TaggedList_spec = { .name = "mytest.TaggedList", .basicsize = sizeof(TaggedList),
            .flags = HPy_TPFLAGS_DEFAULT, .builtin_shape = HPyType_BuiltinShape_List,
            .defines = TaggedList_defines };
        static HPyDef *TaggedFloat_defines[] = { &TaggedFloat_set_tag, &TaggedFloat_get_tag, NULL };
        static HPyType_Spec TaggedFloat_spec = { .name = "mytest.TaggedFloat", .basicsize = sizeof(TaggedFloat),
            .flags = HPy_TPFLAGS_DEFAULT, .builtin_shape = HPyType_BuiltinShape_Float,
            .defines = TaggedFloat_defines };
        @EXPORT(shapes)
        @EXPORT_TYPE("TaggedList", TaggedList_spec)
        @EXPORT_TYPE("TaggedFloat", TaggedFloat_spec)
        @INIT
    """)
    lst = mod.TaggedList([1, 2, 3])
    lst.set_tag(7)
    lst.extend(range(100))  # the list's own storage grows; the tag stays
    assert lst.get_tag() == 7 and len(lst) == 103 and isinstance(lst, list)
    f = mod.TaggedFloat(2.5)
    f.set_tag(-3)
    assert f.get_tag() == -3 and f == 2.5 and isinstance(f, float)
    assert mod.shapes(mod.TaggedList, mod.TaggedFloat) == (6, 3)
