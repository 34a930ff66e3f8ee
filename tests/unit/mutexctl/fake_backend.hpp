// SPDX-License-Identifier: GPL-2.0
// A fake module for mutexctl's tests: FakeBackend answers from its members and records what it
// was asked; ForwardBackend hands it out as many times as a command connects.
#pragma once

#include <cerrno>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"
#include "libmutex/error.hpp"
#include "mutexctl/cli.hpp"

namespace mutexctl {

class FakeBackend : public Backend {
public:
    mutex::Info info;
    mutex::Stats stats;
    std::optional<mutex::Params> last_set;
    std::exception_ptr fail;  // thrown by every call when set
    std::string warn;

    mutex::Info get_info() override {
        maybe_fail();
        return info;
    }
    mutex::Stats get_stats() override {
        maybe_fail();
        return stats;
    }
    mutex::Params set_params(const mutex::Params& params) override {
        last_set = params;
        maybe_fail();
        mutex::Params after = info.params;
        for (const auto& f : mutex::kParamFields) {
            if (params.*f.member) {
                after.*f.member = params.*f.member;
            }
        }
        return after;
    }
    mutex::ConfigSnapshot get_config() override {
        ++get_configs;
        maybe_fail();
        return snapshot;
    }
    std::uint64_t set_config(const mutex::config::Config& config, std::uint64_t expected,
                             const mutex::InterfaceIndexes& resolved) override {
        applied = config;
        applied_expected = expected;
        applied_interfaces = resolved;
        if (set_fail) {
            std::rethrow_exception(set_fail);
        }
        return expected + 1;
    }
    mutex::FlowDump get_flows() override {
        maybe_fail();
        return flow_dump;
    }
    std::uint64_t flush_flows() override {
        ++flushes;
        maybe_fail();
        return flushed;
    }
    mutex::Flow origdst(const mutex::FlowKey& key) override {
        asked = key;
        maybe_fail();
        return origdst_answer;
    }
    std::uint64_t set_backend(const mutex::BackendChange& change) override {
        changed = change;
        maybe_fail();
        return 5;
    }
    std::uint64_t end_flows(const mutex::BackendRef& backend,
                            mutex::config::Protocol protocol) override {
        ended = {backend, protocol};
        maybe_fail();
        return 3;
    }
    void follow_events(const std::function<bool(const std::vector<mutex::Event>&)>& on_events,
                       std::chrono::milliseconds quiet, bool flows) override {
        followed_quiet = quiet;
        followed_flows = flows;
        maybe_fail();
        for (const auto& message : event_messages) {
            if (!on_events(message)) {
                return;
            }
        }
        throw mutex::NetlinkError(ETIMEDOUT);
    }
    [[nodiscard]] std::optional<std::uint32_t> interface_index(
        const std::string& name) const override {
        const auto it = interfaces.find(name);
        return it == interfaces.end() ? std::nullopt : std::optional<std::uint32_t>(it->second);
    }
    [[nodiscard]] std::string warning() const override { return warn; }

    mutex::ConfigSnapshot snapshot;                   // what get_config answers
    std::map<std::string, std::uint32_t> interfaces;  // what interface_index knows
    std::exception_ptr set_fail;                      // thrown by set_config when set
    std::optional<mutex::config::Config> applied;
    std::uint64_t applied_expected = 0;
    mutex::InterfaceIndexes applied_interfaces;
    int get_configs = 0;
    mutex::FlowDump flow_dump;  // what get_flows answers
    std::uint64_t flushed = 0;  // what flush_flows answers
    int flushes = 0;
    std::optional<mutex::FlowKey> asked;          // the last origdst key
    mutex::Flow origdst_answer;                   // what origdst answers
    std::optional<mutex::BackendChange> changed;  // the last set_backend
    std::optional<std::pair<mutex::BackendRef, mutex::config::Protocol>> ended;
    std::vector<std::vector<mutex::Event>> event_messages;  // what follow_events delivers
    std::chrono::milliseconds followed_quiet{};
    bool followed_flows = false;

private:
    void maybe_fail() const {
        if (fail) {
            std::rethrow_exception(fail);
        }
    }
};

// The fake outlives every Backend execute() creates.
class ForwardBackend : public Backend {
public:
    explicit ForwardBackend(FakeBackend& fake) : fake_(fake) {}
    mutex::Info get_info() override { return fake_.get_info(); }
    mutex::Stats get_stats() override { return fake_.get_stats(); }
    mutex::Params set_params(const mutex::Params& p) override { return fake_.set_params(p); }
    mutex::ConfigSnapshot get_config() override { return fake_.get_config(); }
    std::uint64_t set_config(const mutex::config::Config& c, std::uint64_t g,
                             const mutex::InterfaceIndexes& i) override {
        return fake_.set_config(c, g, i);
    }
    mutex::FlowDump get_flows() override { return fake_.get_flows(); }
    std::uint64_t flush_flows() override { return fake_.flush_flows(); }
    mutex::Flow origdst(const mutex::FlowKey& key) override { return fake_.origdst(key); }
    std::uint64_t set_backend(const mutex::BackendChange& c) override {
        return fake_.set_backend(c);
    }
    std::uint64_t end_flows(const mutex::BackendRef& b, mutex::config::Protocol p) override {
        return fake_.end_flows(b, p);
    }
    void follow_events(const std::function<bool(const std::vector<mutex::Event>&)>& f,
                       std::chrono::milliseconds quiet, bool flows) override {
        fake_.follow_events(f, quiet, flows);
    }
    [[nodiscard]] std::optional<std::uint32_t> interface_index(
        const std::string& name) const override {
        return fake_.interface_index(name);
    }
    [[nodiscard]] std::string warning() const override { return fake_.warning(); }

private:
    FakeBackend& fake_;
};

}  // namespace mutexctl
