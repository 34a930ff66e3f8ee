// SPDX-License-Identifier: GPL-2.0
// Exchange: the buffer-processing half of the channel, fed hand-built datagrams (request/reply
// with ACK, errors with extended ack, multi-part dumps, NLM_F_DUMP_INTR, sequence and port id
// checks). Channel: only what works without the module (the controller family itself, and the
// kernel's error echo of a request to an absent family: a reply as large as the request).
#include "libmutex/netlink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/error.hpp"
#include "test_helpers.hpp"

namespace mutex {
namespace {

using test::as_msg;
using test::Bytes;
using test::datagram;
using test::MessageBuilder;
using test::read_u16;
using test::read_u32;

constexpr std::uint16_t kFamily = 0x1234;
constexpr std::uint32_t kSeq = 1000;
constexpr std::uint32_t kPort = 555;

Bytes data_message(std::uint32_t value, std::uint16_t flags = 0, std::uint32_t seq = kSeq,
                   std::uint32_t port = kPort) {
    MessageBuilder b(kFamily, flags, seq, port);
    b.genl(1).u32(1, value);
    return b.build();
}

Bytes ack(std::uint32_t seq = kSeq, const Bytes& tlvs = {}) {
    return test::error_message(seq, kPort, 0, data_message(0), true, tlvs);
}

std::uint32_t value_of(const nlmsghdr& msg) {
    return test::read_u32(std::span(reinterpret_cast<const std::byte*>(&msg), msg.nlmsg_len), 24);
}

struct Recorder {
    std::vector<std::uint32_t> values;
    Exchange::Handler handler() {
        return [this](const nlmsghdr& msg) { values.push_back(value_of(msg)); };
    }
};

// ----- the generic netlink controller ----------------------------------------------------------

TEST(Control, EncodeGetFamily) {
    RequestBuffer buf;
    const Message msg = encode_get_family(buf.bytes, kSeq, MUTEX_PROXY_GENL_NAME);
    ASSERT_EQ(msg.size(), 20U + 4U + 12U);  // "mutex_proxy\0" is 12 bytes
    EXPECT_EQ(read_u32(msg, 0), msg.size());
    EXPECT_EQ(read_u16(msg, 4), GENL_ID_CTRL);
    EXPECT_EQ(read_u16(msg, 6), NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(read_u32(msg, 8), kSeq);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[16]), CTRL_CMD_GETFAMILY);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[17]), 1U);
    EXPECT_EQ(read_u16(msg, 20), 16U);
    EXPECT_EQ(read_u16(msg, 22), CTRL_ATTR_FAMILY_NAME);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(msg.data() + 24)), "mutex_proxy");
}

TEST(Control, DecodeFamily) {
    MessageBuilder b(GENL_ID_CTRL, 0, kSeq, kPort);
    b.genl(CTRL_CMD_NEWFAMILY, 2)
        .str(CTRL_ATTR_FAMILY_NAME, "mutex_proxy")
        .u16(CTRL_ATTR_FAMILY_ID, 0x22)
        .u32(CTRL_ATTR_VERSION, 1)
        .u32(CTRL_ATTR_HDRSIZE, 0)
        .u32(CTRL_ATTR_MAXATTR, MUTEX_A_MAX)
        .begin_nest(CTRL_ATTR_OPS)
        .begin_nest(1)
        .u32(CTRL_ATTR_OP_ID, 1)
        .end_nest()
        .end_nest()
        .begin_nest(CTRL_ATTR_MCAST_GROUPS)
        .begin_nest(1)
        .str(CTRL_ATTR_MCAST_GRP_NAME, "events")
        .u32(CTRL_ATTR_MCAST_GRP_ID, 9)
        .end_nest()
        .end_nest();
    const FamilyInfo family = decode_family(as_msg(b.build()));
    EXPECT_EQ(family.id, 0x22);
    EXPECT_EQ(family.name, "mutex_proxy");
    EXPECT_EQ(family.version, 1U);
    EXPECT_EQ(family.max_attr, static_cast<std::uint32_t>(MUTEX_A_MAX));
    ASSERT_EQ(family.mcast_groups.size(), 1U);
    EXPECT_EQ(family.mcast_groups[0], (McastGroup{"events", 9}));

    MessageBuilder no_id(GENL_ID_CTRL, 0, kSeq, kPort);
    no_id.genl(CTRL_CMD_NEWFAMILY, 2).str(CTRL_ATTR_FAMILY_NAME, "mutex_proxy");
    EXPECT_THROW(decode_family(as_msg(no_id.build())), ProtocolError);
}

// ----- acknowledgements and errors -----------------------------------------------------------

Bytes some_request() {
    RequestBuffer buf;
    const Message msg = encode_set_params(buf.bytes, kFamily, kSeq, Params{{}, 300, {}, {}, {}});
    return {msg.begin(), msg.end()};
}

TEST(Ack, AckIsErrorZero) {
    const Bytes ack = test::error_message(kSeq, kPort, 0, some_request(), true);
    EXPECT_EQ(decode_error(as_msg(ack)), KernelStatus{});
}

TEST(Ack, ExtackMessageAndOffsetCapped) {
    const Bytes msg =
        test::error_message(kSeq, kPort, -EINVAL, some_request(), true,
                            test::extack_tlvs("perf_batch_size must be between 1 and 256", 24));
    const KernelStatus s = decode_error(as_msg(msg));
    EXPECT_EQ(s.error, EINVAL);
    EXPECT_EQ(s.message, "perf_batch_size must be between 1 and 256");
    EXPECT_EQ(s.offset, 24U);
    EXPECT_FALSE(s.missing_type.has_value());
}

TEST(Ack, ExtackAfterTheEchoedRequestWhenNotCapped) {
    const Bytes msg = test::error_message(kSeq, kPort, -ERANGE, some_request(), false,
                                          test::extack_tlvs("value out of range"));
    const KernelStatus s = decode_error(as_msg(msg));
    EXPECT_EQ(s.error, ERANGE);
    EXPECT_EQ(s.message, "value out of range");
    EXPECT_FALSE(s.offset.has_value());
}

TEST(Ack, MissingAttributeType) {
    MessageBuilder tlv(0, 0, 0, 0);
    tlv.str(NLMSGERR_ATTR_MSG, "missing attribute").u32(NLMSGERR_ATTR_MISS_TYPE, MUTEX_A_PARAMS);
    const Bytes all = tlv.build();
    const Bytes tlvs(all.begin() + 16, all.end());
    const KernelStatus s =
        decode_error(as_msg(test::error_message(kSeq, kPort, -EINVAL, some_request(), true, tlvs)));
    EXPECT_EQ(s.missing_type, static_cast<std::uint32_t>(MUTEX_A_PARAMS));
}

TEST(Ack, NoExtack) {
    const KernelStatus s =
        decode_error(as_msg(test::error_message(kSeq, kPort, -EPERM, some_request(), true)));
    EXPECT_EQ(s.error, EPERM);
    EXPECT_TRUE(s.message.empty());
}

TEST(Ack, MalformedExtackKeepsTheErrorCode) {
    MessageBuilder tlv(0, 0, 0, 0);
    const std::array no_nul{std::byte{'x'}, std::byte{'y'}};
    tlv.attr(NLMSGERR_ATTR_MSG, no_nul);
    const Bytes all = tlv.build();
    const Bytes tlvs(all.begin() + 16, all.end());
    const KernelStatus s =
        decode_error(as_msg(test::error_message(kSeq, kPort, -EBUSY, some_request(), true, tlvs)));
    EXPECT_EQ(s.error, EBUSY);
    EXPECT_TRUE(s.message.empty());
}

TEST(Ack, TooShortIsAProtocolError) {
    const Bytes msg = MessageBuilder(NLMSG_ERROR, 0, kSeq, kPort).u32(1, 1).build();
    EXPECT_THROW(decode_error(as_msg(msg)), ProtocolError);
}

TEST(Ack, Done) {
    EXPECT_EQ(decode_done(as_msg(test::done_message(kSeq, kPort))), KernelStatus{});
    const KernelStatus s = decode_done(
        as_msg(test::done_message(kSeq, kPort, -ENOBUFS, 0, test::extack_tlvs("too many"))));
    EXPECT_EQ(s.error, ENOBUFS);
    EXPECT_EQ(s.message, "too many");
    const Bytes bare = MessageBuilder(NLMSG_DONE, NLM_F_MULTI, kSeq, kPort).build();
    EXPECT_EQ(decode_done(as_msg(bare)), KernelStatus{});
}

TEST(Exchange, ReplyThenAckInOneDatagram) {
    Recorder rec;
    Exchange ex(kSeq, kPort, rec.handler());
    EXPECT_TRUE(ex.process(datagram({data_message(7), ack()})));
    EXPECT_TRUE(ex.done());
    EXPECT_FALSE(ex.interrupted());
    EXPECT_TRUE(ex.warning().empty());
    EXPECT_EQ(rec.values, std::vector<std::uint32_t>{7});
}

TEST(Exchange, ReplyAndAckInSeparateDatagrams) {
    Recorder rec;
    Exchange ex(kSeq, kPort, rec.handler());
    EXPECT_FALSE(ex.process(data_message(7)));
    EXPECT_FALSE(ex.done());
    EXPECT_TRUE(ex.process(ack()));
    EXPECT_EQ(rec.values, std::vector<std::uint32_t>{7});
}

TEST(Exchange, AckWithWarning) {
    Exchange ex(kSeq, kPort, nullptr);
    EXPECT_TRUE(ex.process(ack(kSeq, test::extack_tlvs("cache resized lazily"))));
    EXPECT_EQ(ex.warning(), "cache resized lazily");
}

TEST(Exchange, ErrorCarriesErrnoAndExtack) {
    Exchange ex(kSeq, kPort, nullptr);
    const Bytes err =
        test::error_message(kSeq, kPort, -EINVAL, data_message(0), true,
                            test::extack_tlvs("perf_batch_size must be between 1 and 256", 28));
    try {
        ex.process(err);
        FAIL() << "no exception";
    } catch (const NetlinkError& e) {
        EXPECT_EQ(e.error(), EINVAL);
        EXPECT_STREQ(e.what(), "perf_batch_size must be between 1 and 256");
        EXPECT_EQ(e.kernel_message(), "perf_batch_size must be between 1 and 256");
        EXPECT_EQ(e.offset(), 28U);
    }
    EXPECT_THROW(ex.process(ack()), std::logic_error);  // the exchange is over
}

TEST(Exchange, ErrorWithoutExtackIsStrerror) {
    Exchange ex(kSeq, kPort, nullptr);
    try {
        ex.process(test::error_message(kSeq, kPort, -EPERM, data_message(0), false));
        FAIL() << "no exception";
    } catch (const NetlinkError& e) {
        EXPECT_EQ(e.error(), EPERM);
        EXPECT_STREQ(e.what(), "Operation not permitted");
        EXPECT_TRUE(e.kernel_message().empty());
        EXPECT_FALSE(e.offset().has_value());
    }
}

TEST(Exchange, WrongSequenceNumberOrPortIdIsAProtocolError) {
    Exchange seq_ex(kSeq, kPort, nullptr);
    EXPECT_THROW(seq_ex.process(data_message(1, 0, kSeq + 1)), ProtocolError);
    Exchange port_ex(kSeq, kPort, nullptr);
    EXPECT_THROW(port_ex.process(data_message(1, 0, kSeq, kPort + 1)), ProtocolError);
    Exchange ack_ex(kSeq, kPort, nullptr);
    EXPECT_THROW(ack_ex.process(ack(kSeq + 1)), ProtocolError);
}

TEST(Exchange, MultiPartDumpAcrossDatagrams) {
    Recorder rec;
    Exchange ex(kSeq, kPort, rec.handler());
    EXPECT_FALSE(
        ex.process(datagram({data_message(1, NLM_F_MULTI), data_message(2, NLM_F_MULTI)})));
    EXPECT_FALSE(ex.process(datagram({data_message(3, NLM_F_MULTI)})));
    EXPECT_TRUE(
        ex.process(datagram({data_message(4, NLM_F_MULTI), test::done_message(kSeq, kPort)})));
    EXPECT_FALSE(ex.interrupted());
    EXPECT_EQ(rec.values, (std::vector<std::uint32_t>{1, 2, 3, 4}));
}

TEST(Exchange, DumpInterruptedIsReportedAndTheDumpIsDrained) {
    Recorder rec;
    Exchange ex(kSeq, kPort, rec.handler());
    EXPECT_FALSE(ex.process(datagram({data_message(1, NLM_F_MULTI)})));
    EXPECT_FALSE(ex.interrupted());
    EXPECT_FALSE(ex.process(
        datagram({data_message(2, NLM_F_MULTI | NLM_F_DUMP_INTR), data_message(3, NLM_F_MULTI)})));
    EXPECT_TRUE(ex.interrupted());
    EXPECT_TRUE(ex.process(test::done_message(kSeq, kPort, 0, NLM_F_DUMP_INTR)));
    EXPECT_TRUE(ex.interrupted());
    EXPECT_EQ(rec.values, (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(Exchange, InterruptedMessagesAreStillCheckedForSequence) {
    Exchange ex(kSeq, kPort, nullptr);
    EXPECT_THROW(ex.process(data_message(1, NLM_F_MULTI | NLM_F_DUMP_INTR, kSeq + 5)),
                 ProtocolError);
}

TEST(Exchange, DoneWithErrorFailsTheDump) {
    Exchange ex(kSeq, kPort, nullptr);
    EXPECT_FALSE(ex.process(data_message(1, NLM_F_MULTI)));
    try {
        ex.process(test::done_message(kSeq, kPort, -EMSGSIZE, 0, test::extack_tlvs("too big")));
        FAIL() << "no exception";
    } catch (const NetlinkError& e) {
        EXPECT_EQ(e.error(), EMSGSIZE);
        EXPECT_STREQ(e.what(), "too big");
    }
}

TEST(Exchange, TruncatedDatagramIsAProtocolError) {
    Bytes msg = data_message(1);
    msg.resize(msg.size() - 4);
    Exchange ex(kSeq, kPort, nullptr);
    EXPECT_THROW(ex.process(msg), ProtocolError);

    Exchange ex2(kSeq, kPort, nullptr);
    const Bytes tiny(8, std::byte{0});
    EXPECT_THROW(ex2.process(tiny), ProtocolError);
}

TEST(Exchange, HandlerExceptionsPropagate) {
    Exchange ex(kSeq, kPort, [](const nlmsghdr&) { throw std::runtime_error("bad reply"); });
    EXPECT_THROW(ex.process(datagram({data_message(1), ack()})), std::runtime_error);
}

TEST(Exchange, NoopMessagesAreSkipped) {
    Recorder rec;
    Exchange ex(kSeq, kPort, rec.handler());
    const Bytes noop = MessageBuilder(NLMSG_NOOP, 0, kSeq, kPort).build();
    EXPECT_TRUE(ex.process(datagram({noop, data_message(5), ack()})));
    EXPECT_EQ(rec.values, std::vector<std::uint32_t>{5});
}

// The controller family always exists, so the socket half can be exercised without the module.
TEST(Channel, ResolvesTheControllerFamilyAndReportsAnAbsentOne) {
    std::unique_ptr<Channel> channel;
    try {
        channel = std::make_unique<Channel>();
    } catch (const NetlinkError& e) {
        GTEST_SKIP() << "no generic netlink socket here: " << e.what();
    }
    EXPECT_GE(channel->fd(), 0);
    EXPECT_NE(channel->portid(), 0U);
    const FamilyInfo ctrl = resolve_family(*channel, "nlctrl");
    EXPECT_EQ(ctrl.id, GENL_ID_CTRL);
    EXPECT_EQ(ctrl.name, "nlctrl");
    try {
        resolve_family(*channel, "mutex_no_such");
        FAIL() << "no exception";
    } catch (const FamilyNotFound& e) {
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_STREQ(e.what(), "mutex_no_such module not loaded");
    }
    // the socket is still usable after an error
    EXPECT_EQ(resolve_family(*channel, "nlctrl").id, GENL_ID_CTRL);
}

TEST(Channel, DumpOfTheControllerFamilies) {
    std::unique_ptr<Channel> channel;
    try {
        channel = std::make_unique<Channel>();
    } catch (const NetlinkError& e) {
        GTEST_SKIP() << "no generic netlink socket here: " << e.what();
    }
    // CTRL_CMD_GETFAMILY with NLM_F_DUMP lists every family: a real multi-part dump.
    RequestBuffer buf;
    const std::uint32_t seq = channel->next_seq();
    Message req = encode_get_family(buf.bytes, seq, "x");
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.bytes.data());
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_len = static_cast<std::uint32_t>(kNlmsgHdrLen + kGenlHdrLen);  // no attribute
    req = req.first(nlh->nlmsg_len);
    std::vector<std::string> names;
    const DumpResult result = run_dump(*channel, req, seq, [&names](const nlmsghdr& msg) {
        names.push_back(decode_family(msg).name);
    });
    EXPECT_EQ(result.messages, names.size());
    EXPECT_NE(std::find(names.begin(), names.end(), "nlctrl"), names.end());
}

// ----- socket buffers: the arithmetic -----------------------------------------------------------

TEST(SocketBuffers, SendBufferNeededFollowsNetlinkSendmsg) {
    // netlink_sendmsg refuses len > sk_sndbuf - 32
    EXPECT_EQ(send_buffer_needed(0), 32U);
    EXPECT_EQ(send_buffer_needed(1000000), 1000032U);
}

TEST(SocketBuffers, OptionValueIsHalfTheBufferRoundedUp) {
    // the kernel doubles the value given to SO_SNDBUF/SO_RCVBUF
    EXPECT_EQ(socket_buffer_option(0), 0);
    EXPECT_EQ(socket_buffer_option(1), 1);
    EXPECT_EQ(socket_buffer_option(100), 50);
    EXPECT_EQ(socket_buffer_option(101), 51);
    EXPECT_EQ(socket_buffer_option(std::size_t{INT_MAX} - 1), INT_MAX / 2);
    EXPECT_EQ(socket_buffer_option(std::size_t{INT_MAX} + 1), std::nullopt);
}

TEST(SocketBuffers, AdviceNamesSizesAndTheSysctl) {
    const std::string text =
        buffer_advice("request of 1000000 bytes", 1000032, 425984, SocketBuffer::send, 212992);
    EXPECT_NE(text.find("request of 1000000 bytes"), std::string::npos) << text;
    EXPECT_NE(text.find("1000032"), std::string::npos) << text;
    EXPECT_NE(text.find("granted 425984"), std::string::npos) << text;
    EXPECT_NE(text.find("send buffer"), std::string::npos) << text;
    EXPECT_NE(text.find("CAP_NET_ADMIN (SO_SNDBUFFORCE)"), std::string::npos) << text;
    EXPECT_NE(text.find("net.core.wmem_max (now 212992) to at least 500016"), std::string::npos)
        << text;
    const std::string unknown = buffer_advice("reply", 10, 4, SocketBuffer::receive, 0);
    EXPECT_NE(unknown.find("receive buffer"), std::string::npos) << unknown;
    EXPECT_NE(unknown.find("SO_RCVBUFFORCE"), std::string::npos) << unknown;
    EXPECT_NE(unknown.find("net.core.rmem_max to at least 5"), std::string::npos) << unknown;
    EXPECT_EQ(unknown.find("(now"), std::string::npos) << unknown;
}

TEST(SocketBuffers, BufferErrorIsANetlinkErrorWithItsOwnMessage) {
    const BufferError e(EMSGSIZE, "too large");
    const NetlinkError& base = e;
    EXPECT_EQ(base.error(), EMSGSIZE);
    EXPECT_STREQ(base.what(), "too large");
    EXPECT_TRUE(base.kernel_message().empty());  // not the kernel's words
}

// ----- socket buffers: against the host kernel, without the module ------------------------------

std::unique_ptr<Channel> open_channel() {
    try {
        return std::make_unique<Channel>();
    } catch (const NetlinkError& e) {
        return nullptr;
    }
}

// A family id nobody has: the generic netlink core answers ENOENT.
constexpr std::uint16_t kAbsentFamily = 0xfff0;

/// A request of `size` bytes (rounded up to 4) to the absent family: padding attributes.
Bytes padded_request(std::uint32_t seq, std::size_t size) {
    MessageBuilder b(kAbsentFamily, NLM_F_REQUEST | NLM_F_ACK, seq, 0);
    b.genl(1);
    std::size_t left = size > kNlmsgHdrLen + kGenlHdrLen ? size - kNlmsgHdrLen - kGenlHdrLen : 0;
    while (left >= kNlaHdrLen) {
        const std::size_t chunk = std::min<std::size_t>(left - kNlaHdrLen, 60000) & ~std::size_t{3};
        b.attr(1, Bytes(chunk, std::byte{0x5a}));
        left -= kNlaHdrLen + chunk;
    }
    return b.build();
}

/// The kernel echoes the whole refused request in its error (no NETLINK_CAP_ACK).
void echo_requests(const Channel& channel) {
    int off = 0;
    ASSERT_EQ(::setsockopt(channel.fd(), SOL_NETLINK, NETLINK_CAP_ACK, &off, sizeof(off)), 0);
}

bool can_force_buffers() {
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    const int value = 1 << 20;
    const bool ok =
        fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof(value)) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    return ok;
}

std::size_t sysctl_value(const char* path) {
    std::ifstream in(path);
    std::size_t value = 0;
    in >> value;
    return value;
}

TEST(Channel, ReservesRoomForTheLargestReply) {
    auto channel = open_channel();
    if (!channel) {
        GTEST_SKIP() << "no generic netlink socket here";
    }
    if (can_force_buffers()) {
        EXPECT_GE(channel->receive_buffer(), kReceiveBufferReserve);
    } else {
        EXPECT_GT(channel->receive_buffer(), 0U);
    }
    // never shrinks
    const std::size_t before = channel->receive_buffer();
    EXPECT_EQ(channel->reserve_receive(4096), before);
}

TEST(Channel, SendsAndReceivesMessagesFarLargerThanTheDefaultBuffers) {
    auto channel = open_channel();
    if (!channel) {
        GTEST_SKIP() << "no generic netlink socket here";
    }
    echo_requests(*channel);
    // Unprivileged, the buffers may only grow up to net.core.[rw]mem_max.
    const std::size_t size = can_force_buffers() ? std::size_t{3} << 20 : std::size_t{300000};
    const std::uint32_t seq = channel->next_seq();
    const Bytes request = padded_request(seq, size);
    ASSERT_GE(request.size(), size - 64);
    Exchange ex(seq, channel->portid(), nullptr);
    try {
        channel->run(request, ex);
        FAIL() << "no exception";
    } catch (const NetlinkError& e) {
        // A truncated echo would be a ProtocolError (EPROTO) or ENOSPC.
        EXPECT_EQ(e.error(), ENOENT) << e.what();
    }
    EXPECT_GE(channel->send_buffer(), send_buffer_needed(request.size()));
    // the socket is still in step
    EXPECT_EQ(resolve_family(*channel, "nlctrl").id, GENL_ID_CTRL);
}

TEST(Channel, ReceiveReturnsNothingWhenNonBlockingAndIdle) {
    auto channel = open_channel();
    if (!channel) {
        GTEST_SKIP() << "no generic netlink socket here";
    }
    const int flags = ::fcntl(channel->fd(), F_GETFL);
    ASSERT_EQ(::fcntl(channel->fd(), F_SETFL, flags | O_NONBLOCK), 0);
    EXPECT_TRUE(channel->receive().empty());
}

TEST(Channel, ADroppedReplyIsReportedWithAdviceAndTheSocketRecovers) {
    auto channel = open_channel();
    if (!channel) {
        GTEST_SKIP() << "no generic netlink socket here";
    }
    echo_requests(*channel);
    const int tiny = 1;  // the kernel's minimum receive buffer (a few KiB)
    ASSERT_EQ(::setsockopt(channel->fd(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)), 0);
    // A first answer of 64 KiB is queued beyond the limit; the answer to the second request
    // finds the queue over it and is dropped.
    const std::uint32_t first = channel->next_seq();
    channel->send(padded_request(first, 65536));
    RequestBuffer buf;
    const std::uint32_t seq = channel->next_seq();
    const Message second = encode_get_family(buf.bytes, seq, "nlctrl");
    Exchange ex(seq, channel->portid(), nullptr);
    try {
        channel->run(second, ex);
        FAIL() << "no exception";
    } catch (const BufferError& e) {
        EXPECT_EQ(e.error(), ENOBUFS);
        const std::string what = e.what();
        EXPECT_NE(what.find("net.core.rmem_max"), std::string::npos) << what;
        EXPECT_NE(what.find("CAP_NET_ADMIN"), std::string::npos) << what;
        std::cerr << what << "\n";
    }
    // what was queued is gone, the buffer can grow again, the channel answers in step
    channel->reserve_receive(kReceiveBufferReserve);
    EXPECT_EQ(resolve_family(*channel, "nlctrl").id, GENL_ID_CTRL);
}

// Without CAP_NET_ADMIN the send buffer stops at net.core.wmem_max: a larger request is refused
// before anything is sent, with the sizes and the way out. Run as an unprivileged user in a child.
TEST(Channel, ARequestLargerThanTheKernelGrantsIsRefusedClearly) {
    const std::size_t wmem_max = sysctl_value("/proc/sys/net/core/wmem_max");
    if (wmem_max == 0 || wmem_max > (std::size_t{32} << 20)) {
        GTEST_SKIP() << "net.core.wmem_max unknown or too large to exceed cheaply";
    }
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            ::_exit(77);
        }
        int code = 1;
        try {
            Channel channel;
            const std::uint32_t seq = channel.next_seq();
            const Bytes request = padded_request(seq, 2 * wmem_max + 4096);
            try {
                channel.send(request);
                code = 2;  // sent: the buffer grew past the sysctl
            } catch (const BufferError& e) {
                const std::string what = e.what();
                code = e.error() == EMSGSIZE &&
                               what.find("net.core.wmem_max") != std::string::npos &&
                               what.find(std::to_string(request.size())) != std::string::npos
                           ? 0
                           : 3;
                std::cerr << what << "\n";
            }
            // nothing was sent: the next exchange is in step
            if (code == 0 && resolve_family(channel, "nlctrl").id != GENL_ID_CTRL) {
                code = 4;
            }
        } catch (const std::exception& e) {
            std::cerr << e.what() << "\n";
            code = 5;
        }
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        GTEST_SKIP() << "cannot drop to an unprivileged user here";
    }
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace mutex
