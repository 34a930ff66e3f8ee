// SPDX-License-Identifier: GPL-2.0
// mutexd's metrics in the Prometheus text format (version 0.0.4): what the kernel answered
// (GET_INFO, GET_STATS, GET_CONFIG) and what the daemon keeps (health checks, reloads, tuning)
// rendered into one scrape. Pure: the HTTP server and the kernel reads are elsewhere
// (metrics/http_server, metrics/kernel_reader); this turns numbers into text.
//
// Names follow Prometheus conventions: the mutex_proxy_ prefix, _total on counters, base units
// (_bytes, _seconds), no per-flow label. A backend is labelled {pool, backend}, backend being
// "ADDRESS:PORT" ("[ADDRESS]:PORT" for IPv6) or "local:PORT" for a port of this node; a rule
// {rule} by its name, "#N" (its 1-based place) when it has none, "NAME#N" when several rules
// share the name. The README lists every family.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"

namespace mutexd::metrics {

/// A Prometheus histogram: counts per upper bound (not cumulative here; the text is).
class Histogram {
public:
    /// Upper bounds, ascending; +Inf is implicit.
    explicit Histogram(std::vector<double> bounds);
    /// The default buckets of health-check durations, in seconds: 1 ms to 10 s.
    static Histogram check_durations();

    void observe(double value);

    [[nodiscard]] const std::vector<double>& bounds() const noexcept { return bounds_; }
    /// counts()[i]: observations in (bounds[i-1], bounds[i]]; the last is above every bound.
    [[nodiscard]] const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }
    [[nodiscard]] double sum() const noexcept { return sum_; }
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_;
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

/// A backend as the metrics name it.
struct BackendKey {
    std::string pool;
    std::string backend;  // backend_label()

    bool operator==(const BackendKey&) const = default;
    bool operator<(const BackendKey& other) const {
        return std::tie(pool, backend) < std::tie(other.pool, other.backend);
    }
};

/// "ADDRESS:PORT", "[ADDRESS]:PORT" or "local:PORT".
std::string backend_label(const mutex::config::Backend& backend);

/// The health checks of one backend, as the daemon ran them.
struct CheckRecord {
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    double last_seconds = 0;  // how long the last check took
    bool healthy = true;      // the daemon's verdict (rise/fall applied)
};

/// What the daemon itself counts. Keyed by names, so it outlives a reload that reorders pools.
struct DaemonState {
    std::string version;
    std::uint64_t generation = 0;  // the generation the daemon last applied or took over
    std::uint64_t reloads_ok = 0;
    std::uint64_t reloads_failed = 0;
    std::map<BackendKey, CheckRecord> checks;        // only backends that are checked
    std::map<std::string, Histogram> check_seconds;  // per pool
    /// Parameter changes of the tuning policy: (parameter, reason) -> how many.
    std::map<std::pair<std::string, std::string>, std::uint64_t> tuning_actions;
    std::uint64_t event_resyncs = 0;  // full re-reads after the event socket overran
};

/// What one scrape read from the kernel.
struct KernelState {
    mutex::Info info;
    mutex::Stats stats;
    mutex::ConfigSnapshot config;
};

/// The label of each rule, parallel to `rules`.
std::vector<std::string> rule_labels(const std::vector<mutex::config::Rule>& rules);

/// The whole scrape. `kernel` is nullopt when the kernel could not be read (the daemon's own
/// families are still rendered, with mutex_proxy_kernel_up 0).
std::string render(const std::optional<KernelState>& kernel, const DaemonState& daemon);

/// The Content-Type of render()'s text.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace mutexd::metrics
