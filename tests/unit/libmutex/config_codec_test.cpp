// SPDX-License-Identifier: GPL-2.0
// Codec of the configuration commands (API version 2): SET_CONFIG requests checked attribute by
// attribute against the UAPI header, encode -> decode round trips, GET_CONFIG and SET_CONFIG
// replies hand-built and decoded, malformed replies refused.
#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/mutex_proxy.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"
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
constexpr std::size_t kFirstAttr = 20;

/// One attribute of an encoded message, parsed without libmnl.
struct Attr {
    std::uint16_t type = 0;  // without the flags
    bool nested = false;
    std::span<const std::byte> payload;

    [[nodiscard]] std::uint8_t u8() const {
        EXPECT_EQ(payload.size(), 1U) << "type " << type;
        return static_cast<std::uint8_t>(payload[0]);
    }
    [[nodiscard]] std::uint16_t u16() const {
        EXPECT_EQ(payload.size(), 2U) << "type " << type;
        return read_u16(payload, 0);
    }
    [[nodiscard]] std::uint32_t u32() const {
        EXPECT_EQ(payload.size(), 4U) << "type " << type;
        return read_u32(payload, 0);
    }
    [[nodiscard]] std::uint64_t u64() const {
        EXPECT_EQ(payload.size(), 8U) << "type " << type;
        std::uint64_t v = 0;
        std::memcpy(&v, payload.data(), sizeof(v));
        return v;
    }
    [[nodiscard]] std::string str() const {
        EXPECT_FALSE(payload.empty());
        EXPECT_EQ(payload.back(), std::byte{0}) << "type " << type;
        return {reinterpret_cast<const char*>(payload.data()), payload.size() - 1};
    }
    [[nodiscard]] std::vector<std::uint8_t> bytes() const {
        std::vector<std::uint8_t> out;
        for (const std::byte b : payload) {
            out.push_back(static_cast<std::uint8_t>(b));
        }
        return out;
    }
};

std::vector<Attr> parse_attrs(std::span<const std::byte> data) {
    std::vector<Attr> attrs;
    while (!data.empty()) {
        EXPECT_GE(data.size(), 4U);
        if (data.size() < 4) {
            break;
        }
        const std::uint16_t len = read_u16(data, 0);
        const std::uint16_t type = read_u16(data, 2);
        EXPECT_GE(len, 4U);
        EXPECT_LE(len, data.size());
        if (len < 4 || len > data.size()) {
            break;
        }
        attrs.push_back({static_cast<std::uint16_t>(type & NLA_TYPE_MASK),
                         (type & NLA_F_NESTED) != 0, data.subspan(4, len - 4U)});
        data = data.subspan(std::min<std::size_t>((len + 3U) & ~3U, data.size()));
    }
    return attrs;
}

std::vector<std::uint16_t> types_of(const std::vector<Attr>& attrs) {
    std::vector<std::uint16_t> types;
    types.reserve(attrs.size());
    for (const auto& a : attrs) {
        types.push_back(a.type);
    }
    return types;
}

constexpr std::string_view kConfigText = R"([[pool]]
name = "remote"
scheduler = "wrr"
failure_mode = "open"
  [[pool.backend]]
  address = "10.0.0.2"
  port = 8080
  weight = 3
  priority = 1
  state = "drain"
  [[pool.backend]]
  address = "2001:db8::1"
  port = 443

[[pool]]
name = "local"
  [[pool.backend]]
  port = 12345

[[rule]]
name = "web"
protocol = "tcp"
destination = "10.0.0.0/8"
destination_ports = "80-443"
source_ports = "1024"
out_interface = "eth0"
action = "dnat"
pool = "remote"

[[rule]]
source = "2001:db8::/32"
uid = "1000-1999"
gid = "100"
cgroup = "/system.slice/x.service"
mark = "0x10/0xff"
action = "redirect"
pool = "local"

[[rule]]
in_interface = "wg0"
action = "redirect"
to_port = 9040

[[rule]]
protocol = "udp"
action = "drop"
)";

const InterfaceIndexes kInterfaces{{"eth0", 2}, {"wg0", 7}};

std::optional<std::string> name_of(std::uint32_t index) {
    for (const auto& [name, i] : kInterfaces) {
        if (i == index) {
            return name;
        }
    }
    return std::nullopt;
}

config::Config sample() {
    return config::parse(kConfigText, "sample.toml");
}

TEST(SetConfig, HeaderAndTopLevel) {
    const auto msg = encode_set_config(kFamily, kSeq, sample(), 41, kInterfaces);
    ASSERT_GE(msg.size(), kFirstAttr);
    EXPECT_EQ(read_u32(msg, 0), msg.size());
    EXPECT_EQ(read_u16(msg, 4), kFamily);
    EXPECT_EQ(read_u16(msg, 6), NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(read_u32(msg, 8), kSeq);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[16]), MUTEX_CMD_SET_CONFIG);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[17]), MUTEX_PROXY_GENL_VERSION);
    EXPECT_EQ(read_u16(msg, 18), 0U);
    const auto top = parse_attrs(std::span(msg).subspan(kFirstAttr));
    EXPECT_EQ(types_of(top),
              (std::vector<std::uint16_t>{MUTEX_A_GENERATION, MUTEX_A_POOL, MUTEX_A_POOL,
                                          MUTEX_A_RULE, MUTEX_A_RULE, MUTEX_A_RULE, MUTEX_A_RULE}));
    EXPECT_EQ(top[0].u64(), 41U);
    EXPECT_FALSE(top[0].nested);
    for (std::size_t i = 1; i < top.size(); ++i) {
        EXPECT_TRUE(top[i].nested) << i;
    }
}

TEST(SetConfig, PoolsAndBackends) {
    const auto msg = encode_set_config(kFamily, kSeq, sample(), 0, kInterfaces);
    const auto top = parse_attrs(std::span(msg).subspan(kFirstAttr));
    ASSERT_GE(top.size(), 3U);
    const auto remote = parse_attrs(top[1].payload);
    EXPECT_EQ(types_of(remote),
              (std::vector<std::uint16_t>{MUTEX_POOL_A_NAME, MUTEX_POOL_A_SCHEDULER,
                                          MUTEX_POOL_A_FAILURE_MODE, MUTEX_POOL_A_BACKEND,
                                          MUTEX_POOL_A_BACKEND}));
    EXPECT_EQ(remote[0].str(), "remote");
    EXPECT_EQ(remote[1].u8(), MUTEX_SCHED_WRR);
    EXPECT_EQ(remote[2].u8(), MUTEX_FAILURE_OPEN);
    EXPECT_TRUE(remote[3].nested);
    const auto v4 = parse_attrs(remote[3].payload);
    EXPECT_EQ(types_of(v4),
              (std::vector<std::uint16_t>{MUTEX_BACKEND_A_FAMILY, MUTEX_BACKEND_A_ADDR,
                                          MUTEX_BACKEND_A_PORT, MUTEX_BACKEND_A_WEIGHT,
                                          MUTEX_BACKEND_A_PRIORITY, MUTEX_BACKEND_A_STATE}));
    EXPECT_EQ(v4[0].u8(), AF_INET);
    EXPECT_EQ(v4[1].bytes(), (std::vector<std::uint8_t>{10, 0, 0, 2}));
    EXPECT_EQ(v4[2].u16(), 8080U);  // host byte order
    EXPECT_EQ(v4[3].u32(), 3U);
    EXPECT_EQ(v4[4].u8(), 1U);
    EXPECT_EQ(v4[5].u8(), MUTEX_BACKEND_DRAIN);
    const auto v6 = parse_attrs(remote[4].payload);
    ASSERT_EQ(v6.size(), 6U);
    EXPECT_EQ(v6[0].u8(), AF_INET6);
    EXPECT_EQ(v6[1].bytes(), (std::vector<std::uint8_t>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,
                                                        0, 0, 0, 0, 1}));
    EXPECT_EQ(v6[2].u16(), 443U);
    EXPECT_EQ(v6[3].u32(), 1U);  // defaults are sent
    EXPECT_EQ(v6[4].u8(), 0U);
    EXPECT_EQ(v6[5].u8(), MUTEX_BACKEND_UP);

    const auto local = parse_attrs(top[2].payload);
    ASSERT_EQ(local.size(), 4U);
    EXPECT_EQ(local[0].str(), "local");
    EXPECT_EQ(local[1].u8(), MUTEX_SCHED_RR);
    EXPECT_EQ(local[2].u8(), MUTEX_FAILURE_CLOSED);
    const auto port_only = parse_attrs(local[3].payload);
    EXPECT_EQ(types_of(port_only),
              (std::vector<std::uint16_t>{MUTEX_BACKEND_A_PORT, MUTEX_BACKEND_A_WEIGHT,
                                          MUTEX_BACKEND_A_PRIORITY, MUTEX_BACKEND_A_STATE}));
    EXPECT_EQ(port_only[0].u16(), 12345U);
}

TEST(SetConfig, Rules) {
    const auto msg = encode_set_config(kFamily, kSeq, sample(), 0, kInterfaces);
    const auto top = parse_attrs(std::span(msg).subspan(kFirstAttr));
    ASSERT_EQ(top.size(), 7U);

    const auto web = parse_attrs(top[3].payload);
    EXPECT_EQ(types_of(web),
              (std::vector<std::uint16_t>{
                  MUTEX_RULE_A_NAME, MUTEX_RULE_A_FAMILY, MUTEX_RULE_A_PROTO, MUTEX_RULE_A_DST_ADDR,
                  MUTEX_RULE_A_DST_PLEN, MUTEX_RULE_A_DST_PORT_MIN, MUTEX_RULE_A_DST_PORT_MAX,
                  MUTEX_RULE_A_SRC_PORT_MIN, MUTEX_RULE_A_SRC_PORT_MAX, MUTEX_RULE_A_OIF,
                  MUTEX_RULE_A_ACTION, MUTEX_RULE_A_POOL}));
    EXPECT_EQ(web[0].str(), "web");
    EXPECT_EQ(web[1].u8(), AF_INET);
    EXPECT_EQ(web[2].u8(), IPPROTO_TCP);
    EXPECT_EQ(web[3].bytes(), (std::vector<std::uint8_t>{10, 0, 0, 0}));
    EXPECT_EQ(web[4].u8(), 8U);
    EXPECT_EQ(web[5].u16(), 80U);
    EXPECT_EQ(web[6].u16(), 443U);
    EXPECT_EQ(web[7].u16(), 1024U);
    EXPECT_EQ(web[8].u16(), 1024U);
    EXPECT_EQ(web[9].u32(), 2U);  // eth0
    EXPECT_EQ(web[10].u8(), MUTEX_ACTION_DNAT);
    EXPECT_EQ(web[11].u32(), 0U);  // pool "remote" is index 0

    const auto second = parse_attrs(top[4].payload);
    EXPECT_EQ(types_of(second),
              (std::vector<std::uint16_t>{
                  MUTEX_RULE_A_FAMILY, MUTEX_RULE_A_SRC_ADDR, MUTEX_RULE_A_SRC_PLEN,
                  MUTEX_RULE_A_UID_MIN, MUTEX_RULE_A_UID_MAX, MUTEX_RULE_A_GID_MIN,
                  MUTEX_RULE_A_GID_MAX, MUTEX_RULE_A_CGROUP, MUTEX_RULE_A_MARK_VALUE,
                  MUTEX_RULE_A_MARK_MASK, MUTEX_RULE_A_ACTION, MUTEX_RULE_A_POOL}));
    EXPECT_EQ(second[0].u8(), AF_INET6);
    EXPECT_EQ(second[1].bytes(), (std::vector<std::uint8_t>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
                                                            0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(second[2].u8(), 32U);
    EXPECT_EQ(second[3].u32(), 1000U);
    EXPECT_EQ(second[4].u32(), 1999U);
    EXPECT_EQ(second[5].u32(), 100U);
    EXPECT_EQ(second[6].u32(), 100U);
    EXPECT_EQ(second[7].str(), "/system.slice/x.service");
    EXPECT_EQ(second[8].u32(), 0x10U);
    EXPECT_EQ(second[9].u32(), 0xffU);
    EXPECT_EQ(second[10].u8(), MUTEX_ACTION_REDIRECT);
    EXPECT_EQ(second[11].u32(), 1U);

    const auto third = parse_attrs(top[5].payload);
    EXPECT_EQ(types_of(third), (std::vector<std::uint16_t>{MUTEX_RULE_A_IIF, MUTEX_RULE_A_ACTION,
                                                           MUTEX_RULE_A_TO_PORT}));
    EXPECT_EQ(third[0].u32(), 7U);
    EXPECT_EQ(third[1].u8(), MUTEX_ACTION_REDIRECT);
    EXPECT_EQ(third[2].u16(), 9040U);

    const auto fourth = parse_attrs(top[6].payload);
    EXPECT_EQ(types_of(fourth),
              (std::vector<std::uint16_t>{MUTEX_RULE_A_PROTO, MUTEX_RULE_A_ACTION}));
    EXPECT_EQ(fourth[0].u8(), IPPROTO_UDP);
    EXPECT_EQ(fourth[1].u8(), MUTEX_ACTION_DROP);
}

TEST(SetConfig, EmptyConfigurationIsJustTheGeneration) {
    const auto msg = encode_set_config(kFamily, kSeq, config::Config{}, 3, {});
    const auto top = parse_attrs(std::span(msg).subspan(kFirstAttr));
    ASSERT_EQ(top.size(), 1U);
    EXPECT_EQ(top[0].type, MUTEX_A_GENERATION);
    EXPECT_EQ(top[0].u64(), 3U);
}

TEST(SetConfig, UnresolvedInterfaceOrPoolIsRefused) {
    try {
        static_cast<void>(encode_set_config(kFamily, kSeq, sample(), 0, {{"eth0", 2}}));
        ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("'wg0'"), std::string::npos) << e.what();
    }
    config::Config bad = sample();
    bad.rules[0].pool = "nowhere";
    EXPECT_THROW(static_cast<void>(encode_set_config(kFamily, kSeq, bad, 0, kInterfaces)),
                 std::invalid_argument);
}

TEST(SetConfig, LargeConfigurationFits) {
    config::Config big;
    for (std::size_t i = 0; i < 2000; ++i) {
        config::Rule rule;
        rule.name = "rule" + std::to_string(i);
        rule.cgroup = std::string(300, 'c');
        rule.uid = config::IdRange{1, 2};
        rule.action = config::Action::bypass;
        big.rules.push_back(rule);
    }
    const auto msg = encode_set_config(kFamily, kSeq, big, 0, {});
    EXPECT_EQ(read_u32(msg, 0), msg.size());
    EXPECT_EQ(parse_attrs(std::span(msg).subspan(kFirstAttr)).size(), 2001U);
}

TEST(ConfigRoundTrip, EncodeThenDecode) {
    const config::Config config = sample();
    const auto msg = encode_set_config(kFamily, kSeq, config, 9, kInterfaces);
    const Bytes copy(msg.begin(), msg.end());
    const ConfigSnapshot snapshot = decode_config(as_msg(copy), name_of);
    EXPECT_EQ(snapshot.generation, 9U);
    EXPECT_EQ(snapshot.config, config);
    ASSERT_EQ(snapshot.counters.size(), 2U);
    EXPECT_EQ(snapshot.counters[0].size(), 2U);
    EXPECT_EQ(snapshot.counters[1].size(), 1U);
    EXPECT_EQ(snapshot.counters[0][0], BackendCounters{});
    // the request carries no counters: every rule decodes with 0 matches
    EXPECT_EQ(snapshot.rule_matches, std::vector<std::uint64_t>(config.rules.size(), 0));
}

TEST(ConfigRoundTrip, UnnamedInterfaceIsItsIndex) {
    const auto msg = encode_set_config(kFamily, kSeq, sample(), 0, kInterfaces);
    const Bytes copy(msg.begin(), msg.end());
    const ConfigSnapshot snapshot = decode_config(as_msg(copy), {});
    EXPECT_EQ(snapshot.config.rules[0].out_interface, "2");
    EXPECT_EQ(snapshot.config.rules[2].in_interface, "7");
}

TEST(GetConfig, Request) {
    RequestBuffer buffer;
    const Message msg = encode_get_config(buffer.bytes, kFamily, kSeq);
    ASSERT_EQ(msg.size(), kFirstAttr);
    EXPECT_EQ(read_u32(msg, 0), kFirstAttr);
    EXPECT_EQ(read_u16(msg, 6), NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(static_cast<std::uint8_t>(msg[16]), MUTEX_CMD_GET_CONFIG);
}

MessageBuilder& u8(MessageBuilder& b, std::uint16_t type, std::uint8_t value) {
    const std::array<std::byte, 1> payload{std::byte{value}};
    return b.attr(type, payload);
}

/// A GET_CONFIG reply as the kernel sends it, with hooks to break it.
struct ConfigReply {
    bool generation = true;
    bool pool_name = true;
    std::size_t address_length = 4;
    std::uint8_t state = MUTEX_BACKEND_UP;
    std::uint32_t weight = 2;
    std::uint32_t rule_pool = 0;
    std::uint8_t action = MUTEX_ACTION_DNAT;
    bool port_max = true;
    bool traffic_as_u32 = false;  // MUTEX_BACKEND_A_PKTS of the wrong size
    std::uint64_t reply_bytes = 1ULL << 32U;

    [[nodiscard]] Bytes build() const {
        MessageBuilder b(kFamily, 0, kSeq, kPort);
        b.genl(MUTEX_CMD_GET_CONFIG);
        if (generation) {
            b.u32(MUTEX_A_PAD, 0);
            b.u64(MUTEX_A_GENERATION, 12);
        }
        b.begin_nest(MUTEX_A_POOL);
        if (pool_name) {
            b.str(MUTEX_POOL_A_NAME, "remote");
        }
        u8(b, MUTEX_POOL_A_SCHEDULER, MUTEX_SCHED_LEAST_CONN);
        u8(b, MUTEX_POOL_A_FAILURE_MODE, MUTEX_FAILURE_CLOSED);
        b.u32(999, 0);  // unknown: ignored
        b.begin_nest(MUTEX_POOL_A_BACKEND);
        u8(b, MUTEX_BACKEND_A_FAMILY, AF_INET);
        const std::array<std::byte, 16> addr{std::byte{192}, std::byte{168}, std::byte{1},
                                             std::byte{9}};
        b.attr(MUTEX_BACKEND_A_ADDR, std::span(addr).first(address_length));
        b.u16(MUTEX_BACKEND_A_PORT, 3128);
        b.u32(MUTEX_BACKEND_A_WEIGHT, weight);
        u8(b, MUTEX_BACKEND_A_PRIORITY, 4);
        u8(b, MUTEX_BACKEND_A_STATE, state);
        b.u32(MUTEX_BACKEND_A_PAD, 0);
        b.u64(MUTEX_BACKEND_A_ACTIVE_FLOWS, 5);
        b.u64(MUTEX_BACKEND_A_TOTAL_FLOWS, 77);
        if (traffic_as_u32) {
            b.u32(MUTEX_BACKEND_A_PKTS, 1000);
        } else {
            b.u64(MUTEX_BACKEND_A_PKTS, 1000);
        }
        b.u64(MUTEX_BACKEND_A_BYTES, 1ULL << 33U);
        b.u64(MUTEX_BACKEND_A_PKTS_REPLY, 400);
        b.u64(MUTEX_BACKEND_A_BYTES_REPLY, reply_bytes);
        b.end_nest();
        b.end_nest();
        b.begin_nest(MUTEX_A_RULE);
        b.u16(MUTEX_RULE_A_DST_PORT_MIN, 80);
        if (port_max) {
            b.u16(MUTEX_RULE_A_DST_PORT_MAX, 81);
        }
        u8(b, MUTEX_RULE_A_ACTION, action);
        b.u32(MUTEX_RULE_A_POOL, rule_pool);
        b.u32(MUTEX_RULE_A_PAD, 0);
        b.u64(MUTEX_RULE_A_MATCHES, (1ULL << 32U) + 3);
        b.end_nest();
        return b.build();
    }
};

TEST(GetConfig, DecodesReplyWithCounters) {
    const Bytes reply = ConfigReply{}.build();
    const ConfigSnapshot s = decode_config(as_msg(reply), name_of);
    EXPECT_EQ(s.generation, 12U);
    ASSERT_EQ(s.config.pools.size(), 1U);
    const auto& pool = s.config.pools[0];
    EXPECT_EQ(pool.name, "remote");
    EXPECT_EQ(pool.scheduler, config::Scheduler::least_conn);
    ASSERT_EQ(pool.backends.size(), 1U);
    const auto& be = pool.backends[0];
    ASSERT_TRUE(be.address.has_value());
    EXPECT_EQ(config::to_string(*be.address), "192.168.1.9");
    EXPECT_EQ(be.port, 3128U);
    EXPECT_EQ(be.weight, 2U);
    EXPECT_EQ(be.priority, 4U);
    EXPECT_EQ(be.state, config::BackendState::up);
    EXPECT_EQ(s.counters, (std::vector<std::vector<BackendCounters>>{
                              {{5, 77, 1000, 1ULL << 33U, 400, 1ULL << 32U}}}));
    ASSERT_EQ(s.config.rules.size(), 1U);
    EXPECT_EQ(s.config.rules[0].destination_ports, (config::PortRange{80, 81}));
    EXPECT_EQ(s.config.rules[0].action, config::Action::dnat);
    EXPECT_EQ(s.config.rules[0].pool, "remote");
    EXPECT_EQ(s.rule_matches, std::vector<std::uint64_t>{(1ULL << 32U) + 3});
}

/// A GET_CONFIG dump as the kernel may send it: `msg` (a message of kFirstAttr header bytes and
/// top-level attributes, one of them MUTEX_A_GENERATION) cut into one message per pool or rule,
/// each with the header and a generation (`generations[i]`, or the original one).
std::vector<Bytes> split_dump(const std::vector<std::byte>& msg,
                              const std::vector<std::uint64_t>& generations = {}) {
    std::span<const std::byte> data = std::span(msg).subspan(kFirstAttr);
    std::vector<std::span<const std::byte>> items;
    std::uint64_t generation = 0;
    while (data.size() >= 4) {
        const std::size_t len = read_u16(data, 0);
        const std::size_t aligned =
            std::min<std::size_t>((len + 3U) & ~std::size_t{3}, data.size());
        if ((read_u16(data, 2) & NLA_TYPE_MASK) == MUTEX_A_GENERATION) {
            std::memcpy(&generation, data.subspan(4, 8).data(), 8);
        } else {
            items.push_back(data.first(aligned));
        }
        data = data.subspan(aligned);
    }
    std::vector<Bytes> parts;
    for (std::size_t i = 0; i < items.size(); ++i) {
        MessageBuilder b(kFamily, NLM_F_MULTI, kSeq, kPort);
        b.genl(MUTEX_CMD_GET_CONFIG);
        b.u64(MUTEX_A_GENERATION, i < generations.size() ? generations[i] : generation);
        Bytes part = b.build();
        part.insert(part.end(), items[i].begin(), items[i].end());
        const auto len = static_cast<std::uint32_t>(part.size());
        std::memcpy(part.data(), &len, sizeof(len));
        parts.push_back(std::move(part));
    }
    return parts;
}

std::vector<const nlmsghdr*> headers(const std::vector<Bytes>& parts) {
    std::vector<const nlmsghdr*> out;
    out.reserve(parts.size());
    for (const auto& part : parts) {
        out.push_back(&as_msg(part));
    }
    return out;
}

TEST(GetConfig, DumpOverManyMessagesIsOneConfiguration) {
    const config::Config config = sample();
    const auto msg = encode_set_config(kFamily, kSeq, config, 9, kInterfaces);
    const std::vector<Bytes> parts = split_dump(msg);
    ASSERT_EQ(parts.size(), config.pools.size() + config.rules.size());
    const ConfigSnapshot snapshot = decode_config(headers(parts), name_of);
    EXPECT_EQ(snapshot.generation, 9U);
    EXPECT_EQ(snapshot.config, config);
}

TEST(GetConfig, DumpWithTwoGenerationsIsRefused) {
    const auto msg = encode_set_config(kFamily, kSeq, sample(), 9, kInterfaces);
    const std::vector<Bytes> parts = split_dump(msg, {9, 9, 10});
    EXPECT_THROW(static_cast<void>(decode_config(headers(parts), name_of)), ProtocolError);
    EXPECT_THROW(static_cast<void>(decode_config(std::vector<const nlmsghdr*>{}, name_of)),
                 ProtocolError);
}

TEST(GetConfig, MalformedRepliesAreRefused) {
    const auto refused = [](const ConfigReply& r) {
        const Bytes reply = r.build();
        EXPECT_THROW(static_cast<void>(decode_config(as_msg(reply), name_of)), ProtocolError);
    };
    ConfigReply r;
    r.generation = false;
    refused(r);
    r = {};
    r.pool_name = false;
    refused(r);
    r = {};
    r.address_length = 5;
    refused(r);
    r = {};
    r.address_length = 16;  // AF_INET with an IPv6-sized address
    refused(r);
    r = {};
    r.state = MUTEX_BACKEND_STATE_MAX + 1;
    refused(r);
    r = {};
    r.weight = 0;
    refused(r);
    r = {};
    r.weight = 65536;
    refused(r);
    r = {};
    r.rule_pool = 1;
    refused(r);
    r = {};
    r.action = MUTEX_ACTION_MAX + 1;
    refused(r);
    r = {};
    r.port_max = false;
    refused(r);
    r = {};
    r.traffic_as_u32 = true;
    refused(r);
    r = {};
    r.reply_bytes = (1ULL << 33U) + 1;  // more reply bytes than bytes
    refused(r);
}

TEST(GetConfig, TruncatedReplyIsRefused) {
    Bytes reply = ConfigReply{}.build();
    reply.resize(reply.size() - 8);
    const auto len = static_cast<std::uint32_t>(reply.size());
    std::memcpy(reply.data(), &len, sizeof(len));
    EXPECT_THROW(static_cast<void>(decode_config(as_msg(reply), name_of)), ProtocolError);
}

TEST(SetConfigReply, Generation) {
    const Bytes ok = MessageBuilder(kFamily, 0, kSeq, kPort)
                         .genl(MUTEX_CMD_SET_CONFIG)
                         .u64(MUTEX_A_GENERATION, 8)
                         .build();
    EXPECT_EQ(decode_set_config(as_msg(ok)), 8U);
    const Bytes missing =
        MessageBuilder(kFamily, 0, kSeq, kPort).genl(MUTEX_CMD_SET_CONFIG).build();
    EXPECT_THROW(static_cast<void>(decode_set_config(as_msg(missing))), ProtocolError);
    const Bytes short_value = MessageBuilder(kFamily, 0, kSeq, kPort)
                                  .genl(MUTEX_CMD_SET_CONFIG)
                                  .u32(MUTEX_A_GENERATION, 8)
                                  .build();
    EXPECT_THROW(static_cast<void>(decode_set_config(as_msg(short_value))), ProtocolError);
}

}  // namespace
}  // namespace mutex
