# mk/hosts.mk: the interpreters unihpy runs on (devtools/hosts.py, docs/hosts.md) and the e2e matrix.
# The cache of chroots lives outside the work tree: UNIHPY_HOSTS_CACHE (default /var/cache/unihpy/hosts).
HOSTS_PY := $(PY) devtools/hosts.py

.PHONY: hosts hosts-if-root hosts-list test-hosts test-hosts-devel test-hosts-matrix test-hosts-wheels

# Creates (once) bookworm's PyPy, the trixie and sid chroots, the shared pytest folder and HPy 0.9.0's
# venv; idempotent, and says how long it took.
hosts: install hpy09-venv
	@start=$$(date +%s); $(HOSTS_PY) create; rc=$$?; \
	echo "hosts: created or reused in $$(( $$(date +%s) - start )) s"; exit $$rc

# `make test` and `make demo` run on every host: they create the hosts first where they can (as root;
# a few seconds once cached). Elsewhere they say why not, and the hosts are skipped with that reason.
hosts-if-root: install hpy09-venv
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory hosts; \
	else echo "hosts: not creating the other interpreters: that needs root (apt-get, debootstrap, chroot)"; fi

DEMO_SETUP += hosts-if-root

hosts-list: install
	$(HOSTS_PY) list

# The proof of concept and the universal (and debug) e2e tests on every other host, with the modules
# built once here. HOSTS="cpython-3.13 pypy-7.3.19" picks hosts; a missing host is skipped with its reason.
# HOSTS_ABIS=universal,debug adds the debug context (or HOSTS_ABIS=debug alone).
test-hosts: install
	$(HOSTS_PY) test $(foreach h,$(HOSTS),--host $(h)) $(if $(HOSTS_ABIS),--abis $(HOSTS_ABIS))

# hpy.devel on the other CPythons (devtools/hosts.py devel): the proof of concept built inside each in
# the CPython and hybrid ABIs (their runtime library and file-name tag are the interpreter's own), its
# files named and tested there. HOSTS="cpython-3.15 cpython-3.13t" picks hosts. Part of `make test`
# (about a minute).
test-hosts-devel: hosts-if-root
	$(HOSTS_PY) devel $(foreach h,$(HOSTS),--host $(h))

# Part of `make test`: on every host created here (`make hosts`), the e2e suite and the proof of
# concept in universal and in debug mode, each module file built once, here, two hosts at a time.
# PyPy 7.3.19 and HPy 0.9.0 load them with their own HPy hosts (HPy 0.9.0's runs the proof of concept
# and the shifted-members module only). A host not created is skipped and named, with the reason, in
# the last line; the time taken is printed.
HOSTS_TEST_JOBS ?= 2
test-hosts-matrix: hosts-if-root
	@start=$$(date +%s); $(HOSTS_PY) test --jobs $(HOSTS_TEST_JOBS) --abis universal,debug; \
	rc=$$?; echo "test-hosts-matrix: $$(( $$(date +%s) - start )) s"; exit $$rc

# The wheel route (devtools/hosts.py wheels, docs/packaging.md): the example's universal wheel built once
# here, unihpy's wheel for each host (this machine's from `make wheels`, the others from the host
# builds), both installed by pip into a fresh venv on every host, test_pof.py run on them, the
# CPython-ABI wheel refused, uninstalled; two hosts at a time. HOSTS="a b" picks hosts.
test-hosts-wheels: hosts-if-root wheels packaging-deps
	@start=$$(date +%s); $(HOSTS_PY) wheels --jobs $(HOSTS_TEST_JOBS) $(foreach h,$(HOSTS),--host $(h)); \
	rc=$$?; echo "test-hosts-wheels: $$(( $$(date +%s) - start )) s"; exit $$rc

DEMO_SETUP += wheels

test: test-hosts-matrix test-hosts-devel test-hosts-wheels
