"""tests/e2e/host_differences.py: where another interpreter differs from CPython, test by test, and why.

conftest.py applies these on the hosts of devtools/hosts.py. A listed test still runs and must fail
there (strict xfail): when the host starts to behave like CPython the run says so, and the entry
goes. Tests marked "crash" take the interpreter down and are not run; the reason names the crash.
Keys are test ids without the ABI parameter; groups: "pypy" (every PyPy), "pypy+unihpy" (PyPy
through unihpy's hpy.universal over its C-API emulation), "pypy+native" (PyPy's own HPy host), or
one host's name.
"""

MESSAGE = "PyPy words this error differently; the test pins CPython's text"
# CPython 3.13 and later: an unsigned member accepts a negative
# value, stored modulo 2**N with a RuntimeWarning, where 3.12 and earlier raise OverflowError.
CPYTHON_313 = {
    "test_type.py::test_member_errors": "CPython 3.13+ stores a negative value in an unsigned member "
                                        "with a RuntimeWarning instead of raising OverflowError",
}
REFCOUNTS = "PyPy has no reference counts (no sys.getrefcount)"

DIFFERENCES = {
    "pypy": {
        "test_basic.py::test_destroy_runs_for_subclasses":
            "PyPy frees objects at its next garbage collection, not at `del`",
        "test_bool.py::test_bool": MESSAGE,
        "test_builders.py::test_builders": REFCOUNTS,
        "test_bytes.py::test_bytes": "PyPy's bytes size of a str raises no TypeError",
        "test_call.py::test_call": MESSAGE,
        "test_dict.py::test_dict": "PyPy refuses HPyDict_Keys of a list with another error than "
                                   "CPython's SystemError",
        "test_err.py::test_warn": "PyPy warns with UserWarning where CPython uses RuntimeWarning "
                                  "for a NULL category",
        "test_err.py::test_write_unraisable": "PyPy's unraisable hook gets no object",
        "test_float.py::test_number_float": MESSAGE,
        "test_handles.py::test_constants": "PyPy's datetime has no datetime_CAPI capsule",
        "test_handles.py::test_dup_close_refcounts": REFCOUNTS,
        "test_list.py::test_list": "PyPy's list of size -1 raises no SystemError",
        "test_long.py::test_signed_overflow": MESSAGE,
        "test_long.py::test_unsigned": MESSAGE,
        "test_long.py::test_index_and_type_errors": MESSAGE,
        "test_long.py::test_void_ptr": "PyPy refuses a negative number as a void pointer",
        "test_module.py::test_globals": REFCOUNTS,
        "test_number.py::test_binary_errors": MESSAGE,
        "test_number.py::test_unary": MESSAGE,
        "test_object.py::test_attributes": MESSAGE,
        "test_object.py::test_items": MESSAGE,
        "test_object.py::test_repr_str_ascii_bytes": MESSAGE,
        "test_object.py::test_type_checks": REFCOUNTS,
        "test_tracker.py::test_tracker": REFCOUNTS,
        "test_tuple.py::test_tuple": REFCOUNTS,
        "test_unicode.py::test_encoders": MESSAGE,
        "test_unicode.py::test_wide_and_fs": "PyPy raises AttributeError, not TypeError, for a "
                                             "bytes argument of the file-system encoder",
        "test_unicode.py::test_read_char_substring": "PyPy's substring accepts a negative start",
        "test_unicode.py::test_decoders": MESSAGE,
        "test_gc_clear.py::test_cycle_through_fields_is_collected": "PyPy's collector does not free "
                                                                    "these cycles at gc.collect()",
        "test_gc_spec.py::test_gc_needs_traverse": "PyPy has no gc.is_tracked",
    },
    "pypy+unihpy": {
        "test_number.py::test_power": "PyPy's C-API emulation has no in-place power with a modulus",
        "test_metaclass.py::test_python_metaclass": "PyPy's C-API emulation lets a type with a "
                                                    "metaclass be subclassed without Py_TPFLAGS_BASETYPE",
        "test_metaclass.py::test_hpy_metaclass_with_a_struct": "on PyPy an HPy metaclass's tp_new is "
                                                               "not type's, which unihpy's metaclass path "
                                                               "before Python 3.12 refuses",
    },
    "pypy-8.0": {
        "crash:test_compat_macros.py::test_compat_macros": "unihpy's host over PyPy 8.0's C-API "
                                                           "emulation crashes (segmentation fault) here; "
                                                           "not yet understood",
        "test_call_protocol.py::test_python_subclass": "PyPy 8.0 does not give a Python subclass the "
                                                       "base's call protocol",
    },
    "pypy-7.3.11": {
        "test_compat_macros.py::test_compat_macros": "PyPy 7.3.11's getset descriptors have no __doc__",
        "test_float.py::test_as_double": "PyPy 7.3.11 (Python 3.9) does not convert through __index__",
        "test_long.py::test_masks": "PyPy 7.3.11 (Python 3.9) masks differ for non-int arguments",
        "test_object.py::test_hash_length_istrue": MESSAGE,
        "test_pof.py::test_point_subclass": "PyPy 7.3.11's PyType_FromSpec lets a type without "
                                            "Py_TPFLAGS_BASETYPE be subclassed",
    },
    "cpython-3.13": CPYTHON_313,
    "cpython-3.14": CPYTHON_313,
    "cpython-3.14d": CPYTHON_313,
    "pypy+native": {
        # PyPy's own HPy host: its messages, its module creation, its limits
        "test_argparse.py::test_unit_s": "PyPy's HPy host fails an internal check on this unit",
        "test_argparse.py::test_keywords_dict": "PyPy's HPy host hands tp_new/tp_init keywords as a "
                                                "tuple, not a dict",
        "test_err.py::test_new_exception": MESSAGE,
        "test_import_hook.py::test_plain_import_without_stub": "unihpy's import hook: not in PyPy's host",
        "test_import_hook.py::test_hook_imports_little_at_startup": "unihpy's import hook: not in "
                                                                    "PyPy's host",
        "test_long.py::test_masks": MESSAGE,
        "test_module.py::test_mod_create_module": "PyPy's HPy host does not name a created module",
        "test_module.py::test_mod_create_custom_object": "PyPy's HPy host does not name a created module",
        "test_module.py::test_mod_create_with_methods": "PyPy's HPy host words the refusal differently",
        "test_module.py::test_mod_create_with_doc": "PyPy's HPy host words the refusal differently",
        "test_module.py::test_module_state_refused": "PyPy's HPy host words the refusal differently",
        "test_module.py::test_unknown_slot_refused": "PyPy's HPy host words the refusal differently",
        "test_number.py::test_number_check": "PyPy's HPy host: complex is not a number for "
                                             "HPyNumber_Check",
        "test_float.py::test_as_double": "PyPy's HPy host does not convert through __index__",
        "test_object.py::test_hash_length_istrue": MESSAGE,
        "test_unicode.py::test_from_string_check": "PyPy's HPy host fails an internal check",
        "test_unicode.py::test_as_utf8_and_size": MESSAGE,
        "test_pof.py::test_point_new": "PyPy's HPy host hands tp_new keywords as a tuple, not a dict",
        "test_pof.py::test_point_getset_xy": "PyPy's HPy host: a setter's exception is lost",
        "test_pof.py::test_point_subclass": "PyPy's HPy host lets a type without "
                                            "HPy_TPFLAGS_BASETYPE be subclassed",
        "test_pof.py::test_package_module": "PyPy's HPy host names a package's module by its last "
                                            "component",
        "test_pof.py::test_built_file_names": "PyPy's hpy.devel needs setuptools, absent here",
        "test_bootstrap.py::test_stub_of_hpy_09": "unihpy's hpy.universal._load_bootstrap: PyPy has its own",
        "test_bootstrap.py::test_load_bootstrap_refuses_a_different_environment":
            "unihpy's hpy.universal._load_bootstrap: PyPy has its own",
        "test_builtin_shapes.py::test_struct_free_shapes": "PyPy's HPy host ignores the Long, Unicode "
                                                          "and Tuple shapes (the base stays object)",
        "test_builtin_shapes.py::test_struct_free_shapes_refuse_a_struct": "PyPy's HPy host ignores "
                                                                          "the builtin shapes",
        "test_builtin_shapes.py::test_invalid_shape": "PyPy's HPy host refuses an invalid shape with "
                                                     "ValueError",
        "test_call_protocol.py::test_set_call_function_per_object": "PyPy's HPy host: a per-object "
                                                                   "call function does not replace "
                                                                   "the type's",
        "test_call_protocol.py::test_python_subclass": "PyPy's HPy host: a Python subclass keeps no "
                                                      "per-object call function",
        "test_call_protocol.py::test_set_call_function_on_a_type_without_the_protocol":
            "PyPy's HPy host accepts HPy_SetCallFunction on a type without the call protocol",
        "test_call_protocol.py::test_invalid_call_specs": "PyPy's HPy host words the refusal differently",
        "test_metaclass.py::test_python_metaclass": "PyPy's HPy host lets a type with a metaclass be "
                                                    "subclassed without HPy_TPFLAGS_BASETYPE",
        "test_metaclass.py::test_hpy_metaclass_with_a_struct": "PyPy's HPy host lets a type with a "
                                                               "metaclass be subclassed without "
                                                               "HPy_TPFLAGS_BASETYPE",
        "test_metaclass.py::test_bad_metaclasses": "PyPy's HPy host words the refusal differently",
        "crash:test_call_protocol.py::test_explicit_vectorcalloffset_member": "PyPy's HPy host crashes "
                                                                             "(segmentation fault) on an "
                                                                             "explicit __vectorcalloffset__",
        "test_gc_spec.py::test_gc_needs_traverse": "PyPy's HPy host words the refusal differently",
        "test_metaclass.py::test_metaclass_given_twice": "PyPy's HPy host words the refusal differently",
        "test_legacy.py::test_universal_refuses_legacy_methods": "PyPy's HPy host accepts legacy "
                                                                 "methods in a universal module",
        "crash:test_compat_macros.py::test_compat_macros": "PyPy's HPy host crashes (segmentation "
                                                           "fault) in this test of the compatibility "
                                                           "macros",
        "crash:test_gc_clear.py::test_cycle_through_fields_is_collected": "PyPy's HPy host aborts "
                                                                          "collecting a Python "
                                                                          "subclass in a cycle",
        "crash:test_basic.py::test_list_and_float_shapes": "PyPy's HPy host crashes (segmentation "
                                                           "fault) on the List and Float shapes",
        "crash:test_buildvalue.py::test_failing_values": "PyPy's HPy host aborts on this test",
        "crash:test_err.py::test_errno": "PyPy's HPy host crashes (segmentation fault) setting errno "
                                         "errors",
        "crash:test_pof.py::test_point_norm": "PyPy's HPy host aborts (Fatal RPython error: "
                                              "NotImplementedError) when a read-only attribute is set",
    },
}


def mark(items, folder):
    """Marks the items under `folder` that differ on the host this run is on (UNIHPY_HOST)."""
    import os
    import sys

    import pytest

    if not os.environ.get("UNIHPY_E2E_MODULES", "").startswith("use:"):
        return
    found = differences_for(os.environ.get("UNIHPY_HOST", ""), sys.implementation.name == "pypy",
                            os.environ.get("UNIHPY_HPY_HOST", "unihpy"))
    for item in items:
        if not str(item.fspath).startswith(str(folder)):
            continue
        crash, reason = found.get("%s::%s" % (item.fspath.basename, item.originalname), (None, None))
        if crash:
            item.add_marker(pytest.mark.skip(reason="crashes this host: " + reason))
        elif reason:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


def differences_for(host, is_pypy, hpy_host):
    """{test id: (crashes?, reason)} of `host`."""
    groups = (["pypy", "pypy+" + hpy_host] if is_pypy else []) + [host]  # the last one named wins
    found = {}
    for group in groups:
        for key, reason in DIFFERENCES.get(group, {}).items():
            crash = key.startswith("crash:")
            found[key[len("crash:"):] if crash else key] = (crash, reason)
    return found
