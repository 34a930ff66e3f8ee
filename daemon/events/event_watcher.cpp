// SPDX-License-Identifier: GPL-2.0
#include "events/event_watcher.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "libmutex/netlink.hpp"

namespace mutexd::events {

EventWatcher::EventWatcher(boost::asio::io_context& io, OnEvents on_events, OnOverrun on_overrun,
                           std::optional<int> receive_buffer)
    : fd_(io), on_events_(std::move(on_events)), on_overrun_(std::move(on_overrun)) {
    const int fd = listener_.fd();
    if (receive_buffer &&
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &*receive_buffer, sizeof(*receive_buffer)) != 0) {
        throw std::system_error(errno, std::generic_category(), "SO_RCVBUF");
    }
    // The module counts what this socket loses in events_lost (without it a full buffer fails
    // the delivery silently for the sender).
    const int on = 1;
    if (::setsockopt(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &on, sizeof(on)) != 0) {
        throw std::system_error(errno, std::generic_category(), "NETLINK_BROADCAST_ERROR");
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        throw std::system_error(errno, std::generic_category(), "O_NONBLOCK");
    }
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        throw std::system_error(errno, std::generic_category(), "dup");
    }
    fd_.assign(copy);
    wait();
}

EventWatcher::~EventWatcher() noexcept {
    boost::system::error_code ignored;
    static_cast<void>(fd_.close(ignored));
}

void EventWatcher::wait() {
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [this](const boost::system::error_code& ec) {
                       if (!ec) {
                           read();
                       }
                   });
}

void EventWatcher::read() {
    bool overran = false;
    std::vector<mutex::Event> events;
    for (;;) {
        try {
            auto part = listener_.drain();
            if (part.empty()) {
                break;
            }
            events.insert(events.end(), part.begin(), part.end());
        } catch (const mutex::BufferError&) {
            overran = true;  // reported once; what is queued after it is still good
        }
    }
    if (overran) {
        on_overrun_();  // a full resync covers the events read with it too
    } else if (!events.empty()) {
        on_events_(events);
    }
    wait();
}

}  // namespace mutexd::events
