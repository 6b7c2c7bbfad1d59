/* tests/headers/python_h_after.c: Python.h after hpy.h in a universal module, compiled with the
   include path hpy.devel gives universal builds (hpy/forbid_python_h first): must not compile. */
#include "hpy.h"
#include <Python.h>
