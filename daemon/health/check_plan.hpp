// SPDX-License-Identifier: GPL-2.0
// Which health checks the file asks for and how: one Target per backend of every pool whose check
// is not "none", aimed at check_address/check_port when the file gives them (the upstream SOCKS
// server behind a local proxy client), else at the backend (127.0.0.1 for a local port). Pure.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "config/takeover.hpp"
#include "health/backend_health.hpp"
#include "libmutex/config.hpp"

namespace mutexd::health {

/// One backend to check.
struct Target {
    std::size_t pool = 0;
    std::size_t backend = 0;
    mutex::config::CheckType type = mutex::config::CheckType::tcp;
    mutex::config::Address address;  // check_address, else the backend's, else 127.0.0.1
    std::uint16_t port = 0;          // check_port, else the backend's
    std::chrono::milliseconds interval{2000};
    std::chrono::milliseconds timeout{1000};
    Rules rules;
    Health initial = Health::up;

    bool operator==(const Target&) const = default;
};

/// The checks the file asks for, starting from `health` (the kernel's states after a takeover,
/// all up otherwise). Pure.
std::vector<Target> plan_checks(const mutex::config::File& file, const config::HealthTable& health);

}  // namespace mutexd::health
