// SPDX-License-Identifier: GPL-2.0
// mutexctl kernel-check: configuration parsing, every requirement failing in turn, every module
// compression against the installed module's, module lists (lsmod, modprobed-db), modules.dep,
// the symbol table, the fragment, and the report's exit status and JSON.
#include "mutexctl/kernel_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "mutexctl/cli.hpp"

namespace mutexctl::kernel {
namespace {

// What Debian's 6.12 configuration says of everything kernel-check reads (abridged).
constexpr std::string_view kDebian612 = R"(#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.12.118 Kernel Configuration
#
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_MODULE_COMPRESS=y
# CONFIG_MODULE_COMPRESS_GZIP is not set
CONFIG_MODULE_COMPRESS_XZ=y
# CONFIG_MODULE_COMPRESS_ZSTD is not set
CONFIG_NET=y
CONFIG_NET_NS=y
CONFIG_NETFILTER=y
CONFIG_NF_CONNTRACK=m
CONFIG_NF_CONNTRACK_LABELS=y
CONFIG_NF_NAT=m
CONFIG_IPV6=y
CONFIG_NF_REJECT_IPV4=m
CONFIG_NF_REJECT_IPV6=m
CONFIG_NF_TABLES=m
CONFIG_NF_TABLES_INET=y
CONFIG_NFT_NAT=m
CONFIG_NFT_CT=m
CONFIG_CGROUPS=y
CONFIG_SOCK_CGROUP_DATA=y
CONFIG_CRYPTO_AES_NI_INTEL=m
# CONFIG_CRYPTO_POLYVAL_CLMUL_NI is not set
CONFIG_CRYPTO_GHASH_CLMUL_NI_INTEL=m
CONFIG_NVME_CORE=m
CONFIG_BLK_DEV_NVME=m
CONFIG_IXGBE=m
CONFIG_MDIO=m
CONFIG_PTP_1588_CLOCK=y
CONFIG_DCA=m
CONFIG_LOCALVERSION="+deb12"
)";

constexpr std::string_view kXzHead{
    "\xfd"
    "7zXZ\0\0",
    7};
constexpr std::string_view kModulesDep =
    "kernel/drivers/net/ethernet/intel/ixgbe/ixgbe.ko.xz: kernel/drivers/net/mdio.ko.xz "
    "kernel/drivers/dca/dca.ko.xz kernel/drivers/ptp/ptp.ko.xz\n"
    "kernel/drivers/net/mdio.ko.xz:\n"
    "kernel/drivers/dca/dca.ko.xz:\n"
    "kernel/drivers/nvme/host/nvme.ko.xz: kernel/drivers/nvme/host/nvme-core.ko.xz\n"
    "updates/dkms/mutex_proxy.ko.xz: kernel/net/netfilter/nf_nat.ko.xz\n";

std::string without(std::string_view text, std::string_view symbol) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto end = text.find('\n', pos);
        const std::string_view line = text.substr(pos, end - pos);
        if (!line.starts_with(std::string(symbol) + "=")) {
            out += line;
            out += '\n';
        }
        pos = end == std::string_view::npos ? text.size() : end + 1;
    }
    return out;
}

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
    std::string out(text);
    const auto at = out.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return out.replace(at, from.size(), to);
}

Facts facts_of(std::string_view config) {
    Facts f;
    f.release = "6.12.118+deb12-amd64";
    f.config_source = "/boot/config-6.12.118+deb12-amd64";
    f.config = KernelConfig::parse(config);
    f.installed_path = "/lib/modules/6.12.118+deb12-amd64/updates/dkms/mutex_proxy.ko.xz";
    f.installed_head = std::string(kXzHead);
    f.nics = {{"enp1s0", "ixgbe"}};
    f.deps = parse_modules_dep(kModulesDep);
    return f;
}

const Check& find(const std::vector<Check>& checks, std::string_view name) {
    const auto it = std::find_if(checks.begin(), checks.end(),
                                 [name](const Check& c) { return c.name == name; });
    if (it == checks.end()) {
        throw std::out_of_range(std::string(name));
    }
    return *it;
}

Invocation invocation(const std::vector<std::string>& args) {
    auto parsed = parse_args(args);
    if (auto* outcome = std::get_if<Outcome>(&parsed)) {
        ADD_FAILURE() << outcome->err;
        return {};
    }
    return std::get<Invocation>(parsed);
}

TEST(KernelConfig, ParsesValuesAndNotSet) {
    const auto c = KernelConfig::parse(kDebian612);
    EXPECT_EQ(c.get("CONFIG_NF_NAT"), "m");
    EXPECT_TRUE(c.builtin("CONFIG_NET"));
    EXPECT_TRUE(c.enabled("CONFIG_NF_NAT"));
    EXPECT_FALSE(c.builtin("CONFIG_NF_NAT"));
    EXPECT_EQ(c.get("CONFIG_MODULE_COMPRESS_GZIP"), "");  // "is not set"
    EXPECT_EQ(c.get("CONFIG_LOCALVERSION"), "\"+deb12\"");
    EXPECT_EQ(c.get("CONFIG_NOT_THERE"), "");
}

TEST(KernelConfig, RefusesWhatIsNoConfiguration) {
    EXPECT_THROW(KernelConfig::parse(""), std::invalid_argument);
    EXPECT_THROW(KernelConfig::parse("# only a comment\n"), std::invalid_argument);
    try {
        KernelConfig::parse("CONFIG_NET=y\nhello world\n");
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
    EXPECT_THROW(KernelConfig::parse("NET=y\n"), std::invalid_argument);
}

TEST(KernelCheck, DebianKernelWithTheInstalledModulePasses) {
    const auto checks = check(facts_of(kDebian612));
    for (const auto& c : checks) {
        if (c.section != "validator") {
            EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
        }
    }
    const Outcome o = run(invocation({"kernel-check"}), facts_of(kDebian612));
    EXPECT_EQ(o.code, kExitOk) << o.out;
    EXPECT_NE(o.out.find("  pass  NAT: CONFIG_NF_NAT=m\n"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("mutex_proxy can run on this kernel"), std::string::npos);
}

TEST(KernelCheck, EachMissingRequirementFailsItsLineAndTheExitStatus) {
    const std::vector<std::pair<std::string_view, std::string_view>> needs{
        {"CONFIG_MODULES", "loadable modules"},
        {"CONFIG_MODULE_UNLOAD", "modules unload (mutexctl upgrade)"},
        {"CONFIG_NET", "generic netlink (networking)"},
        {"CONFIG_NET_NS", "network namespaces"},
        {"CONFIG_NETFILTER", "netfilter"},
        {"CONFIG_NF_CONNTRACK", "connection tracking"},
        {"CONFIG_NF_CONNTRACK_LABELS", "conntrack labels (the steered-flow tag)"},
        {"CONFIG_NF_NAT", "NAT"},
        {"CONFIG_IPV6", "IPv6 (NAT for IPv6)"},
        {"CONFIG_NF_REJECT_IPV4", "TCP reset for IPv4 (ended connections)"},
        {"CONFIG_NF_REJECT_IPV6", "TCP reset for IPv6"},
        {"CONFIG_NF_TABLES", "nftables (upgrade pin, boot guard)"},
        {"CONFIG_NF_TABLES_INET", "nftables inet family"},
        {"CONFIG_NFT_NAT", "nftables nat chains"},
        {"CONFIG_NFT_CT", "nftables ct match"},
        {"CONFIG_CGROUPS", "cgroups"},
        {"CONFIG_SOCK_CGROUP_DATA", "cgroup v2 socket data (cgroup rules)"},
    };
    for (const auto& [symbol, name] : needs) {
        const Facts f = facts_of(without(kDebian612, symbol));
        const auto checks = check(f);
        const Check& c = find(checks, name);
        EXPECT_FALSE(c.ok) << symbol;
        EXPECT_EQ(c.detail.rfind(std::string(symbol) + " not set (needs", 0), 0U) << c.detail;
        for (const auto& other : checks) {
            if (other.section == "needs" && other.name != name) {
                EXPECT_TRUE(other.ok) << symbol << " removed, " << other.name << " failed";
            }
        }
        const Outcome o = run(invocation({"kernel-check"}), f);
        EXPECT_EQ(o.code, kExitFailure) << symbol;
        EXPECT_NE(o.out.find("  FAIL  " + std::string(name) + ": "), std::string::npos) << o.out;
    }
}

TEST(KernelCheck, BuiltInWhereAModuleWillNotDo) {
    // labels must be built in: there is no conntrack-labels module
    const auto f = facts_of(
        replaced(kDebian612, "CONFIG_NF_CONNTRACK_LABELS=y", "CONFIG_NF_CONNTRACK_LABELS=m"));
    const auto checks = check(f);
    const Check& c = find(checks, "conntrack labels (the steered-flow tag)");
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.detail, "CONFIG_NF_CONNTRACK_LABELS=m (needs y)");
}

TEST(KernelCheck, EveryCompressionAgainstTheInstalledModule) {
    const std::string base =
        without(without(kDebian612, "CONFIG_MODULE_COMPRESS_XZ"), "CONFIG_MODULE_COMPRESS");
    struct Case {
        std::string_view symbol;  // CONFIG_MODULE_COMPRESS_*, "" for none
        std::string_view name;
        std::string head;  // a module compressed that way
    };
    const std::vector<Case> cases{
        {"", "none",
         "\x7f"
         "ELF\x02\x01"},
        {"CONFIG_MODULE_COMPRESS_GZIP", "gzip", "\x1f\x8b\x08"},
        {"CONFIG_MODULE_COMPRESS_XZ", "xz", std::string(kXzHead)},
        {"CONFIG_MODULE_COMPRESS_ZSTD", "zstd", "\x28\xb5\x2f\xfd"},
    };
    for (const auto& kernel : cases) {
        std::string config = base;
        if (!kernel.symbol.empty()) {
            config += std::string(kernel.symbol) + "=y\n";
        }
        for (const auto& installed : cases) {
            Facts f = facts_of(config);
            f.installed_head = installed.head;
            const auto checks = check(f);
            EXPECT_EQ(find(checks, "the kernel's modules").detail.substr(0, kernel.name.size()),
                      kernel.name);
            const Check& c = find(checks, "installed mutex_proxy");
            EXPECT_EQ(c.ok, kernel.name == installed.name)
                << "kernel " << kernel.name << ", module " << installed.name << ": " << c.detail;
            EXPECT_NE(c.detail.find(": " + std::string(installed.name)), std::string::npos)
                << c.detail;
            EXPECT_EQ(run(invocation({"kernel-check"}), f).code, c.ok ? kExitOk : kExitFailure);
        }
    }
}

TEST(KernelCheck, NoInstalledModuleFails) {
    Facts f = facts_of(kDebian612);
    f.installed_path.clear();
    const auto checks = check(f);
    const Check& c = find(checks, "installed mutex_proxy");
    EXPECT_FALSE(c.ok);
    EXPECT_NE(c.detail.find("dkms install"), std::string::npos) << c.detail;
}

TEST(KernelCheck, ValidatorProfileIsAdviceNotFailure) {
    const Facts f = facts_of(kDebian612);
    const auto checks = check(f);
    EXPECT_FALSE(find(checks, "aesni_intel").ok);
    EXPECT_EQ(find(checks, "aesni_intel").detail,
              "CONFIG_CRYPTO_AES_NI_INTEL=m (a module: --fragment builds it in)");
    EXPECT_EQ(find(checks, "polyval_clmulni").detail,
              "CONFIG_CRYPTO_POLYVAL_CLMUL_NI not set (not in this kernel)");
    // the NIC's driver and every module it depends on (modules.dep)
    EXPECT_FALSE(find(checks, "enp1s0 driver ixgbe").ok);
    EXPECT_FALSE(find(checks, "enp1s0 driver ixgbe, needs mdio").ok);
    EXPECT_FALSE(find(checks, "enp1s0 driver ixgbe, needs dca").ok);
    EXPECT_TRUE(find(checks, "enp1s0 driver ixgbe, needs ptp").ok);  // =y already
    EXPECT_EQ(run(invocation({"kernel-check"}), f).code, kExitOk);
    // all built in: every validator line passes
    std::string all(kDebian612);
    for (const char* symbol :
         {"CONFIG_CRYPTO_AES_NI_INTEL", "CONFIG_CRYPTO_GHASH_CLMUL_NI_INTEL", "CONFIG_NVME_CORE",
          "CONFIG_BLK_DEV_NVME", "CONFIG_IXGBE", "CONFIG_MDIO", "CONFIG_DCA"}) {
        all = replaced(all, std::string(symbol) + "=m", std::string(symbol) + "=y");
    }
    all += "CONFIG_CRYPTO_POLYVAL_CLMUL_NI=y\n";
    for (const auto& c : check(facts_of(all))) {
        EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
    }
}

TEST(KernelCheck, Json) {
    const Outcome o = run(invocation({"-j", "kernel-check"}), facts_of(kDebian612));
    ASSERT_EQ(o.code, kExitOk);
    const auto doc = nlohmann::json::parse(o.out);
    EXPECT_EQ(doc["release"], "6.12.118+deb12-amd64");
    EXPECT_EQ(doc["ok"], true);
    ASSERT_GT(doc["checks"].size(), 20U);
    EXPECT_EQ(doc["checks"][0]["section"], "needs");
    EXPECT_EQ(doc["checks"][0]["name"], "loadable modules");
    EXPECT_EQ(doc["checks"][0]["ok"], true);
    EXPECT_EQ(doc["checks"][0]["detail"], "CONFIG_MODULES=y");
}

TEST(ModuleList, LsmodOutput) {
    const auto modules = parse_module_list(
        "Module                  Size  Used by\n"
        "nf_nat                 61440  1 mutex_proxy\n"
        "ixgbe                 385024  0\n"
        "nvme_core             196608  3 nvme\n");
    EXPECT_EQ(modules, (std::vector<std::string>{"nf_nat", "ixgbe", "nvme_core"}));
}

TEST(ModuleList, ModprobedDbListWithDashesCommentsAndRepeats) {
    const auto modules =
        parse_module_list("# modprobed-db\naesni_intel\n\nnvme-core\nnvme_core\n  ixgbe  \n");
    EXPECT_EQ(modules, (std::vector<std::string>{"aesni_intel", "nvme_core", "ixgbe"}));
}

TEST(ModuleList, RefusesWhatIsNoModuleName) {
    try {
        parse_module_list("ixgbe\nnot/a/module\n");
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
}

TEST(ModulesDep, NamesFromPaths) {
    const auto deps = parse_modules_dep(kModulesDep);
    EXPECT_EQ(deps.at("ixgbe"), (std::vector<std::string>{"mdio", "dca", "ptp"}));
    EXPECT_EQ(deps.at("nvme"), (std::vector<std::string>{"nvme_core"}));  // '-' read as '_'
    EXPECT_TRUE(deps.at("mdio").empty());
    EXPECT_EQ(deps.at("mutex_proxy"), (std::vector<std::string>{"nf_nat"}));
}

TEST(ConfigSymbol, TableThenGuessThenUnknown) {
    const auto c = KernelConfig::parse(kDebian612);
    EXPECT_EQ(config_symbol("nvme", c), "CONFIG_BLK_DEV_NVME");  // not CONFIG_NVME
    EXPECT_EQ(config_symbol("ptp", c), "CONFIG_PTP_1588_CLOCK");
    EXPECT_EQ(config_symbol("nf_nat", c), "CONFIG_NF_NAT");  // CONFIG_<NAME>, and it exists
    EXPECT_EQ(config_symbol("nvme-core", c), "CONFIG_NVME_CORE");
    EXPECT_EQ(config_symbol("some_vendor_module", c), std::nullopt);
}

TEST(Fragment, BuildsInTheModulesAndWhatTheyNeed) {
    const Facts f = facts_of(kDebian612);
    const std::string text = fragment({"ixgbe", "nvme", "nf_nat", "mystery"}, f);
    EXPECT_EQ(text,
              "# mutexctl kernel-check --fragment for 6.12.118+deb12-amd64: merge "
              "(scripts/kconfig/merge_config.sh), then make olddefconfig\n"
              "CONFIG_IXGBE=y\n"
              "CONFIG_MDIO=y\n"
              "CONFIG_DCA=y\n"  // ptp is built in already: no line
              "CONFIG_BLK_DEV_NVME=y\n"
              "CONFIG_NVME_CORE=y\n"
              "CONFIG_NF_NAT=y\n"
              "# mystery: configuration symbol unknown\n");
}

TEST(Fragment, FromTheCommandLine) {
    Facts f = facts_of(kDebian612);
    const Outcome profile = run(invocation({"kernel-check", "--fragment"}), f);
    EXPECT_EQ(profile.code, kExitOk);
    EXPECT_NE(profile.out.find("CONFIG_CRYPTO_AES_NI_INTEL=y\n"), std::string::npos);
    EXPECT_NE(profile.out.find("CONFIG_IXGBE=y\n"), std::string::npos);  // the NIC's driver
    f.modules = parse_module_list("Module Size Used by\nnvme_core 1 0\n");
    const Outcome listed =
        run(invocation({"kernel-check", "--fragment", "--modules", "lsmod.txt"}), f);
    EXPECT_EQ(listed.out.substr(listed.out.find('\n') + 1), "CONFIG_NVME_CORE=y\n");
}

TEST(KernelCheckArgs, Options) {
    const Invocation inv =
        invocation({"kernel-check", "--config", "/tmp/.config", "--release", "6.1.0-57-amd64"});
    EXPECT_EQ(inv.command, Command::kernel_check);
    EXPECT_EQ(inv.kernel_config, "/tmp/.config");
    EXPECT_EQ(inv.release, "6.1.0-57-amd64");
    EXPECT_FALSE(inv.fragment);
    for (const auto& bad : std::vector<std::vector<std::string>>{
             {"kernel-check", "--modules", "x"},  // only with --fragment
             {"kernel-check", "--config", ""},
             {"kernel-check", "--bogus"}}) {
        const auto parsed = parse_args(bad);
        ASSERT_TRUE(std::holds_alternative<Outcome>(parsed)) << bad.back();
        EXPECT_EQ(std::get<Outcome>(parsed).code, kExitUsage);
    }
}

}  // namespace
}  // namespace mutexctl::kernel
