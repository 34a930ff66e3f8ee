// SPDX-License-Identifier: GPL-2.0
// mutexctl: command-line tool for the mutex_proxy kernel module (see cli.hpp).
#include <net/if.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
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
#include <string_view>
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

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int /*signal*/) {
    g_interrupted = 1;
}

/// The terminal while `top` runs: keys arrive one at a time without echo (q needs no Enter),
/// and an interrupt (Ctrl-C, SIGTERM) ends the loop so the terminal is restored on the way out.
class Terminal {
public:
    Terminal() {
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
        if (::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
            termios raw = saved_;
            raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
            raw.c_cc[VMIN] = 0;
            raw.c_cc[VTIME] = 0;
            raw_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
    }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;
    Terminal(Terminal&&) = delete;
    Terminal& operator=(Terminal&&) = delete;
    ~Terminal() {
        if (raw_) {
            ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
        }
    }

    /// mutexctl::Wait: up to `period`, false at q, Q or an interrupt. Without a terminal on
    /// stdin (a pipe, /dev/null) it only sleeps.
    [[nodiscard]] bool wait(std::chrono::milliseconds period) const {
        const auto end = std::chrono::steady_clock::now() + period;
        while (g_interrupted == 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return true;
            }
            pollfd pfd{raw_ ? STDIN_FILENO : -1, POLLIN, 0};
            if (::poll(&pfd, 1, static_cast<int>(left.count())) > 0 &&
                (pfd.revents & POLLIN) != 0) {
                std::array<char, 64> keys{};
                const ssize_t n = ::read(STDIN_FILENO, keys.data(), keys.size());
                for (ssize_t i = 0; i < n; ++i) {
                    if (keys.at(static_cast<std::size_t>(i)) == 'q' ||
                        keys.at(static_cast<std::size_t>(i)) == 'Q') {
                        return false;
                    }
                }
            }
        }
        return false;
    }

private:
    termios saved_{};
    bool raw_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::span<char*> all(argv, static_cast<std::size_t>(argc));
        const std::vector<std::string> args(all.begin() + (all.empty() ? 0 : 1), all.end());
        auto parsed = mutexctl::parse_args(args);
        if (const auto* outcome = std::get_if<mutexctl::Outcome>(&parsed)) {
            return finish(*outcome);
        }
        const auto& invocation = std::get<mutexctl::Invocation>(parsed);
        std::optional<Terminal> terminal;
        if (invocation.command == mutexctl::Command::top) {
            terminal.emplace();
        }
        return finish(mutexctl::execute(
            invocation, [] { return std::make_unique<ClientBackend>(); }, read_file,
            [tty = ::isatty(STDOUT_FILENO) == 1](const std::string& text) {
                // top clears the screen before each refresh only on a terminal: into a pipe or
                // a file its screens follow one another.
                const std::string_view clear = mutexctl::kClearScreen;
                const std::string_view out(text);
                std::cout << (!tty && out.starts_with(clear) ? out.substr(clear.size()) : out)
                          << std::flush;
            },
            [&terminal](std::chrono::milliseconds period) {
                return terminal ? terminal->wait(period) : true;
            }));
    } catch (const std::exception& e) {
        std::cerr << "mutexctl: " << e.what() << '\n';
        return mutexctl::kExitFailure;
    }
}
