// SPDX-License-Identifier: GPL-2.0
// The health checks of every backend, scheduled on the daemon's event loop: runs each Target of
// the plan (check_plan.hpp) every interval, feeds each result to the backend's BackendHealth and
// reports every result (for the metrics) and every change of state (for the kernel).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "health/backend_health.hpp"
#include "health/check_plan.hpp"
#include "health/prober.hpp"

namespace mutexd::health {

class Monitor {
public:
    using OnChange = std::function<void(const Target&, const Change&)>;
    /// A check ended: its result, how long it took, and the backend's health after it.
    using OnResult = std::function<void(const Target&, const CheckResult&,
                                        std::chrono::nanoseconds took, Health now)>;

    /// Starts checking every target at once, then every target's interval. `on_result` runs
    /// for every check, before `on_change` when the check changes the backend's state.
    Monitor(boost::asio::io_context& io, Prober& prober, const std::vector<Target>& targets,
            OnChange on_change, OnResult on_result = {});
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;
    Monitor(Monitor&&) = delete;
    Monitor& operator=(Monitor&&) = delete;
    /// Stops every timer; checks in flight finish without effect.
    ~Monitor() noexcept;

private:
    struct Watch;
    void schedule(const std::shared_ptr<Watch>& watch, std::chrono::milliseconds delay);
    void check(const std::shared_ptr<Watch>& watch);

    boost::asio::io_context& io_;
    Prober& prober_;
    OnChange on_change_;
    OnResult on_result_;
    std::vector<std::shared_ptr<Watch>> watches_;
};

}  // namespace mutexd::health
