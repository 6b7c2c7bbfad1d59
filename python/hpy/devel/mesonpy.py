# python/hpy/devel/mesonpy.py: the PEP 517 backend of meson projects with HPy modules (meson-python, plus the ABI).
"""Build meson projects with HPy modules: ``build-backend = "hpy.devel.mesonpy"``.

It is meson-python with three additions (docs/packaging.md):

- the ABI is chosen as setuptools builds choose it: pip's config setting ``-Chpy-abi=ABI``, else
  $HPY_ABI, else ``[tool.hpy] abi`` in pyproject.toml, else the default; meson gets it as the
  project option ``hpy_abi`` (declare it in meson.options);
- meson finds unihpy's pkg-config files (``dependency('unihpy-universal')``, ``'unihpy-cpython'``);
- a universal wheel is tagged ``py3-none-<platform>``, as every Python 3 loads its ``.hpy0.so``
  files (meson-python tags every wheel with modules for the interpreter that built it).

Every other setting is meson-python's, passed on unchanged.
"""

import base64
import hashlib
import os
import re
import zipfile
from pathlib import Path

import mesonpy
from mesonpy import build_sdist, get_requires_for_build_sdist, get_requires_for_build_wheel  # noqa: F401

from . import HPY_ABI_TAG, HPY_ABIS, HPyDevel, project_abi

__all__ = ['build_sdist', 'build_wheel', 'build_editable', 'get_requires_for_build_sdist',
           'get_requires_for_build_wheel', 'get_requires_for_build_editable', 'retag_universal_wheel']

CONFIG_KEY = 'hpy-abi'
_ELF_MAGIC = b'\x7fELF'
_UNIVERSAL_FILE_RE = re.compile(r'\.%s\.[A-Za-z0-9]+$' % re.escape(HPY_ABI_TAG))  # NAME.hpy0.so


def _settings(config_settings):
    """(abi, meson-python's config settings with the ABI option added to its setup-args)."""
    settings = dict(config_settings or {})
    abi = settings.pop(CONFIG_KEY, None)
    if abi is None:
        abi = project_abi(os.getcwd())
    elif abi not in HPY_ABIS:
        raise ValueError('-C%s=%r: use cpython, universal or hybrid' % (CONFIG_KEY, abi))
    setup_args = settings.get('setup-args', [])
    setup_args = [setup_args] if isinstance(setup_args, str) else list(setup_args)
    settings['setup-args'] = setup_args + ['-Dhpy_abi=' + abi]
    return abi, settings


def _with_pkg_config(fn, *args):
    """Runs fn(*args) with unihpy's pkg-config folder first on PKG_CONFIG_PATH (meson runs pkg-config
    as a child process, which inherits it)."""
    old = os.environ.get('PKG_CONFIG_PATH')
    os.environ['PKG_CONFIG_PATH'] = os.pathsep.join(
        [str(HPyDevel().lib_dir / 'pkgconfig')] + ([old] if old else []))
    try:
        return fn(*args)
    finally:
        if old is None:
            del os.environ['PKG_CONFIG_PATH']
        else:
            os.environ['PKG_CONFIG_PATH'] = old


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    abi, settings = _settings(config_settings)
    name = _with_pkg_config(mesonpy.build_wheel, wheel_directory, settings, metadata_directory)
    if abi == 'universal':
        name = retag_universal_wheel(Path(wheel_directory) / name).name
    return name


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _, settings = _settings(config_settings)
    return _with_pkg_config(mesonpy.build_editable, wheel_directory, settings, metadata_directory)


def get_requires_for_build_editable(config_settings=None):
    _, settings = _settings(config_settings)
    return mesonpy.get_requires_for_build_editable(settings)


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    return '%s,sha256=%s,%d' % (path, digest, len(data))


def retag_universal_wheel(wheel):
    """Rewrites ``wheel`` (a Path) as ``py3-none-<its platform>`` when every machine-code file in it is
    an HPy module of the universal ABI (``NAME.hpy0.so``); returns the new wheel's path. A wheel with
    any other machine code (an ordinary extension, a hybrid module, a library) stays as it is."""
    with zipfile.ZipFile(wheel) as zin:
        infos = zin.infolist()
        contents = {info.filename: zin.read(info) for info in infos}
    natives = [name for name, data in contents.items() if data[:4] == _ELF_MAGIC]
    if not natives or not all(_UNIVERSAL_FILE_RE.search(n) for n in natives):
        return wheel
    dist_info = next(n.split('/')[0] for n in contents if n.split('/')[0].endswith('.dist-info'))
    wheel_file = dist_info + '/WHEEL'
    lines = contents[wheel_file].decode().splitlines()
    platforms = list(dict.fromkeys(line.split('-')[-1] for line in lines if line.startswith('Tag: ')))
    lines = [line for line in lines if not line.startswith('Tag: ')] + ['Tag: py3-none-' + p for p in platforms]
    contents[wheel_file] = ('\n'.join(lines) + '\n').encode()
    record_file = dist_info + '/RECORD'
    contents[record_file] = ''.join(
        (_record_line(wheel_file, contents[wheel_file]) if line.split(',')[0] == wheel_file else line) + '\n'
        for line in contents[record_file].decode().splitlines()).encode()
    name, version = wheel.name.split('-')[:2]
    retagged = wheel.with_name('%s-%s-py3-none-%s.whl' % (name, version, '.'.join(platforms)))
    with zipfile.ZipFile(retagged.with_suffix('.part'), 'w', zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, contents[info.filename])
    os.replace(retagged.with_suffix('.part'), retagged)
    if retagged != wheel:
        wheel.unlink()
    return retagged
