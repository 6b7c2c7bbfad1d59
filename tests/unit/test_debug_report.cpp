// tests/unit/test_debug_report.cpp: GoogleTest tests of the debug reports' texts and routing (debug/report.cpp).
#include "debug/report.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using hpy::debug::Hooks;
using hpy::debug::route_report;
using hpy::debug::Settings;
using hpy::debug::Sink;
using Reaction = hpy::debug::Settings::Reaction;

TEST(DebugReport, MessageNamesCheckFunctionObjectAndStack)
{
    using hpy::debug::format_report;
    EXPECT_EQ(format_report("use-after-close", "HPy_Add", "argument 'h1' is a handle that was already closed",
                            "a 'int' object, closed by HPy_Close", ""),
              "[use-after-close] HPy_Add: argument 'h1' is a handle that was already closed "
              "(a 'int' object, closed by HPy_Close)");
    EXPECT_EQ(format_report("no-gil", "HPyLong_FromInt64_t", "no GIL", "", ""),
              "[no-gil] HPyLong_FromInt64_t: no GIL");
    EXPECT_EQ(format_report("leak", "LeakDetector", "1 handle", "a 'str' object: 'x'",
                            "opened at:\n    m.so(f+0x1)\n"),
              "[leak] LeakDetector: 1 handle (a 'str' object: 'x')\nopened at:\n    m.so(f+0x1)\n");
}

TEST(DebugReport, PlaceLinesComeIndentedBeforeTheStack)
{
    using hpy::debug::format_report;
    EXPECT_EQ(format_report("unset-global", "HPyGlobal_Load", "the global was never stored", "", "",
                            "called from f_impl at m.c:7"),
              "[unset-global] HPyGlobal_Load: the global was never stored\n    called from f_impl at m.c:7");
    EXPECT_EQ(
        format_report("double-close", "HPy_Close", "closed", "a 'str' object", "opened at:\n    m.so(f)\n",
                      "called from f_impl at m.c:9\nopened by HPyUnicode_FromString in f_impl at m.c:6"),
        "[double-close] HPy_Close: closed (a 'str' object)\n    called from f_impl at m.c:9\n"
        "    opened by HPyUnicode_FromString in f_impl at m.c:6\nopened at:\n    m.so(f)\n");
}

TEST(DebugReport, ReprIsBounded)
{
    using hpy::debug::bounded;
    std::string eighty(80, 'a');
    EXPECT_EQ(bounded(eighty), eighty);
    EXPECT_EQ(bounded(eighty + "b"), std::string(77, 'a') + "...");
    EXPECT_EQ(bounded(eighty + "b").size(), 80u);
    EXPECT_EQ(bounded("abcdef", 5), "ab...");
    EXPECT_EQ(hpy::debug::describe_open("list", "[" + std::string(200, '1') + "]"),
              "a 'list' object: [" + std::string(76, '1') + "...");
    EXPECT_EQ(hpy::debug::describe_open("int", "42"), "a 'int' object: 42");
}

TEST(DebugReport, ClosedObjectsNameTheirTypeWhenKept)
{
    using hpy::debug::describe_closed;
    EXPECT_EQ(describe_closed("str", "HPy_Close"), "a 'str' object, closed by HPy_Close");
    EXPECT_EQ(describe_closed("", "the end of the call"), "an object, closed by the end of the call");
    EXPECT_EQ(describe_closed(nullptr, nullptr), "an object");
    EXPECT_EQ(describe_closed("int", "HPy_Close", "f_impl at m.c:6"),
              "a 'int' object, closed by HPy_Close in f_impl at m.c:6");
    EXPECT_EQ(describe_closed(nullptr, nullptr, "f_impl at m.c:6"), "an object") << "no closer, no place";
}

TEST(DebugReport, CheckClasses)
{
    for (const char *c : {"invalid-handle", "use-after-close", "double-close"}) {
        EXPECT_TRUE(hpy::debug::is_handle_check(c)) << c;
        EXPECT_FALSE(hpy::debug::is_builder_check(c)) << c;
    }
    EXPECT_TRUE(hpy::debug::is_builder_check("builder-misuse"));
    EXPECT_TRUE(hpy::debug::is_handle_check("return-closed"));
    EXPECT_TRUE(hpy::debug::is_handle_check("close-constant"));
    EXPECT_FALSE(hpy::debug::is_handle_check("leak"));
}

TEST(DebugReport, HpyTextsOfTheChecksHpy09Makes)
{
    EXPECT_STREQ(hpy::debug::hpy_text("double-close"), "Invalid usage of already closed handle");
    EXPECT_STREQ(hpy::debug::hpy_text("return-constant"), "Invalid usage of already closed handle");
    EXPECT_STREQ(hpy::debug::hpy_text("builder-misuse"), "Invalid usage of already closed builder");
    EXPECT_STREQ(hpy::debug::hpy_text("context-reused"), "Error: Wrong HPy Context!");
    EXPECT_EQ(hpy::debug::hpy_text("leak"), nullptr);
}

TEST(DebugReport, HpyReactionIsFatalForHpyChecksWithoutTheirHook)
{
    Hooks none;
    EXPECT_EQ(route_report("double-close", Reaction::Hpy, none, true), Sink::Fatal);
    EXPECT_EQ(route_report("unset-field", Reaction::Hpy, none, false), Sink::Pending) << "unihpy's own check";
    Hooks h;
    h.on_invalid_handle = true;
    EXPECT_EQ(route_report("double-close", Reaction::Hpy, h, true), Sink::HandleHook);
    EXPECT_EQ(route_report("builder-misuse", Reaction::Hpy, h, true), Sink::Fatal) << "no builder hook";
    EXPECT_EQ(route_report("double-close", Reaction::Raise, none, true), Sink::Pending);
}

TEST(DebugReport, RaiseIsPendingUntilTheReturnToPython)
{
    Hooks none;
    EXPECT_EQ(route_report("leak", Reaction::Raise, none), Sink::Pending);
    Hooks pending;
    pending.pending = true;
    EXPECT_EQ(route_report("leak", Reaction::Raise, pending), Sink::Recorded) << "the first report is raised";
    Hooks user;
    user.on_report = true;  // set but not the reaction: ignored
    EXPECT_EQ(route_report("leak", Reaction::Raise, user), Sink::Pending);
}

TEST(DebugReport, HookReactionCallsTheHookForEveryReport)
{
    Hooks h;
    h.on_report = true;
    EXPECT_EQ(route_report("return-argument", Reaction::Hook, h), Sink::UserHook);
    h.pending = true;
    EXPECT_EQ(route_report("return-argument", Reaction::Hook, h), Sink::UserHook);
    EXPECT_EQ(route_report("return-argument", Reaction::Hook, Hooks{}), Sink::Pending) << "no hook given";
}

TEST(DebugReport, InvalidHandleAndBuilderCallbacksTakeTheirChecks)
{
    Hooks h;
    h.on_invalid_handle = true;
    h.on_invalid_builder = true;
    h.on_report = true;
    EXPECT_EQ(route_report("use-after-close", Reaction::Raise, h), Sink::HandleHook);
    EXPECT_EQ(route_report("double-close", Reaction::Hook, h), Sink::HandleHook);
    EXPECT_EQ(route_report("builder-misuse", Reaction::Raise, h), Sink::BuilderHook);
    EXPECT_EQ(route_report("leak", Reaction::Hook, h), Sink::UserHook);
    Hooks only_builder;
    only_builder.on_invalid_builder = true;
    EXPECT_EQ(route_report("invalid-handle", Reaction::Raise, only_builder), Sink::Pending);
}

TEST(DebugReport, AbortWinsOverEveryHook)
{
    Hooks h;
    h.on_invalid_handle = h.on_invalid_builder = h.on_report = true;
    for (const char *c : {"invalid-handle", "builder-misuse", "leak"})
        EXPECT_EQ(route_report(c, Reaction::Abort, h), Sink::Abort) << c;
}

TEST(DebugReportDeathTest, AbortPrintsHpysLineFirst)
{
    EXPECT_DEATH(hpy::debug::abort_with_report("[double-close] HPy_Close: closed",
                                               "Invalid usage of already closed handle"),
                 "Invalid usage of already closed handle\nhpy\\.debug: \\[double-close\\]");
}

TEST(DebugReportDeathTest, AbortPrintsTheReport)
{
    EXPECT_DEATH(hpy::debug::abort_with_report("[double-close] HPy_Close: the handle is already closed"),
                 "hpy\\.debug: \\[double-close\\] HPy_Close: the handle is already closed");
}

}  // namespace
