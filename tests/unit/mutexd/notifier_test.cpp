// SPDX-License-Identifier: GPL-2.0
// The systemd notify sequence against a real NOTIFY_SOCKET listener (a datagram socket of the
// test's), as systemd receives it: READY, RELOADING with MONOTONIC_USEC, READY, WATCHDOG,
// STOPPING; and nothing at all without NOTIFY_SOCKET.
#include "systemd/notifier.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

namespace mutexd::systemd {
namespace {

class Listener {
public:
    Listener()
        : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)),
          path_("/tmp/mutexd-notify-test-" + std::to_string(::getpid())) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        ::unlink(path_.c_str());
        std::memcpy(&addr.sun_path, path_.c_str(),
                    std::min(path_.size(), sizeof(addr.sun_path) - 1));
        ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    Listener(Listener&&) = delete;
    Listener& operator=(Listener&&) = delete;
    ~Listener() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        ::close(fd_);
        ::unlink(path_.c_str());
    }

    [[nodiscard]] bool ok() const { return ok_; }

    /// The next datagram, or "" after 5 s.
    [[nodiscard]] std::string next() const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) {
            return "";
        }
        std::array<char, 512> buf{};
        const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : "";
    }

    [[nodiscard]] bool empty() const {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) == 0;
    }

private:
    int fd_ = -1;
    bool ok_ = false;
    std::string path_;
};

TEST(Notifier, TheSequenceSystemdReceives) {
    Listener systemd;
    ASSERT_TRUE(systemd.ok());
    ::setenv("WATCHDOG_USEC", "2000000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    Notifier notifier;
    ASSERT_TRUE(notifier.active());
    ASSERT_TRUE(notifier.watchdog_period());
    EXPECT_EQ(notifier.watchdog_period()->count(), 1000000);  // half of WatchdogSec

    notifier.ready("generation 1");
    EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=generation 1");
    notifier.reloading();
    const std::string reloading = systemd.next();
    EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0U) << reloading;
    notifier.ready("generation 2");
    EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=generation 2");
    notifier.watchdog();
    EXPECT_EQ(systemd.next(), "WATCHDOG=1");
    notifier.stopping("stopping");
    EXPECT_EQ(systemd.next(), "STOPPING=1\nSTATUS=stopping");
    EXPECT_TRUE(systemd.empty());
}

TEST(Notifier, WithoutNotifySocketNothingIsSent) {
    ::unsetenv("NOTIFY_SOCKET");
    Notifier notifier;
    EXPECT_FALSE(notifier.active());
    EXPECT_FALSE(notifier.watchdog_period());
    notifier.ready("x");  // must not fail
}

TEST(Notifier, Messages) {
    EXPECT_EQ(reloading_message(std::chrono::microseconds(42)),
              "RELOADING=1\nMONOTONIC_USEC=42\nSTATUS=reloading the configuration");
    EXPECT_EQ(status_message("s"), "STATUS=s");
    EXPECT_EQ(watchdog_message(), "WATCHDOG=1");
}

}  // namespace
}  // namespace mutexd::systemd
