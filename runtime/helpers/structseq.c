/* runtime/helpers/structseq.c: HPyStructSequence_NewType and HPyStructSequence_New.
 *
 * CPython ABI: CPython's own struct sequences. Universal ABI: the host may not be CPython, so the type
 * is a tuple subclass with one read-only property per named field, built by a few lines of Python run
 * through the context (HPy_Compile_s / HPy_EvalCode). Both kinds index, unpack, compare and print
 * alike and have n_fields, n_sequence_fields and n_unnamed_fields. */
#include <stdlib.h>

#include "hpy.h"

const char *const HPyStructSequence_UnnamedField = "unnamed field";

static int count_fields(HPyContext *ctx, const HPyStructSequence_Desc *desc, HPy_ssize_t *count)
{
    if (desc == NULL || desc->name == NULL || desc->fields == NULL) {
        HPyErr_SetString(ctx, ctx->h_SystemError,
                         "HPyStructSequence_NewType: the description needs a name and a field list");
        return -1;
    }
    *count = 0;
    while (desc->fields[*count].name != NULL)
        ++*count;
    return 0;
}

#ifdef HPY_ABI_CPYTHON

HPy HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc)
{
    HPy_ssize_t n;
    if (count_fields(ctx, desc, &n) < 0)
        return HPy_NULL;
    /* CPython recognises an unnamed field by its own marker's address. */
    PyStructSequence_Field *fields = (PyStructSequence_Field *)calloc((size_t)n + 1, sizeof(*fields));
    if (fields == NULL) {
        HPyErr_NoMemory(ctx);
        return HPy_NULL;
    }
    for (HPy_ssize_t i = 0; i < n; i++) {
        const char *name = desc->fields[i].name;
        fields[i].name = name == HPyStructSequence_UnnamedField ? PyStructSequence_UnnamedField : name;
        fields[i].doc = desc->fields[i].doc;
    }
    PyStructSequence_Desc d = {desc->name, desc->doc, fields, (int)n};
    PyTypeObject *type = PyStructSequence_NewType(&d);
    free(fields); /* the type copied what it keeps */
    return _py2h((PyObject *)type);
}

HPy HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args)
{
    PyObject *tp = _h2py(type);
    PyObject *n_fields = PyType_Check(tp) ? PyObject_GetAttrString(tp, "n_fields") : NULL;
    Py_ssize_t n = n_fields != NULL ? PyLong_AsSsize_t(n_fields) : -1;
    Py_XDECREF(n_fields);
    if (n < 0 || !PyType_IsSubtype((PyTypeObject *)tp, &PyTuple_Type)) {
        PyErr_Clear();
        return HPyErr_Format(ctx, ctx->h_TypeError,
                             "HPyStructSequence_New: '%s' is not a struct sequence type",
                             PyType_Check(tp) ? ((PyTypeObject *)tp)->tp_name : Py_TYPE(tp)->tp_name);
    }
    if (n != nargs)
        return HPyErr_Format(ctx, ctx->h_TypeError,
                             "HPyStructSequence_New: '%s' has %zd fields, %zd items given",
                             ((PyTypeObject *)tp)->tp_name, n, nargs);
    PyObject *seq = PyStructSequence_New((PyTypeObject *)tp);
    if (seq == NULL)
        return HPy_NULL;
    for (HPy_ssize_t i = 0; i < nargs; i++) {
        PyObject *item = _h2py(args[i]);
        Py_INCREF(item);
        PyStructSequence_SetItem(seq, i, item);
    }
    return _py2h(seq);
}

#else /* universal ABI */

/* make(qualified name, doc, names (None: unnamed), docs) -> the new type. */
static const char structseq_factory[] =
    "def make(qualname, doc, names, docs):\n"
    "    from operator import itemgetter\n"
    "    module, _, name = qualname.rpartition('.')\n"
    "    count = len(names)\n"
    "    named = [(i, n) for i, n in enumerate(names) if n is not None]\n"
    "    def __new__(cls, sequence):\n"
    "        items = tuple(sequence)\n"
    "        if len(items) != count:\n"
    "            raise TypeError('%s() takes a %d-sequence (%d-sequence given)' % (qualname, count, "
    "len(items)))\n"
    "        return tuple.__new__(cls, items)\n"
    "    def __repr__(self):\n"
    "        return '%s(%s)' % (qualname, ', '.join('%s=%r' % (n, self[i]) for i, n in named))\n"
    "    def __reduce__(self):\n"
    "        return (type(self), (tuple(self),))\n"
    "    ns = {'__slots__': (), '__doc__': doc, '__module__': module or 'builtins', '__new__': __new__,\n"
    "          '__repr__': __repr__, '__reduce__': __reduce__, 'n_fields': count,\n"
    "          'n_sequence_fields': count, 'n_unnamed_fields': count - len(named)}\n"
    "    for i, n in named:\n"
    "        ns[n] = property(itemgetter(i), doc=docs[i])\n"
    "    return type(name, (tuple,), ns)\n";

static HPy str_or_none(HPyContext *ctx, const char *s)
{
    return s != NULL ? HPyUnicode_FromString(ctx, s) : HPy_Dup(ctx, ctx->h_None);
}

/* The factory function, compiled in a fresh namespace. */
static HPy load_factory(HPyContext *ctx)
{
    HPy result = HPy_NULL;
    HPy code = HPy_Compile_s(ctx, structseq_factory, "<hpy struct sequence>", HPy_SourceKind_File);
    HPy ns = HPy_IsNull(code) ? HPy_NULL : HPyDict_New(ctx);
    HPy builtins = HPy_IsNull(ns) ? HPy_NULL : HPyImport_ImportModule(ctx, "builtins");
    if (!HPy_IsNull(builtins) && HPy_SetItem_s(ctx, ns, "__builtins__", builtins) == 0) {
        HPy none = HPy_EvalCode(ctx, code, ns, ns);
        if (!HPy_IsNull(none)) {
            HPy_Close(ctx, none);
            result = HPy_GetItem_s(ctx, ns, "make");
        }
    }
    HPy_Close(ctx, builtins);
    HPy_Close(ctx, ns);
    HPy_Close(ctx, code);
    return result;
}

HPy HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc)
{
    HPy_ssize_t n;
    if (count_fields(ctx, desc, &n) < 0)
        return HPy_NULL;
    HPyTupleBuilder names = HPyTupleBuilder_New(ctx, n);
    HPyTupleBuilder docs = HPyTupleBuilder_New(ctx, n);
    for (HPy_ssize_t i = 0; i < n; i++) {
        const char *name = desc->fields[i].name;
        HPy h_name = str_or_none(ctx, name == HPyStructSequence_UnnamedField ? NULL : name);
        HPy h_doc = str_or_none(ctx, desc->fields[i].doc);
        if (HPy_IsNull(h_name) || HPy_IsNull(h_doc)) {
            HPy_Close(ctx, h_name);
            HPy_Close(ctx, h_doc);
            HPyTupleBuilder_Cancel(ctx, names);
            HPyTupleBuilder_Cancel(ctx, docs);
            return HPy_NULL;
        }
        HPyTupleBuilder_Set(ctx, names, i, h_name);
        HPyTupleBuilder_Set(ctx, docs, i, h_doc);
        HPy_Close(ctx, h_name);
        HPy_Close(ctx, h_doc);
    }
    HPy h_names = HPyTupleBuilder_Build(ctx, names);
    HPy h_docs = HPyTupleBuilder_Build(ctx, docs);
    HPy h_qualname = HPyUnicode_FromString(ctx, desc->name);
    HPy h_doc = str_or_none(ctx, desc->doc);
    HPy result = HPy_NULL;
    if (!HPy_IsNull(h_names) && !HPy_IsNull(h_docs) && !HPy_IsNull(h_qualname) && !HPy_IsNull(h_doc)) {
        HPy make = load_factory(ctx);
        HPy args = HPy_IsNull(make) ? HPy_NULL : HPyTuple_Pack(ctx, 4, h_qualname, h_doc, h_names, h_docs);
        if (!HPy_IsNull(args))
            result = HPy_CallTupleDict(ctx, make, args, HPy_NULL);
        HPy_Close(ctx, args);
        HPy_Close(ctx, make);
    }
    HPy_Close(ctx, h_doc);
    HPy_Close(ctx, h_qualname);
    HPy_Close(ctx, h_docs);
    HPy_Close(ctx, h_names);
    return result;
}

HPy HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args)
{
    HPy_ssize_t n = -1;
    if (HPy_TypeCheck(ctx, type, ctx->h_TypeType) && HPyType_IsSubtype(ctx, type, ctx->h_TupleType)) {
        HPy n_fields = HPy_GetAttr_s(ctx, type, "n_fields");
        n = HPy_IsNull(n_fields) ? -1 : HPyLong_AsSsize_t(ctx, n_fields);
        HPy_Close(ctx, n_fields);
    }
    if (n < 0) {
        HPyErr_Clear(ctx);
        HPyErr_SetString(ctx, ctx->h_TypeError, "HPyStructSequence_New: not a struct sequence type");
        return HPy_NULL;
    }
    if (n != nargs)
        return HPyErr_Format(ctx, ctx->h_TypeError,
                             "HPyStructSequence_New: the type has %zd fields, %zd items given", n, nargs);
    HPy items = HPyTuple_FromArray(ctx, args, nargs);
    HPy call_args = HPy_IsNull(items) ? HPy_NULL : HPyTuple_Pack(ctx, 1, items);
    HPy result = HPy_IsNull(call_args) ? HPy_NULL : HPy_CallTupleDict(ctx, type, call_args, HPy_NULL);
    HPy_Close(ctx, call_args);
    HPy_Close(ctx, items);
    return result;
}

#endif
