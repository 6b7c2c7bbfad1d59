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

test-asan-e2e: asan-install
	$(ASAN_ENV) $(ASAN_PY) -m pytest $(ASAN_PYTEST_FLAGS) tests/e2e

test-asan-pof: asan-install
	cd proof-of-concept && $(ASAN_ENV) ../$(ASAN_PY) -m pytest $(ASAN_PYTEST_FLAGS) .

test-asan: test-asan-unit test-asan-e2e test-asan-pof

CI_TARGETS += test-asan
