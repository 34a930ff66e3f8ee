// SPDX-License-Identifier: GPL-2.0
#include "libmutex/tuning_record.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace mutex {

std::string encode_tuning_record(const TuningRecord& record) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& [name, c] : record) {
        j[name] = {{"from", c.from},     {"to", c.to},     {"reason", c.reason},
                   {"detail", c.detail}, {"time", c.time}, {"netns_cookie", c.netns_cookie}};
    }
    return j.dump(2) + "\n";
}

TuningRecord decode_tuning_record(std::string_view text) {
    try {
        const auto j = nlohmann::json::parse(text);
        if (!j.is_object()) {
            throw std::invalid_argument("not a JSON object");
        }
        TuningRecord record;
        for (const auto& [name, c] : j.items()) {
            record[name] = {
                c.at("from").get<std::uint32_t>(), c.at("to").get<std::uint32_t>(),
                c.at("reason").get<std::string>(), c.at("detail").get<std::string>(),
                c.at("time").get<std::int64_t>(),  c.at("netns_cookie").get<std::uint64_t>()};
        }
        return record;
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("not a tuning record: ") + e.what());
    }
}

}  // namespace mutex
