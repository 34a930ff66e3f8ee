// SPDX-License-Identifier: GPL-2.0
#include "libmutex/codec.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "libmutex/attributes.hpp"
#include "libmutex/error.hpp"

namespace mutex {

namespace {

namespace cfg = mutex::config;

// ----- the UAPI's enums and the configuration model's ---------------------------------------
// The model's enums are sent as their values: each must be its UAPI counterpart.

static_assert(static_cast<int>(cfg::Scheduler::rr) == MUTEX_SCHED_RR);
static_assert(static_cast<int>(cfg::Scheduler::wrr) == MUTEX_SCHED_WRR);
static_assert(static_cast<int>(cfg::Scheduler::source_hash) == MUTEX_SCHED_SOURCE_HASH);
static_assert(static_cast<int>(cfg::Scheduler::least_conn) == MUTEX_SCHED_LEAST_CONN);
static_assert(static_cast<int>(cfg::Scheduler::failover) == MUTEX_SCHED_FAILOVER);
static_assert(cfg::kSchedulerNames.size() == __MUTEX_SCHED_MAX);
static_assert(static_cast<int>(cfg::FailureMode::closed) == MUTEX_FAILURE_CLOSED);
static_assert(static_cast<int>(cfg::FailureMode::open) == MUTEX_FAILURE_OPEN);
static_assert(cfg::kFailureModeNames.size() == __MUTEX_FAILURE_MAX);
static_assert(static_cast<int>(cfg::BackendState::up) == MUTEX_BACKEND_UP);
static_assert(static_cast<int>(cfg::BackendState::down) == MUTEX_BACKEND_DOWN);
static_assert(static_cast<int>(cfg::BackendState::drain) == MUTEX_BACKEND_DRAIN);
static_assert(cfg::kBackendStateNames.size() == __MUTEX_BACKEND_STATE_MAX);
static_assert(static_cast<int>(cfg::Action::redirect) == MUTEX_ACTION_REDIRECT);
static_assert(static_cast<int>(cfg::Action::dnat) == MUTEX_ACTION_DNAT);
static_assert(static_cast<int>(cfg::Action::bypass) == MUTEX_ACTION_BYPASS);
static_assert(static_cast<int>(cfg::Action::drop) == MUTEX_ACTION_DROP);
static_assert(cfg::kActionNames.size() == __MUTEX_ACTION_MAX);

// ----- attribute tables: one per nest of the UAPI -------------------------------------------

using K = AttrKind;

/// The top level of every mutex_proxy message (MUTEX_A_*).
constexpr std::array kTopAttrs{
    AttrSpec{MUTEX_A_VERSION, K::string, "MUTEX_A_VERSION"},
    AttrSpec{MUTEX_A_API_VERSION, K::u32, "MUTEX_A_API_VERSION"},
    AttrSpec{MUTEX_A_FEATURES, K::u64, "MUTEX_A_FEATURES"},
    AttrSpec{MUTEX_A_NETNS_COOKIE, K::u64, "MUTEX_A_NETNS_COOKIE"},
    AttrSpec{MUTEX_A_PARAMS, K::nested, "MUTEX_A_PARAMS"},
    AttrSpec{MUTEX_A_STATS, K::nested, "MUTEX_A_STATS"},
    AttrSpec{MUTEX_A_GENERATION, K::u64, "MUTEX_A_GENERATION"},
    AttrSpec{MUTEX_A_POOL, K::nested, "MUTEX_A_POOL"},
    AttrSpec{MUTEX_A_RULE, K::nested, "MUTEX_A_RULE"},
    AttrSpec{MUTEX_A_FLOW, K::nested, "MUTEX_A_FLOW"},
    AttrSpec{MUTEX_A_FLOW_COUNT, K::u64, "MUTEX_A_FLOW_COUNT"},
    AttrSpec{MUTEX_A_EVENT, K::nested, "MUTEX_A_EVENT"},
};

/// MUTEX_A_PARAMS and MUTEX_A_STATS: from the field tables, named as the output names them.
template <typename Field, std::size_t N>
constexpr std::array<AttrSpec, N> field_attrs(const std::array<Field, N>& fields, AttrKind kind) {
    std::array<AttrSpec, N> attrs{};
    for (std::size_t i = 0; i < N; ++i) {
        attrs.at(i) = AttrSpec{fields.at(i).attr, kind, fields.at(i).name};
    }
    return attrs;
}
constexpr auto kParamAttrs = field_attrs(kParamFields, K::u32);
constexpr auto kStatAttrs = field_attrs(kStatFields, K::u64);

constexpr std::array kPoolAttrs{
    AttrSpec{MUTEX_POOL_A_NAME, K::string, "MUTEX_POOL_A_NAME"},
    AttrSpec{MUTEX_POOL_A_SCHEDULER, K::u8, "MUTEX_POOL_A_SCHEDULER"},
    AttrSpec{MUTEX_POOL_A_FAILURE_MODE, K::u8, "MUTEX_POOL_A_FAILURE_MODE"},
    AttrSpec{MUTEX_POOL_A_BACKEND, K::nested, "MUTEX_POOL_A_BACKEND"},
};

constexpr std::array kBackendAttrs{
    AttrSpec{MUTEX_BACKEND_A_FAMILY, K::u8, "MUTEX_BACKEND_A_FAMILY"},
    AttrSpec{MUTEX_BACKEND_A_ADDR, K::binary, "MUTEX_BACKEND_A_ADDR"},
    AttrSpec{MUTEX_BACKEND_A_PORT, K::u16, "MUTEX_BACKEND_A_PORT"},
    AttrSpec{MUTEX_BACKEND_A_WEIGHT, K::u32, "MUTEX_BACKEND_A_WEIGHT"},
    AttrSpec{MUTEX_BACKEND_A_PRIORITY, K::u8, "MUTEX_BACKEND_A_PRIORITY"},
    AttrSpec{MUTEX_BACKEND_A_STATE, K::u8, "MUTEX_BACKEND_A_STATE"},
    AttrSpec{MUTEX_BACKEND_A_ACTIVE_FLOWS, K::u64, "MUTEX_BACKEND_A_ACTIVE_FLOWS"},
    AttrSpec{MUTEX_BACKEND_A_TOTAL_FLOWS, K::u64, "MUTEX_BACKEND_A_TOTAL_FLOWS"},
    AttrSpec{MUTEX_BACKEND_A_PKTS, K::u64, "MUTEX_BACKEND_A_PKTS"},
    AttrSpec{MUTEX_BACKEND_A_BYTES, K::u64, "MUTEX_BACKEND_A_BYTES"},
    AttrSpec{MUTEX_BACKEND_A_PKTS_REPLY, K::u64, "MUTEX_BACKEND_A_PKTS_REPLY"},
    AttrSpec{MUTEX_BACKEND_A_BYTES_REPLY, K::u64, "MUTEX_BACKEND_A_BYTES_REPLY"},
};

constexpr std::array kRuleAttrs{
    AttrSpec{MUTEX_RULE_A_NAME, K::string, "MUTEX_RULE_A_NAME"},
    AttrSpec{MUTEX_RULE_A_FAMILY, K::u8, "MUTEX_RULE_A_FAMILY"},
    AttrSpec{MUTEX_RULE_A_PROTO, K::u8, "MUTEX_RULE_A_PROTO"},
    AttrSpec{MUTEX_RULE_A_DST_ADDR, K::binary, "MUTEX_RULE_A_DST_ADDR"},
    AttrSpec{MUTEX_RULE_A_DST_PLEN, K::u8, "MUTEX_RULE_A_DST_PLEN"},
    AttrSpec{MUTEX_RULE_A_DST_PORT_MIN, K::u16, "MUTEX_RULE_A_DST_PORT_MIN"},
    AttrSpec{MUTEX_RULE_A_DST_PORT_MAX, K::u16, "MUTEX_RULE_A_DST_PORT_MAX"},
    AttrSpec{MUTEX_RULE_A_SRC_ADDR, K::binary, "MUTEX_RULE_A_SRC_ADDR"},
    AttrSpec{MUTEX_RULE_A_SRC_PLEN, K::u8, "MUTEX_RULE_A_SRC_PLEN"},
    AttrSpec{MUTEX_RULE_A_SRC_PORT_MIN, K::u16, "MUTEX_RULE_A_SRC_PORT_MIN"},
    AttrSpec{MUTEX_RULE_A_SRC_PORT_MAX, K::u16, "MUTEX_RULE_A_SRC_PORT_MAX"},
    AttrSpec{MUTEX_RULE_A_UID_MIN, K::u32, "MUTEX_RULE_A_UID_MIN"},
    AttrSpec{MUTEX_RULE_A_UID_MAX, K::u32, "MUTEX_RULE_A_UID_MAX"},
    AttrSpec{MUTEX_RULE_A_GID_MIN, K::u32, "MUTEX_RULE_A_GID_MIN"},
    AttrSpec{MUTEX_RULE_A_GID_MAX, K::u32, "MUTEX_RULE_A_GID_MAX"},
    AttrSpec{MUTEX_RULE_A_CGROUP, K::string, "MUTEX_RULE_A_CGROUP"},
    AttrSpec{MUTEX_RULE_A_MARK_VALUE, K::u32, "MUTEX_RULE_A_MARK_VALUE"},
    AttrSpec{MUTEX_RULE_A_MARK_MASK, K::u32, "MUTEX_RULE_A_MARK_MASK"},
    AttrSpec{MUTEX_RULE_A_OIF, K::u32, "MUTEX_RULE_A_OIF"},
    AttrSpec{MUTEX_RULE_A_IIF, K::u32, "MUTEX_RULE_A_IIF"},
    AttrSpec{MUTEX_RULE_A_ACTION, K::u8, "MUTEX_RULE_A_ACTION"},
    AttrSpec{MUTEX_RULE_A_TO_PORT, K::u16, "MUTEX_RULE_A_TO_PORT"},
    AttrSpec{MUTEX_RULE_A_POOL, K::u32, "MUTEX_RULE_A_POOL"},
    AttrSpec{MUTEX_RULE_A_PAD, K::binary, "MUTEX_RULE_A_PAD"},
    AttrSpec{MUTEX_RULE_A_MATCHES, K::u64, "MUTEX_RULE_A_MATCHES"},
};

constexpr std::array kFlowAttrs{
    AttrSpec{MUTEX_FLOW_A_FAMILY, K::u8, "MUTEX_FLOW_A_FAMILY"},
    AttrSpec{MUTEX_FLOW_A_PROTO, K::u8, "MUTEX_FLOW_A_PROTO"},
    AttrSpec{MUTEX_FLOW_A_SRC_ADDR, K::binary, "MUTEX_FLOW_A_SRC_ADDR"},
    AttrSpec{MUTEX_FLOW_A_SRC_PORT, K::u16, "MUTEX_FLOW_A_SRC_PORT"},
    AttrSpec{MUTEX_FLOW_A_DST_ADDR, K::binary, "MUTEX_FLOW_A_DST_ADDR"},
    AttrSpec{MUTEX_FLOW_A_DST_PORT, K::u16, "MUTEX_FLOW_A_DST_PORT"},
    AttrSpec{MUTEX_FLOW_A_ORIG_DST_ADDR, K::binary, "MUTEX_FLOW_A_ORIG_DST_ADDR"},
    AttrSpec{MUTEX_FLOW_A_ORIG_DST_PORT, K::u16, "MUTEX_FLOW_A_ORIG_DST_PORT"},
    AttrSpec{MUTEX_FLOW_A_ACTION, K::u8, "MUTEX_FLOW_A_ACTION"},
    AttrSpec{MUTEX_FLOW_A_PKTS_ORIG, K::u64, "MUTEX_FLOW_A_PKTS_ORIG"},
    AttrSpec{MUTEX_FLOW_A_BYTES_ORIG, K::u64, "MUTEX_FLOW_A_BYTES_ORIG"},
    AttrSpec{MUTEX_FLOW_A_PKTS_REPLY, K::u64, "MUTEX_FLOW_A_PKTS_REPLY"},
    AttrSpec{MUTEX_FLOW_A_BYTES_REPLY, K::u64, "MUTEX_FLOW_A_BYTES_REPLY"},
    AttrSpec{MUTEX_FLOW_A_AGE_MS, K::u64, "MUTEX_FLOW_A_AGE_MS"},
    AttrSpec{MUTEX_FLOW_A_IDLE_MS, K::u64, "MUTEX_FLOW_A_IDLE_MS"},
};

constexpr std::array kEventAttrs{
    AttrSpec{MUTEX_EVENT_A_TYPE, K::u8, "MUTEX_EVENT_A_TYPE"},
    AttrSpec{MUTEX_EVENT_A_GENERATION, K::u64, "MUTEX_EVENT_A_GENERATION"},
    AttrSpec{MUTEX_EVENT_A_POOL, K::string, "MUTEX_EVENT_A_POOL"},
    AttrSpec{MUTEX_EVENT_A_BACKEND, K::nested, "MUTEX_EVENT_A_BACKEND"},
    AttrSpec{MUTEX_EVENT_A_FLOW, K::nested, "MUTEX_EVENT_A_FLOW"},
};

/// Every attribute of a nest once, in UAPI order: a table that misses or repeats one, or whose
/// nest grew in the header, fails to compile.
template <std::size_t N>
constexpr bool covers(const std::array<AttrSpec, N>& table, int first, int max) {
    for (std::size_t i = 0; i < N; ++i) {
        if (table.at(i).type != first + static_cast<int>(i)) {
            return false;
        }
    }
    return first + static_cast<int>(N) - 1 == max;
}
static_assert(covers(kTopAttrs, MUTEX_A_VERSION, MUTEX_A_MAX));
static_assert(covers(kParamAttrs, MUTEX_PARAM_A_ENABLE_BATCHING, MUTEX_PARAM_A_MAX));
static_assert(covers(kStatAttrs, MUTEX_STATS_A_PKTS_SEEN, MUTEX_STATS_A_MAX));
static_assert(covers(kPoolAttrs, MUTEX_POOL_A_NAME, MUTEX_POOL_A_MAX));
static_assert(covers(kBackendAttrs, MUTEX_BACKEND_A_FAMILY, MUTEX_BACKEND_A_MAX));
static_assert(covers(kRuleAttrs, MUTEX_RULE_A_NAME, MUTEX_RULE_A_MAX));
static_assert(covers(kFlowAttrs, MUTEX_FLOW_A_FAMILY, MUTEX_FLOW_A_MAX));
static_assert(covers(kEventAttrs, MUTEX_EVENT_A_TYPE, MUTEX_EVENT_A_MAX));

static_assert(static_cast<int>(EventType::config) == MUTEX_EVENT_CONFIG);
static_assert(static_cast<int>(EventType::backend) == MUTEX_EVENT_BACKEND);
static_assert(static_cast<int>(EventType::flow_start) == MUTEX_EVENT_FLOW_START);
static_assert(static_cast<int>(EventType::flow_end) == MUTEX_EVENT_FLOW_END);
static_assert(kEventTypeNames.size() == __MUTEX_EVENT_MAX);

std::string str(std::string_view s) {
    return std::string(s);
}

Params decode_params_nest(const nlattr& nest) {
    const AttrView view = AttrView::of_nest(nest, kParamAttrs, "MUTEX_A_PARAMS");
    Params params;
    for (const auto& field : kParamFields) {
        params.*field.member = view.need_u32(field.attr);
    }
    return params;
}

Stats decode_stats_nest(const nlattr& nest) {
    const AttrView view = AttrView::of_nest(nest, kStatAttrs, "MUTEX_A_STATS");
    Stats stats;
    for (const auto& field : kStatFields) {
        stats.*field.member = view.need_u64(field.attr);
    }
    return stats;
}

// ----- configuration ---------------------------------------------------------------------------

/// An upper bound of the encoded size of `config` (the exact size is checked while encoding).
std::size_t config_size_bound(const cfg::Config& config) {
    constexpr std::size_t kHeader = 64;      // nlmsghdr, genlmsghdr, generation with padding
    constexpr std::size_t kPerPool = 64;     // nest, name (<= 32 + 4), scheduler, failure mode
    constexpr std::size_t kPerBackend = 80;  // nest, family, address, port, weight, prio, state
    constexpr std::size_t kPerRule = 320;    // every fixed-size attribute and a name
    std::size_t size = kHeader;
    for (const auto& pool : config.pools) {
        size += kPerPool + pool.name.size() + (kPerBackend * pool.backends.size());
    }
    for (const auto& rule : config.rules) {
        size += kPerRule + rule.name.value_or("").size() + rule.cgroup.value_or("").size() + 8;
    }
    return size;
}

std::uint8_t af_of(cfg::Family family) noexcept {
    return family == cfg::Family::ipv4 ? AF_INET : AF_INET6;
}

std::size_t address_length(cfg::Family family) noexcept {
    return family == cfg::Family::ipv4 ? 4 : 16;
}

std::span<const std::uint8_t> address_bytes(const std::array<std::uint8_t, 16>& bytes,
                                            cfg::Family family) noexcept {
    return std::span<const std::uint8_t>(bytes).first(address_length(family));
}

/// A backend's identity inside its open nest: family and address (not for a local port), port.
void encode_backend_id(AttrWriter& enc, const std::optional<cfg::Address>& address,
                       std::uint16_t port) {
    if (address) {
        enc.u8(MUTEX_BACKEND_A_FAMILY, af_of(address->family));
        enc.bytes(MUTEX_BACKEND_A_ADDR, address_bytes(address->bytes, address->family));
    }
    enc.u16(MUTEX_BACKEND_A_PORT, port);
}

void encode_pool(AttrWriter& enc, const cfg::Pool& pool) {
    nlattr* nest = enc.nest(MUTEX_A_POOL);
    enc.strz(MUTEX_POOL_A_NAME, pool.name);
    enc.u8(MUTEX_POOL_A_SCHEDULER, static_cast<std::uint8_t>(pool.scheduler));
    enc.u8(MUTEX_POOL_A_FAILURE_MODE, static_cast<std::uint8_t>(pool.failure_mode));
    for (const auto& backend : pool.backends) {
        nlattr* be = enc.nest(MUTEX_POOL_A_BACKEND);
        encode_backend_id(enc, backend.address, backend.port);
        enc.u32(MUTEX_BACKEND_A_WEIGHT, backend.weight);
        enc.u8(MUTEX_BACKEND_A_PRIORITY, backend.priority);
        enc.u8(MUTEX_BACKEND_A_STATE, static_cast<std::uint8_t>(backend.state));
        enc.end(be);
    }
    enc.end(nest);
}

std::uint32_t interface_index(const InterfaceIndexes& interfaces, const std::string& name) {
    const auto it = interfaces.find(name);
    if (it == interfaces.end()) {
        throw std::invalid_argument("unknown interface '" + name + "'");
    }
    return it->second;
}

void encode_rule(AttrWriter& enc, const cfg::Rule& rule, const cfg::Config& config,
                 const InterfaceIndexes& interfaces) {
    nlattr* nest = enc.nest(MUTEX_A_RULE);
    if (rule.name) {
        enc.strz(MUTEX_RULE_A_NAME, *rule.name);
    }
    if (const auto family = rule.family()) {
        enc.u8(MUTEX_RULE_A_FAMILY, af_of(*family));
    }
    if (rule.protocol != cfg::Protocol::any) {
        enc.u8(MUTEX_RULE_A_PROTO, rule.protocol == cfg::Protocol::tcp ? IPPROTO_TCP : IPPROTO_UDP);
    }
    const auto prefix = [&enc](const std::optional<cfg::Prefix>& p, std::uint16_t addr,
                               std::uint16_t plen) {
        if (p) {
            enc.bytes(addr, address_bytes(p->address, p->family));
            enc.u8(plen, p->length);
        }
    };
    const auto ports = [&enc](const std::optional<cfg::PortRange>& r, std::uint16_t lo,
                              std::uint16_t hi) {
        if (r) {
            enc.u16(lo, r->first);
            enc.u16(hi, r->last);
        }
    };
    const auto ids = [&enc](const std::optional<cfg::IdRange>& r, std::uint16_t lo,
                            std::uint16_t hi) {
        if (r) {
            enc.u32(lo, r->first);
            enc.u32(hi, r->last);
        }
    };
    prefix(rule.destination, MUTEX_RULE_A_DST_ADDR, MUTEX_RULE_A_DST_PLEN);
    ports(rule.destination_ports, MUTEX_RULE_A_DST_PORT_MIN, MUTEX_RULE_A_DST_PORT_MAX);
    prefix(rule.source, MUTEX_RULE_A_SRC_ADDR, MUTEX_RULE_A_SRC_PLEN);
    ports(rule.source_ports, MUTEX_RULE_A_SRC_PORT_MIN, MUTEX_RULE_A_SRC_PORT_MAX);
    ids(rule.uid, MUTEX_RULE_A_UID_MIN, MUTEX_RULE_A_UID_MAX);
    ids(rule.gid, MUTEX_RULE_A_GID_MIN, MUTEX_RULE_A_GID_MAX);
    if (rule.cgroup) {
        enc.strz(MUTEX_RULE_A_CGROUP, *rule.cgroup);
    }
    if (rule.mark) {
        enc.u32(MUTEX_RULE_A_MARK_VALUE, rule.mark->value);
        enc.u32(MUTEX_RULE_A_MARK_MASK, rule.mark->mask);
    }
    if (rule.out_interface) {
        enc.u32(MUTEX_RULE_A_OIF, interface_index(interfaces, *rule.out_interface));
    }
    if (rule.in_interface) {
        enc.u32(MUTEX_RULE_A_IIF, interface_index(interfaces, *rule.in_interface));
    }
    enc.u8(MUTEX_RULE_A_ACTION, static_cast<std::uint8_t>(rule.action));
    if (rule.to_port) {
        enc.u16(MUTEX_RULE_A_TO_PORT, *rule.to_port);
    }
    if (rule.pool) {
        const auto it =
            std::find_if(config.pools.begin(), config.pools.end(),
                         [&rule](const cfg::Pool& pool) { return pool.name == *rule.pool; });
        if (it == config.pools.end()) {
            throw std::invalid_argument("rule names unknown pool '" + *rule.pool + "'");
        }
        enc.u32(MUTEX_RULE_A_POOL, static_cast<std::uint32_t>(it - config.pools.begin()));
    }
    enc.end(nest);
}

/// The model's value of a UAPI enum attribute (the static_asserts above tie the two).
template <typename E, std::size_t N>
std::optional<E> enum_value(const AttrView& view, std::uint16_t type,
                            const std::array<cfg::EnumName<E>, N>& names) {
    const auto raw = view.u8(type);
    if (!raw) {
        return std::nullopt;
    }
    if (*raw >= N) {
        throw ProtocolError(view.name(type) + ": value " + std::to_string(*raw) + " out of range");
    }
    return names.at(*raw).value;
}

cfg::Family family_of(std::uint8_t af, std::string_view what) {
    if (af == AF_INET) {
        return cfg::Family::ipv4;
    }
    if (af == AF_INET6) {
        return cfg::Family::ipv6;
    }
    throw ProtocolError(str(what) + ": unknown address family " + std::to_string(af));
}

cfg::Protocol protocol_of(std::uint8_t proto, std::string_view what) {
    if (proto == IPPROTO_TCP) {
        return cfg::Protocol::tcp;
    }
    if (proto == IPPROTO_UDP) {
        return cfg::Protocol::udp;
    }
    throw ProtocolError(str(what) + ": unknown protocol " + std::to_string(proto));
}

/// The address in attribute `type` of `view`, which must have the length of `family`.
std::array<std::uint8_t, 16> get_address(const AttrView& view, std::uint16_t type,
                                         cfg::Family family) {
    const nlattr& attr = view.need(type);
    const std::size_t len = mnl_attr_get_payload_len(&attr);
    if (len != address_length(family)) {
        throw ProtocolError(view.name(type) + ": address of " + std::to_string(len) +
                            " bytes for " + str(cfg::to_string(family)));
    }
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), mnl_attr_get_payload(&attr), len);
    return bytes;
}

/// A port attribute of a configuration: 0 is not a port there.
std::optional<std::uint16_t> get_port(const AttrView& view, std::uint16_t type) {
    const auto port = view.u16(type);
    if (port && *port == 0) {
        throw ProtocolError(view.name(type) + ": port 0");
    }
    return port;
}

void decode_backend(const nlattr& nest, cfg::Backend& backend, BackendCounters& counters) {
    const AttrView view = AttrView::of_nest(nest, kBackendAttrs, "MUTEX_POOL_A_BACKEND");
    static_cast<void>(view.need(MUTEX_BACKEND_A_PORT));
    backend.port = *get_port(view, MUTEX_BACKEND_A_PORT);
    if (const auto weight = view.u32(MUTEX_BACKEND_A_WEIGHT)) {
        if (*weight < 1 || *weight > 65535) {
            throw ProtocolError("MUTEX_BACKEND_A_WEIGHT: " + std::to_string(*weight) +
                                " out of range");
        }
        backend.weight = static_cast<std::uint16_t>(*weight);
    }
    backend.priority = view.u8(MUTEX_BACKEND_A_PRIORITY).value_or(backend.priority);
    backend.state =
        enum_value(view, MUTEX_BACKEND_A_STATE, cfg::kBackendStateNames).value_or(backend.state);
    counters.active_flows = view.u64(MUTEX_BACKEND_A_ACTIVE_FLOWS).value_or(0);
    counters.total_flows = view.u64(MUTEX_BACKEND_A_TOTAL_FLOWS).value_or(0);
    counters.pkts = view.u64(MUTEX_BACKEND_A_PKTS).value_or(0);
    counters.bytes = view.u64(MUTEX_BACKEND_A_BYTES).value_or(0);
    counters.pkts_reply = view.u64(MUTEX_BACKEND_A_PKTS_REPLY).value_or(0);
    counters.bytes_reply = view.u64(MUTEX_BACKEND_A_BYTES_REPLY).value_or(0);
    if (counters.pkts_reply > counters.pkts || counters.bytes_reply > counters.bytes) {
        throw ProtocolError("MUTEX_POOL_A_BACKEND: more reply traffic than traffic");
    }

    const auto af = view.u8(MUTEX_BACKEND_A_FAMILY);
    if (af.has_value() != (view.get(MUTEX_BACKEND_A_ADDR) != nullptr)) {
        throw ProtocolError(str(view.what()) +
                            ": MUTEX_BACKEND_A_FAMILY and MUTEX_BACKEND_A_ADDR must come together");
    }
    if (af) {
        cfg::Address address;
        address.family = family_of(*af, "MUTEX_BACKEND_A_FAMILY");
        address.bytes = get_address(view, MUTEX_BACKEND_A_ADDR, address.family);
        backend.address = address;
    }
}

void decode_pool(const nlattr& nest, ConfigSnapshot& snapshot) {
    const AttrView view = AttrView::of_nest(nest, kPoolAttrs, "MUTEX_A_POOL");
    cfg::Pool pool;
    std::vector<BackendCounters> counters;
    pool.name = view.need_string(MUTEX_POOL_A_NAME);
    pool.scheduler =
        enum_value(view, MUTEX_POOL_A_SCHEDULER, cfg::kSchedulerNames).value_or(pool.scheduler);
    pool.failure_mode = enum_value(view, MUTEX_POOL_A_FAILURE_MODE, cfg::kFailureModeNames)
                            .value_or(pool.failure_mode);
    for (const nlattr* backend : view.all(MUTEX_POOL_A_BACKEND)) {
        decode_backend(*backend, pool.backends.emplace_back(), counters.emplace_back());
    }
    snapshot.config.pools.push_back(std::move(pool));
    snapshot.counters.push_back(std::move(counters));
}

/// A pair of range attributes: both or neither, min <= max.
template <typename T, typename Range>
std::optional<Range> range(const std::optional<T>& lo, const std::optional<T>& hi,
                           std::string_view what) {
    if (lo.has_value() != hi.has_value()) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " without its pair");
    }
    if (!lo) {
        return std::nullopt;
    }
    if (*lo > *hi) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " range with min > max");
    }
    return Range{*lo, *hi};
}

std::optional<cfg::Prefix> rule_prefix(const AttrView& view, std::uint16_t addr,
                                       std::uint16_t plen_type, std::string_view what) {
    const auto plen = view.u8(plen_type);
    if ((view.get(addr) != nullptr) != plen.has_value()) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " address without prefix length");
    }
    if (!plen) {
        return std::nullopt;
    }
    const auto af = view.u8(MUTEX_RULE_A_FAMILY);
    if (!af) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " prefix without MUTEX_RULE_A_FAMILY");
    }
    cfg::Prefix prefix;
    prefix.family = family_of(*af, "MUTEX_RULE_A_FAMILY");
    prefix.address = get_address(view, addr, prefix.family);
    if (*plen > address_length(prefix.family) * 8) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " prefix length " +
                            std::to_string(*plen) + " too long");
    }
    prefix.length = *plen;
    return prefix;
}

cfg::Rule decode_rule(const nlattr& nest, const cfg::Config& config, const InterfaceNames& names,
                      std::uint64_t& matches) {
    const AttrView view = AttrView::of_nest(nest, kRuleAttrs, "MUTEX_A_RULE");
    cfg::Rule rule;
    rule.name = view.string(MUTEX_RULE_A_NAME);
    if (const auto af = view.u8(MUTEX_RULE_A_FAMILY)) {
        static_cast<void>(family_of(*af, "MUTEX_RULE_A_FAMILY"));
    }
    if (const auto proto = view.u8(MUTEX_RULE_A_PROTO)) {
        rule.protocol = protocol_of(*proto, "MUTEX_RULE_A_PROTO");
    }
    rule.destination =
        rule_prefix(view, MUTEX_RULE_A_DST_ADDR, MUTEX_RULE_A_DST_PLEN, "destination");
    rule.source = rule_prefix(view, MUTEX_RULE_A_SRC_ADDR, MUTEX_RULE_A_SRC_PLEN, "source");
    rule.destination_ports = range<std::uint16_t, cfg::PortRange>(
        get_port(view, MUTEX_RULE_A_DST_PORT_MIN), get_port(view, MUTEX_RULE_A_DST_PORT_MAX),
        "destination port");
    rule.source_ports = range<std::uint16_t, cfg::PortRange>(
        get_port(view, MUTEX_RULE_A_SRC_PORT_MIN), get_port(view, MUTEX_RULE_A_SRC_PORT_MAX),
        "source port");
    rule.uid = range<std::uint32_t, cfg::IdRange>(view.u32(MUTEX_RULE_A_UID_MIN),
                                                  view.u32(MUTEX_RULE_A_UID_MAX), "uid");
    rule.gid = range<std::uint32_t, cfg::IdRange>(view.u32(MUTEX_RULE_A_GID_MIN),
                                                  view.u32(MUTEX_RULE_A_GID_MAX), "gid");
    rule.cgroup = view.string(MUTEX_RULE_A_CGROUP);
    const auto mark_value = view.u32(MUTEX_RULE_A_MARK_VALUE);
    const auto mark_mask = view.u32(MUTEX_RULE_A_MARK_MASK);
    if (mark_value.has_value() != mark_mask.has_value()) {
        throw ProtocolError("MUTEX_A_RULE: mark value without mask");
    }
    if (mark_value) {
        rule.mark = cfg::Mark{*mark_value, *mark_mask};
    }
    const auto interface = [&names](std::uint32_t index) {
        std::optional<std::string> name;
        if (names) {
            name = names(index);
        }
        return name ? *name : std::to_string(index);
    };
    if (const auto oif = view.u32(MUTEX_RULE_A_OIF)) {
        rule.out_interface = interface(*oif);
    }
    if (const auto iif = view.u32(MUTEX_RULE_A_IIF)) {
        rule.in_interface = interface(*iif);
    }
    static_cast<void>(view.need(MUTEX_RULE_A_ACTION));
    rule.action = *enum_value(view, MUTEX_RULE_A_ACTION, cfg::kActionNames);
    rule.to_port = get_port(view, MUTEX_RULE_A_TO_PORT);
    if (const auto pool = view.u32(MUTEX_RULE_A_POOL)) {
        const std::size_t pools = config.pools.size();
        if (*pool >= pools) {
            throw ProtocolError("MUTEX_RULE_A_POOL: index " + std::to_string(*pool) + " of " +
                                std::to_string(pools) + " pools");
        }
        rule.pool = config.pools[*pool].name;
    }
    matches = view.u64(MUTEX_RULE_A_MATCHES).value_or(0);
    return rule;
}

// ----- connection table ------------------------------------------------------------------------

std::uint8_t protocol_number(cfg::Protocol protocol) {
    switch (protocol) {
        case cfg::Protocol::tcp:
            return IPPROTO_TCP;
        case cfg::Protocol::udp:
            return IPPROTO_UDP;
        case cfg::Protocol::any:
            break;
    }
    throw std::invalid_argument("a flow's protocol is tcp or udp");
}

Endpoint endpoint(const AttrView& view, std::uint16_t addr, std::uint16_t port,
                  cfg::Family family) {
    return {{family, get_address(view, addr, family)}, view.need_u16(port)};
}

Flow decode_flow(const nlattr& nest) {
    const AttrView view = AttrView::of_nest(nest, kFlowAttrs, "MUTEX_A_FLOW");
    Flow flow;
    const cfg::Family family = family_of(view.need_u8(MUTEX_FLOW_A_FAMILY), "MUTEX_FLOW_A_FAMILY");
    flow.protocol = protocol_of(view.need_u8(MUTEX_FLOW_A_PROTO), "MUTEX_FLOW_A_PROTO");
    flow.source = endpoint(view, MUTEX_FLOW_A_SRC_ADDR, MUTEX_FLOW_A_SRC_PORT, family);
    flow.original_destination =
        endpoint(view, MUTEX_FLOW_A_ORIG_DST_ADDR, MUTEX_FLOW_A_ORIG_DST_PORT, family);
    flow.destination = endpoint(view, MUTEX_FLOW_A_DST_ADDR, MUTEX_FLOW_A_DST_PORT, family);
    const std::uint8_t action = view.need_u8(MUTEX_FLOW_A_ACTION);
    if (action != MUTEX_ACTION_REDIRECT && action != MUTEX_ACTION_DNAT) {
        throw ProtocolError("MUTEX_FLOW_A_ACTION: " + std::to_string(action) +
                            " is not redirect or dnat");
    }
    flow.action = *enum_value(view, MUTEX_FLOW_A_ACTION, cfg::kActionNames);
    flow.pkts_orig = view.need_u64(MUTEX_FLOW_A_PKTS_ORIG);
    flow.bytes_orig = view.need_u64(MUTEX_FLOW_A_BYTES_ORIG);
    flow.pkts_reply = view.need_u64(MUTEX_FLOW_A_PKTS_REPLY);
    flow.bytes_reply = view.need_u64(MUTEX_FLOW_A_BYTES_REPLY);
    flow.age_ms = view.need_u64(MUTEX_FLOW_A_AGE_MS);
    flow.idle_ms = view.need_u64(MUTEX_FLOW_A_IDLE_MS);
    return flow;
}

/// The top-level attributes of a reply.
AttrView reply(const nlmsghdr& msg, std::string_view what) {
    return AttrView::of_message(msg, kTopAttrs, what);
}

/// A request without attributes (or whose attributes the caller adds).
AttrWriter request(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq, std::uint8_t cmd,
                   std::uint16_t flags = NLM_F_REQUEST | NLM_F_ACK) {
    return {buffer, family, seq, cmd, MUTEX_PROXY_GENL_VERSION, flags};
}

}  // namespace

// ----- tables ----------------------------------------------------------------------------------

const ParamField* find_param(std::string_view name) noexcept {
    const auto* it = std::find_if(kParamFields.begin(), kParamFields.end(),
                                  [name](const ParamField& f) { return f.name == name; });
    return it == kParamFields.end() ? nullptr : it;
}

std::string param_names() {
    std::string names;
    for (const auto& field : kParamFields) {
        if (!names.empty()) {
            names += ", ";
        }
        names += field.name;
    }
    return names;
}

std::vector<std::string> feature_names(std::uint64_t features) {
    std::vector<std::string> names;
    for (unsigned bit = 0; bit < 64; ++bit) {
        const std::uint64_t mask = std::uint64_t{1} << bit;
        if ((features & mask) == 0) {
            continue;
        }
        const auto* known = std::find_if(kFeatureBits.begin(), kFeatureBits.end(),
                                         [mask](const FeatureBit& f) { return f.bit == mask; });
        names.push_back(known != kFeatureBits.end() ? std::string(known->name)
                                                    : "bit" + std::to_string(bit));
    }
    return names;
}

// ----- mutex_proxy requests --------------------------------------------------------------------

Message encode_get_info(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return request(buffer, family, seq, MUTEX_CMD_GET_INFO).message();
}

Message encode_get_stats(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return request(buffer, family, seq, MUTEX_CMD_GET_STATS).message();
}

Message encode_set_params(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                          const Params& params) {
    const bool any =
        std::any_of(kParamFields.begin(), kParamFields.end(),
                    [&params](const ParamField& f) { return (params.*f.member).has_value(); });
    if (!any) {
        throw std::invalid_argument("SET_PARAMS needs at least one parameter");
    }
    AttrWriter enc = request(buffer, family, seq, MUTEX_CMD_SET_PARAMS);
    nlattr* nest = enc.nest(MUTEX_A_PARAMS);
    for (const auto& field : kParamFields) {
        if (const auto& value = params.*field.member) {
            enc.u32(field.attr, *value);
        }
    }
    enc.end(nest);
    return enc.message();
}

// ----- mutex_proxy replies ---------------------------------------------------------------------

Info decode_info(const nlmsghdr& msg) {
    const AttrView view = reply(msg, "GET_INFO reply");
    Info info;
    info.version = view.need_string(MUTEX_A_VERSION);
    info.api_version = view.need_u32(MUTEX_A_API_VERSION);
    info.features = view.need_u64(MUTEX_A_FEATURES);
    info.netns_cookie = view.need_u64(MUTEX_A_NETNS_COOKIE);
    info.params = decode_params_nest(view.need(MUTEX_A_PARAMS));
    return info;
}

Stats decode_stats(const nlmsghdr& msg) {
    const AttrView view = reply(msg, "GET_STATS reply");
    const nlattr& nest = view.need(MUTEX_A_STATS);
    const std::uint64_t flow_count = view.need_u64(MUTEX_A_FLOW_COUNT);
    Stats stats = decode_stats_nest(nest);
    stats.flow_count = flow_count;
    return stats;
}

Params decode_params(const nlmsghdr& msg) {
    return decode_params_nest(reply(msg, "SET_PARAMS reply").need(MUTEX_A_PARAMS));
}

// ----- configuration ---------------------------------------------------------------------------

Message encode_get_config(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return request(buffer, family, seq, MUTEX_CMD_GET_CONFIG, NLM_F_REQUEST | NLM_F_DUMP).message();
}

std::vector<std::byte> encode_set_config(std::uint16_t family, std::uint32_t seq,
                                         const config::Config& config,
                                         std::uint64_t expected_generation,
                                         const InterfaceIndexes& interfaces) {
    if (config.pools.size() > MUTEX_MAX_POOLS) {
        throw std::invalid_argument("more than " + std::to_string(MUTEX_MAX_POOLS) + " pools");
    }
    if (config.rules.size() > MUTEX_MAX_RULES) {
        throw std::invalid_argument("more than " + std::to_string(MUTEX_MAX_RULES) + " rules");
    }
    for (const auto& pool : config.pools) {
        if (pool.backends.size() > MUTEX_MAX_BACKENDS) {
            throw std::invalid_argument("pool '" + pool.name + "' has more than " +
                                        std::to_string(MUTEX_MAX_BACKENDS) + " backends");
        }
    }
    std::vector<std::byte> storage(config_size_bound(config));
    AttrWriter enc = request(storage, family, seq, MUTEX_CMD_SET_CONFIG);
    enc.u64(MUTEX_A_GENERATION, expected_generation);
    for (const auto& pool : config.pools) {
        encode_pool(enc, pool);
    }
    for (const auto& rule : config.rules) {
        encode_rule(enc, rule, config, interfaces);
    }
    storage.resize(enc.message().size());
    return storage;
}

std::uint64_t decode_set_config(const nlmsghdr& msg) {
    return reply(msg, "SET_CONFIG reply").need_u64(MUTEX_A_GENERATION);
}

ConfigSnapshot decode_config(const nlmsghdr& msg, const InterfaceNames& names) {
    const std::array<const nlmsghdr*, 1> parts{&msg};
    return decode_config(parts, names);
}

ConfigSnapshot decode_config(std::span<const nlmsghdr* const> parts, const InterfaceNames& names) {
    constexpr std::string_view what = "GET_CONFIG reply";
    ConfigSnapshot snapshot;
    std::optional<std::uint64_t> generation;
    std::vector<const nlattr*> rules;
    if (parts.empty()) {
        throw ProtocolError(str(what) + " lacks a message");
    }
    for (const nlmsghdr* msg : parts) {
        const AttrView view = reply(*msg, what);
        const std::uint64_t g = view.need_u64(MUTEX_A_GENERATION);
        if (generation && *generation != g) {
            throw ProtocolError("GET_CONFIG reply: the generation changed between its messages");
        }
        generation = g;
        for (const nlattr* pool : view.all(MUTEX_A_POOL)) {
            decode_pool(*pool, snapshot);
        }
        // Decoded after every pool: a rule names a pool by index.
        const auto part_rules = view.all(MUTEX_A_RULE);
        rules.insert(rules.end(), part_rules.begin(), part_rules.end());
    }
    snapshot.generation = *generation;
    for (const nlattr* rule : rules) {
        std::uint64_t matches = 0;
        snapshot.config.rules.push_back(decode_rule(*rule, snapshot.config, names, matches));
        snapshot.rule_matches.push_back(matches);
    }
    return snapshot;
}

// ----- connection table ------------------------------------------------------------------------

Message encode_get_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return request(buffer, family, seq, MUTEX_CMD_GET_FLOWS, NLM_F_REQUEST | NLM_F_DUMP).message();
}

Message encode_get_origdst(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                           const FlowKey& key) {
    const std::uint8_t proto = protocol_number(key.protocol);
    if (key.source.address.family != key.destination.address.family) {
        throw std::invalid_argument("source and destination addresses of different families");
    }
    if (key.source.port == 0 || key.destination.port == 0) {
        throw std::invalid_argument("port 0 in a flow's 5-tuple");
    }
    const cfg::Family af = key.source.address.family;
    AttrWriter enc = request(buffer, family, seq, MUTEX_CMD_GET_ORIGDST);
    nlattr* nest = enc.nest(MUTEX_A_FLOW);
    enc.u8(MUTEX_FLOW_A_FAMILY, af_of(af));
    enc.u8(MUTEX_FLOW_A_PROTO, proto);
    enc.bytes(MUTEX_FLOW_A_SRC_ADDR, address_bytes(key.source.address.bytes, af));
    enc.u16(MUTEX_FLOW_A_SRC_PORT, key.source.port);
    enc.bytes(MUTEX_FLOW_A_DST_ADDR, address_bytes(key.destination.address.bytes, af));
    enc.u16(MUTEX_FLOW_A_DST_PORT, key.destination.port);
    enc.end(nest);
    return enc.message();
}

Message encode_flush_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return request(buffer, family, seq, MUTEX_CMD_FLUSH_FLOWS).message();
}

std::vector<Flow> decode_flows(const nlmsghdr& msg) {
    const AttrView view = reply(msg, "GET_FLOWS reply");
    std::vector<Flow> flows;
    for (const nlattr* flow : view.all(MUTEX_A_FLOW)) {
        flows.push_back(decode_flow(*flow));
    }
    return flows;
}

Flow decode_origdst(const nlmsghdr& msg) {
    const AttrView view = reply(msg, "GET_ORIGDST reply");
    if (view.all(MUTEX_A_FLOW).size() > 1) {
        throw ProtocolError(str(view.what()) + ": more than one MUTEX_A_FLOW");
    }
    return decode_flow(view.need(MUTEX_A_FLOW));
}

std::uint64_t decode_flush_flows(const nlmsghdr& msg) {
    return reply(msg, "FLUSH_FLOWS reply").need_u64(MUTEX_A_FLOW_COUNT);
}

// ----- backends and events ---------------------------------------------------------------------

namespace {

void encode_backend_ref(AttrWriter& enc, const BackendRef& backend,
                        const std::optional<cfg::BackendState>& state,
                        const std::optional<std::uint16_t>& weight) {
    if (backend.port == 0) {
        throw std::invalid_argument("port 0 is not a backend's port");
    }
    nlattr* nest = enc.nest(MUTEX_A_POOL);
    enc.strz(MUTEX_POOL_A_NAME, backend.pool);
    nlattr* be = enc.nest(MUTEX_POOL_A_BACKEND);
    encode_backend_id(enc, backend.address, backend.port);
    if (weight) {
        enc.u32(MUTEX_BACKEND_A_WEIGHT, *weight);
    }
    if (state) {
        enc.u8(MUTEX_BACKEND_A_STATE, static_cast<std::uint8_t>(*state));
    }
    enc.end(be);
    enc.end(nest);
}

Event decode_event(const nlattr& nest) {
    const AttrView view = AttrView::of_nest(nest, kEventAttrs, "MUTEX_A_EVENT");
    Event event;
    event.type = static_cast<EventType>(view.need_u8(MUTEX_EVENT_A_TYPE));
    event.generation = view.u64(MUTEX_EVENT_A_GENERATION);
    if (const auto pool = view.string(MUTEX_EVENT_A_POOL)) {
        event.pool = str(*pool);
    }
    if (const nlattr* be = view.get(MUTEX_EVENT_A_BACKEND)) {
        BackendCounters unused;
        decode_backend(*be, event.backend.emplace(), unused);
    }
    if (const nlattr* flow = view.get(MUTEX_EVENT_A_FLOW)) {
        event.flow = decode_flow(*flow);
    }
    switch (event.type) {
        case EventType::config:
            static_cast<void>(view.need(MUTEX_EVENT_A_GENERATION));
            break;
        case EventType::backend:
            static_cast<void>(view.need(MUTEX_EVENT_A_GENERATION));
            static_cast<void>(view.need(MUTEX_EVENT_A_POOL));
            static_cast<void>(view.need(MUTEX_EVENT_A_BACKEND));
            break;
        case EventType::flow_start:
        case EventType::flow_end:
            static_cast<void>(view.need(MUTEX_EVENT_A_FLOW));
            break;
    }
    return event;
}

}  // namespace

Message encode_set_backend(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                           const BackendChange& change) {
    if (!change.state && !change.weight) {
        throw std::invalid_argument("nothing to change: give a state or a weight");
    }
    if (change.weight && *change.weight == 0) {
        throw std::invalid_argument("a backend's weight is 1 to 65535");
    }
    AttrWriter enc = request(buffer, family, seq, MUTEX_CMD_SET_BACKEND);
    if (change.generation) {
        enc.u64(MUTEX_A_GENERATION, *change.generation);
    }
    encode_backend_ref(enc, change.backend, change.state, change.weight);
    return enc.message();
}

std::uint64_t decode_set_backend(const nlmsghdr& msg) {
    return reply(msg, "SET_BACKEND reply").need_u64(MUTEX_A_GENERATION);
}

Message encode_end_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                         const BackendRef& backend, cfg::Protocol protocol) {
    AttrWriter enc = request(buffer, family, seq, MUTEX_CMD_END_FLOWS);
    encode_backend_ref(enc, backend, std::nullopt, std::nullopt);
    if (protocol != cfg::Protocol::any) {
        nlattr* nest = enc.nest(MUTEX_A_FLOW);
        enc.u8(MUTEX_FLOW_A_PROTO, protocol_number(protocol));
        enc.end(nest);
    }
    return enc.message();
}

std::uint64_t decode_end_flows(const nlmsghdr& msg) {
    return reply(msg, "END_FLOWS reply").need_u64(MUTEX_A_FLOW_COUNT);
}

std::vector<Event> decode_events(const nlmsghdr& msg) {
    const AttrView view = reply(msg, "event message");
    std::vector<Event> events;
    for (const nlattr* nest : view.all(MUTEX_A_EVENT)) {
        const AttrView peek = AttrView::of_nest(*nest, kEventAttrs, "MUTEX_A_EVENT");
        if (peek.need_u8(MUTEX_EVENT_A_TYPE) > MUTEX_EVENT_MAX) {
            continue;  // a newer module's event
        }
        events.push_back(decode_event(*nest));
    }
    if (view.all(MUTEX_A_EVENT).empty()) {
        throw ProtocolError("event message without MUTEX_A_EVENT");
    }
    return events;
}

}  // namespace mutex
