# tests/port/test_rewrite_thirdparty.py: rewrite and check on real extensions fetched from PyPI (cached in
# build/port-cache): HPy 0.9.0's porting example (C-API step), crcmod's _crcfunext.c (both pure HPy: also
# universal and debug mode) and markupsafe's _speedups.c, each built in the hybrid ABI and run against its
# own tests. The other extensions of the table: `make port-table`.
import json
import re

import pytest

from conftest import run_port
import port_table

SPECS = {s["name"]: s for s in port_table.EXTENSIONS}


@pytest.mark.parametrize("name, legacy", [
    ("hpy", set()),
    ("crcmod", set()),
    ("markupsafe", {"escape_unicode_kind1", "escape_unicode_kind2", "escape_unicode_kind4",
                    "escape_unicode"}),
])
def test_rewrite_and_own_tests(name, legacy, tmp_path):
    row = port_table.measure(SPECS[name], tmp_path)
    assert row["module"], row
    assert set(row["legacy"]) == legacy
    # Every function that stays C API says why.
    assert all(reason for reason in row["legacy"].values())
    if legacy:
        # Still C API: no universal build; the hybrid build in debug mode too.
        assert 0 < row["rewritten"] < row["uses"] and not row["pure"]
        abis = ["hybrid", "hybrid (debug)"]
    else:
        # Pure HPy: every use rewritten, built universal too, each build in debug mode.
        assert row["rewritten"] == row["uses"] and row["left"] == 0 and row["pure"]
        abis = ["hybrid", "hybrid (debug)", "universal", "universal (debug)"]
    assert [r["abi"] for r in row["runs"]] == abis
    for run in row["runs"]:
        suffix = ".hpy0-cp311.so" if run["abi"].startswith("hybrid") else ".hpy0.so"
        assert run["built"] and run["imported"].endswith(suffix)
        assert run["tests"] == "passed", run["test_tail"]
        if run["abi"].endswith("(debug)"):
            assert run["leaks"] == 0
    text = (tmp_path / name / SPECS[name]["source"].rsplit("/", 1)[-1]).read_text()
    assert "HPy_MODINIT(" in text and "static HPyModuleDef " in text
    assert text.count("/* hpy.port: left as C API (hybrid ABI):") == len(legacy)


def test_porting_example_type_and_methods(tmp_path):
    source = port_table.sdist("hpy", "0.9.0") / SPECS["hpy"]["source"]
    s = json.loads(run_port("rewrite", source, "-o", tmp_path, "--json").stdout)
    assert s["hpy_functions"] == ["Point_traverse", "Point_dealloc", "Point_init", "Point_norm",
                                  "Point_obj_get", "dot", "PyInit_step_00_c_api"]
    assert s["legacy_functions"] == {} and s["pure_hpy"] and s["c_api_uses_left"] == 0
    assert s["hpy_forms"] == {"Point_traverse": "HPyDef_SLOT HPy_tp_traverse",
                              "Point_dealloc": "removed (HPy's deallocation does what it did)",
                              "Point_init": "HPyDef_SLOT HPy_tp_init", "Point_norm": "HPyDef_METH",
                              "Point_obj_get": "HPyDef_GET", "dot": "HPyDef_METH",
                              "PyInit_step_00_c_api": "HPyDef_SLOT HPy_mod_exec"}
    text = (tmp_path / "step_00_c_api.c").read_text()
    # The PyType_Spec becomes an HPyType_Spec of the Object shape: the struct loses PyObject_HEAD and
    # its PyObject * member is an HPyField; every slot, method and getter is in its defines; the casts
    # to the struct become PyPointObject_AsStruct; the init function is a pure HPy exec slot.
    for piece in ["HPyField obj;", "HPyType_HELPERS(PyPointObject)", "static HPyType_Spec Point_Type_spec = {",
                  ".flags = HPy_TPFLAGS_DEFAULT,", '.doc = "Point (Step 0; C API implementation)",',
                  "&Point_init,", "&Point_norm,", "&Point_obj,", "&Point_traverse,",
                  "HPyDef_SLOT(Point_traverse, HPy_tp_traverse)", "HPy_VISIT(&((PyPointObject*)self)->obj);",
                  "HPyDef_SLOT(Point_init, HPy_tp_init)", "HPy p_obj = HPy_NULL;",
                  'HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kw, "|ddO", kwlist,',
                  "{ HPyTracker_Close(ctx, ht); return 0; }",
                  "HPyField_Store(ctx, self, &p->obj, p_obj);",
                  'HPyDef_GET(Point_obj, "obj", .doc = "Associated object.")',
                  "return HPyField_Load(ctx, self, p->obj);",
                  "PyPointObject *p1 = PyPointObject_AsStruct(ctx, point1);",
                  'HPyDef_METH(Point_norm, "norm", HPyFunc_NOARGS, .doc = "Distance from origin.")',
                  "HPy point_type = HPyType_FromSpec(ctx, &Point_Type_spec, NULL);",
                  'hpy_port_module_add_object(ctx, m, "Point", point_type);', ".legacy_methods = NULL,"]:
        assert piece in text, piece
    for gone in ["PyObject_HEAD\n", "legacy_slots", "Point_slots[]", "tp_free", "PyObject *"]:
        assert gone not in text, gone


def test_markupsafe_reasons(tmp_path):
    source = port_table.sdist("markupsafe", "3.0.2") / SPECS["markupsafe"]["source"]
    s = json.loads(run_port("rewrite", source, "-o", tmp_path, "--json").stdout)
    assert s["legacy_functions"]["escape_unicode"] == "line 158: PyUnicode_READY has no rule in the rewrite"
    assert "called from C code (escape_unicode)" in s["legacy_functions"]["escape_unicode_kind1"]
    # The #ifdef Py_GIL_DISABLED block of the init function stays, in the exec slot.
    text = (tmp_path / "_speedups.c").read_text()
    assert "PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);" in text
    assert "HPyDef_SLOT(_speedups_exec, HPy_mod_exec)" in text


def test_crcmod_macros_and_formats(tmp_path):
    source = port_table.sdist("crcmod", "1.7") / SPECS["crcmod"]["source"]
    s = json.loads(run_port("rewrite", source, "-o", tmp_path, "--json").stdout)
    assert len(s["hpy_functions"]) == 11 and s["pure_hpy"] and s["c_api_uses_left"] == 0
    text = (tmp_path / "_crcfunext.c").read_text()
    # ABI 0.1 for the buffers; GET_BUFFER_VIEW_OR_ERROUT rewritten where it is defined (every function
    # that invokes it is HPy now); "s#" parsed as 'O' and read by the helper; Py_FatalError in the exec slot.
    for piece in ["#define HPY_ABI_VERSION_MINOR 1\n#include \"hpy.h\"",
                  "if (HPy_GetBuffer(ctx, (obj), (viewp), HPyBUF_SIMPLE) == -1) { \\",
                  "HPyBuffer_Release(ctx, (viewp)); \\", "if (!HPy_CheckBuffer(ctx, (obj))) { \\",
                  '"OBO", &obj, &crc,', "HPy table_obj;",
                  "if (hpy_port_chars_and_size(ctx, table_obj, (const char **)&table, &tableLen) < 0)",
                  "HPyBuffer_Release(ctx, &buf);", 'HPy_FatalError(ctx, "crcfunext: One of the data types is invalid");']:
        assert piece in text, piece
    assert "GET_BUFFER_VIEW_OR_ERROUT_HPY" not in text and not re.search(r"\bPyBuffer_Release", text)
