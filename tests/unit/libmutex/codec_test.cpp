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

#include "libmutex/client.hpp"
#include "libmutex/error.hpp"
#include "libmutex/netlink.hpp"
#include "test_helpers.hpp"

namespace mutex {
namespace {

using test::as_msg;
using test::Bytes;
using test::MessageBuilder;
using test::read_u16;
using test::read_u32;
using test::sample_tcp4_flow;

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

void expect_genl_header(Message msg, std::uint16_t type, std::uint8_t cmd, std::uint8_t version,
                        std::uint16_t flags = NLM_F_REQUEST | NLM_F_ACK) {
    ASSERT_GE(msg.size(), kFirstAttr);
    EXPECT_EQ(read_u32(msg, kLen), msg.size());
    EXPECT_EQ(read_u16(msg, kType), type);
    EXPECT_EQ(read_u16(msg, kFlags), flags);
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
    bool accounting = true;

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
            if (accounting) {
                b.u32(MUTEX_PARAM_A_ENABLE_ACCOUNTING, 1);
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
    info.params = {1, 32, 1024, 262144, 1};
    return info;
}

// Every counter with value (attr id << 32) + attr id: distinct and > 2^32; then
// MUTEX_A_FLOW_COUNT 42 (unless skip_attr is MUTEX_A_FLOW_COUNT + 1000).
constexpr std::uint16_t kSkipFlowCount = MUTEX_A_FLOW_COUNT + 1000;
Bytes stats_reply(std::uint16_t skip_attr = 0, bool counter_as_u32 = false) {
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_STATS);
    if (skip_attr != kSkipFlowCount) {
        b.u64(MUTEX_A_FLOW_COUNT, 42);
    }
    b.begin_nest(MUTEX_A_STATS);
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
    EXPECT_EQ(kParamFields[4].name, "perf_enable_accounting");
    for (std::size_t i = 0; i < kParamFields.size(); ++i) {
        EXPECT_EQ(kParamFields[i].attr, MUTEX_PARAM_A_ENABLE_BATCHING + i);
    }
    EXPECT_EQ(param_names(),
              "perf_enable_batching, perf_batch_size, perf_cache_size, max_conns, "
              "perf_enable_accounting");
}

TEST(CodecTables, StatNamesCoverEveryCounterInUapiOrder) {
    ASSERT_EQ(kStatFields.size(),
              static_cast<std::size_t>(MUTEX_STATS_A_MAX - MUTEX_STATS_A_PKTS_SEEN + 1));
    const std::array<std::string_view, 17> names{
        "pkts_seen",     "pkts_steered", "flows_new",     "flows_steered", "flows_bypassed",
        "flows_dropped", "cache_hits",   "cache_misses",  "table_inserts", "table_evictions",
        "table_full",    "alloc_fails",  "batch_flushes", "events_sent",   "events_lost",
        "bytes_steered", "flows_adopted"};
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
    EXPECT_EQ(find_param("perf_enable_accounting")->member, &Params::enable_accounting);
}

TEST(CodecTables, FeatureNames) {
    EXPECT_TRUE(feature_names(0).empty());
    EXPECT_EQ(feature_names(MUTEX_FEATURE_NETNS | MUTEX_FEATURE_HOOKS_IPV6),
              (std::vector<std::string>{"netns", "hooks_ipv6"}));
    EXPECT_EQ(feature_names(MUTEX_FEATURE_CONFIG | MUTEX_FEATURE_CGROUP | MUTEX_FEATURE_FLOWS),
              (std::vector<std::string>{"config", "cgroup", "flows"}));
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
    const Params p{0, 256, 0, 4294967295U, 0};
    const Message msg = encode_set_params(buf.bytes, kFamily, kSeq, p);
    ASSERT_EQ(msg.size(), 20U + 4U + 5U * 8U);
    EXPECT_EQ(read_u16(msg, 20), 4U + 5U * 8U);
    EXPECT_EQ(read_u16(msg, 22), NLA_F_NESTED | MUTEX_A_PARAMS);
    const std::array<std::uint16_t, 5> attrs{
        MUTEX_PARAM_A_ENABLE_BATCHING, MUTEX_PARAM_A_BATCH_SIZE, MUTEX_PARAM_A_CACHE_SIZE,
        MUTEX_PARAM_A_MAX_CONNS, MUTEX_PARAM_A_ENABLE_ACCOUNTING};
    const std::array<std::uint32_t, 5> values{0, 256, 0, 4294967295U, 0};
    for (std::size_t i = 0; i < 5; ++i) {
        const std::size_t off = 24 + i * 8;
        EXPECT_EQ(read_u16(msg, off), 8U);
        EXPECT_EQ(read_u16(msg, off + 2), attrs[i]);
        EXPECT_EQ(read_u32(msg, off + 4), values[i]);
    }
}

TEST(CodecEncode, SetParamsRoundTripsThroughTheDecoder) {
    RequestBuffer buf;
    const Params p{1, 8, 2048, 1000, 1};
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
        encode_set_params(std::span(buf.bytes).first(24), kFamily, kSeq, Params{1, 2, 3, 4, 5}),
        std::length_error);
    EXPECT_THROW(encode_get_info(std::span(buf.bytes).subspan(1), kFamily, kSeq),
                 std::invalid_argument);
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
        .u32(MUTEX_PARAM_A_ENABLE_ACCOUNTING, 1)
        .end_nest()
        .begin_nest(201)  // unknown nest
        .u32(1, 1)
        .end_nest();
    EXPECT_EQ(decode_info(as_msg(b.build())), expected_info());
}

TEST(CodecDecode, InfoLackingAMandatoryAttributeIsRefused) {
    for (int which = 0; which < 7; ++which) {
        InfoReply r;
        r.version = which != 0;
        r.api = which != 1;
        r.features = which != 2;
        r.cookie = which != 3;
        r.params = which != 4;
        r.max_conns = which != 5;
        r.accounting = which != 6;
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
    EXPECT_EQ(s.bytes_steered, (std::uint64_t{MUTEX_STATS_A_BYTES_STEERED} << 32U) + 17U);
    EXPECT_EQ(s.flow_count, 42U);
}

TEST(CodecDecode, StatsIgnoresUnknownCounters) {
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_STATS).u32(300, 1).u64(MUTEX_A_FLOW_COUNT, 0).begin_nest(MUTEX_A_STATS);
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
    EXPECT_THROW(decode_stats(as_msg(stats_reply(MUTEX_STATS_A_BYTES_STEERED))), ProtocolError);
    try {
        decode_stats(as_msg(stats_reply(kSkipFlowCount)));
        ADD_FAILURE() << "no MUTEX_A_FLOW_COUNT accepted";
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "protocol error: GET_STATS reply lacks MUTEX_A_FLOW_COUNT");
    }
    MessageBuilder narrow(kFamily, 0, kSeq, kPort);
    narrow.genl(MUTEX_CMD_GET_STATS).u32(MUTEX_A_FLOW_COUNT, 1);
    EXPECT_THROW(decode_stats(as_msg(narrow.build())), ProtocolError);
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
        .u32(MUTEX_PARAM_A_ENABLE_ACCOUNTING, 0)
        .end_nest();
    EXPECT_EQ(decode_params(as_msg(b.build())), (Params{0, 256, 0, 1000, 0}));

    MessageBuilder empty(kFamily, 0, kSeq, kPort);
    empty.genl(MUTEX_CMD_SET_PARAMS);
    EXPECT_THROW(decode_params(as_msg(empty.build())), ProtocolError);
}

// ----- connection table ------------------------------------------------------------------------

constexpr std::uint8_t kAfInet = 2;    // AF_INET
constexpr std::uint8_t kAfInet6 = 10;  // AF_INET6

config::Address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    config::Address address;
    address.bytes = {a, b, c, d};
    return address;
}

config::Address v6(std::uint8_t last) {
    config::Address address;
    address.family = config::Family::ipv6;
    address.bytes = {0x20, 0x01, 0x0d, 0xb8};
    address.bytes[15] = last;
    return address;
}

std::span<const std::byte> address_bytes(const config::Address& address) {
    return std::as_bytes(std::span(address.bytes))
        .first(address.family == config::Family::ipv4 ? 4 : 16);
}

MessageBuilder& u8(MessageBuilder& b, std::uint16_t type, std::uint8_t value) {
    return b.attr(type, std::as_bytes(std::span(&value, 1)));
}

// One MUTEX_A_FLOW nest; `skip` leaves that attribute out, `replace` sends it with another
// payload.
struct FlowNest {
    Flow flow;
    std::uint16_t skip = 0;
    std::uint16_t replace = 0;
    Bytes replacement;
    std::uint8_t proto = 6;
    std::uint8_t action = MUTEX_ACTION_REDIRECT;
    bool unknown_inside = false;             // an attribute of a newer module inside the nest
    std::uint16_t nest_type = MUTEX_A_FLOW;  // MUTEX_EVENT_A_FLOW inside an event

    void add(MessageBuilder& b) const {
        const bool v6only = flow.source.address.family == config::Family::ipv6;
        const auto put = [&](std::uint16_t type, const auto& emit) {
            if (type == skip) {
                return;
            }
            if (type == replace) {
                b.attr(type, replacement);
                return;
            }
            emit();
        };
        b.begin_nest(nest_type);
        b.u32(MUTEX_FLOW_A_PAD, 0);
        put(MUTEX_FLOW_A_FAMILY, [&] { u8(b, MUTEX_FLOW_A_FAMILY, v6only ? kAfInet6 : kAfInet); });
        put(MUTEX_FLOW_A_PROTO, [&] { u8(b, MUTEX_FLOW_A_PROTO, proto); });
        put(MUTEX_FLOW_A_SRC_ADDR,
            [&] { b.attr(MUTEX_FLOW_A_SRC_ADDR, address_bytes(flow.source.address)); });
        put(MUTEX_FLOW_A_SRC_PORT, [&] { b.u16(MUTEX_FLOW_A_SRC_PORT, flow.source.port); });
        put(MUTEX_FLOW_A_DST_ADDR,
            [&] { b.attr(MUTEX_FLOW_A_DST_ADDR, address_bytes(flow.destination.address)); });
        put(MUTEX_FLOW_A_DST_PORT, [&] { b.u16(MUTEX_FLOW_A_DST_PORT, flow.destination.port); });
        put(MUTEX_FLOW_A_ORIG_DST_ADDR, [&] {
            b.attr(MUTEX_FLOW_A_ORIG_DST_ADDR, address_bytes(flow.original_destination.address));
        });
        put(MUTEX_FLOW_A_ORIG_DST_PORT,
            [&] { b.u16(MUTEX_FLOW_A_ORIG_DST_PORT, flow.original_destination.port); });
        put(MUTEX_FLOW_A_ACTION, [&] { u8(b, MUTEX_FLOW_A_ACTION, action); });
        put(MUTEX_FLOW_A_PKTS_ORIG, [&] { b.u64(MUTEX_FLOW_A_PKTS_ORIG, flow.pkts_orig); });
        put(MUTEX_FLOW_A_BYTES_ORIG, [&] { b.u64(MUTEX_FLOW_A_BYTES_ORIG, flow.bytes_orig); });
        put(MUTEX_FLOW_A_PKTS_REPLY, [&] { b.u64(MUTEX_FLOW_A_PKTS_REPLY, flow.pkts_reply); });
        put(MUTEX_FLOW_A_BYTES_REPLY, [&] { b.u64(MUTEX_FLOW_A_BYTES_REPLY, flow.bytes_reply); });
        put(MUTEX_FLOW_A_AGE_MS, [&] { b.u64(MUTEX_FLOW_A_AGE_MS, flow.age_ms); });
        put(MUTEX_FLOW_A_IDLE_MS, [&] { b.u64(MUTEX_FLOW_A_IDLE_MS, flow.idle_ms); });
        if (unknown_inside) {
            b.u64(MUTEX_FLOW_A_MAX + 1, 9);
        }
        b.end_nest();
    }
};

FlowNest nest_of(const Flow& flow, std::uint8_t proto = 6,
                 std::uint8_t action = MUTEX_ACTION_REDIRECT) {
    FlowNest nest;
    nest.flow = flow;
    nest.proto = proto;
    nest.action = action;
    return nest;
}

Flow udp6_flow() {
    Flow flow;
    flow.protocol = config::Protocol::udp;
    flow.source = {v6(2), 0};  // port 0 is legal for UDP
    flow.original_destination = {v6(7), 8001};
    flow.destination = {v6(9), 8001};
    flow.action = config::Action::dnat;
    flow.pkts_orig = 1;
    flow.age_ms = 1;
    return flow;
}

Bytes flows_message(std::initializer_list<FlowNest> nests, std::uint8_t cmd = MUTEX_CMD_GET_FLOWS) {
    MessageBuilder b(kFamily, NLM_F_MULTI, kSeq, kPort);
    b.genl(cmd);
    for (const auto& nest : nests) {
        nest.add(b);
    }
    return b.build();
}

TEST(CodecFlows, EncodeGetFlowsIsADumpRequest) {
    RequestBuffer buf;
    const Message msg = encode_get_flows(buf.bytes, kFamily, kSeq);
    ASSERT_EQ(msg.size(), 20U);
    expect_genl_header(msg, kFamily, MUTEX_CMD_GET_FLOWS, MUTEX_PROXY_GENL_VERSION,
                       NLM_F_REQUEST | NLM_F_DUMP);
}

TEST(CodecFlows, EncodeFlushFlows) {
    RequestBuffer buf;
    const Message msg = encode_flush_flows(buf.bytes, kFamily, kSeq);
    ASSERT_EQ(msg.size(), 20U);
    expect_genl_header(msg, kFamily, MUTEX_CMD_FLUSH_FLOWS, MUTEX_PROXY_GENL_VERSION);
}

TEST(CodecFlows, EncodeGetOrigdstIpv4) {
    RequestBuffer buf;
    const FlowKey key{config::Protocol::udp, {v4(10, 0, 0, 2), 40000}, {v4(127, 0, 0, 1), 12345}};
    const Message msg = encode_get_origdst(buf.bytes, kFamily, kSeq, key);
    expect_genl_header(msg, kFamily, MUTEX_CMD_GET_ORIGDST, MUTEX_PROXY_GENL_VERSION);
    // nest: family u8, proto u8, addr 4, port u16, addr 4, port u16: 6 attributes of 8 bytes
    ASSERT_EQ(msg.size(), 20U + 4U + 6U * 8U);
    EXPECT_EQ(read_u16(msg, 20), 4U + 6U * 8U);
    EXPECT_EQ(read_u16(msg, 22), NLA_F_NESTED | MUTEX_A_FLOW);
    const std::array<std::uint16_t, 6> types{MUTEX_FLOW_A_FAMILY,   MUTEX_FLOW_A_PROTO,
                                             MUTEX_FLOW_A_SRC_ADDR, MUTEX_FLOW_A_SRC_PORT,
                                             MUTEX_FLOW_A_DST_ADDR, MUTEX_FLOW_A_DST_PORT};
    const std::array<std::uint16_t, 6> lengths{5, 5, 8, 6, 8, 6};
    for (std::size_t i = 0; i < types.size(); ++i) {
        EXPECT_EQ(read_u16(msg, 24 + i * 8), lengths.at(i)) << i;
        EXPECT_EQ(read_u16(msg, 26 + i * 8), types.at(i)) << i;
    }
    EXPECT_EQ(static_cast<std::uint8_t>(msg[28]), kAfInet);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[36]), 17U);  // IPPROTO_UDP
    EXPECT_EQ(static_cast<std::uint8_t>(msg[44]), 10U);  // 10.0.0.2, network order
    EXPECT_EQ(static_cast<std::uint8_t>(msg[47]), 2U);
    EXPECT_EQ(read_u16(msg, 52), 40000U);  // host order
    EXPECT_EQ(static_cast<std::uint8_t>(msg[60]), 127U);
    EXPECT_EQ(read_u16(msg, 68), 12345U);
}

TEST(CodecFlows, EncodeGetOrigdstIpv6) {
    RequestBuffer buf;
    const FlowKey key{config::Protocol::tcp, {v6(2), 40000}, {v6(9), 443}};
    const Message msg = encode_get_origdst(buf.bytes, kFamily, kSeq, key);
    ASSERT_EQ(msg.size(), 20U + 4U + 4U * 8U + 2U * 20U);
    EXPECT_EQ(read_u16(msg, 40), 20U);  // SRC_ADDR: 16 bytes
    EXPECT_EQ(read_u16(msg, 42), MUTEX_FLOW_A_SRC_ADDR);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[44]), 0x20U);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[59]), 2U);
}

TEST(CodecFlows, EncodeGetOrigdstRefusesUnusableKeys) {
    RequestBuffer buf;
    const FlowKey good{config::Protocol::tcp, {v4(10, 0, 0, 2), 1}, {v4(10, 0, 0, 3), 2}};
    FlowKey any = good;
    any.protocol = config::Protocol::any;
    EXPECT_THROW(encode_get_origdst(buf.bytes, kFamily, kSeq, any), std::invalid_argument);
    FlowKey mixed = good;
    mixed.destination.address = v6(1);
    EXPECT_THROW(encode_get_origdst(buf.bytes, kFamily, kSeq, mixed), std::invalid_argument);
    FlowKey zero = good;
    zero.source.port = 0;
    EXPECT_THROW(encode_get_origdst(buf.bytes, kFamily, kSeq, zero), std::invalid_argument);
    zero = good;
    zero.destination.port = 0;
    EXPECT_THROW(encode_get_origdst(buf.bytes, kFamily, kSeq, zero), std::invalid_argument);
    EXPECT_THROW(encode_get_origdst(std::span(buf.bytes).first(40), kFamily, kSeq, good),
                 std::length_error);
}

TEST(CodecFlows, DecodeFlowsOfOneDumpMessage) {
    const Bytes msg =
        flows_message({nest_of(sample_tcp4_flow()), nest_of(udp6_flow(), 17, MUTEX_ACTION_DNAT)});
    EXPECT_EQ(decode_flows(as_msg(msg)), (std::vector<Flow>{sample_tcp4_flow(), udp6_flow()}));
    EXPECT_TRUE(decode_flows(as_msg(flows_message({}))).empty());
}

TEST(CodecFlows, DecodeFlowsIgnoresUnknownAttributes) {
    MessageBuilder b(kFamily, NLM_F_MULTI, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_FLOWS).u64(MUTEX_A_MAX + 5, 1);
    FlowNest nest = nest_of(sample_tcp4_flow());
    nest.unknown_inside = true;
    nest.add(b);
    EXPECT_EQ(decode_flows(as_msg(b.build())), std::vector<Flow>{sample_tcp4_flow()});
    // a nest holding only an unknown attribute lacks everything
    MessageBuilder c(kFamily, NLM_F_MULTI, kSeq, kPort);
    c.genl(MUTEX_CMD_GET_FLOWS).begin_nest(MUTEX_A_FLOW).u64(MUTEX_FLOW_A_MAX + 1, 9).end_nest();
    EXPECT_THROW(decode_flows(as_msg(c.build())), ProtocolError);
}

TEST(CodecFlows, DecodeFlowLackingAnAttributeIsRefused) {
    for (std::uint16_t attr = MUTEX_FLOW_A_FAMILY; attr <= MUTEX_FLOW_A_MAX; ++attr) {
        FlowNest nest = nest_of(sample_tcp4_flow());
        nest.skip = attr;
        EXPECT_THROW(decode_flows(as_msg(flows_message({nest}))), ProtocolError) << attr;
    }
    FlowNest nest = nest_of(sample_tcp4_flow());
    nest.skip = MUTEX_FLOW_A_ORIG_DST_PORT;
    try {
        decode_flows(as_msg(flows_message({nest})));
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "protocol error: MUTEX_A_FLOW lacks MUTEX_FLOW_A_ORIG_DST_PORT");
    }
}

TEST(CodecFlows, DecodeFlowWithWrongTypesOrValuesIsRefused) {
    const auto refused = [](std::uint16_t attr, Bytes payload) {
        FlowNest nest = nest_of(sample_tcp4_flow());
        nest.replace = attr;
        nest.replacement = std::move(payload);
        EXPECT_THROW(decode_flows(as_msg(flows_message({nest}))), ProtocolError) << attr;
    };
    const auto bytes = [](std::initializer_list<int> values) {
        Bytes out;
        for (const int v : values) {
            out.push_back(static_cast<std::byte>(v));
        }
        return out;
    };
    refused(MUTEX_FLOW_A_FAMILY, bytes({7}));                    // not AF_INET/AF_INET6
    refused(MUTEX_FLOW_A_FAMILY, bytes({kAfInet6}));             // IPv4 addresses for IPv6
    refused(MUTEX_FLOW_A_FAMILY, bytes({2, 0}));                 // u16
    refused(MUTEX_FLOW_A_PROTO, bytes({1}));                     // ICMP
    refused(MUTEX_FLOW_A_SRC_ADDR, bytes({10, 0, 0}));           // 3 bytes
    refused(MUTEX_FLOW_A_DST_ADDR, Bytes(16));                   // IPv6-sized for IPv4
    refused(MUTEX_FLOW_A_ORIG_DST_ADDR, Bytes(5));               // 5 bytes
    refused(MUTEX_FLOW_A_SRC_PORT, bytes({1, 0, 0, 0}));         // u32
    refused(MUTEX_FLOW_A_ACTION, bytes({MUTEX_ACTION_BYPASS}));  // never tracked
    refused(MUTEX_FLOW_A_ACTION, bytes({MUTEX_ACTION_DROP}));    // never tracked
    refused(MUTEX_FLOW_A_ACTION, bytes({200}));                  // unknown
    refused(MUTEX_FLOW_A_PKTS_ORIG, bytes({1, 0, 0, 0}));        // u32
    refused(MUTEX_FLOW_A_IDLE_MS, bytes({1, 0}));                // u16
    // the flow is not a nest
    MessageBuilder b(kFamily, NLM_F_MULTI, kSeq, kPort);
    b.genl(MUTEX_CMD_GET_FLOWS).attr(MUTEX_A_FLOW, bytes({1}));
    EXPECT_THROW(decode_flows(as_msg(b.build())), ProtocolError);
    // a truncated message
    Bytes cut = flows_message({nest_of(sample_tcp4_flow())});
    cut.resize(cut.size() - 8);
    const auto len = static_cast<std::uint32_t>(cut.size());
    std::memcpy(cut.data(), &len, sizeof(len));
    EXPECT_THROW(decode_flows(as_msg(cut)), ProtocolError);
}

TEST(CodecFlows, DecodeOrigdst) {
    const Bytes one = flows_message({nest_of(sample_tcp4_flow())}, MUTEX_CMD_GET_ORIGDST);
    EXPECT_EQ(decode_origdst(as_msg(one)), sample_tcp4_flow());
    const Bytes none = flows_message({}, MUTEX_CMD_GET_ORIGDST);
    EXPECT_THROW(decode_origdst(as_msg(none)), ProtocolError);
    const Bytes two = flows_message({nest_of(sample_tcp4_flow()), nest_of(sample_tcp4_flow())},
                                    MUTEX_CMD_GET_ORIGDST);
    EXPECT_THROW(decode_origdst(as_msg(two)), ProtocolError);
    FlowNest bad = nest_of(sample_tcp4_flow());
    bad.skip = MUTEX_FLOW_A_ORIG_DST_ADDR;
    EXPECT_THROW(decode_origdst(as_msg(flows_message({bad}, MUTEX_CMD_GET_ORIGDST))),
                 ProtocolError);
}

TEST(CodecFlows, DecodeFlushFlows) {
    MessageBuilder b(kFamily, 0, kSeq, kPort);
    b.genl(MUTEX_CMD_FLUSH_FLOWS).u32(MUTEX_A_PAD, 0).u64(MUTEX_A_FLOW_COUNT, 1ULL << 40U);
    EXPECT_EQ(decode_flush_flows(as_msg(b.build())), 1ULL << 40U);
    MessageBuilder none(kFamily, 0, kSeq, kPort);
    none.genl(MUTEX_CMD_FLUSH_FLOWS);
    EXPECT_THROW(decode_flush_flows(as_msg(none.build())), ProtocolError);
    MessageBuilder narrow(kFamily, 0, kSeq, kPort);
    narrow.genl(MUTEX_CMD_FLUSH_FLOWS).u32(MUTEX_A_FLOW_COUNT, 3);
    EXPECT_THROW(decode_flush_flows(as_msg(narrow.build())), ProtocolError);
}

// ----- a GET_FLOWS dump through the exchange, and the client's retry policy ---------------------

TEST(FlowDump, SeveralMessagesAndTheInterruptedFlag) {
    std::vector<Flow> flows;
    Exchange exchange(kSeq, kPort, [&flows](const nlmsghdr& msg) {
        auto part = decode_flows(msg);
        flows.insert(flows.end(), part.begin(), part.end());
    });
    const Bytes first = flows_message({nest_of(sample_tcp4_flow()), nest_of(sample_tcp4_flow())});
    Bytes second = flows_message({nest_of(udp6_flow(), 17, MUTEX_ACTION_DNAT)});
    const std::uint16_t intr = NLM_F_MULTI | NLM_F_DUMP_INTR;
    std::memcpy(second.data() + 6, &intr, sizeof(intr));
    EXPECT_FALSE(exchange.process(first));
    EXPECT_TRUE(exchange.process(test::datagram({second, test::done_message(kSeq, kPort)})));
    EXPECT_TRUE(exchange.interrupted());
    EXPECT_EQ(flows, (std::vector<Flow>{sample_tcp4_flow(), sample_tcp4_flow(), udp6_flow()}));
}

TEST(FlowDump, AMalformedFlowEndsTheDumpWithAProtocolError) {
    Exchange exchange(kSeq, kPort,
                      [](const nlmsghdr& msg) { static_cast<void>(decode_flows(msg)); });
    FlowNest bad = nest_of(sample_tcp4_flow());
    bad.skip = MUTEX_FLOW_A_FAMILY;
    EXPECT_THROW(exchange.process(flows_message({bad})), ProtocolError);
}

TEST(FlowDumpRetry, FirstConsistentDumpWins) {
    int calls = 0;
    const FlowDump dump = collect_flows(3, [&calls] {
        ++calls;
        return FlowDumpAttempt{{sample_tcp4_flow()}, false};
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(dump, (FlowDump{{sample_tcp4_flow()}, true, 1}));
}

TEST(FlowDumpRetry, RetriesWhileInterrupted) {
    int calls = 0;
    const FlowDump dump = collect_flows(3, [&calls] {
        ++calls;
        if (calls < 3) {
            return FlowDumpAttempt{
                std::vector<Flow>(static_cast<std::size_t>(calls), sample_tcp4_flow()), true};
        }
        return FlowDumpAttempt{{udp6_flow()}, false};
    });
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(dump, (FlowDump{{udp6_flow()}, true, 3}));
}

TEST(FlowDumpRetry, NeverSettlingReturnsTheLastDumpFlagged) {
    int calls = 0;
    const FlowDump dump = collect_flows(kFlowDumpAttempts, [&calls] {
        ++calls;
        return FlowDumpAttempt{
            std::vector<Flow>(static_cast<std::size_t>(calls), sample_tcp4_flow()), true};
    });
    EXPECT_EQ(calls, static_cast<int>(kFlowDumpAttempts));
    EXPECT_FALSE(dump.consistent);
    EXPECT_EQ(dump.attempts, kFlowDumpAttempts);
    EXPECT_EQ(dump.flows.size(), kFlowDumpAttempts);
    // zero attempts still dumps once
    calls = 0;
    EXPECT_EQ(collect_flows(0,
                            [&calls] {
                                ++calls;
                                return FlowDumpAttempt{{}, true};
                            })
                  .attempts,
              1U);
    EXPECT_EQ(calls, 1);
}

TEST(FlowDumpRetry, ErrorsPropagate) {
    EXPECT_THROW(collect_flows(3, []() -> FlowDumpAttempt { throw NetlinkError(EPERM); }),
                 NetlinkError);
}

// ----- backends and events (API version 4) -----------------------------------------------------

TEST(CodecBackend, EncodeSetBackendStateOfARemoteBackend) {
    RequestBuffer buf;
    BackendChange change;
    change.backend = {"sentries", v4(10, 0, 0, 2), 26656};
    change.state = config::BackendState::down;
    const Message msg = encode_set_backend(buf.bytes, kFamily, kSeq, change);
    expect_genl_header(msg, kFamily, MUTEX_CMD_SET_BACKEND, MUTEX_PROXY_GENL_VERSION);
    // MUTEX_A_POOL { NAME "sentries\0" (4+9 -> 16), BACKEND { FAMILY 8, ADDR 8, PORT 8, STATE 8 } }
    ASSERT_EQ(msg.size(), 20U + 4U + 16U + 4U + 4U * 8U);
    EXPECT_EQ(read_u16(msg, 22), NLA_F_NESTED | MUTEX_A_POOL);
    EXPECT_EQ(read_u16(msg, 26), MUTEX_POOL_A_NAME);
    EXPECT_EQ(read_u16(msg, 42), NLA_F_NESTED | MUTEX_POOL_A_BACKEND);
    const std::array<std::uint16_t, 4> types{MUTEX_BACKEND_A_FAMILY, MUTEX_BACKEND_A_ADDR,
                                             MUTEX_BACKEND_A_PORT, MUTEX_BACKEND_A_STATE};
    for (std::size_t i = 0; i < types.size(); ++i) {
        EXPECT_EQ(read_u16(msg, 46 + i * 8), types.at(i)) << i;
    }
    EXPECT_EQ(static_cast<std::uint8_t>(msg[48]), kAfInet);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[56]), 10U);
    EXPECT_EQ(read_u16(msg, 64), 26656U);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[72]), MUTEX_BACKEND_DOWN);
}

TEST(CodecBackend, EncodeSetBackendWeightOfALocalPortWithAGeneration) {
    RequestBuffer buf;
    BackendChange change;
    change.backend = {"local", std::nullopt, 1080};
    change.weight = 3;
    change.generation = 9;
    const Message msg = encode_set_backend(buf.bytes, kFamily, kSeq, change);
    // GENERATION (12), POOL { NAME "local\0" (12), BACKEND { PORT 8, WEIGHT 8 } }
    ASSERT_EQ(msg.size(), 20U + 12U + 4U + 12U + 4U + 2U * 8U);
    EXPECT_EQ(read_u16(msg, 22), MUTEX_A_GENERATION);
    EXPECT_EQ(read_u16(msg, 54), MUTEX_BACKEND_A_PORT);
    EXPECT_EQ(read_u16(msg, 62), MUTEX_BACKEND_A_WEIGHT);
    EXPECT_EQ(read_u32(msg, 64), 3U);
}

TEST(CodecBackend, EncodeSetBackendRefusesNothingToChange) {
    RequestBuffer buf;
    BackendChange change;
    change.backend = {"p", v4(10, 0, 0, 2), 1};
    EXPECT_THROW(encode_set_backend(buf.bytes, kFamily, kSeq, change), std::invalid_argument);
    change.weight = 0;
    EXPECT_THROW(encode_set_backend(buf.bytes, kFamily, kSeq, change), std::invalid_argument);
    change.weight = 1;
    change.backend.port = 0;
    EXPECT_THROW(encode_set_backend(buf.bytes, kFamily, kSeq, change), std::invalid_argument);
}

TEST(CodecBackend, EncodeEndFlowsWithAndWithoutAProtocol) {
    RequestBuffer buf;
    const BackendRef ref{"relays", v6(2), 8000};
    const Message all = encode_end_flows(buf.bytes, kFamily, kSeq, ref, config::Protocol::any);
    expect_genl_header(all, kFamily, MUTEX_CMD_END_FLOWS, MUTEX_PROXY_GENL_VERSION);
    // POOL { NAME "relays\0" (12), BACKEND { FAMILY 8, ADDR 20, PORT 8 } }
    ASSERT_EQ(all.size(), 20U + 4U + 12U + 4U + 8U + 20U + 8U);
    const std::size_t without = all.size();
    const Message udp = encode_end_flows(buf.bytes, kFamily, kSeq, ref, config::Protocol::udp);
    ASSERT_EQ(udp.size(), without + 4U + 8U);  // MUTEX_A_FLOW { PROTO }
    EXPECT_EQ(read_u16(udp, without + 2), NLA_F_NESTED | MUTEX_A_FLOW);
    EXPECT_EQ(read_u16(udp, without + 6), MUTEX_FLOW_A_PROTO);
    EXPECT_EQ(static_cast<std::uint8_t>(udp[without + 8]), 17U);
}

TEST(CodecBackend, DecodeRepliesOfSetBackendAndEndFlows) {
    MessageBuilder set(kFamily, 0, kSeq, kPort);
    set.genl(MUTEX_CMD_SET_BACKEND).u64(MUTEX_A_GENERATION, 12);
    EXPECT_EQ(decode_set_backend(as_msg(set.build())), 12U);
    MessageBuilder end(kFamily, 0, kSeq, kPort);
    end.genl(MUTEX_CMD_END_FLOWS).u64(MUTEX_A_FLOW_COUNT, 4);
    EXPECT_EQ(decode_end_flows(as_msg(end.build())), 4U);
    MessageBuilder empty(kFamily, 0, kSeq, kPort);
    empty.genl(MUTEX_CMD_END_FLOWS);
    EXPECT_THROW(decode_end_flows(as_msg(empty.build())), ProtocolError);
}

Bytes backend_event(std::uint8_t type = MUTEX_EVENT_BACKEND, bool with_pool = true) {
    MessageBuilder b(kFamily, 0, 0, 0);
    b.genl(MUTEX_CMD_EVENT).begin_nest(MUTEX_A_EVENT);
    u8(b, MUTEX_EVENT_A_TYPE, type);
    b.u64(MUTEX_EVENT_A_GENERATION, 3);
    if (with_pool) {
        b.str(MUTEX_EVENT_A_POOL, "sentries");
    }
    b.begin_nest(MUTEX_EVENT_A_BACKEND);
    u8(b, MUTEX_BACKEND_A_FAMILY, kAfInet);
    b.attr(MUTEX_BACKEND_A_ADDR, address_bytes(v4(10, 0, 0, 2)));
    b.u16(MUTEX_BACKEND_A_PORT, 26656).u32(MUTEX_BACKEND_A_WEIGHT, 2);
    u8(b, MUTEX_BACKEND_A_STATE, MUTEX_BACKEND_DRAIN);
    b.end_nest().end_nest();
    return b.build();
}

TEST(CodecEvents, DecodeABackendEvent) {
    const auto events = decode_events(as_msg(backend_event()));
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].type, EventType::backend);
    EXPECT_EQ(events[0].generation, 3U);
    EXPECT_EQ(events[0].pool, "sentries");
    ASSERT_TRUE(events[0].backend);
    EXPECT_EQ(events[0].backend->address, v4(10, 0, 0, 2));
    EXPECT_EQ(events[0].backend->port, 26656);
    EXPECT_EQ(events[0].backend->weight, 2);
    EXPECT_EQ(events[0].backend->state, config::BackendState::drain);
    EXPECT_FALSE(events[0].flow);
}

TEST(CodecEvents, ABatchOfFlowEventsAndAnUnknownType) {
    MessageBuilder b(kFamily, 0, 0, 0);
    b.genl(MUTEX_CMD_EVENT);
    constexpr std::array<std::uint8_t, 3> kTypes{MUTEX_EVENT_FLOW_START, MUTEX_EVENT_MAX + 1,
                                                 MUTEX_EVENT_FLOW_END};
    for (const std::uint8_t type : kTypes) {
        b.begin_nest(MUTEX_A_EVENT);
        u8(b, MUTEX_EVENT_A_TYPE, type);
        FlowNest nest = nest_of(sample_tcp4_flow());
        nest.nest_type = MUTEX_EVENT_A_FLOW;
        nest.add(b);
        b.end_nest();
    }
    const auto events = decode_events(as_msg(b.build()));
    ASSERT_EQ(events.size(), 2U);  // the newer module's event is skipped
    EXPECT_EQ(events[0].type, EventType::flow_start);
    EXPECT_EQ(events[1].type, EventType::flow_end);
    EXPECT_EQ(events[1].flow, sample_tcp4_flow());
}

TEST(CodecEvents, MalformedEventsAreRefused) {
    // a backend event without its pool
    EXPECT_THROW(decode_events(as_msg(backend_event(MUTEX_EVENT_BACKEND, false))), ProtocolError);
    // a flow event without its flow
    MessageBuilder noflow(kFamily, 0, 0, 0);
    noflow.genl(MUTEX_CMD_EVENT).begin_nest(MUTEX_A_EVENT);
    u8(noflow, MUTEX_EVENT_A_TYPE, MUTEX_EVENT_FLOW_END);
    noflow.end_nest();
    EXPECT_THROW(decode_events(as_msg(noflow.build())), ProtocolError);
    // a config event without its generation; a message without any event
    MessageBuilder nogen(kFamily, 0, 0, 0);
    nogen.genl(MUTEX_CMD_EVENT).begin_nest(MUTEX_A_EVENT);
    u8(nogen, MUTEX_EVENT_A_TYPE, MUTEX_EVENT_CONFIG);
    nogen.end_nest();
    EXPECT_THROW(decode_events(as_msg(nogen.build())), ProtocolError);
    MessageBuilder none(kFamily, 0, 0, 0);
    none.genl(MUTEX_CMD_EVENT);
    EXPECT_THROW(decode_events(as_msg(none.build())), ProtocolError);
}

TEST(CodecEvents, ForEachMessageWalksADatagram) {
    const Bytes one = backend_event();
    const Bytes two = test::datagram({one, backend_event(MUTEX_EVENT_CONFIG)});
    std::vector<std::uint32_t> lengths;
    for_each_message(two, [&](const nlmsghdr& hdr) { lengths.push_back(hdr.nlmsg_len); });
    EXPECT_EQ(lengths.size(), 2U);
    EXPECT_EQ(lengths[0], one.size());
    Bytes cut = one;
    cut.resize(cut.size() - 4);
    EXPECT_THROW(for_each_message(cut, [](const nlmsghdr&) {}), ProtocolError);
}

}  // namespace
}  // namespace mutex
