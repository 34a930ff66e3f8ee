// SPDX-License-Identifier: GPL-2.0
// The configuration file's schema: pools and rules read through the generic TOML layer
// (toml_reader.hpp) into the model of config.hpp, and validated. Every problem is collected
// with the position of the offending value (or of the table that lacks a key), so one run names
// them all.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "libmutex/config.hpp"
#include "libmutex/toml_reader.hpp"

namespace mutex::config {
namespace {

constexpr std::uint16_t kMaxPort = 65535;
// The module's bounds of perf_cache_size and perf_batch_size (MUTEX_CACHE_SIZE_MAX,
// MUTEX_BATCH_SIZE_MAX in the UAPI header).
constexpr std::int64_t kMaxCacheSize = 65536;
constexpr std::int64_t kMaxBatchSize = 256;

/// "N" with digits only, no sign, no leading '+', within [0, max].
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
    if (s.empty() || s.size() > 20) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    const auto* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, value);
    if (ec != std::errc{} || ptr != end || value > max) {
        return std::nullopt;
    }
    return value;
}

/// "N" (decimal) or "0xN" (hex), up to 32 bits.
std::optional<std::uint32_t> parse_u32(std::string_view s) {
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        base = 16;
    }
    if (s.empty()) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    const auto* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, value, base);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::size_t address_bits(Family family) noexcept {
    return family == Family::ipv4 ? 32 : 128;
}

/// Clears every bit after the first `length`.
std::array<std::uint8_t, 16> masked(std::array<std::uint8_t, 16> bytes, std::size_t length) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const std::size_t bit = i * 8;
        if (bit >= length) {
            bytes[i] = 0;
        } else if (length - bit < 8) {
            const auto keep = static_cast<unsigned>(0xff00U >> (length - bit));
            bytes[i] = static_cast<std::uint8_t>(bytes[i] & keep);
        }
    }
    return bytes;
}

bool valid_pool_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/// What the parser knows about a pool for the rule checks.
struct PoolInfo {
    std::size_t local = 0;
    std::size_t ipv4 = 0;
    std::size_t ipv6 = 0;
};

class Parser {
public:
    explicit Parser(TomlReader& in) : in_(in) {}

    File run(const toml::table& root) {
        in_.check_keys(root, {"pool", "rule", "daemon", "metrics", "tuning"}, "the top level");
        File file;
        if (const auto* tables = in_.array_of_tables(root, "pool")) {
            parse_pools(*tables, file);
        }
        if (const auto* tables = in_.array_of_tables(root, "rule")) {
            parse_rules(*tables, file.config);
        }
        if (const auto* table = section(root, "daemon")) {
            parse_daemon(*table, file.daemon.daemon);
        }
        if (const auto* table = section(root, "metrics")) {
            parse_metrics(*table, file.daemon.metrics);
        }
        if (const auto* table = section(root, "tuning")) {
            parse_tuning(*table, file.daemon.tuning);
        }
        return file;
    }

private:
    // --- value parsers ----------------------------------------------------------------------

    std::optional<Prefix> prefix(const toml::table& table, std::string_view key) {
        std::optional<std::string> text;
        const toml::node* node = in_.string(table, key, text);
        if (node == nullptr) {
            return std::nullopt;
        }
        const std::string& s = *text;
        const auto slash = s.find('/');
        const auto address = parse_address(s.substr(0, slash));
        if (!address) {
            in_.error(node->source(), std::string(key) + ": " + squote(s.substr(0, slash)) +
                                          " is not an IPv4 or IPv6 address");
            return std::nullopt;
        }
        const std::size_t bits = address_bits(address->family);
        std::size_t length = bits;
        if (slash != std::string::npos) {
            const std::string_view len = std::string_view(s).substr(slash + 1);
            const auto parsed = parse_decimal(len, 255);
            if (!parsed || *parsed > bits) {
                in_.error(node->source(), std::string(key) + ": prefix length " + squote(len) +
                                              " is not a number in 0.." + std::to_string(bits) +
                                              " for an " + std::string(to_string(address->family)) +
                                              " prefix");
                return std::nullopt;
            }
            length = static_cast<std::size_t>(*parsed);
        }
        Prefix p;
        p.family = address->family;
        p.address = masked(address->bytes, length);
        p.length = static_cast<std::uint8_t>(length);
        if (p.address != address->bytes) {
            in_.error(node->source(), std::string(key) + ": " + squote(s) +
                                          " has host bits set (did you mean " +
                                          squote(to_string(p)) + "?)");
            return std::nullopt;
        }
        return p;
    }

    /// "N" or "N-M" (also a plain integer N) with bounds [min, max].
    template <typename Range, typename T>
    std::optional<Range> range(const toml::table& table, std::string_view key, T min, T max,
                               std::string_view what) {
        const toml::node* node = table.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        const std::string bounds = std::to_string(min) + ".." + std::to_string(max);
        if (const auto* i = node->as_integer()) {
            const std::int64_t v = i->get();
            if (v < static_cast<std::int64_t>(min) || v > static_cast<std::int64_t>(max)) {
                in_.error(node->source(), std::string(key) + ": " + std::string(what) + " " +
                                              std::to_string(v) + " is out of range " + bounds);
                return std::nullopt;
            }
            return Range{static_cast<T>(v), static_cast<T>(v)};
        }
        const auto* str = node->as_string();
        if (str == nullptr) {
            in_.wrong_type(*node, key, R"(a string ("N" or "N-M"))");
            return std::nullopt;
        }
        const std::string_view s = str->get();
        const auto dash = s.find('-');
        const std::string_view first_text = s.substr(0, dash);
        const std::string_view last_text =
            dash == std::string_view::npos ? first_text : s.substr(dash + 1);
        const auto first = parse_decimal(first_text, std::numeric_limits<std::uint64_t>::max());
        const auto last = parse_decimal(last_text, std::numeric_limits<std::uint64_t>::max());
        if (!first || !last) {
            in_.error(node->source(), std::string(key) + ": " + squote(s) + " is not a " +
                                          std::string(what) + " or " + std::string(what) +
                                          R"( range (expected "N" or "N-M"))");
            return std::nullopt;
        }
        for (const auto v : {*first, *last}) {
            if (v < min || v > max) {
                in_.error(node->source(), std::string(key) + ": " + std::string(what) + " " +
                                              std::to_string(v) + " is out of range " + bounds);
                return std::nullopt;
            }
        }
        if (*first > *last) {
            in_.error(node->source(), std::string(key) + ": range " + squote(s) +
                                          " is reversed (first " + std::string(what) +
                                          " after last)");
            return std::nullopt;
        }
        return Range{static_cast<T>(*first), static_cast<T>(*last)};
    }

    std::optional<Mark> mark(const toml::table& table, std::string_view key) {
        std::optional<std::string> text;
        const toml::node* node = in_.string(table, key, text);
        if (node == nullptr) {
            return std::nullopt;
        }
        const std::string_view s = *text;
        const auto slash = s.find('/');
        const auto value = parse_u32(s.substr(0, slash));
        const auto mask = slash == std::string_view::npos
                              ? std::optional<std::uint32_t>{0xffffffffU}
                              : parse_u32(s.substr(slash + 1));
        if (!value || !mask) {
            in_.error(node->source(), std::string(key) + ": " + squote(s) +
                                          " is not a mark (expected \"VALUE\" or \"VALUE/MASK\", "
                                          "32-bit numbers, decimal or 0x hex)");
            return std::nullopt;
        }
        if (*mask == 0) {
            in_.error(node->source(), std::string(key) + ": mask 0 matches every packet");
            return std::nullopt;
        }
        if ((*value & ~*mask) != 0) {
            in_.error(node->source(), std::string(key) + ": value " + squote(s.substr(0, slash)) +
                                          " has bits outside the mask: the rule could never match");
            return std::nullopt;
        }
        return Mark{*value, *mask};
    }

    std::optional<std::string> interface(const toml::table& table, std::string_view key) {
        std::optional<std::string> name;
        const toml::node* node = in_.string(table, key, name);
        if (node == nullptr ||
            !in_.check_length(*node, key, *name, kMaxInterfaceNameLength, "an interface name")) {
            return std::nullopt;
        }
        const bool bad_char = std::any_of(name->begin(), name->end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return c == '/' || c == ':' || u <= 0x20 || u == 0x7f;
        });
        if (bad_char || *name == "." || *name == "..") {
            in_.error(node->source(), std::string(key) + ": " + squote(*name) +
                                          " is not a valid interface name (no '/', ':', spaces or "
                                          "control characters)");
            return std::nullopt;
        }
        return name;
    }

    std::optional<std::string> cgroup(const toml::table& table, std::string_view key) {
        std::optional<std::string> path;
        const toml::node* node = in_.string(table, key, path);
        if (node == nullptr ||
            !in_.check_length(*node, key, *path, kMaxCgroupPathLength, "a cgroup path")) {
            return std::nullopt;
        }
        if (path->front() != '/') {
            in_.error(node->source(), std::string(key) + ": " + squote(*path) +
                                          " is not an absolute cgroup v2 path (it must start "
                                          "with '/', relative to the cgroup2 mount)");
            return std::nullopt;
        }
        const bool control = std::any_of(path->begin(), path->end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u < 0x20 || u == 0x7f;
        });
        const bool dots = ("/" + *path + "/").find("/../") != std::string::npos ||
                          ("/" + *path + "/").find("/./") != std::string::npos;
        if (control || dots) {
            in_.error(node->source(), std::string(key) + ": " + squote(*path) +
                                          " is not a valid cgroup path (no '.' or '..' components, "
                                          "no control characters)");
            return std::nullopt;
        }
        return path;
    }

    // --- pools ------------------------------------------------------------------------------

    void parse_pools(const toml::array& tables, File& file) {
        for (std::size_t i = 0; i < tables.size(); ++i) {
            const toml::node& node = *tables.get(i);
            const auto* table = node.as_table();
            if (table == nullptr) {
                in_.wrong_type(node, "pool", "a table");
                continue;
            }
            if (i == kMaxPools) {
                in_.error(table->source(), "too many pools: at most " + std::to_string(kMaxPools));
            }
            Pool pool;
            PoolPolicy policy;
            PoolInfo info;
            const bool named = parse_pool(*table, pool, policy, info);
            if (named) {
                if (!pools_.emplace(pool.name, info).second) {
                    in_.error(table->get("name")->source(),
                              "name: duplicate pool name " + squote(pool.name));
                }
            }
            file.config.pools.push_back(std::move(pool));
            file.daemon.pools.push_back(std::move(policy));
        }
    }

    /// Returns whether the pool has a valid name (so rules can refer to it).
    bool parse_pool(const toml::table& table, Pool& pool, PoolPolicy& policy, PoolInfo& info) {
        in_.check_keys(table,
                       {"name", "scheduler", "failure_mode", "backend", "check", "check_interval",
                        "check_timeout", "rise", "fall", "on_backend_down"},
                       "[[pool]]");
        parse_policy(table, policy);
        bool named = false;
        std::optional<std::string> name;
        if (const toml::node* node = in_.string(table, "name", name)) {
            if (in_.check_length(*node, "name", *name, kMaxNameLength, "a pool name")) {
                if (std::all_of(name->begin(), name->end(), valid_pool_name_char)) {
                    pool.name = *name;
                    named = true;
                } else {
                    in_.error(node->source(), "name: " + squote(*name) +
                                                  " is not a valid pool name (letters, digits, "
                                                  "'_', '.', '-')");
                }
            }
        } else if (table.get("name") == nullptr) {
            in_.missing(table, "name", "[[pool]]");
        }
        if (const auto v = in_.enumeration(table, "scheduler", kSchedulerNames, "scheduler")) {
            pool.scheduler = *v;
        }
        if (const auto v =
                in_.enumeration(table, "failure_mode", kFailureModeNames, "failure mode")) {
            pool.failure_mode = *v;
        }
        const toml::array* backends = in_.array_of_tables(table, "backend");
        if (backends == nullptr || backends->empty()) {
            if (table.get("backend") == nullptr || backends != nullptr) {
                in_.error(table.source(),
                          "pool " + squote(pool.name) +
                              " has no backend (add at least one [[pool.backend]])");
            }
            return named;
        }
        std::optional<bool> local_kind;
        std::set<std::pair<std::optional<Address>, std::uint16_t>, AddressPortLess> seen;
        for (std::size_t i = 0; i < backends->size(); ++i) {
            const toml::node& node = *backends->get(i);
            const auto* bt = node.as_table();
            if (bt == nullptr) {
                in_.wrong_type(node, "backend", "a table");
                continue;
            }
            if (i == kMaxBackendsPerPool) {
                in_.error(bt->source(), "too many backends in pool " + squote(pool.name) +
                                            ": at most " + std::to_string(kMaxBackendsPerPool));
            }
            CheckTarget target;
            std::optional<Backend> backend = parse_backend(*bt, target);
            if (!backend) {
                continue;
            }
            if (!local_kind) {
                local_kind = backend->is_local();
            } else if (*local_kind != backend->is_local()) {
                in_.error(bt->source(),
                          "pool " + squote(pool.name) +
                              " mixes local-port backends (no address, for redirect) and address "
                              "backends (for dnat)");
                continue;
            }
            if (!seen.emplace(backend->address, backend->port).second) {
                in_.error(bt->source(), "duplicate backend " + describe(*backend) + " in pool " +
                                            squote(pool.name));
                continue;
            }
            if (backend->is_local()) {
                ++info.local;
            } else if (backend->address->family == Family::ipv4) {
                ++info.ipv4;
            } else {
                ++info.ipv6;
            }
            pool.backends.push_back(*backend);
            policy.targets.push_back(target);
        }
        return named;
    }

    struct AddressPortLess {
        bool operator()(const std::pair<std::optional<Address>, std::uint16_t>& a,
                        const std::pair<std::optional<Address>, std::uint16_t>& b) const {
            const auto key = [](const std::pair<std::optional<Address>, std::uint16_t>& x) {
                return std::tuple{x.first.has_value(), x.first ? x.first->family : Family::ipv4,
                                  x.first ? x.first->bytes : std::array<std::uint8_t, 16>{},
                                  x.second};
            };
            return key(a) < key(b);
        }
    };

    static std::string describe(const Backend& backend) {
        if (!backend.address) {
            return "local port " + std::to_string(backend.port);
        }
        if (backend.address->family == Family::ipv6) {
            return "[" + to_string(*backend.address) + "]:" + std::to_string(backend.port);
        }
        return to_string(*backend.address) + ":" + std::to_string(backend.port);
    }

    std::optional<Backend> parse_backend(const toml::table& table, CheckTarget& target) {
        in_.check_keys(
            table,
            {"address", "port", "weight", "priority", "state", "check_address", "check_port"},
            "[[pool.backend]]");
        std::optional<std::string> check_text;
        if (const toml::node* node = in_.string(table, "check_address", check_text)) {
            target.address = host_address(*node, "check_address", *check_text);
        }
        if (const auto port = in_.integer(table, "check_port", 1, kMaxPort)) {
            target.port = static_cast<std::uint16_t>(*port);
        }
        Backend backend;
        bool ok = true;
        std::optional<std::string> text;
        if (const toml::node* node = in_.string(table, "address", text)) {
            backend.address = host_address(*node, "address", *text);
            ok = backend.address.has_value();
        } else if (table.get("address") != nullptr) {
            ok = false;
        }
        if (const auto port = in_.integer(table, "port", 1, kMaxPort)) {
            backend.port = static_cast<std::uint16_t>(*port);
        } else {
            if (table.get("port") == nullptr) {
                in_.missing(table, "port", "[[pool.backend]]");
            }
            ok = false;
        }
        if (const auto weight = in_.integer(table, "weight", 1, 65535)) {
            backend.weight = static_cast<std::uint16_t>(*weight);
        } else if (table.get("weight") != nullptr) {
            ok = false;
        }
        if (const auto priority = in_.integer(table, "priority", 0, 255)) {
            backend.priority = static_cast<std::uint8_t>(*priority);
        } else if (table.get("priority") != nullptr) {
            ok = false;
        }
        if (const auto state = in_.enumeration(table, "state", kBackendStateNames, "state")) {
            backend.state = *state;
        } else if (table.get("state") != nullptr) {
            ok = false;
        }
        return ok ? std::optional<Backend>{backend} : std::nullopt;
    }

    // --- the daemon's sections ------------------------------------------------------------

    /// The table under `key`, or nullptr (absent, or not a table: reported).
    const toml::table* section(const toml::table& root, std::string_view key) {
        const toml::node* node = root.get(key);
        if (node == nullptr) {
            return nullptr;
        }
        const auto* table = node->as_table();
        if (table == nullptr) {
            in_.wrong_type(*node, key, "a table ([" + std::string(key) + "])");
        }
        return table;
    }

    /// A duration string of at least `min_ms`; nullopt when absent or wrong (reported).
    std::optional<std::uint32_t> duration(const toml::table& table, std::string_view key,
                                          std::uint32_t min_ms) {
        std::optional<std::string> text;
        const toml::node* node = in_.string(table, key, text);
        if (node == nullptr) {
            return std::nullopt;
        }
        const auto ms = parse_duration(*text);
        if (!ms) {
            in_.error(node->source(), std::string(key) + ": " + squote(*text) +
                                          " is not a duration (a number and a unit: ms, s, m or "
                                          "h, at most 1h)");
            return std::nullopt;
        }
        if (*ms < min_ms) {
            in_.error(node->source(), std::string(key) + ": " + squote(*text) +
                                          " is shorter than " + std::to_string(min_ms) + "ms");
            return std::nullopt;
        }
        return ms;
    }

    /// A unicast address of a host (not the unspecified one), or nullopt (reported).
    std::optional<Address> host_address(const toml::node& node, std::string_view key,
                                        const std::string& text) {
        const auto address = parse_address(text);
        if (!address) {
            in_.error(node.source(),
                      std::string(key) + ": " + squote(text) + " is not an IPv4 or IPv6 address");
        } else if (address->bytes == std::array<std::uint8_t, 16>{}) {
            in_.error(node.source(),
                      std::string(key) + ": " + squote(text) + " is the unspecified address");
            return std::nullopt;
        }
        return address;
    }

    void parse_policy(const toml::table& table, PoolPolicy& policy) {
        if (const auto v = in_.enumeration(table, "check", kCheckTypeNames, "check")) {
            policy.check = *v;
        }
        if (const auto v = duration(table, "check_interval", kMinCheckIntervalMs)) {
            policy.interval_ms = *v;
        }
        if (const auto v = duration(table, "check_timeout", 10)) {
            policy.timeout_ms = *v;
        }
        if (policy.timeout_ms > policy.interval_ms) {
            const toml::node* node = table.get("check_timeout");
            in_.error(node != nullptr ? node->source() : table.source(),
                      "check_timeout: " + std::to_string(policy.timeout_ms) +
                          "ms is longer than check_interval (" +
                          std::to_string(policy.interval_ms) + "ms)");
        }
        if (const auto v = in_.integer(table, "rise", 1, 100)) {
            policy.rise = static_cast<std::uint8_t>(*v);
        }
        if (const auto v = in_.integer(table, "fall", 1, 100)) {
            policy.fall = static_cast<std::uint8_t>(*v);
        }
        if (const auto v = in_.enumeration(table, "on_backend_down", kOnBackendDownNames,
                                           "on_backend_down value")) {
            policy.on_backend_down = *v;
        }
    }

    void parse_daemon(const toml::table& table, DaemonSettings& daemon) {
        in_.check_keys(table, {"log_level", "flush_on_exit", "guard"}, "[daemon]");
        if (const auto v = in_.enumeration(table, "guard", kGuardModeNames, "guard mode")) {
            daemon.guard = *v;
        }
        if (const auto v = in_.enumeration(table, "log_level", kLogLevelNames, "log level")) {
            daemon.log_level = *v;
        }
        if (const auto v = in_.boolean(table, "flush_on_exit")) {
            daemon.flush_on_exit = *v;
        }
    }

    void parse_metrics(const toml::table& table, MetricsSettings& metrics) {
        in_.check_keys(table, {"enabled", "listen"}, "[metrics]");
        if (const auto v = in_.boolean(table, "enabled")) {
            metrics.enabled = *v;
        }
        std::optional<std::string> text;
        const toml::node* node = in_.string(table, "listen", text);
        if (node == nullptr) {
            return;
        }
        // "ADDRESS:PORT", with an IPv6 address in brackets.
        const std::string& s = *text;
        const auto colon = s.rfind(':');
        std::string host = colon == std::string::npos ? s : s.substr(0, colon);
        const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
        if (bracketed) {
            host = host.substr(1, host.size() - 2);
        }
        const auto address = parse_address(host);
        const auto port = colon == std::string::npos
                              ? std::nullopt
                              : parse_decimal(std::string_view(s).substr(colon + 1), kMaxPort);
        if (!address || !port || *port == 0 || (address->family == Family::ipv6) != bracketed) {
            in_.error(node->source(), "listen: " + squote(s) +
                                          " is not ADDRESS:PORT (\"127.0.0.1:9477\", "
                                          "\"[::1]:9477\")");
            return;
        }
        metrics.address = *address;
        metrics.port = static_cast<std::uint16_t>(*port);
    }

    void parse_tuning(const toml::table& table, TuningSettings& tuning) {
        in_.check_keys(table,
                       {"enabled", "interval", "cache_size_min", "cache_size_max", "batch_size_min",
                        "batch_size_max"},
                       "[tuning]");
        if (const auto v = in_.boolean(table, "enabled")) {
            tuning.enabled = *v;
        }
        if (const auto v = duration(table, "interval", 1000)) {
            tuning.interval_ms = *v;
        }
        const auto cache_size = [this, &table](std::string_view key, std::uint32_t& out) {
            const auto v = in_.integer(table, key, 1, kMaxCacheSize);
            if (!v) {
                return;
            }
            if ((*v & (*v - 1)) != 0) {
                in_.error(table.get(key)->source(),
                          std::string(key) + ": " + std::to_string(*v) + " is not a power of two");
                return;
            }
            out = static_cast<std::uint32_t>(*v);
        };
        cache_size("cache_size_min", tuning.cache_size_min);
        cache_size("cache_size_max", tuning.cache_size_max);
        if (const auto v = in_.integer(table, "batch_size_min", 1, kMaxBatchSize)) {
            tuning.batch_size_min = static_cast<std::uint32_t>(*v);
        }
        if (const auto v = in_.integer(table, "batch_size_max", 1, kMaxBatchSize)) {
            tuning.batch_size_max = static_cast<std::uint32_t>(*v);
        }
        const auto ordered = [this, &table](std::string_view min_key, std::uint32_t min,
                                            std::string_view max_key, std::uint32_t max) {
            if (min > max) {
                const toml::node* node = table.get(max_key);
                in_.error(node != nullptr ? node->source() : table.source(),
                          std::string(max_key) + " (" + std::to_string(max) + ") is below " +
                              std::string(min_key) + " (" + std::to_string(min) + ")");
            }
        };
        ordered("cache_size_min", tuning.cache_size_min, "cache_size_max", tuning.cache_size_max);
        ordered("batch_size_min", tuning.batch_size_min, "batch_size_max", tuning.batch_size_max);
    }

    // --- rules ------------------------------------------------------------------------------

    void parse_rules(const toml::array& tables, Config& config) {
        for (std::size_t i = 0; i < tables.size(); ++i) {
            const toml::node& node = *tables.get(i);
            const auto* table = node.as_table();
            if (table == nullptr) {
                in_.wrong_type(node, "rule", "a table");
                continue;
            }
            if (i == kMaxRules) {
                in_.error(table->source(), "too many rules: at most " + std::to_string(kMaxRules));
            }
            config.rules.push_back(parse_rule(*table));
        }
    }

    Rule parse_rule(const toml::table& table) {
        in_.check_keys(table,
                       {"name", "protocol", "destination", "destination_ports", "source",
                        "source_ports", "uid", "gid", "cgroup", "mark", "out_interface",
                        "in_interface", "action", "to_port", "pool"},
                       "[[rule]]");
        Rule rule;
        std::optional<std::string> name;
        if (const toml::node* node = in_.string(table, "name", name)) {
            if (in_.check_length(*node, "name", *name, kMaxNameLength, "a rule name")) {
                rule.name = name;
            }
        }
        if (const auto v = in_.enumeration(table, "protocol", kProtocolNames, "protocol")) {
            rule.protocol = *v;
        }
        rule.destination = prefix(table, "destination");
        rule.destination_ports =
            range<PortRange, std::uint16_t>(table, "destination_ports", 1, kMaxPort, "port");
        rule.source = prefix(table, "source");
        rule.source_ports =
            range<PortRange, std::uint16_t>(table, "source_ports", 1, kMaxPort, "port");
        rule.uid = range<IdRange, std::uint32_t>(table, "uid", 0, kMaxId, "uid");
        rule.gid = range<IdRange, std::uint32_t>(table, "gid", 0, kMaxId, "gid");
        rule.cgroup = cgroup(table, "cgroup");
        rule.mark = mark(table, "mark");
        rule.out_interface = interface(table, "out_interface");
        rule.in_interface = interface(table, "in_interface");
        const auto action = in_.enumeration(table, "action", kActionNames, "action");
        if (action) {
            rule.action = *action;
        } else if (table.get("action") == nullptr) {
            in_.missing(table, "action", "[[rule]]");
        }
        if (const auto port = in_.integer(table, "to_port", 1, kMaxPort)) {
            rule.to_port = static_cast<std::uint16_t>(*port);
        }
        std::optional<std::string> pool;
        if (in_.string(table, "pool", pool) != nullptr) {
            rule.pool = pool;
        }

        if (rule.destination && rule.source && rule.destination->family != rule.source->family) {
            in_.error(table.get("source")->source(),
                      "source: " + std::string(to_string(rule.source->family)) +
                          " prefix in a rule whose destination is " +
                          std::string(to_string(rule.destination->family)) +
                          " (a rule cannot mix address families)");
        }
        check_local_only(table);
        if (action) {
            check_action(table, rule);
        }
        return rule;
    }

    void check_local_only(const toml::table& table) {
        const toml::node* in = table.get("in_interface");
        if (in == nullptr) {
            return;
        }
        std::string keys;
        for (const std::string_view key : {"uid", "gid", "cgroup"}) {
            if (table.get(key) != nullptr) {
                keys += keys.empty() ? "" : ", ";
                keys += key;
            }
        }
        if (!keys.empty()) {
            in_.error(in->source(), "in_interface cannot be combined with " + keys +
                                        ": forwarded packets have no local socket");
        }
    }

    void check_action(const toml::table& table, const Rule& rule) {
        const toml::node* to_port = table.get("to_port");
        const toml::node* pool = table.get("pool");
        const std::string action(to_string(rule.action));
        switch (rule.action) {
            case Action::redirect:
                if (to_port != nullptr && pool != nullptr) {
                    in_.error(to_port->source(), "redirect takes to_port or pool, not both");
                } else if (to_port == nullptr && pool == nullptr) {
                    in_.error(table.source(),
                              "redirect needs to_port (one local port) or pool (a "
                              "pool of local-port backends)");
                } else if (pool != nullptr && rule.pool) {
                    check_pool(*pool, rule, true);
                }
                break;
            case Action::dnat:
                if (to_port != nullptr) {
                    in_.error(to_port->source(),
                              "dnat takes no to_port (the backends of its pool "
                              "have the ports)");
                }
                if (pool == nullptr) {
                    in_.error(table.source(), "dnat needs pool (a pool of address backends)");
                } else if (rule.pool) {
                    check_pool(*pool, rule, false);
                }
                break;
            case Action::bypass:
            case Action::drop:
                if (to_port != nullptr) {
                    in_.error(to_port->source(), action + " takes no to_port");
                }
                if (pool != nullptr) {
                    in_.error(pool->source(), action + " takes no pool");
                }
                break;
        }
    }

    void check_pool(const toml::node& node, const Rule& rule, bool want_local) {
        const auto it = pools_.find(*rule.pool);
        if (it == pools_.end()) {
            in_.error(node.source(), "pool: no pool named " + squote(*rule.pool));
            return;
        }
        const PoolInfo& info = it->second;
        const std::string name = squote(*rule.pool);
        if (want_local && info.ipv4 + info.ipv6 > 0) {
            in_.error(node.source(), "pool: redirect needs a pool of local-port backends, but " +
                                         name + " has address backends (use dnat)");
            return;
        }
        if (!want_local && info.local > 0) {
            in_.error(node.source(), "pool: dnat needs a pool of address backends, but " + name +
                                         " has local-port backends (use redirect)");
            return;
        }
        const auto family = rule.family();
        if (!want_local && family && info.ipv4 + info.ipv6 > 0 &&
            (*family == Family::ipv4 ? info.ipv4 : info.ipv6) == 0) {
            in_.error(node.source(), "pool: " + name + " has no " +
                                         std::string(to_string(*family)) +
                                         " backend, but the rule matches only " +
                                         std::string(to_string(*family)) + " traffic");
        }
        // A rule of both families to a pool of one: the other family's connections would
        // find no backend and meet the pool's failure mode (dropped, or sent direct).
        if (!want_local && !family && (info.ipv4 == 0) != (info.ipv6 == 0)) {
            const std::string only(to_string(info.ipv4 > 0 ? Family::ipv4 : Family::ipv6));
            const std::string other(to_string(info.ipv4 > 0 ? Family::ipv6 : Family::ipv4));
            const std::string any = info.ipv4 > 0 ? "0.0.0.0/0" : "::/0";
            in_.error(node.source(), "pool: " + name + " has only " + only +
                                         " backends, but the rule matches " + other +
                                         " traffic too; give it an " + only + " destination (" +
                                         any + " for any) or add " + other + " backends");
        }
    }

    TomlReader& in_;
    std::map<std::string, PoolInfo, std::less<>> pools_;
};

}  // namespace

File parse_file(std::string_view text, std::string_view filename) {
    const toml::table root = TomlReader::parse_document(text, filename);
    TomlReader reader(filename);
    File file = Parser(reader).run(root);
    auto diagnostics = reader.take_diagnostics();
    if (!diagnostics.empty()) {
        throw ConfigError(std::move(diagnostics));
    }
    return file;
}

Config parse(std::string_view text, std::string_view filename) {
    return parse_file(text, filename).config;
}

std::optional<std::uint32_t> parse_duration(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    const auto number = parse_decimal(text.substr(0, digits), kMaxDurationMs);
    if (!number) {
        return std::nullopt;
    }
    const std::string_view unit = text.substr(digits);
    std::uint64_t scale = 0;
    if (unit == "ms") {
        scale = 1;
    } else if (unit == "s") {
        scale = 1000;
    } else if (unit == "m") {
        scale = std::uint64_t{60} * 1000U;
    } else if (unit == "h") {
        scale = std::uint64_t{3600} * 1000U;
    } else {
        return std::nullopt;
    }
    const std::uint64_t ms = *number * scale;
    if (ms > kMaxDurationMs) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(ms);
}

}  // namespace mutex::config
