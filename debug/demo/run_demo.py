#!/usr/bin/env python3
"""debug/demo/run_demo.py: `make demo-debug`: builds wordcount.c once as a universal module, runs it in
universal mode (the bugs go unnoticed) and in debug mode (both are reported, with where the leaked
handles were opened)."""
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import hpy.universal
from hpy.debug import HPyDebugError, HPyLeakError, LeakDetector, set_handle_stack_trace_limit
from hpy.devel import HPyDevel
from hpy.devel.abitag import get_hpy_ext_suffix

HERE = Path(__file__).resolve().parent


def build(folder):
    devel = HPyDevel()
    out = Path(folder) / ("wordcount" + get_hpy_ext_suffix("universal"))
    cmd = ["gcc", "-std=c11", "-O1", "-g", "-fPIC", "-shared", "-DHPY_ABI_UNIVERSAL"]
    cmd += ["-I%s" % d for d in devel.get_extra_include_dirs()]
    cmd += [str(HERE / "wordcount.c")] + devel.get_static_libs("universal") + ["-o", str(out)]
    subprocess.run(cmd, check=True)
    return out


def load(path, mode):
    spec = importlib.util.spec_from_file_location("wordcount", str(path))
    return hpy.universal.load("wordcount", str(path), spec, mode=mode)


def main():
    words = ["debug", "mode", "finds", "bugs"]
    with tempfile.TemporaryDirectory() as tmp:
        path = build(tmp)
        print("== universal mode: %s" % path.name)
        mod = load(path, hpy.universal.MODE_UNIVERSAL)
        print("total_length(%r) = %d" % (words, mod.total_length(words)))
        print("first_repr(%r) = %s   (looks fine)" % (words, mod.first_repr(words)))

        print("\n== debug mode: the same file")
        mod = load(path, hpy.universal.MODE_DEBUG)
        # Reports as exceptions, so that the demo shows both bugs (by default, as with HPy 0.9, a use
        # after close is a fatal error).
        hpy.universal._debug.set_reaction("raise")
        set_handle_stack_trace_limit(8)
        found = 0
        try:
            with LeakDetector():
                mod.total_length(words)
        except HPyLeakError as e:
            found += 1
            print("HPyLeakError:", e)
        try:
            mod.first_repr(words)
        except HPyDebugError as e:
            found += 1
            print("\nHPyDebugError [%s in %s, object of type %s]:\n%s" % (e.check, e.function, e.obj_type, e))
    if found != 2:
        print("debug mode missed a bug", file=sys.stderr)
        return 1
    print("\ndebug mode found both bugs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
