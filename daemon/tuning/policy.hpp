// SPDX-License-Identifier: GPL-2.0
// The run-time tuning policy: from one window of the module's statistics (the deltas over one
// [tuning] interval) and the parameters now, the changes to make to perf_cache_size and
// perf_batch_size, each with its reason. Pure: the daemon reads the statistics, applies the
// changes (SET_PARAMS), logs and counts them.
//
//   perf_cache_size grows (doubles, or jumps to the flow count's power of two) when the
//     per-CPU cache's hit rate is low while the table holds more flows than the cache has
//     entries, for `confirm` windows in a row; it shrinks (halves, never below twice the flows)
//     when the flows fill less than a quarter of it for `idle` windows in a row.
//   perf_batch_size grows (doubles) when the steered packet rate is high and the batches fold
//     nearly full, for `confirm` windows in a row; it shrinks (halves) when the folds are mostly
//     partial for `idle` windows in a row.
//
// Never outside the configured bounds (a value found outside them is brought back first). A
// parameter changed in one direction is not changed in the other for `cooldown` windows, and
// the thresholds leave a dead band between growing and shrinking: no oscillation. A cache of
// size 0 or batching switched off is the operator's choice and left alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libmutex/config.hpp"

namespace mutexd::tuning {

/// One window: counter deltas over `elapsed`, and the table's flows at its end.
struct Window {
    std::chrono::milliseconds elapsed{0};
    std::uint64_t cache_hits = 0;
    std::uint64_t cache_misses = 0;
    std::uint64_t pkts_steered = 0;
    std::uint64_t batch_flushes = 0;
    std::uint64_t flow_count = 0;  // a gauge: the flows in the table now
};

/// The parameters the policy acts on, as the module has them now.
struct Current {
    std::uint32_t cache_size = 0;  // perf_cache_size; 0: no cache (left alone)
    std::uint32_t batch_size = 1;  // perf_batch_size
    bool batching = true;          // perf_enable_batching; off: batch size left alone
};

struct Thresholds {
    double grow_hit_rate = 0.80;       // below it (and more flows than entries): grow
    std::uint64_t min_lookups = 1000;  // fewer lookups in a window say nothing of the hit rate
    std::uint64_t idle_divisor = 4;    // flows * 4 < entries: the cache is mostly idle
    double high_pps = 20000;           // steered packets per second that make batching pay
    double full_fill = 0.75;           // folds of at least 3/4 of the batch: batches fill
    double partial_fill = 0.25;        // folds of under 1/4: mostly partial
    std::uint64_t min_folds = 100;     // fewer folds in a window say nothing of their fill
    unsigned confirm = 2;              // windows in a row before growing
    unsigned idle = 3;                 // windows in a row before shrinking
    unsigned cooldown = 3;             // windows after a change before one the other way

    bool operator==(const Thresholds&) const = default;
};

/// One parameter change.
struct Action {
    std::string parameter;  // "perf_cache_size", "perf_batch_size"
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    std::string reason;  // a label for metrics: "hit_rate_low", "cache_idle", "batches_full",
                         // "batches_partial", "outside_bounds"
    std::string detail;  // for the log: the numbers behind it

    bool operator==(const Action&) const = default;
};

class Policy {
public:
    explicit Policy(const mutex::config::TuningSettings& bounds, Thresholds thresholds = {});

    /// The changes one window asks for (none, one or both parameters).
    std::vector<Action> decide(const Window& window, const Current& now);

private:
    /// Hysteresis of one parameter.
    struct Track {
        unsigned grow_streak = 0;
        unsigned shrink_streak = 0;
        int last_direction = 0;            // +1 grew, -1 shrank, 0 never changed
        unsigned since_change = 1U << 30;  // windows since the last change
    };

    std::optional<Action> decide_cache(const Window& w, std::uint32_t size);
    std::optional<Action> decide_batch(const Window& w, std::uint32_t size);
    /// Whether `track` may move in `direction` now; counts the change if so.
    bool allow(Track& track, int direction, unsigned streak, unsigned needed) const;

    mutex::config::TuningSettings bounds_;
    Thresholds thresholds_;
    Track cache_;
    Track batch_;
};

}  // namespace mutexd::tuning
