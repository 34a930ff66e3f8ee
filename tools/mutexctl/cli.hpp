// SPDX-License-Identifier: GPL-2.0
// mutexctl's command line: parsing and validation (CLI11) and execution against a Backend and a
// ReadFile, so both are unit-tested without a kernel or files. main.cpp only wires the real
// netlink client and file reader in.
//
//   mutexctl [-j|--json] version | status | stats | params [get [NAME] | set NAME VALUE]
//                      | config validate FILE | config apply FILE | config show
//                      | flows | flows flush | origdst PROTO SRC SPORT DST DPORT
//                      | backend POOL TARGET (up | down | drain | weight N | end-flows [tcp|udp])
//                      | events [--flows] [--count N] [--timeout SECONDS]
//                      | top [--count N] | upgrade [--module FILE]
//                      | kernel-check [--config FILE] [--release REL] [--modules FILE] [--fragment]
//                      | guard (install | show) [--config FILE] | guard remove
//
// Exit codes: 0 success (also `version` when the module is not loaded), 1 kernel or runtime
// error (also an invalid configuration file), 2 usage error. Errors go to stderr as
// "mutexctl: <what>: <kernel message or strerror>", except a configuration file's diagnostics:
// "FILE:LINE:COLUMN: message", one per line, so editors can jump to them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libmutex/client.hpp"
#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"

namespace mutexctl {

inline constexpr std::string_view kVersion = MUTEXCTL_VERSION;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

enum class Command {
    version,
    status,
    stats,
    params_get,
    params_set,
    config_validate,
    config_apply,
    config_show,
    flows,
    flows_flush,
    origdst,
    backend_set,
    backend_end_flows,
    events,
    top,
    upgrade,        // upgrade.hpp
    kernel_check,   // kernel_check.hpp
    guard_install,  // guard.hpp
    guard_remove,
    guard_show,
};

/// A validated command line.
struct Invocation {
    Command command = Command::status;
    bool json = false;
    const mutex::ParamField* param = nullptr;  // params get NAME / params set NAME VALUE
    std::uint32_t value = 0;                   // params set
    std::string file;                          // config validate|apply FILE
    mutex::FlowKey key;                        // origdst PROTO SRC SPORT DST DPORT
    std::optional<std::uint64_t> generation;   // config apply / backend --generation N
    mutex::BackendChange change;               // backend POOL TARGET up|down|drain|weight N
    mutex::config::Protocol end_protocol = mutex::config::Protocol::any;  // end-flows [PROTO]
    std::optional<std::uint64_t> count;          // events --count N: stop after N events;
                                                 // top --count N: after N refreshes
    std::optional<std::uint32_t> timeout_s;      // events --timeout S: stop after S quiet seconds
    std::optional<std::string> module_file{};    // upgrade --module FILE
    std::optional<std::string> kernel_config{};  // kernel-check --config FILE
    std::optional<std::string> release{};        // kernel-check --release REL
    std::optional<std::string> modules_list{};   // kernel-check --modules FILE
    bool flows = false;                          // events --flows: flow starts and ends too
    bool fragment = false;                       // kernel-check --fragment

    bool operator==(const Invocation&) const = default;
};

/// What the process prints and returns.
struct Outcome {
    int code = kExitOk;
    std::string out;  // for stdout
    std::string err;  // for stderr
};

/// An unsigned 32-bit decimal integer: digits only (no sign, no blanks, no prefix), at most
/// 4294967295. Ranges are the kernel's business.
std::optional<std::uint32_t> parse_u32(std::string_view text) noexcept;
/// The same for unsigned 64-bit (at most 18446744073709551615).
std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept;
/// A port: decimal digits only, 1..65535.
std::optional<std::uint16_t> parse_port(std::string_view text) noexcept;
/// A backend as `backend` names it: "10.0.0.2:26656", "[2001:db8::2]:26656", or a port alone
/// ("1080") for a local backend (a redirect pool's). nullopt otherwise.
std::optional<mutex::BackendRef> parse_backend_target(std::string_view text);

/// Parses the arguments after argv[0]. Returns the Invocation to execute, or the Outcome to
/// exit with (help: code 0 on stdout; usage error: code 2 on stderr).
std::variant<Invocation, Outcome> parse_args(const std::vector<std::string>& args);

/// What execute() needs from the module; the real one is mutex::Client.
class Backend {
public:
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    Backend(Backend&&) = delete;
    Backend& operator=(Backend&&) = delete;
    virtual ~Backend() = default;

    virtual mutex::Info get_info() = 0;
    virtual mutex::Stats get_stats() = 0;
    virtual mutex::Params set_params(const mutex::Params& params) = 0;
    /// MUTEX_CMD_GET_CONFIG; interface indexes named by the real interfaces.
    virtual mutex::ConfigSnapshot get_config() = 0;
    /// MUTEX_CMD_SET_CONFIG; returns the new generation.
    virtual std::uint64_t set_config(const mutex::config::Config& config,
                                     std::uint64_t expected_generation,
                                     const mutex::InterfaceIndexes& interfaces) = 0;
    /// MUTEX_CMD_GET_FLOWS (a dump, retried while the table changes under it).
    virtual mutex::FlowDump get_flows() = 0;
    /// MUTEX_CMD_FLUSH_FLOWS; returns the number of flows removed.
    virtual std::uint64_t flush_flows() = 0;
    /// MUTEX_CMD_GET_ORIGDST for the post-NAT 5-tuple `key`.
    virtual mutex::Flow origdst(const mutex::FlowKey& key) = 0;
    /// MUTEX_CMD_SET_BACKEND; returns the generation.
    virtual std::uint64_t set_backend(const mutex::BackendChange& change) = 0;
    /// MUTEX_CMD_END_FLOWS; returns the number of connections ended.
    virtual std::uint64_t end_flows(const mutex::BackendRef& backend,
                                    mutex::config::Protocol protocol) = 0;
    /// Joins the "events" group (and with `flows` "flows") and calls `on_events` with each
    /// message's events until it returns false; throws NetlinkError(ETIMEDOUT) after `quiet`
    /// without a message.
    virtual void follow_events(
        const std::function<bool(const std::vector<mutex::Event>&)>& on_events,
        std::chrono::milliseconds quiet, bool flows) = 0;
    /// The index of the interface called `name` (if_nametoindex), nullopt if there is none.
    [[nodiscard]] virtual std::optional<std::uint32_t> interface_index(
        const std::string& name) const = 0;
    /// Extended-ack warning of the last successful request, usually empty.
    [[nodiscard]] virtual std::string warning() const = 0;
};

/// Opens the connection to the module; throws mutex::FamilyNotFound when it is not loaded.
using Connect = std::function<std::unique_ptr<Backend>()>;

/// Returns the whole content of the file at `path`; throws std::system_error (code: the errno)
/// when it cannot be read. The real one is in main.cpp, the only place that touches files.
using ReadFile = std::function<std::string(const std::string& path)>;

/// Writes output at once (for `events`, which runs until stopped); the real one writes stdout
/// and flushes.
using Write = std::function<void(const std::string& text)>;

/// Waits `period` for `top`'s next refresh; returns false when the user asked to quit (q, or
/// an interrupt). The real one (main.cpp) reads the terminal; without one, top just sleeps.
using Wait = std::function<bool(std::chrono::milliseconds period)>;

/// What mutexctl does to the system besides netlink (upgrade, guard); the real one (main.cpp)
/// runs nft, rmmod and modprobe/insmod. Each throws std::runtime_error with the tool's message
/// on failure.
class SystemTools {
public:
    SystemTools() = default;
    SystemTools(const SystemTools&) = delete;
    SystemTools& operator=(const SystemTools&) = delete;
    SystemTools(SystemTools&&) = delete;
    SystemTools& operator=(SystemTools&&) = delete;
    virtual ~SystemTools() = default;

    /// Loads the nftables ruleset `ruleset` (nft -f -).
    virtual void nft(const std::string& ruleset) = 0;
    /// Unloads mutex_proxy (rmmod), and only it: conntrack and NAT stay.
    virtual void unload() = 0;
    /// Loads mutex_proxy: the installed one (modprobe, which reads /etc/modprobe.d) when `file`
    /// is empty, else that file (insmod).
    virtual void load(const std::optional<std::string>& file) = 0;
};

/// Runs a validated command. Never throws for kernel or runtime errors: they become exit code 1
/// and a "mutexctl: ..." line on stderr. `config validate` uses only read_file, never connect.
/// `events` and `top` write through `write` when given (else into Outcome::out); `top` waits
/// between refreshes through `wait`; `upgrade` and `guard` act through `tools`.
Outcome execute(const Invocation& invocation, const Connect& connect, const ReadFile& read_file,
                const Write& write = {}, const Wait& wait = {}, SystemTools* tools = nullptr);

/// The interface indexes `config`'s rules name, from `backend`; throws std::runtime_error
/// naming `where` and the rule when an interface does not exist.
mutex::InterfaceIndexes interface_indexes(const mutex::config::Config& config,
                                          const Backend& backend, const std::string& where);

/// How often `top` refreshes.
inline constexpr std::chrono::milliseconds kTopPeriod{1000};
/// What `top` writes before each screen on a terminal: cursor home, clear the screen.
inline constexpr std::string_view kClearScreen = "\x1b[H\x1b[2J";

/// `config show`, pure: "# generation N" and the configuration as TOML (config::to_toml), or
/// with `json` {"generation", "config", "backends": [{"pool", "address", "port", "state",
/// "active_flows", "total_flows", "pkts", "bytes"}, ...]}.
std::string show_config(const mutex::ConfigSnapshot& snapshot, bool json);

/// `config validate`, pure: checks `text`, the content of `file`. Valid: exit 0 and
/// "FILE: ok (N pools, M rules)" or {"file", "ok": true, "config"} on stdout. Invalid: exit 1,
/// every diagnostic on stderr as "FILE:LINE:COLUMN: message", and with `json`
/// {"file", "ok": false, "errors": [{"line", "column", "message"}, ...]} on stdout.
Outcome validate_config(std::string_view text, const std::string& file, bool json);

}  // namespace mutexctl
