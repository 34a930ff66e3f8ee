// SPDX-License-Identifier: GPL-2.0
// Blocking client of the mutex_proxy generic netlink family: one socket, the family resolved
// once, one method per command. For mutexctl and tests; the daemon drives Exchange itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/netlink.hpp"

namespace mutex {

/// What a GET_FLOWS dump collected: every flow of the last attempt, and whether that attempt
/// was consistent (no NLM_F_DUMP_INTR: the walk missed or repeated no flow that stayed; the
/// kernel flags a table resize or the removal of the flow a message stopped at).
struct FlowDump {
    std::vector<Flow> flows;
    bool consistent = true;
    unsigned attempts = 0;  // dumps made, 1 when the first was consistent

    bool operator==(const FlowDump&) const = default;
};

/// How many dumps Client::flows() makes at most before it settles for an inconsistent one.
inline constexpr unsigned kFlowDumpAttempts = 3;

/// One dump: the flows it returned, and whether it carried NLM_F_DUMP_INTR.
struct FlowDumpAttempt {
    std::vector<Flow> flows;
    bool interrupted = false;
};

/// Runs `dump_once` until one attempt is not interrupted, at most `attempts` times (at least
/// once). Returns the last attempt's flows; consistent is false if every attempt was interrupted.
/// Pure retry policy, unit-tested without a socket.
FlowDump collect_flows(unsigned attempts, const std::function<FlowDumpAttempt()>& dump_once);

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

    /// MUTEX_CMD_GET_FLOWS: every flow of the namespace's connection table, from a dump of as
    /// many messages as it takes. A busy table may change during the dump (NLM_F_DUMP_INTR: a
    /// flow missing or listed twice); then the dump is repeated, up to `attempts` times, and the
    /// last one is returned with consistent == false if none was clean.
    FlowDump flows(unsigned attempts = kFlowDumpAttempts);
    /// MUTEX_CMD_GET_ORIGDST: the flow a proxy sees as `key` (post-NAT 5-tuple). Throws
    /// NetlinkError(ENOENT) with the kernel's message when no steered flow has that 5-tuple,
    /// std::invalid_argument for an unusable key (nothing is sent).
    Flow origdst(const FlowKey& key);
    /// MUTEX_CMD_FLUSH_FLOWS: empties the connection table; returns how many flows it held.
    /// Throws NetlinkError(EPERM) without CAP_NET_ADMIN over the network namespace.
    std::uint64_t flush_flows();

    /// MUTEX_CMD_SET_BACKEND: one backend's state and/or weight; returns the generation (which
    /// a SET_BACKEND does not change). Throws NetlinkError with the kernel's message: ENOENT for
    /// an unknown pool or backend, ESTALE when change.generation is set and is not current.
    std::uint64_t set_backend(const BackendChange& change);
    /// MUTEX_CMD_END_FLOWS: ends the connections steered to `backend` (only `protocol`'s unless
    /// any); returns how many.
    std::uint64_t end_flows(const BackendRef& backend, config::Protocol protocol);

    /// The kernel's extended-ack warning on the last successful request, usually empty.
    [[nodiscard]] const std::string& warning() const noexcept { return warning_; }

private:
    template <typename Result, typename Encode, typename Decode>
    Result transact(const char* command, Encode encode, Decode decode);

    Channel channel_;
    FamilyInfo family_;
    std::string warning_;
};

/// A socket joined to the family's "events" multicast group, and with `flows` to "flows" too
/// (CAP_NET_ADMIN over the network namespace). receive() blocks for the next message; a
/// BufferError(ENOBUFS) from it means events were lost (the socket stays usable: read the state
/// again).
class EventListener {
public:
    /// Resolves the family and joins the groups. Throws FamilyNotFound without the module,
    /// ProtocolError when the module has no such group (API version < 4), NetlinkError(EPERM).
    explicit EventListener(bool flows = false);

    [[nodiscard]] int fd() const noexcept { return channel_.fd(); }
    /// The events of the next message, after waiting up to `timeout` for it (NetlinkError
    /// ETIMEDOUT). Messages of other types are skipped.
    std::vector<Event> receive(std::chrono::milliseconds timeout);
    /// For an event loop, with fd() non-blocking: the events of every message pending now
    /// (none when nothing is). Throws BufferError(ENOBUFS) when events were lost meanwhile.
    std::vector<Event> drain();

private:
    Channel channel_;
    FamilyInfo family_;
};

}  // namespace mutex
