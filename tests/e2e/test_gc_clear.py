"""tests/e2e/test_gc_clear.py: the GC breaks cycles that run only through HPyFields (HPy types get a tp_clear)."""
import gc

import pytest

SOURCE = """
typedef struct { HPyField other; } NodeObject;
HPyType_HELPERS(NodeObject)
static long destroyed = 0;

HPyDef_SLOT(Node_traverse, HPy_tp_traverse)
static int Node_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((NodeObject *)self)->other);
    return 0;
}

HPyDef_SLOT(Node_destroy, HPy_tp_destroy)
static void Node_destroy_impl(void *self) { (void)self; destroyed++; }

HPyDef_METH(Node_link, "link", HPyFunc_O)
static HPy Node_link_impl(HPyContext *ctx, HPy self, HPy other)
{
    HPyField_Store(ctx, self, &NodeObject_AsStruct(ctx, self)->other, other);
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *Node_defines[] = { &Node_traverse, &Node_destroy, &Node_link, NULL };
static HPyType_Spec Node_spec = {
    .name = "mytest.Node",
    .basicsize = sizeof(NodeObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .defines = Node_defines,
};

HPyDef_METH(destroyed_count, "destroyed_count", HPyFunc_NOARGS)
static HPy destroyed_count_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, destroyed); }

@EXPORT(destroyed_count)
@EXPORT_TYPE("Node", Node_spec)
@INIT
"""


@pytest.mark.parametrize("shape", ["self", "pair", "python_subclass"])
def test_cycle_through_fields_is_collected(compiler, shape):
    mod = compiler.make_module(SOURCE)
    gc.collect()
    before = mod.destroyed_count()
    if shape == "self":
        a = mod.Node()
        a.link(a)
        expected = 1
    elif shape == "pair":
        a, b = mod.Node(), mod.Node()
        a.link(b)
        b.link(a)
        del b
        expected = 2
    else:
        a = type("Sub", (mod.Node,), {})()
        a.link(a)
        expected = 1
    del a
    gc.collect()
    assert mod.destroyed_count() == before + expected
