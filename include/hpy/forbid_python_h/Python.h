/* include/hpy/forbid_python_h/Python.h: hpy.devel puts this folder first on the include path of
   universal builds, so that including <Python.h> anywhere in a universal module (before or after
   hpy.h, directly or through another header) fails at compile time. */
#error \
    "It is forbidden to #include <Python.h> when targeting the HPy Universal ABI (use the hybrid ABI to mix HPy and the CPython C API)"
