"""tests/e2e/test_slice.py: HPySlice_Unpack and HPySlice_AdjustIndices against slice.indices()."""
import sys

import pytest
from modcache import shared_module

SLICE_SOURCE = r"""
    HPyDef_METH(unpack, "unpack", HPyFunc_O)
    static HPy unpack_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_ssize_t start, stop, step;
        if (HPySlice_Unpack(ctx, arg, &start, &stop, &step) < 0)
            return HPy_NULL;
        return HPy_BuildValue(ctx, "(nnn)", start, stop, step);
    }
    /* indices(slice, length): Unpack then AdjustIndices, as slice.indices(length) plus the slice length */
    HPyDef_METH(indices, "indices", HPyFunc_VARARGS)
    static HPy indices_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPy_ssize_t start, stop, step, length = HPyLong_AsSsize_t(ctx, args[1]);
        if (HPySlice_Unpack(ctx, args[0], &start, &stop, &step) < 0)
            return HPy_NULL;
        HPy_ssize_t n = HPySlice_AdjustIndices(ctx, length, &start, &stop, step);
        return HPy_BuildValue(ctx, "(nnnn)", start, stop, step, n);
    }
    HPyDef_METH(slice_type, "slice_type", HPyFunc_NOARGS)
    static HPy slice_type_impl(HPyContext *ctx, HPy self)
    {
        return HPy_Dup(ctx, ctx->h_SliceType);
    }
    @EXPORT(unpack) @EXPORT(indices) @EXPORT(slice_type)
    @INIT
"""

MAX = sys.maxsize


@pytest.fixture
def mod(compiler):
    return shared_module(compiler, SLICE_SOURCE)


def test_unpack(mod):
    assert mod.slice_type() is slice
    assert mod.unpack(slice(1, 5, 2)) == (1, 5, 2)
    assert mod.unpack(slice(None)) == (0, MAX, 1)
    assert mod.unpack(slice(None, None, -1)) == (MAX, -MAX - 1, -1)
    assert mod.unpack(slice(-3, None)) == (-3, MAX, 1)
    assert mod.unpack(slice(2**100, -2**100)) == (MAX, -MAX - 1, 1)  # clipped, no OverflowError

    class Idx:
        def __index__(self):
            return 4

    assert mod.unpack(slice(Idx(), Idx(), Idx())) == (4, 4, 4)


def test_unpack_errors(mod):
    with pytest.raises(ValueError, match="^slice step cannot be zero$"):
        mod.unpack(slice(1, 2, 0))
    with pytest.raises(TypeError):
        mod.unpack(slice("a", 2))
    with pytest.raises(TypeError, match="HPySlice_Unpack"):
        mod.unpack((1, 2, 3))  # not a slice: an error, not a crash


def test_adjust_indices_matches_python(mod):
    values = [None, 0, 1, 2, 5, 9, 10, 11, 100, -1, -2, -5, -10, -11, -100]
    for length in (0, 1, 5, 10):
        for start in values:
            for stop in values:
                for step in (None, 1, 2, 3, -1, -2, -4):
                    s = slice(start, stop, step)
                    expected = s.indices(length)
                    assert mod.indices(s, length) == expected + (len(range(*expected)),), (s, length)
