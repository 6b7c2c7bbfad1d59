# proof-of-concept/porting/test_porting.py: one test suite for the vec example before and after its partial port to HPy.
"""Each test runs on three builds of the `vec` module, each made with setup.py in a temporary folder:
  before         before/vec.c, the original C-API extension (plain setuptools);
  after-hybrid   after/vec.c in the hybrid ABI (vec.hpy0-cp311.so, loaded by hpy.universal);
  after-cpython  after/vec.c in the CPython ABI (an ordinary extension).
The port must not change what Python code sees, so the tests are the same for all three."""
import importlib
import math
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BUILDS = {
    'before': ('before', []),
    'after-hybrid': ('after', ['--hpy-abi=hybrid']),
    'after-cpython': ('after', ['--hpy-abi=cpython']),
}


# tests/crossload/crossload.py sets HPY_TEST_VEC_DIR to a folder holding a hybrid build of
# after/vec.c (made with unihpy's or HPy 0.9's headers) to test that one in the current host.
PREBUILT = os.environ.get('HPY_TEST_VEC_DIR')
# ... and HPY_TEST_HELPERS=hpy-0.9.0 when that build carries HPy 0.9.0's helper sources, whose
# keyword parser ignores extra positional arguments and unknown keywords.
LAX_KWARGS = os.environ.get('HPY_TEST_HELPERS') == 'hpy-0.9.0'


@pytest.fixture(scope='module', params=['after-hybrid'] if PREBUILT else list(BUILDS))
def vec_build(request, tmp_path_factory):
    if PREBUILT:
        return request.param, Path(PREBUILT)
    step, options = BUILDS[request.param]
    dest = tmp_path_factory.mktemp('vec-' + request.param)
    for rel in ('setup.py', step + '/vec.c'):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes((HERE / rel).read_bytes())
    proc = subprocess.run([sys.executable, 'setup.py', 'build_ext', '--inplace'] + options,
                          cwd=dest, env=dict(os.environ, VEC_STEP=step),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        pytest.fail('building vec (%s) failed:\n%s' % (request.param, proc.stdout), pytrace=False)
    return request.param, dest


@pytest.fixture
def vec(vec_build):
    _, dest = vec_build
    saved = list(sys.path)
    sys.modules.pop('vec', None)
    sys.path.insert(0, str(dest))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module('vec')
    finally:
        sys.path[:] = saved
        sys.modules.pop('vec', None)


def test_what_was_built(vec_build, vec):
    kind, dest = vec_build
    suffix = {'before': sysconfig.get_config_var('EXT_SUFFIX'),
              'after-cpython': sysconfig.get_config_var('EXT_SUFFIX'),
              'after-hybrid': '.hpy0-cp%d%d.so' % sys.version_info[:2]}[kind]
    assert (dest / ('vec' + suffix)).is_file()
    assert Path(vec.__file__).name == 'vec' + suffix
    # only the hybrid build needs hpy.universal (through the vec.py stub hpy.devel wrote)
    assert (dest / 'vec.py').is_file() == (kind == 'after-hybrid')


def test_docs(vec):
    assert vec.__doc__ == '2-D vectors'
    assert vec.Vec.__doc__ == 'Vec(x=0.0, y=0.0): a 2-D vector'
    assert vec.sum.__doc__ == 'sum(*vecs) -> the sum of the vectors'
    assert vec.from_polar.__doc__ == 'from_polar(r, theta) -> a Vec'
    assert vec.Vec.scale.__doc__.startswith('scale(k)')
    assert vec.Vec.x.__doc__ == 'x coordinate'


def test_new_and_members(vec):
    v = vec.Vec(1, 2.5)
    assert (v.x, v.y) == (1.0, 2.5)
    assert (vec.Vec().x, vec.Vec().y) == (0.0, 0.0)
    assert vec.Vec(y=3).y == 3.0
    v.x = 7
    assert v.x == 7.0
    with pytest.raises(TypeError):
        v.y = 'a'
    with pytest.raises(TypeError):
        vec.Vec('a')
    if LAX_KWARGS:  # HPy 0.9.0's HPyArg_ParseKeywordsDict ignores these
        assert vec.Vec(1, 2, 3) == vec.Vec(1, 2) and vec.Vec(z=1) == vec.Vec()
    else:
        for args, kwargs in (((1, 2, 3), {}), ((), {'z': 1}), ((1,), {'x': 2})):
            with pytest.raises(TypeError):
                vec.Vec(*args, **kwargs)
    assert type(v) is vec.Vec and vec.Vec.__name__ == 'Vec' and vec.Vec.__module__ == 'vec'


def test_repr(vec):
    assert repr(vec.Vec(1, -2)) == 'Vec(1.0, -2.0)'
    assert str(vec.Vec(0.5, 0)) == 'Vec(0.5, 0.0)'


def test_methods(vec):
    a, b = vec.Vec(3, 4), vec.Vec(1, 2)
    assert a.length() == 5.0
    assert a.dot(b) == 11.0
    assert a.scale(2) == vec.Vec(6, 8)
    with pytest.raises(TypeError, match='dot\\(\\) needs a Vec, not str'):
        a.dot('x')
    with pytest.raises(TypeError):
        a.scale('x')
    with pytest.raises(TypeError):
        a.length(1)


def test_compare_and_add(vec):
    a = vec.Vec(1, 2)
    assert a == vec.Vec(1, 2) and not (a != vec.Vec(1, 2))
    assert a != vec.Vec(2, 1)
    assert (a == 3) is False
    with pytest.raises(TypeError):
        a < a
    assert a + vec.Vec(3, 4) == vec.Vec(4, 6)
    with pytest.raises(TypeError):
        a + 1


def test_module_functions(vec):
    assert vec.sum() == vec.Vec(0, 0)
    assert vec.sum(vec.Vec(1, 1), vec.Vec(2, 3), vec.Vec(-1, 0)) == vec.Vec(2, 4)
    with pytest.raises(TypeError, match='sum\\(\\) needs Vec arguments, not int'):
        vec.sum(vec.Vec(), 1)
    p = vec.from_polar(2, math.pi / 2)
    assert math.isclose(p.x, 0, abs_tol=1e-12) and math.isclose(p.y, 2)
    with pytest.raises(TypeError):
        vec.from_polar(1)


def test_not_subclassable(vec):
    with pytest.raises(TypeError):
        type('Sub', (vec.Vec,), {})


def test_reference_counts(vec):
    # HPy_AsPyObject / HPy_FromPyObject in the ported code must leave no reference behind.
    a, b = vec.Vec(1, 2), vec.Vec(3, 4)
    before = sys.getrefcount(a), sys.getrefcount(b), sys.getrefcount(vec.Vec)
    for _ in range(100):
        a.dot(b)
        vec.sum(a, b)
        a + b
        a == b
        with pytest.raises(TypeError):
            a.dot(1)
    assert (sys.getrefcount(a), sys.getrefcount(b), sys.getrefcount(vec.Vec)) == before
