# python/hpy/port/mapping.py: the C API -> HPy 0.9 table, as data, and the lookup of one name in it.
"""What each CPython C-API name becomes in HPy 0.9.

``TABLE`` has one row per name, columns separated by two or more spaces:

    C-API name   HPy equivalent   blocker   note

- HPy equivalent: the HPy function, macro or expression; ``-`` when HPy 0.9 has none (keep the code
  through the hybrid ABI, with ``HPy_AsPyObject`` / ``HPy_FromPyObject`` at the border);
- blocker: why the use does not port one for one: ``borrowed`` (the C API hands out a borrowed
  reference, HPy a new handle to close), ``struct`` (direct access to an object's C struct),
  ``static-type`` (a statically allocated type; HPy types are heap types), or ``-``;
- note: what to do, for people (optional).

Member accesses are written ``->member``. Exceptions ``PyExc_X`` and the builtin types with a
context handle are added from ``EXCEPTIONS`` and ``TYPES`` below the table.
"""
import re
from typing import NamedTuple

NO_EQUIVALENT = "no equivalent: keep through the hybrid ABI / HPy_AsPyObject"

TABLE = """
# references and handles
Py_INCREF                  HPy_Dup                       -          store the handle HPy_Dup returns
Py_XINCREF                 HPy_Dup                       -          HPy_Dup of HPy_NULL is HPy_NULL
Py_NewRef                  HPy_Dup                       -
Py_XNewRef                 HPy_Dup                       -
Py_DECREF                  HPy_Close                     -
Py_XDECREF                 HPy_Close                     -          HPy_Close of HPy_NULL does nothing
Py_CLEAR                   HPy_Close                     -          then set the handle to HPy_NULL (HPyField_Store(..., HPy_NULL) for a field)
Py_SETREF                  HPy_Close                     -          close the old handle, keep the new one
Py_VISIT                   HPy_VISIT                     -          on HPyField members, in an HPy_tp_traverse slot
Py_REFCNT                  -                             struct     HPy has no reference counts
Py_SET_REFCNT              -                             struct     HPy has no reference counts
->ob_refcnt                -                             struct     HPy has no reference counts
Py_TYPE                    HPy_Type                      struct     HPy_Type returns a new handle: close it
Py_SET_TYPE                -                             struct
->ob_type                  HPy_Type                      struct     HPy_Type returns a new handle: close it
Py_SIZE                    HPy_Length                    struct
->ob_size                  HPy_Length                    struct
->ob_item                  HPy_GetItem_i                 struct     a new handle per item
Py_Is                      HPy_Is                        -
Py_IsNone                  HPy_Is                        -          HPy_Is(ctx, h, ctx->h_None)
Py_None                    ctx->h_None                   -
Py_True                    ctx->h_True                   -
Py_False                   ctx->h_False                  -
Py_NotImplemented          ctx->h_NotImplemented         -
Py_Ellipsis                ctx->h_Ellipsis               -
Py_RETURN_NONE             return HPy_Dup(ctx, ctx->h_None)        -
Py_RETURN_TRUE             return HPy_Dup(ctx, ctx->h_True)        -
Py_RETURN_FALSE            return HPy_Dup(ctx, ctx->h_False)       -
Py_RETURN_NOTIMPLEMENTED   return HPy_Dup(ctx, ctx->h_NotImplemented)  -
Py_RETURN_RICHCOMPARE      HPy_RETURN_RICHCOMPARE        -
# arguments and building values
PyArg_ParseTuple           HPyArg_Parse                  -          the arguments arrive as an array (HPyFunc_VARARGS)
PyArg_ParseTupleAndKeywords  HPyArg_ParseKeywords        -          HPyFunc_KEYWORDS; objects parsed with O are borrowed handles
PyArg_UnpackTuple          HPyArg_Parse                  -          or read the args array directly
Py_BuildValue              HPy_BuildValue                -
PyTuple_Pack               HPyTuple_Pack                 -
# numbers
PyLong_FromLong            HPyLong_FromLong              -
PyLong_FromUnsignedLong    HPyLong_FromUnsignedLong      -
PyLong_FromLongLong        HPyLong_FromLongLong          -
PyLong_FromUnsignedLongLong  HPyLong_FromUnsignedLongLong  -
PyLong_FromSize_t          HPyLong_FromSize_t            -
PyLong_FromSsize_t         HPyLong_FromSsize_t           -
PyLong_AsLong              HPyLong_AsLong                -
PyLong_AsUnsignedLong      HPyLong_AsUnsignedLong        -
PyLong_AsUnsignedLongMask  HPyLong_AsUnsignedLongMask    -
PyLong_AsLongLong          HPyLong_AsLongLong            -
PyLong_AsUnsignedLongLong  HPyLong_AsUnsignedLongLong    -
PyLong_AsUnsignedLongLongMask  HPyLong_AsUnsignedLongLongMask  -
PyLong_AsSize_t            HPyLong_AsSize_t              -
PyLong_AsSsize_t           HPyLong_AsSsize_t             -
PyLong_AsVoidPtr           HPyLong_AsVoidPtr             -
PyLong_AsDouble            HPyLong_AsDouble              -
PyLong_Check               HPy_TypeCheck                 -          HPy_TypeCheck(ctx, h, ctx->h_LongType)
PyFloat_FromDouble         HPyFloat_FromDouble           -
PyFloat_AsDouble           HPyFloat_AsDouble             -
PyFloat_AS_DOUBLE          HPyFloat_AsDouble             struct
PyFloat_Check              HPy_TypeCheck                 -          HPy_TypeCheck(ctx, h, ctx->h_FloatType)
PyBool_FromLong            HPyBool_FromLong              -
PyBool_Check               HPy_TypeCheck                 -          HPy_TypeCheck(ctx, h, ctx->h_BoolType)
PyNumber_Check             HPyNumber_Check               -
PyNumber_Add               HPy_Add                       -
PyNumber_Subtract          HPy_Subtract                  -
PyNumber_Multiply          HPy_Multiply                  -
PyNumber_TrueDivide        HPy_TrueDivide                -
PyNumber_FloorDivide       HPy_FloorDivide               -
PyNumber_Remainder         HPy_Remainder                 -
PyNumber_Power             HPy_Power                     -
PyNumber_Negative          HPy_Negative                  -
PyNumber_Absolute          HPy_Absolute                  -
PyNumber_Index             HPy_Index                     -
PyNumber_Long              HPy_Long                      -
PyNumber_Float             HPy_Float                     -
# objects
PyObject_GetAttr           HPy_GetAttr                   -
PyObject_GetAttrString     HPy_GetAttr_s                 -
PyObject_SetAttr           HPy_SetAttr                   -
PyObject_SetAttrString     HPy_SetAttr_s                 -
PyObject_HasAttr           HPy_HasAttr                   -
PyObject_HasAttrString     HPy_HasAttr_s                 -
PyObject_DelAttr           HPy_DelAttr                   -
PyObject_DelAttrString     HPy_DelAttr_s                 -
PyObject_GetItem           HPy_GetItem                   -
PyObject_SetItem           HPy_SetItem                   -
PyObject_DelItem           HPy_DelItem                   -
PyObject_Length            HPy_Length                    -
PyObject_Size              HPy_Length                    -
PyObject_IsTrue            HPy_IsTrue                    -
PyObject_Repr              HPy_Repr                      -
PyObject_Str               HPy_Str                       -
PyObject_ASCII             HPy_ASCII                     -
PyObject_Bytes             HPy_Bytes                     -
PyObject_Hash              HPy_Hash                      -
PyObject_RichCompare       HPy_RichCompare               -
PyObject_RichCompareBool   HPy_RichCompareBool           -
PyObject_Type              HPy_Type                      -
PyObject_TypeCheck         HPy_TypeCheck                 -
PyObject_IsInstance        -                             -          HPy_TypeCheck covers the exact-type and subclass case
PyObject_Call              HPy_CallTupleDict             -
PyObject_CallObject        HPy_CallTupleDict             -
PyObject_CallFunction      HPy_Call                      -          build the argument array yourself
PyObject_CallFunctionObjArgs  HPy_Call                   -
PyObject_CallMethod        HPy_CallMethod                -          the name as a handle, arguments as an array
PyObject_CallMethodObjArgs  HPy_CallMethod               -
PyObject_Vectorcall        HPy_Call                      -
PyObject_VectorcallMethod  HPy_CallMethod                -
PyCallable_Check           HPyCallable_Check             -
PySequence_Contains        HPy_Contains                  -
PySequence_GetItem         HPy_GetItem_i                 -
PySequence_Length          HPy_Length                    -
PySequence_Size            HPy_Length                    -
PyObject_New               HPy_New                       struct     HPy_New returns the handle and the struct pointer
PyObject_GC_New            HPy_New                       struct
PyType_GenericNew          HPyType_GenericNew            -
PyType_GenericAlloc        HPy_New                       -
PyObject_Free              -                             -          HPy frees the object itself: drop the call (HPy_tp_destroy for C data)
PyObject_GC_Del            -                             -          HPy frees the object itself
PyObject_GC_UnTrack        -                             -          HPy does this in its own dealloc
PyObject_GC_Track          -                             -          HPy tracks GC objects itself
PyObject_GenericGetAttr    -                             -          the default: drop the slot
PyObject_HEAD              -                             struct     the Legacy shape keeps it; the final port drops it (HPyType_HELPERS)
PyObject_VAR_HEAD          -                             struct     the Legacy shape keeps it
PyObject_HEAD_INIT         -                             static-type  an HPyType_Spec instead of a static type
PyVarObject_HEAD_INIT      -                             static-type  an HPyType_Spec instead of a static type
# errors
PyErr_SetString            HPyErr_SetString              -
PyErr_SetObject            HPyErr_SetObject              -
PyErr_Format               HPyErr_Format                 -
PyErr_Occurred             HPyErr_Occurred               -          returns int, not the exception type
PyErr_ExceptionMatches     HPyErr_ExceptionMatches       -
PyErr_Clear                HPyErr_Clear                  -
PyErr_NoMemory             HPyErr_NoMemory               -
PyErr_NewException         HPyErr_NewException           -
PyErr_NewExceptionWithDoc  HPyErr_NewExceptionWithDoc    -
PyErr_WarnEx               HPyErr_WarnEx                 -
PyErr_WriteUnraisable      HPyErr_WriteUnraisable        -
PyErr_SetFromErrno         HPyErr_SetFromErrno           -
PyErr_SetFromErrnoWithFilename  HPyErr_SetFromErrnoWithFilename  -
PyErr_SetFromErrnoWithFilenameObject  HPyErr_SetFromErrnoWithFilenameObject  -
PyErr_Fetch                -                             -
PyErr_Restore              -                             -
PyErr_BadArgument          HPyErr_SetString              -          HPyErr_SetString(ctx, ctx->h_TypeError, ...)
Py_FatalError              HPy_FatalError                -
# strings and bytes
PyUnicode_FromString       HPyUnicode_FromString         -
PyUnicode_FromStringAndSize  -                          -          UTF-8 with a length: HPyBytes_FromStringAndSize, then HPyUnicode_FromEncodedObject
PyUnicode_FromFormat       HPyUnicode_FromFormat         -
PyUnicode_FromWideChar     HPyUnicode_FromWideChar       -
PyUnicode_FromEncodedObject  HPyUnicode_FromEncodedObject  -
PyUnicode_Check            HPyUnicode_Check              -
PyUnicode_CheckExact       HPy_TypeCheck                 -          HPy_Is(ctx, type, ctx->h_UnicodeType) on HPy_Type
PyUnicode_AsUTF8           HPyUnicode_AsUTF8AndSize      -          size may be NULL; the buffer lives as long as the handle
PyUnicode_AsUTF8AndSize    HPyUnicode_AsUTF8AndSize      -
PyUnicode_AsUTF8String     HPyUnicode_AsUTF8String       -
PyUnicode_AsASCIIString    HPyUnicode_AsASCIIString      -
PyUnicode_AsLatin1String   HPyUnicode_AsLatin1String     -
PyUnicode_DecodeASCII      HPyUnicode_DecodeASCII        -
PyUnicode_DecodeLatin1     HPyUnicode_DecodeLatin1       -
PyUnicode_DecodeFSDefault  HPyUnicode_DecodeFSDefault    -
PyUnicode_EncodeFSDefault  HPyUnicode_EncodeFSDefault    -
PyUnicode_ReadChar         HPyUnicode_ReadChar           -
PyUnicode_READ_CHAR        HPyUnicode_ReadChar           struct
PyUnicode_Substring        HPyUnicode_Substring          -
PyUnicode_GetLength        HPy_Length                    -
PyUnicode_GET_LENGTH       HPy_Length                    struct
PyUnicode_New              -                             -          build the text with HPyUnicode_FromString or from bytes
PyUnicode_READY            -                             struct     not needed: HPy strings are always ready
PyUnicode_KIND             -                             struct     HPy hides the internal representation: work on UTF-8
PyUnicode_DATA             -                             struct     HPy hides the internal representation: work on UTF-8
PyUnicode_1BYTE_DATA       -                             struct     HPy hides the internal representation: work on UTF-8
PyUnicode_2BYTE_DATA       -                             struct     HPy hides the internal representation: work on UTF-8
PyUnicode_4BYTE_DATA       -                             struct     HPy hides the internal representation: work on UTF-8
PyUnicode_IS_ASCII         -                             struct     HPy hides the internal representation: work on UTF-8
PyUnicode_1BYTE_KIND       -                             -
PyUnicode_2BYTE_KIND       -                             -
PyUnicode_4BYTE_KIND       -                             -
PyBytes_FromString         HPyBytes_FromString           -
PyBytes_FromStringAndSize  HPyBytes_FromStringAndSize    -
PyBytes_Check              HPyBytes_Check                -
PyBytes_Size               HPyBytes_Size                 -
PyBytes_GET_SIZE           HPyBytes_GET_SIZE             -
PyBytes_AsString           HPyBytes_AsString             -
PyBytes_AS_STRING          HPyBytes_AS_STRING            -
# buffers (HPy ABI 0.1, beyond HPy 0.9: the module declares HPY_ABI_VERSION_MINOR 1)
PyObject_GetBuffer         HPy_GetBuffer                 -          HPy ABI 0.1; into an HPy_buffer
PyBuffer_Release           HPyBuffer_Release             -          HPy ABI 0.1
PyObject_CheckBuffer       HPy_CheckBuffer               -          HPy ABI 0.1
Py_buffer                  HPy_buffer                    -          the same fields; obj is a handle the view owns
->buf                      HPy_buffer.buf                -
->len                      HPy_buffer.len                -
->itemsize                 HPy_buffer.itemsize           -
->readonly                 HPy_buffer.readonly           -
->ndim                     HPy_buffer.ndim               -
->format                   HPy_buffer.format             -
->shape                    HPy_buffer.shape              -
->strides                  HPy_buffer.strides            -
->suboffsets               HPy_buffer.suboffsets         -
# containers
PyTuple_New                HPyTupleBuilder_New           -          fill with HPyTupleBuilder_Set, finish with HPyTupleBuilder_Build
PyTuple_SetItem            HPyTupleBuilder_Set           -          HPyTupleBuilder_Set does not steal the handle
PyTuple_SET_ITEM           HPyTupleBuilder_Set           struct     HPyTupleBuilder_Set does not steal the handle
PyTuple_GetItem            HPy_GetItem_i                 borrowed   a new handle: HPy_Close it
PyTuple_GET_ITEM           HPy_GetItem_i                 borrowed   a new handle: HPy_Close it
PyTuple_Size               HPy_Length                    -
PyTuple_GET_SIZE           HPy_Length                    struct
PyTuple_Check              HPyTuple_Check                -
PyList_New                 HPyList_New                   -          or an HPyListBuilder
PyList_Append              HPyList_Append                -
PyList_SetItem             HPy_SetItem_i                 -          HPy_SetItem_i does not steal the handle
PyList_SET_ITEM            HPy_SetItem_i                 struct     HPy_SetItem_i does not steal the handle
PyList_GetItem             HPy_GetItem_i                 borrowed   a new handle: HPy_Close it
PyList_GET_ITEM            HPy_GetItem_i                 borrowed   a new handle: HPy_Close it
PyList_Size                HPy_Length                    -
PyList_GET_SIZE            HPy_Length                    struct
PyList_Check               HPyList_Check                 -
PyDict_New                 HPyDict_New                   -
PyDict_Check               HPyDict_Check                 -
PyDict_SetItem             HPy_SetItem                   -
PyDict_SetItemString       HPy_SetItem_s                 -
PyDict_GetItem             HPy_GetItem                   borrowed   a new handle, and HPy_GetItem raises KeyError: check HPy_Contains first or clear it
PyDict_GetItemString       HPy_GetItem_s                 borrowed   a new handle, and HPy_GetItem_s raises KeyError
PyDict_GetItemWithError    HPy_GetItem                   borrowed   a new handle: HPy_Close it
PyDict_DelItem             HPy_DelItem                   -
PyDict_DelItemString       HPy_DelItem_s                 -
PyDict_Keys                HPyDict_Keys                  -
PyDict_Copy                HPyDict_Copy                  -
PyDict_Next                -                             borrowed   iterate over HPyDict_Keys
PySequence_Fast            -                             -
PySequence_Fast_GET_ITEM   HPy_GetItem_i                 borrowed   a new handle: HPy_Close it
PySlice_Unpack             HPySlice_Unpack               -
PySlice_AdjustIndices      HPySlice_AdjustIndices        -
# capsules, imports, modules
PyCapsule_New              HPyCapsule_New                -
PyCapsule_GetPointer       HPyCapsule_GetPointer         -
PyCapsule_IsValid          HPyCapsule_IsValid            -
PyImport_ImportModule      HPyImport_ImportModule        -
PyModule_Create            HPyModuleDef                  -          HPy_MODINIT(name, moduledef) creates the module
PyModule_AddObject         HPy_SetAttr_s                 -          does not steal: close your handle
PyModule_AddObjectRef      HPy_SetAttr_s                 -
PyModule_AddIntConstant    HPy_SetAttr_s                 -          with HPyLong_FromLong
PyModule_AddStringConstant  HPy_SetAttr_s                -          with HPyUnicode_FromString
PyModule_AddType           HPyHelpers_AddType            -
PyModule_GetDict           -                             borrowed   set module attributes with HPy_SetAttr_s
PyModule_GetState          -                             -          module state: HPyGlobal
PyModuleDef_HEAD_INIT      HPyModuleDef                  -          HPyModuleDef has no head
PyModuleDef_Init           HPy_MODINIT                   -
PyMODINIT_FUNC             HPy_MODINIT                   -
PyUnstable_Module_SetGIL   HPy_MOD_GIL_NOT_USED          -          an HPy_mod_gil slot
# types and definitions
PyType_Ready               HPyType_FromSpec              static-type  define the type with an HPyType_Spec
PyType_FromSpec            HPyType_FromSpec              -
PyType_FromSpecWithBases   HPyType_FromSpec              -          bases in HPyType_SpecParam
PyType_FromModuleAndSpec   HPyType_FromSpec              -
PyType_IsSubtype           HPyType_IsSubtype             -
PyType_Check               HPy_TypeCheck                 -          HPy_TypeCheck(ctx, h, ctx->h_TypeType)
->tp_name                  HPyType_GetName               struct
->tp_basicsize             -                             struct     the size is fixed by HPyType_Spec.basicsize
->tp_free                  -                             struct     HPy frees the object itself (HPy_tp_destroy for C data)
->tp_alloc                 HPy_New                       struct
PyMethodDef                HPyDef_METH                   -          one HPyDef_METH per entry; or keep the table in HPyModuleDef.legacy_methods (hybrid)
PyGetSetDef                HPyDef_GETSET                 -          or HPyDef_GET / HPyDef_SET; or keep in .legacy_slots (Py_tp_getset)
PyMemberDef                HPyDef_MEMBER                 -
PyModuleDef                HPyModuleDef                  -
PyModuleDef_Slot           HPyDef_SLOT                   -          HPy_mod_exec
PyType_Spec                HPyType_Spec                  -
PyType_Slot                HPyDef_SLOT                   -          or keep in HPyType_Spec.legacy_slots (hybrid)
PyTypeObject               HPyType_Spec                  static-type  a heap type from HPyType_Spec and HPyType_FromSpec
static PyTypeObject        HPyType_Spec                  static-type  a heap type from HPyType_Spec and HPyType_FromSpec, kept in an HPyGlobal
PyObject *                 HPyGlobal                     -          a global object: HPyGlobal_Store / HPyGlobal_Load
PyNumberMethods            HPyDef_SLOT                   static-type
PySequenceMethods          HPyDef_SLOT                   static-type
PyMappingMethods           HPyDef_SLOT                   static-type
PyBufferProcs              HPyDef_SLOT                   static-type  HPy_bf_getbuffer / HPy_bf_releasebuffer
METH_NOARGS                HPyFunc_NOARGS                -
METH_O                     HPyFunc_O                     -
METH_VARARGS               HPyFunc_VARARGS               -
METH_KEYWORDS              HPyFunc_KEYWORDS              -
Py_TPFLAGS_DEFAULT         HPy_TPFLAGS_DEFAULT           -
Py_TPFLAGS_BASETYPE        HPy_TPFLAGS_BASETYPE          -
Py_TPFLAGS_HAVE_GC         HPy_TPFLAGS_HAVE_GC           -
Py_tp_init                 HPy_tp_init                   -
Py_tp_new                  HPy_tp_new                    -
Py_tp_repr                 HPy_tp_repr                   -
Py_tp_traverse             HPy_tp_traverse               -
Py_tp_dealloc              HPy_tp_destroy                -          only if it frees C data; HPy does the rest
Py_tp_methods              HPyDef_METH                   -
Py_tp_getset               HPyDef_GETSET                 -
Py_tp_members              HPyDef_MEMBER                 -
Py_tp_doc                  HPyType_Spec.doc              -
# threads and the interpreter
Py_BEGIN_ALLOW_THREADS     HPy_BEGIN_LEAVE_PYTHON        -
Py_END_ALLOW_THREADS       HPy_END_LEAVE_PYTHON          -
PyGILState_Ensure          -                             -
PyGILState_Release         -                             -
"""

EXCEPTIONS = """BaseException Exception StopAsyncIteration StopIteration GeneratorExit ArithmeticError
LookupError AssertionError AttributeError BufferError EOFError FloatingPointError OSError ImportError
ModuleNotFoundError IndexError KeyError KeyboardInterrupt MemoryError NameError OverflowError
RuntimeError RecursionError NotImplementedError SyntaxError IndentationError TabError ReferenceError
SystemError SystemExit TypeError UnboundLocalError UnicodeError UnicodeEncodeError UnicodeDecodeError
UnicodeTranslateError ValueError ZeroDivisionError BlockingIOError BrokenPipeError ChildProcessError
ConnectionError ConnectionAbortedError ConnectionRefusedError ConnectionResetError FileExistsError
FileNotFoundError InterruptedError IsADirectoryError NotADirectoryError PermissionError
ProcessLookupError TimeoutError Warning UserWarning DeprecationWarning PendingDeprecationWarning
SyntaxWarning RuntimeWarning FutureWarning ImportWarning UnicodeWarning BytesWarning ResourceWarning""".split()

# C-API type object -> the context handle that stands for it.
TYPES = {"PyBaseObject_Type": "BaseObjectType", "PyType_Type": "TypeType", "PyBool_Type": "BoolType",
         "PyLong_Type": "LongType", "PyFloat_Type": "FloatType", "PyUnicode_Type": "UnicodeType",
         "PyTuple_Type": "TupleType", "PyList_Type": "ListType", "PyComplex_Type": "ComplexType",
         "PyBytes_Type": "BytesType", "PyMemoryView_Type": "MemoryViewType",
         "PyCapsule_Type": "CapsuleType", "PySlice_Type": "SliceType"}

# The buffer request flags PyBUF_X, HPyBUF_X in HPy (the same values).
BUFFER_FLAGS = ("SIMPLE", "WRITABLE", "FORMAT", "ND", "STRIDES", "C_CONTIGUOUS", "F_CONTIGUOUS", "ANY_CONTIGUOUS",
                "INDIRECT", "CONTIG", "CONTIG_RO", "STRIDED", "STRIDED_RO", "RECORDS", "RECORDS_RO", "FULL",
                "FULL_RO")

BLOCKERS = ("borrowed", "struct", "static-type")


class Entry(NamedTuple):
    capi: str
    hpy: str | None       # None: HPy 0.9 has no equivalent
    blocker: str | None   # one of BLOCKERS, or None
    note: str


def _parse(table):
    entries = {}
    for line in table.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        capi, hpy, blocker, *note = re.split(r"\s{2,}", line.strip(), maxsplit=3)
        if blocker != "-" and blocker not in BLOCKERS:
            raise ValueError(f"mapping: unknown blocker {blocker!r} in: {line}")
        entries[capi] = Entry(capi, None if hpy == "-" else hpy, None if blocker == "-" else blocker,
                              note[0] if note else "")
    for name in EXCEPTIONS:
        entries["PyExc_" + name] = Entry("PyExc_" + name, "ctx->h_" + name, None, "")
    for capi, handle in TYPES.items():
        entries[capi] = Entry(capi, "ctx->h_" + handle, None, "")
    for flag in BUFFER_FLAGS:
        entries["PyBUF_" + flag] = Entry("PyBUF_" + flag, "HPyBUF_" + flag, None, "HPy ABI 0.1")
    return entries


ENTRIES = _parse(TABLE)


def lookup(name):
    """The table's entry for a C-API name; a name the table lacks has no known HPy equivalent."""
    return ENTRIES.get(name) or Entry(name, None, None, "not in the table")


# Plain C types of the C API: writing them is no use of the interpreter, the report leaves them out.
PLAIN_TYPES = {"PyObject", "Py_ssize_t", "Py_hash_t", "Py_UCS1", "Py_UCS2", "Py_UCS4"}


def is_capi_name(name):
    """Whether a name belongs to the CPython C API (what the report lists)."""
    return name not in PLAIN_TYPES and (name in ENTRIES or name.startswith(("Py", "_Py")))
