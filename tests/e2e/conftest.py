"""tests/e2e/conftest.py: the ABI-mode fixtures every e2e test runs under."""
import os
import sys

import pytest

from support import ABI_MODES, PREBUILT_MODE, ExtensionCompiler

# devtools/hosts.py runs this suite on other interpreters with modules built once on the build
# machine: there only the ABIs whose files load anywhere apply (the others need that interpreter's
# own build). UNIHPY_HOST names the host, UNIHPY_HPY_HOST says whose HPy host loads the modules.
HOST_ABIS = ("universal", "debug")
HOST = os.environ.get("UNIHPY_HOST", "")
NATIVE_HPY_HOST = os.environ.get("UNIHPY_HPY_HOST") == "native"
IS_PYPY = sys.implementation.name == "pypy"

# marker: (applies here?, reason shown when it does not)
HOST_MARKERS = {
    "refcounts": (not IS_PYPY, "PyPy has no reference counts: sys.getrefcount does not count references"),
    "unihpy_host": (not NATIVE_HPY_HOST, "checks behaviour of unihpy's hpy.universal; %s loads modules "
                    "with its own HPy host" % HOST),
}


def pytest_configure(config):
    config.addinivalue_line("markers", "abis(*names): run this test only in these ABI modes")
    config.addinivalue_line("markers", "refcounts: asserts CPython reference counts (not on PyPy)")
    config.addinivalue_line("markers", "unihpy_host: checks unihpy's own hpy.universal (messages, import hook)")


def pytest_generate_tests(metafunc):
    if "hpy_abi" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("abis")
        modes = marker.args if marker else ABI_MODES
        if PREBUILT_MODE:
            modes = [m for m in modes if m in HOST_ABIS]
        metafunc.parametrize("hpy_abi", modes)


def pytest_collection_modifyitems(config, items):
    for item in items:
        for name, (applies, reason) in HOST_MARKERS.items():
            if not applies and item.get_closest_marker(name):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def compiler(tmp_path, hpy_abi):
    """Builds and loads test modules in the ABI mode of this parametrisation."""
    return ExtensionCompiler(tmp_path, hpy_abi)
