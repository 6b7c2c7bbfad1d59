# python/hpy/port/__main__.py: the command line of the porting tool, `python -m hpy.port`.
"""python -m hpy.port report FILE.c [--json] [--compile-commands JSON] [-- CFLAGS...]
python -m hpy.port rewrite FILE.c [--diff | -o DIR] [--json] [-- CFLAGS...]
python -m hpy.port check FILE.c --module NAME [--root DIR] [--at PATH] [--abi ABI] [--debug] -- TEST..."""
import argparse
import difflib
import json
import sys
from pathlib import Path


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cflags = []
    if "--" in argv:
        cflags = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(prog="python -m hpy.port",
                                     description="Porting a CPython C-API extension to HPy.")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report", help="every C-API use per function, its HPy equivalent, blockers, a porting order",
        description="Parses FILE with libclang (the flags after --, or its entry in a "
                    "compile_commands.json, after Python's include folders) and reports every use "
                    "of the CPython C API.")
    report.add_argument("file", help="a C (or C++) source file of the extension")
    report.add_argument("--json", action="store_true", help="the report as JSON, for tools")
    report.add_argument("--compile-commands", metavar="JSON",
                        help="read FILE's compiler flags from this compile_commands.json")
    rewrite = commands.add_parser(
        "rewrite", help="rewrite FILE for the hybrid ABI: HPyModuleDef, HPy_MODINIT, HPyDef_METH",
        description="Mechanical, behaviour-preserving rewrites: the module definition becomes an "
                    "HPyModuleDef with HPy_MODINIT, module functions whose every construct has a rule "
                    "become HPyDef_METH, the rest stays C API (hybrid ABI) with a comment saying why.")
    rewrite.add_argument("file", help="a C source file of the extension")
    out = rewrite.add_mutually_exclusive_group()
    out.add_argument("--diff", action="store_true", help="print a unified diff (the default)")
    out.add_argument("-o", "--output", metavar="DIR", help="write the rewritten file into DIR")
    rewrite.add_argument("--json", action="store_true",
                         help="print what was converted, and why the rest was not, as JSON")
    rewrite.add_argument("--compile-commands", metavar="JSON",
                         help="read FILE's compiler flags from this compile_commands.json")
    check = commands.add_parser(
        "check", help="build a (rewritten) source with hpy.devel and run a test command on it",
        description="Copies ROOT into a temporary folder, puts FILE at PATH there, builds MODULE with "
                    "setuptools' hpy_ext_modules for each ABI, checks that MODULE imports from that "
                    "build, and runs the command after -- in the folder with the build first on "
                    "sys.path.")
    check.add_argument("file", help="the C source to build (e.g. rewrite's output)")
    check.add_argument("--module", required=True, help="the extension's import name (pkg.mod)")
    check.add_argument("--root", help="the folder with the package and its tests (default: none)")
    check.add_argument("--at", help="where FILE goes inside ROOT (default: the module's path + .c)")
    check.add_argument("--abi", default="auto",
                       help="hybrid, universal, cpython, or auto (default): hybrid, and universal "
                            "when FILE uses no C API; several separated by commas")
    check.add_argument("--debug", action="store_true",
                       help="also run the tests of each build in debug mode (HPY=debug), failing "
                            "on handles left open at exit")
    check.add_argument("-I", dest="include", action="append", default=[], metavar="DIR",
                       help="an include folder for the build")
    check.add_argument("--extra", action="append", default=[], metavar="PATH",
                       help="another source of the extension, inside ROOT, compiled as it is")
    check.add_argument("-D", dest="define", action="append", default=[], metavar="NAME[=VALUE]",
                       help="a macro for the build")
    check.add_argument("--keep", metavar="DIR", help="build in DIR and keep it")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.command == "check":
        from . import check as check_mod
        return check_mod.main(args, cflags)

    try:
        from . import frontend, report as report_mod
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not Path(args.file).is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return 2
    if args.command == "rewrite":
        return run_rewrite(args, cflags)
    flags = list(cflags)
    if args.compile_commands:
        try:
            flags = frontend.flags_from_compile_commands(args.compile_commands, args.file) + flags
        except (OSError, ValueError, LookupError) as e:   # no entry: CompileCommandsError
            print(f"error: {args.compile_commands}: {e}", file=sys.stderr)
            return 2
    result = report_mod.build(frontend.parse(args.file, flags))
    result["file"] = args.file   # as the user wrote it
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        sys.stdout.write(report_mod.render_text(result))
    return 0


def run_rewrite(args, cflags):
    from . import frontend, rewrite as rewrite_mod
    flags = list(cflags)
    try:
        if args.compile_commands:
            try:
                flags = frontend.flags_from_compile_commands(args.compile_commands, args.file) + flags
            except (OSError, ValueError, LookupError) as e:
                raise rewrite_mod.RewriteError(f"{args.compile_commands}: cannot read it ({e})") from None
        result = rewrite_mod.rewrite(args.file, flags)
    except (rewrite_mod.RewriteError, frontend.CompileCommandsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:   # a bug of the rewrite: say where, without a traceback
        print(f"error: {args.file}: internal error of the rewrite ({type(e).__name__}: {e}); "
              f"the file was not changed. Please report it with the file.", file=sys.stderr)
        return 3
    summary = result.summary()
    summary["file"] = args.file
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        target = out / Path(args.file).name
        if target.resolve() == Path(args.file).resolve():
            print(f"error: {target} is the input file: choose another folder", file=sys.stderr)
            return 2
        target.write_text(result.text)
        summary["output"] = str(target)
    else:
        old = Path(args.file).read_text(errors="replace").splitlines(keepends=True)
        new = result.text.splitlines(keepends=True)
        sys.stdout.writelines(difflib.unified_diff(old, new, f"a/{args.file}", f"b/{args.file}"))
    if args.json:
        print(json.dumps(summary, indent=1), file=sys.stdout if args.output else sys.stderr)
    else:
        print(rewrite_mod.render_summary(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
