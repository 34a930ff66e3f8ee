// SPDX-License-Identifier: GPL-2.0
// `mutexctl top`: what the module does now, from two samples an interval apart. Pure: the
// samples are taken and the screen is drawn by the caller (cli.cpp, main.cpp); this turns two
// samples into rates and the rates into an 80-column screen or one JSON line.
//
//   per backend: its state, open flows, packets/s and bytes/s each way;
//   per rule: matches/s and matches in all;
//   the namespace: steered packets/s and bytes/s, new flows/s, the per-CPU cache's hit rate and
//   how full the accounting batches fold.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/format.hpp"

namespace mutexctl::top {

/// What one refresh reads.
struct Sample {
    std::chrono::steady_clock::time_point at;
    mutex::Stats stats;
    mutex::Params params;
    mutex::ConfigSnapshot config;
};

struct BackendRow {
    std::string pool;
    std::string backend;  // "ADDRESS:PORT", "[ADDRESS]:PORT" or "port N"
    std::string state;
    std::uint64_t active_flows = 0;
    double pkts_to = 0;  // per second, towards the backend
    double pkts_from = 0;
    double bytes_to = 0;
    double bytes_from = 0;
};

struct RuleRow {
    std::size_t index = 0;
    std::optional<std::string> name;
    double matches_per_s = 0;
    std::uint64_t matches = 0;
};

struct View {
    double seconds = 0;  // between the samples
    std::uint64_t generation = 0;
    std::uint64_t flows = 0;
    std::optional<std::uint32_t> max_conns;
    double pkts_per_s = 0;
    double bytes_per_s = 0;
    double new_flows_per_s = 0;
    double dropped_per_s = 0;
    std::optional<double> cache_hit_rate;  // no lookups: none
    std::optional<double> batch_fill;      // packets per fold; no folds: none
    std::optional<std::uint32_t> batch_size;
    std::vector<BackendRow> backends;
    std::vector<RuleRow> rules;
};

/// The rates between `prev` and `cur`. A backend or rule new in `cur` (a configuration replaced
/// meanwhile) gets its rates from zero; counters that went back (the module loaded again) give
/// rate 0.
View compute(const Sample& prev, const Sample& cur);

/// The screen: at most `width` columns a line (80 is enough for everything), then as many
/// lines as there are backends and rules.
std::string screen(const View& view, std::size_t width = 80);

/// One JSON object for `-j`.
mutex::format::Json to_json(const View& view);

}  // namespace mutexctl::top
