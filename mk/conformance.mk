# mk/conformance.mk: HPy 0.9.0's own test suite, docs examples, porting example and proof of concept, run
# unmodified against unihpy (tests/conformance/hpy09.py; the sdist is fetched once into the cache,
# $UNIHPY_CACHE or /var/cache/unihpy, and checked against its sha256). Part of `make test`.
.PHONY: wheels test-conformance

# unihpy's wheel (from the build folder `make install` uses) and the `hpy` requirement alias.
wheels: install
	rm -rf build/wheels
	$(PIP) wheel -q --no-build-isolation --no-deps -Cbuild-dir=build/pip -Ccmake.define.HPY_WERROR=ON -w build/wheels .
	$(PY) python/hpy-alias/make_wheel.py --out build/wheels

# CONFORMANCE_PARTS=suite,examples,porting,pof picks parts.
test-conformance: wheels hosts-if-root
	$(PY) tests/conformance/hpy09.py --wheels build/wheels --out build/conformance \
	  $(if $(CONFORMANCE_PARTS),--parts $(CONFORMANCE_PARTS))

test: test-conformance
