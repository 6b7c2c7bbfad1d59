# python/hpy/port/function.py: the rules that turn one C-API function into an HPyDef.
"""One function of the extension to HPy: the rule tables (C-API calls with a one-for-one HPy call,
constants, return macros, argument-parsing units, type flags, method signatures, object slots) and
``_FunctionPort``, which converts a module function, a method, ``tp_init``, an object slot, a getter
or the module's init body, or raises ``Blocked`` with the first construct that has no rule. The
helpers at the end convert what belongs to a type: ``tp_traverse`` and a droppable ``tp_dealloc``.
"""
from . import mapping
from .source import (K, T, Blocked, Edit, _compact, _decl_end, _fresh, _is_pyobject_ptr, _offset,
                     _split_top, _text, _walk, cindex)

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
    "Py_FatalError": ("HPy_FatalError", "v", "value"),
    # Buffers: HPy ABI 0.1 (MINOR_1 below). The Py_buffer becomes an HPy_buffer with the same fields.
    "PyObject_GetBuffer": ("HPy_GetBuffer", "ovv", "value"),
    "PyBuffer_Release": ("HPyBuffer_Release", "v", "value"),
    "PyObject_CheckBuffer": ("HPy_CheckBuffer", "o", "value"),
    # HPyType_FromSpec(ctx, &spec, NULL), of a spec the rewrite made an HPyType_Spec.
    "PyType_FromSpec": ("HPyType_FromSpec", "v", "new"),
    # PyModule_AddObject steals the value's reference on success only: so does the helper's handle.
    "PyModule_AddObject": ("hpy_port_module_add_object", "ovo", "value"),
    "PyModule_AddObjectRef": ("HPy_SetAttr_s", "ovo", "value"),
}

# HPy functions beyond HPy 0.9, added at HPy ABI 0.1: a rewritten file that calls one declares
# HPY_ABI_VERSION_MINOR 1 before including hpy.h (HPy 0.9's hosts and PyPy's then refuse the module).
MINOR_1 = ("HPy_GetBuffer", "HPyBuffer_Release", "HPy_CheckBuffer")

# The rewrite's own helpers, added to the file when an edit calls them.
HELPERS = {
    "hpy_port_module_add_object": (
        "/* PyModule_AddObject's contract for a handle: closed on success, left open on failure (-1). */\n"
        "static int hpy_port_module_add_object(HPyContext *ctx, HPy module, const char *name, HPy value)\n"
        "{\n    if (HPy_SetAttr_s(ctx, module, name, value) < 0)\n        return -1;\n"
        "    HPy_Close(ctx, value);\n    return 0;\n}\n\n"),
    "hpy_port_chars_and_size": (
        "/* PyArg_ParseTuple's \"s#\": a str as its UTF-8 bytes, a bytes object's bytes, or those of another\n"
        "   read-only bytes-like object, valid as long as the object lives (CPython too gives the buffer back\n"
        "   at once). One difference: CPython refuses every exporter with a release function, even read-only\n"
        "   ones (a memoryview of bytes); this accepts those, as HPy cannot see the exporter's functions. */\n"
        "static int hpy_port_chars_and_size(HPyContext *ctx, HPy obj, const char **data, HPy_ssize_t *size)\n"
        "{\n"
        "    if (HPyUnicode_Check(ctx, obj)) {\n"
        "        *data = HPyUnicode_AsUTF8AndSize(ctx, obj, size);\n"
        "        return *data == NULL ? -1 : 0;\n"
        "    }\n"
        "    if (HPyBytes_Check(ctx, obj)) {\n"
        "        *data = HPyBytes_AsString(ctx, obj);\n"
        "        *size = HPyBytes_Size(ctx, obj);\n"
        "        return *data == NULL ? -1 : 0;\n"
        "    }\n"
        "    HPy_buffer view;\n"
        "    if (!HPy_CheckBuffer(ctx, obj) || HPy_GetBuffer(ctx, obj, &view, HPyBUF_SIMPLE) < 0) {\n"
        "        HPyErr_Clear(ctx);\n"
        "        HPyErr_SetString(ctx, ctx->h_TypeError, \"argument must be str or read-only bytes-like object\");\n"
        "        return -1;\n"
        "    }\n"
        "    int readonly = view.readonly;\n"
        "    *data = (const char *)view.buf;\n"
        "    *size = view.len;\n"
        "    HPyBuffer_Release(ctx, &view);\n"
        "    if (!readonly) {\n"
        "        HPyErr_SetString(ctx, ctx->h_TypeError, \"argument must be str or read-only bytes-like object\");\n"
        "        return -1;\n"
        "    }\n"
        "    return 0;\n"
        "}\n\n"),
}

# The exceptions and constants the HPy 0.9 context holds (ctx->h_NAME).
CONTEXT_EXCEPTIONS = set(mapping.EXCEPTIONS)
CONSTANTS = {"Py_None": "ctx->h_None", "Py_True": "ctx->h_True", "Py_False": "ctx->h_False",
             "Py_NotImplemented": "ctx->h_NotImplemented", "Py_Ellipsis": "ctx->h_Ellipsis"}
RETURN_MACROS = {"Py_RETURN_NONE": "None", "Py_RETURN_TRUE": "True", "Py_RETURN_FALSE": "False",
                 "Py_RETURN_NOTIMPLEMENTED": "NotImplemented"}
# Plain C types with an HPy spelling (the universal ABI has no Python.h). A Py_buffer's fields are the
# HPy_buffer's, but for obj, a handle (a use of .obj stops the rewrite).
PLAIN_TYPES = {"Py_ssize_t": "HPy_ssize_t", "Py_hash_t": "HPy_hash_t", "Py_UCS4": "HPy_UCS4",
               "Py_buffer": "HPy_buffer"}
# Integer constants with an HPy spelling: the buffer request flags (the same values).
VALUE_MACROS = {f"PyBUF_{n}": f"HPyBUF_{n}" for n in mapping.BUFFER_FLAGS}
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
        self.macro_uses = []       # (name, first token) of each invocation of a MacroPort macro
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
        return self.done()

    def done(self):
        """The edits; the port is registered as its function's latest (what it needs: helpers, macros)."""
        ports = getattr(self.src, "ports", None)
        if ports is not None:
            ports[self.fn.spelling] = self
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
        self.buffer_owners()
        self.check_refs()
        self.check_names()

    def buffer_owners(self):
        """A Py_buffer's obj is a PyObject *, an HPy_buffer's a handle the view owns: no rule reads it."""
        for c in _walk(self.body):
            if c.kind == K.MEMBER_REF_EXPR and c.spelling == "obj" and c.referenced is not None and \
                    c.referenced.semantic_parent is not None and \
                    c.referenced.semantic_parent.spelling in ("bufferinfo", "Py_buffer"):
                raise Blocked("reads a Py_buffer's obj (an HPy_buffer's is a handle the view owns)", c.location.line)

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
        return self.done()

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
                    self.extension_macro(m, own)
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
            elif name in VALUE_MACROS:
                self.edit(off, m.extent.end.offset, VALUE_MACROS[name])
            else:
                raise Blocked(f"{name} has no rule in the rewrite", m.location.line)

    def extension_macro(self, m, own):
        """An invocation of the extension's own macro over the C API: allowed when the macro has rules
        (MacroPort: its definition is rewritten) and the invocation passes a handle of this function
        for each parameter the macro uses as an object."""
        port = getattr(self.src, "ext_macros", {}).get(m.spelling)
        line = m.location.line
        if not isinstance(port, MacroPort):
            why = f": {port}" if port is not None else ""
            raise Blocked(f"the extension's macro {m.spelling} uses the C API ({', '.join(dict.fromkeys(own))}){why}",
                          line)
        toks = self.src.toks(m.extent.start.offset, m.extent.end.offset)
        args = _split_top(toks[2:-1]) if len(toks) > 3 else []
        if len(args) != len(port.params):
            raise Blocked(f"the extension's macro {m.spelling} invoked with {len(args)} arguments", line)
        for i in port.objects:
            arg = args[i]
            if len(arg) != 1 or arg[0].text not in self.handles:
                raise Blocked(f"the extension's macro {m.spelling} gets {_text(arg)} as an object (not a handle)", line)
            self.allowed.add(arg[0].start)
        if port.returns_null and self.kind not in ("meth", "get", "slot"):
            raise Blocked(f"the extension's macro {m.spelling} returns NULL, which has no rule in a {self.kind}", line)
        self.covered.append((m.extent.start.offset, m.extent.end.offset))
        self.macro_uses.append((m.spelling, toks[0]))
        self.helpers |= port.helpers

    def module_created(self, m, toks):
        """In the exec slot: `m = PyModule_Create(&def);` -> `m = h_module;` (borrowed: the host owns it);
        `return PyModule_Create(&def);` -> `return 0;`."""
        i = self.src.index(toks[0])
        before, after = self.src.tokens[i - 2:i], self.src.tokens[self.src.index(toks[-1]) + 1]
        if before and before[-1].text == "return" and after.text == ";":
            self.edit(before[-1].start, toks[-1].end, "return 0")
            return
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
                e = _context_exception(arg)
                if e is None:
                    raise Blocked(f"{name} with exception {_text(arg)} (not in the HPy context)", line)
                self.edit(e.start, e.end, e.text)
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
            if any(a <= c.extent.start.offset < b for _, tok in self.macro_uses for a, b in self.covered
                   if a == tok.start):
                continue                    # inside the extension's macro, rewritten in its definition
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
        text = self.format_text(fmt, what, line)
        body = text.split(":")[0].split(";")[0]
        units = []                       # one string per unit: "O", "s#", "|", ...
        for ch in body:
            if ch == "#" and units:
                units[-1] += ch
            else:
                units.append(ch)
        bad = [u for u in units if u not in PARSE_UNITS | {"s#"} | ({"$"} if keywords else set())]
        if bad:
            raise Blocked(f"{what} format {text!r}: unit {bad[0]!r} has no HPyArg_Parse equivalent", line)
        outs = [u for u in units if u not in "|$"]
        if sum(2 if u.endswith("#") else 1 for u in outs) != len(args) - lead:
            raise Blocked(f"{what} with a format that does not match its arguments", line)
        outargs = args[lead:]
        if "s#" in units:
            outs, outargs = self.chars_and_size(toks, fmt, units, text[len(body):], args, lead, what, line)
        for unit, arg in zip(outs, outargs):
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

    def format_text(self, fmt, what, line):
        """A format's text: string literals, or one object-like macro of the file defined as string literals."""
        if fmt and all(t.kind == T.LITERAL and t.text.startswith('"') for t in fmt):
            return "".join(t.text[1:-1] for t in fmt)
        if len(fmt) == 1 and fmt[0].kind == T.IDENTIFIER:
            m = next((m for m in self.src.macros if m.extent.start.offset == fmt[0].start), None)
            d = m.referenced if m is not None else None
            if d is not None and not self.src.declared_outside(d):
                body = self.src.toks(d.extent.start.offset, d.extent.end.offset)[1:]
                if body and all(t.kind == T.LITERAL and t.text.startswith('"') for t in body):
                    return "".join(t.text[1:-1] for t in body)
        raise Blocked(f"{what} with a format that is not a string literal", line)

    def chars_and_size(self, toks, fmt, units, suffix, args, lead, what, line):
        """"s#" (a str as UTF-8, or a read-only bytes-like object: a pointer and a size) has no
        HPyArg_Parse unit: it becomes 'O' into a new local handle, which hpy_port_chars_and_size reads
        into the two outputs right after `if (!PyArg_ParseTuple(...)) return ...;`. The format's
        literal (or the macro that held it) is replaced by the new format. The other units and their
        outputs."""
        stmt = next((c for c in self.body.get_children() if c.kind == K.IF_STMT and
                     c.extent.start.offset < toks[0].start < c.extent.end.offset), None)
        head = self.src.toks(stmt.extent.start.offset, toks[0].start) if stmt is not None else []
        kids = list(stmt.get_children()) if stmt is not None else []
        if [t.text for t in head] != ["if", "(", "!"] or len(kids) != 2 or self.kind != "meth" or \
                "|" in units[:units.index("s#")]:
            raise Blocked(f'{what} with "s#" not as `if (!{what}(...)) return NULL;` in the body of a module '
                          f'function, or optional', line)
        outs, outargs, i, reads = [], [], lead, []
        indent = self.src.text(self.src.data.rfind(b"\n", 0, stmt.extent.start.offset) + 1,
                               stmt.extent.start.offset)
        for unit in units:
            if unit in "|$":
                continue
            if unit != "s#":
                outs.append(unit)
                outargs.append(args[i])
                i += 1
                continue
            data, size = args[i], args[i + 1]
            if len(data) != 2 or data[0].text != "&" or len(size) != 2 or size[0].text != "&":
                raise Blocked(f'{what} "s#" into {_text(data)}, {_text(size)}', line)
            h = self.fresh(f"{data[1].text}_obj")
            while h in [r[0] for r in reads]:
                h += "_"
            reads.append((h, data[1].text, size[1].text))
            self.edit(data[0].start, size[-1].end, f"&{h}")
            self.handles[h] = "borrowed"
            i += 2
        new_fmt = "".join("O" if u == "s#" else u for u in units) + suffix
        self.edit(fmt[0].start, fmt[-1].end, f'"{new_fmt}"')
        decls = "".join(f'HPy {h}; /* "s#" as \'O\', read into {d} and {n} below */\n{indent}' for h, d, n in reads)
        self.edits.append(Edit(stmt.extent.start.offset, stmt.extent.start.offset, decls))
        end = _decl_end(self.src, stmt)   # through the ';' of a body that is one statement
        reads_text = "".join(f"\n{indent}if (hpy_port_chars_and_size(ctx, {h}, (const char **)&{d}, &{n}) < 0)"
                             f"\n{indent}    return HPy_NULL;" for h, d, n in reads)
        self.edits.append(Edit(end, end, reads_text))
        self.helpers.add("hpy_port_chars_and_size")
        return outs, outargs

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


def _context_exception(arg):
    """The Edit that makes an exception argument (its tokens: PyExc_X) the context's ctx->h_X, or None
    when the HPy context has no such exception."""
    exc = arg[0].text[len("PyExc_"):] if len(arg) == 1 and arg[0].text.startswith("PyExc_") else None
    return Edit(arg[0].start, arg[0].end, f"ctx->h_{exc}") if exc in CONTEXT_EXCEPTIONS else None


class MacroPort:
    """A function-like macro of the extension whose C-API uses all have rules, rewritten in place:
    calls in CALLS that return plain values (each object argument one of the macro's parameters,
    which every invocation must then pass a handle), exceptions, ``return NULL`` and VALUE_MACROS.
    ``edits`` rewrite the definition; ``objects`` are the indexes of the parameters used as objects."""

    def __init__(self, src, definition):
        self.src, self.definition = src, definition
        self.name = definition.spelling
        toks = src.toks(definition.extent.start.offset, definition.extent.end.offset)
        if len(toks) < 3 or toks[1].text != "(" or toks[1].start != toks[0].end:
            raise Blocked("it is not function-like")
        close = next(i for i, t in enumerate(toks) if t.text == ")")
        self.params = [t.text for t in toks[2:close] if t.text != ","]
        self.body = toks[close + 1:]
        self.edits, self.objects, self.returns_null = [], set(), False
        self.helpers = set()
        self.run()

    def run(self):
        body = self.body
        done = set()                      # offsets of tokens some rule has read
        for i, t in enumerate(body):
            nxt = body[i + 1] if i + 1 < len(body) else None
            if t.start in done:
                continue
            if t.text == "return":
                if nxt is None or nxt.text != "NULL":
                    raise Blocked("it returns something else than NULL")
                self.edits.append(Edit(nxt.start, nxt.end, "HPy_NULL"))
                done.add(nxt.start)
                self.returns_null = True
            elif t.kind != T.IDENTIFIER:
                continue
            elif t.text in CALLS and nxt is not None and nxt.text == "(":
                self.call(i, done)
            elif t.text in VALUE_MACROS:
                self.edits.append(Edit(t.start, t.end, VALUE_MACROS[t.text]))
            elif t.text in PLAIN_TYPES:
                self.edits.append(Edit(t.start, t.end, PLAIN_TYPES[t.text]))
            elif mapping.is_capi_name(t.text) or t.text == "PyObject":
                raise Blocked(f"{t.text} has no rule in a macro")

    def call(self, i, done):
        body = self.body
        name = body[i].text
        hpy, kinds, result = CALLS[name]
        depth, j = 0, i + 1
        for j in range(i + 1, len(body)):
            depth += {"(": 1, ")": -1}.get(body[j].text, 0)
            if depth == 0:
                break
        args = _split_top(body[i + 2:j]) if j > i + 2 else []
        if result != "value" or len(args) != len(kinds):
            raise Blocked(f"{name} has no rule in a macro (it returns a new reference, or has "
                          f"{len(args)} arguments)")
        if hpy in HELPERS:
            self.helpers.add(hpy)
        self.edits.append(Edit(body[i].start, body[i + 1].end, f"{hpy}(ctx" + (", " if args else "")))
        for kind, arg in zip(kinds, args):
            inner = arg[1:-1] if len(arg) == 3 and arg[0].text == "(" and arg[-1].text == ")" else arg
            if kind == "o":
                if len(inner) == 1 and inner[0].text in CONSTANTS:
                    self.edits.append(Edit(inner[0].start, inner[0].end, CONSTANTS[inner[0].text]))
                elif len(inner) == 1 and inner[0].text in self.params:
                    self.objects.add(self.params.index(inner[0].text))
                else:
                    raise Blocked(f"it passes {_text(arg)} to {name} as an object (only its own "
                                  f"parameters have a rule)")
                done.update(t.start for t in arg)
            elif kind == "x":
                e = _context_exception(inner)
                if e is None:
                    raise Blocked(f"it raises {_text(arg)} (not in the HPy context)")
                self.edits.append(e)
                done.update(t.start for t in arg)

    def text(self, name):
        """The rewritten definition, named NAME (for a copy beside the C-API original)."""
        start, end = self.definition.extent.start.offset, self.definition.extent.end.offset
        out, pos = [], start
        for e in sorted(self.edits, key=lambda e: e.start):
            out.append(self.src.text(pos, e.start))
            out.append(e.text)
            pos = e.end
        out.append(self.src.text(pos, end))
        text = "".join(out)
        return name + text[len(self.name):]


def extension_macros(src):
    """The main file's function-like macros that use the C API: name -> MacroPort, or the Blocked
    that says why the macro has no rule."""
    out = {}
    for c in src.top:
        if c.kind != K.MACRO_DEFINITION:
            continue
        toks = src.toks(c.extent.start.offset, c.extent.end.offset)
        if not any(t.kind == T.IDENTIFIER and (mapping.is_capi_name(t.text) or t.text == "PyObject")
                   for t in toks[1:]):
            continue
        try:
            out[c.spelling] = MacroPort(src, c)
        except Blocked as e:
            out[c.spelling] = e
    return out


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
