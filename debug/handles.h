// debug/handles.h: the debug context's handle table and protected raw data; no interpreter needed.
//
// A debug handle's `_i` is odd ((reuse count << 25) | (slot index << 1) | 1), so it is never a
// universal handle (an aligned PyObject*), and a value that was never issued, or whose slot has been
// reissued since, is recognised without dereferencing anything (reissuing a slot is one addition). Slots live
// in chunks (never moved) and are recycled through a free list. Open handles are found by walking the slots
// (LeakDetector); closed ones wait in a bounded queue (a ring) before their slot is reused, so a use after
// close is reported with the object's type. The table never looks inside the universal handles it stores:
// what needs the interpreter (type names, reference counts, closing the universal handle) is the caller's
// (debug_context.cpp).
//
// Threads (runtime/cpython/threads.h): every change of the table happens under its lock (nothing on a
// build with a GIL), never while the interpreter runs code. lookup() takes no lock: slots never move
// (chunks are only added, in a directory of fixed size), and a handle is used by the thread that opened
// it (Handle::owner), so what lookup() reads of a slot only changes under it when the program misuses a
// handle, which is then what it reports.
#pragma once

#include <signal.h>

#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <hpy.h>

#include "runtime/cpython/threads.h"

namespace hpy::debug {

enum class HandleState : uint8_t { Free, Open, Closed };

// A read-only copy of raw data handed out for a handle (UTF-8, bytes, type name), in its own pages.
struct RawData {
    char *base = nullptr;
    size_t mapped = 0;  // bytes mapped (whole pages)
    size_t size = 0;    // bytes of data
    const char *function = nullptr;
    bool inaccessible = false;  // PROT_NONE since its handle closed (counted in protected_total())
    int32_t region = -1;        // its entry in the fault handler's table, or -1
};

// Who opened a handle, or runs a call: the thread pointer where the compiler reads it in one
// instruction (on glibc the same value as pthread_self(), which is a call into libc), else pthread_self().
// Handles are opened and checked on every call's fast path.
using ThreadId = uintptr_t;
#if defined(__has_builtin) && (defined(__x86_64__) || defined(__aarch64__))
#    if __has_builtin(__builtin_thread_pointer)
#        define HPY_DEBUG_HAS_THREAD_POINTER 1
#    endif
#endif
[[gnu::always_inline]] inline ThreadId this_thread()
{
#ifdef HPY_DEBUG_HAS_THREAD_POINTER
    return reinterpret_cast<ThreadId>(__builtin_thread_pointer());
#else
    return reinterpret_cast<ThreadId>(pthread_self());
#endif
}

struct Handle {
    // What every open and close writes comes first. The closed_* fields are set by close() and cleared
    // by open(); const_name is set once, for a slot never reissued.
    HPy uh{0};  // the wrapped context's handle
    // The slot's handle value while issued: (reuse count << 25) | (index << 1) | 1 (encode(), lookup()).
    intptr_t value = 0;
    // Flags, next to each other: an open writes the first four at once, a close the first two and last two.
    HandleState state = HandleState::Free;
    bool is_arg = false;           // an argument of a running call: not the callee's to close or return
    bool owns = false;             // closing it closes `uh`
    bool dup = false;              // made by HPy_Dup: its raw data never outlive it
    bool closed_at_entry = false;  // closed_at is an implementation function's entry (see below)
    bool dead = false;   // closing it released the object's last reference (only meaningful once closed)
    ThreadId owner = 0;  // the thread that opened it: the only one that may use it (not for constants)
    // Where in the extension it was opened and closed, recorded for every handle (one address each):
    // the return address of the API function that opened (closed) it, or, with `closed_at_entry`, the
    // entry of the implementation function whose call closed it. nullptr when unknown.
    const char *opened_by = nullptr;  // the API function that opened it
    const void *opened_at = nullptr;
    const char *closed_by = nullptr;
    const void *closed_at = nullptr;
    const char *closed_type = nullptr;  // the object's type name, kept at close (or nullptr)
    uint64_t id = 0;                    // serial number, never reused
    uint64_t generation = 0;
    RawData raw;
    std::unique_ptr<std::vector<void *>> stack;  // where it was opened (when enabled)
    const char *const_name = nullptr;            // a context constant (h_None...): never closed
    Handle *next = nullptr;                      // in the free list
    char type_copy[48] = {0};                    // closed_type's copy, when the name may not outlive the type
};

// Settings shared with the Python API (hpy.universal._debug).
struct Settings {
    size_t closed_queue_max = 1024;
    size_t protected_raw_data_max = 10 * 1024 * 1024;
    int stack_limit = 0;  // frames recorded per handle; 0: none
    // Hpy: HPy 0.9's reaction (the default): the misuses HPy 0.9 itself finds call their hook
    // (set_on_invalid_handle / set_on_invalid_builder_handle) or are fatal errors; the others raise.
    enum class Reaction { Hpy, Raise, Hook, Abort } reaction = Reaction::Hpy;
};

// The handle value of an open handle.
[[gnu::always_inline]] inline HPy encode(const Handle *h)
{
    return HPy{h->value};
}

// What a handle value turned out to be.
enum class Lookup { Null, Invalid, Stale, Closed, Open };

struct Found {
    Lookup what;
    Handle *h;  // the slot (Stale, Closed, Open) or nullptr
};

class HandleTable {
public:
    HandleTable();
    ~HandleTable();
    HandleTable(const HandleTable &) = delete;
    HandleTable &operator=(const HandleTable &) = delete;

    // Classifies a handle value; only the table's own slots are read.
    [[gnu::always_inline]] Found lookup(HPy h) const
    {
        auto v = static_cast<uint64_t>(h._i);
        if (v == 0)
            return {Lookup::Null, nullptr};
        auto index = static_cast<uint32_t>((v >> 1) & (kMaxSlots - 1));
        if ((v & 1) == 0 || index >= threads::load(&count_))
            return {Lookup::Invalid, nullptr};
        Handle *s = &slot(index);
        auto current = static_cast<uint64_t>(s->value);
        if (v != current)  // the same slot issued again since (a higher reuse count: never issued)
            return v < current ? Found{Lookup::Stale, s} : Found{Lookup::Invalid, nullptr};
        if (s->state == HandleState::Open)
            return {Lookup::Open, s};
        return {s->state == HandleState::Closed ? Lookup::Closed : Lookup::Stale, s};
    }

    // A new open handle for `uh`; `owns`: closing it closes `uh`; `is_arg`: a call's argument. Records
    // `settings.stack_limit` frames of the caller's stack when positive.
    // `opened_by`, `opened_at`: the API function and where in the extension it was called (Handle).
    // Inlined whole into the calls' fast paths (arguments, HPy_Dup, every API function's result).
    [[gnu::always_inline]] Handle *open(HPy uh, bool owns, bool is_arg, const char *opened_by = nullptr,
                                        const void *opened_at = nullptr)
    {
        threads::Guard guard(lock_);
        Handle *h = take_slot();
        h->uh = uh;
        h->state = HandleState::Open;
        h->is_arg = is_arg;
        h->owns = owns;
        h->dup = false;
        h->owner = this_thread();
        h->opened_by = opened_by;
        h->opened_at = opened_at;
        h->closed_by = nullptr;  // a reused slot keeps nothing of its last close
        h->closed_at = nullptr;
        h->closed_type = nullptr;
        h->id = next_id_++;
        h->generation = generation_;
        if (__builtin_expect(settings.stack_limit > 0 || h->stack != nullptr, 0))
            record_stack(h);
        return h;
    }
    // A handle open for ever and in no list (a context constant: never a leak).
    Handle *constant(HPy uh, const char *name);

    // Closes an open handle: keeps `type_name` (may be nullptr; copied unless `type_name_static`: a
    // name that lives as long as the process) and who closed it, makes its raw data inaccessible when
    // `protect_raw` (or releases them at once when they would exceed the protected raw data budget), and
    // queues the slot (beyond the queue's limit, the oldest queued slot is freed). `dead`: closing it
    // releases the object's last reference. `closed_at`, `closed_at_entry`: where (Handle). The
    // universal handle is the caller's to close.
    // Inlined into the calls' fast paths (arguments, returned handles).
    [[gnu::always_inline]] void close(Handle *h, const char *function, const char *type_name,
                                      bool type_name_static, bool protect_raw, bool dead = false,
                                      const void *closed_at = nullptr, bool closed_at_entry = false)
    {
        threads::Guard guard(lock_);  // once queued, the slot may be another thread's to reuse
        h->state = HandleState::Closed;
        h->is_arg = false;
        h->closed_at_entry = closed_at_entry;
        h->dead = dead;
        h->closed_by = function;
        h->closed_at = closed_at;
        if (type_name == nullptr || type_name_static)
            h->closed_type = type_name;
        else
            copy_type_name(h, type_name);
        if (__builtin_expect(h->raw.base != nullptr, 0) && protect_raw)
            protect_or_release(h);
        push_closed(h);
        if (__builtin_expect(tail_ - head_ > settings.closed_queue_max, 0))
            free_slot(pop_closed());
    }
    // Applies the queue's limits now (after they changed).
    void trim();
    // The closed handles still queued, oldest first.
    std::vector<Handle *> closed_list() const;
    size_t closed_count() const
    {
        threads::Guard guard(lock_);
        return static_cast<size_t>(tail_ - head_);
    }

    // A read-only copy of `data` in pages of its own for the open handle `h` (the same copy again
    // while the data are unchanged); `data` itself when no pages can be mapped.
    const char *protect_raw_data(Handle *h, const char *data, size_t size, const char *function);

    uint64_t new_generation()
    {
        threads::Guard guard(lock_);
        return ++generation_;
    }
    uint64_t generation() const
    {
        threads::Guard guard(lock_);
        return generation_;
    }
    // The open handles (not the constants), oldest first: a walk over the slots, so that opening and
    // closing keep no list. `thread`: only those opened by it.
    std::vector<Handle *> open_list(const ThreadId *thread = nullptr) const;
    size_t protected_total() const  // bytes of inaccessible raw data kept
    {
        threads::Guard guard(lock_);
        return protected_total_;
    }

    // Read at each open and close: a member, not another object to reach.
    Settings settings;

private:
    // The oldest queued slot once the queue of closed handles is at its limit (its raw data released),
    // else a slot from the free list, else a new one; its reuse count advanced.
    [[gnu::always_inline]] Handle *take_slot()
    {
        Handle *h;
        uint64_t queued = tail_ - head_;
        if (queued != 0 && queued >= settings.closed_queue_max) {
            h = pop_closed();
            if (__builtin_expect(h->raw.base != nullptr, 0))
                release_raw(h);
        } else if (free_list_ != nullptr) {
            h = free_list_;
            free_list_ = h->next;
        } else {
            h = grow();
        }
        h->value += kReuseOne;
        return h;
    }
    static constexpr intptr_t kReuseOne = intptr_t{1} << 25;
    static constexpr uint32_t kChunkBits = 12;
    static constexpr uint32_t kChunkSize = 1u << kChunkBits;
    // At most 2^24 slots (16.7 million handles open or queued at once): the directory never moves.
    static constexpr uint32_t kMaxChunks = 1u << 12;
    static constexpr uint32_t kMaxSlots = kMaxChunks * kChunkSize;  // the index's 24 bits
    Handle &slot(uint32_t index) const
    {
        return threads::load(&chunks_[index >> kChunkBits])[index & (kChunkSize - 1)];
    }
    Handle *grow();
    void record_stack(Handle *h);
    void copy_type_name(Handle *h, const char *type_name);
    void protect_or_release(Handle *h);
    void protect_closed(Handle *h);
    void release_raw(Handle *h);
    void trim_raw_data();
    // The queue of closed handles: a ring of a power-of-two size, grown when full, between the counts
    // of slots ever popped (head_) and pushed (tail_). The limit may be lowered below its length: it
    // then shrinks by one slot per handle opened.
    [[gnu::always_inline]] void push_closed(Handle *h)
    {
        if (__builtin_expect(tail_ - head_ > ring_mask_, 0))
            grow_ring();
        ring_[tail_ & ring_mask_] = h;
        ++tail_;
    }
    [[gnu::always_inline]] Handle *pop_closed() { return ring_[head_++ & ring_mask_]; }
    Handle *queued(uint64_t i) const  // the i-th oldest queued slot
    {
        return ring_[(head_ + i) & ring_mask_];
    }
    void grow_ring();
    [[gnu::always_inline]] void free_slot(Handle *h)
    {
        if (__builtin_expect(h->raw.base != nullptr, 0))
            release_raw(h);
        h->state = HandleState::Free;
        h->next = free_list_;
        free_list_ = h;
    }

    mutable threads::Lock lock_;
    Handle *chunks_[kMaxChunks] = {};  // owned (the destructor frees them)
    uint32_t count_ = 0;               // slots in use or ever used
    Handle *free_list_ = nullptr;
    std::unique_ptr<Handle *[]> ring_;  // the closed queue
    uint64_t ring_mask_ = 0;            // its size - 1
    uint64_t head_ = 0, tail_ = 0;      // slots ever popped from it, and pushed into it
    uint64_t generation_ = 0;
    uint64_t next_id_ = 1;
    size_t protected_total_ = 0;
};

// Up to `limit` return addresses of the calling thread's stack, without the `skip` innermost frames
// (and this function's own); nullptr when `limit` is 0.
std::unique_ptr<std::vector<void *>> capture_stack(int limit, int skip);

// For the fatal-signal handler (fatal_signal.h), async-signal-safe: when the fault is in protected raw
// data, writes what the program did there to stderr.
void explain_fault(const siginfo_t *info, void *uctx);
// Whether it does (off: a fault in protected raw data is a plain SIGSEGV, as with HPy 0.9).
void explain_faults(bool on);

}  // namespace hpy::debug
