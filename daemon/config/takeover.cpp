// SPDX-License-Identifier: GPL-2.0
#include "config/takeover.hpp"

#include "failover/failover.hpp"

namespace mutexd::config {

namespace cfg = mutex::config;

HealthTable all_up(const cfg::Config& config) {
    HealthTable table;
    table.reserve(config.pools.size());
    for (const auto& pool : config.pools) {
        table.emplace_back(pool.backends.size(), health::Health::up);
    }
    return table;
}

cfg::Config desired(const cfg::Config& file, const HealthTable& health) {
    cfg::Config out = file;
    for (std::size_t p = 0; p < out.pools.size(); ++p) {
        auto& backends = out.pools[p].backends;
        for (std::size_t b = 0; b < backends.size(); ++b) {
            const health::Health h =
                p < health.size() && b < health[p].size() ? health[p][b] : health::Health::up;
            backends[b].state = failover::effective_state(backends[b].state, h);
        }
    }
    return out;
}

bool same_but_health(const cfg::Config& file, const cfg::Config& kernel) {
    if (file.pools.size() != kernel.pools.size()) {
        return false;
    }
    cfg::Config normalized = kernel;
    for (std::size_t p = 0; p < file.pools.size(); ++p) {
        auto& backends = normalized.pools[p].backends;
        if (backends.size() != file.pools[p].backends.size()) {
            return false;
        }
        for (std::size_t b = 0; b < backends.size(); ++b) {
            if (file.pools[p].backends[b].state == cfg::BackendState::up &&
                backends[b].state == cfg::BackendState::down) {
                backends[b].state = cfg::BackendState::up;
            }
        }
    }
    return normalized == file;
}

HealthTable health_from(const cfg::Config& file, const cfg::Config& kernel) {
    HealthTable table = all_up(file);
    for (std::size_t p = 0; p < table.size() && p < kernel.pools.size(); ++p) {
        for (std::size_t b = 0; b < table[p].size() && b < kernel.pools[p].backends.size(); ++b) {
            if (file.pools[p].backends[b].state == cfg::BackendState::up &&
                kernel.pools[p].backends[b].state == cfg::BackendState::down) {
                table[p][b] = health::Health::down;
            }
        }
    }
    return table;
}

}  // namespace mutexd::config
