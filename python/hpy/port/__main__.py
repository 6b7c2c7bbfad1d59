# python/hpy/port/__main__.py: the command line of the porting tool, `python -m hpy.port`.
"""python -m hpy.port report FILE.c [--json] [--compile-commands JSON] [-- CFLAGS...]"""
import argparse
import json
import sys


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
    args = parser.parse_args(argv)

    try:
        from . import frontend, report as report_mod
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    flags = list(cflags)
    if args.compile_commands:
        flags = frontend.flags_from_compile_commands(args.compile_commands, args.file) + flags
    result = report_mod.build(frontend.parse(args.file, flags))
    result["file"] = args.file   # as the user wrote it
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        sys.stdout.write(report_mod.render_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
