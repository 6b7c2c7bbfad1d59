/* tests/abi/layout_asserts.h: compile-time pins of the HPy 0.9 universal ABI (sizes, offsets, enum values). */
/*
 * Every number here comes from the HPy 0.9 interface facts (tests/abi/data and the ABI README):
 * a failing assert means a module built with these headers no longer loads in other 0.9 hosts.
 * Included by layout_check.c (C11) and layout_check.cpp (C++17), each built in every ABI.
 * The numbers are for LP64 (x86-64 / aarch64 Linux); other data models are refused outright.
 */
#ifndef HPY_TESTS_ABI_LAYOUT_ASSERTS_H
#define HPY_TESTS_ABI_LAYOUT_ASSERTS_H

#include "hpy.h"

#include <stddef.h>
#include <stdint.h>

/* The context: 24-byte header, then member i at 24 + 8*i (generated from devtools/api/hpy.api).
   It also defines HPY_LAYOUT_ASSERT(cond, what) for C and C++. */
#include "context_offsets_gen.h"

#define HPY_ASSERT_SIZE(T, n) HPY_LAYOUT_ASSERT(sizeof(T) == (n), "sizeof(" #T ") == " #n)
#define HPY_ASSERT_OFFSET(T, f, n) HPY_LAYOUT_ASSERT(offsetof(T, f) == (n), "offsetof(" #T ", " #f ") == " #n)
#define HPY_ASSERT_VALUE(e, n) HPY_LAYOUT_ASSERT((long long)(e) == (long long)(n), #e " == " #n)

HPY_LAYOUT_ASSERT(sizeof(void *) == 8 && sizeof(long) == 8 && sizeof(int) == 4,
                  "the ABI numbers below are for LP64 targets");

/* ------------------------------------------------------------------ versions */
HPY_ASSERT_VALUE(HPY_ABI_VERSION, 0);
HPY_ASSERT_VALUE(HPY_ABI_VERSION_MINOR, 0);
HPY_LAYOUT_ASSERT(sizeof(HPY_ABI_TAG) == 5, "HPY_ABI_TAG has 4 characters");
#ifdef __cplusplus /* C cannot index a string literal in a constant expression */
HPY_LAYOUT_ASSERT(HPY_ABI_TAG[0] == 'h' && HPY_ABI_TAG[1] == 'p' && HPY_ABI_TAG[2] == 'y' &&
                      HPY_ABI_TAG[3] == '0',
                  "HPY_ABI_TAG == \"hpy0\"");
#endif

/* ------------------------------------------------------------------ handles and plain values */
HPY_ASSERT_SIZE(HPy, 8);
HPY_ASSERT_OFFSET(HPy, _i, 0);
HPY_ASSERT_SIZE(HPyField, 8);
HPY_ASSERT_OFFSET(HPyField, _i, 0);
HPY_ASSERT_SIZE(HPyGlobal, 8);
HPY_ASSERT_OFFSET(HPyGlobal, _i, 0);
HPY_ASSERT_SIZE(HPyTracker, 8);
HPY_ASSERT_OFFSET(HPyTracker, _i, 0);
HPY_ASSERT_SIZE(HPyThreadState, 8);
HPY_ASSERT_OFFSET(HPyThreadState, _i, 0);
HPY_ASSERT_SIZE(HPyListBuilder, 8);
HPY_ASSERT_OFFSET(HPyListBuilder, _lst, 0);
HPY_ASSERT_SIZE(HPyTupleBuilder, 8);
HPY_ASSERT_OFFSET(HPyTupleBuilder, _tup, 0);
HPY_ASSERT_SIZE(HPy_ssize_t, 8);
HPY_ASSERT_SIZE(HPy_hash_t, 8);
HPY_ASSERT_SIZE(HPy_UCS4, 4);
HPY_ASSERT_SIZE(HPyCFunction, 8);

/* ------------------------------------------------------------------ modules */
HPY_ASSERT_SIZE(HPyModuleDef, 40);
HPY_ASSERT_OFFSET(HPyModuleDef, doc, 0);
HPY_ASSERT_OFFSET(HPyModuleDef, size, 8);
HPY_ASSERT_OFFSET(HPyModuleDef, legacy_methods, 16);
HPY_ASSERT_OFFSET(HPyModuleDef, defines, 24);
HPY_ASSERT_OFFSET(HPyModuleDef, globals, 32);

/* ------------------------------------------------------------------ definitions */
HPY_ASSERT_SIZE(HPyDef, 64);
HPY_ASSERT_OFFSET(HPyDef, kind, 0);
HPY_ASSERT_OFFSET(HPyDef, slot, 8);
HPY_ASSERT_OFFSET(HPyDef, meth, 8);
HPY_ASSERT_OFFSET(HPyDef, member, 8);
HPY_ASSERT_OFFSET(HPyDef, getset, 8);
HPY_ASSERT_VALUE(HPyDef_Kind_Slot, 1);
HPY_ASSERT_VALUE(HPyDef_Kind_Meth, 2);
HPY_ASSERT_VALUE(HPyDef_Kind_Member, 3);
HPY_ASSERT_VALUE(HPyDef_Kind_GetSet, 4);

HPY_ASSERT_SIZE(HPySlot, 24);
HPY_ASSERT_OFFSET(HPySlot, slot, 0);
HPY_ASSERT_OFFSET(HPySlot, impl, 8);
HPY_ASSERT_OFFSET(HPySlot, cpy_trampoline, 16);

HPY_ASSERT_SIZE(HPyMeth, 40);
HPY_ASSERT_OFFSET(HPyMeth, name, 0);
HPY_ASSERT_OFFSET(HPyMeth, impl, 8);
HPY_ASSERT_OFFSET(HPyMeth, cpy_trampoline, 16);
HPY_ASSERT_OFFSET(HPyMeth, signature, 24);
HPY_ASSERT_OFFSET(HPyMeth, doc, 32);

HPY_ASSERT_SIZE(HPyMember, 40);
HPY_ASSERT_OFFSET(HPyMember, name, 0);
HPY_ASSERT_OFFSET(HPyMember, type, 8);
HPY_ASSERT_OFFSET(HPyMember, offset, 16);
HPY_ASSERT_OFFSET(HPyMember, readonly, 24);
HPY_ASSERT_OFFSET(HPyMember, doc, 32);

HPY_ASSERT_SIZE(HPyGetSet, 56);
HPY_ASSERT_OFFSET(HPyGetSet, name, 0);
HPY_ASSERT_OFFSET(HPyGetSet, getter_impl, 8);
HPY_ASSERT_OFFSET(HPyGetSet, setter_impl, 16);
HPY_ASSERT_OFFSET(HPyGetSet, getter_cpy_trampoline, 24);
HPY_ASSERT_OFFSET(HPyGetSet, setter_cpy_trampoline, 32);
HPY_ASSERT_OFFSET(HPyGetSet, doc, 40);
HPY_ASSERT_OFFSET(HPyGetSet, closure, 48);

/* ------------------------------------------------------------------ types */
HPY_ASSERT_SIZE(HPyType_Spec, 56);
HPY_ASSERT_OFFSET(HPyType_Spec, name, 0);
HPY_ASSERT_OFFSET(HPyType_Spec, basicsize, 8);
HPY_ASSERT_OFFSET(HPyType_Spec, itemsize, 12);
HPY_ASSERT_OFFSET(HPyType_Spec, flags, 16);
HPY_ASSERT_SIZE(((HPyType_Spec *)0)->flags, 8); /* unsigned long */
HPY_ASSERT_OFFSET(HPyType_Spec, builtin_shape, 24);
HPY_ASSERT_OFFSET(HPyType_Spec, legacy_slots, 32);
HPY_ASSERT_OFFSET(HPyType_Spec, defines, 40);
HPY_ASSERT_OFFSET(HPyType_Spec, doc, 48);

HPY_ASSERT_SIZE(HPyType_SpecParam, 16);
HPY_ASSERT_OFFSET(HPyType_SpecParam, kind, 0);
HPY_ASSERT_OFFSET(HPyType_SpecParam, object, 8);
HPY_ASSERT_VALUE(HPyType_SpecParam_Base, 1);
HPY_ASSERT_VALUE(HPyType_SpecParam_BasesTuple, 2);
HPY_ASSERT_VALUE(HPyType_SpecParam_Metaclass, 3);

HPY_ASSERT_VALUE(HPy_TPFLAGS_DEFAULT, (1UL << 9) | (1UL << 18));
HPY_ASSERT_VALUE(HPy_TPFLAGS_BASETYPE, 1UL << 10);
HPY_ASSERT_VALUE(HPy_TPFLAGS_HAVE_GC, 1UL << 14);

HPY_ASSERT_VALUE(HPyType_BuiltinShape_Legacy, -1);
HPY_ASSERT_VALUE(HPyType_BuiltinShape_Object, 0);
HPY_ASSERT_VALUE(HPyType_BuiltinShape_Type, 1);
HPY_ASSERT_VALUE(HPyType_BuiltinShape_Long, 2);
HPY_ASSERT_VALUE(HPyType_BuiltinShape_Float, 3);
HPY_ASSERT_VALUE(HPyType_BuiltinShape_Unicode, 4);
HPY_ASSERT_VALUE(HPyType_BuiltinShape_Tuple, 5);
HPY_ASSERT_VALUE(HPyType_BuiltinShape_List, 6);

/* ------------------------------------------------------------------ buffers, calls, capsules */
HPY_ASSERT_SIZE(HPy_buffer, 80);
HPY_ASSERT_OFFSET(HPy_buffer, buf, 0);
HPY_ASSERT_OFFSET(HPy_buffer, obj, 8);
HPY_ASSERT_OFFSET(HPy_buffer, len, 16);
HPY_ASSERT_OFFSET(HPy_buffer, itemsize, 24);
HPY_ASSERT_OFFSET(HPy_buffer, readonly, 32);
HPY_ASSERT_OFFSET(HPy_buffer, ndim, 36);
HPY_ASSERT_OFFSET(HPy_buffer, format, 40);
HPY_ASSERT_OFFSET(HPy_buffer, shape, 48);
HPY_ASSERT_OFFSET(HPy_buffer, strides, 56);
HPY_ASSERT_OFFSET(HPy_buffer, suboffsets, 64);
HPY_ASSERT_OFFSET(HPy_buffer, internal, 72);

HPY_ASSERT_SIZE(HPyCallFunction, 16);
HPY_ASSERT_OFFSET(HPyCallFunction, cpy_trampoline, 0);
HPY_ASSERT_OFFSET(HPyCallFunction, impl, 8);

HPY_ASSERT_SIZE(HPyCapsule_Destructor, 16);
HPY_ASSERT_OFFSET(HPyCapsule_Destructor, cpy_trampoline, 0);
HPY_ASSERT_OFFSET(HPyCapsule_Destructor, impl, 8);

HPY_ASSERT_VALUE(HPy_LT, 0);
HPY_ASSERT_VALUE(HPy_LE, 1);
HPY_ASSERT_VALUE(HPy_EQ, 2);
HPY_ASSERT_VALUE(HPy_NE, 3);
HPY_ASSERT_VALUE(HPy_GT, 4);
HPY_ASSERT_VALUE(HPy_GE, 5);

HPY_ASSERT_VALUE(HPy_SourceKind_Expr, 0);
HPY_ASSERT_VALUE(HPy_SourceKind_File, 1);
HPY_ASSERT_VALUE(HPy_SourceKind_Single, 2);

HPY_ASSERT_VALUE(HPyCapsule_key_Pointer, 0);
HPY_ASSERT_VALUE(HPyCapsule_key_Name, 1);
HPY_ASSERT_VALUE(HPyCapsule_key_Context, 2);
HPY_ASSERT_VALUE(HPyCapsule_key_Destructor, 3);

/* Enums passed by value through the context and stored in structs are int-sized. */
HPY_ASSERT_SIZE(HPyFunc_Signature, 4);
HPY_ASSERT_SIZE(HPySlot_Slot, 4);
HPY_ASSERT_SIZE(HPyMember_FieldType, 4);
HPY_ASSERT_SIZE(HPy_RichCmpOp, 4);
HPY_ASSERT_SIZE(HPy_SourceKind, 4);
HPY_ASSERT_SIZE(_HPyCapsule_key, 4);

/* ------------------------------------------------------------------ member types (CPython's T_*) */
HPY_ASSERT_VALUE(HPyMember_SHORT, 0);
HPY_ASSERT_VALUE(HPyMember_INT, 1);
HPY_ASSERT_VALUE(HPyMember_LONG, 2);
HPY_ASSERT_VALUE(HPyMember_FLOAT, 3);
HPY_ASSERT_VALUE(HPyMember_DOUBLE, 4);
HPY_ASSERT_VALUE(HPyMember_STRING, 5);
HPY_ASSERT_VALUE(HPyMember_OBJECT, 6);
HPY_ASSERT_VALUE(HPyMember_CHAR, 7);
HPY_ASSERT_VALUE(HPyMember_BYTE, 8);
HPY_ASSERT_VALUE(HPyMember_UBYTE, 9);
HPY_ASSERT_VALUE(HPyMember_USHORT, 10);
HPY_ASSERT_VALUE(HPyMember_UINT, 11);
HPY_ASSERT_VALUE(HPyMember_ULONG, 12);
HPY_ASSERT_VALUE(HPyMember_STRING_INPLACE, 13);
HPY_ASSERT_VALUE(HPyMember_BOOL, 14);
HPY_ASSERT_VALUE(HPyMember_OBJECT_EX, 16);
HPY_ASSERT_VALUE(HPyMember_LONGLONG, 17);
HPY_ASSERT_VALUE(HPyMember_ULONGLONG, 18);
HPY_ASSERT_VALUE(HPyMember_HPYSSIZET, 19);
HPY_ASSERT_VALUE(HPyMember_NONE, 20);

/* ------------------------------------------------------------------ function signatures */
HPY_ASSERT_VALUE(HPyFunc_VARARGS, 1);
HPY_ASSERT_VALUE(HPyFunc_KEYWORDS, 2);
HPY_ASSERT_VALUE(HPyFunc_NOARGS, 3);
HPY_ASSERT_VALUE(HPyFunc_O, 4);
HPY_ASSERT_VALUE(HPyFunc_DESTROYFUNC, 5);
HPY_ASSERT_VALUE(HPyFunc_GETBUFFERPROC, 6);
HPY_ASSERT_VALUE(HPyFunc_RELEASEBUFFERPROC, 7);
HPY_ASSERT_VALUE(HPyFunc_UNARYFUNC, 8);
HPY_ASSERT_VALUE(HPyFunc_BINARYFUNC, 9);
HPY_ASSERT_VALUE(HPyFunc_TERNARYFUNC, 10);
HPY_ASSERT_VALUE(HPyFunc_INQUIRY, 11);
HPY_ASSERT_VALUE(HPyFunc_LENFUNC, 12);
HPY_ASSERT_VALUE(HPyFunc_SSIZEARGFUNC, 13);
HPY_ASSERT_VALUE(HPyFunc_SSIZESSIZEARGFUNC, 14);
HPY_ASSERT_VALUE(HPyFunc_SSIZEOBJARGPROC, 15);
HPY_ASSERT_VALUE(HPyFunc_SSIZESSIZEOBJARGPROC, 16);
HPY_ASSERT_VALUE(HPyFunc_OBJOBJARGPROC, 17);
HPY_ASSERT_VALUE(HPyFunc_FREEFUNC, 18);
HPY_ASSERT_VALUE(HPyFunc_GETATTRFUNC, 19);
HPY_ASSERT_VALUE(HPyFunc_GETATTROFUNC, 20);
HPY_ASSERT_VALUE(HPyFunc_SETATTRFUNC, 21);
HPY_ASSERT_VALUE(HPyFunc_SETATTROFUNC, 22);
HPY_ASSERT_VALUE(HPyFunc_REPRFUNC, 23);
HPY_ASSERT_VALUE(HPyFunc_HASHFUNC, 24);
HPY_ASSERT_VALUE(HPyFunc_RICHCMPFUNC, 25);
HPY_ASSERT_VALUE(HPyFunc_GETITERFUNC, 26);
HPY_ASSERT_VALUE(HPyFunc_ITERNEXTFUNC, 27);
HPY_ASSERT_VALUE(HPyFunc_DESCRGETFUNC, 28);
HPY_ASSERT_VALUE(HPyFunc_DESCRSETFUNC, 29);
HPY_ASSERT_VALUE(HPyFunc_INITPROC, 30);
HPY_ASSERT_VALUE(HPyFunc_NEWFUNC, 31);
HPY_ASSERT_VALUE(HPyFunc_GETTER, 32);
HPY_ASSERT_VALUE(HPyFunc_SETTER, 33);
HPY_ASSERT_VALUE(HPyFunc_OBJOBJPROC, 34);
HPY_ASSERT_VALUE(HPyFunc_TRAVERSEPROC, 35);
HPY_ASSERT_VALUE(HPyFunc_DESTRUCTOR, 36);
HPY_ASSERT_VALUE(HPyFunc_CAPSULE_DESTRUCTOR, 37);
HPY_ASSERT_VALUE(HPyFunc_VECTORCALLFUNC, 38);
HPY_ASSERT_VALUE(HPyFunc_MOD_CREATE, 39);

/* ------------------------------------------------------------------ slots (typeslots.h ids + HPy's own) */
HPY_ASSERT_VALUE(HPy_bf_getbuffer, 1);
HPY_ASSERT_VALUE(HPy_bf_releasebuffer, 2);
HPY_ASSERT_VALUE(HPy_mp_ass_subscript, 3);
HPY_ASSERT_VALUE(HPy_mp_length, 4);
HPY_ASSERT_VALUE(HPy_mp_subscript, 5);
HPY_ASSERT_VALUE(HPy_nb_absolute, 6);
HPY_ASSERT_VALUE(HPy_nb_add, 7);
HPY_ASSERT_VALUE(HPy_nb_and, 8);
HPY_ASSERT_VALUE(HPy_nb_bool, 9);
HPY_ASSERT_VALUE(HPy_nb_divmod, 10);
HPY_ASSERT_VALUE(HPy_nb_float, 11);
HPY_ASSERT_VALUE(HPy_nb_floor_divide, 12);
HPY_ASSERT_VALUE(HPy_nb_index, 13);
HPY_ASSERT_VALUE(HPy_nb_inplace_add, 14);
HPY_ASSERT_VALUE(HPy_nb_inplace_and, 15);
HPY_ASSERT_VALUE(HPy_nb_inplace_floor_divide, 16);
HPY_ASSERT_VALUE(HPy_nb_inplace_lshift, 17);
HPY_ASSERT_VALUE(HPy_nb_inplace_multiply, 18);
HPY_ASSERT_VALUE(HPy_nb_inplace_or, 19);
HPY_ASSERT_VALUE(HPy_nb_inplace_power, 20);
HPY_ASSERT_VALUE(HPy_nb_inplace_remainder, 21);
HPY_ASSERT_VALUE(HPy_nb_inplace_rshift, 22);
HPY_ASSERT_VALUE(HPy_nb_inplace_subtract, 23);
HPY_ASSERT_VALUE(HPy_nb_inplace_true_divide, 24);
HPY_ASSERT_VALUE(HPy_nb_inplace_xor, 25);
HPY_ASSERT_VALUE(HPy_nb_int, 26);
HPY_ASSERT_VALUE(HPy_nb_invert, 27);
HPY_ASSERT_VALUE(HPy_nb_lshift, 28);
HPY_ASSERT_VALUE(HPy_nb_multiply, 29);
HPY_ASSERT_VALUE(HPy_nb_negative, 30);
HPY_ASSERT_VALUE(HPy_nb_or, 31);
HPY_ASSERT_VALUE(HPy_nb_positive, 32);
HPY_ASSERT_VALUE(HPy_nb_power, 33);
HPY_ASSERT_VALUE(HPy_nb_remainder, 34);
HPY_ASSERT_VALUE(HPy_nb_rshift, 35);
HPY_ASSERT_VALUE(HPy_nb_subtract, 36);
HPY_ASSERT_VALUE(HPy_nb_true_divide, 37);
HPY_ASSERT_VALUE(HPy_nb_xor, 38);
HPY_ASSERT_VALUE(HPy_sq_ass_item, 39);
HPY_ASSERT_VALUE(HPy_sq_concat, 40);
HPY_ASSERT_VALUE(HPy_sq_contains, 41);
HPY_ASSERT_VALUE(HPy_sq_inplace_concat, 42);
HPY_ASSERT_VALUE(HPy_sq_inplace_repeat, 43);
HPY_ASSERT_VALUE(HPy_sq_item, 44);
HPY_ASSERT_VALUE(HPy_sq_length, 45);
HPY_ASSERT_VALUE(HPy_sq_repeat, 46);
HPY_ASSERT_VALUE(HPy_tp_call, 50);
HPY_ASSERT_VALUE(HPy_tp_hash, 59);
HPY_ASSERT_VALUE(HPy_tp_init, 60);
HPY_ASSERT_VALUE(HPy_tp_new, 65);
HPY_ASSERT_VALUE(HPy_tp_repr, 66);
HPY_ASSERT_VALUE(HPy_tp_richcompare, 67);
HPY_ASSERT_VALUE(HPy_tp_str, 70);
HPY_ASSERT_VALUE(HPy_tp_traverse, 71);
HPY_ASSERT_VALUE(HPy_nb_matrix_multiply, 75);
HPY_ASSERT_VALUE(HPy_nb_inplace_matrix_multiply, 76);
HPY_ASSERT_VALUE(HPy_tp_finalize, 80);
HPY_ASSERT_VALUE(HPy_tp_destroy, 1000);
HPY_ASSERT_VALUE(HPy_mod_create, 2000);
HPY_ASSERT_VALUE(HPy_mod_exec, 2001);

/* ------------------------------------------------------------------ trampoline argument blocks */
/* The blocks a universal cpy_trampoline hands to ctx_CallRealFunctionFromTrampoline
   (tests/abi/data/hpy-0.9-trampoline-args.tsv): the host reads and writes them by offset. */
#define HPY_ASSERT_BLOCK(SIG, n) HPY_ASSERT_SIZE(_HPyFunc_args_##SIG, n)
#define HPY_ASSERT_FIELD(SIG, f, n) HPY_ASSERT_OFFSET(_HPyFunc_args_##SIG, f, n)

HPY_ASSERT_BLOCK(NOARGS, 16);
HPY_ASSERT_FIELD(NOARGS, self, 0);
HPY_ASSERT_FIELD(NOARGS, result, 8);
HPY_ASSERT_BLOCK(O, 24);
HPY_ASSERT_FIELD(O, self, 0);
HPY_ASSERT_FIELD(O, arg, 8);
HPY_ASSERT_FIELD(O, result, 16);
HPY_ASSERT_BLOCK(UNARYFUNC, 16);
HPY_ASSERT_FIELD(UNARYFUNC, result, 8);
HPY_ASSERT_BLOCK(BINARYFUNC, 24);
HPY_ASSERT_FIELD(BINARYFUNC, arg1, 8);
HPY_ASSERT_FIELD(BINARYFUNC, result, 16);
HPY_ASSERT_BLOCK(TERNARYFUNC, 32);
HPY_ASSERT_FIELD(TERNARYFUNC, arg2, 16);
HPY_ASSERT_FIELD(TERNARYFUNC, result, 24);
HPY_ASSERT_BLOCK(INQUIRY, 16);
HPY_ASSERT_FIELD(INQUIRY, result, 8);
HPY_ASSERT_BLOCK(LENFUNC, 16);
HPY_ASSERT_FIELD(LENFUNC, result, 8);
HPY_ASSERT_BLOCK(SSIZEARGFUNC, 24);
HPY_ASSERT_FIELD(SSIZEARGFUNC, arg1, 8);
HPY_ASSERT_FIELD(SSIZEARGFUNC, result, 16);
HPY_ASSERT_BLOCK(SSIZESSIZEARGFUNC, 32);
HPY_ASSERT_FIELD(SSIZESSIZEARGFUNC, arg2, 16);
HPY_ASSERT_FIELD(SSIZESSIZEARGFUNC, result, 24);
HPY_ASSERT_BLOCK(SSIZEOBJARGPROC, 32);
HPY_ASSERT_FIELD(SSIZEOBJARGPROC, arg2, 16);
HPY_ASSERT_FIELD(SSIZEOBJARGPROC, result, 24);
HPY_ASSERT_BLOCK(SSIZESSIZEOBJARGPROC, 40);
HPY_ASSERT_FIELD(SSIZESSIZEOBJARGPROC, arg3, 24);
HPY_ASSERT_FIELD(SSIZESSIZEOBJARGPROC, result, 32);
HPY_ASSERT_BLOCK(OBJOBJARGPROC, 32);
HPY_ASSERT_FIELD(OBJOBJARGPROC, result, 24);
HPY_ASSERT_BLOCK(FREEFUNC, 8);
HPY_ASSERT_FIELD(FREEFUNC, arg0, 0);
HPY_ASSERT_BLOCK(GETATTRFUNC, 24);
HPY_ASSERT_FIELD(GETATTRFUNC, arg1, 8);
HPY_ASSERT_FIELD(GETATTRFUNC, result, 16);
HPY_ASSERT_BLOCK(GETATTROFUNC, 24);
HPY_ASSERT_FIELD(GETATTROFUNC, result, 16);
HPY_ASSERT_BLOCK(SETATTRFUNC, 32);
HPY_ASSERT_FIELD(SETATTRFUNC, arg2, 16);
HPY_ASSERT_FIELD(SETATTRFUNC, result, 24);
HPY_ASSERT_BLOCK(SETATTROFUNC, 32);
HPY_ASSERT_FIELD(SETATTROFUNC, result, 24);
HPY_ASSERT_BLOCK(REPRFUNC, 16);
HPY_ASSERT_FIELD(REPRFUNC, result, 8);
HPY_ASSERT_BLOCK(HASHFUNC, 16);
HPY_ASSERT_FIELD(HASHFUNC, result, 8);
HPY_ASSERT_BLOCK(GETITERFUNC, 16);
HPY_ASSERT_FIELD(GETITERFUNC, result, 8);
HPY_ASSERT_BLOCK(ITERNEXTFUNC, 16);
HPY_ASSERT_FIELD(ITERNEXTFUNC, result, 8);
HPY_ASSERT_BLOCK(DESCRGETFUNC, 32);
HPY_ASSERT_FIELD(DESCRGETFUNC, result, 24);
HPY_ASSERT_BLOCK(DESCRSETFUNC, 32);
HPY_ASSERT_FIELD(DESCRSETFUNC, result, 24);
HPY_ASSERT_BLOCK(GETTER, 24);
HPY_ASSERT_FIELD(GETTER, arg1, 8);
HPY_ASSERT_FIELD(GETTER, result, 16);
HPY_ASSERT_BLOCK(SETTER, 32);
HPY_ASSERT_FIELD(SETTER, arg2, 16);
HPY_ASSERT_FIELD(SETTER, result, 24);
HPY_ASSERT_BLOCK(OBJOBJPROC, 24);
HPY_ASSERT_FIELD(OBJOBJPROC, result, 16);
HPY_ASSERT_BLOCK(DESTRUCTOR, 8);
HPY_ASSERT_FIELD(DESTRUCTOR, arg0, 0);
HPY_ASSERT_BLOCK(VARARGS, 32);
HPY_ASSERT_FIELD(VARARGS, self, 0);
HPY_ASSERT_FIELD(VARARGS, args, 8);
HPY_ASSERT_FIELD(VARARGS, nargs, 16);
HPY_ASSERT_FIELD(VARARGS, result, 24);
HPY_ASSERT_BLOCK(KEYWORDS, 40);
HPY_ASSERT_FIELD(KEYWORDS, self, 0);
HPY_ASSERT_FIELD(KEYWORDS, args, 8);
HPY_ASSERT_FIELD(KEYWORDS, nargsf, 16);
HPY_ASSERT_FIELD(KEYWORDS, kwnames, 24);
HPY_ASSERT_FIELD(KEYWORDS, result, 32);
HPY_ASSERT_BLOCK(INITPROC, 32);
HPY_ASSERT_FIELD(INITPROC, args, 8);
HPY_ASSERT_FIELD(INITPROC, kw, 16);
HPY_ASSERT_FIELD(INITPROC, result, 24);
HPY_ASSERT_BLOCK(NEWFUNC, 32);
HPY_ASSERT_FIELD(NEWFUNC, args, 8);
HPY_ASSERT_FIELD(NEWFUNC, kw, 16);
HPY_ASSERT_FIELD(NEWFUNC, result, 24);
HPY_ASSERT_BLOCK(RICHCMPFUNC, 32);
HPY_ASSERT_FIELD(RICHCMPFUNC, arg2, 16);
HPY_ASSERT_FIELD(RICHCMPFUNC, result, 24);
HPY_ASSERT_BLOCK(GETBUFFERPROC, 24);
HPY_ASSERT_FIELD(GETBUFFERPROC, view, 8);
HPY_ASSERT_FIELD(GETBUFFERPROC, flags, 16);
HPY_ASSERT_FIELD(GETBUFFERPROC, result, 20);
HPY_ASSERT_BLOCK(RELEASEBUFFERPROC, 16);
HPY_ASSERT_FIELD(RELEASEBUFFERPROC, view, 8);
HPY_ASSERT_BLOCK(TRAVERSEPROC, 32);
HPY_ASSERT_FIELD(TRAVERSEPROC, visit, 8);
HPY_ASSERT_FIELD(TRAVERSEPROC, arg, 16);
HPY_ASSERT_FIELD(TRAVERSEPROC, result, 24);
HPY_ASSERT_BLOCK(MOD_CREATE, 16);
HPY_ASSERT_FIELD(MOD_CREATE, spec, 0);
HPY_ASSERT_FIELD(MOD_CREATE, result, 8);

#endif /* HPY_TESTS_ABI_LAYOUT_ASSERTS_H */
