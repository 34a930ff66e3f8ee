// SPDX-License-Identifier: GPL-2.0
// Which checks the file asks for: targets, overrides, timing, pools that are not checked.
#include "health/check_plan.hpp"

#include <gtest/gtest.h>

namespace mutexd::health {
namespace {

namespace cfg = mutex::config;

TEST(CheckPlan, TargetsTimingAndOverrides) {
    const cfg::File file = cfg::parse_file(R"(
[[pool]]
name = "proxy"
check = "tcp"
check_interval = "500ms"
check_timeout = "200ms"
rise = 3
fall = 2
  [[pool.backend]]
  port = 1080
  check_address = "198.51.100.7"
  check_port = 1081
  [[pool.backend]]
  port = 1090
[[pool]]
name = "relays"
check = "udp"
  [[pool.backend]]
  address = "10.0.1.2"
  port = 8000
[[pool]]
name = "unchecked"
check = "none"
  [[pool.backend]]
  address = "10.0.2.2"
  port = 8000
)",
                                           "t.toml");
    const auto plan = plan_checks(file, {{Health::up, Health::down}});
    ASSERT_EQ(plan.size(), 3U);
    EXPECT_EQ(cfg::to_string(plan[0].address), "198.51.100.7");
    EXPECT_EQ(plan[0].port, 1081);
    EXPECT_EQ(plan[0].interval, std::chrono::milliseconds(500));
    EXPECT_EQ(plan[0].timeout, std::chrono::milliseconds(200));
    EXPECT_EQ(plan[0].rules.rise, 3U);
    EXPECT_EQ(plan[0].rules.fall, 2U);
    EXPECT_EQ(plan[0].type, cfg::CheckType::tcp);
    EXPECT_EQ(cfg::to_string(plan[1].address), "127.0.0.1");  // a local port
    EXPECT_EQ(plan[1].port, 1090);
    EXPECT_EQ(plan[1].initial, Health::down);
    EXPECT_EQ(plan[2].pool, 1U);
    EXPECT_EQ(plan[2].backend, 0U);
    EXPECT_EQ(plan[2].type, cfg::CheckType::udp);
    EXPECT_EQ(cfg::to_string(plan[2].address), "10.0.1.2");
    EXPECT_EQ(plan[2].initial, Health::up);  // no entry: up
}

}  // namespace
}  // namespace mutexd::health
