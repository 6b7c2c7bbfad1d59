# tests/port/port_table.py: `make port-table`: report, rewrite and check on real extensions from PyPI sdists.
"""For each extension: the C-API uses the report finds, how many `rewrite` replaces, whether the
rewritten module builds in the hybrid ABI and passes the package's own tests (run against that
build), how many functions end up pure HPy, and, where the file is pure HPy, the same in the
universal ABI and in debug mode. Prints a Markdown table; --write puts it into docs/porting.md
between the port-table markers; --json prints the figures."""
import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import CACHE, ROOT, sdist  # noqa: E402

DOC = ROOT / "docs" / "porting.md"
BEGIN, END = "<!-- port-table: begin (make port-table) -->", "<!-- port-table: end -->"

# mmh3 5.1.0's sdist ships tests/test_mmh3.py and test_mmh3_hasher.py but not the helper module they
# import (`from helper import u32_to_s32`): this stands in for it (a 32-bit unsigned value as signed).
MMH3_HELPER = "def u32_to_s32(v):\n    return v - 0x100000000 if v & 0x80000000 else v\n"


def _porting_example_root(top):
    """The porting example's tests alone (their conftest makes one test per step_*.c beside it)."""
    root = CACHE / "roots" / "hpy-porting-example"
    root.mkdir(parents=True, exist_ok=True)
    steps = top / "docs" / "porting-example" / "steps"
    for name in ("conftest.py", "test_porting_example.py"):
        shutil.copyfile(steps / name, root / name)
    return root


def _mmh3_root(top):
    root = CACHE / "roots" / "mmh3-5.1.0"
    shutil.copytree(top, root, dirs_exist_ok=True)
    (root / "tests" / "helper.py").write_text(MMH3_HELPER)
    return root


# name, version, source (in the sdist), module, root (in the sdist, or a function), where the source
# goes in the root, other sources, macros, the test command (run in the root's copy).
EXTENSIONS = [
    dict(label="HPy 0.9.0 porting example, C-API step", name="hpy", version="0.9.0",
         source="docs/porting-example/steps/step_00_c_api.c", module="step_00_c_api",
         root=_porting_example_root, at="step_00_c_api.c",
         test=["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_porting_example.py"]),
    dict(label="markupsafe 3.0.2 `_speedups.c`", name="markupsafe", version="3.0.2",
         source="src/markupsafe/_speedups.c", module="markupsafe._speedups", root="src",
         at="markupsafe/_speedups.c", tests_from_sdist="tests",
         test=["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "{sdist}/tests"]),
    dict(label="crcmod 1.7 `_crcfunext.c`", name="crcmod", version="1.7",
         source="python3/src/_crcfunext.c", module="crcmod._crcfunext", root="python3",
         at="src/_crcfunext.c", test=["python", "{sdist}/test/test_crcmod.py"]),
    dict(label="mmh3 5.1.0 `mmh3module.c`", name="mmh3", version="5.1.0",
         source="src/mmh3/mmh3module.c", module="mmh3", root=_mmh3_root, at="src/mmh3/mmh3module.c",
         extra=["src/mmh3/murmurhash3.c"],
         test=["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]),
    dict(label="ciso8601 2.3.2 `module.c`", name="ciso8601", version="2.3.2", source="module.c",
         module="ciso8601", root=".", at="module.c", extra=["timezone.c", "isocalendar.c"],
         defines=["CISO8601_VERSION=2.3.2", "CISO8601_CACHING_ENABLED=1"],
         test=["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]),
]


def port(*args):
    p = subprocess.run([sys.executable, "-m", "hpy.port", *map(str, args)], capture_output=True, text=True)
    return p


def measure(spec, out_dir):
    top = sdist(spec["name"], spec["version"])
    source = top / spec["source"]
    flags = [f"-D{d}" for d in spec.get("defines", [])]
    report = json.loads(port("report", source, "--json", "--", *flags).stdout)
    target = out_dir / spec["name"]
    rw = port("rewrite", source, "-o", target, "--json", "--", *flags)
    if rw.returncode != 0:
        return dict(spec, error=rw.stderr.strip())
    summary = json.loads(rw.stdout)
    root = spec["root"](top) if callable(spec["root"]) else top / spec["root"]
    test = [w.replace("{sdist}", str(top)) for w in spec["test"]]
    args = ["check", target / Path(spec["source"]).name, "--module", spec["module"], "--root", root,
            "--at", spec["at"], "--json", "--debug"]
    for e in spec.get("extra", []):
        args += ["--extra", e]
    for d in spec.get("defines", []):
        args += ["-D", d]
    t0 = time.monotonic()
    ck = port(*args, "--", *test)
    runs = json.loads(ck.stdout)["runs"] if ck.stdout.strip().startswith("{") else []
    return dict(label=spec["label"], uses=report["summary"]["uses"],
                functions=summary["functions"], rewritten=summary["converted_uses"],
                left=summary["c_api_uses_left"], module=summary["module_converted"],
                hpy_functions=summary["hpy_functions"], legacy=summary["legacy_functions"],
                pure=summary["pure_hpy"], seconds=round(time.monotonic() - t0, 1),
                runs=[{k: r.get(k) for k in ("abi", "built", "imported", "tests", "leaks", "test_tail")}
                      for r in runs], check_error=None if runs else ck.stderr[-2000:])


def _cell(runs, abi):
    r = next((r for r in runs if r["abi"] == abi), None)
    if r is None:
        return "-"
    if not r["built"]:
        return "build fails"
    if not r["imported"]:
        return "does not import"
    tail = (r.get("test_tail") or "").strip().splitlines()
    ran = [line for line in tail if line.startswith("Ran ")]   # unittest: "Ran N tests in Xs", "OK"
    counts = (ran[-1].split(" in ")[0] if ran else tail[-1].strip("= ").split(" in ")[0]) if tail else ""
    if abi.endswith("(debug)"):
        return f"{r['tests']}, {r.get('leaks', 0)} leaks" + (f" ({counts})" if counts else "")
    return f"{r['tests']}" + (f" ({counts})" if counts and r["tests"] == "passed" else "")


def table(rows):
    out = ["| extension | C-API uses (report) | rewritten / left | module def. | functions pure HPy "
           "| hybrid: build + own tests | hybrid, debug mode | universal | universal, debug mode |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("error"):
            out.append(f"| {r['label']} | rewrite failed: {r['error']} ||||||||")
            continue
        out.append(f"| {r['label']} | {r['uses']} | {r['rewritten']} / {r['left']} | "
                   f"{'HPyModuleDef' if r['module'] else 'C API'} | {len(r['hpy_functions'])} of {r['functions']} | "
                   f"{_cell(r['runs'], 'hybrid')} | {_cell(r['runs'], 'hybrid (debug)')} | "
                   f"{_cell(r['runs'], 'universal')} | "
                   f"{_cell(r['runs'], 'universal (debug)')} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="update the table in docs/porting.md")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--only", help="one extension (its PyPI name)")
    args = ap.parse_args()
    out_dir = ROOT / "build" / "port-rewritten"
    shutil.rmtree(out_dir, ignore_errors=True)
    rows = [measure(s, out_dir) for s in EXTENSIONS if not args.only or s["name"] == args.only]
    text = table(rows)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(text)
    if args.write:
        doc = DOC.read_text()
        a, b = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        DOC.write_text(doc[:a] + "\n" + text + "\n" + doc[b:])
    ok = all(not r.get("error") and r["runs"] and all(x["tests"] == "passed" and not x.get("leaks")
                                                          for x in r["runs"]) for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
