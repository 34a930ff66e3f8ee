// SPDX-License-Identifier: GPL-2.0
// The health of one backend as mutexd decides it from its checks: a pure state machine, fed one
// check result at a time with the time it finished (a fake clock in tests), that says when the
// backend goes down or comes back up, and why. No I/O: the prober runs the checks, the pool
// pushes the changes to the kernel (SET_BACKEND) and logs the reasons.
//
//   - Down after `fall` failed checks in a row, at once: a dead backend is out within
//     interval x fall.
//   - Up after `rise` successful checks in a row.
//   - Flapping is damped on the way up only: a backend that changed state `flap_limit` times
//     within `flap_window` stays down until `hold_down` has passed since its last change (and it
//     has passed `rise` checks). Going down is never delayed.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace mutexd::health {

using Clock = std::chrono::steady_clock;

enum class Health : std::uint8_t { up, down };

/// The outcome of one check; `detail` says what happened ("connection refused", "timed out
/// after 1000 ms", "connected in 3 ms").
struct CheckResult {
    bool ok = false;
    std::string detail;
};

struct Rules {
    unsigned rise = 2;
    unsigned fall = 3;
    unsigned flap_limit = 4;
    std::chrono::milliseconds flap_window{std::chrono::minutes(1)};
    std::chrono::milliseconds hold_down{std::chrono::seconds(30)};

    bool operator==(const Rules&) const = default;
};

/// A change of state and its reason, for the log and the events.
struct Change {
    Health from = Health::up;
    Health to = Health::up;
    std::string reason;

    bool operator==(const Change&) const = default;
};

class BackendHealth {
public:
    /// `initial`: what the kernel holds for the backend when mutexd takes it over.
    explicit BackendHealth(Rules rules, Health initial = Health::up);

    /// Feeds the result of a check that ended at `now` (monotonic). Returns the change of state
    /// it causes, if any.
    std::optional<Change> record(const CheckResult& result, Clock::time_point now);

    [[nodiscard]] Health state() const noexcept { return state_; }
    /// Whether a recovery at `now` would be held back as flapping.
    [[nodiscard]] bool held_down(Clock::time_point now) const;

private:
    Change change_to(Health to, std::string reason, Clock::time_point now);

    Rules rules_;
    Health state_;
    unsigned successes_ = 0;
    unsigned failures_ = 0;
    std::deque<Clock::time_point> changes_;  // within the flap window, oldest first
};

}  // namespace mutexd::health
