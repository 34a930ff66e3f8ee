// SPDX-License-Identifier: GPL-2.0
// Health checks on the daemon's event loop (Boost.Asio): each check is one non-blocking socket and
// one timer, and its result comes back as a CheckResult on the loop. Many run at once; none
// blocks another or the rest of the daemon.
//
//   tcp: connect; success when the handshake completes, failure on refusal, unreachability or
//        no answer within the timeout.
//   udp: send one datagram on a connected socket; failure when ICMP says the port or host is
//        unreachable (the next receive fails), success when it answers or stays silent for the
//        timeout (a relay owes an unknown datagram no answer: silence is not death).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <boost/asio/io_context.hpp>

#include "health/backend_health.hpp"
#include "libmutex/config.hpp"

namespace mutexd::health {

class Prober {
public:
    using Done = std::function<void(CheckResult)>;

    explicit Prober(boost::asio::io_context& io) : io_(io) {}

    void tcp(const mutex::config::Address& address, std::uint16_t port,
             std::chrono::milliseconds timeout, Done done);
    void udp(const mutex::config::Address& address, std::uint16_t port,
             std::chrono::milliseconds timeout, Done done);

private:
    boost::asio::io_context& io_;
};

}  // namespace mutexd::health
