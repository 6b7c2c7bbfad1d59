# proof-of-concept/conftest.py: builds the examples once per HPy ABI (setup.py build_ext) and gives the tests their modules.
"""By default each test runs once per ABI: the sources are copied to a
temporary folder and built there with ``setup.py build_ext --inplace
--hpy-abi=ABI`` (once per ABI and session).

    pytest proof-of-concept                     # cpython, universal and hybrid
    pytest proof-of-concept --pof-abi=universal # one ABI
    pytest proof-of-concept --pof-installed     # the pof modules already importable
                                                # (pip-installed, or built in place)
"""
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ABIS = ('cpython', 'universal', 'hybrid')
MODULE_NAMES = ('pof', 'pofcpp', 'pofpackage', 'pofpackage.foo')
SOURCES = ('setup.py', 'pof.c', 'pofcpp.cpp', 'pofpackage/__init__.py', 'pofpackage/foo.c')
# devtools/hosts.py: UNIHPY_E2E_MODULES=build:DIR keeps the universal build in DIR, use:DIR (on other
# interpreters) tests those very files, their hashes checked.
PREBUILT_MODE, _, PREBUILT_DIR = os.environ.get('UNIHPY_E2E_MODULES', '').partition(':')


def pytest_addoption(parser):
    group = parser.getgroup('pof')
    group.addoption('--pof-abi', action='append', choices=ABIS, default=None,
                    help='build and test only this HPy ABI (repeatable)')
    group.addoption('--pof-installed', action='store_true', default=False,
                    help='test the pof modules that are importable already, without building')


def pytest_collection_modifyitems(config, items):
    """On other hosts (devtools/hosts.py), mark where they differ (tests/e2e/host_differences.py)."""
    if PREBUILT_MODE == 'use':
        sys.path.insert(0, str(HERE.parent / 'tests' / 'e2e'))
        import host_differences

        host_differences.mark(items, HERE)


def pytest_generate_tests(metafunc):
    if 'hpy_abi' in metafunc.fixturenames:
        if metafunc.config.getoption('pof_installed'):
            abis = ['installed']
        else:
            abis = metafunc.config.getoption('pof_abi') or list(ABIS)
            if PREBUILT_MODE:
                abis = ['universal']
        metafunc.parametrize('hpy_abi', abis, scope='session')


def _build(hpy_abi, tmp_path_factory):
    dest = tmp_path_factory.mktemp('pof-' + hpy_abi)
    for rel in SOURCES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(HERE / rel, dest / rel)
    proc = subprocess.run(
        [sys.executable, 'setup.py', 'build_ext', '--inplace', '--hpy-abi=' + hpy_abi],
        cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        pytest.fail('building the proof of concept for the %s ABI failed:\n%s'
                    % (hpy_abi, proc.stdout), pytrace=False)
    return dest


@pytest.fixture(scope='session')
def pof_build_dir(hpy_abi, tmp_path_factory):
    """The folder holding the in-place build for ``hpy_abi`` (None when installed)."""
    if hpy_abi == 'installed':
        return None
    if PREBUILT_MODE == 'use':
        return _prebuilt(hpy_abi, tmp_path_factory)
    dest = _build(hpy_abi, tmp_path_factory)
    if PREBUILT_MODE == 'build':
        kept = Path(PREBUILT_DIR) / ('pof-' + hpy_abi)
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(dest, kept, ignore=shutil.ignore_patterns('build', '__pycache__'))
        (kept / 'SHA256SUMS').write_text(''.join('%s %s\n' % (_sha256(f), f.relative_to(kept))
                                                 for f in sorted(kept.rglob('*.so'))))
    return dest


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _prebuilt(hpy_abi, tmp_path_factory):
    kept = Path(PREBUILT_DIR) / ('pof-' + hpy_abi)
    if not (kept / 'SHA256SUMS').exists():
        pytest.fail('the %s build of the proof of concept was not kept in %s: run through '
                    'devtools/hosts.py test' % (hpy_abi, kept), pytrace=False)
    dest = tmp_path_factory.mktemp('pof-' + hpy_abi)
    shutil.copytree(kept, dest, dirs_exist_ok=True)
    for line in (kept / 'SHA256SUMS').read_text().splitlines():
        digest, rel = line.split()
        assert _sha256(dest / rel) == digest, '%s differs from the file built on the build machine' % rel
    return dest


def _forget_modules():
    for name in MODULE_NAMES:
        sys.modules.pop(name, None)


@pytest.fixture
def pof_modules(pof_build_dir):
    """A namespace with the freshly imported pof, pofcpp and pofpackage.foo."""
    saved_path = list(sys.path)
    _forget_modules()
    if pof_build_dir is not None:
        sys.path.insert(0, str(pof_build_dir))
    else:
        # pytest puts this folder on sys.path; its pofpackage/ (sources only) would
        # hide the installed one.
        sys.path[:] = [p for p in sys.path
                       if Path(p or '.').resolve() != HERE]
    importlib.invalidate_caches()
    try:
        yield types.SimpleNamespace(
            pof=importlib.import_module('pof'),
            pofcpp=importlib.import_module('pofcpp'),
            foo=importlib.import_module('pofpackage.foo'),
            build_dir=pof_build_dir,
        )
    finally:
        sys.path[:] = saved_path
        _forget_modules()
        importlib.invalidate_caches()


@pytest.fixture
def lax_kwargs():
    """True when the modules under test carry HPy 0.9.0's helper sources (tests/crossload sets
    HPY_TEST_HELPERS=hpy-0.9.0). Its HPyArg_ParseKeywords[Dict] ignores extra positional
    arguments, unknown keywords and a keyword repeating a positional argument, where unihpy's
    helpers raise TypeError as CPython's parser does."""
    return os.environ.get('HPY_TEST_HELPERS') == 'hpy-0.9.0'


@pytest.fixture
def pof(pof_modules):
    return pof_modules.pof


@pytest.fixture
def pofcpp(pof_modules):
    return pof_modules.pofcpp


@pytest.fixture
def foo(pof_modules):
    return pof_modules.foo


@pytest.fixture(params=['pof', 'pofcpp'])
def anypof(request, pof_modules):
    """The C and the C++ version of pof, in turn."""
    return getattr(pof_modules, request.param)

