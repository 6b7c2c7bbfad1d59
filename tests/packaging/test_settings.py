"""tests/packaging/test_settings.py: how a build picks its HPy ABI, and which wheels keep the interpreter's tag (small projects, built by pip)."""
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import pytest

from conftest import pip, run
from conftest import CP_TAG, SUFFIX
from test_wheels import PLATFORM, requires_dist, wheel_tag

HPY_SOURCE = r'''
#include "hpy.h"
HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
static HPy answer_impl(HPyContext *ctx, HPy self) { return HPyLong_FromLong(ctx, 42); }
static HPyDef *defines[] = {&answer, NULL};
static HPyModuleDef moddef = {.defines = defines};
HPy_MODINIT(tiny, moddef)
'''

CAPI_SOURCE = r'''
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "plain"};
PyMODINIT_FUNC PyInit_plain(void) { return PyModuleDef_Init(&def); }
'''


def make_project(path, tool_hpy='', dependencies=None, plain_extension=False):
    """A project with the HPy module `tiny` (and, if asked, the C-API module `plain`)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / 'tiny.c').write_text(HPY_SOURCE)
    deps = '' if dependencies is None else 'dependencies = %r\n' % (dependencies,)
    (path / 'pyproject.toml').write_text(textwrap.dedent('''\
        [build-system]
        requires = ["setuptools>=64", "unihpy"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "tiny"
        version = "1.0"
        ''') + deps + tool_hpy)
    ext_modules = ''
    if plain_extension:
        (path / 'plain.c').write_text(CAPI_SOURCE)
        ext_modules = "ext_modules=[Extension('plain', ['plain.c'])],"
    (path / 'setup.py').write_text(textwrap.dedent('''\
        from setuptools import Extension, setup
        setup(hpy_ext_modules=[Extension('tiny', ['tiny.c'])], %s)
        ''' % ext_modules))
    return path


def build(project, *args, env=None):
    out = project / 'dist'
    pip(sys.executable, 'wheel', '--no-build-isolation', '--no-deps', '-w', out, *args, project,
        env=env or {}, keep=(env or {}).keys())
    (found,) = out.glob('*.whl')
    return found


def tags_and_files(path):
    with zipfile.ZipFile(path) as z:
        return wheel_tag(path), sorted(n for n in z.namelist() if n.endswith('.so'))


UNIVERSAL = ('py3', 'none', PLATFORM)
CPYTHON = (CP_TAG, CP_TAG, PLATFORM)


@pytest.mark.parametrize('tool_hpy, env, args, expected', [
    ('', {}, [], 'cpython'),  # the default on CPython
    ('[tool.hpy]\nabi = "universal"\n', {}, [], 'universal'),
    ('[tool.hpy]\nabi = "universal"\n', {'HPY_ABI': 'hybrid'}, [], 'hybrid'),
    ('[tool.hpy]\nabi = "hybrid"\n', {'HPY_ABI': 'cpython'}, ['-C--global-option=--hpy-abi=universal'],
     'universal'),
], ids=['default', 'pyproject', 'env-over-pyproject', 'config-setting-over-env'])
def test_precedence(tmp_path, tool_hpy, env, args, expected):
    wheel = build(make_project(tmp_path / 'p', tool_hpy), *args, env=env)
    suffix = SUFFIX[expected] if expected != 'cpython' else '.cpython-'
    tag, files = tags_and_files(wheel)
    assert tag == (UNIVERSAL if expected == 'universal' else CPYTHON)
    assert len(files) == 1 and suffix in files[0], files


def test_setup_py_option_first(tmp_path):
    """setup.py --hpy-abi (the command line) wins over $HPY_ABI and pyproject.toml."""
    project = make_project(tmp_path / 'p', '[tool.hpy]\nabi = "universal"\n')
    run([sys.executable, 'setup.py', '-q', '--hpy-abi=cpython', 'bdist_wheel', '-d', 'dist'],
        cwd=project, env={'HPY_ABI': 'hybrid'}, keep=['HPY_ABI'])
    (wheel,) = (project / 'dist').glob('*.whl')
    assert tags_and_files(wheel) == (CPYTHON, ['tiny' + SUFFIX['cpython']])


def test_plain_extension_keeps_interpreter_tag(tmp_path):
    """A C-API extension beside the universal module ties the wheel to this interpreter."""
    wheel = build(make_project(tmp_path / 'p', '[tool.hpy]\nabi = "universal"\n', plain_extension=True))
    tag, files = tags_and_files(wheel)
    assert tag == CPYTHON
    assert 'tiny.hpy0.so' in files and any(f.startswith('plain.cpython-') for f in files)
    assert requires_dist(wheel) == ['unihpy']


def test_own_requirements_kept(tmp_path):
    """A project's own requirements stay; one on unihpy is not doubled."""
    wheel = build(make_project(tmp_path / 'p', '[tool.hpy]\nabi = "universal"\n',
                               dependencies=['unihpy>=0.1', 'packaging']))
    assert sorted(requires_dist(wheel)) == ['packaging', 'unihpy>=0.1']


@pytest.mark.parametrize('tool_hpy, env, message', [
    ('[tool.hpy]\nabi = "universel"\n', {}, r"\[tool.hpy\] abi = 'universel'"),
    ('[tool.hpy]\nabi = "universal"\n', {'HPY_ABI': 'cpyton'}, r"HPY_ABI='cpyton' in the environment"),
], ids=['pyproject', 'env'])
def test_bad_abi_named(tmp_path, tool_hpy, env, message):
    project = make_project(tmp_path / 'p', tool_hpy)
    environ = {k: v for k, v in os.environ.items() if k != 'HPY_ABI'}
    proc = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-build-isolation', '--no-deps',
                           '-w', str(tmp_path / 'dist'), str(project)], capture_output=True, text=True,
                          env=dict(environ, **env))
    assert proc.returncode != 0
    assert re.search(message, proc.stdout + proc.stderr), proc.stdout + proc.stderr
