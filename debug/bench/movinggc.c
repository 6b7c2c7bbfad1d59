/* debug/bench/movinggc.c: field and global stores and loads in C loops, and objects with fields, for
   debug/bench/movinggc.py (the moving-GC checker's cost). */
#include "hpy.h"

typedef struct {
    HPyField f[2];
} PairObject;
HPyType_HELPERS(PairObject)

static HPyGlobal g;

HPyDef_SLOT(Pair_traverse, HPy_tp_traverse)
static int Pair_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
{
    for (int i = 0; i < 2; i++)
        HPy_VISIT(&((PairObject *)self)->f[i]);
    return 0;
}

/* pair.fill(value): stores value into both fields */
HPyDef_METH(Pair_fill, "fill", HPyFunc_O)
static HPy Pair_fill_impl(HPyContext *ctx, HPy self, HPy value)
{
    PairObject *p = PairObject_AsStruct(ctx, self);
    for (int i = 0; i < 2; i++)
        HPyField_Store(ctx, self, &p->f[i], value);
    return HPy_Dup(ctx, ctx->h_None);
}

/* pair.store_load(value, n): n stores into f[0], each followed by a load (and the close of its handle) */
HPyDef_METH(Pair_store_load, "store_load", HPyFunc_VARARGS)
static HPy Pair_store_load_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long n = HPyLong_AsLong(ctx, args[1]);
    for (long i = 0; i < n; i++) {
        PairObject *p = PairObject_AsStruct(ctx, self);
        HPyField_Store(ctx, self, &p->f[0], args[0]);
        HPy h = HPyField_Load(ctx, self, p->f[0]);
        HPy_Close(ctx, h);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

/* pair.load(n): n loads of field f[0] */
HPyDef_METH(Pair_load, "load", HPyFunc_O)
static HPy Pair_load_impl(HPyContext *ctx, HPy self, HPy count)
{
    long n = HPyLong_AsLong(ctx, count);
    for (long i = 0; i < n; i++) {
        HPy h = HPyField_Load(ctx, self, PairObject_AsStruct(ctx, self)->f[0]);
        HPy_Close(ctx, h);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

/* global_store_load(value, n) */
HPyDef_METH(global_store_load, "global_store_load", HPyFunc_VARARGS)
static HPy global_store_load_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long n = HPyLong_AsLong(ctx, args[1]);
    for (long i = 0; i < n; i++) {
        HPyGlobal_Store(ctx, &g, args[0]);
        HPy h = HPyGlobal_Load(ctx, g);
        HPy_Close(ctx, h);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *Pair_defines[] = {&Pair_traverse, &Pair_fill, &Pair_store_load, &Pair_load, NULL};
static HPyType_Spec Pair_spec = {.name = "mgcbench.Pair",
                                 .basicsize = sizeof(PairObject),
                                 .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
                                 .builtin_shape = HPyType_BuiltinShape_Object,
                                 .defines = Pair_defines};

HPyDef_SLOT(exec, HPy_mod_exec)
static int exec_impl(HPyContext *ctx, HPy m)
{
    HPy t = HPyType_FromSpec(ctx, &Pair_spec, NULL);
    if (HPy_IsNull(t))
        return -1;
    int rc = HPy_SetAttr_s(ctx, m, "Pair", t);
    HPy_Close(ctx, t);
    return rc;
}

static HPyDef *module_defines[] = {&global_store_load, &exec, NULL};
static HPyGlobal *module_globals[] = {&g, NULL};
static HPyModuleDef moduledef = {.defines = module_defines, .globals = module_globals};

HPy_MODINIT(mgcbench, moduledef)
