// debug/debug_context.cpp: debug handles, per-call contexts, reports, and protected raw data.
#include "debug/debug_context.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace hpy::debug {
namespace {

constexpr uint32_t kChunkBits = 12;
constexpr uint32_t kChunkSize = 1u << kChunkBits;

struct State {
    HPyContext *uctx = nullptr;
    HPyContext dctx{};  // handed to HPyInitGlobalContext_
    CallInfo global_info;
    std::vector<std::unique_ptr<Handle[]>> chunks;
    uint32_t count = 0;  // slots in use or ever used
    Handle *free_list = nullptr;
    HandleList open, closed;
    uint64_t generation = 0;
    uint64_t next_id = 1;
    size_t protected_total = 0;
    Settings settings;
};

// Lives as long as the process: modules may call into the context until the very end, and the
// objects of handles left open stay reachable from it (a leak checker reports them otherwise).
State &g = *new State;

// Per thread: the calls in progress and the context copies they use.
struct CallContext {
    HPyContext ctx;
    CallInfo info;
};
struct ThreadCalls {
    int depth = 0;
    // Two contexts per depth, used in turn: a context kept from one call is invalid in the next.
    std::vector<std::array<std::unique_ptr<CallContext>, 2>> pool;
    std::vector<uint8_t> turn;
};
thread_local ThreadCalls t_calls;

Handle &slot(uint32_t index)
{
    return g.chunks[index >> kChunkBits][index & (kChunkSize - 1)];
}

Handle *new_slot()
{
    if (g.free_list != nullptr) {
        Handle *h = g.free_list;
        g.free_list = h->next;
        h->next = nullptr;
        ++h->reuse;
        return h;
    }
    if ((g.count & (kChunkSize - 1)) == 0)
        g.chunks.emplace_back(new Handle[kChunkSize]);
    Handle *h = &slot(g.count);
    h->index = g.count++;
    return h;
}

void forget_region(Handle *h);

void release_raw(Handle *h)
{
    if (h->raw.base != nullptr) {
        forget_region(h);
        munmap(h->raw.base, h->raw.mapped);
        if (h->raw.inaccessible)  // not every closed handle's copy: one still referenced stays readable
            g.protected_total -= h->raw.mapped;
        h->raw = RawData{};
    }
}

void free_slot(Handle *h)
{
    release_raw(h);
    h->state = HandleState::Free;
    h->stack.reset();
    h->next = g.free_list;
    h->prev = nullptr;
    g.free_list = h;
}

// ---------------------------------------------------------------- faults in protected pages

// A snapshot the SIGSEGV handler can read: which pages belong to which closed handle.
struct FaultRegion {
    uintptr_t begin, end;
    uint64_t id;
    const char *function;
    bool closed;
};
constexpr size_t kFaultRegions = 4096;
FaultRegion g_regions[kFaultRegions];
struct sigaction g_old_segv;
bool g_handler_installed = false;

void write_str(const char *s)
{
    (void)!write(2, s, strlen(s));
}

void write_num(uint64_t v)
{
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    write_str(buf + i);
}

void on_segv(int sig, siginfo_t *info, void *uctx)
{
    auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
    bool is_write = false;
#if defined(__x86_64__) && defined(REG_ERR)
    is_write = (static_cast<ucontext_t *>(uctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#else
    (void)uctx;
#endif
    for (const FaultRegion &r : g_regions) {
        if (r.begin <= addr && addr < r.end) {
            write_str("hpy.debug: ");
            if (r.closed) {
                write_str(is_write ? "raw-data-after-close: a write into"
                                   : "raw-data-after-close: a read of");
                write_str(" the raw data returned by ");
                write_str(r.function);
                write_str(" for a handle (id ");
                write_num(r.id);
                write_str(") that is closed\n");
            } else {
                write_str("read-only-raw-data: a write into the read-only data returned by ");
                write_str(r.function);
                write_str(" (handle id ");
                write_num(r.id);
                write_str(")\n");
            }
            break;
        }
    }
    sigaction(SIGSEGV, &g_old_segv, nullptr);
    raise(sig);
}

void install_fault_handler()
{
    if (g_handler_installed)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &g_old_segv) == 0)
        g_handler_installed = true;
}

// The table's free entries, as a stack of indexes: noting and forgetting a region costs O(1) (a scan
// of the table per handle made every call with raw data slow once the table filled up).
std::vector<int32_t> g_free_regions;
bool g_regions_ready = false;

void note_region(Handle *h, bool closed)
{
    if (!g_regions_ready) {
        g_free_regions.reserve(kFaultRegions);
        for (size_t i = kFaultRegions; i > 0; --i)
            g_free_regions.push_back(static_cast<int32_t>(i - 1));
        g_regions_ready = true;
    }
    if (h->raw.region < 0) {
        if (g_free_regions.empty())
            return;  // the table is full: a fault there is reported as a plain SIGSEGV
        h->raw.region = g_free_regions.back();
        g_free_regions.pop_back();
    }
    auto begin = reinterpret_cast<uintptr_t>(h->raw.base);
    g_regions[h->raw.region] = FaultRegion{begin, begin + h->raw.mapped, h->id, h->raw.function, closed};
}

void forget_region(Handle *h)
{
    if (h->raw.region < 0)
        return;
    g_regions[h->raw.region] = FaultRegion{0, 0, 0, nullptr, false};
    g_free_regions.push_back(h->raw.region);
    h->raw.region = -1;
}

// ---------------------------------------------------------------- reports

PyObject *g_error_type = nullptr;  // hpy.debug.HPyDebugError
PyObject *g_pending = nullptr;     // the first unraised report
PyObject *g_on_report = nullptr;   // settings().reaction == Hook
PyObject *g_on_invalid_handle = nullptr;
PyObject *g_on_invalid_builder = nullptr;
PyObject *g_recent = nullptr;  // a list of the last reports
uint64_t g_report_count = 0;
constexpr Py_ssize_t kRecentMax = 64;

bool is_handle_check(const char *check)
{
    return !strcmp(check, "invalid-handle") || !strcmp(check, "use-after-close") ||
           !strcmp(check, "double-close");
}

void call_hook(PyObject *hook, PyObject *arg)
{
    PyObject *r = arg ? PyObject_CallOneArg(hook, arg) : PyObject_CallNoArgs(hook);
    if (r == nullptr)
        PyErr_WriteUnraisable(hook);
    Py_XDECREF(r);
}

std::string bounded_repr(PyObject *o)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    std::string text;
    PyObject *r = PyObject_Repr(o);
    const char *s = r ? PyUnicode_AsUTF8(r) : nullptr;
    if (s != nullptr) {
        text = s;
        if (text.size() > 80)
            text = text.substr(0, 77) + "...";
    } else {
        text = "<repr failed>";
        PyErr_Clear();
    }
    Py_XDECREF(r);
    PyErr_Restore(type, value, tb);
    return text;
}

}  // namespace

// ---------------------------------------------------------------- lists

void HandleList::push_back(Handle *h)
{
    h->prev = tail;
    h->next = nullptr;
    (tail ? tail->next : head) = h;
    tail = h;
    ++size;
}

void HandleList::remove(Handle *h)
{
    (h->prev ? h->prev->next : head) = h->next;
    (h->next ? h->next->prev : tail) = h->prev;
    h->prev = h->next = nullptr;
    --size;
}

Handle *HandleList::pop_front()
{
    Handle *h = head;
    if (h != nullptr)
        remove(h);
    return h;
}

// ---------------------------------------------------------------- handles

Found lookup(HPy h)
{
    auto v = static_cast<uint64_t>(h._i);
    if (v == 0)
        return {Lookup::Null, nullptr};
    if ((v & 1) == 0 || (v >> 21) >= g.count)
        return {Lookup::Invalid, nullptr};
    Handle *s = &slot(static_cast<uint32_t>(v >> 21));
    if (((v >> 1) & 0xFFFFFu) != (s->reuse & 0xFFFFFu))
        return {Lookup::Stale, s};
    if (s->state == HandleState::Open)
        return {Lookup::Open, s};
    return {s->state == HandleState::Closed ? Lookup::Closed : Lookup::Stale, s};
}

Handle *open_handle(HPy uh, bool owns, bool is_arg)
{
    Handle *h = new_slot();
    h->uh = uh;
    h->id = g.next_id++;
    h->generation = g.generation;
    h->state = HandleState::Open;
    h->owns = owns;
    h->is_arg = is_arg;
    h->const_name = nullptr;
    h->closed_by = nullptr;
    g.open.push_back(h);
    if (g.settings.stack_limit > 0) {
        std::vector<void *> frames(static_cast<size_t>(g.settings.stack_limit) + 2);
        int n = backtrace(frames.data(), static_cast<int>(frames.size()));
        frames.resize(n > 2 ? static_cast<size_t>(n) : 0);
        if (n > 2)
            frames.erase(frames.begin(), frames.begin() + 2);  // this function and the wrapper
        h->stack = std::make_unique<std::vector<void *>>(std::move(frames));
    } else if (h->stack) {
        h->stack.reset();
    }
    return h;
}

HPy constant_handle(HPy uh, const char *name)
{
    Handle *h = new_slot();
    h->uh = uh;
    h->id = g.next_id++;
    h->state = HandleState::Open;  // open for ever, and in no list: never a leak
    h->const_name = name;
    return encode(h);
}

void trim_closed_queue()
{
    while (g.closed.size > g.settings.closed_queue_max) {
        free_slot(g.closed.pop_front());
    }
    // Protected pages of closed handles are bounded too: the oldest go first, the slot stays queued.
    for (Handle *h = g.closed.head; h != nullptr && g.protected_total > g.settings.protected_raw_data_max;
         h = h->next) {
        if (h->raw.base != nullptr)
            release_raw(h);
    }
}

void close_handle(Handle *h, const char *function, bool close_universal)
{
    g.open.remove(h);
    h->state = HandleState::Closed;
    h->closed_by = function;
    h->is_arg = false;
    if (h->owns || h->raw.base != nullptr) {
        PyObject *o = _h2py(h->uh);
        // A bounded copy on every close of an owned handle: no printf machinery on this path.
        const char *name = Py_TYPE(o)->tp_name;
        size_t n = strnlen(name, sizeof h->closed_type - 1);
        memcpy(h->closed_type, name, n);
        h->closed_type[n] = 0;
    } else {
        h->closed_type[0] = 0;
    }
    // The copy becomes inaccessible when the data's owner is gone for the program: an argument at the
    // end of its call, or an object this handle held the last reference to. An object still referenced
    // elsewhere (a dict value the argument parser read) keeps its copy readable until the slot is reused.
    bool last_reference = h->owns && Py_REFCNT(_h2py(h->uh)) <= 1;
    if (h->raw.base != nullptr && (!h->owns || last_reference)) {
        mprotect(h->raw.base, h->raw.mapped, PROT_NONE);
        h->raw.inaccessible = true;
        g.protected_total += h->raw.mapped;
        note_region(h, true);
    }
    HPy uh = h->uh;
    bool owns = h->owns;
    g.closed.push_back(h);
    trim_closed_queue();
    if (owns && close_universal)  // last: it may run destructors that call back into the context
        g.uctx->ctx_Close(g.uctx, uh);
}

const char *protect_raw_data(Handle *h, const char *data, size_t size, const char *function)
{
    if (h->raw.base != nullptr && h->raw.size == size && memcmp(h->raw.base, data, size) == 0)
        return h->raw.base;
    release_raw(h);
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t mapped = (size + page - 1) / page * page;
    if (mapped == 0)
        mapped = page;
    void *mem = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return data;  // no copy: the program still runs, unprotected
    memcpy(mem, data, size);
    mprotect(mem, mapped, PROT_READ);
    h->raw = RawData{static_cast<char *>(mem), mapped, size, function};
    install_fault_handler();
    note_region(h, false);
    return h->raw.base;
}

// ---------------------------------------------------------------- contexts

HPyContext *wrapped()
{
    return g.uctx;
}

HPyContext *context(HPyContext *uctx)
{
    if (g.uctx == nullptr) {
        g.uctx = uctx;
        g.dctx.name = "HPy Debug Mode ABI (unihpy, over the universal context)";
        g.dctx.abi_version = uctx->abi_version;
        g.global_info.global = true;
        g.dctx._private = &g.global_info;
        fill_debug_functions(&g.dctx);
        fill_debug_handles(&g.dctx, uctx);
    }
    return &g.dctx;
}

Settings &settings()
{
    return g.settings;
}
uint64_t new_generation()
{
    return ++g.generation;
}
uint64_t current_generation()
{
    return g.generation;
}
const HandleList &open_handles()
{
    return g.open;
}
const HandleList &closed_handles()
{
    return g.closed;
}

Call::Call()
{
    ThreadCalls &t = t_calls;
    size_t d = static_cast<size_t>(t.depth++);
    if (d >= t.pool.size()) {
        t.pool.emplace_back();
        t.turn.push_back(0);
    }
    uint8_t turn = t.turn[d] ^= 1;
    auto &cc = t.pool[d][turn];
    if (!cc) {
        cc = std::make_unique<CallContext>();
        memcpy(&cc->ctx, &g.dctx, sizeof(HPyContext));
        cc->ctx._private = &cc->info;
    }
    cc->info.valid = true;
    cc->info.thread = pthread_self();
    ctx_ = &cc->ctx;
    info_ = &cc->info;
}

Call::~Call()
{
    finish();
}

const HPy *Call::args(PyObject *const *a, size_t n)
{
    HPy *out = inline_array_;
    if (n > kInline) {
        array_.resize(n);
        out = array_.data();
    }
    for (size_t i = 0; i < n; ++i)
        out[i] = arg(a[i]);
    return out;
}

PyObject *Call::owned(HPy h)
{
    Found f = lookup(h);
    switch (f.what) {
    case Lookup::Null:
        return nullptr;
    case Lookup::Open:
        if (f.h->const_name != nullptr) {
            report("return-constant", "return", f.h,
                   std::string("the function returned the context constant ") + f.h->const_name +
                       " without HPy_Dup");
            PyObject *o = _h2py(f.h->uh);
            Py_INCREF(o);  // what HPy_Dup would have done: the program goes on correctly
            return o;
        }
        if (f.h->is_arg) {
            report("return-argument", "return", f.h,
                   "the function returned one of its arguments without HPy_Dup");
            PyObject *o = _h2py(f.h->uh);
            Py_INCREF(o);
            return o;
        }
        {
            PyObject *o = _h2py(f.h->uh);
            close_handle(f.h, "return", false);  // the reference goes to the caller
            return o;
        }
    case Lookup::Closed:
    case Lookup::Stale:
        report_error("return-closed", "return", f.h, "the function returned a handle that is already closed");
        return nullptr;
    case Lookup::Invalid:
        break;
    }
    report_error("invalid-handle", "return", nullptr,
                 "the function returned a value that is not a handle of this context");
    return nullptr;
}

void Call::finish()
{
    if (finished_)
        return;
    finished_ = true;
    auto end_arg = [](Handle *h) {
        if (h->state == HandleState::Open && h->is_arg)
            close_handle(h, "the end of the call", false);
    };
    for (size_t i = 0; i < nargs_; ++i)
        end_arg(inline_args_[i]);
    for (Handle *h : more_args_)
        end_arg(h);
    info_->valid = false;
    --t_calls.depth;
}

void Call::ret_void()
{
    finish();
    if (g_pending != nullptr && raise_pending())
        PyErr_WriteUnraisable(nullptr);
}

void Api::enter_slow(HPyContext *ctx, CallInfo *info, GilCheck gil)
{
    if (gil == CheckGil && !PyGILState_Check()) {
        gil_state_ = PyGILState_Ensure();  // for the report, and so the call itself is safe
        gil_taken_ = true;
        report("no-gil", function_, nullptr,
               "an HPy function was called by a thread that does not hold the GIL");
    }
    if (info->global && t_calls.depth == 0) {
        report("context-outside-call", function_, nullptr,
               "the module's global context was used while no call of the module is running");
    } else if (!info->global && !info->valid) {
        report("context-reused", function_, nullptr,
               "a context was used after the call it was given to had returned (contexts must not be kept)");
    } else if (!info->global && !pthread_equal(info->thread, pthread_self())) {
        report("context-other-thread", function_, nullptr,
               "a context was used by another thread than the one whose call it was given to");
    }
    (void)ctx;
}

void Api::bad_arg(Found f, const char *param)
{
    failed_ = true;
    std::string p = std::string("argument '") + param + "'";
    switch (f.what) {
    case Lookup::Closed:
        report_error("use-after-close", function_, f.h, p + " is a handle that was already closed");
        break;
    case Lookup::Stale:
        report_error("use-after-close", function_, nullptr,
                     p + " is a handle that was closed long ago (its slot has been reused)");
        break;
    default:
        report_error("invalid-handle", function_, nullptr,
                     p + " is not a handle of this context (never opened, or a universal handle)");
    }
}

Handle *Api::handle(HPy h, const char *param)
{
    Found f = lookup(h);
    if (f.what == Lookup::Open)
        return f.h;
    if (f.what == Lookup::Null) {
        failed_ = true;
        report_error("invalid-handle", function_, nullptr,
                     std::string("argument '") + param + "' is HPy_NULL");
        return nullptr;
    }
    bad_arg(f, param);
    return nullptr;
}

void Api::require_type(HPy uh, const char *param)
{
    if (failed_ || uh._i == 0)
        return;
    PyObject *o = _h2py(uh);
    if (!PyType_Check(o)) {
        failed_ = true;
        Handle fake;
        fake.uh = uh;
        fake.state = HandleState::Open;
        report_error("not-a-type", function_, &fake, std::string("argument '") + param + "' must be a type");
    }
}

// ---------------------------------------------------------------- reports

std::string describe_object(const Handle *h)
{
    if (h == nullptr)
        return "";
    if (h->state == HandleState::Open) {
        PyObject *o = _h2py(h->uh);
        return std::string("a '") + Py_TYPE(o)->tp_name + "' object: " + bounded_repr(o);
    }
    std::string s =
        h->closed_type[0] ? std::string("a '") + h->closed_type + "' object" : std::string("an object");
    if (h->closed_by != nullptr)
        s += std::string(", closed by ") + h->closed_by;
    return s;
}

// The name of a static function (which dladdr cannot see) from the file's symbol table, through
// addr2line when it is installed; "" otherwise. Only reports pay for it.
std::string static_symbol(const char *file, long offset)
{
    static std::unordered_map<std::string, std::string> cache;
    std::string key = std::string(file) + "@" + std::to_string(offset);
    auto it = cache.find(key);
    if (it != cache.end())
        return it->second;
    std::string name;
    std::string cmd = "addr2line -f -i -e '" + std::string(file) + "' 0x" + [&] {
        char buf[32];
        snprintf(buf, sizeof buf, "%lx", offset - 1);  // the call instruction, not the return address
        return std::string(buf);
    }() + " 2>/dev/null";
    if (strchr(file, '\'') == nullptr) {
        if (FILE *p = popen(cmd.c_str(), "r")) {
            // -i: the chain of inlined functions, innermost first; the last one is the real frame.
            // Lines come in pairs: function, then file:line (with -g).
            char buf[512];
            std::string fn;
            for (int line_no = 0; fgets(buf, sizeof buf, p) != nullptr; ++line_no) {
                std::string text = buf;
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
                    text.pop_back();
                if (line_no % 2 == 0) {
                    fn = text;
                } else if (fn != "??") {
                    const char *base = strrchr(text.c_str(), '/');
                    std::string where = base ? base + 1 : text;
                    name = where.rfind("??", 0) == 0 ? fn : fn + " at " + where;
                }
            }
            pclose(p);
        }
    }
    return cache[key] = name;
}

std::string describe_stack(const Handle *h)
{
    if (h == nullptr || !h->stack || h->stack->empty())
        return "";
    std::string out = "opened at:\n";
    Dl_info self;
    dladdr(reinterpret_cast<void *>(&describe_stack), &self);
    for (void *pc : *h->stack) {
        Dl_info info;
        char line[512];
        if (dladdr(pc, &info) && info.dli_fname && info.dli_fbase == self.dli_fbase)
            continue;  // the host's own frames
        if (dladdr(pc, &info) && info.dli_fname) {
            const char *file = strrchr(info.dli_fname, '/');
            file = file ? file + 1 : info.dli_fname;
            if (info.dli_sname)
                snprintf(
                    line, sizeof line, "    %s(%s+0x%lx) [%p]\n", file, info.dli_sname,
                    static_cast<unsigned long>(static_cast<char *>(pc) - static_cast<char *>(info.dli_saddr)),
                    pc);
            else
                snprintf(
                    line, sizeof line, "    %s(%s) [+0x%lx] [%p]\n", file,
                    static_symbol(info.dli_fname,
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

void report(const char *check, const char *function, const Handle *h, const std::string &detail)
{
    ++g_report_count;
    std::string object = describe_object(h);
    std::string message = std::string("[") + check + "] " + function + ": " + detail;
    if (!object.empty())
        message += " (" + object + ")";
    std::string stack = describe_stack(h);
    if (!stack.empty())
        message += "\n" + stack;
    if (g.settings.reaction == Settings::Reaction::Abort || g_error_type == nullptr) {
        fprintf(stderr, "hpy.debug: %s\n", message.c_str());
        fflush(stderr);
        abort();
    }
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
                : (h->closed_type[0] ? PyUnicode_FromString(h->closed_type) : Py_NewRef(Py_None));
        PyObject *repr = h != nullptr && h->state == HandleState::Open
                             ? PyUnicode_FromString(bounded_repr(_h2py(h->uh)).c_str())
                             : Py_NewRef(Py_None);
        PyObject *attrs[][2] = {
            {PyUnicode_FromString("check"), PyUnicode_FromString(check)},
            {PyUnicode_FromString("function"), PyUnicode_FromString(function)},
            {PyUnicode_FromString("obj_type"), type_name},
            {PyUnicode_FromString("obj_repr"), repr},
            {PyUnicode_FromString("handle_id"), h ? PyLong_FromUnsignedLongLong(h->id) : Py_NewRef(Py_None)},
            {PyUnicode_FromString("stack"), PyUnicode_FromString(stack.c_str())}};
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
        PyObject *specific = is_handle_check(check)          ? g_on_invalid_handle
                             : !strncmp(check, "builder", 7) ? g_on_invalid_builder
                                                             : nullptr;
        if (specific != nullptr) {
            call_hook(specific, nullptr);
        } else if (g.settings.reaction == Settings::Reaction::Hook && g_on_report != nullptr) {
            call_hook(g_on_report, exc);
        } else if (g_pending == nullptr) {
            g_pending = exc;
            exc = nullptr;
        }
        Py_XDECREF(exc);
    }
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

void report_error(const char *check, const char *function, const Handle *h, const std::string &detail)
{
    report(check, function, h, detail);
    if (!PyErr_Occurred()) {
        std::string message = std::string("[") + check + "] " + function + ": " + detail;
        PyErr_SetString(g_error_type ? g_error_type : PyExc_SystemError, message.c_str());
    }
}

bool raise_pending()
{
    if (g_pending == nullptr)
        return false;
    PyObject *exc = g_pending;
    g_pending = nullptr;
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
    return g_report_count;
}
}  // namespace detail

}  // namespace hpy::debug

extern "C" void debug_ctx_CallRealFunctionFromTrampoline(HPyContext *, HPyFunc_Signature sig,
                                                         HPyCFunction func, void *args)
{
    hpy::debug::Call call;
    hpy::dispatch::call(call, sig, func, args);
}
