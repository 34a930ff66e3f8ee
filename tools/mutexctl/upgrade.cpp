// SPDX-License-Identifier: GPL-2.0
// `mutexctl upgrade` (see upgrade.hpp).
#include "mutexctl/upgrade.hpp"

#include <exception>
#include <string>
#include <utility>

#include "libmutex/error.hpp"
#include "libmutex/format.hpp"

namespace mutexctl {

namespace format = mutex::format;

std::string pin_ruleset() {
    const std::string table(kPinTable);
    // A nat chain holds the NAT core's hooks, not conntrack's: the ct match does (nft_ct takes
    // conntrack for the table's family). Its counters tell how many connections began, unsteered,
    // during the swap.
    return "# mutexctl upgrade: keeps conntrack and NAT registered while mutex_proxy is "
           "replaced\n"
           "table inet " +
           table +
           " {\n"
           "\tchain prerouting { type nat hook prerouting priority dstnat; ct state new counter; "
           "}\n"
           "\tchain output { type nat hook output priority -100; ct state new counter; }\n"
           "\tchain input { type nat hook input priority 100; }\n"
           "\tchain postrouting { type nat hook postrouting priority srcnat; }\n"
           "}\n";
}

std::string unpin_ruleset() {
    return "delete table inet " + std::string(kPinTable) + "\n";
}

namespace {

/// What the old module held, to give to the new one.
struct Carried {
    mutex::Info info;
    mutex::ConfigSnapshot snapshot;
};

std::string failure_after_unload(const std::string& what) {
    return "mutexctl: upgrade: " + what +
           "\nmutexctl: upgrade: the old module is unloaded; nftables table inet " +
           std::string(kPinTable) +
           " keeps the steered connections translated. Load a module (modprobe mutex_proxy), "
           "apply the configuration (mutexctl config apply FILE, or restart mutexd), then "
           "remove the pin: nft delete table inet " +
           std::string(kPinTable) + "\n";
}

std::string message(const std::exception& e) {
    return e.what();
}

}  // namespace

Outcome upgrade(const Invocation& invocation, const Connect& connect, SystemTools& tools) {
    Carried carried;
    // 1. What the running module holds; nothing has changed if this fails.
    try {
        auto old_module = connect();
        carried.info = old_module->get_info();
        carried.snapshot = old_module->get_config();
    } catch (const mutex::FamilyNotFound&) {
        return {kExitFailure,
                {},
                "mutexctl: upgrade: the mutex_proxy module is not loaded: nothing to upgrade "
                "(load it with modprobe mutex_proxy)\n"};
    } catch (const std::exception& e) {
        return {kExitFailure,
                {},
                "mutexctl: upgrade: reading the running module: " + message(e) + "\n"};
    }

    // 2. The pin; then 3. the swap. A failure up to the unload undoes the pin.
    try {
        tools.nft(pin_ruleset());
    } catch (const std::exception& e) {
        return {kExitFailure,
                {},
                "mutexctl: upgrade: pinning conntrack and NAT (nft): " + message(e) +
                    "\nmutexctl: upgrade: nothing changed\n"};
    }
    try {
        tools.unload();
    } catch (const std::exception& e) {
        std::string err = "mutexctl: upgrade: unloading mutex_proxy: " + message(e) + "\n";
        try {
            tools.nft(unpin_ruleset());
            err += "mutexctl: upgrade: nothing changed\n";
        } catch (const std::exception& unpin) {
            err += "mutexctl: upgrade: removing the pin: " + message(unpin) + "\n";
        }
        return {kExitFailure, {}, err};
    }
    try {
        tools.load(invocation.module_file);
    } catch (const std::exception& e) {
        return {kExitFailure, {}, failure_after_unload("loading the new module: " + message(e))};
    }

    // 4. The same parameters and configuration; the configuration adopts the connections.
    mutex::Info info;
    mutex::Stats stats;
    std::uint64_t generation = 0;
    std::string warning;
    try {
        auto new_module = connect();
        new_module->set_params(carried.info.params);
        const mutex::InterfaceIndexes interfaces =
            interface_indexes(carried.snapshot.config, *new_module, "the running configuration");
        generation = new_module->set_config(carried.snapshot.config,
                                            new_module->get_config().generation, interfaces);
        warning = new_module->warning();
        info = new_module->get_info();
        stats = new_module->get_stats();
    } catch (const std::exception& e) {
        return {kExitFailure,
                {},
                failure_after_unload("giving the new module the old one's parameters and "
                                     "configuration: " +
                                     message(e))};
    }

    // 5. The pin goes: the new module's own NAT functions steer from here on.
    std::string err;
    int code = kExitOk;
    try {
        tools.nft(unpin_ruleset());
    } catch (const std::exception& e) {
        code = kExitFailure;
        err = "mutexctl: upgrade: removing the pin (nft delete table inet " +
              std::string(kPinTable) + "): " + message(e) + "\n";
    }
    if (!warning.empty()) {
        err += "mutexctl: warning: " + warning + "\n";
    }
    std::string out;
    if (invocation.json) {
        format::Json doc;
        doc["from_version"] = carried.info.version;
        doc["to_version"] = info.version;
        doc["api_version"] = info.api_version;
        doc["generation"] = generation;
        doc["pools"] = carried.snapshot.config.pools.size();
        doc["rules"] = carried.snapshot.config.rules.size();
        doc["flows_adopted"] = stats.flows_adopted;
        out = format::json_line(doc);
    } else {
        out = "upgraded mutex_proxy " + carried.info.version + " -> " + info.version + " (API " +
              std::to_string(info.api_version) + "): parameters and configuration (" +
              std::to_string(carried.snapshot.config.pools.size()) + " pools, " +
              std::to_string(carried.snapshot.config.rules.size()) +
              " rules) re-applied as generation " + std::to_string(generation) + ", " +
              std::to_string(stats.flows_adopted) + " steered connections adopted\n";
    }
    return {code, out, err};
}

}  // namespace mutexctl
