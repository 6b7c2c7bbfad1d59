"""tests/e2e/test_list.py: HPyList_New/Check/Append and the list type handle."""
import sys

import pytest


def test_list(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(new, "new", HPyFunc_O)
        static HPy new_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyList_New(ctx, HPyLong_AsSsize_t(ctx, arg));
        }
        HPyDef_METH(check, "check", HPyFunc_O)
        static HPy check_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyLong_FromLong(ctx, HPyList_Check(ctx, arg));
        }
        HPyDef_METH(append, "append", HPyFunc_VARARGS)
        static HPy append_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            if (HPyList_Append(ctx, args[0], args[1]) < 0)
                return HPy_NULL;
            return HPy_Dup(ctx, args[0]);
        }
        HPyDef_METH(build, "build", HPyFunc_NOARGS)
        static HPy build_impl(HPyContext *ctx, HPy self)
        {
            HPy l = HPyList_New(ctx, 0);
            for (long i = 0; i < 5; i++) {
                HPy v = HPyLong_FromLong(ctx, i * i);
                int r = HPyList_Append(ctx, l, v);
                HPy_Close(ctx, v);
                if (r < 0) {
                    HPy_Close(ctx, l);
                    return HPy_NULL;
                }
            }
            return l;
        }
        HPyDef_METH(list_type, "list_type", HPyFunc_NOARGS)
        static HPy list_type_impl(HPyContext *ctx, HPy self)
        {
            return HPy_Dup(ctx, ctx->h_ListType);
        }
        @EXPORT(new) @EXPORT(check) @EXPORT(append) @EXPORT(build) @EXPORT(list_type)
        @INIT
    """)
    assert mod.new(0) == []
    lst = mod.new(3)
    assert len(lst) == 3 and type(lst) is list
    with pytest.raises(SystemError, match="bad argument to internal function"):
        mod.new(-1)

    class Sub(list):
        pass
    assert [mod.check(x) for x in ([], [1], Sub(), (), "abc", {})] == [1, 1, 1, 0, 0, 0]
    lst = [1]
    assert mod.append(lst, "x") is lst and lst == [1, "x"]
    assert mod.append(lst, lst) is lst and lst[2] is lst
    s = Sub()
    mod.append(s, 1)
    assert s == [1]
    with pytest.raises(SystemError, match="bad argument to internal function"):
        mod.append((), 1)
    item = object()
    before = sys.getrefcount(item)
    lst = []
    mod.append(lst, item)
    assert sys.getrefcount(item) == before + 1
    del lst
    assert sys.getrefcount(item) == before
    assert mod.build() == [0, 1, 4, 9, 16]
    assert mod.list_type() is list
