# mk/debug.mk: the debug and trace contexts: the misuse catalogue and the demo (docs/debug.md).
.PHONY: test-debug demo-debug test-pof-debug bench-debug test-pof-movinggc test-e2e-movinggc bench-movinggc

# The misuse catalogue and the trace tests (the whole e2e suite runs in debug mode in `make test-e2e`).
test-debug: install
	$(PY) -m pytest $(PYTEST_FLAGS) tests/e2e/debug

# A module with a real leak and a use after close, run in universal mode, then found by debug mode.
demo-debug: install
	$(PY) debug/demo/run_demo.py

DEMO_TARGETS += demo-debug

# The proof of concept's universal build under the debug context, every test in a LeakDetector.
test-pof-debug: install
	cd proof-of-concept && HPY=debug ../$(PY) -m pytest -q -p no:xdist --pof-abi=universal -p hpy.debug.pytest .

CI_TARGETS += test-pof-debug

# The same under the moving-GC checker (HPY=debug:movinggc), the gc collecting each 50 allocations.
test-pof-movinggc: install
	cd proof-of-concept && HPY=debug:movinggc ../$(PY) -c "import gc; gc.set_threshold(50); import pytest, sys; \
	sys.exit(pytest.main(['-q', '-p', 'no:xdist', '--pof-abi=universal', '-p', 'hpy.debug.pytest', '.']))"

# The e2e suite's tests with the moving-GC checker on (the debug ABI mode and the misuse catalogue), the gc
# collecting each MOVINGGC_EVERY allocations.
MOVINGGC_EVERY ?= 50
test-e2e-movinggc: install
	UNIHPY_E2E_MOVINGGC=$(MOVINGGC_EVERY) $(PY) -m pytest $(PYTEST_FLAGS) tests/e2e -k 'debug'

# No false positive of the checker on the e2e suite's debug tests and the proof of concept (about 1 min).
CI_TARGETS += test-e2e-movinggc test-pof-movinggc

# debug/universal instructions per bench case (callgrind), e.g. make bench-debug BENCH_DEBUG_CASES='"call O"'
bench-debug: install
	$(PY) debug/bench/ratios.py $(BENCH_DEBUG_CASES)

# What the moving-GC checker costs: field and global stores and loads, gc.collect() (wall time, docs/debug.md).
bench-movinggc: install
	$(PY) debug/bench/movinggc.py
