// SPDX-License-Identifier: GPL-2.0
// Hand-built netlink messages for the unit tests, written byte by byte without libmnl so the
// codec is checked against an independent encoder; and the sample values several test files share.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"

namespace mutex::test {

/// Bytes of one or more netlink messages. std::vector storage is suitably aligned.
using Bytes = std::vector<std::byte>;

class MessageBuilder {
public:
    MessageBuilder(std::uint16_t type, std::uint16_t flags, std::uint32_t seq,
                   std::uint32_t portid);

    /// struct genlmsghdr.
    MessageBuilder& genl(std::uint8_t cmd, std::uint8_t version = 1);
    /// Raw payload bytes, padded to 4.
    MessageBuilder& raw(std::span<const std::byte> data);
    MessageBuilder& attr(std::uint16_t type, std::span<const std::byte> payload);
    MessageBuilder& u16(std::uint16_t type, std::uint16_t value);
    MessageBuilder& u32(std::uint16_t type, std::uint32_t value);
    MessageBuilder& u64(std::uint16_t type, std::uint64_t value);
    /// NUL-terminated string attribute.
    MessageBuilder& str(std::uint16_t type, std::string_view value);
    MessageBuilder& begin_nest(std::uint16_t type);
    MessageBuilder& end_nest();
    /// The message, nlmsg_len set to the bytes written.
    [[nodiscard]] Bytes build() const;

private:
    void pad();
    Bytes bytes_;
    std::vector<std::size_t> nests_;
};

/// NLMSG_ERROR: `error` (negative errno or 0), the echoed request header (and its payload
/// unless `capped`), then the extended-ack TLVs `tlvs` (sets NLM_F_ACK_TLVS if non-empty).
Bytes error_message(std::uint32_t seq, std::uint32_t portid, int error, const Bytes& request,
                    bool capped, const Bytes& tlvs = {});

/// NLMSG_DONE with error code `error` and optional TLVs.
Bytes done_message(std::uint32_t seq, std::uint32_t portid, int error = 0,
                   std::uint16_t extra_flags = 0, const Bytes& tlvs = {});

/// Extended-ack TLVs: NLMSGERR_ATTR_MSG (if non-empty) and NLMSGERR_ATTR_OFFS (if offset >= 0).
Bytes extack_tlvs(std::string_view message, long offset = -1);

/// Concatenates messages into one datagram.
Bytes datagram(std::initializer_list<Bytes> messages);

/// The message at the start of `bytes`.
const nlmsghdr& as_msg(const Bytes& bytes);

/// Field readers for checking encoded requests.
std::uint16_t read_u16(std::span<const std::byte> bytes, std::size_t offset);
std::uint32_t read_u32(std::span<const std::byte> bytes, std::size_t offset);

/// An address the test writes as valid text ("10.0.0.2", "2001:db8::1"); a failed expectation
/// if it is not.
config::Address address(std::string_view text);

/// A TCP flow from 10.0.0.2:40000 to 203.0.113.7:26656, redirected to 127.0.0.1:12345, with
/// more than 2^32 bytes in the original direction.
Flow sample_tcp4_flow();

}  // namespace mutex::test
