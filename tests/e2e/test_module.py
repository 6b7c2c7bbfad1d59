"""tests/e2e/test_module.py: module definitions: doc, exec slots in order, HPyGlobal, HPy_mod_create and the refused definitions."""
import types

import pytest


def test_doc_and_exec_order(compiler):
    mod = compiler.make_module("""
        static int append_step(HPyContext *ctx, HPy module, const char *step)
        {
            HPy log = HPy_GetAttr_s(ctx, module, "log");
            if (HPy_IsNull(log)) {
                HPyErr_Clear(ctx);
                log = HPyList_New(ctx, 0);
                if (HPy_IsNull(log) || HPy_SetAttr_s(ctx, module, "log", log) < 0)
                    return -1;
            }
            HPy s = HPyUnicode_FromString(ctx, step);
            int r = HPyList_Append(ctx, log, s);
            HPy_Close(ctx, s);
            HPy_Close(ctx, log);
            return r;
        }
        HPyDef_SLOT(exec1, HPy_mod_exec)
        static int exec1_impl(HPyContext *ctx, HPy module) { return append_step(ctx, module, "first"); }
        HPyDef_SLOT(exec2, HPy_mod_exec)
        static int exec2_impl(HPyContext *ctx, HPy module)
        {
            /* the methods exist already when exec slots run */
            if (!HPy_HasAttr_s(ctx, module, "f"))
                return append_step(ctx, module, "no f");
            return append_step(ctx, module, "second");
        }
        HPyDef_SLOT(exec3, HPy_mod_exec)
        static int exec3_impl(HPyContext *ctx, HPy module) { return append_step(ctx, module, "third"); }
        HPyDef_METH(f, "f", HPyFunc_NOARGS, .doc = "f's doc")
        static HPy f_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 7); }
        @EXPORT(exec1) @EXPORT(f) @EXPORT(exec2) @EXPORT(exec3)
        @INIT
    """)
    assert mod.__doc__ == "mytest test module"
    assert mod.log == ["first", "second", "third"]
    assert mod.f() == 7 and mod.f.__doc__ == "f's doc"
    assert isinstance(mod, types.ModuleType)


def test_exec_failure(compiler):
    src = """
        HPyDef_SLOT(exec1, HPy_mod_exec)
        static int exec1_impl(HPyContext *ctx, HPy module)
        {
            HPyErr_SetString(ctx, ctx->h_RuntimeError, "exec refused");
            return -1;
        }
        @EXPORT(exec1)
        @INIT
    """
    with pytest.raises(RuntimeError, match="^exec refused$"):
        compiler.make_module(src)


def test_globals(compiler):
    mod = compiler.make_module("""
        static HPyGlobal g_obj;
        static HPyGlobal g_count;
        HPyDef_SLOT(init_globals, HPy_mod_exec)
        static int init_globals_impl(HPyContext *ctx, HPy module)
        {
            HPy zero = HPyLong_FromLong(ctx, 0);
            HPyGlobal_Store(ctx, &g_count, zero);
            HPyGlobal_Store(ctx, &g_obj, ctx->h_None);
            HPy_Close(ctx, zero);
            return 0;
        }
        HPyDef_METH(store, "store", HPyFunc_O)
        static HPy store_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPyGlobal_Store(ctx, &g_obj, arg);
            HPy c = HPyGlobal_Load(ctx, g_count);
            HPy one = HPyLong_FromLong(ctx, 1);
            HPy c1 = HPy_Add(ctx, c, one);
            HPyGlobal_Store(ctx, &g_count, c1);
            HPy_Close(ctx, c);
            HPy_Close(ctx, one);
            HPy_Close(ctx, c1);
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(load, "load", HPyFunc_NOARGS)
        static HPy load_impl(HPyContext *ctx, HPy self)
        {
            HPy o = HPyGlobal_Load(ctx, g_obj);
            HPy c = HPyGlobal_Load(ctx, g_count);
            HPy r = HPyTuple_Pack(ctx, 2, o, c);
            HPy_Close(ctx, o);
            HPy_Close(ctx, c);
            return r;
        }
        @EXPORT(init_globals) @EXPORT(store) @EXPORT(load)
        @EXPORT_GLOBAL(g_obj) @EXPORT_GLOBAL(g_count)
        @INIT
    """)
    import sys
    assert mod.load() == (None, 0)
    obj = object()
    before = sys.getrefcount(obj)
    mod.store(obj)
    assert mod.load()[0] is obj
    assert sys.getrefcount(obj) == before + 1        # the global holds one reference
    mod.store([1, 2])
    assert sys.getrefcount(obj) == before            # and releases it when replaced
    assert mod.load() == ([1, 2], 2)
    for i in range(10):
        mod.store(i)
    assert mod.load() == (9, 12)


CREATE_SOURCE = """
#include "hpy.h"
HPyDef_SLOT(create, HPy_mod_create)
static HPy create_impl(HPyContext *ctx, HPy spec)
{
    /* "the module" is types.<FACTORY>(spec.name) + an attribute: any object but a module object */
    HPy types_mod = HPyImport_ImportModule(ctx, "types");
    if (HPy_IsNull(types_mod))
        return HPy_NULL;
    HPy factory = HPy_GetAttr_s(ctx, types_mod, "%(factory)s");
    HPy_Close(ctx, types_mod);
    if (HPy_IsNull(factory))
        return HPy_NULL;
    HPy name = HPy_GetAttr_s(ctx, spec, "name");
    HPy result = HPy_IsNull(name) ? HPy_NULL : HPy_Call(ctx, factory, &name, 1, HPy_NULL);
    HPy_Close(ctx, factory);
    HPy_Close(ctx, name);
    if (!HPy_IsNull(result)) {
        HPy v = HPyLong_FromLong(ctx, 42);
        int r = HPy_SetAttr_s(ctx, result, "created_by", v);
        HPy_Close(ctx, v);
        if (r < 0) {
            HPy_Close(ctx, result);
            return HPy_NULL;
        }
    }
    return result;
}
%(extra_defs)s
static HPyDef *defines[] = { &create, %(extra)s NULL };
static HPyModuleDef moddef = { %(doc)s, 0, NULL, defines, NULL };
HPy_MODINIT(%(name)s, moddef)
HPy_MOD_GIL(%(name)s, HPy_MOD_GIL_NOT_USED)
"""


def test_mod_create_module_refused(compiler):
    # HPy_mod_create is for objects that are not modules: the host creates the modules.
    src = CREATE_SOURCE % {"factory": "ModuleType", "extra_defs": "", "extra": "", "doc": "NULL",
                           "name": "mycreate"}
    with pytest.raises(SystemError, match="^HPy module 'mycreate': HPy_mod_create slot returned a builtin module "
                                          "object. This is currently not supported"):
        compiler.make_module(src, name="mycreate")


def test_mod_create_custom_object(compiler):
    src = CREATE_SOURCE % {"factory": "SimpleNamespace", "extra_defs": "", "extra": "", "doc": "NULL",
                           "name": "mycreate"}
    src = src.replace("HPy_Call(ctx, factory, &name, 1, HPy_NULL)", "HPy_Call(ctx, factory, &name, 0, HPy_NULL)")
    obj = compiler.make_module(src, name="mycreate")
    assert type(obj) is types.SimpleNamespace
    assert obj.created_by == 42


METHOD_DEF = """
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, ctx->h_None); }
"""


def test_mod_create_with_methods(compiler):
    src = CREATE_SOURCE % {"factory": "ModuleType", "extra_defs": METHOD_DEF, "extra": "&f,", "doc": "NULL", "name": "badcreate"}
    with pytest.raises(SystemError, match="^HPyModuleDef defines a HPy_mod_create slot and also methods "
                                          r"\(HPy module 'badcreate'\): a module with HPy_mod_create may not have other"):
        compiler.make_module(src, name="badcreate")


def test_mod_create_with_doc(compiler):
    src = CREATE_SOURCE % {"factory": "ModuleType", "extra_defs": "", "extra": "", "doc": '"a doc"', "name": "badcreate2"}
    with pytest.raises(SystemError, match="^HPyModuleDef defines a HPy_mod_create slot and also a doc string "
                                          r"\(HPy module 'badcreate2'\)"):
        compiler.make_module(src, name="badcreate2")


def test_module_state_refused(compiler):
    src = """
        #include "hpy.h"
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, ctx->h_None); }
        static HPyDef *defines[] = { &f, NULL };
        static HPyModuleDef moddef = { "doc", 16, NULL, defines, NULL };
        HPy_MODINIT(statemod, moddef)
        HPy_MOD_GIL(statemod, HPy_MOD_GIL_NOT_USED)
    """
    with pytest.raises(SystemError, match="^HPy module 'statemod': module state is not supported"):
        compiler.make_module(src, name="statemod")


def test_negative_size_refused(compiler):
    src = """
        #include "hpy.h"
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, ctx->h_None); }
        static HPyDef *defines[] = { &f, NULL };
        static HPyModuleDef moddef = { "doc", -1, NULL, defines, NULL };
        HPy_MODINIT(negmod, moddef)
        HPy_MOD_GIL(negmod, HPy_MOD_GIL_NOT_USED)
    """
    with pytest.raises(SystemError, match=r"^HPy module 'negmod': HPy does not permit HPyModuleDef\.size < 0 \(got -1\)$"):
        compiler.make_module(src, name="negmod")


def test_mod_create_with_exec_refused(compiler):
    exec_def = """
HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy module) { return 0; }
"""
    src = CREATE_SOURCE % {"factory": "SimpleNamespace", "extra_defs": exec_def, "extra": "&ex,", "doc": "NULL",
                           "name": "badcreate3"}
    with pytest.raises(SystemError, match="^HPyModuleDef defines a HPy_mod_create slot and also HPy_mod_exec slots "
                                          r"\(HPy module 'badcreate3'\)"):
        compiler.make_module(src, name="badcreate3")


def test_two_mod_create_slots_refused(compiler):
    src = CREATE_SOURCE % {"factory": "SimpleNamespace", "extra_defs": "", "extra": "&create,", "doc": "NULL",
                           "name": "badcreate4"}
    with pytest.raises(SystemError, match="^HPy module 'badcreate4': HPyModuleDef.defines has more than one "
                                          "HPy_mod_create slot$"):
        compiler.make_module(src, name="badcreate4")


def test_unknown_slot_refused(compiler):
    src = """
        HPyDef_SLOT(r, HPy_tp_repr)
        static HPy r_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, ctx->h_None); }
        @EXPORT(r)
        @INIT
    """
    with pytest.raises(SystemError, match="^HPy module 'mytest': slot [0-9]+ is not a module slot$"):
        compiler.make_module(src)


@pytest.mark.abis("cpython")
def test_module_create_is_refused(compiler):
    # Declared in the CPython ABI for sources written against HPy 0.9 (which never defined it):
    # a call is a SystemError, not an undefined symbol at load time.
    mod = compiler.make_module("""
        static HPyModuleDef other = { .doc = "other" };
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self) { return HPyModule_Create(ctx, &other); }
        @EXPORT(f)
        @INIT
    """)
    with pytest.raises(SystemError, match="HPyModule_Create is not supported"):
        mod.f()
