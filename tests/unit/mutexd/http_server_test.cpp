// SPDX-License-Identifier: GPL-2.0
// The metrics endpoint over loopback: GET /metrics answered when the handler calls back (later,
// as after a kernel read), two requests on one kept-alive connection, HEAD without a body, 404
// and 405 for other paths and methods, and an oversized request closed without an answer.
#include "metrics/http_server.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace mutexd::metrics {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// A server on 127.0.0.1 (a port the kernel picks) whose loop runs on a thread of its own.
class Endpoint {
public:
    Endpoint()
        : server_(io_, mutex::config::Address{mutex::config::Family::ipv4, {127, 0, 0, 1}}, 0,
                  [this](HttpServer::Reply reply) {
                      ++scrapes_;
                      // Answer from a later turn of the loop, as after a read off the loop.
                      asio::post(io_, [this, reply = std::move(reply)] {
                          reply({200, "text/plain; version=0.0.4",
                                 "scrape " + std::to_string(scrapes_) + "\n"});
                      });
                  }),
          port_(server_.local_endpoint().port()),
          thread_([this] { io_.run(); }) {}
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;
    Endpoint(Endpoint&&) = delete;
    Endpoint& operator=(Endpoint&&) = delete;
    ~Endpoint() {
        io_.stop();
        thread_.join();
    }

    /// Sends `request` on a new connection and returns everything until the server closes it.
    [[nodiscard]] std::string exchange(const std::string& request) const {
        asio::io_context io;
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        asio::write(s, asio::buffer(request));
        std::string out;
        boost::system::error_code ec;
        asio::read(s, asio::dynamic_buffer(out), ec);
        return out;
    }

private:
    asio::io_context io_;
    unsigned scrapes_ = 0;
    HttpServer server_;
    unsigned short port_;
    std::thread thread_;
};

TEST(HttpServer, MetricsAnsweredWhenTheHandlerCallsBack) {
    const Endpoint e;
    const auto r = e.exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << r;
    EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4\r\n"), std::string::npos) << r;
    EXPECT_TRUE(r.ends_with("\r\n\r\nscrape 1\n")) << r;
}

TEST(HttpServer, TwoRequestsOnOneConnection) {
    const Endpoint e;
    const auto r = e.exchange(
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto first = r.find("scrape 1\n");
    ASSERT_NE(first, std::string::npos) << r;
    EXPECT_NE(r.find("HTTP/1.1 200 OK", first), std::string::npos) << r;
    EXPECT_TRUE(r.ends_with("scrape 2\n")) << r;
}

TEST(HttpServer, HeadHasTheLengthButNoBody) {
    const Endpoint e;
    const auto r = e.exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << r;
    EXPECT_NE(r.find("Content-Length: 9\r\n"), std::string::npos) << r;
    EXPECT_TRUE(r.ends_with("\r\n\r\n")) << r;
}

TEST(HttpServer, OtherPathsAndMethodsRefused) {
    const Endpoint e;
    EXPECT_EQ(e.exchange("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .rfind("HTTP/1.1 404 Not Found\r\n", 0),
              0U);
    EXPECT_EQ(e.exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n")
                  .rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0),
              0U);
    const auto index = e.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(index.find("href=\"/metrics\""), std::string::npos) << index;
}

TEST(HttpServer, OversizedRequestClosedUnanswered) {
    const Endpoint e;
    const std::string big(16384, 'a');
    EXPECT_EQ(e.exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n"), "");
}

TEST(HttpServer, BusyAddressThrows) {
    asio::io_context io;
    const HttpServer a(io, mutex::config::Address{mutex::config::Family::ipv4, {127, 0, 0, 1}}, 0,
                       [](const HttpServer::Reply&) {});
    const auto port = a.local_endpoint().port();
    EXPECT_THROW(HttpServer(io, mutex::config::Address{mutex::config::Family::ipv4, {127, 0, 0, 1}},
                            port, [](const HttpServer::Reply&) {}),
                 boost::system::system_error);
}

}  // namespace
}  // namespace mutexd::metrics
