# proof-of-concept/setup.py: builds the example HPy extensions with hpy_ext_modules (python setup.py build_ext --inplace --hpy-abi=...).
import os

from setuptools import Extension, setup

import hpy.devel  # noqa: F401  (fails clearly when unihpy is not installed)

LIBM = [] if os.name == 'nt' else ['m']

setup(
    name='hpy-pof',
    version='0.1.0',
    description='unihpy proof of concept: HPy extensions built in every ABI',
    packages=['pofpackage'],
    zip_safe=False,
    hpy_ext_modules=[
        Extension('pof', sources=['pof.c'], libraries=LIBM),
        Extension('pofpackage.foo', sources=['pofpackage/foo.c']),
        Extension('pofcpp', sources=['pofcpp.cpp'], language='c++',
                  extra_compile_args=[] if os.name == 'nt' else ['-std=c++17']),
    ],
)
