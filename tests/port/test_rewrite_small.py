# tests/port/test_rewrite_small.py: `python -m hpy.port rewrite` and `check` on small extensions the tests write:
# what converts, what stays C API and why, the same behaviour before and after, universal and debug builds.
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_port

# Every module function here but the last four has a rule for each construct it uses.
SMALL = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
nothing(PyObject *self, PyObject *unused)
{
    Py_RETURN_NONE;
}

static PyObject *
identity(PyObject *self, PyObject *arg)
{
    Py_INCREF(arg);
    return arg;
}

static PyObject *
add_ints(PyObject *self, PyObject *args)
{
    long a, b = 10;
    if (!PyArg_ParseTuple(args, "l|l:add_ints", &a, &b))
        return NULL;
    return PyLong_FromLong(a + b);
}

static PyObject *
length_plus(PyObject *self, PyObject *args)
{
    PyObject *obj;
    Py_ssize_t extra = 0;
    if (!PyArg_ParseTuple(args, "O|n", &obj, &extra))
        return NULL;
    Py_ssize_t n = PyObject_Length(obj);
    if (n < 0)
        return NULL;
    return PyLong_FromSsize_t(n + extra);
}

static PyObject *
str_repr(PyObject *self, PyObject *arg)
{
    PyObject *r = NULL;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "a str is required");
        return NULL;
    }
    r = PyObject_Repr(arg);
    if (r == NULL)
        return NULL;
    return r;
}

static PyObject *
double_sum(PyObject *self, PyObject *args)
{
    PyObject *a, *b, *s, *t;
    if (!PyArg_ParseTuple(args, "OO", &a, &b))
        return NULL;
    s = PyNumber_Add(a, b);
    if (s == NULL)
        return NULL;
    t = PyNumber_Add(s, s);
    Py_DECREF(s);
    return t;
}

static PyObject *
scaled(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "factor", "label", NULL};
    double x, factor = 2.0;
    const char *label = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "d|d$s:scaled", kwlist, &x, &factor, &label))
        return NULL;
    if (label != NULL)
        return PyUnicode_FromString(label);
    return PyFloat_FromDouble(x * factor);
}

static PyObject *
fast_add(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs - 2 != 0) {
        PyErr_SetString(PyExc_TypeError, "fast_add takes 2 arguments");
        return NULL;
    }
    return PyNumber_Add(args[0], args[1]);
}

static PyObject *
first_item(PyObject *self, PyObject *arg)
{
    PyObject *item = PyTuple_GetItem(arg, 0);
    Py_XINCREF(item);
    return item;
}

static PyObject *
refcount(PyObject *self, PyObject *arg)
{
    return PyLong_FromSsize_t(Py_REFCNT(arg));
}

static PyObject *
twice(PyObject *o)
{
    return PyNumber_Add(o, o);
}

static PyObject *
uses_helper(PyObject *self, PyObject *arg)
{
    return twice(arg);
}

static PyMethodDef methods[] = {
    {"nothing", nothing, METH_NOARGS, "Returns None."},
    {"identity", identity, METH_O, NULL},
    {"add_ints", add_ints, METH_VARARGS, "a + b"},
    {"length_plus", (PyCFunction)length_plus, METH_VARARGS, NULL},
    {"str_repr", str_repr, METH_O, NULL},
    {"double_sum", double_sum, METH_VARARGS, NULL},
    {"scaled", (PyCFunction)(void (*)(void))scaled, METH_VARARGS | METH_KEYWORDS, NULL},
    {"fast_add", (PyCFunction)(void (*)(void))fast_add, METH_FASTCALL, NULL},
    {"first_item", first_item, METH_O, NULL},
    {"refcount", refcount, METH_O, NULL},
    {"uses_helper", uses_helper, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    "small",
    "A small extension.",
    -1,
    methods,
};

PyMODINIT_FUNC
PyInit_small(void)
{
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "ANSWER", 42) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
"""

CONVERTED = ["nothing", "identity", "add_ints", "length_plus", "str_repr", "double_sum", "scaled",
             "fast_add"]

# One test file for the original and the rewritten build.
BEHAVIOUR = r"""
import pytest
import small

def test_module():
    assert small.__doc__ == "A small extension."
    assert small.ANSWER == 42
    assert small.add_ints.__doc__ == "a + b"

def test_functions():
    assert small.nothing() is None
    o = object()
    assert small.identity(o) is o
    assert small.add_ints(1, 2) == 3 and small.add_ints(5) == 15
    assert small.length_plus([1, 2, 3]) == 3 and small.length_plus("ab", 5) == 7
    assert small.str_repr("x") == "'x'"
    assert small.double_sum(1, 2) == 6 and small.double_sum("a", "b") == "abab"
    assert small.first_item((7, 8)) == 7
    assert small.refcount(o) >= 1
    assert small.uses_helper(21) == 42
    assert small.scaled(1.5) == 3.0 and small.scaled(1.0, factor=3.0) == 3.0
    assert small.scaled(x=2.0) == 4.0 and small.scaled(1.0, label="hi") == "hi"
    assert small.fast_add(1, 2) == 3 and small.fast_add("a", "b") == "ab"

def test_errors():
    with pytest.raises(TypeError, match="a str is required"):
        small.str_repr(1)
    with pytest.raises(TypeError):
        small.add_ints("x")
    with pytest.raises(TypeError):
        small.add_ints()
    with pytest.raises(TypeError):
        small.length_plus(1)
    with pytest.raises(TypeError):
        small.double_sum(1, "b")
    with pytest.raises(TypeError):
        small.scaled(1.0, 2.0, "positional label")   # label is keyword-only
    with pytest.raises(TypeError):
        small.scaled(1.0, nope=1)
    with pytest.raises(TypeError, match="fast_add takes 2 arguments"):
        small.fast_add(1)
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    (d / "small.c").write_text(SMALL)
    (d / "test_small.py").write_text(BEHAVIOUR)
    return d


def rewrite_json(source, out):
    result = run_port("rewrite", source, "-o", out, "--json")
    return json.loads(result.stdout)


def test_rewrite_converts_what_has_rules(small, tmp_path):
    s = rewrite_json(small / "small.c", tmp_path)
    assert s["module_converted"]
    assert s["hpy_functions"] == CONVERTED
    legacy = s["legacy_functions"]
    assert set(legacy) == {"first_item", "refcount", "twice", "uses_helper"}
    assert "PyTuple_GetItem has no rule" in legacy["first_item"]
    assert "Py_REFCNT has no rule" in legacy["refcount"]
    assert "called from C code (uses_helper)" in legacy["twice"]
    assert "calls twice, which returns a PyObject *" in legacy["uses_helper"]
    assert 0 < s["converted_uses"] < s["c_api_uses"]
    assert s["c_api_uses_left"] > 0 and not s["pure_hpy"]
    text = (tmp_path / "small.c").read_text()
    for piece in ['#include "hpy.h"',
                  'HPyDef_METH(nothing, "nothing", HPyFunc_NOARGS, .doc = "Returns None.")',
                  "static HPy nothing_impl(HPyContext *ctx, HPy self)",
                  "return HPy_Dup(ctx, ctx->h_None);",
                  "return HPy_Dup(ctx, arg);",
                  'HPyArg_Parse(ctx, NULL, args, nargs, "l|l:add_ints", &a, &b)',
                  "HPy obj;", "HPy_ssize_t n = HPy_Length(ctx, obj);",
                  "HPy r = HPy_NULL;", "HPyErr_SetString(ctx, ctx->h_TypeError,",
                  "if (HPy_IsNull(r))", "HPy a, b, s, t;", "HPy_Close(ctx, s);",
                  "HPyDef_SLOT(small_exec, HPy_mod_exec)", "HPy_MODINIT(small, moduledef)",
                  ".legacy_methods = methods,", "&double_sum,",
                  "static const char *kwlist[]",
                  'HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwds, "d|d$s:scaled", kwlist,',
                  "static HPy scaled_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwds)",
                  "static HPy fast_add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs_)",
                  "HPy_ssize_t nargs = (HPy_ssize_t)nargs_;", "return HPy_Add(ctx, args[0], args[1]);"]:
        assert piece in text, piece
    # The legacy functions keep their code, with the reason above them; their table entries stay.
    assert "/* hpy.port: left as C API (hybrid ABI): line" in text
    assert '{"first_item", first_item, METH_O, NULL},' in text
    assert '{"nothing", nothing, METH_NOARGS' not in text
    # In the exec slot the module is borrowed: its Py_DECREF goes. The body stays C API (no rule for
    # PyModule_AddIntConstant, nor for releasing the module), and the notes say why.
    assert "Py_DECREF(m);\n        return -1;" not in text and "return -1;" in text
    assert "the exec slot runs PyInit_small's body as C API: line" in " ".join(s["notes"])
    assert "PyObject *m = HPy_AsPyObject(ctx, h_module);" in text


def test_rewrite_diff_is_a_patch(small, tmp_path):
    diff = run_port("rewrite", small / "small.c", "--diff").stdout
    assert diff.startswith("--- a/") and "\n+++ b/" in diff
    work = tmp_path / "w"
    work.mkdir()
    (work / "small.c").write_text(SMALL)
    patch = diff.replace(f"a/{small / 'small.c'}", "a/small.c").replace(f"b/{small / 'small.c'}", "b/small.c")
    subprocess.run(["patch", "-p1", "-s"], input=patch, text=True, cwd=work, check=True)
    assert (work / "small.c").read_text() == rewrite_text(small, tmp_path)


def rewrite_text(small, tmp_path):
    out = tmp_path / "out"
    run_port("rewrite", small / "small.c", "-o", out)
    return (out / "small.c").read_text()


def test_same_behaviour_before_and_after(small, tmp_path):
    # The original, as an ordinary C extension.
    before = tmp_path / "before"
    before.mkdir()
    (before / "setup.py").write_text(
        "from setuptools import Extension, setup\n"
        "setup(name='small', ext_modules=[Extension('small', ['small.c'])])\n")
    (before / "small.c").write_text(SMALL)
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=before,
                   check=True, capture_output=True)
    test = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(small / "test_small.py")]
    subprocess.run(test, cwd=before, check=True, capture_output=True)
    # The rewrite, in the hybrid ABI (it still uses the C API: not universal).
    out = tmp_path / "after"
    rewrite_json(small / "small.c", out)
    result = run_port("check", out / "small.c", "--module", "small", "--json", "--",
                      "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", small / "test_small.py",
                      check=False)
    report = json.loads(result.stdout)
    assert [r["abi"] for r in report["runs"]] == ["hybrid"], report
    run = report["runs"][0]
    assert run["built"] and run["imported"].endswith(".hpy0-cp311.so")
    assert run["tests"] == "passed", run["test_tail"]
    assert report["ok"] and result.returncode == 0


PURE = r"""
#include <Python.h>

static PyObject *
scale(PyObject *self, PyObject *args)
{
    double x, k = 2.0;
    if (!PyArg_ParseTuple(args, "d|d", &x, &k))
        return NULL;
    return PyFloat_FromDouble(x * k);
}

static PyObject *
is_text(PyObject *self, PyObject *arg)
{
    if (PyUnicode_Check(arg))
        Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

static PyObject *
concat(PyObject *self, PyObject *args)
{
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO", &a, &b))
        return NULL;
    return PyNumber_Add(a, b);
}

static PyMethodDef methods[] = {
    {"scale", scale, METH_VARARGS, NULL},
    {"is_text", is_text, METH_O, NULL},
    {"concat", concat, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "pure", NULL, -1, methods};

PyMODINIT_FUNC
PyInit_pure(void)
{
    return PyModule_Create(&moduledef);
}
"""

PURE_TEST = """
import pure

def test_pure():
    assert pure.scale(1.5) == 3.0 and pure.scale(1.0, 3.0) == 3.0
    assert pure.is_text("a") is True and pure.is_text(1) is False
    assert pure.concat([1], [2]) == [1, 2]
"""


def test_pure_hpy_builds_universal_and_runs_in_debug_mode(tmp_path):
    (tmp_path / "pure.c").write_text(PURE)
    (tmp_path / "test_pure.py").write_text(PURE_TEST)
    s = rewrite_json(tmp_path / "pure.c", tmp_path / "out")
    assert s["hpy_functions"] == ["scale", "is_text", "concat"]
    assert s["pure_hpy"] and s["c_api_uses_left"] == 0
    text = (tmp_path / "out" / "pure.c").read_text()
    assert "legacy_methods = NULL" in text and "HPyDef_SLOT" not in text
    result = run_port("check", tmp_path / "out" / "pure.c", "--module", "pure", "--debug", "--json",
                      "--", "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      tmp_path / "test_pure.py", check=False)
    report = json.loads(result.stdout)
    assert [r["abi"] for r in report["runs"]] == ["hybrid", "hybrid (debug)", "universal",
                                                  "universal (debug)"]
    for run in report["runs"]:
        assert run["tests"] == "passed", run
    assert report["runs"][2]["imported"].endswith(".hpy0.so")
    assert report["runs"][1]["leaks"] == 0 and report["runs"][3]["leaks"] == 0
    assert report["ok"]


def test_check_fails_when_the_tests_fail(tmp_path):
    (tmp_path / "pure.c").write_text(PURE)
    (tmp_path / "test_bad.py").write_text("import pure\n\ndef test_bad():\n    assert pure.scale(1.0) == 5\n")
    rewrite_json(tmp_path / "pure.c", tmp_path / "out")
    result = run_port("check", tmp_path / "out" / "pure.c", "--module", "pure", "--abi", "hybrid",
                      "--", "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      tmp_path / "test_bad.py", check=False)
    assert result.returncode == 1
    assert "pure [hybrid]: built" in result.stdout and "tests: failed" in result.stdout


def test_leaks_in_debug_mode_fail_check(tmp_path):
    # A handle the code never closes: the C-API original leaks a reference, the HPy port a handle,
    # which the debug context reports at exit.
    leaky = PURE.replace("return PyNumber_Add(a, b);",
                         "PyObject *lost = PyNumber_Add(a, b);\n    if (lost == NULL)\n        return NULL;\n"
                         "    return PyNumber_Add(a, b);")
    (tmp_path / "pure.c").write_text(leaky)
    (tmp_path / "test_pure.py").write_text(PURE_TEST)
    s = rewrite_json(tmp_path / "pure.c", tmp_path / "out")
    assert "concat" in s["hpy_functions"] and s["pure_hpy"]
    result = run_port("check", tmp_path / "out" / "pure.c", "--module", "pure", "--abi", "universal",
                      "--debug", "--json", "--", "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      tmp_path / "test_pure.py", check=False)
    report = json.loads(result.stdout)
    debug = report["runs"][-1]
    assert debug["abi"] == "universal (debug)" and debug["leaks"] >= 1
    assert not report["ok"] and result.returncode == 1


@pytest.mark.parametrize("body, reason", [
    ("static PyObject *f(PyObject *self, PyObject *a) { static PyObject *c; c = a; return NULL; }",
     "a PyObject * declaration the rewrite does not read"),
    ("static PyObject *f(PyObject *self, PyObject *a) { PyObject *x = a; Py_INCREF(x); return x; }",
     "starts as a"),
    ("static PyObject *f(PyObject *self, PyObject *a) { Py_DECREF(a); return NULL; }",
     "Py_DECREF of the borrowed handle a"),
    ("static PyObject *f(PyObject *self, PyObject *a) { return a; }",
     "returns a, not a new reference"),
    ("static PyObject *f(PyObject *self, PyObject *a) { PyErr_SetString(PyExc_EnvironmentError, \"x\"); return NULL; }",
     "not in the HPy context"),
    ("static PyObject *f(PyObject *self, PyObject *a) { PyObject *t = PyTuple_New(0); char *s; if (!PyArg_ParseTuple(t, \"s\", &s)) return NULL; return t; }",
     "PyTuple_New has no rule"),
])
def test_functions_without_rules_stay_c_api(tmp_path, body, reason):
    flags = "METH_VARARGS" if "PyArg_ParseTuple" in body else "METH_O"
    src = textwrap.dedent(f"""
        #include <Python.h>
        {body}
        static PyMethodDef methods[] = {{{{"f", f, {flags}, NULL}}, {{NULL, NULL, 0, NULL}}}};
        static struct PyModuleDef moduledef = {{PyModuleDef_HEAD_INIT, "m", NULL, -1, methods}};
        PyMODINIT_FUNC PyInit_m(void) {{ return PyModule_Create(&moduledef); }}
        """)
    (tmp_path / "m.c").write_text(src)
    s = rewrite_json(tmp_path / "m.c", tmp_path / "out")
    assert s["hpy_functions"] == []
    assert reason in s["legacy_functions"]["f"]


def test_prototype_keeps_the_function_c_api(tmp_path):
    src = SMALL.replace("static PyObject *\nnothing(", "static PyObject *nothing(PyObject *, PyObject *);\n\n"
                        "static PyObject *\nnothing(")
    (tmp_path / "small.c").write_text(src)
    s = rewrite_json(tmp_path / "small.c", tmp_path / "out")
    assert "a prototype declares it too" in s["legacy_functions"]["nothing"]
    assert "identity" in s["hpy_functions"]


def test_parse_format_without_equivalent(tmp_path):
    src = SMALL.replace('"l|l:add_ints"', '"y#"').replace("long a, b = 10;", "const char *a; Py_ssize_t b;")
    src = src.replace("return PyLong_FromLong(a + b);", "return PyLong_FromSsize_t(b);")
    (tmp_path / "small.c").write_text(src)
    s = rewrite_json(tmp_path / "small.c", tmp_path / "out")
    assert "unit 'y#' has no HPyArg_Parse equivalent" in s["legacy_functions"]["add_ints"]


def test_module_init_it_cannot_read_stays_c_api(tmp_path):
    src = SMALL.replace("    PyObject *m = PyModule_Create(&moduledef);",
                        "    PyObject *m = PyModule_Create(&moduledef);\n    PyObject *again = PyModule_Create(&moduledef);\n    Py_XDECREF(again);")
    (tmp_path / "small.c").write_text(src)
    s = rewrite_json(tmp_path / "small.c", tmp_path / "out")
    assert not s["module_converted"] and s["hpy_functions"] == []
    assert "moduledef is used elsewhere than in PyModule_Create" in s["legacy_functions"]["PyInit_small"]
    text = (tmp_path / "out" / "small.c").read_text()
    assert "HPy_MODINIT" not in text and "#include <Python.h>" in text


def test_bad_input_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("#include <Python.h>\nstatic PyObject *f(PyObject *self { return NULL; }\n")
    result = run_port("rewrite", bad, check=False)
    assert result.returncode == 2
    assert f"{bad}: does not compile" in result.stderr and "Traceback" not in result.stderr
    missing = run_port("rewrite", tmp_path / "missing.c", check=False)
    assert missing.returncode == 2 and "missing.c: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    same = tmp_path / "same"
    same.mkdir()
    (same / "ok.c").write_text(PURE)
    clash = run_port("rewrite", same / "ok.c", "-o", same, check=False)
    assert clash.returncode == 2 and "is the input file" in clash.stderr
    nocheck = run_port("check", tmp_path / "missing.c", "--module", "x", check=False)
    assert nocheck.returncode == 2 and "no such file" in nocheck.stderr
    outside = run_port("check", same / "ok.c", "--module", "x", "--root", same, "--at", "../ok.c", check=False)
    assert outside.returncode == 2 and "paths inside --root" in outside.stderr
    badabi = run_port("check", same / "ok.c", "--module", "x", "--abi", "limited", check=False)
    assert badabi.returncode == 2 and "unknown ABI 'limited'" in badabi.stderr


def test_multi_phase_init_of_the_porting_example_before_its_port(tmp_path):
    # proof-of-concept/porting/before/vec.c: multi-phase init (a Py_mod_exec slot), a PyType_Spec
    # created in the exec function. The exec function runs unchanged from an HPy exec slot.
    root = Path(__file__).resolve().parents[2] / "proof-of-concept" / "porting"
    s = rewrite_json(root / "before" / "vec.c", tmp_path / "out")
    assert s["module_converted"]
    assert "a Py_mod_exec function: it runs unchanged from the HPy exec slot vec_exec_hpy_exec" in \
        s["legacy_functions"]["vec_exec"]
    text = (tmp_path / "out" / "vec.c").read_text()
    assert "HPyDef_SLOT(vec_exec_hpy_exec, HPy_mod_exec)" in text and "int result = vec_exec(module);" in text
    assert "PyModuleDef_Init" not in text
    result = run_port("check", tmp_path / "out" / "vec.c", "--module", "vec", "--json", "--",
                      "env", "HPY_TEST_VEC_DIR=.", sys.executable, "-m", "pytest", "-q", "-p",
                      "no:cacheprovider", root / "test_porting.py", check=False)
    report = json.loads(result.stdout)
    assert report["ok"], report["runs"][0].get("test_tail") or report["runs"][0].get("log")


def test_module_slots_without_hpy_equivalent_stay_c_api(tmp_path):
    root = Path(__file__).resolve().parents[2] / "proof-of-concept" / "porting"
    src = (root / "before" / "vec.c").read_text().replace(
        "    {Py_mod_exec, vec_exec},", "    {Py_mod_exec, vec_exec},\n    {Py_mod_create, NULL},")
    (tmp_path / "vec.c").write_text(src)
    s = rewrite_json(tmp_path / "vec.c", tmp_path / "out")
    assert not s["module_converted"]
    assert "has the slot Py_mod_create" in s["legacy_functions"]["PyInit_vec"]


def test_compile_commands_without_the_file_is_a_clear_error(tmp_path):
    (tmp_path / "pure.c").write_text(PURE)
    db = tmp_path / "compile_commands.json"
    db.write_text(json.dumps([{"directory": str(tmp_path), "file": "other.c", "command": "cc -c other.c"}]))
    for command in ("report", "rewrite"):
        result = run_port(command, tmp_path / "pure.c", "--compile-commands", db, check=False)
        assert result.returncode == 2 and "has no entry in" in result.stderr, (command, result.stderr)
        assert "Traceback" not in result.stderr
    db.write_text("{not json")
    result = run_port("rewrite", tmp_path / "pure.c", "--compile-commands", db, check=False)
    assert result.returncode == 2 and "cannot read it" in result.stderr and "Traceback" not in result.stderr


# A type with PyObject * members (a GC type with its own traverse, and one without traverse or GC),
# created in the init function: the rewrite makes both HPy types of the Object shape, the members
# HPyFields, and the init function's body a pure HPy exec slot.
FIELDS = r"""
#include <Python.h>

typedef struct {
    PyObject_HEAD
    long n;
    PyObject *item;
} BoxObject;

typedef struct {
    PyObject_HEAD
    PyObject *label;
} TagObject;

static int
Box_traverse(PyObject *self, visitproc visit, void *arg)
{
    BoxObject *b = (BoxObject *)self;
    Py_VISIT(b->item);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void
Box_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_CLEAR(((BoxObject *)self)->item);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int
Box_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"n", "item", NULL};
    BoxObject *b = (BoxObject *)self;
    b->item = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|lO", kwlist, &b->n, &b->item))
        return -1;
    if (!b->item)
        b->item = Py_None;
    Py_INCREF(b->item);
    return 0;
}

static PyObject *
Box_get_item(PyObject *self, void *closure)
{
    BoxObject *b = (BoxObject *)self;
    Py_INCREF(b->item);
    return b->item;
}

static PyObject *
Box_double(PyObject *self, PyObject *unused)
{
    BoxObject *b = (BoxObject *)self;
    return PyLong_FromLong(2 * b->n);
}

static PyObject *
Box_item_repr(PyObject *self, PyObject *unused)
{
    BoxObject *b = (BoxObject *)self;
    if (b->item == NULL)
        Py_RETURN_NONE;
    return PyObject_Repr(b->item);
}

static PyObject *
Box_item_true(PyObject *self, PyObject *unused)
{
    BoxObject *b = (BoxObject *)self;
    int t = PyObject_IsTrue(b->item);
    if (t < 0)
        return NULL;
    return PyBool_FromLong(t);
}

static PyMethodDef Box_methods[] = {
    {"double", Box_double, METH_NOARGS, "2 n"},
    {"item_repr", Box_item_repr, METH_NOARGS, NULL},
    {"item_true", Box_item_true, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef Box_getset[] = {
    {"item", Box_get_item, NULL, "The item.", NULL},
    {NULL}
};

static PyType_Slot Box_slots[] = {
    {Py_tp_doc, "A box."},
    {Py_tp_init, Box_init},
    {Py_tp_traverse, Box_traverse},
    {Py_tp_dealloc, Box_dealloc},
    {Py_tp_methods, Box_methods},
    {Py_tp_getset, Box_getset},
    {0, NULL}
};

static PyType_Spec Box_spec = {
    "fields.Box", sizeof(BoxObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    Box_slots
};

static int
Tag_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"label", NULL};
    TagObject *t = (TagObject *)self;
    t->label = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O", kwlist, &t->label))
        return -1;
    Py_INCREF(t->label);
    return 0;
}

static PyObject *
Tag_label(PyObject *self, void *closure)
{
    TagObject *t = (TagObject *)self;
    Py_INCREF(t->label);
    return t->label;
}

static void
Tag_dealloc(PyObject *self)
{
    TagObject *t = (TagObject *)self;
    Py_XDECREF(t->label);
    Py_TYPE(self)->tp_free(self);
}

static PyGetSetDef Tag_getset[] = {
    {"label", Tag_label, NULL, NULL, NULL},
    {NULL}
};

static PyType_Slot Tag_slots[] = {
    {Py_tp_init, Tag_init},
    {Py_tp_getset, Tag_getset},
    {Py_tp_dealloc, Tag_dealloc},
    {0, NULL}
};

static PyType_Spec Tag_spec = {"fields.Tag", sizeof(TagObject), 0, Py_TPFLAGS_DEFAULT, Tag_slots};

static PyObject *
box_n(PyObject *self, PyObject *arg)
{
    BoxObject *b = (BoxObject *)arg;
    return PyLong_FromLong(b->n);
}

static PyMethodDef methods[] = {
    {"box_n", box_n, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "fields", "Fields.", -1, methods};

PyMODINIT_FUNC
PyInit_fields(void)
{
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    PyObject *box = PyType_FromSpec(&Box_spec);
    if (box == NULL)
        return NULL;
    if (PyModule_AddObject(m, "Box", box) < 0)
        return NULL;
    PyObject *tag = PyType_FromSpec(&Tag_spec);
    if (tag == NULL)
        return NULL;
    PyModule_AddObject(m, "Tag", tag);
    return m;
}
"""

FIELDS_TEST = r"""
import gc
import weakref
import pytest
import fields

def test_box():
    b = fields.Box(3, "x")
    assert b.item == "x" and b.double() == 6 and fields.box_n(b) == 3
    assert b.item_repr() == "'x'" and b.item_true() is True and fields.Box(1, 0).item_true() is False
    assert fields.Box.__new__(fields.Box).item_repr() is None
    assert fields.Box().item is None and fields.Box(item=[1]).item == [1]
    assert fields.Box.__doc__ == "A box." and fields.Box.item.__doc__ == "The item."
    b.__init__(5, "y")
    assert b.item == "y" and b.double() == 10
    with pytest.raises(TypeError):
        fields.Box("no")
    class Sub(fields.Box):
        pass
    assert Sub(1, 2).item == 2

def test_box_cycle_is_collected():
    class Node:
        pass
    node = Node()
    node.box = fields.Box(1, node)      # a cycle through the field
    r = weakref.ref(node)
    del node
    gc.collect()
    assert r() is None

def test_tag():
    item = object()
    t = fields.Tag(item)
    assert t.label is item
    with pytest.raises(TypeError):
        fields.Tag()
    del t
    assert fields.__doc__ == "Fields."
"""


def _build_c_api(tmp_path, name, source, test):
    """The original, as an ordinary C extension, passing the test file."""
    before = tmp_path / "before"
    before.mkdir()
    (before / "setup.py").write_text(
        f"from setuptools import Extension, setup\n"
        f"setup(name='{name}', ext_modules=[Extension('{name}', ['{name}.c'])])\n")
    (before / f"{name}.c").write_text(source)
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=before,
                   check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                            cwd=before, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]


def test_types_with_pyobject_members_become_pure_hpy(tmp_path):
    (tmp_path / "fields.c").write_text(FIELDS)
    (tmp_path / "test_fields.py").write_text(FIELDS_TEST)
    _build_c_api(tmp_path, "fields", FIELDS, tmp_path / "test_fields.py")
    s = rewrite_json(tmp_path / "fields.c", tmp_path / "out")
    assert s["legacy_functions"] == {} and s["pure_hpy"] and s["c_api_uses_left"] == 0, s
    text = (tmp_path / "out" / "fields.c").read_text()
    for piece in ["HPyField item;", "HPyField label;", "HPyType_HELPERS(BoxObject)",
                  "HPyDef_SLOT(Box_traverse, HPy_tp_traverse)",
                  "static int Box_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)",
                  "HPy_VISIT(&b->item);", "Py_VISIT(Py_TYPE(self)) gone",
                  "/* Box_dealloc: gone.", "/* Tag_dealloc: gone.",
                  "HPyDef_SLOT(Box_init, HPy_tp_init)",
                  "static int Box_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kwds)",
                  "HPy b_item = HPy_NULL;", "if (HPy_IsNull(b_item))",
                  # tp_init's keywords come as a dict; the handles 'O' stores belong to a tracker.
                  "HPyTracker ht;",
                  'HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kwds, "|lO", kwlist, &b->n, &b_item))',
                  "{ HPyTracker_Close(ctx, ht); return 0; }",
                  "b_item = ctx->h_None;", "HPyField_Store(ctx, self, &b->item, b_item);",
                  'HPyDef_GET(Box_get_item, "item", .doc = "The item.")',
                  "static HPy Box_get_item_get(HPyContext *ctx, HPy self, void *closure)",
                  "return HPyField_Load(ctx, self, b->item);",
                  # Reads: a NULL test, and object arguments loaded into a local handle closed after use.
                  "if (HPyField_IsNull(b->item))",
                  "{ HPy b_item = HPyField_Load(ctx, self, b->item); HPy b_item_r = HPy_Repr(ctx, b_item); "
                  "HPy_Close(ctx, b_item); return b_item_r; }",
                  "HPy b_item = HPyField_Load(ctx, self, b->item); int t = HPy_IsTrue(ctx, b_item); "
                  "HPy_Close(ctx, b_item);",
                  'HPyDef_GET(Tag_label, "label", .doc = NULL)',
                  # Tag had no traverse: HPy needs one to see (and release) its HPyField.
                  "HPyDef_SLOT(TagObject_hpy_traverse, HPy_tp_traverse)", "HPy_VISIT(&((TagObject *)self)->label);",
                  ".flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,",
                  '.doc = "A box.",',
                  "HPyDef_SLOT(fields_exec, HPy_mod_exec)", "m = h_module;",
                  "HPy box = HPyType_FromSpec(ctx, &Box_spec, NULL);",
                  'if (hpy_port_module_add_object(ctx, m, "Box", box) < 0)',
                  "return -1;", "return 0;", ".legacy_methods = NULL,"]:
        assert piece in text, piece
    assert "PyObject_HEAD\n" not in text and "legacy_slots" not in text
    result = run_port("check", tmp_path / "out" / "fields.c", "--module", "fields", "--debug", "--json",
                      "--", "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      tmp_path / "test_fields.py", check=False)
    report = json.loads(result.stdout)
    assert [r["abi"] for r in report["runs"]] == ["hybrid", "hybrid (debug)", "universal",
                                                  "universal (debug)"]
    for run in report["runs"]:
        assert run["tests"] == "passed", run
    assert report["runs"][1]["leaks"] == 0 and report["runs"][3]["leaks"] == 0
    assert report["ok"]


@pytest.mark.parametrize("old, new, why", [
    # A dealloc that does more than releasing fields and freeing the object.
    ("    Py_CLEAR(((BoxObject *)self)->item);\n",
     "    Py_CLEAR(((BoxObject *)self)->item);\n    ((BoxObject *)self)->n = 0;\n",
     "Box_dealloc: line"),
    # A field read in a way without a rule.
    ("    Py_INCREF(b->item);\n    return b->item;", "    return Py_NewRef(b->item);",
     "Box_get_item: line"),
    # A field read in a statement that may return before the loaded handle is closed.
    ("    int t = PyObject_IsTrue(b->item);\n    if (t < 0)\n        return NULL;",
     "    int t;\n    if ((t = PyObject_IsTrue(b->item)) < 0)\n        return NULL;",
     "may leave the function before the loaded handle is closed"),
    # A setter.
    ('{"item", Box_get_item, NULL,', '{"item", Box_get_item, (setter)0x0,',
     "has a setter"),
    # A field set from a new reference.
    ("        b->item = Py_None;", "        b->item = PyLong_FromLong(1);", "only NULL, a constant or a borrowed"),
    # A slot without a rule.
    ("    {Py_tp_doc, \"A box.\"},", "    {Py_tp_doc, \"A box.\"},\n    {Py_tp_iternext, Box_double},",
     "the slot Py_tp_iternext has no rule yet"),
])
def test_types_without_rules_keep_the_legacy_shape(tmp_path, old, new, why):
    assert old in FIELDS
    (tmp_path / "fields.c").write_text(FIELDS.replace(old, new))
    s = rewrite_json(tmp_path / "fields.c", tmp_path / "out")
    note = next(n for n in s["notes"] if n.startswith("type Box_spec keeps the Legacy shape"))
    assert why in note, note
    # Box is as before this rule: Legacy shape, its slots C API; Tag still converts.
    text = (tmp_path / "out" / "fields.c").read_text()
    assert "HPyType_LEGACY_HELPERS(BoxObject)" in text and ".legacy_slots = Box_slots," in text
    assert "PyObject *item;" in text and "HPyField label;" in text
    assert {"Box_traverse", "Box_dealloc", "Box_init"} <= set(s["legacy_functions"])
    assert "box_n" in s["hpy_functions"] and "Tag_init" in s["hpy_functions"]
    assert not s["pure_hpy"]


def test_c_api_code_using_the_struct_keeps_the_legacy_shape(tmp_path):
    # box_n stays C API (Py_REFCNT has no rule) and reads the struct: the struct keeps PyObject_HEAD.
    src = FIELDS.replace("return PyLong_FromLong(b->n);", "return PyLong_FromLong(b->n + 0 * Py_REFCNT(arg));")
    (tmp_path / "fields.c").write_text(src)
    (tmp_path / "test_fields.py").write_text(FIELDS_TEST)
    s = rewrite_json(tmp_path / "fields.c", tmp_path / "out")
    assert any("type Box_spec keeps the Legacy shape" in n and "C-API code uses its struct BoxObject" in n
               for n in s["notes"]), s["notes"]
    assert "Py_REFCNT has no rule" in s["legacy_functions"]["box_n"]
    text = (tmp_path / "out" / "fields.c").read_text()
    assert "HPyType_LEGACY_HELPERS(BoxObject)" in text and "HPyField label;" in text
    # Same behaviour in the hybrid ABI.
    result = run_port("check", tmp_path / "out" / "fields.c", "--module", "fields", "--json", "--",
                      "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", tmp_path / "test_fields.py",
                      check=False)
    report = json.loads(result.stdout)
    assert report["ok"], report["runs"][0].get("test_tail")



# A type without PyObject * members, with slots of one or two objects (Py_tp_repr, Py_nb_add,
# Py_nb_negative), a tp_init and a getter. With a dealloc the rewrite has no rule for, the type keeps
# the Legacy shape and these become HPyDefs beside its legacy slots; without it, the type is pure HPy.
OPS = r"""
#include <Python.h>
#include <stdlib.h>

typedef struct {
    PyObject_HEAD
    double x;
    double *buf;
} VecObject;

static int
Vec_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", NULL};
    VecObject *v = (VecObject *)self;
    v->buf = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "d", kwlist, &v->x))
        return -1;
    return 0;
}

static PyObject *
Vec_repr(PyObject *self)
{
    VecObject *v = (VecObject *)self;
    PyObject *x = PyFloat_FromDouble(v->x);
    if (x == NULL)
        return NULL;
    PyObject *r = PyObject_Repr(x);
    Py_DECREF(x);
    return r;
}

static PyObject *
Vec_add(PyObject *a, PyObject *b)
{
    return PyFloat_FromDouble(((VecObject *)a)->x + ((VecObject *)b)->x);
}

static PyObject *
Vec_neg(PyObject *self)
{
    return PyFloat_FromDouble(-((VecObject *)self)->x);
}

static PyObject *
Vec_x(PyObject *self, void *closure)
{
    return PyFloat_FromDouble(((VecObject *)self)->x);
}

static void
Vec_dealloc(PyObject *self)
{
    free(((VecObject *)self)->buf);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyGetSetDef Vec_getset[] = {
    {"x", Vec_x, NULL, "x", NULL},
    {NULL}
};

static PyType_Slot Vec_slots[] = {
    {Py_tp_init, Vec_init},
    {Py_tp_repr, Vec_repr},
    {Py_nb_add, Vec_add},
    {Py_nb_negative, Vec_neg},
    {Py_tp_getset, Vec_getset},
    {Py_tp_dealloc, Vec_dealloc},
    {0, NULL}
};

static PyType_Spec Vec_spec = {"ops.Vec", sizeof(VecObject), 0, Py_TPFLAGS_DEFAULT, Vec_slots};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "ops", NULL, -1, NULL};

PyMODINIT_FUNC
PyInit_ops(void)
{
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    PyObject *t = PyType_FromSpec(&Vec_spec);
    if (t == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Vec", t) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    Py_DECREF(t);
    return m;
}
"""

OPS_TEST = r"""
import pytest
import ops

def test_vec():
    v, w = ops.Vec(1.5), ops.Vec(x=2.0)
    assert repr(v) == "1.5" and v.x == 1.5 and ops.Vec.x.__doc__ == "x"
    assert v + w == 3.5 and -v == -1.5
    with pytest.raises(TypeError):
        ops.Vec()
    with pytest.raises(TypeError):
        ops.Vec("a")
"""

SLOTS_CONVERTED = ["Vec_init", "Vec_repr", "Vec_add", "Vec_neg", "Vec_x"]


@pytest.mark.parametrize("pure", [False, True], ids=["legacy-shape", "object-shape"])
def test_slots_and_getters_of_converted_types(tmp_path, pure):
    source = OPS if not pure else OPS.replace("    free(((VecObject *)self)->buf);\n", "")
    (tmp_path / "ops.c").write_text(source)
    (tmp_path / "test_ops.py").write_text(OPS_TEST)
    _build_c_api(tmp_path, "ops", source, tmp_path / "test_ops.py")
    s = rewrite_json(tmp_path / "ops.c", tmp_path / "out")
    assert set(SLOTS_CONVERTED) <= set(s["hpy_functions"]), s
    text = (tmp_path / "out" / "ops.c").read_text()
    for piece in ["HPyDef_SLOT(Vec_repr, HPy_tp_repr)", "static HPy Vec_repr_impl(HPyContext *ctx, HPy self)",
                  "HPyDef_SLOT(Vec_add, HPy_nb_add)", "static HPy Vec_add_impl(HPyContext *ctx, HPy a, HPy b)",
                  "return HPyFloat_FromDouble(ctx, (VecObject_AsStruct(ctx, a))->x + (VecObject_AsStruct(ctx, b))->x);",
                  "HPyDef_SLOT(Vec_neg, HPy_nb_negative)", "HPyDef_SLOT(Vec_init, HPy_tp_init)",
                  'HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kwds, "d", kwlist, &v->x)',
                  'HPyDef_GET(Vec_x, "x", .doc = "x")', "&Vec_repr,", "&Vec_x,"]:
        assert piece in text, piece
    if pure:
        assert s["legacy_functions"] == {} and s["pure_hpy"], s
        assert "HPyType_HELPERS(VecObject)" in text and "legacy_slots" not in text
        assert 'HPy_SetAttr_s(ctx, m, "Vec", t) < 0' in text and "HPy_Close(ctx, t);" in text
        abis = ["hybrid", "hybrid (debug)", "universal", "universal (debug)"]
    else:
        # free() has no rule in a dealloc: it stays a legacy slot, and so the Legacy shape.
        assert set(s["legacy_functions"]) == {"Vec_dealloc"} and not s["pure_hpy"]
        assert "keeps the Legacy shape" in s["legacy_functions"]["Vec_dealloc"]
        assert "HPyType_LEGACY_HELPERS(VecObject)" in text and ".legacy_slots = Vec_slots," in text
        assert "{Py_tp_dealloc, Vec_dealloc}," in text and "{Py_tp_repr, Vec_repr}" not in text
        abis = ["hybrid", "hybrid (debug)"]
    result = run_port("check", tmp_path / "out" / "ops.c", "--module", "ops", "--debug", "--json", "--",
                      "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", tmp_path / "test_ops.py",
                      check=False)
    report = json.loads(result.stdout)
    assert [r["abi"] for r in report["runs"]] == abis
    for run in report["runs"]:
        assert run["tests"] == "passed", run
        if run["abi"].endswith("(debug)"):
            assert run["leaks"] == 0
    assert report["ok"]


# METH_FASTCALL | METH_KEYWORDS: vectorcall's shape, which HPy's HPyFunc_KEYWORDS has (the keyword
# values after the positional ones, their names in a tuple or NULL).
FASTKW = r"""
#include <Python.h>

static PyObject *
counts(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    return PyLong_FromSsize_t(nargs * 10 + nkw);
}

static PyObject *
first_plus_kw(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs != 1 || kwnames == NULL || PyTuple_Size(kwnames) != 1) {
        PyErr_SetString(PyExc_TypeError, "one argument and one keyword");
        return NULL;
    }
    return PyNumber_Add(args[0], args[nargs]);
}

static PyMethodDef methods[] = {
    {"counts", (PyCFunction)(void (*)(void))counts, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"first_plus_kw", (PyCFunction)(void (*)(void))first_plus_kw, METH_FASTCALL | METH_KEYWORDS, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "fastkw", NULL, -1, methods};

PyMODINIT_FUNC
PyInit_fastkw(void)
{
    return PyModule_Create(&moduledef);
}
"""

FASTKW_TEST = r"""
import pytest
import fastkw

def test_fastkw():
    assert fastkw.counts() == 0 and fastkw.counts(1, 2) == 20 and fastkw.counts(1, a=2, b=3) == 12
    assert fastkw.first_plus_kw(1, x=2) == 3 and fastkw.first_plus_kw("a", y="b") == "ab"
    with pytest.raises(TypeError, match="one argument and one keyword"):
        fastkw.first_plus_kw(1)
"""


def test_fastcall_keywords(tmp_path):
    (tmp_path / "fastkw.c").write_text(FASTKW)
    (tmp_path / "test_fastkw.py").write_text(FASTKW_TEST)
    _build_c_api(tmp_path, "fastkw", FASTKW, tmp_path / "test_fastkw.py")
    s = rewrite_json(tmp_path / "fastkw.c", tmp_path / "out")
    assert s["hpy_functions"] == ["counts", "first_plus_kw"] and s["pure_hpy"], s
    text = (tmp_path / "out" / "fastkw.c").read_text()
    for piece in ['HPyDef_METH(counts, "counts", HPyFunc_KEYWORDS)',
                  "static HPy counts_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs_, HPy kwnames)",
                  "HPy_ssize_t nargs = (HPy_ssize_t)nargs_;",
                  "HPy_ssize_t nkw = HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames);",
                  "return HPy_Add(ctx, args[0], args[nargs]);"]:
        assert piece in text, piece
    result = run_port("check", tmp_path / "out" / "fastkw.c", "--module", "fastkw", "--debug", "--json", "--",
                      "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", tmp_path / "test_fastkw.py",
                      check=False)
    report = json.loads(result.stdout)
    assert [r["abi"] for r in report["runs"]] == ["hybrid", "hybrid (debug)", "universal", "universal (debug)"]
    for run in report["runs"]:
        assert run["tests"] == "passed", run
    assert report["ok"]
