// SPDX-License-Identifier: GPL-2.0
#include "failover/failover.hpp"

namespace mutexd::failover {

namespace cfg = mutex::config;

cfg::BackendState effective_state(cfg::BackendState configured, health::Health health) noexcept {
    if (configured != cfg::BackendState::up) {
        return configured;
    }
    return health == health::Health::up ? cfg::BackendState::up : cfg::BackendState::down;
}

std::optional<Action> decide(const std::string& pool, const cfg::Backend& backend,
                             const cfg::PoolPolicy& policy, health::Health health) {
    if (backend.state != cfg::BackendState::up) {
        return std::nullopt;
    }
    Action action;
    action.change.backend = {pool, backend.address, backend.port};
    action.change.state = effective_state(backend.state, health);
    if (health == health::Health::down) {
        switch (policy.on_backend_down) {
            case cfg::OnBackendDown::keep:
                break;
            case cfg::OnBackendDown::reset_udp:
                action.end_flows = cfg::Protocol::udp;
                break;
            case cfg::OnBackendDown::reset_all:
                action.end_flows = cfg::Protocol::any;
                break;
        }
    }
    return action;
}

}  // namespace mutexd::failover
