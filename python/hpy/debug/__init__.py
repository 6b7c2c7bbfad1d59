"""hpy.debug: the debug context's Python API (drop-in for HPy 0.9's hpy.debug).

A universal module loaded in debug mode (``hpy.universal.load(..., mode=MODE_DEBUG)``, ``debug=True``,
or ``HPY=debug`` / ``HPY=mod:debug``) runs under a context that checks every handle it hands out.
"""
from .leakdetector import (HPyDebugError, HPyLeakError, LeakDetector, disable_handle_stack_traces,
                           set_handle_stack_trace_limit, _install_exit_report)
from .movinggc import get_movinggc, set_movinggc

__all__ = ["HPyDebugError", "HPyLeakError", "LeakDetector", "set_handle_stack_trace_limit",
           "disable_handle_stack_traces", "set_movinggc", "get_movinggc"]
