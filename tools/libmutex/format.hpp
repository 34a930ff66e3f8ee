// SPDX-License-Identifier: GPL-2.0
// Pure output formatting for mutexctl (and the daemon's logs): human tables with aligned columns
// and JSON objects (nlohmann::ordered_json, keys in UAPI order). Names come from the tables in
// codec.hpp, so human output, JSON and the netlink attributes always agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "libmutex/codec.hpp"

namespace mutex::format {

using Json = nlohmann::ordered_json;
using Row = std::pair<std::string, std::string>;

/// Two aligned columns: every key padded to the widest key plus two spaces, each row
/// prefixed by `indent` spaces and ended by '\n'.
std::string table(std::span<const Row> rows, std::size_t indent = 0);

/// One compact JSON document and a newline.
std::string json_line(const Json& json);

/// {"perf_enable_batching": 1, ...}: the parameters that are set, in UAPI order.
Json to_json(const Params& params);
/// {"pkts_seen": 12, ..., "flow_count": 3}: every counter, in UAPI order, then the flow count.
Json to_json(const Stats& stats);
/// {"family": "ipv4", "protocol": "tcp", "src_addr", "src_port", "orig_dst_addr",
///  "orig_dst_port", "dst_addr", "dst_port", "action": "redirect", "pkts_orig", "bytes_orig",
///  "pkts_reply", "bytes_reply", "age_ms", "idle_ms"}: the keys are the UAPI's MUTEX_FLOW_A_*
/// names; addresses as text ("10.0.0.2", "2001:db8::1"), ports and counters as numbers.
Json to_json(const Flow& flow);
/// [{...}, ...]: every flow, in the order given.
Json to_json(const std::vector<Flow>& flows);
/// json_line(to_json(flows)), written flow by flow: no document of every flow is built (a
/// table of a million flows would take gigabytes as one).
std::string json_line(const std::vector<Flow>& flows);
/// {"version": "0.1.0", "api_version": 1, "features": ["netns", ...], "netns_cookie": N,
///  "params": {...}}
Json to_json(const Info& info);
/// {"perf_batch_size": 32}; an unset parameter is null.
Json param_to_json(const ParamField& field, const Params& params);
/// {"mutexctl": "0.1.0", "module": {"version": "0.1.0", "api_version": 1}} or "module": null
/// when the module is not loaded.
Json version_to_json(std::string_view tool_version, const std::optional<Info>& module);

/// {"event": "backend", "generation": 3, "pool": "sentries", "backend": {"address", "port",
///  "weight", "state"}, "flow": {...}}: what the event carries (type names of kEventTypeNames,
/// the address null for a local port).
Json to_json(const Event& event);

/// "perf_enable_batching  1\n..." (unset parameters are left out).
std::string human(const Params& params);
/// "pkts_seen  12\n..." with every counter, then "flow_count  N".
std::string human(const Stats& stats);
/// "10.0.0.2:40000", "[2001:db8::1]:26656".
std::string endpoint(const Endpoint& endpoint);
/// A backend as people read it: its endpoint, or "port 1080" for a port of this node.
std::string backend_endpoint(const config::Backend& backend);
/// A duration for people: "0.3s" (under 10 s, one decimal), "42s", "5m03s", "2h05m", "3d04h".
std::string duration(std::uint64_t ms);
/// The flows as a table with a header line: PROTO SOURCE ORIG-DST STEERED-TO ACTION PKTS-ORIG
/// BYTES-ORIG PKTS-REPLY BYTES-REPLY AGE IDLE (ORIG: client -> destination, REPLY: back),
/// columns aligned, no trailing blanks; the header alone when there is no flow.
std::string human(const std::vector<Flow>& flows);
/// One line per event: "config generation 3",
/// "backend sentries 10.0.0.2:26656 down weight 1 (generation 3)",
/// "flow-start tcp 10.0.0.1:40000 -> 203.0.113.5:26656 steered to 10.0.0.2:26656".
std::string human(const Event& event);
/// version, api_version, features (comma-separated, "none"), netns_cookie, then "params:" and
/// the parameters indented by two.
std::string human(const Info& info);
/// "perf_batch_size  32\n" ("-" when unset).
std::string human_param(const ParamField& field, const Params& params);
/// "mutexctl  0.1.0\nmodule   0.1.0\napi_version  1\n", or "module  not loaded".
std::string human_version(std::string_view tool_version, const std::optional<Info>& module);

}  // namespace mutex::format
