/* tests/fuzz/fuzz_loader.c: libFuzzer driver of the module and type loader: random HPyModuleDef and
   HPyType_Spec contents (kinds, slot ids, signatures, member types and offsets, names, sizes,
   shapes, flags). A definition the host accepts is then used: the module is executed; the type is
   instantiated and every member read. Function pointers always match the slot or signature they
   are given for (the host cannot check that); everything else is random. */
#include <Python.h>

#include "fuzz_common.h"

PyModuleDef *fuzz_make_module_def(HPyModuleDef *hpydef, const char *name, HPyContext *ctx);

HPyDef_METH(m_noargs, "m_noargs", HPyFunc_NOARGS)
static HPy m_noargs_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, ctx->h_None);
}
HPyDef_METH(m_o, "m_o", HPyFunc_O)
static HPy m_o_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Dup(ctx, arg);
}
HPyDef_METH(m_varargs, "m_varargs", HPyFunc_VARARGS)
static HPy m_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t n)
{
    return HPyLong_FromSize_t(ctx, n);
}
HPyDef_METH(m_keywords, "m_keywords", HPyFunc_KEYWORDS)
static HPy m_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t n, HPy kw)
{
    return HPyLong_FromSize_t(ctx, n);
}
HPyDef_SLOT(s_repr, HPy_tp_repr)
static HPy s_repr_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, "fuzz");
}
HPyDef_SLOT(s_add, HPy_nb_add)
static HPy s_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    return HPy_Dup(ctx, a);
}
HPyDef_SLOT(s_destroy, HPy_tp_destroy)
static void s_destroy_impl(void *data)
{
    (void)data;
}
HPyDef_SLOT(s_exec, HPy_mod_exec)
static int s_exec_impl(HPyContext *ctx, HPy module)
{
    return 0;
}
HPyDef_SLOT(s_create, HPy_mod_create)
static HPy s_create_impl(HPyContext *ctx, HPy spec)
{
    return HPy_Dup(ctx, ctx->h_None);
}
HPyDef_GET(g_get, "g_get")
static HPy g_get_get(HPyContext *ctx, HPy self, void *closure)
{
    return HPy_Dup(ctx, ctx->h_True);
}

static HPyDef *const methods[] = {&m_noargs, &m_o, &m_varargs, &m_keywords};
static HPyDef *const slots[] = {&s_repr, &s_add, &s_destroy, &s_exec, &s_create};
static const char *const names[] = {"a",      "b", "",        NULL, "__init__", "__vectorcalloffset__",
                                    "fuzz.T", "T", "__doc__", "x"};

#define MAX_DEFS 8

/* One definition from the input: a copy of a template with some fields replaced. */
static void fuzz_def(FuzzReader *r, HPyDef *d)
{
    uint8_t what = fuzz_byte(r);
    switch (what % 6) {
    case 0: /* a method, maybe with a signature that does not exist */
        *d = *methods[fuzz_byte(r) % 4];
        if (what & 0x80)
            d->meth.signature = (HPyFunc_Signature)(int8_t)fuzz_byte(r);
        d->meth.name = names[fuzz_byte(r) % 10];
        break;
    case 1: { /* a slot: a template, or an id that no slot has */
        *d = *slots[fuzz_byte(r) % 5];
        if (what & 0x80) {
            int id = (int)(int16_t)(fuzz_byte(r) | fuzz_byte(r) << 8);
            if (id > 200 && id != 1000 && id != 2000 && id != 2001)
                d->slot.slot = (HPySlot_Slot)id;
        }
        break;
    }
    case 2: /* a member of any type at any offset */
        memset(d, 0, sizeof(*d));
        d->kind = HPyDef_Kind_Member;
        d->member.name = names[fuzz_byte(r) % 10];
        d->member.type = (HPyMember_FieldType)(fuzz_byte(r) % 24);
        d->member.offset = (int8_t)fuzz_byte(r);
        d->member.readonly = fuzz_byte(r) & 1;
        break;
    case 3: /* a getset, maybe with neither function */
        *d = g_get;
        if (what & 0x80)
            d->getset.getter_cpy_trampoline = NULL;
        d->getset.name = names[fuzz_byte(r) % 10];
        break;
    case 4: /* a kind that does not exist */
        memset(d, 0, sizeof(*d));
        d->kind = (HPyDef_Kind)(fuzz_byte(r) % 16);
        if (d->kind >= HPyDef_Kind_Slot && d->kind <= HPyDef_Kind_GetSet)
            *d = m_noargs;
        break;
    default:
        *d = *methods[0];
        break;
    }
}

static void read_members(PyObject *obj, HPyDef **defs)
{
    for (HPyDef **p = defs; *p != NULL; ++p) {
        if ((*p)->kind != HPyDef_Kind_Member || (*p)->member.name == NULL)
            continue;
        PyObject *v = PyObject_GetAttrString(obj, (*p)->member.name);
        Py_XDECREF(v);
        PyErr_Clear();
    }
}

static void fuzz_type(HPyContext *ctx, FuzzReader *r, HPyDef **defs)
{
    static const unsigned long flag_choices[] = {HPy_TPFLAGS_DEFAULT,
                                                 HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
                                                 HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC, 0, ~0UL};
    HPyType_Spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.name = names[fuzz_byte(r) % 10];
    spec.basicsize = (int8_t)fuzz_byte(r);
    spec.itemsize = fuzz_byte(r) % 4 == 0 ? (int8_t)fuzz_byte(r) : 0;
    spec.flags = flag_choices[fuzz_byte(r) % 5];
    spec.builtin_shape = (HPyType_BuiltinShape)((int)(fuzz_byte(r) % 10) - 2);
    spec.defines = defs;
    spec.doc = fuzz_byte(r) & 1 ? "a fuzzed type" : NULL;
    HPy type = HPyType_FromSpec(ctx, &spec, NULL);
    if (HPy_IsNull(type)) {
        if (!HPyErr_Occurred(ctx))
            __builtin_trap(); /* a refusal must say why */
        HPyErr_Clear(ctx);
        return;
    }
    PyTypeObject *tp = (PyTypeObject *)_h2py(type);
    PyObject *obj = tp->tp_alloc(tp, 0);
    if (obj != NULL) {
        read_members(obj, defs);
        Py_DECREF(obj);
    }
    PyErr_Clear();
    HPy_Close(ctx, type);
}

static void fuzz_module(HPyContext *ctx, FuzzReader *r, HPyDef **defs)
{
    HPyModuleDef def;
    memset(&def, 0, sizeof(def));
    def.doc = fuzz_byte(r) & 1 ? "a fuzzed module" : NULL;
    def.size = fuzz_byte(r) % 8 == 0 ? (int8_t)fuzz_byte(r) : 0;
    def.defines = fuzz_byte(r) % 8 == 0 ? NULL : defs;
    PyModuleDef *pydef = fuzz_make_module_def(&def, "fuzzmod", ctx);
    if (pydef == NULL) {
        if (!PyErr_Occurred())
            __builtin_trap();
        PyErr_Clear();
        return;
    }
    PyObject *machinery = PyImport_ImportModule("importlib.machinery");
    PyObject *spec =
        machinery ? PyObject_CallMethod(machinery, "ModuleSpec", "sO", "fuzzmod", Py_None) : NULL;
    PyObject *module = spec ? PyModule_FromDefAndSpec(pydef, spec) : NULL;
    if (module != NULL && PyModule_Check(module) && PyModule_ExecDef(module, pydef) != 0)
        PyErr_Clear();
    Py_XDECREF(module);
    Py_XDECREF(spec);
    Py_XDECREF(machinery);
    PyErr_Clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HPyContext *ctx = fuzz_context();
    FuzzReader r = {data, size};
    uint8_t head = fuzz_byte(&r);
    HPyDef storage[MAX_DEFS];
    HPyDef *defs[MAX_DEFS + 1];
    size_t n = (size_t)(head >> 1) % (MAX_DEFS + 1);
    for (size_t i = 0; i < n; i++) {
        fuzz_def(&r, &storage[i]);
        defs[i] = &storage[i];
    }
    defs[n] = NULL;
    if (head & 1)
        fuzz_type(ctx, &r, defs);
    else
        fuzz_module(ctx, &r, defs);
    return 0;
}
