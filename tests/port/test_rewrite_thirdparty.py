# tests/port/test_rewrite_thirdparty.py: rewrite and check on real extensions fetched from PyPI (cached in
# build/port-cache): HPy 0.9.0's porting example (C-API step) and markupsafe's _speedups.c, each built in
# the hybrid ABI and run against its own tests. The other extensions of the table: `make port-table`.
import json

import pytest

from conftest import run_port
import port_table

SPECS = {s["name"]: s for s in port_table.EXTENSIONS}


@pytest.mark.parametrize("name, legacy", [
    ("hpy", {"Point_traverse", "Point_dealloc", "Point_init", "Point_obj_get"}),
    ("markupsafe", {"escape_unicode_kind1", "escape_unicode_kind2", "escape_unicode_kind4",
                    "escape_unicode"}),
])
def test_rewrite_and_own_tests_in_hybrid(name, legacy, tmp_path):
    row = port_table.measure(SPECS[name], tmp_path)
    assert row["module"], row
    assert set(row["legacy"]) == legacy
    # Every function that stays C API says why.
    assert all(reason for reason in row["legacy"].values())
    assert 0 < row["rewritten"] < row["uses"]
    # Still C API: no universal build; the hybrid build in debug mode too.
    assert [r["abi"] for r in row["runs"]] == ["hybrid", "hybrid (debug)"]
    for run in row["runs"]:
        assert run["built"] and ".hpy0-cp311.so" in run["imported"]
        assert run["tests"] == "passed", run["test_tail"]
    assert row["runs"][1]["leaks"] == 0
    text = (tmp_path / name / SPECS[name]["source"].rsplit("/", 1)[-1]).read_text()
    assert "HPy_MODINIT(" in text and "static HPyModuleDef " in text
    assert text.count("/* hpy.port: left as C API (hybrid ABI):") == len(legacy)


def test_porting_example_type_and_methods(tmp_path):
    source = port_table.sdist("hpy", "0.9.0") / SPECS["hpy"]["source"]
    s = json.loads(run_port("rewrite", source, "-o", tmp_path, "--json").stdout)
    assert s["hpy_functions"] == ["Point_norm", "dot"]
    text = (tmp_path / "step_00_c_api.c").read_text()
    # The PyType_Spec becomes an HPyType_Spec of the Legacy shape, its slots legacy slots; norm, a
    # method of it, is in its defines; the casts to the struct become PyPointObject_AsStruct.
    for piece in ["HPyType_LEGACY_HELPERS(PyPointObject)", "static HPyType_Spec Point_Type_spec = {",
                  ".builtin_shape = HPyType_BuiltinShape_Legacy,", ".legacy_slots = Point_slots,",
                  ".flags = HPy_TPFLAGS_DEFAULT,", "&Point_norm,",
                  "PyPointObject *p1 = PyPointObject_AsStruct(ctx, point1);",
                  'HPyDef_METH(Point_norm, "norm", HPyFunc_NOARGS, .doc = "Distance from origin.")',
                  "hpy_port_type_from_spec(ctx, &Point_Type_spec)", ".legacy_methods = NULL,"]:
        assert piece in text, piece
    assert "registered in Point_slots (PyType_Slot)" in s["legacy_functions"]["Point_init"]


def test_markupsafe_reasons(tmp_path):
    source = port_table.sdist("markupsafe", "3.0.2") / SPECS["markupsafe"]["source"]
    s = json.loads(run_port("rewrite", source, "-o", tmp_path, "--json").stdout)
    assert s["legacy_functions"]["escape_unicode"] == "line 158: PyUnicode_READY has no rule in the rewrite"
    assert "called from C code (escape_unicode)" in s["legacy_functions"]["escape_unicode_kind1"]
    # The #ifdef Py_GIL_DISABLED block of the init function stays, in the exec slot.
    text = (tmp_path / "_speedups.c").read_text()
    assert "PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);" in text
    assert "HPyDef_SLOT(_speedups_exec, HPy_mod_exec)" in text
