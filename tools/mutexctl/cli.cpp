// SPDX-License-Identifier: GPL-2.0
#include "mutexctl/cli.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <exception>
#include <sstream>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

#include "libmutex/config.hpp"
#include "libmutex/error.hpp"
#include "libmutex/format.hpp"

namespace mutexctl {

namespace {

namespace format = mutex::format;

Outcome usage_error(const std::string& message) {
    return {kExitUsage, {}, "mutexctl: " + message + "\nRun 'mutexctl --help' for usage.\n"};
}

std::string message_for(const mutex::NetlinkError& e, Command command) {
    if (command == Command::params_set && e.error() == EPERM && e.kernel_message().empty()) {
        return std::string(e.what()) + " (needs CAP_NET_ADMIN in the initial user namespace)";
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
    }
    return "mutexctl";
}

/// Like format::json_line, but a file name that is not UTF-8 is printed with U+FFFD instead of
/// making dump() throw.
std::string json_line_lenient(const format::Json& json) {
    return json.dump(-1, ' ', false, format::Json::error_handler_t::replace) + '\n';
}

Outcome run_config_validate(const Invocation& inv, const ReadFile& read_file) {
    const std::string context = "mutexctl: " + context_for(inv) + ": ";
    std::string text;
    try {
        text = read_file(inv.file);
    } catch (const std::system_error& e) {
        return {
            kExitFailure, {}, context + inv.file + ": cannot read: " + e.code().message() + "\n"};
    } catch (const std::exception& e) {
        return {kExitFailure, {}, context + inv.file + ": cannot read: " + e.what() + "\n"};
    }
    try {
        return validate_config(text, inv.file, inv.json);
    } catch (const std::exception& e) {
        return {kExitFailure, {}, context + e.what() + "\n"};
    }
}

std::string run(const Invocation& inv, const Connect& connect, std::string& warning) {
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
                out = inv.json ? format::json_line(format::to_json(params)) : format::human(params);
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
        case Command::version:
        case Command::config_validate:
            break;
    }
    warning = backend->warning();
    return out;
}

}  // namespace

std::optional<std::uint32_t> parse_u32(std::string_view text) noexcept {
    if (text.empty() ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
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
                 "JSON output: one object on stdout (give it before the command)");
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
        "config", "configuration files, without the kernel: mutexctl config validate FILE");
    config->require_subcommand(1);
    auto* validate = config->add_subcommand(
        "validate", "read and validate FILE; problems as FILE:LINE:COLUMN: message (exit 1)");
    std::string config_file;
    validate->add_option("FILE", config_file, "TOML configuration file (mutexd.toml)")->required();

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

Outcome execute(const Invocation& invocation, const Connect& connect, const ReadFile& read_file) {
    if (invocation.command == Command::config_validate) {
        return run_config_validate(invocation, read_file);
    }
    Outcome outcome;
    std::string warning;
    try {
        outcome.out = run(invocation, connect, warning);
    } catch (const mutex::NetlinkError& e) {
        outcome.code = kExitFailure;
        outcome.err = "mutexctl: " + context_for(invocation) + ": " +
                      message_for(e, invocation.command) + "\n";
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
