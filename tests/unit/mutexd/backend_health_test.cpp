// SPDX-License-Identifier: GPL-2.0
// The health state machine, driven by a fake clock: rise, fall, flapping and recovery after the
// hold-down, as tables of (time, check result) -> state.
#include "health/backend_health.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace mutexd::health {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Step {
    int at_ms;    // when the check ended, from the start
    bool ok;      // its result
    Health want;  // the state after it
    bool change;  // whether this check changed the state
};

struct Case {
    const char* name;
    Rules rules;
    Health initial;
    std::vector<Step> steps;
};

constexpr bool kOk = true;
constexpr bool kFail = false;
constexpr Health kUp = Health::up;
constexpr Health kDown = Health::down;

Rules rules(unsigned rise, unsigned fall, unsigned flap_limit = 100,
            milliseconds window = seconds(60), milliseconds hold = seconds(30)) {
    return Rules{rise, fall, flap_limit, window, hold};
}

const std::vector<Case>& cases() {
    static const std::vector<Case> all{
        {"down after fall failures in a row",
         rules(2, 3),
         kUp,
         {{0, kFail, kUp, false}, {2000, kFail, kUp, false}, {4000, kFail, kDown, true}}},
        {"a success resets the failures",
         rules(2, 3),
         kUp,
         {{0, kFail, kUp, false},
          {2000, kFail, kUp, false},
          {4000, kOk, kUp, false},
          {6000, kFail, kUp, false},
          {8000, kFail, kUp, false},
          {10000, kFail, kDown, true}}},
        {"up after rise successes in a row",
         rules(2, 3),
         kDown,
         {{0, kOk, kDown, false}, {2000, kOk, kUp, true}, {4000, kOk, kUp, false}}},
        {"a failure resets the successes",
         rules(3, 1),
         kDown,
         {{0, kOk, kDown, false},
          {1000, kOk, kDown, false},
          {2000, kFail, kDown, false},
          {3000, kOk, kDown, false},
          {4000, kOk, kDown, false},
          {5000, kOk, kUp, true}}},
        {"fall 1 and rise 1 follow every check",
         rules(1, 1),
         kUp,
         {{0, kFail, kDown, true}, {1000, kOk, kUp, true}, {2000, kFail, kDown, true}}},
        {"flapping holds the recovery back, never the fall",
         rules(1, 1, 3, seconds(60), seconds(30)),
         kUp,
         {{0, kFail, kDown, true},        // change 1
          {1000, kOk, kUp, true},         // change 2
          {2000, kFail, kDown, true},     // change 3: now flapping
          {3000, kOk, kDown, false},      // held: 1 s since the last change
          {20000, kOk, kDown, false},     // still held (18 s)
          {32000, kOk, kUp, true},        // 30 s after the last change: up
          {33000, kFail, kDown, true}}},  // going down is never delayed
        {"changes older than the window do not count",
         rules(1, 1, 3, seconds(10), seconds(30)),
         kUp,
         {{0, kFail, kDown, true},
          {1000, kOk, kUp, true},
          {12000, kFail, kDown, true},  // the first change is out of the window: 2 recent
          {13000, kOk, kUp, true}}},
    };
    return all;
}

TEST(BackendHealth, Table) {
    for (const Case& c : cases()) {
        SCOPED_TRACE(c.name);
        const Clock::time_point start{};
        BackendHealth health(c.rules, c.initial);
        for (const Step& s : c.steps) {
            SCOPED_TRACE("at " + std::to_string(s.at_ms) + " ms");
            const auto change =
                health.record(CheckResult{s.ok, s.ok ? "connected" : "connection refused"},
                              start + milliseconds(s.at_ms));
            EXPECT_EQ(change.has_value(), s.change);
            EXPECT_EQ(health.state(), s.want);
            if (change) {
                EXPECT_EQ(change->to, s.want);
                EXPECT_NE(change->from, change->to);
            }
        }
    }
}

TEST(BackendHealth, ReasonsSayWhatHappened) {
    BackendHealth health(rules(2, 3), Health::up);
    const Clock::time_point t{};
    EXPECT_FALSE(health.record({false, "timed out after 1000 ms"}, t).has_value());
    EXPECT_FALSE(health.record({false, "timed out after 1000 ms"}, t + seconds(2)).has_value());
    const auto down = health.record({false, "connection refused"}, t + seconds(4));
    ASSERT_TRUE(down.has_value());
    EXPECT_EQ(*down, (Change{Health::up, Health::down,
                             "3 checks in a row failed, the last: connection refused"}));
    EXPECT_FALSE(health.record({true, "connected in 2 ms"}, t + seconds(6)).has_value());
    const auto up = health.record({true, "connected in 3 ms"}, t + seconds(8));
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(*up,
              (Change{Health::down, Health::up, "2 checks in a row passed: connected in 3 ms"}));
}

TEST(BackendHealth, HeldDownIsVisible) {
    BackendHealth health(rules(1, 1, 2, seconds(60), seconds(10)), Health::up);
    const Clock::time_point t{};
    ASSERT_TRUE(health.record({false, "x"}, t).has_value());
    ASSERT_TRUE(health.record({true, "y"}, t + seconds(1)).has_value());
    EXPECT_TRUE(health.held_down(t + seconds(2)));
    EXPECT_FALSE(health.held_down(t + seconds(12)));
}

}  // namespace
}  // namespace mutexd::health
