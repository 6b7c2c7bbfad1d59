"""hpy/_import_hook.py: lets `import foo` find foo.hpy0.so (and hybrid foo.hpy0-cp311.so) without a .py stub.

Installed at interpreter start by unihpy.pth and again by `import hpy.universal`. The finder sits after
the standard ones, so a module found by them (a .py stub included) wins; it looks at the files only when
they found nothing.
"""
import importlib.abc
import importlib.util
import os
import sys

ABI_TAG = "hpy0"


def _suffixes():
    """The file suffixes of universal and hybrid modules this interpreter can load."""
    python_tag = "cp%d%d" % sys.version_info[:2]
    return (".%s.so" % ABI_TAG, ".%s-%s.so" % (ABI_TAG, python_tag))


class HPyLoader(importlib.abc.Loader):
    """Creates the module with hpy.universal.load (mode chosen by the HPY environment variable)."""

    def create_module(self, spec):
        from hpy.universal import load

        return load(spec.name, spec.origin, spec)

    def exec_module(self, module):
        pass  # load() runs the module's HPy_mod_exec slots


class HPyFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        name = fullname.rpartition(".")[2]
        for entry in sys.path if path is None else path:
            if not isinstance(entry, str):
                continue
            for suffix in _suffixes():
                filename = os.path.join(entry or ".", name + suffix)
                if os.path.isfile(filename):
                    return importlib.util.spec_from_file_location(fullname, filename, loader=HPyLoader())
        return None

    def invalidate_caches(self):
        pass


def install():
    """Puts the finder on sys.meta_path once."""
    if not any(isinstance(f, HPyFinder) for f in sys.meta_path):
        sys.meta_path.append(HPyFinder())
