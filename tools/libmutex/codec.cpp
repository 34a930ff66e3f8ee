// SPDX-License-Identifier: GPL-2.0
#include "libmutex/codec.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <climits>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "libmutex/error.hpp"

namespace mutex {

namespace {

const std::byte* bytes_of(const nlmsghdr& msg) noexcept {
    return reinterpret_cast<const std::byte*>(&msg);
}

// ----- encoding --------------------------------------------------------------------------------

nlmsghdr* start_message(MutableBuffer buffer, std::uint16_t type, std::uint32_t seq,
                        std::uint8_t cmd, std::uint8_t version,
                        std::uint16_t flags = NLM_F_REQUEST | NLM_F_ACK) {
    if (reinterpret_cast<std::uintptr_t>(buffer.data()) % alignof(nlmsghdr) != 0) {
        throw std::invalid_argument("netlink request buffer is not aligned");
    }
    if (buffer.size() < kNlmsgHdrLen + kGenlHdrLen) {
        throw std::length_error("netlink request buffer too small");
    }
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
    genl->cmd = cmd;
    genl->version = version;
    return nlh;
}

Message finish_message(const nlmsghdr* nlh) noexcept {
    return {reinterpret_cast<const std::byte*>(nlh), nlh->nlmsg_len};
}

[[noreturn]] void throw_too_small() {
    throw std::length_error("netlink request buffer too small");
}

// ----- decoding --------------------------------------------------------------------------------

std::string str(std::string_view s) {
    return std::string(s);
}

/// The bytes after the nlmsghdr and a family header of `family_header` bytes.
Message payload_after(const nlmsghdr& msg, std::size_t family_header, std::string_view what) {
    const std::size_t offset = kNlmsgHdrLen + netlink_align(family_header);
    if (msg.nlmsg_len < offset) {
        throw ProtocolError(str(what) + ": message too short (" + std::to_string(msg.nlmsg_len) +
                            " bytes)");
    }
    return {bytes_of(msg) + offset, msg.nlmsg_len - offset};
}

/// Calls fn(attr) for every attribute in `payload`; a truncated attribute or stray trailing
/// bytes are a ProtocolError.
template <typename Fn>
void for_each_attr(Message payload, std::string_view where, Fn&& fn) {
    while (!payload.empty()) {
        if (payload.size() < kNlaHdrLen) {
            throw ProtocolError(str(where) + ": " + std::to_string(payload.size()) +
                                " trailing bytes");
        }
        const auto* attr = reinterpret_cast<const nlattr*>(payload.data());
        if (attr->nla_len < kNlaHdrLen || attr->nla_len > payload.size()) {
            throw ProtocolError(str(where) + ": attribute " +
                                std::to_string(mnl_attr_get_type(attr)) + " has length " +
                                std::to_string(attr->nla_len) + ", " +
                                std::to_string(payload.size()) + " bytes left");
        }
        fn(*attr);
        payload = payload.subspan(std::min(netlink_align(attr->nla_len), payload.size()));
    }
}

Message nested_payload(const nlattr& attr, std::string_view name) {
    if (mnl_attr_validate(&attr, MNL_TYPE_NESTED) < 0) {
        throw ProtocolError(str(name) + ": malformed nest");
    }
    return {static_cast<const std::byte*>(mnl_attr_get_payload(&attr)),
            mnl_attr_get_payload_len(&attr)};
}

std::string wrong_length(std::string_view name, std::string_view type, const nlattr& attr) {
    return str(name) + ": expected " + str(type) + ", got " +
           std::to_string(mnl_attr_get_payload_len(&attr)) + " bytes";
}

std::uint8_t get_u8(const nlattr& attr, std::string_view name) {
    if (mnl_attr_validate(&attr, MNL_TYPE_U8) < 0) {
        throw ProtocolError(wrong_length(name, "u8", attr));
    }
    return mnl_attr_get_u8(&attr);
}

std::uint16_t get_u16(const nlattr& attr, std::string_view name) {
    if (mnl_attr_validate(&attr, MNL_TYPE_U16) < 0) {
        throw ProtocolError(wrong_length(name, "u16", attr));
    }
    return mnl_attr_get_u16(&attr);
}

std::uint32_t get_u32(const nlattr& attr, std::string_view name) {
    if (mnl_attr_validate(&attr, MNL_TYPE_U32) < 0) {
        throw ProtocolError(wrong_length(name, "u32", attr));
    }
    return mnl_attr_get_u32(&attr);
}

std::uint64_t get_u64(const nlattr& attr, std::string_view name) {
    if (mnl_attr_validate(&attr, MNL_TYPE_U64) < 0) {
        throw ProtocolError(wrong_length(name, "u64", attr));
    }
    return mnl_attr_get_u64(&attr);
}

std::string get_string(const nlattr& attr, std::string_view name) {
    if (mnl_attr_validate(&attr, MNL_TYPE_NUL_STRING) < 0) {
        throw ProtocolError(str(name) + ": expected a NUL-terminated string");
    }
    const char* s = mnl_attr_get_str(&attr);
    return {s, ::strnlen(s, mnl_attr_get_payload_len(&attr))};
}

void require(bool present, std::string_view what, std::string_view name) {
    if (!present) {
        throw ProtocolError(str(what) + " lacks " + str(name));
    }
}

Params decode_params_nest(const nlattr& nest) {
    Params params;
    for_each_attr(nested_payload(nest, "MUTEX_A_PARAMS"), "MUTEX_A_PARAMS",
                  [&params](const nlattr& attr) {
                      const auto type = mnl_attr_get_type(&attr);
                      for (const auto& field : kParamFields) {
                          if (field.attr == type) {
                              params.*field.member = get_u32(attr, field.name);
                          }
                      }
                  });
    for (const auto& field : kParamFields) {
        require((params.*field.member).has_value(), "MUTEX_A_PARAMS", field.name);
    }
    return params;
}

Stats decode_stats_nest(const nlattr& nest) {
    Stats stats;
    std::bitset<kStatFields.size()> seen;
    for_each_attr(nested_payload(nest, "MUTEX_A_STATS"), "MUTEX_A_STATS",
                  [&stats, &seen](const nlattr& attr) {
                      const auto type = mnl_attr_get_type(&attr);
                      for (std::size_t i = 0; i < kStatFields.size(); ++i) {
                          if (kStatFields[i].attr == type) {
                              stats.*kStatFields[i].member = get_u64(attr, kStatFields[i].name);
                              seen.set(i);
                          }
                      }
                  });
    for (std::size_t i = 0; i < kStatFields.size(); ++i) {
        require(seen.test(i), "MUTEX_A_STATS", kStatFields[i].name);
    }
    return stats;
}

/// Extended-ack TLVs (NLMSGERR_ATTR_*) into `status`.
void decode_extack(Message tlvs, KernelStatus& status) {
    KernelStatus parsed = status;
    try {
        for_each_attr(tlvs, "extended ack", [&parsed](const nlattr& attr) {
            switch (mnl_attr_get_type(&attr)) {
                case NLMSGERR_ATTR_MSG:
                    parsed.message = get_string(attr, "NLMSGERR_ATTR_MSG");
                    break;
                case NLMSGERR_ATTR_OFFS:
                    parsed.offset = get_u32(attr, "NLMSGERR_ATTR_OFFS");
                    break;
                case NLMSGERR_ATTR_MISS_TYPE:
                    parsed.missing_type = get_u32(attr, "NLMSGERR_ATTR_MISS_TYPE");
                    break;
                default:
                    break;
            }
        });
    } catch (const ProtocolError&) {
        return;  // a malformed extended ack does not hide the error code
    }
    status = std::move(parsed);
}

int positive_errno(int code) {
    if (code == INT_MIN) {
        throw ProtocolError("error code out of range");
    }
    return code < 0 ? -code : code;
}

// ----- configuration ---------------------------------------------------------------------------

namespace cfg = mutex::config;

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

class ConfigEncoder {
public:
    ConfigEncoder(nlmsghdr* nlh, std::size_t capacity) : nlh_(nlh), capacity_(capacity) {}

    nlattr* nest(std::uint16_t type) {
        nlattr* nest = mnl_attr_nest_start_check(nlh_, capacity_, type);
        if (nest == nullptr) {
            throw_too_small();
        }
        return nest;
    }
    void end(nlattr* nest) { mnl_attr_nest_end(nlh_, nest); }
    void u8(std::uint16_t type, std::uint8_t v) {
        check(mnl_attr_put_u8_check(nlh_, capacity_, type, v));
    }
    void u16(std::uint16_t type, std::uint16_t v) {
        check(mnl_attr_put_u16_check(nlh_, capacity_, type, v));
    }
    void u32(std::uint16_t type, std::uint32_t v) {
        check(mnl_attr_put_u32_check(nlh_, capacity_, type, v));
    }
    void u64(std::uint16_t type, std::uint64_t v) {
        check(mnl_attr_put_u64_check(nlh_, capacity_, type, v));
    }
    void bytes(std::uint16_t type, const std::uint8_t* data, std::size_t len) {
        check(mnl_attr_put_check(nlh_, capacity_, type, len, data));
    }
    void strz(std::uint16_t type, const std::string& v) {
        check(mnl_attr_put_strz_check(nlh_, capacity_, type, v.c_str()));
    }

private:
    static void check(bool ok) {
        if (!ok) {
            throw_too_small();
        }
    }
    nlmsghdr* nlh_;
    std::size_t capacity_;
};

void encode_pool(ConfigEncoder& enc, const cfg::Pool& pool) {
    nlattr* nest = enc.nest(MUTEX_A_POOL);
    enc.strz(MUTEX_POOL_A_NAME, pool.name);
    enc.u8(MUTEX_POOL_A_SCHEDULER, static_cast<std::uint8_t>(pool.scheduler));
    enc.u8(MUTEX_POOL_A_FAILURE_MODE, static_cast<std::uint8_t>(pool.failure_mode));
    for (const auto& backend : pool.backends) {
        nlattr* be = enc.nest(MUTEX_POOL_A_BACKEND);
        if (backend.address) {
            enc.u8(MUTEX_BACKEND_A_FAMILY, af_of(backend.address->family));
            enc.bytes(MUTEX_BACKEND_A_ADDR, backend.address->bytes.data(),
                      address_length(backend.address->family));
        }
        enc.u16(MUTEX_BACKEND_A_PORT, backend.port);
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

void encode_rule(ConfigEncoder& enc, const cfg::Rule& rule, const cfg::Config& config,
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
            enc.bytes(addr, p->address.data(), address_length(p->family));
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

template <typename E, std::size_t N>
E enum_value(std::uint8_t raw, const std::array<cfg::EnumName<E>, N>& names,
             std::string_view what) {
    if (raw >= N) {
        throw ProtocolError(str(what) + ": value " + std::to_string(raw) + " out of range");
    }
    return names.at(raw).value;
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

std::array<std::uint8_t, 16> get_address(const nlattr& attr, cfg::Family family,
                                         std::string_view what) {
    const std::size_t len = mnl_attr_get_payload_len(&attr);
    if (len != address_length(family)) {
        throw ProtocolError(str(what) + ": address of " + std::to_string(len) + " bytes for " +
                            str(cfg::to_string(family)));
    }
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), mnl_attr_get_payload(&attr), len);
    return bytes;
}

std::uint16_t get_port(const nlattr& attr, std::string_view name) {
    const std::uint16_t port = get_u16(attr, name);
    if (port == 0) {
        throw ProtocolError(str(name) + ": port 0");
    }
    return port;
}

void decode_backend(const nlattr& nest, cfg::Backend& backend, BackendCounters& counters) {
    constexpr std::string_view what = "MUTEX_POOL_A_BACKEND";
    std::optional<std::uint8_t> af;
    const nlattr* addr = nullptr;
    bool have_port = false;
    for_each_attr(nested_payload(nest, what), what, [&](const nlattr& attr) {
        switch (mnl_attr_get_type(&attr)) {
            case MUTEX_BACKEND_A_FAMILY:
                af = get_u8(attr, "MUTEX_BACKEND_A_FAMILY");
                break;
            case MUTEX_BACKEND_A_ADDR:
                addr = &attr;
                break;
            case MUTEX_BACKEND_A_PORT:
                backend.port = get_port(attr, "MUTEX_BACKEND_A_PORT");
                have_port = true;
                break;
            case MUTEX_BACKEND_A_WEIGHT: {
                const std::uint32_t weight = get_u32(attr, "MUTEX_BACKEND_A_WEIGHT");
                if (weight < 1 || weight > 65535) {
                    throw ProtocolError("MUTEX_BACKEND_A_WEIGHT: " + std::to_string(weight) +
                                        " out of range");
                }
                backend.weight = static_cast<std::uint16_t>(weight);
                break;
            }
            case MUTEX_BACKEND_A_PRIORITY:
                backend.priority = get_u8(attr, "MUTEX_BACKEND_A_PRIORITY");
                break;
            case MUTEX_BACKEND_A_STATE:
                backend.state = enum_value(get_u8(attr, "MUTEX_BACKEND_A_STATE"),
                                           cfg::kBackendStateNames, "MUTEX_BACKEND_A_STATE");
                break;
            case MUTEX_BACKEND_A_ACTIVE_FLOWS:
                counters.active_flows = get_u64(attr, "MUTEX_BACKEND_A_ACTIVE_FLOWS");
                break;
            case MUTEX_BACKEND_A_TOTAL_FLOWS:
                counters.total_flows = get_u64(attr, "MUTEX_BACKEND_A_TOTAL_FLOWS");
                break;
            case MUTEX_BACKEND_A_PKTS:
                counters.pkts = get_u64(attr, "MUTEX_BACKEND_A_PKTS");
                break;
            case MUTEX_BACKEND_A_BYTES:
                counters.bytes = get_u64(attr, "MUTEX_BACKEND_A_BYTES");
                break;
            default:
                break;  // MUTEX_BACKEND_A_PAD, or newer
        }
    });
    require(have_port, what, "MUTEX_BACKEND_A_PORT");
    if (af.has_value() != (addr != nullptr)) {
        throw ProtocolError(str(what) +
                            ": MUTEX_BACKEND_A_FAMILY and MUTEX_BACKEND_A_ADDR "
                            "must come together");
    }
    if (af) {
        cfg::Address address;
        address.family = family_of(*af, "MUTEX_BACKEND_A_FAMILY");
        address.bytes = get_address(*addr, address.family, "MUTEX_BACKEND_A_ADDR");
        backend.address = address;
    }
}

void decode_pool(const nlattr& nest, ConfigSnapshot& snapshot) {
    constexpr std::string_view what = "MUTEX_A_POOL";
    cfg::Pool pool;
    std::vector<BackendCounters> counters;
    bool have_name = false;
    for_each_attr(nested_payload(nest, what), what, [&](const nlattr& attr) {
        switch (mnl_attr_get_type(&attr)) {
            case MUTEX_POOL_A_NAME:
                pool.name = get_string(attr, "MUTEX_POOL_A_NAME");
                have_name = true;
                break;
            case MUTEX_POOL_A_SCHEDULER:
                pool.scheduler = enum_value(get_u8(attr, "MUTEX_POOL_A_SCHEDULER"),
                                            cfg::kSchedulerNames, "MUTEX_POOL_A_SCHEDULER");
                break;
            case MUTEX_POOL_A_FAILURE_MODE:
                pool.failure_mode = enum_value(get_u8(attr, "MUTEX_POOL_A_FAILURE_MODE"),
                                               cfg::kFailureModeNames, "MUTEX_POOL_A_FAILURE_MODE");
                break;
            case MUTEX_POOL_A_BACKEND:
                decode_backend(attr, pool.backends.emplace_back(), counters.emplace_back());
                break;
            default:
                break;
        }
    });
    require(have_name, what, "MUTEX_POOL_A_NAME");
    snapshot.config.pools.push_back(std::move(pool));
    snapshot.counters.push_back(std::move(counters));
}

/// A rule as sent, before its pool index and interfaces are turned into names.
struct RawRule {
    cfg::Rule rule;
    std::optional<std::uint8_t> af;
    const nlattr* dst_addr = nullptr;
    std::optional<std::uint8_t> dst_plen;
    const nlattr* src_addr = nullptr;
    std::optional<std::uint8_t> src_plen;
    std::optional<std::uint16_t> dport_min, dport_max, sport_min, sport_max;
    std::optional<std::uint32_t> uid_min, uid_max, gid_min, gid_max, mark_value, mark_mask;
    std::optional<std::uint32_t> oif, iif, pool;
    bool have_action = false;
};

template <typename T>
void both_or_none(const std::optional<T>& lo, const std::optional<T>& hi, std::string_view what) {
    if (lo.has_value() != hi.has_value()) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " without its pair");
    }
    if (lo && *lo > *hi) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " range with min > max");
    }
}

std::optional<cfg::Prefix> rule_prefix(const RawRule& raw, const nlattr* addr,
                                       std::optional<std::uint8_t> plen, std::string_view what) {
    if ((addr != nullptr) != plen.has_value()) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " address without prefix length");
    }
    if (addr == nullptr) {
        return std::nullopt;
    }
    if (!raw.af) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " prefix without MUTEX_RULE_A_FAMILY");
    }
    cfg::Prefix prefix;
    prefix.family = family_of(*raw.af, "MUTEX_RULE_A_FAMILY");
    prefix.address = get_address(*addr, prefix.family, what);
    if (*plen > address_length(prefix.family) * 8) {
        throw ProtocolError("MUTEX_A_RULE: " + str(what) + " prefix length " +
                            std::to_string(*plen) + " too long");
    }
    prefix.length = *plen;
    return prefix;
}

cfg::Rule decode_rule(const nlattr& nest, const cfg::Config& config, const InterfaceNames& names) {
    const std::size_t pools = config.pools.size();
    constexpr std::string_view what = "MUTEX_A_RULE";
    RawRule raw;
    cfg::Rule& rule = raw.rule;
    for_each_attr(nested_payload(nest, what), what, [&](const nlattr& attr) {
        switch (mnl_attr_get_type(&attr)) {
            case MUTEX_RULE_A_NAME:
                rule.name = get_string(attr, "MUTEX_RULE_A_NAME");
                break;
            case MUTEX_RULE_A_FAMILY:
                raw.af = get_u8(attr, "MUTEX_RULE_A_FAMILY");
                static_cast<void>(family_of(*raw.af, "MUTEX_RULE_A_FAMILY"));
                break;
            case MUTEX_RULE_A_PROTO: {
                const std::uint8_t proto = get_u8(attr, "MUTEX_RULE_A_PROTO");
                if (proto == IPPROTO_TCP) {
                    rule.protocol = cfg::Protocol::tcp;
                } else if (proto == IPPROTO_UDP) {
                    rule.protocol = cfg::Protocol::udp;
                } else {
                    throw ProtocolError("MUTEX_RULE_A_PROTO: unknown protocol " +
                                        std::to_string(proto));
                }
                break;
            }
            case MUTEX_RULE_A_DST_ADDR:
                raw.dst_addr = &attr;
                break;
            case MUTEX_RULE_A_DST_PLEN:
                raw.dst_plen = get_u8(attr, "MUTEX_RULE_A_DST_PLEN");
                break;
            case MUTEX_RULE_A_DST_PORT_MIN:
                raw.dport_min = get_port(attr, "MUTEX_RULE_A_DST_PORT_MIN");
                break;
            case MUTEX_RULE_A_DST_PORT_MAX:
                raw.dport_max = get_port(attr, "MUTEX_RULE_A_DST_PORT_MAX");
                break;
            case MUTEX_RULE_A_SRC_ADDR:
                raw.src_addr = &attr;
                break;
            case MUTEX_RULE_A_SRC_PLEN:
                raw.src_plen = get_u8(attr, "MUTEX_RULE_A_SRC_PLEN");
                break;
            case MUTEX_RULE_A_SRC_PORT_MIN:
                raw.sport_min = get_port(attr, "MUTEX_RULE_A_SRC_PORT_MIN");
                break;
            case MUTEX_RULE_A_SRC_PORT_MAX:
                raw.sport_max = get_port(attr, "MUTEX_RULE_A_SRC_PORT_MAX");
                break;
            case MUTEX_RULE_A_UID_MIN:
                raw.uid_min = get_u32(attr, "MUTEX_RULE_A_UID_MIN");
                break;
            case MUTEX_RULE_A_UID_MAX:
                raw.uid_max = get_u32(attr, "MUTEX_RULE_A_UID_MAX");
                break;
            case MUTEX_RULE_A_GID_MIN:
                raw.gid_min = get_u32(attr, "MUTEX_RULE_A_GID_MIN");
                break;
            case MUTEX_RULE_A_GID_MAX:
                raw.gid_max = get_u32(attr, "MUTEX_RULE_A_GID_MAX");
                break;
            case MUTEX_RULE_A_CGROUP:
                rule.cgroup = get_string(attr, "MUTEX_RULE_A_CGROUP");
                break;
            case MUTEX_RULE_A_MARK_VALUE:
                raw.mark_value = get_u32(attr, "MUTEX_RULE_A_MARK_VALUE");
                break;
            case MUTEX_RULE_A_MARK_MASK:
                raw.mark_mask = get_u32(attr, "MUTEX_RULE_A_MARK_MASK");
                break;
            case MUTEX_RULE_A_OIF:
                raw.oif = get_u32(attr, "MUTEX_RULE_A_OIF");
                break;
            case MUTEX_RULE_A_IIF:
                raw.iif = get_u32(attr, "MUTEX_RULE_A_IIF");
                break;
            case MUTEX_RULE_A_ACTION:
                rule.action = enum_value(get_u8(attr, "MUTEX_RULE_A_ACTION"), cfg::kActionNames,
                                         "MUTEX_RULE_A_ACTION");
                raw.have_action = true;
                break;
            case MUTEX_RULE_A_TO_PORT:
                rule.to_port = get_port(attr, "MUTEX_RULE_A_TO_PORT");
                break;
            case MUTEX_RULE_A_POOL:
                raw.pool = get_u32(attr, "MUTEX_RULE_A_POOL");
                break;
            default:
                break;
        }
    });
    require(raw.have_action, what, "MUTEX_RULE_A_ACTION");
    rule.destination = rule_prefix(raw, raw.dst_addr, raw.dst_plen, "destination");
    rule.source = rule_prefix(raw, raw.src_addr, raw.src_plen, "source");
    both_or_none(raw.dport_min, raw.dport_max, "destination port");
    both_or_none(raw.sport_min, raw.sport_max, "source port");
    both_or_none(raw.uid_min, raw.uid_max, "uid");
    both_or_none(raw.gid_min, raw.gid_max, "gid");
    if (raw.dport_min) {
        rule.destination_ports = cfg::PortRange{*raw.dport_min, *raw.dport_max};
    }
    if (raw.sport_min) {
        rule.source_ports = cfg::PortRange{*raw.sport_min, *raw.sport_max};
    }
    if (raw.uid_min) {
        rule.uid = cfg::IdRange{*raw.uid_min, *raw.uid_max};
    }
    if (raw.gid_min) {
        rule.gid = cfg::IdRange{*raw.gid_min, *raw.gid_max};
    }
    if (raw.mark_value.has_value() != raw.mark_mask.has_value()) {
        throw ProtocolError("MUTEX_A_RULE: mark value without mask");
    }
    if (raw.mark_value) {
        rule.mark = cfg::Mark{*raw.mark_value, *raw.mark_mask};
    }
    const auto interface = [&names](std::uint32_t index) {
        std::optional<std::string> name;
        if (names) {
            name = names(index);
        }
        return name ? *name : std::to_string(index);
    };
    if (raw.oif) {
        rule.out_interface = interface(*raw.oif);
    }
    if (raw.iif) {
        rule.in_interface = interface(*raw.iif);
    }
    if (raw.pool) {
        if (*raw.pool >= pools) {
            throw ProtocolError("MUTEX_RULE_A_POOL: index " + std::to_string(*raw.pool) + " of " +
                                std::to_string(pools) + " pools");
        }
        rule.pool = config.pools[*raw.pool].name;
    }
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

/// A flow of a reply, attribute by attribute, before its addresses are checked against its
/// family.
struct RawFlow {
    Flow flow;
    std::optional<std::uint8_t> af;
    const nlattr* src_addr = nullptr;
    const nlattr* dst_addr = nullptr;
    const nlattr* orig_dst_addr = nullptr;
    std::optional<std::uint16_t> src_port, dst_port, orig_dst_port;
    std::optional<std::uint8_t> proto, action;
    std::optional<std::uint64_t> pkts_orig, bytes_orig, pkts_reply, bytes_reply, age_ms, idle_ms;
};

template <typename T>
T required(const std::optional<T>& value, std::string_view name) {
    require(value.has_value(), "MUTEX_A_FLOW", name);
    return *value;
}

config::Address required_address(const nlattr* attr, cfg::Family family, std::string_view name) {
    require(attr != nullptr, "MUTEX_A_FLOW", name);
    return {family, get_address(*attr, family, name)};
}

Flow decode_flow(const nlattr& nest) {
    constexpr std::string_view what = "MUTEX_A_FLOW";
    RawFlow raw;
    for_each_attr(nested_payload(nest, what), what, [&raw](const nlattr& attr) {
        switch (mnl_attr_get_type(&attr)) {
            case MUTEX_FLOW_A_FAMILY:
                raw.af = get_u8(attr, "MUTEX_FLOW_A_FAMILY");
                break;
            case MUTEX_FLOW_A_PROTO:
                raw.proto = get_u8(attr, "MUTEX_FLOW_A_PROTO");
                break;
            case MUTEX_FLOW_A_SRC_ADDR:
                raw.src_addr = &attr;
                break;
            case MUTEX_FLOW_A_SRC_PORT:
                raw.src_port = get_u16(attr, "MUTEX_FLOW_A_SRC_PORT");
                break;
            case MUTEX_FLOW_A_DST_ADDR:
                raw.dst_addr = &attr;
                break;
            case MUTEX_FLOW_A_DST_PORT:
                raw.dst_port = get_u16(attr, "MUTEX_FLOW_A_DST_PORT");
                break;
            case MUTEX_FLOW_A_ORIG_DST_ADDR:
                raw.orig_dst_addr = &attr;
                break;
            case MUTEX_FLOW_A_ORIG_DST_PORT:
                raw.orig_dst_port = get_u16(attr, "MUTEX_FLOW_A_ORIG_DST_PORT");
                break;
            case MUTEX_FLOW_A_ACTION:
                raw.action = get_u8(attr, "MUTEX_FLOW_A_ACTION");
                break;
            case MUTEX_FLOW_A_PKTS_ORIG:
                raw.pkts_orig = get_u64(attr, "MUTEX_FLOW_A_PKTS_ORIG");
                break;
            case MUTEX_FLOW_A_BYTES_ORIG:
                raw.bytes_orig = get_u64(attr, "MUTEX_FLOW_A_BYTES_ORIG");
                break;
            case MUTEX_FLOW_A_PKTS_REPLY:
                raw.pkts_reply = get_u64(attr, "MUTEX_FLOW_A_PKTS_REPLY");
                break;
            case MUTEX_FLOW_A_BYTES_REPLY:
                raw.bytes_reply = get_u64(attr, "MUTEX_FLOW_A_BYTES_REPLY");
                break;
            case MUTEX_FLOW_A_AGE_MS:
                raw.age_ms = get_u64(attr, "MUTEX_FLOW_A_AGE_MS");
                break;
            case MUTEX_FLOW_A_IDLE_MS:
                raw.idle_ms = get_u64(attr, "MUTEX_FLOW_A_IDLE_MS");
                break;
            default:
                break;  // MUTEX_FLOW_A_PAD, or newer
        }
    });
    Flow& flow = raw.flow;
    const cfg::Family family =
        family_of(required(raw.af, "MUTEX_FLOW_A_FAMILY"), "MUTEX_FLOW_A_FAMILY");
    const std::uint8_t proto = required(raw.proto, "MUTEX_FLOW_A_PROTO");
    if (proto == IPPROTO_TCP) {
        flow.protocol = cfg::Protocol::tcp;
    } else if (proto == IPPROTO_UDP) {
        flow.protocol = cfg::Protocol::udp;
    } else {
        throw ProtocolError("MUTEX_FLOW_A_PROTO: unknown protocol " + std::to_string(proto));
    }
    flow.source = {required_address(raw.src_addr, family, "MUTEX_FLOW_A_SRC_ADDR"),
                   required(raw.src_port, "MUTEX_FLOW_A_SRC_PORT")};
    flow.original_destination = {
        required_address(raw.orig_dst_addr, family, "MUTEX_FLOW_A_ORIG_DST_ADDR"),
        required(raw.orig_dst_port, "MUTEX_FLOW_A_ORIG_DST_PORT")};
    flow.destination = {required_address(raw.dst_addr, family, "MUTEX_FLOW_A_DST_ADDR"),
                        required(raw.dst_port, "MUTEX_FLOW_A_DST_PORT")};
    const std::uint8_t action = required(raw.action, "MUTEX_FLOW_A_ACTION");
    if (action != MUTEX_ACTION_REDIRECT && action != MUTEX_ACTION_DNAT) {
        throw ProtocolError("MUTEX_FLOW_A_ACTION: " + std::to_string(action) +
                            " is not redirect or dnat");
    }
    flow.action = enum_value(action, cfg::kActionNames, "MUTEX_FLOW_A_ACTION");
    flow.pkts_orig = required(raw.pkts_orig, "MUTEX_FLOW_A_PKTS_ORIG");
    flow.bytes_orig = required(raw.bytes_orig, "MUTEX_FLOW_A_BYTES_ORIG");
    flow.pkts_reply = required(raw.pkts_reply, "MUTEX_FLOW_A_PKTS_REPLY");
    flow.bytes_reply = required(raw.bytes_reply, "MUTEX_FLOW_A_BYTES_REPLY");
    flow.age_ms = required(raw.age_ms, "MUTEX_FLOW_A_AGE_MS");
    flow.idle_ms = required(raw.idle_ms, "MUTEX_FLOW_A_IDLE_MS");
    return flow;
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
    return finish_message(
        start_message(buffer, family, seq, MUTEX_CMD_GET_INFO, MUTEX_PROXY_GENL_VERSION));
}

Message encode_get_stats(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return finish_message(
        start_message(buffer, family, seq, MUTEX_CMD_GET_STATS, MUTEX_PROXY_GENL_VERSION));
}

Message encode_set_params(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq,
                          const Params& params) {
    const bool any =
        std::any_of(kParamFields.begin(), kParamFields.end(),
                    [&params](const ParamField& f) { return (params.*f.member).has_value(); });
    if (!any) {
        throw std::invalid_argument("SET_PARAMS needs at least one parameter");
    }
    nlmsghdr* nlh =
        start_message(buffer, family, seq, MUTEX_CMD_SET_PARAMS, MUTEX_PROXY_GENL_VERSION);
    nlattr* nest = mnl_attr_nest_start_check(nlh, buffer.size(), MUTEX_A_PARAMS);
    if (nest == nullptr) {
        throw_too_small();
    }
    for (const auto& field : kParamFields) {
        const auto& value = params.*field.member;
        if (value && !mnl_attr_put_u32_check(nlh, buffer.size(), field.attr, *value)) {
            throw_too_small();
        }
    }
    mnl_attr_nest_end(nlh, nest);
    return finish_message(nlh);
}

// ----- mutex_proxy replies ---------------------------------------------------------------------

Info decode_info(const nlmsghdr& msg) {
    constexpr std::string_view what = "GET_INFO reply";
    Info info;
    bool have_version = false;
    bool have_api = false;
    bool have_features = false;
    bool have_cookie = false;
    bool have_params = false;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        switch (mnl_attr_get_type(&attr)) {
            case MUTEX_A_VERSION:
                info.version = get_string(attr, "MUTEX_A_VERSION");
                have_version = true;
                break;
            case MUTEX_A_API_VERSION:
                info.api_version = get_u32(attr, "MUTEX_A_API_VERSION");
                have_api = true;
                break;
            case MUTEX_A_FEATURES:
                info.features = get_u64(attr, "MUTEX_A_FEATURES");
                have_features = true;
                break;
            case MUTEX_A_NETNS_COOKIE:
                info.netns_cookie = get_u64(attr, "MUTEX_A_NETNS_COOKIE");
                have_cookie = true;
                break;
            case MUTEX_A_PARAMS:
                info.params = decode_params_nest(attr);
                have_params = true;
                break;
            default:
                break;  // MUTEX_A_PAD, or an attribute of a newer module
        }
    });
    require(have_version, what, "MUTEX_A_VERSION");
    require(have_api, what, "MUTEX_A_API_VERSION");
    require(have_features, what, "MUTEX_A_FEATURES");
    require(have_cookie, what, "MUTEX_A_NETNS_COOKIE");
    require(have_params, what, "MUTEX_A_PARAMS");
    return info;
}

Stats decode_stats(const nlmsghdr& msg) {
    constexpr std::string_view what = "GET_STATS reply";
    std::optional<Stats> stats;
    std::optional<std::uint64_t> flow_count;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        switch (mnl_attr_get_type(&attr)) {
            case MUTEX_A_STATS:
                stats = decode_stats_nest(attr);
                break;
            case MUTEX_A_FLOW_COUNT:
                flow_count = get_u64(attr, "MUTEX_A_FLOW_COUNT");
                break;
            default:
                break;
        }
    });
    require(stats.has_value(), what, "MUTEX_A_STATS");
    require(flow_count.has_value(), what, "MUTEX_A_FLOW_COUNT");
    stats->flow_count = *flow_count;
    return *stats;
}

Params decode_params(const nlmsghdr& msg) {
    constexpr std::string_view what = "SET_PARAMS reply";
    std::optional<Params> params;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        if (mnl_attr_get_type(&attr) == MUTEX_A_PARAMS) {
            params = decode_params_nest(attr);
        }
    });
    require(params.has_value(), what, "MUTEX_A_PARAMS");
    return *params;
}

// ----- configuration ---------------------------------------------------------------------------

Message encode_get_config(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return finish_message(start_message(buffer, family, seq, MUTEX_CMD_GET_CONFIG,
                                        MUTEX_PROXY_GENL_VERSION, NLM_F_REQUEST | NLM_F_DUMP));
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
    nlmsghdr* nlh =
        start_message(storage, family, seq, MUTEX_CMD_SET_CONFIG, MUTEX_PROXY_GENL_VERSION);
    ConfigEncoder enc(nlh, storage.size());
    enc.u64(MUTEX_A_GENERATION, expected_generation);
    for (const auto& pool : config.pools) {
        encode_pool(enc, pool);
    }
    for (const auto& rule : config.rules) {
        encode_rule(enc, rule, config, interfaces);
    }
    storage.resize(nlh->nlmsg_len);
    return storage;
}

std::uint64_t decode_set_config(const nlmsghdr& msg) {
    constexpr std::string_view what = "SET_CONFIG reply";
    std::optional<std::uint64_t> generation;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        if (mnl_attr_get_type(&attr) == MUTEX_A_GENERATION) {
            generation = get_u64(attr, "MUTEX_A_GENERATION");
        }
    });
    require(generation.has_value(), what, "MUTEX_A_GENERATION");
    return *generation;
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
    require(!parts.empty(), what, "a message");
    for (const nlmsghdr* msg : parts) {
        bool have_generation = false;
        for_each_attr(payload_after(*msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
            switch (mnl_attr_get_type(&attr)) {
                case MUTEX_A_GENERATION: {
                    const std::uint64_t g = get_u64(attr, "MUTEX_A_GENERATION");
                    if (generation && *generation != g) {
                        throw ProtocolError(
                            "GET_CONFIG reply: the generation changed between its "
                            "messages");
                    }
                    generation = g;
                    have_generation = true;
                    break;
                }
                case MUTEX_A_POOL:
                    decode_pool(attr, snapshot);
                    break;
                case MUTEX_A_RULE:
                    // Decoded after every pool: a rule names a pool by index.
                    rules.push_back(&attr);
                    break;
                default:
                    break;
            }
        });
        require(have_generation, what, "MUTEX_A_GENERATION");
    }
    snapshot.generation = *generation;
    for (const nlattr* rule : rules) {
        snapshot.config.rules.push_back(decode_rule(*rule, snapshot.config, names));
    }
    return snapshot;
}

// ----- connection table ------------------------------------------------------------------------

Message encode_get_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return finish_message(start_message(buffer, family, seq, MUTEX_CMD_GET_FLOWS,
                                        MUTEX_PROXY_GENL_VERSION, NLM_F_REQUEST | NLM_F_DUMP));
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
    nlmsghdr* nlh =
        start_message(buffer, family, seq, MUTEX_CMD_GET_ORIGDST, MUTEX_PROXY_GENL_VERSION);
    ConfigEncoder enc(nlh, buffer.size());
    nlattr* nest = enc.nest(MUTEX_A_FLOW);
    enc.u8(MUTEX_FLOW_A_FAMILY, af_of(af));
    enc.u8(MUTEX_FLOW_A_PROTO, proto);
    enc.bytes(MUTEX_FLOW_A_SRC_ADDR, key.source.address.bytes.data(), address_length(af));
    enc.u16(MUTEX_FLOW_A_SRC_PORT, key.source.port);
    enc.bytes(MUTEX_FLOW_A_DST_ADDR, key.destination.address.bytes.data(), address_length(af));
    enc.u16(MUTEX_FLOW_A_DST_PORT, key.destination.port);
    enc.end(nest);
    return finish_message(nlh);
}

Message encode_flush_flows(MutableBuffer buffer, std::uint16_t family, std::uint32_t seq) {
    return finish_message(
        start_message(buffer, family, seq, MUTEX_CMD_FLUSH_FLOWS, MUTEX_PROXY_GENL_VERSION));
}

std::vector<Flow> decode_flows(const nlmsghdr& msg) {
    constexpr std::string_view what = "GET_FLOWS reply";
    std::vector<Flow> flows;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        if (mnl_attr_get_type(&attr) == MUTEX_A_FLOW) {
            flows.push_back(decode_flow(attr));
        }
    });
    return flows;
}

Flow decode_origdst(const nlmsghdr& msg) {
    constexpr std::string_view what = "GET_ORIGDST reply";
    std::optional<Flow> flow;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        if (mnl_attr_get_type(&attr) == MUTEX_A_FLOW) {
            if (flow) {
                throw ProtocolError(str(what) + ": more than one MUTEX_A_FLOW");
            }
            flow = decode_flow(attr);
        }
    });
    require(flow.has_value(), what, "MUTEX_A_FLOW");
    return *flow;
}

std::uint64_t decode_flush_flows(const nlmsghdr& msg) {
    constexpr std::string_view what = "FLUSH_FLOWS reply";
    std::optional<std::uint64_t> count;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        if (mnl_attr_get_type(&attr) == MUTEX_A_FLOW_COUNT) {
            count = get_u64(attr, "MUTEX_A_FLOW_COUNT");
        }
    });
    require(count.has_value(), what, "MUTEX_A_FLOW_COUNT");
    return *count;
}

// ----- generic netlink controller --------------------------------------------------------------

Message encode_get_family(MutableBuffer buffer, std::uint32_t seq, std::string_view name) {
    nlmsghdr* nlh = start_message(buffer, GENL_ID_CTRL, seq, CTRL_CMD_GETFAMILY, 1);
    const std::string name_z(name);
    if (!mnl_attr_put_strz_check(nlh, buffer.size(), CTRL_ATTR_FAMILY_NAME, name_z.c_str())) {
        throw_too_small();
    }
    return finish_message(nlh);
}

FamilyInfo decode_family(const nlmsghdr& msg) {
    constexpr std::string_view what = "CTRL_CMD_GETFAMILY reply";
    FamilyInfo family;
    bool have_id = false;
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        switch (mnl_attr_get_type(&attr)) {
            case CTRL_ATTR_FAMILY_ID:
                family.id = get_u16(attr, "CTRL_ATTR_FAMILY_ID");
                have_id = true;
                break;
            case CTRL_ATTR_FAMILY_NAME:
                family.name = get_string(attr, "CTRL_ATTR_FAMILY_NAME");
                break;
            case CTRL_ATTR_VERSION:
                family.version = get_u32(attr, "CTRL_ATTR_VERSION");
                break;
            case CTRL_ATTR_MAXATTR:
                family.max_attr = get_u32(attr, "CTRL_ATTR_MAXATTR");
                break;
            case CTRL_ATTR_MCAST_GROUPS:
                for_each_attr(nested_payload(attr, "CTRL_ATTR_MCAST_GROUPS"),
                              "CTRL_ATTR_MCAST_GROUPS", [&family](const nlattr& group_nest) {
                                  McastGroup group;
                                  for_each_attr(nested_payload(group_nest, "mcast group"),
                                                "mcast group", [&group](const nlattr& a) {
                                                    switch (mnl_attr_get_type(&a)) {
                                                        case CTRL_ATTR_MCAST_GRP_NAME:
                                                            group.name =
                                                                get_string(a, "group name");
                                                            break;
                                                        case CTRL_ATTR_MCAST_GRP_ID:
                                                            group.id = get_u32(a, "group id");
                                                            break;
                                                        default:
                                                            break;
                                                    }
                                                });
                                  family.mcast_groups.push_back(std::move(group));
                              });
                break;
            default:
                break;
        }
    });
    require(have_id, what, "CTRL_ATTR_FAMILY_ID");
    return family;
}

// ----- errors and acknowledgements -------------------------------------------------------------

KernelStatus decode_error(const nlmsghdr& msg) {
    if (msg.nlmsg_len < kNlmsgHdrLen + sizeof(nlmsgerr)) {
        throw ProtocolError("NLMSG_ERROR message too short (" + std::to_string(msg.nlmsg_len) +
                            " bytes)");
    }
    nlmsgerr err{};
    std::memcpy(&err, bytes_of(msg) + kNlmsgHdrLen, sizeof(err));
    KernelStatus status;
    status.error = positive_errno(err.error);
    if ((msg.nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
        return status;
    }
    std::size_t tlv_offset = kNlmsgHdrLen + sizeof(nlmsgerr);
    if ((msg.nlmsg_flags & NLM_F_CAPPED) == 0 && err.msg.nlmsg_len > kNlmsgHdrLen) {
        tlv_offset += netlink_align(err.msg.nlmsg_len - kNlmsgHdrLen);  // the echoed request
    }
    if (tlv_offset <= msg.nlmsg_len) {
        decode_extack({bytes_of(msg) + tlv_offset, msg.nlmsg_len - tlv_offset}, status);
    }
    return status;
}

KernelStatus decode_done(const nlmsghdr& msg) {
    KernelStatus status;
    if (msg.nlmsg_len < kNlmsgHdrLen + sizeof(int)) {
        return status;  // no error code: a clean end of dump
    }
    int code = 0;
    std::memcpy(&code, bytes_of(msg) + kNlmsgHdrLen, sizeof(code));
    status.error = positive_errno(code);
    if ((msg.nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
        const std::size_t tlv_offset = kNlmsgHdrLen + netlink_align(sizeof(int));
        if (tlv_offset <= msg.nlmsg_len) {
            decode_extack({bytes_of(msg) + tlv_offset, msg.nlmsg_len - tlv_offset}, status);
        }
    }
    return status;
}

}  // namespace mutex
