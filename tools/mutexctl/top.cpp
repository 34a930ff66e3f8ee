// SPDX-License-Identifier: GPL-2.0
#include "mutexctl/top.hpp"

#include <array>
#include <cstdio>
#include <map>
#include <utility>

namespace mutexctl::top {

namespace cfg = mutex::config;

namespace {

/// after - before, or 0 when the counter went back (the module was loaded again).
std::uint64_t delta(std::uint64_t before, std::uint64_t after) {
    return after >= before ? after - before : 0;
}

double rate(std::uint64_t before, std::uint64_t after, double seconds) {
    return seconds > 0 ? static_cast<double>(delta(before, after)) / seconds : 0;
}

/// "950", "12.3k", "4.5M", "1.2G": at most 6 characters.
std::string si(double value) {
    std::array<char, 32> buf{};
    static constexpr std::array<const char*, 5> kUnits{"", "k", "M", "G", "T"};
    std::size_t unit = 0;
    while (value >= 999.5 && unit + 1 < kUnits.size()) {
        value /= 1000;
        ++unit;
    }
    static_cast<void>(std::snprintf(buf.data(), buf.size(), unit == 0 ? "%.0f%s" : "%.1f%s", value,
                                    kUnits.at(unit)));
    return buf.data();
}

/// `text` cut to `width` characters (the last one "~" when cut) and padded to it.
std::string fit(const std::string& text, std::size_t width, bool right = false) {
    std::string s = text.size() > width ? text.substr(0, width - 1) + "~" : text;
    const std::string pad(width - s.size(), ' ');
    return right ? pad + s : s + pad;
}

std::string percent(double share) {
    std::array<char, 16> buf{};
    static_cast<void>(std::snprintf(buf.data(), buf.size(), "%.1f%%", share * 100));
    return buf.data();
}

std::string one_decimal(double value) {
    std::array<char, 32> buf{};
    static_cast<void>(std::snprintf(buf.data(), buf.size(), "%.1f", value));
    return buf.data();
}

}  // namespace

View compute(const Sample& prev, const Sample& cur) {
    View v;
    v.seconds = std::chrono::duration<double>(cur.at - prev.at).count();
    const double s = v.seconds;
    v.generation = cur.config.generation;
    v.flows = cur.stats.flow_count;
    v.max_conns = cur.params.max_conns;
    v.batch_size = cur.params.batch_size;
    v.pkts_per_s = rate(prev.stats.pkts_steered, cur.stats.pkts_steered, s);
    v.bytes_per_s = rate(prev.stats.bytes_steered, cur.stats.bytes_steered, s);
    v.new_flows_per_s = rate(prev.stats.flows_new, cur.stats.flows_new, s);
    v.dropped_per_s = rate(prev.stats.flows_dropped, cur.stats.flows_dropped, s);
    const std::uint64_t hits = delta(prev.stats.cache_hits, cur.stats.cache_hits);
    const std::uint64_t misses = delta(prev.stats.cache_misses, cur.stats.cache_misses);
    if (hits + misses > 0) {
        v.cache_hit_rate = static_cast<double>(hits) / static_cast<double>(hits + misses);
    }
    const std::uint64_t folds = delta(prev.stats.batch_flushes, cur.stats.batch_flushes);
    const std::uint64_t folded = delta(prev.stats.pkts_steered, cur.stats.pkts_steered);
    if (folds > 0) {
        v.batch_fill = static_cast<double>(folded) / static_cast<double>(folds);
    }

    // Backends are matched by pool name and identity, rules by place and name.
    using Key = std::pair<std::string, std::string>;  // pool, mutex::format::backend_endpoint()
    std::map<Key, mutex::BackendCounters> before;
    for (std::size_t p = 0; p < prev.config.config.pools.size(); ++p) {
        const auto& pool = prev.config.config.pools[p];
        for (std::size_t b = 0; b < pool.backends.size(); ++b) {
            if (p < prev.config.counters.size() && b < prev.config.counters[p].size()) {
                before[{pool.name, mutex::format::backend_endpoint(pool.backends[b])}] =
                    prev.config.counters[p][b];
            }
        }
    }
    for (std::size_t p = 0; p < cur.config.config.pools.size(); ++p) {
        const auto& pool = cur.config.config.pools[p];
        for (std::size_t b = 0; b < pool.backends.size(); ++b) {
            const auto& backend = pool.backends[b];
            const mutex::BackendCounters now =
                p < cur.config.counters.size() && b < cur.config.counters[p].size()
                    ? cur.config.counters[p][b]
                    : mutex::BackendCounters{};
            const auto it = before.find({pool.name, mutex::format::backend_endpoint(backend)});
            const mutex::BackendCounters then =
                it != before.end() ? it->second : mutex::BackendCounters{};
            BackendRow row;
            row.pool = pool.name;
            row.backend = mutex::format::backend_endpoint(backend);
            row.state = std::string(cfg::to_string(backend.state));
            row.active_flows = now.active_flows;
            row.pkts_from = rate(then.pkts_reply, now.pkts_reply, s);
            row.bytes_from = rate(then.bytes_reply, now.bytes_reply, s);
            row.pkts_to = rate(then.pkts - then.pkts_reply, now.pkts - now.pkts_reply, s);
            row.bytes_to = rate(then.bytes - then.bytes_reply, now.bytes - now.bytes_reply, s);
            v.backends.push_back(std::move(row));
        }
    }
    for (std::size_t r = 0; r < cur.config.config.rules.size(); ++r) {
        RuleRow row;
        row.index = r;
        row.name = cur.config.config.rules[r].name;
        row.matches = r < cur.config.rule_matches.size() ? cur.config.rule_matches[r] : 0;
        const bool same = r < prev.config.config.rules.size() &&
                          prev.config.config.rules[r].name == row.name &&
                          r < prev.config.rule_matches.size();
        row.matches_per_s = rate(same ? prev.config.rule_matches[r] : 0, row.matches, s);
        v.rules.push_back(std::move(row));
    }
    return v;
}

std::string screen(const View& v, std::size_t width) {
    std::vector<std::string> lines;
    lines.push_back("mutex_proxy  generation " + std::to_string(v.generation) + "  flows " +
                    std::to_string(v.flows) +
                    (v.max_conns ? "/" + std::to_string(*v.max_conns) : std::string()) +
                    "  every " + one_decimal(v.seconds) + " s");
    lines.push_back("steered " + si(v.pkts_per_s) + " pkt/s " + si(v.bytes_per_s) +
                    "B/s  new flows " + si(v.new_flows_per_s) + "/s  dropped " +
                    si(v.dropped_per_s) + "/s");
    lines.push_back("cache hit " + (v.cache_hit_rate ? percent(*v.cache_hit_rate) : "-") +
                    "  batch fill " + (v.batch_fill ? one_decimal(*v.batch_fill) : "-") +
                    (v.batch_size ? " of " + std::to_string(*v.batch_size) : std::string()));
    lines.emplace_back();
    // 12 + 22 + 5 + 6 + 4 x 7, single spaces: 80 columns.
    lines.push_back(fit("POOL", 12) + " " + fit("BACKEND", 22) + " " + fit("STATE", 5) + " " +
                    fit("FLOWS", 6, true) + " " + fit("PKT/s>", 7, true) + " " +
                    fit("PKT/s<", 7, true) + " " + fit("B/s>", 7, true) + " " +
                    fit("B/s<", 7, true));
    for (const auto& b : v.backends) {
        lines.push_back(fit(b.pool, 12) + " " + fit(b.backend, 22) + " " + fit(b.state, 5) + " " +
                        fit(si(static_cast<double>(b.active_flows)), 6, true) + " " +
                        fit(si(b.pkts_to), 7, true) + " " + fit(si(b.pkts_from), 7, true) + " " +
                        fit(si(b.bytes_to), 7, true) + " " + fit(si(b.bytes_from), 7, true));
    }
    if (v.backends.empty()) {
        lines.emplace_back("(no pools)");
    }
    lines.emplace_back();
    lines.push_back(fit("RULE", 52) + " " + fit("MATCH/s", 12, true) + " " +
                    fit("MATCHES", 14, true));
    for (const auto& r : v.rules) {
        const std::string label = "#" + std::to_string(r.index + 1) + (r.name ? " " + *r.name : "");
        lines.push_back(fit(label, 52) + " " + fit(si(r.matches_per_s), 12, true) + " " +
                        fit(std::to_string(r.matches), 14, true));
    }
    if (v.rules.empty()) {
        lines.emplace_back("(no rules)");
    }
    lines.emplace_back();
    lines.emplace_back("> to the backend, < from it; q quits");
    std::string out;
    for (auto& line : lines) {
        if (line.size() > width) {
            line.resize(width);
        }
        out += line;
        out += '\n';
    }
    return out;
}

mutex::format::Json to_json(const View& v) {
    using Json = mutex::format::Json;
    Json j;
    j["interval_s"] = v.seconds;
    j["generation"] = v.generation;
    j["flows"] = v.flows;
    j["pkts_per_s"] = v.pkts_per_s;
    j["bytes_per_s"] = v.bytes_per_s;
    j["new_flows_per_s"] = v.new_flows_per_s;
    j["dropped_per_s"] = v.dropped_per_s;
    j["cache_hit_rate"] = v.cache_hit_rate ? Json(*v.cache_hit_rate) : Json(nullptr);
    j["batch_fill"] = v.batch_fill ? Json(*v.batch_fill) : Json(nullptr);
    j["batch_size"] = v.batch_size ? Json(*v.batch_size) : Json(nullptr);
    Json backends = Json::array();
    for (const auto& b : v.backends) {
        backends.push_back({{"pool", b.pool},
                            {"backend", b.backend},
                            {"state", b.state},
                            {"active_flows", b.active_flows},
                            {"pkts_per_s_to", b.pkts_to},
                            {"pkts_per_s_from", b.pkts_from},
                            {"bytes_per_s_to", b.bytes_to},
                            {"bytes_per_s_from", b.bytes_from}});
    }
    j["backends"] = std::move(backends);
    Json rules = Json::array();
    for (const auto& r : v.rules) {
        rules.push_back({{"index", r.index},
                         {"name", r.name ? Json(*r.name) : Json(nullptr)},
                         {"matches_per_s", r.matches_per_s},
                         {"matches", r.matches}});
    }
    j["rules"] = std::move(rules);
    return j;
}

}  // namespace mutexctl::top
