"""tests/e2e/test_err.py: raising, inspecting and clearing exceptions, errno errors, new exception types, warnings, unraisables."""
import errno
import os
import sys
import warnings

import pytest


@pytest.fixture
def mod(compiler):
    return compiler.make_module(r"""
        #include <errno.h>
        HPyDef_METH(set_string, "set_string", HPyFunc_VARARGS)
        static HPy set_string_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            /* the functions that set an exception return HPy_NULL, to end a function in one line */
            return HPyErr_SetString(ctx, args[0], HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL));
        }
        HPyDef_METH(set_object, "set_object", HPyFunc_VARARGS)
        static HPy set_object_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyErr_SetObject(ctx, args[0], args[1]);
        }
        /* sets args[0]("x"), reports (occurred before, occurred after, matches args[1], occurred after clear) */
        HPyDef_METH(inspect, "inspect", HPyFunc_VARARGS)
        static HPy inspect_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            int before = HPyErr_Occurred(ctx);
            HPyErr_SetString(ctx, args[0], "x");
            int after = HPyErr_Occurred(ctx);
            int matches = HPyErr_ExceptionMatches(ctx, args[1]);
            HPyErr_Clear(ctx);
            int cleared = HPyErr_Occurred(ctx);
            return HPy_BuildValue(ctx, "(iiii)", before, after, matches, cleared);
        }
        HPyDef_METH(no_memory, "no_memory", HPyFunc_NOARGS)
        static HPy no_memory_impl(HPyContext *ctx, HPy self)
        {
            return HPyErr_NoMemory(ctx);
        }
        HPyDef_METH(from_errno, "from_errno", HPyFunc_VARARGS)
        static HPy from_errno_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            int e = (int)HPyLong_AsLong(ctx, args[0]);
            errno = e;
            if (nargs == 2)
                return HPyErr_SetFromErrno(ctx, args[1]);
            errno = e;
            return HPyErr_SetFromErrnoWithFilename(ctx, args[1], HPyUnicode_AsUTF8AndSize(ctx, args[2], NULL));
        }
        HPyDef_METH(from_errno_objs, "from_errno_objs", HPyFunc_VARARGS)
        static HPy from_errno_objs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            errno = (int)HPyLong_AsLong(ctx, args[0]);
            if (nargs == 3)
                return HPyErr_SetFromErrnoWithFilenameObject(ctx, args[1], args[2]);
            return HPyErr_SetFromErrnoWithFilenameObjects(ctx, args[1], args[2], args[3]);
        }
        static HPy null_if_none(HPyContext *ctx, HPy h) { return HPy_Is(ctx, h, ctx->h_None) ? HPy_NULL : h; }
        HPyDef_METH(new_exception, "new_exception", HPyFunc_VARARGS)
        static HPy new_exception_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
            if (nargs == 3)
                return HPyErr_NewException(ctx, name, null_if_none(ctx, args[1]), null_if_none(ctx, args[2]));
            const char *doc = HPy_Is(ctx, args[3], ctx->h_None) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, args[3], NULL);
            return HPyErr_NewExceptionWithDoc(ctx, name, doc, null_if_none(ctx, args[1]), null_if_none(ctx, args[2]));
        }
        HPyDef_METH(warn, "warn", HPyFunc_VARARGS)
        static HPy warn_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            int r = HPyErr_WarnEx(ctx, null_if_none(ctx, args[0]), HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL),
                                  HPyLong_AsSsize_t(ctx, args[2]));
            if (r < 0)
                return HPy_NULL;
            return HPyLong_FromLong(ctx, r);
        }
        HPyDef_METH(unraisable, "unraisable", HPyFunc_VARARGS)
        static HPy unraisable_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPyErr_SetString(ctx, args[0], "lost");
            HPyErr_WriteUnraisable(ctx, args[1]);
            return HPyLong_FromLong(ctx, HPyErr_Occurred(ctx));
        }
        HPyDef_METH(format, "format", HPyFunc_VARARGS)
        static HPy format_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy r = HPyErr_Format(ctx, args[0], "%s=%d, %R, %S, %%, %zd", "n", 42, args[1], args[1], (HPy_ssize_t)-7);
            return HPy_IsNull(r) ? HPy_NULL : HPyErr_Format(ctx, ctx->h_SystemError, "not NULL");
        }
        /* each of the four returns HPy_NULL, also when its result is stored */
        HPyDef_METH(null_results, "null_results", HPyFunc_NOARGS)
        static HPy null_results_impl(HPyContext *ctx, HPy self)
        {
            /* each error cleared before the next is set: creating an exception object calls Python
               code, which a debug build of CPython refuses to do while an error is set */
            HPy r[4];
            r[0] = HPyErr_SetString(ctx, ctx->h_ValueError, "a");
            HPyErr_Clear(ctx);
            r[1] = HPyErr_SetObject(ctx, ctx->h_ValueError, ctx->h_None);
            HPyErr_Clear(ctx);
            r[2] = HPyErr_NoMemory(ctx);
            HPyErr_Clear(ctx);
            errno = ENOENT;
            r[3] = HPyErr_SetFromErrnoWithFilenameObjects(ctx, ctx->h_OSError, HPy_NULL, HPy_NULL);
            HPyErr_Clear(ctx);
            long n = 0;
            for (int i = 0; i < 4; i++)
                n += HPy_IsNull(r[i]);
            return HPyLong_FromLong(ctx, n);
        }
        @EXPORT(null_results) @EXPORT(set_string) @EXPORT(set_object) @EXPORT(inspect) @EXPORT(no_memory) @EXPORT(from_errno)
        @EXPORT(from_errno_objs) @EXPORT(new_exception) @EXPORT(warn) @EXPORT(unraisable) @EXPORT(format)
        @INIT
    """)


def test_set_string_object(mod):
    with pytest.raises(ValueError, match="^bad value \u00e9$") as exc:
        mod.set_string(ValueError, "bad value \u00e9")
    assert exc.value.args == ("bad value \u00e9",)
    with pytest.raises(KeyError) as exc:
        mod.set_object(KeyError, "k")
    assert exc.value.args == ("k",)
    with pytest.raises(TypeError) as exc:
        mod.set_object(TypeError, (1, 2))
    assert exc.value.args == (1, 2)                 # a tuple value is the argument list
    err = ValueError("ready made")
    with pytest.raises(ValueError) as exc:
        mod.set_object(ValueError, err)
    assert exc.value is err
    with pytest.raises(OSError) as exc:
        mod.set_object(OSError, (2, "gone"))
    assert type(exc.value) is FileNotFoundError and exc.value.errno == 2 and exc.value.strerror == "gone"

    class MyErr(Exception):
        pass
    with pytest.raises(MyErr, match="^mine$"):
        mod.set_string(MyErr, "mine")


def test_setters_return_null(mod):
    assert mod.null_results() == 4


def test_occurred_matches_clear(mod):
    assert mod.inspect(ValueError, ValueError) == (0, 1, 1, 0)
    assert mod.inspect(KeyError, LookupError) == (0, 1, 1, 0)
    assert mod.inspect(KeyError, IndexError) == (0, 1, 0, 0)
    assert mod.inspect(KeyError, (IndexError, KeyError)) == (0, 1, 1, 0)
    assert mod.inspect(ZeroDivisionError, Exception) == (0, 1, 1, 0)
    with pytest.raises(MemoryError):
        mod.no_memory()


def test_errno(mod):
    with pytest.raises(FileNotFoundError) as exc:
        mod.from_errno(errno.ENOENT, OSError)
    assert exc.value.errno == errno.ENOENT
    assert exc.value.strerror == os.strerror(errno.ENOENT)
    assert exc.value.filename is None
    with pytest.raises(PermissionError) as exc:
        mod.from_errno(errno.EACCES, OSError, "/some/file")
    assert (exc.value.errno, exc.value.strerror, exc.value.filename) == \
        (errno.EACCES, os.strerror(errno.EACCES), "/some/file")
    assert str(exc.value) == "[Errno %d] %s: '/some/file'" % (errno.EACCES, os.strerror(errno.EACCES))
    with pytest.raises(FileExistsError) as exc:
        mod.from_errno_objs(errno.EEXIST, OSError, b"bytes-name")
    assert exc.value.filename == b"bytes-name" and exc.value.filename2 is None
    with pytest.raises(IsADirectoryError) as exc:
        mod.from_errno_objs(errno.EISDIR, OSError, "src", "dst")
    assert (exc.value.filename, exc.value.filename2) == ("src", "dst")
    assert str(exc.value) == "[Errno %d] %s: 'src' -> 'dst'" % (errno.EISDIR, os.strerror(errno.EISDIR))
    with pytest.raises(OSError) as exc:
        mod.from_errno_objs(errno.ENOENT, OSError, None, None)
    assert exc.value.filename is None
    with pytest.raises(InterruptedError):          # EINTR runs the signal handlers and raises
        mod.from_errno(errno.EINTR, OSError)


def test_new_exception(mod):
    E = mod.new_exception("mymod.MyError", None, None)
    assert issubclass(E, Exception) and E.__bases__ == (Exception,)
    assert E.__name__ == "MyError" and E.__module__ == "mymod" and E.__qualname__ == "MyError"
    assert E.__doc__ is None
    with pytest.raises(E, match="^boom$"):
        mod.set_string(E, "boom")
    E2 = mod.new_exception("pkg.sub.Err2", KeyError, {"extra": 5})
    assert E2.__bases__ == (KeyError,) and E2.extra == 5 and E2.__module__ == "pkg.sub"
    E3 = mod.new_exception("m.E3", (ValueError, TypeError), None)
    assert E3.__bases__ == (ValueError, TypeError)
    D = mod.new_exception("m.Documented", None, None, "the doc")
    assert D.__doc__ == "the doc" and D.__bases__ == (Exception,)
    D2 = mod.new_exception("m.NoDoc", E, None, None)
    assert D2.__doc__ is None and D2.__bases__ == (E,)
    with pytest.raises(SystemError, match="^PyErr_NewException: name must be module.class$"):
        mod.new_exception("nodot", None, None)
    with pytest.raises(SystemError, match="^PyErr_NewException: name must be module.class$"):
        mod.new_exception("nodot", None, None, "doc")


def test_warn(mod):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert mod.warn(UserWarning, "careful \u00e9", 1) == 0
        assert mod.warn(DeprecationWarning, "old", 1) == 0
        assert mod.warn(None, "default category", 1) == 0
    assert [(x.category, str(x.message)) for x in w] == [
        (UserWarning, "careful \u00e9"), (DeprecationWarning, "old"), (RuntimeWarning, "default category")]
    assert w[0].filename == __file__            # stack level 1: the Python caller
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="^now an error$"):
            mod.warn(UserWarning, "now an error", 1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("ignore")
        assert mod.warn(UserWarning, "ignored", 1) == 0
    assert w == []


def test_write_unraisable(mod):
    seen = []
    old = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        marker = object()
        assert mod.unraisable(ValueError, marker) == 0      # the error is cleared
    finally:
        sys.unraisablehook = old
    assert len(seen) == 1
    assert seen[0].exc_type is ValueError
    assert str(seen[0].exc_value) == "lost"
    assert seen[0].object is marker


def test_format(mod):
    with pytest.raises(ValueError, match=r"^n=42, 'x', x, %, -7$") as exc:
        mod.format(ValueError, "x")
    assert exc.value.args == ("n=42, 'x', x, %, -7",)
    with pytest.raises(KeyError) as exc:
        mod.format(KeyError, [1])
    assert exc.value.args == ("n=42, [1], [1], %, -7",)
