// SPDX-License-Identifier: GPL-2.0
// Output formats are an interface: scripts parse them. These tests pin them down exactly.
#include "libmutex/format.hpp"

#include <gtest/gtest.h>
#include <linux/mutex_proxy.h>

#include <optional>
#include <string>
#include <vector>

#include "libmutex/codec.hpp"

namespace mutex::format {
namespace {

Stats sample_stats() {
    Stats s;
    std::uint64_t v = 1;
    for (const auto& field : kStatFields) {
        s.*field.member = v;
        v *= 10;
    }
    return s;
}

Info sample_info() {
    Info info;
    info.version = "0.1.0";
    info.api_version = 1;
    info.features = MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS | MUTEX_FEATURE_PARAMS |
                    MUTEX_FEATURE_HOOKS_IPV4 | MUTEX_FEATURE_HOOKS_IPV6;
    info.netns_cookie = 4097;
    info.params = {1, 32, 1024, 262144};
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
              "events_lost      100000000000000\n");
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
              R"("events_sent":10000000000000,"events_lost":18446744073709551615})"
              "\n");
}

TEST(Format, ParamsHumanAndJson) {
    const Params p{1, 32, 1024, 262144};
    EXPECT_EQ(human(p),
              "perf_enable_batching  1\n"
              "perf_batch_size       32\n"
              "perf_cache_size       1024\n"
              "max_conns             262144\n");
    EXPECT_EQ(json_line(to_json(p)),
              R"({"perf_enable_batching":1,"perf_batch_size":32,"perf_cache_size":1024,)"
              R"("max_conns":262144})"
              "\n");
    // unset parameters are left out
    const Params partial{{}, 64, {}, {}};
    EXPECT_EQ(human(partial), "perf_batch_size  64\n");
    EXPECT_EQ(to_json(partial).dump(), R"({"perf_batch_size":64})");
    EXPECT_EQ(to_json(Params{}).dump(), "{}");
}

TEST(Format, OneParam) {
    const Params p{1, 32, 1024, 262144};
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
              "  perf_enable_batching  1\n"
              "  perf_batch_size       32\n"
              "  perf_cache_size       1024\n"
              "  max_conns             262144\n");
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
              R"("perf_cache_size":1024,"max_conns":262144}})"
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

}  // namespace
}  // namespace mutex::format
