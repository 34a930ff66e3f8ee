// SPDX-License-Identifier: GPL-2.0
// The metrics endpoint: a small HTTP/1.1 server (Boost.Beast) on the daemon's event loop. GET
// /metrics asks the handler for the body and answers when it calls back (the handler may finish
// later, after reading the kernel off the loop); every connection is asynchronous, so a slow or
// idle client never holds up the loop. Requests are small and bounded: a header over 8 KiB, a
// body, or a connection idle for 30 s is closed. GET / names the endpoint; other paths are 404,
// other methods 405.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "libmutex/config.hpp"

namespace mutexd::metrics {

struct Response {
    unsigned status = 200;
    std::string content_type;
    std::string body;
};

class HttpServer {
public:
    using Reply = std::function<void(Response)>;
    /// Called on the loop for each GET /metrics; calls `reply` exactly once, on the loop.
    using Handler = std::function<void(Reply reply)>;

    /// Listens on address:port (SO_REUSEADDR). Throws boost::system::system_error when the
    /// address cannot be bound.
    HttpServer(boost::asio::io_context& io, const mutex::config::Address& address,
               std::uint16_t port, Handler handler);
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    HttpServer(HttpServer&&) = delete;
    HttpServer& operator=(HttpServer&&) = delete;
    /// Stops accepting; connections in flight are closed.
    ~HttpServer() noexcept;

    /// Where it listens (the port the kernel chose when `port` was 0).
    [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

private:
    struct Shared;

    std::shared_ptr<Shared> shared_;
};

}  // namespace mutexd::metrics
