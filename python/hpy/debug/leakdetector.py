"""hpy/debug/leakdetector.py: LeakDetector and the handle stack-trace switches."""
import functools
import os
import sys

from hpy.universal import _debug

HPyDebugError = _debug.HPyDebugError
# unihpy's debug context tells the handles of each thread apart (an interpreter's own, PyPy's, does not).
_PER_THREAD = hasattr(_debug, "get_report_count")


def _describe(handle):
    # The handle's repr: its object, then where it was opened (or how to record it), each line indented.
    return "\n".join("    " + line for line in repr(handle).rstrip("\n").splitlines())


class HPyLeakError(HPyDebugError):
    """Handles opened inside a LeakDetector and still open at its end; `leaks` lists them."""

    def __init__(self, leaks):
        self.leaks = leaks
        self.check = "leak"
        lines = ["%d unclosed handle%s:" % (len(leaks), "" if len(leaks) == 1 else "s")]
        lines += [_describe(h) for h in leaks]
        super().__init__("\n".join(lines))


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
        self.generation = None
        if leaks:
            raise HPyLeakError(leaks)

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


def _install_exit_report():
    """HPY_DEBUG_EXIT_REPORT=1: list the handles still open when the interpreter exits."""
    if os.environ.get("HPY_DEBUG_EXIT_REPORT", "") not in ("", "0"):
        import atexit
        atexit.register(_exit_report)
