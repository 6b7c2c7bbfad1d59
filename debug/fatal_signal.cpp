// debug/fatal_signal.cpp: the fatal-signal handler of the debug context and the reports it prints.
#include "debug/fatal_signal.h"

#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "debug/handles.h"
#include "debug/symbols.h"

extern char **environ;

namespace hpy::debug {
namespace {

// The reports not shown yet: a fixed table the handler can read without taking a lock or allocating.
// A writer fills `text`, then publishes `key`; forgetting clears `key` first.
constexpr size_t kUnshownMax = 8;
constexpr size_t kTextMax = 4096;
struct Unshown {
    std::atomic<const void *> key{nullptr};
    std::atomic<unsigned long> order{0};  // when it was noted: the handler prints the oldest first
    char text[kTextMax];
};
Unshown g_unshown[kUnshownMax];
std::atomic<unsigned long> g_next_order{1};
std::mutex g_unshown_lock;  // between writers only

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr size_t kFaultSignals = 2;  // the first ones: a fault in raw data raises them
constexpr size_t kSignalCount = sizeof kSignals / sizeof kSignals[0];
struct sigaction g_previous[kSignalCount];
std::mutex g_install_lock;
volatile sig_atomic_t g_entered = 0;

void write_str(const char *s)
{
    (void)!write(2, s, strlen(s));
}

const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    default:
        return "SIGABRT";
    }
}

// The kept reports in the order they were noted; `emit` gets each text.
template <class Emit>
void each_unshown(Emit emit)
{
    unsigned long last = 0;
    for (;;) {  // a selection by order: at most kUnshownMax passes, no sorting buffer needed
        const Unshown *next = nullptr;
        unsigned long best = 0;
        for (const Unshown &u : g_unshown) {
            unsigned long order = u.order.load(std::memory_order_acquire);
            if (u.key.load(std::memory_order_acquire) != nullptr && order > last &&
                (next == nullptr || order < best)) {
                next = &u;
                best = order;
            }
        }
        if (next == nullptr)
            return;
        emit(next->text);
        last = best;
    }
}

void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
    if (g_entered) {
        // Back here through the handlers that ran after this one (faulthandler gives the signal to the
        // handler it replaced, which may be this one): it has said everything already.
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_entered = 1;
    if ((sig == SIGSEGV || sig == SIGBUS) && info->si_code > 0)  // a fault: si_addr is its address
        explain_fault(info, uctx);
    bool first = true;
    each_unshown([&](const char *text) {
        if (first) {
            write_str("hpy.debug: the process dies of ");
            write_str(signal_name(sig));
            write_str(
                " with reports of the debug context not raised yet (the crash may come from the invalid "
                "value a faulty call returned):\n");
            first = false;
        }
        write_str("hpy.debug: ");
        write_str(text);
        write_str("\n");
    });
    // The signal goes on to the handler that was there before, called as the kernel would have (a
    // runtime that handles faults itself sees the real one), or to the default action.
    const struct sigaction *previous = nullptr;
    for (size_t i = 0; i < kSignalCount; ++i) {
        if (kSignals[i] == sig)
            previous = &g_previous[i];
    }
    if (previous != nullptr && (previous->sa_flags & SA_SIGINFO) != 0 && previous->sa_sigaction != nullptr) {
        previous->sa_sigaction(sig, info, uctx);
        return;
    }
    if (previous != nullptr && previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
        previous->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
    if (info->si_code <= 0)  // sent by a process (abort(), kill): sent again; a fault recurs on return
        raise(sig);
}

// ---------------------------------------------------------------- code locations inside a handler
//
// Why fork and execve of addr2line: the function and the line of an instruction need the file's DWARF
// line table, which no signal-safe code here could read (it needs allocation and a real parser).
// addr2line reads it in a process of its own, and what the handler does to run it is on POSIX's
// async-signal-safe list or a plain system call: pipe, a raw clone (no atfork handlers run, no lock
// of libc is taken, unlike fork() in today's glibc), in the child dup2, open, close and execve of a path
// resolved before any signal (no PATH search, no allocation), in the parent poll, read, waitpid and
// kill. If the child cannot start, hangs or knows nothing, the handler falls back to a symbol table
// read before the signal, then to FILE+0xOFFSET alone (already printed): the report is never lost.

char g_addr2line[PATH_MAX];  // "" when not installed; written once, before any handler needs it
std::once_flag g_addr2line_once;

// Preloaded symbol tables of the extension modules, for processes without binutils: published entries
// are never changed nor freed, so the handler reads them without a lock.
constexpr size_t kPreloadMax = 64;
struct Preloaded {
    char path[PATH_MAX];
    const SymbolTable *table;
};
Preloaded g_preloaded[kPreloadMax];
std::atomic<size_t> g_preloaded_count{0};
std::mutex g_preload_lock;
unsigned long long g_loads_seen = 0;  // dl_iterate_phdr's count of objects loaded, at the last scan

void find_addr2line()
{
    const char *path = getenv("PATH");
    if (path == nullptr)
        return;
    while (*path != '\0') {
        const char *end = strchr(path, ':');
        size_t n = end ? static_cast<size_t>(end - path) : strlen(path);
        // An empty entry is the current directory: not a place to take a program from here.
        if (n > 0 && n + sizeof "/addr2line" < sizeof g_addr2line) {
            char candidate[PATH_MAX];
            memcpy(candidate, path, n);
            memcpy(candidate + n, "/addr2line", sizeof "/addr2line");
            if (candidate[0] == '/' && access(candidate, X_OK) == 0) {
                memcpy(g_addr2line, candidate, strlen(candidate) + 1);
                return;
            }
        }
        if (end == nullptr)
            break;
        path = end + 1;
    }
}

bool is_extension_module(const char *path)
{
    const char *slash = strrchr(path, '/');
    return strstr(slash ? slash + 1 : path, ".hpy0") != nullptr;
}

void preload_extension_symbols()
{
    std::lock_guard<std::mutex> guard(g_preload_lock);
    struct Scan {
        unsigned long long adds = 0;
        std::vector<std::string> paths;
    } scan;
    dl_iterate_phdr(
        [](struct dl_phdr_info *info, size_t size, void *data) {
            auto *scan = static_cast<Scan *>(data);
            if (scan->paths.empty() && scan->adds == 0) {
                scan->adds = size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds
                                 ? info->dlpi_adds
                                 : 0;
                if (scan->adds != 0 && scan->adds == g_loads_seen)
                    return 1;  // nothing loaded since the last scan
            }
            if (info->dlpi_name != nullptr && is_extension_module(info->dlpi_name))
                scan->paths.emplace_back(info->dlpi_name);
            return 0;
        },
        &scan);
    g_loads_seen = scan.adds;
    for (const std::string &path : scan.paths) {
        size_t count = g_preloaded_count.load(std::memory_order_acquire);
        bool known = path.size() >= PATH_MAX;
        for (size_t i = 0; i < count && !known; ++i)
            known = path == g_preloaded[i].path;
        if (known || count == kPreloadMax)
            continue;
        auto *table = new SymbolTable(SymbolTable::read(path));  // kept for the life of the process
        memcpy(g_preloaded[count].path, path.c_str(), path.size() + 1);
        g_preloaded[count].table = table;
        g_preloaded_count.store(count + 1, std::memory_order_release);
    }
}

void write_hex_to(char *out, uintptr_t v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    *out++ = '0';
    *out++ = 'x';
    while (n > 0)
        *out++ = digits[--n];
    *out = '\0';
}

// Milliseconds of CLOCK_MONOTONIC (clock_gettime is async-signal-safe).
long long now_ms()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// addr2line's output for `offset` in `path` into `out` (NUL-terminated, cut at `cap`); its length, or -1.
long run_addr2line(const char *path, uintptr_t offset, char *out, size_t cap)
{
    int fds[2];
    if (g_addr2line[0] == '\0' || pipe(fds) != 0)
        return -1;
    char address[24];
    write_hex_to(address, offset);
    char prog[] = "addr2line", functions[] = "-f", demangle[] = "-C", inlines[] = "-i", exe[] = "-e";
    char *argv[] = {prog, functions, demangle, inlines, exe, const_cast<char *>(path), address, nullptr};
    // A fork without atfork handlers: flags, then a null stack (the child runs on a copy of this one).
    long pid = syscall(SYS_clone, static_cast<unsigned long>(SIGCHLD), 0UL, 0UL, 0UL, 0UL);
    if (pid == 0) {
        // The pipe may have taken fd 1 itself (a process that closed its stdout): never close that one.
        if (fds[1] != STDOUT_FILENO)
            dup2(fds[1], STDOUT_FILENO);
        if (fds[0] != STDOUT_FILENO)
            close(fds[0]);
        if (fds[1] != STDOUT_FILENO)
            close(fds[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0 && devnull != STDERR_FILENO)
            dup2(devnull, STDERR_FILENO);
        execve(g_addr2line, argv, environ);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return -1;
    }
    size_t length = 0;
    long long deadline = now_ms() + 5000;  // a hung addr2line must not keep the report from ending
    bool timed_out = false;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int ready = poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            timed_out = ready == 0;
            break;
        }
        char scratch[256];
        char *into = length + 1 < cap ? out + length : scratch;
        size_t room = length + 1 < cap ? cap - 1 - length : sizeof scratch;
        ssize_t n = read(fds[0], into, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (into != scratch)
            length += static_cast<size_t>(n);
    }
    close(fds[0]);
    if (timed_out)
        kill(static_cast<pid_t>(pid), SIGKILL);
    int status;
    while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    out[length] = '\0';
    return timed_out ? -1 : static_cast<long>(length);
}

// The next line of `*text` (NUL-terminated in place), or nullptr at the end.
char *next_line(char **text)
{
    if (**text == '\0')
        return nullptr;
    char *line = *text;
    char *eol = strchr(line, '\n');
    if (eol != nullptr) {
        *eol = '\0';
        *text = eol + 1;
    } else {
        *text = line + strlen(line);
    }
    return line;
}

// A source location as reports write it: the file's base name and the line ("" when addr2line has none).
const char *source_place(const char *where)
{
    if (where == nullptr || where[0] == '?')
        return "";
    const char *slash = strrchr(where, '/');
    return slash ? slash + 1 : where;
}

}  // namespace

void prepare_signal_locations()
{
    std::call_once(g_addr2line_once, find_addr2line);
    if (g_addr2line[0] == '\0')
        preload_extension_symbols();
}

const char *signal_addr2line_path()
{
    return g_addr2line;
}

bool write_signal_safe_location(const char *path, uintptr_t offset)
{
    if (path == nullptr)
        return false;
    static char output[2048];  // the handler runs once per process (g_entered), so one buffer is enough
    if (run_addr2line(path, offset, output, sizeof output) > 0) {
        // -i: function, then file:line, for each function of the chain of inlined ones, innermost first
        // (the last one is the function whose code it is).
        char *text = output;
        const char *function = next_line(&text);
        const char *where = next_line(&text);
        const char *outer = nullptr;
        while (const char *more = next_line(&text)) {
            outer = more;
            next_line(&text);
        }
        if (function != nullptr && strcmp(function, "??") != 0) {
            write_str("hpy.debug:     in ");
            write_str(function);
            const char *place = source_place(where);
            if (place[0] != '\0') {
                write_str(" at ");
                write_str(place);
            }
            if (outer != nullptr && strcmp(outer, "??") != 0) {
                write_str(", inlined in ");
                write_str(outer);
            }
            write_str("\n");
            return true;
        }
    }
    size_t count = g_preloaded_count.load(std::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) {
        if (strcmp(g_preloaded[i].path, path) != 0)
            continue;
        const char *name = g_preloaded[i].table->name_at(offset);
        if (name == nullptr)
            return false;
        write_str("hpy.debug:     in ");
        write_str(name);
        write_str(" (no source line: addr2line, from binutils, is not installed)\n");
        return true;
    }
    return false;
}

void install_fatal_signal_handler(bool faults_only)
{
    prepare_signal_locations();
    std::lock_guard<std::mutex> guard(g_install_lock);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < (faults_only ? kFaultSignals : kSignalCount); ++i) {
        struct sigaction current;
        if (sigaction(kSignals[i], nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) != 0 &&
            current.sa_sigaction == on_fatal_signal)
            continue;
        sigaction(kSignals[i], &sa, &g_previous[i]);
    }
}

void note_unshown(const void *key, const std::string &text)
{
    std::lock_guard<std::mutex> guard(g_unshown_lock);
    Unshown *slot = nullptr;
    for (Unshown &u : g_unshown) {  // a free slot, else the oldest one
        if (u.key.load(std::memory_order_relaxed) == nullptr) {
            slot = &u;
            break;
        }
        if (slot == nullptr ||
            u.order.load(std::memory_order_relaxed) < slot->order.load(std::memory_order_relaxed))
            slot = &u;
    }
    slot->key.store(nullptr, std::memory_order_release);
    size_t n = text.size() < kTextMax - 1 ? text.size() : kTextMax - 1;
    memcpy(slot->text, text.data(), n);
    slot->text[n] = '\0';
    slot->order.store(g_next_order.fetch_add(1), std::memory_order_release);
    slot->key.store(key, std::memory_order_release);
}

void forget_unshown(const void *key)
{
    if (key == nullptr)
        return;
    std::lock_guard<std::mutex> guard(g_unshown_lock);
    for (Unshown &u : g_unshown) {
        if (u.key.load(std::memory_order_relaxed) == key)
            u.key.store(nullptr, std::memory_order_release);
    }
}

std::string unshown_reports()
{
    std::lock_guard<std::mutex> guard(g_unshown_lock);
    std::string out;
    each_unshown([&](const char *text) { out += std::string(text) + "\n"; });
    return out;
}

}  // namespace hpy::debug
