# mk/hpy09.mk: HPy 0.9.0 from PyPI in its own virtual environment, for cross-loading tests and benchmarks.
# unihpy installs a package named `hpy` too, so the two never share an environment.
HPY09_VENV := .venv-hpy09
HPY09_PY := $(HPY09_VENV)/bin/python

.PHONY: hpy09-venv
hpy09-venv: $(HPY09_PY)

$(HPY09_PY):
	$(PYTHON) -m venv $(HPY09_VENV)
	$(HPY09_VENV)/bin/pip install -q --upgrade pip
	$(HPY09_VENV)/bin/pip install -q hpy==0.9.0 setuptools wheel pytest
