// SPDX-License-Identifier: GPL-2.0
#include "health/prober.hpp"

#include <array>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace mutexd::health {

namespace asio = boost::asio;

namespace {

asio::ip::address to_asio(const mutex::config::Address& address) {
    if (address.family == mutex::config::Family::ipv4) {
        asio::ip::address_v4::bytes_type bytes{};
        std::copy_n(address.bytes.begin(), bytes.size(), bytes.begin());
        return asio::ip::address_v4(bytes);
    }
    asio::ip::address_v6::bytes_type bytes{};
    std::copy_n(address.bytes.begin(), bytes.size(), bytes.begin());
    return asio::ip::address_v6(bytes);
}

/// One check in flight: its socket, its timer and the callback, alive while a handler holds it.
template <typename Socket>
struct Check {
    Check(asio::io_context& io, Prober::Done on_done)
        : socket(io), timer(io), done(std::move(on_done)) {}

    void finish(bool ok, std::string detail) {
        if (finished) {
            return;
        }
        finished = true;
        boost::system::error_code ignored;
        static_cast<void>(timer.cancel(ignored));
        if constexpr (std::is_same_v<Socket, asio::ip::tcp::socket>) {
            // An abortive close (RST): no FIN exchange and no TIME_WAIT socket left behind for
            // every check (1,000 backends checked every second would keep 60,000 of them).
            static_cast<void>(socket.set_option(asio::socket_base::linger(true, 0), ignored));
        }
        socket.close(ignored);
        done(CheckResult{ok, std::move(detail)});
    }

    Socket socket;
    asio::steady_timer timer;
    Prober::Done done;
    bool finished = false;
    std::array<char, 512> buffer{};
};

std::string after(std::chrono::milliseconds timeout) {
    return std::to_string(timeout.count()) + " ms";
}

}  // namespace

void Prober::tcp(const mutex::config::Address& address, std::uint16_t port,
                 std::chrono::milliseconds timeout, Done done) {
    auto check = std::make_shared<Check<asio::ip::tcp::socket>>(io_, std::move(done));
    const asio::ip::tcp::endpoint endpoint(to_asio(address), port);
    check->timer.expires_after(timeout);
    check->timer.async_wait([check, timeout](const boost::system::error_code& ec) {
        if (!ec) {
            check->finish(false, "no TCP answer within " + after(timeout));
        }
    });
    check->socket.async_connect(endpoint, [check](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        check->finish(!ec, ec ? "TCP connect: " + ec.message() : "TCP connect succeeded");
    });
}

void Prober::udp(const mutex::config::Address& address, std::uint16_t port,
                 std::chrono::milliseconds timeout, Done done) {
    auto check = std::make_shared<Check<asio::ip::udp::socket>>(io_, std::move(done));
    const asio::ip::udp::endpoint endpoint(to_asio(address), port);
    boost::system::error_code ec;
    static_cast<void>(check->socket.open(endpoint.protocol(), ec));
    if (!ec) {
        static_cast<void>(check->socket.connect(endpoint, ec));
    }
    if (ec) {
        check->finish(false, "UDP socket: " + ec.message());
        return;
    }
    check->timer.expires_after(timeout);
    check->timer.async_wait([check, timeout](const boost::system::error_code& e) {
        if (!e) {
            check->finish(true, "no ICMP error within " + after(timeout));
        }
    });
    static constexpr std::string_view kProbe = "mutexd health check\n";
    check->socket.async_send(
        asio::buffer(kProbe.data(), kProbe.size()),
        [check](const boost::system::error_code& e, std::size_t /*sent*/) {
            if (e == asio::error::operation_aborted) {
                return;
            }
            if (e) {
                check->finish(false, "UDP send: " + e.message());
                return;
            }
            check->socket.async_receive(
                asio::buffer(check->buffer),
                [check](const boost::system::error_code& r, std::size_t /*n*/) {
                    if (r == asio::error::operation_aborted) {
                        return;
                    }
                    check->finish(!r, r ? "UDP: " + r.message() : "UDP answered");
                });
        });
}

}  // namespace mutexd::health
