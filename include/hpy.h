/* include/hpy.h: the one header HPy extensions include; picks the ABI and pulls in the rest. */
#ifndef HPY_H
#define HPY_H

/* Exactly one ABI: HPY_ABI_CPYTHON (direct CPython calls), HPY_ABI_UNIVERSAL (one binary,
   every call through the context) or HPY_ABI_HYBRID (universal plus the CPython C API). */
#if (defined(HPY_ABI_CPYTHON) + defined(HPY_ABI_UNIVERSAL) + defined(HPY_ABI_HYBRID)) != 1
#    error \
        "Define exactly one of HPY_ABI_CPYTHON, HPY_ABI_UNIVERSAL, HPY_ABI_HYBRID (hpy.devel does it for you)"
#endif

#if defined(HPY_ABI_UNIVERSAL) && defined(Py_PYTHON_H)
#    error "It is forbidden to #include <Python.h> when targeting the HPy Universal ABI"
#endif

/* The ABI as a string literal: "cpython", "universal" or "hybrid". */
#if defined(HPY_ABI_CPYTHON)
#    define HPY_ABI "cpython"
#elif defined(HPY_ABI_HYBRID)
#    define HPY_ABI "hybrid"
#else
#    define HPY_ABI "universal"
#endif

/* Universal and hybrid modules call through the context; CPython-ABI ones call CPython. */
#if defined(HPY_ABI_UNIVERSAL) || defined(HPY_ABI_HYBRID)
#    define HPY_UNIVERSAL_DISPATCH 1
#endif

#if defined(HPY_ABI_CPYTHON) || defined(HPY_ABI_HYBRID)
#    define PY_SSIZE_T_CLEAN
#    include <Python.h>
#endif

/* The ABI: a host refuses a module whose major differs or whose minor is newer than its own.
   HPY_ABI_VERSION_MINOR is what the module requests: 0, HPy 0.9's ABI, unless the extension defines
   it before including hpy.h to use the functions added since (docs/beyond-0.9.md); those are compile
   errors below it. HPY_ABI_VERSION_MINOR_LATEST is the newest these headers and unihpy's host speak. */
#define HPY_ABI_VERSION 0
#define HPY_ABI_VERSION_MINOR_LATEST 1
#ifndef HPY_ABI_VERSION_MINOR
#    define HPY_ABI_VERSION_MINOR 0
#elif HPY_ABI_VERSION_MINOR > HPY_ABI_VERSION_MINOR_LATEST || HPY_ABI_VERSION_MINOR < 0
#    error \
        "HPY_ABI_VERSION_MINOR requests an HPy ABI minor version these headers do not have (the newest is HPY_ABI_VERSION_MINOR_LATEST, 1)"
#endif
#define HPY_ABI_TAG "hpy0"

#include "hpy/base.h"
#include "hpy/hpyfunc_gen.h"
#include "hpy/hpydef.h"
#include "hpy/hpytype.h"
#include "hpy/hpymodule.h"
#include "hpy/universal/context_gen.h"

#ifdef HPY_UNIVERSAL_DISPATCH
#    include "hpy/universal/hpy_universal.h"
#else
#    include "hpy/cpython/hpy_cpython.h"
#endif

#include "hpy/inline_helpers.h"
#include "hpy/helpers.h"
#include "hpy/source_compat.h"

#endif /* HPY_H */
