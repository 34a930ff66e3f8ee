// SPDX-License-Identifier: GPL-2.0
// What mutexd's tuning policy last set, and why: mutexd writes it after every change it makes
// (kTuningRecordPath, readable by everyone), `mutexctl params` shows it beside the values. The
// parameters are the module's, shared by every namespace; the record says which namespace's
// mutexd set each one. Pure: encoding and decoding only; the file is read and written by the
// programs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace mutex {

inline constexpr std::string_view kTuningRecordPath = "/run/mutex_proxy/tuning.json";

/// One parameter's last change by mutexd.
struct TuningChange {
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    std::string reason;     // "hit_rate_low", ...
    std::string detail;     // the numbers behind it
    std::int64_t time = 0;  // seconds since the epoch
    std::uint64_t netns_cookie = 0;

    bool operator==(const TuningChange&) const = default;
};

/// Parameter name (sysfs) -> its last change.
using TuningRecord = std::map<std::string, TuningChange>;

std::string encode_tuning_record(const TuningRecord& record);
/// Throws std::invalid_argument for text that is not such a record.
TuningRecord decode_tuning_record(std::string_view text);

}  // namespace mutex
