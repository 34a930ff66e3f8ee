// SPDX-License-Identifier: GPL-2.0
// mutexctl: command-line tool for the mutex_proxy kernel module (see cli.hpp).
#include <net/if.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "libmutex/client.hpp"
#include "mutexctl/cli.hpp"

namespace {

class ClientBackend final : public mutexctl::Backend {
public:
    mutex::Info get_info() override { return client_.get_info(); }
    mutex::Stats get_stats() override { return client_.get_stats(); }
    mutex::Params set_params(const mutex::Params& params) override {
        return client_.set_params(params);
    }
    mutex::ConfigSnapshot get_config() override {
        return client_.get_config([](std::uint32_t index) -> std::optional<std::string> {
            std::array<char, IF_NAMESIZE> name{};
            if (::if_indextoname(index, name.data()) == nullptr) {
                return std::nullopt;
            }
            return std::string(name.data());
        });
    }
    std::uint64_t set_config(const mutex::config::Config& config, std::uint64_t expected_generation,
                             const mutex::InterfaceIndexes& interfaces) override {
        return client_.apply(config, expected_generation, interfaces);
    }
    mutex::FlowDump get_flows() override { return client_.flows(); }
    std::uint64_t flush_flows() override { return client_.flush_flows(); }
    mutex::Flow origdst(const mutex::FlowKey& key) override { return client_.origdst(key); }
    std::uint64_t set_backend(const mutex::BackendChange& change) override {
        return client_.set_backend(change);
    }
    std::uint64_t end_flows(const mutex::BackendRef& backend,
                            mutex::config::Protocol protocol) override {
        return client_.end_flows(backend, protocol);
    }
    void follow_events(const std::function<bool(const std::vector<mutex::Event>&)>& on_events,
                       std::chrono::milliseconds quiet, bool flows) override {
        mutex::EventListener listener(flows);
        while (on_events(listener.receive(quiet))) {
        }
    }
    [[nodiscard]] std::optional<std::uint32_t> interface_index(
        const std::string& name) const override {
        const unsigned int index = ::if_nametoindex(name.c_str());
        if (index == 0) {
            return std::nullopt;
        }
        return index;
    }
    [[nodiscard]] std::string warning() const override { return client_.warning(); }

private:
    mutex::Client client_;
};

/// mutexctl::ReadFile: the only file access of mutexctl.
std::string read_file(const std::string& path) {
    const auto fail = [&path](int err) {
        return std::system_error(err, std::generic_category(), path);
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw fail(EISDIR);
    }
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw fail(errno != 0 ? errno : EIO);
    }
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) {
        throw fail(EIO);
    }
    return text;
}

int finish(const mutexctl::Outcome& outcome) {
    std::cout << outcome.out << std::flush;
    std::cerr << outcome.err << std::flush;
    return outcome.code;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::span<char*> all(argv, static_cast<std::size_t>(argc));
        const std::vector<std::string> args(all.begin() + (all.empty() ? 0 : 1), all.end());
        auto parsed = mutexctl::parse_args(args);
        if (const auto* outcome = std::get_if<mutexctl::Outcome>(&parsed)) {
            return finish(*outcome);
        }
        return finish(mutexctl::execute(
            std::get<mutexctl::Invocation>(parsed),
            [] { return std::make_unique<ClientBackend>(); }, read_file,
            [](const std::string& text) { std::cout << text << std::flush; }));
    } catch (const std::exception& e) {
        std::cerr << "mutexctl: " << e.what() << '\n';
        return mutexctl::kExitFailure;
    }
}
