"""tests/e2e/debug/test_debug_handles.py: handle misuse: each bug class reported with its check, function and object."""
import contextlib

import pytest

from hpy.debug import HPyDebugError, HPyLeakError, LeakDetector
from hpy.universal import _debug


def debug_error(func, *args):
    with pytest.raises(HPyDebugError) as info:
        func(*args)
    return info.value


def assert_report(err, check, function, obj_type):
    assert (err.check, err.function, err.obj_type) == (check, function, obj_type), str(err)
    assert err.check in str(err) and err.function in str(err)


USE_AFTER_CLOSE = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromLong(ctx, 42);
        HPy_Close(ctx, h);
        return HPy_Repr(ctx, h);   /* use after close */
    }
    @EXPORT(f)
    @INIT
"""


def test_use_after_close(misuse):
    mod = misuse.make_module(USE_AFTER_CLOSE)
    if misuse.mode == "universal":
        assert mod.f() == "42"  # 42 is a cached int: the bug goes unnoticed on CPython
        return
    err = debug_error(mod.f)
    assert_report(err, "use-after-close", "HPy_Repr", "int")
    assert "already closed" in str(err) and "closed by HPy_Close" in str(err)


DOUBLE_CLOSE = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyUnicode_FromString(ctx, "twice");
        HPy_Close(ctx, h);
        HPy_Close(ctx, h);         /* double close */
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.debug_only("a double close frees the string twice in universal mode: not run there")
def test_double_close(misuse):
    mod = misuse.make_module(DOUBLE_CLOSE)
    assert_report(debug_error(mod.f), "double-close", "HPy_Close", "str")


CLOSE_CONSTANT = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPy_Close(ctx, ctx->h_None);   /* a context constant */
        return HPy_Dup(ctx, ctx->h_True);
    }
    @EXPORT(f)
    @INIT
"""


def test_close_constant(misuse):
    mod = misuse.make_module(CLOSE_CONSTANT)
    if misuse.mode == "universal":
        assert mod.f() is True
        return
    for _ in range(2):  # the second call finds h_None open again: debug mode did not close it
        err = debug_error(mod.f)
        assert_report(err, "close-constant", "HPy_Close", "NoneType")
        assert "h_None" in str(err)


CLOSE_ARGUMENT = """
    HPyDef_METH(f, "f", HPyFunc_O)
    static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_Close(ctx, arg);           /* the caller's handle */
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.debug_only("closing an argument drops the caller's reference in universal mode: not run there")
def test_close_argument(misuse):
    mod = misuse.make_module(CLOSE_ARGUMENT)
    x = ["mine"]
    assert_report(debug_error(mod.f, x), "close-argument", "HPy_Close", "list")
    assert x == ["mine"]


RETURNS = """
    HPyDef_METH(ret_arg, "ret_arg", HPyFunc_O)
    static HPy ret_arg_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        return arg;                    /* without HPy_Dup */
    }
    HPyDef_METH(ret_const, "ret_const", HPyFunc_NOARGS)
    static HPy ret_const_impl(HPyContext *ctx, HPy self)
    {
        return ctx->h_None;            /* without HPy_Dup */
    }
    HPyDef_METH(ret_closed, "ret_closed", HPyFunc_NOARGS)
    static HPy ret_closed_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromLong(ctx, 7);
        HPy_Close(ctx, h);
        return h;
    }
    HPyDef_METH(ret_never_issued, "ret_never_issued", HPyFunc_NOARGS)
    static HPy ret_never_issued_impl(HPyContext *ctx, HPy self)
    {
        HPy h = {0x7ffff001};          /* odd, like a debug handle, but never issued */
        return h;
    }
    HPyDef_METH(ret_closed_arg, "ret_closed_arg", HPyFunc_O)
    static HPy ret_closed_arg_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPy_Close(ctx, arg);           /* the argument closed by the callee */
        return arg;
    }
    static HPy kept_arg;
    HPyDef_METH(keep_arg, "keep_arg", HPyFunc_O)
    static HPy keep_arg_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        kept_arg = arg;                /* kept beyond its call */
        return HPy_Dup(ctx, ctx->h_None);
    }
    HPyDef_METH(ret_kept_arg, "ret_kept_arg", HPyFunc_NOARGS)
    static HPy ret_kept_arg_impl(HPyContext *ctx, HPy self)
    {
        return kept_arg;
    }
    HPyDef_METH(churn, "churn", HPyFunc_NOARGS)
    static HPy churn_impl(HPyContext *ctx, HPy self)
    {
        for (int i = 0; i < 4096; i++) {  /* more than the queue holds */
            HPy h = HPyLong_FromLong(ctx, i);
            HPy_Close(ctx, h);
        }
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(ret_arg)
    @EXPORT(ret_const)
    @EXPORT(ret_closed)
    @EXPORT(churn)
    @EXPORT(ret_never_issued)
    @EXPORT(ret_closed_arg)
    @EXPORT(keep_arg)
    @EXPORT(ret_kept_arg)
    @INIT
"""


def test_return_argument_constant_closed(misuse):
    mod = misuse.make_module(RETURNS)
    if misuse.mode == "universal":
        assert mod.ret_const() is None  # one reference of None lost: harmless on CPython
        return
    x = ["arg"]
    assert_report(debug_error(mod.ret_arg, x), "return-argument", "return", "list")
    assert_report(debug_error(mod.ret_const), "return-constant", "return", "NoneType")
    assert_report(debug_error(mod.ret_closed), "return-closed", "return", "int")
    assert x == ["arg"]


RETURN_UNKNOWN = "; the line of the return statement is not known)"


def returned_by(misuse, err, function):
    """The report's second line names `function`, and where its code starts: a line of its definition
    (its first instruction), never a line claimed for the return."""
    first = misuse.line_of(RETURNS, "static HPy %s(" % function)
    last = first + RETURNS.split("\n")[first - 2:].index("    }")
    assert err.location == function
    assert str(err).split("\n")[1] in [
        "    returned by %s (its code starts at misuse.c:%d%s" % (function, n, RETURN_UNKNOWN)
        for n in range(first, last + 1)], str(err)


@pytest.mark.debug_only("the reports are debug mode's (universal mode crashes on some of these bugs)")
def test_faulty_returns_name_the_function_and_the_handle_history(misuse):
    mod = misuse.make_module(RETURNS)
    # A closed handle: the function, where the handle was closed and where it was opened.
    err = debug_error(mod.ret_closed)
    assert_report(err, "return-closed", "return", "int")
    returned_by(misuse, err, "ret_closed_impl")
    closed_line = misuse.line_of(RETURNS, "HPy_Close(ctx, h);")
    opened_line = misuse.line_of(RETURNS, "HPyLong_FromLong(ctx, 7)")
    assert "closed by HPy_Close in ret_closed_impl at misuse.c:%d)" % closed_line in str(err)
    assert "    opened by HPyLong_FromInt64_t in ret_closed_impl at misuse.c:%d" % opened_line in str(err)
    # A value never issued: the value itself, and the function.
    err = debug_error(mod.ret_never_issued)
    assert (err.check, err.function) == ("invalid-handle", "return")
    assert "the function returned 0x7ffff001, a value that is not a handle of this context" in str(err)
    returned_by(misuse, err, "ret_never_issued_impl")
    # An argument kept beyond its call and returned by a later call: closed by the end of its own call.
    mod.keep_arg("kept")
    err = debug_error(mod.ret_kept_arg)
    assert err.check == "return-closed"
    returned_by(misuse, err, "ret_kept_arg_impl")
    first = misuse.line_of(RETURNS, "static HPy keep_arg_impl")
    last = misuse.line_of(RETURNS, "kept beyond its call")
    assert any("closed by the end of the call in keep_arg_impl at misuse.c:%d)" % n in str(err)
               for n in range(first, last + 1)), str(err)


@contextlib.contextmanager
def closed_queue_limit(n):
    """The queue of closed handles limited to `n` for the block, its limit given back after."""
    old = _debug.get_closed_handles_queue_max_size()
    _debug.set_closed_handles_queue_max_size(n)
    try:
        yield
    finally:
        _debug.set_closed_handles_queue_max_size(old)


@pytest.mark.debug_only("the reports are debug mode's")
def test_returning_a_handle_whose_slot_was_reused(misuse):
    # The slot now holds another handle: the report says so, and describes nothing of that other one.
    mod = misuse.make_module(RETURNS)
    with closed_queue_limit(1):
        mod.keep_arg("kept")
        mod.churn()
        err = debug_error(mod.ret_kept_arg)
    assert (err.check, err.function, err.obj_type) == ("return-closed", "return", None)
    assert "the function returned a handle that was closed long ago (its slot has been reused)" in str(err)
    assert "opened by" not in str(err) and "'int'" not in str(err)
    returned_by(misuse, err, "ret_kept_arg_impl")


@pytest.mark.debug_only("the reports are debug mode's")
def test_returning_an_argument_after_closing_it(misuse):
    # Both faults are reported: the close (ignored, so the handle stays the caller's) where it was made,
    # then the return of the argument without HPy_Dup, naming the function.
    reports = []
    _debug.set_reaction("hook", reports.append)
    try:
        x = ["arg"]
        mod = misuse.make_module(RETURNS)
        assert mod.ret_closed_arg(x) is x
    finally:
        _debug.set_reaction("raise")
    assert [(r.check, r.function, r.obj_type) for r in reports] == [
        ("close-argument", "HPy_Close", "list"), ("return-argument", "return", "list")]
    closed_line = misuse.line_of(RETURNS, "closed by the callee")
    assert reports[0].location == "ret_closed_arg_impl at misuse.c:%d" % closed_line
    returned_by(misuse, reports[1], "ret_closed_arg_impl")
    assert x == ["arg"]


LEAK = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy kept[8];  /* only so that the process still reaches the object: no leak at its exit */
    static int n_kept;
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromLong(ctx, 1234567);  /* never closed */
        kept[n_kept++ % 8] = h;
        return HPy_Dup(ctx, ctx->h_None);
    }
    @EXPORT(f)
    @INIT
"""


def test_leak(misuse):
    mod = misuse.make_module(LEAK)
    if misuse.mode == "universal":
        assert mod.f() is None
        return
    with pytest.raises(HPyLeakError) as info:
        with LeakDetector():
            mod.f()
    leaks = info.value.leaks
    assert [h.obj for h in leaks] == [1234567]
    assert "1 unclosed handle" in str(info.value) and "1234567" in str(info.value)
    assert not leaks[0].is_closed and leaks[0].id > 0


INVALID = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPy bogus = { 0x12340 };       /* never issued */
        return HPy_Repr(ctx, bogus);
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.debug_only("universal mode dereferences the bogus handle: not run there")
def test_invalid_handle_not_dereferenced(misuse):
    mod = misuse.make_module(INVALID)
    err = debug_error(mod.f)
    assert (err.check, err.function, err.obj_type) == ("invalid-handle", "HPy_Repr", None)


DEAD_AFTER_CLOSE = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyLong_FromLong(ctx, 123456789);   /* its only reference */
        HPy_Close(ctx, h);
        return HPy_Repr(ctx, h);   /* use after close: the object is gone */
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.debug_only("the hook is part of debug mode")
def test_on_invalid_handle_hook(misuse):
    mod = misuse.make_module(USE_AFTER_CLOSE)
    dead = misuse.make_module(DEAD_AFTER_CLOSE, "dead")
    calls = []
    _debug.set_on_invalid_handle(lambda: calls.append(1))
    try:
        # The hook replaces the exception and the program goes on with the handle's object (42 is a
        # cached int: still alive after the close)...
        assert mod.f() == "42"
        # ...unless closing the handle released the object: then the call fails.
        with pytest.raises(HPyDebugError, match=r"\[use-after-close\] HPy_Repr"):
            dead.f()
    finally:
        _debug.set_on_invalid_handle(None)
    assert calls == [1, 1]


@pytest.mark.debug_only("reactions are part of debug mode")
def test_reaction_hook(misuse):
    mod = misuse.make_module(RETURNS)
    seen = []
    _debug.set_reaction("hook", seen.append)
    try:
        assert mod.ret_const() is None  # repaired: the program goes on
    finally:
        _debug.set_reaction("raise")
    assert [(e.check, e.function) for e in seen] == [("return-constant", "return")]
    assert _debug.get_reaction() == "raise"


@pytest.mark.debug_only("reactions are part of debug mode")
def test_reaction_abort(misuse):
    proc = misuse.run_script(RETURNS, """
        from hpy.universal import _debug
        _debug.set_reaction("abort")
        mod.ret_const()
    """)
    assert proc.returncode != 0
    assert "hpy.debug: [return-constant] return: the function returned the context constant h_None" in proc.stderr


@pytest.mark.debug_only("the queue is part of debug mode")
def test_closed_handles_queue(misuse):
    mod = misuse.make_module(LEAK)
    with closed_queue_limit(5):
        gen = _debug.new_generation()
        for _ in range(10):
            mod.f()
        closed = _debug.get_closed_handles(gen)
        # Each call closes self and the result; the queue shrinks to the limit by one slot per handle opened.
        assert 5 <= len(closed) <= 20 and all(h.is_closed and h.obj is None for h in closed)
        assert len(_debug.get_open_handles(gen)) == 10  # the leaks
        # A full queue hands out its oldest slot to the next handle opened (a view follows its slot).
        _debug.set_closed_handles_queue_max_size(1)
        oldest = _debug.get_closed_handles()
        mod.f()
        # The call opened `self`, the leak and the result in the three oldest slots, in this order.
        assert oldest[0].is_closed and oldest[0] in _debug.get_closed_handles()  # `self`, closed at the end
        assert not oldest[1].is_closed and oldest[1].obj == 1234567  # the leak
        oldest[1]._force_close()
        assert oldest[1].is_closed and oldest[1] in _debug.get_closed_handles()
    with pytest.raises(ValueError):
        _debug.set_closed_handles_queue_max_size(-1)


@pytest.mark.debug_only("stack traces are part of debug mode")
def test_stack_traces(misuse):
    mod = misuse.make_module(LEAK)
    error = misuse.leak_error(mod.f, stack_trace_limit=16)
    text = str(error)
    assert "Allocation stacktrace:" in text and "f_impl" in text  # symbolized: the function that opened it
    assert error.leaks[0].stack.split("\n")[1].startswith("    misuse.hpy0.so(f_impl")  # its first frame


RAW_LEAK = """
    HPyDef_METH(f, "f", HPyFunc_NOARGS)
    static HPy f_impl(HPyContext *ctx, HPy self)
    {
        HPy h = HPyUnicode_FromString(ctx, "twelve chars");
        HPy_ssize_t n;
        HPyUnicode_AsUTF8AndSize(ctx, h, &n);      /* h is never closed */
        return HPyLong_FromSsize_t(ctx, n);
    }
    @EXPORT(f)
    @INIT
"""


@pytest.mark.debug_only("DebugHandle is part of debug mode")
def test_debug_handle_attributes(misuse):
    mod = misuse.make_module(RAW_LEAK)
    gen = _debug.new_generation()
    assert mod.f() == 12
    (h,) = _debug.get_open_handles(gen)
    assert isinstance(h, _debug.DebugHandle)
    assert (h.obj, h.is_closed, h.raw_data_size, h.generation) == ("twelve chars", False, 13, gen)
    # Where it was opened is known without stack traces: the API function and the line that called it.
    assert repr(h) == ("<DebugHandle 0x%x for 'twelve chars'>\n"
                       "opened by HPyUnicode_FromString in f_impl at misuse.c:6\n"
                       "To get the stack trace of where it was allocated use:\n"
                       "hpy.debug.set_handle_stack_trace_limit(16)" % h.id)
    assert h == _debug.get_open_handles(gen)[0] and h != "twelve chars"
    with pytest.raises(TypeError):
        h < h
    assert _debug.get_protected_raw_data_max_size() > 0
    old = _debug.get_protected_raw_data_max_size()
    _debug.set_protected_raw_data_max_size(0)
    assert _debug.get_protected_raw_data_max_size() == 0
    _debug.set_protected_raw_data_max_size(old)
