// runtime/universal/mode.h: which context (universal, debug, trace) a module loads with, from HPY and HPY_LOG.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hpy::universal {

// The context a universal module is given at load time.
// The numbers are those of hpy.universal.MODE_UNIVERSAL, MODE_DEBUG and MODE_TRACE (as in HPy 0.9).
enum class Mode { Universal = 0, Debug = 1, Trace = 2 };

// "universal", "debug" or "trace".
const char *mode_name(Mode mode);

// The mode spelled `word` (exactly one of the names above), or nothing.
std::optional<Mode> parse_mode_name(std::string_view word);

// The modes asked for by the HPY environment variable:
//   ""  or unset          every module universal
//   "debug"               every module in debug mode (likewise "universal", "trace")
//   "a.b:debug,c:trace"   per module, by its full dotted name; others get the default
//   "trace,a.b:debug"     a bare word in the list sets the default for the modules not named
//   "debug:movinggc"      debug mode with the moving-GC checker on (debug/movinggc.h); also per
//                         module, "a.b:debug:movinggc" (the checker is process-wide once on)
class ModeConfig {
public:
    // Parses the value of HPY. On malformed text, returns nothing and sets `error` (if given) to a
    // message naming the variable, the offending entry and what is accepted.
    static std::optional<ModeConfig> parse(std::string_view text, std::string *error = nullptr);

    // The mode for the module with this full name (as in its spec, e.g. "pkg.mod").
    Mode mode_for(std::string_view module_name) const;

    Mode default_mode() const { return default_mode_; }

    // Whether the entry that gives this module its mode asks for the moving-GC checker.
    bool movinggc_for(std::string_view module_name) const;

private:
    Mode default_mode_ = Mode::Universal;
    bool default_movinggc_ = false;
    std::map<std::string, Mode, std::less<>> per_module_;
    std::map<std::string, bool, std::less<>> movinggc_;  // per module named
};

// What the environment asks for at load time.
struct Settings {
    ModeConfig modes;
    bool log = false;  // HPY_LOG: print each load's mode to stderr
};

// HPY_LOG's meaning: unset, "" and "0" are off; anything else ("1") is on.
bool parse_log_flag(const char *value);

// Reads HPY and HPY_LOG. On a malformed HPY, returns nothing and sets `error` (if given).
std::optional<Settings> settings_from_environment(std::string *error = nullptr);

}  // namespace hpy::universal
