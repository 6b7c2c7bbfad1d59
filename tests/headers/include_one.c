/* tests/headers/include_one.c: includes one public header (HPY_TEST_HEADER) twice, after hpy.h unless standalone. */
/*
 * Compiled by tests/CMakeLists.txt as C11 and as C++17 (-x c++), in each ABI, with warnings as
 * errors. Sub-headers of include/hpy/ rely on hpy.h's prelude (ABI selection, Python.h, base
 * types), so they are checked after hpy.h; hpy.h and hpy/base.h are self-contained and are
 * checked alone (HPY_TEST_STANDALONE). Including twice checks the include guard.
 */
#ifndef HPY_TEST_HEADER
#    error "pass -DHPY_TEST_HEADER=<hpy/...h>"
#endif

#ifndef HPY_TEST_STANDALONE
#    include "hpy.h"
#endif
#include HPY_TEST_HEADER
#include HPY_TEST_HEADER

/* ISO C forbids an empty translation unit. */
extern int hpy_headers_include_one;
