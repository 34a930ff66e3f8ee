// SPDX-License-Identifier: GPL-2.0
// Blocking client of the mutex_proxy generic netlink family: one socket, the family resolved
// once, one method per command. For mutexctl and tests; the daemon drives Exchange itself.
#pragma once

#include <cstdint>
#include <string>

#include "libmutex/codec.hpp"
#include "libmutex/netlink.hpp"

namespace mutex {

class Client {
public:
    /// Opens the socket and resolves MUTEX_PROXY_GENL_NAME.
    /// Throws FamilyNotFound ("mutex_proxy module not loaded") when the module is absent.
    Client();

    [[nodiscard]] const FamilyInfo& family() const noexcept { return family_; }

    /// MUTEX_CMD_GET_INFO.
    Info get_info();
    /// MUTEX_CMD_GET_STATS.
    Stats get_stats();
    /// MUTEX_CMD_SET_PARAMS with the parameters set in `params`; returns every parameter after
    /// the change. Throws NetlinkError with the kernel's extended ack when a value is refused.
    Params set_params(const Params& params);

    /// MUTEX_CMD_SET_CONFIG: replaces the namespace's configuration if its generation is still
    /// `expected_generation`; returns the new generation. Interface names of the rules are looked
    /// up in `interfaces` (resolved by the caller). Throws NetlinkError with the kernel's extended
    /// ack on refusal (ESTALE: another writer changed the configuration since it was read).
    std::uint64_t apply(const config::Config& config, std::uint64_t expected_generation,
                        const InterfaceIndexes& interfaces);
    /// MUTEX_CMD_GET_CONFIG: generation, configuration and backend counters. Interface indexes
    /// are named through `names` (the decimal index when it has no name for one).
    ConfigSnapshot get_config(const InterfaceNames& names = {});

    /// The kernel's extended-ack warning on the last successful request, usually empty.
    [[nodiscard]] const std::string& warning() const noexcept { return warning_; }

private:
    template <typename Result, typename Encode, typename Decode>
    Result transact(const char* command, Encode encode, Decode decode);

    Channel channel_;
    FamilyInfo family_;
    std::string warning_;
};

}  // namespace mutex
