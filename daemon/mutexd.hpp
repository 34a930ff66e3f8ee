// SPDX-License-Identifier: GPL-2.0
// mutexd's composition root: the one place that builds the daemon's parts and wires them on one
// event loop (Boost.Asio). The parts: the configuration file (read, checked, reloaded on SIGHUP
// and when it changes on disk), the kernel (libmutex's netlink client: SET_CONFIG, SET_BACKEND,
// END_FLOWS), the health checks (health/monitor), the decisions (config/takeover for what to push,
// failover/ for what a health change asks of the kernel), systemd (systemd/notifier) and the log.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace mutexd {

inline constexpr const char* kDefaultConfig = "/etc/mutex_proxy/mutexd.toml";

struct Options {
    std::string config = kDefaultConfig;
    std::optional<int> event_buffer;  // SO_RCVBUF of the event socket (tests force overruns)
};

/// Runs the daemon until SIGTERM or SIGINT. Returns the process's exit status: 0 after a clean
/// stop, 1 when it could not start (the reason is logged).
int run(const Options& options);

}  // namespace mutexd
