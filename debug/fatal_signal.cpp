// debug/fatal_signal.cpp: the fatal-signal handler of the debug context and the reports it prints.
#include "debug/fatal_signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "debug/handles.h"

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

}  // namespace

void install_fatal_signal_handler(bool faults_only)
{
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
