// SPDX-License-Identifier: GPL-2.0
// `mutexctl kernel-check`, the pure part (see kernel_check.hpp).
#include "mutexctl/kernel_check.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "libmutex/config.hpp"
#include "libmutex/format.hpp"

namespace mutexctl::kernel {

namespace {

namespace format = mutex::format;

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
    std::size_t number = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        f(++number, line);
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
}

bool symbol_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool module_name(std::string_view name) {
    return !name.empty() && name.size() <= 55 &&
           std::all_of(name.begin(), name.end(), [](char c) { return symbol_char(c); });
}

std::string normalize(std::string_view name) {
    std::string out(name);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

/// A module's name from its path in modules.dep ("kernel/drivers/.../e1000e.ko.xz").
std::string name_of_path(std::string_view path) {
    const auto slash = path.rfind('/');
    std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const auto ko = base.find(".ko");
    return normalize(base.substr(0, ko));
}

/// The drivers a validator node runs on and the modules they pull in, whose configuration
/// symbol is not CONFIG_<NAME>. Read from the kernel's Makefiles (obj-$(CONFIG_X) += name.o).
constexpr auto kSymbols = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"aesni_intel", "CONFIG_CRYPTO_AES_NI_INTEL"},
    {"ghash_clmulni_intel", "CONFIG_CRYPTO_GHASH_CLMUL_NI_INTEL"},
    {"polyval_clmulni", "CONFIG_CRYPTO_POLYVAL_CLMUL_NI"},
    {"sha256_ssse3", "CONFIG_CRYPTO_SHA256_SSSE3"},
    {"sha512_ssse3", "CONFIG_CRYPTO_SHA512_SSSE3"},
    {"crc32c_intel", "CONFIG_CRYPTO_CRC32C_INTEL"},
    {"crc32_pclmul", "CONFIG_CRYPTO_CRC32_PCLMUL"},
    {"crct10dif_pclmul", "CONFIG_CRYPTO_CRCT10DIF_PCLMUL"},
    {"nvme", "CONFIG_BLK_DEV_NVME"},
    {"nvme_core", "CONFIG_NVME_CORE"},
    {"tg3", "CONFIG_TIGON3"},
    {"bnxt_en", "CONFIG_BNXT"},
    {"ena", "CONFIG_ENA_ETHERNET"},
    {"atlantic", "CONFIG_AQTION"},
    {"cxgb4", "CONFIG_CHELSIO_T4"},
    {"hv_netvsc", "CONFIG_HYPERV_NET"},
    {"mana", "CONFIG_MICROSOFT_MANA"},
    {"sfc", "CONFIG_SFC"},
    {"mlx4_en", "CONFIG_MLX4_EN"},
    {"mlx4_core", "CONFIG_MLX4_CORE"},
    {"mlx5_core", "CONFIG_MLX5_CORE"},
    {"mlxfw", "CONFIG_MLXFW"},
    {"ptp", "CONFIG_PTP_1588_CLOCK"},
    {"pps_core", "CONFIG_PPS"},
    {"libphy", "CONFIG_PHYLIB"},
    {"mdio", "CONFIG_MDIO"},
    {"dca", "CONFIG_DCA"},
    {"libcrc32c", "CONFIG_LIBCRC32C"},
    {"crc32c_generic", "CONFIG_CRYPTO_CRC32C"},
    {"crc_itu_t", "CONFIG_CRC_ITU_T"},
    {"net_failover", "CONFIG_NET_FAILOVER"},
    {"failover", "CONFIG_FAILOVER"},
    {"virtio_net", "CONFIG_VIRTIO_NET"},
    {"virtio_pci", "CONFIG_VIRTIO_PCI"},
    {"pci_hyperv_intf", "CONFIG_PCI_HYPERV_INTERFACE"},
    {"macsec", "CONFIG_MACSEC"},
    {"tls", "CONFIG_TLS"},
    {"psample", "CONFIG_PSAMPLE"},
    {"gve", "CONFIG_GVE"},
    {"be2net", "CONFIG_BE2NET"},
    {"cryptd", "CONFIG_CRYPTO_CRYPTD"},
    {"crypto_simd", "CONFIG_CRYPTO_SIMD"},
    {"t10_pi", "CONFIG_BLK_DEV_INTEGRITY_T10"},
    {"crct10dif_common", "CONFIG_CRYPTO_CRCT10DIF"},
    {"virtio_ring", "CONFIG_VIRTIO"},
    {"i40e", "CONFIG_I40E"},
    {"ice", "CONFIG_ICE"},
    {"igb", "CONFIG_IGB"},
    {"ixgbe", "CONFIG_IXGBE"},
    {"e1000e", "CONFIG_E1000E"},
    {"r8169", "CONFIG_R8169"},
    {"gnss", "CONFIG_GNSS"},
});

constexpr std::array<mutex::config::EnumName<Compression>, 4> kCompressionNames{{
    {Compression::none, "none"},
    {Compression::gzip, "gzip"},
    {Compression::xz, "xz"},
    {Compression::zstd, "zstd"},
}};

/// What mutex_proxy needs, each as a symbol and the values that pass.
struct Need {
    std::string_view what;
    std::string_view symbol;
    bool module_ok;  // =m passes as well as =y
};

constexpr std::array kNeeds{
    Need{"loadable modules", "CONFIG_MODULES", false},
    Need{"modules unload (mutexctl upgrade)", "CONFIG_MODULE_UNLOAD", false},
    Need{"generic netlink (networking)", "CONFIG_NET", false},
    Need{"network namespaces", "CONFIG_NET_NS", false},
    Need{"netfilter", "CONFIG_NETFILTER", false},
    Need{"connection tracking", "CONFIG_NF_CONNTRACK", true},
    Need{"conntrack labels (the steered-flow tag)", "CONFIG_NF_CONNTRACK_LABELS", false},
    Need{"NAT", "CONFIG_NF_NAT", true},
    Need{"IPv6 (NAT for IPv6)", "CONFIG_IPV6", true},
    Need{"TCP reset for IPv4 (ended connections)", "CONFIG_NF_REJECT_IPV4", true},
    Need{"TCP reset for IPv6", "CONFIG_NF_REJECT_IPV6", true},
    Need{"nftables (upgrade pin, boot guard)", "CONFIG_NF_TABLES", true},
    Need{"nftables inet family", "CONFIG_NF_TABLES_INET", false},
    Need{"nftables nat chains", "CONFIG_NFT_NAT", true},
    Need{"nftables ct match", "CONFIG_NFT_CT", true},
    Need{"cgroups", "CONFIG_CGROUPS", false},
    Need{"cgroup v2 socket data (cgroup rules)", "CONFIG_SOCK_CGROUP_DATA", false},
};

constexpr std::array<std::string_view, 5> kValidatorModules{"aesni_intel", "ghash_clmulni_intel",
                                                            "polyval_clmulni", "nvme", "nvme_core"};

std::string shown(std::string_view value) {
    return value.empty() ? " not set" : "=" + std::string(value);
}

/// `modules` and everything they depend on, each once, dependencies after their users.
std::vector<std::string> closure(const std::vector<std::string>& modules, const ModuleDeps& deps) {
    std::vector<std::string> out;
    std::set<std::string, std::less<>> seen;
    std::vector<std::string> todo(modules.rbegin(), modules.rend());
    while (!todo.empty()) {
        std::string name = std::move(todo.back());
        todo.pop_back();
        if (!seen.insert(name).second) {
            continue;
        }
        if (const auto it = deps.find(name); it != deps.end()) {
            todo.insert(todo.end(), it->second.rbegin(), it->second.rend());
        }
        out.push_back(std::move(name));
    }
    return out;
}

}  // namespace

KernelConfig KernelConfig::parse(std::string_view text) {
    KernelConfig config;
    for_each_line(text, [&config](std::size_t number, std::string_view raw) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') {
            return;
        }
        const auto eq = line.find('=');
        const std::string_view symbol = line.substr(0, eq);
        if (eq == std::string_view::npos || !symbol.starts_with("CONFIG_") ||
            !std::all_of(symbol.begin(), symbol.end(), symbol_char)) {
            throw std::invalid_argument("line " + std::to_string(number) +
                                        ": not a kernel configuration line: " + std::string(line));
        }
        config.values_[std::string(symbol)] = std::string(line.substr(eq + 1));
    });
    if (config.values_.empty()) {
        throw std::invalid_argument("no CONFIG_ line: not a kernel configuration");
    }
    return config;
}

std::string_view KernelConfig::get(std::string_view symbol) const {
    const auto it = values_.find(symbol);
    return it == values_.end() ? std::string_view{} : std::string_view(it->second);
}

std::string_view to_string(Compression compression) {
    return mutex::config::name_of(kCompressionNames, compression);
}

Compression module_compression(const KernelConfig& config) {
    if (config.builtin("CONFIG_MODULE_COMPRESS_XZ")) {
        return Compression::xz;
    }
    if (config.builtin("CONFIG_MODULE_COMPRESS_ZSTD")) {
        return Compression::zstd;
    }
    if (config.builtin("CONFIG_MODULE_COMPRESS_GZIP")) {
        return Compression::gzip;
    }
    return Compression::none;
}

Compression file_compression(std::string_view head) {
    if (head.starts_with("\x1f\x8b")) {
        return Compression::gzip;
    }
    if (head.starts_with(std::string_view("\xfd"
                                          "7zXZ\0",
                                          6))) {
        return Compression::xz;
    }
    if (head.starts_with("\x28\xb5\x2f\xfd")) {
        return Compression::zstd;
    }
    return Compression::none;
}

std::vector<std::string> parse_module_list(std::string_view text) {
    std::vector<std::string> modules;
    std::set<std::string, std::less<>> seen;
    for_each_line(text, [&](std::size_t number, std::string_view raw) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') {
            return;
        }
        std::string_view word = line.substr(0, line.find_first_of(" \t"));
        if (number == 1 && word == "Module") {
            return;  // lsmod's header
        }
        const std::string name = normalize(word);
        if (!module_name(name)) {
            throw std::invalid_argument("line " + std::to_string(number) +
                                        ": not a module name: " + std::string(word));
        }
        if (seen.insert(name).second) {
            modules.push_back(name);
        }
    });
    return modules;
}

ModuleDeps parse_modules_dep(std::string_view text) {
    ModuleDeps deps;
    for_each_line(text, [&deps](std::size_t /*number*/, std::string_view raw) {
        const std::string_view line = trim(raw);
        const auto colon = line.find(':');
        if (line.empty() || colon == std::string_view::npos) {
            return;
        }
        auto& list = deps[name_of_path(line.substr(0, colon))];
        std::string_view rest = line.substr(colon + 1);
        while (!(rest = trim(rest)).empty()) {
            const auto end = rest.find_first_of(" \t");
            list.push_back(name_of_path(rest.substr(0, end)));
            rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        }
    });
    return deps;
}

std::optional<std::string> config_symbol(std::string_view module, const KernelConfig& config) {
    const std::string name = normalize(module);
    for (const auto& [known, symbol] : kSymbols) {
        if (known == name) {
            return std::string(symbol);
        }
    }
    std::string guess = "CONFIG_";
    for (const char c : name) {
        guess += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (config.enabled(guess)) {
        return guess;
    }
    return std::nullopt;
}

std::vector<std::string> validator_modules(const Facts& facts) {
    std::vector<std::string> modules(kValidatorModules.begin(), kValidatorModules.end());
    for (const auto& nic : facts.nics) {
        if (std::find(modules.begin(), modules.end(), nic.driver) == modules.end()) {
            modules.push_back(nic.driver);
        }
    }
    return modules;
}

std::vector<Check> check(const Facts& facts) {
    std::vector<Check> checks;
    const KernelConfig& config = facts.config;
    for (const auto& need : kNeeds) {
        const std::string_view value = config.get(need.symbol);
        const bool ok = value == "y" || (need.module_ok && value == "m");
        std::string detail = std::string(need.symbol) + shown(value);
        if (!ok) {
            detail += need.module_ok ? " (needs y or m)" : " (needs y)";
        }
        checks.push_back({"needs", std::string(need.what), ok, std::move(detail)});
    }

    const Compression kernel = module_compression(config);
    checks.push_back({"compression", "the kernel's modules", true,
                      std::string(to_string(kernel)) +
                          (kernel == Compression::xz ? " (the installed module must be xz with "
                                                       "CRC32, as DKMS and the kernel make it)"
                                                     : "")});
    if (facts.installed_path.empty()) {
        checks.push_back({"compression", "installed mutex_proxy", false,
                          "no mutex_proxy module under /lib/modules/" + facts.release +
                              " (dkms install mutex_proxy/VERSION)"});
    } else {
        const Compression file = file_compression(facts.installed_head);
        std::string detail = facts.installed_path + ": " + std::string(to_string(file));
        const bool ok = file == kernel;
        if (!ok) {
            detail += ", the kernel's are " + std::string(to_string(kernel)) +
                      ": rebuild it (dkms build/install) for this kernel";
        }
        checks.push_back({"compression", "installed mutex_proxy", ok, std::move(detail)});
    }

    for (const auto& module : kValidatorModules) {
        const auto symbol = config_symbol(module, config);
        const std::string_view value = symbol ? config.get(*symbol) : std::string_view{};
        checks.push_back({"validator", std::string(module), value == "y",
                          *symbol + shown(value) +
                              (value == "m"    ? " (a module: --fragment builds it in)"
                               : value.empty() ? " (not in this kernel)"
                                               : "")});
    }
    for (const auto& nic : facts.nics) {
        for (const auto& module : closure({nic.driver}, facts.deps)) {
            const auto symbol = config_symbol(module, config);
            std::string name = nic.interface + " driver " + nic.driver;
            if (module != nic.driver) {
                name += ", needs " + module;
            }
            if (!symbol) {
                checks.push_back({"validator", std::move(name), false,
                                  "configuration symbol unknown (built in, or not in the table)"});
                continue;
            }
            const std::string_view value = config.get(*symbol);
            checks.push_back({"validator", std::move(name), value == "y",
                              *symbol + shown(value) +
                                  (value == "m" ? " (a module: --fragment builds it in)" : "")});
        }
    }
    return checks;
}

std::string fragment(const std::vector<std::string>& modules, const Facts& facts) {
    std::string out = "# mutexctl kernel-check --fragment for " + facts.release +
                      ": merge (scripts/kconfig/merge_config.sh), then make olddefconfig\n";
    std::set<std::string, std::less<>> done;
    for (const auto& module : closure(modules, facts.deps)) {
        const auto symbol = config_symbol(module, facts.config);
        if (!symbol) {
            out += "# " + module + ": configuration symbol unknown\n";
            continue;
        }
        if (facts.config.builtin(*symbol) || !done.insert(*symbol).second) {
            continue;
        }
        out += *symbol + "=y\n";
    }
    return out;
}

Outcome run(const Invocation& invocation, const Facts& facts) {
    if (invocation.fragment) {
        const auto modules = facts.modules ? *facts.modules : validator_modules(facts);
        return {kExitOk, fragment(modules, facts), {}};
    }
    const auto checks = check(facts);
    const bool ok = std::all_of(checks.begin(), checks.end(),
                                [](const Check& c) { return c.ok || c.section == "validator"; });
    const int code = ok ? kExitOk : kExitFailure;
    if (invocation.json) {
        format::Json doc;
        doc["release"] = facts.release;
        doc["config"] = facts.config_source;
        doc["ok"] = ok;
        format::Json list = format::Json::array();
        for (const auto& c : checks) {
            format::Json entry;
            entry["section"] = c.section;
            entry["name"] = c.name;
            entry["ok"] = c.ok;
            entry["detail"] = c.detail;
            list.push_back(std::move(entry));
        }
        doc["checks"] = std::move(list);
        return {code, format::json_line(doc), {}};
    }
    std::string out = "kernel " + facts.release + ", configuration " + facts.config_source + "\n";
    std::string section;
    for (const auto& c : checks) {
        if (c.section != section) {
            section = c.section;
            out += section == "needs"         ? "needs (what mutex_proxy needs):\n"
                   : section == "compression" ? "compression (modules and the installed one):\n"
                                              : "validator (performance-critical drivers built in "
                                                "rather than modules; advice, the exit status "
                                                "does not depend on it):\n";
        }
        out += std::string(c.ok ? "  pass  " : "  FAIL  ") + c.name + ": " + c.detail + "\n";
    }
    out += ok ? "mutex_proxy can run on this kernel\n"
              : "mutex_proxy cannot run as it should on this kernel: see FAIL above\n";
    return {code, out, {}};
}

}  // namespace mutexctl::kernel
