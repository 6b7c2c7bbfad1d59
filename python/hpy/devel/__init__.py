# python/hpy/devel/__init__.py: setuptools integration for HPy extensions (hpy_ext_modules, --hpy-abi, HPyDevel).
"""Build HPy extensions with setuptools.

    from setuptools import setup, Extension
    setup(name='pof', hpy_ext_modules=[Extension('pof', ['pof.c'])])

    python setup.py build_ext --inplace --hpy-abi=universal   # or cpython, hybrid
    python setup.py --hpy-abi=universal build_ext --inplace   # HPy 0.9 spelling
    pip wheel . -C--global-option=--hpy-abi=universal         # pip: a config setting
    HPY_ABI=universal pip wheel .                             # or the environment
    # or, in pyproject.toml:  [tool.hpy]  abi = "universal"

The ABI is the first of: --hpy-abi (setup.py's global option, build_ext's or
bdist_wheel's; pip's config setting ``--global-option`` becomes the first),
$HPY_ABI, ``abi`` in the ``[tool.hpy]`` table of the project's pyproject.toml,
DEFAULT_HPY_ABI (docs/packaging.md).

``hpy_ext_modules`` reaches :func:`handle_hpy_ext_modules` through the
``distutils.setup_keywords`` entry point that the ``unihpy`` distribution
declares; it adds the ``--hpy-abi`` option and lets :class:`HPyDevel` patch the
distribution's ``build`` and ``build_ext`` commands.

Per ABI an HPy extension gets:
  cpython:   -DHPY_ABI_CPYTHON, linked with lib/libhpy-cpython.a and the C++
             runtime library, named with EXT_SUFFIX (an ordinary extension);
  universal: -DHPY_ABI_UNIVERSAL, linked with lib/libhpy-universal.a, named
             NAME.hpy0.so, with a NAME.py stub that loads it;
  hybrid:    -DHPY_ABI_HYBRID, linked with lib/libhpy-universal.a, named
             NAME.hpy0-<cpython abi tag>.so (e.g. .hpy0-cp311.so), with a stub.

Wheels (bdist_wheel): universal and hybrid ones require unihpy (Requires-Dist),
which loads their modules; a universal wheel whose only extensions are
hpy_ext_modules is tagged py3-none-<platform>, as every Python 3 loads it.
"""

import os
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # pragma: no cover - Python < 3.11
    tomllib = None

import setuptools
import setuptools.command.bdist_egg
import setuptools.command.build_ext
import setuptools.command.egg_info
from setuptools.errors import BaseError, OptionError, SetupError

try:  # setuptools >= 62.4
    from setuptools.command.build import build as _build
except ImportError:  # pragma: no cover - older setuptools
    from distutils.command.build import build as _build

from .abitag import HPY_ABI_TAG, HPY_ABIS, get_hpy_ext_suffix

__all__ = ['HPyDevel', 'handle_hpy_ext_modules', 'get_include', 'DEFAULT_HPY_ABI', 'HPY_ABI_TAG',
           'HOST_REQUIREMENT', 'is_universal_wheel', 'pyproject_abi', 'project_abi']

# As HPy 0.9: CPython extensions default to the CPython ABI; other interpreters
# (PyPy, GraalPy) to the universal ABI.
DEFAULT_HPY_ABI = 'cpython' if sys.implementation.name == 'cpython' else 'universal'


def _project_dir(dist=None):
    """The folder of the setup script (pip runs it from there; `python DIR/setup.py` may not)."""
    script = getattr(dist, 'script_name', None)
    if script and os.path.isfile(script):
        return os.path.dirname(os.path.abspath(script))
    return os.getcwd()


def pyproject_abi(project_dir):
    """The ``abi`` of the ``[tool.hpy]`` table in ``project_dir``/pyproject.toml, or None."""
    path = os.path.join(project_dir, 'pyproject.toml')
    if tomllib is None or not os.path.isfile(path):
        return None
    with open(path, 'rb') as f:
        try:
            table = tomllib.load(f).get('tool', {}).get('hpy', {})
        except tomllib.TOMLDecodeError as e:
            raise SetupError('hpy.devel: cannot read %s: %s' % (path, e)) from None
    abi = table.get('abi')
    if abi is not None and abi not in HPY_ABIS:
        raise OptionError('%s: [tool.hpy] abi = %r: use "cpython", "universal" or "hybrid"'
                          % (path, abi))
    return abi


def project_abi(project_dir):
    """The ABI of a build of the project in ``project_dir`` when no command-line option names one:
    $HPY_ABI (pip passes no setup.py options unless told, see the module's docstring), else
    [tool.hpy] abi in its pyproject.toml, else DEFAULT_HPY_ABI. The meson backend
    (hpy.devel.mesonpy) and ``python -m hpy.devel --abi`` choose the same way."""
    env = os.environ.get('HPY_ABI')
    if env and env not in HPY_ABIS:
        raise OptionError('HPY_ABI=%r in the environment: use cpython, universal or hybrid' % (env,))
    return env or pyproject_abi(project_dir) or DEFAULT_HPY_ABI


def _default_abi(dist=None):
    return project_abi(_project_dir(dist))


# Matches the file names of universal and hybrid modules: NAME.hpy0.so, NAME.hpy0-cp311.so.
_HPY_FILE_RE = re.compile(r'\.hpy\d+(-[^.]+)?\.[A-Za-z0-9]+$')

_GLOBAL_OPTIONS = [
    ('hpy-abi=', None,
     'HPy ABI to build hpy_ext_modules for: cpython, universal or hybrid '
     '(default: $HPY_ABI, else [tool.hpy] abi in pyproject.toml, else %s)'
     % DEFAULT_HPY_ABI),
    ('hpy-use-static-libs', None,
     'link the prebuilt HPy helper libraries (the default; kept for HPy 0.9 setup.py files)'),
    ('hpy-no-static-libs', None,
     'compile the HPy helper sources into each universal or hybrid extension '
     'instead of linking the prebuilt library'),
]


def _check_abi(hpy_abi):
    if hpy_abi not in HPY_ABIS:
        raise OptionError('unknown HPy ABI %r: use --hpy-abi=cpython, universal or hybrid'
                          % (hpy_abi,))
    return hpy_abi


class HPyDevel:
    """Where the HPy headers, helper sources and prebuilt libraries are, and the
    setuptools plumbing that uses them.

    ``base_dir`` is the folder holding ``include/``, ``src/runtime/`` and
    ``lib/``; by default the installed ``hpy/devel`` package itself.
    """

    _DEFAULT_BASE_DIR = Path(os.path.abspath(__file__)).parent

    def __init__(self, base_dir=None):
        self.base_dir = Path(base_dir) if base_dir is not None else self._DEFAULT_BASE_DIR
        self.include_dir = self.base_dir / 'include'
        self.src_dir = self.base_dir / 'src' / 'runtime'
        self.lib_dir = self.base_dir / 'lib'
        self.stub_template = self.base_dir / 'loader_stub.py.in'

    # ---------- where things are ----------

    def get_include_dir(self):
        """The folder holding ``hpy.h``."""
        return str(self.include_dir)

    def get_extra_include_dirs(self):
        """Include folders every HPy extension needs, in every ABI."""
        return [str(self.include_dir)]

    def get_include_dir_forbid_python_h(self):
        """A folder whose ``Python.h`` is a compile error: first on the include
        path of universal builds, so that ``#include <Python.h>`` fails wherever
        it is (``hpy.h`` alone catches it only when it comes first)."""
        return self.include_dir / 'hpy' / 'forbid_python_h'  # a Path, as in HPy 0.9

    def get_extra_sources(self):
        """The ABI-neutral helper sources (argparse, buildvalue, format, helpers, ...).

        They are compiled into an extension only when the prebuilt static
        library is not used (``--hpy-no-static-libs``, or no library shipped)."""
        if not self.src_dir.is_dir():
            return []
        return sorted(str(p) for p in self.src_dir.glob('*.c'))

    def get_ctx_sources(self):
        """HPy 0.9 compatibility: the CPython-ABI context sources. The CPython
        runtime is C++ and ships prebuilt in ``libhpy-cpython.a``, so none."""
        return []

    def get_static_libs(self, hpy_abi):
        """The prebuilt static libraries an extension of ``hpy_abi`` links with
        (a list of paths), or None if they are not shipped."""
        _check_abi(hpy_abi)
        name = 'libhpy-cpython.a' if hpy_abi == 'cpython' else 'libhpy-universal.a'
        lib = self.lib_dir / name
        return [str(lib)] if lib.is_file() else None

    # ---------- setuptools plumbing ----------

    def fix_distribution(self, dist):
        """Make ``dist`` build its ``hpy_ext_modules``: patch its ``build`` and
        ``build_ext`` commands (keeping any user subclass of them) and bdist_egg."""
        dist.hpydevel = self
        if 'hpy_abi' not in vars(dist):
            dist.hpy_abi = _default_abi(dist)
        for name, value in (('hpy_use_static_libs', False), ('hpy_no_static_libs', False),
                            ('hpy_ext_modules', None)):
            if not hasattr(dist, name):
                setattr(dist, name, value)
        _patch_distribution_class(type(dist))

        build = dist.cmdclass.get('build', _build)
        if not issubclass(build, _BuildHPyMixin):
            dist.cmdclass['build'] = _make_mixin(build, _BuildHPyMixin)

        build_ext = dist.cmdclass.get('build_ext', setuptools.command.build_ext.build_ext)
        self.build_ext_sanity_check(build_ext)
        if not issubclass(build_ext, _BuildExtHPyMixin):
            dist.cmdclass['build_ext'] = _make_mixin(build_ext, _BuildExtHPyMixin)

        egg_info = dist.cmdclass.get('egg_info', setuptools.command.egg_info.egg_info)
        if not issubclass(egg_info, _EggInfoHPyMixin):
            dist.cmdclass['egg_info'] = _make_mixin(egg_info, _EggInfoHPyMixin)

        # bdist_wheel is extended when first asked for (the `wheel` package's, under setuptools
        # < 70.1, warns when imported): see _patch_distribution_class.

        _patch_bdist_egg_write_stub()

    def build_ext_sanity_check(self, build_ext):
        """Refuse a build_ext that does not derive from setuptools' one."""
        if isinstance(build_ext, type) and not issubclass(
                build_ext, setuptools.command.build_ext.build_ext):
            raise SetupError(
                "dist.cmdclass['build_ext'] (%r) does not derive from "
                "setuptools.command.build_ext.build_ext, which hpy.devel extends; "
                "derive it from setuptools' build_ext instead of distutils' one" % (build_ext,))

    # ---------- per-extension flags ----------

    def _link_inputs(self, hpy_abi, use_static_libs):
        """(extra_objects, libraries, sources) to add for ``hpy_abi``."""
        libs = self.get_static_libs(hpy_abi)
        if hpy_abi == 'cpython':
            # The CPython-ABI runtime is C++: it exists only as the prebuilt library.
            if libs is None:
                raise BaseError(
                    'hpy.devel: %s is missing, and CPython-ABI HPy extensions need it; '
                    'reinstall unihpy' % (self.lib_dir / 'libhpy-cpython.a'))
            return libs, ([] if os.name == 'nt' else ['stdc++']), []
        if use_static_libs and libs is not None:
            return libs, [], []
        sources = self.get_extra_sources()
        if not sources:
            raise BaseError('hpy.devel: neither %s nor the helper sources in %s exist; '
                            'reinstall unihpy' % (self.lib_dir / 'libhpy-universal.a', self.src_dir))
        return [], [], sources


def get_include():
    """The folder holding ``hpy.h`` (shortcut for ``HPyDevel().get_include_dir()``)."""
    return HPyDevel().get_include_dir()


def handle_hpy_ext_modules(dist, attr, hpy_ext_modules):
    """The ``hpy_ext_modules`` keyword of ``setup()``, called by setuptools
    through the ``distutils.setup_keywords`` entry point."""
    assert attr == 'hpy_ext_modules'
    if hpy_ext_modules is None:
        return
    if not isinstance(hpy_ext_modules, (list, tuple)) or not all(
            hasattr(ext, 'name') and hasattr(ext, 'sources') for ext in hpy_ext_modules):
        raise SetupError('hpy_ext_modules must be a list of setuptools.Extension, got %r'
                         % (hpy_ext_modules,))
    # setuptools may call this more than once for one distribution.
    if getattr(dist, 'hpydevel', None) is not None:
        return
    _add_global_options(type(dist))
    HPyDevel().fix_distribution(dist)


# ==================================================================
# Patches of setuptools classes (each applied once per class)
# ==================================================================

def _add_global_options(dist_class):
    known = {opt[0] for opt in dist_class.global_options}
    missing = [opt for opt in _GLOBAL_OPTIONS if opt[0] not in known]
    if missing:
        dist_class.global_options = list(dist_class.global_options) + missing
    for name, value in (('hpy_abi', DEFAULT_HPY_ABI), ('hpy_use_static_libs', False),
                        ('hpy_no_static_libs', False)):
        if not hasattr(dist_class, name):
            setattr(dist_class, name, value)


def _patch_distribution_class(dist_class):
    original = dist_class.has_ext_modules
    if getattr(original, '_hpy_patched', False):
        return

    def has_ext_modules(self):
        return bool(getattr(self, 'hpy_ext_modules', None)) or original(self)

    original_get_command_class = dist_class.get_command_class

    def get_command_class(self, command):
        # Whichever bdist_wheel setuptools finds (its own, the `wheel` package's, the project's).
        cls = original_get_command_class(self, command)
        if (command == 'bdist_wheel' and getattr(self, 'hpydevel', None) is not None
                and not issubclass(cls, _BdistWheelHPyMixin)):
            cls = self.cmdclass[command] = _make_mixin(cls, _BdistWheelHPyMixin)
        return cls

    has_ext_modules._hpy_patched = True
    dist_class.has_ext_modules = has_ext_modules
    dist_class.get_command_class = get_command_class


# File names of the CPython-ABI HPy extensions built in this process (see write_stub below).
_CPYTHON_ABI_FILES = set()

_EGG_STUB_TEMPLATE = '''\
# {stub_name}: loader for the HPy cpython-ABI module {ext_file} inside an egg, written by hpy.devel.
def __bootstrap__():
    global __bootstrap__, __file__
    import importlib.util
    import sys
    from pkg_resources import resource_filename
    __file__ = resource_filename(__name__, {ext_file!r})
    del __bootstrap__
    spec = importlib.util.spec_from_file_location(__name__, __file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # HPy modules use multi-phase initialisation, which does not replace this stub in sys.modules.
    sys.modules[__name__] = module


__bootstrap__()
'''


def _patch_bdist_egg_write_stub():
    # bdist_egg writes a CPython-extension stub beside every extension it packs: for a universal or
    # hybrid module it would overwrite the HPy stub; for a CPython-ABI module its stub loads the
    # extension but leaves itself in sys.modules, since it expects single-phase initialisation.
    mod = setuptools.command.bdist_egg
    original = mod.write_stub
    if getattr(original, '_hpy_patched', False):
        return

    def write_stub(resource, pyfile):
        if _HPY_FILE_RE.search(resource):
            return
        if os.path.basename(resource) in _CPYTHON_ABI_FILES:
            with open(pyfile, 'w', encoding='utf-8') as f:
                f.write(_EGG_STUB_TEMPLATE.format(stub_name=os.path.basename(pyfile),
                                                  ext_file=os.path.basename(resource)))
            return
        original(resource, pyfile)

    write_stub._hpy_patched = True
    mod.write_stub = write_stub


def _make_mixin(base, mixin):
    """A subclass of ``base`` whose methods from ``mixin`` come first."""
    return type(base.__name__ + '_hpy', (mixin, base), {
        'user_options': list(getattr(base, 'user_options', []))
                        + list(getattr(mixin, '_hpy_user_options', [])),
    })


# ==================================================================
# The universal / hybrid loader stub
# ==================================================================

# One template for every build system: setuptools fills it here, the CMake package with
# configure_file and meson projects with theirs (the @NAME@ placeholders are what both understand).
STUB_TEMPLATE = HPyDevel().stub_template


def loader_stub_text(ext_file, hpy_abi, stub_name=None):
    """The text of the loader stub of the HPy module file ``ext_file`` (a file name)."""
    ext_file = os.path.basename(ext_file)
    module_name = ext_file.split('.')[0]
    values = {'STUB_NAME': stub_name or module_name + '.py', 'EXT_FILE': ext_file,
              'MODULE_NAME': module_name, 'HPY_ABI': hpy_abi}
    return re.sub(r'@([A-Z_]+)@', lambda m: values[m.group(1)], STUB_TEMPLATE.read_text(encoding='utf-8'))


def _write_hpy_stub(stub_file, ext_file, hpy_abi, dry_run=False):
    if dry_run:
        return
    os.makedirs(os.path.dirname(stub_file) or '.', exist_ok=True)
    with open(stub_file, 'w', encoding='utf-8') as f:
        f.write(loader_stub_text(ext_file, hpy_abi, os.path.basename(stub_file)))


# ==================================================================
# The commands
# ==================================================================

class _BuildHPyMixin:
    """build: keeps the build folders of universal and hybrid builds apart from
    the CPython-ABI ones."""

    def finalize_options(self):
        super().finalize_options()
        hpy_abi = _check_abi(self.distribution.hpy_abi)
        if hpy_abi != 'cpython':
            suffix = '-hpy-%s' % hpy_abi
            self.build_platlib += suffix
            self.build_lib += suffix
            self.build_temp += suffix


# The distribution whose host loads universal and hybrid modules: their wheels require it.
HOST_REQUIREMENT = 'unihpy'
_REQUIREMENT_NAME_RE = re.compile(r'^\s*([A-Za-z0-9][A-Za-z0-9._-]*)')


def _needs_host(dist):
    return bool(getattr(dist, 'hpy_ext_modules', None)) and dist.hpy_abi != 'cpython'


def is_universal_wheel(dist):
    """True when ``dist``'s wheel runs on every Python 3: its only extensions are
    hpy_ext_modules built for the universal ABI (no ext_modules, no C libraries)."""
    return (bool(getattr(dist, 'hpy_ext_modules', None)) and dist.hpy_abi == 'universal'
            and not dist.ext_modules and not dist.has_c_libraries())


def _add_host_requirement(dist):
    """Adds HOST_REQUIREMENT to ``dist``'s install_requires unless it names it already."""
    reqs = dist.install_requires
    reqs = [reqs] if isinstance(reqs, str) else list(reqs or [])
    names = set()
    for req in reqs:
        m = _REQUIREMENT_NAME_RE.match(str(req))
        if m:
            names.add(re.sub(r'[-_.]+', '-', m.group(1)).lower())
    if HOST_REQUIREMENT in names:
        return
    dist.install_requires = reqs + [HOST_REQUIREMENT]
    # setuptools writes Requires-Dist from the metadata's copy, set when the distribution
    # was finalized (before this command ran).
    if hasattr(dist.metadata, 'install_requires'):
        dist.metadata.install_requires = dist.install_requires


class _EggInfoHPyMixin:
    """egg_info (under dist_info and bdist_wheel too): universal and hybrid modules are
    loaded by unihpy's host, so the distribution requires unihpy."""

    def run(self):
        if _needs_host(self.distribution):
            _add_host_requirement(self.distribution)
        super().run()


class _BdistWheelHPyMixin:
    """bdist_wheel: a --hpy-abi option (what pip's -C--global-option=--hpy-abi=ABI
    becomes with setuptools < 70), and the py3-none-<platform> tag of universal wheels."""

    _hpy_user_options = [
        ('hpy-abi=', None, 'HPy ABI of hpy_ext_modules (as setup.py --hpy-abi)'),
    ]

    def initialize_options(self):
        super().initialize_options()
        self.hpy_abi = None

    def finalize_options(self):
        if self.hpy_abi is not None:
            self.distribution.hpy_abi = _check_abi(self.hpy_abi)
        super().finalize_options()

    def get_tag(self):
        impl, abi, plat = super().get_tag()
        if is_universal_wheel(self.distribution):
            # Nothing in it depends on the interpreter: NAME.hpy0.so files, which every HPy 0.9
            # host loads, and Python code. The platform stays: the files are machine code.
            return 'py3', 'none', plat
        return impl, abi, plat


class _BuildExtHPyMixin:
    """build_ext: builds ``hpy_ext_modules`` beside ``ext_modules``."""

    _hpy_user_options = [
        ('hpy-abi=', None, 'HPy ABI: cpython, universal or hybrid (default: setup.py '
                           '--hpy-abi, $HPY_ABI, [tool.hpy] abi, else %s)' % DEFAULT_HPY_ABI),
    ]

    # setuptools' and distutils' finalize_options reassign .extensions from
    # dist.ext_modules; the full list (with the HPy extensions) lives in
    # _extensions and assignments are ignored.
    _extensions = None

    @property
    def extensions(self):
        return self._extensions

    @extensions.setter
    def extensions(self, value):
        pass

    def initialize_options(self):
        super().initialize_options()
        self.hpy_abi = None
        self.hpydevel = getattr(self.distribution, 'hpydevel', None) or HPyDevel()
        self._hpy_extensions = []
        self._hpy_names = set()

    def finalize_options(self):
        dist = self.distribution
        if self.hpy_abi is not None:
            dist.hpy_abi = _check_abi(self.hpy_abi)
        self.hpy_abi = _check_abi(getattr(dist, 'hpy_abi', None) or _default_abi(dist))
        use_static = not getattr(dist, 'hpy_no_static_libs', False)
        self._hpy_extensions = list(getattr(dist, 'hpy_ext_modules', None) or [])
        self._extensions = list(dist.ext_modules or []) + self._hpy_extensions
        for ext in self._hpy_extensions:
            self._prepare_hpy_ext(ext, use_static)
        super().finalize_options()
        # distutils asks for the file name of an extension by its full name and
        # by its last component (get_ext_fullpath): both must be recognised.
        self._hpy_names = set()
        for ext in self._hpy_extensions:
            fullname = self.get_ext_fullname(ext.name)
            self._hpy_names.update((fullname, fullname.split('.')[-1]))
            ext._needs_stub = self.hpy_abi != 'cpython'
            ext._file_name = self.get_ext_filename(fullname)
            if self.hpy_abi == 'cpython':
                _CPYTHON_ABI_FILES.add(os.path.basename(ext._file_name))

    def _prepare_hpy_ext(self, ext, use_static):
        # Rebuild from the author's own settings each time, so that finalizing
        # twice (or for another ABI) never stacks flags.
        orig = getattr(ext, '_hpy_original', None)
        if orig is None:
            orig = ext._hpy_original = {
                k: list(getattr(ext, k) or []) for k in
                ('sources', 'include_dirs', 'define_macros', 'extra_objects',
                 'libraries', 'extra_compile_args')}
        for k, v in orig.items():
            setattr(ext, k, list(v))
        hpy_abi = self.hpy_abi
        objects, libraries, sources = self.hpydevel._link_inputs(hpy_abi, use_static)
        ext.hpy_abi = hpy_abi
        ext.sources += sources
        if hpy_abi == 'universal':
            ext.include_dirs.insert(0, str(self.hpydevel.get_include_dir_forbid_python_h()))
        ext.include_dirs += self.hpydevel.get_extra_include_dirs()
        ext.define_macros += [('HPY', None), ('HPY_ABI_' + hpy_abi.upper(), None)]
        ext.extra_objects += objects
        ext.libraries += libraries
        if os.name != 'nt':
            ext.extra_compile_args += ['-fvisibility=hidden']
        if objects and sys.platform.startswith('linux'):
            # Whatever the static libraries define stays private to this module.
            if '-Wl,--exclude-libs,ALL' not in ext.extra_link_args:
                ext.extra_link_args = list(ext.extra_link_args or []) + ['-Wl,--exclude-libs,ALL']

    def _is_hpy_name(self, name):
        return name in self._hpy_names or any(
            self.get_ext_fullname(ext.name) == name for ext in self._hpy_extensions)

    def get_ext_filename(self, fullname):
        if self.hpy_abi in ('universal', 'hybrid') and self._is_hpy_name(fullname):
            return os.path.join(*fullname.split('.')) + get_hpy_ext_suffix(self.hpy_abi)
        return super().get_ext_filename(fullname)

    def get_export_symbols(self, ext):
        # Only used on Windows, where a DLL exports what is listed.
        if getattr(ext, 'hpy_abi', 'cpython') == 'cpython':
            return super().get_export_symbols(ext)
        short = ext.name.split('.')[-1]
        return ['HPyInit_' + short, 'HPyInitGlobalContext_' + short,
                'get_required_hpy_major_version_' + short,
                'get_required_hpy_minor_version_' + short, '_HPyInitDirectCalls_' + short]

    def _hpy_needs_stub(self, ext):
        return ext in self._hpy_extensions and self.hpy_abi != 'cpython'

    def write_stub(self, output_dir, ext, compile=False):
        if not self._hpy_needs_stub(ext):
            return super().write_stub(output_dir, ext, compile)
        parts = ext._full_name.split('.')
        stub_file = os.path.join(output_dir, *parts) + '.py'
        self.announce('writing HPy %s loader stub for %s to %s'
                      % (self.hpy_abi, ext._full_name, stub_file), level=2)
        _write_hpy_stub(stub_file, ext._file_name, self.hpy_abi, self.dry_run)

    def _with_hpy_stubs_hidden(self, fn):
        # Runs a setuptools method that would write (or list) its own stub for
        # every extension with _needs_stub; ours are handled separately.
        hidden = [ext for ext in self._hpy_extensions if getattr(ext, '_needs_stub', False)]
        for ext in hidden:
            ext._needs_stub = False
        try:
            return fn()
        finally:
            for ext in hidden:
                ext._needs_stub = True

    def copy_extensions_to_source(self):
        self._with_hpy_stubs_hidden(super().copy_extensions_to_source)
        build_py = self.get_finalized_command('build_py')
        for ext in self._hpy_extensions:
            if not self._hpy_needs_stub(ext):
                continue
            fullname = self.get_ext_fullname(ext.name)
            package = '.'.join(fullname.split('.')[:-1])
            package_dir = build_py.get_package_dir(package)
            stub_file = os.path.join(package_dir, fullname.split('.')[-1] + '.py')
            self.announce('writing HPy %s loader stub for %s to %s'
                          % (self.hpy_abi, fullname, stub_file), level=2)
            _write_hpy_stub(stub_file, ext._file_name, self.hpy_abi, self.dry_run)

    def _get_output_mapping(self):
        # Editable installs (setuptools >= 64) map build outputs to the source tree.
        base = getattr(super(), '_get_output_mapping', None)
        if base is None:
            return iter(())
        pairs = self._with_hpy_stubs_hidden(lambda: list(base()))
        if self.inplace:
            build_py = self.get_finalized_command('build_py')
            for ext in self._hpy_extensions:
                if not self._hpy_needs_stub(ext):
                    continue
                inplace_file, regular_file = self._get_inplace_equivalent(build_py, ext)
                pairs.append((_stub_path_beside(regular_file), _stub_path_beside(inplace_file)))
        return iter(pairs)


def _stub_path_beside(ext_path):
    """dir/NAME.hpy0.so -> dir/NAME.py"""
    head, tail = os.path.split(ext_path)
    return os.path.join(head, tail.split('.')[0] + '.py')
