// SPDX-License-Identifier: GPL-2.0
// The configuration file is an interface: operators write it, mutexctl and mutexd read it. These
// tests pin down what is accepted, what is refused and where the error is reported.
#include "libmutex/config.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mutex::config {
namespace {

constexpr std::string_view kFile = "t.toml";

/// Two pools used by the rule tests: lines 1-11.
constexpr std::string_view kPools = R"([[pool]]
name = "local"
backend = [{ port = 12345 }, { port = 12346 }]

[[pool]]
name = "relays4"
backend = [{ address = "192.0.2.1", port = 26656 }, { address = "192.0.2.2", port = 26656 }]

[[pool]]
name = "relays6"
backend = [{ address = "2001:db8::1", port = 26656 }]
)";

std::vector<Diagnostic> errors_of(std::string_view text) {
    try {
        (void)parse(text, kFile);
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

/// Exactly one diagnostic, at line:column, whose message contains `what`.
::testing::AssertionResult one_error(std::string_view text, std::uint32_t line,
                                     std::uint32_t column, std::string_view what) {
    const auto diagnostics = errors_of(text);
    if (diagnostics.size() != 1) {
        auto r = ::testing::AssertionFailure() << diagnostics.size() << " diagnostics:";
        for (const auto& d : diagnostics) {
            r << "\n  " << d.to_string();
        }
        return r;
    }
    const auto& d = diagnostics.front();
    if (d.file != kFile || d.line != line || d.column != column ||
        d.message.find(what) == std::string::npos) {
        return ::testing::AssertionFailure() << "got " << d.to_string() << ", want " << line << ':'
                                             << column << " with '" << what << "'";
    }
    return ::testing::AssertionSuccess();
}

/// kPools followed by one [[rule]] (at line 13) made of `body`.
std::string with_rule(std::string_view body) {
    return std::string(kPools) + "\n[[rule]]\n" + std::string(body);
}

// --- accepted files ----------------------------------------------------------------------------

TEST(ParseAddress, Ipv4AndIpv6Only) {
    EXPECT_EQ(parse_address("10.0.0.2"),
              (mutex::config::Address{mutex::config::Family::ipv4, {10, 0, 0, 2}}));
    const auto v6 = parse_address("2001:db8::1");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->family, mutex::config::Family::ipv6);
    EXPECT_EQ(v6->bytes[0], 0x20U);
    EXPECT_EQ(v6->bytes[15], 1U);
    EXPECT_TRUE(parse_address("::ffff:10.0.0.1").has_value());
    for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.2:80", "[::1]", "::1/128",
                            "fe80::1%eth0", "010.0.0.2 ", "localhost", "1.2.3.4.5"}) {
        EXPECT_EQ(parse_address(bad), std::nullopt) << '"' << bad << '"';
    }
    EXPECT_EQ(parse_address(std::string_view("10.0.0.2\0x", 10)), std::nullopt);
}

TEST(ConfigExample, ShippedFileValidates) {
    const Config config = load_file(MUTEX_EXAMPLE_CONFIG);
    ASSERT_EQ(config.pools.size(), 2U);
    EXPECT_EQ(config.pools[0].name, "cosmos-sentries");
    EXPECT_EQ(config.pools[0].scheduler, Scheduler::failover);
    EXPECT_EQ(config.pools[1].scheduler, Scheduler::wrr);
    EXPECT_TRUE(config.pools[1].backends[0].is_local());
    EXPECT_GE(config.rules.size(), 5U);
    EXPECT_EQ(parse(to_toml(config), "shown.toml"), config);
}

TEST(ConfigParse, EmptyFileIsAnEmptyConfig) {
    EXPECT_EQ(parse("", kFile), Config{});
    EXPECT_EQ(parse("# nothing\n", kFile), Config{});
}

TEST(ConfigParse, MinimalRedirect) {
    const Config c = parse("[[rule]]\naction = \"redirect\"\nto_port = 12345\n", kFile);
    ASSERT_EQ(c.rules.size(), 1U);
    const Rule& r = c.rules[0];
    EXPECT_EQ(r.action, Action::redirect);
    EXPECT_EQ(r.to_port, 12345);
    EXPECT_EQ(r.protocol, Protocol::any);
    EXPECT_FALSE(r.name || r.destination || r.pool || r.uid);
    EXPECT_FALSE(r.family());
}

TEST(ConfigParse, Defaults) {
    const Config c = parse("[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = 1\n", kFile);
    ASSERT_EQ(c.pools.size(), 1U);
    const Pool& p = c.pools[0];
    EXPECT_EQ(p.scheduler, Scheduler::rr);
    EXPECT_EQ(p.failure_mode, FailureMode::closed);
    ASSERT_EQ(p.backends.size(), 1U);
    EXPECT_EQ(p.backends[0], (Backend{std::nullopt, 1, 1, 0, BackendState::up}));
}

TEST(ConfigParse, EveryField) {
    const Config c = parse(with_rule(R"(name = "all"
protocol = "udp"
destination = "2001:db8::/32"
destination_ports = "30303"
source = "2001:db8:1::1"
source_ports = "1024-65535"
uid = "1000-1999"
gid = 100
cgroup = "/system.slice/geth.service"
mark = "0x10/0xff"
out_interface = "eth0"
action = "dnat"
pool = "relays6"
)"),
                           kFile);
    ASSERT_EQ(c.rules.size(), 1U);
    const Rule& r = c.rules[0];
    EXPECT_EQ(r.name, "all");
    EXPECT_EQ(r.protocol, Protocol::udp);
    ASSERT_TRUE(r.destination);
    EXPECT_EQ(to_string(*r.destination), "2001:db8::/32");
    EXPECT_EQ(r.destination->family, Family::ipv6);
    EXPECT_EQ(r.destination->address[0], 0x20);
    EXPECT_EQ(r.destination->address[1], 0x01);
    EXPECT_EQ(r.destination->length, 32);
    EXPECT_EQ(to_string(*r.source), "2001:db8:1::1/128");
    EXPECT_EQ(r.destination_ports, (PortRange{30303, 30303}));
    EXPECT_EQ(r.source_ports, (PortRange{1024, 65535}));
    EXPECT_EQ(r.uid, (IdRange{1000, 1999}));
    EXPECT_EQ(r.gid, (IdRange{100, 100}));
    EXPECT_EQ(r.cgroup, "/system.slice/geth.service");
    EXPECT_EQ(r.mark, (Mark{0x10, 0xff}));
    EXPECT_EQ(r.out_interface, "eth0");
    EXPECT_EQ(r.action, Action::dnat);
    EXPECT_EQ(r.pool, "relays6");
    EXPECT_EQ(r.family(), Family::ipv6);
}

TEST(ConfigParse, AddressesAndPrefixes) {
    const Config c = parse(R"([[rule]]
destination = "10.0.0.0/8"
action = "bypass"
[[rule]]
destination = "0.0.0.0/0"
action = "drop"
[[rule]]
source = "::/0"
action = "drop"
[[rule]]
destination = "192.0.2.7"
mark = "7"
action = "drop"
)",
                           kFile);
    ASSERT_EQ(c.rules.size(), 4U);
    EXPECT_EQ(c.rules[0].destination,
              (Prefix{Family::ipv4, {10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8}));
    EXPECT_EQ(to_string(*c.rules[1].destination), "0.0.0.0/0");
    EXPECT_EQ(c.rules[2].family(), Family::ipv6);
    EXPECT_EQ(to_string(*c.rules[3].destination), "192.0.2.7/32");
    EXPECT_EQ(c.rules[3].mark, (Mark{7, 0xffffffffU}));
}

TEST(ConfigParse, DnatToAMixedFamilyPoolAndFamilylessRule) {
    const Config c = parse(R"([[pool]]
name = "both"
backend = [{ address = "192.0.2.1", port = 1 }, { address = "2001:db8::1", port = 1 }]
[[rule]]
destination = "198.51.100.0/24"
action = "dnat"
pool = "both"
[[rule]]
destination_ports = "26656"
action = "dnat"
pool = "both"
)",
                           kFile);
    EXPECT_EQ(c.rules.size(), 2U);
}

TEST(ConfigParse, UnreferencedPoolIsAllowed) {
    EXPECT_EQ(parse(kPools, kFile).pools.size(), 3U);
}

TEST(ConfigParse, LimitsAtTheBoundary) {
    const Config c = parse(R"([[pool]]
name = "abcdefghijklmnopqrstuvwxyz_.-01"
[[pool.backend]]
port = 65535
weight = 65535
priority = 255
state = "drain"
[[rule]]
name = "a rule name of 31 characters..."
uid = "0-4294967294"
out_interface = "abcdefghijklmno"
mark = "0xffffffff/0xffffffff"
action = "redirect"
to_port = 1
)",
                           kFile);
    EXPECT_EQ(c.pools[0].backends[0],
              (Backend{std::nullopt, 65535, 65535, 255, BackendState::drain}));
    EXPECT_EQ(c.rules[0].uid, (IdRange{0, 4294967294U}));
}

TEST(ConfigParse, FileNotFound) {
    try {
        (void)load_file("/nonexistent/mutexd.toml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "/nonexistent/mutexd.toml: cannot read: No such file or directory");
    }
    try {
        (void)load_file("/");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U);
        EXPECT_EQ(e.diagnostics()[0], (Diagnostic{"/", 0, 0, "cannot read: Is a directory"}));
    }
}

// --- refused files: one case per error path, with its position -------------------------------

TEST(ConfigErrors, TomlSyntaxError) {
    EXPECT_TRUE(one_error("[[rule]]\naction = \"drop\"\nname = oops\n", 3, 8, "value"));
    EXPECT_TRUE(one_error("[[rule]]\naction = \"drop\"\naction = \"drop\"\n", 3, 10,
                          "cannot redefine existing string 'action'"));
}

TEST(ConfigErrors, MessageFormat) {
    try {
        (void)parse("[[rule]]\naction = \"dorp\"\n", "/etc/mutex_proxy/mutexd.toml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(),
                     "/etc/mutex_proxy/mutexd.toml:2:10: action: unknown action 'dorp' "
                     "(expected one of: redirect, dnat, bypass, drop)");
    }
}

TEST(ConfigErrors, UnknownKeys) {
    EXPECT_TRUE(one_error("verbose = true\n", 1, 1, "unknown key 'verbose' in the top level"));
    EXPECT_TRUE(
        one_error("[[pool]]\nname = \"p\"\nschedular = \"rr\"\n[[pool.backend]]\nport = 1\n", 3, 1,
                  "unknown key 'schedular' in [[pool]] (did you mean 'scheduler'?)"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = 1\nadress = \"::1\"\n",
                          5, 1,
                          "unknown key 'adress' in [[pool.backend]] (did you mean 'address'?)"));
    EXPECT_TRUE(
        one_error("[[rule]]\naction = \"drop\"\nto = 1\n", 3, 1, "unknown key 'to' in [[rule]]"));
}

TEST(ConfigErrors, WrongTypes) {
    EXPECT_TRUE(one_error("[pool]\nname = \"p\"\n", 1, 1,
                          "pool: expected an array of tables ([[pool]]), got a table"));
    EXPECT_TRUE(one_error("rule = [1]\n", 1, 9, "rule: expected a table, got an integer"));
    EXPECT_TRUE(one_error("[[pool]]\nname = 7\n[[pool.backend]]\nport = 1\n", 2, 8,
                          "name: expected a string, got an integer"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = \"80\"\n", 4, 8,
                          "port: expected an integer, got a string"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = 1\nweight = 1.5\n", 5,
                          10, "weight: expected an integer, got a float"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\nbackend = 1\n", 3, 11,
                          "backend: expected an array of tables"));
    EXPECT_TRUE(
        one_error("[[rule]]\naction = true\n", 2, 10, "action: expected a string, got a boolean"));
    EXPECT_TRUE(one_error("[[rule]]\naction = \"drop\"\ndestination_ports = [1]\n", 3, 21,
                          "destination_ports: expected a string (\"N\" or \"N-M\"), got an array"));
}

TEST(ConfigErrors, BadEnumerations) {
    const std::string pool = "[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = 1\n";
    EXPECT_TRUE(one_error(pool + "[[pool]]\nname = \"q\"\nscheduler = \"round-robin\"\n"
                                 "[[pool.backend]]\nport = 1\n",
                          7, 13,
                          "scheduler: unknown scheduler 'round-robin' (expected one of: rr, "
                          "wrr, source-hash, least-conn, failover)"));
    EXPECT_TRUE(
        one_error("[[pool]]\nname = \"p\"\nfailure_mode = \"fail\"\n"
                  "[[pool.backend]]\nport = 1\n",
                  3, 16, "failure_mode: unknown failure mode 'fail'"));
    EXPECT_TRUE(one_error(pool + "state = \"UP\"\n", 5, 9, "state: unknown state 'UP'"));
    EXPECT_TRUE(one_error("[[rule]]\naction = \"accept\"\n", 2, 10, "unknown action 'accept'"));
    EXPECT_TRUE(one_error("[[rule]]\nprotocol = \"icmp\"\naction = \"drop\"\n", 2, 12,
                          "protocol: unknown protocol 'icmp' (expected one of: any, tcp, udp)"));
}

TEST(ConfigErrors, MissingKeys) {
    EXPECT_TRUE(one_error("[[pool]]\n[[pool.backend]]\nport = 1\n", 1, 1,
                          "missing required key 'name' in [[pool]]"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\n  [[pool.backend]]\n  weight = 2\n", 3, 3,
                          "missing required key 'port' in [[pool.backend]]"));
    const auto d = errors_of("[[rule]]\nname = \"r\"\n");
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].to_string(), "t.toml:1:1: missing required key 'action' in [[rule]]");
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\n", 1, 1,
                          "pool 'p' has no backend (add at least one [[pool.backend]])"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\nbackend = []\n", 1, 1, "has no backend"));
}

TEST(ConfigErrors, BadAddresses) {
    EXPECT_TRUE(
        one_error("[[pool]]\nname = \"p\"\n[[pool.backend]]\naddress = \"10.0.0\"\n"
                  "port = 1\n",
                  4, 11, "address: '10.0.0' is not an IPv4 or IPv6 address"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\n[[pool.backend]]\naddress = \"::\"\nport = 1\n",
                          4, 11, "is the unspecified address"));
    // An escaped NUL must not cut the address short.
    EXPECT_TRUE(one_error(
        "[[pool]]\nname = \"p\"\n[[pool.backend]]\naddress = \"10.0.0.1\\u0000x\"\nport = 1\n", 4,
        11, "is not an IPv4 or IPv6 address"));
    EXPECT_TRUE(one_error("[[rule]]\ndestination = \"example.com\"\naction = \"drop\"\n", 2, 15,
                          "destination: 'example.com' is not an IPv4 or IPv6 address"));
    EXPECT_TRUE(one_error("[[rule]]\nsource = \"fe80::1%eth0\"\naction = \"drop\"\n", 2, 10,
                          "not an IPv4 or IPv6 address"));
}

TEST(ConfigErrors, BadPrefixes) {
    EXPECT_TRUE(one_error("[[rule]]\ndestination = \"10.0.0.1/8\"\naction = \"drop\"\n", 2, 15,
                          "destination: '10.0.0.1/8' has host bits set (did you mean "
                          "'10.0.0.0/8'?)"));
    EXPECT_TRUE(one_error("[[rule]]\nsource = \"2001:db8::1/32\"\naction = \"drop\"\n", 2, 10,
                          "has host bits set (did you mean '2001:db8::/32'?)"));
    EXPECT_TRUE(one_error("[[rule]]\ndestination = \"10.0.0.0/33\"\naction = \"drop\"\n", 2, 15,
                          "prefix length '33' is not a number in 0..32 for an IPv4 prefix"));
    EXPECT_TRUE(one_error("[[rule]]\ndestination = \"::/129\"\naction = \"drop\"\n", 2, 15,
                          "prefix length '129' is not a number in 0..128"));
    EXPECT_TRUE(one_error("[[rule]]\ndestination = \"10.0.0.0/\"\naction = \"drop\"\n", 2, 15,
                          "prefix length '' is not a number"));
    EXPECT_TRUE(one_error("[[rule]]\ndestination = \"10.0.0.0/-8\"\naction = \"drop\"\n", 2, 15,
                          "prefix length '-8'"));
}

TEST(ConfigErrors, MixedFamilies) {
    EXPECT_TRUE(one_error(
        "[[rule]]\ndestination = \"10.0.0.0/8\"\nsource = \"::1\"\naction = \"drop\"\n", 3, 10,
        "source: IPv6 prefix in a rule whose destination is IPv4 (a rule cannot mix address "
        "families)"));
}

TEST(ConfigErrors, BadPortRanges) {
    const auto rule = [](std::string_view ports) {
        return "[[rule]]\naction = \"drop\"\ndestination_ports = " + std::string(ports) + "\n";
    };
    EXPECT_TRUE(
        one_error(rule("\"0\""), 3, 21, "destination_ports: port 0 is out of range 1..65535"));
    EXPECT_TRUE(one_error(rule("\"65536\""), 3, 21, "port 65536 is out of range 1..65535"));
    EXPECT_TRUE(one_error(rule("\"1-65536\""), 3, 21, "port 65536 is out of range"));
    EXPECT_TRUE(one_error(rule("0"), 3, 21, "port 0 is out of range 1..65535"));
    EXPECT_TRUE(one_error(rule("\"10-5\""), 3, 21, "range '10-5' is reversed"));
    EXPECT_TRUE(one_error(rule("\"x\""), 3, 21,
                          "'x' is not a port or port range (expected \"N\" or \"N-M\")"));
    EXPECT_TRUE(one_error(rule("\"10-\""), 3, 21, "is not a port or port range"));
    EXPECT_TRUE(one_error(rule("\" 10\""), 3, 21, "is not a port or port range"));
    EXPECT_TRUE(
        one_error(rule("\"99999999999999999999999\""), 3, 21, "is not a port or port range"));
    EXPECT_TRUE(one_error("[[rule]]\naction = \"drop\"\nsource_ports = \"1-2-3\"\n", 3, 16,
                          "source_ports: '1-2-3' is not a port or port range"));
    EXPECT_TRUE(one_error("[[rule]]\naction = \"redirect\"\nto_port = 0\n", 3, 11,
                          "to_port: 0 is out of range 1..65535"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = 65536\n", 4, 8,
                          "port: 65536 is out of range 1..65535"));
}

TEST(ConfigErrors, OtherNumbersOutOfRange) {
    const std::string head = "[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = 1\n";
    EXPECT_TRUE(one_error(head + "weight = 0\n", 5, 10, "weight: 0 is out of range 1..65535"));
    EXPECT_TRUE(one_error(head + "weight = 65536\n", 5, 10, "out of range 1..65535"));
    EXPECT_TRUE(
        one_error(head + "priority = 256\n", 5, 12, "priority: 256 is out of range 0..255"));
    EXPECT_TRUE(one_error(head + "priority = -1\n", 5, 12, "priority: -1 is out of range 0..255"));
}

TEST(ConfigErrors, BadIdRanges) {
    const auto rule = [](std::string_view key, std::string_view value) {
        return "[[rule]]\naction = \"drop\"\n" + std::string(key) + " = " + std::string(value) +
               "\n";
    };
    EXPECT_TRUE(one_error(rule("uid", "\"x\""), 3, 7,
                          "uid: 'x' is not a uid or uid range (expected \"N\" or \"N-M\")"));
    EXPECT_TRUE(one_error(rule("uid", "\"2000-1000\""), 3, 7, "range '2000-1000' is reversed"));
    EXPECT_TRUE(one_error(rule("uid", "\"4294967295\""), 3, 7,
                          "uid 4294967295 is out of range 0..4294967294"));
    EXPECT_TRUE(one_error(rule("uid", "-1"), 3, 7, "uid -1 is out of range 0..4294967294"));
    EXPECT_TRUE(one_error(rule("gid", "\"-5\""), 3, 7, "gid: '-5' is not a gid or gid range"));
    EXPECT_TRUE(one_error(rule("gid", "1.0"), 3, 7, "gid: expected a string"));
}

TEST(ConfigErrors, BadMarks) {
    const auto rule = [](std::string_view value) {
        return "[[rule]]\naction = \"drop\"\nmark = " + std::string(value) + "\n";
    };
    EXPECT_TRUE(one_error(rule("\"0x1g\""), 3, 8, "mark: '0x1g' is not a mark"));
    EXPECT_TRUE(one_error(rule("\"1/\""), 3, 8, "is not a mark"));
    EXPECT_TRUE(one_error(rule("\"0x100000000\""), 3, 8, "is not a mark"));
    EXPECT_TRUE(one_error(rule("\"0x10/0x0\""), 3, 8, "mark: mask 0 matches every packet"));
    EXPECT_TRUE(one_error(rule("\"0x110/0xff\""), 3, 8,
                          "value '0x110' has bits outside the mask: the rule could never match"));
    EXPECT_TRUE(one_error(rule("16"), 3, 8, "mark: expected a string, got an integer"));
}

TEST(ConfigErrors, DuplicatePoolName) {
    EXPECT_TRUE(one_error(std::string(kPools) + "\n[[pool]]\nname = \"local\"\n"
                                                "backend = [{ port = 1 }]\n",
                          14, 8, "name: duplicate pool name 'local'"));
}

TEST(ConfigErrors, DuplicateBackend) {
    EXPECT_TRUE(
        one_error("[[pool]]\nname = \"p\"\n"
                  "backend = [{ address = \"2001:db8::1\", port = 1 }, "
                  "{ address = \"2001:db8:0::1\", port = 1 }]\n",
                  3, 51, "duplicate backend [2001:db8::1]:1 in pool 'p'"));
    EXPECT_TRUE(
        one_error("[[pool]]\nname = \"p\"\n[[pool.backend]]\nport = 1\n"
                  "[[pool.backend]]\nport = 1\nweight = 2\n",
                  5, 1, "duplicate backend local port 1 in pool 'p'"));
    // Same port on different addresses is fine.
    EXPECT_NO_THROW(
        (void)parse("[[pool]]\nname = \"p\"\nbackend = [{ address = \"192.0.2.1\", "
                    "port = 1 }, { address = \"192.0.2.2\", port = 1 }]\n",
                    kFile));
}

TEST(ConfigErrors, MixedBackendKinds) {
    EXPECT_TRUE(
        one_error("[[pool]]\nname = \"p\"\n"
                  "backend = [{ port = 1 }, { address = \"192.0.2.1\", port = 1 }]\n",
                  3, 26, "pool 'p' mixes local-port backends"));
}

TEST(ConfigErrors, BadNames) {
    EXPECT_TRUE(
        one_error("[[pool]]\nname = \"abcdefghijklmnopqrstuvwxyz012345\"\n"
                  "backend = [{ port = 1 }]\n",
                  2, 8, "is 32 characters long, a pool name has at most 31"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"my pool\"\nbackend = [{ port = 1 }]\n", 2, 8,
                          "'my pool' is not a valid pool name"));
    EXPECT_TRUE(one_error("[[pool]]\nname = \"\"\nbackend = [{ port = 1 }]\n", 2, 8,
                          "name: a pool name is empty"));
    EXPECT_TRUE(
        one_error("[[rule]]\nname = \"abcdefghijklmnopqrstuvwxyz012345\"\n"
                  "action = \"drop\"\n",
                  2, 8, "a rule name has at most 31"));
    EXPECT_TRUE(one_error("[[rule]]\nout_interface = \"abcdefghijklmnop\"\naction = \"drop\"\n", 2,
                          17, "is 16 characters long, an interface name has at most 15"));
    EXPECT_TRUE(one_error("[[rule]]\nin_interface = \"eth0:1\"\naction = \"drop\"\n", 2, 16,
                          "'eth0:1' is not a valid interface name"));
    EXPECT_TRUE(one_error("[[rule]]\ncgroup = \"system.slice\"\naction = \"drop\"\n", 2, 10,
                          "is not an absolute cgroup v2 path"));
    EXPECT_TRUE(one_error("[[rule]]\ncgroup = \"/a/../b\"\naction = \"drop\"\n", 2, 10,
                          "is not a valid cgroup path"));
}

TEST(ConfigErrors, UndefinedPool) {
    EXPECT_TRUE(one_error(with_rule("action = \"dnat\"\npool = \"relays\"\n"), 15, 8,
                          "pool: no pool named 'relays'"));
}

TEST(ConfigErrors, RedirectToAnAddressPool) {
    EXPECT_TRUE(one_error(with_rule("action = \"redirect\"\npool = \"relays4\"\n"), 15, 8,
                          "pool: redirect needs a pool of local-port backends, but 'relays4' has "
                          "address backends (use dnat)"));
}

TEST(ConfigErrors, DnatToALocalPool) {
    EXPECT_TRUE(one_error(with_rule("action = \"dnat\"\npool = \"local\"\n"), 15, 8,
                          "pool: dnat needs a pool of address backends, but 'local' has "
                          "local-port backends (use redirect)"));
}

TEST(ConfigErrors, DnatWithNoBackendOfTheRuleFamily) {
    EXPECT_TRUE(one_error(
        with_rule("destination = \"2001:db8::/32\"\naction = \"dnat\"\npool = \"relays4\"\n"), 16,
        8, "pool: 'relays4' has no IPv6 backend, but the rule matches only IPv6 traffic"));
    EXPECT_TRUE(
        one_error(with_rule("source = \"10.0.0.0/8\"\naction = \"dnat\"\npool = \"relays6\"\n"), 16,
                  8, "'relays6' has no IPv4 backend"));
}

TEST(ConfigErrors, DnatOfBothFamiliesToAPoolOfOne) {
    EXPECT_TRUE(one_error(with_rule("destination_ports = \"26656\"\naction = \"dnat\"\n"
                                    "pool = \"relays4\"\n"),
                          16, 8,
                          "pool: 'relays4' has only IPv4 backends, but the rule matches IPv6 "
                          "traffic too; give it an IPv4 destination (0.0.0.0/0 for any) or add "
                          "IPv6 backends"));
    EXPECT_TRUE(
        one_error(with_rule("action = \"dnat\"\npool = \"relays6\"\n"), 15, 8, "(::/0 for any)"));
}

TEST(ConfigErrors, ToPortAndPool) {
    EXPECT_TRUE(one_error(with_rule("action = \"redirect\"\nto_port = 1\npool = \"local\"\n"), 15,
                          11, "redirect takes to_port or pool, not both"));
    EXPECT_TRUE(one_error(with_rule("action = \"redirect\"\n"), 13, 1,
                          "redirect needs to_port (one local port) or pool"));
    EXPECT_TRUE(one_error(with_rule("action = \"dnat\"\n"), 13, 1, "dnat needs pool"));
    EXPECT_TRUE(one_error(with_rule("destination = \"0.0.0.0/0\"\naction = \"dnat\"\nto_port = "
                                    "1\npool = \"relays4\"\n"),
                          16, 11, "dnat takes no to_port"));
}

TEST(ConfigErrors, BypassAndDropTakeNoTarget) {
    EXPECT_TRUE(one_error(with_rule("action = \"bypass\"\npool = \"local\"\n"), 15, 8,
                          "bypass takes no pool"));
    EXPECT_TRUE(
        one_error(with_rule("action = \"drop\"\nto_port = 1\n"), 15, 11, "drop takes no to_port"));
}

TEST(ConfigErrors, InInterfaceWithLocalSocketMatches) {
    EXPECT_TRUE(
        one_error("[[rule]]\nin_interface = \"veth-ct\"\nuid = \"1000\"\n"
                  "action = \"drop\"\n",
                  2, 16,
                  "in_interface cannot be combined with uid: forwarded packets have no "
                  "local socket"));
    EXPECT_TRUE(
        one_error("[[rule]]\ngid = \"1\"\ncgroup = \"/a\"\nin_interface = \"veth-ct\"\n"
                  "action = \"drop\"\n",
                  4, 16, "in_interface cannot be combined with gid, cgroup"));
    EXPECT_NO_THROW(
        (void)parse("[[rule]]\nin_interface = \"veth-ct\"\naction = \"bypass\"\n", kFile));
}

TEST(ConfigErrors, TooManyPools) {
    std::string text;
    for (int i = 0; i <= 256; ++i) {
        text += "[[pool]]\nname = \"p" + std::to_string(i) + "\"\nbackend = [{ port = 1 }]\n";
    }
    EXPECT_TRUE(one_error(text, 256 * 3 + 1, 1, "too many pools: at most 256"));
}

TEST(ConfigErrors, TooManyBackends) {
    std::string text = "[[pool]]\nname = \"p\"\n";
    for (int i = 1; i <= 257; ++i) {
        text += "[[pool.backend]]\nport = " + std::to_string(i) + "\n";
    }
    EXPECT_TRUE(one_error(text, 2 + 256 * 2 + 1, 1, "too many backends in pool 'p': at most 256"));
}

TEST(ConfigErrors, TooManyRules) {
    std::string text;
    for (int i = 0; i <= 65535; ++i) {
        text += "[[rule]]\naction = \"drop\"\n";
    }
    EXPECT_TRUE(one_error(text, 65535 * 2 + 1, 1, "too many rules: at most 65535"));
}

TEST(ConfigErrors, AllErrorsCollectedInFileOrder) {
    const auto d = errors_of(R"([[rule]]
action = "dnat"
pool = "nowhere"
destination = "10.0.0.1/8"

[[pool]]
name = "p"
scheduler = "random"
  [[pool.backend]]
  port = 0
  color = "blue"

[[rule]]
protocol = "sctp"
)");
    std::vector<std::string> got;
    got.reserve(d.size());
    for (const auto& x : d) {
        got.push_back(x.to_string());
    }
    const std::vector<std::string> want{
        "t.toml:3:8: pool: no pool named 'nowhere'",
        "t.toml:4:15: destination: '10.0.0.1/8' has host bits set (did you mean '10.0.0.0/8'?)",
        std::string("t.toml:8:13: scheduler: unknown scheduler 'random' (expected one of: ") +
            "rr, wrr, source-hash, least-conn, failover)",
        "t.toml:10:10: port: 0 is out of range 1..65535",
        "t.toml:11:3: unknown key 'color' in [[pool.backend]]",
        "t.toml:13:1: missing required key 'action' in [[rule]]",
        "t.toml:14:12: protocol: unknown protocol 'sctp' (expected one of: any, tcp, udp)",
    };
    EXPECT_EQ(got, want);
}

// --- printing ------------------------------------------------------------------------------------

Config sample() {
    return parse(R"([[pool]]
name = "relays"
scheduler = "source-hash"
failure_mode = "open"
backend = [{ address = "192.0.2.1", port = 26656, weight = 2, priority = 3, state = "down" },
           { address = "2001:db8::1", port = 26656 }]

[[pool]]
name = "clients"
scheduler = "least-conn"
backend = [{ port = 12345, state = "drain" }]

[[rule]]
name = "with \"quotes\" \\ and \u00e9"
protocol = "tcp"
destination = "198.51.100.0/24"
destination_ports = "26656-26657"
source = "192.0.2.0/25"
source_ports = "1024-65535"
uid = "1000-1999"
gid = "1000"
cgroup = "/system.slice/app.service"
mark = "0x10/0xff"
out_interface = "eth0"
action = "dnat"
pool = "relays"

[[rule]]
in_interface = "veth-ct"
action = "redirect"
to_port = 8080

[[rule]]
protocol = "udp"
action = "redirect"
pool = "clients"
)",
                 kFile);
}

TEST(ConfigPrint, RoundTrip) {
    const Config c = sample();
    const std::string text = to_toml(c);
    EXPECT_EQ(parse(text, "shown.toml"), c);
    EXPECT_EQ(to_toml(parse(text, "shown.toml")), text);
}

TEST(ConfigPrint, CanonicalToml) {
    const Config c = parse(R"([[rule]]
destination = "::1"
action = "bypass"
[[pool]]
name = "p"
backend = [{ port = 1 }]
)",
                           kFile);
    EXPECT_EQ(to_toml(c), R"([[pool]]
name = "p"
scheduler = "rr"
failure_mode = "closed"

  [[pool.backend]]
  port = 1
  weight = 1
  priority = 0
  state = "up"

[[rule]]
protocol = "any"
destination = "::1/128"
action = "bypass"
)");
    EXPECT_EQ(to_toml(Config{}), "");
}

TEST(ConfigPrint, Json) {
    const auto j = to_json(sample());
    EXPECT_EQ(j.dump(),
              R"({"pool":[{"name":"relays","scheduler":"source-hash","failure_mode":"open",)"
              R"("backend":[{"address":"192.0.2.1","port":26656,"weight":2,"priority":3,)"
              R"("state":"down"},{"address":"2001:db8::1","port":26656,"weight":1,)"
              R"("priority":0,"state":"up"}]},{"name":"clients","scheduler":"least-conn",)"
              R"("failure_mode":"closed","backend":[{"port":12345,"weight":1,"priority":0,)"
              R"("state":"drain"}]}],"rule":[{"name":"with \"quotes\" \\ and é",)"
              R"("protocol":"tcp","destination":"198.51.100.0/24",)"
              R"("destination_ports":"26656-26657","source":"192.0.2.0/25",)"
              R"("source_ports":"1024-65535","uid":"1000-1999","gid":"1000",)"
              R"("cgroup":"/system.slice/app.service","mark":"0x10/0xff",)"
              R"("out_interface":"eth0","action":"dnat","pool":"relays"},)"
              R"({"protocol":"any","in_interface":"veth-ct","action":"redirect",)"
              R"("to_port":8080},{"protocol":"udp","action":"redirect","pool":"clients"}]})");
    EXPECT_EQ(to_json(Config{}).dump(), R"({"pool":[],"rule":[]})");
}

TEST(ConfigPrint, Names) {
    EXPECT_EQ(to_string(Scheduler::least_conn), "least-conn");
    EXPECT_EQ(to_string(Family::ipv6), "IPv6");
    EXPECT_EQ(to_string(PortRange{80, 80}), "80");
    EXPECT_EQ(to_string(IdRange{0, 4294967294U}), "0-4294967294");
    EXPECT_EQ(to_string(Mark{0, 0xffffffffU}), "0x0/0xffffffff");
    EXPECT_EQ(to_string(Address{Family::ipv4, {127, 0, 0, 1}}), "127.0.0.1");
}

// ----- the daemon's sections ---------------------------------------------------------------

TEST(ConfigDaemon, DefaultsWhenAbsent) {
    const File file = parse_file(kPools, kFile);
    ASSERT_EQ(file.daemon.pools.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        const PoolPolicy& p = file.daemon.pools[i];
        EXPECT_EQ(p.check, CheckType::tcp);
        EXPECT_EQ(p.interval_ms, 2000U);
        EXPECT_EQ(p.timeout_ms, 1000U);
        EXPECT_EQ(p.rise, 2);
        EXPECT_EQ(p.fall, 3);
        EXPECT_EQ(p.on_backend_down, OnBackendDown::reset_udp);
        ASSERT_EQ(p.targets.size(), file.config.pools[i].backends.size());
        EXPECT_EQ(p.targets.front(), CheckTarget{});
    }
    EXPECT_EQ(file.daemon.metrics, MetricsSettings{});
    EXPECT_EQ(file.daemon.metrics.port, 9477);
    EXPECT_EQ(to_string(file.daemon.metrics.address), "127.0.0.1");
    EXPECT_EQ(file.daemon.tuning, TuningSettings{});
    EXPECT_EQ(file.daemon.daemon, DaemonSettings{});
    // The kernel's part is the same as parse() gives.
    EXPECT_EQ(file.config, parse(kPools, kFile));
}

TEST(ConfigDaemon, EveryField) {
    const File file = parse_file(R"([daemon]
log_level = "debug"
flush_on_exit = true

[metrics]
enabled = false
listen = "[::1]:9100"

[tuning]
enabled = false
interval = "30s"
cache_size_min = 512
cache_size_max = 4096
batch_size_min = 8
batch_size_max = 64

[[pool]]
name = "socks"
check = "tcp"
check_interval = "500ms"
check_timeout = "250ms"
rise = 1
fall = 5
on_backend_down = "reset-all"
  [[pool.backend]]
  port = 12345
  check_address = "198.51.100.7"
  check_port = 1080

[[pool]]
name = "relays"
check = "udp"
check_interval = "1m"
on_backend_down = "keep"
backend = [{ address = "192.0.2.1", port = 9000 }]

[[pool]]
name = "quiet"
check = "none"
backend = [{ port = 7000 }]
)",
                                 kFile);
    EXPECT_EQ(file.daemon.daemon.log_level, LogLevel::debug);
    EXPECT_TRUE(file.daemon.daemon.flush_on_exit);
    EXPECT_FALSE(file.daemon.metrics.enabled);
    EXPECT_EQ(to_string(file.daemon.metrics.address), "::1");
    EXPECT_EQ(file.daemon.metrics.port, 9100);
    EXPECT_EQ(file.daemon.tuning, (TuningSettings{false, 30000, 512, 4096, 8, 64}));
    ASSERT_EQ(file.daemon.pools.size(), 3U);
    const PoolPolicy& socks = file.daemon.pools[0];
    EXPECT_EQ(socks.check, CheckType::tcp);
    EXPECT_EQ(socks.interval_ms, 500U);
    EXPECT_EQ(socks.timeout_ms, 250U);
    EXPECT_EQ(socks.rise, 1);
    EXPECT_EQ(socks.fall, 5);
    EXPECT_EQ(socks.on_backend_down, OnBackendDown::reset_all);
    ASSERT_EQ(socks.targets.size(), 1U);
    ASSERT_TRUE(socks.targets[0].address.has_value());
    EXPECT_EQ(to_string(*socks.targets[0].address), "198.51.100.7");
    EXPECT_EQ(socks.targets[0].port, 1080);
    EXPECT_EQ(file.daemon.pools[1].check, CheckType::udp);
    EXPECT_EQ(file.daemon.pools[1].interval_ms, 60000U);
    EXPECT_EQ(file.daemon.pools[1].on_backend_down, OnBackendDown::keep);
    EXPECT_EQ(file.daemon.pools[2].check, CheckType::none);
    // None of it reaches the kernel's part.
    EXPECT_EQ(file.config.pools[0].backends[0].port, 12345);
    EXPECT_FALSE(file.config.pools[0].backends[0].address.has_value());
}

TEST(ConfigDaemon, Durations) {
    EXPECT_EQ(parse_duration("250ms"), 250U);
    EXPECT_EQ(parse_duration("2s"), 2000U);
    EXPECT_EQ(parse_duration("1m"), 60000U);
    EXPECT_EQ(parse_duration("1h"), 3600000U);
    EXPECT_EQ(parse_duration("0s"), 0U);
    for (const char* bad : {"", "s", "2", "2 s", "-1s", "1.5s", "2S", "2sec", "2h", "61m",
                            "99999999999999999999ms"}) {
        EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
    }
}

constexpr std::string_view kOnePool = R"([[pool]]
name = "p"
backend = [{ port = 1 }]
)";

std::string pool_with(std::string_view lines) {
    return "[[pool]]\nname = \"p\"\n" + std::string(lines) + "\nbackend = [{ port = 1 }]\n";
}

TEST(ConfigDaemon, BadPoolPolicies) {
    EXPECT_TRUE(one_error(pool_with(R"(check = "icmp")"), 3, 9, "unknown check 'icmp'"));
    EXPECT_TRUE(one_error(pool_with(R"(check_interval = "2")"), 3, 18, "not a duration"));
    EXPECT_TRUE(one_error(pool_with(R"(check_interval = "50ms")"), 3, 18, "shorter than 100ms"));
    EXPECT_TRUE(one_error(pool_with(R"(check_interval = 2)"), 3, 18, "expected a string"));
    EXPECT_TRUE(one_error(pool_with("check_interval = \"1s\"\ncheck_timeout = \"2s\""), 4, 17,
                          "longer than check_interval"));
    // The default interval (2 s) holds the timeout to it too.
    EXPECT_TRUE(one_error(pool_with(R"(check_timeout = "3s")"), 3, 17, "longer than"));
    EXPECT_TRUE(one_error(pool_with("rise = 0"), 3, 8, "out of range 1..100"));
    EXPECT_TRUE(one_error(pool_with("fall = 101"), 3, 8, "out of range 1..100"));
    EXPECT_TRUE(one_error(pool_with(R"(on_backend_down = "reset")"), 3, 19,
                          "(expected one of: keep, reset-udp, reset-all)"));
    EXPECT_TRUE(one_error(pool_with(R"(healthcheck = "tcp")"), 3, 1, "unknown key 'healthcheck'"));
}

TEST(ConfigDaemon, BadCheckTargets) {
    EXPECT_TRUE(one_error(R"([[pool]]
name = "p"
backend = [{ port = 1, check_address = "0.0.0.0" }])",
                          3, 40, "check_address: '0.0.0.0' is the unspecified address"));
    EXPECT_TRUE(one_error(R"([[pool]]
name = "p"
backend = [{ port = 1, check_address = "host" }])",
                          3, 40, "is not an IPv4 or IPv6 address"));
    EXPECT_TRUE(one_error(R"([[pool]]
name = "p"
backend = [{ port = 1, check_port = 0 }])",
                          3, 37, "out of range 1..65535"));
}

TEST(ConfigDaemon, BadSections) {
    EXPECT_TRUE(one_error("daemon = 1\n", 1, 10, "expected a table ([daemon])"));
    EXPECT_TRUE(one_error("[daemon]\nlog_level = \"loud\"\n", 2, 13, "unknown log level 'loud'"));
    EXPECT_TRUE(one_error("[daemon]\nflush_on_exit = \"yes\"\n", 2, 17, "expected a boolean"));
    EXPECT_TRUE(one_error("[daemon]\nflush = true\n", 2, 1, "unknown key 'flush' in [daemon]"));
    EXPECT_TRUE(one_error("[metrics]\nlisten = \"127.0.0.1\"\n", 2, 10, "is not ADDRESS:PORT"));
    EXPECT_TRUE(one_error("[metrics]\nlisten = \"::1:9477\"\n", 2, 10, "is not ADDRESS:PORT"));
    EXPECT_TRUE(one_error("[metrics]\nlisten = \"127.0.0.1:0\"\n", 2, 10, "is not ADDRESS:PORT"));
    EXPECT_TRUE(one_error("[metrics]\nlisten = \"[127.0.0.1]:1\"\n", 2, 10, "is not ADDRESS:PORT"));
    EXPECT_TRUE(one_error("[tuning]\ncache_size_min = 300\n", 2, 18, "is not a power of two"));
    EXPECT_TRUE(one_error("[tuning]\ncache_size_max = 131072\n", 2, 18, "out of range"));
    EXPECT_TRUE(one_error("[tuning]\ncache_size_min = 4096\ncache_size_max = 1024\n", 3, 18,
                          "cache_size_max (1024) is below cache_size_min (4096)"));
    EXPECT_TRUE(one_error("[tuning]\nbatch_size_min = 100\nbatch_size_max = 10\n", 3, 18,
                          "is below batch_size_min"));
    EXPECT_TRUE(one_error("[tuning]\ninterval = \"500ms\"\n", 2, 12, "shorter than 1000ms"));
    EXPECT_TRUE(one_error("[tuning]\ncache_size_mx = 1\n", 2, 1, "did you mean 'cache_size_max'?"));
}

TEST(ConfigDaemon, ValidateChecksTheDaemonSectionsToo) {
    // parse(), what `mutexctl config validate` and `config apply` use, refuses them as well.
    EXPECT_THROW((void)parse(std::string(kOnePool) + "[tuning]\ncache_size_min = 3\n", kFile),
                 ConfigError);
}

}  // namespace
}  // namespace mutex::config
