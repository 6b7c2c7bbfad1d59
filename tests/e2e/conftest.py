"""tests/e2e/conftest.py: the ABI-mode fixtures every e2e test runs under."""
import pytest

from support import ABI_MODES, ExtensionCompiler


def pytest_configure(config):
    config.addinivalue_line("markers", "abis(*names): run this test only in these ABI modes")


def pytest_generate_tests(metafunc):
    if "hpy_abi" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("abis")
        modes = marker.args if marker else ABI_MODES
        metafunc.parametrize("hpy_abi", modes)


@pytest.fixture
def compiler(tmp_path, hpy_abi):
    """Builds and loads test modules in the ABI mode of this parametrisation."""
    return ExtensionCompiler(tmp_path, hpy_abi)
