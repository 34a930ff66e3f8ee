// SPDX-License-Identifier: GPL-2.0
#include "libmutex/format.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "libmutex/config.hpp"

namespace mutex::format {

namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

std::vector<Row> param_rows(const Params& params) {
    std::vector<Row> rows;
    for (const auto& field : kParamFields) {
        if (const auto& value = params.*field.member) {
            rows.emplace_back(field.name, std::to_string(*value));
        }
    }
    return rows;
}

std::string two_digits(std::uint64_t n) {
    return (n < 10 ? "0" : "") + std::to_string(n);
}

/// Rows of cells as columns aligned on the widest cell, two blanks apart; the last column is not
/// padded.
std::string grid(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    std::string out;
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size()) {
                out.append(widths[i] - row[i].size() + 2, ' ');
            }
        }
        out += '\n';
    }
    return out;
}

}  // namespace

std::string table(std::span<const Row> rows, std::size_t indent) {
    std::size_t width = 0;
    for (const auto& row : rows) {
        width = std::max(width, row.first.size());
    }
    std::string out;
    for (const auto& [key, value] : rows) {
        out.append(indent, ' ');
        out += key;
        out.append(width - key.size() + 2, ' ');
        out += value;
        out += '\n';
    }
    return out;
}

std::string json_line(const Json& json) {
    return json.dump() + '\n';
}

Json to_json(const Params& params) {
    Json json = Json::object();
    for (const auto& field : kParamFields) {
        if (const auto& value = params.*field.member) {
            json[std::string(field.name)] = *value;
        }
    }
    return json;
}

Json to_json(const Stats& stats) {
    Json json = Json::object();
    for (const auto& field : kStatFields) {
        json[std::string(field.name)] = stats.*field.member;
    }
    json[std::string(kFlowCountName)] = stats.flow_count;
    return json;
}

Json to_json(const Flow& flow) {
    Json json = Json::object();
    json["family"] = flow.source.address.family == config::Family::ipv4 ? "ipv4" : "ipv6";
    json["protocol"] = config::to_string(flow.protocol);
    json["src_addr"] = config::to_string(flow.source.address);
    json["src_port"] = flow.source.port;
    json["orig_dst_addr"] = config::to_string(flow.original_destination.address);
    json["orig_dst_port"] = flow.original_destination.port;
    json["dst_addr"] = config::to_string(flow.destination.address);
    json["dst_port"] = flow.destination.port;
    json["action"] = config::to_string(flow.action);
    json["pkts_orig"] = flow.pkts_orig;
    json["bytes_orig"] = flow.bytes_orig;
    json["pkts_reply"] = flow.pkts_reply;
    json["bytes_reply"] = flow.bytes_reply;
    json["age_ms"] = flow.age_ms;
    json["idle_ms"] = flow.idle_ms;
    return json;
}

Json to_json(const std::vector<Flow>& flows) {
    Json json = Json::array();
    for (const auto& flow : flows) {
        json.push_back(to_json(flow));
    }
    return json;
}

std::string json_line(const std::vector<Flow>& flows) {
    std::string out = "[";
    for (const auto& flow : flows) {
        if (out.size() > 1) {
            out += ',';
        }
        out += to_json(flow).dump();
    }
    out += "]\n";
    return out;
}

Json to_json(const Info& info) {
    Json json = Json::object();
    json["version"] = info.version;
    json["api_version"] = info.api_version;
    json["features"] = feature_names(info.features);
    json["netns_cookie"] = info.netns_cookie;
    json["params"] = to_json(info.params);
    return json;
}

Json param_to_json(const ParamField& field, const Params& params) {
    Json json = Json::object();
    const auto& value = params.*field.member;
    json[std::string(field.name)] = value ? Json(*value) : Json(nullptr);
    return json;
}

Json version_to_json(std::string_view tool_version, const std::optional<Info>& module) {
    Json json = Json::object();
    json["mutexctl"] = tool_version;
    if (module) {
        json["module"] = {{"version", module->version}, {"api_version", module->api_version}};
    } else {
        json["module"] = nullptr;
    }
    return json;
}

std::string human(const Params& params) {
    return table(param_rows(params));
}

std::string human(const Stats& stats) {
    std::vector<Row> rows;
    rows.reserve(kStatFields.size());
    for (const auto& field : kStatFields) {
        rows.emplace_back(field.name, std::to_string(stats.*field.member));
    }
    rows.emplace_back(kFlowCountName, std::to_string(stats.flow_count));
    return table(rows);
}

std::string endpoint(const Endpoint& endpoint) {
    const std::string address = config::to_string(endpoint.address);
    const std::string port = std::to_string(endpoint.port);
    if (endpoint.address.family == config::Family::ipv6) {
        return "[" + address + "]:" + port;
    }
    return address + ":" + port;
}

std::string duration(std::uint64_t ms) {
    constexpr std::uint64_t kSecond = 1000;
    constexpr std::uint64_t kMinute = 60 * kSecond;
    constexpr std::uint64_t kHour = 60 * kMinute;
    constexpr std::uint64_t kDay = 24 * kHour;
    if (ms < 10 * kSecond) {
        return std::to_string(ms / kSecond) + "." + std::to_string(ms % kSecond / 100) + "s";
    }
    if (ms < kMinute) {
        return std::to_string(ms / kSecond) + "s";
    }
    if (ms < kHour) {
        return std::to_string(ms / kMinute) + "m" + two_digits(ms % kMinute / kSecond) + "s";
    }
    if (ms < kDay) {
        return std::to_string(ms / kHour) + "h" + two_digits(ms % kHour / kMinute) + "m";
    }
    return std::to_string(ms / kDay) + "d" + two_digits(ms % kDay / kHour) + "h";
}

std::string human(const std::vector<Flow>& flows) {
    std::vector<std::vector<std::string>> rows{{"PROTO", "SOURCE", "ORIG-DST", "STEERED-TO",
                                                "ACTION", "PKTS-ORIG", "BYTES-ORIG", "PKTS-REPLY",
                                                "BYTES-REPLY", "AGE", "IDLE"}};
    rows.reserve(flows.size() + 1);
    for (const auto& flow : flows) {
        rows.push_back({std::string(config::to_string(flow.protocol)), endpoint(flow.source),
                        endpoint(flow.original_destination), endpoint(flow.destination),
                        std::string(config::to_string(flow.action)), std::to_string(flow.pkts_orig),
                        std::to_string(flow.bytes_orig), std::to_string(flow.pkts_reply),
                        std::to_string(flow.bytes_reply), duration(flow.age_ms),
                        duration(flow.idle_ms)});
    }
    return grid(rows);
}

std::string human(const Info& info) {
    const auto features = feature_names(info.features);
    const std::vector<Row> rows{
        {"version", info.version},
        {"api_version", std::to_string(info.api_version)},
        {"features", features.empty() ? "none" : join(features, ",")},
        {"netns_cookie", std::to_string(info.netns_cookie)},
    };
    return table(rows) + "params:\n" + table(param_rows(info.params), 2);
}

std::string human_param(const ParamField& field, const Params& params) {
    const auto& value = params.*field.member;
    const std::vector<Row> rows{{std::string(field.name), value ? std::to_string(*value) : "-"}};
    return table(rows);
}

std::string human_version(std::string_view tool_version, const std::optional<Info>& module) {
    std::vector<Row> rows{{"mutexctl", std::string(tool_version)}};
    if (module) {
        rows.emplace_back("module", module->version);
        rows.emplace_back("api_version", std::to_string(module->api_version));
    } else {
        rows.emplace_back("module", "not loaded");
    }
    return table(rows);
}

std::string backend_endpoint(const config::Backend& backend) {
    if (!backend.address) {
        return "port " + std::to_string(backend.port);
    }
    return endpoint({*backend.address, backend.port});
}

Json to_json(const Event& event) {
    Json json = Json::object();
    json["event"] = config::name_of(kEventTypeNames, event.type);
    if (event.generation) {
        json["generation"] = *event.generation;
    }
    if (event.pool) {
        json["pool"] = *event.pool;
    }
    if (event.backend) {
        const auto& be = *event.backend;
        Json backend = Json::object();
        backend["address"] = be.address ? Json(config::to_string(*be.address)) : Json(nullptr);
        backend["port"] = be.port;
        backend["weight"] = be.weight;
        backend["state"] = config::to_string(be.state);
        json["backend"] = std::move(backend);
    }
    if (event.flow) {
        json["flow"] = to_json(*event.flow);
    }
    return json;
}

std::string human(const Event& event) {
    std::string line(config::name_of(kEventTypeNames, event.type));
    switch (event.type) {
        case EventType::config:
            line += " generation " + std::to_string(event.generation.value_or(0));
            break;
        case EventType::backend:
            if (event.backend) {
                line += " " + event.pool.value_or("?") + " " + backend_endpoint(*event.backend) +
                        " " + std::string(config::to_string(event.backend->state)) + " weight " +
                        std::to_string(event.backend->weight);
            }
            line += " (generation " + std::to_string(event.generation.value_or(0)) + ")";
            break;
        case EventType::flow_start:
        case EventType::flow_end:
            if (event.flow) {
                const Flow& f = *event.flow;
                line += " " + std::string(config::to_string(f.protocol)) + " " +
                        endpoint(f.source) + " -> " + endpoint(f.original_destination) +
                        " steered to " + endpoint(f.destination);
                if (event.pool) {
                    line += " (pool " + *event.pool + ")";
                }
            }
            break;
    }
    return line + "\n";
}

}  // namespace mutex::format
