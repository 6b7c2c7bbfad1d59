# python/hpy/port/rewrite.py: `python -m hpy.port rewrite`, mechanical C API -> HPy rewrites of one source.
"""Rewrites a C-API extension's source into a module that builds in the hybrid ABI.

Edits are text replacements on exact source ranges, found with libclang's cursors and tokens:

- ``#include <Python.h>`` becomes ``#include "hpy.h"`` (which includes Python.h in the hybrid ABI);
- the ``PyModuleDef`` and ``PyInit_X`` become an ``HPyModuleDef`` and ``HPy_MODINIT``; what the init
  function did after creating the module runs in an ``HPy_mod_exec`` slot, on the module as a
  borrowed ``PyObject *`` (multi-phase init: each ``Py_mod_exec`` function runs, unchanged, from an
  HPy exec slot of its own);
- a ``PyType_Spec`` created once by ``PyType_FromSpec`` in the init function becomes an
  ``HPyType_Spec``: of the Object shape when every slot, method and getter converts (its
  ``PyObject *`` members become HPyFields, a dealloc that only released them goes, see
  ``_Rewriter.pure_plan``), else of the Legacy shape, its ``PyType_Slot`` array kept as legacy slots
  less the entries that convert;
- a module function (or a method, tp_init, object slot or getter of such a type) becomes an
  ``HPyDef_METH`` (``HPyDef_SLOT``, ``HPyDef_GET``) only when every construct in its body has a rule
  that preserves its behaviour (see ``_FunctionPort``); otherwise it stays C API (``legacy_methods``,
  the type's legacy slots), and a comment above it says why;
- the init function's body becomes a pure HPy exec slot when its constructs have rules too.

Nothing is changed that the rules do not cover: a function with one unknown construct is left as it
is, whole.
"""
import ctypes
from dataclasses import dataclass, field
from pathlib import Path

from . import frontend, mapping

cindex = frontend.cindex
K = cindex.CursorKind
T = cindex.TokenKind


class RewriteError(Exception):
    """Input the rewrite cannot work on (the message names the file and the cause)."""


# C-API functions (or function-like macros) that become one HPy call with the context first.
# name: (HPy name, argument kinds, result kind). Argument kinds: o = an object (a handle),
# v = a plain C value, x = an exception (PyExc_X -> ctx->h_X). Result: new = a new reference
# (a new handle), value = a plain C value.
CALLS = {
    "PyLong_FromLong": ("HPyLong_FromLong", "v", "new"),
    "PyLong_FromUnsignedLong": ("HPyLong_FromUnsignedLong", "v", "new"),
    "PyLong_FromLongLong": ("HPyLong_FromLongLong", "v", "new"),
    "PyLong_FromUnsignedLongLong": ("HPyLong_FromUnsignedLongLong", "v", "new"),
    "PyLong_FromSsize_t": ("HPyLong_FromSsize_t", "v", "new"),
    "PyLong_FromSize_t": ("HPyLong_FromSize_t", "v", "new"),
    "PyLong_AsLong": ("HPyLong_AsLong", "o", "value"),
    "PyLong_AsUnsignedLong": ("HPyLong_AsUnsignedLong", "o", "value"),
    "PyLong_AsLongLong": ("HPyLong_AsLongLong", "o", "value"),
    "PyLong_AsUnsignedLongLong": ("HPyLong_AsUnsignedLongLong", "o", "value"),
    "PyLong_AsSsize_t": ("HPyLong_AsSsize_t", "o", "value"),
    "PyLong_AsSize_t": ("HPyLong_AsSize_t", "o", "value"),
    "PyLong_AsDouble": ("HPyLong_AsDouble", "o", "value"),
    "PyFloat_FromDouble": ("HPyFloat_FromDouble", "v", "new"),
    "PyFloat_AsDouble": ("HPyFloat_AsDouble", "o", "value"),
    "PyBool_FromLong": ("HPyBool_FromLong", "v", "new"),
    "PyUnicode_FromString": ("HPyUnicode_FromString", "v", "new"),
    "PyUnicode_Check": ("HPyUnicode_Check", "o", "value"),
    "PyBytes_Check": ("HPyBytes_Check", "o", "value"),
    "PyTuple_Check": ("HPyTuple_Check", "o", "value"),
    "PyList_Check": ("HPyList_Check", "o", "value"),
    "PyDict_Check": ("HPyDict_Check", "o", "value"),
    "PyCallable_Check": ("HPyCallable_Check", "o", "value"),
    "PyNumber_Check": ("HPyNumber_Check", "o", "value"),
    "PyBytes_FromString": ("HPyBytes_FromString", "v", "new"),
    "PyBytes_FromStringAndSize": ("HPyBytes_FromStringAndSize", "vv", "new"),
    "PyObject_GetAttrString": ("HPy_GetAttr_s", "ov", "new"),
    "PyObject_GetAttr": ("HPy_GetAttr", "oo", "new"),
    "PyObject_GetItem": ("HPy_GetItem", "oo", "new"),
    "PyObject_Repr": ("HPy_Repr", "o", "new"),
    "PyObject_Str": ("HPy_Str", "o", "new"),
    "PyObject_IsTrue": ("HPy_IsTrue", "o", "value"),
    "PyObject_Length": ("HPy_Length", "o", "value"),
    "PyTuple_Size": ("HPy_Length", "o", "value"),
    "PyTuple_GET_SIZE": ("HPy_Length", "o", "value"),
    "PyObject_Size": ("HPy_Length", "o", "value"),
    "PyObject_Hash": ("HPy_Hash", "o", "value"),
    "PyObject_RichCompareBool": ("HPy_RichCompareBool", "oov", "value"),
    "PyNumber_Add": ("HPy_Add", "oo", "new"),
    "PyNumber_Subtract": ("HPy_Subtract", "oo", "new"),
    "PyNumber_Multiply": ("HPy_Multiply", "oo", "new"),
    "PyNumber_Index": ("HPy_Index", "o", "new"),
    "PyNumber_Long": ("HPy_Long", "o", "new"),
    "PyNumber_Float": ("HPy_Float", "o", "new"),
    "PyErr_SetString": ("HPyErr_SetString", "xv", "value"),
    "PyErr_SetObject": ("HPyErr_SetObject", "xo", "value"),
    "PyErr_Clear": ("HPyErr_Clear", "", "value"),
    # HPyType_FromSpec(ctx, &spec, NULL), of a spec the rewrite made an HPyType_Spec.
    "PyType_FromSpec": ("HPyType_FromSpec", "v", "new"),
    # PyModule_AddObject steals the value's reference on success only: so does the helper's handle.
    "PyModule_AddObject": ("hpy_port_module_add_object", "ovo", "value"),
    "PyModule_AddObjectRef": ("HPy_SetAttr_s", "ovo", "value"),
}

# The rewrite's own helpers, added to the file when an edit calls them.
HELPERS = {
    "hpy_port_module_add_object": (
        "/* PyModule_AddObject's contract for a handle: closed on success, left open on failure (-1). */\n"
        "static int hpy_port_module_add_object(HPyContext *ctx, HPy module, const char *name, HPy value)\n"
        "{\n    if (HPy_SetAttr_s(ctx, module, name, value) < 0)\n        return -1;\n"
        "    HPy_Close(ctx, value);\n    return 0;\n}\n\n"),
}

# The exceptions and constants the HPy 0.9 context holds (ctx->h_NAME).
CONTEXT_EXCEPTIONS = set(mapping.EXCEPTIONS)
CONSTANTS = {"Py_None": "ctx->h_None", "Py_True": "ctx->h_True", "Py_False": "ctx->h_False",
             "Py_NotImplemented": "ctx->h_NotImplemented", "Py_Ellipsis": "ctx->h_Ellipsis"}
RETURN_MACROS = {"Py_RETURN_NONE": "None", "Py_RETURN_TRUE": "True", "Py_RETURN_FALSE": "False",
                 "Py_RETURN_NOTIMPLEMENTED": "NotImplemented"}
# Plain C types with an HPy spelling (the universal ABI has no Python.h).
PLAIN_TYPES = {"Py_ssize_t": "HPy_ssize_t", "Py_hash_t": "HPy_hash_t", "Py_UCS4": "HPy_UCS4"}
# Functions that Python.h renames with a macro (PY_SSIZE_T_CLEAN), by the name the code spells.
RENAMED_CALLS = {"_PyArg_ParseTuple_SizeT": "PyArg_ParseTuple", "PyArg_ParseTuple": "PyArg_ParseTuple",
                 "_PyArg_ParseTupleAndKeywords_SizeT": "PyArg_ParseTupleAndKeywords",
                 "PyArg_ParseTupleAndKeywords": "PyArg_ParseTupleAndKeywords"}
# PyArg_ParseTuple format units that HPyArg_Parse converts the same way.
PARSE_UNITS = set("bhilLBHIkKfdnsOp|")

# Type flags HPy has (PyType_Spec.flags -> HPyType_Spec.flags).
TYPE_FLAGS = {"Py_TPFLAGS_DEFAULT": "HPy_TPFLAGS_DEFAULT", "Py_TPFLAGS_BASETYPE": "HPy_TPFLAGS_BASETYPE",
              "Py_TPFLAGS_HAVE_GC": "HPy_TPFLAGS_HAVE_GC"}

# METH_ flags -> the HPy signature, for the module functions the rewrite converts.
SIGNATURES = {("METH_NOARGS",): "HPyFunc_NOARGS", ("METH_O",): "HPyFunc_O",
              ("METH_VARARGS",): "HPyFunc_VARARGS", ("METH_FASTCALL",): "HPyFunc_VARARGS",
              ("METH_KEYWORDS", "METH_VARARGS"): "HPyFunc_KEYWORDS",
              ("METH_FASTCALL", "METH_KEYWORDS"): "HPyFunc_KEYWORDS"}

# PyType_Slot ids whose functions take one or two objects and return a new reference, as HPy's
# HPyFunc_UNARYFUNC / REPRFUNC and HPyFunc_BINARYFUNC slots do: Py_X -> (HPy_X, number of objects).
OBJECT_SLOTS = {f"Py_{name}": (f"HPy_{name}", 1) for name in (
    "tp_repr", "tp_str", "nb_absolute", "nb_float", "nb_index", "nb_int", "nb_invert", "nb_negative",
    "nb_positive")}
OBJECT_SLOTS.update({f"Py_{name}": (f"HPy_{name}", 2) for name in (
    "mp_subscript", "nb_add", "nb_and", "nb_divmod", "nb_floor_divide", "nb_lshift", "nb_multiply", "nb_or",
    "nb_remainder", "nb_rshift", "nb_subtract", "nb_true_divide", "nb_xor", "nb_matrix_multiply",
    "nb_inplace_add", "nb_inplace_and", "nb_inplace_floor_divide", "nb_inplace_lshift",
    "nb_inplace_multiply", "nb_inplace_or", "nb_inplace_remainder", "nb_inplace_rshift",
    "nb_inplace_subtract", "nb_inplace_true_divide", "nb_inplace_xor", "nb_inplace_matrix_multiply",
    "sq_concat", "sq_inplace_concat")})

MODULEDEF_FIELDS = ("m_base", "m_name", "m_doc", "m_size", "m_methods", "m_slots", "m_traverse",
                    "m_clear", "m_free")

_get_file_location = frontend._get_file_location


def _offset(location):
    """The file offset where the token at location is written (a macro argument's own place)."""
    f, line, col, off = cindex.c_object_p(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    _get_file_location(location, ctypes.byref(f), ctypes.byref(line), ctypes.byref(col),
                       ctypes.byref(off))
    return (cindex.File(f).name if f else None), off.value


@dataclass
class Tok:
    text: str
    kind: object
    start: int
    end: int
    line: int


@dataclass
class Edit:
    start: int
    end: int
    text: str


@dataclass
class FunctionOutcome:
    name: str
    line: int
    status: str           # "hpy" (now an HPyDef), "legacy" (still C API), "module-init", "plain C"
    reason: str = ""      # why it stays legacy
    c_api_uses: int = 0
    form: str = "HPyDef_METH"   # what an "hpy" function became


class _Retry(Exception):
    """The rewrite runs again with the type SPEC kept in the Legacy shape."""
    def __init__(self, spec, reason):
        super().__init__(reason)
        self.spec, self.reason = spec, reason


class Blocked(Exception):
    def __init__(self, reason, line=None):
        super().__init__(f"line {line}: {reason}" if line else reason)


def _split_top(tokens, sep=","):
    """Token lists between top-level separators (not inside (), [], {})."""
    parts, depth, cur = [], 0, []
    for t in tokens:
        if t.text in "([{" and t.kind == T.PUNCTUATION:
            depth += 1
        elif t.text in ")]}" and t.kind == T.PUNCTUATION:
            depth -= 1
        if depth == 0 and t.text == sep and t.kind == T.PUNCTUATION:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        parts.append(cur)
    return parts


def _text(tokens):
    return " ".join(t.text for t in tokens)


def _compact(tokens):
    return "".join(t.text for t in tokens)


class Source:
    def __init__(self, path, flags):
        self.path = str(Path(path).resolve())
        try:
            self.data = Path(self.path).read_bytes()
        except OSError as e:
            raise RewriteError(f"{path}: cannot read: {e.strerror}") from None
        args = frontend.default_flags(self.path) + list(flags or [])
        try:
            self.tu = cindex.Index.create().parse(
                self.path, args=args, options=cindex.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
        except cindex.TranslationUnitLoadError as e:
            raise RewriteError(f"{path}: libclang could not parse it ({e})") from None
        errors = [f"{d.location.file}:{d.location.line}: {d.spelling}" for d in self.tu.diagnostics
                  if d.severity >= cindex.Diagnostic.Error]
        if errors:
            raise RewriteError(f"{path}: does not compile, so it cannot be rewritten safely:\n  "
                               + "\n  ".join(errors[:5]))
        self.tokens = [Tok(t.spelling, t.kind, t.extent.start.offset, t.extent.end.offset,
                           t.location.line)
                       for t in self.tu.get_tokens(extent=self.tu.cursor.extent)
                       if t.location.file and t.location.file.name == self.path
                       and t.kind != T.COMMENT]
        self.comments = [Tok(t.spelling, t.kind, t.extent.start.offset, t.extent.end.offset, t.location.line)
                         for t in self.tu.get_tokens(extent=self.tu.cursor.extent)
                         if t.location.file and t.location.file.name == self.path and t.kind == T.COMMENT]
        self.starts = {t.start: i for i, t in enumerate(self.tokens)}
        self.top = [c for c in self.tu.cursor.get_children()
                    if c.location.file and c.location.file.name == self.path]
        self.macros = [c for c in self.top if c.kind == K.MACRO_INSTANTIATION]

    def toks(self, start, end):
        """The main file's tokens in [start, end)."""
        import bisect
        i = bisect.bisect_left([t.start for t in self.tokens], start)
        out = []
        while i < len(self.tokens) and self.tokens[i].start < end:
            out.append(self.tokens[i])
            i += 1
        return out

    def index(self, tok):
        return self.starts[tok.start]

    def text(self, start, end):
        return self.data[start:end].decode("utf-8", "replace")

    def line_of(self, offset):
        return self.data.count(b"\n", 0, offset) + 1

    def declared_outside(self, cursor):
        loc = cursor.location
        return loc.file is None or not Path(loc.file.name).resolve().is_relative_to(Path(self.path).parent)

    def ref_counts(self):
        """(name, "function" | "variable") -> how many references the main file's code makes."""
        if not hasattr(self, "_ref_counts"):
            counts = {}
            for top in self.top:
                for c in _walk(top):
                    if c.kind != K.DECL_REF_EXPR or c.referenced is None:
                        continue
                    kind = {K.FUNCTION_DECL: "function", K.VAR_DECL: "variable"}.get(c.referenced.kind)
                    if kind and _offset(c.location)[0] == self.path:
                        counts[(c.spelling, kind)] = counts.get((c.spelling, kind), 0) + 1
            self._ref_counts = counts
        return self._ref_counts


def _is_pyobject_ptr(type_):
    return type_.spelling.replace(" ", "") in ("PyObject*",)


def _fresh(src, name):
    """NAME, or NAME with a suffix, so that no identifier of the file is spelled so."""
    used = {t.text for t in src.tokens}
    while name in used:
        name += "_"
    return name


def _walk(cursor):
    for c in cursor.get_children():
        yield c
        yield from _walk(c)


class _FunctionPort:
    """One module function to an HPyDef_METH, or Blocked with the first construct that has no rule.

    The rules: parameters and locals of type ``PyObject *`` become ``HPy`` (parameters and objects
    from PyArg_ParseTuple's ``O`` are borrowed handles, results of calls that return a new
    reference are owned handles); each use of such a variable must be an object argument of a
    converted call, a test against NULL, ``return`` of an owned handle, ``Py_DECREF`` of an owned
    handle, or ``Py_INCREF(x); return x;`` (``return HPy_Dup(ctx, x);``). Calls in ``CALLS`` get the
    context; ``return NULL`` returns ``HPy_NULL``. Every C-API name left in the function must be
    inside one of these edits."""

    def __init__(self, src, fn, pyname, flags, doc, cast_types=(), own_names=(), kind="meth", fields=None,
                 specs=(), closure=None):
        self.src, self.fn, self.pyname, self.flags, self.doc = src, fn, pyname, flags, doc
        self.cast_types, self.own_names = set(cast_types), set(own_names)
        # kind: "meth" (an HPyDef_METH), "get" (HPyDef_GET), "init" (HPyDef_SLOT HPy_tp_init), "exec"
        # (the module init's body as an HPy_mod_exec slot). fields: the offsets of the declarations of
        # struct members that become HPyFields. specs: the PyType_Specs that are HPyType_Specs now.
        self.kind, self.fields, self.specs, self.closure = kind, set(fields or ()), set(specs), closure
        self.module_var = None
        self.helpers = set()       # the rewrite's own helper functions the edits call
        self.edits = []
        self.allowed = set()       # offsets of handle-variable tokens whose use has a rule
        self.handles = {}          # variable name -> "borrowed" | "owned" | None (not known yet)
        self.covered = []          # ranges some edit accounts for
        self.inits = []            # (first token, variable, line) of initial values other than NULL

    def edit(self, start, end, text):
        self.edits.append(Edit(start, end, text))
        self.covered.append((start, end))

    def is_covered(self, off):
        return any(a <= off < b for a, b in self.covered)

    def run(self):
        if self.kind != "meth":
            return self.run_other()
        src, fn = self.src, self.fn
        sig = SIGNATURES.get(tuple(sorted(self.flags)))
        if sig is None:
            raise Blocked(f"flags {' | '.join(self.flags)} have no rule yet (METH_NOARGS, METH_O, "
                          f"METH_VARARGS, METH_VARARGS | METH_KEYWORDS, METH_FASTCALL, "
                          f"METH_FASTCALL | METH_KEYWORDS have)")
        body = next((c for c in fn.get_children() if c.kind == K.COMPOUND_STMT), None)
        params = [c for c in fn.get_children() if c.kind == K.PARM_DECL]
        types = [p.type.spelling.replace(" ", "") for p in params]
        if not _is_pyobject_ptr(fn.result_type):
            raise Blocked(f"returns {fn.result_type.spelling}, not PyObject *")
        self.fastcall = "METH_FASTCALL" in self.flags
        expected = {"HPyFunc_NOARGS": (["PyObject*"], ["PyObject*", "PyObject*"]),
                    "HPyFunc_O": (["PyObject*", "PyObject*"],),
                    "HPyFunc_VARARGS": ((["PyObject*", "PyObject*const*", "Py_ssize_t"],) if self.fastcall
                                        else (["PyObject*", "PyObject*"],)),
                    # METH_FASTCALL | METH_KEYWORDS: vectorcall's shape, as HPy's KEYWORDS (kwnames).
                    "HPyFunc_KEYWORDS": ((["PyObject*", "PyObject*const*", "Py_ssize_t", "PyObject*"],)
                                         if self.fastcall else (["PyObject*", "PyObject*", "PyObject*"],))}[sig]
        if types not in [list(e) for e in expected]:
            raise Blocked(f"its parameters ({', '.join(p.type.spelling for p in params)}) do not match "
                          f"{' | '.join(self.flags)}")
        self.args_name = self.kw_name = self.nargs_name = None
        self.handles[params[0].spelling] = "borrowed"
        if sig == "HPyFunc_O":
            self.handles[params[1].spelling] = "borrowed"
        elif sig in ("HPyFunc_VARARGS", "HPyFunc_KEYWORDS"):
            self.args_name = params[1].spelling
        if sig == "HPyFunc_KEYWORDS" and self.fastcall:
            self.handles[params[3].spelling] = "borrowed"    # kwnames: a tuple or NULL, as in HPy
        elif sig == "HPyFunc_KEYWORDS":
            self.kw_name = params[2].spelling
        if self.fastcall:
            self.nargs_name = params[2].spelling
        self.body = body
        self.body_toks = src.toks(body.extent.start.offset, body.extent.end.offset)
        self.refs = self.var_refs()
        if sig == "HPyFunc_NOARGS" and len(params) == 2 and any(n == params[1].spelling for n, _ in self.refs):
            raise Blocked(f"METH_NOARGS function uses its second parameter {params[1].spelling}")
        self.body_rules()
        # The signature: everything before the body.
        names = [p.spelling for p in params]
        if sig == "HPyFunc_NOARGS":
            impl = f"HPyContext *ctx, HPy {names[0]}"
        elif sig == "HPyFunc_O":
            impl = f"HPyContext *ctx, HPy {names[0]}, HPy {names[1]}"
        elif sig == "HPyFunc_KEYWORDS" and not self.fastcall:
            impl = f"HPyContext *ctx, HPy {names[0]}, const HPy *{names[1]}, size_t nargs, HPy {names[2]}"
        elif self.fastcall:
            # HPy passes the count as size_t; the body keeps its signed Py_ssize_t of the same name.
            impl = f"HPyContext *ctx, HPy {names[0]}, const HPy *{names[1]}, size_t {names[2]}_"
            if sig == "HPyFunc_KEYWORDS":
                impl += f", HPy {names[3]}"
            self.edits.append(Edit(body.extent.start.offset + 1, body.extent.start.offset + 1,
                                   f"\n    HPy_ssize_t {names[2]} = (HPy_ssize_t){names[2]}_;"))
        else:
            impl = f"HPyContext *ctx, HPy {names[0]}, const HPy *{names[1]}, size_t nargs"
        doc = f", .doc = {self.doc}" if self.doc not in (None, "NULL", "0") else ""
        head = (f"HPyDef_METH({fn.spelling}, {self.pyname}, {sig}{doc})\n"
                f"static HPy {fn.spelling}_impl({impl})\n")
        self.edits.append(Edit(fn.extent.start.offset, body.extent.start.offset, head))
        return self.edits

    def body_rules(self):
        self.field_rules()
        self.locals()
        self.macros()
        self.calls()
        if self.kind in ("meth", "get", "slot", "exec"):
            self.returns()
        self.null_tests()
        self.casts()
        self.check_refs()
        self.check_names()

    def run_other(self):
        """A getter, an HPy_tp_init slot or the module's exec slot: the same rules in the body."""
        src, fn = self.src, self.fn
        body = next((c for c in fn.get_children() if c.kind == K.COMPOUND_STMT), None)
        params = [c for c in fn.get_children() if c.kind == K.PARM_DECL]
        types = [p.type.spelling.replace(" ", "") for p in params]
        names = [p.spelling for p in params]
        self.fastcall = False
        self.args_name = self.kw_name = self.nargs_name = None
        if self.kind == "get":
            if not _is_pyobject_ptr(fn.result_type) or types != ["PyObject*", "void*"]:
                raise Blocked(f"a getter {fn.result_type.spelling} ({', '.join(types)}), not "
                              f"PyObject *(PyObject *, void *)")
            self.handles[names[0]] = "borrowed"
        elif self.kind == "slot":
            hpy_slot, n = OBJECT_SLOTS[self.pyname]
            if not _is_pyobject_ptr(fn.result_type) or types != ["PyObject*"] * n:
                raise Blocked(f"a {self.pyname} function {fn.result_type.spelling} ({', '.join(types)}), not "
                              f"PyObject *({', '.join(['PyObject *'] * n)})")
            for name in names:
                self.handles[name] = "borrowed"
        elif self.kind == "init":
            if fn.result_type.spelling != "int" or types != ["PyObject*"] * 3:
                raise Blocked(f"a tp_init {fn.result_type.spelling} ({', '.join(types)}), not "
                              f"int (PyObject *, PyObject *, PyObject *)")
            self.handles[names[0]] = "borrowed"
            self.args_name, self.kw_name = names[1], names[2]
        self.body = body
        self.body_toks = src.toks(body.extent.start.offset, body.extent.end.offset)
        self.refs = self.var_refs()
        self.body_rules()
        if self.kind == "get":
            doc = self.doc if self.doc not in (None, "NULL", "0") else "NULL"
            closure = f", .closure = {self.closure}" if self.closure not in (None, "NULL", "0") else ""
            sym = self.pyname_sym
            head = (f"HPyDef_GET({sym}, {self.pyname}, .doc = {doc}{closure})\n"
                    f"static HPy {sym}_get(HPyContext *ctx, HPy {names[0]}, void *{names[1]})\n")
        elif self.kind == "slot":
            params_text = ", ".join(f"HPy {n}" for n in names)
            head = (f"HPyDef_SLOT({fn.spelling}, {OBJECT_SLOTS[self.pyname][0]})\n"
                    f"static HPy {fn.spelling}_impl(HPyContext *ctx, {params_text})\n")
        elif self.kind == "init":
            head = (f"HPyDef_SLOT({fn.spelling}, HPy_tp_init)\n"
                    f"static int {fn.spelling}_impl(HPyContext *ctx, HPy {names[0]}, const HPy *{names[1]}, "
                    f"HPy_ssize_t nargs, HPy {names[2]})\n")
        else:
            head = (f"HPyDef_SLOT({self.pyname}, HPy_mod_exec)\n"
                    f"static int {self.pyname}_impl(HPyContext *ctx, HPy h_module)\n")
        self.edits.append(Edit(fn.extent.start.offset, body.extent.start.offset, head))
        return self.edits

    def field_rules(self):
        """Uses of struct members that become HPyFields, through a pointer p = (T *)h to the object's
        struct (h a handle of the function): `Py_INCREF(p->f); return p->f;` reads the field
        (HPyField_Load, a new handle for the caller); a value built in p->f from borrowed references
        (`p->f = NULL`, a constant, a borrowed handle, PyArg's 'O', NULL tests) and then given its
        reference by `Py_INCREF(p->f)` lives in a local handle until that Py_INCREF, which stores it
        (HPyField_Store). Any other use stops the rewrite of the function."""
        self.field_out = {}        # offset of p in `&p->f` (a PyArg 'O' output) -> the local handle
        self.field_reads = {}      # offset of p in a read `p->f` (an object argument) -> the loaded handle
        if not self.fields:
            return
        src = self.src
        owners = self.struct_pointers()
        accesses = {}
        for c in _walk(self.body):
            if c.kind == K.MEMBER_REF_EXPR and c.referenced is not None and \
                    _offset(c.referenced.location) in self.fields:
                # Where the tokens are written (a macro argument's own place, as in Py_INCREF(p->f)).
                start, end = _offset(c.extent.start)[1], _offset(c.extent.end)[1]
                accesses[start] = (c, start, end)
        shadows = {}               # (p, f) -> the local handle's name
        stored = set()
        for _, (c, start, end) in sorted(accesses.items()):
            if self.is_covered(start):
                continue
            line = c.location.line
            mt = src.toks(start, end)
            if len(mt) != 3 or mt[1].text != "->" or mt[0].text not in owners:
                raise Blocked(f"the member {_text(mt)} (an HPyField now) is not read through a pointer "
                              f"p = (T *)h to the object's struct", line)
            p, f, owner = mt[0].text, mt[2].text, owners[mt[0].text]
            i = src.index(mt[0])
            before = src.tokens[i - 2:i]
            after = src.tokens[i + 3:i + 5]
            key = (p, f)
            if key in stored:
                raise Blocked(f"{p}->{f} is used after Py_INCREF({p}->{f}) stored it", line)
            if [t.text for t in before] == ["Py_INCREF", "("] and after and after[0].text == ")":
                rest = src.tokens[i + 4:i + 10]
                if [t.text for t in rest[:5]] == [";", "return", p, "->", f] and rest[5].text == ";" \
                        and key not in shadows:
                    # Py_INCREF(p->f); return p->f;  ->  return HPyField_Load(ctx, h, p->f);
                    self.edit(before[0].start, rest[1].end, f"return HPyField_Load(ctx, {owner},")
                    self.edit(rest[5].start, rest[5].end, ");")
                    self.covered.append((rest[2].start, rest[4].end))
                    continue
                if key not in shadows:
                    raise Blocked(f"Py_INCREF({p}->{f}) of a value this function did not build", line)
                self.edit(before[0].start, before[1].end, f"HPyField_Store(ctx, {owner}, &")
                self.edit(after[0].start, after[0].end, f", {shadows[key]})")
                self.covered.append((mt[0].start, mt[-1].end))
                stored.add(key)
                continue
            if after and after[0].text == "=":
                value = src.tokens[i + 4:i + 6]
                if len(value) < 2 or value[1].text != ";":
                    raise Blocked(f"{p}->{f} = {value[0].text if value else ''}... (only NULL, a constant "
                                  f"or a borrowed handle)", line)
                v = value[0].text
                if v == "NULL":
                    text = "HPy_NULL"
                elif v in CONSTANTS:
                    text = CONSTANTS[v]
                elif v in self.handles and self.handles[v] == "borrowed":
                    text = v
                    self.allowed.add(value[0].start)
                else:
                    raise Blocked(f"{p}->{f} = {v} (only NULL, a constant or a borrowed handle)", line)
                if key not in shadows:
                    parent = self.parent_of(c)
                    if parent is None or parent.kind != K.BINARY_OPERATOR or \
                            self.parent_of(parent) is None or self.parent_of(parent).kind != K.COMPOUND_STMT \
                            or self.parent_of(parent).extent.start.offset != self.body.extent.start.offset:
                        raise Blocked(f"{p}->{f} is first set inside a statement, not in the function's body",
                                      line)
                    name = self.fresh(f"{p}_{f}")
                    shadows[key] = name
                    self.edit(mt[0].start, value[1].end,
                              f"HPy {name} = {text}; /* {p}->{f} until Py_INCREF({p}->{f}) stores it */")
                else:
                    self.edit(mt[0].start, value[0].end, f"{shadows[key]} = {text}")
                continue
            if key not in shadows:
                self.field_read(c, mt, p, f, owner, before, after, line)
                continue
            if before and before[-1].text == "&":
                self.field_out[mt[0].start] = shadows[key]
                self.covered.append((mt[0].start, mt[-1].end))
                continue
            if self.member_null_test(mt, before, after, f"HPy_IsNull({shadows[key]})"):
                continue
            raise Blocked(f"{p}->{f} (an HPyField now) is used in a way the rewrite has no rule for", line)
        for key, name in shadows.items():
            if key not in stored:
                raise Blocked(f"{key[0]}->{key[1]} is set but never given its reference (Py_INCREF)")

    def member_null_test(self, mt, before, after, test):
        """`p->f == NULL`, `p->f != NULL`, `!p->f` (the member's tokens mt) -> test, !test."""
        if after and len(after) == 2 and after[0].text in ("==", "!=") and after[1].text == "NULL":
            self.edit(mt[0].start, after[1].end, ("" if after[0].text == "==" else "!") + test)
            return True
        if before and before[-1].text == "!" and after and after[0].text in (")", "&&", "||", ";"):
            self.edit(before[-1].start, mt[-1].end, test)
            return True
        return False

    def field_read(self, c, mt, p, f, owner, before, after, line):
        """A read of the HPyField p->f that this function did not set: a test against NULL
        (HPyField_IsNull), or an object argument of a converted call, which gets the field loaded
        into a local handle before the statement and closed after it (a `return CALL(...)` of a new
        reference returns the call's result after the close)."""
        if self.member_null_test(mt, before, after, f"HPyField_IsNull({p}->{f})"):
            return
        # The call the member is an argument of, and the statement (of a block) around it.
        call, node = None, c
        for _ in range(64):
            parent = self.parent_of(node)
            if parent is None:
                break
            if call is None and parent.kind == K.CALL_EXPR:
                call = parent
            if parent.kind == K.COMPOUND_STMT:
                break
            node = parent
        else:
            parent = None
        name = RENAMED_CALLS.get(call.referenced.spelling, call.referenced.spelling) \
            if call is not None and call.referenced is not None else None
        ctoks = self.src.toks(call.extent.start.offset, call.extent.end.offset) if name else []
        args = _split_top(ctoks[2:-1]) if len(ctoks) > 3 else []
        kinds = CALLS[name][1] if name in CALLS else ""
        pos = next((i for i, a in enumerate(args) if a and a[0].start == mt[0].start and a[-1].end == mt[-1].end),
                   None)
        if pos is None or pos >= len(kinds) or kinds[pos] != "o" or parent is None:
            raise Blocked(f"{p}->{f} (an HPyField now) is used in a way the rewrite has no rule for "
                          f"(an object argument of a converted call, a NULL test, or returned after Py_INCREF)",
                          line)
        stmt = node
        jumps = [x for x in _walk(stmt) if x.kind in (K.RETURN_STMT, K.BREAK_STMT, K.CONTINUE_STMT, K.GOTO_STMT)]
        local = self.fresh(f"{p}_{f}")
        while local in self.field_reads.values():
            local += "_"
        self.field_reads[mt[0].start] = local
        self.edit(mt[0].start, mt[-1].end, local)
        load = f"HPy {local} = HPyField_Load(ctx, {owner}, {p}->{f}); "
        end = _decl_end(self.src, stmt)
        ret = self.src.toks(stmt.extent.start.offset, end)
        if stmt.kind == K.RETURN_STMT and not jumps and self.kind in ("meth", "get", "slot") and \
                CALLS[name][2] == "new" and len(ret) > 2 and ret[1].start == call.extent.start.offset and \
                ret[-2].end == call.extent.end.offset:
            # return CALL(p->f);  ->  { HPy p_f = HPyField_Load(...); HPy p_f_r = CALL(p_f); close; return }
            self.edit(ret[0].start, ret[0].end, f"{{ {load}HPy {local}_r =")
            self.edit(ret[-1].start, ret[-1].end, f"; HPy_Close(ctx, {local}); return {local}_r; }}")
            return
        if jumps:
            raise Blocked(f"{p}->{f} is read in a statement that may leave the function before the loaded "
                          f"handle is closed", line)
        self.edits.append(Edit(stmt.extent.start.offset, stmt.extent.start.offset, load))
        self.edits.append(Edit(end, end, f" HPy_Close(ctx, {local});"))

    def parent_of(self, cursor):
        """The cursor's parent inside the body (None for the body): cursors compare as libclang's."""
        if not hasattr(self, "_parents"):
            self._parents = {self.body: None}
            def walk(c):
                for ch in c.get_children():
                    self._parents[ch] = c
                    walk(ch)
            walk(self.body)
        return self._parents.get(cursor)

    def fresh(self, name):
        return _fresh(self.src, name)

    def struct_pointers(self):
        """Locals declared `T *p = (T *)h;` (T a struct in cast_types, h a handle parameter) and never
        assigned again: p -> h."""
        out = {}
        for c in _walk(self.body):
            if c.kind != K.VAR_DECL:
                continue
            toks = self.src.toks(c.extent.start.offset, c.extent.end.offset)
            t = [x.text for x in toks]
            if len(t) == 9 and t[0] in self.cast_types and t[1] == "*" and t[3] == "=" and \
                    t[4:8] == ["(", t[0], "*", ")"] and t[8] in self.handles:
                out[t[2]] = t[8]
        for i, tok in enumerate(self.body_toks[:-1]):
            if tok.text in out and self.body_toks[i + 1].text == "=" and \
                    (i == 0 or self.body_toks[i - 1].text != "*"):
                del out[tok.text]
        return out

    def var_refs(self):
        """(name, offset) of each reference to a parameter or local of the function's body."""
        out = []
        for c in _walk(self.body):
            if c.kind == K.DECL_REF_EXPR and c.referenced is not None and \
                    c.referenced.kind in (K.PARM_DECL, K.VAR_DECL) and \
                    c.referenced.semantic_parent == self.fn:
                f, off = _offset(c.location)
                if f == self.src.path:
                    out.append((c.spelling, off))
        return sorted(set(out), key=lambda r: r[1])

    def locals(self):
        """Declarations of PyObject * locals become HPy; an initial value NULL becomes HPy_NULL."""
        for c in _walk(self.body):
            if c.kind != K.DECL_STMT:
                continue
            decls = [d for d in c.get_children() if d.kind == K.VAR_DECL]
            objs = [d for d in decls if _is_pyobject_ptr(d.type)]
            if not objs:
                continue
            if len(objs) != len(decls):
                raise Blocked("declares PyObject * and other variables in one statement", c.location.line)
            toks = self.src.toks(c.extent.start.offset, c.extent.end.offset)
            if not toks or toks[0].text != "PyObject":
                raise Blocked("a PyObject * declaration the rewrite does not read", c.location.line)
            self.edit(toks[0].start, toks[0].end, "HPy")
            for d in objs:
                if d.storage_class == cindex.StorageClass.STATIC:
                    raise Blocked(f"static local {d.spelling}", d.location.line)
                self.handles[d.spelling] = None
                name_off = d.location.offset
                i = self.src.starts[name_off]
                star = self.src.tokens[i - 1]
                if star.text != "*":
                    raise Blocked(f"declaration of {d.spelling}", d.location.line)
                self.edit(star.start, star.end, "")
                self.allowed.add(name_off)
                nxt = self.src.tokens[i + 1]
                if nxt.text == "=":
                    init = self.src.tokens[i + 2]
                    after = self.src.tokens[i + 3]
                    if init.text == "NULL" and after.text in (",", ";"):
                        self.edit(init.start, init.end, "HPy_NULL")
                    else:
                        self.inits.append((init, d.spelling, d.location.line))

    def macros(self):
        start, end = self.body.extent.start.offset, self.body.extent.end.offset
        for m in self.src.macros:
            off = m.extent.start.offset
            if not (start <= off < end):
                continue
            name = m.spelling
            definition = m.referenced
            if definition is not None and not self.src.declared_outside(definition):
                own = [t.spelling for t in list(definition.get_tokens())[1:]
                       if t.kind == T.IDENTIFIER and (mapping.is_capi_name(t.spelling) or t.spelling == "PyObject")]
                if own:
                    raise Blocked(f"the extension's macro {name} uses the C API ({', '.join(dict.fromkeys(own))})",
                                  m.location.line)
                continue
            if name == "NULL" or not mapping.is_capi_name(name) or self.is_rename(m) or self.is_covered(off):
                continue
            toks = self.src.toks(off, m.extent.end.offset)
            if self.kind == "exec" and name == "PyModule_Create":
                self.module_created(m, toks)
                continue
            if name in RETURN_MACROS:
                self.edit(off, m.extent.end.offset, f"return HPy_Dup(ctx, ctx->h_{RETURN_MACROS[name]})")
            elif name in ("Py_INCREF", "Py_XINCREF"):
                self.incref_return(m, toks)
            elif name in ("Py_DECREF", "Py_XDECREF"):
                var = self.one_var(toks[2:-1], m.location.line, name)
                if self.handles.get(var.text) == "borrowed":
                    raise Blocked(f"{name} of the borrowed handle {var.text}", m.location.line)
                self.mark_owned(var.text, m.location.line)
                self.allowed.add(var.start)
                self.edit(off, m.extent.end.offset, f"HPy_Close(ctx, {var.text})")
            elif name in CALLS:
                self.call(name, toks, m.location.line)
            elif name in CONSTANTS:
                continue   # checked where it is used (an object argument)
            else:
                raise Blocked(f"{name} has no rule in the rewrite", m.location.line)

    def module_created(self, m, toks):
        """In the exec slot: `m = PyModule_Create(&def);` -> `m = h_module;` (borrowed: the host owns it)."""
        i = self.src.index(toks[0])
        before, after = self.src.tokens[i - 2:i], self.src.tokens[self.src.index(toks[-1]) + 1]
        if len(before) < 2 or before[1].text != "=" or before[0].text not in self.handles or after.text != ";" \
                or self.module_var not in (None, before[0].text):
            raise Blocked("PyModule_Create's result is not stored in a local", m.location.line)
        self.module_var = before[0].text
        self.handles[self.module_var] = "borrowed"
        self.allowed.add(before[0].start)
        self.edit(toks[0].start, toks[-1].end, "h_module")

    def one_var(self, toks, line, what):
        if len(toks) != 1 or toks[0].text not in self.handles:
            raise Blocked(f"{what} of {_text(toks)} (not a local object variable)", line)
        return toks[0]

    def mark_owned(self, name, line):
        if self.handles.get(name) == "borrowed":
            raise Blocked(f"{name} holds both borrowed and new references", line)
        self.handles[name] = "owned"

    def incref_return(self, m, toks):
        """Py_INCREF(x); return x;  ->  return HPy_Dup(ctx, x);"""
        line = m.location.line
        inner = toks[2:-1]
        i = self.src.index(toks[-1])
        rest = self.src.tokens[i + 1:i + 5]
        if [t.text for t in rest[:2]] != [";", "return"] or _text(rest[2:3]) != _text(inner) or \
                len(rest) < 4 or rest[3].text != ";":
            raise Blocked(f"{m.spelling} not followed by returning the same object", line)
        if len(inner) == 1 and inner[0].text in CONSTANTS:
            value = CONSTANTS[inner[0].text]
        else:
            var = self.one_var(inner, line, m.spelling)
            self.allowed.update({var.start, rest[2].start})
            value = var.text
        self.edit(m.extent.start.offset, rest[3].end, f"return HPy_Dup(ctx, {value});")

    def call(self, name, toks, line, cursor=None):
        hpy, kinds, result = CALLS[name]
        if name == "PyType_FromSpec":
            spec = _compact(toks[2:-1])
            if not (spec.startswith("&") and spec[1:] in self.specs):
                raise Blocked(f"PyType_FromSpec({spec}) of a PyType_Spec that is not an HPyType_Spec now", line)
            self.edit(toks[-1].start, toks[-1].start, ", NULL")
        if hpy.startswith("hpy_port_"):
            self.helpers.add(hpy)
        if len(toks) < 3 or toks[0].text != name or toks[1].text != "(" or toks[-1].text != ")":
            raise Blocked(f"call of {name} the rewrite does not read", line)
        args = _split_top(toks[2:-1]) if len(toks) > 3 else []
        if len(args) != len(kinds):
            raise Blocked(f"{name} with {len(args)} arguments", line)
        self.edit(toks[0].start, toks[1].end, f"{hpy}(ctx" + (", " if args else ""))
        for kind, arg in zip(kinds, args):
            if kind == "o":
                self.object_arg(arg, line, name)
            elif kind == "x":
                exc = arg[0].text[len("PyExc_"):] if len(arg) == 1 and arg[0].text.startswith("PyExc_") else None
                if exc not in CONTEXT_EXCEPTIONS:
                    raise Blocked(f"{name} with exception {_text(arg)} (not in the HPy context)", line)
                self.edit(arg[0].start, arg[0].end, f"ctx->h_{exc}")
        if result == "new":
            self.new_reference(name, toks, line)

    def object_arg(self, arg, line, name):
        if len(arg) == 1 and arg[0].text in CONSTANTS:
            self.edit(arg[0].start, arg[0].end, CONSTANTS[arg[0].text])
        elif len(arg) == 1 and arg[0].text in self.handles:
            self.allowed.add(arg[0].start)
        elif arg and arg[0].start in getattr(self, "field_reads", {}):
            pass                             # an HPyField loaded into a local handle (field_read)
        elif self.fastcall and len(arg) == 4 and arg[0].text == self.args_name and arg[1].text == "[" \
                and arg[3].text == "]":
            self.allowed.add(arg[0].start)   # an argument: a borrowed handle, as in the C API
        else:
            raise Blocked(f"{name} on {_text(arg)} (not a handle)", line)

    def new_reference(self, name, toks, line):
        """A call that returns a new reference: returned at once, or stored in a local."""
        i = self.src.index(toks[0])
        before, after = self.src.tokens[i - 1], self.src.tokens[self.src.index(toks[-1]) + 1]
        if after.text != ";":
            raise Blocked(f"the new reference {name} returns is not returned or stored", line)
        if before.text == "return":
            self.returned_calls = getattr(self, "returned_calls", set()) | {before.start}
            return
        if before.text == "=":
            target = self.src.tokens[i - 2]
            if target.text in self.handles:
                self.mark_owned(target.text, line)
                self.allowed.add(target.start)
                return
        raise Blocked(f"the new reference {name} returns is not returned or stored in a local", line)

    def calls(self):
        for c in _walk(self.body):
            if c.kind != K.CALL_EXPR or c.referenced is None:
                continue
            if _offset(c.location)[0] != self.src.path or self.in_capi_macro(c.extent.start.offset):
                continue
            name = RENAMED_CALLS.get(c.referenced.spelling, c.referenced.spelling)
            if not self.src.declared_outside(c.referenced):
                if c.type.spelling.replace(" ", "") == "PyObject*":
                    raise Blocked(f"calls {name}, which returns a PyObject * (not converted)", c.location.line)
                continue
            toks = self.src.toks(c.extent.start.offset, c.extent.end.offset)
            if toks and toks[0].kind == T.IDENTIFIER and toks[0].text != name and \
                    (toks[0].text in CALLS or toks[0].text in RENAMED_CALLS):
                name = RENAMED_CALLS.get(toks[0].text, toks[0].text)   # as written: a renaming macro
            if name in ("PyArg_ParseTuple",):
                self.parse_tuple(toks, c.location.line)
            elif name == "PyArg_ParseTupleAndKeywords":
                self.parse_tuple(toks, c.location.line, keywords=True)
            elif name in CALLS:
                self.call(name, toks, c.location.line)
            elif mapping.is_capi_name(name):
                raise Blocked(f"{name} has no rule in the rewrite", c.location.line)

    def in_capi_macro(self, off):
        """Whether off is inside a C-API macro's invocation (a name alone, such as PyArg_ParseTuple
        renamed by PY_SSIZE_T_CLEAN, is not one)."""
        for m in self.src.macros:
            if m.extent.start.offset <= off < m.extent.end.offset and mapping.is_capi_name(m.spelling) \
                    and not self.is_rename(m):
                return True
        return False

    def is_rename(self, m):
        """An object-like macro that only renames a function (PyObject_Length -> PyObject_Size,
        PyArg_ParseTuple -> _PyArg_ParseTuple_SizeT): the call is read where it is written."""
        toks = self.src.toks(m.extent.start.offset, m.extent.end.offset)
        nxt = self.src.tokens[self.src.index(toks[-1]) + 1] if toks else None
        return len(toks) == 1 and (m.spelling in CALLS or m.spelling in RENAMED_CALLS) and \
            nxt is not None and nxt.text == "("

    def parse_tuple(self, toks, line, keywords=False):
        what = "PyArg_ParseTupleAndKeywords" if keywords else "PyArg_ParseTuple"
        args = _split_top(toks[2:-1])
        lead = 4 if keywords else 2      # (args, kwds, format, kwlist) or (args, format)
        if self.args_name is None or self.fastcall or len(args) < lead or _text(args[0]) != self.args_name \
                or (keywords and _text(args[1]) != self.kw_name) or (not keywords and self.kw_name):
            raise Blocked(f"{what} not on the function's own arguments", line)
        fmt = args[lead - 2 if keywords else 1]
        if not fmt or not all(t.kind == T.LITERAL and t.text.startswith('"') for t in fmt):
            raise Blocked(f"{what} with a format that is not a string literal", line)
        units = "".join(t.text[1:-1] for t in fmt)
        body = units.split(":")[0].split(";")[0]
        bad = [u for u in body if u not in PARSE_UNITS | ({"$"} if keywords else set())]
        if bad:
            raise Blocked(f"{what} format {units!r}: unit {bad[0]!r} has no HPyArg_Parse equivalent", line)
        outs = [u for u in body if u not in "|$"]
        if len(outs) != len(args) - lead:
            raise Blocked(f"{what} with a format that does not match its arguments", line)
        for unit, arg in zip(outs, args[lead:]):
            if unit == "O" and len(arg) == 4 and arg[0].text == "&" and arg[1].start in self.field_out:
                self.edit(arg[0].start, arg[-1].end, f"&{self.field_out[arg[1].start]}")
                continue
            if unit == "O":
                if len(arg) != 2 or arg[0].text != "&" or arg[1].text not in self.handles:
                    raise Blocked(f"{what} 'O' into {_text(arg)}", line)
                if self.handles[arg[1].text] == "owned":
                    raise Blocked(f"{arg[1].text} holds both borrowed and new references", line)
                self.handles[arg[1].text] = "borrowed"
                self.allowed.add(arg[1].start)
        self.allowed.add(args[0][0].start)
        if keywords and self.kind == "init":
            # tp_init gets its keywords as a dict: HPyArg_ParseKeywordsDict, whose 'O' handles belong to
            # a tracker, open from the parse until each later return.
            self.keyword_list(args[3], line)
            self.allowed.add(args[1][0].start)
            tracker = self.tracker(toks, line) if "O" in outs else None
            self.edit(toks[0].start, args[1][-1].end,
                      f"HPyArg_ParseKeywordsDict(ctx, {'&' + tracker if tracker else 'NULL'}, "
                      f"{self.args_name}, nargs, {self.kw_name}")
        elif keywords:
            self.keyword_list(args[3], line)
            self.allowed.add(args[1][0].start)
            self.edit(toks[0].start, args[1][-1].end,
                      f"HPyArg_ParseKeywords(ctx, NULL, {self.args_name}, nargs, {self.kw_name}")
        else:
            self.edit(toks[0].start, args[0][-1].end, f"HPyArg_Parse(ctx, NULL, {self.args_name}, nargs")

    def tracker(self, toks, line):
        """`if (!PyArg_ParseTupleAndKeywords(...)) return ...;` in the function's body itself: the
        tracker is declared before it (the parse closes it when it fails) and closed before each
        return after it. Its name."""
        stmt = next((c for c in self.body.get_children() if c.kind == K.IF_STMT and
                     c.extent.start.offset < toks[0].start < c.extent.end.offset), None)
        head = self.src.toks(stmt.extent.start.offset, toks[0].start) if stmt is not None else []
        kids = list(stmt.get_children()) if stmt is not None else []
        if [t.text for t in head] != ["if", "(", "!"] or len(kids) != 2 or kids[1].kind != K.RETURN_STMT:
            raise Blocked("PyArg_ParseTupleAndKeywords with 'O' in tp_init not as "
                          "`if (!PyArg_ParseTupleAndKeywords(...)) return ...;` in the body itself", line)
        name = self.fresh("ht")
        self.edits.append(Edit(stmt.extent.start.offset, stmt.extent.start.offset,
                               f"HPyTracker {name}; /* owns the handles 'O' stores */\n    "))
        for c in _walk(self.body):
            if c.kind == K.RETURN_STMT and c.extent.start.offset > stmt.extent.end.offset:
                end = _decl_end(self.src, c)
                self.edits.append(Edit(c.extent.start.offset, c.extent.start.offset,
                                       f"{{ HPyTracker_Close(ctx, {name}); "))
                self.edits.append(Edit(end, end, " }"))
        return name

    def keyword_list(self, arg, line):
        """The keyword names: a static local array of char * (HPy takes const char *[]), used only here."""
        if len(arg) != 1 or arg[0].kind != T.IDENTIFIER:
            raise Blocked(f"keyword list {_text(arg)} is not a local array", line)
        decl = next((c for c in _walk(self.body) if c.kind == K.VAR_DECL and c.spelling == arg[0].text), None)
        if decl is None or decl.storage_class != cindex.StorageClass.STATIC:
            raise Blocked(f"keyword list {arg[0].text} is not a static local array", line)
        toks = self.src.toks(decl.extent.start.offset, decl.extent.end.offset)
        words = [t.text for t in toks[:toks.index(next(t for t in toks if t.text == arg[0].text))]]
        if words == ["static", "char", "*"]:
            char = toks[1]
            self.edit(char.start, char.start, "const ")
        elif words != ["static", "const", "char", "*"]:
            raise Blocked(f"keyword list {arg[0].text} is not a static array of char *", line)
        if sum(1 for n, _ in self.refs if n == arg[0].text) != 1:
            raise Blocked(f"keyword list {arg[0].text} is used elsewhere too", line)

    def returns(self):
        for c in _walk(self.body):
            if c.kind != K.RETURN_STMT:
                continue
            start = c.extent.start.offset
            if self.is_covered(start):
                continue
            toks = self.src.toks(start, c.extent.end.offset)
            expr = toks[1:]
            if self.kind == "exec":
                # The exec slot returns -1 for the init function's NULL, 0 for its module.
                if len(expr) == 1 and expr[0].text in ("NULL", self.module_var):
                    self.edit(expr[0].start, expr[0].end, "-1" if expr[0].text == "NULL" else "0")
                    self.allowed.add(expr[0].start)
                    continue
                raise Blocked(f"return {_text(expr)} (only NULL or the module)", c.location.line)
            if toks and toks[0].text == "return" and len(expr) == 1 and expr[0].text == "NULL":
                self.edit(expr[0].start, expr[0].end, "HPy_NULL")
            elif len(expr) == 1 and expr[0].text in self.handles:
                if self.handles.get(expr[0].text) != "owned":
                    raise Blocked(f"returns {expr[0].text}, not a new reference", c.location.line)
                self.allowed.add(expr[0].start)
            elif toks and toks[0].start in getattr(self, "returned_calls", set()):
                continue
            else:
                raise Blocked(f"return {_text(expr)} (no rule)", c.location.line)

    def null_tests(self):
        """x == NULL, x != NULL, !x  ->  HPy_IsNull(x), !HPy_IsNull(x) (other tests stop the rewrite)"""
        toks = self.body_toks
        for i, t in enumerate(toks):
            if t.text not in self.handles or t.start in self.allowed:
                continue
            prev = toks[i - 1] if i else None
            nxt, nxt2 = (toks[i + 1] if i + 1 < len(toks) else None), (toks[i + 2] if i + 2 < len(toks) else None)
            if nxt and nxt2 and nxt.text in ("==", "!=") and nxt2.text == "NULL":
                self.edit(t.start, nxt2.end, ("" if nxt.text == "==" else "!") + f"HPy_IsNull({t.text})")
            elif prev and prev.text == "!" and (nxt is None or nxt.text in (")", "&&", "||", ";")):
                self.edit(prev.start, t.end, f"HPy_IsNull({t.text})")
            else:
                continue
            self.allowed.add(t.start)

    def casts(self):
        """(T *)h, T the struct of a type now built from an HPyType_Spec  ->  T_AsStruct(ctx, h)"""
        toks = self.body_toks
        for i, t in enumerate(toks):
            if t.text not in self.handles or t.start in self.allowed or i < 4:
                continue
            lp, ty, star, rp = toks[i - 4:i]
            if lp.text == "(" and ty.text in self.cast_types and star.text == "*" and rp.text == ")":
                self.edit(lp.start, t.end, f"{ty.text}_AsStruct(ctx, {t.text})")
                self.allowed.add(t.start)

    def check_refs(self):
        for tok, name, line in self.inits:
            if name == self.module_var and self.is_covered(tok.start):
                continue
            if not self.is_covered(tok.start) or self.handles.get(name) != "owned":
                raise Blocked(f"{name} starts as {tok.text}..., not NULL or a new reference", line)
        for name, off in self.refs:
            if name == self.args_name or (name == self.kw_name and name is not None):
                if off not in self.allowed:
                    raise Blocked(f"uses {name} (the argument tuple) outside PyArg_ParseTuple", self.src.line_of(off))
            elif name in self.handles and off not in self.allowed:
                raise Blocked(f"uses the object {name} in an expression the rewrite has no rule for",
                              self.src.line_of(off))
        for name, state in self.handles.items():
            if state is None:
                self.handles[name] = "owned"

    def check_names(self):
        """Every C-API name in the body is inside an edit; plain C types get their HPy names."""
        for t in self.body_toks:
            if t.kind != T.IDENTIFIER:
                continue
            if t.text in PLAIN_TYPES and not self.is_covered(t.start):
                self.edit(t.start, t.end, PLAIN_TYPES[t.text])
            elif (mapping.is_capi_name(t.text) or t.text == "PyObject") and t.text not in self.own_names \
                    and not self.is_covered(t.start):
                raise Blocked(f"{t.text} has no rule in the rewrite", t.line)


def _statements(src, body):
    """(cursor, tokens through its ';', compact text) of each statement of a compound statement."""
    for stmt in body.get_children():
        toks = src.toks(stmt.extent.start.offset, _decl_end(src, stmt))
        yield stmt, toks, _compact(toks)


def _field_access(src, stmt, fields, inner):
    """The field name when the tokens inner are exactly one access to a member in fields."""
    for c in _walk(stmt):
        if c.kind == K.MEMBER_REF_EXPR and c.referenced is not None and _offset(c.referenced.location) in fields:
            if (_offset(c.extent.start)[1], _offset(c.extent.end)[1]) == (inner[0].start, inner[-1].end):
                return c.spelling
    return None


def _struct_pointer(text, struct, obj):
    """The name p of a statement `T *p = (T *)obj;` (compact text), or None."""
    head, sep, rest = text.partition("=")
    if sep and head.startswith(f"{struct}*") and rest == f"({struct}*){obj};":
        name = head[len(struct) + 1:]
        return name if name.isidentifier() else None
    return None


def _port_traverse(src, fn, struct, fields):
    """A Py_tp_traverse function to an HPy_tp_traverse slot: it receives the object's struct as a
    void *; `Py_VISIT(X->f)` of a member that becomes an HPyField becomes `HPy_VISIT(&X->f)`;
    `Py_VISIT(Py_TYPE(self))` goes (the host visits an HPy object's type). (edits, visited fields)."""
    params = [c for c in fn.get_children() if c.kind == K.PARM_DECL]
    types = [p.type.spelling.replace(" ", "") for p in params]
    if fn.result_type.spelling != "int" or types != ["PyObject*", "visitproc", "void*"] or \
            [p.spelling for p in params][1:] != ["visit", "arg"]:
        raise Blocked(f"a tp_traverse {fn.result_type.spelling} ({', '.join(types)}), not "
                      f"int (PyObject *, visitproc visit, void *arg)")
    obj = params[0].spelling
    body = next(c for c in fn.get_children() if c.kind == K.COMPOUND_STMT)
    edits, visited = [], set()
    for stmt, toks, text in _statements(src, body):
        line = stmt.location.line
        if text == f"Py_VISIT(Py_TYPE({obj}));":
            edits.append(Edit(toks[0].start, toks[-1].end,
                              f"/* {_compact(toks)[:-1]} gone: the host visits an HPy object's type */"))
            continue
        if _struct_pointer(text, struct, obj):
            continue
        if len(toks) > 4 and toks[0].text == "Py_VISIT" and toks[1].text == "(" and toks[-2].text == ")":
            name = _field_access(src, stmt, fields, toks[2:-2])
            if name is None:
                raise Blocked(f"Py_VISIT({_compact(toks[2:-2])}) of something else than a member that "
                              f"becomes an HPyField", line)
            visited.add(name)
            edits.append(Edit(toks[0].start, toks[1].end, "HPy_VISIT(&"))
            continue
        if text in ("return0;",):
            continue
        raise Blocked(f"{src.text(toks[0].start, toks[-1].end)} in a tp_traverse (no rule)", line)
    body_toks = src.toks(body.extent.start.offset, body.extent.end.offset)
    for i, t in enumerate(body_toks):
        if t.text == obj and t.kind == T.IDENTIFIER and not (
                i >= 4 and [x.text for x in body_toks[i - 4:i]] == ["(", struct, "*", ")"]) and \
                not any(e.start <= t.start < e.end for e in edits):
            raise Blocked(f"uses {obj} other than as ({struct} *){obj} (HPy passes the struct)", t.line)
    edits.append(Edit(fn.extent.start.offset, body.extent.start.offset,
                      f"HPyDef_SLOT({fn.spelling}, HPy_tp_traverse)\n"
                      f"static int {fn.spelling}_impl(void *{obj}, HPyFunc_visitproc visit, void *arg)\n"))
    return edits, visited


def _dealloc_droppable(src, fn, struct, field_names):
    """Whether a Py_tp_dealloc only releases members that become HPyFields, frees the object and
    releases its type (what HPy's own deallocation does); raises Blocked with the first other statement."""
    params = [c for c in fn.get_children() if c.kind == K.PARM_DECL]
    if fn.result_type.spelling != "void" or [p.type.spelling.replace(" ", "") for p in params] != ["PyObject*"]:
        raise Blocked("a tp_dealloc that is not void (PyObject *)")
    obj = params[0].spelling
    body = next(c for c in fn.get_children() if c.kind == K.COMPOUND_STMT)
    pointers, types, frees = {f"(({struct}*){obj})"}, set(), 0
    for stmt, toks, text in _statements(src, body):
        p = _struct_pointer(text, struct, obj)
        if p:
            pointers.add(p)
            continue
        if text.startswith("PyTypeObject*") and text.endswith(f"=Py_TYPE({obj});"):
            types.add(text[len("PyTypeObject*"):-len(f"=Py_TYPE({obj});")])
            continue
        released = next((m for m in ("Py_CLEAR(", "Py_XDECREF(", "Py_DECREF(") if text.startswith(m)), None)
        if released and text.endswith(");"):
            inner = text[len(released):-2]
            if inner in types:
                continue
            base, arrow, name = inner.rpartition("->")
            if arrow and base in pointers and name in field_names:
                continue
        frees_ = {f"{tp}->tp_free({obj});" for tp in types | {f"Py_TYPE({obj})"}}
        frees_ |= {f"{tp}->tp_free((PyObject*){obj});" for tp in types | {f"Py_TYPE({obj})"}}
        frees_ |= {f"{f}({obj});" for f in ("PyObject_Del", "PyObject_Free", "PyObject_GC_Del")}
        if text in frees_:
            frees += 1
            continue
        if text in (f"PyObject_GC_UnTrack({obj});", "return;"):
            continue
        raise Blocked(f"{src.text(toks[0].start, toks[-1].end)} in a tp_dealloc (HPy frees the object itself: only releasing "
                      f"members that become HPyFields, the type and the memory go)", stmt.location.line)
    if frees != 1:
        raise Blocked("a tp_dealloc that does not free the object once")


@dataclass
class Result:
    path: str
    text: str                                   # the rewritten source
    functions: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # what happened at file scope
    module_converted: bool = False
    c_api_uses: int = 0
    converted_uses: int = 0
    pure_hpy: bool = False
    c_api_uses_left: int = 0

    def summary(self):
        by = lambda s: [f.name for f in self.functions if f.status == s]
        return {"file": self.path, "module_converted": self.module_converted,
                "c_api_uses": self.c_api_uses, "converted_uses": self.converted_uses,
                "c_api_uses_left": self.c_api_uses_left,
                "functions": len(self.functions), "hpy_functions": by("hpy"),
                "legacy_functions": {f.name: f.reason for f in self.functions if f.status == "legacy"},
                "hpy_forms": {f.name: f.form for f in self.functions if f.status == "hpy"},
                "plain_c_functions": by("plain C"), "module_init": by("module-init"),
                "pure_hpy": self.pure_hpy, "notes": self.notes}


def _method_tables(src, type_name="PyMethodDef"):
    """File-scope PyMethodDef (or PyGetSetDef, PyType_Slot) arrays: name -> (cursor, entries); an entry
    is a dict of its fields."""
    tables = {}
    for c in src.top:
        if c.kind != K.VAR_DECL or frontend._type_name(c.type) != type_name:
            continue
        toks = src.toks(c.extent.start.offset, c.extent.end.offset)
        eq = next((i for i, t in enumerate(toks) if t.text == "="), None)
        if eq is None or toks[eq + 1].text != "{":
            continue
        inner = toks[eq + 2:-1]
        entries = []
        for part in _split_top(inner):
            if not part:
                continue
            if part[0].text != "{":
                entries = None
                break
            fields = _split_top(part[1:-1])
            entries.append({"tokens": part, "fields": fields})
        tables[c.spelling] = (c, entries)
    return tables


def _refs_to(src, name):
    """How many times the main file's code refers to the function NAME (outside its definition)."""
    return src.ref_counts().get((name, "function"), 0)


class _Rewriter:
    def __init__(self, src):
        self.src = src
        self.edits = []
        self.result = Result(src.path, "")

    def add(self, start, end, text):
        self.edits.append(Edit(start, end, text))

    def run(self):
        src = self.src
        functions = {c.spelling: c for c in src.top if c.kind == K.FUNCTION_DECL and c.is_definition()}
        ext = self.ext = frontend.parse(src.path, list(self.flags))
        self.own_names = {c.spelling for c in src.top if c.kind in (
            K.TYPEDEF_DECL, K.STRUCT_DECL, K.FUNCTION_DECL, K.VAR_DECL, K.MACRO_DEFINITION)}
        self.types = []
        uses = {fn.name: len(fn.uses) for fn in ext.functions.values()}
        self.result.c_api_uses = sum(uses.values()) + len(ext.file_scope)
        inits = [f for f in functions if f.startswith("PyInit_")]
        moduledefs = [c for c in src.top if c.kind == K.VAR_DECL and frontend._type_name(c.type) == "PyModuleDef"]
        tables = _method_tables(src)
        outcome = {}
        module_ok, why_not = self.module_plan(inits, moduledefs, functions, tables)
        self.field_decls, self.exec_port, self.helpers = set(), None, set()
        if module_ok:
            self.types = self.type_plan(tables)
            cast_types = {t["struct"] for t in self.types}
            for t in self.types:
                t["pure"] = False
                if t["spec"].spelling not in self.no_pure:
                    self.try_pure(t, tables, functions, outcome, cast_types)
                if not t["pure"] and t["methods"]:
                    t["defines"], _ = self.convert_table(t["methods"], tables, functions, outcome, cast_types)
                if not t["pure"]:
                    t["defines"] = t["defines"] + self.legacy_type_slots(t, functions, outcome, cast_types)
            table_name = self.methods_table
            defines, legacy_left = self.convert_table(table_name, tables, functions, outcome, cast_types) \
                if table_name else ([], False)
            self.module_edits(defines, legacy_left, tables, cast_types, functions, outcome)
            self.type_edits()
            self.check_pure_structs(functions, outcome)
        for name, fn in functions.items():
            if name in outcome:
                continue
            if name.startswith("PyInit_"):
                outcome[name] = FunctionOutcome(name, fn.extent.start.line, "module-init" if module_ok else "legacy",
                                                "" if module_ok else why_not)
            elif uses.get(name, 0) == 0:
                outcome[name] = FunctionOutcome(name, fn.extent.start.line, "plain C")
            else:
                outcome[name] = FunctionOutcome(name, fn.extent.start.line, "legacy", self.why_legacy(name, tables))
        self.result.functions = sorted(outcome.values(), key=lambda f: f.line)
        for f in self.result.functions:
            f.c_api_uses = uses.get(f.name, 0)
            if f.status == "legacy":
                fn = functions[f.name]
                self.add(fn.extent.start.offset, fn.extent.start.offset,
                         f"/* hpy.port: left as C API (hybrid ABI): {f.reason} */\n")
        self.result.converted_uses = self.count_replaced(ext)
        self.result.module_converted = module_ok
        self.result.text = self.apply()
        return self.result

    def convert_table(self, table_name, tables, functions, outcome, cast_types):
        """Converts the functions of one PyMethodDef table that have rules; (their names, whether
        entries are left in the table)."""
        src = self.src
        entries = tables[table_name][1] or []
        defines, kept = [], []
        if _refs_to_var(src, table_name) != 1:
            # Shared (a module's and a type's, say): its functions would be in two places at once.
            for entry in entries:
                fname = self.entry_function(entry["fields"])
                if fname in functions and fname not in outcome:
                    outcome[fname] = FunctionOutcome(
                        fname, functions[fname].extent.start.line, "legacy",
                        f"registered in {table_name}, which more than one definition uses")
            return [], True
        for entry in entries:
            fields = entry["fields"]
            fname = self.entry_function(fields)
            if _compact(fields[0]) in ("NULL", "0") or fname is None or fname not in functions:
                kept.append(entry)
                continue
            flags = [t.text for t in fields[2] if t.kind == T.IDENTIFIER] if len(fields) > 2 else []
            doc = src.text(fields[3][0].start, fields[3][-1].end) if len(fields) > 3 else None
            pyname = _text(fields[0])
            fn = functions[fname]
            try:
                if _refs_to(src, fname) != 1:
                    raise Blocked("the code refers to it elsewhere too (not only in the method table)")
                if any(c.kind == K.FUNCTION_DECL and c.spelling == fname and not c.is_definition()
                       for c in src.top):
                    raise Blocked("a prototype declares it too (HPyDef_METH makes the name an HPyDef)")
                edits = _FunctionPort(src, fn, pyname, flags, doc, cast_types, self.own_names,
                                      fields=self.field_decls).run()
                self.check_overlaps(edits)
            except Blocked as e:
                outcome[fname] = FunctionOutcome(fname, fn.extent.start.line, "legacy", str(e))
                kept.append(entry)
                continue
            self.edits += edits
            defines.append(fname)
            outcome[fname] = FunctionOutcome(fname, fn.extent.start.line, "hpy")
            # The entry leaves the legacy table.
            first, last = entry["tokens"][0], entry["tokens"][-1]
            j = src.index(last) + 1
            end = src.tokens[j].end if src.tokens[j].text == "," else last.end
            self.add(first.start, end, f"/* {pyname}: HPyDef_METH {fname} */")
        return defines, any(_compact(e["fields"][0]) not in ("NULL", "0") for e in kept)

    def try_pure(self, t, tables, functions, outcome, cast_types):
        """The type without PyObject_HEAD (HPy's Object shape): every slot, method and getter converted,
        its PyObject * members HPyFields. When one piece has no rule the type keeps the Legacy shape,
        and the edits made for it are undone."""
        saved_edits, saved_outcome, saved_fields = list(self.edits), dict(outcome), set(self.field_decls)
        try:
            self.pure_plan(t, tables, functions, outcome, cast_types)
            t["pure"] = True
        except Blocked as e:
            self.edits, self.field_decls = saved_edits, saved_fields
            outcome.clear()
            outcome.update(saved_outcome)
            t["why_legacy"] = str(e)
            self.result.notes.append(f"type {t['spec'].spelling} keeps the Legacy shape (PyObject_HEAD, C-API "
                                     f"slots): {e}")

    def slot_function(self, value, functions, what):
        """The function a slot or table entry names, referred to there only."""
        ids = [x.text for x in value if x.kind == T.IDENTIFIER]
        name = ids[-1] if ids else None
        if name not in functions:
            raise Blocked(f"{what} {_compact(value)} is not a function defined in this file")
        if _refs_to(self.src, name) != 1:
            raise Blocked(f"{name} is referred to elsewhere too (not only in its table)")
        if any(c.kind == K.FUNCTION_DECL and c.spelling == name and not c.is_definition() for c in self.src.top):
            raise Blocked(f"a prototype declares {name} too")
        return name, functions[name]

    def pure_plan(self, t, tables, functions, outcome, cast_types):
        src, struct = self.src, t["struct"]
        decl = t["typedef"].underlying_typedef_type.get_declaration()
        members = [m for m in decl.get_children() if m.kind == K.FIELD_DECL]
        fields, names = set(), set()
        for m in members[1:]:
            mt = src.toks(m.extent.start.offset, m.extent.end.offset)
            if _is_pyobject_ptr(m.type):
                if [x.text for x in mt] != ["PyObject", "*", m.spelling]:
                    raise Blocked(f"the member {m.spelling} is not declared `PyObject *{m.spelling};` alone")
                fields.add(_offset(m.location))
                names.add(m.spelling)
                self.add(mt[0].start, mt[1].end, "HPyField ")
            else:
                for x in mt:
                    if x.text in PLAIN_TYPES:
                        self.add(x.start, x.end, PLAIN_TYPES[x.text])
                    elif x.kind == T.IDENTIFIER and (mapping.is_capi_name(x.text) or x.text == "PyObject"):
                        raise Blocked(f"the member {m.spelling} is of a C-API type ({x.text})")
        head = [x for x in src.toks(decl.extent.start.offset, decl.extent.end.offset) if x.text == "PyObject_HEAD"]
        if len(head) != 1:
            raise Blocked("its struct does not spell PyObject_HEAD once")
        nxt = src.tokens[src.index(head[0]) + 1]
        self.add(head[0].start, nxt.end if nxt.text == ";" else head[0].end,
                 "/* PyObject_HEAD: an HPy type of the Object shape has no head */")
        self.field_decls |= fields
        slots = _compact(t["fields"].get("slots", []))
        slot_tables = _method_tables(src, "PyType_Slot")
        if slots not in slot_tables or slot_tables[slots][1] is None or _refs_to_var(src, slots) != 1:
            raise Blocked(f"its slots {slots} are not a PyType_Slot array used by this spec alone")
        getsets = _method_tables(src, "PyGetSetDef")
        defines, doc, traverse, removed = [], None, None, [slot_tables[slots][0]]
        for entry in slot_tables[slots][1]:
            f = entry["fields"]
            if len(f) != 2:
                raise Blocked(f"the slot entry {_compact(entry['tokens'])} is not {{slot, value}}")
            kind, value = _compact(f[0]), f[1]
            if kind == "0":
                continue
            if kind == "Py_tp_doc" and all(x.kind == T.LITERAL for x in value):
                doc = src.text(value[0].start, value[-1].end)
            elif kind == "Py_tp_methods":
                name = _compact(value)
                if name not in tables or _refs_to_var(src, name) != 1:
                    raise Blocked(f"Py_tp_methods {name} is not a method table used by this type alone")
                defs, left = self.convert_table(name, tables, functions, outcome, cast_types)
                if left:
                    bad = next(o for o in outcome.values() if o.status == "legacy")
                    raise Blocked(f"its method {bad.name} stays C API ({bad.reason})")
                defines += defs
                removed.append(tables[name][0])
            elif kind == "Py_tp_getset":
                name = _compact(value)
                if name not in getsets or getsets[name][1] is None or _refs_to_var(src, name) != 1:
                    raise Blocked(f"Py_tp_getset {name} is not a PyGetSetDef table used by this type alone")
                for g in getsets[name][1]:
                    gf = g["fields"]
                    if _compact(gf[0]) in ("NULL", "0"):
                        continue
                    if len(gf) > 2 and _compact(gf[2]) not in ("NULL", "0"):
                        raise Blocked(f"the attribute {_compact(gf[0])} has a setter (no rule yet)")
                    defines.append(self.port_getter(gf, functions, outcome, cast_types))
                removed.append(getsets[name][0])
            elif kind == "Py_tp_init":
                fname, fn = self.slot_function(value, functions, "Py_tp_init")
                port = _FunctionPort(src, fn, None, [], None, cast_types, self.own_names, kind="init",
                                     fields=self.field_decls)
                self.take(port, fname, fn, outcome)
                defines.append(fname)
            elif kind == "Py_tp_traverse":
                fname, fn = self.slot_function(value, functions, "Py_tp_traverse")
                try:
                    edits, visited = _port_traverse(src, fn, struct, fields)
                except Blocked as e:
                    raise Blocked(f"{fname}: {e}") from None
                if visited != names:
                    raise Blocked(f"{fname} does not visit {', '.join(sorted(names - visited))}")
                self.edits += edits
                outcome[fname] = FunctionOutcome(fname, fn.extent.start.line, "hpy",
                                                 form="HPyDef_SLOT HPy_tp_traverse")
                defines.append(fname)
                traverse = fname
            elif kind == "Py_tp_dealloc":
                fname, fn = self.slot_function(value, functions, "Py_tp_dealloc")
                try:
                    _dealloc_droppable(src, fn, struct, names)
                except Blocked as e:
                    raise Blocked(f"{fname}: {e}") from None
                kept = [c.text for c in src.comments if fn.extent.start.offset <= c.start < fn.extent.end.offset]
                self.add(fn.extent.start.offset, fn.extent.end.offset, "\n".join(
                    [f"/* {fname}: gone. It released the members that are HPyFields now, freed the object and "
                     f"released its type, which HPy's own deallocation does. */"] + kept))
                outcome[fname] = FunctionOutcome(fname, fn.extent.start.line, "hpy",
                                                 form="removed (HPy's deallocation does what it did)")
                self.result.notes.append(f"{fname} removed: HPy's deallocation does what it did")
            elif kind in OBJECT_SLOTS:
                fname, fn = self.slot_function(value, functions, kind)
                self.take(_FunctionPort(src, fn, kind, [], None, cast_types, self.own_names, kind="slot",
                                        fields=self.field_decls), fname, fn, outcome)
                defines.append(fname)
            else:
                raise Blocked(f"the slot {kind} has no rule yet (Py_tp_doc, Py_tp_methods, Py_tp_getset, "
                              f"Py_tp_init, Py_tp_traverse, Py_tp_dealloc and slots of one or two objects "
                              f"such as Py_tp_repr, Py_nb_add have)")
        if names and traverse is None:
            # HPy releases and the collector sees HPyFields through the type's traverse slot.
            traverse = _fresh(src, f"{struct}_hpy_traverse")
            visits = "".join(f"    HPy_VISIT(&(({struct} *)self)->{n});\n" for n in sorted(names))
            t["traverse_text"] = (f"\n/* The collector and HPy's deallocation see the HPyFields of {struct} "
                                  f"through this. */\nHPyDef_SLOT({traverse}, HPy_tp_traverse)\n"
                                  f"static int {traverse}_impl(void *self, HPyFunc_visitproc visit, void *arg)\n"
                                  f"{{\n{visits}    return 0;\n}}\n")
            defines.append(traverse)
        for c in removed:
            start, end = c.extent.start.offset, _decl_end(src, c)
            self.edits = [e for e in self.edits if not (start <= e.start < end)]
            kept = [x.text for x in src.comments if start <= x.start < end]
            self.add(start, end, "\n".join([f"/* {c.spelling}: in the HPyType_Spec's defines now */"] + kept))
        t["defines"], t["doc"] = defines, doc

    def port_getter(self, gf, functions, outcome, cast_types):
        """A PyGetSetDef entry without setter to an HPyDef_GET; its symbol."""
        if len(gf) > 2 and _compact(gf[2]) not in ("NULL", "0"):
            raise Blocked(f"the attribute {_compact(gf[0])} has a setter (no rule yet)")
        fname, fn = self.slot_function(gf[1], functions, "getter")
        sym = fname[:-4] if fname.endswith("_get") and fname[:-4] not in self.own_names else fname
        port = _FunctionPort(self.src, fn, _text(gf[0]), [],
                             self.src.text(gf[3][0].start, gf[3][-1].end) if len(gf) > 3 else None,
                             cast_types, self.own_names, kind="get", fields=self.field_decls,
                             closure=_compact(gf[4]) if len(gf) > 4 else None)
        port.pyname_sym = sym
        self.take(port, fname, fn, outcome)
        return sym

    def legacy_type_slots(self, t, functions, outcome, cast_types):
        """In a type that keeps the Legacy shape: each tp_init, slot of one or two objects and getter
        that has a rule for every construct becomes an HPyDef in the type's defines (its entry leaves
        the legacy table); the rest stay C API."""
        src, defines = self.src, []
        slots = _compact(t["fields"].get("slots", []))
        slot_tables = _method_tables(src, "PyType_Slot")
        if slots not in slot_tables or slot_tables[slots][1] is None or _refs_to_var(src, slots) != 1:
            return defines
        getsets = _method_tables(src, "PyGetSetDef")
        for entry in slot_tables[slots][1]:
            f = entry["fields"]
            if len(f) != 2:
                continue
            kind, value = _compact(f[0]), f[1]
            if kind == "Py_tp_getset":
                name = _compact(value)
                if name not in getsets or getsets[name][1] is None or _refs_to_var(src, name) != 1:
                    continue
                for g in getsets[name][1]:
                    gf = g["fields"]
                    if _compact(gf[0]) in ("NULL", "0"):
                        continue
                    defines += self.legacy_entry(g, lambda: self.port_getter(gf, functions, outcome, cast_types),
                                                 gf[1], functions, outcome, "HPyDef_GET")
                continue
            if kind not in OBJECT_SLOTS and kind != "Py_tp_init":
                continue
            def port(kind=kind, value=value):
                fname, fn = self.slot_function(value, functions, kind)
                self.take(_FunctionPort(src, fn, kind, [], None, cast_types, self.own_names,
                                        kind="init" if kind == "Py_tp_init" else "slot",
                                        fields=self.field_decls), fname, fn, outcome)
                return fname
            defines += self.legacy_entry(entry, port, value, functions, outcome, "HPyDef_SLOT")
        return defines

    def legacy_entry(self, entry, port, value, functions, outcome, what):
        """Runs port(); on success the entry leaves its table; on Blocked the function stays C API."""
        ids = [x.text for x in value if x.kind == T.IDENTIFIER]
        fname = ids[-1] if ids else None
        if fname not in functions or fname in outcome:
            return []
        saved = list(self.edits)
        try:
            sym = port()
        except Blocked as e:
            self.edits = saved
            outcome[fname] = FunctionOutcome(fname, functions[fname].extent.start.line, "legacy", str(e))
            return []
        first, last = entry["tokens"][0], entry["tokens"][-1]
        j = self.src.index(last) + 1
        end = self.src.tokens[j].end if self.src.tokens[j].text == "," else last.end
        self.add(first.start, end, f"/* {what} {sym} */")
        return [sym]

    def take(self, port, fname, fn, outcome):
        try:
            edits = port.run()
            self.check_overlaps(edits)
        except Blocked as e:
            raise Blocked(f"{fname}: {e}") from None
        self.edits += edits
        form = {"get": "HPyDef_GET", "init": "HPyDef_SLOT HPy_tp_init"}.get(port.kind) or \
            f"HPyDef_SLOT {OBJECT_SLOTS[port.pyname][0]}"
        outcome[fname] = FunctionOutcome(fname, fn.extent.start.line, "hpy", form=form)

    def check_pure_structs(self, functions, outcome):
        """A struct without PyObject_HEAD must not be seen by C-API code: every mention of its name
        lies in its typedef, its spec or a converted function; else the rewrite runs again with that
        type kept in the Legacy shape."""
        for t in self.types:
            if not t["pure"]:
                continue
            keep = [(t["typedef"].extent.start.offset, _decl_end(self.src, t["typedef"])),
                    (t["spec"].extent.start.offset, _decl_end(self.src, t["spec"]))]
            keep += [(functions[n].extent.start.offset, functions[n].extent.end.offset)
                     for n, o in outcome.items() if o.status == "hpy" and n in functions]
            for x in self.src.tokens:
                if x.text == t["struct"] and not any(a <= x.start < b for a, b in keep):
                    raise _Retry(t["spec"].spelling,
                                 f"line {x.line}: C-API code uses its struct {t['struct']}, which would lose "
                                 f"PyObject_HEAD")

    def type_plan(self, tables):
        """The PyType_Spec definitions that become HPyType_Spec (Legacy shape, the slots kept as
        legacy_slots): each created once, by PyType_FromSpec in the init function, of a struct that
        starts with PyObject_HEAD, with flags HPy has."""
        src, out = self.src, []
        body = next(c for c in self.init.get_children() if c.kind == K.COMPOUND_STMT)
        typedefs = {c.spelling: c for c in src.top if c.kind == K.TYPEDEF_DECL}
        for c in src.top:
            if c.kind != K.VAR_DECL or frontend._type_name(c.type) != "PyType_Spec":
                continue
            toks = src.toks(c.extent.start.offset, c.extent.end.offset)
            eq = next((i for i, t in enumerate(toks) if t.text == "="), None)
            why = None
            fields = {}
            if eq is None or toks[eq + 1].text != "{":
                why = "no initializer the rewrite reads"
            else:
                for i, part in enumerate(_split_top(toks[eq + 2:-1])):
                    if len(part) >= 3 and part[0].text == "." and part[2].text == "=":
                        fields[part[1].text] = part[3:]
                    elif i < 5:
                        fields[("name", "basicsize", "itemsize", "flags", "slots")[i]] = part
            calls = [x for x in _walk(body) if x.kind == K.CALL_EXPR and x.spelling == "PyType_FromSpec"]
            call = next((x for x in calls if _compact(src.toks(x.extent.start.offset, x.extent.end.offset))
                         == f"PyType_FromSpec(&{c.spelling})"), None)
            size = _compact(fields.get("basicsize", []))
            struct = size[len("sizeof("):-1] if size.startswith("sizeof(") and size.endswith(")") else None
            flags = [t.text for t in fields.get("flags", []) if t.kind == T.IDENTIFIER]
            slots = _compact(fields.get("slots", []))
            if why:
                pass
            elif _refs_to_var(src, c.spelling) != 1 or call is None:
                why = f"{c.spelling} is not used once, by PyType_FromSpec in {self.init.spelling}"
            elif struct not in typedefs or not self.starts_with_head(typedefs[struct]):
                why = f"basicsize {size} is not the size of a struct that starts with PyObject_HEAD"
            elif any(f not in TYPE_FLAGS for f in flags):
                why = f"flags {' | '.join(flags)}: only {', '.join(TYPE_FLAGS)} have HPy equivalents"
            elif _compact(fields.get("itemsize", [])) not in ("", "0"):
                why = "itemsize is not 0"
            if why:
                self.result.notes.append(f"type {c.spelling} left as C API: {why}")
                continue
            methods = None
            slot_table = next((x for x in src.top if x.kind == K.VAR_DECL and x.spelling == slots), None)
            if slot_table is not None:
                stoks = src.toks(slot_table.extent.start.offset, slot_table.extent.end.offset)
                eq2 = next((i for i, t in enumerate(stoks) if t.text == "="), None)
                for part in _split_top(stoks[eq2 + 2:-1]) if eq2 is not None else []:
                    inner = _split_top(part[1:-1]) if part and part[0].text == "{" else []
                    if len(inner) == 2 and _compact(inner[0]) == "Py_tp_methods" and _compact(inner[1]) in tables:
                        methods = _compact(inner[1])
            out.append({"spec": c, "fields": fields, "call": call, "struct": struct,
                        "typedef": typedefs[struct], "flags": flags, "methods": methods, "defines": []})
        return out

    @staticmethod
    def starts_with_head(typedef):
        decl = typedef.underlying_typedef_type.get_declaration()
        fields = [f for f in decl.get_children() if f.kind == K.FIELD_DECL]
        return bool(fields) and fields[0].spelling == "ob_base" and fields[0].type.spelling == "PyObject"

    def type_edits(self):
        src = self.src
        start = self.init.extent.start.offset
        for name in sorted(self.helpers):
            self.add(start, start, HELPERS[name])
        if not self.types:
            return
        for t in self.types:
            if t["pure"]:
                self.pure_type_edits(t)
                continue
            spec, f = t["spec"], t["fields"]
            text = lambda k: src.text(f[k][0].start, f[k][-1].end) if f.get(k) else None
            flags = " | ".join(TYPE_FLAGS[x] for x in t["flags"]) or "0"
            lines = []
            if t["defines"]:
                lines += [f"static HPyDef *{spec.spelling}_defines[] = {{"]
                lines += [f"    &{d}," for d in t["defines"]] + ["    NULL", "};", ""]
            lines += [f"/* From the PyType_Spec {spec.spelling}: an HPy type of the Legacy shape (its struct "
                      f"starts with PyObject_HEAD), with its PyType_Slot array as legacy slots. */",
                      f"static HPyType_Spec {spec.spelling} = {{",
                      f"    .name = {text('name')},", f"    .basicsize = {text('basicsize')},",
                      "    .itemsize = 0,", f"    .flags = {flags},",
                      "    .builtin_shape = HPyType_BuiltinShape_Legacy,"]
            if f.get("slots") and _compact(f["slots"]) not in ("NULL", "0"):
                lines.append(f"    .legacy_slots = {text('slots')},")
            if t["defines"]:
                lines.append(f"    .defines = {spec.spelling}_defines,")
            lines.append("};")
            self.add(spec.extent.start.offset, _decl_end(src, spec), "\n".join(lines))
            td = t["typedef"]
            end = _decl_end(src, td)
            self.add(end, end, f"\nHPyType_LEGACY_HELPERS({t['struct']}) /* {t['struct']}_AsStruct */\n")
            call = src.toks(t["call"].extent.start.offset, t["call"].extent.end.offset)
            self.add(call[0].start, call[0].end, "hpy_port_type_from_spec")
            self.add(call[1].end, call[1].end, "ctx, ")
        if self.exec_port is not None:
            return
        helper = ("/* PyType_FromSpec's contract (a new reference, NULL on error) for an HPyType_Spec. */\n"
                  "static PyObject *hpy_port_type_from_spec(HPyContext *ctx, HPyType_Spec *spec)\n{\n"
                  "    HPy h = HPyType_FromSpec(ctx, spec, NULL);\n"
                  "    PyObject *type = HPy_AsPyObject(ctx, h); /* NULL for HPy_NULL */\n"
                  "    HPy_Close(ctx, h);\n    return type;\n}\n\n")
        start = self.init.extent.start.offset
        self.add(start, start, helper)

    def pure_type_edits(self, t):
        src, spec, f = self.src, t["spec"], t["fields"]
        text = lambda k: src.text(f[k][0].start, f[k][-1].end) if f.get(k) else None
        flags = " | ".join(TYPE_FLAGS[x] for x in t["flags"]) or "0"
        lines = [f"static HPyDef *{spec.spelling}_defines[] = {{"]
        lines += [f"    &{d}," for d in t["defines"]] + ["    NULL", "};", ""]
        lines += [f"/* From the PyType_Spec {spec.spelling}: an HPy type of the Object shape, every slot, "
                  f"method and attribute in its defines. */",
                  f"static HPyType_Spec {spec.spelling} = {{",
                  f"    .name = {text('name')},", f"    .basicsize = {text('basicsize')},",
                  "    .itemsize = 0,", f"    .flags = {flags},"]
        if t["doc"]:
            lines.append(f"    .doc = {t['doc']},")
        lines += [f"    .defines = {spec.spelling}_defines,", "};"]
        self.add(spec.extent.start.offset, _decl_end(src, spec), "\n".join(lines))
        end = _decl_end(src, t["typedef"])
        self.add(end, end, f"\nHPyType_HELPERS({t['struct']}) /* {t['struct']}_AsStruct */\n"
                 + t.get("traverse_text", ""))
        if self.exec_port is None:
            call = src.toks(t["call"].extent.start.offset, t["call"].extent.end.offset)
            self.add(call[0].start, call[0].end, "hpy_port_type_from_spec")
            self.add(call[1].end, call[1].end, "ctx, ")

    def count_replaced(self, ext):
        """How many of the C-API uses the report finds lie inside a range an edit replaces."""
        starts = [0]
        for i, b in enumerate(self.src.data):
            if b == 10:
                starts.append(i + 1)
        spans = [(e.start, e.end) for e in self.edits if e.end > e.start]
        n = 0
        for use in [u for f in ext.functions.values() for u in f.uses] + ext.file_scope:
            if use.file != self.src.path:
                continue
            off = starts[use.line - 1] + use.column - 1
            n += any(a <= off < b for a, b in spans)
        return n

    def why_legacy(self, name, tables):
        if name in getattr(self, "exec_functions", ()):
            return (f"a Py_mod_exec function: it runs unchanged from the HPy exec slot {name}_hpy_exec, "
                    f"on the module borrowed as a PyObject *")
        fn = self.ext.functions.get(name)
        for t in self.types:
            tables = {_compact(t["fields"].get("slots", []))}
            if fn is not None and t.get("why_legacy") and any(r.split(" ")[0] in tables for r in fn.registered_in):
                return (f"registered in {', '.join(fn.registered_in)}: the type {t['spec'].spelling} keeps the "
                        f"Legacy shape ({t['why_legacy']}), and this slot stays in its legacy slots")
        if fn is not None and fn.registered_in and not any(
                r.startswith(f"{getattr(self, 'methods_table', None)} ") for r in fn.registered_in):
            return (f"registered in {', '.join(fn.registered_in)}: a table of a type the rewrite leaves "
                    f"as C API (a static PyTypeObject, or a PyType_Spec it does not convert: see the notes)")
        callers = sorted(n for n, f in self.ext.functions.items() if name in f.calls)
        if callers:
            return f"called from C code ({', '.join(callers)}), which keeps its C-API signature"
        for tname, (c, entries) in tables.items():
            for e in entries or []:
                if self.entry_function(e["fields"]) == name:
                    if tname != getattr(self, "methods_table", None):
                        return (f"registered in {tname}, which is neither the module's method table nor "
                                f"one of a type the rewrite converts")
        return "not a module function (called from C, or registered in a type or slot table)"

    @staticmethod
    def entry_function(fields):
        if len(fields) < 2:
            return None
        ids = [t.text for t in fields[1] if t.kind == T.IDENTIFIER]
        return ids[-1] if ids else None

    def check_overlaps(self, edits):
        spans = sorted((e.start, e.end) for e in edits)
        for (a1, b1), (a2, b2) in zip(spans, spans[1:]):
            if a2 < b1:
                raise Blocked("two rules apply to one place (the rewrite does not combine them)")

    def module_plan(self, inits, moduledefs, functions, tables):
        src = self.src
        if len(inits) != 1:
            return False, f"{len(inits)} PyInit_ functions"
        if len(moduledefs) != 1:
            return False, f"{len(moduledefs)} PyModuleDef definitions"
        self.init = functions[inits[0]]
        self.moddef = moduledefs[0]
        toks = src.toks(self.moddef.extent.start.offset, self.moddef.extent.end.offset)
        eq = next((i for i, t in enumerate(toks) if t.text == "="), None)
        if eq is None or toks[eq + 1].text != "{":
            return False, "the PyModuleDef has no initializer the rewrite reads"
        fields = {}
        for i, part in enumerate(_split_top(toks[eq + 2:-1])):
            if len(part) >= 3 and part[0].text == "." and part[2].text == "=":
                fields[part[1].text] = part[3:]
            elif i < len(MODULEDEF_FIELDS):
                fields[MODULEDEF_FIELDS[i]] = part
        self.modfields = fields
        self.exec_functions, self.slot_table = [], None
        slots = _compact(fields.get("m_slots", [])) or "NULL"
        if slots not in ("NULL", "0"):
            why = self.multiphase_plan(slots)
            if why:
                return False, why
        for f in ("m_traverse", "m_clear", "m_free"):
            if f in fields and _compact(fields[f]) not in ("NULL", "0"):
                return False, f"PyModuleDef.{f} is set (multi-phase init or module state)"
        size = _compact(fields.get("m_size", [])) or "0"
        if size not in ("-1", "0"):
            return False, f"PyModuleDef.m_size is {size} (module state is not in HPy 0.9)"
        methods = _compact(fields.get("m_methods", [])) or "NULL"
        if methods not in ("NULL", "0") and methods not in tables:
            return False, f"PyModuleDef.m_methods is {methods}, not a method table of this file"
        self.methods_table = methods if methods in tables else None
        if _refs_to_var(src, self.moddef.spelling) != 1:
            return False, f"{self.moddef.spelling} is used elsewhere than in PyModule_Create"
        if sum(1 for c in src.top if c.kind == K.VAR_DECL and c.spelling == self.moddef.spelling) != 1:
            return False, f"{self.moddef.spelling} is declared more than once"
        if self.moddef.extent.start.offset > self.init.extent.start.offset:
            return False, "the PyModuleDef comes after the init function"
        if self.slot_table is not None:
            body = next(c for c in self.init.get_children() if c.kind == K.COMPOUND_STMT)
            text = _compact(src.toks(body.extent.start.offset, body.extent.end.offset))
            if text != f"{{returnPyModuleDef_Init(&{self.moddef.spelling});}}":
                return False, f"{self.init.spelling} does more than return PyModuleDef_Init(&{self.moddef.spelling})"
            self.exec_plan, self.exec_needed = [], False
            return True, ""
        try:
            self.exec_plan = self.init_plan()
        except Blocked as e:
            return False, f"{self.init.spelling}: {e}"
        return True, ""

    def multiphase_plan(self, name):
        """A PyModuleDef_Slot array of Py_mod_exec functions: each runs, unchanged, from an HPy exec
        slot of its own. The reason it cannot be converted, or None."""
        src = self.src
        table = next((c for c in src.top if c.kind == K.VAR_DECL and c.spelling == name), None)
        if table is None or frontend._type_name(table.type) != "PyModuleDef_Slot":
            return f"PyModuleDef.m_slots is {name}, not a PyModuleDef_Slot array of this file"
        if _refs_to_var(src, name) != 1:
            return f"{name} is used elsewhere than in the PyModuleDef"
        toks = src.toks(table.extent.start.offset, table.extent.end.offset)
        eq = next((i for i, t in enumerate(toks) if t.text == "="), None)
        if eq is None or toks[eq + 1].text != "{":
            return f"{name} has no initializer the rewrite reads"
        functions = {c.spelling: c for c in src.top if c.kind == K.FUNCTION_DECL and c.is_definition()}
        for part in _split_top(toks[eq + 2:-1]):
            inner = _split_top(part[1:-1]) if part and part[0].text == "{" else None
            if inner is None or len(inner) != 2:
                return f"{name} has an entry the rewrite does not read"
            kind, value = _compact(inner[0]), _compact(inner[1])
            if kind == "0" and value in ("NULL", "0"):
                continue
            fn = functions.get(value)
            if kind != "Py_mod_exec" or fn is None:
                return f"{name} has the slot {kind} (only Py_mod_exec has an HPy equivalent here)"
            params = [c.type.spelling.replace(" ", "") for c in fn.get_children() if c.kind == K.PARM_DECL]
            if fn.result_type.spelling != "int" or params != ["PyObject*"]:
                return f"{value} is not int (PyObject *)"
            self.exec_functions.append(value)
        self.slot_table = table
        return None

    def init_plan(self):
        """The edits that turn PyInit_X's body into an HPy_mod_exec slot."""
        src, init = self.src, self.init
        body = next(c for c in init.get_children() if c.kind == K.COMPOUND_STMT)
        macros = [m for m in src.macros if m.spelling == "PyModule_Create"
                  and body.extent.start.offset <= m.extent.start.offset < body.extent.end.offset]
        if len(macros) != 1:
            raise Blocked(f"creates the module {len(macros)} times (expected one PyModule_Create)")
        m = macros[0]
        call = src.toks(m.extent.start.offset, m.extent.end.offset)
        arg = _text(call[2:-1]).replace(" ", "")
        if arg != "&" + self.moddef.spelling:
            raise Blocked(f"PyModule_Create({arg}) is not of the module's PyModuleDef")
        i = src.index(call[0])
        before, after = src.tokens[i - 1], src.tokens[src.index(call[-1]) + 1]
        edits, var = [], None
        if after.text != ";":
            raise Blocked("PyModule_Create inside an expression")
        if before.text == "return":
            edits.append(Edit(before.start, after.end, "return 0;"))
        elif before.text == "=" and src.tokens[i - 2].kind == T.IDENTIFIER:
            var = src.tokens[i - 2].text
            edits.append(Edit(call[0].start, after.end,
                              f"HPy_AsPyObject(ctx, h_module);\n    Py_DECREF({var}); "
                              f"/* borrowed: h_module keeps the module alive while exec runs */"))
        else:
            raise Blocked("PyModule_Create's result is neither returned nor stored in a variable")
        for c in _walk(body):
            if c.kind != K.RETURN_STMT:
                continue
            toks = src.toks(c.extent.start.offset, c.extent.end.offset)
            if toks[0].start == before.start:
                continue
            expr = _text(toks[1:])
            if expr == "NULL":
                edits.append(Edit(toks[1].start, toks[1].end, "-1"))
            elif var and expr == var:
                edits.append(Edit(toks[1].start, toks[1].end, "0"))
            else:
                raise Blocked(f"return {expr} (only NULL or the module)", c.location.line)
        self.exec_needed = not self.only_creates(body, var)
        for mac in src.macros:
            if not (body.extent.start.offset <= mac.extent.start.offset < body.extent.end.offset):
                continue
            if mac.spelling in ("Py_DECREF", "Py_XDECREF", "Py_CLEAR"):
                toks = src.toks(mac.extent.start.offset, mac.extent.end.offset)
                if var and _text(toks[2:-1]) == var:
                    edits.append(Edit(toks[0].start, toks[-1].end,
                                      f"(void){var} /* {_text(toks).replace(' ', '')}: the host owns the module */"))
        return edits

    def only_creates(self, body, var):
        """Whether the init function does nothing but create the module (and test it and return it):
        no statement else, and no preprocessor directive (code it may leave out is code too)."""
        toks = self.src.toks(body.extent.start.offset, body.extent.end.offset)
        if any(t.text == "#" for t in toks):
            return False
        allowed = set()
        if var:
            allowed = {f"PyObject*{var}=PyModule_Create(&{self.moddef.spelling});",
                       f"{var}=PyModule_Create(&{self.moddef.spelling});",
                       f"PyObject*{var};", f"return{var};"}
            allowed |= {f"if({cond}){ret}" for cond in (f"{var}==NULL", f"!{var}", f"NULL=={var}")
                        for ret in ("returnNULL;", "{returnNULL;}")}
        else:
            allowed = {f"returnPyModule_Create(&{self.moddef.spelling});"}
        for stmt in body.get_children():
            text = _compact(self.src.toks(stmt.extent.start.offset, _decl_end(self.src, stmt)))
            if text not in allowed:
                return False
        return True

    def module_edits(self, defines, legacy_left, tables, cast_types=(), functions=None, outcome=None):
        """The HPyModuleDef, the exec slot and HPy_MODINIT."""
        src, init, moddef = self.src, self.init, self.moddef
        if self.exec_needed and self.slot_table is None:
            # The init function's body as pure HPy, when each construct in it has a rule; otherwise
            # the exec slot runs it as C API on the module borrowed as a PyObject * (exec_plan).
            ext_name = init.spelling[len("PyInit_"):]
            port = _FunctionPort(src, init, f"{ext_name}_exec", [], None, cast_types, self.own_names,
                                 kind="exec", specs={t["spec"].spelling for t in self.types if t["pure"]})
            try:
                edits = port.run()
                self.check_overlaps(edits)
                self.exec_port, self.helpers = edits, self.helpers | port.helpers
                if outcome is not None:
                    outcome[init.spelling] = FunctionOutcome(init.spelling, init.extent.start.line, "hpy",
                                                             form="HPyDef_SLOT HPy_mod_exec")
            except Blocked as e:
                self.result.notes.append(f"the exec slot runs {init.spelling}'s body as C API: {e}")
        ext_name = init.spelling[len("PyInit_"):]
        f = self.modfields
        name = src.text(f["m_name"][0].start, f["m_name"][-1].end) if f.get("m_name") else None
        doc = src.text(f["m_doc"][0].start, f["m_doc"][-1].end) if f.get("m_doc") else "NULL"
        # The Python.h include.
        for c in src.top:
            if c.kind == K.INCLUSION_DIRECTIVE and c.spelling == "Python.h":
                self.add(c.extent.start.offset, c.extent.end.offset,
                         '#include "hpy.h" /* includes Python.h in the hybrid ABI */')
        # The module definition moves below the functions: its old place keeps a note.
        kept = [c.text for c in src.comments
                if moddef.extent.start.offset <= c.start < moddef.extent.end.offset]
        self.add(moddef.extent.start.offset, _decl_end(src, moddef),
                 "\n".join([f"/* {moddef.spelling}: now an HPyModuleDef, below with HPy_MODINIT */"] + kept))
        body = next(c for c in init.get_children() if c.kind == K.COMPOUND_STMT)
        wrappers = []
        if self.slot_table is not None:
            c = self.slot_table
            kept = [x.text for x in src.comments if c.extent.start.offset <= x.start < c.extent.end.offset]
            self.add(c.extent.start.offset, _decl_end(src, c),
                     "\n".join([f"/* {c.spelling}: its Py_mod_exec functions run from HPy exec slots, "
                                 f"below */"] + kept))
            for fx in self.exec_functions:
                wrappers += [f"/* Runs {fx} (C API, unchanged) on the module, borrowed as a PyObject *. */",
                             f"HPyDef_SLOT({fx}_hpy_exec, HPy_mod_exec)",
                             f"static int {fx}_hpy_exec_impl(HPyContext *ctx, HPy h_module)", "{",
                             "    PyObject *module = HPy_AsPyObject(ctx, h_module);",
                             f"    int result = {fx}(module);", "    Py_DECREF(module);",
                             "    return result;", "}", ""]
        if self.exec_port is not None:
            self.edits += self.exec_port
            lines = list(defines) + [f"{ext_name}_exec"]
        elif self.exec_needed:
            self.add(init.extent.start.offset, body.extent.start.offset,
                     f"HPyDef_SLOT({ext_name}_exec, HPy_mod_exec)\n"
                     f"static int {ext_name}_exec_impl(HPyContext *ctx, HPy h_module)\n")
            self.edits += self.exec_plan
            lines = list(defines) + [f"{ext_name}_exec"]
        else:
            # The init function only created the module: HPy_MODINIT does that.
            kept = [c.text for c in src.comments
                    if init.extent.start.offset <= c.start < init.extent.end.offset]
            self.add(init.extent.start.offset, _decl_end(src, init),
                     "\n".join([f"/* {init.spelling}: HPy_MODINIT below creates the module */"] + kept))
            lines = list(defines) + [f"{fx}_hpy_exec" for fx in self.exec_functions]
        table = self.methods_table
        notes = []
        if name:
            notes.append(f"m_name {name}: an HPy module is named by its import")
        size = _compact(f.get("m_size", [])) or "0"
        if size == "-1":
            notes.append("m_size -1: HPy modules have no state, as here")
        legacy = table if (table and legacy_left) else "NULL"
        if table and not legacy_left:
            c = tables[table][0]
            start, end = c.extent.start.offset, _decl_end(src, c)
            self.edits = [e for e in self.edits if not (start <= e.start < end)]   # its entries' notes
            self.add(start, end, f"/* {table}: every function is an HPyDef_METH now */")
        out = ["", ""] + wrappers + [f"static HPyDef *{ext_name}_defines[] = {{"]
        out += [f"    &{d}," for d in lines] + ["    NULL", "};", ""]
        out += [f"/* From {moddef.spelling} ({'; '.join(notes) or 'PyModuleDef'}). */",
                f"static HPyModuleDef {moddef.spelling} = {{",
                f"    .doc = {doc},",
                "    .size = 0,",
                f"    .legacy_methods = {legacy},",
                f"    .defines = {ext_name}_defines,",
                "};", "", f"HPy_MODINIT({ext_name}, {moddef.spelling})"]
        self.add(init.extent.end.offset, init.extent.end.offset, "\n".join(out))
        self.result.notes += notes

    def apply(self):
        data = self.src.data
        edits = sorted(self.edits, key=lambda e: (e.start, e.end))
        out, pos = [], 0
        for e in edits:
            if e.start < pos:
                raise RewriteError(f"{self.src.path}: internal error: overlapping edits at offset {e.start}")
            out.append(data[pos:e.start])
            out.append(e.text.encode())
            pos = e.end
        out.append(data[pos:])
        return b"".join(out).decode("utf-8", "replace")


def _decl_end(src, cursor):
    """The end of a declaration including its ';'."""
    end = cursor.extent.end.offset
    toks = src.toks(end, end + 64)
    return toks[0].end if toks and toks[0].text == ";" else end


def _refs_to_var(src, name):
    """How many times the main file's code refers to the variable NAME."""
    return src.ref_counts().get((name, "variable"), 0)


def rewrite(path, flags=None):
    """Rewrites one C source; a Result (raises RewriteError on input it cannot work on)."""
    src = Source(path, flags)
    no_pure, notes = set(), []
    while True:
        r = _Rewriter(src)
        r.flags, r.no_pure = list(flags or []), set(no_pure)
        try:
            result = r.run()
            break
        except _Retry as e:
            no_pure.add(e.spec)
            notes.append(f"type {e.spec} keeps the Legacy shape (PyObject_HEAD, C-API slots): {e.reason}")
    result.notes[:0] = notes
    result.c_api_uses_left = _uses_c_api(result, flags)
    result.pure_hpy = result.module_converted and result.c_api_uses_left == 0
    return result


def _uses_c_api(result, flags):
    """How many C-API uses the report finds in the rewritten text (in the hybrid ABI's view)."""
    import tempfile
    from .. import devel
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / Path(result.path).name
        out.write_text(result.text)
        ext = frontend.parse(str(out), [f"-I{devel.get_include()}", "-DHPY_ABI_HYBRID",
                                        f"-I{Path(result.path).parent}"] + list(flags or []),
                             own_dirs=[tmp])
        return sum(len(fn.uses) for fn in ext.functions.values()) + len(ext.file_scope)


def render_summary(s):
    """What rewrite did, for people."""
    out = [f"{s['file']}: {s['c_api_uses']} uses of the C API, {s['converted_uses']} rewritten, "
           f"{s['c_api_uses_left']} left; "
           f"module definition {'converted (HPyModuleDef, HPy_MODINIT)' if s['module_converted'] else 'left as C API'}; "
           f"{len(s['hpy_functions'])} of {s['functions']} functions now HPy"
           + ("; the file is pure HPy (universal ABI)" if s["pure_hpy"] else "")]
    for name in s["hpy_functions"]:
        out.append(f"  {name}: {s.get('hpy_forms', {}).get(name, 'HPyDef_METH')}")
    for name, why in s["legacy_functions"].items():
        out.append(f"  {name}: left as C API: {why}")
    for note in s["notes"]:
        out.append(f"  note: {note}")
    return "\n".join(out)
