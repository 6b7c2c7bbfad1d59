"""tests/e2e/test_legacy.py: porting support: HPy_FromPyObject / HPy_AsPyObject, legacy module methods,
and Legacy-shape types with legacy slots, methods, members and getsets (hybrid and CPython ABIs)."""
import gc
import sys

import pytest

# A module that mixes C-API code and HPy code, as a partly ported extension does.
MIXED = r"""
#include "hpy.h"
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    long count;
    PyObject *payload;   /* C-API code owns this reference */
} CounterObject;

HPyType_LEGACY_HELPERS(CounterObject)

static long g_deallocs = 0;

/* ----- C API ----- */
static PyObject *Counter_bump(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"by", NULL};
    long by = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l", kwlist, &by))
        return NULL;
    ((CounterObject *)self)->count += by;
    return PyLong_FromLong(((CounterObject *)self)->count);
}

static PyObject *Counter_get_payload(PyObject *self, void *closure)
{
    (void)closure;
    PyObject *p = ((CounterObject *)self)->payload;
    return Py_NewRef(p ? p : Py_None);
}

static int Counter_set_payload(PyObject *self, PyObject *value, void *closure)
{
    (void)closure;
    Py_XSETREF(((CounterObject *)self)->payload, Py_XNewRef(value));
    return 0;
}

static int Counter_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((CounterObject *)self)->payload);
    return 0;
}

static int Counter_clear(PyObject *self)
{
    Py_CLEAR(((CounterObject *)self)->payload);
    return 0;
}

static void Counter_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Counter_clear(self);
    g_deallocs++;
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *Counter_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ || Py_TYPE(b) != Py_TYPE(a))
        Py_RETURN_NOTIMPLEMENTED;
    return PyBool_FromLong(((CounterObject *)a)->count == ((CounterObject *)b)->count);
}

static PyMethodDef Counter_methods[] = {
    {"bump", (PyCFunction)(void (*)(void))Counter_bump, METH_VARARGS | METH_KEYWORDS, "bump(by=1)"},
    {NULL, NULL, 0, NULL},
};
static PyMemberDef Counter_members[] = {
    {"count_ro", T_LONG, offsetof(CounterObject, count), READONLY, "count, read-only"},
    {NULL, 0, 0, 0, NULL},
};
static PyGetSetDef Counter_getsets[] = {
    {"payload", Counter_get_payload, Counter_set_payload, "any object", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
static PyType_Slot Counter_legacy_slots[] = {
    {Py_tp_methods, Counter_methods},
    {Py_tp_members, Counter_members},
    {Py_tp_getset, Counter_getsets},
    {Py_tp_traverse, Counter_traverse},
    {Py_tp_clear, Counter_clear},
    {Py_tp_dealloc, Counter_dealloc},
    {Py_tp_richcompare, Counter_richcompare},
    {0, NULL},
};

static PyObject *legacy_twice(PyObject *module, PyObject *arg)
{
    (void)module;
    return PyNumber_Add(arg, arg);
}

static PyObject *legacy_deallocs(PyObject *module, PyObject *unused)
{
    (void)module; (void)unused;
    return PyLong_FromLong(g_deallocs);
}

static PyMethodDef legacy_methods[] = {
    {"twice", legacy_twice, METH_O, "twice(x) -> x + x (C API)"},
    {"deallocs", legacy_deallocs, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* ----- HPy ----- */
HPyDef_SLOT(Counter_new, HPy_tp_new)
static HPy Counter_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    long start = 0;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "|l", &start))
        return HPy_NULL;
    CounterObject *c;
    HPy h = HPy_New(ctx, type, &c);
    if (!HPy_IsNull(h))
        c->count = start;
    return h;
}

HPyDef_MEMBER(Counter_count, "count", HPyMember_LONG, offsetof(CounterObject, count))

HPyDef_METH(Counter_swap_payload, "swap_payload", HPyFunc_O)
static HPy Counter_swap_payload_impl(HPyContext *ctx, HPy self, HPy new_payload)
{
    /* HPy code working on a struct that C-API code owns: AsPyObject gives a new reference. */
    CounterObject *c = CounterObject_AsStruct(ctx, self);
    PyObject *old = c->payload;
    c->payload = HPy_AsPyObject(ctx, new_payload);
    HPy result = HPy_FromPyObject(ctx, old ? old : Py_None);
    Py_XDECREF(old);
    return result;
}

HPyDef_METH(Counter_shape, "shape", HPyFunc_NOARGS)
static HPy Counter_shape_impl(HPyContext *ctx, HPy self)
{
    HPy type = HPy_Type(ctx, self);
    HPy r = HPyLong_FromLong(ctx, (long)_HPyType_GetBuiltinShape(ctx, type));
    HPy_Close(ctx, type);
    return r;
}

static HPyDef *Counter_defines[] = { &Counter_new, &Counter_count, &Counter_swap_payload, &Counter_shape, NULL };
static HPyType_Spec Counter_spec = {
    .name = "mixed.Counter",
    .basicsize = sizeof(CounterObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .builtin_shape = HPyType_BuiltinShape_Legacy,
    .legacy_slots = Counter_legacy_slots,
    .defines = Counter_defines,
};

HPyDef_METH(roundtrip, "roundtrip", HPyFunc_O)
static HPy roundtrip_impl(HPyContext *ctx, HPy self, HPy arg)
{
    /* handle -> PyObject* -> handle: the same object, references balanced */
    PyObject *o = HPy_AsPyObject(ctx, arg);
    HPy h = HPy_FromPyObject(ctx, o);
    Py_DECREF(o);
    return h;
}

HPyDef_METH(nulls, "nulls", HPyFunc_NOARGS)
static HPy nulls_impl(HPyContext *ctx, HPy self)
{
    /* NULL maps to NULL both ways, without an error */
    int ok = HPy_IsNull(HPy_FromPyObject(ctx, NULL)) && HPy_AsPyObject(ctx, HPy_NULL) == NULL
             && !HPyErr_Occurred(ctx);
    return HPyBool_FromLong(ctx, ok);
}

HPyDef_METH(call_legacy, "call_legacy", HPyFunc_VARARGS)
static HPy call_legacy_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    /* call a C-API callable with C-API arguments from HPy code */
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "call_legacy(f, x)");
        return HPy_NULL;
    }
    PyObject *f = HPy_AsPyObject(ctx, args[0]), *x = HPy_AsPyObject(ctx, args[1]);
    PyObject *r = PyObject_CallOneArg(f, x);
    Py_DECREF(f);
    Py_DECREF(x);
    if (r == NULL)
        return HPy_NULL;   /* the C-API error is the HPy error */
    HPy h = HPy_FromPyObject(ctx, r);
    Py_DECREF(r);
    return h;
}

HPyDef_SLOT(add_counter, HPy_mod_exec)
static int add_counter_impl(HPyContext *ctx, HPy module)
{
    return HPyHelpers_AddType(ctx, module, "Counter", &Counter_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = { &roundtrip, &nulls, &call_legacy, &add_counter, NULL };
static HPyModuleDef moduledef = {
    .doc = "a partly ported module",
    .legacy_methods = legacy_methods,
    .defines = module_defines,
};
HPy_MODINIT(mixed, moduledef)
HPy_MOD_GIL(mixed, HPy_MOD_GIL_NOT_USED)
"""


@pytest.fixture
def mixed(compiler):
    return compiler.make_module(MIXED, name="mixed")


@pytest.mark.abis("cpython", "hybrid")
def test_from_and_as_pyobject(mixed):
    obj = object()
    before = sys.getrefcount(obj)
    assert mixed.roundtrip(obj) is obj
    assert sys.getrefcount(obj) == before
    assert mixed.nulls() is True
    assert mixed.call_legacy(len, "abc") == 3
    with pytest.raises(TypeError):
        mixed.call_legacy(len, 5)


@pytest.mark.abis("cpython", "hybrid")
def test_legacy_module_methods(mixed):
    assert mixed.__doc__ == "a partly ported module"
    assert mixed.twice(21) == 42 and mixed.twice("ab") == "abab"
    assert mixed.twice.__doc__ == "twice(x) -> x + x (C API)"
    assert mixed.twice.__self__ is mixed
    with pytest.raises(TypeError):
        mixed.twice()


@pytest.mark.abis("cpython", "hybrid")
def test_legacy_type(mixed):
    c = mixed.Counter(5)
    assert c.count == 5 and c.count_ro == 5           # an HPy member and a legacy member
    assert c.bump() == 6 and c.bump(by=4) == 10     # a legacy METH_VARARGS | METH_KEYWORDS method
    c.count = 1
    assert c.count_ro == 1
    with pytest.raises(AttributeError):
        c.count_ro = 2
    assert c.shape() == -1                          # HPyType_BuiltinShape_Legacy
    assert c == mixed.Counter(1) and not (c == mixed.Counter(2))   # a legacy slot
    assert c.payload is None
    c.payload = [1]                                 # a legacy getset
    assert c.swap_payload("new") == [1]             # HPy code on the same struct
    assert c.payload == "new"
    assert type(mixed.Counter.__dict__["bump"]).__name__ == "method_descriptor"


@pytest.mark.abis("cpython", "hybrid")
def test_legacy_type_subclass_and_gc(mixed):
    class Sub(mixed.Counter):
        pass

    s = Sub(3)
    assert s.bump() == 4 and s.count == 4 and isinstance(s, mixed.Counter)
    gc.collect()
    deallocs = mixed.deallocs()
    c = mixed.Counter()
    c.payload = c                                   # a cycle through the legacy tp_traverse
    s.payload = s
    del c, s
    gc.collect()
    assert mixed.deallocs() == deallocs + 2         # the legacy tp_dealloc ran for both


@pytest.mark.abis("cpython", "hybrid")
def test_legacy_slots_need_legacy_shape(compiler):
    src = MIXED.replace(".builtin_shape = HPyType_BuiltinShape_Legacy,", "")
    with pytest.raises(TypeError) as info:
        compiler.make_module(src, name="mixed")
    # the message extensions compare with, as it is
    assert str(info.value) == ("cannot specify .legacy_slots without setting "
                               ".builtin_shape=HPyType_BuiltinShape_Legacy")


@pytest.mark.abis("cpython", "hybrid")
@pytest.mark.parametrize("slot", ["HPy_tp_destroy", "HPy_tp_traverse"])
def test_legacy_dealloc_excludes_destroy_and_traverse(compiler, slot):
    # A legacy tp_dealloc frees the object itself: HPy_tp_destroy would never run, HPyFields never be
    # released.
    with pytest.raises(TypeError, match="'mytest.P': legacy tp_dealloc is incompatible with HPy_tp_traverse "
                                        "or HPy_tp_destroy"):
        compiler.make_module(r"""
            #include <Python.h>
            typedef struct { PyObject_HEAD HPyField f; } PObject;
            HPyDef_SLOT(P_destroy, HPy_tp_destroy)
            static void P_destroy_impl(void *obj) { (void)obj; }
            HPyDef_SLOT(P_traverse, HPy_tp_traverse)
            static int P_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
            {
                HPy_VISIT(&((PObject *)self)->f);
                return 0;
            }
            static void P_dealloc(PyObject *self) { Py_TYPE(self)->tp_free(self); }
            static HPyDef *defines[] = { &P_%s, NULL };
            static PyType_Slot slots[] = { { Py_tp_dealloc, (void *)P_dealloc }, { 0, NULL } };
            static HPyType_Spec spec = { .name = "mytest.P", .basicsize = sizeof(PObject),
                .builtin_shape = HPyType_BuiltinShape_Legacy, .legacy_slots = slots, .defines = defines };
            @EXPORT_TYPE("P", spec)
            @INIT
        """ % slot[len("HPy_tp_"):])


def test_legacy_type_over_a_pure_type(compiler):
    # A legacy type's C code sees its struct right after PyObject_HEAD; a pure base's instances keep
    # theirs elsewhere. A pure type over a legacy one is fine.
    mod = compiler.make_module(r"""
        static HPyType_Spec pure_spec = { .name = "mytest.Pure", .basicsize = 16,
            .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE };
        static HPyType_Spec legacy_spec = { .name = "mytest.Legacy", .basicsize = 64,
            .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .builtin_shape = HPyType_BuiltinShape_Legacy };
        static HPyType_Spec sub_spec = { .name = "mytest.Sub", .flags = HPy_TPFLAGS_DEFAULT };
        HPyDef_METH(make, "make", HPyFunc_VARARGS)
        static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            /* make(base, legacy): a type over `base` */
            HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, args[0] }, { (HPyType_SpecParam_Kind)0 } };
            HPyType_Spec *spec = HPy_IsTrue(ctx, args[1]) ? &legacy_spec : &sub_spec;
            return HPyType_FromSpec(ctx, spec, params);
        }
        HPyDef_METH(make_base, "make_base", HPyFunc_O)
        static HPy make_base_impl(HPyContext *ctx, HPy self, HPy legacy)
        {
            return HPyType_FromSpec(ctx, HPy_IsTrue(ctx, legacy) ? &legacy_spec : &pure_spec, NULL);
        }
        @EXPORT(make) @EXPORT(make_base)
        @INIT
    """)
    pure, legacy = mod.make_base(False), mod.make_base(True)
    with pytest.raises(TypeError) as info:
        mod.make(pure, True)
    assert str(info.value) == "A legacy type should not inherit its memory layout from a pure type"

    class PySub(pure):
        pass
    with pytest.raises(TypeError, match="legacy type should not inherit"):
        mod.make(PySub, True)  # through a Python class too
    assert issubclass(mod.make(legacy, False), legacy)
    assert issubclass(mod.make(legacy, True), legacy)


@pytest.mark.abis("universal")
def test_universal_refuses_legacy_methods(compiler):
    # A universal module cannot even name PyMethodDef; a non-NULL legacy_methods pointer is refused.
    with pytest.raises(SystemError, match="legacy_methods need the hybrid or CPython ABI"):
        compiler.make_module("""
            #include "hpy.h"
            static int fake_legacy_methods[4];
            HPyDef_METH(f, "f", HPyFunc_NOARGS)
            static HPy f_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, ctx->h_None); }
            static HPyDef *defines[] = { &f, NULL };
            static HPyModuleDef moduledef = { .legacy_methods = (void *)fake_legacy_methods, .defines = defines };
            HPy_MODINIT(mytest, moduledef)
            HPy_MOD_GIL(mytest, HPy_MOD_GIL_NOT_USED)
        """)


@pytest.mark.abis("hybrid")
def test_hybrid_file_is_refused_by_universal_name(compiler, tmp_path):
    # A hybrid module loads only under its hybrid name (NAME.hpy0-cp311.so); under another
    # interpreter's tag it is refused with a clear ImportError.
    path = compiler.compile_module(MIXED, name="mixed")
    wrong = tmp_path / path.name.replace("-cp%d%d" % sys.version_info[:2], "-cp29")
    wrong.write_bytes(path.read_bytes())
    with pytest.raises(ImportError, match="built for 'cp29'"):
        compiler.load_module("mixed", wrong)
