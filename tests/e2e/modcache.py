"""tests/e2e/modcache.py: one build of a test module per ABI mode and source, shared by the tests that use it.

For tests that only read a module (or only deltas of its counters): building once per ABI mode instead of
once per test keeps the suite's compile time down.
"""
_modules = {}


def shared_module(compiler, source, name="mytest"):
    # Debug mode loads the universal build: the mode it loads in is part of the key.
    key = (compiler.abi, compiler.load_mode, name, source)
    if key not in _modules:
        _modules[key] = compiler.make_module(source, name)
    return _modules[key]
