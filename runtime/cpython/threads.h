// runtime/cpython/threads.h: what the host shares between threads, and how it is guarded.
//
// With a GIL (every CPython before 3.13t, PyPy, GraalPy) a thread calls the HPy API only while it holds
// the GIL, and the GIL alone serialises the host: the guards below compile to nothing there. On a
// free-threaded CPython (Py_GIL_DISABLED) they are real, and follow CPython's own rules: short
// critical sections that never call back into the interpreter while locked, reference counts through
// CPython's API (atomic there), and a stored reference swapped atomically so that two threads storing
// into the same place never lose or release a reference twice.
#pragma once

#include <Python.h>

#include <cstdint>

namespace hpy::threads {

// True when this host was built for an interpreter without a GIL.
#ifdef Py_GIL_DISABLED
constexpr bool kFreeThreaded = true;
#else
constexpr bool kFreeThreaded = false;
#endif

// A lock for host state touched by several threads. PyMutex (CPython 3.13+) is one byte, and a thread
// that waits for it lets the interpreter stop the world meanwhile, so a waiting thread never blocks a
// garbage collection. With a GIL it does nothing.
class Lock {
public:
#ifdef Py_GIL_DISABLED
    void lock()
    {
        PyMutex_Lock(&mutex_);
    }
    void unlock()
    {
        PyMutex_Unlock(&mutex_);
    }

private:
    PyMutex mutex_{};
#else
    void lock() {}
    void unlock() {}
#endif
};

class Guard {
public:
    explicit Guard(Lock &lock) : lock_(lock) { lock_.lock(); }
    ~Guard() { lock_.unlock(); }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;

private:
    Lock &lock_;
};

// Stores `value` into `*slot` (an HPyField's or a cell's word) and returns what was there.
inline intptr_t exchange(intptr_t *slot, intptr_t value)
{
    if constexpr (kFreeThreaded)
        return __atomic_exchange_n(slot, value, __ATOMIC_ACQ_REL);
    else {
        intptr_t old = *slot;
        *slot = value;
        return old;
    }
}

// A word (an integer or a pointer) read by threads that may race with an exchange() or store() of it.
template <typename T>
inline T load(T const *slot)
{
    if constexpr (kFreeThreaded)
        return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    else
        return *slot;
}

// Writes a word that other threads read with load() (under a lock or not).
template <typename T>
inline void store(T *slot, T value)
{
    if constexpr (kFreeThreaded)
        __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    else
        *slot = value;
}

// A counter several threads add to (statistics: no ordering needed).
inline void add(uint64_t *counter, uint64_t n)
{
    if constexpr (kFreeThreaded)
        __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
    else
        *counter += n;
}

}  // namespace hpy::threads
