// SPDX-License-Identifier: GPL-2.0
// Exchange: the buffer-processing half of the channel, fed hand-built datagrams (request/reply
// with ACK, errors with extended ack, multi-part dumps, NLM_F_DUMP_INTR, sequence and port id
// checks). Channel: only what works without the module (the controller family itself).
#include "libmutex/netlink.hpp"

#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/error.hpp"
#include "test_helpers.hpp"

namespace mutex {
namespace {

using test::Bytes;
using test::datagram;
using test::MessageBuilder;

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

}  // namespace
}  // namespace mutex
