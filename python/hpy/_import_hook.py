"""hpy/_import_hook.py: lets `import foo` find foo.hpy0.so (and hybrid foo.hpy0-cp311.so) without a .py stub.

Installed at interpreter start by unihpy.pth and again by `import hpy.universal`. The finder sits after
the standard ones, so a module found by them (a .py stub included) wins; it looks at the files only when
they found nothing.

It runs in every interpreter start (unihpy.pth), so it imports only what start-up has already loaded:
finders and loaders are duck-typed, and importlib.abc would pull in typing, pathlib and more (~28 ms).
"""
import os
import sys
from importlib.machinery import ModuleSpec

from hpy._abitag import get_hpy_ext_suffix


def _suffixes():
    """The file suffixes of the universal and hybrid modules this interpreter can load."""
    try:
        return (get_hpy_ext_suffix("universal"), get_hpy_ext_suffix("hybrid"))
    except ValueError:  # an EXT_SUFFIX that names no interpreter ABI: universal modules only
        return (get_hpy_ext_suffix("universal"),)


SUFFIXES = _suffixes()


class HPyLoader:
    """Creates the module with hpy.universal.load (mode chosen by the HPY environment variable)."""

    def create_module(self, spec):
        from hpy.universal import load

        return load(spec.name, spec.origin, spec)

    def exec_module(self, module):
        pass  # load() runs the module's HPy_mod_exec slots


class HPyFinder:
    def find_spec(self, fullname, path, target=None):
        name = fullname.rpartition(".")[2]
        for entry in sys.path if path is None else path:
            if not isinstance(entry, str):
                continue
            for suffix in SUFFIXES:
                filename = os.path.join(entry or ".", name + suffix)
                if os.path.isfile(filename):
                    spec = ModuleSpec(fullname, HPyLoader(), origin=filename)
                    spec.has_location = True  # so that the module gets __file__
                    return spec
        return None

    def invalidate_caches(self):
        pass


def install():
    """Puts the finder on sys.meta_path once."""
    if not any(isinstance(f, HPyFinder) for f in sys.meta_path):
        sys.meta_path.append(HPyFinder())
