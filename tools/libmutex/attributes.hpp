// SPDX-License-Identifier: GPL-2.0
// Netlink attributes, table-driven. Pure: no I/O.
//
// Each nest of the UAPI (and the top level of a family's messages) has one attribute table
// (AttrTable): the type, kind and name of every attribute it may hold. AttrView parses a nest
// against its table once, as the kernel's nla_parse() does against a policy: every known
// attribute's kind and length is checked there (a ProtocolError names the attribute),
// attributes the table does not know are skipped (a newer module may send more), and then the
// decoder asks for attributes by type. The names in error messages come from the table, so each
// is written once. Encoding goes through AttrWriter, which builds one generic netlink message in
// a caller's buffer. Model: ndn-cxx's NetlinkMessageAttributes, wireguard-tools' ipc-linux.h.
#pragma once

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mutex {

/// A writable byte buffer a request is built into; it must be aligned for struct nlmsghdr.
using MutableBuffer = std::span<std::byte>;
/// One complete netlink message (or a datagram of several), read-only.
using Message = std::span<const std::byte>;

inline constexpr std::size_t kRequestBufferSize = 512;

/// NLMSG_ALIGN / NLA_ALIGN without the C casts of the kernel's macros.
constexpr std::size_t netlink_align(std::size_t n) noexcept {
    return (n + 3U) & ~std::size_t{3U};
}
inline constexpr std::size_t kNlmsgHdrLen = netlink_align(sizeof(nlmsghdr));   // NLMSG_HDRLEN
inline constexpr std::size_t kGenlHdrLen = netlink_align(sizeof(genlmsghdr));  // GENL_HDRLEN
inline constexpr std::size_t kNlaHdrLen = netlink_align(sizeof(nlattr));       // NLA_HDRLEN

/// Storage for one request message, suitably aligned.
struct alignas(nlmsghdr) RequestBuffer {
    std::array<std::byte, kRequestBufferSize> bytes{};
};

/// What an attribute holds, as far as its encoding goes (the kernel's NLA_* policy types).
enum class AttrKind : std::uint8_t {
    u8,
    u16,
    u32,
    u64,
    string,  // NUL-terminated
    binary,  // any length; the decoder checks it (an address against its family)
    nested,
};

/// One attribute of a table.
struct AttrSpec {
    std::uint16_t type;
    AttrKind kind;
    std::string_view name;  // the UAPI name, or the field name the output uses
};

/// The attributes a nest (or a message's top level) may hold.
using AttrTable = std::span<const AttrSpec>;

/// The bytes of a message (for reading fixed headers after its nlmsghdr).
const std::byte* bytes_of(const nlmsghdr& msg) noexcept;
/// The payload of attribute `attr` (a nest's attributes).
Message payload_of(const nlattr& attr) noexcept;

/// Calls fn(attr) for every attribute in `payload`; a truncated attribute or stray trailing
/// bytes are a ProtocolError naming `where`.
void for_each_attr(Message payload, std::string_view where,
                   const std::function<void(const nlattr&)>& fn);

/// The attributes of one nest or message, parsed against its table.
class AttrView {
public:
    /// Parses `payload`, the attributes of `what` (a nest's or a reply's name, for messages).
    /// Throws ProtocolError for a truncated attribute or a known one of the wrong kind or length.
    AttrView(Message payload, AttrTable table, std::string_view what);
    /// The attributes of a generic netlink message, after its genlmsghdr.
    static AttrView of_message(const nlmsghdr& msg, AttrTable table, std::string_view what);
    /// The attributes inside nest `attr` (called `what`); a malformed nest is a ProtocolError.
    static AttrView of_nest(const nlattr& attr, AttrTable table, std::string_view what);

    [[nodiscard]] std::string_view what() const noexcept { return what_; }
    /// The table's name for `type` ("attribute N" for a type the table does not know: a bug).
    [[nodiscard]] std::string name(std::uint16_t type) const;

    /// The last occurrence of `type`, or nullptr.
    [[nodiscard]] const nlattr* get(std::uint16_t type) const;
    /// Every occurrence of `type`, in message order.
    [[nodiscard]] std::span<const nlattr* const> all(std::uint16_t type) const;

    [[nodiscard]] std::optional<std::uint8_t> u8(std::uint16_t type) const;
    [[nodiscard]] std::optional<std::uint16_t> u16(std::uint16_t type) const;
    [[nodiscard]] std::optional<std::uint32_t> u32(std::uint16_t type) const;
    [[nodiscard]] std::optional<std::uint64_t> u64(std::uint16_t type) const;
    [[nodiscard]] std::optional<std::string> string(std::uint16_t type) const;

    /// The same, mandatory: a ProtocolError "<what> lacks <name>" when absent.
    [[nodiscard]] const nlattr& need(std::uint16_t type) const;
    [[nodiscard]] std::uint8_t need_u8(std::uint16_t type) const;
    [[nodiscard]] std::uint16_t need_u16(std::uint16_t type) const;
    [[nodiscard]] std::uint32_t need_u32(std::uint16_t type) const;
    [[nodiscard]] std::uint64_t need_u64(std::uint16_t type) const;
    [[nodiscard]] std::string need_string(std::uint16_t type) const;

private:
    [[nodiscard]] std::optional<std::size_t> index(std::uint16_t type) const;
    [[nodiscard]] const AttrSpec& spec(std::uint16_t type) const;

    AttrTable table_;
    std::string what_;
    std::vector<std::vector<const nlattr*>> seen_;  // parallel to table_
};

/// Builds one generic netlink message into a caller's buffer (aligned for nlmsghdr).
/// Every method throws std::length_error when the buffer is too small.
class AttrWriter {
public:
    /// Starts the message: header `type`/`flags`/`seq`, genlmsghdr `cmd`/`version`. Throws
    /// std::invalid_argument for a misaligned buffer.
    AttrWriter(MutableBuffer buffer, std::uint16_t type, std::uint32_t seq, std::uint8_t cmd,
               std::uint8_t version, std::uint16_t flags = NLM_F_REQUEST | NLM_F_ACK);

    nlattr* nest(std::uint16_t type);
    void end(nlattr* nest) noexcept;
    void u8(std::uint16_t type, std::uint8_t v);
    void u16(std::uint16_t type, std::uint16_t v);
    void u32(std::uint16_t type, std::uint32_t v);
    void u64(std::uint16_t type, std::uint64_t v);
    void bytes(std::uint16_t type, std::span<const std::uint8_t> data);
    void strz(std::uint16_t type, const std::string& v);

    /// The message so far (all of it once the last nest is ended), inside the buffer.
    [[nodiscard]] Message message() const noexcept;

private:
    nlmsghdr* nlh_ = nullptr;
    std::size_t capacity_;
};

}  // namespace mutex
