// debug/movinggc.h: the moving-GC checker of the debug context: HPyFields and HPyGlobals hold opaque
// tokens that each simulated collection re-issues through the types' HPy_tp_traverse.
//
// While the checker is on, HPyField_Store and HPyGlobal_Store of the debug context put a token (odd,
// never an object's address) into the field or global; a side table maps it to the object (a strong
// reference: the field's), the owner, the field's offset and where it was stored. Each simulated
// collection (every collection of CPython's gc, through gc.callbacks, and collect()) calls each owner's
// HPy_tp_traverse with a visitor that gives every visited field a new token: what a moving collector
// does to the address in the field. A field its traverse did not visit keeps its token and is reported
// when it is next loaded (`field-not-traversed`); a value copied out of a field or global before a
// collection and loaded after it is reported too (`stale-field`, `stale-global`). The host resolves a
// token in its own tp_traverse, tp_clear and tp_dealloc (runtime/cpython/context_init.h: TokenHooks), so
// CPython's collector sees the fields' objects as before and collects cycles through them.
#pragma once

#include <cstdint>

#include "debug/debug_context.h"

namespace hpy::debug::movinggc {

bool enabled();
// Turns the checker on or off (needs the GIL: it adds or removes its gc callback). Stores made while
// it is on hold tokens; those tokens stay valid (loaded, released with their owner) after it is off,
// but are re-issued only while it is on.
bool set_enabled(bool on);

// The debug context's HPyField_Store once its checks are done: true when the checker stored (a token, or
// the field's former token released); false: the universal context's store is still to be done.
// `owner_ok`: the field lies in the owner's struct.
bool field_store(Api &api, Handle *owner, HPyField *field, HPy uh, bool owner_ok);
// HPyField_Load of a field holding a token: the universal handle of its object (a new reference), or
// HPy{0} after a report.
HPy field_load(Api &api, Handle *owner, HPyField field);
// The same for globals.
bool global_store(Api &api, HPyGlobal *global, HPy uh);
HPy global_load(Api &api, HPyGlobal global);

// One simulated collection; returns the number of fields found not visited by their owner's traverse.
size_t collect();

// hpy.universal._debug's functions of the checker.
PyObject *py_set_movinggc(PyObject *, PyObject *arg);
PyObject *py_get_movinggc(PyObject *, PyObject *);
PyObject *py_movinggc_collect(PyObject *, PyObject *);
PyObject *py_get_movinggc_stats(PyObject *, PyObject *);

}  // namespace hpy::debug::movinggc
