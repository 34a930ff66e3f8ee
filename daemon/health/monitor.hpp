// SPDX-License-Identifier: GPL-2.0
// The health checks of every backend, scheduled on the daemon's event loop: runs each Target of
// the plan (check_plan.hpp) every interval, feeds each result to the backend's BackendHealth and
// reports its changes.
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

    /// Starts checking every target at once, then every target's interval.
    Monitor(boost::asio::io_context& io, Prober& prober, const std::vector<Target>& targets,
            OnChange on_change);
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
    std::vector<std::shared_ptr<Watch>> watches_;
};

}  // namespace mutexd::health
