# tests/port/test_report_small.py: `python -m hpy.port report` on a small C extension written here.
import json
import sys
import textwrap

import pytest

from conftest import function, lines_of, report, run_port

SMALL_C = textwrap.dedent("""\
    #include <Python.h>
    #include "shared.h"

    #define MY_CHECK(o) (Py_REFCNT(o) > 1 && PyLong_Check(o))

    static PyObject *cache;

    static long twice(long x) { return 2 * x; }

    static PyObject *
    add(PyObject *self, PyObject *args)
    {
        long a, b;
        if (!PyArg_ParseTuple(args, "ll", &a, &b))
            return NULL;
        return PyLong_FromLong(twice(a) + b);
    }

    static PyObject *
    first(PyObject *self, PyObject *args)
    {
        PyObject *t;
        if (!PyArg_ParseTuple(args, "O", &t))
            return NULL;
        if (!PyTuple_Check(t)) {
            PyErr_SetString(PyExc_TypeError, "a tuple please");
            return NULL;
        }
        PyObject *item = PyTuple_GET_ITEM(t, 0);
        Py_INCREF(item);
        return item;
    }

    static PyObject *
    refcount(PyObject *self, PyObject *arg)
    {
        if (MY_CHECK(arg))
            Py_RETURN_TRUE;
        return PyLong_FromSsize_t(arg->ob_refcnt + SHARED_OFFSET);
    }

    static PyObject *
    nothing(PyObject *self, PyObject *unused)
    {
        Py_XDECREF(PyObject_Str(Py_None));
        Py_RETURN_NONE;
    }

    #ifdef WITH_EXTRA
    static PyObject *
    extra(PyObject *self, PyObject *unused)
    {
        return PyList_New(0);
    }
    #endif

    static PyMethodDef methods[] = {
        {"add", add, METH_VARARGS, NULL},
        {"first", first, METH_VARARGS, NULL},
        {"refcount", refcount, METH_O, NULL},
        {"nothing", nothing, METH_NOARGS, NULL},
        {NULL, NULL, 0, NULL}
    };

    static PyTypeObject Thing_Type = {
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "small.Thing",
        .tp_basicsize = sizeof(PyObject),
        .tp_flags = Py_TPFLAGS_DEFAULT,
    };

    static struct PyModuleDef moduledef = {
        PyModuleDef_HEAD_INIT, "small", NULL, -1, methods,
    };

    PyMODINIT_FUNC
    PyInit_small(void)
    {
        if (PyType_Ready(&Thing_Type) < 0)
            return NULL;
        PyObject *m = PyModule_Create(&moduledef);
        if (m == NULL)
            return NULL;
        Py_INCREF(&Thing_Type);
        PyModule_AddObject(m, "Thing", (PyObject *)&Thing_Type);
        cache = PyDict_New();
        return m;
    }
    """)


def line_numbers(text, needle):
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line]


@pytest.fixture
def small(tmp_path):
    """small.c and its header include/shared.h (found only with -Iinclude)."""
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "shared.h").write_text("#define SHARED_OFFSET Py_TYPE(arg)->tp_basicsize\n")
    source = tmp_path / "small.c"
    source.write_text(SMALL_C)
    return source


@pytest.fixture
def small_report(small):
    return report(small, f"-I{small.parent / 'include'}")


def test_every_call_site_is_listed_with_its_line(small_report):
    rep = small_report
    assert rep["diagnostics"] == []
    assert lines_of(rep, "PyArg_ParseTuple") == line_numbers(SMALL_C, "PyArg_ParseTuple(")
    assert lines_of(rep, "PyArg_ParseTuple", "add") == line_numbers(SMALL_C, '"ll"')
    assert lines_of(rep, "PyArg_ParseTuple", "first") == line_numbers(SMALL_C, '"O"')
    use = next(u for u in function(rep, "add")["uses"] if u["name"] == "PyArg_ParseTuple")
    assert (use["kind"], use["hpy"], use["file"]) == ("call", "HPyArg_Parse", "small.c")
    assert lines_of(rep, "Py_INCREF") == line_numbers(SMALL_C, "Py_INCREF(")
    assert lines_of(rep, "PyExc_TypeError", "first") == line_numbers(SMALL_C, "PyExc_TypeError")


def test_macros_come_from_the_expansion_records(small_report):
    rep = small_report
    kinds = {(u["name"], u["kind"]) for f in rep["functions"] for u in f["uses"]}
    for name in ("Py_RETURN_NONE", "Py_RETURN_TRUE", "Py_INCREF", "Py_XDECREF", "PyTuple_GET_ITEM",
                 "Py_None", "PyTuple_Check", "PyModule_Create", "PyMODINIT_FUNC"):
        assert (name, "macro") in kinds, name
    assert lines_of(rep, "Py_RETURN_NONE", "nothing") == line_numbers(SMALL_C, "Py_RETURN_NONE")
    nothing = function(rep, "nothing")
    assert [u["name"] for u in nothing["uses"]] == ["Py_XDECREF", "PyObject_Str", "Py_None",
                                                     "Py_RETURN_NONE"]
    assert function(rep, "first")["uses"][4]["hpy"] == "HPy_GetItem_i"
    # What CPython's macros expand to inside Python's headers is not a use of the extension.
    names = {u["name"] for f in rep["functions"] for u in f["uses"]} | {u["name"] for u in rep["file_scope"]}
    assert not any(n.startswith("_Py") for n in names), names
    assert "PyType_HasFeature" not in names


def test_the_extensions_own_macros_are_read_for_c_api_names(small_report):
    refcount = function(small_report, "refcount")
    in_macros = {(u["name"], u["kind"], u["line"]) for u in refcount["uses"] if u["kind"].startswith("in macro")}
    (check_line,) = line_numbers(SMALL_C, "if (MY_CHECK(arg))")
    (offset_line,) = line_numbers(SMALL_C, "SHARED_OFFSET);")
    assert in_macros == {("Py_REFCNT", "in macro MY_CHECK", check_line),
                         ("PyLong_Check", "in macro MY_CHECK", check_line),
                         ("Py_TYPE", "in macro SHARED_OFFSET", offset_line),
                         ("->tp_basicsize", "in macro SHARED_OFFSET", offset_line)}


def test_blockers_and_verdicts(small_report):
    rep = small_report
    refcount = function(rep, "refcount")
    assert refcount["pure_hpy"] == "no"
    blockers = {b["name"]: b for b in refcount["blockers"]}
    assert blockers["->ob_refcnt"]["blockers"] == ["struct", "no equivalent"]
    assert blockers["->ob_refcnt"]["lines"] == line_numbers(SMALL_C, "arg->ob_refcnt")
    assert blockers["Py_REFCNT"]["blockers"] == ["struct", "no equivalent"]
    first = function(rep, "first")
    assert first["pure_hpy"] == "after rework"
    assert first["blockers"] == [{"name": "PyTuple_GET_ITEM", "blockers": ["borrowed"],
                                  "lines": line_numbers(SMALL_C, "PyTuple_GET_ITEM")}]
    assert function(rep, "add")["pure_hpy"] == "yes"
    assert function(rep, "nothing")["pure_hpy"] == "yes"
    assert function(rep, "twice")["pure_hpy"] == "no C API"
    init = function(rep, "PyInit_small")
    assert init["pure_hpy"] == "after rework" and init["module_init"]
    static_lines = {b["name"]: b["lines"] for b in init["blockers"]}["static PyTypeObject"]
    assert static_lines == line_numbers(SMALL_C, "&Thing_Type")
    scope = {(u["name"], u["kind"]) for u in rep["file_scope"]}
    assert {("static PyTypeObject", "definition"), ("PyMethodDef", "definition"),
            ("PyModuleDef", "definition"), ("PyObject *", "global"),
            ("PyVarObject_HEAD_INIT", "macro")} <= scope
    assert lines_of(rep, "METH_VARARGS") == line_numbers(SMALL_C, "METH_VARARGS")
    s = rep["summary"]
    assert s["verdicts"] == {"yes": 2, "after rework": 2, "no": 1, "no C API": 1}
    assert s["uses"] == sum(len(f["uses"]) for f in rep["functions"]) + len(rep["file_scope"])
    assert s["uses_in_functions"] == 28 and s["uses_at_file_scope"] == 11
    assert s["blockers"]["borrowed"] == 1 and s["blockers"]["static-type"] == 4


def test_porting_order_leaf_functions_first_module_init_last(small_report):
    rep = small_report
    order = rep["summary"]["porting_order"]
    assert order[-1] == "PyInit_small"
    assert order.index("twice") < order.index("add")
    assert function(rep, "add")["registered_in"] == ["methods (PyMethodDef)"]
    assert function(rep, "twice")["called_by"] == ["add"]


def test_flags_after_the_double_dash(small):
    without = report(small, f"-I{small.parent / 'include'}")
    assert "extra" not in {f["name"] for f in without["functions"]}
    with_extra = report(small, f"-I{small.parent / 'include'}", "-DWITH_EXTRA")
    assert lines_of(with_extra, "PyList_New", "extra") == line_numbers(SMALL_C, "PyList_New(0)")
    # Without the include folder the header is missing: the report says so.
    assert any("shared.h" in d for d in report(small)["diagnostics"])


def test_flags_from_compile_commands(small, tmp_path):
    entry = {"directory": str(tmp_path), "file": "small.c",
             "arguments": ["cc", "-Iinclude", "-DWITH_EXTRA", "-c", "small.c", "-o", "small.o"]}
    db = tmp_path / "compile_commands.json"
    db.write_text(json.dumps([entry]))
    rep = report(small, options=["--compile-commands", db])
    assert rep["diagnostics"] == []
    assert lines_of(rep, "PyList_New", "extra") == line_numbers(SMALL_C, "PyList_New(0)")
    entry["command"] = "cc -Iinclude -c small.c"
    del entry["arguments"]
    db.write_text(json.dumps([entry]))
    rep = report(small, options=["--compile-commands", db])
    assert rep["diagnostics"] == [] and "extra" not in {f["name"] for f in rep["functions"]}


def test_text_report(small):
    out = run_port("report", small, "--", f"-I{small.parent / 'include'}").stdout
    assert "small.c: 39 uses of the CPython C API (28 in 5 of 6 functions, 11 at file scope)" in out
    assert "refcount (small.c:" in out and "pure HPy: no" in out
    assert "-> HPyArg_Parse" in out
    assert "no equivalent: keep through the hybrid ABI / HPy_AsPyObject" in out
    assert "porting order (leaf functions first, module init last):" in out
    assert out.rstrip().splitlines()[-1].strip().startswith("6. PyInit_small")


def test_without_libclang_the_error_names_the_install_command(small):
    code = ("import sys; sys.modules['clang'] = None; from hpy.port.__main__ import main; "
            f"sys.exit(main(['report', {str(small)!r}]))")
    import subprocess
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert "pip install libclang" in result.stderr
