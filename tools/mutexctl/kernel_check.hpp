// SPDX-License-Identifier: GPL-2.0
// `mutexctl kernel-check`: is this kernel (or a configuration file) fit for mutex_proxy and for a
// validator? One line per check, pass or fail, in three sections:
//   needs       what mutex_proxy needs: modules that unload, network namespaces, netfilter,
//               conntrack with labels, NAT for IPv4 and IPv6, the reject helpers, generic
//               netlink, nftables (mutexctl upgrade's pin, the boot guard), cgroup v2 socket
//               data (cgroup rules);
//   compression the compression the kernel's modules use, and whether the installed mutex_proxy
//               carries the same (by its first bytes, not its name);
//   validator   the performance-critical drivers built in (=y) rather than modules: AES-NI,
//               GHASH and POLYVAL crypto, NVMe, and each network interface's driver with the
//               modules it depends on (modules.dep).
// Exit status 1 when a `needs` or `compression` line fails; `validator` lines are advice (a
// stock distribution kernel builds them as modules) and never change it.
// `--fragment` prints a configuration fragment (CONFIG_X=y lines) that builds in the validator
// drivers that are modules, or every module of `--modules FILE` (lsmod output or a modprobed-db
// list) with what they depend on; merge it with scripts/kconfig/merge_config.sh and run
// `make olddefconfig`, which resolves what the symbols themselves depend on.
//
// Everything here is pure: the facts (configuration text, sysfs, modules.dep, the installed
// module's first bytes) are gathered by read_kernel_facts() (kernel_facts.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mutexctl/cli.hpp"

namespace mutexctl::kernel {

/// A kernel configuration: CONFIG_ symbol to its value ("y", "m", "\"text\"", "123"); a symbol
/// that is "not set" or absent has no entry.
class KernelConfig {
public:
    /// Parses .config text: "CONFIG_X=value" lines; comments and blank lines are skipped.
    /// Throws std::invalid_argument naming the line for anything else, or for text without a
    /// single CONFIG_ line (not a kernel configuration).
    static KernelConfig parse(std::string_view text);
    /// The value, "" when not set.
    [[nodiscard]] std::string_view get(std::string_view symbol) const;
    [[nodiscard]] bool builtin(std::string_view symbol) const { return get(symbol) == "y"; }
    [[nodiscard]] bool enabled(std::string_view symbol) const {
        return get(symbol) == "y" || get(symbol) == "m";
    }

private:
    std::map<std::string, std::string, std::less<>> values_;
};

enum class Compression : std::uint8_t { none, gzip, xz, zstd };
std::string_view to_string(Compression compression);

/// The compression `config` gives its modules: CONFIG_MODULE_COMPRESS_GZIP/XZ/ZSTD (6.1 and
/// 6.12 alike; 6.12 adds CONFIG_MODULE_COMPRESS=y beside them).
Compression module_compression(const KernelConfig& config);
/// What a module file's first bytes say it is (gzip 1f 8b, xz fd 37 7a 58 5a 00, zstd 28 b5 2f
/// fd, else none).
Compression file_compression(std::string_view head);

/// Module names from lsmod output (its "Module Size Used by" header and the size and users
/// columns are skipped) or from a modprobed-db list (a name a line); '#' comments and blank
/// lines are skipped, '-' is read as '_' (as the kernel names modules). In file order, each
/// once. Throws std::invalid_argument naming the line for a word that is no module name.
std::vector<std::string> parse_module_list(std::string_view text);

/// modules.dep: each module's name to the names of the modules it depends on.
using ModuleDeps = std::map<std::string, std::vector<std::string>, std::less<>>;
ModuleDeps parse_modules_dep(std::string_view text);

/// The configuration symbol that builds `module`: from a table of the drivers a validator
/// runs on (crypto, storage, network) and their usual dependencies, else CONFIG_<MODULE> if the
/// configuration has that symbol as y or m; nullopt when neither knows it.
std::optional<std::string> config_symbol(std::string_view module, const KernelConfig& config);

/// A network interface with a device: its name and its driver's module (the name of the
/// driver in sysfs; the module's name where sysfs links one).
struct Nic {
    std::string interface;
    std::string driver;

    bool operator==(const Nic&) const = default;
};

/// What kernel-check judges.
struct Facts {
    std::string release;        // uname -r, or --release
    std::string config_source;  // where the configuration came from
    KernelConfig config;
    std::string installed_path;  // the installed mutex_proxy module, "" when none is found
    std::string installed_head;  // its first bytes
    std::vector<Nic> nics;
    ModuleDeps deps;                                  // modules.dep of `release`
    std::optional<std::vector<std::string>> modules;  // --modules FILE, parsed
};

struct Check {
    std::string section;  // "needs", "compression", "validator"
    std::string name;     // what is checked
    bool ok = false;
    std::string detail;  // the values seen, and what to do about a failure

    bool operator==(const Check&) const = default;
};

/// Every check, in section order.
std::vector<Check> check(const Facts& facts);

/// The fragment: CONFIG_X=y for each of `modules` and the modules they depend on (modules.dep)
/// whose symbol is not y already; a comment for each whose symbol is unknown.
std::string fragment(const std::vector<std::string>& modules, const Facts& facts);

/// The modules the validator profile wants built in: the crypto and NVMe drivers and every
/// interface's driver.
std::vector<std::string> validator_modules(const Facts& facts);

/// Runs `kernel-check` on `facts`: the report (human or -j JSON) or, with --fragment, the
/// fragment.
Outcome run(const Invocation& invocation, const Facts& facts);

/// Gathers the facts from this machine: the configuration from `--config FILE`, else
/// /proc/config.gz, else /boot/config-RELEASE; /sys/class/net; /lib/modules/RELEASE
/// (kernel_facts.cpp). Throws std::runtime_error naming what could not be read.
Facts read_kernel_facts(const Invocation& invocation);

}  // namespace mutexctl::kernel
