/* include/hpy/inline_helpers.h: small API functions built on the context functions, the same in every ABI. */
#ifndef HPY_INLINE_HELPERS_H
#define HPY_INLINE_HELPERS_H

/* Sets an OSError subclass from errno; always returns HPy_NULL. */
HPyAPI_FUNC HPy HPyErr_SetFromErrno(HPyContext *ctx, HPy h_type)
{
    return HPyErr_SetFromErrnoWithFilename(ctx, h_type, NULL);
}

/* As HPyErr_SetFromErrno, with a filename object; always returns HPy_NULL. */
HPyAPI_FUNC HPy HPyErr_SetFromErrnoWithFilenameObject(HPyContext *ctx, HPy h_type, HPy filename)
{
    HPyErr_SetFromErrnoWithFilenameObjects(ctx, h_type, filename, HPy_NULL);
    return HPy_NULL;
}

/* A new tuple of the n handles that follow (borrowed; the tuple holds its own references). */
HPyAPI_FUNC HPy HPyTuple_Pack(HPyContext *ctx, HPy_ssize_t n, ...)
{
    va_list vargs;
    HPyTupleBuilder builder = HPyTupleBuilder_New(ctx, n);
    va_start(vargs, n);
    for (HPy_ssize_t i = 0; i < n; i++)
        HPyTupleBuilder_Set(ctx, builder, i, va_arg(vargs, HPy));
    va_end(vargs);
    return HPyTupleBuilder_Build(ctx, builder);
}

/* Deletes an attribute; -1 with an exception set on failure. */
HPyAPI_FUNC int HPy_DelAttr(HPyContext *ctx, HPy obj, HPy name)
{
    return HPy_SetAttr(ctx, obj, name, HPy_NULL);
}

HPyAPI_FUNC int HPy_DelAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name)
{
    return HPy_SetAttr_s(ctx, obj, utf8_name, HPy_NULL);
}

/* C-integer conversions named after the C types (sizes as on LP64 and LLP64 alike). */
HPyAPI_FUNC HPy HPyLong_FromLong(HPyContext *ctx, long l)
{
    /* Two returns, not a conditional expression: a handle made by `?:` is a temporary the compiler
       splits, and the call can then no longer end a trampoline as a jump (universal/hpy_universal.h). */
    if (sizeof(long) <= 4)
        return HPyLong_FromInt32_t(ctx, (int32_t)l);
    return HPyLong_FromInt64_t(ctx, (int64_t)l);
}

HPyAPI_FUNC HPy HPyLong_FromUnsignedLong(HPyContext *ctx, unsigned long l)
{
    if (sizeof(long) <= 4)
        return HPyLong_FromUInt32_t(ctx, (uint32_t)l);
    return HPyLong_FromUInt64_t(ctx, (uint64_t)l);
}

HPyAPI_FUNC HPy HPyLong_FromLongLong(HPyContext *ctx, long long l)
{
    return HPyLong_FromInt64_t(ctx, (int64_t)l);
}

HPyAPI_FUNC HPy HPyLong_FromUnsignedLongLong(HPyContext *ctx, unsigned long long l)
{
    return HPyLong_FromUInt64_t(ctx, (uint64_t)l);
}

HPyAPI_FUNC long HPyLong_AsLong(HPyContext *ctx, HPy h)
{
    return sizeof(long) <= 4 ? (long)HPyLong_AsInt32_t(ctx, h) : (long)HPyLong_AsInt64_t(ctx, h);
}

HPyAPI_FUNC unsigned long HPyLong_AsUnsignedLong(HPyContext *ctx, HPy h)
{
    return sizeof(long) <= 4 ? (unsigned long)HPyLong_AsUInt32_t(ctx, h)
                             : (unsigned long)HPyLong_AsUInt64_t(ctx, h);
}

HPyAPI_FUNC unsigned long HPyLong_AsUnsignedLongMask(HPyContext *ctx, HPy h)
{
    return sizeof(long) <= 4 ? (unsigned long)HPyLong_AsUInt32_tMask(ctx, h)
                             : (unsigned long)HPyLong_AsUInt64_tMask(ctx, h);
}

HPyAPI_FUNC long long HPyLong_AsLongLong(HPyContext *ctx, HPy h)
{
    return (long long)HPyLong_AsInt64_t(ctx, h);
}

HPyAPI_FUNC unsigned long long HPyLong_AsUnsignedLongLong(HPyContext *ctx, HPy h)
{
    return (unsigned long long)HPyLong_AsUInt64_t(ctx, h);
}

HPyAPI_FUNC unsigned long long HPyLong_AsUnsignedLongLongMask(HPyContext *ctx, HPy h)
{
    return (unsigned long long)HPyLong_AsUInt64_tMask(ctx, h);
}

/* True unless v is 0. */
HPyAPI_FUNC HPy HPyBool_FromLong(HPyContext *ctx, long v)
{
    return HPyBool_FromBool(ctx, v != 0);
}

/* Clips start/stop of a slice to a sequence of `length` items; returns the slice's length. */
HPyAPI_FUNC HPy_ssize_t HPySlice_AdjustIndices(HPyContext *ctx, HPy_ssize_t length, HPy_ssize_t *start,
                                               HPy_ssize_t *stop, HPy_ssize_t step)
{
    (void)ctx;
    if (*start < 0) {
        *start += length;
        if (*start < 0)
            *start = (step < 0) ? -1 : 0;
    } else if (*start >= length) {
        *start = (step < 0) ? length - 1 : length;
    }
    if (*stop < 0) {
        *stop += length;
        if (*stop < 0)
            *stop = (step < 0) ? -1 : 0;
    } else if (*stop >= length) {
        *stop = (step < 0) ? length - 1 : length;
    }
    if (step < 0) {
        if (*stop < *start)
            return (*start - *stop - 1) / (-step) + 1;
    } else if (*start < *stop) {
        return (*stop - *start - 1) / step + 1;
    }
    return 0;
}

/* Calls receiver.name(*args, **kw): args a tuple (or HPy_NULL), kw a dict (or HPy_NULL). The name
   comes before the receiver, as in HPy 0.9. */
HPyAPI_FUNC HPy HPy_CallMethodTupleDict(HPyContext *ctx, HPy name, HPy receiver, HPy args, HPy kw)
{
    HPy method = HPy_GetAttr(ctx, receiver, name);
    if (HPy_IsNull(method))
        return HPy_NULL;
    HPy result = HPy_CallTupleDict(ctx, method, args, kw);
    HPy_Close(ctx, method);
    return result;
}

HPyAPI_FUNC HPy HPy_CallMethodTupleDict_s(HPyContext *ctx, const char *utf8_name, HPy receiver, HPy args,
                                          HPy kw)
{
    HPy method = HPy_GetAttr_s(ctx, receiver, utf8_name);
    if (HPy_IsNull(method))
        return HPy_NULL;
    HPy result = HPy_CallTupleDict(ctx, method, args, kw);
    HPy_Close(ctx, method);
    return result;
}

/* Capsules, one part at a time (HPyCapsule_Get/HPyCapsule_Set with a key). */
HPyAPI_FUNC void *HPyCapsule_GetPointer(HPyContext *ctx, HPy capsule, const char *utf8_name)
{
    return HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Pointer, utf8_name);
}

HPyAPI_FUNC const char *HPyCapsule_GetName(HPyContext *ctx, HPy capsule)
{
    return (const char *)HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Name, NULL);
}

HPyAPI_FUNC void *HPyCapsule_GetContext(HPyContext *ctx, HPy capsule)
{
    return HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Context, NULL);
}

HPyAPI_FUNC int HPyCapsule_SetPointer(HPyContext *ctx, HPy capsule, void *pointer)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Pointer, pointer);
}

HPyAPI_FUNC int HPyCapsule_SetName(HPyContext *ctx, HPy capsule, const char *utf8_name)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Name, (void *)utf8_name);
}

HPyAPI_FUNC int HPyCapsule_SetContext(HPyContext *ctx, HPy capsule, void *context)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Context, context);
}

/* NULL removes the destructor. */
HPyAPI_FUNC int HPyCapsule_SetDestructor(HPyContext *ctx, HPy capsule, HPyCapsule_Destructor *destructor)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Destructor, (void *)destructor);
}

/* Process ids as Python ints. pid_t has the size of int on every platform HPy targets; pyconfig.h's
   SIZEOF_PID_T (CPython ABI) selects a wider type where it is wider. */
#if defined(SIZEOF_PID_T) && defined(SIZEOF_LONG) && SIZEOF_PID_T > SIZEOF_LONG
#    define HPyLong_FromPid HPyLong_FromLongLong
#    define HPyLong_AsPid HPyLong_AsLongLong
#else
#    define HPyLong_FromPid HPyLong_FromLong
#    define HPyLong_AsPid HPyLong_AsLong
#endif

/* A block that runs without holding the interpreter (no HPy calls inside):
       HPy_BEGIN_LEAVE_PYTHON(ctx)  ...blocking C code...  HPy_END_LEAVE_PYTHON(ctx) */
#define HPy_BEGIN_LEAVE_PYTHON(ctx) \
    {                               \
        HPyThreadState _hpy_leave_python_state = HPy_LeavePythonExecution(ctx);
#define HPy_END_LEAVE_PYTHON(ctx)                             \
    HPy_ReenterPythonExecution(ctx, _hpy_leave_python_state); \
    }

#endif /* HPY_INLINE_HELPERS_H */
