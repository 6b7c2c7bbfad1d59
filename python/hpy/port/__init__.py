# python/hpy/port/__init__.py: the porting tool, `python -m hpy.port` (docs/porting.md).
"""Helps port a CPython C-API extension to HPy: ``report`` lists every C-API use with its HPy
equivalent, per function, with what blocks a pure-HPy port and an order to port in."""
