// SPDX-License-Identifier: GPL-2.0
// Interface names in rules, resolved to the indexes the kernel matches on: pure functions of the
// configuration and a name -> index lookup (the link watcher's, or a test's). No I/O.
//
// The kernel sees indexes only, so a rule's interface follows a rename, a removal and a
// re-creation because mutexd resolves the name again whenever the links change and pushes the
// configuration when an index differs. A name no interface has now resolves to
// MUTEX_IFINDEX_NONE: the rule keeps its place and matches nothing (exactly as if it were absent)
// until an interface of that name appears.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"

namespace mutexd::interfaces {

/// The current index of the interface called `name`, nullopt if there is none.
using Lookup = std::function<std::optional<std::uint32_t>(std::string_view name)>;

/// Every interface name the rules use -> its index now, MUTEX_IFINDEX_NONE where none has it.
mutex::InterfaceIndexes resolve(const mutex::config::Config& config, const Lookup& lookup);

/// The names that resolve to no interface, in name order.
std::vector<std::string> missing(const mutex::InterfaceIndexes& indexes);

/// One line per name whose index differs between `before` and `after` ("wg0: 7 -> none"), in
/// name order; empty when the kernel's rules would not change.
std::vector<std::string> changes(const mutex::InterfaceIndexes& before,
                                 const mutex::InterfaceIndexes& after);

/// `config` with each rule's interface names replaced by their decimal indexes in `indexes`: the
/// form in which a configuration read back from the kernel with no name lookup compares equal to
/// the file's (so a missing interface compares as MUTEX_IFINDEX_NONE, not as a name).
mutex::config::Config by_index(mutex::config::Config config,
                               const mutex::InterfaceIndexes& indexes);

}  // namespace mutexd::interfaces
