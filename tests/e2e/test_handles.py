"""tests/e2e/test_handles.py: HPy_Dup/Close/Is/IsNull and every handle constant of the context."""
import builtins
import sys

import pytest

EXCEPTIONS = [
    "BaseException", "Exception", "StopAsyncIteration", "StopIteration", "GeneratorExit",
    "ArithmeticError", "LookupError", "AssertionError", "AttributeError", "BufferError", "EOFError",
    "FloatingPointError", "OSError", "ImportError", "ModuleNotFoundError", "IndexError", "KeyError",
    "KeyboardInterrupt", "MemoryError", "NameError", "OverflowError", "RuntimeError", "RecursionError",
    "NotImplementedError", "SyntaxError", "IndentationError", "TabError", "ReferenceError", "SystemError",
    "SystemExit", "TypeError", "UnboundLocalError", "UnicodeError", "UnicodeEncodeError",
    "UnicodeDecodeError", "UnicodeTranslateError", "ValueError", "ZeroDivisionError", "BlockingIOError",
    "BrokenPipeError", "ChildProcessError", "ConnectionError", "ConnectionAbortedError",
    "ConnectionRefusedError", "ConnectionResetError", "FileExistsError", "FileNotFoundError",
    "InterruptedError", "IsADirectoryError", "NotADirectoryError", "PermissionError",
    "ProcessLookupError", "TimeoutError",
    "Warning", "UserWarning", "DeprecationWarning", "PendingDeprecationWarning", "SyntaxWarning",
    "RuntimeWarning", "FutureWarning", "ImportWarning", "UnicodeWarning", "BytesWarning",
    "ResourceWarning",
]

TYPES = {
    "BaseObjectType": object, "TypeType": type, "BoolType": bool, "LongType": int, "FloatType": float,
    "UnicodeType": str, "TupleType": tuple, "ListType": list, "ComplexType": complex, "BytesType": bytes,
    "MemoryViewType": memoryview, "CapsuleType": None, "SliceType": slice,
}


def test_constants(compiler):
    names = ["None", "True", "False", "NotImplemented", "Ellipsis", "Builtins"] + EXCEPTIONS + list(TYPES)
    cases = "\n".join('    if (i == %d) return HPy_Dup(ctx, ctx->h_%s);' % (i, n) for i, n in enumerate(names))
    mod = compiler.make_module("""
        HPyDef_METH(get, "get", HPyFunc_O)
        static HPy get_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            long i = HPyLong_AsLong(ctx, arg);
            if (i == -1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
        %s
            return HPyErr_Format(ctx, ctx->h_IndexError, "no constant %%ld", i);
        }
        @EXPORT(get)
        @INIT
    """ % cases)
    got = {n: mod.get(i) for i, n in enumerate(names)}
    assert got["None"] is None
    assert got["True"] is True
    assert got["False"] is False
    assert got["NotImplemented"] is NotImplemented
    assert got["Ellipsis"] is Ellipsis
    assert got["Builtins"] is builtins.__dict__  # the namespace, as HPy 0.9 hosts give it
    for name in EXCEPTIONS:
        assert got[name] is getattr(builtins, name), name
    for name, tp in TYPES.items():
        if tp is not None:
            assert got[name] is tp, name
    import datetime
    assert got["CapsuleType"] is type(datetime.datetime_CAPI)
    with pytest.raises(IndexError, match="no constant 999"):
        mod.get(999)


def test_dup_close_refcounts(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(dup_n, "dup_n", HPyFunc_VARARGS)
        static HPy dup_n_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            /* dup args[0] n times, close them again, return one more dup */
            long n = HPyLong_AsLong(ctx, args[1]);
            HPy hs[16];
            for (long i = 0; i < n; i++)
                hs[i] = HPy_Dup(ctx, args[0]);
            for (long i = 0; i < n; i++)
                HPy_Close(ctx, hs[i]);
            return HPy_Dup(ctx, args[0]);
        }
        HPyDef_METH(close_null, "close_null", HPyFunc_NOARGS)
        static HPy close_null_impl(HPyContext *ctx, HPy self)
        {
            HPy_Close(ctx, HPy_NULL);   /* closing HPy_NULL does nothing */
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(keep, "keep", HPyFunc_O)
        static HPy keep_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            /* returns the dup and leaks nothing else: the result holds one reference */
            HPy a = HPy_Dup(ctx, arg);
            HPy b = HPy_Dup(ctx, a);
            HPy_Close(ctx, a);
            return b;
        }
        @EXPORT(dup_n)
        @EXPORT(close_null)
        @EXPORT(keep)
        @INIT
    """)
    obj = object()
    before = sys.getrefcount(obj)
    for _ in range(3):
        assert mod.dup_n(obj, 10) is obj
    assert sys.getrefcount(obj) == before
    assert mod.keep(obj) is obj
    assert sys.getrefcount(obj) == before
    assert mod.close_null() is None


def test_is_isnull(compiler):
    mod = compiler.make_module("""
        HPyDef_METH(is_, "is_", HPyFunc_VARARGS)
        static HPy is__impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy d = HPy_Dup(ctx, args[0]);
            int r1 = HPy_Is(ctx, args[0], args[1]);
            int r2 = HPy_Is(ctx, d, args[0]);   /* a dup is the same object */
            HPy_Close(ctx, d);
            return HPy_BuildValue(ctx, "(ii)", r1, r2);
        }
        HPyDef_METH(isnull, "isnull", HPyFunc_NOARGS)
        static HPy isnull_impl(HPyContext *ctx, HPy self)
        {
            HPy n = HPy_NULL;
            return HPy_BuildValue(ctx, "(iiii)", HPy_IsNull(n), HPy_IsNull(ctx->h_None),
                                  HPy_IsNull(self), HPy_Is(ctx, n, n));
        }
        @EXPORT(is_)
        @EXPORT(isnull)
        @INIT
    """)
    a, b = [], []
    assert mod.is_(a, a) == (1, 1)
    assert mod.is_(a, b) == (0, 1)
    assert mod.is_(None, None) == (1, 1)
    assert mod.is_(1, True) == (0, 1)
    assert mod.isnull() == (1, 0, 0, 1)
