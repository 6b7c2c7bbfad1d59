"""tests/e2e/test_field.py: HPyField in object memory: store/load, tp_traverse for the GC, cycles, clearing at
deallocation, and a type that dies in the same collection as its instances."""
import gc
import sys
import weakref

import pytest
from modcache import shared_module

FIELD_SOURCE = r"""
    typedef struct { HPyField a; HPyField b; long id; } Node;
    HPyType_HELPERS(Node)
    static long destroyed = 0;

    HPyDef_SLOT(Node_new, HPy_tp_new)
    static HPy Node_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
    {
        long id = 0;
        if (!HPyArg_Parse(ctx, NULL, args, (size_t)nargs, "|l", &id))
            return HPy_NULL;
        Node *n;
        HPy h = HPy_New(ctx, cls, &n);
        if (!HPy_IsNull(h)) {
            n->id = id;
            if (!HPyField_IsNull(n->a) || !HPyField_IsNull(n->b)) {
                HPy_Close(ctx, h);
                HPyErr_SetString(ctx, ctx->h_AssertionError, "fields of a new object are not null");
                return HPy_NULL;
            }
        }
        return h;
    }
    HPyDef_SLOT(Node_traverse, HPy_tp_traverse)
    static int Node_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
    {
        Node *n = (Node *)object;
        if (!HPyField_IsNull(n->a)) {
            int r = visit(&n->a, arg);
            if (r)
                return r;
        }
        if (!HPyField_IsNull(n->b))
            return visit(&n->b, arg);
        return 0;
    }
    HPyDef_SLOT(Node_destroy, HPy_tp_destroy)
    static void Node_destroy_impl(void *data)
    {
        destroyed += ((Node *)data)->id;
    }
    /* set(name, value): stores value (None stores a null field) in field a or b */
    HPyDef_METH(Node_set, "set", HPyFunc_VARARGS)
    static HPy Node_set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        const char *which;
        HPy value;
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "sO", &which, &value))
            return HPy_NULL;
        Node *n = Node_AsStruct(ctx, self);
        HPyField *f = which[0] == 'a' ? &n->a : &n->b;
        HPyField_Store(ctx, self, f, HPy_Is(ctx, value, ctx->h_None) ? HPy_NULL : value);
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(Node_get, "get", HPyFunc_O)
    static HPy Node_get_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        const char *which = HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
        if (which == NULL)
            return HPy_NULL;
        Node *n = Node_AsStruct(ctx, self);
        HPyField f = which[0] == 'a' ? n->a : n->b;
        if (HPyField_IsNull(f))
            return HPy_Dup(ctx, ctx->h_None);
        return HPyField_Load(ctx, self, f);  /* a new handle each time */
    }
    HPyDef_METH(Node_load_twice, "load_twice", HPyFunc_NOARGS)
    static HPy Node_load_twice_impl(HPyContext *ctx, HPy self)
    {
        Node *n = Node_AsStruct(ctx, self);
        HPy x = HPyField_Load(ctx, self, n->a);
        HPy y = HPyField_Load(ctx, self, n->a);
        HPy_Close(ctx, x);  /* closing one loaded handle leaves the other and the field valid */
        HPy r = HPy_BuildValue(ctx, "(Oi)", y, HPy_Is(ctx, y, y));
        HPy_Close(ctx, y);
        return r;
    }
    static HPyDef *Node_defines[] = { &Node_new, &Node_traverse, &Node_destroy, &Node_set, &Node_get,
        &Node_load_twice, NULL };
    static HPyType_Spec Node_spec = { .name = "mytest.Node", .basicsize = sizeof(Node),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC | HPy_TPFLAGS_BASETYPE, .defines = Node_defines };
    HPyDef_METH(get_destroyed, "get_destroyed", HPyFunc_NOARGS)
    static HPy get_destroyed_impl(HPyContext *ctx, HPy self)
    {
        return HPyLong_FromLong(ctx, destroyed);
    }
    @EXPORT(get_destroyed)
    @EXPORT_TYPE("Node", Node_spec)
    @INIT
"""


class Thing:
    pass


@pytest.fixture
def mod(compiler):
    return shared_module(compiler, FIELD_SOURCE)


def test_store_load(mod):
    n = mod.Node(1)
    value = Thing()
    base = sys.getrefcount(value)
    n.set("a", value)
    after_store = sys.getrefcount(value)
    assert n.get("a") is value and n.get("b") is None
    assert n.load_twice() == (value, 1)
    n.set("b", value)
    both = sys.getrefcount(value)
    n.set("a", None)  # storing a null handle releases the old value
    one = sys.getrefcount(value)
    n.set("b", 42)
    none = sys.getrefcount(value)
    assert (after_store, both, one, none) == (base + 1, base + 2, base + 1, base)
    assert n.get("b") == 42


def test_traverse_shows_referents(mod):
    n = mod.Node(1)
    a, b = Thing(), Thing()
    n.set("a", a)
    n.set("b", b)
    refs = gc.get_referents(n)
    assert a in refs and b in refs
    assert len(refs) == 2  # the fields alone: gc.get_referents does not list the type
    assert n in gc.get_referrers(mod.Node)  # the collector still sees the instance's type
    assert n in gc.get_referrers(a)
    assert gc.is_tracked(n)


def test_fields_cleared_at_deallocation(mod):
    d0 = mod.get_destroyed()
    value = Thing()
    base = sys.getrefcount(value)
    n = mod.Node(5)
    n.set("a", value)
    n.set("b", value)
    del n
    after = sys.getrefcount(value)
    assert after == base
    assert mod.get_destroyed() == d0 + 5


def test_cycle_through_fields_is_collected(mod):
    gc.collect()
    d0 = mod.get_destroyed()
    x, y = mod.Node(10), mod.Node(20)
    x.set("a", y)
    y.set("a", x)
    x.set("b", x)  # and a self-loop
    del x, y
    gc.collect()
    assert mod.get_destroyed() == d0 + 30


def test_cycle_with_python_objects_is_collected(mod):
    gc.collect()
    d0 = mod.get_destroyed()
    n = mod.Node(7)
    holder = Thing()
    holder.node = n
    n.set("a", holder)
    w = weakref.ref(holder)
    del n, holder
    gc.collect()
    assert w() is None
    assert mod.get_destroyed() == d0 + 7


def test_python_subclass_fields(mod):
    gc.collect()
    d0 = mod.get_destroyed()

    class PyNode(mod.Node):
        pass

    n = PyNode(3)
    n.me = n  # a cycle through the subclass's __dict__
    n.set("a", n)  # and through the field
    value = Thing()
    n.set("b", value)
    w = weakref.ref(n)
    refs = gc.get_referents(n)
    assert value in refs and n in refs
    del n, refs
    gc.collect()
    assert w() is None
    assert mod.get_destroyed() == d0 + 3


def test_type_and_instances_die_together(compiler):
    """A type and its instances in one garbage cycle: the instances' traverse and destroy still find
    the type's HPy data while the collector tears the cycle down."""
    for round_ in range(3):
        mod = compiler.make_module(FIELD_SOURCE, name="together%d" % round_)
        t = mod.Node
        delattr(mod, "Node")
        insts = [t(100) for _ in range(5)]
        for i in insts:
            i.set("a", t)       # instance -> type through a field
            i.set("b", insts)   # and a list of its siblings
        t.all = insts            # type -> instances through its dict
        wt = weakref.ref(t)
        del t, insts, i
        gc.collect()
        assert wt() is None
        assert mod.get_destroyed() == 500
