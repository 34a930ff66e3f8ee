// SPDX-License-Identifier: GPL-2.0
// The configuration mutexd pushes, and whether it needs pushing: pure functions of the file, the
// backends' health and what the kernel holds. No I/O.
//
// Backend states are the one thing the kernel's copy may differ in without being another
// configuration: mutexd changes them at run time (SET_BACKEND) as checks pass and fail. So at
// start (takeover) the kernel's configuration is "the same" as the file's when they are equal
// but for the states of backends the file configures up; then nothing is replaced, no flow is
// disturbed, and health starts from the kernel's states (a backend a crashed instance took down
// stays down until it passes its checks).
#pragma once

#include <cstddef>
#include <vector>

#include "health/backend_health.hpp"
#include "libmutex/config.hpp"

namespace mutexd::config {

/// Health of every backend: health[pool][backend], parallel to Config::pools.
using HealthTable = std::vector<std::vector<health::Health>>;

/// Every backend up: where a configuration new to the kernel starts.
HealthTable all_up(const mutex::config::Config& config);

/// The file's configuration with each backend the file configures up set to its health
/// (failover::effective_state): what SET_CONFIG sends. Missing health entries count as up.
mutex::config::Config desired(const mutex::config::Config& file, const HealthTable& health);

/// Whether `kernel` is `file` but for the states of backends `file` configures up (which may be
/// up or down in the kernel).
bool same_but_health(const mutex::config::Config& file, const mutex::config::Config& kernel);

/// The health the kernel's states say, for a configuration same_but_health() with the file:
/// down where the kernel holds a file-up backend down, up elsewhere.
HealthTable health_from(const mutex::config::Config& file, const mutex::config::Config& kernel);

}  // namespace mutexd::config
