// SPDX-License-Identifier: GPL-2.0
// The module's "events" multicast group on the daemon's event loop: configuration replaced (a
// new generation) and backend changes, whoever made them. When the socket overruns (the kernel
// dropped events: ENOBUFS) the daemon cannot know what it missed, so the watcher says so and the
// daemon reads the kernel again (a full resync) rather than trust a stale view.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "libmutex/client.hpp"

namespace mutexd::events {

class EventWatcher {
public:
    using OnEvents = std::function<void(const std::vector<mutex::Event>&)>;
    using OnOverrun = std::function<void()>;

    /// Joins the group. `receive_buffer`: the socket's SO_RCVBUF (the kernel's default when
    /// unset; tests make it tiny to force an overrun). Throws what EventListener throws.
    EventWatcher(boost::asio::io_context& io, OnEvents on_events, OnOverrun on_overrun,
                 std::optional<int> receive_buffer = std::nullopt);
    EventWatcher(const EventWatcher&) = delete;
    EventWatcher& operator=(const EventWatcher&) = delete;
    EventWatcher(EventWatcher&&) = delete;
    EventWatcher& operator=(EventWatcher&&) = delete;
    ~EventWatcher() noexcept;

private:
    void wait();
    void read();

    mutex::EventListener listener_;
    boost::asio::posix::stream_descriptor fd_;  // a dup of the listener's socket, for waiting
    OnEvents on_events_;
    OnOverrun on_overrun_;
};

}  // namespace mutexd::events
