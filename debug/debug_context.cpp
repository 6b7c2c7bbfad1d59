// debug/debug_context.cpp: debug handles, per-call contexts, reports, and protected raw data.
#include "debug/debug_context.h"
#include "debug/fatal_signal.h"
#include "debug/report.h"
#include "debug/symbols.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <type_traits>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace hpy::debug {
namespace {

struct State {
    HPyContext *uctx = nullptr;
    HPyContext dctx{};  // handed to HPyInitGlobalContext_
    CallInfo global_info;
};

// The context's state lives as long as the process: modules may call into the context until the very
// end, and the objects of handles left open stay reachable from it (a leak checker reports them
// otherwise). No static destructor runs for it.
State &g = *new State;

// The contexts of calls: all made once (a copy of the global context each), then recycled first in,
// first out, so a context kept beyond its call is reissued only after every other free one.
}  // namespace

void CallPool::grow()
{
    for (int i = 0; i < 16; ++i) {
        auto cc = std::make_unique<CallContext>();
        memcpy(&cc->ctx, &g.dctx, sizeof(HPyContext));
        cc->ctx._private = &cc->info;
        cc->next = nullptr;  // push()'s work: the lock is held already
        (tail ? tail->next : head) = cc.get();
        tail = cc.get();
        all.push_back(std::move(cc));
    }
}

bool CallPool::in_call(ThreadId self) const
{
    threads::Guard guard(const_cast<threads::Lock &>(lock));
    for (const auto &cc : all)
        if (cc->info.valid && cc->info.thread == self)
            return true;
    return false;
}

Immortal<CallPool> g_call_pool;
thread_local CallContext *t_innermost [[gnu::tls_model("initial-exec")]] = nullptr;

namespace {

// ---------------------------------------------------------------- reports

PyObject *g_error_type = nullptr;  // hpy.debug.HPyDebugError
// The first report not raised yet. It waits in its thread's slot until that thread's call returns to
// Python. A thread with no call of a debug-mode module running (a thread the module started itself)
// has no call to return through: its report waits in the shared slot, raised by the next call that
// returns, on any thread.
}  // namespace
thread_local PyObject *t_pending [[gnu::tls_model("initial-exec")]] = nullptr;
PyObject *g_orphan_pending = nullptr;
namespace {
threads::Lock g_orphan_lock;

bool has_pending()
{
    return t_pending != nullptr || (t_innermost == nullptr && threads::load(&g_orphan_pending) != nullptr);
}

// Makes `exc` wait to be raised, and keeps `message` for the fatal-signal handler until it is.
void set_pending(PyObject *exc, const std::string &message)
{
    if (t_innermost != nullptr) {
        t_pending = exc;
        note_unshown(exc, message);
        return;
    }
    threads::Guard guard(g_orphan_lock);
    if (g_orphan_pending == nullptr)
        threads::store(&g_orphan_pending, exc);
    else
        Py_DECREF(exc);  // only the first report is raised (every one is kept in the recent reports)
    note_unshown(g_orphan_pending, message);  // shown when the one raised is
}

// A report only recorded, because this thread's first one waits: kept for the fatal-signal handler
// until that one is raised.
void note_recorded(const std::string &message)
{
    if (t_pending != nullptr) {
        note_unshown(t_pending, message);
        return;
    }
    threads::Guard guard(g_orphan_lock);
    if (g_orphan_pending != nullptr)
        note_unshown(g_orphan_pending, message);
}

// This thread's pending report, else the shared one; nullptr when there is none.
PyObject *take_pending()
{
    PyObject *exc = t_pending;
    if (exc != nullptr) {
        t_pending = nullptr;
        forget_unshown(exc);
        return exc;
    }
    if (threads::load(&g_orphan_pending) == nullptr)
        return nullptr;
    threads::Guard guard(g_orphan_lock);
    exc = g_orphan_pending;
    threads::store(&g_orphan_pending, static_cast<PyObject *>(nullptr));
    forget_unshown(exc);
    return exc;
}
PyObject *g_on_report = nullptr;  // settings().reaction == Hook
PyObject *g_on_invalid_handle = nullptr;
PyObject *g_on_invalid_builder = nullptr;
PyObject *g_recent = nullptr;  // a list of the last reports
uint64_t g_report_count = 0;
constexpr Py_ssize_t kRecentMax = 64;

void call_hook(PyObject *hook, PyObject *arg)
{
    PyObject *r = arg ? PyObject_CallOneArg(hook, arg) : PyObject_CallNoArgs(hook);
    if (r == nullptr)
        PyErr_WriteUnraisable(hook);
    Py_XDECREF(r);
}

// repr(o) (the error indicator kept as it was); "<repr failed>" when repr raises.
std::string python_repr(PyObject *o)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    std::string text;
    PyObject *r = PyObject_Repr(o);
    const char *s = r ? PyUnicode_AsUTF8(r) : nullptr;
    if (s != nullptr) {
        text = s;
    } else {
        text = "<repr failed>";
        PyErr_Clear();
    }
    Py_XDECREF(r);
    PyErr_Restore(type, value, tb);
    return text;
}

}  // namespace

// ---------------------------------------------------------------- handles

Immortal<HandleTable> g_handle_table;

HPy constant_handle(HPy uh, const char *name)
{
    return encode(g_handles.constant(uh, name));
}

void trim_closed_queue()
{
    g_handles.trim();
}

void close_handle(Handle *h, const char *function, bool close_universal, const void *at, bool at_entry)
{
    // The type's name is kept for owned handles (and handles with raw data) on every close: a pointer
    // to a static type's name, a copy of a heap type's. The raw data's copy becomes inaccessible when
    // its handle is gone for the program: an argument at the end of its call, a handle made by HPy_Dup
    // (made to scope the data: its object lives on through another handle), or an object this handle
    // held the last reference to. Another object still referenced elsewhere (a dict value the argument
    // parser read) keeps its copy readable until the slot is reused.
    const char *type_name = nullptr;
    bool type_static = false;
    bool protect = false;
    if (h->owns || h->raw.base != nullptr) {
        PyObject *o = _h2py(h->uh);
        PyTypeObject *tp = Py_TYPE(o);
        type_name = tp->tp_name;
        type_static = !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE);
        protect = h->raw.base != nullptr && (!h->owns || h->dup || Py_REFCNT(o) <= 1);
    }
    HPy uh = h->uh;
    bool owns = h->owns;
    bool last = owns && close_universal && Py_REFCNT(_h2py(uh)) <= 1;
    g_handles.close(h, function, type_name, type_static, protect, last, at, at_entry);
    if (owns && close_universal)  // last: it may run destructors that call back into the context
        g.uctx->ctx_Close(g.uctx, uh);
}

namespace {
// Whether Python's faulthandler is on (python -X faulthandler, PYTHONFAULTHANDLER, faulthandler.enable()).
bool faulthandler_enabled()
{
    static PyObject *is_enabled = nullptr;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (is_enabled == nullptr) {
        PyObject *m = PyImport_ImportModule("faulthandler");
        is_enabled = m ? PyObject_GetAttrString(m, "is_enabled") : nullptr;
        Py_XDECREF(m);
    }
    PyObject *r = is_enabled ? PyObject_CallNoArgs(is_enabled) : nullptr;
    bool on = r != nullptr && PyObject_IsTrue(r) == 1;
    Py_XDECREF(r);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    return on;
}
}  // namespace

const char *protect_raw_data(Handle *h, const char *data, size_t size, const char *function)
{
    // A fault in the copy is explained on stderr when faulthandler is on (which then prints the Python
    // stack); otherwise the process dies of a plain SIGSEGV, as with HPy 0.9. Asked at each copy: a
    // copy costs a mapping anyway.
    explain_faults(faulthandler_enabled());
    return g_handles.protect_raw_data(h, data, size, function);
}

// ---------------------------------------------------------------- contexts

HPyContext *g_uctx = nullptr;

HPyContext *wrapped()
{
    return g_uctx;
}

HPyContext *context(HPyContext *uctx)
{
    static threads::Lock lock;  // modules loaded in debug mode by two threads at once
    threads::Guard guard(lock);
    if (g.uctx == nullptr) {
        g.uctx = g_uctx = uctx;
        g.dctx.name = "HPy Debug Mode ABI (unihpy, over the universal context)";
        g.dctx.abi_version = uctx->abi_version;
        g.global_info.global = true;
        g.dctx._private = &g.global_info;
        fill_debug_functions(&g.dctx);
        fill_debug_handles(&g.dctx, uctx);
        install_fatal_signal_handler();  // a report not raised yet is printed if the process dies
    }
    return &g.dctx;
}

Settings &settings()
{
    return g_settings;
}
uint64_t new_generation()
{
    return g_handles.new_generation();
}
uint64_t current_generation()
{
    return g_handles.generation();
}
std::vector<Handle *> open_handles(bool this_thread_only)
{
    ThreadId self = this_thread();
    return g_handles.open_list(this_thread_only ? &self : nullptr);
}
std::vector<Handle *> closed_handles()
{
    return g_handles.closed_list();
}

const HPy *Call::args(PyObject *const *a, size_t n)
{
    HPy *out = inline_array_;
    if (n > Call::kArgSlots) {
        if (!extra_)
            extra_ = std::make_unique<Extra>();
        extra_->array.resize(n);
        out = extra_->array.data();
    }
    for (size_t i = 0; i < n; ++i)
        out[i] = arg(a[i]);
    return out;
}

HPy Call::more_arg(PyObject *o)
{
    if (o == nullptr)
        return HPy{0};
    Handle *h = open_handle(_py2h(o), false, true);
    if (!extra_)
        extra_ = std::make_unique<Extra>();
    extra_->more_args.push_back(h);
    return encode(h);
}

// A handle value as reports show it (in hex: its bits are the slot and the reuse count).
std::string handle_value(HPy value)
{
    char text[40];
    snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value._i));
    return text;
}

PyObject *take_result_slow(Found f, HPy value, const void *impl)
{
    switch (f.what) {
    case Lookup::Null:
        return nullptr;
    case Lookup::Open:
        if (f.h->const_name != nullptr) {
            report("return-constant", "return", f.h,
                   std::string("the function returned the context constant ") + f.h->const_name +
                       " without HPy_Dup",
                   nullptr, Where{impl});
            PyObject *o = _h2py(f.h->uh);
            Py_INCREF(o);  // what HPy_Dup would have done: the program goes on correctly
            return o;
        }
        if (f.h->is_arg) {
            report("return-argument", "return", f.h,
                   "the function returned one of its arguments without HPy_Dup", nullptr, Where{impl});
            PyObject *o = _h2py(f.h->uh);
            Py_INCREF(o);
            return o;
        }
        {
            PyObject *o = _h2py(f.h->uh);
            close_handle(f.h, "return", false, impl, true);  // the reference goes to the caller
            return o;
        }
    case Lookup::Closed:
        report_error("return-closed", "return", f.h, "the function returned a handle that is already closed",
                     nullptr, Where{impl});
        return nullptr;
    case Lookup::Stale:
        // The slot now holds another handle: nothing of it describes the returned one.
        report_error("return-closed", "return", nullptr,
                     "the function returned a handle that was closed long ago (its slot has been reused)",
                     nullptr, Where{impl});
        return nullptr;
    case Lookup::Invalid:
        break;
    }
    report_error("invalid-handle", "return", nullptr,
                 "the function returned " + handle_value(value) +
                     ", a value that is not a handle of this context (never issued, or a universal handle)",
                 nullptr, Where{impl});
    return nullptr;
}

void close_arg_slow(Handle *h, const void *impl)
{
    if (h->state == HandleState::Open && h->is_arg)
        close_handle(h, "the end of the call", false, impl, true);
}

void Call::ret_void()
{
    finish();
    if (raise_pending())
        PyErr_WriteUnraisable(nullptr);
}

Entered api_enter_slow(CallInfo *info, bool check_gil, const char *function)
{
    Entered entered{false, PyGILState_STATE{}};
    if (check_gil && !PyGILState_Check()) {
        entered.gil_state = PyGILState_Ensure();  // for the report, and so the call itself is safe
        entered.gil_taken = true;
        report("no-gil", function, nullptr,
               "an HPy function was called by a thread that does not hold the GIL");
    }
    if (info->global && !g_calls.in_call(this_thread())) {
        report("context-outside-call", function, nullptr,
               "the module's global context was used while no call of the module is running");
    } else if (!info->global && info->suspended) {
        report(
            "context-reused", function, nullptr,
            "a context was used inside a nested call: only the innermost call's context is valid (contexts "
            "must not be kept)");
    } else if (!info->global && !info->valid) {
        report("context-reused", function, nullptr,
               "a context was used after the call it was given to had returned (contexts must not be kept)");
    } else if (!info->global && info->thread != this_thread()) {
        report("context-other-thread", function, nullptr,
               "a context was used by another thread than the one whose call it was given to");
    }
    return entered;
}

Unwrapped api_bad_arg(Found f, const char *param, const char *function)
{
    std::string p = std::string("argument '") + param + "'";
    if (f.what == Lookup::Open) {
        // Open, but another thread's: the object is alive, the call goes on after the report.
        report("handle-other-thread", function, f.h,
               p + " is a handle opened by another thread (a handle belongs to the call, and the thread, "
                   "that opened it)");
        return {f.h->uh, false};
    }
    if (f.what == Lookup::Closed) {
        std::string detail = p + " is a handle that was already closed";
        Sink sink = report("use-after-close", function, f.h, detail);
        // After set_on_invalid_handle's hook the program goes on, as with HPy 0.9, with the object the
        // handle had, unless closing it released the object's last reference.
        if ((sink == Sink::HandleHook || sink == Sink::UserHook) && !f.h->dead)
            return {f.h->uh, false};
        if (!PyErr_Occurred())
            PyErr_SetString(g_error_type ? g_error_type : PyExc_SystemError,
                            format_report("use-after-close", function, detail, "", "").c_str());
        return {HPy{0}, true};
    }
    switch (f.what) {
    case Lookup::Stale:
        report_error("use-after-close", function, nullptr,
                     p + " is a handle that was closed long ago (its slot has been reused)");
        break;
    default:
        report_error("invalid-handle", function, nullptr,
                     p + " is not a handle of this context (never opened, or a universal handle)");
    }
    return {HPy{0}, true};
}

Unwrapped api_bad_handle(Found f, const char *param, const char *function)
{
    if (f.what == Lookup::Null) {
        report_error("invalid-handle", function, nullptr,
                     std::string("argument '") + param + "' is HPy_NULL");
        return {HPy{0}, true};
    }
    return api_bad_arg(f, param, function);
}

bool api_not_a_type(HPy uh, const char *param, const char *function)
{
    Handle fake;
    fake.uh = uh;
    fake.state = HandleState::Open;
    // HPy 0.9 checks these three functions' arguments, and its error is fatal.
    std::string f = function, pa = param;
    std::string line =
        f == "HPy_TypeCheck"     ? "HPy_TypeCheck arg 2 must be a type"
        : f == "HPyType_GetName" ? "HPyType_GetName arg must be a type"
        : f == "HPyType_IsSubtype"
            ? "HPyType_IsSubtype arg " + std::string(pa == "sub" ? "1" : "2") + " must be a type"
            : "";
    report_error("not-a-type", function, &fake, std::string("argument '") + param + "' must be a type",
                 line.empty() ? nullptr : line.c_str());
    return true;
}

bool api_not_a_str(HPy uh, const char *hpy_line, const char *function)
{
    Handle fake;
    fake.uh = uh;
    fake.state = HandleState::Open;
    report_error("not-a-str", function, &fake, "argument 'str' must be a str", hpy_line);
    return true;
}

// ---------------------------------------------------------------- reports

namespace {

// addr2line's answer for `address` in `file`: the chain of functions inlined there, innermost first,
// each "function at file:line" (just "function" when the file has no line table); empty when addr2line
// is not installed or does not know the address. Run without a shell: the file name is passed as an
// argument as it is.
std::vector<std::string> addr2line(const char *file, unsigned long address)
{
    char hex[32];
    snprintf(hex, sizeof hex, "0x%lx", address);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return {};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string name_arg = file;
    char prog[] = "addr2line", functions[] = "-f", inlines[] = "-i", exe[] = "-e";
    char *argv[] = {prog, functions, inlines, exe, name_arg.data(), hex, nullptr};
    pid_t pid;
    int failed = posix_spawnp(&pid, "addr2line", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    std::string output;
    if (failed == 0) {
        char buf[512];
        for (;;) {
            ssize_t n = read(fds[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            output.append(buf, static_cast<size_t>(n));
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    close(fds[0]);
    // -i: the chain of inlined functions, innermost first, the last one the real frame. Lines come in
    // pairs: function, then file:line (with -g).
    std::vector<std::string> chain;
    std::string fn;
    size_t line_no = 0;
    for (size_t at = 0; at < output.size(); ++line_no) {
        size_t eol = output.find('\n', at);
        std::string text = output.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
        at = eol == std::string::npos ? output.size() : eol + 1;
        if (!text.empty() && text.back() == '\r')
            text.pop_back();
        if (line_no % 2 == 0) {
            fn = text;
        } else if (fn != "??") {
            size_t slash = text.rfind('/');
            std::string where = slash == std::string::npos ? text : text.substr(slash + 1);
            chain.push_back(where.rfind("??", 0) == 0 ? fn : fn + " at " + where);
        }
    }
    return chain;
}

// What is known of the code at `address` (an offset from the load base of `file`): addr2line's chain
// when it is installed (with source lines), else one entry from the file's own symbol table
// (debug/symbols.h); empty when neither knows it. Cached: only reports pay for it, once per address.
std::vector<std::string> symbolize(const char *file, unsigned long address)
{
    static auto &cache = *new std::unordered_map<std::string, std::vector<std::string>>;
    static std::mutex lock;  // reports of several threads (free-threaded builds)
    std::string key = std::string(file) + "@" + std::to_string(address);
    {
        std::lock_guard<std::mutex> guard(lock);
        auto it = cache.find(key);
        if (it != cache.end())
            return it->second;
    }
    std::vector<std::string> chain = addr2line(file, address);
    if (chain.empty()) {
        std::string name = elf_function_at(file, address);
        if (!name.empty())
            chain.push_back(name);
    }
    std::lock_guard<std::mutex> guard(lock);
    return cache[key] = chain;
}

// The name of a static function (which dladdr cannot see) at `offset` from the load base of `file`,
// for a return address: the real frame of the chain ("" when unknown).
std::string static_symbol(const char *file, long offset)
{
    // The call instruction, not the return address.
    std::vector<std::string> chain = symbolize(file, static_cast<unsigned long>(offset) - 1);
    return chain.empty() ? "" : chain.back();
}

// The file to read for a frame's object. dladdr names the main program by argv[0], which may be a
// name found through PATH or relative to another directory; the kernel's link is the file itself.
const char *object_file(const Dl_info &info)
{
    static void *main_base = [] {
        Dl_info main;
        void *phdr = reinterpret_cast<void *>(getauxval(AT_PHDR));
        return phdr != nullptr && dladdr(phdr, &main) ? main.dli_fbase : nullptr;
    }();
    return main_base != nullptr && info.dli_fbase == main_base ? "/proc/self/exe" : info.dli_fname;
}

// The load base of the host (this library): its frames are never the extension's.
void *host_base()
{
    static void *base = [] {
        Dl_info self;
        return dladdr(reinterpret_cast<void *>(&host_base), &self) ? self.dli_fbase : nullptr;
    }();
    return base;
}

// The load base of the object whose backtrace() the host calls: libc, or a sanitizer runtime that
// intercepts it (under ASan its own frames come first in what backtrace() returns). Never the extension.
void *unwinder_base()
{
    static void *base = [] {
        Dl_info info;
        return dladdr(reinterpret_cast<void *>(&backtrace), &info) ? info.dli_fbase : nullptr;
    }();
    return base;
}

const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// A function of the HPy API compiled into the extension, by its name: the inline functions of the
// headers (HPy_Dup, HPyLong_FromLong...) and the helpers (HPyArg_Parse, HPy_BuildValue...).
bool is_api_function(const std::string &function)
{
    return function.rfind("HPy", 0) == 0 || function.rfind("_HPy", 0) == 0;
}

// The chain of functions at `pc` (innermost first), through symbolize() or dladdr, without the
// inline functions of HPy's headers that the extension's function called.
std::vector<std::string> functions_at(const void *pc, bool entry, Dl_info *info)
{
    info->dli_fname = nullptr;
    if (!dladdr(pc, info) || info->dli_fname == nullptr)
        return {};
    auto offset =
        static_cast<unsigned long>(static_cast<const char *>(pc) - static_cast<char *>(info->dli_fbase));
    std::vector<std::string> chain = symbolize(object_file(*info), entry ? offset : offset - 1);
    if (chain.empty() && info->dli_sname != nullptr)
        chain.push_back(info->dli_sname);
    while (chain.size() > 1 && is_api_function(chain.front()))
        chain.erase(chain.begin());
    return chain;
}

std::string format_location(const std::vector<std::string> &chain)
{
    std::string out = chain.front();
    if (chain.size() > 1)  // inlined: the innermost function is where the call is; name its frame's too
        out += ", inlined in " + chain.back().substr(0, chain.back().find(' '));
    return out;
}

// Where the extension made the API call that is being reported: the first frame of this thread's
// stack outside the host or, when the extension's frames there include a function of the HPy API
// (HPyArg_Parse, HPy_BuildValue, the headers' inline functions when not inlined), the frame that called
// the outermost of them ("" when the call did not come from an extension). `function`: the API
// function reported, not named again as the helper passed through.
std::string calling_location(const char *function)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    int first = 0;
    Dl_info info{};
    for (; first < n; ++first) {
        if (dladdr(frames[first], &info) && info.dli_fname != nullptr && info.dli_fbase != host_base() &&
            info.dli_fbase != unwinder_base())
            break;
    }
    if (first == n || strcmp(object_file(info), "/proc/self/exe") == 0 ||
        strncmp(base_name(info.dli_fname), "libpython", 9) == 0)
        return "";  // the interpreter: no extension made this call
    // The extension's frames up to the first that is not (the host's dispatch called its function).
    void *base = info.dli_fbase;
    std::vector<std::vector<std::string>> run;
    for (int i = first; i < n && run.size() < 16; ++i) {
        Dl_info frame{};
        if (!dladdr(frames[i], &frame) || frame.dli_fbase != base)
            break;
        run.push_back(functions_at(frames[i], false, &frame));
    }
    size_t user = 0;
    std::string through;
    for (size_t i = 0; i < run.size(); ++i) {
        if (!run[i].empty() && is_api_function(run[i].back())) {
            user = i + 1 < run.size() ? i + 1 : i;
            through = run[i].back().substr(0, run[i].back().find(' '));
        }
    }
    if (run[user].empty())
        return code_location(frames[first + static_cast<int>(user)]);
    std::string here = format_location(run[user]);
    return through.empty() || through == function || user == 0 ? here : here + " (through " + through + ")";
}

// The implementation function whose return is reported, and where its code starts (FILE:LINE of its
// first instruction, "" when unknown). Only the function's address is known at the return: not which
// of its return statements ran (that would need the module's code instrumented), so a report names the
// function and never claims a line for the return itself.
struct ReturnPlace {
    std::string function, start;
};

ReturnPlace returning_function(const void *impl)
{
    std::string text = code_location(impl, true);
    ReturnPlace r;
    size_t inlined = text.find(", inlined in ");
    size_t at = text.find(" at ");
    if (at == std::string::npos || (inlined != std::string::npos && at > inlined)) {
        r.function = inlined == std::string::npos ? text : text.substr(inlined + 13);
        return r;  // no line table: the name alone (or the address when nothing names it)
    }
    // A first instruction from a function inlined at the top of the implementation: its frame is the
    // implementation, and the line is still where the implementation's code starts.
    r.function = inlined == std::string::npos ? text.substr(0, at) : text.substr(inlined + 13);
    r.start = text.substr(at + 4, inlined == std::string::npos ? std::string::npos : inlined - at - 4);
    return r;
}

}  // namespace

std::string code_location(const void *pc, bool entry)
{
    if (pc == nullptr)
        return "";
    Dl_info info;
    std::vector<std::string> chain = functions_at(pc, entry, &info);
    if (chain.empty()) {
        char text[64];
        snprintf(text, sizeof text, "%p", pc);
        return info.dli_fname ? std::string(text) + " in " + base_name(info.dli_fname) : std::string(text);
    }
    return format_location(chain);
}

std::string describe_opened(const Handle *h)
{
    if (h == nullptr || h->opened_by == nullptr)
        return "";
    std::string where = code_location(h->opened_at);
    return std::string("opened by ") + h->opened_by + (where.empty() ? "" : " in " + where);
}

std::string describe_object(const Handle *h)
{
    if (h == nullptr)
        return "";
    if (h->state == HandleState::Open) {
        PyObject *o = _h2py(h->uh);
        return describe_open(Py_TYPE(o)->tp_name, python_repr(o));
    }
    return describe_closed(h->closed_type, h->closed_by, code_location(h->closed_at, h->closed_at_entry));
}

std::string describe_frames(const std::vector<void *> *frames, const char *header)
{
    if (frames == nullptr || frames->empty())
        return "";
    std::string out = header;
    for (void *pc : *frames) {
        Dl_info info;
        char line[512];
        if (dladdr(pc, &info) && info.dli_fname && info.dli_fbase == host_base())
            continue;  // the host's own frames
        if (dladdr(pc, &info) && info.dli_fname) {
            const char *file = base_name(info.dli_fname);
            if (info.dli_sname)
                snprintf(
                    line, sizeof line, "    %s(%s+0x%lx) [%p]\n", file, info.dli_sname,
                    static_cast<unsigned long>(static_cast<char *>(pc) - static_cast<char *>(info.dli_saddr)),
                    pc);
            else
                snprintf(
                    line, sizeof line, "    %s(%s) [+0x%lx] [%p]\n", file,
                    static_symbol(object_file(info),
                                  static_cast<char *>(pc) - static_cast<char *>(info.dli_fbase))
                        .c_str(),
                    static_cast<unsigned long>(static_cast<char *>(pc) - static_cast<char *>(info.dli_fbase)),
                    pc);
        } else {
            snprintf(line, sizeof line, "    [%p]\n", pc);
        }
        out += line;
    }
    return out;
}

std::string describe_stack(const Handle *h, const char *header)
{
    return h == nullptr ? "" : describe_frames(h->stack.get(), header);
}

Sink report(const char *check, const char *function, const Handle *h, const std::string &detail,
            const char *hpy_line, Where where)
{
    threads::add(&g_report_count, 1);
    if (hpy_line == nullptr)
        hpy_line = hpy_text(check);
    std::string stack = describe_stack(h);
    std::string location, place;
    if (where.returned_by != nullptr) {
        ReturnPlace r = returning_function(where.returned_by);
        location = r.function;
        if (!location.empty())
            place = "returned by " + location +
                    (r.start.empty() ? ""
                                     : " (its code starts at " + r.start +
                                           "; the line of the return statement is not known)");
    } else {
        location = calling_location(function);
        if (!location.empty())
            place = "called from " + location;
    }
    std::string opened = describe_opened(h);
    if (!opened.empty())
        place += (place.empty() ? "" : "\n") + opened;
    std::string message = format_report(check, function, detail, describe_object(h), stack, place);
    Hooks hooks;
    hooks.on_invalid_handle = g_on_invalid_handle != nullptr;
    hooks.on_invalid_builder = g_on_invalid_builder != nullptr;
    hooks.on_report = g_on_report != nullptr;
    hooks.pending = has_pending();
    Sink sink = route_report(check, g_settings.reaction, hooks, hpy_line != nullptr);
    if (sink == Sink::Fatal) {
        // HPy 0.9's fatal error: its line first, then what unihpy knows, then the Python stack.
        std::string text = std::string(hpy_line) + "\nhpy.debug: " + message;
        Py_FatalError(text.c_str());
    }
    if (sink == Sink::Abort || g_error_type == nullptr)
        abort_with_report(message, hpy_line);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *text = PyUnicode_FromString(message.c_str());
    PyObject *exc = text != nullptr ? PyObject_CallOneArg(g_error_type, text) : nullptr;
    Py_XDECREF(text);
    if (exc != nullptr) {
        PyObject *type_name =
            h == nullptr ? Py_NewRef(Py_None)
            : h->state == HandleState::Open
                ? PyUnicode_FromString(Py_TYPE(_h2py(h->uh))->tp_name)
                : (h->closed_type ? PyUnicode_FromString(h->closed_type) : Py_NewRef(Py_None));
        PyObject *repr = h != nullptr && h->state == HandleState::Open
                             ? PyUnicode_FromString(bounded(python_repr(_h2py(h->uh))).c_str())
                             : Py_NewRef(Py_None);
        PyObject *attrs[][2] = {
            {PyUnicode_FromString("check"), PyUnicode_FromString(check)},
            {PyUnicode_FromString("function"), PyUnicode_FromString(function)},
            {PyUnicode_FromString("obj_type"), type_name},
            {PyUnicode_FromString("obj_repr"), repr},
            {PyUnicode_FromString("handle_id"),
             h ? PyLong_FromUnsignedLongLong(reinterpret_cast<uintptr_t>(h)) : Py_NewRef(Py_None)},
            {PyUnicode_FromString("stack"), PyUnicode_FromString(stack.c_str())},
            {PyUnicode_FromString("location"),
             location.empty() ? Py_NewRef(Py_None) : PyUnicode_FromString(location.c_str())}};
        for (auto &kv : attrs) {
            if (kv[0] && kv[1])
                PyObject_SetAttr(exc, kv[0], kv[1]);
            Py_XDECREF(kv[0]);
            Py_XDECREF(kv[1]);
        }
        PyErr_Clear();
        if (g_recent != nullptr) {
            if (PyList_GET_SIZE(g_recent) >= kRecentMax)
                PySequence_DelItem(g_recent, 0);
            PyList_Append(g_recent, exc);
        }
        if (sink == Sink::HandleHook) {
            call_hook(g_on_invalid_handle, nullptr);
        } else if (sink == Sink::BuilderHook) {
            call_hook(g_on_invalid_builder, nullptr);
        } else if (sink == Sink::UserHook) {
            call_hook(g_on_report, exc);
        } else if (sink == Sink::Pending) {
            set_pending(exc, message);
            exc = nullptr;
        } else if (sink == Sink::Recorded) {
            note_recorded(message);
        }
        Py_XDECREF(exc);
    }
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    return sink;
}

void report_error(const char *check, const char *function, const Handle *h, const std::string &detail,
                  const char *hpy_line, Where where)
{
    report(check, function, h, detail, hpy_line, where);
    if (!PyErr_Occurred()) {
        std::string message = format_report(check, function, detail, "", "");
        PyErr_SetString(g_error_type ? g_error_type : PyExc_SystemError, message.c_str());
    }
}

bool raise_pending_now()
{
    PyObject *exc = take_pending();
    if (exc == nullptr)
        return false;
    PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exc)), exc);
    Py_DECREF(exc);
    return true;
}

// ---------------------------------------------------------------- state for the Python API

namespace detail {
PyObject *&error_type()
{
    return g_error_type;
}
PyObject *&on_report()
{
    return g_on_report;
}
PyObject *&on_invalid_handle()
{
    return g_on_invalid_handle;
}
PyObject *&on_invalid_builder()
{
    return g_on_invalid_builder;
}
PyObject *&recent_reports()
{
    return g_recent;
}
uint64_t report_count()
{
    return threads::load(&g_report_count);
}
}  // namespace detail

}  // namespace hpy::debug

namespace hpy::debug {
namespace {

// The end of a fast path: the result as the trampoline's block wants it (the returned handle's object, or
// the value), or the failure value when a report is pending.
template <typename R>
[[gnu::always_inline]] inline auto call_result(R r, const void *impl, Handle *const *handles, size_t n,
                                               Frame f)
{
    if constexpr (std::is_same_v<R, HPy>) {
        PyObject *o = take_result(r, impl);
        for (size_t i = 0; i < n; ++i)
            if (handles[i] != nullptr)
                close_arg(handles[i], impl);
        leave_call(f);
        if (__builtin_expect(raise_pending(), 0)) {
            Py_XDECREF(o);
            return static_cast<PyObject *>(nullptr);
        }
        return o;
    } else {
        for (size_t i = 0; i < n; ++i)
            if (handles[i] != nullptr)
                close_arg(handles[i], impl);
        leave_call(f);
        return __builtin_expect(raise_pending(), 0) ? error_value<R>() : r;
    }
}

// A call of `impl` whose arguments are the N objects `objs` (NULL: HPy_NULL), self first:
// `body(ctx, handles)` calls it. The same steps as Call's, with every value in a register.
template <size_t N, typename Body>
[[gnu::always_inline]] inline auto fast_call(const void *impl, const std::array<PyObject *, N> &objs,
                                             Body body)
{
    Frame f = enter_call();
    Handle *h[N];
    HPy v[N];
#pragma GCC unroll 4
    for (size_t i = 0; i < N; ++i) {
        h[i] = objs[i] != nullptr ? open_arg(objs[i]) : nullptr;
        v[i] = h[i] != nullptr ? encode(h[i]) : HPy{0};
    }
    return call_result(body(&f.cc->ctx, v), impl, h, N, f);
}

// The same for a call whose arguments are self, K objects of an array and, with Last, one more
// (kwnames): `body(ctx, self, items, last)` calls it.
template <size_t K, bool Last, typename Body>
[[gnu::always_inline]] inline PyObject *fast_items(const void *impl, PyObject *self, PyObject *const *items,
                                                   PyObject *last, Body body)
{
    constexpr size_t N = K + 1 + (Last ? 1 : 0);
    std::array<PyObject *, N> objs;
    objs[0] = self;
    for (size_t i = 0; i < K; ++i)
        objs[i + 1] = items[i];
    if constexpr (Last)
        objs[K + 1] = last;
    return fast_call<N>(impl, objs, [&](HPyContext *ctx, const HPy *h) {
        return body(ctx, h[0], h + 1, Last ? h[N - 1] : HPy{0});
    });
}

// f(K) for the K == n, n <= Max (K a compile-time constant: the fast paths of array calls unrolled).
constexpr size_t kMaxItems = 4;
template <size_t K, size_t Max, typename F>
[[gnu::always_inline]] inline auto with_count(size_t n, F f)
{
    if constexpr (K == Max)
        return f(std::integral_constant<size_t, K>{});
    else
        return n == K ? f(std::integral_constant<size_t, K>{}) : with_count<K + 1, Max>(n, f);
}

}  // namespace
}  // namespace hpy::debug

// The host's call of an implementation function: the most frequent signatures (calls, attributes, items)
// take a fast path of their own; every signature, those included, behaves as Call makes it.
extern "C" void debug_ctx_CallRealFunctionFromTrampoline(HPyContext *, HPyFunc_Signature sig,
                                                         HPyCFunction func, void *args)
{
    using namespace hpy::debug;
    const void *impl = reinterpret_cast<const void *>(func);
    // The fast path of the signature SIG, whose block (type A) holds the objects OBJS (self first) and
    // whose implementation (type F) takes their handles (h[i]) and block fields as ARGS says.
#define HPY_DEBUG_FAST(SIG, A, F, N, OBJS, ...)                                                             \
    case SIG: {                                                                                             \
        auto *a = static_cast<A *>(args);                                                                   \
        a->result = fast_call<N>(impl, std::array<PyObject *, N> OBJS, [&](HPyContext *ctx, const HPy *h) { \
            return reinterpret_cast<F>(func)(ctx, __VA_ARGS__);                                             \
        });                                                                                                 \
        return;                                                                                             \
    }
    switch (sig) {
        HPY_DEBUG_FAST(HPyFunc_NOARGS, _HPyFunc_args_NOARGS, HPyFunc_noargs, 1, {a->self}, h[0])
        HPY_DEBUG_FAST(HPyFunc_O, _HPyFunc_args_O, HPyFunc_o, 2, ({a->self, a->arg}), h[0], h[1])
        HPY_DEBUG_FAST(HPyFunc_BINARYFUNC, _HPyFunc_args_BINARYFUNC, HPyFunc_binaryfunc, 2,
                       ({a->arg0, a->arg1}), h[0], h[1])
        HPY_DEBUG_FAST(HPyFunc_LENFUNC, _HPyFunc_args_LENFUNC, HPyFunc_lenfunc, 1, {a->arg0}, h[0])
        HPY_DEBUG_FAST(HPyFunc_SSIZEARGFUNC, _HPyFunc_args_SSIZEARGFUNC, HPyFunc_ssizeargfunc, 1, {a->arg0},
                       h[0], a->arg1)
        HPY_DEBUG_FAST(HPyFunc_GETTER, _HPyFunc_args_GETTER, HPyFunc_getter, 1, {a->arg0}, h[0], a->arg1)
        HPY_DEBUG_FAST(HPyFunc_SETTER, _HPyFunc_args_SETTER, HPyFunc_setter, 2, ({a->arg0, a->arg1}), h[0],
                       h[1], a->arg2)
#undef HPY_DEBUG_FAST
    case HPyFunc_VARARGS: {
        auto *a = static_cast<_HPyFunc_args_VARARGS *>(args);
        auto n = static_cast<size_t>(a->nargs);
        if (n > kMaxItems)
            break;
        a->result = with_count<0, kMaxItems>(n, [&](auto k) {
            return fast_items<k, false>(impl, a->self, a->args, nullptr,
                                        [&](HPyContext *ctx, HPy self, const HPy *h, HPy) {
                                            return reinterpret_cast<HPyFunc_varargs>(func)(ctx, self, h, n);
                                        });
        });
        return;
    }
    case HPyFunc_KEYWORDS: {
        auto *a = static_cast<_HPyFunc_args_KEYWORDS *>(args);
        auto n = static_cast<size_t>(PyVectorcall_NARGS(a->nargsf));
        size_t all = n + (a->kwnames ? static_cast<size_t>(PyTuple_GET_SIZE(a->kwnames)) : 0);
        if (all > kMaxItems)
            break;
        a->result = with_count<0, kMaxItems>(all, [&](auto k) {
            return fast_items<k, true>(impl, a->self, a->args, a->kwnames,
                                       [&](HPyContext *ctx, HPy self, const HPy *h, HPy kwnames) {
                                           return reinterpret_cast<HPyFunc_keywords>(func)(ctx, self, h, n,
                                                                                           kwnames);
                                       });
        });
        return;
    }
    default:
        break;
    }
    Call call;
    call.set_function(impl);
    hpy::dispatch::call(call, sig, func, args);
}
