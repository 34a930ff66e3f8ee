// SPDX-License-Identifier: GPL-2.0
#include "libmutex/codec.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include <algorithm>
#include <bitset>
#include <climits>
#include <cstdint>
#include <cstring>
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
                        std::uint8_t cmd, std::uint8_t version) {
    if (reinterpret_cast<std::uintptr_t>(buffer.data()) % alignof(nlmsghdr) != 0) {
        throw std::invalid_argument("netlink request buffer is not aligned");
    }
    if (buffer.size() < kNlmsgHdrLen + kGenlHdrLen) {
        throw std::length_error("netlink request buffer too small");
    }
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
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
    for_each_attr(payload_after(msg, sizeof(genlmsghdr), what), what, [&](const nlattr& attr) {
        if (mnl_attr_get_type(&attr) == MUTEX_A_STATS) {
            stats = decode_stats_nest(attr);
        }
    });
    require(stats.has_value(), what, "MUTEX_A_STATS");
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
