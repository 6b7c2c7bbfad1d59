// debug/handles.cpp: the handle table's slow paths, protected raw data and the explanation of a fault there.
#include "debug/handles.h"

#include "debug/fatal_signal.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hpy::debug {
namespace {

// ---------------------------------------------------------------- faults in protected pages

// A snapshot the SIGSEGV handler can read: which pages belong to which handle.
struct FaultRegion {
    uintptr_t begin, end;
    uint64_t id;
    const char *function;
    bool closed;
};
constexpr size_t kFaultRegions = 4096;
FaultRegion g_regions[kFaultRegions];
volatile sig_atomic_t g_explain = 0;

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

void write_hex(uintptr_t v)
{
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0 && i > 2);
    buf[--i] = 'x';
    buf[--i] = '0';
    write_str(buf + i);
}

// The faulting instruction as FILE+0xOFFSET (and its symbol when exported), then its C function and
// source line (fatal_signal.h: addr2line run from the handler, or a preloaded symbol table), else how
// to find them. dladdr is not on the async-signal-safe list; the process is dying of a fault in the
// extension's code, not in the loader's, and only faults in raw data get here.
void write_code_location(const void *pc)
{
    Dl_info info;
    if (pc == nullptr || !dladdr(pc, &info) || info.dli_fname == nullptr)
        return;
    const char *file = strrchr(info.dli_fname, '/');
    auto offset =
        static_cast<uintptr_t>(static_cast<const char *>(pc) - static_cast<const char *>(info.dli_fbase));
    write_str("hpy.debug:     by the instruction at ");
    write_str(file ? file + 1 : info.dli_fname);
    write_str("+");
    write_hex(offset);
    if (info.dli_sname != nullptr) {
        write_str(" (");
        write_str(info.dli_sname);
        write_str(")");
    }
    write_str("\n");
    // The pc of a fault is the faulting instruction itself (not a return address): no adjustment.
    if (!write_signal_safe_location(info.dli_fname, offset))
        write_str("hpy.debug:     (addr2line -f -e FILE OFFSET names its C function and line)\n");
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

}  // namespace

void explain_faults(bool on)
{
    g_explain = on ? 1 : 0;
}

void explain_fault(const siginfo_t *info, void *uctx)
{
    auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
    bool is_write = false;
    const void *pc = nullptr;
#if defined(__x86_64__) && defined(REG_ERR)
    is_write = (static_cast<ucontext_t *>(uctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    pc = reinterpret_cast<const void *>(static_cast<ucontext_t *>(uctx)->uc_mcontext.gregs[REG_RIP]);
#else
    (void)uctx;
#endif
    for (const FaultRegion &r : g_regions) {
        if (!g_explain || addr < r.begin || addr >= r.end)
            continue;
        write_str("hpy.debug: ");
        if (r.closed) {
            write_str(is_write ? "raw-data-after-close: a write into" : "raw-data-after-close: a read of");
            write_str(" the raw data returned by ");
            write_str(r.function);
            write_str(" for a handle (id ");
            write_num(r.id);
            write_str(") that is closed\n");
            write_code_location(pc);
        } else {
            write_str("read-only-raw-data: a write into the read-only data returned by ");
            write_str(r.function);
            write_str(" (handle id ");
            write_num(r.id);
            write_str(")\n");
            write_code_location(pc);
        }
        return;
    }
}

// ---------------------------------------------------------------- the table

HandleTable::HandleTable()
{
    uint64_t size = 32;
    while (size <= settings.closed_queue_max)
        size *= 2;
    ring_ = std::make_unique<Handle *[]>(size);
    ring_mask_ = size - 1;
}

HandleTable::~HandleTable()
{
    for (uint32_t i = 0; i < count_; ++i)
        release_raw(&slot(i));
    for (Handle *chunk : chunks_)
        delete[] chunk;
}

Handle *HandleTable::grow()
{
    if ((count_ & (kChunkSize - 1)) == 0) {
        if ((count_ >> kChunkBits) == kMaxChunks) {
            fprintf(stderr, "hpy.debug: more than %u handles open or queued as closed at once\n", count_);
            abort();  // a leak of this size is reported by the leak detector long before
        }
        threads::store(&chunks_[count_ >> kChunkBits], new Handle[kChunkSize]);
    }
    Handle *h = &slot(count_);
    h->value = (static_cast<intptr_t>(count_) << 1) | 1;  // reuse count 0: take_slot() advances it
    threads::store(&count_, count_ + 1);  // after the slot exists: lookup() reads count_ without the lock
    return h;
}

[[gnu::noinline]] std::unique_ptr<std::vector<void *>> capture_stack(int limit, int skip)
{
    if (limit <= 0)
        return nullptr;
    std::vector<void *> frames(static_cast<size_t>(limit + skip + 1));
    int n = backtrace(frames.data(), static_cast<int>(frames.size()));
    size_t drop = static_cast<size_t>(skip + 1);  // this function, then the caller's `skip`
    frames.resize(n > 0 ? static_cast<size_t>(n) : 0);
    frames.erase(frames.begin(), frames.begin() + static_cast<long>(std::min(drop, frames.size())));
    return std::make_unique<std::vector<void *>>(std::move(frames));
}

// Not inlined, so that the frames capture_stack skips are this one and itself, whatever the compiler
// inlines into the API function (the host's frames left are dropped when the stack is shown).
[[gnu::noinline]] void HandleTable::record_stack(Handle *h)
{
    if (settings.stack_limit <= 0) {
        h->stack.reset();
        return;
    }
    h->stack = capture_stack(settings.stack_limit, 1);  // without this function
}

Handle *HandleTable::constant(HPy uh, const char *name)
{
    threads::Guard guard(lock_);
    Handle *h = take_slot();
    h->uh = uh;
    h->id = next_id_++;
    h->state = HandleState::Open;
    h->owns = false;  // what tells a returned handle the call takes over from a constant (Call::owned)
    h->is_arg = false;
    h->const_name = name;
    h->next = nullptr;
    return h;
}

void HandleTable::release_raw(Handle *h)
{
    if (h->raw.base != nullptr) {
        forget_region(h);
        munmap(h->raw.base, h->raw.mapped);
        if (h->raw.inaccessible)
            protected_total_ -= h->raw.size;
        h->raw = RawData{};
    }
}

void HandleTable::grow_ring()
{
    uint64_t size = (ring_mask_ + 1) * 2;
    auto bigger = std::make_unique<Handle *[]>(size);
    uint64_t n = tail_ - head_;
    for (uint64_t i = 0; i < n; ++i)
        bigger[i] = queued(i);
    ring_ = std::move(bigger);
    ring_mask_ = size - 1;
    head_ = 0;
    tail_ = n;
}

void HandleTable::copy_type_name(Handle *h, const char *type_name)
{
    // A bounded copy: the name of a heap type may not outlive the type.
    char *out = h->type_copy;
    size_t i = 0;
    for (; i < sizeof h->type_copy - 1 && type_name[i] != 0; ++i)
        out[i] = type_name[i];
    out[i] = 0;
    h->closed_type = out;
}

void HandleTable::protect_or_release(Handle *h)
{
    if (protected_total_ + h->raw.size > settings.protected_raw_data_max)
        release_raw(h);  // over the budget: the newest data go, the kept ones stay protected
    else
        protect_closed(h);
}

void HandleTable::protect_closed(Handle *h)
{
    mprotect(h->raw.base, h->raw.mapped, PROT_NONE);
    protected_total_ += h->raw.size;
    h->raw.inaccessible = true;
    note_region(h, true);
}

std::vector<Handle *> HandleTable::open_list(const ThreadId *thread) const
{
    threads::Guard guard(lock_);
    std::vector<Handle *> out;
    for (uint32_t i = 0; i < count_; ++i) {
        Handle *h = &slot(i);
        if (h->state == HandleState::Open && h->const_name == nullptr &&
            (thread == nullptr || h->owner == *thread))
            out.push_back(h);
    }
    std::sort(out.begin(), out.end(), [](const Handle *a, const Handle *b) { return a->id < b->id; });
    return out;
}

std::vector<Handle *> HandleTable::closed_list() const
{
    threads::Guard guard(lock_);
    std::vector<Handle *> out;
    out.reserve(static_cast<size_t>(tail_ - head_));
    for (uint64_t i = 0; i < tail_ - head_; ++i)
        out.push_back(queued(i));
    return out;
}

void HandleTable::trim()
{
    threads::Guard guard(lock_);
    while (tail_ - head_ > settings.closed_queue_max)
        free_slot(pop_closed());
    trim_raw_data();
}

// Protected pages of closed handles are bounded too: the oldest go first, the slot stays queued.
void HandleTable::trim_raw_data()
{
    for (uint64_t i = 0; i < tail_ - head_ && protected_total_ > settings.protected_raw_data_max; ++i)
        release_raw(queued(i));
}

const char *HandleTable::protect_raw_data(Handle *h, const char *data, size_t size, const char *function)
{
    threads::Guard guard(lock_);
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
    install_fatal_signal_handler(/*faults_only=*/true);
    note_region(h, false);
    return h->raw.base;
}

}  // namespace hpy::debug
