# mk/port.mk: the porting tool, `python -m hpy.port` (python/hpy/port/, docs/porting.md). Part of `make test`.
.PHONY: test-port

# The report on a small extension written by the tests and on third-party C sources fetched from PyPI
# (cached in build/port-cache); libclang's Python bindings come from PyPI (`unihpy[port]`).
test-port: install
	$(PIP) install -q libclang
	$(PY) -m pytest $(PYTEST_FLAGS) tests/port

test: test-port
