# python/hpy/devel/__main__.py: `python -m hpy.devel`, where build systems other than setuptools find unihpy.
"""Print where the installed unihpy keeps what HPy extensions are built with.

    cmake -Dunihpy_DIR="$(python -m hpy.devel --cmakedir)" ...     # find_package(unihpy)
    PKG_CONFIG_PATH="$(python -m hpy.devel --pkgconfigdir)" meson setup build
    cc $(pkg-config --cflags unihpy-universal) ...

``--abi`` prints the ABI a build in the current folder gets when nothing names one on the command line
($HPY_ABI, else ``[tool.hpy] abi`` in ./pyproject.toml, else the default), as setuptools builds choose it.
"""

import argparse
import os
import sys

from . import HPY_ABIS, BaseError, HPyDevel, get_hpy_ext_suffix, project_abi


def main(argv=None):
    devel = HPyDevel()
    places = {
        'includedir': ('the folder holding hpy.h', devel.get_include_dir()),
        'libdir': ('the static runtime libraries (libhpy-universal.a, libhpy-cpython.a)', str(devel.lib_dir)),
        'cmakedir': ('unihpyConfig.cmake, for find_package(unihpy)', str(devel.lib_dir / 'cmake' / 'unihpy')),
        'pkgconfigdir': ('unihpy-universal.pc and unihpy-cpython.pc', str(devel.lib_dir / 'pkgconfig')),
        'stub-template': ('the loader stub template of universal and hybrid modules', str(devel.stub_template)),
    }
    parser = argparse.ArgumentParser(prog='python -m hpy.devel', description=__doc__.split('\n')[0])
    what = parser.add_mutually_exclusive_group(required=True)
    for name, (text, _) in places.items():
        what.add_argument('--' + name, dest='what', action='store_const', const=name, help=text)
    what.add_argument('--ext-suffix', metavar='ABI', choices=HPY_ABIS,
                      help="the file suffix of this interpreter's modules of ABI (%s)" % ', '.join(HPY_ABIS))
    what.add_argument('--abi', dest='what', action='store_const', const='abi',
                      help='the ABI of a build in this folder ($HPY_ABI, [tool.hpy] abi, default)')
    args = parser.parse_args(argv)
    try:
        if args.ext_suffix:
            print(get_hpy_ext_suffix(args.ext_suffix))
        elif args.what == 'abi':
            print(project_abi(os.getcwd()))
        else:
            print(places[args.what][1])
    except (BaseError, ValueError) as e:
        print('python -m hpy.devel: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
