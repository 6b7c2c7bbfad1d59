# Makefile: every developer and CI task of unihpy. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CTEST_BUILD := build/ctest
APT_PACKAGES := g++ libgtest-dev
PY_PACKAGES := scikit-build-core cmake ninja pytest pytest-xdist setuptools wheel
PYTEST_FLAGS ?= -q -n auto

.PHONY: all deps venv install generate check-generated ctest test-e2e test-pof test demo demo-hosts ci ci-extra format lint clean

all: install

# $(call apt-install,PACKAGES): installs those of the Debian PACKAGES not installed yet (as root, where
# apt-get exists); elsewhere names them and fails.
define apt-install
@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
  else echo "please install:$$missing"; exit 1; fi; fi
endef

# Each area (hosts, debug, reliability, benchmarks) keeps its targets in mk/AREA.mk and adds to
# CI_TARGETS (run by `make ci` after `make test`), DEMO_SETUP (set-up steps of `make demo`) and
# DEMO_TARGETS (the results `make demo` prints).
CI_TARGETS :=
DEMO_SETUP := install
DEMO_TARGETS :=
# `make test`: this interpreter's checks first (generated files, ctest, e2e, proof of concept), then
# what the areas add (cross-loading, the other interpreters): prerequisites run in the order read.
test: check-generated ctest test-e2e test-pof
include $(sort $(wildcard mk/*.mk))

# System packages (as root, where apt-get exists); skipped when already installed.
deps:
	$(call apt-install,$(APT_PACKAGES))

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(PY)
	$(PIP) install -q $(PY_PACKAGES)

# Builds and installs unihpy (host, headers, runtime libraries) into the virtual environment.
# The `hpy` alias (python/hpy-alias) makes requirements on hpy 0.9 see unihpy as meeting them.
# UNIHPY_INSTALLED=1 (set by devtools/steps.py once its `install` step is done) skips it.
ifeq ($(UNIHPY_INSTALLED),)
install: deps venv
	$(PIP) install -q --no-build-isolation -Cbuild-dir=build/pip -Ccmake.define.HPY_WERROR=ON .
	$(PIP) install -q --no-index $$($(PY) python/hpy-alias/make_wheel.py --out build/alias)
else
install:
endif

generate:
	$(PYTHON) devtools/api/generate.py

check-generated:
	$(PYTHON) devtools/api/generate.py --check

# Header, ABI layout, API description, generator and GoogleTest checks.
ctest: install
	$(VENV)/bin/cmake -S . -B $(CTEST_BUILD) -G Ninja -DBUILD_TESTING=ON -DHPY_WERROR=ON \
	  -DPython_EXECUTABLE=$(abspath $(PY)) -DCMAKE_MAKE_PROGRAM=$(abspath $(VENV)/bin/ninja)
	$(VENV)/bin/cmake --build $(CTEST_BUILD)
	$(VENV)/bin/ctest --test-dir $(CTEST_BUILD) --output-on-failure -j2

test-e2e: install
	$(PY) -m pytest $(PYTEST_FLAGS) tests/e2e

test-pof: install
	cd proof-of-concept && ../$(PY) -m pytest $(PYTEST_FLAGS) .

# `make demo`: the set-up steps (DEMO_SETUP) with one progress line each and their raw output in
# build/logs/demo.log, then the results: the proof of concept built once as a universal module and run
# on every interpreter available (demo-hosts), then every area's DEMO_TARGETS.
demo:
	@$(PYTHON) devtools/steps.py --log build/logs/demo.log $(DEMO_SETUP) -- demo-hosts $(DEMO_TARGETS)

demo-hosts: install
	$(PY) devtools/demo.py

# Every area's extra CI target (sanitizers, fuzzing, other hosts...); .ci/run runs it after test and demo.
CI_TARGETS += lint
ci-extra: install
	@for t in $(CI_TARGETS); do $(MAKE) --no-print-directory $$t || exit 1; done

ci: test demo ci-extra

FORMAT_FILES = $(shell git ls-files '*.c' '*.cpp' '*.h' | grep -v '_gen\.')
format:
	$(call apt-install,clang-format)
	clang-format -i $(FORMAT_FILES)

# Every hand-written C and C++ file as clang-format (.clang-format) writes it; in CI.
lint:
	$(call apt-install,clang-format)
	clang-format --dry-run --Werror $(FORMAT_FILES)
	$(PYTHON) devtools/api/generate.py --check

clean:
	rm -rf build $(VENV) .venv-*
