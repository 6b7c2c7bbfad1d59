# proof-of-concept/test_pof.py: tests of the pof, pofcpp and pofpackage.foo examples, run once per HPy ABI.
import math
import os
import sys
import sysconfig

import pytest


# ---------- module functions (pof in C and pofcpp in C++) ----------

def test_do_nothing(anypof):
    assert anypof.do_nothing() is None
    with pytest.raises(TypeError):
        anypof.do_nothing(1)


def test_double(anypof):
    assert anypof.double(21) == 42
    assert anypof.double(1.5) == 3.0
    assert anypof.double('ab') == 'abab'
    assert anypof.double([1]) == [1, 1]
    with pytest.raises(TypeError):
        anypof.double()
    with pytest.raises(TypeError):
        anypof.double(object())


def test_add_ints(anypof):
    assert anypof.add_ints(40, 2) == 42
    assert anypof.add_ints(-5, 3) == -2
    with pytest.raises(TypeError):
        anypof.add_ints(1)
    with pytest.raises(TypeError):
        anypof.add_ints(1, 2, 3)
    with pytest.raises(TypeError):
        anypof.add_ints('a', 2)


def test_add_ints_kw(anypof, lax_kwargs):
    assert anypof.add_ints_kw(1, 2) == 3
    assert anypof.add_ints_kw(1, b=2) == 3
    assert anypof.add_ints_kw(b=20, a=1) == 21
    with pytest.raises(TypeError):
        anypof.add_ints_kw(1)
    if lax_kwargs:  # HPy 0.9.0's parser ignores an unknown keyword
        assert anypof.add_ints_kw(1, 2, c=3) == 3
    else:
        with pytest.raises(TypeError):
            anypof.add_ints_kw(1, 2, c=3)
    with pytest.raises(TypeError):
        anypof.add_ints_kw(1, a=2)


def test_make_pair(pof):
    obj = object()
    assert pof.make_pair(1, 'x') == (1, 'x')
    assert pof.make_pair(obj, None)[0] is obj


def test_docstrings(pof):
    assert pof.__doc__ == 'HPy proof of concept'
    assert pof.add_ints.__doc__.startswith('add_ints(a, b)')


# ---------- the Point type ----------

def test_point_new(anypof, lax_kwargs):
    p = anypof.Point(1, 2)
    assert (p.x, p.y) == (1.0, 2.0)
    assert type(p) is anypof.Point
    assert anypof.Point.__name__ == 'Point'
    q = anypof.Point()
    assert (q.x, q.y) == (0.0, 0.0)
    r = anypof.Point(y=5)
    assert (r.x, r.y) == (0.0, 5.0)
    if lax_kwargs:  # HPy 0.9.0's parser ignores extra positional arguments
        assert repr(anypof.Point(1, 2, 3)) == 'Point(1, 2)'
    else:
        with pytest.raises(TypeError):
            anypof.Point(1, 2, 3)
    with pytest.raises(TypeError):
        anypof.Point('a')


def test_point_repr(anypof):
    assert repr(anypof.Point(3, 4)) == 'Point(3, 4)'
    assert str(anypof.Point(-1, 7)) == 'Point(-1, 7)'


def test_point_members(anypof):
    p = anypof.Point(1, 2)
    p.x = 10
    p.y = 2.5
    assert (p.x, p.y) == (10.0, 2.5)
    with pytest.raises(TypeError):
        p.x = 'no'


def test_point_norm(anypof):
    p = anypof.Point(3, 4)
    assert math.isclose(p.norm, 5.0)
    with pytest.raises(AttributeError):
        p.norm = 1.0


def test_point_scale(anypof):
    p = anypof.Point(3, 4)
    q = p.scale(2)
    assert type(q) is anypof.Point
    assert (q.x, q.y) == (6.0, 8.0)
    assert (p.x, p.y) == (3.0, 4.0)
    with pytest.raises(TypeError):
        p.scale('x')


def test_point_getset_xy(pof):
    p = pof.Point(1, 2)
    assert p.xy == (1.0, 2.0)
    p.xy = (5, 6)
    assert (p.x, p.y) == (5.0, 6.0)
    with pytest.raises(TypeError):
        p.xy = ('a', 'b')
    with pytest.raises(AttributeError):
        del p.xy


def test_point_as_tuple(pofcpp):
    assert pofcpp.Point(1.5, 2).as_tuple() == (1.5, 2.0)


def test_point_subclass(anypof):
    # HPy_TPFLAGS_BASETYPE is not set: Point cannot be subclassed.
    with pytest.raises(TypeError):
        type('Sub', (anypof.Point,), {})


# ---------- the package module ----------

def test_package_module(foo):
    assert foo.__name__ == 'pofpackage.foo'
    assert foo.hello() == 'hello from pofpackage.foo'
    assert foo.describe('apple') == 'apple x 1'
    assert foo.describe('pear', count=3) == 'pear x 3'
    assert foo.describe(name='fig', count=2) == 'fig x 2'
    with pytest.raises(TypeError):
        foo.describe()


# ---------- what the build produced ----------

def test_built_file_names(hpy_abi, pof_modules):
    if pof_modules.build_dir is None:
        pytest.skip('installed modules: nothing built here')
    build_dir = pof_modules.build_dir
    try:
        from hpy._abitag import get_hpy_ext_suffix  # unihpy's: no setuptools needed
    except ImportError:  # another HPy's package (an interpreter's own HPy host)
        from hpy.devel.abitag import get_hpy_ext_suffix
    suffix = get_hpy_ext_suffix(hpy_abi)
    expected = {'cpython': sysconfig.get_config_var('EXT_SUFFIX'),
                'universal': '.hpy0.so',
                'hybrid': '.hpy0-cp%d%d.so' % sys.version_info[:2]}
    if os.name != 'nt':
        assert suffix == expected[hpy_abi]
    for rel in ('pof', 'pofcpp', os.path.join('pofpackage', 'foo')):
        assert os.path.isfile(os.path.join(build_dir, rel + suffix)), rel + suffix
        stub = os.path.join(build_dir, rel + '.py')
        assert os.path.isfile(stub) == (hpy_abi != 'cpython'), stub
