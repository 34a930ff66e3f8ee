// SPDX-License-Identifier: GPL-2.0
#include "test_helpers.hpp"

#include <gtest/gtest.h>
#include <linux/genetlink.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace mutex::test {

namespace {

template <typename T>
void append(Bytes& bytes, const T& value) {
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
}

template <typename T>
void store(Bytes& bytes, std::size_t offset, const T& value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

}  // namespace

MessageBuilder::MessageBuilder(std::uint16_t type, std::uint16_t flags, std::uint32_t seq,
                               std::uint32_t portid) {
    const nlmsghdr header{0, type, flags, seq, portid};
    append(bytes_, header);
}

void MessageBuilder::pad() {
    while (bytes_.size() % 4 != 0) {
        bytes_.push_back(std::byte{0});
    }
}

MessageBuilder& MessageBuilder::genl(std::uint8_t cmd, std::uint8_t version) {
    const genlmsghdr header{cmd, version, 0};
    append(bytes_, header);
    return *this;
}

MessageBuilder& MessageBuilder::raw(std::span<const std::byte> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    pad();
    return *this;
}

MessageBuilder& MessageBuilder::attr(std::uint16_t type, std::span<const std::byte> payload) {
    const nlattr header{static_cast<std::uint16_t>(sizeof(nlattr) + payload.size()), type};
    append(bytes_, header);
    return raw(payload);
}

MessageBuilder& MessageBuilder::u16(std::uint16_t type, std::uint16_t value) {
    return attr(type, std::as_bytes(std::span(&value, 1)));
}

MessageBuilder& MessageBuilder::u32(std::uint16_t type, std::uint32_t value) {
    return attr(type, std::as_bytes(std::span(&value, 1)));
}

MessageBuilder& MessageBuilder::u64(std::uint16_t type, std::uint64_t value) {
    return attr(type, std::as_bytes(std::span(&value, 1)));
}

MessageBuilder& MessageBuilder::str(std::uint16_t type, std::string_view value) {
    std::string z(value);
    z.push_back('\0');
    return attr(type, std::as_bytes(std::span(z.data(), z.size())));
}

MessageBuilder& MessageBuilder::begin_nest(std::uint16_t type) {
    nests_.push_back(bytes_.size());
    const nlattr header{0, static_cast<std::uint16_t>(type | NLA_F_NESTED)};
    append(bytes_, header);
    return *this;
}

MessageBuilder& MessageBuilder::end_nest() {
    if (nests_.empty()) {
        throw std::logic_error("end_nest without begin_nest");
    }
    const std::size_t start = nests_.back();
    nests_.pop_back();
    store(bytes_, start, static_cast<std::uint16_t>(bytes_.size() - start));
    return *this;
}

Bytes MessageBuilder::build() const {
    Bytes out = bytes_;
    store(out, 0, static_cast<std::uint32_t>(out.size()));
    return out;
}

Bytes error_message(std::uint32_t seq, std::uint32_t portid, int error, const Bytes& request,
                    bool capped, const Bytes& tlvs) {
    std::uint16_t flags = 0;
    if (capped) {
        flags |= NLM_F_CAPPED;
    }
    if (!tlvs.empty()) {
        flags |= NLM_F_ACK_TLVS;
    }
    MessageBuilder b(NLMSG_ERROR, flags, seq, portid);
    b.raw(std::as_bytes(std::span(&error, 1)));
    const std::size_t echoed = capped ? sizeof(nlmsghdr) : request.size();
    b.raw(std::span(request).first(echoed));
    b.raw(tlvs);
    return b.build();
}

Bytes done_message(std::uint32_t seq, std::uint32_t portid, int error, std::uint16_t extra_flags,
                   const Bytes& tlvs) {
    auto flags = static_cast<std::uint16_t>(NLM_F_MULTI | extra_flags);
    if (!tlvs.empty()) {
        flags |= NLM_F_ACK_TLVS;
    }
    MessageBuilder b(NLMSG_DONE, flags, seq, portid);
    b.raw(std::as_bytes(std::span(&error, 1)));
    b.raw(tlvs);
    return b.build();
}

Bytes extack_tlvs(std::string_view message, long offset) {
    // Build the TLVs inside a throwaway message and cut the header off.
    MessageBuilder b(0, 0, 0, 0);
    if (!message.empty()) {
        b.str(NLMSGERR_ATTR_MSG, message);
    }
    if (offset >= 0) {
        b.u32(NLMSGERR_ATTR_OFFS, static_cast<std::uint32_t>(offset));
    }
    const Bytes all = b.build();
    return {all.begin() + static_cast<std::ptrdiff_t>(sizeof(nlmsghdr)), all.end()};
}

Bytes datagram(std::initializer_list<Bytes> messages) {
    Bytes out;
    for (const auto& m : messages) {
        out.insert(out.end(), m.begin(), m.end());
    }
    return out;
}

const nlmsghdr& as_msg(const Bytes& bytes) {
    if (bytes.size() < sizeof(nlmsghdr)) {
        throw std::logic_error("not a netlink message");
    }
    return *reinterpret_cast<const nlmsghdr*>(bytes.data());
}

std::uint16_t read_u16(std::span<const std::byte> bytes, std::size_t offset) {
    std::uint16_t value = 0;
    std::memcpy(&value, bytes.subspan(offset, sizeof(value)).data(), sizeof(value));
    return value;
}

std::uint32_t read_u32(std::span<const std::byte> bytes, std::size_t offset) {
    std::uint32_t value = 0;
    std::memcpy(&value, bytes.subspan(offset, sizeof(value)).data(), sizeof(value));
    return value;
}

config::Address address(std::string_view text) {
    const auto parsed = config::parse_address(text);
    EXPECT_TRUE(parsed.has_value()) << text;
    return parsed.value_or(config::Address{});
}

Flow sample_tcp4_flow() {
    Flow f;
    f.protocol = config::Protocol::tcp;
    f.source = {address("10.0.0.2"), 40000};
    f.original_destination = {address("203.0.113.7"), 26656};
    f.destination = {address("127.0.0.1"), 12345};
    f.action = config::Action::redirect;
    f.pkts_orig = 10;
    f.bytes_orig = 5000000000ULL;  // > 2^32
    f.pkts_reply = 8;
    f.bytes_reply = 900;
    f.age_ms = 65000;
    f.idle_ms = 300;
    return f;
}

}  // namespace mutex::test
