"""hpy: unihpy's drop-in for HPy's Python packages (hpy.devel, hpy.universal, ...)."""

__version__ = "0.1.0"
