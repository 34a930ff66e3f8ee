// SPDX-License-Identifier: GPL-2.0
#include "health/monitor.hpp"

#include <utility>

namespace mutexd::health {

struct Monitor::Watch {
    Watch(boost::asio::io_context& io, Target t)
        : target(t), health(target.rules, target.initial), timer(io) {}

    Target target;
    BackendHealth health;
    boost::asio::steady_timer timer;
    bool stopped = false;
};

Monitor::Monitor(boost::asio::io_context& io, Prober& prober, const std::vector<Target>& targets,
                 OnChange on_change, OnResult on_result)
    : io_(io), prober_(prober), on_change_(std::move(on_change)), on_result_(std::move(on_result)) {
    for (const auto& target : targets) {
        auto watch = std::make_shared<Watch>(io_, target);
        watches_.push_back(watch);
        schedule(watch, std::chrono::milliseconds(0));
    }
}

Monitor::~Monitor() noexcept {
    for (auto& watch : watches_) {
        watch->stopped = true;
        boost::system::error_code ignored;
        static_cast<void>(watch->timer.cancel(ignored));
    }
}

void Monitor::schedule(const std::shared_ptr<Watch>& watch, std::chrono::milliseconds delay) {
    watch->timer.expires_after(delay);
    watch->timer.async_wait([this, watch](const boost::system::error_code& ec) {
        if (!ec && !watch->stopped) {
            check(watch);
        }
    });
}

void Monitor::check(const std::shared_ptr<Watch>& watch) {
    const Clock::time_point started = Clock::now();
    auto done = [this, watch, started](const CheckResult& result) {
        if (watch->stopped) {
            return;
        }
        const Clock::time_point now = Clock::now();
        const auto change = watch->health.record(result, now);
        if (on_result_) {
            on_result_(watch->target, result, now - started, watch->health.state());
        }
        if (change) {
            on_change_(watch->target, *change);
        }
        // The next check starts one interval after this one started.
        const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
        schedule(watch, spent < watch->target.interval ? watch->target.interval - spent
                                                       : std::chrono::milliseconds(0));
    };
    if (watch->target.type == mutex::config::CheckType::udp) {
        prober_.udp(watch->target.address, watch->target.port, watch->target.timeout,
                    std::move(done));
    } else {
        prober_.tcp(watch->target.address, watch->target.port, watch->target.timeout,
                    std::move(done));
    }
}

}  // namespace mutexd::health
