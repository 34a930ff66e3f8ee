// SPDX-License-Identifier: GPL-2.0
// The boot guard: the table it builds from a configuration (first match decides, as in the
// module; owner and interface matches where they apply; the closed side where nftables cannot
// say a match at boot), and `mutexctl guard install | show | remove`.
#include "mutexctl/guard.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "libmutex/config.hpp"
#include "libmutex/error.hpp"
#include "mutexctl/cli.hpp"
#include "mutexctl/fake_backend.hpp"

namespace mutexctl {
namespace {

namespace cfg = mutex::config;

constexpr std::string_view kPools = R"(
[[pool]]
name = "sentries"
failure_mode = "closed"
  [[pool.backend]]
  address = "10.20.0.11"
  port = 26656

[[pool]]
name = "relays"
failure_mode = "open"
  [[pool.backend]]
  address = "10.20.0.21"
  port = 30303
)";

cfg::Config parse(std::string_view rules) {
    return cfg::parse(std::string(kPools) + std::string(rules), "mutexd.toml");
}

/// The rule lines of `chain` in `text`.
std::vector<std::string> chain_rules(const std::string& text, std::string_view chain) {
    std::vector<std::string> out;
    const auto start = text.find("\tchain " + std::string(chain) + " {");
    EXPECT_NE(start, std::string::npos) << text;
    auto pos = text.find('\n', text.find("policy accept;", start)) + 1;
    for (;;) {
        const auto end = text.find('\n', pos);
        const std::string line = text.substr(pos, end - pos);
        if (line == "\t}") {
            return out;
        }
        out.push_back(line.substr(2));
        pos = end + 1;
    }
}

TEST(GuardRuleset, ClosedPoolsDropOpenPoolsAcceptInOrder) {
    const auto config = parse(R"(
[[rule]]
name = "lan"
destination = "10.0.0.0/8"
action = "bypass"

[[rule]]
name = "cosmos"
protocol = "tcp"
destination = "10.255.0.1"
destination_ports = "26656"
action = "dnat"
pool = "sentries"

[[rule]]
protocol = "udp"
destination = "0.0.0.0/0"
destination_ports = "30303-30310"
action = "dnat"
pool = "relays"

[[rule]]
destination = "2001:db8::/32"
action = "drop"

[[rule]]
protocol = "tcp"
destination_ports = "8545"
action = "redirect"
to_port = 1080
)");
    const GuardRuleset g = guard_ruleset(config, cfg::GuardMode::closed);
    const std::vector<std::string> want{
        R"(ip daddr 10.0.0.0/8 meta l4proto tcp accept comment "rule 1 lan")",
        R"(ip daddr 10.0.0.0/8 meta l4proto udp accept comment "rule 1 lan")",
        R"(ip daddr 10.255.0.1/32 meta l4proto tcp th dport 26656 counter drop comment "rule 2 cosmos")",
        R"(ip daddr 0.0.0.0/0 meta l4proto udp th dport 30303-30310 accept comment "rule 3")",
        R"(ip6 daddr 2001:db8::/32 meta l4proto tcp counter drop comment "rule 4")",
        R"(ip6 daddr 2001:db8::/32 meta l4proto udp counter drop comment "rule 4")",
        R"(meta l4proto tcp th dport 8545 accept comment "rule 5")",
    };
    EXPECT_EQ(chain_rules(g.text, "output"), want);
    EXPECT_EQ(chain_rules(g.text, "forward"), want);
    EXPECT_EQ(g.dropping, 6U);  // per chain; a rule for TCP and UDP is two (no anonymous set)
    EXPECT_EQ(g.accepting, 8U);
    EXPECT_EQ(g.text.find("{ tcp"), std::string::npos);
    // one nft transaction that replaces an earlier table
    EXPECT_NE(g.text.find("table inet mutex_proxy_guard {}\ndelete table inet mutex_proxy_guard\n"
                          "table inet mutex_proxy_guard {\n"),
              std::string::npos)
        << g.text;

    const GuardRuleset all = guard_ruleset(config, cfg::GuardMode::all);
    const auto rules = chain_rules(all.text, "output");
    EXPECT_EQ(
        rules[3],
        R"(ip daddr 0.0.0.0/0 meta l4proto udp th dport 30303-30310 counter drop comment "rule 3")");
    EXPECT_EQ(rules[6], R"(meta l4proto tcp th dport 8545 counter drop comment "rule 5")");
    EXPECT_EQ(rules[0], want[0]);  // a bypass still accepts
}

TEST(GuardRuleset, OwnerAndInterfaceMatchesWhereTheyApply) {
    const auto config = parse(R"(
[[rule]]
uid = "990"
action = "bypass"

[[rule]]
gid = "100-200"
destination = "0.0.0.0/0"
source_ports = "1000-2000"
mark = "0x10/0xff"
out_interface = "eth0"
action = "dnat"
pool = "sentries"

[[rule]]
in_interface = "docker0"
source = "172.17.0.0/16"
action = "dnat"
pool = "sentries"
)");
    const GuardRuleset g = guard_ruleset(config, cfg::GuardMode::closed);
    EXPECT_EQ(chain_rules(g.text, "output"),
              (std::vector<std::string>{
                  R"(meta l4proto tcp meta skuid 990 accept comment "rule 1")",
                  R"(meta l4proto udp meta skuid 990 accept comment "rule 1")",
                  R"(ip daddr 0.0.0.0/0 meta l4proto tcp th sport 1000-2000 meta skgid )"
                  R"(100-200 meta mark and 255 == 16 oifname "eth0" counter drop comment "rule 2")",
                  R"(ip daddr 0.0.0.0/0 meta l4proto udp th sport 1000-2000 meta skgid )"
                  R"(100-200 meta mark and 255 == 16 oifname "eth0" counter drop comment "rule 2")",
              }));
    EXPECT_EQ(chain_rules(g.text, "forward"),
              (std::vector<std::string>{
                  R"(ip saddr 172.17.0.0/16 meta l4proto tcp iifname "docker0" counter drop )"
                  R"(comment "rule 3")",
                  R"(ip saddr 172.17.0.0/16 meta l4proto udp iifname "docker0" counter drop )"
                  R"(comment "rule 3")",
              }));
}

TEST(GuardRuleset, ACgroupErrsOnTheClosedSide) {
    const auto config = parse(R"(
[[rule]]
cgroup = "/system.slice/proxy.service"
action = "bypass"

[[rule]]
cgroup = "/system.slice/validator.service"
destination = "0.0.0.0/0"
protocol = "tcp"
destination_ports = "26656"
action = "dnat"
pool = "sentries"
)");
    const GuardRuleset g = guard_ruleset(config, cfg::GuardMode::closed);
    // the accepting rule is left out (accept less), the dropping one drops for every cgroup
    EXPECT_EQ(chain_rules(g.text, "output"),
              (std::vector<std::string>{R"x(ip daddr 0.0.0.0/0 meta l4proto tcp th dport 26656 )x"
                                        R"x(counter drop comment )x"
                                        R"x("rule 2 (any cgroup)")x"}));
    EXPECT_TRUE(chain_rules(g.text, "forward").empty());
    EXPECT_EQ(g.text.find("cgroupv2"), std::string::npos);
}

TEST(GuardRuleset, NamesAreQuotedForNft) {
    const auto config = parse(R"(
[[rule]]
name = "say \"hi\""
destination = "0.0.0.0/0"
action = "dnat"
pool = "sentries"
)");
    EXPECT_NE(
        guard_ruleset(config, cfg::GuardMode::closed).text.find(R"(comment "rule 1 say \"hi\"")"),
        std::string::npos);
}

TEST(GuardRuleset, RemoveIsIdempotent) {
    EXPECT_EQ(guard_remove_ruleset(),
              "table inet mutex_proxy_guard {}\ndelete table inet mutex_proxy_guard\n");
}

/// Records what nft was given.
class NftRecorder : public SystemTools {
public:
    void nft(const std::string& ruleset) override {
        if (fail) {
            throw std::runtime_error("nft -f - exited with 1: Error: No such file or directory");
        }
        rulesets.push_back(ruleset);
    }
    void unload() override { throw std::logic_error("guard unloads nothing"); }
    void load(const std::optional<std::string>& /*file*/) override {
        throw std::logic_error("guard loads nothing");
    }
    std::vector<std::string> rulesets;
    bool fail = false;
};

class GuardCommand : public ::testing::Test {
protected:
    Outcome run(const std::vector<std::string>& args) {
        auto parsed = parse_args(args);
        if (auto* o = std::get_if<Outcome>(&parsed)) {
            return *o;
        }
        return execute(
            std::get<Invocation>(parsed),
            [this]() -> std::unique_ptr<Backend> {
                if (!loaded_) {
                    throw mutex::FamilyNotFound("mutex_proxy");
                }
                return std::make_unique<ForwardBackend>(fake_);
            },
            [this](const std::string& path) -> std::string {
                read_.push_back(path);
                if (path != "/etc/mutex_proxy/mutexd.toml" && path != "other.toml") {
                    throw std::system_error(ENOENT, std::generic_category(), path);
                }
                return file_;
            },
            {}, {}, &nft_);
    }

    std::string file_ = std::string(kPools) + R"(
[[rule]]
protocol = "tcp"
destination = "10.255.0.1"
destination_ports = "26656"
action = "dnat"
pool = "sentries"
)";
    bool loaded_ = true;
    FakeBackend fake_;
    NftRecorder nft_;
    std::vector<std::string> read_;
};

TEST_F(GuardCommand, InstallLoadsTheTableOfTheDefaultFile) {
    const Outcome o = run({"guard", "install"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(read_, (std::vector<std::string>{"/etc/mutex_proxy/mutexd.toml"}));
    ASSERT_EQ(nft_.rulesets.size(), 1U);
    EXPECT_EQ(nft_.rulesets[0], guard_ruleset(cfg::parse(file_, "x"), cfg::GuardMode::closed).text);
    EXPECT_EQ(o.out,
              "guard: table inet mutex_proxy_guard from /etc/mutex_proxy/mutexd.toml: 2 rules "
              "drop, 0 accept, until mutexd has applied the configuration\n");
    EXPECT_TRUE(o.err.empty()) << o.err;
}

TEST_F(GuardCommand, InstallSaysWhyWhenTheModuleIsMissing) {
    loaded_ = false;
    const Outcome o = run({"guard", "install", "--config", "other.toml"});
    EXPECT_EQ(o.code, kExitOk);  // the guard is in place: that is the unit's success
    EXPECT_EQ(nft_.rulesets.size(), 1U);
    EXPECT_NE(o.err.find("the mutex_proxy module is not loaded: the guard stays"),
              std::string::npos)
        << o.err;
    EXPECT_NE(o.err.find("dkms status mutex_proxy"), std::string::npos) << o.err;
}

TEST_F(GuardCommand, ABadFileLoadsNothing) {
    file_ += "[[rule]]\naction = \"dnat\"\npool = \"nowhere\"\n";
    const Outcome o = run({"guard", "install"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(nft_.rulesets.empty());
    EXPECT_NE(o.err.find("/etc/mutex_proxy/mutexd.toml:"), std::string::npos) << o.err;
    const Outcome missing = run({"guard", "install", "--config", "/nonexistent.toml"});
    EXPECT_EQ(missing.code, kExitFailure);
    EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
    EXPECT_TRUE(nft_.rulesets.empty());
}

TEST_F(GuardCommand, OffRemovesAndLoadsNothing) {
    file_ = "[daemon]\nguard = \"off\"\n" + file_;
    const Outcome o = run({"guard", "install"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(nft_.rulesets, (std::vector<std::string>{guard_remove_ruleset()}));
    EXPECT_NE(o.out.find("off"), std::string::npos);
}

TEST_F(GuardCommand, AllModeFromTheFile) {
    file_ = "[daemon]\nguard = \"all\"\n" + file_;
    const Outcome o = run({"guard", "show"});
    EXPECT_EQ(o.out, guard_ruleset(cfg::parse(file_, "x"), cfg::GuardMode::all).text);
    EXPECT_TRUE(nft_.rulesets.empty());  // show loads nothing
}

TEST_F(GuardCommand, RemoveAndItsFailure) {
    EXPECT_EQ(run({"guard", "remove"}).code, kExitOk);
    EXPECT_EQ(nft_.rulesets, (std::vector<std::string>{guard_remove_ruleset()}));
    nft_.fail = true;
    const Outcome o = run({"guard", "remove"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_NE(o.err.find("mutexctl: guard remove: nft -f - exited with 1"), std::string::npos)
        << o.err;
}

TEST_F(GuardCommand, Usage) {
    EXPECT_EQ(run({"guard"}).code, kExitUsage);
    EXPECT_EQ(run({"guard", "install", "--config", ""}).code, kExitUsage);
    EXPECT_EQ(run({"guard", "remove", "--config", "x"}).code, kExitUsage);
}

TEST(GuardMode, ParsedFromTheDaemonSection) {
    const auto file = cfg::parse_file("[daemon]\nguard = \"all\"\n", "m.toml");
    EXPECT_EQ(file.daemon.daemon.guard, cfg::GuardMode::all);
    EXPECT_EQ(cfg::parse_file("", "m.toml").daemon.daemon.guard, cfg::GuardMode::closed);
    EXPECT_THROW(cfg::parse_file("[daemon]\nguard = \"sometimes\"\n", "m.toml"), cfg::ConfigError);
}

}  // namespace
}  // namespace mutexctl
