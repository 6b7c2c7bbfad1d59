/* tests/crossload/xmod.c: a universal module that exercises the object model, built with either side's headers.
 *
 * Written against the HPy 0.9 API only, so that HPy 0.9's headers and unihpy's both compile it
 * and the binaries of each load in the other's host (tests/crossload/test_xmod.py). It covers:
 * pure (legacy-free) types with an HPyField in the instance struct, GC support (tp_traverse and
 * tp_destroy), a subtype made with HPyType_SpecParam_Base, module functions and methods of the four
 * signatures, members, getsets (with a closure), number/sequence/mapping/compare/hash slots,
 * an HPyGlobal, and two HPy_mod_exec slots.
 */
#include <string.h>

#include "hpy.h"

/* ---------- module functions of the four signatures ---------- */

HPyDef_METH(f_noargs, "f_noargs", HPyFunc_NOARGS, .doc = "f_noargs() -> 'noargs'")
static HPy f_noargs_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, "noargs");
}

HPyDef_METH(f_o, "f_o", HPyFunc_O, .doc = "f_o(x) -> (x, type(x))")
static HPy f_o_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy type = HPy_Type(ctx, arg);
    HPy result = HPyTuple_Pack(ctx, 2, arg, type);
    HPy_Close(ctx, type);
    return result;
}

HPyDef_METH(f_varargs, "f_varargs", HPyFunc_VARARGS, .doc = "f_varargs(*args) -> sum of the ints")
static HPy f_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    long total = 0;
    for (size_t i = 0; i < nargs; i++) {
        long v = HPyLong_AsLong(ctx, args[i]);
        if (v == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        total += v;
    }
    return HPyLong_FromLong(ctx, total);
}

HPyDef_METH(f_keywords, "f_keywords", HPyFunc_KEYWORDS,
            .doc = "f_keywords(a, b=10, *, c=100) -> a*1 + b*2 + c*3")
static HPy f_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    static const char *kwlist[] = {"a", "b", "c", NULL};
    long a, b = 10, c = 100;
    HPyTracker ht;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "l|l$l", kwlist, &a, &b, &c))
        return HPy_NULL;
    HPyTracker_Close(ctx, ht);
    return HPyLong_FromLong(ctx, a + 2 * b + 3 * c);
}

/* Names the positional and keyword arguments it got, to check the vectorcall-style layout. */
HPyDef_METH(f_kwnames, "f_kwnames", HPyFunc_KEYWORDS)
static HPy f_kwnames_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    HPy_ssize_t nkw = HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames);
    HPy pos = HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
    if (HPy_IsNull(pos))
        return HPy_NULL;
    HPy kw = HPyDict_New(ctx);
    for (HPy_ssize_t i = 0; i < nkw && !HPy_IsNull(kw); i++) {
        HPy key = HPy_GetItem_i(ctx, kwnames, i);
        if (HPy_IsNull(key) || HPy_SetItem(ctx, kw, key, args[nargs + (size_t)i]) < 0) {
            HPy_Close(ctx, kw);
            kw = HPy_NULL;
        }
        HPy_Close(ctx, key);
    }
    if (HPy_IsNull(kw)) {
        HPy_Close(ctx, pos);
        return HPy_NULL;
    }
    HPy result = HPyTuple_Pack(ctx, 2, pos, kw);
    HPy_Close(ctx, pos);
    HPy_Close(ctx, kw);
    return result;
}

HPyDef_METH(f_raise, "f_raise", HPyFunc_O)
static HPy f_raise_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPyErr_SetObject(ctx, ctx->h_ValueError, arg);
    return HPy_NULL;
}

/* The name of the context this module runs with ("HPy Universal ABI...", "HPy Debug Mode ABI"...). */
HPyDef_METH(context_name, "context_name", HPyFunc_NOARGS)
static HPy context_name_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, ctx->name);
}

/* ---------- an HPyGlobal ---------- */

static HPyGlobal g_registry;

HPyDef_METH(get_registry, "get_registry", HPyFunc_NOARGS)
static HPy get_registry_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyGlobal_Load(ctx, g_registry);
}

HPyDef_METH(set_registry, "set_registry", HPyFunc_O)
static HPy set_registry_impl(HPyContext *ctx, HPy self, HPy obj)
{
    (void)self;
    HPyGlobal_Store(ctx, &g_registry, obj);
    return HPy_Dup(ctx, ctx->h_None);
}

/* ---------- the Box type: a long, a double and an HPyField ---------- */

typedef struct {
    long value;
    double ratio;
    HPyField item; /* any object, or NULL */
    long tag;
} BoxObject;

HPyType_HELPERS(BoxObject)

/* Boxes whose tp_destroy ran (tp_destroy has no context: a plain C counter). */
static long g_destroyed = 0;

HPyDef_SLOT(Box_new, HPy_tp_new)
static HPy Box_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    static const char *kwlist[] = {"value", "item", NULL};
    long value = 0;
    HPy item = HPy_NULL;
    HPyTracker ht;
    if (!HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kw, "|lO", kwlist, &value, &item))
        return HPy_NULL;
    BoxObject *box;
    HPy h = HPy_New(ctx, type, &box);
    if (!HPy_IsNull(h)) {
        box->value = value;
        box->ratio = 0.5;
        box->tag = -1;
        if (!HPy_IsNull(item))
            HPyField_Store(ctx, h, &box->item, item);
    }
    HPyTracker_Close(ctx, ht);
    return h;
}

HPyDef_SLOT(Box_init, HPy_tp_init)
static int Box_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    (void)args;
    (void)nargs;
    /* tp_init sees the same arguments as tp_new; it only records that it ran. */
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    box->tag = HPy_IsNull(kw) ? 0 : (long)HPy_Length(ctx, kw);
    return 0;
}

HPyDef_SLOT(Box_traverse, HPy_tp_traverse)
static int Box_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
{
    BoxObject *box = (BoxObject *)self;
    HPy_VISIT(&box->item);
    return 0;
}

HPyDef_SLOT(Box_destroy, HPy_tp_destroy)
static void Box_destroy_impl(void *obj)
{
    (void)obj;
    g_destroyed++;
}

HPyDef_SLOT(Box_repr, HPy_tp_repr)
static HPy Box_repr_impl(HPyContext *ctx, HPy self)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    return HPyUnicode_FromFormat(ctx, "Box(%ld)", box->value);
}

HPyDef_SLOT(Box_str, HPy_tp_str)
static HPy Box_str_impl(HPyContext *ctx, HPy self)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    return HPyUnicode_FromFormat(ctx, "<box of %ld>", box->value);
}

HPyDef_SLOT(Box_hash, HPy_tp_hash)
static HPy_hash_t Box_hash_impl(HPyContext *ctx, HPy self)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    return box->value == -1 ? -2 : (HPy_hash_t)box->value;
}

static HPyGlobal g_box_type;

static int box_value(HPyContext *ctx, HPy h, long *out)
{
    /* 1: *out is h's value (a Box or an int); 0: h is neither; -1: error. */
    HPy type = HPyGlobal_Load(ctx, g_box_type);
    int is_box = HPy_TypeCheck(ctx, h, type);
    HPy_Close(ctx, type);
    if (is_box) {
        *out = BoxObject_AsStruct(ctx, h)->value;
        return 1;
    }
    if (HPy_TypeCheck(ctx, h, ctx->h_LongType)) {
        *out = HPyLong_AsLong(ctx, h);
        return *out == -1 && HPyErr_Occurred(ctx) ? -1 : 1;
    }
    return 0;
}

static HPy box_make(HPyContext *ctx, long value)
{
    HPy type = HPyGlobal_Load(ctx, g_box_type);
    BoxObject *box;
    HPy h = HPy_New(ctx, type, &box);
    HPy_Close(ctx, type);
    if (!HPy_IsNull(h)) {
        box->value = value;
        box->ratio = 0.5;
    }
    return h;
}

HPyDef_SLOT(Box_add, HPy_nb_add)
static HPy Box_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    long x, y;
    int ra = box_value(ctx, a, &x), rb = ra == 1 ? box_value(ctx, b, &y) : ra;
    if (ra < 0 || rb < 0)
        return HPy_NULL;
    if (ra == 0 || rb == 0)
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    return box_make(ctx, x + y);
}

HPyDef_SLOT(Box_neg, HPy_nb_negative)
static HPy Box_neg_impl(HPyContext *ctx, HPy self)
{
    return box_make(ctx, -BoxObject_AsStruct(ctx, self)->value);
}

HPyDef_SLOT(Box_int, HPy_nb_int)
static HPy Box_int_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, BoxObject_AsStruct(ctx, self)->value);
}

HPyDef_SLOT(Box_bool, HPy_nb_bool)
static int Box_bool_impl(HPyContext *ctx, HPy self)
{
    return BoxObject_AsStruct(ctx, self)->value != 0;
}

HPyDef_SLOT(Box_richcompare, HPy_tp_richcompare)
static HPy Box_richcompare_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    long x, y;
    int ra = box_value(ctx, self, &x), rb = ra == 1 ? box_value(ctx, other, &y) : ra;
    if (ra < 0 || rb < 0)
        return HPy_NULL;
    if (ra == 0 || rb == 0)
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    int r;
    switch (op) {
    case HPy_LT:
        r = x < y;
        break;
    case HPy_LE:
        r = x <= y;
        break;
    case HPy_EQ:
        r = x == y;
        break;
    case HPy_NE:
        r = x != y;
        break;
    case HPy_GT:
        r = x > y;
        break;
    case HPy_GE:
        r = x >= y;
        break;
    default:
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    return HPyBool_FromLong(ctx, r);
}

/* Length is |value|; item i is i * value; box[i] = v stores v + i into value. */
HPyDef_SLOT(Box_len, HPy_sq_length)
static HPy_ssize_t Box_len_impl(HPyContext *ctx, HPy self)
{
    long v = BoxObject_AsStruct(ctx, self)->value;
    return v < 0 ? -v : v;
}

HPyDef_SLOT(Box_item, HPy_sq_item)
static HPy Box_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    long n = box->value < 0 ? -box->value : box->value;
    if (i < 0 || i >= n) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "Box index out of range");
        return HPy_NULL;
    }
    return HPyLong_FromLong(ctx, (long)i * box->value);
}

HPyDef_SLOT(Box_contains, HPy_sq_contains)
static int Box_contains_impl(HPyContext *ctx, HPy self, HPy key)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    if (HPyField_IsNull(box->item)) /* HPy 0.9's host crashes on loading an empty field */
        return 0;
    HPy item = HPyField_Load(ctx, self, box->item);
    int r = HPy_RichCompareBool(ctx, item, key, HPy_EQ);
    HPy_Close(ctx, item);
    return r;
}

/* ---------- Box methods of the four signatures ---------- */

HPyDef_METH(Box_get_item, "get_item", HPyFunc_NOARGS)
static HPy Box_get_item_impl(HPyContext *ctx, HPy self)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    if (HPyField_IsNull(box->item))
        return HPy_Dup(ctx, ctx->h_None);
    return HPyField_Load(ctx, self, box->item);
}

HPyDef_METH(Box_set_item, "set_item", HPyFunc_O)
static HPy Box_set_item_impl(HPyContext *ctx, HPy self, HPy item)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    HPyField_Store(ctx, self, &box->item, HPy_Is(ctx, item, ctx->h_None) ? HPy_NULL : item);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(Box_add_all, "add_all", HPyFunc_VARARGS)
static HPy Box_add_all_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    for (size_t i = 0; i < nargs; i++) {
        long v = HPyLong_AsLong(ctx, args[i]);
        if (v == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        box->value += v;
    }
    return HPyLong_FromLong(ctx, box->value);
}

HPyDef_METH(Box_scaled, "scaled", HPyFunc_KEYWORDS)
static HPy Box_scaled_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    static const char *kwlist[] = {"factor", "offset", NULL};
    long factor, offset = 0;
    HPyTracker ht;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "l|l", kwlist, &factor, &offset))
        return HPy_NULL;
    HPyTracker_Close(ctx, ht);
    HPy type = HPy_Type(ctx, self);
    BoxObject *box;
    HPy h = HPy_New(ctx, type, &box);
    HPy_Close(ctx, type);
    if (HPy_IsNull(h))
        return HPy_NULL;
    BoxObject *me = BoxObject_AsStruct(ctx, self);
    box->value = me->value * factor + offset;
    box->ratio = me->ratio;
    if (!HPyField_IsNull(me->item)) {
        HPy item = HPyField_Load(ctx, self, me->item);
        HPyField_Store(ctx, h, &box->item, item);
        HPy_Close(ctx, item);
    }
    return h;
}

/* ---------- members and getsets ---------- */

HPyDef_MEMBER(Box_value, "value", HPyMember_LONG, offsetof(BoxObject, value), .doc = "the value")
HPyDef_MEMBER(Box_ratio, "ratio", HPyMember_DOUBLE, offsetof(BoxObject, ratio), .readonly = 1)
HPyDef_MEMBER(Box_tag, "tag", HPyMember_LONG, offsetof(BoxObject, tag), .readonly = 1)

HPyDef_GETSET(Box_doubled, "doubled", .doc = "value * 2")
static HPy Box_doubled_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    return HPyLong_FromLong(ctx, BoxObject_AsStruct(ctx, self)->value * 2);
}
static int Box_doubled_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)closure;
    if (HPy_IsNull(value)) {
        HPyErr_SetString(ctx, ctx->h_AttributeError, "cannot delete 'doubled'");
        return -1;
    }
    long v = HPyLong_AsLong(ctx, value);
    if (v == -1 && HPyErr_Occurred(ctx))
        return -1;
    BoxObject_AsStruct(ctx, self)->value = v / 2;
    return 0;
}

/* Two read-only attributes sharing one getter; the closure says which. */
static const char k_kind_label[] = "label";
static const char k_kind_pair[] = "pair";

HPyDef_GET(Box_label, "label", .closure = (void *)k_kind_label)
static HPy Box_label_get(HPyContext *ctx, HPy self, void *closure)
{
    BoxObject *box = BoxObject_AsStruct(ctx, self);
    if (closure == (void *)k_kind_label)
        return HPyUnicode_FromFormat(ctx, "%s:%ld", (const char *)closure, box->value);
    return HPy_BuildValue(ctx, "(sl)", (const char *)closure, box->value);
}

HPyDef_GET(Box_pair, "pair", .closure = (void *)k_kind_pair)
static HPy Box_pair_get(HPyContext *ctx, HPy self, void *closure)
{
    return Box_label_get(ctx, self, closure);
}

static HPyDef *Box_defines[] = {
    &Box_new,    &Box_init,  &Box_traverse, &Box_destroy,  &Box_repr,     &Box_str,
    &Box_hash,   &Box_add,   &Box_neg,      &Box_int,      &Box_bool,     &Box_richcompare,
    &Box_len,    &Box_item,  &Box_contains, &Box_get_item, &Box_set_item, &Box_add_all,
    &Box_scaled, &Box_value, &Box_ratio,    &Box_tag,      &Box_doubled,  &Box_label,
    &Box_pair,   NULL,
};

static HPyType_Spec Box_spec = {
    .name = "xmod.Box",
    .basicsize = sizeof(BoxObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .defines = Box_defines,
    .doc = "Box(value=0, item=None): a long and any object, kept in an HPyField",
};

/* ---------- LabelledBox: an HPy subtype of Box with its own struct and field ---------- */

typedef struct {
    BoxObject base;
    HPyField label;
} LabelledBoxObject;

HPyType_HELPERS(LabelledBoxObject)

HPyDef_SLOT(LBox_traverse, HPy_tp_traverse)
static int LBox_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
{
    LabelledBoxObject *lb = (LabelledBoxObject *)self;
    HPy_VISIT(&lb->base.item);
    HPy_VISIT(&lb->label);
    return 0;
}

HPyDef_GETSET(LBox_name, "name")
static HPy LBox_name_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    LabelledBoxObject *lb = LabelledBoxObject_AsStruct(ctx, self);
    if (HPyField_IsNull(lb->label))
        return HPy_Dup(ctx, ctx->h_None);
    return HPyField_Load(ctx, self, lb->label);
}
static int LBox_name_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)closure;
    LabelledBoxObject *lb = LabelledBoxObject_AsStruct(ctx, self);
    HPyField_Store(ctx, self, &lb->label, value); /* NULL (del) clears it */
    return 0;
}

HPyDef_SLOT(LBox_repr, HPy_tp_repr)
static HPy LBox_repr_impl(HPyContext *ctx, HPy self)
{
    LabelledBoxObject *lb = LabelledBoxObject_AsStruct(ctx, self);
    HPy name = HPyField_IsNull(lb->label) ? HPy_Dup(ctx, ctx->h_None) : HPyField_Load(ctx, self, lb->label);
    HPy r = HPyUnicode_FromFormat(ctx, "LabelledBox(%ld, %R)", lb->base.value, name);
    HPy_Close(ctx, name);
    return r;
}

static HPyDef *LBox_defines[] = {&LBox_traverse, &LBox_name, &LBox_repr, NULL};

static HPyType_Spec LBox_spec = {
    .name = "xmod.LabelledBox",
    .basicsize = sizeof(LabelledBoxObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
    .defines = LBox_defines,
};

/* ---------- module-level helpers for the tests ---------- */

HPyDef_METH(destroyed_count, "destroyed_count", HPyFunc_NOARGS)
static HPy destroyed_count_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, g_destroyed);
}

HPyDef_METH(shape_of_box, "box_value", HPyFunc_O)
static HPy shape_of_box_impl(HPyContext *ctx, HPy self, HPy obj)
{
    (void)self;
    long v;
    int r = box_value(ctx, obj, &v);
    if (r < 0)
        return HPy_NULL;
    if (r == 0) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "box_value() needs a Box or an int");
        return HPy_NULL;
    }
    return HPyLong_FromLong(ctx, v);
}

/* ---------- module creation: two exec slots ---------- */

HPyDef_SLOT(exec_types, HPy_mod_exec)
static int exec_types_impl(HPyContext *ctx, HPy module)
{
    if (!HPyHelpers_AddType(ctx, module, "Box", &Box_spec, NULL))
        return -1;
    HPy box_type = HPy_GetAttr_s(ctx, module, "Box");
    if (HPy_IsNull(box_type))
        return -1;
    HPyGlobal_Store(ctx, &g_box_type, box_type);
    HPyType_SpecParam params[] = {{HPyType_SpecParam_Base, box_type}, {(HPyType_SpecParam_Kind)0, HPy_NULL}};
    int ok = HPyHelpers_AddType(ctx, module, "LabelledBox", &LBox_spec, params);
    HPy_Close(ctx, box_type);
    return ok ? 0 : -1;
}

HPyDef_SLOT(exec_globals, HPy_mod_exec)
static int exec_globals_impl(HPyContext *ctx, HPy module)
{
    HPy initial = HPyList_New(ctx, 0);
    if (HPy_IsNull(initial))
        return -1;
    HPyGlobal_Store(ctx, &g_registry, initial);
    int r = HPy_SetAttr_s(ctx, module, "initial_registry", initial);
    HPy_Close(ctx, initial);
    return r;
}

static HPyDef *module_defines[] = {
    &f_noargs,     &f_o,          &f_varargs,       &f_keywords,   &f_kwnames,  &f_raise,      &context_name,
    &get_registry, &set_registry, &destroyed_count, &shape_of_box, &exec_types, &exec_globals, NULL,
};

static HPyGlobal *module_globals[] = {&g_registry, &g_box_type, NULL};

static HPyModuleDef moduledef = {
    .doc = "cross-loading test module",
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(xmod, moduledef)
