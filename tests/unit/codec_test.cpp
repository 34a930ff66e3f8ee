// SPDX-License-Identifier: GPL-2.0
// Codec: requests checked byte by byte against the UAPI header, replies hand-built and decoded,
// malformed replies refused, unknown attributes ignored, error/done messages decoded.
#include "libmutex/codec.hpp"

#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/mutex_proxy.h>
#include <linux/netlink.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "libmutex/error.hpp"
#include "test_helpers.hpp"

namespace mutex {
namespace {

using test::as_msg;
using test::Bytes;
using test::MessageBuilder;
using test::read_u16;
using test::read_u32;

constexpr std::uint16_t kFamily = 0x1234;
constexpr std::uint32_t kSeq = 77;
constexpr std::uint32_t kPort = 4242;

// Offsets in an encoded request.
constexpr std::size_t kLen = 0;
constexpr std::size_t kType = 4;
constexpr std::size_t kFlags = 6;
constexpr std::size_t kSeqOff = 8;
constexpr std::size_t kPid = 12;
constexpr std::size_t kCmd = 16;
constexpr std::size_t kVersion = 17;
constexpr std::size_t kReserved = 18;
constexpr std::size_t kFirstAttr = 20;

void expect_genl_header(Message msg, std::uint16_t type, std::uint8_t cmd, std::uint8_t version) {
    ASSERT_GE(msg.size(), kFirstAttr);
    EXPECT_EQ(read_u32(msg, kLen), msg.size());
    EXPECT_EQ(read_u16(msg, kType), type);
    EXPECT_EQ(read_u16(msg, kFlags), NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(read_u32(msg, kSeqOff), kSeq);
    EXPECT_EQ(read_u32(msg, kPid), 0U);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[kCmd]), cmd);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[kVersion]), version);
    EXPECT_EQ(read_u16(msg, kReserved), 0U);
}

// A complete, valid GET_INFO reply, with hooks to leave out or replace attributes.
struct InfoReply {
    bool version = true;
    bool api = true;
    bool features = true;
    bool cookie = true;
    bool params = true;
    bool max_conns = true;

    [[nodiscard]] Bytes build() const {
        MessageBuilder b(kFamily, 0, kSeq, kPort);
        b.genl(MUTEX_CMD_GET_INFO);
        if (version) {
            b.str(MUTEX_A_VERSION, "0.1.0");
        }
        if (api) {
            b.u32(MUTEX_A_API_VERSION, 1);
        }
        b.u32(MUTEX_A_PAD, 0);
        if (features) {
            b.u64(MUTEX_A_FEATURES, MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS |
                                        MUTEX_FEATURE_PARAMS | MUTEX_FEATURE_HOOKS_IPV4);
        }
        if (cookie) {
            b.u64(MUTEX_A_NETNS_COOKIE, 0x1000000000000001ULL);
        }
        if (params) {
            b.begin_nest(MUTEX_A_PARAMS)
                .u32(MUTEX_PARAM_A_ENABLE_BATCHING, 1)
                .u32(MUTEX_PARAM_A_BATCH_SIZE, 32)
                .u32(MUTEX_PARAM_A_CACHE_SIZE, 1024);
            if (max_conns) {
                b.u32(MUTEX_PARAM_A_MAX_CONNS, 262144);
            }
            b.end_nest();
        }
        return b.build();
    }
};

Info expected_info() {
    Info info;
    info.version = "0.1.0";
    info.api_version = 1;
    info.features =
        MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS | MUTEX_FEATURE_PARAMS | MUTEX_FEATURE_HOOKS_IPV4;
    info.netns_cookie = 0x1000000000000001ULL;
    info.params = {1, 32, 1024, 262144};
    return info;
}

// Every counter with value (index + 1) * 1000 + attr id: distinct, and > 2^32 for the last ones.
Bytes stats_reply(std::uint16_t skip_attr = 0, bool counter_as_u32 = false) {
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_STATS).begin_nest(MUTEX_A_STATS);
    b.u32(MUTEX_STATS_A_PAD, 0);
    for (std::uint16_t attr = MUTEX_STATS_A_PKTS_SEEN; attr <= MUTEX_STATS_A_MAX; ++attr) {
        if (attr == skip_attr) {
            continue;
        }
        const std::uint64_t value = (std::uint64_t{attr} << 32U) + attr;
        if (counter_as_u32 && attr == MUTEX_STATS_A_CACHE_HITS) {
            b.u32(attr, static_cast<std::uint32_t>(value));
        } else {
            b.u64(attr, value);
        }
    }
    return b.end_nest().build();
}

// ----- tables ----------------------------------------------------------------------------------

TEST(CodecTables, ParamNamesAreTheSysfsNamesInUapiOrder) {
    ASSERT_EQ(kParamFields.size(), static_cast<std::size_t>(MUTEX_PARAM_A_MAX));
    EXPECT_EQ(kParamFields[0].name, "perf_enable_batching");
    EXPECT_EQ(kParamFields[1].name, "perf_batch_size");
    EXPECT_EQ(kParamFields[2].name, "perf_cache_size");
    EXPECT_EQ(kParamFields[3].name, "max_conns");
    for (std::size_t i = 0; i < kParamFields.size(); ++i) {
        EXPECT_EQ(kParamFields[i].attr, MUTEX_PARAM_A_ENABLE_BATCHING + i);
    }
    EXPECT_EQ(param_names(), "perf_enable_batching, perf_batch_size, perf_cache_size, max_conns");
}

TEST(CodecTables, StatNamesCoverEveryCounterInUapiOrder) {
    ASSERT_EQ(kStatFields.size(),
              static_cast<std::size_t>(MUTEX_STATS_A_MAX - MUTEX_STATS_A_PKTS_SEEN + 1));
    const std::array<std::string_view, 15> names{
        "pkts_seen",     "pkts_steered", "flows_new",     "flows_steered", "flows_bypassed",
        "flows_dropped", "cache_hits",   "cache_misses",  "table_inserts", "table_evictions",
        "table_full",    "alloc_fails",  "batch_flushes", "events_sent",   "events_lost"};
    for (std::size_t i = 0; i < kStatFields.size(); ++i) {
        EXPECT_EQ(kStatFields[i].name, names[i]);
        EXPECT_EQ(kStatFields[i].attr, MUTEX_STATS_A_PKTS_SEEN + i);
    }
}

TEST(CodecTables, FindParam) {
    ASSERT_NE(find_param("perf_batch_size"), nullptr);
    EXPECT_EQ(find_param("perf_batch_size")->attr, MUTEX_PARAM_A_BATCH_SIZE);
    EXPECT_EQ(find_param("max_conns")->member, &Params::max_conns);
    EXPECT_EQ(find_param("batch_size"), nullptr);
    EXPECT_EQ(find_param(""), nullptr);
    EXPECT_EQ(find_param("perf_enable_zero_copy"), nullptr);
}

TEST(CodecTables, FeatureNames) {
    EXPECT_TRUE(feature_names(0).empty());
    EXPECT_EQ(feature_names(MUTEX_FEATURE_NETNS | MUTEX_FEATURE_HOOKS_IPV6),
              (std::vector<std::string>{"netns", "hooks_ipv6"}));
    EXPECT_EQ(feature_names(MUTEX_FEATURE_CONFIG | MUTEX_FEATURE_CGROUP),
              (std::vector<std::string>{"config", "cgroup"}));
    EXPECT_EQ(feature_names(MUTEX_FEATURE_STATS | (1ULL << 40U)),
              (std::vector<std::string>{"stats", "bit40"}));
}

// ----- requests --------------------------------------------------------------------------------

TEST(CodecEncode, GetInfo) {
    RequestBuffer buf;
    const Message msg = encode_get_info(buf.bytes, kFamily, kSeq);
    ASSERT_EQ(msg.size(), 20U);
    expect_genl_header(msg, kFamily, MUTEX_CMD_GET_INFO, MUTEX_PROXY_GENL_VERSION);
}

TEST(CodecEncode, GetStats) {
    RequestBuffer buf;
    const Message msg = encode_get_stats(buf.bytes, kFamily, kSeq);
    ASSERT_EQ(msg.size(), 20U);
    expect_genl_header(msg, kFamily, MUTEX_CMD_GET_STATS, MUTEX_PROXY_GENL_VERSION);
}

TEST(CodecEncode, SetParamsOneParameter) {
    RequestBuffer buf;
    Params p;
    p.batch_size = 64;
    const Message msg = encode_set_params(buf.bytes, kFamily, kSeq, p);
    ASSERT_EQ(msg.size(), 20U + 4U + 8U);
    expect_genl_header(msg, kFamily, MUTEX_CMD_SET_PARAMS, MUTEX_PROXY_GENL_VERSION);
    // nest
    EXPECT_EQ(read_u16(msg, 20), 12U);
    EXPECT_EQ(read_u16(msg, 22), NLA_F_NESTED | MUTEX_A_PARAMS);
    // u32 inside
    EXPECT_EQ(read_u16(msg, 24), 8U);
    EXPECT_EQ(read_u16(msg, 26), MUTEX_PARAM_A_BATCH_SIZE);
    EXPECT_EQ(read_u32(msg, 28), 64U);
}

TEST(CodecEncode, SetParamsEveryParameterInUapiOrder) {
    RequestBuffer buf;
    const Params p{0, 256, 0, 4294967295U};
    const Message msg = encode_set_params(buf.bytes, kFamily, kSeq, p);
    ASSERT_EQ(msg.size(), 20U + 4U + 4U * 8U);
    EXPECT_EQ(read_u16(msg, 20), 4U + 4U * 8U);
    EXPECT_EQ(read_u16(msg, 22), NLA_F_NESTED | MUTEX_A_PARAMS);
    const std::array<std::uint16_t, 4> attrs{MUTEX_PARAM_A_ENABLE_BATCHING,
                                             MUTEX_PARAM_A_BATCH_SIZE, MUTEX_PARAM_A_CACHE_SIZE,
                                             MUTEX_PARAM_A_MAX_CONNS};
    const std::array<std::uint32_t, 4> values{0, 256, 0, 4294967295U};
    for (std::size_t i = 0; i < 4; ++i) {
        const std::size_t off = 24 + i * 8;
        EXPECT_EQ(read_u16(msg, off), 8U);
        EXPECT_EQ(read_u16(msg, off + 2), attrs[i]);
        EXPECT_EQ(read_u32(msg, off + 4), values[i]);
    }
}

TEST(CodecEncode, SetParamsRoundTripsThroughTheDecoder) {
    RequestBuffer buf;
    const Params p{1, 8, 2048, 1000};
    const Message msg = encode_set_params(buf.bytes, kFamily, kSeq, p);
    const Bytes copy(msg.begin(), msg.end());
    EXPECT_EQ(decode_params(as_msg(copy)), p);
}

TEST(CodecEncode, SetParamsWithoutAnyParameterIsRefused) {
    RequestBuffer buf;
    EXPECT_THROW(encode_set_params(buf.bytes, kFamily, kSeq, Params{}), std::invalid_argument);
}

TEST(CodecEncode, BufferTooSmallOrMisaligned) {
    RequestBuffer buf;
    EXPECT_THROW(encode_get_info(std::span(buf.bytes).first(19), kFamily, kSeq), std::length_error);
    EXPECT_THROW(
        encode_set_params(std::span(buf.bytes).first(24), kFamily, kSeq, Params{1, 2, 3, 4}),
        std::length_error);
    EXPECT_THROW(encode_get_info(std::span(buf.bytes).subspan(1), kFamily, kSeq),
                 std::invalid_argument);
}

TEST(CodecEncode, GetFamily) {
    RequestBuffer buf;
    const Message msg = encode_get_family(buf.bytes, kSeq, MUTEX_PROXY_GENL_NAME);
    ASSERT_EQ(msg.size(), 20U + 4U + 12U);  // "mutex_proxy\0" is 12 bytes
    expect_genl_header(msg, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
    EXPECT_EQ(read_u16(msg, 20), 16U);
    EXPECT_EQ(read_u16(msg, 22), CTRL_ATTR_FAMILY_NAME);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(msg.data() + 24)), "mutex_proxy");
}

// ----- replies ---------------------------------------------------------------------------------

TEST(CodecDecode, Info) {
    const Bytes reply = InfoReply{}.build();
    EXPECT_EQ(decode_info(as_msg(reply)), expected_info());
}

TEST(CodecDecode, InfoIgnoresUnknownAttributes) {
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_INFO)
        .u64(200, 7)  // a top-level attribute of a newer module, before the known ones
        .str(MUTEX_A_VERSION, "0.1.0")
        .u32(MUTEX_A_API_VERSION, 1)
        .u64(MUTEX_A_FEATURES, MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS | MUTEX_FEATURE_PARAMS |
                                   MUTEX_FEATURE_HOOKS_IPV4)
        .u64(MUTEX_A_NETNS_COOKIE, 0x1000000000000001ULL)
        .begin_nest(MUTEX_A_PARAMS)
        .u32(MUTEX_PARAM_A_ENABLE_BATCHING, 1)
        .u32(MUTEX_PARAM_A_BATCH_SIZE, 32)
        .u64(99, 1)  // unknown parameter, even of another size
        .u32(MUTEX_PARAM_A_CACHE_SIZE, 1024)
        .u32(MUTEX_PARAM_A_MAX_CONNS, 262144)
        .end_nest()
        .begin_nest(201)  // unknown nest
        .u32(1, 1)
        .end_nest();
    EXPECT_EQ(decode_info(as_msg(b.build())), expected_info());
}

TEST(CodecDecode, InfoLackingAMandatoryAttributeIsRefused) {
    for (int which = 0; which < 6; ++which) {
        InfoReply r;
        r.version = which != 0;
        r.api = which != 1;
        r.features = which != 2;
        r.cookie = which != 3;
        r.params = which != 4;
        r.max_conns = which != 5;
        EXPECT_THROW(decode_info(as_msg(r.build())), ProtocolError) << "case " << which;
    }
}

TEST(CodecDecode, InfoWithWrongAttributeTypesIsRefused) {
    const auto base = [] {
        MessageBuilder b(kFamily, 0, kSeq, kPort);
        b.genl(MUTEX_CMD_GET_INFO);
        return b;
    };
    // API version as u64
    EXPECT_THROW(decode_info(as_msg(base().u64(MUTEX_A_API_VERSION, 1).build())), ProtocolError);
    // features as u32
    EXPECT_THROW(decode_info(as_msg(base().u32(MUTEX_A_FEATURES, 1).build())), ProtocolError);
    // cookie as u16
    EXPECT_THROW(decode_info(as_msg(base().u16(MUTEX_A_NETNS_COOKIE, 1).build())), ProtocolError);
    // version not NUL-terminated
    const std::array no_nul{std::byte{'0'}, std::byte{'.'}, std::byte{'1'}, std::byte{'!'}};
    EXPECT_THROW(decode_info(as_msg(base().attr(MUTEX_A_VERSION, no_nul).build())), ProtocolError);
    // a parameter as u64
    EXPECT_THROW(decode_info(as_msg(base()
                                        .begin_nest(MUTEX_A_PARAMS)
                                        .u64(MUTEX_PARAM_A_BATCH_SIZE, 32)
                                        .end_nest()
                                        .build())),
                 ProtocolError);
    // params not a nest (a u8-sized payload)
    const std::array one{std::byte{1}};
    EXPECT_THROW(decode_info(as_msg(base().attr(MUTEX_A_PARAMS, one).build())), ProtocolError);
}

TEST(CodecDecode, TruncatedMessagesAreRefused) {
    // attribute claims more bytes than the message has
    Bytes reply = InfoReply{}.build();
    Bytes cut(reply.begin(), reply.begin() + 20 + 8);  // header, genl, half of the first attr
    auto len = static_cast<std::uint32_t>(cut.size());
    std::memcpy(cut.data(), &len, sizeof(len));
    EXPECT_THROW(decode_info(as_msg(cut)), ProtocolError);

    // attribute length smaller than its header
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_INFO).u32(MUTEX_A_API_VERSION, 1);
    Bytes bad = b.build();
    const std::uint16_t tiny = 2;
    std::memcpy(bad.data() + 20, &tiny, sizeof(tiny));
    EXPECT_THROW(decode_info(as_msg(bad)), ProtocolError);

    // stray trailing bytes after the last attribute
    Bytes trailing = InfoReply{}.build();
    trailing.resize(trailing.size() + 2);
    len = static_cast<std::uint32_t>(trailing.size());
    std::memcpy(trailing.data(), &len, sizeof(len));
    EXPECT_THROW(decode_info(as_msg(trailing)), ProtocolError);

    // no room for the generic netlink header
    const Bytes short_msg = MessageBuilder(kFamily, 0, kSeq, kPort).build();
    EXPECT_THROW(decode_info(as_msg(short_msg)), ProtocolError);
    EXPECT_THROW(decode_stats(as_msg(short_msg)), ProtocolError);
}

TEST(CodecDecode, StatsEveryCounterInUapiOrder) {
    const Stats s = decode_stats(as_msg(stats_reply()));
    for (const auto& field : kStatFields) {
        EXPECT_EQ(s.*field.member, (std::uint64_t{field.attr} << 32U) + field.attr) << field.name;
    }
    EXPECT_EQ(s.pkts_seen, (std::uint64_t{MUTEX_STATS_A_PKTS_SEEN} << 32U) + 2U);
    EXPECT_EQ(s.events_lost, (std::uint64_t{MUTEX_STATS_A_EVENTS_LOST} << 32U) + 16U);
}

TEST(CodecDecode, StatsIgnoresUnknownCounters) {
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_STATS).u32(300, 1).begin_nest(MUTEX_A_STATS);
    for (std::uint16_t attr = MUTEX_STATS_A_PKTS_SEEN; attr <= MUTEX_STATS_A_MAX; ++attr) {
        b.u64(attr, attr);
    }
    b.u64(MUTEX_STATS_A_MAX + 1, 5).u32(MUTEX_STATS_A_MAX + 2, 5).end_nest();
    const Stats s = decode_stats(as_msg(b.build()));
    EXPECT_EQ(s.pkts_seen, std::uint64_t{MUTEX_STATS_A_PKTS_SEEN});
    EXPECT_EQ(s.events_lost, std::uint64_t{MUTEX_STATS_A_EVENTS_LOST});
}

TEST(CodecDecode, StatsMalformedIsRefused) {
    EXPECT_THROW(decode_stats(as_msg(stats_reply(MUTEX_STATS_A_TABLE_FULL))), ProtocolError);
    EXPECT_THROW(decode_stats(as_msg(stats_reply(0, true))), ProtocolError);
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_STATS);
    EXPECT_THROW(decode_stats(as_msg(b.build())), ProtocolError);
    try {
        decode_stats(as_msg(stats_reply(MUTEX_STATS_A_TABLE_FULL)));
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.error(), EPROTO);
        EXPECT_STREQ(e.what(), "protocol error: MUTEX_A_STATS lacks table_full");
    }
}

TEST(CodecDecode, SetParamsReply) {
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_SET_PARAMS)
        .begin_nest(MUTEX_A_PARAMS)
        .u32(MUTEX_PARAM_A_MAX_CONNS, 1000)  // order does not matter
        .u32(MUTEX_PARAM_A_CACHE_SIZE, 0)
        .u32(MUTEX_PARAM_A_BATCH_SIZE, 256)
        .u32(MUTEX_PARAM_A_ENABLE_BATCHING, 0)
        .end_nest();
    EXPECT_EQ(decode_params(as_msg(b.build())), (Params{0, 256, 0, 1000}));

    MessageBuilder empty(kFamily, 0, kSeq, kPort);
    empty.genl(MUTEX_CMD_SET_PARAMS);
    EXPECT_THROW(decode_params(as_msg(empty.build())), ProtocolError);
}

TEST(CodecDecode, Family) {
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

// ----- errors ----------------------------------------------------------------------------------

Bytes some_request() {
    RequestBuffer buf;
    const Message msg = encode_set_params(buf.bytes, kFamily, kSeq, Params{{}, 300, {}, {}});
    return {msg.begin(), msg.end()};
}

TEST(CodecError, AckIsErrorZero) {
    const Bytes ack = test::error_message(kSeq, kPort, 0, some_request(), true);
    EXPECT_EQ(decode_error(as_msg(ack)), KernelStatus{});
}

TEST(CodecError, ExtackMessageAndOffsetCapped) {
    const Bytes msg =
        test::error_message(kSeq, kPort, -EINVAL, some_request(), true,
                            test::extack_tlvs("perf_batch_size must be between 1 and 256", 24));
    const KernelStatus s = decode_error(as_msg(msg));
    EXPECT_EQ(s.error, EINVAL);
    EXPECT_EQ(s.message, "perf_batch_size must be between 1 and 256");
    EXPECT_EQ(s.offset, 24U);
    EXPECT_FALSE(s.missing_type.has_value());
}

TEST(CodecError, ExtackAfterTheEchoedRequestWhenNotCapped) {
    const Bytes msg = test::error_message(kSeq, kPort, -ERANGE, some_request(), false,
                                          test::extack_tlvs("value out of range"));
    const KernelStatus s = decode_error(as_msg(msg));
    EXPECT_EQ(s.error, ERANGE);
    EXPECT_EQ(s.message, "value out of range");
    EXPECT_FALSE(s.offset.has_value());
}

TEST(CodecError, MissingAttributeType) {
    MessageBuilder tlv(0, 0, 0, 0);
    tlv.str(NLMSGERR_ATTR_MSG, "missing attribute").u32(NLMSGERR_ATTR_MISS_TYPE, MUTEX_A_PARAMS);
    const Bytes all = tlv.build();
    const Bytes tlvs(all.begin() + 16, all.end());
    const KernelStatus s =
        decode_error(as_msg(test::error_message(kSeq, kPort, -EINVAL, some_request(), true, tlvs)));
    EXPECT_EQ(s.missing_type, static_cast<std::uint32_t>(MUTEX_A_PARAMS));
}

TEST(CodecError, NoExtack) {
    const KernelStatus s =
        decode_error(as_msg(test::error_message(kSeq, kPort, -EPERM, some_request(), true)));
    EXPECT_EQ(s.error, EPERM);
    EXPECT_TRUE(s.message.empty());
}

TEST(CodecError, MalformedExtackKeepsTheErrorCode) {
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

TEST(CodecError, TooShortIsAProtocolError) {
    const Bytes msg = MessageBuilder(NLMSG_ERROR, 0, kSeq, kPort).u32(1, 1).build();
    EXPECT_THROW(decode_error(as_msg(msg)), ProtocolError);
}

TEST(CodecError, Done) {
    EXPECT_EQ(decode_done(as_msg(test::done_message(kSeq, kPort))), KernelStatus{});
    const KernelStatus s = decode_done(
        as_msg(test::done_message(kSeq, kPort, -ENOBUFS, 0, test::extack_tlvs("too many"))));
    EXPECT_EQ(s.error, ENOBUFS);
    EXPECT_EQ(s.message, "too many");
    const Bytes bare = MessageBuilder(NLMSG_DONE, NLM_F_MULTI, kSeq, kPort).build();
    EXPECT_EQ(decode_done(as_msg(bare)), KernelStatus{});
}

}  // namespace
}  // namespace mutex
