// runtime/universal/mode.cpp: parses the HPY and HPY_LOG environment variables (see mode.h).
#include "runtime/universal/mode.h"

#include <cstdlib>

namespace hpy::universal {

namespace {

constexpr std::string_view kSpaces = " \t\r\n";
constexpr const char *kAccepted =
    "expected universal, debug or trace (debug:movinggc: debug mode with the "
    "moving-GC checker), or a list such as \"mod:debug,other.mod:trace\" (a bare "
    "mode in the list sets the default)";
constexpr std::string_view kMovingGc = ":movinggc";

std::string_view trim(std::string_view s)
{
    const auto first = s.find_first_not_of(kSpaces);
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(kSpaces) - first + 1);
}

// Sets *error (when asked for one) and returns nothing, so each check is one line.
std::nullopt_t fail(std::string *error, std::string_view text, const std::string &why)
{
    if (error)
        *error = "invalid HPY=\"" + std::string(text) + "\": " + why;
    return std::nullopt;
}

std::string quoted(std::string_view s)
{
    return "'" + std::string(s) + "'";
}

}  // namespace

const char *mode_name(Mode mode)
{
    switch (mode) {
    case Mode::Universal:
        return "universal";
    case Mode::Debug:
        return "debug";
    case Mode::Trace:
        return "trace";
    }
    return "?";
}

std::optional<Mode> parse_mode_name(std::string_view word)
{
    for (Mode mode : {Mode::Universal, Mode::Debug, Mode::Trace}) {
        if (word == mode_name(mode))
            return mode;
    }
    return std::nullopt;
}

std::optional<ModeConfig> ModeConfig::parse(std::string_view text, std::string *error)
{
    ModeConfig config;
    if (trim(text).empty())
        return config;

    std::optional<std::string_view> default_word;
    std::string_view rest = text;
    while (true) {
        const auto comma = rest.find(',');
        std::string_view entry = trim(rest.substr(0, comma));
        if (entry.empty())
            return fail(error, text, "empty entry in the comma-separated list");
        const std::string_view whole = entry;
        // "debug:movinggc": the checker's suffix, for debug mode only
        const bool movinggc =
            entry.size() > kMovingGc.size() && entry.substr(entry.size() - kMovingGc.size()) == kMovingGc;
        if (movinggc)
            entry = trim(entry.substr(0, entry.size() - kMovingGc.size()));

        const auto colon = entry.find(':');
        const std::string_view word = trim(entry.substr(colon == std::string_view::npos ? 0 : colon + 1));
        const std::optional<Mode> mode = parse_mode_name(word);
        if (!mode)
            return fail(error, text,
                        "unknown mode " + quoted(word) + " in entry " + quoted(whole) + "; " + kAccepted);
        if (movinggc && *mode != Mode::Debug)
            return fail(error, text,
                        "entry " + quoted(whole) +
                            ": the moving-GC checker runs in debug mode only (debug:movinggc)");

        if (colon == std::string_view::npos) {
            if (default_word)
                return fail(error, text,
                            "two default modes, " + quoted(*default_word) + " and " + quoted(word) +
                                " (name the module: mod:" + std::string(word) + ")");
            default_word = word;
            config.default_mode_ = *mode;
            config.default_movinggc_ = movinggc;
        } else {
            const std::string_view module = trim(entry.substr(0, colon));
            if (module.empty())
                return fail(error, text, "entry " + quoted(entry) + " has no module name before ':'");
            if (module.find_first_of(kSpaces) != std::string_view::npos)
                return fail(error, text, "module name " + quoted(module) + " contains a space");
            if (!config.per_module_.emplace(std::string(module), *mode).second)
                return fail(error, text, "module " + quoted(module) + " is given more than once");
            config.movinggc_.emplace(std::string(module), movinggc);
        }

        if (comma == std::string_view::npos)
            break;
        rest.remove_prefix(comma + 1);
    }
    return config;
}

Mode ModeConfig::mode_for(std::string_view module_name) const
{
    const auto it = per_module_.find(module_name);
    return it == per_module_.end() ? default_mode_ : it->second;
}

bool ModeConfig::movinggc_for(std::string_view module_name) const
{
    const auto it = movinggc_.find(module_name);
    return it == movinggc_.end() ? default_movinggc_ : it->second;
}

bool parse_log_flag(const char *value)
{
    if (value == nullptr)
        return false;
    const std::string_view v = trim(value);
    return !v.empty() && v != "0";
}

std::optional<Settings> settings_from_environment(std::string *error)
{
    const char *hpy = std::getenv("HPY");
    std::optional<ModeConfig> modes = ModeConfig::parse(hpy ? hpy : "", error);
    if (!modes)
        return std::nullopt;
    return Settings{std::move(*modes), parse_log_flag(std::getenv("HPY_LOG"))};
}

}  // namespace hpy::universal
