// SPDX-License-Identifier: GPL-2.0
#include "interfaces/resolve.hpp"

#include <linux/mutex_proxy.h>

#include <set>

namespace mutexd::interfaces {

namespace cfg = mutex::config;

namespace {

std::string index_text(std::uint32_t index) {
    return index == MUTEX_IFINDEX_NONE ? std::string("none") : std::to_string(index);
}

}  // namespace

mutex::InterfaceIndexes resolve(const cfg::Config& config, const Lookup& lookup) {
    mutex::InterfaceIndexes out;
    for (const auto& rule : config.rules) {
        for (const auto& name : {rule.out_interface, rule.in_interface}) {
            if (!name || out.contains(*name)) {
                continue;
            }
            out.emplace(*name, lookup(*name).value_or(MUTEX_IFINDEX_NONE));
        }
    }
    return out;
}

std::vector<std::string> missing(const mutex::InterfaceIndexes& indexes) {
    std::vector<std::string> out;
    for (const auto& [name, index] : indexes) {
        if (index == MUTEX_IFINDEX_NONE) {
            out.push_back(name);
        }
    }
    return out;
}

std::vector<std::string> changes(const mutex::InterfaceIndexes& before,
                                 const mutex::InterfaceIndexes& after) {
    std::set<std::string, std::less<>> names;
    for (const auto& [name, index] : before) {
        names.insert(name);
    }
    for (const auto& [name, index] : after) {
        names.insert(name);
    }
    std::vector<std::string> out;
    for (const auto& name : names) {
        const auto b = before.find(name);
        const auto a = after.find(name);
        const std::uint32_t was = b == before.end() ? MUTEX_IFINDEX_NONE : b->second;
        const std::uint32_t now = a == after.end() ? MUTEX_IFINDEX_NONE : a->second;
        if (was != now) {
            out.push_back(name + ": " + index_text(was) + " -> " + index_text(now));
        }
    }
    return out;
}

cfg::Config by_index(cfg::Config config, const mutex::InterfaceIndexes& indexes) {
    for (auto& rule : config.rules) {
        for (auto* name : {&rule.out_interface, &rule.in_interface}) {
            if (!*name) {
                continue;
            }
            const auto it = indexes.find(**name);
            *name = std::to_string(it == indexes.end() ? MUTEX_IFINDEX_NONE : it->second);
        }
    }
    return config;
}

}  // namespace mutexd::interfaces
