// SPDX-License-Identifier: GPL-2.0
// `mutexctl upgrade`: replaces the running mutex_proxy module with a newly installed (or given)
// one without dropping the connections it steered.
//
// A steered connection's NAT is conntrack's, not the module's (the UAPI header's "Module
// upgrades"): it survives the unload as long as conntrack and the NAT core's hooks stay
// registered in the namespace. So the upgrade
//   1. reads what the running module holds: its parameters and the namespace's configuration
//      (with the backends' states as mutexd set them);
//   2. pins conntrack and NAT with an nftables table of nat chains (pin_ruleset());
//   3. unloads the module and loads the new one (modprobe, or insmod FILE);
//   4. gives the new module the same parameters and configuration: its first configuration adopts
//      every connection the old one steered (MUTEX_STATS_A_FLOWS_ADOPTED counts them);
//   5. removes the pin.
// A step that fails before the unload changes nothing; once the old module is gone, the pin stays
// until a module holds the configuration again, so established connections keep their NAT, and
// the error says what is left to do. Only the namespace mutexctl runs in is carried over (the
// module is one for every namespace; another namespace's mutexd puts its own configuration back).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mutexctl/cli.hpp"

namespace mutexctl {

/// The nftables table that keeps conntrack and the NAT core's hooks alive across the swap.
inline constexpr std::string_view kPinTable = "mutex_proxy_upgrade";

/// The pin: an inet table with a nat chain on each of the four NAT hooks (the NAT core's hooks
/// for IPv4 and IPv6 stay registered while it exists) and a conntrack match (`ct state new
/// counter`, which holds conntrack for both families and counts the connections that began
/// during the swap). Pure.
std::string pin_ruleset();
/// Deletes the pin (nft -f -). Pure.
std::string unpin_ruleset();

/// Runs `mutexctl upgrade [--module FILE]`: `connect` reaches the module (old, then new).
Outcome upgrade(const Invocation& invocation, const Connect& connect, SystemTools& tools);

}  // namespace mutexctl
