// tests/unit/test_mode.cpp: GoogleTest tests of the HPY / HPY_LOG parsing in runtime/universal/mode.cpp.
#include "runtime/universal/mode.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

using hpy::universal::Mode;
using hpy::universal::ModeConfig;

// Parses text that must be valid.
ModeConfig parse_ok(const std::string &text)
{
    std::string error;
    std::optional<ModeConfig> config = ModeConfig::parse(text, &error);
    EXPECT_TRUE(config.has_value()) << "HPY=\"" << text << "\" was refused: " << error;
    EXPECT_TRUE(error.empty());
    return config.value_or(ModeConfig{});
}

// Parses text that must be refused; returns the message.
std::string parse_error(const std::string &text)
{
    std::string error;
    EXPECT_FALSE(ModeConfig::parse(text, &error).has_value()) << "HPY=\"" << text << "\" was accepted";
    EXPECT_NE(error.find("HPY=\"" + text + "\""), std::string::npos)
        << "message should quote the value: " << error;
    return error;
}

// Sets or unsets an environment variable for one test, then restores it.
class ScopedEnv {
public:
    ScopedEnv(const char *name, const char *value) : name_(name)
    {
        if (const char *old = std::getenv(name))
            old_ = old;
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~ScopedEnv()
    {
        if (old_)
            setenv(name_, old_->c_str(), 1);
        else
            unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv &) = delete;
    ScopedEnv &operator=(const ScopedEnv &) = delete;

private:
    const char *name_;
    std::optional<std::string> old_;
};

TEST(ModeName, RoundTrips)
{
    for (Mode mode : {Mode::Universal, Mode::Debug, Mode::Trace})
        EXPECT_EQ(hpy::universal::parse_mode_name(hpy::universal::mode_name(mode)), mode);
    EXPECT_STREQ(hpy::universal::mode_name(Mode::Debug), "debug");
}

TEST(ModeName, IsExactAndLowerCase)
{
    EXPECT_FALSE(hpy::universal::parse_mode_name("DEBUG"));
    EXPECT_FALSE(hpy::universal::parse_mode_name("debu"));
    EXPECT_FALSE(hpy::universal::parse_mode_name(""));
}

TEST(ModeConfig, EmptyMeansUniversalForAll)
{
    for (const char *text : {"", "   "}) {
        const ModeConfig config = parse_ok(text);
        EXPECT_EQ(config.default_mode(), Mode::Universal);
        EXPECT_EQ(config.mode_for("anything"), Mode::Universal);
    }
}

TEST(ModeConfig, GlobalWordSetsEveryModule)
{
    EXPECT_EQ(parse_ok("universal").mode_for("m"), Mode::Universal);
    EXPECT_EQ(parse_ok("debug").mode_for("m"), Mode::Debug);
    EXPECT_EQ(parse_ok("trace").mode_for("pkg.m"), Mode::Trace);
    EXPECT_EQ(parse_ok(" debug ").default_mode(), Mode::Debug);
}

TEST(ModeConfig, PerModuleByFullDottedName)
{
    const ModeConfig config = parse_ok("mod:debug,other.mod:trace");
    EXPECT_EQ(config.mode_for("mod"), Mode::Debug);
    EXPECT_EQ(config.mode_for("other.mod"), Mode::Trace);
    EXPECT_EQ(config.mode_for("other"), Mode::Universal);    // a package is not its submodules
    EXPECT_EQ(config.mode_for("pkg.mod"), Mode::Universal);  // names match exactly
    EXPECT_EQ(config.mode_for("unlisted"), Mode::Universal);
    EXPECT_EQ(config.default_mode(), Mode::Universal);
}

TEST(ModeConfig, BareWordInListSetsTheDefault)
{
    for (const char *text : {"trace,mod:debug", "mod:debug,trace"}) {
        const ModeConfig config = parse_ok(text);
        EXPECT_EQ(config.mode_for("mod"), Mode::Debug) << text;
        EXPECT_EQ(config.mode_for("other"), Mode::Trace) << text;
    }
    EXPECT_EQ(parse_ok("debug,mod:universal").mode_for("mod"), Mode::Universal);
}

TEST(ModeConfig, ToleratesSpacesAroundEntries)
{
    const ModeConfig config = parse_ok(" a : debug , b:trace ");
    EXPECT_EQ(config.mode_for("a"), Mode::Debug);
    EXPECT_EQ(config.mode_for("b"), Mode::Trace);
}

TEST(ModeConfig, UnknownModeIsAClearError)
{
    const std::string error = parse_error("debugg");
    EXPECT_NE(error.find("unknown mode 'debugg'"), std::string::npos) << error;
    EXPECT_NE(error.find("universal, debug or trace"), std::string::npos) << error;

    EXPECT_NE(parse_error("mod:fast").find("'fast' in entry 'mod:fast'"), std::string::npos);
    EXPECT_NE(parse_error("mod:").find("unknown mode ''"), std::string::npos);
    EXPECT_NE(parse_error("a:b:debug").find("unknown mode 'b:debug'"), std::string::npos);
}

TEST(ModeConfig, MalformedListsAreErrors)
{
    EXPECT_NE(parse_error("a:debug,,b:trace").find("empty entry"), std::string::npos);
    EXPECT_NE(parse_error("a:debug,").find("empty entry"), std::string::npos);
    EXPECT_NE(parse_error(",").find("empty entry"), std::string::npos);
    EXPECT_NE(parse_error(":debug").find("no module name"), std::string::npos);
    EXPECT_NE(parse_error("my mod:debug").find("contains a space"), std::string::npos);
    EXPECT_NE(parse_error("a:debug,a:trace").find("module 'a' is given more than once"), std::string::npos);
    EXPECT_NE(parse_error("debug,trace").find("two default modes"), std::string::npos);
}

TEST(ModeConfig, MovingGcCheckerIsADebugModeSuffix)
{
    const ModeConfig all = parse_ok("debug:movinggc");
    EXPECT_EQ(all.mode_for("m"), Mode::Debug);
    EXPECT_TRUE(all.movinggc_for("m"));
    EXPECT_FALSE(parse_ok("debug").movinggc_for("m"));

    const ModeConfig one = parse_ok("trace, pkg.mod:debug:movinggc , other:debug");
    EXPECT_EQ(one.mode_for("pkg.mod"), Mode::Debug);
    EXPECT_TRUE(one.movinggc_for("pkg.mod"));
    EXPECT_FALSE(one.movinggc_for("other"));  // its own entry says debug alone
    EXPECT_FALSE(one.movinggc_for("unlisted"));
    EXPECT_TRUE(parse_ok("debug:movinggc,m:debug").movinggc_for("x"));  // the default's suffix
    EXPECT_FALSE(parse_ok("debug:movinggc,m:debug").movinggc_for("m"));

    EXPECT_NE(parse_error("trace:movinggc").find("the moving-GC checker runs in debug mode only"),
              std::string::npos);
    EXPECT_NE(parse_error("m:universal:movinggc").find("entry 'm:universal:movinggc'"), std::string::npos);
    EXPECT_NE(parse_error(":movinggc").find("unknown mode 'movinggc'"), std::string::npos);
}

TEST(ModeConfig, ErrorPointerIsOptional)
{
    EXPECT_FALSE(ModeConfig::parse("nonsense").has_value());
    EXPECT_TRUE(ModeConfig::parse("debug").has_value());
}

TEST(LogFlag, OnlyASetNonZeroValueLogs)
{
    using hpy::universal::parse_log_flag;
    EXPECT_FALSE(parse_log_flag(nullptr));
    EXPECT_FALSE(parse_log_flag(""));
    EXPECT_FALSE(parse_log_flag("0"));
    EXPECT_TRUE(parse_log_flag("1"));
    EXPECT_TRUE(parse_log_flag("yes"));
}

TEST(Environment, ReadsHpyAndHpyLog)
{
    ScopedEnv hpy("HPY", "ext:trace,debug");
    ScopedEnv log("HPY_LOG", "1");
    const auto settings = hpy::universal::settings_from_environment();
    ASSERT_TRUE(settings.has_value());
    EXPECT_TRUE(settings->log);
    EXPECT_EQ(settings->modes.mode_for("ext"), Mode::Trace);
    EXPECT_EQ(settings->modes.mode_for("other"), Mode::Debug);
}

TEST(Environment, UnsetMeansUniversalWithoutLog)
{
    ScopedEnv hpy("HPY", nullptr);
    ScopedEnv log("HPY_LOG", nullptr);
    const auto settings = hpy::universal::settings_from_environment();
    ASSERT_TRUE(settings.has_value());
    EXPECT_FALSE(settings->log);
    EXPECT_EQ(settings->modes.mode_for("ext"), Mode::Universal);
}

TEST(Environment, MalformedHpyIsReported)
{
    ScopedEnv hpy("HPY", "ext=debug");
    std::string error;
    EXPECT_FALSE(hpy::universal::settings_from_environment(&error).has_value());
    EXPECT_NE(error.find("invalid HPY=\"ext=debug\""), std::string::npos) << error;
}

}  // namespace
