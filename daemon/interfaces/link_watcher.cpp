// SPDX-License-Identifier: GPL-2.0
#include "interfaces/link_watcher.hpp"

#include <fcntl.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace mutexd::interfaces {

void LinkWatcher::ManagerFree::operator()(nl_cache_mngr* m) const {
    nl_cache_mngr_free(m);
}

LinkWatcher::LinkWatcher(boost::asio::io_context& io, std::function<void()> on_change)
    : io_(io), on_change_(std::move(on_change)) {
    open();
}

LinkWatcher::~LinkWatcher() {
    if (socket_) {
        socket_->release();  // the manager owns the descriptor
    }
}

void LinkWatcher::open() {
    if (socket_) {
        socket_->cancel();
        socket_->release();
        socket_.reset();
    }
    links_ = nullptr;
    manager_.reset();

    nl_cache_mngr* raw = nullptr;
    int err = nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &raw);
    if (err < 0) {
        throw std::runtime_error(std::string("rtnetlink: ") + nl_geterror(err));
    }
    manager_.reset(raw);
    err = nl_cache_mngr_add(raw, "route/link", nullptr, nullptr, &links_);
    if (err < 0) {
        throw std::runtime_error(std::string("rtnetlink link cache: ") + nl_geterror(err));
    }
    const int fd = nl_cache_mngr_get_fd(raw);
    // The manager reads until the socket is empty: it must not block the loop.
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        throw std::runtime_error("rtnetlink: cannot make the socket non-blocking");
    }
    socket_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
    wait();
}

void LinkWatcher::wait() {
    socket_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                        [this](const boost::system::error_code& ec) {
                            if (ec) {
                                return;
                            }
                            const int n = nl_cache_mngr_data_ready(manager_.get());
                            if (n < 0) {
                                spdlog::warn(
                                    "rtnetlink: {} (link changes were lost): reading every "
                                    "link again",
                                    nl_geterror(n));
                                try {
                                    open();
                                } catch (const std::exception& e) {
                                    spdlog::error("{}: interface names are no longer followed",
                                                  e.what());
                                    return;
                                }
                            } else {
                                wait();
                            }
                            on_change_();
                        });
}

std::optional<std::uint32_t> LinkWatcher::index(std::string_view name) const {
    if (links_ == nullptr) {
        return std::nullopt;
    }
    const std::string z(name);
    const int index = rtnl_link_name2i(links_, z.c_str());
    if (index <= 0) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(index);
}

}  // namespace mutexd::interfaces
