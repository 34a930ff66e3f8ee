// SPDX-License-Identifier: GPL-2.0
#include "libmutex/client.hpp"

#include <linux/mutex_proxy.h>

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libmutex/error.hpp"

namespace mutex {

FlowDump collect_flows(unsigned attempts, const std::function<FlowDumpAttempt()>& dump_once) {
    FlowDump dump;
    do {
        FlowDumpAttempt attempt = dump_once();
        ++dump.attempts;
        dump.flows = std::move(attempt.flows);
        dump.consistent = !attempt.interrupted;
    } while (!dump.consistent && dump.attempts < attempts);
    return dump;
}

Client::Client() : family_(resolve_family(channel_, MUTEX_PROXY_GENL_NAME)) {}

template <typename Result, typename Encode, typename Decode>
Result Client::transact(const char* command, Encode encode, Decode decode) {
    RequestBuffer request;
    const std::uint32_t seq = channel_.next_seq();
    const Message msg = encode(request.bytes, seq);
    std::optional<Result> result;
    Exchange exchange(seq, channel_.portid(), [&](const nlmsghdr& reply) {
        if (reply.nlmsg_type != family_.id) {
            throw ProtocolError("unexpected message type " + std::to_string(reply.nlmsg_type) +
                                " in " + command + " reply");
        }
        if (result) {
            throw ProtocolError(std::string("more than one ") + command + " reply");
        }
        result = decode(reply);
    });
    channel_.run(msg, exchange);
    if (!result) {
        throw ProtocolError(std::string("no ") + command + " reply");
    }
    warning_ = exchange.warning();
    return std::move(*result);
}

Info Client::get_info() {
    return transact<Info>(
        "GET_INFO",
        [this](MutableBuffer buf, std::uint32_t seq) {
            return encode_get_info(buf, family_.id, seq);
        },
        [](const nlmsghdr& msg) { return decode_info(msg); });
}

Stats Client::get_stats() {
    return transact<Stats>(
        "GET_STATS",
        [this](MutableBuffer buf, std::uint32_t seq) {
            return encode_get_stats(buf, family_.id, seq);
        },
        [](const nlmsghdr& msg) { return decode_stats(msg); });
}

Params Client::set_params(const Params& params) {
    return transact<Params>(
        "SET_PARAMS",
        [this, &params](MutableBuffer buf, std::uint32_t seq) {
            return encode_set_params(buf, family_.id, seq, params);
        },
        [](const nlmsghdr& msg) { return decode_params(msg); });
}

std::uint64_t Client::apply(const config::Config& config, std::uint64_t expected_generation,
                            const InterfaceIndexes& interfaces) {
    std::vector<std::byte> storage;
    return transact<std::uint64_t>(
        "SET_CONFIG",
        [&](MutableBuffer /*unused*/, std::uint32_t seq) {
            storage = encode_set_config(family_.id, seq, config, expected_generation, interfaces);
            return Message{storage};
        },
        [](const nlmsghdr& msg) { return decode_set_config(msg); });
}

ConfigSnapshot Client::get_config(const InterfaceNames& names) {
    // A configuration replaced during the dump gives parts that do not belong together: the
    // kernel flags it, and the dump is read again.
    constexpr unsigned kAttempts = 5;
    for (unsigned attempt = 1;; ++attempt) {
        RequestBuffer request;
        const std::uint32_t seq = channel_.next_seq();
        const Message msg = encode_get_config(request.bytes, family_.id, seq);
        // The handler's message lives in the receive buffer: keep a copy of each.
        std::vector<std::vector<std::byte>> copies;
        const DumpResult result = run_dump(channel_, msg, seq, [&](const nlmsghdr& reply) {
            if (reply.nlmsg_type != family_.id) {
                throw ProtocolError("unexpected message type " + std::to_string(reply.nlmsg_type) +
                                    " in GET_CONFIG reply");
            }
            const auto* first = reinterpret_cast<const std::byte*>(&reply);
            copies.emplace_back(first, first + reply.nlmsg_len);
        });
        if (result.interrupted && attempt < kAttempts) {
            continue;
        }
        if (result.interrupted) {
            throw ProtocolError("the configuration kept changing while GET_CONFIG read it");
        }
        std::vector<const nlmsghdr*> parts;
        parts.reserve(copies.size());
        for (const auto& copy : copies) {
            parts.push_back(reinterpret_cast<const nlmsghdr*>(copy.data()));
        }
        warning_.clear();
        return decode_config(parts, names);
    }
}

FlowDump Client::flows(unsigned attempts) {
    FlowDump dump = collect_flows(attempts, [this] {
        RequestBuffer request;
        const std::uint32_t seq = channel_.next_seq();
        const Message msg = encode_get_flows(request.bytes, family_.id, seq);
        FlowDumpAttempt attempt;
        const DumpResult result = run_dump(channel_, msg, seq, [&](const nlmsghdr& reply) {
            if (reply.nlmsg_type != family_.id) {
                throw ProtocolError("unexpected message type " + std::to_string(reply.nlmsg_type) +
                                    " in GET_FLOWS reply");
            }
            auto part = decode_flows(reply);
            attempt.flows.insert(attempt.flows.end(), std::make_move_iterator(part.begin()),
                                 std::make_move_iterator(part.end()));
        });
        attempt.interrupted = result.interrupted;
        return attempt;
    });
    warning_.clear();
    return dump;
}

Flow Client::origdst(const FlowKey& key) {
    return transact<Flow>(
        "GET_ORIGDST",
        [this, &key](MutableBuffer buf, std::uint32_t seq) {
            return encode_get_origdst(buf, family_.id, seq, key);
        },
        [](const nlmsghdr& msg) { return decode_origdst(msg); });
}

std::uint64_t Client::flush_flows() {
    return transact<std::uint64_t>(
        "FLUSH_FLOWS",
        [this](MutableBuffer buf, std::uint32_t seq) {
            return encode_flush_flows(buf, family_.id, seq);
        },
        [](const nlmsghdr& msg) { return decode_flush_flows(msg); });
}

std::uint64_t Client::set_backend(const BackendChange& change) {
    return transact<std::uint64_t>(
        "SET_BACKEND",
        [this, &change](MutableBuffer buf, std::uint32_t seq) {
            return encode_set_backend(buf, family_.id, seq, change);
        },
        [](const nlmsghdr& msg) { return decode_set_backend(msg); });
}

std::uint64_t Client::end_flows(const BackendRef& backend, config::Protocol protocol) {
    return transact<std::uint64_t>(
        "END_FLOWS",
        [this, &backend, protocol](MutableBuffer buf, std::uint32_t seq) {
            return encode_end_flows(buf, family_.id, seq, backend, protocol);
        },
        [](const nlmsghdr& msg) { return decode_end_flows(msg); });
}

EventListener::EventListener(bool flows)
    : family_(resolve_family(channel_, MUTEX_PROXY_GENL_NAME)) {
    const auto join = [this](std::string_view name) {
        for (const auto& group : family_.mcast_groups) {
            if (group.name == name) {
                channel_.join(group.id);
                return;
            }
        }
        throw ProtocolError("the module has no \"" + std::string(name) +
                            "\" multicast group (API version 4 or later needed)");
    };
    join(kEventsGroup);
    if (flows) {
        join(kFlowsGroup);
    }
}

std::vector<Event> EventListener::drain() {
    std::vector<Event> events;
    for (Message msg = channel_.receive(); !msg.empty(); msg = channel_.receive()) {
        for_each_message(msg, [&](const nlmsghdr& hdr) {
            if (hdr.nlmsg_type == family_.id) {
                auto part = decode_events(hdr);
                events.insert(events.end(), std::make_move_iterator(part.begin()),
                              std::make_move_iterator(part.end()));
            }
        });
    }
    return events;
}

std::vector<Event> EventListener::receive(std::chrono::milliseconds timeout) {
    for (;;) {
        channel_.wait_readable(timeout);
        const Message msg = channel_.receive();
        std::vector<Event> events;
        bool ours = false;
        for_each_message(msg, [&](const nlmsghdr& hdr) {
            if (hdr.nlmsg_type != family_.id) {
                return;
            }
            ours = true;
            auto part = decode_events(hdr);
            events.insert(events.end(), std::make_move_iterator(part.begin()),
                          std::make_move_iterator(part.end()));
        });
        if (ours) {
            return events;
        }
    }
}

}  // namespace mutex
