# python/hpy/port/__init__.py: the porting tool, `python -m hpy.port` (docs/porting.md).
"""Helps port a CPython C-API extension to HPy: ``report`` lists every C-API use with its HPy
equivalent, per function, with what blocks a pure-HPy port and an order to port in; ``rewrite``
turns the source into a hybrid-ABI module with behaviour-preserving edits (HPyModuleDef,
HPy_MODINIT, HPyDef_METH, HPyType_Spec), leaving the rest as C API with its reason; ``check`` builds
a source with hpy.devel and runs a test command against that build."""
