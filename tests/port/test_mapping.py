# tests/port/test_mapping.py: every HPy name the C API -> HPy table gives exists in unihpy's API.
import re
from pathlib import Path

from hpy.port import mapping

ROOT = Path(__file__).resolve().parents[2]


def api_words():
    """Every identifier written in the API description and the public headers."""
    texts = [(ROOT / "devtools" / "api" / "hpy.api").read_text()]
    texts += [p.read_text() for p in (ROOT / "include").rglob("*.h")]
    return set(re.findall(r"\w+", "\n".join(texts)))


def test_every_hpy_name_in_the_table_exists():
    words = api_words()
    missing = {}
    for entry in mapping.ENTRIES.values():
        if entry.hpy is None:
            continue
        # "return HPy_Dup(ctx, ctx->h_None)", "ctx->h_TypeError", "HPyType_Spec.doc": check each name.
        for name in re.findall(r"\b_?HPy\w*|\bh_\w+", entry.hpy):
            if name not in words:
                missing[entry.capi] = name
    assert missing == {}


def test_table_shape():
    assert mapping.lookup("PyLong_FromLong").hpy == "HPyLong_FromLong"
    assert mapping.lookup("PyArg_ParseTuple").hpy == "HPyArg_Parse"
    assert mapping.lookup("Py_INCREF").hpy == "HPy_Dup"
    assert mapping.lookup("Py_DECREF").hpy == "HPy_Close"
    assert mapping.lookup("PyErr_SetString").hpy == "HPyErr_SetString"
    assert mapping.lookup("PyTuple_GET_ITEM") == mapping.Entry(
        "PyTuple_GET_ITEM", "HPy_GetItem_i", "borrowed", "a new handle: HPy_Close it")
    assert mapping.lookup("->ob_refcnt").hpy is None
    assert mapping.lookup("PyExc_ValueError").hpy == "ctx->h_ValueError"
    assert mapping.lookup("PyUnicode_Type").hpy == "ctx->h_UnicodeType"
    assert mapping.lookup("PyFrobnicate").note == "not in the table"
    assert len(mapping.ENTRIES) > 300


def test_rewrite_rules_name_real_hpy_functions_and_agree_with_the_table():
    from hpy.port import function
    words = api_words()
    for capi, (hpy, kinds, result) in function.CALLS.items():
        assert set(kinds) <= set("oxv") and result in ("new", "value")
        if hpy in function.HELPERS:
            # One of the rewrite's own helpers, which it adds to the file: built on the table's function.
            assert mapping.lookup(capi).hpy in function.HELPERS[hpy], capi
            continue
        assert hpy in words, (capi, hpy)
        # The report's table gives the same HPy function.
        assert mapping.lookup(capi).hpy == hpy, capi
    for name in function.CONTEXT_EXCEPTIONS:
        assert f"h_{name}" in words, name
    for flag in function.TYPE_FLAGS.values():
        assert flag in words
