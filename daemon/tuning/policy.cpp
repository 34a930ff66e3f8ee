// SPDX-License-Identifier: GPL-2.0
#include "tuning/policy.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <string_view>
#include <utility>

namespace mutexd::tuning {

namespace {

std::string percent(double share) {
    std::array<char, 16> buf{};
    static_cast<void>(std::snprintf(buf.data(), buf.size(), "%.0f%%", share * 100));
    return buf.data();
}

std::string decimal(double value) {
    std::array<char, 32> buf{};
    static_cast<void>(std::snprintf(buf.data(), buf.size(), "%.1f", value));
    return buf.data();
}

/// The power of two at least `n` (1 for 0), saturating at 2^31.
std::uint32_t ceil_pow2(std::uint64_t n) {
    return n > (1U << 31)
               ? (1U << 31)
               : std::bit_ceil(static_cast<std::uint32_t>(std::max<std::uint64_t>(n, 1)));
}

/// The change that brings `size` into lo..hi, if it is outside.
std::optional<Action> into_bounds(std::string_view parameter, std::uint32_t size, std::uint32_t lo,
                                  std::uint32_t hi) {
    if (size >= lo && size <= hi) {
        return std::nullopt;
    }
    return Action{std::string(parameter), size, std::clamp(size, lo, hi), "outside_bounds",
                  std::to_string(size) + " is outside [tuning] " + std::to_string(lo) + ".." +
                      std::to_string(hi)};
}

}  // namespace

Policy::Policy(const mutex::config::TuningSettings& bounds, Thresholds thresholds)
    : bounds_(bounds), thresholds_(thresholds) {}

std::vector<Action> Policy::decide(const Window& window, const Current& now) {
    ++cache_.since_change;
    ++batch_.since_change;
    std::vector<Action> out;
    if (now.cache_size != 0) {
        if (auto a = decide_cache(window, now.cache_size)) {
            out.push_back(std::move(*a));
        }
    }
    if (now.batching) {
        if (auto a = decide_batch(window, now.batch_size)) {
            out.push_back(std::move(*a));
        }
    }
    return out;
}

bool Policy::allow(Track& track, int direction, unsigned streak, unsigned needed) const {
    if (streak < needed) {
        return false;
    }
    if (track.last_direction == -direction && track.since_change <= thresholds_.cooldown) {
        return false;
    }
    track.last_direction = direction;
    track.since_change = 0;
    track.grow_streak = 0;
    track.shrink_streak = 0;
    return true;
}

std::optional<Action> Policy::decide_cache(const Window& w, std::uint32_t size) {
    const std::uint32_t lo = bounds_.cache_size_min;
    const std::uint32_t hi = bounds_.cache_size_max;
    if (auto a = into_bounds("perf_cache_size", size, lo, hi)) {
        cache_ = Track{};
        return a;
    }
    const std::uint64_t lookups = w.cache_hits + w.cache_misses;
    const double hit_rate =
        lookups == 0 ? 1.0 : static_cast<double>(w.cache_hits) / static_cast<double>(lookups);
    const bool low = lookups >= thresholds_.min_lookups && hit_rate < thresholds_.grow_hit_rate &&
                     w.flow_count > size;
    const bool idle = w.flow_count * thresholds_.idle_divisor < size &&
                      (lookups < thresholds_.min_lookups || hit_rate >= thresholds_.grow_hit_rate);
    cache_.grow_streak = low ? cache_.grow_streak + 1 : 0;
    cache_.shrink_streak = idle ? cache_.shrink_streak + 1 : 0;
    if (low && size < hi && allow(cache_, +1, cache_.grow_streak, thresholds_.confirm)) {
        const std::uint32_t to = std::min(hi, std::max(size * 2, ceil_pow2(w.flow_count)));
        return Action{"perf_cache_size", size, to, "hit_rate_low",
                      "hit rate " + percent(hit_rate) + " of " + std::to_string(lookups) +
                          " lookups, " + std::to_string(w.flow_count) + " flows for " +
                          std::to_string(size) + " entries"};
    }
    if (idle && size > lo) {
        const std::uint32_t to = std::max({lo, size / 2, ceil_pow2(w.flow_count * 2)});
        if (to < size && allow(cache_, -1, cache_.shrink_streak, thresholds_.idle)) {
            return Action{"perf_cache_size", size, to, "cache_idle",
                          std::to_string(w.flow_count) + " flows for " + std::to_string(size) +
                              " entries over " + std::to_string(thresholds_.idle) + " intervals"};
        }
    }
    return std::nullopt;
}

std::optional<Action> Policy::decide_batch(const Window& w, std::uint32_t size) {
    const std::uint32_t lo = bounds_.batch_size_min;
    const std::uint32_t hi = bounds_.batch_size_max;
    if (auto a = into_bounds("perf_batch_size", size, lo, hi)) {
        batch_ = Track{};
        return a;
    }
    const double seconds = std::chrono::duration<double>(w.elapsed).count();
    const double pps = seconds > 0 ? static_cast<double>(w.pkts_steered) / seconds : 0;
    const bool measured = w.batch_flushes >= thresholds_.min_folds;
    const double fill = w.batch_flushes == 0 ? 0
                                             : static_cast<double>(w.pkts_steered) /
                                                   static_cast<double>(w.batch_flushes);
    const bool full = measured && pps >= thresholds_.high_pps &&
                      fill >= thresholds_.full_fill * static_cast<double>(size);
    const bool partial = measured && fill < thresholds_.partial_fill * static_cast<double>(size);
    batch_.grow_streak = full ? batch_.grow_streak + 1 : 0;
    batch_.shrink_streak = partial ? batch_.shrink_streak + 1 : 0;
    const std::string numbers = decimal(pps) + " packets/s, folds of " + decimal(fill) +
                                " packets for batches of " + std::to_string(size);
    if (full && size < hi && allow(batch_, +1, batch_.grow_streak, thresholds_.confirm)) {
        return Action{"perf_batch_size", size, std::min(hi, size * 2), "batches_full", numbers};
    }
    if (partial && size > lo && allow(batch_, -1, batch_.shrink_streak, thresholds_.idle)) {
        return Action{"perf_batch_size", size, std::max(lo, size / 2), "batches_partial", numbers};
    }
    return std::nullopt;
}

}  // namespace mutexd::tuning
