"""hpy.trace: the trace context's Python API (drop-in for HPy 0.9's hpy.trace).

A universal module loaded in trace mode (``hpy.universal.load(..., mode=MODE_TRACE)`` or
``HPY=trace``) counts and times every call it makes into the HPy context.
"""
from hpy.universal import _trace

get_call_counts = _trace.get_call_counts
get_durations = _trace.get_durations
get_frequency = _trace.get_frequency
set_trace_functions = _trace.set_trace_functions
reset = _trace.reset

__all__ = ["get_call_counts", "get_durations", "get_frequency", "set_trace_functions", "reset"]
