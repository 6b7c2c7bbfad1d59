"""tests/e2e/test_gc_spec.py: HPy_TPFLAGS_HAVE_GC needs a traverse function: its own, a legacy one, or
a collected base's; otherwise ValueError (as HPy 0.9 says)."""
import gc

import pytest

SOURCE = r"""
    typedef struct { HPyField f; } HolderObject;
    HPyType_HELPERS(HolderObject)
    HPyDef_SLOT(Holder_traverse, HPy_tp_traverse)
    static int Holder_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
    {
        HPy_VISIT(&((HolderObject *)self)->f);
        return 0;
    }
    static HPyDef *with_traverse[] = { &Holder_traverse, NULL };
    static HPyDef *without[] = { NULL };

    HPyDef_METH(make, "make", HPyFunc_VARARGS)
    static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        static HPyType_Spec spec = { .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC | HPy_TPFLAGS_BASETYPE,
                                     .basicsize = sizeof(HolderObject) };
        spec.name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
        spec.defines = HPyLong_AsLong(ctx, args[1]) ? with_traverse : without;
        if (nargs < 3)
            return HPyType_FromSpec(ctx, &spec, NULL);
        HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, args[2] }, { (HPyType_SpecParam_Kind)0 } };
        return HPyType_FromSpec(ctx, &spec, params);
    }
    @EXPORT(make)
    @INIT
"""


def test_gc_needs_traverse(compiler):
    mod = compiler.make_module(SOURCE)
    with pytest.raises(ValueError, match=r"'mytest.NoTraverse': HPy_TPFLAGS_HAVE_GC needs an HPy_tp_traverse"):
        mod.make("mytest.NoTraverse", 0)
    base = mod.make("mytest.Base", 1)
    assert gc.is_tracked(base())
    sub = mod.make("mytest.Sub", 0, base)     # inherits the base's traverse
    assert gc.is_tracked(sub())
    with pytest.raises(TypeError, match=r"'mytest.OnList': the struct would overlap the C fields of its base 'list'"):
        mod.make("mytest.OnList", 0, list)          # an Object-shaped struct cannot follow a list's fields
