// SPDX-License-Identifier: GPL-2.0
#include "metrics/exposition.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <stdexcept>

#include "libmutex/format.hpp"

namespace mutexd::metrics {

namespace cfg = mutex::config;

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
        throw std::invalid_argument("histogram bounds must ascend");
    }
}

Histogram Histogram::check_durations() {
    return Histogram({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

void Histogram::observe(double value) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    sum_ += value;
    ++count_;
}

std::string backend_label(const cfg::Backend& backend) {
    if (!backend.address) {
        return "local:" + std::to_string(backend.port);
    }
    return mutex::format::endpoint({*backend.address, backend.port});
}

std::vector<std::string> rule_labels(const std::vector<cfg::Rule>& rules) {
    std::map<std::string, unsigned> uses;
    for (const auto& rule : rules) {
        if (rule.name) {
            ++uses[*rule.name];
        }
    }
    std::vector<std::string> out;
    out.reserve(rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const std::string place = "#" + std::to_string(i + 1);
        if (!rules[i].name) {
            out.push_back(place);
        } else if (uses[*rules[i].name] > 1) {
            out.push_back(*rules[i].name + place);
        } else {
            out.push_back(*rules[i].name);
        }
    }
    return out;
}

namespace {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// The text being built: one family (HELP, TYPE) and then its samples.
class Text {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        for (const char c : help) {
            out_ += c == '\n'   ? std::string_view("\\n")
                    : c == '\\' ? std::string_view("\\\\")
                                : std::string_view(&c, 1);
        }
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    void sample(std::string_view name, Labels labels, std::uint64_t value) {
        head(name, labels);
        out_ += std::to_string(value);
        out_ += '\n';
    }

    void sample(std::string_view name, Labels labels, double value) {
        head(name, labels);
        out_ += number(value);
        out_ += '\n';
    }

    static std::string number(double value) {
        if (std::isinf(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        std::array<char, 32> buf{};
        const int n = std::snprintf(buf.data(), buf.size(), "%.9g", value);
        return {buf.data(), static_cast<std::size_t>(std::max(n, 0))};
    }

    std::string take() { return std::move(out_); }

private:
    void head(std::string_view name, Labels labels) {
        out_ += name;
        if (labels.size() != 0) {
            out_ += '{';
            bool first = true;
            for (const auto& [key, value] : labels) {
                if (!first) {
                    out_ += ',';
                }
                first = false;
                out_ += key;
                out_ += "=\"";
                for (const char c : value) {
                    if (c == '\\' || c == '"') {
                        out_ += '\\';
                        out_ += c;
                    } else if (c == '\n') {
                        out_ += "\\n";
                    } else {
                        out_ += c;
                    }
                }
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
    }

    std::string out_;
};

/// A namespace counter of GET_STATS and its metric.
struct StatMetric {
    std::uint64_t mutex::Stats::*member;
    std::string_view name;
    std::string_view help;
};

constexpr std::array kStatMetrics{
    StatMetric{&mutex::Stats::pkts_seen, "mutex_proxy_packets_seen_total",
               "Packets the module's hooks looked at."},
    StatMetric{&mutex::Stats::pkts_steered, "mutex_proxy_packets_steered_total",
               "Packets of steered flows, both directions."},
    StatMetric{&mutex::Stats::bytes_steered, "mutex_proxy_steered_bytes_total",
               "Bytes of steered flows, both directions."},
    StatMetric{&mutex::Stats::flows_new, "mutex_proxy_flows_new_total",
               "New connections the rules were asked about."},
    StatMetric{&mutex::Stats::cache_hits, "mutex_proxy_cache_hits_total",
               "Per-CPU flow cache hits."},
    StatMetric{&mutex::Stats::cache_misses, "mutex_proxy_cache_misses_total",
               "Per-CPU flow cache misses (the connection table was searched)."},
    StatMetric{&mutex::Stats::table_inserts, "mutex_proxy_table_inserts_total",
               "Flows inserted into the connection table."},
    StatMetric{&mutex::Stats::table_evictions, "mutex_proxy_table_evictions_total",
               "Flows removed from the connection table."},
    StatMetric{&mutex::Stats::table_full, "mutex_proxy_table_full_total",
               "Flows refused because the table held max_conns flows."},
    StatMetric{&mutex::Stats::alloc_fails, "mutex_proxy_alloc_failures_total",
               "Flow allocations that failed."},
    StatMetric{&mutex::Stats::batch_flushes, "mutex_proxy_batch_flushes_total",
               "Folds of batched per-CPU counters."},
    StatMetric{&mutex::Stats::events_sent, "mutex_proxy_events_sent_total",
               "Event messages sent to the multicast groups."},
    StatMetric{&mutex::Stats::events_lost, "mutex_proxy_events_lost_total",
               "Events that could not be sent."},
    StatMetric{&mutex::Stats::flows_adopted, "mutex_proxy_flows_adopted_total",
               "Connections steered by an earlier load of the module, taken into its table."},
};

void render_kernel(Text& t, const KernelState& k) {
    for (const auto& m : kStatMetrics) {
        t.family(m.name, "counter", m.help);
        t.sample(m.name, {}, k.stats.*m.member);
    }
    t.family("mutex_proxy_flows_total", "counter",
             "New connections by what the rules decided: steered, bypassed or dropped.");
    t.sample("mutex_proxy_flows_total", {{"outcome", "steered"}}, k.stats.flows_steered);
    t.sample("mutex_proxy_flows_total", {{"outcome", "bypassed"}}, k.stats.flows_bypassed);
    t.sample("mutex_proxy_flows_total", {{"outcome", "dropped"}}, k.stats.flows_dropped);
    t.family("mutex_proxy_table_flows", "gauge", "Flows in the connection table.");
    t.sample("mutex_proxy_table_flows", {}, k.stats.flow_count);

    for (const auto& field : mutex::kParamFields) {
        const auto& value = k.info.params.*field.member;
        if (!value) {
            continue;
        }
        const std::string name = "mutex_proxy_param_" + std::string(field.name);
        t.family(name, "gauge", "The module parameter " + std::string(field.name) + ".");
        t.sample(name, {}, static_cast<std::uint64_t>(*value));
    }

    t.family("mutex_proxy_config_generation", "gauge",
             "Generation of the configuration the kernel holds.");
    t.sample("mutex_proxy_config_generation", {}, k.config.generation);

    struct Row {
        std::string pool;
        std::string backend;
        const cfg::Backend* config;
        mutex::BackendCounters counters;
    };
    std::vector<Row> rows;
    for (std::size_t p = 0; p < k.config.config.pools.size(); ++p) {
        const auto& pool = k.config.config.pools[p];
        for (std::size_t b = 0; b < pool.backends.size(); ++b) {
            rows.push_back({pool.name, backend_label(pool.backends[b]), &pool.backends[b],
                            p < k.config.counters.size() && b < k.config.counters[p].size()
                                ? k.config.counters[p][b]
                                : mutex::BackendCounters{}});
        }
    }
    const auto per_backend = [&t, &rows](std::string_view name, std::string_view type,
                                         std::string_view help, auto value) {
        t.family(name, type, help);
        for (const auto& r : rows) {
            t.sample(name, {{"pool", r.pool}, {"backend", r.backend}}, value(r));
        }
    };
    per_backend("mutex_proxy_backend_active_flows", "gauge",
                "Flows steered to the backend that are still open.",
                [](const Row& r) { return r.counters.active_flows; });
    per_backend("mutex_proxy_backend_flows_total", "counter", "Flows ever steered to the backend.",
                [](const Row& r) { return r.counters.total_flows; });
    const auto by_direction = [&t, &rows](std::string_view name, std::string_view help,
                                          std::uint64_t mutex::BackendCounters::*all,
                                          std::uint64_t mutex::BackendCounters::*reply) {
        t.family(name, "counter", help);
        for (const auto& r : rows) {
            const std::uint64_t from = r.counters.*reply;
            const std::uint64_t total = r.counters.*all;
            t.sample(name, {{"pool", r.pool}, {"backend", r.backend}, {"direction", "to_backend"}},
                     total >= from ? total - from : 0);
            t.sample(name,
                     {{"pool", r.pool}, {"backend", r.backend}, {"direction", "from_backend"}},
                     from);
        }
    };
    by_direction("mutex_proxy_backend_packets_total",
                 "Packets of the flows steered to the backend, by direction.",
                 &mutex::BackendCounters::pkts, &mutex::BackendCounters::pkts_reply);
    by_direction("mutex_proxy_backend_bytes_total",
                 "Bytes of the flows steered to the backend, by direction.",
                 &mutex::BackendCounters::bytes, &mutex::BackendCounters::bytes_reply);
    t.family("mutex_proxy_backend_state", "gauge",
             "The backend's state in the kernel: 1 for the state it is in.");
    for (const auto& r : rows) {
        for (const auto& [state, name] : cfg::kBackendStateNames) {
            t.sample("mutex_proxy_backend_state",
                     {{"pool", r.pool}, {"backend", r.backend}, {"state", name}},
                     static_cast<std::uint64_t>(r.config->state == state ? 1 : 0));
        }
    }
    per_backend("mutex_proxy_backend_weight", "gauge", "The backend's scheduling weight.",
                [](const Row& r) { return static_cast<std::uint64_t>(r.config->weight); });

    const auto labels = rule_labels(k.config.config.rules);
    t.family("mutex_proxy_rule_matches_total", "counter",
             "New connections each rule decided (the first rule that matched).");
    for (std::size_t i = 0; i < labels.size(); ++i) {
        t.sample("mutex_proxy_rule_matches_total", {{"rule", labels[i]}},
                 i < k.config.rule_matches.size() ? k.config.rule_matches[i] : 0);
    }
}

void render_daemon(Text& t, const DaemonState& d) {
    t.family("mutex_proxy_build_info", "gauge", "mutexd's version; the value is always 1.");
    t.sample("mutex_proxy_build_info", {{"version", d.version}}, std::uint64_t{1});
    t.family("mutex_proxy_daemon_generation", "gauge",
             "Generation mutexd last applied or took over.");
    t.sample("mutex_proxy_daemon_generation", {}, d.generation);
    t.family("mutex_proxy_config_reloads_total", "counter",
             "Reloads of the configuration file, by result.");
    t.sample("mutex_proxy_config_reloads_total", {{"result", "ok"}}, d.reloads_ok);
    t.sample("mutex_proxy_config_reloads_total", {{"result", "failed"}}, d.reloads_failed);

    t.family("mutex_proxy_backend_healthy", "gauge",
             "mutexd's verdict on a checked backend after rise and fall: 1 up, 0 down.");
    for (const auto& [key, record] : d.checks) {
        t.sample("mutex_proxy_backend_healthy", {{"pool", key.pool}, {"backend", key.backend}},
                 static_cast<std::uint64_t>(record.healthy ? 1 : 0));
    }
    t.family("mutex_proxy_backend_check_latency_seconds", "gauge",
             "How long the backend's last health check took.");
    for (const auto& [key, record] : d.checks) {
        t.sample("mutex_proxy_backend_check_latency_seconds",
                 {{"pool", key.pool}, {"backend", key.backend}}, record.last_seconds);
    }
    t.family("mutex_proxy_backend_checks_total", "counter",
             "Health checks of the backend, by result.");
    for (const auto& [key, record] : d.checks) {
        t.sample("mutex_proxy_backend_checks_total",
                 {{"pool", key.pool}, {"backend", key.backend}, {"result", "ok"}}, record.ok);
        t.sample("mutex_proxy_backend_checks_total",
                 {{"pool", key.pool}, {"backend", key.backend}, {"result", "failed"}},
                 record.failed);
    }
    constexpr std::string_view kCheck = "mutex_proxy_health_check_duration_seconds";
    t.family(kCheck, "histogram", "Durations of the health checks, per pool.");
    const std::string bucket = std::string(kCheck) + "_bucket";
    const std::string sum = std::string(kCheck) + "_sum";
    const std::string count = std::string(kCheck) + "_count";
    for (const auto& [pool, h] : d.check_seconds) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.bounds().size(); ++i) {
            cumulative += h.counts()[i];
            const std::string le = Text::number(h.bounds()[i]);
            t.sample(bucket, {{"pool", pool}, {"le", le}}, cumulative);
        }
        t.sample(bucket, {{"pool", pool}, {"le", "+Inf"}}, h.count());
        t.sample(sum, {{"pool", pool}}, h.sum());
        t.sample(count, {{"pool", pool}}, h.count());
    }

    t.family("mutex_proxy_tuning_actions_total", "counter",
             "Parameter changes of the tuning policy, by parameter and reason.");
    for (const auto& [key, n] : d.tuning_actions) {
        t.sample("mutex_proxy_tuning_actions_total",
                 {{"parameter", key.first}, {"reason", key.second}}, n);
    }
    t.family("mutex_proxy_event_resyncs_total", "counter",
             "Full re-reads of the kernel after the event socket overran.");
    t.sample("mutex_proxy_event_resyncs_total", {}, d.event_resyncs);
}

}  // namespace

std::string render(const std::optional<KernelState>& kernel, const DaemonState& daemon) {
    Text t;
    t.family("mutex_proxy_kernel_up", "gauge",
             "1 when this scrape read the module, 0 when it could not.");
    t.sample("mutex_proxy_kernel_up", {}, static_cast<std::uint64_t>(kernel ? 1 : 0));
    if (kernel) {
        render_kernel(t, *kernel);
    }
    render_daemon(t, daemon);
    return t.take();
}

}  // namespace mutexd::metrics
