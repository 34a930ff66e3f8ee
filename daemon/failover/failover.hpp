// SPDX-License-Identifier: GPL-2.0
// What mutexd asks of the kernel when a backend's health changes: a pure decision from the pool's
// policy, the backend as the file configures it and the new health. No I/O: the daemon sends
// the SET_BACKEND and END_FLOWS it returns and logs the reason.
//
//   - The file's state wins over health: a backend configured "down" or "drain" stays so, its
//     checks change nothing in the kernel.
//   - Down: SET_BACKEND state down, then END_FLOWS per on_backend_down: "reset-udp" (default)
//     ends its UDP flows (conntrack would keep them on the dead backend for as long as datagrams
//     flow), "reset-all" ends its TCP connections too (their clients are reset and reconnect),
//     "keep" ends nothing.
//   - Up: SET_BACKEND state up; nothing is ended.
#pragma once

#include <optional>
#include <string>

#include "health/backend_health.hpp"
#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"

namespace mutexd::failover {

/// The kernel's part of a health change: a SET_BACKEND, and an END_FLOWS of `end_flows`'s
/// protocol (any: both) when set.
struct Action {
    mutex::BackendChange change;
    std::optional<mutex::config::Protocol> end_flows;

    bool operator==(const Action&) const = default;
};

/// The state the kernel should hold for a backend the file configures as `configured` whose
/// checks say `health`.
mutex::config::BackendState effective_state(mutex::config::BackendState configured,
                                            health::Health health) noexcept;

/// What to do when the backend `backend` of pool `pool` changes to `health`; nullopt when the
/// kernel's state does not change (the file holds the backend down or drained).
std::optional<Action> decide(const std::string& pool, const mutex::config::Backend& backend,
                             const mutex::config::PoolPolicy& policy, health::Health health);

}  // namespace mutexd::failover
