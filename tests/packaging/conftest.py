"""tests/packaging/conftest.py: builds each example project's wheel once per HPy ABI and installs it into a fresh venv.

Everything is real: unihpy's own wheel (built once per session, or taken from
--unihpy-wheelhouse), `pip wheel` of proof-of-concept/packaging/BUILD_SYSTEM, a
`python -m venv` per build system and ABI with both wheels installed by pip from local folders.

Each ABI reaches the build by another documented route (docs/packaging.md):

    setuptools  universal  [tool.hpy] abi in pyproject.toml, isolated build
                           (setuptools from the index, unihpy from the wheelhouse)
                cpython    pip's -C--global-option=--hpy-abi=cpython, over HPY_ABI=hybrid
                hybrid     HPY_ABI=hybrid, over the pyproject.toml setting
    cmake       universal  hpy_add_extension's default and wheel.py-api = "py3", isolated build
                cpython    HPY_ABI=cpython (pyproject.toml's override resets wheel.py-api)
                hybrid     -Ccmake.define.HPY_ABI=hybrid -Cwheel.py-api=
    meson       universal  [tool.hpy] abi (hpy.devel.mesonpy), isolated build
                cpython    -Chpy-abi=cpython, over HPY_ABI=universal
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / 'proof-of-concept' / 'packaging'
ABIS = ('universal', 'cpython', 'hybrid')
MODULES = ('pof', 'pofcpp', 'pofpackage.foo')
CP_TAG = 'cp%d%d' % sys.version_info[:2]
# The file suffix of this interpreter's modules per ABI.
SUFFIX = {'universal': '.hpy0.so', 'hybrid': '.hpy0-%s.so' % CP_TAG,
          'cpython': sysconfig.get_config_var('EXT_SUFFIX')}

# Per build system (a folder of EXAMPLES): the example's distribution name and, per ABI it builds,
# (extra environment, extra `pip wheel` arguments, build isolation).
BUILD_SYSTEMS = {
    'setuptools': ('pof-example', {
        'universal': ({}, [], True),
        'cpython': ({'HPY_ABI': 'hybrid'}, ['-C--global-option=--hpy-abi=cpython'], False),
        'hybrid': ({'HPY_ABI': 'hybrid'}, [], False),
    }),
    'cmake': ('pof-example-cmake', {
        'universal': ({}, [], True),
        'cpython': ({'HPY_ABI': 'cpython'}, [], False),
        'hybrid': ({}, ['-Ccmake.define.HPY_ABI=hybrid', '-Cwheel.py-api='], False),
    }),
    'meson': ('pof-example-meson', {  # universal and CPython-ABI modules (meson.options)
        'universal': ({}, [], True),
        'cpython': ({'HPY_ABI': 'universal'}, ['-Chpy-abi=cpython'], False),
    }),
}


def pytest_addoption(parser):
    parser.addoption('--unihpy-wheelhouse', default=None,
                     help="a folder holding unihpy's wheel (default: build it once per session)")
    parser.addoption('--packaging-abi', action='append', choices=ABIS, default=None,
                     help='test only this ABI (repeatable)')
    parser.addoption('--build-system', action='append', choices=list(BUILD_SYSTEMS), default=None,
                     help='test only the example of this build system (repeatable)')


def pytest_generate_tests(metafunc):
    if 'hpy_abi' in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker('abis')
        abis = metafunc.config.getoption('packaging_abi') or list(ABIS)
        if marker:
            abis = [abi for abi in abis if abi in marker.args]
        systems = metafunc.config.getoption('build_system') or list(BUILD_SYSTEMS)
        pairs = [(system, abi) for system in systems for abi in BUILD_SYSTEMS[system][1] if abi in abis]
        metafunc.parametrize(('build_system', 'hpy_abi'), pairs, scope='session',
                             ids=['%s-%s' % pair for pair in pairs])


def pytest_configure(config):
    config.addinivalue_line('markers', 'abis(*names): run this test only for these ABIs')


def pytest_collection_modifyitems(items):
    # Under pytest-xdist (`-n 2 --dist loadgroup`, make test-packaging) the tests of one wheel stay on
    # one worker, so that each wheel and its venv are made once; the wheels spread over the workers.
    for item in items:
        params = getattr(getattr(item, 'callspec', None), 'params', {})
        if 'build_system' in params:
            item.add_marker(pytest.mark.xdist_group('%s-%s' % (params['build_system'], params['hpy_abi'])))


def run(cmd, **kwargs):
    """Runs ``cmd``; on failure, fails the test with its output."""
    env = dict(os.environ, **kwargs.pop('env', {}))
    # The builds name their ABI themselves (BUILD_SYSTEMS); one from outside must not leak in.
    if 'HPY_ABI' not in kwargs.pop('keep', ()):
        env.pop('HPY_ABI', None)
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, **kwargs)
    if proc.returncode != 0:
        pytest.fail('%s failed (%d):\n%s' % (' '.join(map(str, cmd)), proc.returncode, proc.stdout),
                    pytrace=False)
    return proc.stdout


def pip(python, *args, **kwargs):
    return run([python, '-m', 'pip', '--disable-pip-version-check', '-q', *args], **kwargs)


@pytest.fixture(scope='session')
def unihpy_wheelhouse(request, tmp_path_factory):
    """A folder holding unihpy's own wheel, built once per session from this tree (its CMake
    build folder is the one `make install` uses, so this is mostly packing)."""
    given = request.config.getoption('unihpy_wheelhouse')
    if given:
        return Path(given).resolve()
    dest = tmp_path_factory.mktemp('unihpy-wheelhouse')
    pip(sys.executable, 'wheel', '--no-build-isolation', '--no-deps', '-w', dest,
        '-Cbuild-dir=build/pip', '-Ccmake.define.HPY_WERROR=ON', ROOT, cwd=ROOT)
    return dest


@pytest.fixture(scope='session')
def unihpy_wheel(unihpy_wheelhouse):
    found = sorted(unihpy_wheelhouse.glob('unihpy-*.whl'))
    assert found, 'no unihpy wheel in %s' % unihpy_wheelhouse
    return found[-1]


@pytest.fixture(scope='session')
def test_wheelhouse(tmp_path_factory):
    """pytest and what it needs, as wheels, so that the fresh venvs install everything offline."""
    dest = tmp_path_factory.mktemp('pytest-wheelhouse')
    pip(sys.executable, 'download', '-d', dest, 'pytest')
    return dest


@pytest.fixture(scope='session')
def dist_name(build_system):
    return BUILD_SYSTEMS[build_system][0]


@pytest.fixture(scope='session')
def wheel(build_system, hpy_abi, unihpy_wheelhouse, tmp_path_factory):
    """The example's wheel for ``hpy_abi``, alone in its folder."""
    env, args, isolated = BUILD_SYSTEMS[build_system][1][hpy_abi]
    name = '%s-%s' % (build_system, hpy_abi)
    src = tmp_path_factory.mktemp('example-' + name)
    # the sources are symbolic links to the proof of concept's: copied as files
    shutil.copytree(EXAMPLES / build_system, src, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns('build', '*.egg-info'))
    out = tmp_path_factory.mktemp('wheel-' + name)
    isolation = ['--find-links', unihpy_wheelhouse] if isolated else ['--no-build-isolation']
    pip(sys.executable, 'wheel', '--no-deps', '-w', out, *isolation, *args, src,
        env=env, keep=env.keys())
    found = list(out.glob('*.whl'))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope='session')
def venv_python(build_system, hpy_abi, dist_name, wheel, unihpy_wheelhouse, test_wheelhouse, tmp_path_factory):
    """The python of a fresh venv where pip installed unihpy and the example from local wheels."""
    where = tmp_path_factory.mktemp('venv-%s-%s' % (build_system, hpy_abi))
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / 'bin' / 'python'
    pip(python, 'install', '--no-index', '--find-links', wheel.parent,
        '--find-links', unihpy_wheelhouse, '--find-links', test_wheelhouse,
        'unihpy', dist_name, 'pytest')
    return python
