// SPDX-License-Identifier: GPL-2.0
// The tuning policy, one window at a time on a fake clock (each window says how long it lasted):
// the cache grows when it misses with more flows than entries and shrinks when idle, batches
// grow when full at a high rate and shrink when mostly partial, always after enough windows in
// a row, never outside the bounds, never back and forth within the cooldown, and never for
// windows that alternate.
#include "tuning/policy.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mutexd::tuning {
namespace {

using std::chrono::milliseconds;

mutex::config::TuningSettings bounds() {
    mutex::config::TuningSettings b;
    b.cache_size_min = 256;
    b.cache_size_max = 16384;
    b.batch_size_min = 1;
    b.batch_size_max = 64;
    return b;
}

/// A window of 10 s: the cache misses `miss_share` of `lookups`, `flows` in the table, and
/// `pkts` packets folded in `folds` folds.
Window window(std::uint64_t lookups, double miss_share, std::uint64_t flows, std::uint64_t pkts = 0,
              std::uint64_t folds = 0) {
    Window w;
    w.elapsed = milliseconds(10000);
    w.cache_misses = static_cast<std::uint64_t>(static_cast<double>(lookups) * miss_share);
    w.cache_hits = lookups - w.cache_misses;
    w.flow_count = flows;
    w.pkts_steered = pkts;
    w.batch_flushes = folds;
    return w;
}

const Window kMissing = window(100000, 0.7, 3000);  // 30% hits, 3000 flows
const Window kIdle = window(500, 0.0, 10);          // a few flows, few lookups
const Window kQuiet = window(100000, 0.05, 800);    // hits, flows within the cache

struct Step {
    Window window;
    std::optional<std::uint32_t> cache_to;  // the change to perf_cache_size, if any
    std::optional<std::uint32_t> batch_to;
};

struct Case {
    std::string name;
    Current start;
    std::vector<Step> steps;
};

/// Runs the steps, applying each change as the daemon does, and checks each step's changes.
void run(const Case& c) {
    Policy policy(bounds());
    Current now = c.start;
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
        const auto actions = policy.decide(c.steps[i].window, now);
        std::optional<std::uint32_t> cache_to;
        std::optional<std::uint32_t> batch_to;
        for (const auto& a : actions) {
            EXPECT_FALSE(a.reason.empty());
            EXPECT_FALSE(a.detail.empty());
            EXPECT_NE(a.from, a.to) << c.name << " step " << i;
            if (a.parameter == "perf_cache_size") {
                EXPECT_EQ(a.from, now.cache_size);
                cache_to = a.to;
                now.cache_size = a.to;
            } else {
                EXPECT_EQ(a.parameter, "perf_batch_size");
                EXPECT_EQ(a.from, now.batch_size);
                batch_to = a.to;
                now.batch_size = a.to;
            }
        }
        EXPECT_EQ(cache_to, c.steps[i].cache_to) << c.name << ": cache at step " << i;
        EXPECT_EQ(batch_to, c.steps[i].batch_to) << c.name << ": batch at step " << i;
        if (now.batching) {
            EXPECT_GE(now.batch_size, bounds().batch_size_min);
            EXPECT_LE(now.batch_size, bounds().batch_size_max);
        }
        if (now.cache_size != 0) {
            EXPECT_GE(now.cache_size, bounds().cache_size_min);
            EXPECT_LE(now.cache_size, bounds().cache_size_max);
        }
    }
}

TEST(TuningPolicy, Cases) {
    const Current normal{.cache_size = 1024, .batch_size = 16, .batching = true};
    const std::vector<Case> cases = {
        {"a missing cache grows to the flows' power of two after two windows",
         normal,
         {{kMissing, {}, {}}, {kMissing, 4096, {}}, {kMissing, {}, {}}, {kQuiet, {}, {}}}},
        {"one missing window is not enough",
         normal,
         {{kMissing, {}, {}}, {kQuiet, {}, {}}, {kMissing, {}, {}}, {kQuiet, {}, {}}}},
        {"growth stops at the bound",
         {.cache_size = 8192, .batch_size = 16},
         {{window(100000, 0.7, 100000), {}, {}},
          {window(100000, 0.7, 100000), 16384, {}},
          {window(100000, 0.7, 100000), {}, {}},
          {window(100000, 0.7, 100000), {}, {}}}},
        {"misses with fewer flows than entries: size is not the problem",
         normal,
         {{window(100000, 0.7, 900), {}, {}}, {window(100000, 0.7, 900), {}, {}}}},
        {"too few lookups say nothing",
         normal,
         {{window(999, 0.9, 3000), {}, {}}, {window(999, 0.9, 3000), {}, {}}}},
        {"an idle cache halves every three windows down to the bound",
         {.cache_size = 1024, .batch_size = 16},
         {{kIdle, {}, {}},
          {kIdle, {}, {}},
          {kIdle, 512, {}},
          {kIdle, {}, {}},
          {kIdle, {}, {}},
          {kIdle, 256, {}},
          {kIdle, {}, {}},
          {kIdle, {}, {}},
          {kIdle, {}, {}}}},
        {"shrinking keeps twice the flows",
         {.cache_size = 8192, .batch_size = 16},
         {{window(500, 0, 1500), {}, {}},
          {window(500, 0, 1500), {}, {}},
          {window(500, 0, 1500), 4096, {}},
          {window(500, 0, 1500), {}, {}},
          {window(500, 0, 1500), {}, {}},
          {window(500, 0, 1500), {}, {}}}},
        {"after growing, no shrink within the cooldown",
         normal,
         {{kMissing, {}, {}},
          {kMissing, 4096, {}},
          {kIdle, {}, {}},
          {kIdle, {}, {}},
          {kIdle, {}, {}},  // three idle windows, but within the cooldown
          {kIdle, 2048, {}}}},
        {"windows that alternate change nothing",
         normal,
         {{kMissing, {}, {}},
          {kIdle, {}, {}},
          {kMissing, {}, {}},
          {kIdle, {}, {}},
          {kMissing, {}, {}},
          {kIdle, {}, {}},
          {kMissing, {}, {}},
          {kIdle, {}, {}}}},
        {"values outside the bounds are brought back at once",
         {.cache_size = 65536, .batch_size = 128},
         {{kQuiet, 16384, 64}, {kQuiet, {}, {}}}},
        {"a cache of 0 and batching off are left alone",
         {.cache_size = 0, .batch_size = 200, .batching = false},
         {{kMissing, {}, {}}, {kMissing, {}, {}}, {kMissing, {}, {}}}},
        {"full batches at a high rate grow after two windows, up to the bound",
         {.cache_size = 1024, .batch_size = 16},
         // 500,000 packets/s in folds of 16, then of 32, then of 64
         {{window(100000, 0.05, 800, 5000000, 312500), {}, {}},
          {window(100000, 0.05, 800, 5000000, 312500), {}, 32},
          {window(100000, 0.05, 800, 5000000, 156250), {}, {}},
          {window(100000, 0.05, 800, 5000000, 156250), {}, 64},
          {window(100000, 0.05, 800, 5000000, 78125), {}, {}},
          {window(100000, 0.05, 800, 5000000, 78125), {}, {}}}},
        {"full batches at a low rate stay",
         {.cache_size = 1024, .batch_size = 16},
         {{window(100000, 0.05, 800, 16000, 1000), {}, {}},
          {window(100000, 0.05, 800, 16000, 1000), {}, {}}}},
        {"mostly partial folds halve the batch after three windows",
         {.cache_size = 1024, .batch_size = 64},
         // folds of 2 packets
         {{window(100000, 0.05, 800, 200000, 100000), {}, {}},
          {window(100000, 0.05, 800, 200000, 100000), {}, {}},
          {window(100000, 0.05, 800, 200000, 100000), {}, 32},
          {window(100000, 0.05, 800, 200000, 100000), {}, {}},
          {window(100000, 0.05, 800, 200000, 100000), {}, {}},
          {window(100000, 0.05, 800, 200000, 100000), {}, 16}}},
        {"folds in the dead band change nothing",
         {.cache_size = 1024, .batch_size = 16},
         {{window(100000, 0.05, 800, 8000000, 1000000), {}, {}},
          {window(100000, 0.05, 800, 8000000, 1000000), {}, {}},
          {window(100000, 0.05, 800, 8000000, 1000000), {}, {}},
          {window(100000, 0.05, 800, 8000000, 1000000), {}, {}}}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        run(c);
    }
}

TEST(TuningPolicy, ReasonsCarryTheNumbers) {
    Policy policy(bounds());
    const Current now{.cache_size = 1024, .batch_size = 16};
    EXPECT_TRUE(policy.decide(kMissing, now).empty());
    const auto actions = policy.decide(kMissing, now);
    ASSERT_EQ(actions.size(), 1U);
    EXPECT_EQ(actions[0].reason, "hit_rate_low");
    EXPECT_EQ(actions[0].detail, "hit rate 30% of 100000 lookups, 3000 flows for 1024 entries");
}

}  // namespace
}  // namespace mutexd::tuning
