// SPDX-License-Identifier: GPL-2.0
// mutexctl upgrade: the order of the swap, what the new module is given, and what each failure
// leaves behind (nothing before the unload; the pin after it).
#include "mutexctl/upgrade.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "libmutex/config.hpp"
#include "libmutex/error.hpp"
#include "mutexctl/cli.hpp"
#include "mutexctl/fake_backend.hpp"

namespace mutexctl {
namespace {

/// Records every step; `fail_at` makes that step throw. Loading "replaces" the module: the fake
/// then answers as the new one (another version, generation 0, the adopted flows).
class FakeTools : public SystemTools {
public:
    explicit FakeTools(FakeBackend& module) : module_(module) {}

    void nft(const std::string& ruleset) override {
        const bool pin = ruleset == pin_ruleset();
        step(pin ? "pin" : ruleset == unpin_ruleset() ? "unpin" : "nft ?");
    }
    void unload() override {
        step("unload");
        loaded = false;
    }
    void load(const std::optional<std::string>& file) override {
        step(file ? "insmod " + *file : "modprobe");
        loaded = true;
        module_.info.version = "0.2.0";
        module_.info.api_version = 6;
        module_.info.params = {};
        module_.snapshot = {};
        module_.stats.flows_adopted = 3;
    }

    std::vector<std::string> steps;
    std::string fail_at;
    bool loaded = true;

private:
    void step(const std::string& name) {
        steps.push_back(name);
        if (name == fail_at) {
            throw std::runtime_error(name + " failed: as the test asked");
        }
    }
    FakeBackend& module_;
};

class Upgrade : public ::testing::Test {
protected:
    Upgrade() {
        fake_.info.version = "0.1.0";
        fake_.info.api_version = 5;
        fake_.info.params = {1, 8, 4096, 262144, 1};  // as the tuning policy left them
        fake_.snapshot.generation = 7;
        fake_.snapshot.config = mutex::config::parse(R"(
[[pool]]
name = "sentries"

  [[pool.backend]]
  address = "10.0.0.2"
  port = 26656

[[rule]]
protocol = "tcp"
destination = "10.255.0.1"
destination_ports = "26656"
out_interface = "eth0"
action = "dnat"
pool = "sentries"
)",
                                                     "mutexd.toml");
        fake_.interfaces = {{"eth0", 2}};
    }

    Outcome run(const std::vector<std::string>& args) {
        auto parsed = parse_args(args);
        if (auto* o = std::get_if<Outcome>(&parsed)) {
            return *o;
        }
        return execute(
            std::get<Invocation>(parsed),
            [this]() -> std::unique_ptr<Backend> {
                if (!tools_.loaded) {
                    throw mutex::FamilyNotFound("mutex_proxy");
                }
                return std::make_unique<ForwardBackend>(fake_);
            },
            [](const std::string& path) -> std::string { throw std::runtime_error(path); }, {}, {},
            &tools_);
    }

    FakeBackend fake_;
    FakeTools tools_{fake_};
};

TEST_F(Upgrade, PinsSwapsReappliesThenUnpins) {
    const auto old_config = fake_.snapshot.config;
    const auto old_params = fake_.info.params;
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(tools_.steps, (std::vector<std::string>{"pin", "unload", "modprobe", "unpin"}));
    ASSERT_TRUE(fake_.last_set);
    EXPECT_EQ(*fake_.last_set, old_params);  // the tuned values, not the new module's defaults
    ASSERT_TRUE(fake_.applied);
    EXPECT_EQ(*fake_.applied, old_config);
    EXPECT_EQ(fake_.applied_expected, 0U);  // the new module's generation
    EXPECT_EQ(fake_.applied_interfaces, (mutex::InterfaceIndexes{{"eth0", 2}}));
    EXPECT_EQ(o.out,
              "upgraded mutex_proxy 0.1.0 -> 0.2.0 (API 6): parameters and configuration (1 pools, "
              "1 rules) re-applied as generation 1, 3 steered connections adopted\n");
    EXPECT_TRUE(o.err.empty()) << o.err;
}

TEST_F(Upgrade, ModuleFileIsInsmodded) {
    const Outcome o = run({"upgrade", "--module", "/tmp/new/mutex_proxy.ko"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(tools_.steps, (std::vector<std::string>{"pin", "unload",
                                                      "insmod /tmp/new/mutex_proxy.ko", "unpin"}));
}

TEST_F(Upgrade, Json) {
    const Outcome o = run({"-j", "upgrade"});
    ASSERT_EQ(o.code, kExitOk) << o.err;
    const auto doc = nlohmann::json::parse(o.out);
    EXPECT_EQ(doc["from_version"], "0.1.0");
    EXPECT_EQ(doc["to_version"], "0.2.0");
    EXPECT_EQ(doc["generation"], 1);
    EXPECT_EQ(doc["flows_adopted"], 3);
    EXPECT_EQ(doc["rules"], 1);
}

TEST_F(Upgrade, NotLoadedTouchesNothing) {
    tools_.loaded = false;
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(tools_.steps.empty());
    EXPECT_NE(o.err.find("not loaded: nothing to upgrade"), std::string::npos) << o.err;
}

TEST_F(Upgrade, UnreadableConfigurationTouchesNothing) {
    fake_.fail = std::make_exception_ptr(mutex::NetlinkError(EPERM));
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(tools_.steps.empty());
    EXPECT_NE(o.err.find("reading the running module"), std::string::npos) << o.err;
}

TEST_F(Upgrade, PinFailureChangesNothing) {
    tools_.fail_at = "pin";
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(tools_.steps, (std::vector<std::string>{"pin"}));
    EXPECT_NE(o.err.find("pin failed"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("nothing changed"), std::string::npos) << o.err;
    EXPECT_FALSE(fake_.applied);
}

TEST_F(Upgrade, UnloadFailureRemovesThePin) {
    tools_.fail_at = "unload";
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(tools_.steps, (std::vector<std::string>{"pin", "unload", "unpin"}));
    EXPECT_NE(o.err.find("nothing changed"), std::string::npos) << o.err;
    EXPECT_FALSE(fake_.applied);
}

TEST_F(Upgrade, LoadFailureKeepsThePinAndSaysWhatIsLeft) {
    tools_.fail_at = "modprobe";
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(tools_.steps, (std::vector<std::string>{"pin", "unload", "modprobe"}));
    EXPECT_NE(o.err.find("loading the new module: modprobe failed"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("nft delete table inet mutex_proxy_upgrade"), std::string::npos) << o.err;
}

TEST_F(Upgrade, RefusedConfigurationKeepsThePin) {
    fake_.set_fail = std::make_exception_ptr(mutex::NetlinkError(EINVAL, "bad rule"));
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(tools_.steps, (std::vector<std::string>{"pin", "unload", "modprobe"}));
    EXPECT_NE(o.err.find("configuration"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("keeps the steered connections translated"), std::string::npos) << o.err;
}

TEST_F(Upgrade, UnpinFailureIsAnError) {
    tools_.fail_at = "unpin";
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_NE(o.out.find("3 steered connections adopted"), std::string::npos) << o.out;
    EXPECT_NE(o.err.find("removing the pin"), std::string::npos) << o.err;
}

TEST_F(Upgrade, MissingInterfaceKeepsThePin) {
    fake_.interfaces.clear();
    const Outcome o = run({"upgrade"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_NE(o.err.find("unknown interface 'eth0'"), std::string::npos) << o.err;
    EXPECT_EQ(tools_.steps.back(), "modprobe");
}

TEST_F(Upgrade, ModuleNeedsAFile) {
    const Outcome o = run({"upgrade", "--module", ""});
    EXPECT_EQ(o.code, kExitUsage);
    EXPECT_TRUE(tools_.steps.empty());
}

TEST_F(Upgrade, WithoutASwapItRefuses) {
    auto parsed = parse_args({"upgrade"});
    const Outcome o = execute(
        std::get<Invocation>(parsed), []() -> std::unique_ptr<Backend> { return nullptr; },
        [](const std::string& path) -> std::string { return path; });
    EXPECT_EQ(o.code, kExitFailure);
}

TEST(PinRuleset, HoldsANatChainOnEachHookOfBothFamilies) {
    const std::string pin = pin_ruleset();
    EXPECT_NE(pin.find("table inet mutex_proxy_upgrade {"), std::string::npos);
    for (const char* hook : {"prerouting", "output", "input", "postrouting"}) {
        EXPECT_NE(pin.find(std::string("type nat hook ") + hook + " priority"), std::string::npos)
            << hook;
    }
    // conntrack is held by a ct match (a nat chain alone holds only the NAT core's hooks)
    EXPECT_NE(pin.find("ct state new counter"), std::string::npos);
    EXPECT_EQ(pin.find("drop"), std::string::npos);  // the chains decide nothing
    EXPECT_EQ(unpin_ruleset(), "delete table inet mutex_proxy_upgrade\n");
}

}  // namespace
}  // namespace mutexctl
