# python/hpy/port/source.py: one C source as the rewrite sees it: libclang's cursors, the file's tokens, edits.
"""The C source of an extension, parsed once by libclang: its tokens with their file offsets, its
top-level cursors and macro expansions, and the small helpers every rule of the rewrite uses (the
offset where a token is written, top-level splitting of token lists, the end of a declaration).
``Blocked`` is how a rule says it does not apply; ``RewriteError`` is input the rewrite cannot work on.
"""
import ctypes
from dataclasses import dataclass
from pathlib import Path

from . import frontend

cindex = frontend.cindex

K = cindex.CursorKind
T = cindex.TokenKind


class RewriteError(Exception):
    """Input the rewrite cannot work on (the message names the file and the cause)."""


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


def _decl_end(src, cursor):
    """The end of a declaration including its ';'."""
    end = cursor.extent.end.offset
    toks = src.toks(end, end + 64)
    return toks[0].end if toks and toks[0].text == ";" else end
