// SPDX-License-Identifier: GPL-2.0
// The configuration model: printing (names, TOML, JSON), diagnostics and the one file read.
// The parser and validator are in config_parse.cpp.
#include "libmutex/config.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

namespace mutex::config {
namespace {

std::string join(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) {
        if (!out.empty()) {
            out += '\n';
        }
        out += d.to_string();
    }
    return out;
}

std::string hex(std::uint32_t value) {
    std::array<char, 16> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "0x%x", value);
    return {buf.data(), static_cast<std::size_t>(n)};
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            std::array<char, 8> buf{};
            const int n = std::snprintf(buf.data(), buf.size(), "\\u%04x", u);
            out.append(buf.data(), static_cast<std::size_t>(n));
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

void line(std::ostringstream& out, std::string_view indent, std::string_view key,
          std::string_view value) {
    out << indent << key << " = " << value << '\n';
}

/// One field of a rule that is set, as the file writes it: `text`, or the number `number` for
/// the one numeric field (to_port).
struct RuleField {
    std::string_view key;
    std::string text;
    std::optional<std::uint32_t> number;
};

/// The fields a rule has, in file order; shared by the TOML and the JSON writer.
std::vector<RuleField> rule_fields(const Rule& rule) {
    std::vector<RuleField> fields;
    const auto opt = [&fields](std::string_view key, const auto& value) {
        if (value) {
            fields.push_back({key, to_string(*value), std::nullopt});
        }
    };
    const auto opt_str = [&fields](std::string_view key, const std::optional<std::string>& value) {
        if (value) {
            fields.push_back({key, *value, std::nullopt});
        }
    };
    opt_str("name", rule.name);
    fields.push_back({"protocol", std::string(to_string(rule.protocol)), std::nullopt});
    opt("destination", rule.destination);
    opt("destination_ports", rule.destination_ports);
    opt("source", rule.source);
    opt("source_ports", rule.source_ports);
    opt("uid", rule.uid);
    opt("gid", rule.gid);
    opt_str("cgroup", rule.cgroup);
    opt("mark", rule.mark);
    opt_str("out_interface", rule.out_interface);
    opt_str("in_interface", rule.in_interface);
    fields.push_back({"action", std::string(to_string(rule.action)), std::nullopt});
    if (rule.to_port) {
        fields.push_back({"to_port", std::to_string(*rule.to_port), *rule.to_port});
    }
    opt_str("pool", rule.pool);
    return fields;
}

}  // namespace

std::optional<Family> Rule::family() const noexcept {
    if (destination) {
        return destination->family;
    }
    if (source) {
        return source->family;
    }
    return std::nullopt;
}

const Pool* Config::find_pool(std::string_view name) const noexcept {
    const auto it =
        std::find_if(pools.begin(), pools.end(), [name](const Pool& p) { return p.name == name; });
    return it == pools.end() ? nullptr : &*it;
}

std::string Diagnostic::to_string() const {
    if (line == 0) {
        return file + ": " + message;
    }
    return file + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " + message;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

std::string_view to_string(Scheduler value) noexcept {
    return name_of(kSchedulerNames, value);
}
std::string_view to_string(FailureMode value) noexcept {
    return name_of(kFailureModeNames, value);
}
std::string_view to_string(BackendState value) noexcept {
    return name_of(kBackendStateNames, value);
}
std::string_view to_string(Action value) noexcept {
    return name_of(kActionNames, value);
}
std::string_view to_string(Protocol value) noexcept {
    return name_of(kProtocolNames, value);
}
std::string_view to_string(Family value) noexcept {
    return value == Family::ipv4 ? "IPv4" : "IPv6";
}

std::string to_string(const Address& address) {
    std::array<char, INET6_ADDRSTRLEN> buf{};
    const int af = address.family == Family::ipv4 ? AF_INET : AF_INET6;
    if (inet_ntop(af, address.bytes.data(), buf.data(), buf.size()) == nullptr) {
        return "?";
    }
    return buf.data();
}

std::optional<Address> parse_address(std::string_view text) {
    const std::string z(text);
    if (z.size() != std::strlen(z.c_str())) {
        return std::nullopt;  // an embedded NUL would cut the text short
    }
    Address address;
    if (inet_pton(AF_INET, z.c_str(), address.bytes.data()) == 1) {
        address.family = Family::ipv4;
        return address;
    }
    if (inet_pton(AF_INET6, z.c_str(), address.bytes.data()) == 1) {
        address.family = Family::ipv6;
        return address;
    }
    return std::nullopt;
}

std::string to_string(const Prefix& prefix) {
    return to_string(Address{prefix.family, prefix.address}) + '/' + std::to_string(prefix.length);
}

std::string to_string(const PortRange& range) {
    if (range.first == range.last) {
        return std::to_string(range.first);
    }
    return std::to_string(range.first) + '-' + std::to_string(range.last);
}

std::string to_string(const IdRange& range) {
    if (range.first == range.last) {
        return std::to_string(range.first);
    }
    return std::to_string(range.first) + '-' + std::to_string(range.last);
}

std::string to_string(const Mark& mark) {
    return hex(mark.value) + '/' + hex(mark.mask);
}

std::string to_toml(const Config& config) {
    std::ostringstream out;
    bool first = true;
    const auto separate = [&out, &first] {
        if (!first) {
            out << '\n';
        }
        first = false;
    };
    for (const auto& pool : config.pools) {
        separate();
        out << "[[pool]]\n";
        line(out, "", "name", quote(pool.name));
        line(out, "", "scheduler", quote(to_string(pool.scheduler)));
        line(out, "", "failure_mode", quote(to_string(pool.failure_mode)));
        for (const auto& backend : pool.backends) {
            out << "\n  [[pool.backend]]\n";
            if (backend.address) {
                line(out, "  ", "address", quote(to_string(*backend.address)));
            }
            line(out, "  ", "port", std::to_string(backend.port));
            line(out, "  ", "weight", std::to_string(backend.weight));
            line(out, "  ", "priority", std::to_string(backend.priority));
            line(out, "  ", "state", quote(to_string(backend.state)));
        }
    }
    for (const auto& rule : config.rules) {
        separate();
        out << "[[rule]]\n";
        for (const auto& field : rule_fields(rule)) {
            line(out, "", field.key, field.number ? field.text : quote(field.text));
        }
    }
    return out.str();
}

nlohmann::ordered_json to_json(const Config& config) {
    using Json = nlohmann::ordered_json;
    Json pools = Json::array();
    for (const auto& pool : config.pools) {
        Json backends = Json::array();
        for (const auto& backend : pool.backends) {
            Json b = Json::object();
            if (backend.address) {
                b["address"] = to_string(*backend.address);
            }
            b["port"] = backend.port;
            b["weight"] = backend.weight;
            b["priority"] = backend.priority;
            b["state"] = to_string(backend.state);
            backends.push_back(std::move(b));
        }
        Json p = Json::object();
        p["name"] = pool.name;
        p["scheduler"] = to_string(pool.scheduler);
        p["failure_mode"] = to_string(pool.failure_mode);
        p["backend"] = std::move(backends);
        pools.push_back(std::move(p));
    }
    Json rules = Json::array();
    for (const auto& rule : config.rules) {
        Json r = Json::object();
        for (const auto& field : rule_fields(rule)) {
            r[std::string(field.key)] = field.number ? Json(*field.number) : Json(field.text);
        }
        rules.push_back(std::move(r));
    }
    Json out = Json::object();
    out["pool"] = std::move(pools);
    out["rule"] = std::move(rules);
    return out;
}

File read_file(const std::string& path) {
    const auto unreadable = [&path](int err) {
        return ConfigError(
            {Diagnostic{path, 0, 0, std::string("cannot read: ") + std::strerror(err)}});
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw unreadable(EISDIR);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw unreadable(errno != 0 ? errno : EIO);
    }
    std::string text;
    try {
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::ios_base::failure&) {
        throw unreadable(EIO);
    }
    if (in.bad()) {
        throw unreadable(EIO);
    }
    return parse_file(text, path);
}

Config load_file(const std::string& path) {
    return read_file(path).config;
}

}  // namespace mutex::config
