"""tests/packaging/test_build_systems.py: unihpy's build integration outside pip: a plain CMake build with
find_package(unihpy), the pkg-config files, `python -m hpy.devel`, and clear errors for a bad ABI."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ABIS, EXAMPLES, SUFFIX, run

BIN = Path(sys.executable).parent


def hpy_devel(*args, **kwargs):
    return run([sys.executable, '-m', 'hpy.devel', *args], **kwargs).strip()


def tool(name):
    """A build tool of this venv (make install puts cmake and ninja there), else the system's."""
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, '%s is not installed' % name
    return found


def copy_example(build_system, dest):
    shutil.copytree(EXAMPLES / build_system, dest, ignore=shutil.ignore_patterns('build', '*.egg-info'))
    return dest


@pytest.mark.parametrize('abi', ABIS)
def test_plain_cmake_build(abi, tmp_path):
    """cmake -Dunihpy_DIR=$(python -m hpy.devel --cmakedir): the example's modules, built in the build
    folder with their stubs, import from there and work."""
    src = copy_example('cmake', tmp_path / 'src')
    build = tmp_path / 'build'
    run([tool('cmake'), '-S', src, '-B', build, '-G', 'Ninja', '-DCMAKE_MAKE_PROGRAM=' + tool('ninja'),
         '-Dunihpy_DIR=' + hpy_devel('--cmakedir'), '-DHPY_ABI=' + abi, '-DPython_EXECUTABLE=' + sys.executable])
    run([tool('cmake'), '--build', build])
    built = sorted(p.name for p in build.glob('pof*') if p.is_file())
    stubs = ['pof.py', 'pofcpp.py'] if abi != 'cpython' else []
    assert built == sorted(['pof' + SUFFIX[abi], 'pofcpp' + SUFFIX[abi]] + stubs)
    out = run([sys.executable, '-c', 'import pof, pofcpp; print(pof.__file__, pof.add_ints(2, 3), pofcpp.add_ints(20, 22))'],
              cwd=build)
    assert out.split() == [str(build / ('pof' + SUFFIX[abi])), '5', '42']


def test_cmake_unknown_abi(tmp_path):
    src = copy_example('cmake', tmp_path / 'src')
    proc = subprocess.run([tool('cmake'), '-S', src, '-B', tmp_path / 'build', '-G', 'Ninja',
                           '-DCMAKE_MAKE_PROGRAM=' + tool('ninja'), '-Dunihpy_DIR=' + hpy_devel('--cmakedir'),
                           '-DHPY_ABI=limited'], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "hpy_add_extension(pof): unknown HPy ABI 'limited'" in proc.stderr, proc.stderr


def test_meson_unknown_abi(tmp_path):
    src = copy_example('meson', tmp_path / 'src')
    proc = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
                           '-w', tmp_path / 'out', '-Chpy-abi=limited', src], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "-Chpy-abi='limited': use cpython, universal or hybrid" in proc.stdout + proc.stderr


@pytest.mark.parametrize('abi', ['universal', 'cpython'])
def test_pkg_config(abi, tmp_path):
    """The .pc files name folders and a library that exist, whatever folder unihpy is installed in."""
    env = {'PKG_CONFIG_PATH': hpy_devel('--pkgconfigdir')}
    cflags = run(['pkg-config', '--cflags', 'unihpy-' + abi], env=env).split()
    libs = run(['pkg-config', '--libs', 'unihpy-' + abi], env=env).split()
    assert '-DHPY_ABI_' + abi.upper() in cflags
    includes = [Path(f[2:]) for f in cflags if f.startswith('-I')]
    assert includes[-1].resolve() == Path(hpy_devel('--includedir')).resolve()
    assert all(p.is_dir() for p in includes)
    (archive,) = [Path(f) for f in libs if f.endswith('.a')]
    assert archive.is_file() and archive.name == 'libhpy-%s.a' % abi
    if abi == 'universal':
        assert run(['pkg-config', '--variable=ext_suffix', 'unihpy-universal'], env=env).strip() == '.hpy0.so'
        template = Path(run(['pkg-config', '--variable=stub_template', 'unihpy-universal'], env=env).strip())
        assert template.resolve() == Path(hpy_devel('--stub-template')).resolve()


def test_pkg_config_universal_module(tmp_path):
    """A universal module compiled and linked with nothing but the flags of unihpy-universal.pc loads."""
    env = {'PKG_CONFIG_PATH': hpy_devel('--pkgconfigdir')}
    flags = run(['pkg-config', '--cflags', '--libs', 'unihpy-universal'], env=env).split()
    target = tmp_path / 'pof.hpy0.so'
    run(['cc', '-shared', '-fPIC', '-fvisibility=hidden', '-o', target, EXAMPLES / 'cmake' / 'pof.c', *flags, '-lm'])
    assert run([sys.executable, '-c', 'import pof; print(pof.add_ints(2, 3))'], cwd=tmp_path).strip() == '5'


def test_python_m_hpy_devel_abi(tmp_path):
    """--abi chooses as setuptools builds do: $HPY_ABI, else [tool.hpy] abi, else the default."""
    (tmp_path / 'pyproject.toml').write_text('[tool.hpy]\nabi = "hybrid"\n')
    assert hpy_devel('--abi', cwd=tmp_path) == 'hybrid'
    assert hpy_devel('--abi', cwd=tmp_path, env={'HPY_ABI': 'universal'}, keep=['HPY_ABI']) == 'universal'
    assert hpy_devel('--abi', cwd=tmp_path / '..') == ('cpython' if sys.implementation.name == 'cpython'
                                                       else 'universal')
    for option in ('--includedir', '--libdir', '--cmakedir', '--pkgconfigdir', '--stub-template'):
        assert os.path.exists(hpy_devel(option)), option
