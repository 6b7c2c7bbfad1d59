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
from dataclasses import dataclass, field
from pathlib import Path

from . import frontend, mapping
from .function import (HELPERS, MINOR_1, MODULEDEF_FIELDS, OBJECT_SLOTS, PLAIN_TYPES, TYPE_FLAGS,
                       _dealloc_droppable, _FunctionPort, _port_traverse, extension_macros)
from .source import (K, T, Blocked, Edit, RewriteError, Source, _compact, _decl_end, _fresh,
                     _is_pyobject_ptr, _offset, _split_top, _text, _walk)


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
        self.include = None     # the range of `#include <Python.h>`
        # What the function rules read and leave: the file's macros over the C API, and each function's
        # latest port (its helpers and macro invocations count once the function is converted).
        if not hasattr(src, "ext_macros"):
            src.ext_macros = extension_macros(src)
        src.ports = {}

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
        self.field_decls, self.exec_port = set(), None
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
        if module_ok:
            self.file_edits(functions, outcome)
        self.result.converted_uses = self.count_replaced(ext)
        self.result.module_converted = module_ok
        self.result.text = self.apply()
        return self.result

    def file_edits(self, functions, outcome):
        """What the converted functions need at file scope: the rewrite's helpers (before the first
        function that calls each), their macros over the C API (rewritten in place when every
        invocation is converted, else an HPy copy NAME_HPY beside the original), and the include,
        with HPY_ABI_VERSION_MINOR 1 when an edit calls an HPy function of ABI 0.1."""
        src = self.src
        ports = {name: p for name, p in src.ports.items() if name in outcome and outcome[name].status == "hpy"}
        first = {}
        for name, port in ports.items():
            for h in port.helpers:
                first[h] = min(first.get(h, port.fn.extent.start.offset), port.fn.extent.start.offset)
        for h, at in sorted(first.items()):
            self.add(at, at, HELPERS[h])
        used = {}
        for name, port in ports.items():
            for macro, tok in port.macro_uses:
                used.setdefault(macro, []).append(tok)
        for macro, toks in sorted(used.items()):
            mp = src.ext_macros[macro]
            invocations = [m for m in src.macros if m.spelling == macro]
            if len(invocations) == len(toks):
                self.edits += mp.edits
                continue
            end = mp.definition.extent.end.offset
            self.add(end, end, f"\n/* hpy.port: {macro} for the functions now HPy; the C-API original "
                               f"stays for the others */\n#define {mp.text(macro + '_HPY')}")
            for tok in toks:
                self.add(tok.start, tok.end, macro + "_HPY")
        # Uses the report finds that the rewrite converts without replacing their text: those it places
        # at a converted invocation (rewritten in the macro), and the fields of a Py_buffer in a
        # converted function (the same fields of the HPy_buffer its declaration now makes).
        self.kept_spans = [(tok.start, tok.end) for toks in used.values() for tok in toks]
        for port in ports.values():
            for c in _walk(port.fn):
                ref = c.referenced if c.kind == K.MEMBER_REF_EXPR else None
                if ref is not None and ref.semantic_parent is not None and \
                        ref.semantic_parent.spelling in ("bufferinfo", "Py_buffer"):
                    self.kept_spans.append((c.location.offset, c.location.offset + len(c.spelling)))
        if self.include is not None:
            minor = sorted({n for e in self.edits for n in MINOR_1 if n in e.text} |
                           {n for h in first for n in MINOR_1 if n in HELPERS[h]})
            text = '#include "hpy.h" /* includes Python.h in the hybrid ABI */'
            if minor:
                text = (f"/* hpy.port: {', '.join(minor)} {'is' if len(minor) == 1 else 'are'} HPy ABI 0.1, beyond "
                        "HPy 0.9: the module needs a host of ABI 0.1 or newer */\n"
                        f"#define HPY_ABI_VERSION_MINOR 1\n{text}")
            self.add(*self.include, text)

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
        spans = [(e.start, e.end) for e in self.edits if e.end > e.start] + getattr(self, "kept_spans", [])
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
                self.exec_port = edits
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
                self.include = (c.extent.start.offset, c.extent.end.offset)   # written by file_edits
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
