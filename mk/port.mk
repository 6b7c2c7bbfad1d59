# mk/port.mk: the porting tool, `python -m hpy.port` (python/hpy/port/, docs/porting.md). Part of `make test`.
.PHONY: test-port port-table port-table-check

# report, rewrite and check on small extensions written by the tests and on third-party C sources fetched
# from PyPI (cached in build/port-cache); libclang's Python bindings come from PyPI (`unihpy[port]`).
test-port: install
	$(PIP) install -q libclang
	$(PY) -m pytest $(PYTEST_FLAGS) tests/port

# The table of docs/porting.md: the five extensions rewritten, built in the hybrid ABI (and universal,
# debug mode, where pure HPy) and run against their own tests (about a minute; CI: port-table-check).
port-table: install
	$(PIP) install -q libclang pytest
	$(PY) tests/port/port_table.py --write

# The same, failing when an extension no longer passes; the table is printed, docs/porting.md untouched.
port-table-check: install
	$(PIP) install -q libclang pytest
	$(PY) tests/port/port_table.py

test: test-port
CI_TARGETS += port-table-check
