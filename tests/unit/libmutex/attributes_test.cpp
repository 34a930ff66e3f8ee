// SPDX-License-Identifier: GPL-2.0
// The attribute layer (libmutex/attributes.hpp): parsing against a table, typed access,
// mandatory attributes and the writer, on messages built by the independent test encoder.
#include "libmutex/attributes.hpp"

#include <gtest/gtest.h>
#include <linux/genetlink.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "libmutex/error.hpp"
#include "test_helpers.hpp"

namespace mutex {
namespace {

using test::as_msg;
using test::MessageBuilder;

enum : std::uint16_t { kName = 1, kPort = 2, kCount = 3, kItem = 4, kAddr = 5, kNotInTable = 9 };

constexpr std::array kTable{
    AttrSpec{kName, AttrKind::string, "T_NAME"}, AttrSpec{kPort, AttrKind::u16, "T_PORT"},
    AttrSpec{kCount, AttrKind::u64, "T_COUNT"},  AttrSpec{kItem, AttrKind::nested, "T_ITEM"},
    AttrSpec{kAddr, AttrKind::binary, "T_ADDR"},
};

constexpr std::array kItemTable{AttrSpec{1, AttrKind::u32, "ITEM_ID"}};

MessageBuilder message() {
    MessageBuilder b(0x20, 0, 1, 0);
    b.genl(1);
    return b;
}

std::string error_of(const MessageBuilder& b) {
    const auto bytes = b.build();
    try {
        static_cast<void>(AttrView::of_message(as_msg(bytes), kTable, "T reply"));
    } catch (const ProtocolError& e) {
        return e.what();
    }
    return "no error";
}

TEST(Attributes, ReadsKnownAttributesAndSkipsUnknownOnes) {
    auto b = message();
    b.str(kName, "pool-a").u16(kPort, 26656).u64(kCount, std::uint64_t{1} << 40);
    b.u32(kNotInTable, 7);  // a newer module's attribute
    const auto bytes = b.build();
    const AttrView view = AttrView::of_message(as_msg(bytes), kTable, "T reply");
    EXPECT_EQ(view.string(kName), "pool-a");
    EXPECT_EQ(view.u16(kPort), 26656);
    EXPECT_EQ(view.need_u64(kCount), std::uint64_t{1} << 40);
    EXPECT_EQ(view.get(kAddr), nullptr);
    EXPECT_TRUE(view.all(kItem).empty());
    EXPECT_EQ(view.what(), "T reply");
    EXPECT_EQ(view.name(kPort), "T_PORT");
    EXPECT_EQ(view.name(kNotInTable), "attribute 9");
}

TEST(Attributes, RepeatedAttributesKeepTheirOrderAndTheLastScalarWins) {
    auto b = message();
    b.u16(kPort, 1).u16(kPort, 2);
    for (std::uint32_t id : {30U, 10U, 20U}) {
        b.begin_nest(kItem).u32(1, id).end_nest();
    }
    const auto bytes = b.build();
    const AttrView view = AttrView::of_message(as_msg(bytes), kTable, "T reply");
    EXPECT_EQ(view.u16(kPort), 2);
    std::vector<std::uint32_t> ids;
    for (const nlattr* item : view.all(kItem)) {
        ids.push_back(AttrView::of_nest(*item, kItemTable, "T_ITEM").need_u32(1));
    }
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{30, 10, 20}));
}

TEST(Attributes, WrongLengthsAreNamedFromTheTable) {
    auto b = message();
    b.u32(kPort, 80);  // a u16 sent as a u32
    EXPECT_EQ(error_of(b), "protocol error: T_PORT: expected u16, got 4 bytes");
    auto c = message();
    c.u16(kCount, 1);
    EXPECT_EQ(error_of(c), "protocol error: T_COUNT: expected u64, got 2 bytes");
    auto d = message();
    const std::array<std::byte, 3> unterminated{std::byte{'a'}, std::byte{'b'}, std::byte{'c'}};
    d.attr(kName, unterminated);
    EXPECT_EQ(error_of(d), "protocol error: T_NAME: expected a NUL-terminated string");
    // An attribute the table does not know is never checked.
    auto e = message();
    e.u16(kNotInTable, 1);
    EXPECT_EQ(error_of(e), "no error");
}

TEST(Attributes, TruncatedAttributesAndTrailingBytesAreRefused) {
    auto b = message();
    const std::array<std::byte, 2> stray{};
    b.raw(stray);  // padded to 4 bytes: an attribute header of length 0
    EXPECT_EQ(error_of(b), "protocol error: T reply: attribute 0 has length 0, 4 bytes left");

    auto c = message();
    c.u16(kPort, 1);
    auto bytes = c.build();
    bytes[kNlmsgHdrLen + kGenlHdrLen] = std::byte{64};  // nla_len beyond the message
    EXPECT_THROW(static_cast<void>(AttrView::of_message(as_msg(bytes), kTable, "T reply")),
                 ProtocolError);

    MessageBuilder short_msg(0x20, 0, 1, 0);  // no genlmsghdr
    const auto bare = short_msg.build();
    try {
        static_cast<void>(AttrView::of_message(as_msg(bare), kTable, "T reply"));
        ADD_FAILURE() << "accepted a message without a genlmsghdr";
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "protocol error: T reply: message too short (16 bytes)");
    }
}

TEST(Attributes, MandatoryAttributesSayWhatLacksWhat) {
    const auto bytes = message().build();
    const AttrView view = AttrView::of_message(as_msg(bytes), kTable, "T reply");
    try {
        static_cast<void>(view.need_u16(kPort));
        ADD_FAILURE() << "no error for a missing attribute";
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "protocol error: T reply lacks T_PORT");
    }
    EXPECT_THROW(static_cast<void>(view.need(kAddr)), ProtocolError);
    EXPECT_THROW(static_cast<void>(view.need_string(kName)), ProtocolError);
}

TEST(Attributes, AskingForTheWrongKindIsABugNotAProtocolError) {
    auto b = message();
    b.u16(kPort, 1);
    const auto bytes = b.build();
    const AttrView view = AttrView::of_message(as_msg(bytes), kTable, "T reply");
    EXPECT_THROW(static_cast<void>(view.u32(kPort)), std::logic_error);
    EXPECT_THROW(static_cast<void>(view.u8(kNotInTable)), std::logic_error);
}

TEST(Attributes, AMalformedNestIsRefused) {
    auto b = message();
    b.begin_nest(kItem).u32(1, 5);
    auto bytes = b.end_nest().build();
    // Shrink the nest's inner attribute so it runs past the nest.
    bytes[kNlmsgHdrLen + kGenlHdrLen + kNlaHdrLen] = std::byte{12};
    const AttrView view = AttrView::of_message(as_msg(bytes), kTable, "T reply");
    EXPECT_THROW(static_cast<void>(AttrView::of_nest(view.need(kItem), kItemTable, "T_ITEM")),
                 ProtocolError);
}

TEST(Attributes, TheWriterRoundTripsThroughTheView) {
    RequestBuffer buffer;
    AttrWriter w(buffer.bytes, 0x20, 9, 3, 1);
    w.strz(kName, "x");
    w.u16(kPort, 443);
    w.u64(kCount, 5);
    const std::array<std::uint8_t, 4> addr{192, 0, 2, 1};
    w.bytes(kAddr, addr);
    nlattr* nest = w.nest(kItem);
    w.u32(1, 77);
    w.end(nest);
    const Message msg = w.message();
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg.data());
    EXPECT_EQ(nlh->nlmsg_len, msg.size());
    EXPECT_EQ(nlh->nlmsg_seq, 9U);
    EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    const AttrView view = AttrView::of_message(*nlh, kTable, "request");
    EXPECT_EQ(view.string(kName), "x");
    EXPECT_EQ(view.u16(kPort), 443);
    EXPECT_EQ(view.u64(kCount), 5U);
    EXPECT_EQ(view.need(kAddr).nla_len, kNlaHdrLen + 4);
    EXPECT_EQ(AttrView::of_nest(view.need(kItem), kItemTable, "T_ITEM").u32(1), 77U);
}

TEST(Attributes, TheWriterRefusesSmallAndMisalignedBuffers) {
    alignas(nlmsghdr) std::array<std::byte, 24> small{};
    AttrWriter w(small, 0x20, 1, 1, 1);
    EXPECT_THROW(w.u64(kCount, 1), std::length_error);
    alignas(nlmsghdr) std::array<std::byte, 8> tiny{};
    EXPECT_THROW(AttrWriter(tiny, 0x20, 1, 1, 1), std::length_error);
    RequestBuffer buffer;
    EXPECT_THROW(AttrWriter(MutableBuffer(buffer.bytes).subspan(1), 0x20, 1, 1, 1),
                 std::invalid_argument);
}

}  // namespace
}  // namespace mutex
