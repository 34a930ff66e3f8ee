// SPDX-License-Identifier: GPL-2.0
// What mutexd pushes and whether the kernel already holds it: backend states as health sets them,
// and a takeover that recognises its own configuration whatever health did to it.
#include "config/takeover.hpp"

#include <gtest/gtest.h>

namespace mutexd::config {
namespace {

namespace cfg = mutex::config;
using health::Health;

cfg::Config two_pools() {
    return cfg::parse(R"(
[[pool]]
name = "sentries"
  [[pool.backend]]
  address = "10.0.0.2"
  port = 26656
  [[pool.backend]]
  address = "10.0.0.3"
  port = 26656
  state = "drain"
[[pool]]
name = "relays"
  [[pool.backend]]
  address = "10.0.1.2"
  port = 8000
[[rule]]
destination = "0.0.0.0/0"
destination_ports = "26656"
action = "dnat"
pool = "sentries"
)",
                      "t.toml");
}

TEST(Takeover, DesiredSetsHealthOnlyWhereTheFileSaysUp) {
    const cfg::Config file = two_pools();
    const HealthTable health{{Health::down, Health::down}, {Health::up}};
    const cfg::Config out = desired(file, health);
    EXPECT_EQ(out.pools[0].backends[0].state, cfg::BackendState::down);
    EXPECT_EQ(out.pools[0].backends[1].state, cfg::BackendState::drain);  // the file's
    EXPECT_EQ(out.pools[1].backends[0].state, cfg::BackendState::up);
    EXPECT_EQ(desired(file, all_up(file)), file);
    EXPECT_EQ(desired(file, {}), file);  // missing entries count as up
}

TEST(Takeover, TheKernelsCopyIsTheSameButForHealth) {
    const cfg::Config file = two_pools();
    cfg::Config kernel = desired(file, {{Health::down, Health::up}, {Health::down}});
    EXPECT_TRUE(same_but_health(file, kernel));
    EXPECT_EQ(health_from(file, kernel), (HealthTable{{Health::down, Health::up}, {Health::down}}));
    EXPECT_TRUE(same_but_health(file, file));
    EXPECT_EQ(health_from(file, file), all_up(file));
}

TEST(Takeover, AnyOtherDifferenceIsAnotherConfiguration) {
    const cfg::Config file = two_pools();
    cfg::Config kernel = file;
    kernel.pools[0].backends[1].state = cfg::BackendState::up;  // the file drains it
    EXPECT_FALSE(same_but_health(file, kernel));
    kernel = file;
    kernel.pools[0].backends[0].weight = 2;
    EXPECT_FALSE(same_but_health(file, kernel));
    kernel = file;
    kernel.pools[1].backends.pop_back();
    EXPECT_FALSE(same_but_health(file, kernel));
    kernel = file;
    kernel.pools.pop_back();
    EXPECT_FALSE(same_but_health(file, kernel));
    kernel = file;
    kernel.rules.clear();
    EXPECT_FALSE(same_but_health(file, kernel));
    EXPECT_FALSE(same_but_health(file, cfg::Config{}));
}

}  // namespace
}  // namespace mutexd::config
