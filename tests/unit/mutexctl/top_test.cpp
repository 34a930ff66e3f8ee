// SPDX-License-Identifier: GPL-2.0
// `mutexctl top`'s view: rates from two samples (a backend's traffic split by direction, rule
// matches, the cache's hit rate and the batch fill), rates of zero where counters went back or a
// rule is new, an 80-column screen even for long names, and the JSON line.
#include "mutexctl/top.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace mutexctl::top {
namespace {

namespace cfg = mutex::config;
using std::chrono::milliseconds;

cfg::Config config(const std::string& pool_name = "relays") {
    return cfg::parse(R"(
[[pool]]
name = ")" + pool_name + R"("
  [[pool.backend]]
  address = "203.0.113.5"
  port = 8000
  [[pool.backend]]
  address = "2001:db8::7"
  port = 8001
[[rule]]
name = "p2p"
protocol = "udp"
action = "dnat"
pool = ")" + pool_name + R"("
[[rule]]
action = "bypass"
protocol = "tcp"
)",
                      "t.toml");
}

Sample sample(std::chrono::steady_clock::time_point at, std::uint64_t scale) {
    Sample s;
    s.at = at;
    s.stats.pkts_steered = 1000 * scale;
    s.stats.bytes_steered = 100000 * scale;
    s.stats.flows_new = 10 * scale;
    s.stats.cache_hits = 900 * scale;
    s.stats.cache_misses = 100 * scale;
    s.stats.batch_flushes = 100 * scale;
    s.stats.flow_count = 7;
    s.params.batch_size = 32;
    s.params.max_conns = 262144;
    s.config.generation = 4;
    s.config.config = config();
    s.config.counters = {{{.active_flows = 3,
                           .total_flows = 9,
                           .pkts = 600 * scale,
                           .bytes = 60000 * scale,
                           .pkts_reply = 200 * scale,
                           .bytes_reply = 10000 * scale},
                          {}}};
    s.config.rule_matches = {5 * scale, 2 * scale};
    return s;
}

TEST(Top, RatesBetweenTwoSamples) {
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    const View v = compute(sample(t0, 1), sample(t0 + milliseconds(2000), 3));
    EXPECT_DOUBLE_EQ(v.seconds, 2.0);
    EXPECT_DOUBLE_EQ(v.pkts_per_s, 1000.0);
    EXPECT_DOUBLE_EQ(v.bytes_per_s, 100000.0);
    EXPECT_DOUBLE_EQ(v.new_flows_per_s, 10.0);
    ASSERT_TRUE(v.cache_hit_rate);
    EXPECT_DOUBLE_EQ(*v.cache_hit_rate, 0.9);
    ASSERT_TRUE(v.batch_fill);
    EXPECT_DOUBLE_EQ(*v.batch_fill, 10.0);
    ASSERT_EQ(v.backends.size(), 2U);
    EXPECT_EQ(v.backends[0].backend, "203.0.113.5:8000");
    EXPECT_EQ(v.backends[1].backend, "[2001:db8::7]:8001");
    EXPECT_EQ(v.backends[0].active_flows, 3U);
    EXPECT_DOUBLE_EQ(v.backends[0].pkts_to, 400.0);  // (1200 - 400) / 2
    EXPECT_DOUBLE_EQ(v.backends[0].pkts_from, 200.0);
    EXPECT_DOUBLE_EQ(v.backends[0].bytes_to, 50000.0);
    EXPECT_DOUBLE_EQ(v.backends[0].bytes_from, 10000.0);
    ASSERT_EQ(v.rules.size(), 2U);
    EXPECT_DOUBLE_EQ(v.rules[0].matches_per_s, 5.0);
    EXPECT_EQ(v.rules[0].matches, 15U);
    EXPECT_DOUBLE_EQ(v.rules[1].matches_per_s, 2.0);
}

TEST(Top, CountersThatWentBackOrNewRowsStartFromZero) {
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    Sample later = sample(t0 + milliseconds(1000), 1);
    later.config.config = config("other");  // a pool renamed: its backends are new
    const View v = compute(sample(t0, 5), later);
    EXPECT_DOUBLE_EQ(v.pkts_per_s, 0.0);               // went back: the module was loaded again
    EXPECT_DOUBLE_EQ(v.backends[0].pkts_from, 200.0);  // new: from zero
    Sample idle = sample(t0, 1);
    idle.at = t0 + milliseconds(1000);
    const View quiet = compute(sample(t0, 1), idle);
    EXPECT_FALSE(quiet.cache_hit_rate);
    EXPECT_FALSE(quiet.batch_fill);
}

TEST(Top, ScreenFitsEightyColumns) {
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    Sample a = sample(t0, 1);
    Sample b = sample(t0 + milliseconds(1000), 1000000);
    const std::string long_name(64, 'x');
    for (Sample* s : {&a, &b}) {
        s->config.config.pools[0].name = long_name;
        s->config.config.rules[0].pool = long_name;
        s->config.config.rules[0].name = long_name;
    }
    const std::string text = screen(compute(a, b));
    std::istringstream in(text);
    std::string line;
    std::size_t lines = 0;
    while (std::getline(in, line)) {
        EXPECT_LE(line.size(), 80U) << line;
        ++lines;
    }
    EXPECT_GE(lines, 10U);
    EXPECT_NE(text.find("cache hit 90.0%  batch fill 10.0 of 32"), std::string::npos) << text;
    EXPECT_NE(text.find("[2001:db8::7]:8001"), std::string::npos) << text;
    EXPECT_NE(text.find("xxxxxxxxxxx~ 203.0.113.5:8000"), std::string::npos) << text;
    EXPECT_NE(text.find("400.0M"), std::string::npos) << text;  // packets/s to the backend
    EXPECT_NE(text.find("q quits"), std::string::npos);
}

TEST(Top, JsonLine) {
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    const auto j = to_json(compute(sample(t0, 1), sample(t0 + milliseconds(1000), 2)));
    EXPECT_EQ(j["generation"], 4);
    EXPECT_EQ(j["flows"], 7);
    EXPECT_DOUBLE_EQ(j["cache_hit_rate"].get<double>(), 0.9);
    EXPECT_EQ(j["backends"][0]["backend"], "203.0.113.5:8000");
    EXPECT_DOUBLE_EQ(j["backends"][0]["pkts_per_s_to"].get<double>(), 400.0);
    EXPECT_DOUBLE_EQ(j["backends"][0]["bytes_per_s_from"].get<double>(), 10000.0);
    EXPECT_EQ(j["rules"][0]["name"], "p2p");
    EXPECT_TRUE(j["rules"][1]["name"].is_null());
    EXPECT_DOUBLE_EQ(j["rules"][1]["matches_per_s"].get<double>(), 2.0);
}

}  // namespace
}  // namespace mutexctl::top
