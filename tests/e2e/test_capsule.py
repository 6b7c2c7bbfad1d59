"""tests/e2e/test_capsule.py: capsules: New with and without destructors, Get and Set of every key, IsValid,
the destructor's arguments, and the errors."""
import gc
import sys

import pytest
from modcache import shared_module

CAPSULE_SOURCE = r"""
    #include <stdio.h>
    /* pointers are reported to Python as small codes: 0 NULL, 1 &payload1, 2 &payload2, 3 &ctx_data, -1 other */
    static long payload1 = 11, payload2 = 22, ctx_data = 33;
    static long code_of(const void *p)
    {
        return p == NULL ? 0 : p == &payload1 ? 1 : p == &payload2 ? 2 : p == &ctx_data ? 3 : -1;
    }
    static void *pointer_of(long code)
    {
        return code == 1 ? (void *)&payload1 : code == 2 ? (void *)&payload2 : code == 3 ? (void *)&ctx_data : NULL;
    }
    /* what the destructors saw */
    static long d_calls = 0, d_pointer = -9, d_context = -9, d2_calls = 0;
    static char d_name[64];
    HPyCapsule_DESTRUCTOR(d1)
    static void d1_impl(const char *name, void *pointer, void *context)
    {
        d_calls++;
        d_pointer = code_of(pointer);
        d_context = code_of(context);
        snprintf(d_name, sizeof d_name, "%s", name ? name : "<null>");
    }
    HPyCapsule_DESTRUCTOR(d2)
    static void d2_impl(const char *name, void *pointer, void *context)
    {
        d2_calls++;
    }
    static HPyCapsule_Destructor bad_destructor = { NULL, NULL };
    static char dyn_name[64];

    /* new(pointer_code, name or None, destructor 0/1/2 (2: invalid)) */
    HPyDef_METH(new, "new", HPyFunc_VARARGS)
    static HPy new_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long code, d;
        HPy h_name;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "lOl", &code, &h_name, &d))
            return HPy_NULL;
        const char *name = HPy_Is(ctx, h_name, ctx->h_None) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, h_name, NULL);
        if (name != NULL) {  /* the capsule keeps the pointer: use storage that outlives the call */
            snprintf(dyn_name, sizeof dyn_name, "%s", name);
            name = dyn_name;
        }
        return HPyCapsule_New(ctx, pointer_of(code), name, d == 1 ? &d1 : d == 2 ? &bad_destructor : NULL);
    }
    /* get(capsule, key, name or None) */
    HPyDef_METH(get, "get", HPyFunc_VARARGS)
    static HPy get_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long key = HPyLong_AsLong(ctx, args[1]);
        const char *name = HPy_Is(ctx, args[2], ctx->h_None) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, args[2], NULL);
        void *r = HPyCapsule_Get(ctx, args[0], (_HPyCapsule_key)key, name);
        if (r == NULL && HPyErr_Occurred(ctx))
            return HPy_NULL;
        if (key == HPyCapsule_key_Name)
            return r == NULL ? HPy_Dup(ctx, ctx->h_None) : HPyUnicode_FromString(ctx, (const char *)r);
        return HPyLong_FromLong(ctx, code_of(r));
    }
    /* set(capsule, key, value): Pointer/Context take a code, Name a str or None, Destructor 0/1/2/3 (3: d2) */
    static char set_name[64];
    HPyDef_METH(set, "set", HPyFunc_VARARGS)
    static HPy set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long key = HPyLong_AsLong(ctx, args[1]);
        void *value;
        if (key == HPyCapsule_key_Name) {
            if (HPy_Is(ctx, args[2], ctx->h_None)) {
                value = NULL;
            } else {
                snprintf(set_name, sizeof set_name, "%s", HPyUnicode_AsUTF8AndSize(ctx, args[2], NULL));
                value = set_name;
            }
        } else if (key == HPyCapsule_key_Destructor) {
            long d = HPyLong_AsLong(ctx, args[2]);
            value = d == 1 ? (void *)&d1 : d == 2 ? (void *)&bad_destructor : d == 3 ? (void *)&d2 : NULL;
        } else {
            value = pointer_of(HPyLong_AsLong(ctx, args[2]));
        }
        if (HPyCapsule_Set(ctx, args[0], (_HPyCapsule_key)key, value) < 0)
            return HPy_NULL;
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(is_valid, "is_valid", HPyFunc_VARARGS)
    static HPy is_valid_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        const char *name = HPy_Is(ctx, args[1], ctx->h_None) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
        int r = HPyCapsule_IsValid(ctx, args[0], name);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
        return HPyLong_FromLong(ctx, r);
    }
    HPyDef_METH(destructor_log, "destructor_log", HPyFunc_NOARGS)
    static HPy destructor_log_impl(HPyContext *ctx, HPy self)
    {
        return HPy_BuildValue(ctx, "(lsllL)", d_calls, d_name, d_pointer, d_context, (long long)d2_calls);
    }
    /* the one-part helpers: (GetPointer, GetName, GetContext) after SetPointer/SetContext/SetName/SetDestructor */
    HPyDef_METH(helpers, "helpers", HPyFunc_O)
    static HPy helpers_impl(HPyContext *ctx, HPy self, HPy capsule)
    {
        if (HPyCapsule_SetPointer(ctx, capsule, &payload2) < 0 || HPyCapsule_SetContext(ctx, capsule, &ctx_data) < 0 ||
            HPyCapsule_SetName(ctx, capsule, "mytest.helpers") < 0 || HPyCapsule_SetDestructor(ctx, capsule, &d2) < 0)
            return HPy_NULL;
        void *p = HPyCapsule_GetPointer(ctx, capsule, "mytest.helpers");
        const char *name = HPyCapsule_GetName(ctx, capsule);
        void *c = HPyCapsule_GetContext(ctx, capsule);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
        return HPy_BuildValue(ctx, "(lsl)", code_of(p), name, code_of(c));
    }
    HPyDef_METH(capsule_type, "capsule_type", HPyFunc_NOARGS)
    static HPy capsule_type_impl(HPyContext *ctx, HPy self)
    {
        return HPy_Dup(ctx, ctx->h_CapsuleType);
    }
    @EXPORT(new) @EXPORT(get) @EXPORT(set) @EXPORT(is_valid) @EXPORT(destructor_log) @EXPORT(capsule_type) @EXPORT(helpers)
    @INIT
"""

POINTER, NAME, CONTEXT, DESTRUCTOR = 0, 1, 2, 3


@pytest.fixture
def mod(compiler):
    return shared_module(compiler, CAPSULE_SOURCE)


def test_new_and_get(mod):
    c = mod.new(1, "mytest.cap", 0)
    assert type(c) is mod.capsule_type() and type(c).__name__ == "PyCapsule"
    assert "mytest.cap" in repr(c)
    assert mod.get(c, POINTER, "mytest.cap") == 1
    assert mod.get(c, NAME, None) == "mytest.cap"
    assert mod.get(c, CONTEXT, None) == 0
    anon = mod.new(2, None, 0)
    assert mod.get(anon, POINTER, None) == 2 and mod.get(anon, NAME, None) is None


def test_get_errors(mod):
    c = mod.new(1, "mytest.cap", 0)
    with pytest.raises(ValueError, match="incorrect name"):
        mod.get(c, POINTER, "other.name")
    with pytest.raises(ValueError):
        mod.get(c, POINTER, None)  # a named capsule asked without its name
    with pytest.raises(ValueError):
        mod.get(c, DESTRUCTOR, None)  # HPy gives no way to read the destructor back
    with pytest.raises(ValueError):
        mod.get(c, 9, None)  # no such key
    with pytest.raises(ValueError):
        mod.get("not a capsule", POINTER, None)
    with pytest.raises(ValueError):
        mod.new(0, "x", 0)  # a capsule needs a pointer


def test_set_every_key(mod):
    c = mod.new(1, "mytest.cap", 0)
    mod.set(c, POINTER, 2)
    assert mod.get(c, POINTER, "mytest.cap") == 2
    mod.set(c, CONTEXT, 3)
    assert mod.get(c, CONTEXT, None) == 3
    mod.set(c, NAME, "renamed")
    assert mod.get(c, NAME, None) == "renamed" and mod.get(c, POINTER, "renamed") == 2
    mod.set(c, NAME, None)
    assert mod.get(c, NAME, None) is None and mod.get(c, POINTER, None) == 2
    with pytest.raises(ValueError):
        mod.set(c, POINTER, 0)  # NULL pointers are refused
    with pytest.raises(ValueError):
        mod.set(c, 9, 1)
    with pytest.raises(ValueError):
        mod.set(42, POINTER, 1)


def test_is_valid(mod):
    c = mod.new(1, "mytest.cap", 0)
    assert mod.is_valid(c, "mytest.cap") == 1
    assert mod.is_valid(c, "mytest.other") == 0
    assert mod.is_valid(c, None) == 0
    assert mod.is_valid(mod.new(1, None, 0), None) == 1
    assert mod.is_valid(42, None) == 0
    import datetime

    assert mod.is_valid(datetime.datetime_CAPI, "datetime.datetime_CAPI") == 1


def test_destructor_runs_with_the_capsule_state(mod):
    calls0 = mod.destructor_log()[0]
    c = mod.new(1, "mytest.dtor", 1)
    mod.set(c, CONTEXT, 3)
    del c
    gc.collect()
    log = mod.destructor_log()
    assert log[:4] == (calls0 + 1, "mytest.dtor", 1, 3)
    c = mod.new(2, None, 1)
    del c
    assert mod.destructor_log()[:4] == (calls0 + 2, "<null>", 2, 0)


def test_set_destructor(mod):
    calls0, _, _, _, d2_0 = mod.destructor_log()
    c = mod.new(1, "x", 1)
    mod.set(c, DESTRUCTOR, 3)  # replace d1 by d2
    del c
    log = mod.destructor_log()
    assert (log[0], log[4]) == (calls0, d2_0 + 1)
    c = mod.new(1, "x", 0)
    mod.set(c, DESTRUCTOR, 1)  # add one later
    mod.set(c, DESTRUCTOR, 0)  # and remove it again
    del c
    log = mod.destructor_log()
    assert (log[0], log[4]) == (calls0, d2_0 + 1)
    c = mod.new(1, "x", 0)
    mod.set(c, DESTRUCTOR, 1)
    del c
    assert mod.destructor_log()[0] == calls0 + 1


def test_one_part_helpers(mod):
    d2_0 = mod.destructor_log()[4]
    c = mod.new(1, "x", 0)
    assert mod.helpers(c) == (2, "mytest.helpers", 3)
    del c
    assert mod.destructor_log()[4] == d2_0 + 1
    with pytest.raises(ValueError):
        mod.helpers("not a capsule")


def test_invalid_destructor(mod):
    with pytest.raises(ValueError, match="Invalid HPyCapsule destructor"):
        mod.new(1, "x", 2)
    c = mod.new(1, "x", 0)
    with pytest.raises(ValueError, match="Invalid HPyCapsule destructor"):
        mod.set(c, DESTRUCTOR, 2)


def test_refcounts(mod):
    c = mod.new(1, "mytest.cap", 0)
    before = sys.getrefcount(c)
    for _ in range(10):
        mod.get(c, POINTER, "mytest.cap")
        mod.set(c, CONTEXT, 3)
        mod.is_valid(c, "mytest.cap")
    after = sys.getrefcount(c)
    assert after == before
