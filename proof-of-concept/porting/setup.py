# proof-of-concept/porting/setup.py: builds the `vec` example before (C API) or after (partly HPy) the port.
"""
    VEC_STEP=before python setup.py build_ext --inplace                   # vec.cpython-311-...so
    VEC_STEP=after  python setup.py build_ext --inplace --hpy-abi=hybrid  # vec.hpy0-cp311.so + vec.py
    VEC_STEP=after  python setup.py build_ext --inplace --hpy-abi=cpython # vec.cpython-311-...so
"""
import os

from setuptools import Extension, setup

STEP = os.environ.get('VEC_STEP', 'after')
LIBM = [] if os.name == 'nt' else ['m']
# Only the extension: no package discovery over before/, after/ and the test file.
NO_PY = dict(packages=[], py_modules=[])

if STEP == 'before':
    setup(name='vec-before', version='0.1.0', zip_safe=False, **NO_PY,
          ext_modules=[Extension('vec', sources=['before/vec.c'], libraries=LIBM)])
elif STEP == 'after':
    import hpy.devel  # noqa: F401  (fails clearly when unihpy is not installed)

    setup(name='vec-after', version='0.1.0', zip_safe=False, **NO_PY,
          hpy_ext_modules=[Extension('vec', sources=['after/vec.c'], libraries=LIBM)])
else:
    raise SystemExit('VEC_STEP must be before or after, not %r' % STEP)
