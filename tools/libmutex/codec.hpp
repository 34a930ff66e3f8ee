// SPDX-License-Identifier: GPL-2.0
// Pure encoding and decoding of the mutex_proxy generic netlink messages
// (include/uapi/linux/mutex_proxy.h). No I/O: requests are built into a caller buffer, replies
// are decoded from a message the caller received. Each nest of the UAPI has one attribute table
// in codec.cpp (attributes.hpp parses against it); the generic netlink controller's family
// lookup and netlink's error and done messages are the channel's (netlink.hpp).
//
// Decoding is strict about what it understands (an attribute of the wrong type or length, a
// truncated message, a missing mandatory attribute: ProtocolError) and ignores what it does not
// (unknown attributes: a newer module may send more).
#pragma once

#include <linux/genetlink.h>
#include <linux/mutex_proxy.h>
#include <linux/netlink.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libmutex/attributes.hpp"
#include "libmutex/config.hpp"

namespace mutex {

// ---------------------------------------------------------------------------------------------
// Parameters, statistics and features: the one table of names and attribute ids
// ---------------------------------------------------------------------------------------------

/// Module parameters (MUTEX_A_PARAMS). In a request only the fields that are set are sent; in
/// a reply the module reports every parameter.
struct Params {
    std::optional<std::uint32_t> enable_batching;    // perf_enable_batching
    std::optional<std::uint32_t> batch_size;         // perf_batch_size
    std::optional<std::uint32_t> cache_size;         // perf_cache_size
    std::optional<std::uint32_t> max_conns;          // max_conns
    std::optional<std::uint32_t> enable_accounting;  // perf_enable_accounting (API version 3)

    bool operator==(const Params&) const = default;
};

struct ParamField {
    std::string_view name;  // the sysfs name in /sys/module/mutex_proxy/parameters/
    std::uint16_t attr;     // MUTEX_PARAM_A_*
    std::optional<std::uint32_t> Params::*member;
};

/// Every parameter, in UAPI order. Used for encoding, decoding, human and JSON output.
inline constexpr std::array kParamFields{
    ParamField{"perf_enable_batching", MUTEX_PARAM_A_ENABLE_BATCHING, &Params::enable_batching},
    ParamField{"perf_batch_size", MUTEX_PARAM_A_BATCH_SIZE, &Params::batch_size},
    ParamField{"perf_cache_size", MUTEX_PARAM_A_CACHE_SIZE, &Params::cache_size},
    ParamField{"max_conns", MUTEX_PARAM_A_MAX_CONNS, &Params::max_conns},
    ParamField{"perf_enable_accounting", MUTEX_PARAM_A_ENABLE_ACCOUNTING,
               &Params::enable_accounting},
};

/// The parameter called `name` (sysfs name), or nullptr.
const ParamField* find_param(std::string_view name) noexcept;
/// "perf_enable_batching, perf_batch_size, ..." for error messages.
std::string param_names();

/// One namespace's counters (MUTEX_A_STATS), in UAPI order, and the number of flows in its
/// connection table (MUTEX_A_FLOW_COUNT, beside the nest: a gauge, not a counter).
struct Stats {
    std::uint64_t pkts_seen{};
    std::uint64_t pkts_steered{};
    std::uint64_t flows_new{};
    std::uint64_t flows_steered{};
    std::uint64_t flows_bypassed{};
    std::uint64_t flows_dropped{};
    std::uint64_t cache_hits{};
    std::uint64_t cache_misses{};
    std::uint64_t table_inserts{};
    std::uint64_t table_evictions{};
    std::uint64_t table_full{};
    std::uint64_t alloc_fails{};
    std::uint64_t batch_flushes{};
    std::uint64_t events_sent{};
    std::uint64_t events_lost{};
    std::uint64_t bytes_steered{};  // API version 3
    std::uint64_t flows_adopted{};  // API version 6
    std::uint64_t flow_count{};     // MUTEX_A_FLOW_COUNT, API version 3

    bool operator==(const Stats&) const = default;
};

struct StatField {
    std::string_view name;  // snake_case, as in JSON output and metrics
    std::uint16_t attr;     // MUTEX_STATS_A_*
    std::uint64_t Stats::*member;
};

/// Every counter, in UAPI order.
inline constexpr std::array kStatFields{
    StatField{"pkts_seen", MUTEX_STATS_A_PKTS_SEEN, &Stats::pkts_seen},
    StatField{"pkts_steered", MUTEX_STATS_A_PKTS_STEERED, &Stats::pkts_steered},
    StatField{"flows_new", MUTEX_STATS_A_FLOWS_NEW, &Stats::flows_new},
    StatField{"flows_steered", MUTEX_STATS_A_FLOWS_STEERED, &Stats::flows_steered},
    StatField{"flows_bypassed", MUTEX_STATS_A_FLOWS_BYPASSED, &Stats::flows_bypassed},
    StatField{"flows_dropped", MUTEX_STATS_A_FLOWS_DROPPED, &Stats::flows_dropped},
    StatField{"cache_hits", MUTEX_STATS_A_CACHE_HITS, &Stats::cache_hits},
    StatField{"cache_misses", MUTEX_STATS_A_CACHE_MISSES, &Stats::cache_misses},
    StatField{"table_inserts", MUTEX_STATS_A_TABLE_INSERTS, &Stats::table_inserts},
    StatField{"table_evictions", MUTEX_STATS_A_TABLE_EVICTIONS, &Stats::table_evictions},
    StatField{"table_full", MUTEX_STATS_A_TABLE_FULL, &Stats::table_full},
    StatField{"alloc_fails", MUTEX_STATS_A_ALLOC_FAILS, &Stats::alloc_fails},
    StatField{"batch_flushes", MUTEX_STATS_A_BATCH_FLUSHES, &Stats::batch_flushes},
    StatField{"events_sent", MUTEX_STATS_A_EVENTS_SENT, &Stats::events_sent},
    StatField{"events_lost", MUTEX_STATS_A_EVENTS_LOST, &Stats::events_lost},
    StatField{"bytes_steered", MUTEX_STATS_A_BYTES_STEERED, &Stats::bytes_steered},
    StatField{"flows_adopted", MUTEX_STATS_A_FLOWS_ADOPTED, &Stats::flows_adopted},
};

/// The name of Stats::flow_count in human and JSON output.
inline constexpr std::string_view kFlowCountName = "flow_count";

struct FeatureBit {
    std::string_view name;
    std::uint64_t bit;
};

/// Every known MUTEX_FEATURE_* bit, in UAPI order.
inline constexpr std::array kFeatureBits{
    FeatureBit{"netns", MUTEX_FEATURE_NETNS},
    FeatureBit{"stats", MUTEX_FEATURE_STATS},
    FeatureBit{"params", MUTEX_FEATURE_PARAMS},
    FeatureBit{"hooks_ipv4", MUTEX_FEATURE_HOOKS_IPV4},
    FeatureBit{"hooks_ipv6", MUTEX_FEATURE_HOOKS_IPV6},
    FeatureBit{"config", MUTEX_FEATURE_CONFIG},
    FeatureBit{"cgroup", MUTEX_FEATURE_CGROUP},
    FeatureBit{"flows", MUTEX_FEATURE_FLOWS},
    FeatureBit{"backend", MUTEX_FEATURE_BACKEND},
    FeatureBit{"events", MUTEX_FEATURE_EVENTS},
};

/// Names of the bits set in `features`, in bit order; an unknown bit N is named "bit<N>".
std::vector<std::string> feature_names(std::uint64_t features);

/// Reply to MUTEX_CMD_GET_INFO.
struct Info {
    std::string version;           // module version, "0.1.0"
    std::uint32_t api_version{};   // MUTEX_PROXY_API_VERSION of the module
    std::uint64_t features{};      // MUTEX_FEATURE_* bits
    std::uint64_t netns_cookie{};  // cookie of the answering namespace
    Params params;

    bool operator==(const Info&) const = default;
};

// ---------------------------------------------------------------------------------------------
// mutex_proxy requests and replies
// ---------------------------------------------------------------------------------------------
// Requests carry NLM_F_REQUEST | NLM_F_ACK: the kernel answers with the reply message and then
// an ACK, which ends the exchange. They throw std::invalid_argument for a misaligned buffer and
// std::length_error when it is too small. The returned span views the message inside `buffer`.

Message encode_get_info(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq);
Message encode_get_stats(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq);
/// Sends the parameters that are set in `params`; throws std::invalid_argument if none is.
Message encode_set_params(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                          const Params& params);

/// Decodes a GET_INFO reply. Every attribute the header lists for it is mandatory.
Info decode_info(const nlmsghdr& msg);
/// Decodes a GET_STATS reply. MUTEX_A_STATS, every counter of this API version and
/// MUTEX_A_FLOW_COUNT are mandatory.
Stats decode_stats(const nlmsghdr& msg);
/// Decodes a SET_PARAMS reply (MUTEX_A_PARAMS with every parameter).
Params decode_params(const nlmsghdr& msg);

// ---------------------------------------------------------------------------------------------
// Configuration (API version 2): SET_CONFIG and GET_CONFIG
// ---------------------------------------------------------------------------------------------

/// Interface name -> ifindex, resolved by the caller (if_nametoindex) so the codec stays pure.
using InterfaceIndexes = std::map<std::string, std::uint32_t, std::less<>>;
/// ifindex -> interface name (if_indextoname), or nullopt when there is none; decode_config then
/// names the interface by its decimal index.
using InterfaceNames = std::function<std::optional<std::string>(std::uint32_t)>;

/// Run-time counters of one backend (GET_CONFIG only).
struct BackendCounters {
    std::uint64_t active_flows{};  // MUTEX_BACKEND_A_ACTIVE_FLOWS
    std::uint64_t total_flows{};   // MUTEX_BACKEND_A_TOTAL_FLOWS
    std::uint64_t pkts{};          // MUTEX_BACKEND_A_PKTS (API version 3), both directions
    std::uint64_t bytes{};         // MUTEX_BACKEND_A_BYTES (API version 3)
    std::uint64_t pkts_reply{};    // MUTEX_BACKEND_A_PKTS_REPLY (API version 5): of pkts, those
                                   // from the backend towards the client
    std::uint64_t bytes_reply{};   // MUTEX_BACKEND_A_BYTES_REPLY (API version 5)

    bool operator==(const BackendCounters&) const = default;
};

/// What GET_CONFIG answers: the generation, the configuration (backend states included),
/// counters[pool][backend], parallel to config.pools[pool].backends[backend], and
/// rule_matches[rule] (MUTEX_RULE_A_MATCHES, API version 5: new flows each rule decided),
/// parallel to config.rules.
struct ConfigSnapshot {
    std::uint64_t generation{};
    config::Config config;
    std::vector<std::vector<BackendCounters>> counters;
    std::vector<std::uint64_t> rule_matches;

    bool operator==(const ConfigSnapshot&) const = default;
};

/// MUTEX_CMD_GET_CONFIG as a dump: NLM_F_REQUEST | NLM_F_DUMP, no attributes (a configuration of
/// any size comes back over as many messages as it needs).
Message encode_get_config(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq);

/// MUTEX_CMD_SET_CONFIG: MUTEX_A_GENERATION `expected_generation`, then one MUTEX_A_POOL per pool
/// and one MUTEX_A_RULE per rule at the top level. Defaults are sent explicitly (scheduler,
/// failure mode, weight, priority, state); a rule's family only with a prefix; a rule's pool as
/// the index of the pool of that name. The message is returned in its own storage (it can be far
/// larger than a RequestBuffer; std::vector storage is aligned for nlmsghdr).
/// Throws std::invalid_argument for an interface missing from `interfaces` (naming it), a rule
/// naming an unknown pool, or more pools/rules/backends than the UAPI allows.
std::vector<std::byte> encode_set_config(std::uint16_t family, std::uint32_t seq,
                                         const config::Config& config,
                                         std::uint64_t expected_generation,
                                         const InterfaceIndexes& interfaces);

/// Decodes a SET_CONFIG reply: the new generation (MUTEX_A_GENERATION, mandatory).
std::uint64_t decode_set_config(const nlmsghdr& msg);

/// Decodes a GET_CONFIG reply. MUTEX_A_GENERATION is mandatory, so are a pool's name, a
/// backend's port and a rule's action; values outside the UAPI's ranges, an address of the wrong
/// length, a rule pool index out of range are ProtocolErrors. Unknown attributes are ignored.
ConfigSnapshot decode_config(const nlmsghdr& msg, const InterfaceNames& names);

/// Decodes the messages of a GET_CONFIG dump as one configuration: pools and rules in message
/// order (a rule's pool index counts the pools of every message). Every message must carry
/// MUTEX_A_GENERATION, the same in all; a ProtocolError otherwise, as for one message.
ConfigSnapshot decode_config(std::span<const nlmsghdr* const> parts, const InterfaceNames& names);

// ---------------------------------------------------------------------------------------------
// Connection table (API version 3): GET_FLOWS, GET_ORIGDST, FLUSH_FLOWS
// ---------------------------------------------------------------------------------------------

/// An address and a port (host byte order).
struct Endpoint {
    config::Address address;
    std::uint16_t port{};

    bool operator==(const Endpoint&) const = default;
};

/// One steered flow of the connection table (MUTEX_A_FLOW in a reply).
struct Flow {
    config::Protocol protocol = config::Protocol::tcp;  // tcp or udp
    Endpoint source;                                    // the client
    Endpoint original_destination;                      // what the client asked for, before NAT
    Endpoint destination;  // where it was steered: local port or backend (after NAT)
    config::Action action = config::Action::redirect;  // redirect or dnat
    std::uint64_t pkts_orig{};                         // client -> destination
    std::uint64_t bytes_orig{};                        // (IP length)
    std::uint64_t pkts_reply{};                        // destination -> client
    std::uint64_t bytes_reply{};
    std::uint64_t age_ms{};   // since the flow began
    std::uint64_t idle_ms{};  // since its last accounted packet

    bool operator==(const Flow&) const = default;
};

/// A connection as a proxy sees it, for GET_ORIGDST: its peer (source) and its own address and
/// port (destination), i.e. after NAT. Both addresses of one family, both ports non-zero.
struct FlowKey {
    config::Protocol protocol = config::Protocol::tcp;  // tcp or udp
    Endpoint source;
    Endpoint destination;

    bool operator==(const FlowKey&) const = default;
};

/// MUTEX_CMD_GET_FLOWS as a dump: NLM_F_REQUEST | NLM_F_DUMP (no NLM_F_ACK: a dump ends with
/// NLMSG_DONE), no attributes.
Message encode_get_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq);
/// MUTEX_CMD_GET_ORIGDST with `key` in a MUTEX_A_FLOW nest. Throws std::invalid_argument for a
/// protocol other than tcp/udp, addresses of two families or a port 0.
Message encode_get_origdst(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                           const FlowKey& key);
/// MUTEX_CMD_FLUSH_FLOWS (no attributes).
Message encode_flush_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq);

/// Decodes one message of a GET_FLOWS dump: every MUTEX_A_FLOW in it, in order (none is fine).
/// In a flow every attribute the UAPI lists for replies is mandatory; a family other than
/// AF_INET/AF_INET6, an address of the wrong length, a protocol other than TCP/UDP, an action
/// other than redirect/dnat are ProtocolErrors. Ports may be 0 (UDP allows it).
std::vector<Flow> decode_flows(const nlmsghdr& msg);
/// Decodes a GET_ORIGDST reply: exactly one MUTEX_A_FLOW.
Flow decode_origdst(const nlmsghdr& msg);
/// Decodes a FLUSH_FLOWS reply: MUTEX_A_FLOW_COUNT (mandatory), the number of flows removed.
std::uint64_t decode_flush_flows(const nlmsghdr& msg);

// ---------------------------------------------------------------------------------------------
// Backends and events (API version 4): SET_BACKEND, END_FLOWS, the multicast groups
// ---------------------------------------------------------------------------------------------

/// One backend of a pool, by its identity (the pool's name, the backend's address and port; no
/// address for a local port).
struct BackendRef {
    std::string pool;
    std::optional<config::Address> address;
    std::uint16_t port{};

    bool operator==(const BackendRef&) const = default;
};

/// What SET_BACKEND changes: the state, the weight or both; with `generation`, only if the
/// configuration is still that generation.
struct BackendChange {
    BackendRef backend;
    std::optional<config::BackendState> state;
    std::optional<std::uint16_t> weight;
    std::optional<std::uint64_t> generation;

    bool operator==(const BackendChange&) const = default;
};

/// MUTEX_CMD_SET_BACKEND. Throws std::invalid_argument when neither a state nor a weight is set,
/// for a weight 0 or a port 0 (nothing is built).
Message encode_set_backend(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                           const BackendChange& change);
/// Decodes a SET_BACKEND reply: the current generation (MUTEX_A_GENERATION, mandatory).
std::uint64_t decode_set_backend(const nlmsghdr& msg);

/// MUTEX_CMD_END_FLOWS for `backend`; `protocol` tcp or udp ends only that protocol's
/// connections, any ends both. Throws std::invalid_argument for a port 0.
Message encode_end_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                         const BackendRef& backend, config::Protocol protocol);
/// Decodes an END_FLOWS reply: MUTEX_A_FLOW_COUNT (mandatory), the connections ended.
std::uint64_t decode_end_flows(const nlmsghdr& msg);

enum class EventType : std::uint8_t { config, backend, flow_start, flow_end };

inline constexpr std::array<config::EnumName<EventType>, 4> kEventTypeNames{{
    {EventType::config, "config"},
    {EventType::backend, "backend"},
    {EventType::flow_start, "flow-start"},
    {EventType::flow_end, "flow-end"},
}};

/// One event of a MUTEX_CMD_EVENT message. What is set depends on the type (UAPI "enum
/// mutex_event_type"): config has the generation; backend the generation, pool and backend
/// (address, port, weight and state as they are now); the flow events the flow (its counters
/// so far at a start, its final ones at an end).
struct Event {
    EventType type = EventType::config;
    std::optional<std::uint64_t> generation;
    std::optional<std::string> pool;
    std::optional<config::Backend> backend;
    std::optional<Flow> flow;

    bool operator==(const Event&) const = default;
};

/// The multicast groups' names (CTRL_ATTR_MCAST_GROUPS of the family): configuration and
/// backend changes; flow starts and ends (opt-in: joining it is what makes the module build them).
inline constexpr std::string_view kEventsGroup = MUTEX_PROXY_MCGRP_EVENTS;
inline constexpr std::string_view kFlowsGroup = MUTEX_PROXY_MCGRP_FLOWS;

/// Decodes a MUTEX_CMD_EVENT message: every MUTEX_A_EVENT in it, in order (at least one). An
/// unknown event type is skipped (a newer module may send more); a known one missing what its
/// type carries is a ProtocolError.
std::vector<Event> decode_events(const nlmsghdr& msg);

}  // namespace mutex
