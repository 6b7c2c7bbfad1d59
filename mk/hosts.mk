# mk/hosts.mk: the interpreters unihpy runs on (devtools/hosts.py, docs/hosts.md) and the e2e matrix.
# The cache of chroots lives outside the work tree: UNIHPY_HOSTS_CACHE (default /var/cache/unihpy/hosts).
HOSTS_PY := $(PY) devtools/hosts.py

.PHONY: hosts hosts-list test-hosts ci-hosts

# Creates (once) bookworm's PyPy, the trixie and sid chroots and the shared pytest folder; idempotent.
hosts: install
	$(HOSTS_PY) create

hosts-list: install
	$(HOSTS_PY) list

# The proof of concept and the universal (and debug) e2e tests on every other host, with the modules
# built once here. HOSTS="cpython-3.13 pypy-7.3.19" picks hosts; a missing host is skipped with its reason.
# HOSTS_ABIS=universal,debug adds unihpy's debug context (or HOSTS_ABIS=debug alone).
test-hosts: install
	$(HOSTS_PY) test $(foreach h,$(HOSTS),--host $(h)) $(if $(HOSTS_ABIS),--abis $(HOSTS_ABIS))

# CI: creates the hosts on a fresh machine (reuses them otherwise), HPy 0.9.0's host included, then
# runs the universal e2e suite and the proof of concept on every host whose HPy is unihpy's (one file
# per module, built once here), two hosts at a time. The interpreters' own HPy hosts (PyPy 7.3.19's,
# HPy 0.9.0's) run the proof of concept and the module calling every shifted context member: PyPy
# 7.3.19's aborts in its own garbage collector partway through the whole suite (docs/hosts.md).
# Prints how long it took; a missing host is skipped and named in the last line.
CI_HOSTS_JOBS ?= 2
CI_FULL_HOSTS := cpython-3.13 cpython-3.14 cpython-3.14d pypy-7.3.11 pypy-8.0
CI_NATIVE_HOSTS := pypy-7.3.19 hpy-0.9.0
CI_NATIVE_SUITES := --suite proof-of-concept/test_pof.py --suite tests/e2e/test_shifted.py
ci-hosts: install
	@start=$$(date +%s); $(HOSTS_PY) create && $(MAKE) --no-print-directory hpy09-venv && \
	$(HOSTS_PY) test --jobs $(CI_HOSTS_JOBS) $(foreach h,$(CI_FULL_HOSTS),--host $(h)) && \
	$(HOSTS_PY) test --jobs $(CI_HOSTS_JOBS) $(foreach h,$(CI_NATIVE_HOSTS),--host $(h)) $(CI_NATIVE_SUITES); \
	rc=$$?; echo "ci-hosts: $$(( $$(date +%s) - start )) s"; exit $$rc

CI_TARGETS += ci-hosts
