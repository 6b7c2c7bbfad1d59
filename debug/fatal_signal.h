// debug/fatal_signal.h: what a process using the debug context prints when it dies of a signal.
//
// A report with the "raise" reaction (and unihpy's own checks under the default one) waits until the
// call returns to Python, while the API function hands the extension an invalid value (HPy_NULL, a
// NULL struct pointer). An extension that uses that value crashes before the report is raised, and
// the report would die with the process. So every report not shown yet is kept here as text, and a
// handler of the fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) prints them to stderr, after
// the explanation of a fault in protected raw data (handles.cpp), then passes the signal on to the
// handler that was there before (Python's faulthandler, or the default action). Plain C++: no Python.
#pragma once

#include <cstdint>
#include <string>

namespace hpy::debug {

// Makes the handler the first to run for each of those signals: installs it where another one has
// replaced it since (faulthandler.enable()), keeping that one as the next. The fault address is only
// known to the first handler: a copy of raw data calls it again (`faults_only`: for SIGSEGV and SIGBUS,
// the signals of a fault there) so that a fault there is explained.
void install_fatal_signal_handler(bool faults_only = false);

// Keeps `text` (cut at a few KiB) as a report not shown yet, under `key`: the exception object the
// report waits in, or the one that a later report waits behind. At most a few are kept (the oldest is
// dropped). Called with reports being made, never in the handler.
void note_unshown(const void *key, const std::string &text);
// The reports kept under `key` have been shown (raised to Python, or handed to a hook).
void forget_unshown(const void *key);

// The kept reports, oldest first, as the handler prints them (for tests).
std::string unshown_reports();

// ---------------------------------------------------------------- code locations inside a handler
//
// A fault in protected raw data is explained by the handler, which must name the C function and line
// of the faulting instruction. The usual way (debug_context.cpp: posix_spawnp of addr2line, a pipe read
// into a std::string) allocates and searches PATH: not allowed in a signal handler. So what a handler
// needs is made ready beforehand, by prepare_signal_locations() (called where the handler is installed,
// outside any signal): addr2line's full path, and, when binutils is not installed, the function symbols
// of the extensions loaded so far (debug/symbols.h), which the handler looks up without allocating.

// Outside a handler: resolves addr2line's path once, and without it reads the symbol tables of the
// extension modules (`*.hpy0*` files) loaded since the last call. Cheap when nothing new was loaded.
void prepare_signal_locations();

// Inside a handler (only async-signal-safe calls): writes `hpy.debug:     in FUNCTION at FILE:LINE`
// (`, inlined in OUTER` when the instruction belongs to an inlined function) for the instruction at
// `offset` from the load base of the ELF file `path`, through addr2line when prepared (fork and execve,
// its output read through a pipe, at most a few seconds), else `hpy.debug:     in FUNCTION` from a
// preloaded symbol table. Returns false, having written nothing, when neither knows the instruction.
bool write_signal_safe_location(const char *path, uintptr_t offset);

// The path prepare_signal_locations() found for addr2line ("" when none; for tests).
const char *signal_addr2line_path();

}  // namespace hpy::debug
