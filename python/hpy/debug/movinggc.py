"""hpy.debug's switch of the moving-GC checker (debug/movinggc.h; docs/debug.md).

While it is on, HPyField_Store and HPyGlobal_Store of modules in debug mode put opaque tokens into fields
and globals, and every collection of the gc re-issues them through the types' HPy_tp_traverse: a field
the traverse does not visit, or a field or global value kept across a collection, is reported when it is
next loaded.
"""
import gc

_saved_threshold = None


def set_movinggc(on=True, every=None):
    """Turns the moving-GC checker on or off; returns whether it was on.

    ``every=N`` also makes the gc collect (and so the checker re-issue every token) each N allocations of
    gc-tracked objects (``gc.set_threshold(N)``; turning the checker off gives the threshold back)."""
    global _saved_threshold
    from hpy.universal import _debug
    was = _debug.set_movinggc(on)
    if on and every is not None:
        if _saved_threshold is None:
            _saved_threshold = gc.get_threshold()
        gc.set_threshold(int(every), *_saved_threshold[1:])
    elif not on and _saved_threshold is not None:
        gc.set_threshold(*_saved_threshold)
        _saved_threshold = None
    return was


def get_movinggc():
    """Whether the moving-GC checker is on."""
    from hpy.universal import _debug
    return _debug.get_movinggc()
