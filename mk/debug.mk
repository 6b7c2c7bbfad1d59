# mk/debug.mk: the debug and trace contexts: the misuse catalogue and the demo (docs/debug.md).
.PHONY: test-debug demo-debug test-pof-debug bench-debug

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

# debug/universal instructions per bench case (callgrind), e.g. make bench-debug BENCH_DEBUG_CASES='"call O"'
bench-debug: install
	$(PY) debug/bench/ratios.py $(BENCH_DEBUG_CASES)
