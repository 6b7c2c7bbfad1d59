# tests/port/test_report_thirdparty.py: the report on real extensions, fetched from PyPI at test time:
# markupsafe's _speedups.c and the C-API start of HPy 0.9.0's porting example.
import pytest

from conftest import function, lines_of, report, sdist

MARKUPSAFE = "3.0.2"


def line_numbers(path, needle):
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]


@pytest.fixture(scope="module")
def speedups():
    return sdist("markupsafe", MARKUPSAFE) / "src" / "markupsafe" / "_speedups.c"


@pytest.fixture(scope="module")
def step_00():
    return sdist("hpy", "0.9.0") / "docs" / "porting-example" / "steps" / "step_00_c_api.c"


def test_markupsafe_speedups(speedups):
    rep = report(speedups)
    assert rep["diagnostics"] == []
    s = rep["summary"]
    assert (s["uses"], s["uses_in_functions"], s["uses_at_file_scope"]) == (34, 30, 4)
    assert [f["name"] for f in rep["functions"]] == [
        "escape_unicode_kind1", "escape_unicode_kind2", "escape_unicode_kind4", "escape_unicode",
        "PyInit__speedups"]
    assert lines_of(rep, "PyUnicode_New") == line_numbers(speedups, "PyUnicode_New(")
    assert lines_of(rep, "Py_INCREF") == line_numbers(speedups, "Py_INCREF(")
    assert lines_of(rep, "PyUnicode_GET_LENGTH") == line_numbers(speedups, "PyUnicode_GET_LENGTH(")
    assert len(lines_of(rep, "PyUnicode_GET_LENGTH")) == 6
    # The escaping macros of markupsafe itself (GET_DELTA, DO_ESCAPE) use no C API.
    assert not any(u["kind"].startswith("in macro") for f in rep["functions"] for u in f["uses"])
    escape = function(rep, "escape_unicode")
    assert escape["registered_in"] == ["module_methods (PyMethodDef)"]
    assert escape["calls"] == ["escape_unicode_kind1", "escape_unicode_kind2", "escape_unicode_kind4"]
    assert {b["name"] for b in escape["blockers"]} >= {"PyUnicode_READY", "PyUnicode_KIND"}
    assert s["verdicts"] == {"yes": 1, "after rework": 0, "no": 4, "no C API": 0}
    assert s["porting_order"] == ["escape_unicode_kind1", "escape_unicode_kind2",
                                  "escape_unicode_kind4", "escape_unicode", "PyInit__speedups"]
    assert {(u["name"], u["kind"]) for u in rep["file_scope"]} == {
        ("PyMethodDef", "definition"), ("METH_O", "macro"), ("PyModuleDef", "definition"),
        ("PyModuleDef_HEAD_INIT", "macro")}


def test_hpy_porting_example_c_api_start(step_00):
    rep = report(step_00)
    assert rep["diagnostics"] == []
    s = rep["summary"]
    assert (s["uses"], s["uses_in_functions"], s["uses_at_file_scope"]) == (35, 18, 17)
    assert lines_of(rep, "PyArg_ParseTuple", "dot") == line_numbers(step_00, "PyArg_ParseTuple(")
    assert lines_of(rep, "PyArg_ParseTupleAndKeywords", "Point_init") == \
        line_numbers(step_00, "PyArg_ParseTupleAndKeywords(")
    assert lines_of(rep, "Py_VISIT", "Point_traverse") == line_numbers(step_00, "Py_VISIT(")
    dealloc = function(rep, "Point_dealloc")
    assert dealloc["pure_hpy"] == "no"
    assert {b["name"]: b["blockers"] for b in dealloc["blockers"]} == {
        "Py_TYPE": ["struct"], "->tp_free": ["struct", "no equivalent"]}
    assert function(rep, "Point_traverse")["registered_in"] == ["Point_slots (PyType_Slot)"]
    assert function(rep, "Point_obj_get")["registered_in"] == ["PointGetSets (PyGetSetDef)"]
    assert s["verdicts"] == {"yes": 5, "after rework": 1, "no": 1, "no C API": 0}
    assert s["porting_order"][-1] == "PyInit_step_00_c_api"
    assert [b["name"] for b in s["file_scope_blockers"]] == ["PyObject_HEAD"]
