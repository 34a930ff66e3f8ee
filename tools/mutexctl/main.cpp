// SPDX-License-Identifier: GPL-2.0
// mutexctl: command-line tool for the mutex_proxy kernel module (see cli.hpp).
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
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
#include "mutexctl/upgrade.hpp"

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

/// mutexctl::ReadFile: how mutexctl's commands read files (kernel-check's facts, from /proc,
/// /sys and /lib/modules, are read in kernel_facts.cpp).
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

/// A pipe whose ends close themselves.
class Pipe {
public:
    Pipe() {
        if (::pipe2(fds_.data(), O_CLOEXEC) != 0) {
            throw std::system_error(errno, std::generic_category(), "pipe");
        }
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    Pipe(Pipe&&) = delete;
    Pipe& operator=(Pipe&&) = delete;
    ~Pipe() {
        close_read();
        close_write();
    }
    [[nodiscard]] int read_end() const { return fds_[0]; }
    [[nodiscard]] int write_end() const { return fds_[1]; }
    void close_read() { close_end(0); }
    void close_write() { close_end(1); }

private:
    void close_end(std::size_t i) {
        if (fds_.at(i) >= 0) {
            ::close(fds_.at(i));
            fds_.at(i) = -1;
        }
    }
    std::array<int, 2> fds_{-1, -1};
};

/// Runs the tool `argv` (looked up in PATH) with `input` on its stdin and its stdout and stderr
/// collected; throws std::runtime_error with what it printed when it does not exit with 0.
void run_tool(const std::vector<std::string>& argv, const std::string& input) {
    Pipe in;
    Pipe out;
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, in.read_end(), STDIN_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, out.write_end(), STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, out.write_end(), STDERR_FILENO);
    std::vector<std::string> copies(argv);
    std::vector<char*> args;
    args.reserve(copies.size() + 1);
    for (auto& arg : copies) {
        args.push_back(arg.data());
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        throw std::system_error(spawned, std::generic_category(), argv[0]);
    }
    in.close_read();
    out.close_write();
    for (std::size_t done = 0; done < input.size();) {
        const ssize_t n = ::write(in.write_end(), input.data() + done, input.size() - done);
        if (n <= 0) {
            break;  // the tool's exit status says what went wrong
        }
        done += static_cast<std::size_t>(n);
    }
    in.close_write();
    std::string printed;
    std::array<char, 4096> chunk{};
    for (;;) {
        const ssize_t n = ::read(out.read_end(), chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        printed.append(chunk.data(), static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return;
    }
    while (!printed.empty() && printed.back() == '\n') {
        printed.pop_back();
    }
    std::string command;
    for (const auto& arg : argv) {
        command += (command.empty() ? "" : " ") + arg;
    }
    throw std::runtime_error(command +
                             (WIFEXITED(status)
                                  ? " exited with " + std::to_string(WEXITSTATUS(status))
                                  : std::string(" was killed")) +
                             (printed.empty() ? std::string() : ": " + printed));
}

/// mutexctl::SystemTools with the system's own tools: nft, rmmod, modprobe and insmod.
class RealTools final : public mutexctl::SystemTools {
public:
    void nft(const std::string& ruleset) override { run_tool({"nft", "-f", "-"}, ruleset); }
    void unload() override { run_tool({"rmmod", "mutex_proxy"}, {}); }
    void load(const std::optional<std::string>& file) override {
        if (file) {
            run_tool({"insmod", *file}, {});
        } else {
            run_tool({"modprobe", "mutex_proxy"}, {});
        }
    }
};

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
        RealTools tools;
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
            },
            &tools));
    } catch (const std::exception& e) {
        std::cerr << "mutexctl: " << e.what() << '\n';
        return mutexctl::kExitFailure;
    }
}
