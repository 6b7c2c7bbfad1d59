"""tests/e2e/host_differences.py: where another interpreter differs from CPython, test by test, and why.

conftest.py applies these on the hosts of devtools/hosts.py. A listed test still runs and must fail
there (strict xfail): when the host starts to behave like CPython the run says so, and the entry
goes. Tests marked "crash" take the interpreter down and are not run; the reason names the crash.
Tests marked "n/a" check what only unihpy's host does (its own messages and checks) and are not run
on a host that is not unihpy's, or check what a host does not let a test observe (a type that is
never freed there). Keys are test ids without the ABI parameter (file::test, or
file::test[other parameters] for some parametrisations, or a whole file), each optionally for one
ABI mode only (file::test@debug). Groups: "pypy" (every PyPy), "pypy+unihpy" (PyPy through unihpy's
hpy.universal over its C-API emulation), "pypy+native" (PyPy's own HPy host), or one host's name.
"""

MESSAGE = "PyPy words this error differently; the test pins CPython's text"
# CPython 3.13 and later: an unsigned member accepts a negative
# value, stored modulo 2**N with a RuntimeWarning, where 3.12 and earlier raise OverflowError.
CPYTHON_313 = {
    "test_type.py::test_member_errors": "CPython 3.13+ stores a negative value in an unsigned member "
                                        "with a RuntimeWarning instead of raising OverflowError",
}
# CPython 3.13's free-threaded build (cpython-3.13t).
IMMORTAL_TYPES = ("CPython 3.13's free-threaded build makes every type created once a second thread has "
                  "started immortal: such a type is never freed")
FREE_THREADED_313 = {
    "test_bad_modules.py::test_type_spec_that_corrupted_memory[legacy-basicsize]":
        "the free-threaded build's object header is 32 bytes (thread id, local and shared reference "
        "counts), the default build's 16",
    # Skipped, not expected to fail: in a run where no thread has started before, the type is freed.
    "n/a:test_field.py::test_type_and_instances_die_together": IMMORTAL_TYPES,
    "n/a:test_metaclass.py::test_class_of_an_hpy_metaclass_is_freed_whole": IMMORTAL_TYPES + "; and "
        "where they are freed, sys.getallocatedblocks() right after gc.collect() counts memory the build "
        "frees later: 400 to 900 blocks more, as many after 500 classes as after 4000 (no leak per class)",
}
REFCOUNTS = "PyPy has no reference counts (no sys.getrefcount)"
UNIHPY_CHECK = "a check of a bad type spec that unihpy's host makes and PyPy's HPy host does not"
GC_TIME = "PyPy frees objects at its next garbage collection, not at `del`"
CYCLES = "PyPy's collector does not free these cycles at gc.collect()"
SUBTYPE_BASICSIZE = ("PyPy's HPy host crashes (segmentation fault) creating an instance of an HPy "
                     "subtype whose spec leaves basicsize 0 to inherit its base's: it allocates the "
                     "subtype's own size, 0 bytes, for the base's struct")
LEAK_REPORT_ABORT = ("PyPy's HPy host leaves handles open after its failed internal check, and its "
                     "debug context aborts (an assertion in HPyTuple_FromArray) building the leak report")
SHORT_TP_NAME = ("PyPy 7.3.11's tp_name of a type made from a spec is its short name ('Box', not "
                 "'misuse.Box'), which the debug report names")
UNIHPY_DEBUG = ("the reports, hooks and trace mode of unihpy's debug and trace contexts (PyPy's HPy "
                "host has its own debug context)")
REFLECTED = ("PyPy's HPy host does not call the right operand's slot when the left one has none "
             "(3 * seq, 1 + num)")
SUBCLASS_DESTROY = ("PyPy's HPy host aborts (an assertion in W_HPyObject._finalize_) when it collects "
                    "an instance of a Python subclass of an HPy type that has HPy_tp_destroy")
PYPY_NESTED_CONTEXT = ("PyPy's HPy debug context says 'Wrong HPy Context!' and aborts when a function uses "
                       "its context again after a call it made into the same module (churn creates Box "
                       "instances through HPy_CallTupleDict) has returned")
REFERENTS = "PyPy's gc.get_referents does not go through a C type's tp_traverse"
NO_GC_CALLBACKS = ("PyPy's gc module has no callbacks, from which the moving-GC checker runs its simulated "
                   "collections: turning it on is refused there (test_refused_without_gc_callbacks)")
MOVINGGC_CHECKS = ("test_traversed_fields_are_never_reported", "test_cycles_through_tokens_are_collected",
                   "test_field_not_traversed", "test_field_not_traversed_needs_the_checker",
                   "test_field_value_kept_across_a_collection", "test_global_value_kept_across_a_collection",
                   "test_switching_on_and_off", "test_every_n_allocations", "test_raw_handle_kept_in_a_struct",
                   "test_environment_switch")
ABI_01 = ("the module requests ABI 0.1 (the buffer consumer API), which a host of ABI 0.0 refuses "
          "(test_abi_minor.py checks the refusal)")
NATIVE_ABI_00 = {
    "n/a:test_buffer_consumer.py": ABI_01,
    "n/a:test_debug_buffers.py": ABI_01,
}
NO_ITEMS_STRUCT = ("unihpy's host over PyPy's C-API emulation gives int, str and tuple objects no C struct "
                   "(HPyType_FromSpec refuses a basicsize with those shapes)")

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
        "test_capsule.py::test_is_valid": "PyPy's datetime has no datetime_CAPI capsule",
        "test_capsule.py::test_refcounts": REFCOUNTS,
        "test_capsule.py::test_destructor_runs_with_the_capsule_state": GC_TIME,
        "test_capsule.py::test_set_destructor": GC_TIME,
        "test_capsule.py::test_one_part_helpers": GC_TIME,
        "test_field.py::test_store_load": REFCOUNTS,
        "test_field.py::test_fields_cleared_at_deallocation": REFCOUNTS,
        "test_field.py::test_traverse_shows_referents": REFERENTS,
        "test_field.py::test_python_subclass_fields": REFERENTS,
        "test_field.py::test_cycle_through_fields_is_collected": CYCLES,
        "test_field.py::test_type_and_instances_die_together": GC_TIME,
        "test_moddef.py::test_globals_of_two_modules_are_separate": REFCOUNTS,
        "test_slots.py::test_buffer_slots": REFCOUNTS,
        "test_type.py::test_refcounts_balanced": REFCOUNTS,
        "test_type.py::test_object_members_hold_fields": REFCOUNTS,
        "test_type.py::test_members_of_every_field_type": "PyPy has no gc.is_tracked",
        "test_type.py::test_member_errors": MESSAGE,
        "test_builtin_shapes.py::test_builtin_part_is_freed": "PyPy has no tracemalloc",
        "test_type.py::test_python_base_parts_are_released[destroy]": GC_TIME,
        "test_slots.py::test_buffer_writable_request_refused": "PyPy's os has no readv",
        "test_type.py::test_spec_param_base_and_bases_tuple_errors": REFCOUNTS,
    },
    "pypy+unihpy": {
        "test_buffer_consumer.py::test_writable_request_on_bytes": "PyPy refuses a writable buffer of bytes "
                                                                   "with ValueError, CPython with BufferError",
        **{"n/a:test_debug_movinggc.py::" + name: NO_GC_CALLBACKS for name in MOVINGGC_CHECKS},
        "test_field.py::test_cycle_with_python_objects_is_collected": CYCLES,
        "crash:test_debug_handles.py::test_on_invalid_handle_hook[debug]": (
            "without reference counts the debug context cannot tell that a close released the "
            "object: after the hook the call goes on with it instead of failing, and aborts when "
            "PyPy's collector has freed it in between (seen once in the matrix)"),
        "test_type.py::test_variable_size_shapes": NO_ITEMS_STRUCT,
        "test_type.py::test_type_functions": "unihpy's host over PyPy's C-API emulation takes "
                                             "HPyType_GetName from tp_name, after its last dot: a "
                                             "class named 'Dotted.Name' gives 'Name'",
        "test_builtin_shapes.py::test_struct_after_items": NO_ITEMS_STRUCT,
        "test_builtin_shapes.py::test_str_struct": NO_ITEMS_STRUCT,
        "test_builtin_shapes.py::test_struct_after_items_needs_its_base": NO_ITEMS_STRUCT,
        "test_builtin_shapes.py::test_struct_after_items_refuses_members_without_struct": NO_ITEMS_STRUCT,
        # (the tuple case is refused there as here: PyPy's tuple type has an item size, its int none)
        "test_builtin_shapes.py::test_call_protocol_refused_with_items[2]": "PyPy's int type has no item "
                                                                             "size: HPy_tp_call over it is allowed",
        "test_bad_modules.py::test_wrong_file_name_tag[other-python]": "the test expects a CPython "
                                                                       "interpreter tag (cpNN), PyPy's is pypyNN-ppNN",
        "test_bad_modules.py::test_not_an_hpy_module[cpython-extension]": "the CPython extension built "
            "on the build machine needs PyModuleDef_Init, which PyPy's C-API emulation calls "
            "PyPyModuleDef_Init: the file does not load at all (undefined symbol)",
        "test_bad_modules.py::test_type_spec_that_corrupted_memory[legacy-basicsize]":
            "PyPy's C-API emulation gives every object a 24-byte header (ob_pypy_link), CPython 16",
        "test_moddef.py::test_no_doc": "PyPy's module objects without a docstring show the module "
                                       "type's __doc__",
        "test_slots.py::test_power_slots": "PyPy's C-API emulation has no in-place power with a modulus",
        "test_slots.py::test_new_and_init": "PyPy's C-API emulation lets an instance of a type "
                                            "without __dict__ take new attributes",

        "test_number.py::test_power": "PyPy's C-API emulation has no in-place power with a modulus",
        "test_debug_misuse.py::test_raw_data_after_close[debug]": "PyPy's reference counts do not tell "
            "whether a closed handle held the object's last reference, so debug mode keeps the raw data "
            "of a closed owned handle readable there (an argument's is protected at the end of the call)",
        "test_debug_misuse.py::test_raw_data_fault_without_binutils[debug]": "PyPy's reference counts do "
            "not tell whether a closed handle held the object's last reference, so debug mode keeps the raw "
            "data of a closed owned handle readable there (no fault to explain)",
        "test_metaclass.py::test_python_metaclass": "PyPy's C-API emulation lets a type with a "
                                                    "metaclass be subclassed without Py_TPFLAGS_BASETYPE",
        "test_metaclass.py::test_hpy_metaclass_with_a_struct": "on PyPy an HPy metaclass's tp_new is "
                                                               "not type's, which unihpy's metaclass path "
                                                               "before Python 3.12 refuses",
        "test_metaclass.py::test_class_of_an_hpy_metaclass_is_freed_whole":
            "on PyPy an HPy metaclass's tp_new is not type's, which unihpy's metaclass path before "
            "Python 3.12 refuses",
    },
    "pypy-8.0": {
        "test_type.py::test_not_a_base_type": "PyPy 8.0 names the type by its short name in this "
                                              "TypeError",
        "test_type.py::test_member_errors": "PyPy 8.0 stores a negative value in an unsigned member "
                                            "with a RuntimeWarning instead of raising OverflowError",
        "test_slots.py::test_finalize_and_destroy": GC_TIME,
        "test_slots.py::test_finalize_can_resurrect_nothing_twice": GC_TIME,
        "test_slots.py::test_buffer_writable_request_refused": "PyPy 8.0 refuses a writable buffer "
                                                               "request with its own TypeError before "
                                                               "the type's getbuffer runs",
        "crash:test_compat_macros.py::test_compat_macros": "unihpy's host over PyPy 8.0's C-API "
                                                           "emulation crashes (segmentation fault) here; "
                                                           "not yet understood",
        "test_call_protocol.py::test_python_subclass": "PyPy 8.0 does not give a Python subclass the "
                                                       "base's call protocol",
    },
    "pypy-7.3.11": {
        "test_buffer_consumer.py::test_readonly_flag": "PyPy 7.3.11's PyObject_GetBuffer sets "
            "Py_buffer.readonly wrongly for builtin objects (pypy/pypy#4918, #5136; right in PyPy 8.0)",
        "test_slots.py::test_sequence_slots": "PyPy 7.3.11's C-API emulation passes a negative index "
                                              "to sq_item without adding the length",
        "test_type.py::test_methods_of_every_signature": "PyPy 7.3.11's C methods have no __doc__",
        "test_type.py::test_not_a_base_type": "PyPy 7.3.11's PyType_FromSpec lets a type without "
                                              "Py_TPFLAGS_BASETYPE be subclassed",
        "test_type.py::test_getsets": "PyPy 7.3.11's getset descriptors have no __doc__",
        "test_type.py::test_variable_size_shapes": "PyPy 7.3.11's tp_name of a type made from a spec is "
                                                  "its short name ('D0', not 'mytest.D0')",
        "test_type.py::test_spec_param_base_and_bases_tuple_errors": MESSAGE,
        "test_compat_macros.py::test_compat_macros": "PyPy 7.3.11's getset descriptors have no __doc__",
        "test_float.py::test_as_double": "PyPy 7.3.11 (Python 3.9) does not convert through __index__",
        "test_long.py::test_masks": "PyPy 7.3.11 (Python 3.9) masks differ for non-int arguments",
        "test_object.py::test_hash_length_istrue": MESSAGE,
        "test_debug_misuse.py::test_unset_field[debug]": SHORT_TP_NAME,
        "test_debug_classes.py::test_field_store_without_traverse[debug]": SHORT_TP_NAME,
        "test_debug_classes.py::test_field_with_the_wrong_owner[debug]": SHORT_TP_NAME,
        "test_debug_classes.py::test_field_report_is_printed_when_the_process_dies[debug]": SHORT_TP_NAME,
        "test_pof.py::test_point_subclass": "PyPy 7.3.11's PyType_FromSpec lets a type without "
                                            "Py_TPFLAGS_BASETYPE be subclassed",
    },
    "cpython-3.13": CPYTHON_313,
    "cpython-3.14": CPYTHON_313,
    "cpython-3.14d": CPYTHON_313,
    "cpython-3.15": CPYTHON_313,
    "cpython-3.13t": dict(CPYTHON_313, **FREE_THREADED_313),
    "hpy-0.9.0": NATIVE_ABI_00,
    "pypy+native": {
        **NATIVE_ABI_00,
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
        "test_bootstrap.py::test_stub_of_hpy_09": "unihpy's hpy.universal._load_bootstrap: PyPy has its own",
        "test_bootstrap.py::test_load_bootstrap_refuses_a_different_environment":
            "unihpy's hpy.universal._load_bootstrap: PyPy has its own",
        "test_builtin_shapes.py::test_struct_free_shapes": "PyPy's HPy host ignores the Long, Unicode "
                                                          "and Tuple shapes (the base stays object)",
        "test_builtin_shapes.py::test_struct_after_items": "PyPy's HPy host ignores the builtin shapes "
                                                           "(the base stays object)",
        "test_builtin_shapes.py::test_str_struct": "PyPy's HPy host ignores the builtin shapes (the base "
                                                   "stays object)",
        "test_builtin_shapes.py::test_struct_after_items_needs_its_base": "PyPy's HPy host ignores the "
                                                                          "builtin shapes",
        "n/a:test_builtin_shapes.py::test_struct_after_items_refuses_members_without_struct": UNIHPY_CHECK,
        "n/a:test_builtin_shapes.py::test_call_protocol_refused_with_items": UNIHPY_CHECK,
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
        "crash:test_argparse.py::test_unit_s@debug": LEAK_REPORT_ABORT,
        "crash:test_unicode.py::test_from_string_check@debug": LEAK_REPORT_ABORT,
        "crash:test_slots.py::test_slots_through_the_api@debug": "PyPy's HPy debug context aborts (Fatal "
                                                                 "Python error, no report) in these "
                                                                 "sequence and mapping calls",
        "n/a:test_debug_classes.py": UNIHPY_DEBUG,
        "n/a:test_debug_handles.py": UNIHPY_DEBUG,
        "n/a:test_debug_misuse.py": UNIHPY_DEBUG,
        "n/a:test_debug_threads.py": UNIHPY_DEBUG,
        "n/a:test_debug_movinggc.py": UNIHPY_DEBUG + ": its moving-GC checker",
        "crash:test_threads.py::test_calls_and_allocation@debug": PYPY_NESTED_CONTEXT,
        "test_threads.py::test_gil_declaration@debug": PYPY_NESTED_CONTEXT + " (in the child interpreter)",
        "test_threads.py::test_global_stores_and_loads": "PyPy's HPy host keeps alive every object ever "
                                                         "stored into an HPyGlobal (a store does not "
                                                         "release the previous value)",
        "n/a:test_threads.py::test_gil_declaration_refused_value": "HPy_MOD_GIL is unihpy's: PyPy's HPy "
                                                                    "host ignores it, as intended",
        "n/a:test_debug_trace.py": UNIHPY_DEBUG,
        "n/a:test_bad_modules.py": "the catalogue of broken modules pins unihpy's own checks and "
                                   "messages (PyPy's HPy host has its own, and loads some of these)",
        "crash:test_field.py::test_python_subclass_fields": "PyPy's HPy host aborts (Fatal Python error) "
                                                           "with a Python subclass whose HPy base has fields",
        "crash:test_slots.py::test_finalize_and_destroy": "PyPy's HPy host corrupts memory with "
                                                         "HPy_tp_finalize (a later free aborts)",
        "crash:test_slots.py::test_finalize_can_resurrect_nothing_twice": "PyPy's HPy host corrupts memory "
                                                                         "with HPy_tp_finalize",
        "test_capsule.py::test_get_errors": "PyPy's HPy host raises no error for an unknown capsule key",
        "test_capsule.py::test_set_every_key": "PyPy's HPy host raises no error for an unknown capsule key",
        "test_capsule.py::test_invalid_destructor": MESSAGE,
        "test_eval.py::test_errors": "PyPy's HPy host words the refusal of an invalid source kind "
                                     "differently",
        "n/a:test_metaclass.py::test_class_of_an_hpy_metaclass_is_freed_whole": "PyPy has no "
                                                                               "sys.getallocatedblocks",
        "test_moddef.py::test_exec_failure_without_exception": "PyPy's HPy host words the error differently",
        "test_moddef.py::test_mod_create_returns_spec_name": "PyPy's HPy host does not name a created module",
        "test_moddef.py::test_mod_create_with_globals_refused": "PyPy's HPy host words the refusal "
                                                                "differently",
        "test_moddef.py::test_member_in_module_refused": "PyPy's HPy host words the refusal differently "
                                                         "(ValueError)",
        "test_moddef.py::test_bad_method_signature_in_module": "PyPy's HPy host words the refusal "
                                                               "differently (ValueError)",
        "test_moddef.py::test_legacy_methods_refused_in_universal": "PyPy's HPy host accepts legacy "
                                                                    "methods in a universal module",
        "test_slice.py::test_unpack_errors": "PyPy's HPy host refuses a non-slice with SystemError, "
                                             "unihpy's with TypeError",
        "test_slots.py::test_binary_number_slots": REFLECTED,
        "test_slots.py::test_power_slots": REFLECTED,
        "test_slots.py::test_sequence_slots": REFLECTED,
        "test_slots.py::test_invalid_slot_ids": "PyPy's HPy host refuses an unknown slot id with "
                                                "NotImplementedError",
        "crash:test_slots.py::test_new_and_init": SUBCLASS_DESTROY,
        "crash:test_slots.py::test_repr_str_hash": SUBCLASS_DESTROY,
        "crash:test_slots.py::test_richcompare": SUBCLASS_DESTROY,
        "crash:test_type.py::test_hpy_subclasses": SUBTYPE_BASICSIZE,
        "crash:test_type.py::test_python_subclasses": "PyPy's HPy host crashes (segmentation fault) "
                                                       "with Python subclasses of HPy types",
        "crash:test_type.py::test_type_functions": SUBTYPE_BASICSIZE,
        "crash:test_type.py::test_hpy_new_and_generic_new": SUBTYPE_BASICSIZE,
        "test_type.py::test_not_a_base_type": "PyPy's HPy host lets a type without HPy_TPFLAGS_BASETYPE "
                                              "be subclassed",
        "test_type.py::test_getsets": "PyPy's HPy host words the error of deleting a getset attribute "
                                      "differently",
        "test_legacy.py::test_legacy_type_over_a_pure_type": "PyPy's HPy host lets a legacy type inherit "
                                                              "a pure type's memory layout",
        "test_module.py::test_mod_create_module_refused": "PyPy's HPy host accepts a module object from "
                                                          "HPy_mod_create",
        "test_module.py::test_negative_size_refused": "PyPy's HPy host words the refusal without the module's name",
        "test_module.py::test_mod_create_with_exec_refused": "PyPy's HPy host words the refusal without the "
                                                             "module's name",
        "test_module.py::test_two_mod_create_slots_refused": "PyPy's HPy host words the refusal differently",
        "n/a:test_debug_hpy_reaction.py": UNIHPY_DEBUG,
        "crash:test_type.py::test_builtin_shapes": "PyPy's HPy host crashes (segmentation fault) calling an "
                                                    "HPy metaclass of the Type shape over `type` to make a class",
        "test_type.py::test_variable_size_shapes": "PyPy's HPy host ignores the Long, Unicode and Tuple "
                                                   "shapes",
        "test_type.py::test_spec_param_metaclass": "PyPy's HPy host words the refusal differently",
        "n/a:test_type.py::test_spec_param_base_and_bases_tuple_errors": UNIHPY_CHECK,
        "n/a:test_type.py::test_bad_specs": UNIHPY_CHECK,
        "n/a:test_type.py::test_unknown_member_type": UNIHPY_CHECK,
        "n/a:test_type.py::test_member_past_the_end": UNIHPY_CHECK,
        "n/a:test_type.py::test_gc_flag_without_traverse": UNIHPY_CHECK,
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
        kind, reason = None, None
        for key in keys_of(item):
            if key in found:
                kind, reason = found[key]
                break
        if kind == "crash":
            item.add_marker(pytest.mark.skip(reason="crashes this host: " + reason))
        elif kind == "n/a":
            item.add_marker(pytest.mark.skip(reason="does not apply to this host: " + reason))
        elif reason:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


def keys_of(item):
    """The keys that can name `item`, most precise first: file::test[parameters without the ABI
    mode], file::test, file; each first with the ABI mode (file::test@debug), then without."""
    base = item.fspath.basename
    abi = getattr(item, "callspec", None) and item.callspec.params.get("hpy_abi")
    abi = abi if isinstance(abi, str) else None  # an empty parameter set gives no mode
    keys = []
    if "[" in item.name:
        params = [p for p in item.name[item.name.index("[") + 1:-1].split("-")]
        if abi in params:
            params.remove(abi)
        if params:
            keys.append("%s::%s[%s]" % (base, item.originalname, "-".join(params)))
    keys += ["%s::%s" % (base, item.originalname), base]
    return [variant for key in keys for variant in ((key + "@" + abi, key) if abi else (key,))]


def differences_for(host, is_pypy, hpy_host):
    """{key: (kind, reason)} of `host`; kind is None (xfail), "crash" or "n/a" (both skipped)."""
    groups = (["pypy", "pypy+" + hpy_host] if is_pypy else []) + [host]  # the last one named wins
    found = {}
    for group in groups:
        for key, reason in DIFFERENCES.get(group, {}).items():
            kind, _, name = key.partition(":") if key.startswith(("crash:", "n/a:")) else (None, "", key)
            found[name] = (kind, reason)
    return found
