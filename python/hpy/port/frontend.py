# python/hpy/port/frontend.py: parses an extension's C sources with libclang and lists its C-API uses.
"""The extension's own functions and every use of the CPython C API they (or its file scope) make.

The source is parsed by libclang (PyPI ``libclang``) with the flags the extension is built with,
and with a detailed preprocessing record, so that macro expansions (``Py_INCREF``,
``Py_RETURN_NONE``, ``PyTuple_GET_ITEM``) are seen as written rather than as what they expand to.
Only what is spelled in the extension's own files counts: a call that a CPython macro makes from
inside Python's headers is part of that macro, not a separate use.
"""
import ctypes
import json
import shlex
import subprocess
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from . import mapping

INSTALL_HINT = ("hpy.port needs libclang's Python bindings: pip install libclang "
                "(or: pip install 'unihpy[port]')")

try:
    from clang import cindex
except ImportError as e:
    raise ImportError(INSTALL_HINT) from e

K = cindex.CursorKind

# File-scope variables of these types are definitions the port replaces (PyMethodDef tables...).
DEFINITION_TYPES = ("PyMethodDef", "PyTypeObject", "PyModuleDef", "PyGetSetDef", "PyMemberDef",
                    "PyType_Slot", "PyType_Spec", "PyModuleDef_Slot", "PyNumberMethods",
                    "PySequenceMethods", "PyMappingMethods", "PyBufferProcs")


@dataclass
class Use:
    name: str       # the C-API name as written: a function, macro, variable, type or ->member
    kind: str       # call, macro, variable, function-ref, member, definition, static-type-ref
    file: str
    line: int
    column: int


@dataclass
class Function:
    name: str
    file: str
    start: int
    end: int
    uses: list = field(default_factory=list)
    calls: set = field(default_factory=set)          # the extension's own functions it calls
    registered_in: list = field(default_factory=list)  # "module_methods (PyMethodDef)"


@dataclass
class Extension:
    main: str
    functions: dict                # name -> Function, in source order
    file_scope: list               # uses outside any function (definitions, tables)
    diagnostics: list              # libclang errors, as text


def _builtin_include():
    # The PyPI libclang carries no builtin headers (stddef.h, stdarg.h): the C compiler's serve.
    try:
        out = subprocess.run(["cc", "-print-file-name=include"], capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return []
    return [f"-isystem{out}"] if out and Path(out).is_dir() else []


def python_include_dirs():
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["include"], paths["platinclude"]]))


def default_flags(source):
    lang = "c++" if Path(source).suffix in (".cpp", ".cc", ".cxx") else "c"
    return ["-x", lang] + [f"-I{d}" for d in python_include_dirs()] + _builtin_include()


def flags_from_compile_commands(path, source):
    """The flags of SOURCE's entry in a compile_commands.json, without the compiler, -c, -o and the
    source; relative paths resolve against the entry's directory (-working-directory)."""
    source = Path(source).resolve()
    for entry in json.loads(Path(path).read_text()):
        directory = Path(entry.get("directory", "."))
        if (directory / entry["file"]).resolve() != source:
            continue
        args = entry.get("arguments") or shlex.split(entry["command"])
        flags, skip = [], False
        for arg in args[1:]:
            if skip:
                skip = False
            elif arg == "-o":
                skip = True
            elif arg != "-c" and (directory / arg).resolve() != source:
                flags.append(arg)
        return flags + [f"-working-directory={directory}"]
    raise CompileCommandsError(f"{source} has no entry in {path}")


class CompileCommandsError(LookupError):
    """A compile_commands.json without an entry for the source."""


_get_file_location = cindex.conf.lib.clang_getFileLocation
_get_file_location.argtypes = [cindex.SourceLocation, ctypes.POINTER(cindex.c_object_p),
                               ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
                               ctypes.POINTER(ctypes.c_uint)]


def _written_at(location):
    """(file name, line, column) of the token at location as the file shows it: where a macro
    argument is spelled, or where the macro is expanded for a token from the macro's body."""
    f, line, col, offset = cindex.c_object_p(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    _get_file_location(location, ctypes.byref(f), ctypes.byref(line), ctypes.byref(col),
                       ctypes.byref(offset))
    return (cindex.File(f).name if f else None), line.value, col.value


def _type_name(type_):
    """A variable's type as written, without qualifiers, `struct` and array bounds."""
    words = [w for w in type_.spelling.split("[")[0].split() if w not in ("const", "static", "struct")]
    return " ".join(words)


class _Walker:
    def __init__(self, tu, main, own_dirs):
        self.tu = tu
        self.main = str(Path(main).resolve())
        self.own_dirs = [Path(d).resolve() for d in own_dirs]
        self.python_dirs = [Path(d).resolve() for d in python_include_dirs()]
        self._own = {}
        self.functions = {}
        self.file_scope = []
        self.seen = set()
        self.expansions = set()   # (file, line, column) of every macro expansion

    def own(self, filename):
        """Whether a file is the extension's: the main file or a file under its folders, but not
        one of Python's headers."""
        if filename is None:
            return False
        if filename not in self._own:
            p = Path(filename).resolve()
            inside = lambda dirs: any(p.is_relative_to(d) for d in dirs)
            self._own[filename] = str(p) == self.main or (inside(self.own_dirs)
                                                          and not inside(self.python_dirs))
        return self._own[filename]

    def in_python_headers(self, cursor):
        """Whether a declaration is CPython's (a member of HPy's context is not a C-API use)."""
        f = cursor.location.file
        return f is not None and any(Path(f.name).resolve().is_relative_to(d) for d in self.python_dirs)

    def declared_outside(self, cursor):
        return cursor is not None and not self.own(cursor.location.file and cursor.location.file.name)

    def function_at(self, filename, line):
        for fn in self.functions.values():
            if fn.file == filename and fn.start <= line <= fn.end:
                return fn
        return None

    def add(self, name, kind, location):
        """Records one use where the file shows it, once per token: a call and the reference to its
        callee are one use. A token a macro's body produced belongs to that macro's use."""
        where = _written_at(location)
        if not self.own(where[0]) or (where, name) in self.seen:
            return
        if kind != "macro" and where in self.expansions:
            return
        self.seen.add((where, name))
        use = Use(name, kind, where[0], where[1], where[2])
        fn = self.function_at(where[0], where[1])
        (fn.uses if fn else self.file_scope).append(use)

    def run(self):
        top = [c for c in self.tu.cursor.get_children()
               if c.location.file and self.own(c.location.file.name)]
        for c in top:
            if c.kind == K.FUNCTION_DECL and c.is_definition():
                self.functions[c.spelling] = Function(c.spelling, c.location.file.name,
                                                      c.extent.start.line, c.extent.end.line)
        for c in top:
            if c.kind == K.MACRO_INSTANTIATION:
                self.macro(c)
        for c in top:
            if c.kind == K.VAR_DECL:
                self.definition(c)
            if c.kind in (K.FUNCTION_DECL, K.VAR_DECL) and c.is_definition():
                self.walk(c, c)
        for fn in self.functions.values():
            fn.uses.sort(key=lambda u: (u.line, u.column))
        self.file_scope.sort(key=lambda u: (u.file != self.main, u.file, u.line, u.column))

    def macro(self, c):
        """A macro expansion: a C-API macro is one use; the extension's own macro is read token by
        token for the C-API names its body spells."""
        definition = c.referenced
        where = _written_at(c.location)
        self.expansions.add(where)
        if definition is None:
            return
        if self.declared_outside(definition):
            if mapping.is_capi_name(c.spelling):
                self.add(c.spelling, "macro", c.location)
            return
        previous = None
        for token in list(definition.get_tokens())[1:]:
            text = token.spelling
            if token.kind == cindex.TokenKind.IDENTIFIER:
                # A member read in a macro is known by name only: it counts when the table says every
                # struct that has it is the interpreter's (ob_type, tp_name), not for a Py_buffer's field.
                member = "->" + text
                name = member if previous in ("->", ".") and mapping.ENTRIES.get(member) and \
                    mapping.ENTRIES[member].blocker else text
                if name.startswith("->") or mapping.is_capi_name(name):
                    self.add_in_macro(name, c.spelling, where)
            previous = text

    def add_in_macro(self, name, macro, where):
        use = Use(name, f"in macro {macro}", where[0], where[1], where[2])
        fn = self.function_at(where[0], where[1])
        (fn.uses if fn else self.file_scope).append(use)

    def definition(self, c):
        base = _type_name(c.type)
        if base in DEFINITION_TYPES or base == "PyObject *":
            kind = "global" if base == "PyObject *" else "definition"
            static = base == "PyTypeObject"
            name = "static PyTypeObject" if static else base
            self.add(name, kind, c.location)

    def walk(self, top, cursor):
        for c in cursor.get_children():
            ref = c.referenced if c.kind in (K.CALL_EXPR, K.DECL_REF_EXPR, K.MEMBER_REF_EXPR) else None
            if ref is not None:
                self.reference(top, c, ref)
            self.walk(top, c)

    def reference(self, top, c, ref):
        name = ref.spelling
        if ref.kind == K.FUNCTION_DECL and name in self.functions and not self.declared_outside(ref):
            if top.kind == K.FUNCTION_DECL and c.kind == K.CALL_EXPR:
                self.functions[top.spelling].calls.add(name)
            elif top.kind == K.VAR_DECL:
                self.functions[name].registered_in.append(f"{top.spelling} ({_type_name(top.type)})")
            return
        if c.kind == K.MEMBER_REF_EXPR and ref.kind == K.FIELD_DECL:
            if self.declared_outside(ref) and self.in_python_headers(ref):
                self.add("->" + name, "member", c.location)
        elif ref.kind == K.VAR_DECL and not self.declared_outside(ref):
            if _type_name(ref.type) == "PyTypeObject":
                self.add("static PyTypeObject", "static-type-ref", c.location)
        elif mapping.is_capi_name(name) and self.declared_outside(ref):
            if c.kind == K.CALL_EXPR:
                kind = "call"
            else:
                kind = {K.FUNCTION_DECL: "function-ref", K.ENUM_CONSTANT_DECL: "constant"}.get(
                    ref.kind, "variable")
            self.add(name, kind, c.location)


def parse(source, flags=None, own_dirs=None):
    """Parses SOURCE with flags (default: Python's include folders) and returns an Extension."""
    source = str(Path(source).resolve())
    args = default_flags(source) + list(flags or [])
    tu = cindex.Index.create().parse(source, args=args,
                                     options=cindex.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    diagnostics = [f"{d.location.file}:{d.location.line}: {d.spelling}" for d in tu.diagnostics
                   if d.severity >= cindex.Diagnostic.Error]
    walker = _Walker(tu, source, own_dirs if own_dirs is not None else [Path(source).parent])
    walker.run()
    return Extension(source, walker.functions, walker.file_scope, diagnostics)
