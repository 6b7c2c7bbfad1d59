/* tests/abi/layout_check.c: compiles the ABI layout asserts as C11 (built once per ABI by tests/CMakeLists.txt). */
#include "layout_asserts.h"

/* ISO C wants at least one external declaration besides the asserts; this one also keeps the
   object file non-empty so the build visibly produces something per ABI. */
const int hpy_abi_layout_checked_c = 1;
