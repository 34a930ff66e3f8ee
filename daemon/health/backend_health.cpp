// SPDX-License-Identifier: GPL-2.0
#include "health/backend_health.hpp"

#include <utility>

namespace mutexd::health {

namespace {

std::string checks(unsigned n, const char* what) {
    return std::to_string(n) + (n == 1 ? " check " : " checks in a row ") + what;
}

}  // namespace

BackendHealth::BackendHealth(Rules rules, Health initial) : rules_(rules), state_(initial) {}

bool BackendHealth::held_down(Clock::time_point now) const {
    std::size_t recent = 0;
    for (const auto t : changes_) {
        if (now - t <= rules_.flap_window) {
            ++recent;
        }
    }
    return recent >= rules_.flap_limit && !changes_.empty() &&
           now - changes_.back() < rules_.hold_down;
}

Change BackendHealth::change_to(Health to, std::string reason, Clock::time_point now) {
    Change change{state_, to, std::move(reason)};
    state_ = to;
    successes_ = 0;
    failures_ = 0;
    changes_.push_back(now);
    while (!changes_.empty() && now - changes_.front() > rules_.flap_window) {
        changes_.pop_front();
    }
    return change;
}

std::optional<Change> BackendHealth::record(const CheckResult& result, Clock::time_point now) {
    if (!result.ok) {
        successes_ = 0;
        ++failures_;
        if (state_ == Health::up && failures_ >= rules_.fall) {
            return change_to(Health::down,
                             checks(failures_, "failed") + ", the last: " + result.detail, now);
        }
        return std::nullopt;
    }
    failures_ = 0;
    ++successes_;
    if (state_ == Health::down && successes_ >= rules_.rise && !held_down(now)) {
        return change_to(Health::up, checks(successes_, "passed") + ": " + result.detail, now);
    }
    return std::nullopt;
}

}  // namespace mutexd::health
