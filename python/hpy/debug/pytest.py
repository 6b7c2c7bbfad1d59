"""hpy/debug/pytest.py: pytest plugin: ``pytest -p hpy.debug.pytest`` runs every test in a LeakDetector.

Without the plugin option, the ``hpy_debug`` fixture does the same for the tests that ask for it.
"""
import pytest

from .leakdetector import LeakDetector


@pytest.fixture
def hpy_debug():
    """Fails the test with HPyLeakError when it leaves debug handles open."""
    with LeakDetector() as detector:
        yield detector


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if "hpy_debug" in getattr(item, "fixturenames", ()):
        return (yield)  # the fixture already watches this test
    detector = LeakDetector()
    detector.start()
    try:
        result = yield
    except BaseException:
        detector.generation = None  # the test's own failure comes first
        raise
    detector.stop()  # HPyLeakError fails the test
    return result
