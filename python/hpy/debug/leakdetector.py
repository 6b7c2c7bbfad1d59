"""hpy/debug/leakdetector.py: LeakDetector and the handle stack-trace switches."""
import functools
import os
import sys

from hpy.universal import _debug

HPyDebugError = _debug.HPyDebugError
# unihpy's debug context tells the handles of each thread apart (an interpreter's own, PyPy's, does not).
_PER_THREAD = hasattr(_debug, "get_report_count")
# unihpy's debug context also lists the list and tuple builders never built nor cancelled.
_BUILDERS = hasattr(_debug, "get_open_builders")


def _describe(handle):
    # The handle's repr: its object, then where it was opened (or how to record it), each line indented.
    return "\n".join("    " + line for line in repr(handle).rstrip("\n").splitlines())


def _describe_builder(b):
    lines = ["<%s of size %d> created by %s" % (b.created_by[:-4], b.size, b.created)]
    lines += ["Allocation stacktrace:\n" + b.stack.rstrip("\n")] if b.stack else []
    return "\n".join("    " + line for line in "\n".join(lines).splitlines())


def _leak_lines(leaks, builders):
    lines = []
    if leaks or not builders:
        lines.append("%d unclosed handle%s:" % (len(leaks), "" if len(leaks) == 1 else "s"))
        lines += [_describe(h) for h in leaks]
    if builders:
        lines.append("%d builder%s never built nor cancelled (what %s holds is never released):" % (
            len(builders), "" if len(builders) == 1 else "s", "it" if len(builders) == 1 else "each"))
        lines += [_describe_builder(b) for b in builders]
        if not all(b.stack for b in builders):
            lines.append("    To get the stack trace of where each was created use:\n"
                         "    hpy.debug.set_handle_stack_trace_limit(16)")
    return lines


class HPyLeakError(HPyDebugError):
    """Handles opened inside a LeakDetector and still open at its end; `leaks` lists them, and
    `builders` the list and tuple builders created there and never built nor cancelled."""

    def __init__(self, leaks, builders=()):
        self.leaks = leaks
        self.builders = list(builders)
        self.check = "leak"
        super().__init__("\n".join(_leak_lines(leaks, self.builders)))


class LeakDetector:
    """Raises HPyLeakError when handles opened while it is active are still open at its end.

    Only the handles of the thread that started it count: other threads may be inside calls, with
    handles of their own open, at any moment.

    A context manager (``with LeakDetector(): ...``), a decorator (``@LeakDetector()``), or
    start()/stop() by hand.
    """

    def __init__(self):
        self.generation = None

    def start(self):
        if self.generation is not None:
            raise ValueError("LeakDetector already started")
        self.generation = _debug.new_generation()

    def stop(self):
        if self.generation is None:
            raise ValueError("LeakDetector not started yet")
        # This thread's handles only: other threads' calls may be running meanwhile, with their own.
        leaks = _debug.get_open_handles(self.generation, True) if _PER_THREAD else \
            _debug.get_open_handles(self.generation)
        builders = _debug.get_open_builders(self.generation, True) if _BUILDERS else []
        self.generation = None
        if leaks or builders:
            raise HPyLeakError(leaks, builders)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, etype, evalue, tb):
        if etype is not None:
            self.generation = None  # the test's own error comes first
            return False
        self.stop()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with LeakDetector():
                return func(*args, **kwargs)
        return wrapper


def set_handle_stack_trace_limit(limit):
    """Records up to `limit` C frames where each debug handle is opened (shown in reports)."""
    _debug.set_handle_stack_trace_limit(limit)


def disable_handle_stack_traces():
    _debug.set_handle_stack_trace_limit(0)


def _exit_report():
    leaks = _debug.get_open_handles(0)
    if leaks:
        print("hpy.debug: %d handle%s still open at exit:" % (len(leaks), "" if len(leaks) == 1 else "s"),
              file=sys.stderr)
        for h in leaks:
            print(_describe(h), file=sys.stderr)
    builders = _debug.get_open_builders(0) if _BUILDERS else []
    if builders:
        print("hpy.debug: %d builder%s never built nor cancelled at exit:" % (
            len(builders), "" if len(builders) == 1 else "s"), file=sys.stderr)
        for b in builders:
            print(_describe_builder(b), file=sys.stderr)


def _install_exit_report():
    """HPY_DEBUG_EXIT_REPORT=1: list the handles still open when the interpreter exits."""
    if os.environ.get("HPY_DEBUG_EXIT_REPORT", "") not in ("", "0"):
        import atexit
        atexit.register(_exit_report)
