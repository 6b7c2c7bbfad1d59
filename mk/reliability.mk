# mk/reliability.mk: sanitizers, fuzzing, stress and valgrind runs (docs/reliability.md).
# `make test-asan`: unihpy, its tests' extensions and the unit tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer, the e2e, proof-of-concept and unit suites run under a sanitized host.
ASAN_VENV := .venv-asan
ASAN_PY := $(ASAN_VENV)/bin/python-asan
ASAN_BUILD := build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_PYTEST_FLAGS ?= -q -n 2 -p no:cacheprovider

.PHONY: asan-install test-asan test-asan-unit test-asan-e2e test-asan-pof

# A separate environment: the sanitized host cannot load without the ASan runtime preloaded.
$(ASAN_VENV)/bin/python:
	$(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_VENV)/bin/pip install -q --upgrade pip
	$(ASAN_VENV)/bin/pip install -q $(PY_PACKAGES)

asan-install: deps $(ASAN_VENV)/bin/python
	$(ASAN_VENV)/bin/pip install -q --no-build-isolation -Cbuild-dir=$(ASAN_BUILD)/pip \
	  -Ccmake.build-type=RelWithDebInfo -Ccmake.define.HPY_SANITIZE=ON -Ccmake.define.HPY_WERROR=ON .
	sed -e 's|@ASAN_LIB@|$(shell gcc -print-file-name=libasan.so)|' \
	    -e 's|@SUPPRESSIONS@|$(abspath tests/sanitize/lsan.supp)|' \
	    -e 's|@PYTHON@|$(abspath $(ASAN_VENV)/bin/python)|' tests/sanitize/python-asan.in > $(ASAN_PY)
	chmod +x $(ASAN_PY)
	echo 'import os; os.environ.pop("LD_PRELOAD", None)' > \
	  "$$($(ASAN_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/unihpy_asan.pth"

# The test modules and the proof of concept are built with the same sanitizers.
ASAN_ENV := HPY_TEST_CFLAGS="$(SAN_FLAGS)" CFLAGS="$(SAN_FLAGS)" CXXFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)"

test-asan-unit: asan-install
	$(ASAN_VENV)/bin/cmake -S . -B $(ASAN_BUILD)/ctest -G Ninja -DBUILD_TESTING=ON -DHPY_SANITIZE=ON \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_EXECUTABLE=$(abspath $(ASAN_VENV)/bin/python) \
	  -DCMAKE_MAKE_PROGRAM=$(abspath $(ASAN_VENV)/bin/ninja) >/dev/null
	$(ASAN_VENV)/bin/cmake --build $(ASAN_BUILD)/ctest --target hpy_unit_tests
	$(ASAN_VENV)/bin/ctest --test-dir $(ASAN_BUILD)/ctest --output-on-failure -j2 -R '^unit\.'

# A memory error, undefined behaviour or leak printed by a process whose exit status nobody checks
# (an xdist worker at its exit) fails the target too: the output is kept and searched.
SAN_REPORT := 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
define asan-check-log
	@if grep -Eq $(SAN_REPORT) $(1); then echo "sanitizer reports in $(1):"; \
	  grep -E -A30 $(SAN_REPORT) $(1) | head -120; exit 1; fi
endef

# LSAN_OPTIONS=exitcode=0: a leak report at a pytest-xdist worker's exit is printed whole (and fails
# the target through the search above) instead of ending the worker as a crash.
ASAN_PYTEST_ENV := LSAN_OPTIONS="exitcode=0$${LSAN_OPTIONS:+:$$LSAN_OPTIONS}"

test-asan-e2e: asan-install
	$(ASAN_ENV) $(ASAN_PYTEST_ENV) $(ASAN_PY) -m pytest $(ASAN_PYTEST_FLAGS) tests/e2e >$(ASAN_BUILD)/e2e.log 2>&1; \
	  status=$$?; cat $(ASAN_BUILD)/e2e.log; exit $$status
	$(call asan-check-log,$(ASAN_BUILD)/e2e.log)

test-asan-pof: asan-install
	cd proof-of-concept && $(ASAN_ENV) $(ASAN_PYTEST_ENV) ../$(ASAN_PY) -m pytest $(ASAN_PYTEST_FLAGS) . >../$(ASAN_BUILD)/pof.log 2>&1; \
	  status=$$?; cat ../$(ASAN_BUILD)/pof.log; exit $$status
	$(call asan-check-log,$(ASAN_BUILD)/pof.log)

test-asan: test-asan-unit test-asan-e2e test-asan-pof

CI_TARGETS += test-asan

# Stress (tests/stress): 1e6 calls and 1e5 allocations with flat memory, 8 threads. CI runs a tenth.
STRESS_SCALE ?= 1
.PHONY: test-stress test-stress-ci
test-stress: install
	HPY_STRESS_SCALE=$(STRESS_SCALE) $(PY) -m pytest -q -p no:cacheprovider -rA tests/stress

test-stress-ci: install
	HPY_STRESS_SCALE=0.1 $(PY) -m pytest -q -p no:cacheprovider tests/stress

CI_TARGETS += test-stress-ci

# Fuzzing (tests/fuzz): libFuzzer drivers built with Debian's clang under ASan and UBSan.
# `make fuzz-ci` runs each for FUZZ_CI_SECONDS (CI), `make fuzz` for FUZZ_SECONDS each. Each run
# starts from the checked-in corpus and regression inputs; new corpus entries stay in build/fuzz.
FUZZERS := argparse argparse_kw buildvalue format loader
FUZZ_BUILD := build/fuzz
FUZZ_CLANG_PACKAGES := clang-14 libclang-rt-14-dev
FUZZ_CI_SECONDS ?= 30
FUZZ_SECONDS ?= 600
# The loader keeps every accepted definition for the process (by design), so libFuzzer's
# per-input leak check would fire on each: leaks are checked by test-asan instead.
FUZZ_OPTS_loader := -detect_leaks=0

.PHONY: fuzz-deps fuzz-build fuzz-ci fuzz

fuzz-deps:
	$(call apt-install,$(FUZZ_CLANG_PACKAGES) python3-dev)

fuzz-build: fuzz-deps venv
	$(VENV)/bin/cmake -S tests/fuzz -B $(FUZZ_BUILD) -G Ninja -DCMAKE_C_COMPILER=clang-14 \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DPython_EXECUTABLE=$(abspath $(PY)) \
	  -DCMAKE_MAKE_PROGRAM=$(abspath $(VENV)/bin/ninja) >/dev/null
	$(VENV)/bin/cmake --build $(FUZZ_BUILD)

# fuzz-run SECONDS: every fuzzer in turn; prints executions and executions per second.
define fuzz-run
	@set -e; for f in $(FUZZERS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$f; opts=""; [ $$f != loader ] || opts="$(FUZZ_OPTS_loader)"; \
	  regressions=$$(ls -d tests/fuzz/regressions/$$f/* 2>/dev/null || true); \
	  if [ -n "$$regressions" ]; then \
	    PYTHONMALLOC=malloc $(FUZZ_BUILD)/fuzz_$$f $$opts $$regressions >$(FUZZ_BUILD)/$$f.regressions.log 2>&1 \
	      || { cat $(FUZZ_BUILD)/$$f.regressions.log; echo "fuzz_$$f: a regression input fails"; exit 1; }; fi; \
	  PYTHONMALLOC=malloc ASAN_OPTIONS=allocator_may_return_null=1 $(FUZZ_BUILD)/fuzz_$$f $$opts \
	    -max_total_time=$(1) -max_len=256 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$f- \
	    $(FUZZ_BUILD)/corpus/$$f tests/fuzz/corpus/$$f >$(FUZZ_BUILD)/$$f.log 2>&1 \
	    || { tail -60 $(FUZZ_BUILD)/$$f.log; echo "fuzz_$$f: crash, input in $(FUZZ_BUILD)/crash-$$f-*"; exit 1; }; \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/$$f.log); \
	  speed=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_BUILD)/$$f.log); \
	  echo "fuzz_$$f: $$runs executions in $(1) s ($$speed exec/s), no crash"; \
	done
endef

fuzz-ci: fuzz-build
	$(call fuzz-run,$(FUZZ_CI_SECONDS))

fuzz: fuzz-build
	$(call fuzz-run,$(FUZZ_SECONDS))

CI_TARGETS += fuzz-ci

# Valgrind (memcheck): the proof of concept, built once as a universal module, under the universal
# host; fails on definite leaks and memory errors whose stack passes through unihpy.
VALGRIND_LOG := build/valgrind/memcheck.log
.PHONY: test-valgrind
test-valgrind: install
	$(call apt-install,valgrind)
	mkdir -p build/valgrind
	PYTHONMALLOC=malloc valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
	  --num-callers=40 --log-file=$(VALGRIND_LOG) \
	  $(PY) -m pytest -q -p no:cacheprovider proof-of-concept --pof-abi=universal
	$(PY) tests/sanitize/valgrind_report.py $(VALGRIND_LOG)

CI_TARGETS += test-valgrind
