// SPDX-License-Identifier: GPL-2.0
// Generic netlink channel on libmnl, in two halves:
//   - Exchange: the state of one request (sequence number, port id, multi-part dump, ACK,
//     NLM_F_DUMP_INTR, errors with the kernel's extended ack). It only processes buffers the
//     caller received, so it is unit-tested without a socket and an event loop (Asio) can feed
//     it whatever arrives when the socket is readable.
//   - The netlink and generic netlink control messages every exchange meets: the controller's
//     family lookup (CTRL_CMD_GETFAMILY) and NLMSG_ERROR / NLMSG_DONE with the extended ack.
//     Pure decoders, unit-tested on their own.
//   - Channel: the RAII socket (NETLINK_EXT_ACK and NETLINK_CAP_ACK set), sending, receiving,
//     and a blocking run() for simple callers such as mutexctl. Messages of any size: the send
//     buffer grows for a large request, the receive buffer for a large datagram.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmutex/attributes.hpp"
#include "libmutex/error.hpp"

struct mnl_socket;

namespace mutex {

// ---------------------------------------------------------------------------------------------
// Generic netlink controller: family lookup (pure)
// ---------------------------------------------------------------------------------------------

struct McastGroup {
    std::string name;
    std::uint32_t id{};

    bool operator==(const McastGroup&) const = default;
};

struct FamilyInfo {
    std::uint16_t id{};  // nlmsg_type of the family's messages
    std::string name;
    std::uint32_t version{};  // the family's genl version
    std::uint32_t max_attr{};
    std::vector<McastGroup> mcast_groups;

    bool operator==(const FamilyInfo&) const = default;
};

/// CTRL_CMD_GETFAMILY for `name` (NLM_F_REQUEST | NLM_F_ACK).
Message encode_get_family(MutableBuffer buffer, std::uint32_t seq, std::string_view name);
/// Decodes a CTRL_CMD_NEWFAMILY reply; CTRL_ATTR_FAMILY_ID is mandatory.
FamilyInfo decode_family(const nlmsghdr& msg);

// ---------------------------------------------------------------------------------------------
// Errors and acknowledgements (pure)
// ---------------------------------------------------------------------------------------------

/// What an NLMSG_ERROR or NLMSG_DONE message says.
struct KernelStatus {
    int error{};                                // 0 (ACK / clean end of dump) or a positive errno
    std::string message;                        // NLMSGERR_ATTR_MSG (also a warning on an ACK)
    std::optional<std::uint32_t> offset;        // NLMSGERR_ATTR_OFFS
    std::optional<std::uint32_t> missing_type;  // NLMSGERR_ATTR_MISS_TYPE

    bool operator==(const KernelStatus&) const = default;
};

/// Decodes an NLMSG_ERROR message: the error code and, with NLM_F_ACK_TLVS, the extended ack
/// (found after the echoed request, or right after struct nlmsgerr with NLM_F_CAPPED).
/// A message too short for struct nlmsgerr is a ProtocolError; a malformed extended ack is
/// ignored (the error code still stands).
KernelStatus decode_error(const nlmsghdr& msg);
/// Decodes an NLMSG_DONE message: the dump's final error code (0 when absent) and extended ack.
KernelStatus decode_done(const nlmsghdr& msg);

// ---------------------------------------------------------------------------------------------
// The channel
// ---------------------------------------------------------------------------------------------

/// Initial size of a channel's receive buffer. It grows to the size of any larger datagram, and
/// the kernel sizes dump datagrams after the buffers it is given (up to about 32 KiB).
inline constexpr std::size_t kReceiveBufferSize = 32768;

/// What a channel asks the kernel to queue for it (its socket's receive buffer, SO_RCVBUF) when
/// it is opened: the largest single message the kernel can allocate (4 MiB: a GET_CONFIG reply
/// is one message) and the ACK behind it. Granted in full with CAP_NET_ADMIN (SO_RCVBUFFORCE);
/// otherwise net.core.rmem_max caps it. Memory is used only for what is actually queued.
inline constexpr std::size_t kReceiveBufferReserve = (std::size_t{4} << 20) + 65536;

/// netlink_sendmsg refuses a message larger than the socket's send buffer minus this.
inline constexpr std::size_t kNetlinkSendOverhead = 32;

/// The send buffer (sk_sndbuf) a netlink socket needs to send a message of `message_size`
/// bytes.
constexpr std::size_t send_buffer_needed(std::size_t message_size) noexcept {
    return message_size + kNetlinkSendOverhead;
}

/// The value to pass to SO_SNDBUF/SO_RCVBUF (or their FORCE variants) so the kernel's buffer,
/// twice the value, holds at least `bytes`; std::nullopt when no int value can (over 2 GiB).
std::optional<int> socket_buffer_option(std::size_t bytes) noexcept;

/// Which of a socket's two buffers.
enum class SocketBuffer { send, receive };

/// The message for a request or reply that does not fit the socket's `buffer`: what was needed,
/// what the kernel granted, and how to get more: CAP_NET_ADMIN (SO_SNDBUFFORCE/SO_RCVBUFFORCE),
/// or the sysctl that caps the unforced option (net.core.wmem_max/rmem_max), whose current value
/// is `sysctl_value` (0: unknown).
std::string buffer_advice(std::string_view what, std::size_t needed, std::size_t granted,
                          SocketBuffer buffer, std::size_t sysctl_value);

/// A message too large for the socket's buffers: error() is EMSGSIZE (a request that cannot be
/// sent: nothing was sent) or ENOBUFS (the kernel dropped a reply or an event: the socket's
/// receive buffer was full). what() says how large a buffer was needed and how to get it.
class BufferError : public NetlinkError {
public:
    BufferError(int error, const std::string& what);
};

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

/// Calls `fn` for every message of a received datagram (multicast messages too, which no
/// Exchange expects: sequence number and port id 0). Throws ProtocolError for a message whose
/// length is impossible; `fn`'s exceptions pass through.
void for_each_message(Message datagram, const std::function<void(const nlmsghdr&)>& fn);

/// A netlink socket: bound to an automatic port id, NETLINK_EXT_ACK and NETLINK_CAP_ACK set,
/// close-on-exec, receive buffer reserved for kReceiveBufferReserve bytes. Move-only.
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

    /// Sends one request, first growing the socket's send buffer if the request needs it
    /// (reserve_send). Throws BufferError(EMSGSIZE) when the kernel would not grant enough
    /// (nothing is sent), NetlinkError with errno for other failures.
    void send(Message request);
    /// Receives one whole datagram, whatever its size: its length is read first (MSG_PEEK |
    /// MSG_TRUNC) and the channel's buffer grown to it. Returns it (aligned for nlmsghdr, valid
    /// until the next receive on this channel), or an empty message if the socket is
    /// non-blocking and nothing is pending. Throws BufferError(ENOBUFS) when the kernel dropped
    /// a message because the receive buffer was full (reported once; the socket stays usable),
    /// NetlinkError with errno otherwise.
    [[nodiscard]] Message receive();
    /// Joins multicast group `group` (an id from FamilyInfo::mcast_groups): its messages then
    /// arrive with receive(). Throws NetlinkError(EPERM) when the group needs a capability the
    /// caller lacks.
    void join(std::uint32_t group);
    /// Waits until the socket is readable; throws NetlinkError(ETIMEDOUT) after `timeout`.
    void wait_readable(std::chrono::milliseconds timeout) const;

    /// Blocking request: sends `request` (built with exchange.seq()) and feeds every datagram to
    /// `exchange` until it completes. `timeout` bounds each wait for a datagram. If the kernel
    /// dropped part of the answer (ENOBUFS), whatever of it is still queued is discarded, so the
    /// channel can be used again, and BufferError(ENOBUFS) says how much buffer was available.
    void run(Message request, Exchange& exchange,
             std::chrono::milliseconds timeout = kDefaultTimeout);

    /// Grows the socket's send buffer (sk_sndbuf) to at least `bytes`: SO_SNDBUFFORCE (needs
    /// CAP_NET_ADMIN), else SO_SNDBUF (capped by net.core.wmem_max). Never shrinks it.
    /// Returns the size the kernel granted, which may be smaller than asked.
    std::size_t reserve_send(std::size_t bytes);
    /// The same for the receive buffer (SO_RCVBUFFORCE, SO_RCVBUF, net.core.rmem_max).
    std::size_t reserve_receive(std::size_t bytes);
    /// The socket's send and receive buffer sizes as the kernel accounts them.
    [[nodiscard]] std::size_t send_buffer() const noexcept { return sndbuf_; }
    [[nodiscard]] std::size_t receive_buffer() const noexcept { return rcvbuf_; }

private:
    struct Closer {
        void operator()(mnl_socket* socket) const noexcept;
    };

    std::size_t reserve(int option, int force_option, std::size_t bytes);
    [[nodiscard]] std::size_t socket_buffer(int option) const;
    std::size_t discard_pending() noexcept;

    std::unique_ptr<mnl_socket, Closer> socket_;
    std::uint32_t seq_;
    std::vector<std::byte> rx_;  // operator new storage: aligned for nlmsghdr
    std::size_t sndbuf_ = 0;
    std::size_t rcvbuf_ = 0;
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
