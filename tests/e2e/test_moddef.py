"""tests/e2e/test_moddef.py: the module definition in full: docs, several exec slots with types and globals,
HPy_mod_create's errors, legacy_methods (hybrid and CPython ABI; refused in universal) and refused definitions."""
import sys
import types

import pytest


def test_no_doc(compiler):
    mod = compiler.make_module(r"""
        #include "hpy.h"
        HPyDef_METH(f, "f", HPyFunc_NOARGS)
        static HPy f_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 1); }
        static HPyDef *defines[] = { &f, NULL };
        static HPyModuleDef moddef = { NULL, 0, NULL, defines, NULL };
        HPy_MODINIT(nodoc, moddef)
        HPy_MOD_GIL(nodoc, HPy_MOD_GIL_NOT_USED)
    """, name="nodoc")
    assert mod.__doc__ is None and mod.f() == 1 and mod.__name__ == "nodoc"


def test_exec_slots_types_and_globals(compiler):
    """Several exec slots share globals: the first stores, the next ones read; types are added too."""
    mod = compiler.make_module(r"""
        static HPyGlobal g_counter, g_type;
        typedef struct { long v; } P;
        static HPyType_Spec P_spec = { .name = "mytest.P", .basicsize = sizeof(P), .flags = HPy_TPFLAGS_DEFAULT };
        HPyDef_SLOT(exec_a, HPy_mod_exec)
        static int exec_a_impl(HPyContext *ctx, HPy module)
        {
            HPy t = HPyType_FromSpec(ctx, &P_spec, NULL);
            if (HPy_IsNull(t))
                return -1;
            HPyGlobal_Store(ctx, &g_type, t);
            HPy one = HPyLong_FromLong(ctx, 1);
            HPyGlobal_Store(ctx, &g_counter, one);
            HPy_Close(ctx, one);
            HPy_Close(ctx, t);
            return 0;
        }
        HPyDef_SLOT(exec_b, HPy_mod_exec)
        static int exec_b_impl(HPyContext *ctx, HPy module)
        {
            HPy t = HPyGlobal_Load(ctx, g_type);
            HPy c = HPyGlobal_Load(ctx, g_counter);
            HPy two = HPyLong_FromLong(ctx, 2);
            HPy c2 = HPy_Add(ctx, c, two);
            HPyGlobal_Store(ctx, &g_counter, c2);
            int r = HPy_SetAttr_s(ctx, module, "P", t);
            HPy_Close(ctx, t);
            HPy_Close(ctx, c);
            HPy_Close(ctx, two);
            HPy_Close(ctx, c2);
            return r;
        }
        HPyDef_METH(state, "state", HPyFunc_NOARGS)
        static HPy state_impl(HPyContext *ctx, HPy self)
        {
            HPy t = HPyGlobal_Load(ctx, g_type), c = HPyGlobal_Load(ctx, g_counter);
            HPy r = HPyTuple_Pack(ctx, 2, t, c);
            HPy_Close(ctx, t);
            HPy_Close(ctx, c);
            return r;
        }
        @EXPORT(exec_a) @EXPORT(exec_b) @EXPORT(state)
        @EXPORT_GLOBAL(g_counter) @EXPORT_GLOBAL(g_type)
        @INIT
    """)
    assert mod.state() == (mod.P, 3)
    assert mod.P.__name__ == "P"


def test_exec_failure_without_exception(compiler):
    with pytest.raises(SystemError, match="^HPy_mod_exec of module 'mytest' failed without an exception$"):
        compiler.make_module(r"""
            HPyDef_SLOT(bad_exec, HPy_mod_exec)
            static int bad_exec_impl(HPyContext *ctx, HPy module) { return -1; }
            @EXPORT(bad_exec)
            @INIT
        """)


CREATE = r"""
    #include "hpy.h"
    HPyDef_SLOT(create, HPy_mod_create)
    static HPy create_impl(HPyContext *ctx, HPy spec)
    {
        %s
    }
    static HPyDef *defines[] = { &create, NULL };
    %s
    static HPyModuleDef moddef = { NULL, 0, NULL, defines, %s };
    HPy_MODINIT(created, moddef)
    HPy_MOD_GIL(created, HPy_MOD_GIL_NOT_USED)
"""


def test_mod_create_raises(compiler):
    src = CREATE % ('HPyErr_SetString(ctx, ctx->h_ImportError, "create refused"); return HPy_NULL;', "", "NULL")
    with pytest.raises(ImportError, match="^create refused$"):
        compiler.make_module(src, name="created")


def test_mod_create_null_without_exception(compiler):
    src = CREATE % ("return HPy_NULL;", "", "NULL")
    with pytest.raises(SystemError):
        compiler.make_module(src, name="created")


def test_mod_create_returns_spec_name(compiler):
    """mod_create may return any object; here a plain namespace carrying the spec's name."""
    src = CREATE % (r"""
        HPy name = HPy_GetAttr_s(ctx, spec, "name");
        if (HPy_IsNull(name))
            return HPy_NULL;
        HPy ns = HPyDict_New(ctx);
        HPy_SetItem_s(ctx, ns, "name", name);
        HPy_Close(ctx, name);
        return ns;""", "", "NULL")
    m = compiler.make_module(src, name="created")
    assert m == {"name": "created"}


def test_mod_create_with_globals_refused(compiler):
    src = CREATE % ("return HPy_NULL;", "static HPyGlobal g; static HPyGlobal *globals[] = { &g, NULL };", "globals")
    with pytest.raises(SystemError, match="^HPyModuleDef defines a HPy_mod_create slot and also globals "
                                          r"\(HPy module 'created'\): a module with HPy_mod_create may not have other"):
        compiler.make_module(src, name="created")


def test_member_in_module_refused(compiler):
    with pytest.raises(SystemError, match="^HPy module 'mytest': only methods and the HPy_mod_create/HPy_mod_exec"):
        compiler.make_module(r"""
            HPyDef_MEMBER(m, "m", HPyMember_INT, 0)
            @EXPORT(m)
            @INIT
        """)


def test_bad_method_signature_in_module(compiler):
    # The message alone, as HPy 0.9 gives it; a note says which module and function.
    with pytest.raises(ValueError) as info:
        compiler.make_module(r"""
            static HPy f(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, self); }
            static HPyDef fdef = { .kind = HPyDef_Kind_Meth, .meth = { .name = "f", .impl = (HPyCFunction)f,
                .cpy_trampoline = (cpy_PyCFunction)(void (*)(void))f, .signature = HPyFunc_UNARYFUNC } };
            @EXPORT(fdef)
            @INIT
        """)
    # HPy 0.9's message, then a note naming the module (on a second line of the message where the
    # interpreter has no exception notes, Python 3.10 and older)
    assert "\n".join([str(info.value)] + getattr(info.value, "__notes__", [])) == (
        "Unsupported HPyMeth signature\nHPy module 'mytest': function 'f' has an unsupported signature 8 "
        "(HPyFunc_VARARGS, HPyFunc_KEYWORDS, HPyFunc_NOARGS or HPyFunc_O expected)")


LEGACY_SOURCE = r"""
    #include "hpy.h"
    #include <Python.h>
    static PyObject *legacy_add(PyObject *self, PyObject *args)
    {
        long a, b;
        if (!PyArg_ParseTuple(args, "ll", &a, &b))
            return NULL;
        return PyLong_FromLong(a + b);
    }
    static PyMethodDef legacy_methods[] = {
        { "legacy_add", legacy_add, METH_VARARGS, "adds with the C API" },
        { NULL, NULL, 0, NULL }
    };
    HPyDef_METH(hpy_f, "hpy_f", HPyFunc_NOARGS)
    static HPy hpy_f_impl(HPyContext *ctx, HPy self) { return HPyUnicode_FromString(ctx, "hpy"); }
    static HPyDef *defines[] = { &hpy_f, NULL };
    static HPyModuleDef moddef = { "with legacy methods", 0, legacy_methods, defines, NULL };
    HPy_MODINIT(legacymod, moddef)
    HPy_MOD_GIL(legacymod, HPy_MOD_GIL_NOT_USED)
"""


@pytest.mark.abis("cpython", "hybrid")
def test_legacy_methods(compiler):
    mod = compiler.make_module(LEGACY_SOURCE, name="legacymod")
    assert mod.legacy_add(2, 3) == 5 and mod.legacy_add.__doc__ == "adds with the C API"
    assert mod.hpy_f() == "hpy" and mod.__doc__ == "with legacy methods"
    with pytest.raises(TypeError):
        mod.legacy_add("x", 1)


@pytest.mark.abis("universal")
def test_legacy_methods_refused_in_universal(compiler):
    """A universal module has no C API; legacy_methods (here an array of the same layout) are refused."""
    src = r"""
        #include "hpy.h"
        struct fake_method_def { const char *name; void *meth; int flags; const char *doc; };
        static struct fake_method_def legacy_methods[] = { { "x", NULL, 0, NULL }, { NULL, NULL, 0, NULL } };
        static HPyDef *defines[] = { NULL };
        static HPyModuleDef moddef = { "doc", 0, (cpy_PyMethodDef *)legacy_methods, defines, NULL };
        HPy_MODINIT(legacymod, moddef)
        HPy_MOD_GIL(legacymod, HPy_MOD_GIL_NOT_USED)
    """
    with pytest.raises(SystemError, match="^HPy module 'legacymod': legacy_methods need the hybrid or CPython ABI"):
        compiler.make_module(src, name="legacymod")


def test_globals_of_two_modules_are_separate(compiler):
    """Each module's globals are its own; the same source loaded under two names keeps two values."""
    src = r"""
        static HPyGlobal g;
        HPyDef_METH(put, "put", HPyFunc_O)
        static HPy put_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPyGlobal_Store(ctx, &g, arg);
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(take, "take", HPyFunc_NOARGS)
        static HPy take_impl(HPyContext *ctx, HPy self)
        {
            return HPyGlobal_Load(ctx, g);
        }
        HPyDef_SLOT(init, HPy_mod_exec)
        static int init_impl(HPyContext *ctx, HPy module)
        {
            HPyGlobal_Store(ctx, &g, ctx->h_None);
            return 0;
        }
        @EXPORT(put) @EXPORT(take) @EXPORT(init) @EXPORT_GLOBAL(g)
        @INIT
    """
    m1 = compiler.make_module(src, name="glob1")
    m2 = compiler.make_module(src, name="glob2")
    m1.put("one")
    m2.put("two")
    assert (m1.take(), m2.take()) == ("one", "two")
    obj = object()
    before = sys.getrefcount(obj)
    m1.put(obj)
    held = sys.getrefcount(obj)
    m1.put(None)
    after = sys.getrefcount(obj)
    assert (held, after) == (before + 1, before)
