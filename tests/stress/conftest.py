"""tests/stress/conftest.py: the e2e suite's ABI-mode fixtures (the same code, loaded from tests/e2e) and
the stress scale."""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parent.parent / "e2e"
sys.path.insert(0, str(E2E))
_spec = importlib.util.spec_from_file_location("_e2e_conftest", E2E / "conftest.py")
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)
pytest_configure = _e2e.pytest_configure
pytest_generate_tests = _e2e.pytest_generate_tests
compiler = _e2e.compiler


@pytest.fixture
def scale():
    """HPY_STRESS_SCALE multiplies every count (1 = the full run: 1e6 calls, 1e5 allocations)."""
    return float(os.environ.get("HPY_STRESS_SCALE", "1"))
