// SPDX-License-Identifier: GPL-2.0
// Output formats are an interface: scripts parse them. These tests pin them down exactly.
#include "libmutex/format.hpp"

#include <gtest/gtest.h>
#include <linux/mutex_proxy.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"
#include "test_helpers.hpp"

namespace mutex::format {
namespace {

Stats sample_stats() {
    Stats s;
    std::uint64_t v = 1;
    for (const auto& field : kStatFields) {
        s.*field.member = v;
        v *= 10;
    }
    s.flow_count = 7;
    return s;
}

Info sample_info() {
    Info info;
    info.version = "0.1.0";
    info.api_version = 1;
    info.features = MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS | MUTEX_FEATURE_PARAMS |
                    MUTEX_FEATURE_HOOKS_IPV4 | MUTEX_FEATURE_HOOKS_IPV6;
    info.netns_cookie = 4097;
    info.params = {1, 32, 1024, 262144, 1};
    return info;
}

TEST(Format, Table) {
    const std::vector<Row> rows{{"a", "1"}, {"long_key", "2"}, {"", "3"}};
    EXPECT_EQ(table(rows), "a         1\nlong_key  2\n          3\n");
    EXPECT_EQ(table(rows, 2), "  a         1\n  long_key  2\n            3\n");
    EXPECT_EQ(table({}), "");
}

TEST(Format, StatsHuman) {
    EXPECT_EQ(human(sample_stats()),
              "pkts_seen        1\n"
              "pkts_steered     10\n"
              "flows_new        100\n"
              "flows_steered    1000\n"
              "flows_bypassed   10000\n"
              "flows_dropped    100000\n"
              "cache_hits       1000000\n"
              "cache_misses     10000000\n"
              "table_inserts    100000000\n"
              "table_evictions  1000000000\n"
              "table_full       10000000000\n"
              "alloc_fails      100000000000\n"
              "batch_flushes    1000000000000\n"
              "events_sent      10000000000000\n"
              "events_lost      100000000000000\n"
              "bytes_steered    1000000000000000\n"
              "flows_adopted    10000000000000000\n"
              "flow_count       7\n");
}

TEST(Format, StatsJsonKeepsUapiOrderAndFull64BitValues) {
    Stats s = sample_stats();
    s.events_lost = 18446744073709551615ULL;
    EXPECT_EQ(json_line(to_json(s)),
              R"({"pkts_seen":1,"pkts_steered":10,"flows_new":100,"flows_steered":1000,)"
              R"("flows_bypassed":10000,"flows_dropped":100000,"cache_hits":1000000,)"
              R"("cache_misses":10000000,"table_inserts":100000000,)"
              R"("table_evictions":1000000000,"table_full":10000000000,)"
              R"("alloc_fails":100000000000,"batch_flushes":1000000000000,)"
              R"("events_sent":10000000000000,"events_lost":18446744073709551615,)"
              R"("bytes_steered":1000000000000000,"flows_adopted":10000000000000000,)"
              R"("flow_count":7})"
              "\n");
}

TEST(Format, ParamsHumanAndJson) {
    const Params p{1, 32, 1024, 262144, 0};
    EXPECT_EQ(human(p),
              "perf_enable_batching    1\n"
              "perf_batch_size         32\n"
              "perf_cache_size         1024\n"
              "max_conns               262144\n"
              "perf_enable_accounting  0\n");
    EXPECT_EQ(json_line(to_json(p)),
              R"({"perf_enable_batching":1,"perf_batch_size":32,"perf_cache_size":1024,)"
              R"("max_conns":262144,"perf_enable_accounting":0})"
              "\n");
    // unset parameters are left out
    const Params partial{{}, 64, {}, {}, {}};
    EXPECT_EQ(human(partial), "perf_batch_size  64\n");
    EXPECT_EQ(to_json(partial).dump(), R"({"perf_batch_size":64})");
    EXPECT_EQ(to_json(Params{}).dump(), "{}");
}

TEST(Format, OneParam) {
    const Params p{1, 32, 1024, 262144, 1};
    const ParamField& batch = *find_param("perf_batch_size");
    EXPECT_EQ(human_param(batch, p), "perf_batch_size  32\n");
    EXPECT_EQ(json_line(param_to_json(batch, p)), "{\"perf_batch_size\":32}\n");
    EXPECT_EQ(human_param(batch, Params{}), "perf_batch_size  -\n");
    EXPECT_EQ(param_to_json(batch, Params{}).dump(), R"({"perf_batch_size":null})");
}

TEST(Format, InfoHuman) {
    EXPECT_EQ(human(sample_info()),
              "version       0.1.0\n"
              "api_version   1\n"
              "features      netns,stats,params,hooks_ipv4,hooks_ipv6\n"
              "netns_cookie  4097\n"
              "params:\n"
              "  perf_enable_batching    1\n"
              "  perf_batch_size         32\n"
              "  perf_cache_size         1024\n"
              "  max_conns               262144\n"
              "  perf_enable_accounting  1\n");
    Info bare = sample_info();
    bare.features = 1ULL << 63U;
    EXPECT_NE(human(bare).find("features      bit63\n"), std::string::npos);
    bare.features = 0;
    EXPECT_NE(human(bare).find("features      none\n"), std::string::npos);
}

TEST(Format, InfoJson) {
    EXPECT_EQ(json_line(to_json(sample_info())),
              R"({"version":"0.1.0","api_version":1,)"
              R"("features":["netns","stats","params","hooks_ipv4","hooks_ipv6"],)"
              R"("netns_cookie":4097,"params":{"perf_enable_batching":1,"perf_batch_size":32,)"
              R"("perf_cache_size":1024,"max_conns":262144,"perf_enable_accounting":1}})"
              "\n");
    Info bare = sample_info();
    bare.features = 0;
    EXPECT_EQ(to_json(bare)["features"].dump(), "[]");
}

TEST(Format, Version) {
    const std::optional<Info> module = sample_info();
    EXPECT_EQ(human_version("0.1.0", module),
              "mutexctl     0.1.0\n"
              "module       0.1.0\n"
              "api_version  1\n");
    EXPECT_EQ(human_version("0.1.0", std::nullopt),
              "mutexctl  0.1.0\n"
              "module    not loaded\n");
    EXPECT_EQ(json_line(version_to_json("0.1.0", module)),
              R"({"mutexctl":"0.1.0","module":{"version":"0.1.0","api_version":1}})"
              "\n");
    EXPECT_EQ(json_line(version_to_json("0.1.0", std::nullopt)),
              R"({"mutexctl":"0.1.0","module":null})"
              "\n");
}

Flow sample_flow6() {
    Flow f;
    f.protocol = config::Protocol::udp;
    f.source = {test::address("2001:db8::2"), 5353};
    f.original_destination = {test::address("2001:db8::7"), 8001};
    f.destination = {test::address("2001:db8::9"), 8001};
    f.action = config::Action::dnat;
    f.age_ms = 90061000;  // 1d 01h 01m 01s
    f.idle_ms = 3723000;  // 1h 02m 03s
    return f;
}

TEST(Format, Endpoint) {
    EXPECT_EQ(endpoint({test::address("10.0.0.2"), 40000}), "10.0.0.2:40000");
    EXPECT_EQ(endpoint({test::address("2001:db8::1"), 443}), "[2001:db8::1]:443");
    EXPECT_EQ(endpoint({test::address("::ffff:10.0.0.1"), 1}), "[::ffff:10.0.0.1]:1");
}

TEST(Format, Duration) {
    EXPECT_EQ(duration(0), "0.0s");
    EXPECT_EQ(duration(350), "0.3s");
    EXPECT_EQ(duration(9999), "9.9s");
    EXPECT_EQ(duration(10000), "10s");
    EXPECT_EQ(duration(59999), "59s");
    EXPECT_EQ(duration(60000), "1m00s");
    EXPECT_EQ(duration(65000), "1m05s");
    EXPECT_EQ(duration(3599999), "59m59s");
    EXPECT_EQ(duration(3600000), "1h00m");
    EXPECT_EQ(duration(3723000), "1h02m");
    EXPECT_EQ(duration(86399999), "23h59m");
    EXPECT_EQ(duration(90061000), "1d01h");
    EXPECT_EQ(duration(18446744073709551615ULL), "213503982334d14h");
}

TEST(Format, FlowsHuman) {
    EXPECT_EQ(human(std::vector<Flow>{test::sample_tcp4_flow(), sample_flow6()}),
              "PROTO  SOURCE              ORIG-DST            STEERED-TO          ACTION    "
              "PKTS-ORIG  BYTES-ORIG  PKTS-REPLY  BYTES-REPLY  AGE    IDLE\n"
              "tcp    10.0.0.2:40000      203.0.113.7:26656   127.0.0.1:12345     redirect  "
              "10         5000000000  8           900          1m05s  0.3s\n"
              "udp    [2001:db8::2]:5353  [2001:db8::7]:8001  [2001:db8::9]:8001  dnat      "
              "0          0           0           0            1d01h  1h02m\n");
    EXPECT_EQ(human(std::vector<Flow>{}),
              "PROTO  SOURCE  ORIG-DST  STEERED-TO  ACTION  PKTS-ORIG  BYTES-ORIG  PKTS-REPLY  "
              "BYTES-REPLY  AGE  IDLE\n");
}

TEST(Format, FlowsJson) {
    EXPECT_EQ(json_line(to_json(test::sample_tcp4_flow())),
              R"({"family":"ipv4","protocol":"tcp","src_addr":"10.0.0.2","src_port":40000,)"
              R"("orig_dst_addr":"203.0.113.7","orig_dst_port":26656,"dst_addr":"127.0.0.1",)"
              R"("dst_port":12345,"action":"redirect","pkts_orig":10,"bytes_orig":5000000000,)"
              R"("pkts_reply":8,"bytes_reply":900,"age_ms":65000,"idle_ms":300})"
              "\n");
    const Json array = to_json(std::vector<Flow>{test::sample_tcp4_flow(), sample_flow6()});
    ASSERT_TRUE(array.is_array());
    ASSERT_EQ(array.size(), 2U);
    EXPECT_EQ(array[1]["family"], "ipv6");
    EXPECT_EQ(array[1]["protocol"], "udp");
    EXPECT_EQ(array[1]["src_addr"], "2001:db8::2");
    EXPECT_EQ(array[1]["action"], "dnat");
    EXPECT_EQ(json_line(to_json(std::vector<Flow>{})), "[]\n");
}

TEST(Format, FlowsJsonLineFlowByFlow) {
    for (const auto& flows :
         {std::vector<Flow>{}, std::vector<Flow>{test::sample_tcp4_flow()},
          std::vector<Flow>{test::sample_tcp4_flow(), sample_flow6(), test::sample_tcp4_flow()}}) {
        EXPECT_EQ(json_line(flows), json_line(to_json(flows)));
    }
}

}  // namespace
}  // namespace mutex::format
