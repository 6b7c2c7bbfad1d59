# mk/crossload.mk: cross-loading with HPy 0.9 (tests/crossload, docs/crossload.md), part of `make test`.
# Universal modules built with unihpy's headers run in HPy 0.9's host (.venv-hpy09) and modules built
# with HPy 0.9's headers run in unihpy's host, against the same tests.
.PHONY: test-crossload
test-crossload: install hpy09-venv
	$(PY) tests/crossload/crossload.py --hpy09-python $(HPY09_PY) --out build/crossload

test: test-crossload
