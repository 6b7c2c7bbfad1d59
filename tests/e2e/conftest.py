"""tests/e2e/conftest.py: the ABI-mode fixtures every e2e test runs under."""
import os
import sys
from pathlib import Path

import pytest

import host_differences
from support import ABI_MODES, FREE_THREADED, PREBUILT_MODE, ExtensionCompiler

# devtools/hosts.py runs this suite on other interpreters with modules built once on the build
# machine: there only the ABIs whose files load anywhere apply (the others need that interpreter's
# own build), and host_differences.py says where such a host differs from CPython, and why.
# By default the universal ABI runs there; UNIHPY_E2E_HOST_ABIS=universal,debug (hosts.py test --abis)
# adds unihpy's debug context, which loads the same files.
HOST_ABIS = tuple(os.environ.get("UNIHPY_E2E_HOST_ABIS", "universal").split(","))

# UNIHPY_E2E_MOVINGGC=N (make test-e2e-movinggc): the moving-GC checker is on for the whole run, the gc
# collecting (and the checker re-issuing every field and global) each N allocations.
MOVINGGC_EVERY = os.environ.get("UNIHPY_E2E_MOVINGGC")


@pytest.fixture(autouse=True, scope="session")
def movinggc_checker():
    if not MOVINGGC_EVERY:
        yield
        return
    import hpy.debug
    hpy.debug.set_movinggc(True, every=int(MOVINGGC_EVERY))
    yield
    hpy.debug.set_movinggc(False)


# On a free-threaded CPython every module this suite loads in its own process declares
# HPy_MOD_GIL_NOT_USED (support.expand_source), so the GIL must stay off from the first test to the
# last: the whole suite then runs without it.
@pytest.fixture(autouse=True)
def gil_stays_off():
    before = sys._is_gil_enabled() if FREE_THREADED else True
    yield
    if not before:
        assert not sys._is_gil_enabled(), ("the GIL was enabled during this test: a module it loaded in this "
                                           "process has not declared HPy_MOD_GIL_NOT_USED")


def pytest_configure(config):
    config.addinivalue_line("markers", "abis(*names): run this test only in these ABI modes")
    config.addinivalue_line("markers", "leaks_on_purpose: the test leaks handles and checks the debug "
                                       "mode's leak report itself (no LeakDetector around it)")


def pytest_generate_tests(metafunc):
    if "hpy_abi" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("abis")
        modes = list(marker.args if marker else ABI_MODES)
        # Debug mode loads the universal build: every test that loads modules through the compiler
        # fixture in universal mode runs in debug mode too; other tests do not know the mode.
        if "compiler" in metafunc.fixturenames and "universal" in modes and "debug" not in modes:
            modes.append("debug")
        elif "compiler" not in metafunc.fixturenames and "debug" in modes:
            modes.remove("debug")
        if PREBUILT_MODE:
            modes = [m for m in modes if m in HOST_ABIS]
        metafunc.parametrize("hpy_abi", modes)


def pytest_collection_modifyitems(config, items):
    host_differences.mark(items, Path(__file__).parent)


@pytest.fixture
def compiler(request, tmp_path, hpy_abi):
    """Builds and loads test modules in the ABI mode of this parametrisation.

    In debug mode the test runs inside a LeakDetector (unless marked leaks_on_purpose) and must make
    no debug report (unihpy's debug context counts them; another host's, PyPy's, has no count and
    raises or aborts on misuse instead)."""
    if hpy_abi != "debug":
        yield ExtensionCompiler(tmp_path, hpy_abi)
        return
    from hpy.debug import LeakDetector
    from hpy.universal import _debug

    counted = hasattr(_debug, "get_report_count")
    if counted:
        reports_before = _debug.get_report_count()
        _debug.pop_reports()
    if request.node.get_closest_marker("leaks_on_purpose"):
        yield ExtensionCompiler(tmp_path, hpy_abi)
    else:
        with LeakDetector():
            yield ExtensionCompiler(tmp_path, hpy_abi)
    if counted:
        assert _debug.get_report_count() == reports_before, _debug.pop_reports()
