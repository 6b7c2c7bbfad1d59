#!/usr/bin/env python3
"""devtools/api/e2e_coverage.py: which context functions and slots of devtools/api/hpy.api the e2e tests use.

A name counts as used when it appears as a word in tests/e2e/test_*.py, or when a test builds it from a
template and a list: `PREFIX%(n)s` or `PREFIX##NAME` in a file, with NAME among the file's words or
`"head" + word` pieces. Names that no e2e test can call directly are listed in NOT_DIRECT with the reason.

    python3 devtools/api/e2e_coverage.py           # report
    python3 devtools/api/e2e_coverage.py --check   # and fail when something is neither used nor excused
"""
import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Reached by every test, but never written in one.
NOT_DIRECT = {
    "_HPy_CallRealFunctionFromTrampoline": "host-only: every universal-mode call of a method or slot goes through it",
}


def api_names(api_text):
    """(functions, slots) of the description, in its order."""
    members = api_text.split("\n[members]")[1].split("\n[signatures]")[0]
    functions = []
    for line in members.splitlines():
        if not line or line.startswith("#") or line.startswith("HPy h_"):
            continue
        m = re.match(r"[^(]*?(\w+)\(", line)
        if m:
            functions.append(m.group(1))
    slots = re.findall(r"^(\w+) = \d+: \w+$", api_text.split("\n[slots]")[1], re.M)
    return functions, ["HPy_" + s for s in slots]


def used_names(text):
    """Every word of a test file, plus the names its templates build."""
    words = set(re.findall(r"\w+", text))
    prefixes = set(re.findall(r"(\w+)%\(\w+\)s", text)) | set(re.findall(r"(\w+)##\w+", text))
    heads = set(re.findall(r"\"(\w+)\"\s*\+\s*\w+", text))
    built = set()
    for p in prefixes:
        for w in words:
            built.add(p + w)
            for h in heads:
                built.add(p + h + w)
    # HPy_New(ctx, t, &data) is the public spelling of _HPy_New
    if "HPy_New" in words:
        built.add("_HPy_New")
    return words | built


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a name is neither used nor excused")
    parser.add_argument("--tests", default=str(ROOT / "tests" / "e2e"))
    args = parser.parse_args(argv)

    functions, slots = api_names((ROOT / "devtools" / "api" / "hpy.api").read_text())
    used = set()
    for path in sorted(Path(args.tests).glob("test_*.py")):
        used |= used_names(path.read_text())
    missing = [n for n in functions + slots if n not in used and n not in NOT_DIRECT]
    excused = [n for n in functions + slots if n not in used and n in NOT_DIRECT]
    print("e2e coverage: %d/%d context functions, %d/%d slots used by tests/e2e"
          % (sum(n in used for n in functions), len(functions), sum(n in used for n in slots), len(slots)))
    for n in excused:
        print("  not called directly: %s (%s)" % (n, NOT_DIRECT[n]))
    for n in missing:
        print("  NOT USED: %s" % n)
    return 1 if args.check and missing else 0


if __name__ == "__main__":
    sys.exit(main())
