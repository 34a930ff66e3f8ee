// SPDX-License-Identifier: GPL-2.0
#include "mutexd.hpp"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/takeover.hpp"
#include "events/event_watcher.hpp"
#include "failover/failover.hpp"
#include "health/monitor.hpp"
#include "health/prober.hpp"
#include "interfaces/link_watcher.hpp"
#include "interfaces/resolve.hpp"
#include "libmutex/client.hpp"
#include "libmutex/error.hpp"
#include "libmutex/format.hpp"
#include "libmutex/tuning_record.hpp"
#include "log/logging.hpp"
#include "metrics/exposition.hpp"
#include "metrics/http_server.hpp"
#include "metrics/kernel_reader.hpp"
#include "systemd/notifier.hpp"
#include "tuning/policy.hpp"

namespace mutexd {

namespace {

namespace asio = boost::asio;
namespace cfg = mutex::config;

void log_refusal(const cfg::ConfigError& e) {
    for (const auto& d : e.diagnostics()) {
        spdlog::error("{}", d.to_string());
    }
}

std::string_view health_name(health::Health h) {
    return h == health::Health::up ? "up" : "down";
}

/// No names for the kernel's interface indexes: a configuration read back this way names each
/// interface by its index, as interfaces::by_index() names the file's.
std::optional<std::string> no_name(std::uint32_t /*index*/) {
    return std::nullopt;
}

/// The health of the backends `next` shares with `prev` (same pool name, address and port), up
/// for the new ones.
config::HealthTable carry_health(const cfg::Config& prev, const config::HealthTable& health,
                                 const cfg::Config& next) {
    config::HealthTable out = config::all_up(next);
    for (std::size_t p = 0; p < next.pools.size(); ++p) {
        for (std::size_t q = 0; q < prev.pools.size(); ++q) {
            if (prev.pools[q].name != next.pools[p].name || q >= health.size()) {
                continue;
            }
            for (std::size_t b = 0; b < next.pools[p].backends.size(); ++b) {
                const auto& nb = next.pools[p].backends[b];
                for (std::size_t c = 0; c < prev.pools[q].backends.size(); ++c) {
                    const auto& pb = prev.pools[q].backends[c];
                    if (pb.address == nb.address && pb.port == nb.port && c < health[q].size()) {
                        out[p][b] = health[q][c];
                    }
                }
            }
        }
    }
    return out;
}

class Daemon {
public:
    Daemon(std::string path, cfg::File file, std::optional<int> event_buffer)
        : event_buffer_(event_buffer),
          path_(std::move(path)),
          file_(std::move(file)),
          signals_(io_, SIGTERM, SIGINT, SIGHUP),
          watchdog_(io_),
          reload_timer_(io_),
          inotify_(io_),
          tuning_timer_(io_) {
        metrics_.version = MUTEXD_VERSION;
    }

    int run() {
        links_ = std::make_unique<interfaces::LinkWatcher>(io_, [this] { on_links(); });
        take_over();
        watch_events();
        start_checks();
        start_metrics();
        start_tuning();
        watch_signals();
        watch_file();
        start_watchdog();
        notifier_.ready(status());
        spdlog::info("ready: {}", status());
        io_.run();
        return 0;
    }

private:
    /// At start: keep what the kernel holds if it is this file's configuration, else replace it.
    void take_over() {
        const mutex::ConfigSnapshot held = client_.get_config(no_name);
        const mutex::InterfaceIndexes indexes = resolve(file_.config);
        if (held.generation != 0 &&
            config::same_but_health(interfaces::by_index(file_.config, indexes), held.config)) {
            health_ = config::health_from(file_.config, held.config);
            generation_ = held.generation;
            interfaces_ = indexes;
            spdlog::info(
                "the kernel already holds this configuration (generation {}): taken over, "
                "nothing replaced",
                generation_);
            return;
        }
        health_ = config::all_up(file_.config);
        generation_ = held.generation;
        push("started");
    }

    /// The module's events: a configuration replaced behind mutexd is put back at once; a
    /// backend changed by someone else is logged. An overrun means events were lost: resync.
    void watch_events() {
        try {
            events_ = std::make_unique<events::EventWatcher>(
                io_, [this](const std::vector<mutex::Event>& events) { on_events(events); },
                [this] { on_overrun(); }, event_buffer_);
        } catch (const std::exception& e) {
            spdlog::warn(
                "events: {}; a configuration replaced behind mutexd is seen at its "
                "next change only",
                e.what());
        }
    }

    void on_events(const std::vector<mutex::Event>& events) {
        bool replaced = false;
        for (const auto& ev : events) {
            if (ev.type == mutex::EventType::config && ev.generation &&
                *ev.generation != generation_) {
                replaced = true;
            } else if (ev.type == mutex::EventType::backend && ev.pool && ev.backend) {
                spdlog::debug("event: pool {} backend {}: {} weight {}", *ev.pool,
                              mutex::format::backend_endpoint(*ev.backend),
                              cfg::to_string(ev.backend->state), ev.backend->weight);
            }
        }
        if (replaced) {
            resync("a configuration event");
        }
    }

    void on_overrun() {
        ++metrics_.event_resyncs;
        spdlog::warn("events: the socket overran and events were lost; reading the kernel again");
        resync("the event overrun");
    }

    /// Reads the kernel's generation; if it is not the one mutexd applied, someone replaced the
    /// configuration: the file's goes back.
    void resync(std::string_view why) {
        try {
            const std::uint64_t held = client_.get_config(no_name).generation;
            if (held == generation_) {
                spdlog::info("resync after {}: the kernel holds generation {}, as mutexd applied",
                             why, held);
                return;
            }
            spdlog::warn(
                "resync after {}: the configuration was replaced behind mutexd (generation {}, "
                "mutexd had {}); putting the file's back",
                why, held, generation_);
            generation_ = held;
            push("replaced behind mutexd");
        } catch (const std::exception& e) {
            spdlog::error("resync after {} failed: {}", why, e.what());
        }
        notifier_.status(status());
    }

    /// SET_CONFIG of the file's configuration with the backends' health, on the generation last
    /// seen; a writer that replaced it meanwhile is overruled once (mutexd owns the
    /// configuration), with a warning.
    void push(std::string_view why) {
        const cfg::Config wanted = config::desired(file_.config, health_);
        const mutex::InterfaceIndexes interfaces = resolve(wanted);
        try {
            generation_ = client_.apply(wanted, generation_, interfaces);
        } catch (const mutex::NetlinkError& e) {
            if (e.error() != ESTALE) {
                throw;
            }
            const std::uint64_t now = client_.get_config(no_name).generation;
            spdlog::warn(
                "the configuration was replaced behind mutexd (generation {}, mutexd had {}); "
                "putting the file's back",
                now, generation_);
            generation_ = client_.apply(wanted, now, interfaces);
        }
        interfaces_ = interfaces;
        spdlog::info("{}: applied generation {} ({} pools, {} rules)", why, generation_,
                     file_.config.pools.size(), file_.config.rules.size());
        for (const auto& name : interfaces::missing(interfaces_)) {
            spdlog::warn("no interface is called {}: its rules match nothing until one is", name);
        }
    }

    /// The index of each interface the rules name, as the links are now.
    [[nodiscard]] mutex::InterfaceIndexes resolve(const cfg::Config& config) const {
        return interfaces::resolve(config,
                                   [this](std::string_view name) { return links_->index(name); });
    }

    /// After link changes: a rule's interface renamed, removed or created again under its name
    /// gets the configuration pushed with the new index.
    void on_links() {
        const auto diff = interfaces::changes(interfaces_, resolve(file_.config));
        if (diff.empty()) {
            return;
        }
        for (const auto& line : diff) {
            spdlog::info("interface {}", line);
        }
        try {
            push("interfaces changed");
        } catch (const std::exception& e) {
            spdlog::error("the kernel refused the new interface indexes: {}", e.what());
        }
        notifier_.status(status());
    }

    void start_checks() {
        monitor_.reset();
        const auto plan = health::plan_checks(file_, health_);
        // The metrics keep the checks of backends that are still checked, and the durations of
        // pools that are still there.
        std::map<metrics::BackendKey, metrics::CheckRecord> kept;
        for (const auto& t : plan) {
            const auto key = backend_key(t);
            const auto it = metrics_.checks.find(key);
            kept[key] = it != metrics_.checks.end() ? it->second : metrics::CheckRecord{};
            kept[key].healthy = health_.at(t.pool).at(t.backend) == health::Health::up;
        }
        metrics_.checks = std::move(kept);
        std::erase_if(metrics_.check_seconds, [this](const auto& entry) {
            return file_.config.find_pool(entry.first) == nullptr;
        });
        monitor_ = std::make_unique<health::Monitor>(
            io_, prober_, plan,
            [this](const health::Target& t, const health::Change& c) { on_health(t, c); },
            [this](const health::Target& t, const health::CheckResult& r,
                   std::chrono::nanoseconds took,
                   health::Health now) { on_check(t, r, took, now); });
    }

    [[nodiscard]] metrics::BackendKey backend_key(const health::Target& t) const {
        const cfg::Pool& pool = file_.config.pools.at(t.pool);
        return {pool.name, metrics::backend_label(pool.backends.at(t.backend))};
    }

    void on_check(const health::Target& target, const health::CheckResult& result,
                  std::chrono::nanoseconds took, health::Health now) {
        const double seconds = std::chrono::duration<double>(took).count();
        auto& record = metrics_.checks[backend_key(target)];
        ++(result.ok ? record.ok : record.failed);
        record.last_seconds = seconds;
        record.healthy = now == health::Health::up;
        const std::string& pool = file_.config.pools.at(target.pool).name;
        metrics_.check_seconds.try_emplace(pool, metrics::Histogram::check_durations())
            .first->second.observe(seconds);
    }

    /// The Prometheus endpoint, when [metrics] enables it. An address that cannot be bound is
    /// an error in the log, not a reason to stop steering: the daemon runs on without metrics.
    void start_metrics() {
        server_.reset();
        serving_ = file_.daemon.metrics;
        if (!serving_.enabled) {
            return;
        }
        if (!reader_) {
            reader_ = std::make_unique<metrics::KernelReader>(io_);
        }
        const std::string where = mutex::format::endpoint({serving_.address, serving_.port});
        try {
            server_ = std::make_unique<metrics::HttpServer>(
                io_, serving_.address, serving_.port,
                [this](metrics::HttpServer::Reply reply) { scrape(std::move(reply)); });
            spdlog::info("metrics: http://{}/metrics", where);
        } catch (const std::exception& e) {
            spdlog::error("metrics: cannot listen on {}: {}; running without metrics", where,
                          e.what());
        }
    }

    /// The tuning policy, every [tuning] interval, when it is enabled; a new policy (new bounds,
    /// no history) after a reload that changes [tuning].
    void start_tuning() {
        static_cast<void>(tuning_timer_.cancel());
        policy_.reset();
        previous_.reset();
        tuning_ = file_.daemon.tuning;
        if (!tuning_.enabled) {
            return;
        }
        if (!reader_) {
            reader_ = std::make_unique<metrics::KernelReader>(io_);
        }
        policy_.emplace(tuning_);
        spdlog::info("tuning: every {} ms, perf_cache_size {}..{}, perf_batch_size {}..{}",
                     tuning_.interval_ms, tuning_.cache_size_min, tuning_.cache_size_max,
                     tuning_.batch_size_min, tuning_.batch_size_max);
        tune_soon(std::chrono::milliseconds(0));
    }

    void tune_soon(std::chrono::milliseconds delay) {
        tuning_timer_.expires_after(delay);
        tuning_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || !policy_) {
                return;
            }
            reader_->read(
                [this](const std::optional<metrics::KernelState>& k, const std::string& error) {
                    if (!policy_) {
                        return;  // switched off meanwhile
                    }
                    if (k) {
                        tune(*k);
                    } else {
                        spdlog::warn("tuning: cannot read the kernel: {}", error);
                        previous_.reset();
                    }
                    tune_soon(std::chrono::milliseconds(tuning_.interval_ms));
                },
                false);
        });
    }

    /// One window: the deltas since the last read, the policy's decision, SET_PARAMS.
    void tune(const metrics::KernelState& k) {
        const auto now = std::chrono::steady_clock::now();
        const auto prev = std::exchange(previous_, std::make_pair(k.stats, now));
        if (!prev) {
            return;
        }
        const mutex::Stats& a = prev->first;
        const mutex::Stats& b = k.stats;
        if (b.cache_hits < a.cache_hits || b.cache_misses < a.cache_misses ||
            b.pkts_steered < a.pkts_steered || b.batch_flushes < a.batch_flushes) {
            return;  // the module was loaded again: counters start over
        }
        tuning::Window w;
        w.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - prev->second);
        w.cache_hits = b.cache_hits - a.cache_hits;
        w.cache_misses = b.cache_misses - a.cache_misses;
        w.pkts_steered = b.pkts_steered - a.pkts_steered;
        w.batch_flushes = b.batch_flushes - a.batch_flushes;
        w.flow_count = b.flow_count;
        const tuning::Current current{.cache_size = k.info.params.cache_size.value_or(0),
                                      .batch_size = k.info.params.batch_size.value_or(1),
                                      .batching = k.info.params.enable_batching.value_or(0) != 0};
        for (const auto& action : policy_->decide(w, current)) {
            mutex::Params change;
            (action.parameter == "perf_cache_size" ? change.cache_size : change.batch_size) =
                action.to;
            try {
                static_cast<void>(client_.set_params(change));
                ++metrics_.tuning_actions[{action.parameter, action.reason}];
                spdlog::info("tuning: {} {} -> {} ({}): {}", action.parameter, action.from,
                             action.to, action.reason, action.detail);
                tuning_record_[action.parameter] = {action.from,        action.to,
                                                    action.reason,      action.detail,
                                                    std::time(nullptr), k.info.netns_cookie};
                write_tuning_record();
            } catch (const std::exception& e) {
                spdlog::error("tuning: {} {} -> {} refused: {}", action.parameter, action.from,
                              action.to, e.what());
            }
        }
    }

    /// What `mutexctl params` shows of the tuning: kTuningRecordPath, replaced atomically and
    /// readable by everyone. The parameters are the module's: changes of an earlier mutexd (or
    /// of one in another namespace) stay in it.
    void write_tuning_record() {
        const std::filesystem::path path{std::string(mutex::kTuningRecordPath)};
        const std::filesystem::path tmp = path.string() + ".tmp";
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (!tuning_record_read_) {
            tuning_record_read_ = true;
            std::ifstream in(path);
            const std::string text{std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>()};
            try {
                auto earlier = mutex::decode_tuning_record(text);
                for (const auto& [name, c] : tuning_record_) {  // ours are newer
                    earlier[name] = c;
                }
                tuning_record_ = std::move(earlier);
            } catch (const std::invalid_argument&) {
                // none yet, or unreadable: start afresh
            }
        }
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << mutex::encode_tuning_record(tuning_record_);
            if (!out.flush()) {
                spdlog::warn("tuning: cannot write {}", tmp.string());
                return;
            }
        }
        std::filesystem::permissions(tmp, std::filesystem::perms(0644),
                                     std::filesystem::perm_options::replace, ec);
        std::filesystem::rename(tmp, path, ec);
        if (ec) {
            spdlog::warn("tuning: cannot write {}: {}", path.string(), ec.message());
        }
    }

    void scrape(metrics::HttpServer::Reply reply) {
        reader_->read([this, reply = std::move(reply)](const std::optional<metrics::KernelState>& k,
                                                       const std::string& error) {
            if (!k) {
                spdlog::warn("metrics: cannot read the kernel: {}", error);
            }
            metrics_.generation = generation_;
            reply({200, std::string(metrics::kContentType), metrics::render(k, metrics_)});
        });
    }

    void on_health(const health::Target& target, const health::Change& change) {
        const cfg::Pool& pool = file_.config.pools.at(target.pool);
        const cfg::Backend& backend = pool.backends.at(target.backend);
        const cfg::PoolPolicy policy = target.pool < file_.daemon.pools.size()
                                           ? file_.daemon.pools[target.pool]
                                           : cfg::PoolPolicy{};
        health_.at(target.pool).at(target.backend) = change.to;
        metrics_.checks[backend_key(target)].healthy = change.to == health::Health::up;
        spdlog::log(change.to == health::Health::down ? spdlog::level::warn : spdlog::level::info,
                    "pool {} backend {}: {} -> {}: {}", pool.name,
                    mutex::format::backend_endpoint(backend), health_name(change.from),
                    health_name(change.to), change.reason);
        const auto action = failover::decide(pool.name, backend, policy, change.to);
        if (!action) {
            spdlog::info("pool {} backend {}: the file sets it {}, the kernel keeps that",
                         pool.name, mutex::format::backend_endpoint(backend),
                         cfg::to_string(backend.state));
            return;
        }
        try {
            mutex::BackendChange change_now = action->change;
            change_now.generation = generation_;
            try {
                static_cast<void>(client_.set_backend(change_now));
            } catch (const mutex::NetlinkError& e) {
                if (e.error() != ESTALE) {
                    throw;
                }
                push("replaced behind mutexd");  // carries the new state already
            }
            if (change.to == health::Health::down && !action->end_flows) {
                spdlog::info("pool {} backend {}: its flows stay on it (on_backend_down = {})",
                             pool.name, mutex::format::backend_endpoint(backend),
                             cfg::name_of(cfg::kOnBackendDownNames, policy.on_backend_down));
            }
            if (action->end_flows) {
                const std::uint64_t n =
                    client_.end_flows(action->change.backend, *action->end_flows);
                spdlog::info("pool {} backend {}: ended {} {} flows (on_backend_down = {})",
                             pool.name, mutex::format::backend_endpoint(backend), n,
                             *action->end_flows == cfg::Protocol::any
                                 ? std::string_view("TCP and UDP")
                                 : std::string_view("UDP"),
                             cfg::name_of(cfg::kOnBackendDownNames, policy.on_backend_down));
            }
        } catch (const std::exception& e) {
            spdlog::error("pool {} backend {}: the kernel refused the change: {}", pool.name,
                          mutex::format::backend_endpoint(backend), e.what());
        }
        notifier_.status(status());
    }

    void reload(std::string_view why) {
        notifier_.reloading();
        spdlog::info("reloading {} ({})", path_, why);
        try {
            cfg::File next = cfg::read_file(path_);
            if (next == file_) {
                spdlog::info("{} is unchanged: generation {} stays", path_, generation_);
                ++metrics_.reloads_ok;
            } else {
                health_ = carry_health(file_.config, health_, next.config);
                const bool config_changed = next.config != file_.config;
                file_ = std::move(next);
                log::set_level(file_.daemon.daemon.log_level);
                if (config_changed) {
                    push("reloaded");
                } else {
                    spdlog::info(
                        "reloaded: the kernel's configuration is unchanged (generation {} "
                        "stays), the daemon's settings are applied",
                        generation_);
                }
                start_checks();
                if (file_.daemon.metrics != serving_) {
                    start_metrics();
                }
                if (file_.daemon.tuning != tuning_) {
                    start_tuning();
                }
                ++metrics_.reloads_ok;
            }
        } catch (const cfg::ConfigError& e) {
            ++metrics_.reloads_failed;
            log_refusal(e);
            spdlog::error("{} refused: the running configuration (generation {}) stays", path_,
                          generation_);
        } catch (const std::exception& e) {
            ++metrics_.reloads_failed;
            spdlog::error("reload failed: {}; the running configuration (generation {}) stays",
                          e.what(), generation_);
        }
        notifier_.ready(status());
    }

    void stop(int signal) {
        spdlog::info("stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
        notifier_.stopping("stopping");
        monitor_.reset();
        server_.reset();
        events_.reset();
        policy_.reset();
        static_cast<void>(tuning_timer_.cancel());
        if (file_.daemon.daemon.flush_on_exit) {
            try {
                generation_ = client_.apply(cfg::Config{}, generation_, {});
                spdlog::info("flush_on_exit: the configuration is emptied (generation {})",
                             generation_);
            } catch (const std::exception& e) {
                spdlog::error("flush_on_exit failed: {}", e.what());
            }
        } else {
            spdlog::info("the kernel keeps steering with generation {}", generation_);
        }
        io_.stop();
    }

    void watch_signals() {
        signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) {
                return;
            }
            if (signal == SIGHUP) {
                reload("SIGHUP");
                watch_signals();
                return;
            }
            stop(signal);
        });
    }

    /// inotify on the file's directory: an editor that writes a new file and renames it over the
    /// old one is seen as well as one that writes in place.
    void watch_file() {
        const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0) {
            spdlog::warn("inotify: {}; reload with SIGHUP", std::generic_category().message(errno));
            return;
        }
        inotify_.assign(fd);
        const std::filesystem::path file(path_);
        const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
        name_ = file.filename().string();
        if (::inotify_add_watch(fd, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
            spdlog::warn("inotify on {}: {}; reload with SIGHUP", dir,
                         std::generic_category().message(errno));
            return;
        }
        read_inotify();
    }

    void read_inotify() {
        inotify_.async_read_some(
            asio::buffer(inotify_buf_), [this](const boost::system::error_code& ec, std::size_t n) {
                if (ec) {
                    return;
                }
                bool ours = false;
                for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
                    inotify_event ev{};
                    std::memcpy(&ev, inotify_buf_.data() + off, sizeof(ev));
                    const char* name = inotify_buf_.data() + off + sizeof(ev);
                    if (ev.len > 0 && name_ == std::string(name)) {
                        ours = true;
                    }
                    off += sizeof(ev) + ev.len;
                }
                if (ours) {
                    // Editors write in steps: reload once they are done.
                    reload_timer_.expires_after(std::chrono::milliseconds(200));
                    reload_timer_.async_wait([this](const boost::system::error_code& e) {
                        if (!e) {
                            reload("the file changed");
                        }
                    });
                }
                read_inotify();
            });
    }

    void start_watchdog() {
        const auto period = notifier_.watchdog_period();
        if (!period) {
            return;
        }
        watchdog_.expires_after(*period);
        watchdog_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) {
                notifier_.watchdog();
                start_watchdog();
            }
        });
    }

    [[nodiscard]] std::string status() const {
        std::size_t down = 0;
        std::size_t total = 0;
        for (const auto& pool : health_) {
            for (const auto h : pool) {
                ++total;
                down += h == health::Health::down ? 1 : 0;
            }
        }
        return "generation " + std::to_string(generation_) + ", " +
               std::to_string(file_.config.pools.size()) + " pools, " +
               std::to_string(file_.config.rules.size()) + " rules, " + std::to_string(down) +
               " of " + std::to_string(total) + " backends down";
    }

    std::optional<int> event_buffer_;
    std::string path_;
    cfg::File file_;
    asio::io_context io_;
    asio::signal_set signals_;
    asio::steady_timer watchdog_;
    asio::steady_timer reload_timer_;
    asio::posix::stream_descriptor inotify_;
    std::array<char, 4096> inotify_buf_{};
    std::string name_;
    systemd::Notifier notifier_;
    mutex::Client client_;
    health::Prober prober_{io_};
    std::unique_ptr<health::Monitor> monitor_;
    std::unique_ptr<interfaces::LinkWatcher> links_;
    mutex::InterfaceIndexes interfaces_;  // what the kernel's rules carry
    config::HealthTable health_;
    std::uint64_t generation_ = 0;
    metrics::DaemonState metrics_;
    cfg::MetricsSettings serving_;  // what server_ was started with
    std::unique_ptr<metrics::KernelReader> reader_;
    std::unique_ptr<metrics::HttpServer> server_;
    asio::steady_timer tuning_timer_;
    cfg::TuningSettings tuning_;  // what policy_ was made with
    std::optional<tuning::Policy> policy_;
    std::optional<std::pair<mutex::Stats, std::chrono::steady_clock::time_point>> previous_;
    std::unique_ptr<events::EventWatcher> events_;
    mutex::TuningRecord tuning_record_;
    bool tuning_record_read_ = false;
};

}  // namespace

int run(const Options& options) {
    cfg::File file;
    try {
        file = cfg::read_file(options.config);
    } catch (const cfg::ConfigError& e) {
        log::init(cfg::LogLevel::info);
        log_refusal(e);
        spdlog::error("{}: not started", options.config);
        return 1;
    }
    log::init(file.daemon.daemon.log_level);
    try {
        Daemon daemon(options.config, std::move(file), options.event_buffer);
        return daemon.run();
    } catch (const mutex::FamilyNotFound& e) {
        spdlog::error("{}: load it first (modprobe mutex_proxy)", e.what());
    } catch (const std::exception& e) {
        spdlog::error("cannot start: {}", e.what());
    }
    return 1;
}

}  // namespace mutexd
