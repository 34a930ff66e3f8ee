// SPDX-License-Identifier: GPL-2.0
#include "libmutex/attributes.hpp"

#include <libmnl/libmnl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "libmutex/error.hpp"

namespace mutex {

namespace {

std::string str(std::string_view s) {
    return std::string(s);
}

[[noreturn]] void throw_too_small() {
    throw std::length_error("netlink request buffer too small");
}

void check_fits(bool ok) {
    if (!ok) {
        throw_too_small();
    }
}

std::string_view kind_name(AttrKind kind) noexcept {
    switch (kind) {
        case AttrKind::u8:
            return "u8";
        case AttrKind::u16:
            return "u16";
        case AttrKind::u32:
            return "u32";
        case AttrKind::u64:
            return "u64";
        case AttrKind::string:
            return "a NUL-terminated string";
        case AttrKind::binary:
            return "bytes";
        case AttrKind::nested:
            return "a nest";
    }
    return "?";
}

/// Checks `attr` against its kind; the error says what was expected and what came.
void validate(const nlattr& attr, const AttrSpec& spec) {
    mnl_attr_data_type type = MNL_TYPE_UNSPEC;
    switch (spec.kind) {
        case AttrKind::u8:
            type = MNL_TYPE_U8;
            break;
        case AttrKind::u16:
            type = MNL_TYPE_U16;
            break;
        case AttrKind::u32:
            type = MNL_TYPE_U32;
            break;
        case AttrKind::u64:
            type = MNL_TYPE_U64;
            break;
        case AttrKind::string:
            if (mnl_attr_validate(&attr, MNL_TYPE_NUL_STRING) < 0) {
                throw ProtocolError(str(spec.name) + ": expected a NUL-terminated string");
            }
            return;
        case AttrKind::binary:
            return;
        case AttrKind::nested:
            if (mnl_attr_validate(&attr, MNL_TYPE_NESTED) < 0) {
                throw ProtocolError(str(spec.name) + ": malformed nest");
            }
            return;
    }
    if (mnl_attr_validate(&attr, type) < 0) {
        throw ProtocolError(str(spec.name) + ": expected " + str(kind_name(spec.kind)) + ", got " +
                            std::to_string(mnl_attr_get_payload_len(&attr)) + " bytes");
    }
}

}  // namespace

const std::byte* bytes_of(const nlmsghdr& msg) noexcept {
    return reinterpret_cast<const std::byte*>(&msg);
}

Message payload_of(const nlattr& attr) noexcept {
    return {static_cast<const std::byte*>(mnl_attr_get_payload(&attr)),
            mnl_attr_get_payload_len(&attr)};
}

void for_each_attr(Message payload, std::string_view where,
                   const std::function<void(const nlattr&)>& fn) {
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

// ----- AttrView --------------------------------------------------------------------------------

AttrView::AttrView(Message payload, AttrTable table, std::string_view what)
    : table_(table), what_(what), seen_(table.size()) {
    for_each_attr(payload, what_, [this](const nlattr& attr) {
        const auto i = index(mnl_attr_get_type(&attr));
        if (!i) {
            return;  // padding, or an attribute of a newer module
        }
        validate(attr, table_[*i]);
        seen_[*i].push_back(&attr);
    });
}

AttrView AttrView::of_message(const nlmsghdr& msg, AttrTable table, std::string_view what) {
    const std::size_t offset = kNlmsgHdrLen + kGenlHdrLen;
    if (msg.nlmsg_len < offset) {
        throw ProtocolError(str(what) + ": message too short (" + std::to_string(msg.nlmsg_len) +
                            " bytes)");
    }
    return {Message{bytes_of(msg) + offset, msg.nlmsg_len - offset}, table, what};
}

AttrView AttrView::of_nest(const nlattr& attr, AttrTable table, std::string_view what) {
    if (mnl_attr_validate(&attr, MNL_TYPE_NESTED) < 0) {
        throw ProtocolError(str(what) + ": malformed nest");
    }
    return {payload_of(attr), table, what};
}

std::optional<std::size_t> AttrView::index(std::uint16_t type) const {
    const auto it = std::find_if(table_.begin(), table_.end(),
                                 [type](const AttrSpec& s) { return s.type == type; });
    if (it == table_.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(it - table_.begin());
}

const AttrSpec& AttrView::spec(std::uint16_t type) const {
    const auto i = index(type);
    if (!i) {
        throw std::logic_error(what_ + ": attribute " + std::to_string(type) +
                               " is not in its table");
    }
    return table_[*i];
}

std::string AttrView::name(std::uint16_t type) const {
    const auto i = index(type);
    return i ? str(table_[*i].name) : "attribute " + std::to_string(type);
}

const nlattr* AttrView::get(std::uint16_t type) const {
    const auto i = index(type);
    if (!i || seen_[*i].empty()) {
        return nullptr;
    }
    return seen_[*i].back();
}

std::span<const nlattr* const> AttrView::all(std::uint16_t type) const {
    const auto i = index(type);
    if (!i) {
        return {};
    }
    return seen_[*i];
}

namespace {

/// `attr` of the kind `want`, which the table must say it is (a decoder asking for the wrong
/// kind is a bug, not the kernel's fault).
const nlattr* of_kind(const AttrSpec& spec, AttrKind want, const nlattr* attr) {
    if (spec.kind != want) {
        throw std::logic_error(str(spec.name) + " is not " + str(kind_name(want)));
    }
    return attr;
}

}  // namespace

std::optional<std::uint8_t> AttrView::u8(std::uint16_t type) const {
    const nlattr* a = of_kind(spec(type), AttrKind::u8, get(type));
    return a ? std::optional{mnl_attr_get_u8(a)} : std::nullopt;
}

std::optional<std::uint16_t> AttrView::u16(std::uint16_t type) const {
    const nlattr* a = of_kind(spec(type), AttrKind::u16, get(type));
    return a ? std::optional{mnl_attr_get_u16(a)} : std::nullopt;
}

std::optional<std::uint32_t> AttrView::u32(std::uint16_t type) const {
    const nlattr* a = of_kind(spec(type), AttrKind::u32, get(type));
    return a ? std::optional{mnl_attr_get_u32(a)} : std::nullopt;
}

std::optional<std::uint64_t> AttrView::u64(std::uint16_t type) const {
    const nlattr* a = of_kind(spec(type), AttrKind::u64, get(type));
    return a ? std::optional{mnl_attr_get_u64(a)} : std::nullopt;
}

std::optional<std::string> AttrView::string(std::uint16_t type) const {
    const nlattr* a = of_kind(spec(type), AttrKind::string, get(type));
    if (a == nullptr) {
        return std::nullopt;
    }
    const char* s = mnl_attr_get_str(a);
    return std::string(s, ::strnlen(s, mnl_attr_get_payload_len(a)));
}

const nlattr& AttrView::need(std::uint16_t type) const {
    const nlattr* a = get(type);
    if (a == nullptr) {
        throw ProtocolError(what_ + " lacks " + name(type));
    }
    return *a;
}

namespace {

template <typename T>
T needed(const std::optional<T>& value, const AttrView& view, std::uint16_t type) {
    if (!value) {
        throw ProtocolError(str(view.what()) + " lacks " + view.name(type));
    }
    return *value;
}

}  // namespace

std::uint8_t AttrView::need_u8(std::uint16_t type) const {
    return needed(u8(type), *this, type);
}

std::uint16_t AttrView::need_u16(std::uint16_t type) const {
    return needed(u16(type), *this, type);
}

std::uint32_t AttrView::need_u32(std::uint16_t type) const {
    return needed(u32(type), *this, type);
}

std::uint64_t AttrView::need_u64(std::uint16_t type) const {
    return needed(u64(type), *this, type);
}

std::string AttrView::need_string(std::uint16_t type) const {
    return needed(string(type), *this, type);
}

// ----- AttrWriter ------------------------------------------------------------------------------

AttrWriter::AttrWriter(MutableBuffer buffer, std::uint16_t type, std::uint32_t seq,
                       std::uint8_t cmd, std::uint8_t version, std::uint16_t flags)
    : capacity_(buffer.size()) {
    if (reinterpret_cast<std::uintptr_t>(buffer.data()) % alignof(nlmsghdr) != 0) {
        throw std::invalid_argument("netlink request buffer is not aligned");
    }
    if (buffer.size() < kNlmsgHdrLen + kGenlHdrLen) {
        throw_too_small();
    }
    nlh_ = mnl_nlmsg_put_header(buffer.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = flags;
    nlh_->nlmsg_seq = seq;
    auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(genlmsghdr)));
    genl->cmd = cmd;
    genl->version = version;
}

nlattr* AttrWriter::nest(std::uint16_t type) {
    nlattr* nest = mnl_attr_nest_start_check(nlh_, capacity_, type);
    if (nest == nullptr) {
        throw_too_small();
    }
    return nest;
}

void AttrWriter::end(nlattr* nest) noexcept {
    mnl_attr_nest_end(nlh_, nest);
}

void AttrWriter::u8(std::uint16_t type, std::uint8_t v) {
    check_fits(mnl_attr_put_u8_check(nlh_, capacity_, type, v));
}

void AttrWriter::u16(std::uint16_t type, std::uint16_t v) {
    check_fits(mnl_attr_put_u16_check(nlh_, capacity_, type, v));
}

void AttrWriter::u32(std::uint16_t type, std::uint32_t v) {
    check_fits(mnl_attr_put_u32_check(nlh_, capacity_, type, v));
}

void AttrWriter::u64(std::uint16_t type, std::uint64_t v) {
    check_fits(mnl_attr_put_u64_check(nlh_, capacity_, type, v));
}

void AttrWriter::bytes(std::uint16_t type, std::span<const std::uint8_t> data) {
    check_fits(mnl_attr_put_check(nlh_, capacity_, type, data.size(), data.data()));
}

void AttrWriter::strz(std::uint16_t type, const std::string& v) {
    check_fits(mnl_attr_put_strz_check(nlh_, capacity_, type, v.c_str()));
}

Message AttrWriter::message() const noexcept {
    return {reinterpret_cast<const std::byte*>(nlh_), nlh_->nlmsg_len};
}

}  // namespace mutex
