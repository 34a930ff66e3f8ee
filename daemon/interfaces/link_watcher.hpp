// SPDX-License-Identifier: GPL-2.0
// The namespace's network interfaces as rtnetlink reports them (libnl-route-3's link cache, kept
// current by a cache manager whose socket the daemon's event loop polls): the name -> index
// lookup that interfaces::resolve() needs, and a callback after every batch of link changes
// (a link added, removed or renamed). An overrun of the socket (ENOBUFS: changes were lost) is
// answered with a fresh dump, never with a stale view.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

struct nl_cache;
struct nl_cache_mngr;

namespace mutexd::interfaces {

class LinkWatcher {
public:
    /// Dumps the links and starts following them; throws std::runtime_error if rtnetlink
    /// cannot be opened.
    LinkWatcher(boost::asio::io_context& io, std::function<void()> on_change);
    ~LinkWatcher();
    LinkWatcher(const LinkWatcher&) = delete;
    LinkWatcher& operator=(const LinkWatcher&) = delete;
    LinkWatcher(LinkWatcher&&) = delete;
    LinkWatcher& operator=(LinkWatcher&&) = delete;

    /// The index of the interface called `name` now, nullopt if there is none.
    [[nodiscard]] std::optional<std::uint32_t> index(std::string_view name) const;

private:
    struct ManagerFree {
        void operator()(nl_cache_mngr* m) const;
    };

    void open();
    void wait();

    boost::asio::io_context& io_;
    std::function<void()> on_change_;
    std::unique_ptr<nl_cache_mngr, ManagerFree> manager_;
    nl_cache* links_ = nullptr;  // owned by manager_
    std::unique_ptr<boost::asio::posix::stream_descriptor> socket_;
};

}  // namespace mutexd::interfaces
