# tests/abi/test_description.py: checks devtools/api/hpy.api against the HPy 0.9 ABI tables in tests/abi/data.
"""The API description drives every generated file, so it must match the HPy 0.9 universal ABI
member by member. The expected numbers below are the interface facts of the ABI (the tables in
tests/abi/data and the ABI notes they came with); they are written out here on purpose, so that
a change of the description cannot silently change what the tests expect."""
from __future__ import annotations

import csv
import re
import sys
import sysconfig
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = HERE / "data"
GENERATE_PY = ROOT / "devtools" / "api" / "generate.py"


sys.path.insert(0, str(GENERATE_PY.parent))
import generate  # noqa: E402  (devtools/api/generate.py)


# ---------------------------------------------------------------- reading and normalising C text

def norm_type(text: str) -> str:
    """One spelling per C type: single spaces between words, none around '*'."""
    text = " ".join(text.split())
    return re.sub(r"\s*\*\s*", "*", text)


def split_decl(decl: str) -> tuple[str, str]:
    """'const HPy *args' -> ('const HPy*', 'args'); 'HPy items[]' -> ('HPy*', 'items')."""
    decl = " ".join(decl.split())
    m = re.fullmatch(r"(.*?)\b([A-Za-z_]\w*)\s*(\[\s*\])?", decl)
    assert m and m.group(1).strip(), f"not a declaration: {decl!r}"
    ctype = m.group(1) + ("*" if m.group(3) else "")
    return norm_type(ctype), m.group(2)


def param_types(params_text: str) -> list[str]:
    params_text = params_text.strip()
    if params_text in ("", "void"):
        return []
    return [split_decl(p)[0] for p in params_text.split(",")]


def read_tsv(name: str) -> list[dict[str, str]]:
    lines = [line for line in (DATA / name).read_text().splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.fixture(scope="module")
def api():
    return generate.parse()


@pytest.fixture(scope="module")
def context_rows():
    return read_tsv("hpy-0.9-context.tsv")


@pytest.fixture(scope="module")
def pypy_rows():
    return read_tsv("pypy-7.3.19-context.tsv")


# ---------------------------------------------------------------- the context, member by member

def test_context_table_shape(context_rows):
    assert len(context_rows) == 263
    assert [int(r["index"]) for r in context_rows] == list(range(263))
    assert sum(r["kind"] == "handle" for r in context_rows) == 83
    assert sum(r["kind"] == "function" for r in context_rows) == 180
    # header {name, _private, abi_version} is 24 bytes; member i at 24 + 8*i; sizeof 2128
    assert 24 + 8 * len(context_rows) == 2128


def test_description_has_every_member(api, context_rows):
    hpy09 = api.hpy09_members
    assert len(hpy09) == len(context_rows)
    assert sum(m.kind == "handle" for m in hpy09) == 83
    assert sum(m.kind == "function" for m in hpy09) == 180
    assert generate.HEADER_SIZE == 24 and generate.POINTER_SIZE == 8


def test_additions_beyond_09_are_appended(api):
    """What later minor versions add follows HPy 0.9's last member, in minor order, outside [layouts]."""
    assert api.members[:263] == api.hpy09_members
    later = api.members[263:]
    assert later and all(m.minor > 0 for m in later)
    assert [m.minor for m in later] == sorted(m.minor for m in later)
    assert api.latest_minor == 1
    assert [m.api for m in later if m.minor == 1] == ["HPy_GetBuffer", "HPyBuffer_Release", "HPy_CheckBuffer"]
    assert not set(api.shifted) & {m.index for m in later}


def test_latest_minor_matches_the_headers(api):
    text = (ROOT / "include" / "hpy.h").read_text()
    assert re.search(r"#define HPY_ABI_VERSION_MINOR_LATEST %d\b" % api.latest_minor, text)


def describe_member(m) -> tuple:
    if m.kind == "handle":
        return (m.index, "handle", m.name, "HPy", [])
    types = ["HPyContext*"] + [norm_type(p.ctype) for p in m.params]
    return (m.index, "function", m.name, norm_type(m.ret), types)


def describe_row(row: dict[str, str]) -> tuple:
    return (int(row["index"]), row["kind"], row["member"], norm_type(row["returns"]),
            param_types(row["parameters"] or ""))


def test_members_match_the_abi_table(api, context_rows):
    """Index, kind, member name, return type and parameter types of all 263 members."""
    mismatches = []
    for m, row in zip(api.members, context_rows):
        got, want = describe_member(m), describe_row(row)
        if got != want:
            mismatches.append(f"  member {want[0]}:\n    hpy.api: {got}\n    ABI:     {want}")
    assert not mismatches, "hpy.api differs from hpy-0.9-context.tsv:\n" + "\n".join(mismatches)


def test_every_function_takes_the_context_first(context_rows):
    for row in context_rows:
        if row["kind"] == "function":
            assert param_types(row["parameters"])[0] == "HPyContext*", row["member"]


def test_generated_offsets_header_pins_the_abi_table(api, context_rows):
    """tests/abi/context_offsets_gen.h (compiled by the layout checks) asserts the table's offsets."""
    text = (HERE / "context_offsets_gen.h").read_text()
    pinned = {name: int(off) for name, off in
              re.findall(r"offsetof\(struct _HPyContext_s, (\w+)\) == (\d+)", text)}
    for row in context_rows:
        assert pinned.get(row["member"]) == 24 + 8 * int(row["index"]), row["member"]
    assert pinned["name"] == 0 and pinned["_private"] == 8 and pinned["abi_version"] == 16
    # HPy 0.9's 263 members end at 2128; each member of a later minor version appends 8 bytes
    assert re.search(r"sizeof\(struct _HPyContext_s\) == %d\b" % (24 + 8 * len(api.members)), text)
    assert 24 + 8 * len(api.hpy09_members) == 2128


# ---------------------------------------------------------------- signatures and slots

SIGNATURES = {
    "VARARGS": 1, "KEYWORDS": 2, "NOARGS": 3, "O": 4, "DESTROYFUNC": 5, "GETBUFFERPROC": 6,
    "RELEASEBUFFERPROC": 7, "UNARYFUNC": 8, "BINARYFUNC": 9, "TERNARYFUNC": 10, "INQUIRY": 11,
    "LENFUNC": 12, "SSIZEARGFUNC": 13, "SSIZESSIZEARGFUNC": 14, "SSIZEOBJARGPROC": 15,
    "SSIZESSIZEOBJARGPROC": 16, "OBJOBJARGPROC": 17, "FREEFUNC": 18, "GETATTRFUNC": 19,
    "GETATTROFUNC": 20, "SETATTRFUNC": 21, "SETATTROFUNC": 22, "REPRFUNC": 23, "HASHFUNC": 24,
    "RICHCMPFUNC": 25, "GETITERFUNC": 26, "ITERNEXTFUNC": 27, "DESCRGETFUNC": 28,
    "DESCRSETFUNC": 29, "INITPROC": 30, "NEWFUNC": 31, "GETTER": 32, "SETTER": 33,
    "OBJOBJPROC": 34, "TRAVERSEPROC": 35, "DESTRUCTOR": 36, "CAPSULE_DESTRUCTOR": 37,
    "VECTORCALLFUNC": 38, "MOD_CREATE": 39,
}

# CPython's typeslots.h numbers for the slots HPy 0.9 supports, then HPy's own three.
_NB = ["absolute", "add", "and", "bool", "divmod", "float", "floor_divide", "index",
       "inplace_add", "inplace_and", "inplace_floor_divide", "inplace_lshift", "inplace_multiply",
       "inplace_or", "inplace_power", "inplace_remainder", "inplace_rshift", "inplace_subtract",
       "inplace_true_divide", "inplace_xor", "int", "invert", "lshift", "multiply", "negative", "or",
       "positive", "power", "remainder", "rshift", "subtract", "true_divide", "xor"]
_SQ = ["ass_item", "concat", "contains", "inplace_concat", "inplace_repeat", "item", "length", "repeat"]
SLOTS = {
    "bf_getbuffer": 1, "bf_releasebuffer": 2, "mp_ass_subscript": 3, "mp_length": 4, "mp_subscript": 5,
    **{f"nb_{n}": 6 + i for i, n in enumerate(_NB)},
    **{f"sq_{n}": 39 + i for i, n in enumerate(_SQ)},
    "tp_call": 50, "tp_hash": 59, "tp_init": 60, "tp_new": 65, "tp_repr": 66, "tp_richcompare": 67,
    "tp_str": 70, "tp_traverse": 71, "nb_matrix_multiply": 75, "nb_inplace_matrix_multiply": 76,
    "tp_finalize": 80, "tp_destroy": 1000, "mod_create": 2000, "mod_exec": 2001,
}


def test_signature_numbers(api):
    assert {s.name: s.number for s in api.signatures} == SIGNATURES


def test_slot_ids(api):
    assert len(SLOTS) == 60 and SLOTS["nb_xor"] == 38 and SLOTS["sq_repeat"] == 46
    got = {s.name: s.number for s in api.slots}
    assert len(api.slots) == len(got), "a slot is listed twice"
    assert len(set(got.values())) == len(got), "two slots share an id"
    assert got == SLOTS


def test_slot_ids_are_cpythons_typeslots():
    """Cross-check with the typeslots.h of the Python running the tests, when it has one."""
    header = Path(sysconfig.get_paths()["include"]) / "typeslots.h"
    if not header.exists():
        pytest.skip(f"no {header}")
    cpython = {name: int(num) for name, num in
               re.findall(r"#define Py_(\w+) (\d+)", header.read_text())}
    for name, number in SLOTS.items():
        if number < 1000:
            assert cpython.get(name) == number, name


@pytest.mark.parametrize("slot, signature", [
    ("tp_new", "NEWFUNC"), ("tp_init", "INITPROC"), ("tp_traverse", "TRAVERSEPROC"),
    ("tp_destroy", "DESTROYFUNC"), ("tp_call", "KEYWORDS"), ("mod_create", "MOD_CREATE"),
    ("bf_getbuffer", "GETBUFFERPROC"), ("tp_richcompare", "RICHCMPFUNC"), ("tp_hash", "HASHFUNC"),
])
def test_slot_signatures(api, slot, signature):
    assert {s.name: s.signature for s in api.slots}[slot] == signature


# HPy-side prototypes the ABI notes spell out: (has ctx, return type, parameter types).
PROTOTYPES = {
    "VARARGS": (True, "HPy", ["HPy", "const HPy*", "size_t"]),
    "KEYWORDS": (True, "HPy", ["HPy", "const HPy*", "size_t", "HPy"]),
    "NOARGS": (True, "HPy", ["HPy"]),
    "O": (True, "HPy", ["HPy", "HPy"]),
    "NEWFUNC": (True, "HPy", ["HPy", "const HPy*", "HPy_ssize_t", "HPy"]),
    "INITPROC": (True, "int", ["HPy", "const HPy*", "HPy_ssize_t", "HPy"]),
    "TRAVERSEPROC": (False, "int", ["void*", "HPyFunc_visitproc", "void*"]),
    "DESTROYFUNC": (False, "void", ["void*"]),
}


@pytest.mark.parametrize("name", sorted(PROTOTYPES))
def test_signature_prototypes(api, name):
    sig = {s.name: s for s in api.signatures}[name]
    got = (sig.has_ctx, norm_type(sig.ret), [norm_type(p.ctype) for p in sig.params])
    assert got == PROTOTYPES[name]


def test_trampoline_blocks_match_the_abi_table(api):
    """The argument block each universal trampoline fills: field order, types and names."""
    want = {r["signature"]: [split_decl(f) for f in r["fields"].split(";")]
            for r in read_tsv("hpy-0.9-trampoline-args.tsv")}
    got = {s.name: [(norm_type(p.ctype), p.name) for p in s.block]
           for s in api.signatures if s.block is not None}
    assert got == want


# ---------------------------------------------------------------- PyPy 7.3.19's variant

def test_pypy_table_relates_as_documented(context_rows, pypy_rows):
    hpy09 = [r["member"] for r in context_rows]
    pypy = [r["member"] for r in pypy_rows]
    assert [int(r["index"]) for r in pypy_rows] == list(range(273))
    # members 0-243 are the same
    assert pypy[:244] == hpy09[:244]
    # h_DictType is inserted at 244 ...
    assert pypy[244] == "h_DictType" and pypy_rows[244]["kind"] == "handle"
    assert "h_DictType" not in hpy09
    # ... which shifts 0.9's members 244-262 one slot later
    assert pypy[245:264] == hpy09[244:263]
    # and PyPy's own members follow at 264-272 (nine there: with h_DictType, ten new members in all)
    assert len(pypy[264:]) == 9
    assert not set(pypy[264:]) & set(hpy09)
    # the index_0.9 column says the same thing
    for row in pypy_rows:
        i = int(row["index"])
        expected = "" if i == 244 or i >= 264 else str(i if i < 244 else i - 1)
        assert (row["index_0.9"] or "") == expected, row


def test_pypy_shifted_members_include_call(context_rows, pypy_rows):
    """The crash seen on PyPy 7.3.19: HPy_Call is 261 in 0.9 and 262 there."""
    assert {r["member"]: int(r["index"]) for r in context_rows}["ctx_Call"] == 261
    assert {r["member"]: int(r["index"]) for r in pypy_rows}["ctx_Call"] == 262


def test_shifted_range_is_where_pypy_differs(api):
    """[layouts] shifted names exactly the 0.9.0 members that PyPy 7.3.19's context (an HPy
    0.9.1.dev host) holds one slot later; every other 0.9.0 member sits where 0.9.0 has it."""
    rows = read_tsv("pypy-7.3.19-context.tsv")
    moved = [int(r["index_0.9"]) for r in rows if r["index_0.9"] and int(r["index"]) != int(r["index_0.9"])]
    assert all(int(r["index"]) == int(r["index_0.9"]) + 1 for r in rows
               if r["index_0.9"] and int(r["index_0.9"]) in moved)
    assert moved == list(api.shifted) == list(range(244, 263))
    names = {int(r["index_0.9"]): r["member"] for r in rows if r["index_0.9"]}
    assert [names[i] for i in api.shifted] == [api.members[i].name for i in api.shifted]
