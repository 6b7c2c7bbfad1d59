# mk/bench.mk: the benchmarks side by side (bench/, docs/benchmarks.md). Numbers are reported, never asserted.
# `make bench` writes bench/results/micro.{md,json,png}; `make bench-quick` (CI smoke, < 2 minutes)
# writes bench/results/micro-quick.*. BENCH_ARGS passes more options, e.g. --host pypy=CMD@CHROOT.
BENCH_PY_PACKAGES := cffi matplotlib
BENCH_ARGS ?=
# Other interpreters of devtools/hosts.py, measured by `make bench` in a second run, bench/results/hosts.*
# (a missing host is skipped with the reason):
# PyPy 7.3.19's own HPy host against its cpyext, unihpy's host over cpyext on PyPy 8.0 and 7.3.11.
BENCH_HOSTS ?= pypy-7.3.19 pypy-8.0 pypy-7.3.11

.PHONY: bench bench-quick bench-deps bench-threads
CI_TARGETS += bench-quick

# valgrind (callgrind) from Debian when root; without it the run reports CPU time only.
bench-deps: install hpy09-venv
	@if ! command -v valgrind >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; \
	  else echo "valgrind not installed: instruction counts will be skipped"; fi; fi
	$(PIP) install -q $(BENCH_PY_PACKAGES)

bench: bench-deps
	$(PY) bench/run.py $(BENCH_ARGS)
	$(if $(strip $(BENCH_HOSTS)),$(PY) bench/run.py --hosts-only $(foreach h,$(BENCH_HOSTS),--hpy-host $(h)))
	$(PY) bench/threads.py

# One universal file, a CPU-bound function run from 1 and from 2 threads on CPython 3.13 with the GIL and
# on the free-threaded 3.13t (devtools/hosts.py): bench/results/threads.{md,json}. Part of `make bench`.
bench-threads: install
	$(PY) bench/threads.py

bench-quick: bench-deps
	$(PY) bench/run.py --quick $(BENCH_ARGS)
