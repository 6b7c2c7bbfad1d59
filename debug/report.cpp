// debug/report.cpp: report texts and routing (debug/report.h).
#include "debug/report.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hpy::debug {

std::string bounded(const std::string &text, size_t max)
{
    if (text.size() <= max)
        return text;
    return text.substr(0, max < 3 ? 0 : max - 3) + "...";
}

std::string describe_open(const char *type_name, const std::string &repr)
{
    return std::string("a '") + type_name + "' object: " + bounded(repr);
}

std::string describe_closed(const char *type_name, const char *closed_by, const std::string &where)
{
    std::string s = type_name != nullptr && type_name[0] != 0 ? std::string("a '") + type_name + "' object"
                                                              : std::string("an object");
    if (closed_by != nullptr)
        s += std::string(", closed by ") + closed_by;
    if (closed_by != nullptr && !where.empty())
        s += " in " + where;
    return s;
}

std::string format_report(const char *check, const char *function, const std::string &detail,
                          const std::string &object, const std::string &stack, const std::string &place)
{
    std::string message = std::string("[") + check + "] " + function + ": " + detail;
    if (!object.empty())
        message += " (" + object + ")";
    for (size_t at = 0; at < place.size();) {
        size_t eol = place.find('\n', at);
        if (eol == std::string::npos)
            eol = place.size();
        message += "\n    " + place.substr(at, eol - at);
        at = eol + 1;
    }
    if (!stack.empty())
        message += "\n" + stack;
    return message;
}

bool is_handle_check(const char *check)
{
    // Every misuse of a handle's lifetime: HPy 0.9 finds them all as the use of a closed handle.
    static const char *const checks[] = {"invalid-handle",  "use-after-close", "double-close",
                                         "close-constant",  "close-argument",  "return-constant",
                                         "return-argument", "return-closed"};
    for (const char *c : checks)
        if (!strcmp(check, c))
            return true;
    return false;
}

const char *hpy_text(const char *check)
{
    if (is_handle_check(check))
        return "Invalid usage of already closed handle";
    if (is_builder_check(check))
        return "Invalid usage of already closed builder";
    if (!strncmp(check, "context-", 8))
        return "Error: Wrong HPy Context!";
    return nullptr;
}

bool is_builder_check(const char *check)
{
    return !strncmp(check, "builder", 7);
}

Sink route_report(const char *check, Settings::Reaction reaction, const Hooks &hooks, bool hpy_fatal)
{
    if (reaction == Settings::Reaction::Abort)
        return Sink::Abort;
    if (hooks.on_invalid_handle && is_handle_check(check))
        return Sink::HandleHook;
    if (hooks.on_invalid_builder && is_builder_check(check))
        return Sink::BuilderHook;
    if (reaction == Settings::Reaction::Hook && hooks.on_report)
        return Sink::UserHook;
    if (reaction == Settings::Reaction::Hpy && hpy_fatal)
        return Sink::Fatal;
    return hooks.pending ? Sink::Recorded : Sink::Pending;
}

void abort_with_report(const std::string &message, const char *hpy_line)
{
    if (hpy_line != nullptr)
        fprintf(stderr, "%s\n", hpy_line);
    fprintf(stderr, "hpy.debug: %s\n", message.c_str());
    fflush(stderr);
    abort();
}

}  // namespace hpy::debug
