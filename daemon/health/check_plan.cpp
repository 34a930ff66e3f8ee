// SPDX-License-Identifier: GPL-2.0
#include "health/check_plan.hpp"

namespace mutexd::health {

namespace cfg = mutex::config;

std::vector<Target> plan_checks(const cfg::File& file, const config::HealthTable& health) {
    std::vector<Target> targets;
    const auto& pools = file.config.pools;
    for (std::size_t p = 0; p < pools.size(); ++p) {
        const cfg::PoolPolicy policy =
            p < file.daemon.pools.size() ? file.daemon.pools[p] : cfg::PoolPolicy{};
        if (policy.check == cfg::CheckType::none) {
            continue;
        }
        for (std::size_t b = 0; b < pools[p].backends.size(); ++b) {
            const cfg::Backend& backend = pools[p].backends[b];
            const cfg::CheckTarget where =
                b < policy.targets.size() ? policy.targets[b] : cfg::CheckTarget{};
            Target t;
            t.pool = p;
            t.backend = b;
            t.type = policy.check;
            t.address = where.address.value_or(
                backend.address.value_or(cfg::Address{cfg::Family::ipv4, {127, 0, 0, 1}}));
            t.port = where.port.value_or(backend.port);
            t.interval = std::chrono::milliseconds(policy.interval_ms);
            t.timeout = std::chrono::milliseconds(policy.timeout_ms);
            t.rules.rise = policy.rise;
            t.rules.fall = policy.fall;
            t.initial = p < health.size() && b < health[p].size() ? health[p][b] : Health::up;
            targets.push_back(t);
        }
    }
    return targets;
}

}  // namespace mutexd::health
