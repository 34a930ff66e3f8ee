// SPDX-License-Identifier: GPL-2.0
#include "libmutex/netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "libmutex/error.hpp"

namespace mutex {

// ----- generic netlink controller --------------------------------------------------------------

namespace {

constexpr std::array kFamilyAttrs{
    AttrSpec{CTRL_ATTR_FAMILY_ID, AttrKind::u16, "CTRL_ATTR_FAMILY_ID"},
    AttrSpec{CTRL_ATTR_FAMILY_NAME, AttrKind::string, "CTRL_ATTR_FAMILY_NAME"},
    AttrSpec{CTRL_ATTR_VERSION, AttrKind::u32, "CTRL_ATTR_VERSION"},
    AttrSpec{CTRL_ATTR_MAXATTR, AttrKind::u32, "CTRL_ATTR_MAXATTR"},
    AttrSpec{CTRL_ATTR_MCAST_GROUPS, AttrKind::nested, "CTRL_ATTR_MCAST_GROUPS"},
};

/// One group of CTRL_ATTR_MCAST_GROUPS (a nest whose type is its position).
constexpr std::array kMcastGroupAttrs{
    AttrSpec{CTRL_ATTR_MCAST_GRP_NAME, AttrKind::string, "group name"},
    AttrSpec{CTRL_ATTR_MCAST_GRP_ID, AttrKind::u32, "group id"},
};

constexpr std::array kExtackAttrs{
    AttrSpec{NLMSGERR_ATTR_MSG, AttrKind::string, "NLMSGERR_ATTR_MSG"},
    AttrSpec{NLMSGERR_ATTR_OFFS, AttrKind::u32, "NLMSGERR_ATTR_OFFS"},
    AttrSpec{NLMSGERR_ATTR_MISS_TYPE, AttrKind::u32, "NLMSGERR_ATTR_MISS_TYPE"},
};

/// Extended-ack TLVs (NLMSGERR_ATTR_*) into `status`; a malformed extended ack is ignored (it
/// does not hide the error code).
void decode_extack(Message tlvs, KernelStatus& status) {
    try {
        const AttrView view(tlvs, kExtackAttrs, "extended ack");
        status.message = view.string(NLMSGERR_ATTR_MSG).value_or(status.message);
        status.offset = view.u32(NLMSGERR_ATTR_OFFS);
        status.missing_type = view.u32(NLMSGERR_ATTR_MISS_TYPE);
    } catch (const ProtocolError&) {
        return;
    }
}

int positive_errno(int code) {
    if (code == INT_MIN) {
        throw ProtocolError("error code out of range");
    }
    return code < 0 ? -code : code;
}

}  // namespace

Message encode_get_family(MutableBuffer buffer, std::uint32_t seq, std::string_view name) {
    AttrWriter enc(buffer, GENL_ID_CTRL, seq, CTRL_CMD_GETFAMILY, 1);
    enc.strz(CTRL_ATTR_FAMILY_NAME, std::string(name));
    return enc.message();
}

FamilyInfo decode_family(const nlmsghdr& msg) {
    const AttrView view = AttrView::of_message(msg, kFamilyAttrs, "CTRL_CMD_GETFAMILY reply");
    FamilyInfo family;
    family.id = view.need_u16(CTRL_ATTR_FAMILY_ID);
    family.name = view.string(CTRL_ATTR_FAMILY_NAME).value_or("");
    family.version = view.u32(CTRL_ATTR_VERSION).value_or(0);
    family.max_attr = view.u32(CTRL_ATTR_MAXATTR).value_or(0);
    if (const nlattr* groups = view.get(CTRL_ATTR_MCAST_GROUPS)) {
        for_each_attr(payload_of(*groups), "CTRL_ATTR_MCAST_GROUPS", [&family](const nlattr& nest) {
            const AttrView group = AttrView::of_nest(nest, kMcastGroupAttrs, "mcast group");
            family.mcast_groups.push_back({group.string(CTRL_ATTR_MCAST_GRP_NAME).value_or(""),
                                           group.u32(CTRL_ATTR_MCAST_GRP_ID).value_or(0)});
        });
    }
    return family;
}

// ----- errors and acknowledgements -------------------------------------------------------------

KernelStatus decode_error(const nlmsghdr& msg) {
    if (msg.nlmsg_len < kNlmsgHdrLen + sizeof(nlmsgerr)) {
        throw ProtocolError("NLMSG_ERROR message too short (" + std::to_string(msg.nlmsg_len) +
                            " bytes)");
    }
    nlmsgerr err{};
    std::memcpy(&err, bytes_of(msg) + kNlmsgHdrLen, sizeof(err));
    KernelStatus status;
    status.error = positive_errno(err.error);
    if ((msg.nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
        return status;
    }
    std::size_t tlv_offset = kNlmsgHdrLen + sizeof(nlmsgerr);
    if ((msg.nlmsg_flags & NLM_F_CAPPED) == 0 && err.msg.nlmsg_len > kNlmsgHdrLen) {
        tlv_offset += netlink_align(err.msg.nlmsg_len - kNlmsgHdrLen);  // the echoed request
    }
    if (tlv_offset <= msg.nlmsg_len) {
        decode_extack({bytes_of(msg) + tlv_offset, msg.nlmsg_len - tlv_offset}, status);
    }
    return status;
}

KernelStatus decode_done(const nlmsghdr& msg) {
    KernelStatus status;
    if (msg.nlmsg_len < kNlmsgHdrLen + sizeof(int)) {
        return status;  // no error code: a clean end of dump
    }
    int code = 0;
    std::memcpy(&code, bytes_of(msg) + kNlmsgHdrLen, sizeof(code));
    status.error = positive_errno(code);
    if ((msg.nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
        const std::size_t tlv_offset = kNlmsgHdrLen + netlink_align(sizeof(int));
        if (tlv_offset <= msg.nlmsg_len) {
            decode_extack({bytes_of(msg) + tlv_offset, msg.nlmsg_len - tlv_offset}, status);
        }
    }
    return status;
}

// ----- socket buffers --------------------------------------------------------------------------

std::optional<int> socket_buffer_option(std::size_t bytes) noexcept {
    // The kernel doubles the value (for its own bookkeeping) and clamps it to INT_MAX / 2 first.
    const std::size_t value = bytes / 2 + bytes % 2;
    if (value > static_cast<std::size_t>(INT_MAX / 2)) {
        return std::nullopt;
    }
    return static_cast<int>(value);
}

std::string buffer_advice(std::string_view what, std::size_t needed, std::size_t granted,
                          SocketBuffer buffer, std::size_t sysctl_value) {
    const bool send = buffer == SocketBuffer::send;
    std::string text = std::string(what) + " needs a socket " + (send ? "send" : "receive") +
                       " buffer of " + std::to_string(needed) + " bytes, the kernel granted " +
                       std::to_string(granted) + ": run with CAP_NET_ADMIN (" +
                       (send ? "SO_SNDBUFFORCE" : "SO_RCVBUFFORCE") + ") or raise " +
                       (send ? "net.core.wmem_max" : "net.core.rmem_max");
    if (sysctl_value != 0) {
        text += " (now " + std::to_string(sysctl_value) + ")";
    }
    const auto option = socket_buffer_option(needed);
    if (option) {
        text += " to at least " + std::to_string(*option);
    }
    return text;
}

BufferError::BufferError(int error, const std::string& what)
    : NetlinkError(error, what, {}, std::nullopt) {}

namespace {

/// net.core.wmem_max or rmem_max, the cap of SO_SNDBUF or SO_RCVBUF; 0 when it cannot be read.
std::size_t buffer_sysctl(SocketBuffer buffer) {
    std::ifstream in(buffer == SocketBuffer::send ? "/proc/sys/net/core/wmem_max"
                                                  : "/proc/sys/net/core/rmem_max");
    std::size_t value = 0;
    if (!(in >> value)) {
        return 0;
    }
    return value;
}

}  // namespace

// ----- Exchange --------------------------------------------------------------------------------

Exchange::Exchange(std::uint32_t seq, std::uint32_t portid, Handler on_data)
    : seq_(seq), portid_(portid), on_data_(std::move(on_data)) {
    control_[NLMSG_NOOP] = &Exchange::on_noop;
    control_[NLMSG_ERROR] = &Exchange::on_error;
    control_[NLMSG_DONE] = &Exchange::on_done;
    control_[NLMSG_OVERRUN] = &Exchange::on_noop;
}

int Exchange::fail(std::exception_ptr error) noexcept {
    pending_ = std::move(error);
    return MNL_CB_ERROR;
}

int Exchange::on_data(const nlmsghdr* nlh, void* self) {
    auto* ex = static_cast<Exchange*>(self);
    try {
        if (ex->on_data_) {
            ex->on_data_(*nlh);
        }
        return MNL_CB_OK;
    } catch (...) {
        return ex->fail(std::current_exception());
    }
}

int Exchange::on_error(const nlmsghdr* nlh, void* self) {
    return static_cast<Exchange*>(self)->finish(*nlh, decode_error);
}

int Exchange::on_done(const nlmsghdr* nlh, void* self) {
    return static_cast<Exchange*>(self)->finish(*nlh, decode_done);
}

// An ACK or the end of a dump: the kernel's status ends the exchange, as an error or a warning.
int Exchange::finish(const nlmsghdr& nlh, KernelStatus (*decode)(const nlmsghdr&)) {
    try {
        KernelStatus status = decode(nlh);
        if (status.error != 0) {
            throw NetlinkError(status.error, status.message, status.offset);
        }
        warning_ = std::move(status.message);
        return MNL_CB_STOP;
    } catch (...) {
        return fail(std::current_exception());
    }
}

int Exchange::on_noop(const nlmsghdr* /*nlh*/, void* /*self*/) {
    return MNL_CB_OK;
}

// What mnl_cb_run2 does for one message after its checks; used for messages carrying
// NLM_F_DUMP_INTR, which libmnl reports as EINTR without looking at them.
int Exchange::dispatch(const nlmsghdr& nlh) {
    if (nlh.nlmsg_type >= NLMSG_MIN_TYPE) {
        return on_data(&nlh, this);
    }
    const auto handler = control_.at(nlh.nlmsg_type);
    return handler != nullptr ? handler(&nlh, this) : MNL_CB_OK;
}

int Exchange::process_one(const nlmsghdr& nlh) {
    errno = 0;
    int ret = mnl_cb_run2(&nlh, nlh.nlmsg_len, seq_, portid_, &Exchange::on_data, this,
                          control_.data(), static_cast<unsigned>(control_.size()));
    if (ret == MNL_CB_ERROR && !pending_) {
        const int err = errno;
        if (err == EINTR && (nlh.nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
            interrupted_ = true;  // seq and port id were checked before libmnl saw the flag
            ret = dispatch(nlh);
        } else if (err == ESRCH) {
            throw ProtocolError("message from port id " + std::to_string(nlh.nlmsg_pid) +
                                ", expected " + std::to_string(portid_));
        } else if (err == EPROTO) {
            throw ProtocolError("message with sequence number " + std::to_string(nlh.nlmsg_seq) +
                                ", expected " + std::to_string(seq_));
        } else {
            throw NetlinkError(err != 0 ? err : EPROTO);
        }
    }
    if (pending_) {
        std::rethrow_exception(std::exchange(pending_, nullptr));
    }
    return ret;
}

bool Exchange::process(Message datagram) {
    if (done_ || failed_) {
        throw std::logic_error("netlink exchange already finished");
    }
    if (reinterpret_cast<std::uintptr_t>(datagram.data()) % alignof(nlmsghdr) != 0) {
        throw std::invalid_argument("netlink datagram is not aligned");
    }
    try {
        while (!datagram.empty()) {
            const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
            if (datagram.size() < kNlmsgHdrLen || nlh->nlmsg_len < kNlmsgHdrLen ||
                nlh->nlmsg_len > datagram.size()) {
                throw ProtocolError("truncated netlink message (" +
                                    std::to_string(datagram.size()) + " bytes left)");
            }
            if (process_one(*nlh) == MNL_CB_STOP) {
                done_ = true;  // anything after the ACK or NLMSG_DONE is not ours
                return true;
            }
            datagram = datagram.subspan(std::min(netlink_align(nlh->nlmsg_len), datagram.size()));
        }
    } catch (...) {
        failed_ = true;
        throw;
    }
    return false;
}

// ----- Channel ---------------------------------------------------------------------------------

void Channel::Closer::operator()(mnl_socket* socket) const noexcept {
    mnl_socket_close(socket);
}

Channel::Channel(int bus)
    : socket_(mnl_socket_open2(bus, SOCK_CLOEXEC)),
      seq_(static_cast<std::uint32_t>(std::time(nullptr))),
      rx_(kReceiveBufferSize) {
    if (!socket_) {
        throw NetlinkError(errno);
    }
    int on = 1;
    if (mnl_socket_setsockopt(socket_.get(), NETLINK_EXT_ACK, &on, sizeof(on)) < 0 ||
        mnl_socket_setsockopt(socket_.get(), NETLINK_CAP_ACK, &on, sizeof(on)) < 0 ||
        mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw NetlinkError(errno);
    }
    sndbuf_ = socket_buffer(SO_SNDBUF);
    rcvbuf_ = socket_buffer(SO_RCVBUF);
    // Replies are queued by the kernel while it handles the request, before this side reads
    // anything: the room for a large one must be there before the request is sent.
    reserve_receive(kReceiveBufferReserve);
}

void for_each_message(Message datagram, const std::function<void(const nlmsghdr&)>& fn) {
    while (datagram.size() >= sizeof(nlmsghdr)) {
        const auto* hdr = reinterpret_cast<const nlmsghdr*>(datagram.data());
        if (hdr->nlmsg_len < sizeof(nlmsghdr) || hdr->nlmsg_len > datagram.size()) {
            throw ProtocolError("netlink message of length " + std::to_string(hdr->nlmsg_len) +
                                " in a datagram of " + std::to_string(datagram.size()));
        }
        fn(*hdr);
        datagram =
            datagram.subspan(std::min<std::size_t>(NLMSG_ALIGN(hdr->nlmsg_len), datagram.size()));
    }
}

void Channel::join(std::uint32_t group) {
    if (mnl_socket_setsockopt(socket_.get(), NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
        throw NetlinkError(errno);
    }
}

int Channel::fd() const noexcept {
    return mnl_socket_get_fd(socket_.get());
}

std::uint32_t Channel::portid() const noexcept {
    return mnl_socket_get_portid(socket_.get());
}

std::uint32_t Channel::next_seq() noexcept {
    if (++seq_ == 0) {
        ++seq_;
    }
    return seq_;
}

std::size_t Channel::socket_buffer(int option) const {
    int value = 0;
    socklen_t len = sizeof(value);
    if (::getsockopt(fd(), SOL_SOCKET, option, &value, &len) < 0) {
        throw NetlinkError(errno);
    }
    return value > 0 ? static_cast<std::size_t>(value) : 0;
}

std::size_t Channel::reserve(int option, int force_option, std::size_t bytes) {
    std::size_t& cached = option == SO_SNDBUF ? sndbuf_ : rcvbuf_;
    if (cached >= bytes) {
        return cached;
    }
    const int value = socket_buffer_option(bytes).value_or(INT_MAX / 2);
    if (::setsockopt(fd(), SOL_SOCKET, force_option, &value, sizeof(value)) < 0) {
        // Without CAP_NET_ADMIN the kernel caps the value at net.core.[rw]mem_max; skip it when
        // that would shrink what the socket already has.
        const std::size_t limit =
            buffer_sysctl(option == SO_SNDBUF ? SocketBuffer::send : SocketBuffer::receive);
        if (limit == 0 || 2 * limit > cached) {
            (void)::setsockopt(fd(), SOL_SOCKET, option, &value, sizeof(value));
        }
    }
    cached = socket_buffer(option);
    return cached;
}

std::size_t Channel::reserve_send(std::size_t bytes) {
    return reserve(SO_SNDBUF, SO_SNDBUFFORCE, bytes);
}

std::size_t Channel::reserve_receive(std::size_t bytes) {
    return reserve(SO_RCVBUF, SO_RCVBUFFORCE, bytes);
}

void Channel::send(Message request) {
    const std::size_t needed = send_buffer_needed(request.size());
    if (sndbuf_ < needed && reserve_send(needed) < needed) {
        throw BufferError(
            EMSGSIZE,
            buffer_advice("request of " + std::to_string(request.size()) + " bytes", needed,
                          sndbuf_, SocketBuffer::send, buffer_sysctl(SocketBuffer::send)));
    }
    const ssize_t sent = mnl_socket_sendto(socket_.get(), request.data(), request.size());
    if (sent < 0) {
        const int err = errno;
        if (err == EMSGSIZE) {  // the buffer was shrunk behind this channel's back
            sndbuf_ = socket_buffer(SO_SNDBUF);
            throw BufferError(
                err,
                buffer_advice("request of " + std::to_string(request.size()) + " bytes", needed,
                              sndbuf_, SocketBuffer::send, buffer_sysctl(SocketBuffer::send)));
        }
        throw NetlinkError(err);
    }
    if (static_cast<std::size_t>(sent) != request.size()) {
        throw NetlinkError(EMSGSIZE);
    }
}

Message Channel::receive() {
    for (;;) {
        // The length of the next datagram, without taking it off the queue.
        const ssize_t pending = ::recv(fd(), rx_.data(), 0, MSG_PEEK | MSG_TRUNC);
        if (pending < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            if (err == EAGAIN || err == EWOULDBLOCK) {
                return {};
            }
            if (err == ENOBUFS) {
                throw BufferError(err,
                                  "the kernel dropped a netlink message: the socket receive "
                                  "buffer (" +
                                      std::to_string(rcvbuf_) + " bytes) was full");
            }
            throw NetlinkError(err);
        }
        if (static_cast<std::size_t>(pending) > rx_.size()) {
            rx_.resize(netlink_align(static_cast<std::size_t>(pending)));
        }
        const ssize_t n = mnl_socket_recvfrom(socket_.get(), rx_.data(), rx_.size());
        if (n >= 0) {
            return Message(rx_).first(static_cast<std::size_t>(n));
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return {};
        }
        throw NetlinkError(errno);
    }
}

std::size_t Channel::discard_pending() noexcept {
    std::size_t bytes = 0;
    for (;;) {
        const ssize_t n = ::recv(fd(), rx_.data(), 0, MSG_TRUNC | MSG_DONTWAIT);
        if (n > 0) {
            bytes += static_cast<std::size_t>(n);
        } else if (n == 0 || (errno != EINTR && errno != ENOBUFS)) {
            return bytes;
        }
    }
}

void Channel::wait_readable(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd pfd{fd(), POLLIN, 0};
        const int ready =
            ::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        if (ready > 0) {
            return;
        }
        if (ready == 0) {
            throw NetlinkError(ETIMEDOUT);
        }
        if (errno != EINTR) {
            throw NetlinkError(errno);
        }
    }
}

void Channel::run(Message request, Exchange& exchange, std::chrono::milliseconds timeout) {
    send(request);
    try {
        for (;;) {
            wait_readable(timeout);
            const Message datagram = receive();
            if (!datagram.empty() && exchange.process(datagram)) {
                return;
            }
        }
    } catch (const BufferError& e) {
        if (e.error() != ENOBUFS) {
            throw;
        }
        // The reply was queued but the ACK behind it was dropped (the kernel queues one message
        // beyond the limit): what was queued tells how much room the answer needed. The kernel
        // accounts a queued message at up to about twice its length.
        const std::size_t queued = discard_pending();
        rcvbuf_ = socket_buffer(SO_RCVBUF);
        if (queued == 0) {
            throw;
        }
        throw BufferError(
            ENOBUFS, buffer_advice("the kernel dropped part of the answer: a reply of " +
                                       std::to_string(queued) + " bytes",
                                   2 * queued + kReceiveBufferSize, rcvbuf_, SocketBuffer::receive,
                                   buffer_sysctl(SocketBuffer::receive)));
    }
}

// ----- family resolution and dumps -------------------------------------------------------------

FamilyInfo resolve_family(Channel& channel, std::string_view name) {
    RequestBuffer request;
    const std::uint32_t seq = channel.next_seq();
    const Message msg = encode_get_family(request.bytes, seq, name);
    std::optional<FamilyInfo> family;
    Exchange exchange(seq, channel.portid(), [&family](const nlmsghdr& reply) {
        if (reply.nlmsg_type != GENL_ID_CTRL) {
            throw ProtocolError("unexpected message type " + std::to_string(reply.nlmsg_type) +
                                " in CTRL_CMD_GETFAMILY reply");
        }
        family = decode_family(reply);
    });
    try {
        channel.run(msg, exchange);
    } catch (const NetlinkError& e) {
        if (e.error() == ENOENT) {
            throw FamilyNotFound(name);
        }
        throw;
    }
    if (!family) {
        throw ProtocolError("no reply to CTRL_CMD_GETFAMILY");
    }
    return std::move(*family);
}

DumpResult run_dump(Channel& channel, Message request, std::uint32_t seq,
                    const Exchange::Handler& on_data, std::chrono::milliseconds timeout) {
    DumpResult result;
    Exchange exchange(seq, channel.portid(), [&](const nlmsghdr& msg) {
        ++result.messages;
        on_data(msg);
    });
    channel.run(request, exchange, timeout);
    result.interrupted = exchange.interrupted();
    return result;
}

}  // namespace mutex
