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

}  // namespace hpy::debug
