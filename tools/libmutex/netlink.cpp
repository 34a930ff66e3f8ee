// SPDX-License-Identifier: GPL-2.0
#include "libmutex/netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "libmutex/error.hpp"

namespace mutex {

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
      rx_(std::make_unique<ReceiveBuffer>()) {
    if (!socket_) {
        throw NetlinkError(errno);
    }
    int on = 1;
    if (mnl_socket_setsockopt(socket_.get(), NETLINK_EXT_ACK, &on, sizeof(on)) < 0 ||
        mnl_socket_setsockopt(socket_.get(), NETLINK_CAP_ACK, &on, sizeof(on)) < 0 ||
        mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
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

void Channel::send(Message request) const {
    const ssize_t sent = mnl_socket_sendto(socket_.get(), request.data(), request.size());
    if (sent < 0) {
        throw NetlinkError(errno);
    }
    if (static_cast<std::size_t>(sent) != request.size()) {
        throw NetlinkError(EMSGSIZE);
    }
}

std::size_t Channel::receive(MutableBuffer buffer) const {
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
        if (n >= 0) {
            return static_cast<std::size_t>(n);
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        throw NetlinkError(errno);
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
    for (;;) {
        wait_readable(timeout);
        const std::size_t n = receive(rx_->bytes);
        if (n > 0 && exchange.process(Message(rx_->bytes).first(n))) {
            return;
        }
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
