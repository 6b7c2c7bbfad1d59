# tests/e2e/test_devel.py: hpy.devel end to end: setup(hpy_ext_modules=...) builds in every ABI, file names, imports, abitag.
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from support import PREBUILT_MODE

if PREBUILT_MODE:  # devtools/hosts.py: modules built once on the build machine, run elsewhere
    pytest.skip('hpy.devel builds with setuptools and the running interpreter; on this host the modules '
                'come prebuilt from the build machine (devtools/hosts.py)', allow_module_level=True)

import hpy.devel  # noqa: E402
from hpy.devel import HPyDevel  # noqa: E402
from hpy.devel import abitag  # noqa: E402

ABIS = ('cpython', 'universal', 'hybrid')

MODULE_C = r'''
#include <hpy.h>

HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
static HPy answer_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(add, "add", HPyFunc_VARARGS)
static HPy add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    long a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll", &a, &b))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "l", a + b);
}

HPyDef_METH(abi, "abi", HPyFunc_NOARGS)
static HPy abi_impl(HPyContext *ctx, HPy self)
{
    (void)self;
#if defined(HPY_ABI_CPYTHON)
    return HPyUnicode_FromString(ctx, "cpython");
#elif defined(HPY_ABI_UNIVERSAL)
    return HPyUnicode_FromString(ctx, "universal");
#else
    return HPyUnicode_FromString(ctx, "hybrid");
#endif
}

static HPyDef *defines[] = {&answer, &add, &abi, NULL};
static HPyModuleDef moddef = {.doc = "hpy.devel test module", .defines = defines};
/* One source for both modules: MODNAME (from define_macros) expands before HPy_MODINIT pastes it. */
#define MODINIT_EXPANDED(NAME, DEF) HPy_MODINIT(NAME, DEF)
MODINIT_EXPANDED(MODNAME, moddef)
'''

SETUP_PY = '''
from setuptools import setup, Extension
setup(name='devtest', version='0.0', packages=['pkg'],
      hpy_ext_modules=[Extension('simple', ['simple.c'], define_macros=[('MODNAME', 'simple')]),
                       Extension('pkg.inner', ['pkg/inner.c'], define_macros=[('MODNAME', 'inner')])])
'''


def _host_tag():
    return abitag.parse_ext_suffix(sysconfig.get_config_var('EXT_SUFFIX'))[0]


def _expected_suffix(hpy_abi):
    return {'cpython': sysconfig.get_config_var('EXT_SUFFIX'),
            'universal': '.hpy0.so',
            'hybrid': '.hpy0-%s.so' % _host_tag()}[hpy_abi]


def _write_project(dest):
    (dest / 'pkg').mkdir(parents=True)
    (dest / 'setup.py').write_text(SETUP_PY)
    (dest / 'simple.c').write_text(MODULE_C)
    (dest / 'pkg' / '__init__.py').write_text('')
    (dest / 'pkg' / 'inner.c').write_text(MODULE_C)


def _run(args, cwd, env=None, check=True):
    if env is None:
        # The builds here name their ABI; an HPY_ABI from outside must not change it.
        env = {k: v for k, v in os.environ.items() if k != 'HPY_ABI'}
    proc = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env)
    if check and proc.returncode != 0:
        pytest.fail('%s failed (%d):\n%s' % (' '.join(map(str, args)), proc.returncode, proc.stdout),
                    pytrace=False)
    return proc


def _python(code, cwd, check=True):
    return _run([sys.executable, '-c', textwrap.dedent(code)], cwd, check=check)


@pytest.fixture(scope='module')
def build_once(tmp_path_factory):
    """build_once(abi): the project built in place for abi, built at most once per module."""
    cache = {}

    def build(hpy_abi):
        if hpy_abi not in cache:
            dest = tmp_path_factory.mktemp('devel-' + hpy_abi)
            _write_project(dest)
            _run([sys.executable, 'setup.py', 'build_ext', '--inplace', '--hpy-abi=' + hpy_abi], dest)
            cache[hpy_abi] = dest
        return cache[hpy_abi]
    return build


@pytest.fixture
def built(build_once, hpy_abi):
    """A project with a top-level module and a package module, built in place for hpy_abi
    (hpy_abi is parametrized over the ABI modes by tests/e2e/conftest.py)."""
    return build_once(hpy_abi)


# ---------- abitag ----------

def test_abitag_constants():
    assert abitag.HPY_ABI_VERSION == 0
    assert abitag.HPY_ABI_VERSION_MINOR == 0  # what a module requests unless it opts in (HPy 0.9's ABI)
    assert abitag.HPY_ABI_VERSION_MINOR_LATEST == 1
    assert abitag.HPY_ABI_TAG == 'hpy0'


def test_abitag_matches_hpy_h():
    text = (Path(HPyDevel().get_include_dir()) / 'hpy.h').read_text()
    defines = dict(re.findall(r'#\s*define (HPY_ABI_\w+) (\S+)', text))
    assert int(defines['HPY_ABI_VERSION']) == abitag.HPY_ABI_VERSION
    assert int(defines['HPY_ABI_VERSION_MINOR']) == abitag.HPY_ABI_VERSION_MINOR
    assert int(defines['HPY_ABI_VERSION_MINOR_LATEST']) == abitag.HPY_ABI_VERSION_MINOR_LATEST
    assert defines['HPY_ABI_TAG'] == '"%s"' % abitag.HPY_ABI_TAG


@pytest.mark.parametrize('suffix, expected', [
    ('.cpython-311-x86_64-linux-gnu.so', ('cp311', 'so')),
    ('.cpython-313-x86_64-linux-gnu.so', ('cp313', 'so')),
    ('.cpython-313t-x86_64-linux-gnu.so', ('cp313t', 'so')),
    ('.cpython-314d-x86_64-linux-gnu.so', ('cp314d', 'so')),
    ('.cpython-311-darwin.so', ('cp311', 'so')),
    ('.cp311-win_amd64.pyd', ('cp311', 'pyd')),
    ('.pypy39-pp73-x86_64-linux-gnu.so', ('pypy39-pp73', 'so')),
    ('.pypy310-pp73-x86_64-linux-gnu.so', ('pypy310-pp73', 'so')),
    ('.graalpy-38-native-x86_64-darwin.dylib', ('graalpy-38-native', 'dylib')),
    ('.so', ('', 'so')),
])
def test_parse_ext_suffix(suffix, expected):
    assert abitag.parse_ext_suffix(suffix) == expected


def test_parse_ext_suffix_default():
    tag, ext = abitag.parse_ext_suffix()
    assert tag == 'cp%d%d' % sys.version_info[:2] + getattr(sys, 'abiflags', '')
    assert ext == sysconfig.get_config_var('EXT_SUFFIX').rsplit('.', 1)[1]


def test_parse_ext_suffix_rejects_junk():
    with pytest.raises(ValueError):
        abitag.parse_ext_suffix('cpython-311.so')


def test_get_hpy_ext_suffix():
    cp = '.cpython-311-x86_64-linux-gnu.so'
    assert abitag.get_hpy_ext_suffix('universal', cp) == '.hpy0.so'
    assert abitag.get_hpy_ext_suffix('hybrid', cp) == '.hpy0-cp311.so'
    assert abitag.get_hpy_ext_suffix('cpython', cp) == cp
    assert abitag.get_hpy_ext_suffix('hybrid', '.cp312-win_amd64.pyd') == '.hpy0-cp312.pyd'
    assert abitag.get_hpy_ext_suffix('hybrid', '.pypy310-pp73-x86_64-linux-gnu.so') == \
        '.hpy0-pypy310-pp73.so'
    for hpy_abi in ABIS:
        assert abitag.get_hpy_ext_suffix(hpy_abi) == _expected_suffix(hpy_abi)
    with pytest.raises(ValueError):
        abitag.get_hpy_ext_suffix('limited')


# ---------- HPyDevel ----------

def test_hpydevel_layout():
    devel = HPyDevel()
    include = Path(devel.get_include_dir())
    assert (include / 'hpy.h').is_file()
    assert devel.get_extra_include_dirs() == [str(include)]
    assert hpy.devel.get_include() == str(include)
    assert (Path(devel.get_include_dir_forbid_python_h()) / 'Python.h').is_file()
    names = {Path(p).name for p in devel.get_extra_sources()}
    assert {'argparse.c', 'buildvalue.c', 'format.c'} <= names
    assert all(Path(p).is_file() for p in devel.get_extra_sources())
    for hpy_abi, lib in (('cpython', 'libhpy-cpython.a'), ('universal', 'libhpy-universal.a'),
                         ('hybrid', 'libhpy-universal.a')):
        libs = devel.get_static_libs(hpy_abi)
        assert libs is not None and [Path(p).name for p in libs] == [lib]
        assert Path(libs[0]).is_file()


def test_hpydevel_base_dir(tmp_path):
    devel = HPyDevel(tmp_path)
    assert devel.get_include_dir() == str(tmp_path / 'include')
    assert devel.get_extra_sources() == []
    assert devel.get_static_libs('universal') is None


def test_default_abi():
    # As HPy 0.9: the CPython ABI on CPython, universal elsewhere.
    expected = 'cpython' if sys.implementation.name == 'cpython' else 'universal'
    assert hpy.devel.DEFAULT_HPY_ABI == expected


def test_fix_distribution():
    from setuptools.dist import Distribution
    from setuptools.command.build_ext import build_ext

    class MyBuildExt(build_ext):
        pass

    dist = Distribution({'name': 'x', 'cmdclass': {'build_ext': MyBuildExt}})
    HPyDevel().fix_distribution(dist)
    assert isinstance(dist.hpydevel, HPyDevel)
    assert issubclass(dist.cmdclass['build_ext'], MyBuildExt)
    patched = dist.cmdclass['build_ext']
    HPyDevel().fix_distribution(dist)
    assert dist.cmdclass['build_ext'] is patched  # not wrapped twice


def test_fix_distribution_refuses_distutils_build_ext():
    from setuptools.dist import Distribution
    from setuptools.errors import SetupError

    class NotSetuptools:
        pass

    dist = Distribution({'name': 'x', 'cmdclass': {'build_ext': NotSetuptools}})
    with pytest.raises(SetupError):
        HPyDevel().fix_distribution(dist)


# ---------- building with setup(hpy_ext_modules=...) ----------

def test_file_names(built, hpy_abi):
    suffix = _expected_suffix(hpy_abi)
    assert (built / ('simple' + suffix)).is_file()
    assert (built / 'pkg' / ('inner' + suffix)).is_file()
    needs_stub = hpy_abi != 'cpython'
    assert (built / 'simple.py').is_file() == needs_stub
    assert (built / 'pkg' / 'inner.py').is_file() == needs_stub
    others = [a for a in ABIS if a != hpy_abi]
    for other in others:
        assert not (built / ('simple' + _expected_suffix(other))).exists()


@pytest.mark.abis('hybrid')
def test_hybrid_tag_is_the_hosts(built, hpy_abi):
    assert (built / ('simple.hpy0-%s.so' % _host_tag())).is_file()
    assert _expected_suffix('hybrid') == '.hpy0-cp%d%d%s.so' % (
        sys.version_info[0], sys.version_info[1], getattr(sys, 'abiflags', ''))


def test_build_dirs_kept_apart(built, hpy_abi):
    libs = [p.name for p in (built / 'build').iterdir() if p.name.startswith('lib')]
    assert len(libs) == 1
    assert libs[0].endswith('-hpy-' + hpy_abi) == (hpy_abi != 'cpython')


def test_import(built, hpy_abi):
    out = _python('''
        import simple, pkg.inner
        assert simple.answer() == 42, simple.answer()
        assert simple.add(40, 2) == 42
        assert pkg.inner.add(1, 2) == 3
        assert pkg.inner.__name__ == 'pkg.inner', pkg.inner.__name__
        print(simple.abi(), pkg.inner.abi())
    ''', built)
    assert out.stdout.split() == [hpy_abi, hpy_abi]


@pytest.mark.abis('universal', 'hybrid')
def test_import_without_stub(built, hpy_abi, tmp_path):
    """The meta-path finder installed with unihpy finds NAME.hpy0.so with a plain import."""
    dest = tmp_path / 'nostub'
    (dest / 'pkg').mkdir(parents=True)
    suffix = _expected_suffix(hpy_abi)
    shutil.copy2(built / ('simple' + suffix), dest)
    shutil.copy2(built / 'pkg' / ('inner' + suffix), dest / 'pkg')
    (dest / 'pkg' / '__init__.py').write_text('')
    out = _python('''
        import simple, pkg.inner
        print(simple.answer(), simple.abi(), pkg.inner.__name__, pkg.inner.add(2, 3))
    ''', dest)
    assert out.stdout.split() == ['42', hpy_abi, 'pkg.inner', '5']


@pytest.mark.abis('universal', 'hybrid')
def test_import_through_stub(built, hpy_abi):
    """Running the .py stub as a module loads the HPy module in its place."""
    out = _python('''
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location('simple', 'simple.py')
        stub = importlib.util.module_from_spec(spec)
        sys.modules['simple'] = stub
        spec.loader.exec_module(stub)
        m = sys.modules['simple']
        assert m is not stub
        print(type(m).__name__, m.answer(), m.abi())
    ''', built)
    assert out.stdout.split() == ['module', '42', hpy_abi]


@pytest.mark.abis('universal', 'hybrid')
def test_stub_names_the_binary(built, hpy_abi):
    text = (built / 'pkg' / 'inner.py').read_text()
    assert text.startswith('# inner.py:')
    assert repr('inner' + _expected_suffix(hpy_abi)) in text
    compile(text, 'inner.py', 'exec')


def test_only_entry_points_exported(built, hpy_abi):
    nm = shutil.which('nm')
    if nm is None or not sys.platform.startswith('linux'):
        pytest.skip('needs nm on Linux')
    out = _run([nm, '-D', '--defined-only', 'simple' + _expected_suffix(hpy_abi)], built).stdout
    symbols = {line.split()[-1] for line in out.splitlines() if line.strip()}
    if hpy_abi == 'cpython':
        assert symbols == {'PyInit_simple'}
    else:
        # the four of HPy 0.9, and the optional direct-call entry point unihpy's host looks for
        assert symbols == {'HPyInit_simple', 'HPyInitGlobalContext_simple',
                           'get_required_hpy_major_version_simple',
                           'get_required_hpy_minor_version_simple', '_HPyInitDirectCalls_simple'}


def test_global_option_spelling(hpy_abi, tmp_path):
    """HPy 0.9's spelling: setup.py --hpy-abi=ABI build_ext."""
    _write_project(tmp_path)
    _run([sys.executable, 'setup.py', '--hpy-abi=' + hpy_abi, 'build_ext', '--inplace'], tmp_path)
    assert (tmp_path / ('simple' + _expected_suffix(hpy_abi))).is_file()


def test_default_abi_build(tmp_path):
    _write_project(tmp_path)
    _run([sys.executable, 'setup.py', 'build_ext', '--inplace'], tmp_path)
    assert (tmp_path / ('simple' + _expected_suffix(hpy.devel.DEFAULT_HPY_ABI))).is_file()


def test_build_command(hpy_abi, tmp_path):
    """setup.py build puts the binaries and stubs in build/lib*/ for install and wheels."""
    _write_project(tmp_path)
    _run([sys.executable, 'setup.py', '--hpy-abi=' + hpy_abi, 'build'], tmp_path)
    (lib,) = [p for p in (tmp_path / 'build').iterdir() if p.name.startswith('lib')]
    suffix = _expected_suffix(hpy_abi)
    assert (lib / ('simple' + suffix)).is_file()
    assert (lib / 'pkg' / ('inner' + suffix)).is_file()
    assert (lib / 'pkg' / '__init__.py').is_file()
    assert (lib / 'simple.py').is_file() == (hpy_abi != 'cpython')


@pytest.mark.abis('universal', 'hybrid')
def test_hpy_abi_environment(hpy_abi, tmp_path):
    """$HPY_ABI picks the ABI when no option does (pip cannot pass setup.py options)."""
    _write_project(tmp_path)
    env = dict(os.environ, HPY_ABI=hpy_abi)
    _run([sys.executable, 'setup.py', 'build_ext', '--inplace'], tmp_path, env=env)
    assert (tmp_path / ('simple' + _expected_suffix(hpy_abi))).is_file()
    # An explicit option wins over the environment.
    _run([sys.executable, 'setup.py', 'build_ext', '--inplace', '--hpy-abi=cpython'], tmp_path, env=env)
    assert (tmp_path / ('simple' + _expected_suffix('cpython'))).is_file()


@pytest.mark.abis('universal', 'hybrid')
def test_stub_sets_file(built, hpy_abi):
    out = _python('import simple; print(simple.__file__)', built)
    assert out.stdout.strip().endswith('simple' + _expected_suffix(hpy_abi))


LEGACY_C = r'''
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "legacy", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_legacy(void) { return PyModule_Create(&def); }
'''


@pytest.mark.abis('universal', 'hybrid')
def test_with_legacy_ext_modules(hpy_abi, tmp_path):
    """ext_modules beside hpy_ext_modules stay ordinary CPython extensions."""
    _write_project(tmp_path)
    (tmp_path / 'legacy.c').write_text(LEGACY_C)
    setup_py = SETUP_PY.replace("hpy_ext_modules=", "ext_modules=[Extension('legacy', ['legacy.c'])],\n"
                                "      hpy_ext_modules=")
    (tmp_path / 'setup.py').write_text(setup_py)
    _run([sys.executable, 'setup.py', 'build_ext', '--inplace', '--hpy-abi=' + hpy_abi], tmp_path)
    assert (tmp_path / ('legacy' + _expected_suffix('cpython'))).is_file()
    assert not (tmp_path / 'legacy.py').exists()
    assert (tmp_path / ('simple' + _expected_suffix(hpy_abi))).is_file()
    out = _python('import legacy, simple; print(legacy.__name__, simple.abi())', tmp_path)
    assert out.stdout.split() == ['legacy', hpy_abi]


def test_no_static_libs(tmp_path):
    """--hpy-no-static-libs compiles the helper sources into the module instead."""
    _write_project(tmp_path)
    out = _run([sys.executable, 'setup.py', '--hpy-no-static-libs', 'build_ext', '--inplace',
                '--hpy-abi=universal'], tmp_path).stdout
    assert 'argparse.c' in out
    assert 'libhpy-universal.a' not in out
    run = _python('import simple; print(simple.add(1, 2))', tmp_path)
    assert run.stdout.split() == ['3']


def test_unknown_abi(tmp_path):
    _write_project(tmp_path)
    proc = _run([sys.executable, 'setup.py', 'build_ext', '--hpy-abi=limited'], tmp_path, check=False)
    assert proc.returncode != 0
    assert "unknown HPy ABI 'limited'" in proc.stdout


def test_python_h_refused_in_universal_builds(hpy_abi, tmp_path):
    """Python.h after hpy.h (or from another header) fails a universal build; other ABIs accept it."""
    _write_project(tmp_path)
    source = (tmp_path / 'simple.c').read_text()
    (tmp_path / 'simple.c').write_text(source.replace('#include <hpy.h>', '#include <hpy.h>\n#include <Python.h>', 1))
    proc = _run([sys.executable, 'setup.py', 'build_ext', '--inplace', '--hpy-abi=' + hpy_abi], tmp_path,
                check=False)
    if hpy_abi == 'universal':
        assert proc.returncode != 0
        assert 'It is forbidden to #include <Python.h> when targeting the HPy Universal ABI' in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout


def test_zipped_egg(hpy_abi, tmp_path):
    # `setup.py install` with older setuptools installs a zipped egg: its stubs must find the binary
    # inside the zip and leave the extension module itself in sys.modules (multi-phase init).
    _write_project(tmp_path)
    _run([sys.executable, 'setup.py', '--hpy-abi=' + hpy_abi, 'bdist_egg'], tmp_path)
    egg = next((tmp_path / 'dist').glob('*.egg'))
    elsewhere = tmp_path / 'run'
    elsewhere.mkdir()
    proc = _python('''
        import sys
        sys.path.insert(0, %r)
        import simple, pkg.inner
        assert simple.answer() == 42 and pkg.inner.answer() == 42, (simple, dir(simple))
        print(simple.abi())
    ''' % str(egg), elsewhere)
    assert proc.stdout.strip().splitlines()[-1] == hpy_abi
