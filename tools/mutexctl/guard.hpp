// SPDX-License-Identifier: GPL-2.0
// The boot guard: an nftables table that fails closed while the module is not steering.
//
// At boot (mutex-proxy-guard.service, ordered before the network and the validator), `mutexctl
// guard install` loads table inet mutex_proxy_guard built from mutexd.toml: traffic the
// configuration would steer to a guarded pool is dropped, so that a node whose module failed to
// build (DKMS after a kernel upgrade) or to load never dials its peers directly. mutexd removes
// the table (`mutexctl guard remove`, the unit's ExecStartPost) once it has put the configuration
// into the module (READY=1); if the module never comes up, mutexd never gets there and the guard
// stays.
//
// The table follows the rules in order, as the module does (the first rule that matches decides):
// a bypass rule accepts, a drop rule drops (and counts), a steering rule drops when its pool is
// guarded
// ([daemon] guard = "closed": pools in failure mode closed, the default; "all": every steering
// rule, a redirect to a port of the rule's too; "off": no table) and accepts otherwise. Chain
// output takes the node's own traffic, chain forward the traffic routed through it (containers,
// VMs); owner matches (uid, gid, cgroup) apply to the node's own only, as in the module. Where a
// match cannot be said in nftables at boot (a cgroup path: nft resolves it when the rule is
// loaded, before the validator's cgroup exists), a dropping rule leaves it out (it drops more)
// and an accepting one is left out (it accepts less): the guard errs on the closed side.
#pragma once

#include <string>
#include <string_view>

#include "libmutex/config.hpp"

namespace mutexctl {

inline constexpr std::string_view kGuardTable = "mutex_proxy_guard";
inline constexpr std::string_view kDefaultConfigFile = "/etc/mutex_proxy/mutexd.toml";

/// What guard_ruleset() built.
struct GuardRuleset {
    std::string text;          // for nft -f -: the table, replacing any earlier one
    std::size_t dropping = 0;  // rules that drop (per chain they appear in)
    std::size_t accepting = 0;
};

/// The guard's table for `config` and `mode` (not off). Pure.
GuardRuleset guard_ruleset(const mutex::config::Config& config, mutex::config::GuardMode mode);

/// Deletes the guard's table if it exists (nft -f -). Pure.
std::string guard_remove_ruleset();

}  // namespace mutexctl
