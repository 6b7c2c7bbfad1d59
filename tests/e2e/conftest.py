"""tests/e2e/conftest.py: the ABI-mode fixtures every e2e test runs under."""
from pathlib import Path

import pytest

import host_differences
from support import ABI_MODES, PREBUILT_MODE, ExtensionCompiler

# devtools/hosts.py runs this suite on other interpreters with modules built once on the build
# machine: there only the ABIs whose files load anywhere apply (the others need that interpreter's
# own build), and host_differences.py says where such a host differs from CPython, and why.
HOST_ABIS = ("universal", "debug")


def pytest_configure(config):
    config.addinivalue_line("markers", "abis(*names): run this test only in these ABI modes")


def pytest_generate_tests(metafunc):
    if "hpy_abi" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("abis")
        modes = marker.args if marker else ABI_MODES
        if PREBUILT_MODE:
            modes = [m for m in modes if m in HOST_ABIS]
        metafunc.parametrize("hpy_abi", modes)


def pytest_collection_modifyitems(config, items):
    host_differences.mark(items, Path(__file__).parent)


@pytest.fixture
def compiler(tmp_path, hpy_abi):
    """Builds and loads test modules in the ABI mode of this parametrisation."""
    return ExtensionCompiler(tmp_path, hpy_abi)
