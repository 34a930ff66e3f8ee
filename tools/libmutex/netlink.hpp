// SPDX-License-Identifier: GPL-2.0
// Generic netlink channel on libmnl, in two halves:
//   - Exchange: the state of one request (sequence number, port id, multi-part dump, ACK,
//     NLM_F_DUMP_INTR, errors with the kernel's extended ack). It only processes buffers the
//     caller received, so it is unit-tested without a socket and an event loop (Asio) can feed
//     it whatever arrives when the socket is readable.
//   - Channel: the RAII socket (NETLINK_EXT_ACK and NETLINK_CAP_ACK set), sending, receiving,
//     and a blocking run() for simple callers such as mutexctl.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libmutex/codec.hpp"

struct mnl_socket;

namespace mutex {

/// Receive buffer size: large enough that the kernel never truncates a dump datagram.
inline constexpr std::size_t kReceiveBufferSize = 32768;

/// One request/reply or dump exchange: feed it every datagram received after sending the
/// request, until process() returns true.
///
/// Data messages (nlmsg_type >= NLMSG_MIN_TYPE) go to the handler. The exchange ends at the ACK
/// (NLMSG_ERROR with error 0; requests are sent with NLM_F_ACK) or at NLMSG_DONE (dumps).
/// Sequence number and port id of every message are checked with mnl_cb_run2.
/// NLM_F_DUMP_INTR on any message sets interrupted(); the remaining messages are still
/// processed until the dump ends, so the socket is left clean for a retry.
class Exchange {
public:
    using Handler = std::function<void(const nlmsghdr&)>;

    Exchange(std::uint32_t seq, std::uint32_t portid, Handler on_data);

    /// Processes one received datagram (one or more messages, aligned for nlmsghdr).
    /// Returns true when the exchange is complete.
    /// Throws NetlinkError when the kernel refused the request (errno + extended ack),
    /// ProtocolError for a truncated message or a wrong sequence number or port id, and whatever
    /// the handler throws. After a throw the exchange is over.
    bool process(Message datagram);

    [[nodiscard]] std::uint32_t seq() const noexcept { return seq_; }
    [[nodiscard]] bool done() const noexcept { return done_; }
    /// A message of the dump carried NLM_F_DUMP_INTR: the result may be inconsistent, retry.
    [[nodiscard]] bool interrupted() const noexcept { return interrupted_; }
    /// Extended-ack message of a successful ACK (a warning from the kernel), usually empty.
    [[nodiscard]] const std::string& warning() const noexcept { return warning_; }

private:
    static int on_data(const nlmsghdr* nlh, void* self);
    static int on_error(const nlmsghdr* nlh, void* self);
    static int on_done(const nlmsghdr* nlh, void* self);
    int finish(const nlmsghdr& nlh, KernelStatus (*decode)(const nlmsghdr&));
    static int on_noop(const nlmsghdr* nlh, void* self);
    int process_one(const nlmsghdr& nlh);
    int dispatch(const nlmsghdr& nlh);
    int fail(std::exception_ptr error) noexcept;

    std::uint32_t seq_;
    std::uint32_t portid_;
    Handler on_data_;
    std::array<int (*)(const nlmsghdr*, void*), NLMSG_MIN_TYPE> control_{};
    std::exception_ptr pending_;
    std::string warning_;
    bool done_ = false;
    bool failed_ = false;
    bool interrupted_ = false;
};

/// A netlink socket: bound to an automatic port id, NETLINK_EXT_ACK and NETLINK_CAP_ACK set,
/// close-on-exec. Move-only.
class Channel {
public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

    explicit Channel(int bus = NETLINK_GENERIC);

    /// File descriptor, for poll/epoll/Asio (set it non-blocking there; receive() then returns
    /// 0 when nothing is pending).
    [[nodiscard]] int fd() const noexcept;
    [[nodiscard]] std::uint32_t portid() const noexcept;
    /// A fresh sequence number, never 0 (0 disables libmnl's sequence check).
    std::uint32_t next_seq() noexcept;

    /// Sends one request. Throws NetlinkError with errno.
    void send(Message request) const;
    /// Receives one datagram into `buffer` (aligned, kReceiveBufferSize bytes recommended).
    /// Returns its size, or 0 if the socket is non-blocking and nothing is pending.
    /// Throws NetlinkError with errno (ENOSPC: datagram truncated).
    [[nodiscard]] std::size_t receive(MutableBuffer buffer) const;
    /// Waits until the socket is readable; throws NetlinkError(ETIMEDOUT) after `timeout`.
    void wait_readable(std::chrono::milliseconds timeout) const;

    /// Blocking request: sends `request` (built with exchange.seq()) and feeds every datagram to
    /// `exchange` until it completes. `timeout` bounds each wait for a datagram.
    void run(Message request, Exchange& exchange,
             std::chrono::milliseconds timeout = kDefaultTimeout);

private:
    struct Closer {
        void operator()(mnl_socket* socket) const noexcept;
    };
    struct alignas(nlmsghdr) ReceiveBuffer {
        std::array<std::byte, kReceiveBufferSize> bytes;
    };

    std::unique_ptr<mnl_socket, Closer> socket_;
    std::uint32_t seq_;
    std::unique_ptr<ReceiveBuffer> rx_;
};

/// Resolves a generic netlink family by name (CTRL_CMD_GETFAMILY).
/// Throws FamilyNotFound when the family is not registered (ENOENT): the module is not loaded.
FamilyInfo resolve_family(Channel& channel, std::string_view name);

/// Result of a blocking dump.
struct DumpResult {
    std::size_t messages = 0;  // data messages delivered to the handler
    bool interrupted = false;  // NLM_F_DUMP_INTR seen: inconsistent, retry
};

/// Blocking dump: sends `request` (built with NLM_F_DUMP and sequence number `seq`) and calls
/// `on_data` for every data message until NLMSG_DONE.
DumpResult run_dump(Channel& channel, Message request, std::uint32_t seq,
                    const Exchange::Handler& on_data,
                    std::chrono::milliseconds timeout = Channel::kDefaultTimeout);

}  // namespace mutex
