// SPDX-License-Identifier: GPL-2.0
#include "metrics/http_server.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace mutexd::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kIdle{30};
constexpr std::size_t kHeaderLimit = 8192;

asio::ip::address to_asio(const mutex::config::Address& address) {
    if (address.family == mutex::config::Family::ipv4) {
        asio::ip::address_v4::bytes_type b{};
        std::memcpy(b.data(), address.bytes.data(), b.size());
        return asio::ip::address_v4(b);
    }
    asio::ip::address_v6::bytes_type b{};
    std::memcpy(b.data(), address.bytes.data(), b.size());
    return asio::ip::address_v6(b);
}

/// One client connection: read a request, answer it, again while the client keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<const HttpServer::Handler> handler)
        : stream_(std::move(socket)), handler_(std::move(handler)) {}

    void start() { read(); }
    void close() {
        boost::system::error_code ignored;
        static_cast<void>(stream_.socket().shutdown(tcp::socket::shutdown_both, ignored));
        static_cast<void>(stream_.socket().close(ignored));
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        parser_->body_limit(0);
        stream_.expires_after(kIdle);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) {
                                 self->close();
                                 return;
                             }
                             self->dispatch();
                         });
    }

    void dispatch() {
        const auto& req = parser_->get();
        keep_alive_ = req.keep_alive();
        version_ = req.version();
        head_ = req.method() == http::verb::head;
        if (req.method() != http::verb::get && !head_) {
            write({405, "text/plain; charset=utf-8", "only GET and HEAD\n"});
            return;
        }
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        if (path == "/") {
            write({200, "text/html; charset=utf-8",
                   "<html><head><title>mutexd</title></head><body><h1>mutexd</h1>"
                   "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n"});
            return;
        }
        if (path != "/metrics") {
            write({404, "text/plain; charset=utf-8", "not found: try /metrics\n"});
            return;
        }
        (*handler_)(
            [self = shared_from_this()](Response response) { self->write(std::move(response)); });
    }

    void write(Response response) {
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(response.status), version_);
        res->set(http::field::server, "mutexd");
        res->set(http::field::content_type, response.content_type);
        res->keep_alive(keep_alive_);
        res->body() = std::move(response.body);
        res->prepare_payload();
        if (head_) {
            res->body().clear();  // Content-Length stays that of the GET
        }
        stream_.expires_after(kIdle);
        http::async_write(stream_, *res,
                          [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                              if (ec || !self->keep_alive_) {
                                  self->close();
                                  return;
                              }
                              self->read();
                          });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    std::shared_ptr<const HttpServer::Handler> handler_;
    bool keep_alive_ = false;
    bool head_ = false;
    unsigned version_ = 11;
};

}  // namespace

struct HttpServer::Shared {
    Shared(asio::io_context& io, Handler h)
        : acceptor(io), retry(io), handler(std::make_shared<const Handler>(std::move(h))) {}
    tcp::acceptor acceptor;
    asio::steady_timer retry;
    std::shared_ptr<const Handler> handler;
    bool stopped = false;

    void accept(const std::shared_ptr<Shared>& self) {
        acceptor.async_accept([self](const boost::system::error_code& ec, tcp::socket socket) {
            if (self->stopped) {
                return;
            }
            if (!ec) {
                std::make_shared<Session>(std::move(socket), self->handler)->start();
                self->accept(self);
                return;
            }
            // An accept error (EMFILE, ECONNABORTED) loses one connection, not the server: try
            // again shortly rather than spin while it lasts.
            self->retry.expires_after(std::chrono::milliseconds(100));
            self->retry.async_wait([self](const boost::system::error_code& e) {
                if (!e && !self->stopped) {
                    self->accept(self);
                }
            });
        });
    }
};

HttpServer::HttpServer(asio::io_context& io, const mutex::config::Address& address,
                       std::uint16_t port, Handler handler)
    : shared_(std::make_shared<Shared>(io, std::move(handler))) {
    const tcp::endpoint endpoint(to_asio(address), port);
    auto& acceptor = shared_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    if (endpoint.address().is_v6()) {
        acceptor.set_option(asio::ip::v6_only(true));
    }
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    shared_->accept(shared_);
}

HttpServer::~HttpServer() noexcept {
    shared_->stopped = true;
    boost::system::error_code ignored;
    static_cast<void>(shared_->acceptor.close(ignored));
    static_cast<void>(shared_->retry.cancel(ignored));
}

tcp::endpoint HttpServer::local_endpoint() const {
    return shared_->acceptor.local_endpoint();
}

}  // namespace mutexd::metrics
