// SPDX-License-Identifier: GPL-2.0
// mutexd's log (spdlog): to journald when systemd started the daemon (INVOCATION_ID is set, the
// priority of each line kept), to the terminal otherwise.
#pragma once

#include "libmutex/config.hpp"

namespace mutexd::log {

/// Sets up the default logger once, at `level`.
void init(mutex::config::LogLevel level);
/// Changes the level (a reloaded file's).
void set_level(mutex::config::LogLevel level);

}  // namespace mutexd::log
