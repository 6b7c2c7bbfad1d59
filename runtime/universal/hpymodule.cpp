// runtime/universal/hpymodule.cpp: the hpy.universal module: loads NAME.hpy0.so files into CPython with the universal context.
#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "debug/debug_context.h"
#include "debug/movinggc.h"
#include "debug/trace.h"
#include "runtime/cpython/capi_compat.h"
#include "runtime/cpython/context_init.h"
#include "runtime/universal/mode.h"

#ifndef UNIHPY_VERSION
#    define UNIHPY_VERSION "0.0.0"
#endif
#ifndef UNIHPY_GIT_REVISION
#    define UNIHPY_GIT_REVISION "unknown"
#endif

namespace hpy::universal {
namespace {

struct _HPyContext_s g_universal_ctx;

// A loaded shared object, closed again unless the module was handed its context.
struct Library {
    void *handle = nullptr;
    ~Library()
    {
        if (handle != nullptr)
            dlclose(handle);
    }
    void keep_open() { handle = nullptr; }
};

// hpy.universal.HPyLoadError: what load() raises when a file cannot become a module. An ImportError
// (with .name and .path), since loading is importing; and a RuntimeError, the class HPy 0.9's host
// raised for the same failures, which callers of load() catch.
PyObject *g_load_error = nullptr;

bool make_load_error_class()
{
    PyObject *bases = PyTuple_Pack(2, PyExc_ImportError, PyExc_RuntimeError);
    if (bases == nullptr)
        return false;
    g_load_error = PyErr_NewExceptionWithDoc(
        "hpy.universal.HPyLoadError",
        "An HPy module could not be loaded: its file, its entry points or the ABI it needs.\n\n"
        "An ImportError (name and path say which module and file), and a RuntimeError as well.",
        bases, nullptr);
    Py_DECREF(bases);
    return g_load_error != nullptr;
}

// Raises HPyLoadError(message) with its name and path attributes; `path` may be empty (no file yet).
// The attributes are set after construction, which works alike on every interpreter's ImportError.
PyObject *load_error(const std::string &name, const std::string &path, const std::string &message)
{
    PyObject *exc = PyObject_CallFunction(g_load_error, "s", message.c_str());
    PyObject *py_name = PyUnicode_FromString(name.c_str());
    PyObject *py_path = path.empty() ? Py_NewRef(Py_None) : PyUnicode_DecodeFSDefault(path.c_str());
    if (exc && py_name && py_path && PyObject_SetAttrString(exc, "name", py_name) == 0 &&
        PyObject_SetAttrString(exc, "path", py_path) == 0)
        PyErr_SetObject(g_load_error, exc);
    Py_XDECREF(exc);
    Py_XDECREF(py_name);
    Py_XDECREF(py_path);
    return nullptr;
}

PyObject *import_error(const std::string &name, const std::string &path, const std::string &cause)
{
    return load_error(name, path, "cannot load HPy module '" + name + "' from '" + path + "': " + cause);
}

std::string version_text(uint32_t major, uint32_t minor)
{
    return std::to_string(major) + "." + std::to_string(minor);
}

// The tag in a file name: "x.hpy0.so" (universal) or "x.hpy0-cp311.so" (hybrid).
struct FileTag {
    bool found = false;
    std::string text;   // ".hpy0"
    bool valid = true;  // false when the major version does not fit in 32 bits
    unsigned long major = 0;
    bool hybrid = false;
    std::string python_tag;  // "cp311" for hybrid files
};

FileTag parse_file_tag(const std::string &path)
{
    FileTag tag;
    std::string base = path.substr(path.find_last_of('/') + 1);
    for (size_t pos = base.find(".hpy"); pos != std::string::npos; pos = base.find(".hpy", pos + 1)) {
        size_t digits = pos + 4, end = digits;
        while (end < base.size() && isdigit(static_cast<unsigned char>(base[end])))
            ++end;
        if (end == digits || end >= base.size() || (base[end] != '.' && base[end] != '-'))
            continue;
        tag.found = true;
        tag.text = base.substr(pos, end - pos);
        tag.valid = end - digits <= 9;  // std::stoul would throw on an overflow
        tag.major = tag.valid ? std::stoul(base.substr(digits, end - digits)) : 0;
        if (base[end] == '-') {
            tag.hybrid = true;
            size_t dot = base.find('.', end + 1);
            tag.python_tag =
                base.substr(end + 1, dot == std::string::npos ? std::string::npos : dot - end - 1);
        }
        return tag;
    }
    return tag;
}

// dlopen maps a truncated shared object without complaint, and the process dies of SIGBUS when it
// touches a page past the end: check that the file holds everything its ELF headers describe.
// Returns the cause when it does not ("" otherwise, and for files that are not 64-bit ELF, which
// dlopen judges itself).
std::string truncation_of(const std::string &path)
{
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f)
        return "";
    const auto size = static_cast<uint64_t>(f.tellg());
    Elf64_Ehdr eh;
    f.seekg(0);
    if (!f.read(reinterpret_cast<char *>(&eh), sizeof(eh)) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64)
        return "";
    auto past_end = [size](uint64_t offset, uint64_t length) {
        return offset > size || length > size - offset;
    };
    if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
        past_end(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr)))
        return "its program headers are cut off";
    if (eh.e_shoff != 0 && past_end(eh.e_shoff, uint64_t{eh.e_shnum} * eh.e_shentsize))
        return "the file is truncated (" + std::to_string(size) + " bytes; its section headers end at byte " +
               std::to_string(eh.e_shoff + uint64_t{eh.e_shnum} * eh.e_shentsize) + ")";
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        f.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof(Elf64_Phdr)));
        if (!f.read(reinterpret_cast<char *>(&ph), sizeof(ph)))
            return "its program headers are cut off";
        if (past_end(ph.p_offset, ph.p_filesz))
            return "the file is truncated (" + std::to_string(size) + " bytes; a segment ends at byte " +
                   std::to_string(ph.p_offset + ph.p_filesz) + ")";
    }
    return "";
}

// This interpreter's tag in hybrid file names ("cp311", "cp314d"...): read once from hpy._abitag,
// the module that names the files hpy.devel builds.
std::string g_python_tag;

bool read_python_tag()
{
    PyObject *abitag = PyImport_ImportModule("hpy._abitag");
    PyObject *parsed = abitag ? PyObject_CallMethod(abitag, "parse_ext_suffix", nullptr) : nullptr;
    Py_XDECREF(abitag);
    const char *tag = parsed && PyTuple_Check(parsed) && PyTuple_GET_SIZE(parsed) == 2
                          ? PyUnicode_AsUTF8(PyTuple_GET_ITEM(parsed, 0))
                          : nullptr;
    if (tag != nullptr)
        g_python_tag = tag;
    Py_XDECREF(parsed);
    if (tag == nullptr && !PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "hpy._abitag.parse_ext_suffix() did not return (tag, ext)");
    return tag != nullptr;
}

// The symbol suffix: the last dotted part of the name, '-' read as '_'.
std::string short_name(const std::string &name)
{
    std::string s = name.substr(name.find_last_of('.') + 1);
    for (char &c : s)
        if (c == '-')
            c = '_';
    return s;
}

template <typename Fn>
Fn lookup(void *handle, const std::string &symbol)
{
    return reinterpret_cast<Fn>(dlsym(handle, symbol.c_str()));
}

PyObject *load_module(const std::string &name, const std::string &path, PyObject *spec, Mode mode)
{
    // A file name without a tag is refused once the module has said which ABI it was built for.
    FileTag tag = parse_file_tag(path);
    if (tag.found && !tag.valid)
        return import_error(name, path,
                            "the ABI tag '" + tag.text + "' in the file name is not a valid version");
    if (tag.found && tag.hybrid && tag.python_tag != g_python_tag)
        return import_error(name, path,
                            "the hybrid module was built for '" + tag.python_tag +
                                "', this interpreter is '" + g_python_tag + "'");

    std::string truncated = truncation_of(path);
    if (!truncated.empty())
        return import_error(name, path, "not a loadable shared object: " + truncated);
    Library lib;
    lib.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == nullptr) {
        const char *why = dlerror();
        return import_error(name, path,
                            std::string("not a loadable shared object: ") + (why ? why : "dlopen failed"));
    }
    const std::string sn = short_name(name);
    using VersionFn = uint32_t (*)(void);
    using InitCtxFn = void (*)(HPyContext *);
    using InitFn = HPyModuleDef *(*)(void);
    auto major_fn = lookup<VersionFn>(lib.handle, "get_required_hpy_major_version_" + sn);
    auto minor_fn = lookup<VersionFn>(lib.handle, "get_required_hpy_minor_version_" + sn);
    auto init_ctx_fn = lookup<InitCtxFn>(lib.handle, "HPyInitGlobalContext_" + sn);
    auto init_fn = lookup<InitFn>(lib.handle, "HPyInit_" + sn);
    // Beyond HPy 0.9, optional: the module's HPy_MOD_GIL declaration (hpy/hpymodule.h).
    auto gil_fn = lookup<int (*)(void)>(lib.handle, "_HPyModGIL_" + sn);
    const char *missing = !major_fn      ? "get_required_hpy_major_version_"
                          : !minor_fn    ? "get_required_hpy_minor_version_"
                          : !init_ctx_fn ? "HPyInitGlobalContext_"
                          : !init_fn     ? "HPyInit_"
                                         : nullptr;
    if (missing != nullptr)
        return import_error(name, path,
                            std::string("the entry point ") + missing + sn +
                                " is missing (is it an HPy universal module named '" + sn + "'?)");
    // These three messages are worded as HPy 0.9's host words them, for code that compares them.
    // The host speaks minors 0..HPY_ABI_VERSION_MINOR_LATEST. As "current version" the refusal names
    // the newest of those the module could have asked for, min(requested, latest): a module of
    // another major that asks for minor 0 reads "0.0", as HPy 0.9's own tests expect of any host
    // (hpy.devel.abitag.HPY_ABI_VERSION_MINOR, the default request, stays 0); one asking for a minor
    // too new reads the newest this host has.
    uint32_t major = major_fn(), minor = minor_fn();
    const uint32_t named_minor = std::min<uint32_t>(minor, HPY_ABI_VERSION_MINOR_LATEST);
    if (major != HPY_ABI_VERSION || minor > HPY_ABI_VERSION_MINOR_LATEST)
        return load_error(name, path,
                          "HPy extension module '" + name +
                              "' requires unsupported version of the HPy runtime. "
                              "Requested version: " +
                              version_text(major, minor) +
                              ". Current HPy version: " + version_text(HPY_ABI_VERSION, named_minor) + ".");
    if (!tag.found)
        return load_error(name, path,
                          "HPy extension module '" + name + "' at path '" + path +
                              "': could not find HPy ABI tag encoded in the filename. The extension claims "
                              "to be compiled with HPy ABI version: " +
                              version_text(major, minor) + ".");
    if (tag.major != major)
        return load_error(name, path,
                          "HPy extension module '" + name + "' at path '" + path +
                              "': mismatch between the HPy ABI tag encoded in the filename and the major "
                              "version requested by the HPy extension itself. Major version tag parsed "
                              "from filename: " +
                              std::to_string(tag.major) +
                              ". Requested version: " + version_text(major, minor) + ".");

    // The same file runs under any of the contexts: the debug and trace ones wrap the universal one.
    HPyContext *ctx = mode == Mode::Debug   ? debug::context(&g_universal_ctx)
                      : mode == Mode::Trace ? trace::context(&g_universal_ctx)
                                            : &g_universal_ctx;
    init_ctx_fn(ctx);
    // Modules built with unihpy's headers may call their implementations directly while they run
    // with a context whose handles are the PyObject pointers: the universal one (never debug/trace),
    // on a build whose tuples have the layout the direct tp_new/tp_init trampolines read.
#ifndef Py_GIL_DISABLED
    // CPython 3.14 caches a hash in tuples, before the items: no direct calls there.
    constexpr bool tuple_layout_matches = offsetof(PyTupleObject, ob_item) == 3 * sizeof(void *) &&
                                          offsetof(PyVarObject, ob_size) == 2 * sizeof(void *);
    if (tuple_layout_matches && ctx == &g_universal_ctx)
        if (auto direct_fn = lookup<InitCtxFn>(lib.handle, "_HPyInitDirectCalls_" + sn))
            direct_fn(ctx);
#endif
    lib.keep_open();  // trampolines and types now point into the library
    HPyModuleDef *hpydef = init_fn();
    if (hpydef == nullptr) {
        PyErr_Format(PyExc_SystemError, "HPy module '%s': HPyInit_%s returned NULL", name.c_str(),
                     sn.c_str());
        return nullptr;
    }
    const int gil = gil_fn != nullptr ? gil_fn() : HPy_MOD_GIL_USED;
    PyModuleDef *pydef =
        cpython::make_module_def(hpydef, name.c_str(), ctx, /*allow_legacy=*/tag.hybrid, gil);
    if (pydef == nullptr)
        return nullptr;
#ifdef Py_GIL_DISABLED
    // A module that has not said it runs without the GIL gets it back before it runs (hpy/_gil.py).
    if (gil == HPy_MOD_GIL_USED) {
        PyObject *gil_module = PyImport_ImportModule("hpy._gil");
        PyObject *r =
            gil_module ? PyObject_CallMethod(gil_module, "require_gil", "s", name.c_str()) : nullptr;
        Py_XDECREF(gil_module);
        if (r == nullptr)
            return nullptr;
        Py_DECREF(r);
    }
#endif
    PyObject *module = hpy::compat::module_from_def_and_spec(pydef, spec);
    if (module == nullptr)
        return nullptr;
    if (PyModule_Check(module) && PyModule_ExecDef(module, pydef) != 0) {
        Py_DECREF(module);
        return nullptr;
    }
    return module;
}

PyObject *py_load(PyObject *, PyObject *args, PyObject *kwargs)
{
    static const char *kwlist[] = {"name", "path", "spec", "debug", "mode", nullptr};
    const char *name;
    PyObject *path_obj;
    PyObject *spec;
    int debug = 0;
    int mode_arg = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO&O|pi:load", const_cast<char **>(kwlist), &name,
                                     PyUnicode_FSConverter, &path_obj, &spec, &debug, &mode_arg))
        return nullptr;
    std::string path = PyBytes_AS_STRING(path_obj);
    Py_DECREF(path_obj);
    std::string error;
    auto settings = settings_from_environment(&error);  // HPY and HPY_LOG
    Mode mode;
    if (mode_arg < -1 || mode_arg > static_cast<int>(Mode::Trace)) {
        PyErr_Format(PyExc_ValueError,
                     "hpy.universal.load: invalid mode %d (use MODE_UNIVERSAL, MODE_DEBUG or "
                     "MODE_TRACE)",
                     mode_arg);
        return nullptr;
    } else if (mode_arg != -1) {
        mode = static_cast<Mode>(mode_arg);
    } else if (debug) {
        mode = Mode::Debug;
    } else if (settings) {
        mode = settings->modes.mode_for(name);
    } else {
        return load_error(name, "", std::string("cannot load HPy module '") + name + "': " + error);
    }
    if (settings && settings->log) {
        // HPy 0.9's line on stdout, as it prints it; the file and the mode's name on stderr.
        PySys_WriteStdout("Loading '%.200s' in HPy universal mode%s\n", name,
                          mode == Mode::Debug   ? " with a debug context"
                          : mode == Mode::Trace ? " with a trace context"
                                                : "");
        std::fprintf(stderr, "hpy: loading '%s' from '%s' in %s mode\n", name, path.c_str(), mode_name(mode));
    }
    // HPY=debug:movinggc: the checker turns on with the first module that asks for it, for the process.
    if (mode == Mode::Debug && settings && settings->modes.movinggc_for(name) &&
        !debug::movinggc::set_enabled(true))
        return nullptr;
    return load_module(name, path, spec, mode);
}

PyObject *py_get_version(PyObject *, PyObject *)
{
    return Py_BuildValue("(ss)", UNIHPY_VERSION, UNIHPY_GIT_REVISION);
}

PyMethodDef methods[] = {
    {"load", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(py_load)),
     METH_VARARGS | METH_KEYWORDS,
     "load(name, path, spec, debug=False, mode=-1)\n--\n\nLoads the HPy universal module at `path` as "
     "`name`; "
     "mode -1 means: as the HPY environment variable says."},
    {"get_version", py_get_version, METH_NOARGS, "get_version()\n--\n\n(version, git revision) of unihpy."},
    {nullptr, nullptr, 0, nullptr},
};

// hpy.universal._debug and _trace: attributes, and importable by name.
bool add_submodule(PyObject *module, const char *attr, PyObject *sub)
{
    if (sub == nullptr)
        return false;
    std::string full = std::string("hpy.universal.") + attr;
    PyObject *modules = PyImport_GetModuleDict();
    bool ok = PyModule_AddObjectRef(module, attr, sub) == 0 &&
              PyDict_SetItemString(modules, full.c_str(), sub) == 0;
    Py_DECREF(sub);
    return ok;
}

int module_exec(PyObject *module)
{
    if (g_universal_ctx.name == nullptr &&
        !cpython::init_context(&g_universal_ctx, "HPy Universal ABI (unihpy, CPython backend)"))
        return -1;
    if (g_python_tag.empty() && !read_python_tag())
        return -1;
    if (g_load_error == nullptr && !make_load_error_class())
        return -1;
    if (PyModule_AddObjectRef(module, "HPyLoadError", g_load_error) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "MODE_UNIVERSAL", static_cast<int>(Mode::Universal)) < 0 ||
        PyModule_AddIntConstant(module, "MODE_DEBUG", static_cast<int>(Mode::Debug)) < 0 ||
        PyModule_AddIntConstant(module, "MODE_TRACE", static_cast<int>(Mode::Trace)) < 0)
        return -1;
    if (!add_submodule(module, "_debug", debug::make_python_module()) ||
        !add_submodule(module, "_trace", trace::make_python_module()))
        return -1;
    if (const char *report = std::getenv("HPY_DEBUG_EXIT_REPORT");
        report && *report && std::string(report) != "0") {
        PyObject *dbg = PyImport_ImportModule("hpy.debug");
        PyObject *r = dbg ? PyObject_CallMethod(dbg, "_install_exit_report", nullptr) : nullptr;
        Py_XDECREF(dbg);
        if (r == nullptr)
            return -1;
        Py_DECREF(r);
    }
    // The loader entry of the stubs HPy 0.9's hpy.devel writes.
    PyObject *bootstrap = PyImport_ImportModule("hpy._bootstrap");
    PyObject *load_bootstrap = bootstrap ? PyObject_GetAttrString(bootstrap, "load_bootstrap") : nullptr;
    Py_XDECREF(bootstrap);
    if (load_bootstrap == nullptr || PyModule_AddObject(module, "_load_bootstrap", load_bootstrap) < 0) {
        Py_XDECREF(load_bootstrap);
        return -1;
    }
    // `import hpy.universal` is enough for `import foo` to find foo.hpy0.so.
    PyObject *hook = PyImport_ImportModule("hpy._import_hook");
    if (hook == nullptr)
        return -1;
    PyObject *r = PyObject_CallMethod(hook, "install", nullptr);
    Py_DECREF(hook);
    if (r == nullptr)
        return -1;
    Py_DECREF(r);
    return 0;
}

PyModuleDef_Slot slots[] = {
    {Py_mod_exec, reinterpret_cast<void *>(module_exec)},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},  // the host is safe without the GIL (docs/hosts.md: threads)
#endif
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "hpy.universal",
    "unihpy's host for HPy universal modules on CPython.",
    0,
    methods,
    slots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace
}  // namespace hpy::universal

PyMODINIT_FUNC PyInit_universal(void)
{
    return PyModuleDef_Init(&hpy::universal::module_def);
}

#ifdef Py_GIL_DISABLED
// hpy._gil_required: a module that declares nothing about the GIL, which CPython's extension import
// answers by enabling the GIL (see hpy/_gil.py).
PyMODINIT_FUNC PyInit__gil_required(void)
{
    static PyModuleDef def = {PyModuleDef_HEAD_INIT,
                              "hpy._gil_required",
                              "Imported when an HPy module needs the GIL.",
                              -1,
                              nullptr,
                              nullptr,
                              nullptr,
                              nullptr,
                              nullptr};
    return PyModule_Create(&def);
}
#endif
