/* proof-of-concept/pofpackage/foo.c: an HPy extension inside a package (pofpackage.foo), built in every ABI. */
#include <hpy.h>

HPyDef_METH(hello, "hello", HPyFunc_NOARGS, .doc = "Returns a greeting naming this module.")
static HPy hello_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, "hello from pofpackage.foo");
}

HPyDef_METH(describe, "describe", HPyFunc_KEYWORDS,
            .doc = "describe(name, count=1): 'name x count', built with HPyUnicode_FromFormat.")
static HPy describe_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    const char *name;
    long count = 1;
    static const char *kwlist[] = {"name", "count", NULL};
    if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "s|l", kwlist, &name, &count))
        return HPy_NULL;
    return HPyUnicode_FromFormat(ctx, "%s x %ld", name, count);
}

static HPyDef *module_defines[] = {&hello, &describe, NULL};

static HPyModuleDef moduledef = {
    .doc = "An HPy module inside a package",
    .defines = module_defines,
};

HPy_MODINIT(foo, moduledef)
// Nothing here is shared between threads: safe on a free-threaded CPython without the GIL. (Guarded:
// HPy_MOD_GIL is unihpy's, and this file also builds with HPy 0.9's headers.)
#ifdef HPy_MOD_GIL
HPy_MOD_GIL(foo, HPy_MOD_GIL_NOT_USED)
#endif
