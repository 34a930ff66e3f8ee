// SPDX-License-Identifier: GPL-2.0
// mutexd: the mutex_proxy daemon (see mutexd.hpp). main() only reads the command line.
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "libmutex/config.hpp"
#include "mutexd.hpp"

namespace {

int run(int argc, char** argv) {
    CLI::App app{"mutexd: runs the node's steering through the mutex_proxy kernel module",
                 "mutexd"};
    mutexd::Options options;
    bool check = false;
    bool version = false;
    app.add_option("-c,--config", options.config, "configuration file")->capture_default_str();
    app.add_flag("--check", check, "validate the configuration file and exit (0: valid)");
    app.add_flag("--version", version, "print the version and exit");
    // For tests: a tiny event socket buffer makes the kernel drop events (an overrun).
    app.add_option("--event-buffer", options.event_buffer,
                   "receive buffer of the event socket, bytes (default: the kernel's)")
        ->check(CLI::Range(1, 1 << 30))
        ->group("");
    CLI11_PARSE(app, argc, argv);
    if (version) {
        std::cout << "mutexd " << MUTEXD_VERSION << '\n';
        return 0;
    }
    if (check) {
        try {
            const auto file = mutex::config::load_file(options.config);
            std::cout << options.config << ": ok (" << file.pools.size() << " pools, "
                      << file.rules.size() << " rules)\n";
            return 0;
        } catch (const mutex::config::ConfigError& e) {
            for (const auto& d : e.diagnostics()) {
                std::cerr << d.to_string() << '\n';
            }
            return 1;
        }
    }
    return mutexd::run(options);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "mutexd: " << e.what() << '\n';
        return 1;
    }
}
