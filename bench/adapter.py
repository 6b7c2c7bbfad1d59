"""bench/adapter.py: what the context adapter (include/hpy/universal/context_adapter.h) costs, read
from the machine code of the universal benchmark module.

PyPy 7.3.19's HPy host has one more context member than HPy 0.9.0 at 244, so the 19 members after it
sit one slot later; a universal module calls those through `(&ctx->member)[_HPy_ContextShift]`. This
lists every indirect call of the module (objdump): a call of a member below 244 must be the plain
`call *OFFSET(%reg)` of HPy 0.9's headers, a call of a shifted member the same with an index register
that holds _HPy_ContextShift, loaded once before it (one load, no other instruction). Used by
bench/run.py for the report; `python bench/adapter.py MODULE.hpy0.so` prints the table.
"""
import re
import subprocess
import sys

FIRST_SHIFTED, SHIFTED = 244, 19
CALL = re.compile(r"(?:call|jmp)\s+\*(0x[0-9a-f]+)\((%\w+)(?:,(%\w+),8)?\)")
LOAD_SHIFT = re.compile(r"mov\s+0x[0-9a-f]+\(%rip\),(%\w+)\s+#\s+\w+\s+<_HPy_ContextShift>")


def member(offset):
    return (offset - 24) // 8


def call_sites(path):
    """[(function, instruction, member index, shifted: bool, the index register's load seen: bool)]."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(path)], capture_output=True,
                         text=True, check=True).stdout
    sites, func, loaded = [], "?", {}
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            func, loaded = m.group(1), {}
            continue
        ins = line.split(":", 1)[-1].strip()
        m = LOAD_SHIFT.search(ins)
        if m:
            loaded[m.group(1)] = True
            continue
        m = CALL.search(ins)
        if m and m.group(2) != "%rip":
            index = member(int(m.group(1), 16))
            sites.append((func, ins, index, m.group(3) is not None, bool(loaded.get(m.group(3)))))
    return sites


def markdown(path):
    sites = call_sites(path)
    plain = [s for s in sites if not s[3]]
    shifted = [s for s in sites if s[3]]
    wrong = [s for s in plain if FIRST_SHIFTED <= s[2] < FIRST_SHIFTED + SHIFTED] + \
            [s for s in shifted if not (FIRST_SHIFTED <= s[2] < FIRST_SHIFTED + SHIFTED and s[4])]
    lines = ["Indirect calls through the context in `%s` (objdump): %d of members below %d, each one "
             "instruction `call *OFFSET(%%reg)` as with HPy 0.9's headers; %d of the shifted members "
             "%d..%d, each `call *OFFSET(%%reg,%%shift,8)` after one load of `_HPy_ContextShift`; "
             "%d call sites that do not fit this pattern." % (path.split("/")[-1], len(plain), FIRST_SHIFTED,
                                                                len(shifted), FIRST_SHIFTED,
                                                                FIRST_SHIFTED + SHIFTED - 1, len(wrong)), ""]
    for title, group in (("a member below 244", plain), ("a shifted member", shifted)):
        if group:
            f, ins, idx, _, _ = group[0]
            lines.append("- %s (member %d, in `%s`): `%s`" % (title, idx, f, re.sub(r"\s+", " ", ins)))
    for f, ins, idx, _, _ in wrong:
        lines.append("- does not fit: member %d in `%s`: `%s`" % (idx, f, ins))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(sys.argv[1]))
