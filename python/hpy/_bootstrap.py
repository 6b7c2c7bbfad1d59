"""hpy._bootstrap: `hpy.universal._load_bootstrap`, the loader entry that the `.py` stubs written by
HPy 0.9's hpy.devel call, so that packages built with HPy 0.9 load in unihpy's host unchanged."""
import os


def load_bootstrap(module_name, name, package, path, loader, spec, env):
    """Loads the universal module at `path` as `name` (its full dotted name; `module_name` is the last
    part). The mode comes from the HPY setting as `hpy.universal.load` reads it; `env` is the mapping
    the stub passes (os.environ), and a different HPY value in it is an error rather than ignored."""
    import hpy.universal as universal

    if env is not None and env is not os.environ and env.get("HPY") != os.environ.get("HPY"):
        raise ImportError("cannot load HPy module %r: _load_bootstrap reads HPY from os.environ, "
                          "the environment passed differs" % name, name=name, path=path)
    module = universal.load(name, path, spec)
    # The stub's import made the spec and the loader; the stub then puts this module in its place in
    # sys.modules, so it takes them over, as a module imported directly would have them. The spec's
    # origin is the file the code came from (the module's repr shows it).
    if spec is not None:
        _set(spec, "origin", path)
    for attr, value in (("__file__", path), ("__loader__", loader), ("__name__", name),
                        ("__package__", package), ("__spec__", spec)):
        _set(module, attr, value)
    return module


def _set(obj, attr, value):
    try:
        setattr(obj, attr, value)
    except (AttributeError, TypeError):  # a module slot may return an object that refuses attributes
        pass
