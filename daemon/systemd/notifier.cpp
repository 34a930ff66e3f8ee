// SPDX-License-Identifier: GPL-2.0
#include "systemd/notifier.hpp"

#include <cstdint>
#include <cstdlib>
#include <ctime>

#include <systemd/sd-daemon.h>

namespace mutexd::systemd {

std::string ready_message(std::string_view status) {
    return "READY=1\nSTATUS=" + std::string(status);
}

std::string reloading_message(std::chrono::microseconds monotonic) {
    return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic.count()) +
           "\nSTATUS=reloading the configuration";
}

std::string stopping_message(std::string_view status) {
    return "STOPPING=1\nSTATUS=" + std::string(status);
}

std::string status_message(std::string_view status) {
    return "STATUS=" + std::string(status);
}

std::string watchdog_message() {
    return "WATCHDOG=1";
}

namespace {

std::chrono::microseconds monotonic_now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::microseconds(ts.tv_nsec / 1000);
}

}  // namespace

Notifier::Notifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    active_ = socket != nullptr && *socket != '\0';
    std::uint64_t usec = 0;
    if (active_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_period_ = std::chrono::microseconds(usec / 2);
    }
}

void Notifier::send(const std::string& message) const {
    if (active_) {
        static_cast<void>(sd_notify(0, message.c_str()));
    }
}

void Notifier::ready(std::string_view status) {
    send(ready_message(status));
}

void Notifier::reloading() {
    send(reloading_message(monotonic_now()));
}

void Notifier::stopping(std::string_view status) {
    send(stopping_message(status));
}

void Notifier::status(std::string_view status) {
    send(status_message(status));
}

void Notifier::watchdog() {
    send(watchdog_message());
}

}  // namespace mutexd::systemd
