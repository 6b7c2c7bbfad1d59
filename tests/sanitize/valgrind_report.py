"""tests/sanitize/valgrind_report.py: reads a memcheck log and fails on what unihpy is responsible for.

    python valgrind_report.py memcheck.log

Counts the definite leaks and the memory errors (invalid reads and writes, uses of uninitialised
values, bad frees) whose stack passes through unihpy: the host (hpy/universal*.so), the runtime and
helpers (hpy:: functions, ctx_* functions, HPy* helpers) or the extensions under test (*.hpy0.so).
Reports in the interpreter alone (CPython keeps some memory until exit by design) are counted and
printed, not failed on. Exit status 1 when anything is attributable to unihpy.
"""
import re
import sys

OURS = re.compile(r"hpy/universal|\.hpy0[-.]|hpy::|\bctx_\w+|\bHPy\w+|_HPy\w+|/runtime/(cpython|helpers|universal)/")
RECORD_START = re.compile(r"^==\d+== (\S.*)$")


def records(lines):
    """Splits the log into (headline, stack lines) records."""
    current = None
    for line in lines:
        m = RECORD_START.match(line)
        if not m:
            continue
        text = m.group(1)
        if text.startswith(("at 0x", "by 0x", "Address 0x", "Block was", "Uninitialised value was")) or \
                text.startswith(("   at ", "   by ")):
            if current is not None:
                current[1].append(text)
        else:
            if current is not None:
                yield current
            current = (text, [])
    if current is not None:
        yield current


def main(path):
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    ours, theirs = [], 0
    definite_bytes = {"ours": 0, "interpreter": 0}
    for head, stack in records(lines):
        is_leak = "definitely lost" in head
        is_error = head.startswith(("Invalid ", "Conditional jump", "Use of uninitialised", "Mismatched free",
                                    "Syscall param"))
        if not (is_leak or is_error):
            continue
        attributable = any(OURS.search(frame) for frame in stack)
        if is_leak:
            size = int(re.match(r"([\d,]+) ", head).group(1).replace(",", "")) if re.match(r"[\d,]+ ", head) else 0
            definite_bytes["ours" if attributable else "interpreter"] += size
        if attributable:
            ours.append((head, stack))
        else:
            theirs += 1
    summary = [l for l in lines if "ERROR SUMMARY" in l or "definitely lost:" in l]
    print("\n".join(summary[-2:]))
    print("memcheck: %d reports through unihpy (%d bytes definitely lost), %d in the interpreter alone "
          "(%d bytes definitely lost)" % (len(ours), definite_bytes["ours"], theirs, definite_bytes["interpreter"]))
    for head, stack in ours:
        print("\n" + head + "\n  " + "\n  ".join(stack))
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
