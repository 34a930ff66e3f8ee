// SPDX-License-Identifier: GPL-2.0
#include "libmutex/format.hpp"

#include <algorithm>
#include <string>
#include <vector>

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
    return json;
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
    return table(rows);
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

}  // namespace mutex::format
