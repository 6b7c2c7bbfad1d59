# proof-of-concept/packaging/setuptools/setup.py: the proof of concept's modules as hpy_ext_modules (the ABI: pyproject.toml).
import os

from setuptools import Extension, setup

# pof.c, pofcpp.cpp and pofpackage/ are symbolic links to the proof of concept's sources two folders
# up: setuptools wants sources inside the project (an absolute path stops egg_info, a ../../ one puts
# the object files outside build/).
LIBM = [] if os.name == 'nt' else ['m']

setup(
    packages=['pofpackage'],
    include_package_data=False,  # pofpackage/foo.c is a source, not package data
    hpy_ext_modules=[
        Extension('pof', sources=['pof.c'], libraries=LIBM),
        Extension('pofpackage.foo', sources=['pofpackage/foo.c']),
        Extension('pofcpp', sources=['pofcpp.cpp'], language='c++',
                  extra_compile_args=[] if os.name == 'nt' else ['-std=c++17']),
    ],
)
