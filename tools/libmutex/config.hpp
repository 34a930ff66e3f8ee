// SPDX-License-Identifier: GPL-2.0
// The configuration model of mutex_proxy (pools of backends, first-match rules) as read from the
// TOML file /etc/mutex_proxy/mutexd.toml by mutexctl (config validate|show|apply) and mutexd.
//
// Everything here is pure except load_file(): parse() turns TOML text into a validated Config or
// throws ConfigError carrying every diagnostic found (FILE:LINE:COLUMN: message), to_toml() and
// to_json() print a Config back (parse(to_toml(c)) == c). Interface names and cgroup paths stay
// strings: they are resolved when the configuration is applied, not here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mutex::config {

// Limits agreed with the kernel module.
inline constexpr std::size_t kMaxRules = 65535;
inline constexpr std::size_t kMaxPools = 256;
inline constexpr std::size_t kMaxBackendsPerPool = 256;
/// Pool and rule names: at most this many bytes.
inline constexpr std::size_t kMaxNameLength = 31;
/// Interface names: IFNAMSIZ - 1.
inline constexpr std::size_t kMaxInterfaceNameLength = 15;
/// cgroup v2 paths: PATH_MAX - 1.
inline constexpr std::size_t kMaxCgroupPathLength = 4095;
/// The largest uid/gid usable in a range; 4294967295 is the kernel's INVALID_UID/INVALID_GID.
inline constexpr std::uint32_t kMaxId = 4294967294U;

enum class Family : std::uint8_t { ipv4, ipv6 };
enum class Scheduler : std::uint8_t { rr, wrr, source_hash, least_conn, failover };
enum class FailureMode : std::uint8_t { closed, open };
enum class BackendState : std::uint8_t { up, down, drain };
enum class Action : std::uint8_t { redirect, dnat, bypass, drop };
enum class Protocol : std::uint8_t { any, tcp, udp };

/// One enum value and its spelling in the file (and in JSON).
template <typename E>
struct EnumName {
    E value;
    std::string_view name;
};

/// The spelling of `value` in `names`, "?" for a value missing from it.
template <typename E, std::size_t N>
constexpr std::string_view name_of(const std::array<EnumName<E>, N>& names, E value) noexcept {
    for (const auto& entry : names) {
        if (entry.value == value) {
            return entry.name;
        }
    }
    return "?";
}

inline constexpr std::array<EnumName<Scheduler>, 5> kSchedulerNames{{
    {Scheduler::rr, "rr"},
    {Scheduler::wrr, "wrr"},
    {Scheduler::source_hash, "source-hash"},
    {Scheduler::least_conn, "least-conn"},
    {Scheduler::failover, "failover"},
}};
inline constexpr std::array<EnumName<FailureMode>, 2> kFailureModeNames{{
    {FailureMode::closed, "closed"},
    {FailureMode::open, "open"},
}};
inline constexpr std::array<EnumName<BackendState>, 3> kBackendStateNames{{
    {BackendState::up, "up"},
    {BackendState::down, "down"},
    {BackendState::drain, "drain"},
}};
inline constexpr std::array<EnumName<Action>, 4> kActionNames{{
    {Action::redirect, "redirect"},
    {Action::dnat, "dnat"},
    {Action::bypass, "bypass"},
    {Action::drop, "drop"},
}};
inline constexpr std::array<EnumName<Protocol>, 3> kProtocolNames{{
    {Protocol::any, "any"},
    {Protocol::tcp, "tcp"},
    {Protocol::udp, "udp"},
}};

/// An IPv4 or IPv6 address in network byte order; IPv4 uses bytes[0..3], the rest is zero.
struct Address {
    Family family = Family::ipv4;
    std::array<std::uint8_t, 16> bytes{};

    bool operator==(const Address&) const = default;
};

/// An address prefix with no host bits set (10.0.0.0/8, 2001:db8::/32).
struct Prefix {
    Family family = Family::ipv4;
    std::array<std::uint8_t, 16> address{};
    std::uint8_t length = 0;

    bool operator==(const Prefix&) const = default;
};

/// Inclusive port range, 1 <= first <= last <= 65535.
struct PortRange {
    std::uint16_t first = 1;
    std::uint16_t last = 65535;

    bool operator==(const PortRange&) const = default;
};

/// Inclusive uid or gid range, first <= last <= kMaxId.
struct IdRange {
    std::uint32_t first = 0;
    std::uint32_t last = 0;

    bool operator==(const IdRange&) const = default;
};

/// Packet mark match: (skb->mark & mask) == value; value has no bit outside mask, mask != 0.
struct Mark {
    std::uint32_t value = 0;
    std::uint32_t mask = 0xffffffffU;

    bool operator==(const Mark&) const = default;
};

/// A pool member: a local port (no address: the pool serves `redirect`) or a remote
/// address:port (the pool serves `dnat`). A pool never mixes the two kinds.
struct Backend {
    std::optional<Address> address;
    std::uint16_t port = 0;
    std::uint16_t weight = 1;
    std::uint8_t priority = 0;
    BackendState state = BackendState::up;

    [[nodiscard]] bool is_local() const noexcept { return !address.has_value(); }
    bool operator==(const Backend&) const = default;
};

struct Pool {
    std::string name;
    Scheduler scheduler = Scheduler::rr;
    FailureMode failure_mode = FailureMode::closed;
    /// At least one, at most kMaxBackendsPerPool, no two with the same address and port.
    std::vector<Backend> backends;

    bool operator==(const Pool&) const = default;
};

/// One rule; every match that is set must hold. Rules are evaluated in order, first match wins.
struct Rule {
    std::optional<std::string> name;
    Protocol protocol = Protocol::any;
    std::optional<Prefix> destination;
    std::optional<PortRange> destination_ports;
    std::optional<Prefix> source;
    std::optional<PortRange> source_ports;
    std::optional<IdRange> uid;
    std::optional<IdRange> gid;
    std::optional<std::string> cgroup;
    std::optional<Mark> mark;
    std::optional<std::string> out_interface;
    std::optional<std::string> in_interface;
    Action action = Action::drop;
    /// redirect only, exclusive with pool.
    std::optional<std::uint16_t> to_port;
    /// redirect (pool of local ports) or dnat (pool of addresses).
    std::optional<std::string> pool;

    /// The family of the rule's prefixes, or nullopt when it has none (it matches both).
    [[nodiscard]] std::optional<Family> family() const noexcept;
    bool operator==(const Rule&) const = default;
};

struct Config {
    std::vector<Pool> pools;
    std::vector<Rule> rules;

    /// The pool with this name, or nullptr.
    [[nodiscard]] const Pool* find_pool(std::string_view name) const noexcept;
    bool operator==(const Config&) const = default;
};

// ---------------------------------------------------------------------------------------------
// The daemon's part of the file (mutexd): nothing of it goes to the kernel. It is parsed with the
// rest, so `mutexctl config validate` checks the whole file mutexd reads.
// ---------------------------------------------------------------------------------------------

enum class CheckType : std::uint8_t { tcp, udp, none };
enum class OnBackendDown : std::uint8_t { keep, reset_udp, reset_all };
enum class LogLevel : std::uint8_t { trace, debug, info, warn, error };

inline constexpr std::array<EnumName<CheckType>, 3> kCheckTypeNames{{
    {CheckType::tcp, "tcp"},
    {CheckType::udp, "udp"},
    {CheckType::none, "none"},
}};
inline constexpr std::array<EnumName<OnBackendDown>, 3> kOnBackendDownNames{{
    {OnBackendDown::keep, "keep"},
    {OnBackendDown::reset_udp, "reset-udp"},
    {OnBackendDown::reset_all, "reset-all"},
}};
inline constexpr std::array<EnumName<LogLevel>, 5> kLogLevelNames{{
    {LogLevel::trace, "trace"},
    {LogLevel::debug, "debug"},
    {LogLevel::info, "info"},
    {LogLevel::warn, "warn"},
    {LogLevel::error, "error"},
}};

/// Durations in the file are strings: "250ms", "2s", "1m", "1h" (one number, one unit).
inline constexpr std::uint32_t kMinCheckIntervalMs = 100;
inline constexpr std::uint32_t kMaxDurationMs = 3600U * 1000U;

/// Where a backend's health check connects: the backend itself unless the file says otherwise
/// (check_address, check_port: the upstream SOCKS server behind a local proxy client).
struct CheckTarget {
    std::optional<Address> address;
    std::optional<std::uint16_t> port;

    bool operator==(const CheckTarget&) const = default;
};

/// How mutexd watches one pool and what it does when a backend goes down.
struct PoolPolicy {
    CheckType check = CheckType::tcp;
    std::uint32_t interval_ms = 2000;  // check_interval
    std::uint32_t timeout_ms = 1000;   // check_timeout, at most the interval
    std::uint8_t rise = 2;             // successes in a row to come back up
    std::uint8_t fall = 3;             // failures in a row to go down
    OnBackendDown on_backend_down = OnBackendDown::reset_udp;
    /// Parallel to the pool's backends.
    std::vector<CheckTarget> targets;

    bool operator==(const PoolPolicy&) const = default;
};

/// [metrics]: the Prometheus endpoint.
struct MetricsSettings {
    bool enabled = true;
    Address address{Family::ipv4, {127, 0, 0, 1}};
    std::uint16_t port = 9477;

    bool operator==(const MetricsSettings&) const = default;
};

/// [tuning]: the run-time tuning policy's switch, period and bounds.
struct TuningSettings {
    bool enabled = true;
    std::uint32_t interval_ms = 10000;
    std::uint32_t cache_size_min = 256;  // powers of two, up to the module's maximum (65536)
    std::uint32_t cache_size_max = 65536;
    std::uint32_t batch_size_min = 1;  // within the module's 1..256
    std::uint32_t batch_size_max = 256;

    bool operator==(const TuningSettings&) const = default;
};

/// [daemon]: logging, and what the kernel keeps when mutexd stops.
/// What the boot guard (`mutexctl guard install`) drops until mutexd has applied the file: the
/// rules of pools in failure mode closed, every steering rule, or nothing.
enum class GuardMode : std::uint8_t { closed, all, off };
inline constexpr std::array<EnumName<GuardMode>, 3> kGuardModeNames{{
    {GuardMode::closed, "closed"},
    {GuardMode::all, "all"},
    {GuardMode::off, "off"},
}};

struct DaemonSettings {
    LogLevel log_level = LogLevel::info;
    /// Empty the configuration when mutexd stops (default: the kernel keeps steering).
    bool flush_on_exit = false;
    GuardMode guard = GuardMode::closed;

    bool operator==(const DaemonSettings&) const = default;
};

/// Everything of the file that is mutexd's alone.
struct Daemon {
    std::vector<PoolPolicy> pools;  // parallel to Config::pools
    MetricsSettings metrics;
    TuningSettings tuning;
    DaemonSettings daemon;

    bool operator==(const Daemon&) const = default;
};

/// The whole file: what goes to the kernel and what stays with mutexd.
struct File {
    Config config;
    Daemon daemon;

    bool operator==(const File&) const = default;
};

/// "250ms", "2s", "1m", "1h" in milliseconds, or nullopt; at most kMaxDurationMs.
std::optional<std::uint32_t> parse_duration(std::string_view text);

/// One problem found in a configuration file. line and column are 1-based; 0 when the problem
/// has no position (the file could not be read).
struct Diagnostic {
    std::string file;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string message;

    /// "FILE:LINE:COLUMN: message", or "FILE: message" without a position.
    [[nodiscard]] std::string to_string() const;
    bool operator==(const Diagnostic&) const = default;
};

/// A configuration that cannot be used. what() is every diagnostic's to_string(), one per line,
/// in file order.
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::vector<Diagnostic> diagnostics);

    [[nodiscard]] const std::vector<Diagnostic>& diagnostics() const noexcept {
        return diagnostics_;
    }

private:
    std::vector<Diagnostic> diagnostics_;
};

/// Parses and validates TOML text, the daemon's sections included. `filename` only names the
/// text in diagnostics. @throws ConfigError with every problem found, sorted by position.
File parse_file(std::string_view text, std::string_view filename);
/// parse_file()'s configuration alone: what goes to the kernel.
Config parse(std::string_view text, std::string_view filename);

/// Reads the file at `path` and parse_file()s it: the kernel's part and mutexd's.
/// @throws ConfigError (also when the file cannot be read: "PATH: cannot read: strerror").
File read_file(const std::string& path);
/// read_file()'s configuration alone: what goes to the kernel.
Config load_file(const std::string& path);

/// Canonical TOML: pools then rules, keys in model order, defaults written out, optional rule
/// matches only when set. parse(to_toml(c), f) == c for every valid c.
std::string to_toml(const Config& config);

/// {"pool": [{"name", "scheduler", "failure_mode", "backend": [...]}], "rule": [...]}: the keys
/// and value spellings of the TOML file; unset optional values are left out.
nlohmann::ordered_json to_json(const Config& config);

std::string_view to_string(Scheduler value) noexcept;
std::string_view to_string(FailureMode value) noexcept;
std::string_view to_string(BackendState value) noexcept;
std::string_view to_string(Action value) noexcept;
std::string_view to_string(Protocol value) noexcept;
/// "IPv4" or "IPv6".
std::string_view to_string(Family value) noexcept;
/// "10.0.0.2", "2001:db8::1".
std::string to_string(const Address& address);
/// The address in text as inet_pton reads it (no brackets, port, prefix length or zone), or
/// nullopt; text with an embedded NUL is refused rather than cut short.
std::optional<Address> parse_address(std::string_view text);
/// "10.0.0.0/8", "::1/128" (always with the length).
std::string to_string(const Prefix& prefix);
/// "26656" or "1024-65535".
std::string to_string(const PortRange& range);
/// "1000" or "1000-1999".
std::string to_string(const IdRange& range);
/// "0x10/0xff" (the mask is always written).
std::string to_string(const Mark& mark);

}  // namespace mutex::config
