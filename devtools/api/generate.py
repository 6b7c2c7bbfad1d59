#!/usr/bin/env python3
"""devtools/api/generate.py: makes every *_gen.* file of unihpy from devtools/api/hpy.api.

Standard library only, deterministic (same input, same bytes).
    python3 devtools/api/generate.py            write the generated files
    python3 devtools/api/generate.py --check    exit 1 and name the files that differ
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API_FILE = Path(__file__).resolve().with_name("hpy.api")
HEADER_SIZE = 24  # const char *name; void *_private; int abi_version; (LP64, padded)
POINTER_SIZE = 8


# ---------------------------------------------------------------- the description

@dataclass
class Param:
    ctype: str  # the declaration without the name, e.g. "const HPy *"
    name: str
    decl: str   # as written, e.g. "const HPy *args"

    @property
    def is_handle(self) -> bool:
        return self.ctype.strip() == "HPy"


@dataclass
class Member:
    index: int
    kind: str          # "handle" or "function"
    name: str          # context member name: h_None, ctx_Dup
    api: str = ""      # public name: HPy_Dup (functions only)
    ret: str = ""
    params: list[Param] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def cpython(self) -> str:
        return self.options.get("cpython", "")

    @property
    def is_direct(self) -> bool:
        """CPython ABI: an inline call of one CPython function."""
        return self.kind == "function" and self.cpython not in ("", "inline")

    @property
    def host_only(self) -> bool:
        return "host-only" in self.options

    @property
    def minor(self) -> int:
        """The ABI minor version that added the member: 0 for HPy 0.9's own."""
        return int(self.options.get("minor", "0"))

    def param_list(self) -> str:
        return ", ".join(["HPyContext *ctx"] + [p.decl for p in self.params])

    def arg_names(self) -> str:
        return ", ".join(["ctx"] + [p.name for p in self.params])

    def ret_decl(self, name: str) -> str:
        """`RET NAME` with the pointer star kept next to the name."""
        return f"{self.ret}{name}" if self.ret.endswith("*") else f"{self.ret} {name}"

    @property
    def returns_null(self) -> bool:
        """The public function returns HPy_NULL where the context member returns nothing."""
        return "returns-null" in self.options

    def public_decl(self) -> str:
        """`RET NAME` of the public API function (HPyAPI_FUNC), with its attributes."""
        decl = f"HPy {self.api}" if self.returns_null else self.ret_decl(self.api)
        return ("HPy_NORETURN " + decl) if "noreturn" in self.options else decl

    def public_tail(self) -> list[str]:
        """What the public function's body adds after the call to the context or the runtime."""
        if self.returns_null:
            return ["    return HPy_NULL;"]
        if "noreturn" in self.options:
            # A context function pointer carries no noreturn: the compiler must see that this never returns.
            return ["    __builtin_abort();"]
        return []


@dataclass
class Signature:
    name: str
    number: int
    ret: str
    params: list[Param]
    block: list[Param] | None  # None: no generic argument block
    flags: set[str]

    @property
    def typedef(self) -> str:
        if self.name == "CAPSULE_DESTRUCTOR":
            return "HPyFunc_Capsule_Destructor"
        return "HPyFunc_" + self.name.lower()

    @property
    def has_ctx(self) -> bool:
        return "no-ctx" not in self.flags

    @property
    def inputs(self) -> list[Param]:
        return [p for p in (self.block or []) if p.name != "result"]

    @property
    def result(self) -> Param | None:
        return next((p for p in (self.block or []) if p.name == "result"), None)


@dataclass
class Slot:
    name: str
    number: int
    signature: str


@dataclass
class Api:
    members: list[Member]
    signatures: list[Signature]
    slots: list[Slot]
    shifted: range = range(0)  # members that some hosts place one slot later ([layouts])

    @property
    def functions(self) -> list[Member]:
        return [m for m in self.members if m.kind == "function"]

    @property
    def handles(self) -> list[Member]:
        return [m for m in self.members if m.kind == "handle"]

    @property
    def hpy09_members(self) -> list[Member]:
        """The members of HPy 0.9's context (minor 0), before every later addition."""
        return [m for m in self.members if m.minor == 0]

    @property
    def latest_minor(self) -> int:
        return max(m.minor for m in self.members)


def parse_param(text: str) -> Param:
    text = " ".join(text.split())
    m = re.match(r"^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(\[\])?$", text)
    if not m:
        raise ValueError(f"cannot parse parameter {text!r}")
    ctype = m.group(1)
    if m.group(3):
        ctype = ctype + "*"
    return Param(ctype=ctype.strip() + (" " if not ctype.endswith("*") else ""), name=m.group(2), decl=text)


def parse_params(text: str) -> list[Param]:
    text = text.strip()
    if text in ("", "void"):
        return []
    return [parse_param(p) for p in text.split(",")]


def member_name_of(api_name: str) -> str:
    stem = api_name.lstrip("_")
    stem = stem[3:] if stem.startswith("HPy") else stem
    return "ctx_" + stem.lstrip("_")


def parse_options(text: str) -> dict[str, str]:
    options = {}
    for word in text.split():
        key, _, value = word.partition("=")
        options[key] = value
    return options


DECL_RE = re.compile(r"^(?P<ret>.+?)\s*\b(?P<name>[A-Za-z_][A-Za-z0-9_]*)\((?P<params>.*)\);(?P<opts>.*)$")
HANDLE_RE = re.compile(r"^HPy\s+(?P<name>h_[A-Za-z0-9_]+);(?P<opts>.*)$")
SIG_RE = re.compile(r"^(?P<name>[A-Z_]+) = (?P<num>\d+): (?P<ret>[A-Za-z_ *]+?) \((?P<params>[^)]*)\)"
                    r" \| (?P<block>[^|]*?)(?: \| (?P<flags>.*))?$")
SHIFTED_RE = re.compile(r"^shifted = (?P<first>\d+)\.\.(?P<last>\d+)$")
SLOT_RE = re.compile(r"^(?P<name>[a-z_]+) = (?P<num>\d+): (?P<sig>[A-Z_]+)$")


def parse(path: Path = API_FILE) -> Api:
    members: list[Member] = []
    signatures: list[Signature] = []
    slots: list[Slot] = []
    shifted = range(0)
    section = None
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        where = f"{path.name}:{lineno}"
        if section == "members":
            if m := HANDLE_RE.match(line):
                members.append(Member(len(members), "handle", m["name"], options=parse_options(m["opts"])))
            elif m := DECL_RE.match(line):
                members.append(Member(len(members), "function", member_name_of(m["name"]), api=m["name"],
                                      ret=" ".join(m["ret"].split()), params=parse_params(m["params"]),
                                      options=parse_options(m["opts"])))
            else:
                raise SystemExit(f"{where}: not a member declaration: {line}")
        elif section == "signatures":
            m = SIG_RE.match(line)
            if not m:
                raise SystemExit(f"{where}: not a signature line: {line}")
            block_text = m["block"].strip()
            block = None if block_text == "-" else [parse_param(f) for f in block_text.split(";")]
            signatures.append(Signature(m["name"], int(m["num"]), m["ret"].strip(), parse_params(m["params"]),
                                        block, set((m["flags"] or "").split())))
        elif section == "slots":
            m = SLOT_RE.match(line)
            if not m:
                raise SystemExit(f"{where}: not a slot line: {line}")
            slots.append(Slot(m["name"], int(m["num"]), m["sig"]))
        elif section == "layouts":
            m = SHIFTED_RE.match(line)
            if not m:
                raise SystemExit(f"{where}: not a layout line: {line}")
            shifted = range(int(m["first"]), int(m["last"]) + 1)
        else:
            raise SystemExit(f"{where}: text outside a section")
    if shifted.stop > len(members):
        raise SystemExit(f"{path.name}: [layouts] shifted = {shifted.start}..{shifted.stop - 1} passes the last member")
    # Additions are appended: each member's minor is at least the one before it.
    for before, m in zip(members, members[1:]):
        if m.minor < before.minor:
            raise SystemExit(f"{path.name}: {m.name} (minor {m.minor}) follows a member of minor {before.minor}")
    if any(m.minor and m.cpython for m in members):
        raise SystemExit(f"{path.name}: a member beyond HPy 0.9 is a runtime function (no cpython= option)")
    if any(members[i].minor for i in shifted):
        raise SystemExit(f"{path.name}: [layouts] shifted covers members beyond HPy 0.9")
    return Api(members, signatures, slots, shifted)


# ---------------------------------------------------------------- output helpers

def banner(path: str, comment: str = "//") -> str:
    return (f"{comment} {path}: GENERATED by devtools/api/generate.py from devtools/api/hpy.api; do not edit.\n"
            f"{comment} Change the description or the generator, then run `make generate`.\n")


def c_header(path: str, guard: str, body: str, extern_c: bool = False) -> str:
    out = [banner(path), f"#ifndef {guard}", f"#define {guard}", ""]
    if extern_c:
        out += ["#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    out.append(body.rstrip("\n"))
    if extern_c:
        out += ["", "#ifdef __cplusplus", "}", "#endif"]
    out += ["", f"#endif /* {guard} */", ""]
    return "\n".join(out)


def to_py(p: Param) -> str:
    return f"_h2py({p.name})" if p.is_handle else p.name


# ---------------------------------------------------------------- the generated files

def beyond_09(m: Member, body: list[str]) -> list[str]:
    """`body` (the public function) for a member added after HPy 0.9, in every ABI: usable only by a
    module that requests its minor version; otherwise a call is a compile error that says so."""
    if m.minor == 0:
        return body
    message = (f"{m.api} is beyond HPy 0.9: it needs HPy ABI 0.{m.minor}; #define HPY_ABI_VERSION_MINOR "
               f"{m.minor} before including hpy.h (hosts of ABI 0.0, HPy 0.9's and PyPy's, then refuse the "
               "module with an ImportError)")
    return [f"#if HPY_ABI_VERSION_MINOR >= {m.minor}", *body, "#else",
            f"HPY_EXTERN_C {m.public_decl()}({m.param_list()}) _HPY_UNAVAILABLE(\"{message}\");", "#endif"]


def gen_context(api: Api) -> str:
    lines = ["/* The HPy universal context: this layout is the ABI (member i at byte 24 + 8*i). */",
             "struct _HPyContext_s {",
             "    const char *name;",
             "    void *_private;",
             "    int abi_version;"]
    for m in api.members:
        if m.kind == "handle":
            lines.append(f"    HPy {m.name};")
        else:
            lines.append(f"    {m.ret_decl('(*' + m.name + ')')}({m.param_list()});")
    lines.append("};")
    return c_header("include/hpy/universal/context_gen.h", "HPY_UNIVERSAL_CONTEXT_GEN_H", "\n".join(lines))


def gen_universal_api(api: Api) -> str:
    out = ["/* The universal ABI: every API function is one indirect call through the context. Members",
           f"   {api.shifted.start}..{api.shifted.stop - 1} sit _HPy_ContextShift slots later on some hosts "
           "(hpy/universal/context_adapter.h). */", ""]
    for m in api.functions:
        if m.options.get("trampoline") == "manual":
            continue
        ret = "" if m.ret == "void" else "return "
        member = f"(&ctx->{m.name})[_HPy_ContextShift]" if m.index in api.shifted else f"ctx->{m.name}"
        direct = []
        if m.options.get("universal") == "direct":
            # With the context of direct calls, _HPY_DIRECT_<api> (universal/hpy_universal.h) instead.
            direct = ["#ifndef HPY_EMBEDDED_MODULES",
                      "    if (ctx == _ctx_direct_calls)",
                      f"        return _HPY_DIRECT_{m.api}({m.arg_names()});",
                      "#endif"]
        body = [f"HPyAPI_FUNC {m.public_decl()}({m.param_list()})",
                "{",
                *direct,
                f"    {ret}{member}({m.arg_names()});",
                *m.public_tail(),
                "}"]
        if "legacy" in m.options:
            message = (f"{m.api} is part of the legacy API. Cannot use legacy functions when targeting "
                       "the HPy Universal ABI: build with the hybrid ABI to call it")
            body = ["#ifdef HPY_ABI_HYBRID", *body, "#else",
                    f"HPY_EXTERN_C {m.ret_decl(m.api)}({m.param_list()}) _HPY_LEGACY_ONLY(\"{message}\");", "#endif"]
        out += beyond_09(m, body) + [""]
    return c_header("include/hpy/universal/api_gen.h", "HPY_UNIVERSAL_API_GEN_H", "\n".join(out))


def gen_cpython_api(api: Api) -> str:
    out = ["/* The CPython ABI: direct CPython calls, or calls of the runtime linked into the extension. */", ""]
    for m in api.functions:
        if m.host_only or m.cpython == "inline":
            continue
        ret = "" if m.ret == "void" else "return "
        if m.is_direct:
            call = f"{m.cpython}({', '.join(to_py(p) for p in m.params)})"
            if m.ret == "HPy":
                body = f"return _py2h({call});"
            elif m.ret == "void":
                body = f"(void){call};"
            else:
                body = f"return ({m.ret}){call};"
            # (an emulator's Py_FatalError, PyPy 3.9's, is not declared noreturn: the tail says it)
            out += beyond_09(m, [f"HPyAPI_FUNC {m.public_decl()}({m.param_list()})", "{", "    (void)ctx;",
                                 f"    {body}", *m.public_tail(), "}"]) + [""]
        else:
            out += beyond_09(m, [f"HPyAPI_FUNC {m.public_decl()}({m.param_list()})", "{",
                                 f"    {ret}{m.name}({m.arg_names()});", *m.public_tail(), "}"]) + [""]
    return c_header("include/hpy/cpython/api_gen.h", "HPY_CPYTHON_API_GEN_H", "\n".join(out))


def gen_runtime_decls(api: Api) -> str:
    out = ["/* The runtime's implementation of every context function (runtime/cpython). Extensions built",
           "   for the CPython ABI link these privately; the universal host puts them in its context. */", ""]
    for m in api.functions:
        out.append(f"HPyAPI_RUNTIME_FUNC {m.ret_decl(m.name)}({m.param_list()});")
    return c_header("include/hpy/cpython/runtime_gen.h", "HPY_CPYTHON_RUNTIME_GEN_H", "\n".join(out), extern_c=True)


def gen_runtime_wrappers(api: Api) -> str:
    out = [banner("runtime/cpython/ctx_inline_gen.cpp"),
           "// Context functions whose CPython-ABI version is inline: the host needs them as real functions.",
           "#include \"hpy.h\"", "",
           "extern \"C\" {", ""]
    out[-2:-2] = [
        "// A CPython function returning PyObject *, called as one returning HPy: on these ABIs both come back",
        "// in the same register, and the compiler turns the call into a jump only when the return types",
        "// agree (a wrapper is then two instructions instead of five).",
        "#if defined(__x86_64__) || defined(__aarch64__)",
        "template <typename... A>",
        "static inline auto returning_handle(PyObject *(*f)(A...))",
        "{",
        "    static_assert(sizeof(HPy) == sizeof(PyObject *), \"a handle is one pointer\");",
        "    return reinterpret_cast<HPy (*)(A...)>(reinterpret_cast<void (*)(void)>(f));",
        "}",
        "#  define _HPY_CALL_RETURNING_HANDLE(F, ...) returning_handle(&F)(__VA_ARGS__)",
        "#else",
        "#  define _HPY_CALL_RETURNING_HANDLE(F, ...) _py2h(F(__VA_ARGS__))",
        "#endif",
        ""]
    for m in api.functions:
        if not (m.is_direct or m.cpython == "inline"):
            continue
        ret = "" if m.ret == "void" else "return "
        if m.is_direct and m.ret == "HPy":
            args = ", ".join([m.cpython] + [to_py(p) for p in m.params])
            body = ["    (void)ctx;", f"    return _HPY_CALL_RETURNING_HANDLE({args});"]
        else:
            body = [f"    {ret}{m.api}({m.arg_names()});"]
        out += [f"{m.ret_decl(m.name)}({m.param_list()})", "{", *body, "}", ""]
    out += ["}  // extern \"C\"", ""]
    return "\n".join(out)


def gen_context_init(api: Api) -> str:
    out = [banner("runtime/cpython/context_init_gen.cpp"),
           "// Fills a context with the CPython objects behind the handles and the runtime's functions.",
           "#include \"runtime/cpython/context_init.h\"", "",
           "namespace hpy::cpython {", "",
           "void fill_handles(HPyContext *ctx)",
           "{"]
    for m in api.handles:
        expr = m.cpython
        if expr == "builtins-dict":
            expr = "builtins_dict()"
        else:
            expr = f"(PyObject *){expr}"
        out.append(f"    ctx->{m.name} = _py2h({expr});")
    out += ["}", "", "void fill_functions(HPyContext *ctx)", "{"]
    for m in api.functions:
        out.append(f"    ctx->{m.name} = &{m.name};")
    out += ["}", "", "}  // namespace hpy::cpython", ""]
    return "\n".join(out)


def gen_offsets(api: Api) -> str:
    out = ["/* Pins every context member at its ABI offset; compiled as C11 and as C++17 by the tests. */",
           "#include <stddef.h>",
           "#ifdef __cplusplus",
           "#define HPY_LAYOUT_ASSERT(cond, what) static_assert(cond, what)",
           "#else",
           "#define HPY_LAYOUT_ASSERT(cond, what) _Static_assert(cond, what)",
           "#endif", "",
           f"HPY_LAYOUT_ASSERT(sizeof(struct _HPyContext_s) == {HEADER_SIZE + POINTER_SIZE * len(api.members)}, "
           "\"sizeof(HPyContext)\");",
           "HPY_LAYOUT_ASSERT(offsetof(struct _HPyContext_s, name) == 0, \"name\");",
           "HPY_LAYOUT_ASSERT(offsetof(struct _HPyContext_s, _private) == 8, \"_private\");",
           "HPY_LAYOUT_ASSERT(offsetof(struct _HPyContext_s, abi_version) == 16, \"abi_version\");"]
    hpy09 = api.hpy09_members
    out.append(f"/* HPy 0.9's context ({len(hpy09)} members) ends at byte {HEADER_SIZE + POINTER_SIZE * len(hpy09)}; "
               "later minor versions append. */")
    for m in api.members:
        off = HEADER_SIZE + POINTER_SIZE * m.index
        out.append(f"HPY_LAYOUT_ASSERT(offsetof(struct _HPyContext_s, {m.name}) == {off}, \"{m.name}\");")
    return c_header("tests/abi/context_offsets_gen.h", "HPY_TESTS_CONTEXT_OFFSETS_GEN_H", "\n".join(out))


# Method signatures whose trampolines each ABI's header defines itself (see gen_hpyfunc).
METHOD_SPECIAL_SIGNATURES = ("NOARGS", "O", "VARARGS", "KEYWORDS")


def gen_hpyfunc(api: Api) -> str:
    out = ["/* Function signatures, slots and the argument blocks trampolines hand to the host. */", "",
           "typedef enum {"]
    out += [f"    HPyFunc_{s.name} = {s.number}," for s in api.signatures]
    out += ["} HPyFunc_Signature;", "", "typedef enum {"]
    out += [f"    HPy_{s.name} = {s.number}," for s in api.slots]
    out += ["} HPySlot_Slot;", "",
            "/* The C type of each signature's implementation. */"]
    for s in api.signatures:
        params = (["HPyContext *ctx"] if s.has_ctx else []) + [p.decl for p in s.params]
        ret = s.ret if s.ret.endswith("*") else s.ret + " "
        out.append(f"typedef {ret}(*{s.typedef})({', '.join(params)});")
    out += ["", "/* Declares an implementation function SYM of signature SIG: _HPyFunc_DECLARE_<SIG>(SYM). */"]
    for s in api.signatures:
        params = (["HPyContext *ctx"] if s.has_ctx else []) + [p.decl for p in s.params]
        ret = s.ret if s.ret.endswith("*") else s.ret + " "
        out.append(f"#define _HPyFunc_DECLARE_HPyFunc_{s.name}(SYM) static {ret}SYM({', '.join(params)})")
    out += ["", "/* The trampolines of a method (HPyDef_METH): _HPyMeth_TRAMPOLINES_<SIG>(SYM, IMPL) defines",
            "   SYM_trampoline, _HPyMeth_FASTCALL_<SIG>(SYM) is a METH_FASTCALL form of it or a null pointer.",
            "   The signatures of methods have their own in each ABI's header; every other one (a method",
            "   the host refuses) has the plain trampoline. */"]
    for s in api.signatures:
        if s.name in METHOD_SPECIAL_SIGNATURES:
            continue
        out.append(f"#define _HPyMeth_TRAMPOLINES_HPyFunc_{s.name}(SYM, IMPL) "
                   f"_HPyFunc_TRAMPOLINE_HPyFunc_{s.name}(SYM##_trampoline, IMPL)")
        out.append(f"#define _HPyMeth_FASTCALL_HPyFunc_{s.name}(SYM) ((cpy_PyCFunction)0)")
    out += ["", "/* Every slot as X(name, number, signature), for code that walks them all. */",
            "#define _HPY_SLOT_LIST(X) \\"]
    out += [f"    X({sl.name}, {sl.number}, {sl.signature}) \\" for sl in api.slots]
    out += ["", "/* The signature of each slot: _HPySlot_SIG__<slot>. */"]
    for sl in api.slots:
        out.append(f"#define _HPySlot_SIG__HPy_{sl.name} HPyFunc_{sl.signature}")
    out += ["", "/* Argument blocks: a universal trampoline fills one and passes it to the host. */"]
    for s in api.signatures:
        if s.block is None:
            continue
        out.append("typedef struct {")
        out += [f"    {p.decl};" for p in s.block]
        out.append(f"}} _HPyFunc_args_{s.name};")
    return c_header("include/hpy/hpyfunc_gen.h", "HPY_HPYFUNC_GEN_H", "\n".join(out))


def cpy_params(s: Signature) -> list[str]:
    """The C-side trampoline's parameters (CPython calling convention)."""
    params = []
    for p in s.inputs:
        params.append(f"int {p.name}" if "cpy-int-op" in s.flags and p.ctype.strip() == "HPy_RichCmpOp" else p.decl)
    if s.name == "NOARGS":
        params.append("cpy_PyObject *_ignored")
    return params or ["void"]


def cpy_ret(s: Signature) -> str:
    return s.result.ctype.strip() if s.result else "void"


# The direct calls of the special signatures a universal trampoline can make without the host: the
# argument array is already a handle array; the others (tuple arguments, buffers) always go to the host.
DIRECT_SPECIAL = {
    "VARARGS": "_hpy_direct_h(self), (const HPy *)args, (size_t)nargs",
    "KEYWORDS": "_hpy_direct_h(self), (const HPy *)args, _HPY_VECTORCALL_NARGS(nargsf), _hpy_direct_h(kwnames)",
    "NEWFUNC": "_hpy_direct_h(self), _HPY_DIRECT_TUPLE_ITEMS(args), _HPY_DIRECT_TUPLE_SIZE(args), _hpy_direct_h(kw)",
    "INITPROC": "_hpy_direct_h(self), _HPY_DIRECT_TUPLE_ITEMS(args), _HPY_DIRECT_TUPLE_SIZE(args), _hpy_direct_h(kw)",
}


def direct_call(s: Signature):
    """The universal trampoline's call of IMPL when handles are the PyObject pointers; None: never."""
    if "special" in s.flags:
        args = DIRECT_SPECIAL.get(s.name)
        if args is None:
            return None
        call = f"IMPL(_ctx_direct_calls, {args})"
    else:
        call = f"IMPL({impl_call(s, '_ctx_direct_calls', '')})".replace("_py2h(", "_hpy_direct_h(")
    return f"_hpy_direct_o({call})" if s.ret == "HPy" else call


def universal_trampoline(s: Signature, macro: str, for_method: bool) -> list[str]:
    """The universal trampoline of signature s as the macro `macro`(SYM, IMPL). for_method: the
    trampoline of HPyDef_METH (named SYM_trampoline), whose direct path returns the implementation's
    handle as it is (_HPY_DIRECT_RESULT, see universal/hpy_universal.h); the public one (also
    HPyFunc_TRAMPOLINE of HPy 0.9's source) keeps the C-API function type."""
    ret = cpy_ret(s)
    inputs = []
    for p in s.inputs:
        inputs.append(f"(HPy_RichCmpOp){p.name}" if "cpy-int-op" in s.flags and p.ctype.strip() == "HPy_RichCmpOp"
                      else p.name)
    if s.result:
        inputs.append("0")  # the host writes the result
    init = "{ " + ", ".join(inputs) + " }"
    params = ", ".join(cpy_params(s))
    direct = direct_call(s)
    sym = "SYM##_trampoline" if for_method else "SYM"
    name = f"{sym}##_host" if direct is not None else sym
    out = [f"#define {macro}(SYM, IMPL) \\",
           f"    {'_HPY_COLD ' if direct is not None else ''}static {ret} {name}({params}) \\",
           "    { \\",
           f"        _HPyFunc_args_{s.name} a = {init}; \\",
           f"        _HPy_CallRealFunctionFromTrampoline(_ctx_for_trampolines, HPyFunc_{s.name}, \\",
           "                                            (HPyCFunction)IMPL, &a); \\"]
    if s.name == "NOARGS":
        out.append("        (void)_ignored; \\")
    out += [f"        {'return a.result; ' if s.result else ''}\\", "    }" + (" \\" if direct else "")]
    if direct is not None:
        names = [p.name for p in s.inputs] + (["_ignored"] if s.name == "NOARGS" else [])
        host_call = f"{sym}##_host({', '.join(names)})"
        attrs = ""
        if for_method and s.ret == "HPy" and ret == "cpy_PyObject *":
            direct = "_hpy_direct_r(" + direct[len("_hpy_direct_o("):]
            host_call = f"_hpy_direct_r_from_o({host_call})"
            ret = "_HPY_DIRECT_RESULT"
            attrs = "_HPY_DIRECT_TAIL "
        out += [f"    {attrs}static {ret} {sym}({params}) \\",
                "    { \\",
                "        if (_HPY_DIRECT_CALLS()) \\",
                f"            {'return ' if s.result else ''}{direct}; \\",
                *([f"        else \\", f"            {host_call}; \\"] if not s.result else
                  [f"        return {host_call}; \\"]),
                "    }"]
    return out + [""]


def gen_universal_trampolines(api: Api) -> str:
    out = ["/* Universal ABI: each C-side trampoline packs its arguments and lets the host call IMPL; on a host",
           "   that said its handles are the PyObject pointers (_HPY_DIRECT_CALLS), it calls IMPL itself and",
           "   the host's path is a separate cold function (SYM_host), so the direct path needs no frame. */", ""]
    for s in api.signatures:
        if s.block is None:
            continue
        out += universal_trampoline(s, f"_HPyFunc_TRAMPOLINE_HPyFunc_{s.name}", False)
        if s.name in METHOD_SPECIAL_SIGNATURES:
            out += universal_trampoline(s, f"_HPyMeth_TRAMPOLINES_HPyFunc_{s.name}", True)
            out += [f"#define _HPyMeth_FASTCALL_HPyFunc_{s.name}(SYM) ((cpy_PyCFunction)0)", ""]
    return c_header("include/hpy/universal/trampolines_gen.h", "HPY_UNIVERSAL_TRAMPOLINES_GEN_H", "\n".join(out))


def impl_call(s: Signature, ctx: str, source: str, to_handle: str = "_py2h") -> str:
    """Calls IMPL with the block's inputs (read from `source`, e.g. "a->" or ""), converted to handles."""
    args = [ctx] if s.has_ctx else []
    for p in s.inputs:
        args.append(f"{to_handle}({source}{p.name})" if p.ctype.strip() == "cpy_PyObject *" else
                    (f"(HPy_RichCmpOp){source}{p.name}" if p.ctype.strip() == "HPy_RichCmpOp" else f"{source}{p.name}"))
    return ", ".join(args)


def result_of(s: Signature, call: str) -> str:
    if s.result is None:
        return call
    return f"_h2py({call})" if s.ret == "HPy" else call


# Arguments CPython never passes as NULL to these signatures: telling the compiler lets it drop the
# NULL tests of HPy_Dup/HPy_Close on them once IMPL is inlined into the trampoline.
NONNULL_ARGS = {"O": ("self", "arg"), "BINARYFUNC": ("arg0", "arg1")}
# Written by hand in cpython/trampolines.h although the host converts them generically: NOARGS has
# a METH_FASTCALL form for module functions in the CPython ABI.
CPYTHON_MANUAL_TRAMPOLINES = {"NOARGS"}


def gen_cpython_trampolines(api: Api) -> str:
    out = ["/* CPython ABI: each C-side trampoline calls IMPL directly (handles are the PyObject pointers).",
           "   The signatures marked special in the description are in cpython/trampolines.h. */", ""]
    for s in api.signatures:
        if s.block is None or "special" in s.flags or s.name in CPYTHON_MANUAL_TRAMPOLINES:
            continue
        ret = cpy_ret(s)
        call = result_of(s, f"IMPL({impl_call(s, '_HPyGetContext()', '')})")
        out += [f"#define _HPyFunc_TRAMPOLINE_HPyFunc_{s.name}(SYM, IMPL) \\",
                f"    static {ret} SYM({', '.join(cpy_params(s))}) \\",
                "    { \\"]
        if s.name == "NOARGS":
            out.append("        (void)_ignored; \\")
        for p in NONNULL_ARGS.get(s.name, ()):
            out.append(f"        _HPY_ASSUME({p} != NULL); \\")
        out += [f"        {'return ' if s.result else ''}{call}; \\", "    }", ""]
    return c_header("include/hpy/cpython/trampolines_gen.h", "HPY_CPYTHON_TRAMPOLINES_GEN_H", "\n".join(out))


def gen_dispatch(api: Api) -> str:
    """The host's side of the trampolines, as a template over a handle policy P (runtime/cpython/dispatch.h):
    p.ctx() is the context the implementation gets, p.arg(o) the handle of an argument object,
    p.ret(v) turns the implementation's return value into the block's result, p.ret_void() ends a void call."""
    special = [s for s in api.signatures if "special" in s.flags or s.block is None]
    out = [banner("runtime/cpython/dispatch_gen.h"),
           "// The host's side of the universal trampolines: unpack the block, call the implementation.",
           "// A template over the handle policy, so the universal and the debug context share it.",
           "#pragma once", "", "namespace hpy::dispatch {", "",
           "// The signatures converted by hand (runtime/cpython/dispatch.h)."]
    out += [f"template <class P> void call_{s.name.lower()}(P &p, HPyCFunction func, void *args);" for s in special]
    out += ["", "template <class P>",
            "void call(P &p, HPyFunc_Signature sig, HPyCFunction func, void *args)",
            "{",
            "    switch (sig) {"]
    for s in api.signatures:
        out.append(f"    case HPyFunc_{s.name}:")
        if s in special:
            out.append(f"        call_{s.name.lower()}(p, func, args);")
            out.append("        return;")
            continue
        out.append(f"        {{ auto *a = static_cast<_HPyFunc_args_{s.name} *>(args);")
        call = f"reinterpret_cast<{s.typedef}>(func)({impl_call(s, 'p.ctx()', 'a->', 'p.arg')})"
        if s.result is None:
            out.append(f"          {call};")
            out.append("          p.ret_void();")
        else:
            out.append(f"          a->result = p.ret({call});")
        out.append("          return; }")
    out += ["    }", "    unknown_signature(p.ctx(), sig);", "}", "", "}  // namespace hpy::dispatch", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- debug and trace contexts

def debug_generated(m: Member) -> bool:
    return m.kind == "function" and m.options.get("debug") != "manual"


def type_params(m: Member) -> list[str]:
    value = m.options.get("debug-types", "")
    return [n for n in value.split(",") if n]


def gen_debug_decls(api: Api) -> str:
    out = [banner("debug/ctx_gen.h"),
           "// Every function of the debug context: generated wrappers (debug/ctx_gen.cpp) and the",
           "// hand-written ones of the members marked debug=manual (debug/ctx_manual.cpp).",
           "#pragma once", "", "#include \"hpy.h\"", "", "extern \"C\" {", ""]
    for m in api.functions:
        out.append(f"{m.ret_decl('debug_' + m.name)}({m.param_list()});")
    out += ["", "}  // extern \"C\"", "", "namespace hpy::debug {", "",
            "// Number of context functions, and their member names (\"ctx_Dup\"...) by position.",
            f"constexpr int kFunctionCount = {len(api.functions)};",
            "extern const char *const kFunctionNames[kFunctionCount];", "",
            "// Puts the debug functions in `dctx`, and a debug handle for each of `uctx`'s handle constants.",
            "void fill_debug_functions(HPyContext *dctx);",
            "void fill_debug_handles(HPyContext *dctx, const HPyContext *uctx);", "",
            "}  // namespace hpy::debug", ""]
    return "\n".join(out)


def error_return(m: Member) -> str:
    return "return;" if m.ret == "void" else f"return hpy::debug::error_value<{m.ret}>();"


def gen_debug(api: Api) -> str:
    out = [banner("debug/ctx_gen.cpp"),
           "// The debug context's wrappers: check and unwrap each handle argument, call the wrapped",
           "// context, wrap a returned handle in a new debug handle.",
           "#include \"debug/debug_context.h\"", "", "extern \"C\" {", ""]
    for m in api.functions:
        if not debug_generated(m):
            continue
        out += [f"{m.ret_decl('debug_' + m.name)}({m.param_list()})", "{",
                f"    hpy::debug::Api api(ctx, \"{m.api}\", HPY_DEBUG_CALLER);",
                "    HPyContext *u = api.u;"]
        args = ["u"]
        handles = [p for p in m.params if p.is_handle]
        for p in m.params:
            if p.is_handle:
                out.append(f"    HPy u_{p.name} = api.arg({p.name}, \"{p.name}\");")
                args.append(f"u_{p.name}")
            else:
                args.append(p.name)
        for name in type_params(m):
            out.append(f"    api.require_type(u_{name}, \"{name}\");")
        if handles or type_params(m):
            out.append(f"    if (api.failed())\n        {error_return(m)}")
        call = f"u->{m.name}({', '.join(args)})"
        if m.ret == "HPy":
            out.append(f"    return api.wrap({call});")
        elif m.ret == "void":
            out.append(f"    {call};")
        else:
            out.append(f"    return {call};")
        out += ["}", ""]
    out += ["}  // extern \"C\"", "", "namespace hpy::debug {", "",
            "const char *const kFunctionNames[kFunctionCount] = {"]
    out += [f"    \"{m.name}\"," for m in api.functions]
    out += ["};", "", "void fill_debug_functions(HPyContext *dctx)", "{"]
    out += [f"    dctx->{m.name} = &debug_{m.name};" for m in api.functions]
    out += ["}", "", "void fill_debug_handles(HPyContext *dctx, const HPyContext *uctx)", "{"]
    out += [f"    dctx->{m.name} = constant_handle(uctx->{m.name}, \"{m.name}\");" for m in api.handles]
    out += ["}", "", "}  // namespace hpy::debug", ""]
    return "\n".join(out)


def gen_trace(api: Api) -> str:
    out = [banner("debug/trace_gen.cpp"),
           "// The trace context: every function counts its calls and their time, then calls the wrapped",
           "// context with the same (universal) handles.",
           "#include \"debug/trace.h\"", "", "extern \"C\" {", ""]
    for i, m in enumerate(api.functions):
        if m.host_only:
            continue
        ret = "" if m.ret == "void" else "return "
        out += [f"static {m.ret_decl('trace_' + m.name)}({m.param_list()})", "{",
                f"    hpy::trace::Scope scope({i});",
                "    HPyContext *u = hpy::trace::wrapped(ctx);",
                f"    {ret}u->{m.name}({', '.join(['u'] + [p.name for p in m.params])});", "}", ""]
    out += ["}  // extern \"C\"", "", "namespace hpy::trace {", "",
            "void fill_trace_functions(HPyContext *tctx)", "{"]
    for m in api.functions:
        if m.host_only:
            out.append(f"    tctx->{m.name} = &trace_host_{m.name};")
        else:
            out.append(f"    tctx->{m.name} = &trace_{m.name};")
    out += ["}", "", "}  // namespace hpy::trace", ""]
    return "\n".join(out)


OUTPUTS = {
    "include/hpy/universal/context_gen.h": gen_context,
    "include/hpy/universal/api_gen.h": gen_universal_api,
    "include/hpy/universal/trampolines_gen.h": gen_universal_trampolines,
    "include/hpy/cpython/api_gen.h": gen_cpython_api,
    "include/hpy/cpython/runtime_gen.h": gen_runtime_decls,
    "include/hpy/cpython/trampolines_gen.h": gen_cpython_trampolines,
    "include/hpy/hpyfunc_gen.h": gen_hpyfunc,
    "runtime/cpython/ctx_inline_gen.cpp": gen_runtime_wrappers,
    "runtime/cpython/context_init_gen.cpp": gen_context_init,
    "runtime/cpython/dispatch_gen.h": gen_dispatch,
    "debug/ctx_gen.h": gen_debug_decls,
    "debug/ctx_gen.cpp": gen_debug,
    "debug/trace_gen.cpp": gen_trace,
    "tests/abi/context_offsets_gen.h": gen_offsets,
}


def render(api: Api) -> dict[str, str]:
    return {path: fn(api) for path, fn in OUTPUTS.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    ap.add_argument("--root", type=Path, default=ROOT, help="the source tree (default: this checkout)")
    args = ap.parse_args(argv)
    files = render(parse())
    stale = []
    for rel, text in files.items():
        path = args.root / rel
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
    if stale:
        print("out of date (run `make generate`):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
