// SPDX-License-Identifier: GPL-2.0
// Interface names in rules resolved to indexes: a missing interface is MUTEX_IFINDEX_NONE (its
// rules stay and match nothing), renames and re-creations show as index changes, and the
// kernel's copy, read back without names, compares equal to the file's only with the same
// indexes.
#include "interfaces/resolve.hpp"

#include <gtest/gtest.h>
#include <linux/mutex_proxy.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmutex/codec.hpp"
#include "test_helpers.hpp"

namespace mutexd::interfaces {
namespace {

namespace cfg = mutex::config;

cfg::Config rules() {
    return cfg::parse(R"(
[[rule]]
name = "out-wg"
destination = "0.0.0.0/0"
out_interface = "wg0"
action = "redirect"
to_port = 1080
[[rule]]
name = "in-lan"
destination = "0.0.0.0/0"
in_interface = "lan0"
action = "redirect"
to_port = 1081
[[rule]]
name = "out-wg-again"
protocol = "udp"
destination = "0.0.0.0/0"
out_interface = "wg0"
action = "redirect"
to_port = 1082
)",
                      "t.toml");
}

Lookup links(std::map<std::string, std::uint32_t, std::less<>> table) {
    return [table = std::move(table)](std::string_view name) -> std::optional<std::uint32_t> {
        const auto it = table.find(name);
        if (it == table.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

TEST(Interfaces, EachNameOnceWithItsIndex) {
    const auto got = resolve(rules(), links({{"wg0", 7}, {"lan0", 3}, {"eth0", 2}}));
    EXPECT_EQ(got, (mutex::InterfaceIndexes{{"lan0", 3}, {"wg0", 7}}));
    EXPECT_TRUE(missing(got).empty());
}

TEST(Interfaces, MissingNameIsNoIndex) {
    const auto got = resolve(rules(), links({{"lan0", 3}}));
    EXPECT_EQ(got.at("wg0"), MUTEX_IFINDEX_NONE);
    EXPECT_EQ(missing(got), std::vector<std::string>{"wg0"});
}

TEST(Interfaces, NoRulesWithInterfacesNeedNoLinks) {
    const auto got = resolve(cfg::Config{}, [](std::string_view) -> std::optional<std::uint32_t> {
        ADD_FAILURE() << "looked up";
        return std::nullopt;
    });
    EXPECT_TRUE(got.empty());
}

TEST(Interfaces, RenameRemovalAndRecreationAreChanges) {
    const auto before = resolve(rules(), links({{"wg0", 7}, {"lan0", 3}}));
    // wg0 renamed to wg-old: the name now has no interface
    const auto renamed = resolve(rules(), links({{"wg-old", 7}, {"lan0", 3}}));
    EXPECT_EQ(changes(before, renamed), std::vector<std::string>{"wg0: 7 -> none"});
    // the renamed one removed: nothing the rules name changed
    const auto removed = resolve(rules(), links({{"lan0", 3}}));
    EXPECT_TRUE(changes(renamed, removed).empty());
    // created again under its name, with a new index; lan0 re-created too
    const auto again = resolve(rules(), links({{"wg0", 9}, {"lan0", 10}}));
    EXPECT_EQ(changes(removed, again),
              (std::vector<std::string>{"lan0: 3 -> 10", "wg0: none -> 9"}));
    EXPECT_TRUE(changes(again, again).empty());
}

TEST(Interfaces, MissingInterfaceIsSentAsNoIndex) {
    const cfg::Config config = rules();
    const auto indexes = resolve(config, links({{"lan0", 3}}));
    const auto msg = mutex::encode_set_config(0x20, 1, config, 0, indexes);
    const mutex::test::Bytes copy(msg.begin(), msg.end());
    const auto back = mutex::decode_config(mutex::test::as_msg(copy), {});
    EXPECT_EQ(back.config.rules[0].out_interface, std::to_string(MUTEX_IFINDEX_NONE));
    EXPECT_EQ(back.config.rules[1].in_interface, "3");
}

TEST(Interfaces, KernelCopyComparesByIndex) {
    const cfg::Config config = rules();
    const auto indexes = resolve(config, links({{"wg0", 7}, {"lan0", 3}}));
    const auto msg = mutex::encode_set_config(0x20, 1, config, 0, indexes);
    const mutex::test::Bytes copy(msg.begin(), msg.end());
    const cfg::Config kernel = mutex::decode_config(mutex::test::as_msg(copy), {}).config;
    EXPECT_EQ(by_index(config, indexes), kernel);
    // the same names, but wg0 is another interface now: not the kernel's configuration
    const auto recreated = resolve(config, links({{"wg0", 9}, {"lan0", 3}}));
    EXPECT_NE(by_index(config, recreated), kernel);
    // a missing interface compares as no index, so a restart finds its own configuration
    const auto gone = resolve(config, links({{"lan0", 3}}));
    const auto msg2 = mutex::encode_set_config(0x20, 1, config, 0, gone);
    const mutex::test::Bytes copy2(msg2.begin(), msg2.end());
    EXPECT_EQ(by_index(config, gone), mutex::decode_config(mutex::test::as_msg(copy2), {}).config);
}

}  // namespace
}  // namespace mutexd::interfaces
