"""bench/micro/cases.py: the microbenchmark cases, the same Python statement for every route.

A case is (name, group, statement, bindings): `statement` runs once per iteration inside
`for _ in range(n)`, with the names of `bindings` as fast locals (see worker.make_runner).
Groups: call, alloc, attr, item, api; the `loop` case is the empty loop subtracted from every other.
"""

# The names a statement may use, made by worker.bindings(): m (the module), p (a Point), s (a Seq),
# mp (a Map), keep (list.append of a list emptied after each run), g (a Python function), ln (len)
CASES = [
    ("loop", "loop", "pass", ""),
    ("call NOARGS", "call", "fn()", "m.noargs"),
    ("call O", "call", "fn(1)", "m.onearg"),
    ("call VARARGS", "call", "fn(1, 2)", "m.varargs"),
    ("call KEYWORDS", "call", "fn(1, b=2)", "m.keywords"),
    ("method call on a pure type", "call", "p.get_x()", ""),
    ("alloc int (discarded)", "alloc", "fn()", "m.new_int"),
    ("alloc int (kept)", "alloc", "keep(fn())", "m.new_int"),
    ("alloc tuple (discarded)", "alloc", "fn()", "m.new_tuple"),
    ("alloc tuple (kept)", "alloc", "keep(fn())", "m.new_tuple"),
    ("alloc pure object (discarded)", "alloc", "fn()", "m.Point"),
    ("alloc pure object (kept)", "alloc", "keep(fn())", "m.Point"),
    ("attribute get", "attr", "p.x", ""),
    ("attribute set", "attr", "p.x = 5", ""),
    ("item sq_item", "item", "s[1]", ""),
    ("item mp_subscript", "item", "mp[1]", ""),
    ("len (sq_length)", "item", "ln(s)", ""),
    ("HPy_Call of a Python function", "api", "fn(g, 1)", "m.call_func"),
    ("HPyArg_Parse", "api", "fn(1, 2, 3.0)", "m.parse"),
    ("HPy_BuildValue of a tuple", "api", "fn()", "m.build"),
]

QUICK = ["loop", "call NOARGS", "call O", "alloc pure object (discarded)", "HPy_Call of a Python function"]
