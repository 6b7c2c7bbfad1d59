# tests/port/test_rewrite_buffers.py: `rewrite` of code that reads buffers (HPy ABI 0.1): PyObject_GetBuffer,
# Py_buffer, "s#" parsing, and the extension's own macros over them, before and after, in every ABI.
import json
import textwrap

from conftest import run_port
from test_rewrite_small import _build_c_api, rewrite_json

# A checksum module in the style of crcmod: a format kept in a macro, a macro of the extension over the
# C API that returns NULL on errors, a Py_buffer read directly, and "s#" for a table.
BUFS = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define INPUT "Os#"

#define GET_VIEW_OR_FAIL(obj, viewp) do { \
        if (PyUnicode_Check((obj))) { \
            PyErr_SetString(PyExc_TypeError, "encode str first"); \
            return NULL; \
        } \
        if (!PyObject_CheckBuffer((obj))) { \
            PyErr_SetString(PyExc_TypeError, "a buffer is required"); \
            return NULL; \
        } \
        if (PyObject_GetBuffer((obj), (viewp), PyBUF_SIMPLE) == -1) \
            return NULL; \
    } while (0)

static PyObject *
byte_sum(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    unsigned long total = 0;
    GET_VIEW_OR_FAIL(arg, &view);
    for (Py_ssize_t i = 0; i < view.len; i++)
        total += ((unsigned char *)view.buf)[i];
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(total);
}

static PyObject *
translate_sum(PyObject *self, PyObject *args)
{
    PyObject *data;
    const unsigned char *table;
    Py_ssize_t table_len;
    Py_buffer view;
    unsigned long total = 0;
    if (!PyArg_ParseTuple(args, INPUT, &data, &table, &table_len))
        return NULL;
    if (table_len != 256) {
        PyErr_SetString(PyExc_ValueError, "the table has 256 bytes");
        return NULL;
    }
    GET_VIEW_OR_FAIL(data, &view);
    for (Py_ssize_t i = 0; i < view.len; i++)
        total += table[((unsigned char *)view.buf)[i]];
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(total);
}

static PyObject *
item_size(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_FORMAT | PyBUF_ND) < 0)
        return NULL;
    Py_ssize_t n = view.itemsize * 1000 + view.ndim;
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(n);
}

/*LEGACY*/

static PyMethodDef methods[] = {
    {"byte_sum", byte_sum, METH_O, NULL},
    {"translate_sum", translate_sum, METH_VARARGS, NULL},
    {"item_size", item_size, METH_O, NULL},
    /*LEGACY-ENTRY*/
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "bufs", NULL, -1, methods};

PyMODINIT_FUNC
PyInit_bufs(void)
{
    return PyModule_Create(&moduledef);
}
"""

# A function with a construct that has no rule (PyTuple_New) that also invokes the macro: it stays C API,
# with the macro as written, and the converted functions get an HPy copy of the macro.
LEGACY = r"""
static PyObject *
sum_pair(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    PyObject *t = PyTuple_New(0);
    if (t == NULL)
        return NULL;
    Py_DECREF(t);
    GET_VIEW_OR_FAIL(arg, &view);
    PyObject *r = PyLong_FromSsize_t(view.len);
    PyBuffer_Release(&view);
    return r;
}
"""

BUFS_TEST = """
import array
import pytest
import bufs

TABLE = bytes(range(256))

def test_byte_sum():
    assert bufs.byte_sum(b"abc") == 294
    assert bufs.byte_sum(bytearray(b"\\x01\\x02")) == 3
    assert bufs.byte_sum(memoryview(b"xyz")[1:]) == 121 + 122
    assert bufs.byte_sum(array.array("B", [7, 8])) == 15
    with pytest.raises(TypeError, match="encode str first"):
        bufs.byte_sum("abc")
    with pytest.raises(TypeError, match="a buffer is required"):
        bufs.byte_sum(12)

def test_translate_sum():
    assert bufs.translate_sum(b"ab", TABLE) == 97 + 98
    assert bufs.translate_sum(b"ab", bytes(255 - i for i in range(256))) == 158 + 157
    with pytest.raises(ValueError, match="256 bytes"):
        bufs.translate_sum(b"ab", b"short")
    with pytest.raises(TypeError):
        bufs.translate_sum(b"ab", bytearray(TABLE))      # "s#": read-only bytes-like objects only
    with pytest.raises(TypeError):
        bufs.translate_sum(b"ab", 5)
    assert bufs.translate_sum(b"", "x" * 256) == 0       # "s#" takes a str as UTF-8

def test_item_size():
    assert bufs.item_size(b"ab") == 1001
    assert bufs.item_size(array.array("i", [1, 2])) == array.array("i").itemsize * 1000 + 1
"""

LEGACY_TEST = """
import bufs

def test_sum_pair():
    assert bufs.sum_pair(b"abcd") == 4
"""


def _source(legacy):
    if not legacy:
        return BUFS.replace("/*LEGACY*/", "").replace("/*LEGACY-ENTRY*/", "")
    return BUFS.replace("/*LEGACY*/", LEGACY).replace("/*LEGACY-ENTRY*/", '{"sum_pair", sum_pair, METH_O, NULL},')


def _check(tmp_path):
    result = run_port("check", tmp_path / "out" / "bufs.c", "--module", "bufs", "--debug", "--json", "--", "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      *[str(p) for p in sorted(tmp_path.glob("test_*.py"))], check=False)
    return json.loads(result.stdout)


def test_buffers_become_pure_hpy_at_abi_0_1(tmp_path):
    source = _source(legacy=False)
    (tmp_path / "bufs.c").write_text(source)
    (tmp_path / "test_bufs.py").write_text(BUFS_TEST)
    _build_c_api(tmp_path, "bufs", source, tmp_path / "test_bufs.py")
    s = rewrite_json(tmp_path / "bufs.c", tmp_path / "out")
    assert s["hpy_functions"][:3] == ["byte_sum", "translate_sum", "item_size"]
    assert s["pure_hpy"] and s["c_api_uses_left"] == 0
    text = (tmp_path / "out" / "bufs.c").read_text()
    # The module asks for HPy ABI 0.1 before including hpy.h.
    assert text.index("#define HPY_ABI_VERSION_MINOR 1") < text.index('#include "hpy.h"')
    # The macro is rewritten where it is defined; the format macro stays, the call gets the new format.
    assert "if (HPyUnicode_Check(ctx, (obj))) {" in text and "return HPy_NULL;" in text
    assert "HPy_GetBuffer(ctx, (obj), (viewp), HPyBUF_SIMPLE)" in text
    assert '#define INPUT "Os#"' in text and '"OO"' in text
    assert "hpy_port_chars_and_size(ctx, table_obj, (const char **)&table, &table_len) < 0" in text
    assert "HPy_buffer view;" in text and "HPyBUF_FORMAT | HPyBUF_ND" in text
    report = _check(tmp_path)
    assert [r["abi"] for r in report["runs"]] == ["hybrid", "hybrid (debug)", "universal", "universal (debug)"]
    for run in report["runs"]:
        assert run["tests"] == "passed", run
    assert report["runs"][1]["leaks"] == 0 and report["runs"][3]["leaks"] == 0


def test_macro_shared_with_a_c_api_function_gets_an_hpy_copy(tmp_path):
    source = _source(legacy=True)
    (tmp_path / "bufs.c").write_text(source)
    (tmp_path / "test_bufs.py").write_text(BUFS_TEST)
    (tmp_path / "test_legacy.py").write_text(LEGACY_TEST)
    s = rewrite_json(tmp_path / "bufs.c", tmp_path / "out")
    assert "PyTuple_New has no rule" in s["legacy_functions"]["sum_pair"]
    assert not s["pure_hpy"]
    text = (tmp_path / "out" / "bufs.c").read_text()
    # The original macro stays for sum_pair; the converted functions call GET_VIEW_OR_FAIL_HPY.
    assert "if (PyUnicode_Check((obj))) {" in text
    assert "#define GET_VIEW_OR_FAIL_HPY(obj, viewp) do {" in text
    assert text.count("GET_VIEW_OR_FAIL_HPY(") == 3 and text.count("GET_VIEW_OR_FAIL(") == 2
    report = _check(tmp_path)
    assert [r["abi"] for r in report["runs"]] == ["hybrid", "hybrid (debug)"]
    for run in report["runs"]:
        assert run["tests"] == "passed", run
    assert report["runs"][1]["leaks"] == 0


def test_reading_a_views_owner_keeps_the_function_c_api(tmp_path):
    src = textwrap.dedent("""
        #include <Python.h>
        static PyObject *f(PyObject *self, PyObject *a) {
            Py_buffer v;
            if (PyObject_GetBuffer(a, &v, PyBUF_SIMPLE) < 0) return NULL;
            int same = v.obj == a;
            PyBuffer_Release(&v);
            return PyBool_FromLong(same);
        }
        static PyMethodDef methods[] = {{"f", f, METH_O, NULL}, {NULL, NULL, 0, NULL}};
        static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "m", NULL, -1, methods};
        PyMODINIT_FUNC PyInit_m(void) { return PyModule_Create(&moduledef); }
        """)
    (tmp_path / "m.c").write_text(src)
    s = rewrite_json(tmp_path / "m.c", tmp_path / "out")
    assert "reads a Py_buffer's obj" in s["legacy_functions"]["f"]
    assert "HPY_ABI_VERSION_MINOR" not in (tmp_path / "out" / "m.c").read_text()
