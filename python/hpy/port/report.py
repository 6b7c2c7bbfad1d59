# python/hpy/port/report.py: what `python -m hpy.port report` says about an extension.
"""From the C-API uses the front end found, per function: each use with its HPy equivalent, whether
the function can become pure HPy and what blocks it; then a porting order and overall counts.

A function's verdict:
- ``yes``: every use has an HPy equivalent that ports one for one;
- ``after rework``: every use has an HPy equivalent, but some need more than a rename (borrowed
  references become handles to close, direct struct access, static types);
- ``no``: some use has no HPy equivalent: keep that code through the hybrid ABI (HPy_AsPyObject);
- ``no C API``: plain C, nothing to port.
"""
from collections import Counter

from . import mapping

MODULE_INIT_PREFIX = "PyInit_"
VERDICTS = ("yes", "after rework", "no", "no C API")


def _use_dict(use, filename_of):
    entry = mapping.lookup(use.name)
    return {"name": use.name, "kind": use.kind, "file": filename_of(use.file), "line": use.line,
            "column": use.column, "hpy": entry.hpy or mapping.NO_EQUIVALENT,
            "has_equivalent": entry.hpy is not None, "blocker": entry.blocker, "note": entry.note}


def _blockers(uses):
    """Why the uses do not port one for one: one entry per name, with its reasons and lines."""
    found = {}
    for use in uses:
        reasons = ([use["blocker"]] if use["blocker"] else []) + ([] if use["has_equivalent"]
                                                                   else ["no equivalent"])
        if reasons:
            entry = found.setdefault(use["name"], {"name": use["name"], "blockers": reasons,
                                                   "lines": []})
            entry["lines"].append(use["line"])
    return list(found.values())


def _verdict(uses):
    if not uses:
        return "no C API"
    if any(not u["has_equivalent"] for u in uses):
        return "no"
    return "after rework" if any(u["blocker"] for u in uses) else "yes"


def porting_order(functions):
    """The extension's functions, callees before their callers (leaf functions first), source
    order among equals, module init functions last. Call cycles are broken in source order."""
    names = [f.name for f in functions.values()]
    done, order = set(), []

    def visit(name, stack):
        if name in done or name in stack:
            return
        stack.add(name)
        for callee in sorted(functions[name].calls, key=names.index):
            visit(callee, stack)
        done.add(name)
        order.append(name)

    for name in names:
        if not name.startswith(MODULE_INIT_PREFIX):
            visit(name, set())
    for name in names:
        visit(name, set())
    return order


def build(extension):
    """The report as plain data (what --json prints)."""
    main_dir = extension.main.rsplit("/", 1)[0] + "/"
    filename_of = lambda f: f[len(main_dir):] if f.startswith(main_dir) else f
    callers = {name: [] for name in extension.functions}
    for fn in extension.functions.values():
        for callee in fn.calls:
            callers[callee].append(fn.name)
    functions = []
    for fn in extension.functions.values():
        uses = [_use_dict(u, filename_of) for u in fn.uses]
        functions.append({
            "name": fn.name, "file": filename_of(fn.file), "lines": [fn.start, fn.end],
            "module_init": fn.name.startswith(MODULE_INIT_PREFIX),
            "registered_in": fn.registered_in, "calls": sorted(fn.calls),
            "called_by": sorted(callers[fn.name]), "uses": uses,
            "pure_hpy": _verdict(uses), "blockers": _blockers(uses)})
    file_scope = [_use_dict(u, filename_of) for u in extension.file_scope]
    every_use = [u for f in functions for u in f["uses"]] + file_scope
    summary = {
        "functions": len(functions),
        "functions_using_c_api": sum(1 for f in functions if f["uses"]),
        "uses": len(every_use),
        "uses_in_functions": len(every_use) - len(file_scope),
        "uses_at_file_scope": len(file_scope),
        "uses_by_kind": dict(Counter(u["kind"].split()[0] if u["kind"].startswith("in macro")
                                     else u["kind"] for u in every_use)),
        "distinct_names": len({u["name"] for u in every_use}),
        "without_equivalent": sorted({u["name"] for u in every_use if not u["has_equivalent"]}),
        "verdicts": {v: sum(1 for f in functions if f["pure_hpy"] == v) for v in VERDICTS},
        "blockers": dict(Counter(reason for f in functions for b in f["blockers"]
                                 for reason in b["blockers"] for _ in b["lines"])),
        "file_scope_blockers": _blockers(file_scope),
        "porting_order": porting_order(extension.functions),
    }
    return {"file": extension.main, "diagnostics": extension.diagnostics, "functions": functions,
            "file_scope": file_scope, "summary": summary}


def _use_line(use):
    hpy = use["hpy"] if use["has_equivalent"] else mapping.NO_EQUIVALENT
    extra = [use["blocker"]] if use["blocker"] else []
    if use["note"]:
        extra.append(use["note"])
    tail = f"  [{'; '.join(extra)}]" if extra else ""
    return f"    {use['line']:>5}  {use['name']:<26} {use['kind']:<13} -> {hpy}{tail}"


def render_text(report):
    """The report for people."""
    s = report["summary"]
    out = [f"{report['file']}: {s['uses']} uses of the CPython C API "
           f"({s['uses_in_functions']} in {s['functions_using_c_api']} of {s['functions']} functions, "
           f"{s['uses_at_file_scope']} at file scope), {s['distinct_names']} distinct names"]
    for d in report["diagnostics"]:
        out.append(f"  parse error (the report may be incomplete): {d}")
    for f in report["functions"]:
        where = f"{f['file']}:{f['lines'][0]}-{f['lines'][1]}"
        out += ["", f"{f['name']} ({where})  pure HPy: {f['pure_hpy']}"]
        if f["registered_in"]:
            out.append(f"    registered in: {', '.join(f['registered_in'])}")
        if f["calls"] or f["called_by"]:
            out.append(f"    calls: {', '.join(f['calls']) or '-'}; called by: {', '.join(f['called_by']) or '-'}")
        out += [_use_line(u) for u in f["uses"]]
        for b in f["blockers"]:
            out.append(f"    blocker: {b['name']}: {', '.join(b['blockers'])} (line {', '.join(map(str, b['lines']))})")
    if report["file_scope"]:
        out += ["", "file scope (definitions and tables)"]
        out += [_use_line(u) for u in report["file_scope"]]
    out += ["", "summary",
            "  functions that can become pure HPy: " + ", ".join(f"{v} {n}" for v, n in s["verdicts"].items()),
            "  blockers in functions: " + (", ".join(f"{k} {n}" for k, n in sorted(s["blockers"].items())) or "none"),
            "  blockers at file scope: " + (", ".join(f"{b['name']} ({', '.join(b['blockers'])})" for b in s["file_scope_blockers"]) or "none"),
            "  no HPy equivalent: " + (", ".join(s["without_equivalent"]) or "none"),
            "  porting order (leaf functions first, module init last):"]
    by_name = {f["name"]: f for f in report["functions"]}
    for i, name in enumerate(s["porting_order"], 1):
        f = by_name[name]
        hint = ""
        if f["called_by"] and f["uses"]:
            hint = f"  (called by {', '.join(f['called_by'])}: port with them, or keep a C-API version until they are ported)"
        out.append(f"    {i:>2}. {name}  [{f['pure_hpy']}]{hint}")
    return "\n".join(out) + "\n"
