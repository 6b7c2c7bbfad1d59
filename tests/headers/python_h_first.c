/* tests/headers/python_h_first.c: must NOT compile in the universal ABI (Python.h before hpy.h). */
#include <Python.h>
#include "hpy.h"

extern int hpy_headers_python_h_first;
