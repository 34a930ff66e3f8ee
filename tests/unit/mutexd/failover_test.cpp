// SPDX-License-Identifier: GPL-2.0
// The failover decision: what a backend's health change asks of the kernel, for every
// on_backend_down and for backends the file holds down or drained.
#include "failover/failover.hpp"

#include <gtest/gtest.h>

namespace mutexd::failover {
namespace {

namespace cfg = mutex::config;
using health::Health;

cfg::Backend relay() {
    cfg::Backend b;
    b.address = cfg::parse_address("10.0.0.2");
    b.port = 8000;
    return b;
}

cfg::PoolPolicy policy(cfg::OnBackendDown on_down) {
    cfg::PoolPolicy p;
    p.on_backend_down = on_down;
    return p;
}

TEST(Failover, DownEndsFlowsAsThePoolSays) {
    struct Row {
        cfg::OnBackendDown on_down = cfg::OnBackendDown::keep;
        std::optional<cfg::Protocol> ends;
    };
    for (const Row& row : {Row{cfg::OnBackendDown::keep, std::nullopt},
                           Row{cfg::OnBackendDown::reset_udp, cfg::Protocol::udp},
                           Row{cfg::OnBackendDown::reset_all, cfg::Protocol::any}}) {
        const auto action = decide("relays", relay(), policy(row.on_down), Health::down);
        ASSERT_TRUE(action);
        EXPECT_EQ(action->change.backend.pool, "relays");
        EXPECT_EQ(action->change.backend.address, relay().address);
        EXPECT_EQ(action->change.backend.port, 8000);
        EXPECT_EQ(action->change.state, cfg::BackendState::down);
        EXPECT_FALSE(action->change.weight);
        EXPECT_EQ(action->end_flows, row.ends);
    }
}

TEST(Failover, UpEndsNothing) {
    const auto action =
        decide("relays", relay(), policy(cfg::OnBackendDown::reset_all), Health::up);
    ASSERT_TRUE(action);
    EXPECT_EQ(action->change.state, cfg::BackendState::up);
    EXPECT_FALSE(action->end_flows);
}

TEST(Failover, TheFilesStateWinsOverHealth) {
    for (const auto state : {cfg::BackendState::down, cfg::BackendState::drain}) {
        cfg::Backend b = relay();
        b.state = state;
        EXPECT_FALSE(decide("relays", b, policy(cfg::OnBackendDown::reset_udp), Health::down));
        EXPECT_FALSE(decide("relays", b, policy(cfg::OnBackendDown::reset_udp), Health::up));
        EXPECT_EQ(effective_state(state, Health::up), state);
        EXPECT_EQ(effective_state(state, Health::down), state);
    }
    EXPECT_EQ(effective_state(cfg::BackendState::up, Health::down), cfg::BackendState::down);
    EXPECT_EQ(effective_state(cfg::BackendState::up, Health::up), cfg::BackendState::up);
}

TEST(Failover, ALocalBackendIsNamedByItsPort) {
    cfg::Backend local;
    local.port = 1080;
    const auto action = decide("proxy", local, policy(cfg::OnBackendDown::reset_udp), Health::down);
    ASSERT_TRUE(action);
    EXPECT_FALSE(action->change.backend.address);
    EXPECT_EQ(action->change.backend.port, 1080);
}

}  // namespace
}  // namespace mutexd::failover
