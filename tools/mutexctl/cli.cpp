// SPDX-License-Identifier: GPL-2.0
#include "mutexctl/cli.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <exception>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>

#include <CLI/CLI.hpp>

#include "libmutex/config.hpp"
#include "libmutex/error.hpp"
#include "libmutex/format.hpp"
#include "libmutex/tuning_record.hpp"
#include "mutexctl/guard.hpp"
#include "mutexctl/kernel_check.hpp"
#include "mutexctl/top.hpp"
#include "mutexctl/upgrade.hpp"

namespace mutexctl {

namespace {

namespace format = mutex::format;

Outcome usage_error(const std::string& message) {
    return {kExitUsage, {}, "mutexctl: " + message + "\nRun 'mutexctl --help' for usage.\n"};
}

bool uses_flows(Command command) {
    return command == Command::flows || command == Command::flows_flush ||
           command == Command::origdst;
}

std::string message_for(const mutex::NetlinkError& e, const Invocation& inv) {
    const Command command = inv.command;
    if (command == Command::params_set && e.error() == EPERM && e.kernel_message().empty()) {
        return std::string(e.what()) + " (needs CAP_NET_ADMIN in the initial user namespace)";
    }
    if ((command == Command::config_apply || command == Command::flows_flush ||
         command == Command::config_show || command == Command::flows ||
         command == Command::backend_set || command == Command::backend_end_flows ||
         command == Command::events) &&
        e.error() == EPERM && e.kernel_message().empty()) {
        return std::string(e.what()) + " (needs CAP_NET_ADMIN over the network namespace)";
    }
    if (uses_flows(command) && e.error() == EOPNOTSUPP && e.kernel_message().empty()) {
        return std::string(e.what()) +
               " (the loaded module has no connection table commands: API version 3 needed)";
    }
    if ((command == Command::backend_set || command == Command::backend_end_flows) &&
        e.error() == EOPNOTSUPP && e.kernel_message().empty()) {
        return std::string(e.what()) +
               " (the loaded module has no backend commands: API version 4 needed)";
    }
    if (command == Command::backend_set && e.error() == ESTALE) {
        return "the module no longer holds generation " +
               std::to_string(inv.change.generation.value_or(0)) + " (" + std::string(e.what()) +
               "); nothing was changed";
    }
    if (command == Command::config_apply && e.error() == ESTALE && inv.generation) {
        return "the module no longer holds generation " + std::to_string(*inv.generation) + " (" +
               std::string(e.what()) + "); nothing was changed";
    }
    if (command == Command::config_apply && e.error() == ESTALE) {
        return "another writer changed the configuration while it was being applied (" +
               std::string(e.what()) + "); nothing was changed, run it again";
    }
    return e.what();
}

std::string context_for(const Invocation& inv) {
    switch (inv.command) {
        case Command::version:
            return "version";
        case Command::status:
            return "status";
        case Command::stats:
            return "stats";
        case Command::params_get:
            return "params";
        case Command::params_set:
            return "set " + std::string(inv.param->name) + "=" + std::to_string(inv.value);
        case Command::config_validate:
            return "config validate";
        case Command::config_apply:
            return "config apply";
        case Command::config_show:
            return "config show";
        case Command::flows:
            return "flows";
        case Command::flows_flush:
            return "flows flush";
        case Command::origdst:
            return "origdst";
        case Command::backend_set:
        case Command::backend_end_flows:
            return "backend " + inv.change.backend.pool;
        case Command::events:
            return "events";
        case Command::top:
            return "top";
        case Command::upgrade:
            return "upgrade";
        case Command::kernel_check:
            return "kernel-check";
        case Command::guard_install:
            return "guard install";
        case Command::guard_remove:
            return "guard remove";
        case Command::guard_show:
            return "guard show";
    }
    return "mutexctl";
}

/// Like format::json_line, but a file name that is not UTF-8 is printed with U+FFFD instead of
/// making dump() throw.
std::string json_line_lenient(const format::Json& json) {
    return json.dump(-1, ' ', false, format::Json::error_handler_t::replace) + '\n';
}

/// Reads `inv.file`; on failure returns the Outcome to exit with.
std::variant<std::string, Outcome> read_config_file(const Invocation& inv,
                                                    const ReadFile& read_file) {
    const std::string context = "mutexctl: " + context_for(inv) + ": ";
    try {
        return read_file(inv.file);
    } catch (const std::system_error& e) {
        return Outcome{
            kExitFailure, {}, context + inv.file + ": cannot read: " + e.code().message() + "\n"};
    } catch (const std::exception& e) {
        return Outcome{kExitFailure, {}, context + inv.file + ": cannot read: " + e.what() + "\n"};
    }
}

Outcome run_config_validate(const Invocation& inv, const ReadFile& read_file) {
    auto text = read_config_file(inv, read_file);
    if (auto* failed = std::get_if<Outcome>(&text)) {
        return *failed;
    }
    try {
        return validate_config(std::get<std::string>(text), inv.file, inv.json);
    } catch (const std::exception& e) {
        return {kExitFailure, {}, "mutexctl: " + context_for(inv) + ": " + e.what() + "\n"};
    }
}

/// `config apply`: the file is parsed and validated before the module is contacted.
std::string apply_config(const Invocation& inv, const mutex::config::Config& config,
                         Backend& backend) {
    const mutex::InterfaceIndexes interfaces = interface_indexes(config, backend, inv.file);
    const std::uint64_t expected =
        inv.generation ? *inv.generation : backend.get_config().generation;
    const std::uint64_t generation = backend.set_config(config, expected, interfaces);
    if (inv.json) {
        format::Json doc;
        doc["generation"] = generation;
        return format::json_line(doc);
    }
    return "applied generation " + std::to_string(generation) + "\n";
}

std::string target_text(const mutex::BackendRef& ref) {
    if (!ref.address) {
        return "port " + std::to_string(ref.port);
    }
    return format::endpoint({*ref.address, ref.port});
}

/// The changes of mutexd's tuning that still hold (the parameter has the value mutexd set),
/// from kTuningRecordPath; none when there is no record or it cannot be read.
mutex::TuningRecord tuned_by_mutexd(const mutex::Params& params, const ReadFile& read_file) {
    mutex::TuningRecord held;
    try {
        for (auto& [name, change] :
             mutex::decode_tuning_record(read_file(std::string(mutex::kTuningRecordPath)))) {
            const auto* field = mutex::find_param(name);
            if (field != nullptr && params.*field->member == change.to) {
                held.emplace(name, std::move(change));
            }
        }
    } catch (const std::exception&) {
        return {};  // no mutexd has tuned, or the record is not readable by this user
    }
    return held;
}

/// "2026-12-04 19:05:01 UTC".
std::string utc_time(std::int64_t seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    std::array<char, 32> buf{};
    if (::gmtime_r(&t, &tm) == nullptr ||
        std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        return std::to_string(seconds);
    }
    return buf.data();
}

std::string run(const Invocation& inv, const Connect& connect, const ReadFile& read_file,
                std::string& warning) {
    if (inv.command == Command::version) {
        std::optional<mutex::Info> info;
        try {
            auto backend = connect();
            info = backend->get_info();
            warning = backend->warning();
        } catch (const mutex::FamilyNotFound&) {
            // the module is not loaded: say so, it is not an error for `version`
        }
        return inv.json ? format::json_line(format::version_to_json(kVersion, info))
                        : format::human_version(kVersion, info);
    }

    auto backend = connect();
    std::string out;
    switch (inv.command) {
        case Command::status: {
            const auto info = backend->get_info();
            out = inv.json ? format::json_line(format::to_json(info)) : format::human(info);
            break;
        }
        case Command::stats: {
            const auto stats = backend->get_stats();
            out = inv.json ? format::json_line(format::to_json(stats)) : format::human(stats);
            break;
        }
        case Command::params_get: {
            const auto params = backend->get_info().params;
            if (inv.param != nullptr) {
                out = inv.json ? format::json_line(format::param_to_json(*inv.param, params))
                               : format::human_param(*inv.param, params);
            } else {
                const auto tuned = tuned_by_mutexd(params, read_file);
                if (inv.json) {
                    auto doc = format::to_json(params);
                    if (!tuned.empty()) {
                        format::Json set = format::Json::object();
                        for (const auto& [name, c] : tuned) {
                            set[name] = {{"from", c.from},     {"to", c.to},
                                         {"reason", c.reason}, {"detail", c.detail},
                                         {"time", c.time},     {"netns_cookie", c.netns_cookie}};
                        }
                        doc["set_by_mutexd"] = std::move(set);
                    }
                    out = format::json_line(doc);
                } else {
                    out = format::human(params);
                    for (const auto& [name, c] : tuned) {
                        out += name + " = " + std::to_string(c.to) + " set by mutexd at " +
                               utc_time(c.time) + " (was " + std::to_string(c.from) +
                               "): " + c.reason + ": " + c.detail + "\n";
                    }
                }
            }
            break;
        }
        case Command::params_set: {
            mutex::Params request;
            request.*inv.param->member = inv.value;
            const auto params = backend->set_params(request);
            out = inv.json ? format::json_line(format::to_json(params))
                           : format::human_param(*inv.param, params);
            break;
        }
        case Command::config_show:
            out = show_config(backend->get_config(), inv.json);
            break;
        case Command::flows: {
            const mutex::FlowDump dump = backend->get_flows();
            out = inv.json ? format::json_line(dump.flows) : format::human(dump.flows);
            if (!dump.consistent) {
                warning = "the connection table changed during each of " +
                          std::to_string(dump.attempts) +
                          " dumps: flows may be missing or listed twice";
            }
            break;
        }
        case Command::flows_flush: {
            const std::uint64_t removed = backend->flush_flows();
            if (inv.json) {
                format::Json doc;
                doc["removed"] = removed;
                out = format::json_line(doc);
            } else {
                out =
                    "removed " + std::to_string(removed) + (removed == 1 ? " flow\n" : " flows\n");
            }
            break;
        }
        case Command::origdst: {
            const mutex::Flow flow = backend->origdst(inv.key);
            out = inv.json ? format::json_line(format::to_json(flow))
                           : mutex::config::to_string(flow.original_destination.address) + " " +
                                 std::to_string(flow.original_destination.port) + "\n";
            break;
        }
        case Command::backend_set: {
            const std::uint64_t generation = backend->set_backend(inv.change);
            if (inv.json) {
                format::Json doc;
                doc["generation"] = generation;
                out = format::json_line(doc);
            } else {
                out = inv.change.backend.pool + " " + target_text(inv.change.backend) + ": " +
                      (inv.change.state ? std::string(mutex::config::to_string(*inv.change.state))
                                        : std::string()) +
                      (inv.change.state && inv.change.weight ? ", " : "") +
                      (inv.change.weight ? "weight " + std::to_string(*inv.change.weight)
                                         : std::string()) +
                      " (generation " + std::to_string(generation) + ")\n";
            }
            break;
        }
        case Command::backend_end_flows: {
            const std::uint64_t ended = backend->end_flows(inv.change.backend, inv.end_protocol);
            if (inv.json) {
                format::Json doc;
                doc["ended"] = ended;
                out = format::json_line(doc);
            } else {
                out = "ended " + std::to_string(ended) +
                      (ended == 1 ? " connection\n" : " connections\n");
            }
            break;
        }
        case Command::version:
        case Command::config_validate:
        case Command::config_apply:
        case Command::events:
        case Command::top:
        case Command::upgrade:
        case Command::kernel_check:
        case Command::guard_install:
        case Command::guard_remove:
        case Command::guard_show:
            break;
    }
    if (warning.empty()) {
        warning = backend->warning();
    }
    return out;
}

/// `events`: one line per event, written as it comes, until --count events or --timeout quiet
/// seconds (then exit 0); without either it runs until killed.
Outcome run_events(const Invocation& inv, const Connect& connect, const Write& write) {
    Outcome outcome;
    const auto emit = [&](const std::string& text) {
        if (write) {
            write(text);
        } else {
            outcome.out += text;
        }
    };
    auto backend = connect();
    std::uint64_t seen = 0;
    const auto quiet = inv.timeout_s
                           ? std::chrono::milliseconds(std::chrono::seconds(*inv.timeout_s))
                           : std::chrono::milliseconds::max();
    if (inv.count && *inv.count == 0) {
        return outcome;
    }
    try {
        backend->follow_events(
            [&](const std::vector<mutex::Event>& events) {
                for (const auto& event : events) {
                    emit(inv.json ? format::json_line(format::to_json(event))
                                  : format::human(event));
                    if (inv.count && ++seen >= *inv.count) {
                        return false;
                    }
                }
                return true;
            },
            quiet, inv.flows);
    } catch (const mutex::NetlinkError& e) {
        if (e.error() != ETIMEDOUT || !inv.timeout_s) {
            throw;
        }
    }
    return outcome;
}

/// `top`: a screen (or with -j a JSON line) every kTopPeriod of the rates since the last one,
/// until q, an interrupt or --count refreshes.
Outcome run_top(const Invocation& inv, const Connect& connect, const Write& write,
                const Wait& wait) {
    Outcome outcome;
    auto backend = connect();
    const auto sample = [&backend] {
        top::Sample s;
        s.stats = backend->get_stats();
        s.params = backend->get_info().params;
        s.config = backend->get_config();
        s.at = std::chrono::steady_clock::now();
        return s;
    };
    top::Sample prev = sample();
    for (std::uint64_t n = 0; !inv.count || n < *inv.count; ++n) {
        if (!wait) {
            std::this_thread::sleep_for(kTopPeriod);
        } else if (!wait(kTopPeriod)) {
            break;
        }
        top::Sample cur = sample();
        const top::View view = top::compute(prev, cur);
        const std::string text = inv.json ? format::json_line(top::to_json(view))
                                          : std::string(kClearScreen) + top::screen(view);
        if (write) {
            write(text);
        } else {
            outcome.out += text;
        }
        prev = std::move(cur);
    }
    return outcome;
}

/// origdst's arguments into inv.key; on failure the usage error to exit with.
std::optional<Outcome> parse_flow_key(const std::vector<std::string>& words, Invocation& inv) {
    const std::string& proto = words.at(0);
    std::string lower(proto);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "tcp") {
        inv.key.protocol = mutex::config::Protocol::tcp;
    } else if (lower == "udp") {
        inv.key.protocol = mutex::config::Protocol::udp;
    } else {
        return usage_error("origdst: invalid protocol '" + proto + "': expected tcp or udp");
    }
    const std::array<std::string_view, 2> roles{"source", "destination"};
    const std::array<mutex::Endpoint*, 2> endpoints{&inv.key.source, &inv.key.destination};
    for (std::size_t i = 0; i < 2; ++i) {
        const std::string& addr = words.at(1 + 2 * i);
        const std::string& port = words.at(2 + 2 * i);
        const auto address = mutex::config::parse_address(addr);
        if (!address) {
            return usage_error("origdst: invalid " + std::string(roles.at(i)) + " address '" +
                               addr + "': expected an IPv4 or IPv6 address");
        }
        const auto number = parse_port(port);
        if (!number) {
            return usage_error("origdst: invalid " + std::string(roles.at(i)) + " port '" + port +
                               "': expected a decimal number from 1 to 65535");
        }
        *endpoints.at(i) = {*address, *number};
    }
    if (inv.key.source.address.family != inv.key.destination.address.family) {
        return usage_error("origdst: source " + words.at(1) + " and destination " + words.at(3) +
                           " are not of the same address family");
    }
    return std::nullopt;
}

std::optional<Outcome> parse_backend_words(const std::vector<std::string>& words, Invocation& inv);

template <typename Unsigned>
std::optional<Unsigned> parse_unsigned(std::string_view text) noexcept {
    if (text.empty() ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    Unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

/// backend's words into inv.command and inv.change; on failure the usage error to exit with.
std::optional<Outcome> parse_backend_words(const std::vector<std::string>& words, Invocation& inv) {
    namespace cfg = mutex::config;
    inv.change.backend.pool = words.at(0);
    const auto target = parse_backend_target(words.at(1));
    if (!target) {
        return usage_error("backend: invalid backend '" + words.at(1) +
                           "': expected ADDR:PORT, [IPV6]:PORT or a local PORT");
    }
    inv.change.backend.address = target->address;
    inv.change.backend.port = target->port;
    const std::string& action = words.at(2);
    const std::optional<std::string> arg =
        words.size() > 3 ? std::optional<std::string>(words.at(3)) : std::nullopt;
    if (action == "weight") {
        inv.command = Command::backend_set;
        const auto weight = arg ? parse_u32(*arg) : std::nullopt;
        if (!weight || *weight < 1 || *weight > 65535) {
            return usage_error("backend: weight needs a value from 1 to 65535");
        }
        inv.change.weight = static_cast<std::uint16_t>(*weight);
        return std::nullopt;
    }
    if (action == "end-flows") {
        inv.command = Command::backend_end_flows;
        if (arg && *arg == "tcp") {
            inv.end_protocol = cfg::Protocol::tcp;
        } else if (arg && *arg == "udp") {
            inv.end_protocol = cfg::Protocol::udp;
        } else if (arg) {
            return usage_error("backend: end-flows takes tcp or udp, not '" + *arg + "'");
        }
        return std::nullopt;
    }
    for (const auto& entry : cfg::kBackendStateNames) {
        if (action == entry.name) {
            if (arg) {
                return usage_error("backend: " + action + " takes no value");
            }
            inv.command = Command::backend_set;
            inv.change.state = entry.value;
            return std::nullopt;
        }
    }
    return usage_error("backend: unknown action '" + action +
                       "' (valid: up, down, drain, weight N, end-flows [tcp|udp])");
}

/// `guard install | show | remove`.
Outcome run_guard(const Invocation& inv, const Connect& connect, const ReadFile& read_file,
                  SystemTools* tools) {
    namespace cfg = mutex::config;
    const std::string context = "mutexctl: " + context_for(inv) + ": ";
    if (inv.command != Command::guard_show && tools == nullptr) {
        return {kExitFailure, {}, context + "no way to run nft here\n"};
    }
    try {
        if (inv.command == Command::guard_remove) {
            tools->nft(guard_remove_ruleset());
            return {kExitOk, "guard: table inet " + std::string(kGuardTable) + " removed\n", {}};
        }
        auto text = read_config_file(inv, read_file);
        if (auto* failed = std::get_if<Outcome>(&text)) {
            return *failed;
        }
        cfg::File file;
        try {
            file = cfg::parse_file(std::get<std::string>(text), inv.file);
        } catch (const cfg::ConfigError&) {
            return validate_config(std::get<std::string>(text), inv.file, false);
        }
        const cfg::GuardMode mode = file.daemon.daemon.guard;
        if (mode == cfg::GuardMode::off) {
            if (inv.command == Command::guard_install) {
                tools->nft(guard_remove_ruleset());
            }
            return {kExitOk,
                    "guard: off in " + inv.file + " ([daemon] guard = \"off\"): no table\n",
                    {}};
        }
        const GuardRuleset ruleset = guard_ruleset(file.config, mode);
        if (inv.command == Command::guard_show) {
            return {kExitOk, ruleset.text, {}};
        }
        tools->nft(ruleset.text);
        Outcome outcome{kExitOk,
                        "guard: table inet " + std::string(kGuardTable) + " from " + inv.file +
                            ": " + std::to_string(ruleset.dropping) + " rules drop, " +
                            std::to_string(ruleset.accepting) +
                            " accept, until mutexd has applied the configuration\n",
                        {}};
        try {
            connect();
        } catch (const mutex::FamilyNotFound&) {
            outcome.err = context +
                          "the mutex_proxy module is not loaded: the guard stays until it is and "
                          "mutexd has applied the configuration (after a kernel upgrade: dkms "
                          "status mutex_proxy; why it did not load: journalctl -b -u "
                          "systemd-modules-load)\n";
        } catch (const std::exception&) {
            // reachable or not, the guard is in place; mutexd says the rest
        }
        return outcome;
    } catch (const std::exception& e) {
        return {kExitFailure, {}, context + e.what() + "\n"};
    }
}

}  // namespace

std::optional<std::uint32_t> parse_u32(std::string_view text) noexcept {
    return parse_unsigned<std::uint32_t>(text);
}

std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept {
    return parse_unsigned<std::uint64_t>(text);
}

std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
    const auto value = parse_u32(text);
    if (!value || *value < 1 || *value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(*value);
}

std::optional<mutex::BackendRef> parse_backend_target(std::string_view text) {
    mutex::BackendRef ref;
    if (const auto port = parse_port(text)) {
        ref.port = *port;
        return ref;
    }
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        const auto address = mutex::config::parse_address(host);
        if (!address || address->family != mutex::config::Family::ipv6) {
            return std::nullopt;
        }
        ref.address = address;
    } else {
        const auto colon = text.find(':');
        if (colon == std::string_view::npos ||
            text.find(':', colon + 1) != std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        const auto address = mutex::config::parse_address(host);
        if (!address || address->family != mutex::config::Family::ipv4) {
            return std::nullopt;
        }
        ref.address = address;
    }
    const auto number = parse_port(port);
    if (!number) {
        return std::nullopt;
    }
    ref.port = *number;
    return ref;
}

std::variant<Invocation, Outcome> parse_args(const std::vector<std::string>& args) {
    CLI::App app{
        "Control the mutex_proxy kernel module over generic netlink, and check its "
        "configuration files.",
        "mutexctl"};
    app.footer(
        "Exit status: 0 success, 1 kernel or runtime error or invalid configuration, 2 usage "
        "error.");
    bool json = false;
    app.add_flag("-j,--json", json,
                 "JSON output: one document on stdout (give it before the command)");
    app.require_subcommand(1);

    auto* version = app.add_subcommand("version", "mutexctl's version and the module's");
    auto* status = app.add_subcommand(
        "status", "module version, API version, features, netns cookie and parameters");
    auto* stats = app.add_subcommand("stats", "counters of this network namespace");
    auto* params = app.add_subcommand("params", "module parameters (default: params get)");
    params->require_subcommand(0, 1);
    auto* get = params->add_subcommand("get", "show every parameter, or NAME");
    std::string get_name;
    get->add_option("NAME", get_name, "parameter: " + mutex::param_names());
    auto* set = params->add_subcommand("set", "change parameter NAME to VALUE");
    std::string set_name;
    std::string set_value;
    set->add_option("NAME", set_name, "parameter: " + mutex::param_names())->required();
    set->add_option("VALUE", set_value, "unsigned 32-bit decimal integer")->required();
    auto* config = app.add_subcommand(
        "config",
        "configuration: mutexctl config validate FILE (without the kernel), config apply FILE, "
        "config show");
    config->require_subcommand(1);
    auto* validate = config->add_subcommand(
        "validate", "read and validate FILE; problems as FILE:LINE:COLUMN: message (exit 1)");
    std::string config_file;
    validate->add_option("FILE", config_file, "TOML configuration file (mutexd.toml)")->required();
    auto* apply = config->add_subcommand(
        "apply",
        "validate FILE and make it this network namespace's configuration (SET_CONFIG); "
        "needs CAP_NET_ADMIN");
    apply->add_option("FILE", config_file, "TOML configuration file (mutexd.toml)")->required();
    std::string generation;
    apply->add_option("--generation", generation,
                      "apply only if the module still holds generation N (as config show "
                      "printed it); otherwise change nothing and exit 1");
    auto* show = config->add_subcommand(
        "show",
        "the configuration the module holds, as TOML, with its generation and counters; needs "
        "CAP_NET_ADMIN (it names the node's sentries and relays)");
    auto* flows = app.add_subcommand(
        "flows",
        "the flows the module steered in this network namespace: PROTO SOURCE ORIG-DST "
        "STEERED-TO ACTION, packets and bytes per direction (ORIG: client to destination, "
        "REPLY: back), AGE and IDLE; with -j a JSON array. 'flows flush' empties the table. "
        "Needs CAP_NET_ADMIN");
    flows->require_subcommand(0, 1);
    auto* flush = flows->add_subcommand(
        "flush",
        "forget every tracked flow (the connections keep their NAT) and print how many; needs "
        "CAP_NET_ADMIN");
    auto* origdst = app.add_subcommand(
        "origdst",
        "original destination of a steered connection, given as its proxy sees it: PROTO, the "
        "peer SRC SPORT and the proxy's own DST DPORT (after NAT); prints 'ADDR PORT' "
        "(IPv6 without brackets), exit 1 if no steered flow matches; needs CAP_NET_ADMIN, or to "
        "own the proxy's socket of that connection");
    std::vector<std::string> key_words(5);
    origdst->add_option("PROTO", key_words[0], "tcp or udp")->required();
    origdst->add_option("SRC", key_words[1], "the client's address (IPv4 or IPv6)")->required();
    origdst->add_option("SPORT", key_words[2], "the client's port")->required();
    origdst->add_option("DST", key_words[3], "the proxy's own address, same family as SRC")
        ->required();
    origdst->add_option("DPORT", key_words[4], "the proxy's own port")->required();

    auto* backend_cmd = app.add_subcommand(
        "backend",
        "change one backend of the running configuration without replacing it (SET_BACKEND): "
        "mutexctl backend POOL TARGET up|down|drain|weight N, or end its connections: "
        "backend POOL TARGET end-flows [tcp|udp]. TARGET is ADDR:PORT, [IPV6]:PORT, or PORT for "
        "a local backend. Needs CAP_NET_ADMIN");
    std::vector<std::string> backend_words;
    backend_cmd
        ->add_option("POOL TARGET ACTION", backend_words,
                     "pool name, backend, then up | down | drain | weight N | end-flows "
                     "[tcp|udp]")
        ->required()
        ->expected(3, 4);
    std::string backend_generation;
    backend_cmd->add_option("--generation", backend_generation,
                            "change only if the module still holds generation N");
    auto* events = app.add_subcommand(
        "events",
        "follow the module's events in this network namespace (configuration replaced, backend "
        "changed), one line each as they come (-j: one JSON object a line); needs CAP_NET_ADMIN");
    std::string events_count;
    std::string events_timeout;
    bool events_flows = false;
    events->add_flag("--flows", events_flows,
                     "flow starts and ends too (the module builds them only while someone "
                     "follows them)");
    events->add_option("--count", events_count, "exit after N events");
    events->add_option("--timeout", events_timeout, "exit after SECONDS without an event");

    auto* top_cmd = app.add_subcommand(
        "top",
        "what the module does now, refreshed every second: per backend its state, flows, "
        "packets/s and bytes/s each way, per rule matches/s, the cache's hit rate and the batch "
        "fill; q quits (-j: one JSON object a second)");
    std::string top_count;
    top_cmd->add_option("--count", top_count, "exit after N refreshes");

    auto* upgrade_cmd = app.add_subcommand(
        "upgrade",
        "replace the running module by the installed one (modprobe) or FILE, keeping every "
        "steered connection: conntrack and NAT are pinned by an nftables table for the swap, "
        "the new module gets the old one's parameters and this namespace's configuration and "
        "adopts the connections; needs root (CAP_SYS_MODULE, CAP_NET_ADMIN)");
    std::string module_file;
    upgrade_cmd->add_option("--module", module_file,
                            "the module file to load (insmod) instead of the installed one");

    auto* kernel_cmd = app.add_subcommand(
        "kernel-check",
        "check a kernel's configuration for mutex_proxy (what it needs, module compression and "
        "the installed module's) and for a validator (performance-critical drivers built in), "
        "a line each, pass or FAIL; exit 1 when something mutex_proxy needs fails. --fragment "
        "prints CONFIG_X=y lines that build those drivers in");
    std::string kernel_config;
    std::string release;
    std::string modules_list;
    bool fragment = false;
    kernel_cmd->add_option("--config", kernel_config,
                           "the configuration to check (.config, or gzip like /proc/config.gz); "
                           "default /proc/config.gz, else /boot/config-RELEASE");
    kernel_cmd->add_option("--release", release,
                           "the kernel release whose /boot/config and /lib/modules to read "
                           "(default: the running one)");
    kernel_cmd->add_option("--modules", modules_list,
                           "with --fragment: the modules to build in, as lsmod prints them or a "
                           "modprobed-db list (a name a line)");
    kernel_cmd->add_flag("--fragment", fragment,
                         "print a configuration fragment instead of the report");

    auto* guard_cmd = app.add_subcommand(
        "guard",
        "the boot guard, an nftables table that drops what the configuration steers to pools "
        "in failure mode closed until mutexd has applied it: guard install [--config FILE] "
        "(mutex-proxy-guard.service, at boot), guard remove (mutexd.service, once ready), guard "
        "show [--config FILE] (print the table); needs CAP_NET_ADMIN");
    guard_cmd->require_subcommand(1);
    std::string guard_file(kDefaultConfigFile);
    auto* guard_install = guard_cmd->add_subcommand(
        "install", "load the table for FILE's rules (replacing an earlier one)");
    auto* guard_show =
        guard_cmd->add_subcommand("show", "print the table for FILE's rules, load nothing");
    auto* guard_remove = guard_cmd->add_subcommand("remove", "delete the table if there is one");
    for (auto* sub : {guard_install, guard_show}) {
        sub->add_option(
            "--config", guard_file,
            "mutexd's configuration file (default " + std::string(kDefaultConfigFile) + ")");
    }

    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(reversed);
    } catch (const CLI::CallForHelp& e) {
        std::ostringstream out;
        std::ostringstream err;
        app.exit(e, out, err);
        return Outcome{kExitOk, out.str(), err.str()};
    } catch (const CLI::CallForAllHelp& e) {
        std::ostringstream out;
        std::ostringstream err;
        app.exit(e, out, err);
        return Outcome{kExitOk, out.str(), err.str()};
    } catch (const CLI::ParseError& e) {
        std::string message = e.what();
        // -j after the command is a common slip: say where it goes
        const auto command = std::find_if(args.begin(), args.end(), [](const std::string& a) {
            return !a.empty() && a.front() != '-';
        });
        const bool late_json =
            command != args.end() && std::any_of(command, args.end(), [](const std::string& a) {
                return a == "-j" || a == "--json";
            });
        if (late_json) {
            message += " (-j goes before the command: mutexctl -j stats)";
        }
        return usage_error(message);
    }

    Invocation inv;
    inv.json = json;
    if (version->parsed()) {
        inv.command = Command::version;
    } else if (status->parsed()) {
        inv.command = Command::status;
    } else if (stats->parsed()) {
        inv.command = Command::stats;
    } else if (validate->parsed()) {
        inv.command = Command::config_validate;
        inv.file = config_file;
    } else if (apply->parsed()) {
        inv.command = Command::config_apply;
        inv.file = config_file;
        if (apply->count("--generation") > 0) {
            inv.generation = parse_u64(generation);
            if (!inv.generation) {
                return usage_error("config apply: invalid generation '" + generation +
                                   "': expected an unsigned 64-bit decimal integer");
            }
        }
    } else if (show->parsed()) {
        inv.command = Command::config_show;
    } else if (flush->parsed()) {
        inv.command = Command::flows_flush;
    } else if (flows->parsed()) {
        inv.command = Command::flows;
    } else if (origdst->parsed()) {
        inv.command = Command::origdst;
        if (auto failed = parse_flow_key(key_words, inv)) {
            return *failed;
        }
    } else if (backend_cmd->parsed()) {
        if (auto failed = parse_backend_words(backend_words, inv)) {
            return *failed;
        }
        if (backend_cmd->count("--generation") > 0) {
            inv.change.generation = parse_u64(backend_generation);
            if (!inv.change.generation) {
                return usage_error("backend: invalid generation '" + backend_generation +
                                   "': expected an unsigned 64-bit decimal integer");
            }
        }
    } else if (events->parsed()) {
        inv.command = Command::events;
        inv.flows = events_flows;
        if (events->count("--count") > 0) {
            inv.count = parse_u64(events_count);
            if (!inv.count) {
                return usage_error("events: invalid count '" + events_count +
                                   "': expected an unsigned decimal integer");
            }
        }
        if (events->count("--timeout") > 0) {
            inv.timeout_s = parse_u32(events_timeout);
            if (!inv.timeout_s || *inv.timeout_s == 0) {
                return usage_error("events: invalid timeout '" + events_timeout +
                                   "': expected seconds, 1 or more");
            }
        }
    } else if (top_cmd->parsed()) {
        inv.command = Command::top;
        if (top_cmd->count("--count") > 0) {
            inv.count = parse_u64(top_count);
            if (!inv.count || *inv.count == 0) {
                return usage_error("top: invalid count '" + top_count +
                                   "': expected refreshes, 1 or more");
            }
        }
    } else if (guard_install->parsed() || guard_show->parsed()) {
        inv.command = guard_install->parsed() ? Command::guard_install : Command::guard_show;
        if (guard_file.empty()) {
            return usage_error("guard: --config needs a file");
        }
        inv.file = guard_file;
    } else if (guard_remove->parsed()) {
        inv.command = Command::guard_remove;
    } else if (kernel_cmd->parsed()) {
        inv.command = Command::kernel_check;
        inv.fragment = fragment;
        for (auto [option, value, field] :
             {std::tuple{"--config", &kernel_config, &inv.kernel_config},
              std::tuple{"--release", &release, &inv.release},
              std::tuple{"--modules", &modules_list, &inv.modules_list}}) {
            if (kernel_cmd->count(option) > 0) {
                if (value->empty()) {
                    return usage_error(std::string("kernel-check: ") + option + " needs a value");
                }
                *field = *value;
            }
        }
        if (inv.modules_list && !inv.fragment) {
            return usage_error("kernel-check: --modules goes with --fragment");
        }
    } else if (upgrade_cmd->parsed()) {
        inv.command = Command::upgrade;
        if (upgrade_cmd->count("--module") > 0) {
            if (module_file.empty()) {
                return usage_error("upgrade: --module needs a file");
            }
            inv.module_file = module_file;
        }
    } else if (set->parsed()) {
        inv.command = Command::params_set;
        inv.param = mutex::find_param(set_name);
        if (inv.param == nullptr) {
            return usage_error("unknown parameter '" + set_name +
                               "' (valid: " + mutex::param_names() + ")");
        }
        const auto value = parse_u32(set_value);
        if (!value) {
            return usage_error("invalid value '" + set_value + "' for " + set_name +
                               ": expected an unsigned 32-bit decimal integer");
        }
        inv.value = *value;
    } else {
        inv.command = Command::params_get;
        if (get->parsed() && get->count("NAME") > 0) {
            inv.param = mutex::find_param(get_name);
            if (inv.param == nullptr) {
                return usage_error("unknown parameter '" + get_name +
                                   "' (valid: " + mutex::param_names() + ")");
            }
        }
    }
    return inv;
}

Outcome validate_config(std::string_view text, const std::string& file, bool json) {
    namespace config = mutex::config;
    try {
        const config::Config parsed = config::parse(text, file);
        if (json) {
            format::Json doc;
            doc["file"] = file;
            doc["ok"] = true;
            doc["config"] = config::to_json(parsed);
            return {kExitOk, json_line_lenient(doc), {}};
        }
        return {kExitOk,
                file + ": ok (" + std::to_string(parsed.pools.size()) + " pools, " +
                    std::to_string(parsed.rules.size()) + " rules)\n",
                {}};
    } catch (const config::ConfigError& e) {
        Outcome outcome{kExitFailure, {}, {}};
        format::Json errors = format::Json::array();
        for (const auto& d : e.diagnostics()) {
            outcome.err += d.to_string() + '\n';
            format::Json error;
            // A diagnostic without a position (line 0) has null line and column.
            error["line"] = d.line != 0 ? format::Json(d.line) : format::Json(nullptr);
            error["column"] = d.line != 0 ? format::Json(d.column) : format::Json(nullptr);
            error["message"] = d.message;
            errors.push_back(std::move(error));
        }
        if (json) {
            format::Json doc;
            doc["file"] = file;
            doc["ok"] = false;
            doc["errors"] = std::move(errors);
            outcome.out = json_line_lenient(doc);
        }
        return outcome;
    }
}

mutex::InterfaceIndexes interface_indexes(const mutex::config::Config& config,
                                          const Backend& backend, const std::string& where) {
    mutex::InterfaceIndexes interfaces;
    for (std::size_t i = 0; i < config.rules.size(); ++i) {
        for (const auto& name : {config.rules[i].out_interface, config.rules[i].in_interface}) {
            if (!name || interfaces.contains(*name)) {
                continue;
            }
            const auto index = backend.interface_index(*name);
            if (!index) {
                throw std::runtime_error(where + ": rule " + std::to_string(i + 1) +
                                         ": unknown interface '" + *name + "'");
            }
            interfaces.emplace(*name, *index);
        }
    }
    return interfaces;
}

std::string show_config(const mutex::ConfigSnapshot& snapshot, bool json) {
    namespace config = mutex::config;
    if (!json) {
        return "# generation " + std::to_string(snapshot.generation) + "\n" +
               config::to_toml(snapshot.config);
    }
    format::Json doc;
    doc["generation"] = snapshot.generation;
    doc["config"] = config::to_json(snapshot.config);
    format::Json backends = format::Json::array();
    for (std::size_t p = 0; p < snapshot.config.pools.size(); ++p) {
        const auto& pool = snapshot.config.pools[p];
        for (std::size_t b = 0; b < pool.backends.size(); ++b) {
            const auto& backend = pool.backends[b];
            format::Json entry;
            entry["pool"] = pool.name;
            entry["address"] = backend.address ? format::Json(config::to_string(*backend.address))
                                               : format::Json(nullptr);
            entry["port"] = backend.port;
            entry["state"] = config::to_string(backend.state);
            const mutex::BackendCounters counters =
                p < snapshot.counters.size() && b < snapshot.counters[p].size()
                    ? snapshot.counters[p][b]
                    : mutex::BackendCounters{};
            entry["active_flows"] = counters.active_flows;
            entry["total_flows"] = counters.total_flows;
            entry["pkts"] = counters.pkts;
            entry["bytes"] = counters.bytes;
            entry["pkts_reply"] = counters.pkts_reply;
            entry["bytes_reply"] = counters.bytes_reply;
            backends.push_back(std::move(entry));
        }
    }
    doc["backends"] = std::move(backends);
    format::Json rules = format::Json::array();
    for (std::size_t r = 0; r < snapshot.config.rules.size(); ++r) {
        format::Json entry;
        entry["index"] = r;
        const auto& name = snapshot.config.rules[r].name;
        entry["name"] = name ? format::Json(*name) : format::Json(nullptr);
        entry["matches"] = r < snapshot.rule_matches.size() ? snapshot.rule_matches[r] : 0;
        rules.push_back(std::move(entry));
    }
    doc["rules"] = std::move(rules);
    return json_line_lenient(doc);
}

Outcome execute(const Invocation& invocation, const Connect& connect, const ReadFile& read_file,
                const Write& write, const Wait& wait, SystemTools* tools) {
    if (invocation.command == Command::upgrade) {
        if (tools == nullptr) {
            return {kExitFailure, {}, "mutexctl: upgrade: no way to load modules here\n"};
        }
        return upgrade(invocation, connect, *tools);
    }
    if (invocation.command == Command::guard_install ||
        invocation.command == Command::guard_remove || invocation.command == Command::guard_show) {
        return run_guard(invocation, connect, read_file, tools);
    }
    if (invocation.command == Command::kernel_check) {
        try {
            return kernel::run(invocation, kernel::read_kernel_facts(invocation));
        } catch (const std::exception& e) {
            return {kExitFailure, {}, "mutexctl: kernel-check: " + std::string(e.what()) + "\n"};
        }
    }
    if (invocation.command == Command::config_validate) {
        return run_config_validate(invocation, read_file);
    }
    std::optional<mutex::config::Config> to_apply;
    if (invocation.command == Command::config_apply) {
        auto text = read_config_file(invocation, read_file);
        if (auto* failed = std::get_if<Outcome>(&text)) {
            return *failed;
        }
        const auto& content = std::get<std::string>(text);
        try {
            to_apply = mutex::config::parse(content, invocation.file);
        } catch (const mutex::config::ConfigError&) {
            return validate_config(content, invocation.file, invocation.json);
        } catch (const std::exception& e) {
            return {kExitFailure, {}, "mutexctl: config apply: " + std::string(e.what()) + "\n"};
        }
    }
    Outcome outcome;
    std::string warning;
    try {
        if (to_apply) {
            auto backend = connect();
            outcome.out = apply_config(invocation, *to_apply, *backend);
            warning = backend->warning();
        } else if (invocation.command == Command::events) {
            outcome = run_events(invocation, connect, write);
        } else if (invocation.command == Command::top) {
            outcome = run_top(invocation, connect, write, wait);
        } else {
            outcome.out = run(invocation, connect, read_file, warning);
        }
    } catch (const mutex::NetlinkError& e) {
        outcome.code = kExitFailure;
        outcome.err =
            "mutexctl: " + context_for(invocation) + ": " + message_for(e, invocation) + "\n";
    } catch (const std::exception& e) {
        outcome.code = kExitFailure;
        outcome.err = "mutexctl: " + context_for(invocation) + ": " + e.what() + "\n";
    }
    if (!warning.empty()) {
        outcome.err += "mutexctl: warning: " + warning + "\n";
    }
    return outcome;
}

}  // namespace mutexctl
