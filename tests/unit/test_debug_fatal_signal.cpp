// tests/unit/test_debug_fatal_signal.cpp: the reports a debug-mode process prints when it dies of a signal.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <string>

#include "debug/fatal_signal.h"

using hpy::debug::forget_unshown;
using hpy::debug::install_fatal_signal_handler;
using hpy::debug::note_unshown;
using hpy::debug::unshown_reports;

namespace {

// The child died of `sig` (under AddressSanitizer, whose handler runs after ours, it exits non-zero).
struct DiedOf {
    int sig;
    bool operator()(int status) const
    {
        return (WIFSIGNALED(status) && WTERMSIG(status) == sig) ||
               (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    }
};

int key_a, key_b;  // two exceptions a report may wait in

class FatalSignal : public ::testing::Test {
protected:
    void TearDown() override
    {
        forget_unshown(&key_a);
        forget_unshown(&key_b);
    }
};

}  // namespace

TEST_F(FatalSignal, KeptReportsAreListedOldestFirstUntilShown)
{
    note_unshown(&key_a, "[builder-misuse] HPyTupleBuilder_Build: built twice");
    note_unshown(&key_b, "[wrong-shape] _HPy_AsStruct_Object: not an HPy object type");
    note_unshown(&key_a, "[builder-misuse] HPyTupleBuilder_Set: after build");
    EXPECT_EQ(unshown_reports(), "[builder-misuse] HPyTupleBuilder_Build: built twice\n"
                                 "[wrong-shape] _HPy_AsStruct_Object: not an HPy object type\n"
                                 "[builder-misuse] HPyTupleBuilder_Set: after build\n");
    forget_unshown(&key_a);  // raised: the reports waiting with it are shown
    EXPECT_EQ(unshown_reports(), "[wrong-shape] _HPy_AsStruct_Object: not an HPy object type\n");
}

TEST_F(FatalSignal, OnlyTheNewestFewAreKeptAndLongTextsAreCut)
{
    for (int i = 0; i < 20; ++i)
        note_unshown(&key_a, "report " + std::to_string(i));
    std::string kept = unshown_reports();
    EXPECT_EQ(kept.find("report 11\n"), std::string::npos) << kept;
    EXPECT_NE(kept.find("report 12\nreport 13\n"), std::string::npos) << kept;
    EXPECT_NE(kept.find("report 19\n"), std::string::npos) << kept;
    forget_unshown(&key_a);
    note_unshown(&key_b, std::string(100000, 'x'));
    EXPECT_LT(unshown_reports().size(), 5000u);
}

TEST_F(FatalSignal, ADeathBySignalPrintsTheReportsNotShown)
{
    EXPECT_EXIT(
        {
            install_fatal_signal_handler();
            note_unshown(&key_a, "[wrong-shape] _HPy_AsStruct_Object: a 'list' object");
            // What an extension does with the invalid pointer it was given: a real fault (a store
            // through nullptr would be undefined behaviour, which UBSan stops first).
            void *page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            *static_cast<volatile int *>(page) = 1;
        },
        DiedOf{SIGSEGV},
        "hpy.debug: the process dies of SIGSEGV with reports of the debug context not raised yet.*\n"
        "hpy.debug: \\[wrong-shape\\] _HPy_AsStruct_Object: a 'list' object\n");
    EXPECT_EXIT(
        {
            install_fatal_signal_handler();
            note_unshown(&key_b, "[builder-misuse] HPyListBuilder_Build: built twice");
            abort();
        },
        DiedOf{SIGABRT}, "dies of SIGABRT.*\n.*\\[builder-misuse\\] HPyListBuilder_Build: built twice");
}

TEST_F(FatalSignal, NothingIsPrintedWhenEveryReportWasShown)
{
    EXPECT_EXIT(
        {
            install_fatal_signal_handler();
            note_unshown(&key_a, "shown");
            forget_unshown(&key_a);
            fprintf(stderr, "before\n");
            abort();
        },
        DiedOf{SIGABRT}, "^before\n$");
}
