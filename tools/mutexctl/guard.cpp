// SPDX-License-Identifier: GPL-2.0
// The boot guard's nftables table (see guard.hpp).
#include "mutexctl/guard.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mutexctl {

namespace {

namespace cfg = mutex::config;

enum class Chain : std::uint8_t { output, forward };

std::string nft_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string range(std::uint32_t first, std::uint32_t last) {
    return first == last ? std::to_string(first)
                         : std::to_string(first) + "-" + std::to_string(last);
}

/// Whether `rule` drops in the guard (else it accepts).
bool drops(const cfg::Rule& rule, const cfg::Config& config, cfg::GuardMode mode) {
    switch (rule.action) {
        case cfg::Action::bypass:
            return false;
        case cfg::Action::drop:
            return true;
        case cfg::Action::redirect:
        case cfg::Action::dnat:
            break;
    }
    if (mode == cfg::GuardMode::all) {
        return true;
    }
    const cfg::Pool* pool = rule.pool ? config.find_pool(*rule.pool) : nullptr;
    return pool != nullptr && pool->failure_mode == cfg::FailureMode::closed;
}

/// The nft rule for `rule` in `chain`, or nullopt when it has no place there.
std::optional<std::string> nft_rule(const cfg::Rule& rule, cfg::Protocol protocol, bool drop,
                                    Chain chain, std::size_t index) {
    const bool owner = rule.uid || rule.gid || rule.cgroup;
    if (chain == Chain::forward && owner) {
        return std::nullopt;  // owner matches see the node's own traffic only
    }
    if (chain == Chain::output && rule.in_interface) {
        return std::nullopt;  // the node's own traffic comes in on no interface
    }
    if (rule.cgroup && !drop) {
        return std::nullopt;  // cannot be said at boot: accept less
    }
    std::string line;
    const auto family = rule.family();
    const std::string ip = family == cfg::Family::ipv6 ? "ip6" : "ip";
    if (rule.destination) {
        line += ip + " daddr " + cfg::to_string(*rule.destination) + " ";
    }
    if (rule.source) {
        line += ip + " saddr " + cfg::to_string(*rule.source) + " ";
    }
    // the module decides TCP and UDP connections only; a rule for both is two (an anonymous
    // set, "{ tcp, udp }", trips lockdep in 6.1's nf_tables_newset)
    line += "meta l4proto " + std::string(cfg::to_string(protocol)) + " ";
    if (rule.destination_ports) {
        line +=
            "th dport " + range(rule.destination_ports->first, rule.destination_ports->last) + " ";
    }
    if (rule.source_ports) {
        line += "th sport " + range(rule.source_ports->first, rule.source_ports->last) + " ";
    }
    if (rule.uid) {
        line += "meta skuid " + range(rule.uid->first, rule.uid->last) + " ";
    }
    if (rule.gid) {
        line += "meta skgid " + range(rule.gid->first, rule.gid->last) + " ";
    }
    if (rule.mark) {
        line += "meta mark and " + std::to_string(rule.mark->mask) +
                " == " + std::to_string(rule.mark->value) + " ";
    }
    if (rule.out_interface) {
        line += "oifname " + nft_string(*rule.out_interface) + " ";
    }
    if (rule.in_interface) {
        line += "iifname " + nft_string(*rule.in_interface) + " ";
    }
    // the counter says what the guard held back (nft list table inet mutex_proxy_guard)
    line += drop ? "counter drop" : "accept";
    line += " comment " + nft_string("rule " + std::to_string(index + 1) +
                                     (rule.name ? " " + *rule.name : std::string()) +
                                     (rule.cgroup && drop ? " (any cgroup)" : ""));
    return line;
}

}  // namespace

GuardRuleset guard_ruleset(const cfg::Config& config, cfg::GuardMode mode) {
    GuardRuleset out;
    const std::string table(kGuardTable);
    // Declaring, deleting and filling the table in one transaction (nft -f) replaces an earlier
    // one atomically.
    out.text =
        "# mutexctl guard (guard = " + std::string(cfg::name_of(cfg::kGuardModeNames, mode)) +
        "): drops what mutex_proxy would steer to a guarded pool until mutexd has applied "
        "the configuration\n"
        "table inet " +
        table + " {}\ndelete table inet " + table + "\ntable inet " + table + " {\n";
    for (const Chain chain : {Chain::output, Chain::forward}) {
        const std::string name = chain == Chain::output ? "output" : "forward";
        out.text += "\tchain ";
        out.text += name;
        out.text += " {\n\t\ttype filter hook ";
        out.text += name;
        out.text += " priority filter; policy accept;\n";
        for (std::size_t i = 0; i < config.rules.size(); ++i) {
            const cfg::Rule& rule = config.rules[i];
            const bool drop = drops(rule, config, mode);
            for (const cfg::Protocol protocol :
                 rule.protocol == cfg::Protocol::any
                     ? std::vector<cfg::Protocol>{cfg::Protocol::tcp, cfg::Protocol::udp}
                     : std::vector<cfg::Protocol>{rule.protocol}) {
                if (const auto line = nft_rule(rule, protocol, drop, chain, i)) {
                    out.text += "\t\t" + *line + "\n";
                    ++(drop ? out.dropping : out.accepting);
                }
            }
        }
        out.text += "\t}\n";
    }
    out.text += "}\n";
    return out;
}

std::string guard_remove_ruleset() {
    const std::string table(kGuardTable);
    return "table inet " + table + " {}\ndelete table inet " + table + "\n";
}

}  // namespace mutexctl
