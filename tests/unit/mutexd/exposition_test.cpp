// SPDX-License-Identifier: GPL-2.0
// The Prometheus text mutexd serves: every sample under its family's TYPE, no series twice,
// counters named _total, values as the kernel answered them (a backend's packets split by
// direction), labels escaped, rules labelled by name (place when unnamed or shared), histogram
// buckets cumulative, and the daemon's own families when the kernel cannot be read.
#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mutexd::metrics {
namespace {

namespace cfg = mutex::config;

KernelState kernel() {
    KernelState k;
    k.info.params.cache_size = 1024;
    k.info.params.batch_size = 32;
    k.stats.pkts_seen = 1000;
    k.stats.flows_steered = 7;
    k.stats.flows_bypassed = 2;
    k.stats.flows_dropped = 1;
    k.stats.cache_hits = 900;
    k.stats.flow_count = 5;
    k.config.generation = 42;
    k.config.config = cfg::parse(R"(
[[pool]]
name = "relays"
  [[pool.backend]]
  address = "203.0.113.5"
  port = 8000
  [[pool.backend]]
  address = "2001:db8::7"
  port = 8001
  state = "drain"
  weight = 3
[[pool]]
name = "local"
  [[pool.backend]]
  port = 1080
[[rule]]
name = "p2p"
protocol = "udp"
action = "dnat"
pool = "relays"
[[rule]]
action = "redirect"
pool = "local"
protocol = "tcp"
[[rule]]
name = "p2p"
action = "bypass"
protocol = "tcp"
)",
                                 "test.toml");
    k.config.counters = {{{.active_flows = 3,
                           .total_flows = 9,
                           .pkts = 100,
                           .bytes = 10000,
                           .pkts_reply = 40,
                           .bytes_reply = 3000},
                          {}},
                         {{.active_flows = 1, .total_flows = 1, .pkts = 2, .bytes = 120}}};
    k.config.rule_matches = {6, 1, 2};
    return k;
}

DaemonState daemon() {
    DaemonState d;
    d.version = "0.1.0";
    d.generation = 42;
    d.reloads_ok = 2;
    d.reloads_failed = 1;
    d.checks[{"relays", "203.0.113.5:8000"}] = {
        .ok = 10, .failed = 3, .last_seconds = 0.004, .healthy = false};
    auto h = Histogram::check_durations();
    h.observe(0.004);
    h.observe(0.005);  // on a bound: counted in that bucket (le is inclusive)
    h.observe(30);     // above every bound
    d.check_seconds.emplace("relays", h);
    d.tuning_actions[{"perf_cache_size", "hit rate low"}] = 2;
    return d;
}

/// The text as series -> value, after checking its shape: every line a comment or a sample,
/// HELP and TYPE once per family and before its samples, each sample under the family last
/// typed (a histogram's _bucket, _sum, _count under its own), no series twice, counters _total.
std::map<std::string, std::string> parse(const std::string& text) {
    static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)");
    static const std::regex kType(
        R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
    std::map<std::string, std::string> out;
    std::set<std::string> families;
    std::string family;
    std::string type;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (line.rfind("# HELP ", 0) == 0) {
            continue;
        }
        if (std::regex_match(line, m, kType)) {
            family = m[1];
            type = m[2];
            EXPECT_TRUE(families.insert(family).second) << "family twice: " << family;
            if (type == "counter") {
                EXPECT_TRUE(family.ends_with("_total")) << family;
            }
            continue;
        }
        EXPECT_TRUE(std::regex_match(line, m, kSample)) << "not a sample: " << line;
        const std::string name = m[1];
        if (type == "histogram") {
            EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" ||
                        name == family + "_count")
                << name << " under " << family;
        } else {
            EXPECT_EQ(name, family) << line;
        }
        EXPECT_TRUE(out.emplace(std::string(m[1]) + std::string(m[2]), m[3]).second)
            << "series twice: " << line;
    }
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    return out;
}

TEST(Exposition, KernelCountersAsTheKernelAnswered) {
    const auto s = parse(render(kernel(), daemon()));
    EXPECT_EQ(s.at("mutex_proxy_kernel_up"), "1");
    EXPECT_EQ(s.at("mutex_proxy_packets_seen_total"), "1000");
    EXPECT_EQ(s.at("mutex_proxy_cache_hits_total"), "900");
    EXPECT_EQ(s.at("mutex_proxy_flows_total{outcome=\"steered\"}"), "7");
    EXPECT_EQ(s.at("mutex_proxy_flows_total{outcome=\"bypassed\"}"), "2");
    EXPECT_EQ(s.at("mutex_proxy_flows_total{outcome=\"dropped\"}"), "1");
    EXPECT_EQ(s.at("mutex_proxy_table_flows"), "5");
    EXPECT_EQ(s.at("mutex_proxy_config_generation"), "42");
    EXPECT_EQ(s.at("mutex_proxy_param_perf_cache_size"), "1024");
    EXPECT_EQ(s.at("mutex_proxy_param_perf_batch_size"), "32");
    EXPECT_EQ(s.count("mutex_proxy_param_max_conns"), 0U);  // not answered: not invented
}

TEST(Exposition, BackendsByPoolAndAddressWithTrafficByDirection) {
    const auto s = parse(render(kernel(), daemon()));
    const std::string a = R"(pool="relays",backend="203.0.113.5:8000")";
    EXPECT_EQ(s.at("mutex_proxy_backend_active_flows{" + a + "}"), "3");
    EXPECT_EQ(s.at("mutex_proxy_backend_flows_total{" + a + "}"), "9");
    EXPECT_EQ(s.at("mutex_proxy_backend_packets_total{" + a + R"(,direction="to_backend"})"), "60");
    EXPECT_EQ(s.at("mutex_proxy_backend_packets_total{" + a + R"(,direction="from_backend"})"),
              "40");
    EXPECT_EQ(s.at("mutex_proxy_backend_bytes_total{" + a + R"(,direction="to_backend"})"), "7000");
    EXPECT_EQ(s.at("mutex_proxy_backend_bytes_total{" + a + R"(,direction="from_backend"})"),
              "3000");
    EXPECT_EQ(s.at("mutex_proxy_backend_state{" + a + R"(,state="up"})"), "1");
    EXPECT_EQ(s.at("mutex_proxy_backend_state{" + a + R"(,state="down"})"), "0");
    const std::string v6 = R"(pool="relays",backend="[2001:db8::7]:8001")";
    EXPECT_EQ(s.at("mutex_proxy_backend_state{" + v6 + R"(,state="drain"})"), "1");
    EXPECT_EQ(s.at("mutex_proxy_backend_weight{" + v6 + "}"), "3");
    EXPECT_EQ(s.at(R"(mutex_proxy_backend_active_flows{pool="local",backend="local:1080"})"), "1");
}

TEST(Exposition, RulesByNamePlaceWhenUnnamedOrShared) {
    const auto s = parse(render(kernel(), daemon()));
    EXPECT_EQ(s.at(R"(mutex_proxy_rule_matches_total{rule="p2p#1"})"), "6");
    EXPECT_EQ(s.at(R"(mutex_proxy_rule_matches_total{rule="#2"})"), "1");
    EXPECT_EQ(s.at(R"(mutex_proxy_rule_matches_total{rule="p2p#3"})"), "2");
    cfg::Rule named;
    named.name = "solana";
    EXPECT_EQ(rule_labels({named, cfg::Rule{}}), (std::vector<std::string>{"solana", "#2"}));
}

TEST(Exposition, DaemonFamiliesChecksAndHistogram) {
    const auto s = parse(render(kernel(), daemon()));
    EXPECT_EQ(s.at(R"(mutex_proxy_build_info{version="0.1.0"})"), "1");
    EXPECT_EQ(s.at(R"(mutex_proxy_config_reloads_total{result="ok"})"), "2");
    EXPECT_EQ(s.at(R"(mutex_proxy_config_reloads_total{result="failed"})"), "1");
    const std::string a = R"(pool="relays",backend="203.0.113.5:8000")";
    EXPECT_EQ(s.at("mutex_proxy_backend_healthy{" + a + "}"), "0");
    EXPECT_EQ(s.at("mutex_proxy_backend_check_latency_seconds{" + a + "}"), "0.004");
    EXPECT_EQ(s.at("mutex_proxy_backend_checks_total{" + a + R"(,result="ok"})"), "10");
    EXPECT_EQ(s.at("mutex_proxy_backend_checks_total{" + a + R"(,result="failed"})"), "3");
    const std::string h = "mutex_proxy_health_check_duration_seconds";
    EXPECT_EQ(s.at(h + R"(_bucket{pool="relays",le="0.0025"})"), "0");
    EXPECT_EQ(s.at(h + R"(_bucket{pool="relays",le="0.005"})"), "2");
    EXPECT_EQ(s.at(h + R"(_bucket{pool="relays",le="10"})"), "2");
    EXPECT_EQ(s.at(h + R"(_bucket{pool="relays",le="+Inf"})"), "3");
    EXPECT_EQ(s.at(h + R"(_count{pool="relays"})"), "3");
    EXPECT_EQ(s.at(h + R"(_sum{pool="relays"})"), "30.009");
    EXPECT_EQ(
        s.at(
            R"(mutex_proxy_tuning_actions_total{parameter="perf_cache_size",reason="hit rate low"})"),
        "2");
}

TEST(Exposition, WithoutTheKernelTheDaemonStillAnswers) {
    const auto s = parse(render(std::nullopt, daemon()));
    EXPECT_EQ(s.at("mutex_proxy_kernel_up"), "0");
    EXPECT_EQ(s.count("mutex_proxy_packets_seen_total"), 0U);
    EXPECT_EQ(s.at(R"(mutex_proxy_build_info{version="0.1.0"})"), "1");
}

TEST(Exposition, LabelValuesAreEscaped) {
    KernelState k = kernel();
    k.config.config.rules[1].name = R"(a "quoted" \ name)";
    const auto s = parse(render(k, daemon()));
    EXPECT_EQ(s.at(R"(mutex_proxy_rule_matches_total{rule="a \"quoted\" \\ name"})"), "1");
}

TEST(Exposition, HistogramRefusesUnorderedBounds) {
    EXPECT_THROW(Histogram({1.0, 0.5}), std::invalid_argument);
    EXPECT_THROW(Histogram({1.0, 1.0}), std::invalid_argument);
}

}  // namespace
}  // namespace mutexd::metrics
