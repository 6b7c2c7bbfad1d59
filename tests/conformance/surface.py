#!/usr/bin/env python3
# tests/conformance/surface.py: compares the public names of HPy 0.9's headers with unihpy's, per ABI, with libclang.
"""Every name a user of HPy 0.9 can write, unihpy's headers must define too.

For each ABI (cpython, universal, hybrid) a translation unit that includes ``hpy.h`` is parsed with
libclang (PyPI ``libclang``) once against HPy 0.9's include folder and once against unihpy's. The
public surface of a side is every name declared in that side's include folder that does not start
with an underscore: macros, functions, variables, typedefs, structs, unions, enums and enumerators,
including the ones that macros declare. A name of HPy 0.9's that unihpy lacks fails the check;
names that only unihpy has (its additions beyond 0.9) are counted and listed with --show-extra.

    python surface.py --hpy09-include DIR [--unihpy-include DIR] [--show-extra]

unihpy's include folder defaults to the installed ``hpy.devel``'s. Exit status 0 when nothing is missing.
"""
import argparse
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from clang import cindex

ABIS = {"cpython": "HPY_ABI_CPYTHON", "universal": "HPY_ABI_UNIVERSAL", "hybrid": "HPY_ABI_HYBRID"}
KINDS = {
    cindex.CursorKind.MACRO_DEFINITION: "macro",
    cindex.CursorKind.FUNCTION_DECL: "function",
    cindex.CursorKind.VAR_DECL: "variable",
    cindex.CursorKind.TYPEDEF_DECL: "typedef",
    cindex.CursorKind.STRUCT_DECL: "struct",
    cindex.CursorKind.UNION_DECL: "union",
    cindex.CursorKind.ENUM_DECL: "enum",
    cindex.CursorKind.ENUM_CONSTANT_DECL: "enumerator",
}
# Macros every header defines for itself: include guards are not names a user writes.
GUARD_SUFFIXES = ("_H", "_H_")


def internal(name, kind):
    """Names in the headers that are no part of the API: the runtime's own functions (its context
    implementations ctx_*, and helpers in lower case without the hpy prefix), and the struct tags
    that exist to make a CPython type unusable in the universal ABI (FORBIDDEN_*)."""
    if kind == "function" and name[0].islower() and not name.lower().startswith(("hpy", "cpy_")):
        return True
    return name.startswith("FORBIDDEN_")


def compiler_include():
    # The PyPI libclang carries no builtin headers (stddef.h, stdarg.h): the C compiler's serve.
    return subprocess.run(["cc", "-print-file-name=include"], capture_output=True, text=True,
                          check=True).stdout.strip()


def compile_args(include, abi):
    args = ["-x", "c", "-std=gnu11", f"-D{ABIS[abi]}", f"-I{include}",
            f"-I{sysconfig.get_paths()['include']}", f"-isystem{compiler_include()}"]
    if abi == "universal":
        # Universal modules must not see Python.h; each side refuses it through this folder.
        args.insert(0, f"-I{include / 'hpy' / 'forbid_python_h'}")
    return args


def defined_macros(source, args):
    """The macros still defined after the source is preprocessed (a header may #undef its helpers)."""
    out = subprocess.run(["cc", "-E", "-dM", "-"] + [a for a in args if a not in ("-x", "c")],
                         input=source, capture_output=True, text=True, check=True).stdout
    return {line.split()[1].split("(")[0] for line in out.splitlines() if line.startswith("#define ")}


def public_names(include, abi, extra_header=None):
    """{name: kind} of what include/hpy.h and the headers it pulls in declare, for one ABI; with
    extra_header (a path relative to include), only what that header itself declares."""
    include = Path(include).resolve()
    args = compile_args(include, abi)
    source = "#include <hpy.h>\n" + (f'#include "{extra_header}"\n' if extra_header else "")
    with tempfile.NamedTemporaryFile("w", suffix=".c") as src:
        src.write(source)
        src.flush()
        tu = cindex.Index.create().parse(src.name, args=args,
                                         options=cindex.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
        errors = [d for d in tu.diagnostics if d.severity >= cindex.Diagnostic.Error]
        if errors:
            return None, errors[0]
    macros = defined_macros(source, args)
    within = (include / extra_header).resolve() if extra_header else include
    names = {}

    def visit(cursor):
        for child in cursor.get_children():
            kind = KINDS.get(child.kind)
            loc = child.location.file
            if kind and child.spelling and loc and Path(loc.name).resolve().is_relative_to(within):
                name = child.spelling
                if name.startswith("_") or child.is_anonymous() or internal(name, kind):
                    continue
                if kind == "macro" and (name.endswith(GUARD_SUFFIXES) or name not in macros):
                    continue
                names.setdefault(name, kind)
            if child.kind in (cindex.CursorKind.ENUM_DECL, cindex.CursorKind.STRUCT_DECL,
                              cindex.CursorKind.UNION_DECL, cindex.CursorKind.TYPEDEF_DECL):
                visit(child)  # enumerators, and the enums a typedef declares in place

    visit(tu.cursor)
    return names, None


def headers_of(include, abi):
    """The header files (relative paths) that including hpy.h reads, for one ABI."""
    out = subprocess.run(["cc", "-E", "-H", "-o", "/dev/null", "-"] + [a for a in compile_args(include, abi)
                                                                      if a not in ("-x", "c")],
                         input="#include <hpy.h>\n", capture_output=True, text=True).stderr
    found = set()
    for line in out.splitlines():
        path = Path(line.lstrip(". ")).resolve()
        if path.is_relative_to(include):
            found.add(path.relative_to(include).as_posix())
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hpy09-include", required=True)
    ap.add_argument("--unihpy-include")
    ap.add_argument("--show-extra", action="store_true")
    args = ap.parse_args()
    ours_dir = args.unihpy_include
    if ours_dir is None:
        from hpy.devel import HPyDevel
        ours_dir = HPyDevel().get_include_dir()
    theirs_dir = Path(args.hpy09_include).resolve()
    ours_dir = Path(ours_dir).resolve()
    missing_total = 0
    checks = [(abi, None) for abi in ABIS]
    # Headers a user includes by name besides hpy.h (hpy/version.h): each must exist on our side too,
    # and declare the same names, where it parses on its own.
    through_hpy_h = set().union(*(headers_of(theirs_dir, abi) for abi in ABIS))
    for header in sorted(p.relative_to(theirs_dir).as_posix() for p in theirs_dir.rglob("*.h")):
        if header in through_hpy_h or header == "hpy.h":
            continue
        if not (ours_dir / header).exists():
            print(f"surface: header {header} of HPy 0.9 is missing")
            missing_total += 1
        else:
            checks.append(("universal", header))
    for abi, header in checks:
        label = f"{abi} ABI" + (f", {header}" if header else "")
        theirs, error = public_names(theirs_dir, abi, header)
        if theirs is None:
            if header:  # a header that refuses to be included (forbid_python_h/Python.h): present is enough
                print(f"surface: {label}: present (it does not compile alone on HPy 0.9's side either)")
                continue
            raise SystemExit(f"surface: {theirs_dir} does not parse for the {label}: {error}")
        ours, error = public_names(ours_dir, abi, header)
        if ours is None:
            raise SystemExit(f"surface: {ours_dir} does not parse for the {label}: {error}")
        missing = sorted(set(theirs) - set(ours))
        extra = sorted(set(ours) - set(theirs))
        missing_total += len(missing)
        print(f"surface: {label}: HPy 0.9 declares {len(theirs)} public names; unihpy {len(ours)}: "
              f"{len(missing)} missing, {len(extra)} only in unihpy")
        for name in missing:
            print(f"    missing {theirs[name]} {name}")
        if args.show_extra:
            for name in extra:
                print(f"    only in unihpy: {ours[name]} {name}")
    return 1 if missing_total else 0


if __name__ == "__main__":
    sys.exit(main())
