"""bench/report.py: the markdown tables, the targets and the PNG chart of a benchmark run (bench/run.py)."""

BASE = "capi"
# Routes compared with the C-API baseline, in column order.
COLUMNS = ["cpython", "universal", "hpy09", "debug", "trace"]
TARGETS_CALL, TARGETS_ALLOC = 1.08, 1.15


def _ratio(values, key, case):
    base = values.get(BASE, {}).get(case)
    v = values.get(key, {}).get(case)
    if base is None or v is None or base <= 0:
        return None
    return v / base


def _fmt_ratio(r):
    return "-" if r is None else "%.3fx" % r


def _routes(data):
    return {r["key"]: r for r in data["routes"]}


def _table(data, values, unit, fmt):
    routes = _routes(data)
    cols = [k for k in COLUMNS if k in routes] + [r["key"] for r in data["routes"]
                                                  if r["key"] not in COLUMNS and r["key"] != BASE]
    head = "| case | %s (%s) | %s |" % (routes[BASE]["label"], unit, " | ".join(routes[k]["label"] for k in cols))
    lines = [head, "|" + "---|" * (2 + len(cols))]
    for name, group, _, _ in data["cases"]:
        if group == "loop":
            continue
        base = values.get(BASE, {}).get(name)
        cells = []
        for k in cols:
            if routes[k]["unavailable"] or k not in values:
                cells.append("n/a")
            elif k.endswith("-universal") and (k[:-10] + "-cpyext") in values:
                # another interpreter: its native host against its own C-API emulation
                b = values[k[:-10] + "-cpyext"].get(name)
                v = values[k].get(name)
                cells.append("%s (of cpyext)" % _fmt_ratio(v / b if b and v else None))
            elif k.endswith("-cpyext"):
                v = values[k].get(name)
                cells.append("-" if v is None else fmt % v)
            else:
                cells.append(_fmt_ratio(_ratio(values, k, name)))
        lines.append("| %s | %s | %s |" % (name, "-" if base is None else fmt % base, " | ".join(cells)))
    return "\n".join(lines)


def targets(data):
    """[(target, met: True/False/None, detail)]: None when a route needed is unavailable."""
    ins = data["instructions"]
    groups = {c[0]: c[1] for c in data["cases"] if c[1] != "loop"}
    out = []

    def check(title, key, limit, case_filter, against=None):
        if key not in ins or (against or BASE) not in ins:
            out.append((title, None, "not measured (%s)" % _why(data, key if key not in ins else against)))
            return
        worst, worst_case = 0.0, None
        for case in groups:
            if not case_filter(case):
                continue
            if against:
                a, b = ins[key].get(case), ins[against].get(case)
                r = a / b if a and b else None
            else:
                r = _ratio(ins, key, case)
            if r is not None and r > worst:
                worst, worst_case = r, case
        met = worst <= limit if limit is not None else worst < 1.0
        out.append((title, met, "worst %.3fx (%s)" % (worst, worst_case)))

    check("CPython ABI <= 1.00x C API, every case (instructions)", "cpython", 1.0, lambda c: True)
    check("universal <= %.2fx C API on calls (instructions)" % TARGETS_CALL, "universal", TARGETS_CALL,
          lambda c: groups[c] == "call")
    check("universal <= %.2fx C API on allocation (instructions)" % TARGETS_ALLOC, "universal", TARGETS_ALLOC,
          lambda c: groups[c] == "alloc")
    check("universal on unihpy's host faster than on HPy 0.9's host, every case (instructions)", "universal",
          None, lambda c: True, against="hpy09")
    check("debug mode <= 3x universal, every case (instructions)", "debug", 3.0, lambda c: True,
          against="universal")
    ffi = data.get("ffi") or {}
    cpu = ffi.get("cpu_ns", {})
    if "universal" in cpu and "cffi-api" in cpu:
        r = cpu["universal"] / cpu["cffi-api"]
        fi = ffi.get("instructions", {})
        extra = ""
        if "universal" in fi and "cffi-api" in fi:
            extra = ", instructions %.2fx" % (fi["universal"] / fi["cffi-api"])
        out.append(("unihpy universal faster than cffi API mode on fib (CPU time)", r < 1.0,
                    "%.2fx the time of cffi API mode%s" % (r, extra)))
    else:
        out.append(("unihpy universal faster than cffi API mode on fib", None,
                    (ffi.get("unavailable") or {}).get("cffi-api", "not measured")))
    return out


def _why(data, key):
    r = _routes(data).get(key)
    return (r or {}).get("unavailable") or "no measurement"


def markdown(data):
    m = data["machine"]
    routes = _routes(data)
    parts = ["# unihpy benchmarks%s" % (" (quick mode: fewer cases and iterations)" if data["quick"] else ""), "",
             "- date: %s; commit: `%s`" % (m["date"], m["commit"]),
             "- machine: %s; kernel %s" % (m["machine"], m["kernel"]),
             "- compiler: %s; flags of every module: `%s`" % (m["compiler"], m["cflags"]),
             "- %s" % m["valgrind"]]
    for r in data["routes"]:
        info = r["info"]
        what = "unavailable: %s" % r["unavailable"] if r["unavailable"] else \
            "%s%s" % (info.get("python", "?"), ", hpy.universal %s" % info["hpy"] if "hpy" in info else "")
        parts.append("- route **%s**: %s" % (r["label"], what))
    it = data["iterations"]
    parts += ["", "## Instructions per operation (callgrind)", "",
              "C API: instructions per operation; the other routes: ratio to it (lower is better). "
              "Each case runs %d and %d times under callgrind in one worker; the cost is the difference "
              "divided by %d, minus the same for the empty loop (so start-up, warm-up and the loop itself "
              "cancel)." % (it["callgrind"][0], it["callgrind"][1], it["callgrind"][1] - it["callgrind"][0]), ""]
    parts.append(_table(data, data["instructions"], "instr", "%.1f") if data["instructions"]
                 else "not measured (valgrind absent)")
    parts += ["", "## Thread CPU time per operation", "",
              "C API: nanoseconds per operation; the others: ratio to it. Median of %d interleaved repeats "
              "of %d iterations per route and case, minus the empty loop's median; noisy on a shared "
              "machine, the instruction counts are the reference." % (it["repeats"], it["time"]), ""]
    parts.append(_table(data, data["cpu_ns"], "ns", "%.1f"))
    ffi = data.get("ffi")
    if ffi:
        parts += ["", "## fib(%d) from one shared C library, %d calls" % (ffi["n"], ffi["calls"]), "",
                  "Per call, the Python loop included (empty loop: %.1f ns); ratio to the C-API extension."
                  % ffi["loop_ns"], "",
                  "| route | ns/call | ratio | instructions/call | ratio |", "|---|---|---|---|---|"]
        cb, ib = ffi["cpu_ns"].get("capi"), ffi["instructions"].get("capi")
        for key, label in ffi["labels"].items():
            if key not in ffi["cpu_ns"]:
                parts.append("| %s | unavailable: %s | | | |" % (label, ffi["unavailable"].get(key, "?")))
                continue
            t, i = ffi["cpu_ns"][key], ffi["instructions"].get(key)
            parts.append("| %s | %.1f | %s | %s | %s |" % (
                label, t, _fmt_ratio(t / cb if cb else None), "-" if i is None else "%.0f" % i,
                _fmt_ratio(i / ib if i and ib else None)))
    if data.get("adapter"):
        parts += ["", "## The context adapter of PyPy 7.3.19 (machine code)", "", data["adapter"].rstrip()]
    if not data.get("hosts_only"):
        parts += ["", "## Targets", "", "| target | status | detail |", "|---|---|---|"]
        for title, met, detail in targets(data):
            parts.append("| %s | %s | %s |" % (title, {True: "met", False: "MISSED", None: "n/a"}[met], detail))
    parts.append("")
    return "\n".join(parts) + "\n"


def chart(data, path):
    """A PNG: instruction ratios per case and route, and fib's time per call. None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    values = data["instructions"] or data["cpu_ns"]
    measure = "instructions" if data["instructions"] else "thread CPU time"
    routes = _routes(data)
    cols = [k for k in COLUMNS if k in values]
    cases = [c[0] for c in data["cases"] if c[1] != "loop" and c[0] in values.get(BASE, {})]
    ffi = data.get("ffi") or {}
    fig, axes = plt.subplots(2, 1, figsize=(13, 10), gridspec_kw={"height_ratios": [3, 1.4]})
    ax = axes[0]
    width = 0.8 / max(1, len(cols))
    for i, k in enumerate(cols):
        ys = [_ratio(values, k, c) or 0 for c in cases]
        ax.bar([x + i * width for x in range(len(cases))], ys, width, label=routes[k]["label"])
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(TARGETS_CALL, color="grey", linewidth=0.6, linestyle="--")
    ax.axhline(TARGETS_ALLOC, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xticks([x + width * (len(cols) - 1) / 2 for x in range(len(cases))])
    ax.set_xticklabels(cases, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("%s, ratio to the C API" % measure)
    ax.set_title("unihpy microbenchmarks (%s), commit %s" % (measure, data["machine"]["commit"]))
    ax.legend(fontsize=8)
    ax = axes[1]
    keys = [k for k in ffi.get("labels", {}) if k in ffi.get("cpu_ns", {})]
    ax.barh([ffi["labels"][k] for k in keys], [ffi["cpu_ns"][k] for k in keys], color="tab:green")
    ax.set_xscale("log")
    ax.set_xlabel("ns per call of fib(%s), loop included (log scale)" % ffi.get("n", "?"))
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
