// SPDX-License-Identifier: GPL-2.0
// The systemd notify protocol (sd_notify(3)) as mutexd speaks it: READY=1 once the configuration
// is in the kernel, RELOADING=1 and READY=1 around a reload (with MONOTONIC_USEC, as
// Type=notify-reload expects), STOPPING=1, STATUS= lines, and WATCHDOG=1 at half the interval
// systemd asks for (WatchdogSec=). Outside systemd (no NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mutexd::systemd {

/// The message of each notification, pure (unit-tested without a socket).
std::string ready_message(std::string_view status);
std::string reloading_message(std::chrono::microseconds monotonic);
std::string stopping_message(std::string_view status);
std::string status_message(std::string_view status);
std::string watchdog_message();

class Notifier {
public:
    /// Reads NOTIFY_SOCKET and WATCHDOG_USEC (libsystemd); nothing is sent without them.
    Notifier();

    void ready(std::string_view status);
    void reloading();
    void stopping(std::string_view status);
    void status(std::string_view status);
    void watchdog();
    /// How often watchdog() must be called (half of WatchdogSec), or nullopt when systemd does
    /// not watch.
    [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_period() const noexcept {
        return watchdog_period_;
    }
    /// Whether notifications go anywhere.
    [[nodiscard]] bool active() const noexcept { return active_; }

private:
    void send(const std::string& message) const;

    bool active_ = false;
    std::optional<std::chrono::microseconds> watchdog_period_;
};

}  // namespace mutexd::systemd
