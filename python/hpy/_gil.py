"""hpy/_gil.py: a free-threaded CPython's GIL for universal modules that do not declare HPy_MOD_GIL.

CPython re-enables the GIL when it imports an extension module that has not declared it can run
without it (Py_mod_gil), and warns. A universal module is made into a module by hpy.universal, not by
CPython's extension import, so the host asks for the same outcome: it has CPython import a small
extension module of its own that declares nothing (hpy._gil_required, defined in hpy.universal's
binary), which takes CPython's own path (PYTHON_GIL=0 and -X gil=0 are honoured there), and it words
the warning for the module that needed the GIL.
"""
import sys
import warnings

_REQUIRED = "hpy._gil_required"


def require_gil(module_name):
    """Before `module_name` (an HPy module without HPy_MOD_GIL_NOT_USED) is created: enables the GIL as
    CPython would for an extension module that has not declared Py_mod_gil."""
    if getattr(sys, "_is_gil_enabled", lambda: True)() or _REQUIRED in sys.modules:
        return
    import importlib.machinery
    import importlib.util

    import hpy.universal

    loader = importlib.machinery.ExtensionFileLoader(_REQUIRED, hpy.universal.__file__)
    spec = importlib.util.spec_from_loader(_REQUIRED, loader)
    with warnings.catch_warnings():
        # CPython's warning would name the stand-in module: the one below names the HPy module.
        warnings.filterwarnings("ignore", category=RuntimeWarning, message=".*'%s'" % _REQUIRED)
        sys.modules[_REQUIRED] = importlib.util.module_from_spec(spec)
    if sys._is_gil_enabled():
        warnings.warn("The global interpreter lock (GIL) has been enabled to load module '%s', which has "
                      "not declared that it can run safely without the GIL. To override this behavior and "
                      "keep the GIL disabled (at your own risk), run with PYTHON_GIL=0 or -Xgil=0."
                      % module_name, RuntimeWarning, stacklevel=2)
