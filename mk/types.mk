# mk/types.mk: which context functions and slots the e2e tests use (devtools/api/e2e_coverage.py).
# `make e2e-coverage` reports; `make check-e2e-coverage` fails when a name is neither used nor excused.
.PHONY: e2e-coverage check-e2e-coverage
e2e-coverage:
	$(PYTHON) devtools/api/e2e_coverage.py

check-e2e-coverage:
	$(PYTHON) devtools/api/e2e_coverage.py --check

CI_TARGETS += check-e2e-coverage
