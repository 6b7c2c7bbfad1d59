# proof-of-concept/pofpackage/__init__.py: package holding the HPy extension pofpackage.foo.
