// tests/unit/test_debug_handles.cpp: GoogleTest tests of the debug context's handle table and protected
// raw data (debug/handles.cpp), without an interpreter: the universal handles stored are plain numbers.
#include "debug/handles.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <vector>

namespace {

using hpy::debug::encode;
using hpy::debug::Handle;
using hpy::debug::HandleState;
using hpy::debug::HandleTable;
using hpy::debug::Lookup;
using hpy::debug::Settings;

HPy universal(intptr_t n)
{
    return HPy{n * 16};  // an aligned value, like a PyObject*
}

std::vector<uint64_t> ids(const std::vector<Handle *> &list)
{
    std::vector<uint64_t> out;
    for (const Handle *h : list)
        out.push_back(h->id);
    return out;
}

// A child killed by SIGSEGV (or, under AddressSanitizer, whose handler runs after ours, exited non-zero).
bool faulted(int status)
{
    return (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) ||
           (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

class DebugHandles : public ::testing::Test {
protected:
    HandleTable table;
    Settings &settings = table.settings;
};

TEST_F(DebugHandles, OpenHandleIsFoundOpenWithItsUniversalHandle)
{
    Handle *h = table.open(universal(1), true, false);
    HPy v = encode(h);
    EXPECT_EQ(v._i & 1, 1) << "a debug handle is odd: never an aligned PyObject*";
    auto f = table.lookup(v);
    EXPECT_EQ(f.what, Lookup::Open);
    EXPECT_EQ(f.h, h);
    EXPECT_EQ(f.h->uh._i, universal(1)._i);
    EXPECT_TRUE(h->owns);
    EXPECT_FALSE(h->is_arg);
    EXPECT_EQ(table.open_list().size(), 1u);
    EXPECT_EQ(table.lookup(HPy{0}).what, Lookup::Null);
}

TEST_F(DebugHandles, SameObjectGetsDistinctHandlesAndIds)
{
    Handle *a = table.open(universal(7), false, true);
    Handle *b = table.open(universal(7), true, false);
    EXPECT_NE(encode(a)._i, encode(b)._i);
    EXPECT_NE(a->id, b->id);
    EXPECT_TRUE(a->is_arg);
    EXPECT_EQ(ids(table.open_list()), (std::vector<uint64_t>{a->id, b->id}));
}

TEST_F(DebugHandles, GarbageValuesAreInvalidWithoutBeingDereferenced)
{
    table.open(universal(1), true, false);
    // None of these point anywhere valid: lookup only compares them with the table's own slots.
    for (intptr_t garbage : {intptr_t{16}, intptr_t{0x7f0000001000}, intptr_t{-2}, intptr_t{(1LL << 40) | 1},
                             intptr_t{(5LL << 21) | 1}, intptr_t{INTPTR_MAX}}) {
        auto f = table.lookup(HPy{garbage});
        EXPECT_EQ(f.what, Lookup::Invalid) << garbage;
        EXPECT_EQ(f.h, nullptr);
    }
}

TEST_F(DebugHandles, CloseKeepsTypeAndWhoClosed)
{
    Handle *h = table.open(universal(2), true, false);
    HPy v = encode(h);
    table.close(h, "HPy_Close", "a_rather_long_type_name_that_does_not_fit_in_the_record", false, false);
    auto f = table.lookup(v);
    EXPECT_EQ(f.what, Lookup::Closed);
    EXPECT_EQ(f.h->state, HandleState::Closed);
    EXPECT_STREQ(f.h->closed_by, "HPy_Close");
    EXPECT_EQ(f.h->closed_type, f.h->type_copy) << "a heap type's name is copied";
    EXPECT_EQ(std::string(f.h->closed_type),
              std::string("a_rather_long_type_name_that_does_not_fit_in_the_record")
                  .substr(0, sizeof f.h->type_copy - 1));
    EXPECT_EQ(table.open_list().size(), 0u);
    EXPECT_EQ(ids(table.closed_list()), std::vector<uint64_t>{h->id});

    Handle *arg = table.open(universal(3), false, true);
    table.close(arg, "the end of the call", nullptr, false, false);
    EXPECT_EQ(arg->closed_type, nullptr);

    static const char static_name[] = "int";
    Handle *st = table.open(universal(4), true, false);
    table.close(st, "return", static_name, true, false);
    EXPECT_EQ(st->closed_type, static_name) << "a static type's name is kept as it is";
    EXPECT_FALSE(arg->is_arg);
}

TEST_F(DebugHandles, GenerationsTagNewHandles)
{
    Handle *old = table.open(universal(1), true, false);
    EXPECT_EQ(old->generation, 0u);
    EXPECT_EQ(table.new_generation(), 1u);
    Handle *young = table.open(universal(2), true, false);
    EXPECT_EQ(young->generation, 1u);
    EXPECT_EQ(table.generation(), 1u);
    EXPECT_EQ(table.new_generation(), 2u);
    EXPECT_EQ(table.open(universal(3), true, false)->generation, 2u);
}

TEST_F(DebugHandles, ClosedQueueIsBoundedOldestFirst)
{
    settings.closed_queue_max = 3;
    table.trim();  // a new limit applies from the next trim (hpy.universal._debug calls it)
    std::vector<HPy> values;
    std::vector<uint64_t> all;
    for (int i = 0; i < 10; ++i) {
        Handle *h = table.open(universal(i + 1), true, false);
        values.push_back(encode(h));
        all.push_back(h->id);
    }
    for (HPy v : values)
        table.close(table.lookup(v).h, "HPy_Close", "int", false, false);
    EXPECT_EQ(ids(table.closed_list()), (std::vector<uint64_t>{all[7], all[8], all[9]}));
    for (int i = 0; i < 7; ++i)
        EXPECT_EQ(table.lookup(values[i]).what, Lookup::Stale) << i;  // freed: still never "open"
    for (int i = 7; i < 10; ++i)
        EXPECT_EQ(table.lookup(values[i]).what, Lookup::Closed) << i;

    settings.closed_queue_max = 1;  // a lower limit applies at the next trim
    table.trim();
    EXPECT_EQ(ids(table.closed_list()), std::vector<uint64_t>{all[9]});
    settings.closed_queue_max = 0;
    table.trim();
    EXPECT_EQ(table.closed_count(), 0u);
}

TEST_F(DebugHandles, ReusedSlotMakesTheOldValueStale)
{
    settings.closed_queue_max = 0;  // slots are freed at once
    table.trim();
    Handle *h = table.open(universal(1), true, false);
    HPy old = encode(h);
    table.close(h, "HPy_Close", "int", false, false);
    Handle *again = table.open(universal(2), true, false);
    EXPECT_EQ(again, h) << "the free list reissues the slot";
    EXPECT_NE(encode(again)._i, old._i);
    auto f = table.lookup(old);
    EXPECT_EQ(f.what, Lookup::Stale);
    EXPECT_EQ(f.h, again);
    EXPECT_EQ(table.lookup(encode(again)).what, Lookup::Open);
}

TEST_F(DebugHandles, SlotsAreRecycledNotAllocatedPerHandle)
{
    settings.closed_queue_max = 4;
    table.trim();  // a new limit applies from the next trim (hpy.universal._debug calls it)
    std::set<const Handle *> slots;
    for (int i = 0; i < 10000; ++i) {
        Handle *a = table.open(universal(i), false, true);
        Handle *b = table.open(universal(i), true, false);
        slots.insert(a);
        slots.insert(b);
        table.close(b, "HPy_Close", "int", false, false);
        table.close(a, "the end of the call", nullptr, false, false);
    }
    EXPECT_LE(slots.size(), 6u) << "2 open at a time + 4 queued";
}

TEST_F(DebugHandles, ArgumentsAreListedAndQueuedAsEveryHandle)
{
    Handle *h = table.open(universal(5), false, true);
    HPy first = encode(h);
    EXPECT_TRUE(h->is_arg);
    EXPECT_FALSE(h->owns);
    EXPECT_EQ(table.open_list().size(), 1u) << "open while its call runs";
    table.close(h, "the end of the call", nullptr, false, false);
    EXPECT_EQ(table.lookup(first).what, Lookup::Closed);
    EXPECT_STREQ(table.lookup(first).h->closed_by, "the end of the call");
    EXPECT_EQ(table.closed_count(), 1u);
    EXPECT_EQ(table.open_list().size(), 0u);
}

TEST_F(DebugHandles, FullQueueHandsOutItsOldestSlot)
{
    std::vector<Handle *> hs;
    for (int i = 0; i < 5; ++i)
        hs.push_back(table.open(universal(i + 1), true, false));
    for (Handle *h : hs)
        table.close(h, "HPy_Close", "int", false, false);
    EXPECT_EQ(table.closed_count(), 5u);
    settings.closed_queue_max = 2;  // lowered: nothing is freed now...
    EXPECT_EQ(table.closed_count(), 5u);
    EXPECT_EQ(table.open(universal(10), true, false), hs[0]) << "...the oldest queued slot is reused";
    EXPECT_EQ(table.open(universal(11), true, false), hs[1]);
    EXPECT_EQ(table.closed_count(), 3u) << "the queue shrinks by one slot per handle opened";
    Handle *c = table.open(universal(12), true, false);
    EXPECT_EQ(c, hs[2]);
    table.close(c, "HPy_Close", "int", false, false);
    EXPECT_EQ(table.closed_count(), 2u) << "a close beyond the limit frees the oldest";
}

TEST_F(DebugHandles, ConstantsStayOpenAndAreNoLeak)
{
    Handle *c = table.constant(universal(1), "h_None");
    EXPECT_EQ(table.lookup(encode(c)).what, Lookup::Open);
    EXPECT_STREQ(c->const_name, "h_None");
    EXPECT_EQ(table.open_list().size(), 0u);
}

TEST_F(DebugHandles, StackIsRecordedOnlyWhenEnabled)
{
    EXPECT_FALSE(table.open(universal(1), true, false)->stack);
    settings.stack_limit = 3;
    Handle *h = table.open(universal(2), true, false);
    ASSERT_TRUE(h->stack);
    EXPECT_GE(h->stack->size(), 1u);
    EXPECT_LE(h->stack->size(), 3u);
    settings.stack_limit = 0;
    settings.closed_queue_max = 0;
    table.trim();  // a new limit applies from the next trim (hpy.universal._debug calls it)
    table.close(h, "HPy_Close", "int", false, false);
    Handle *again = table.open(universal(3), true, false);
    EXPECT_EQ(again, h);
    EXPECT_FALSE(again->stack) << "a reused slot does not keep an old stack";
}

TEST_F(DebugHandles, WhereEachHandleOpenedAndClosedIsKeptAndClearedOnReuse)
{
    static const char opener[] = "HPyLong_FromLong";
    int site_a = 0, site_b = 0;  // two addresses standing for return addresses in an extension
    Handle *h = table.open(universal(1), true, false, opener, &site_a);
    EXPECT_EQ(h->opened_by, opener);
    EXPECT_EQ(h->opened_at, &site_a);
    table.close(h, "HPy_Close", "int", true, false, false, &site_b);
    EXPECT_EQ(h->closed_at, &site_b);
    EXPECT_FALSE(h->closed_at_entry);
    EXPECT_EQ(h->opened_at, &site_a) << "kept once closed, for the use-after-close report";
    Handle *arg = table.open(universal(2), false, true);
    EXPECT_EQ(arg->opened_by, nullptr);
    table.close(arg, "the end of the call", nullptr, false, false, false, &site_a, true);
    EXPECT_TRUE(arg->closed_at_entry);
    settings.closed_queue_max = 0;
    table.trim();
    Handle *again = table.open(universal(3), true, false);
    EXPECT_TRUE(again == h || again == arg);
    EXPECT_EQ(again->opened_by, nullptr) << "a reused slot does not keep an old location";
    EXPECT_EQ(again->opened_at, nullptr);
    EXPECT_EQ(again->closed_at, nullptr);
}

TEST(DebugStacks, CaptureStackHonoursLimitAndSkip)
{
    EXPECT_EQ(hpy::debug::capture_stack(0, 0), nullptr);
    auto limited = hpy::debug::capture_stack(2, 0);
    ASSERT_TRUE(limited);
    EXPECT_EQ(limited->size(), 2u);
    // With room for the whole stack, skipping one frame gives one frame less and the same outermost
    // frames. (Which innermost frames the unwinder reports differs between builds: ASan intercepts
    // backtrace(); so the innermost addresses are not compared.)
    auto all = hpy::debug::capture_stack(256, 0);
    auto skipped = hpy::debug::capture_stack(256, 1);
    ASSERT_TRUE(all && skipped);
    ASSERT_LT(all->size(), 256u);
    EXPECT_EQ(skipped->size() + 1, all->size()) << "skip drops the innermost frames (here this test's own)";
    EXPECT_EQ(skipped->back(), all->back());
}

// ---------------------------------------------------------------- protected raw data

TEST_F(DebugHandles, RawDataIsAReadOnlyCopy)
{
    hpy::debug::explain_faults(true);
    Handle *h = table.open(universal(1), true, false);
    char text[] = "protected text";
    const char *copy = table.protect_raw_data(h, text, sizeof text, "HPyUnicode_AsUTF8AndSize");
    ASSERT_NE(copy, text);
    EXPECT_STREQ(copy, "protected text");
    EXPECT_EQ(h->raw.size, sizeof text);
    EXPECT_EQ(h->raw.mapped % static_cast<size_t>(sysconf(_SC_PAGESIZE)), 0u);
    EXPECT_EQ(table.protect_raw_data(h, text, sizeof text, "HPyUnicode_AsUTF8AndSize"), copy)
        << "unchanged data: the same copy";
    EXPECT_EXIT(const_cast<char *>(copy)[0] = 'x', faulted,
                "hpy.debug: read-only-raw-data: a write into the read-only data returned by "
                "HPyUnicode_AsUTF8AndSize \\(handle id [0-9]+\\)");
}

TEST_F(DebugHandles, RawDataIsInaccessibleOnceClosed)
{
    hpy::debug::explain_faults(true);
    Handle *h = table.open(universal(1), false, true);
    const char *copy = table.protect_raw_data(h, "abc", 4, "HPyBytes_AsString");
    table.close(h, "the end of the call", "bytes", false, true);
    EXPECT_TRUE(h->raw.inaccessible);
    EXPECT_EQ(table.protected_total(), h->raw.size) << "the budget counts bytes of data";
    EXPECT_EXIT(
        {
            volatile char c = copy[0];
            (void)c;
        },
        faulted,
        "hpy.debug: raw-data-after-close: a read of the raw data returned by HPyBytes_AsString for a handle "
        "\\(id [0-9]+\\) that is closed");
}

TEST_F(DebugHandles, RawDataOfAnObjectStillReferencedStaysReadable)
{
    Handle *h = table.open(universal(1), true, false);
    const char *copy = table.protect_raw_data(h, "abc", 4, "HPyBytes_AsString");
    table.close(h, "HPy_Close", "bytes", false, false);
    EXPECT_STREQ(copy, "abc");
    EXPECT_EQ(table.protected_total(), 0u);
}

TEST_F(DebugHandles, ProtectedRawDataAreBounded)
{
    settings.protected_raw_data_max = 10;  // bytes of data
    std::vector<Handle *> hs;
    for (int i = 0; i < 4; ++i) {
        Handle *h = table.open(universal(i + 1), false, true);
        table.protect_raw_data(h, "abcd", 5, "HPyBytes_AsString");
        hs.push_back(h);
    }
    for (Handle *h : hs)
        table.close(h, "the end of the call", "bytes", false, true);
    EXPECT_EQ(table.protected_total(), 10u);
    EXPECT_NE(hs[0]->raw.base, nullptr) << "the first ones fit and stay protected";
    EXPECT_NE(hs[1]->raw.base, nullptr);
    EXPECT_EQ(hs[2]->raw.base, nullptr) << "data beyond the budget are released at close";
    EXPECT_EQ(hs[3]->raw.base, nullptr);
    EXPECT_EQ(table.closed_count(), 4u) << "the slots stay queued";
    settings.closed_queue_max = 0;
    table.trim();
    EXPECT_EQ(table.protected_total(), 0u);
}

}  // namespace
