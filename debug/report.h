// debug/report.h: what a debug report says and where it goes; plain C++, no interpreter needed.
#pragma once

#include <string>

#include "debug/handles.h"

namespace hpy::debug {

// At most `max` characters of `text`; a longer text is cut and ends with "...".
std::string bounded(const std::string &text, size_t max = 80);
// "a 'TYPE' object: REPR" (the repr bounded).
std::string describe_open(const char *type_name, const std::string &repr);
// "a 'TYPE' object, closed by FUNCTION in WHERE" ("an object" when the type was not kept; no " in
// WHERE" when `where` is empty). `where`: the C location of the close (code_location).
std::string describe_closed(const char *type_name, const char *closed_by, const std::string &where = "");
// "[check] function: detail (object)", then each line of `place` (where the faulty call was made,
// where the handle was opened) indented, then the stack on its own lines, when there is one.
std::string format_report(const char *check, const char *function, const std::string &detail,
                          const std::string &object, const std::string &stack, const std::string &place = "");

// Checks about handle values (set_on_invalid_handle), and about builders (set_on_invalid_builder_handle).
bool is_handle_check(const char *check);
bool is_builder_check(const char *check);
// The line HPy 0.9 prints for a check it makes itself ("Invalid usage of already closed handle"...), or
// nullptr when the check is unihpy's own (or the line depends on the call: the caller gives it).
const char *hpy_text(const char *check);

// Where a report goes.
enum class Sink {
    Abort,        // printed to stderr, then abort()
    HandleHook,   // set_on_invalid_handle's callback
    BuilderHook,  // set_on_invalid_builder_handle's callback
    UserHook,     // set_reaction("hook", callable)
    Pending,      // raised at the next return to Python
    Recorded,     // only kept with the recent reports (an earlier one is already pending)
    Fatal,        // HPy 0.9's fatal error: its line, then the report, on stderr; then abort()
};
struct Hooks {
    bool on_invalid_handle = false, on_invalid_builder = false, on_report = false;
    bool pending = false;  // a report is already waiting to be raised
};
// `hpy_fatal`: HPy 0.9 makes this misuse a fatal error (it has a line of HPy 0.9's to print).
Sink route_report(const char *check, Settings::Reaction reaction, const Hooks &hooks, bool hpy_fatal = false);

// Prints "hpy.debug: MESSAGE" to stderr (after HPy 0.9's line `hpy_line` when there is one) and aborts.
[[noreturn]] void abort_with_report(const std::string &message, const char *hpy_line = nullptr);

}  // namespace hpy::debug
