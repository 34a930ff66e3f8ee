// SPDX-License-Identifier: GPL-2.0
// mutexctl: argument parsing and validation, and execution against a fake module (output,
// exit codes, error lines).
#include "mutexctl/cli.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "libmutex/codec.hpp"
#include "libmutex/config.hpp"
#include "libmutex/error.hpp"
#include "libmutex/format.hpp"
#include "libmutex/tuning_record.hpp"
#include "mutexctl/fake_backend.hpp"
#include "test_helpers.hpp"

namespace mutexctl {
namespace {

Invocation parse_ok(const std::vector<std::string>& args) {
    auto result = parse_args(args);
    if (const auto* outcome = std::get_if<Outcome>(&result)) {
        ADD_FAILURE() << "unexpected exit " << outcome->code << ": " << outcome->err;
        return {};
    }
    return std::get<Invocation>(result);
}

Outcome parse_exit(const std::vector<std::string>& args) {
    auto result = parse_args(args);
    if (const auto* outcome = std::get_if<Outcome>(&result)) {
        return *outcome;
    }
    ADD_FAILURE() << "parsed, expected an exit";
    return {};
}

// ----- value parsing ---------------------------------------------------------------------------

TEST(ParseU32, AcceptsDecimalDigitsOnly) {
    EXPECT_EQ(parse_u32("32"), 32U);
    EXPECT_EQ(parse_u32("0"), 0U);
    EXPECT_EQ(parse_u32("4294967295"), 4294967295U);
    EXPECT_EQ(parse_u32("007"), 7U);  // decimal, never octal
    for (const char* bad : {"-1", "abc", "", "4294967296", " 5", "5 ", "+5", "0x10", "1e3", "3.0",
                            "99999999999999999999", "5\n"}) {
        EXPECT_EQ(parse_u32(bad), std::nullopt) << '"' << bad << '"';
    }
}

TEST(ParseU64, AcceptsDecimalDigitsOnly) {
    EXPECT_EQ(parse_u64("0"), 0U);
    EXPECT_EQ(parse_u64("4294967296"), 4294967296U);
    EXPECT_EQ(parse_u64("18446744073709551615"), 18446744073709551615U);
    EXPECT_EQ(parse_u64("007"), 7U);
    for (const char* bad :
         {"-1", "abc", "", "18446744073709551616", " 5", "5 ", "+5", "0x10", "1e3"}) {
        EXPECT_EQ(parse_u64(bad), std::nullopt) << '"' << bad << '"';
    }
}

// ----- command line ----------------------------------------------------------------------------

TEST(ParseArgs, Commands) {
    EXPECT_EQ(parse_ok({"version"}),
              (Invocation{Command::version, false, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"status"}),
              (Invocation{Command::status, false, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"-j", "stats"}),
              (Invocation{Command::stats, true, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"--json", "status"}),
              (Invocation{Command::status, true, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"params"}),
              (Invocation{Command::params_get, false, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"params", "get"}),
              (Invocation{Command::params_get, false, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"-j", "params", "get", "perf_batch_size"}),
              (Invocation{Command::params_get,
                          true,
                          mutex::find_param("perf_batch_size"),
                          0,
                          {},
                          {},
                          {},
                          {},
                          {},
                          {},
                          {}}));
    EXPECT_EQ(parse_ok({"params", "set", "max_conns", "4294967295"}),
              (Invocation{Command::params_set,
                          false,
                          mutex::find_param("max_conns"),
                          4294967295U,
                          {},
                          {},
                          {},
                          {},
                          {},
                          {},
                          {}}));
    EXPECT_EQ(parse_ok({"params", "set", "perf_batch_size", "32"}),
              (Invocation{Command::params_set,
                          false,
                          mutex::find_param("perf_batch_size"),
                          32,
                          {},
                          {},
                          {},
                          {},
                          {},
                          {},
                          {}}));
    EXPECT_EQ(parse_ok({"config", "validate", "/etc/mutex_proxy/mutexd.toml"}),
              (Invocation{Command::config_validate,
                          false,
                          nullptr,
                          0,
                          "/etc/mutex_proxy/mutexd.toml",
                          {},
                          {},
                          {},
                          {},
                          {},
                          {}}));
    EXPECT_EQ(
        parse_ok({"-j", "config", "validate", "-"}),
        (Invocation{Command::config_validate, true, nullptr, 0, "-", {}, {}, {}, {}, {}, {}}));
}

TEST(ParseArgs, MalformedValuesAreUsageErrors) {
    for (const char* bad : {"-1", "abc", "", "4294967296", " 5"}) {
        const Outcome o = parse_exit({"params", "set", "perf_batch_size", bad});
        EXPECT_EQ(o.code, kExitUsage) << bad;
        EXPECT_TRUE(o.out.empty());
        EXPECT_EQ(o.err.rfind("mutexctl: invalid value '" + std::string(bad) +
                                  "' for perf_batch_size: expected an unsigned 32-bit decimal "
                                  "integer\n",
                              0),
                  0U)
            << o.err;
    }
}

TEST(ParseArgs, OutOfRangeValuesAreLeftToTheKernel) {
    EXPECT_EQ(parse_ok({"params", "set", "perf_batch_size", "100000"}).value, 100000U);
}

TEST(ParseArgs, UnknownParameterListsTheValidNames) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"params", "set", "perf_enable_zero_copy", "1"}, {"params", "get", "batch"}}) {
        const Outcome o = parse_exit(args);
        EXPECT_EQ(o.code, kExitUsage);
        EXPECT_NE(o.err.find("unknown parameter '"), std::string::npos) << o.err;
        EXPECT_NE(o.err.find("(valid: perf_enable_batching, perf_batch_size, perf_cache_size, "
                             "max_conns, perf_enable_accounting)"),
                  std::string::npos)
            << o.err;
    }
}

TEST(ParseArgs, UsageErrors) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{},
                                               {"frobnicate"},
                                               {"params", "set", "perf_batch_size"},
                                               {"params", "set"},
                                               {"params", "get", "perf_batch_size", "extra"},
                                               {"stats", "extra"},
                                               {"-x", "stats"},
                                               {"config"},
                                               {"config", "validate"},
                                               {"config", "validate", "a.toml", "b.toml"},
                                               {"config", "check", "a.toml"}}) {
        const Outcome o = parse_exit(args);
        EXPECT_EQ(o.code, kExitUsage);
        EXPECT_EQ(o.err.rfind("mutexctl: ", 0), 0U) << o.err;
        EXPECT_TRUE(o.out.empty());
    }
}

TEST(ParseArgs, JsonFlagAfterTheCommandIsRefusedWithAHint) {
    const Outcome o = parse_exit({"stats", "-j"});
    EXPECT_EQ(o.code, kExitUsage);
    EXPECT_NE(o.err.find("-j goes before the command"), std::string::npos) << o.err;
    const Outcome config = parse_exit({"config", "validate", "a.toml", "-j"});
    EXPECT_EQ(config.code, kExitUsage);
    EXPECT_NE(config.err.find("-j goes before the command"), std::string::npos) << config.err;
}

TEST(ParseArgs, Help) {
    const Outcome o = parse_exit({"--help"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_NE(o.out.find("params"), std::string::npos);
    EXPECT_NE(o.out.find("--json"), std::string::npos);
    EXPECT_NE(o.out.find("mutexctl config validate FILE"), std::string::npos) << o.out;
    const Outcome config = parse_exit({"config", "validate", "--help"});
    EXPECT_EQ(config.code, kExitOk);
    EXPECT_NE(config.out.find("FILE"), std::string::npos) << config.out;
    const Outcome sub = parse_exit({"params", "set", "--help"});
    EXPECT_EQ(sub.code, kExitOk);
    EXPECT_NE(sub.out.find("VALUE"), std::string::npos) << sub.out;
}

// ----- execution -------------------------------------------------------------------------------

class Execute : public ::testing::Test {
protected:
    Execute() {
        fake_->info.version = "0.1.0";
        fake_->info.api_version = 1;
        fake_->info.features = MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS;
        fake_->info.netns_cookie = 1;
        fake_->info.params = {1, 32, 1024, 262144, 1};
        fake_->stats.pkts_seen = 12;
    }

    Outcome run(const std::vector<std::string>& args) {
        auto parsed = parse_args(args);
        if (auto* o = std::get_if<Outcome>(&parsed)) {
            return *o;
        }
        return execute(
            std::get<Invocation>(parsed),
            [this]() -> std::unique_ptr<Backend> {
                ++connects_;
                if (absent_) {
                    throw mutex::FamilyNotFound("mutex_proxy");
                }
                return std::make_unique<ForwardBackend>(*fake_);
            },
            [this](const std::string& path) -> std::string {
                reads_.push_back(path);
                const auto file = files_.find(path);
                if (file == files_.end()) {
                    throw std::system_error(ENOENT, std::generic_category(), path);
                }
                return file->second;
            });
    }

    std::unique_ptr<FakeBackend> fake_ = std::make_unique<FakeBackend>();
    bool absent_ = false;
    int connects_ = 0;
    std::map<std::string, std::string> files_;  // what the fake ReadFile finds
    std::vector<std::string> reads_;
};

TEST_F(Execute, StatsHumanAndJson) {
    const Outcome human = run({"stats"});
    EXPECT_EQ(human.code, kExitOk);
    EXPECT_EQ(human.out.rfind("pkts_seen        12\npkts_steered     0\n", 0), 0U) << human.out;
    EXPECT_TRUE(human.err.empty());
    const Outcome json = run({"-j", "stats"});
    EXPECT_EQ(json.out.rfind(R"({"pkts_seen":12,"pkts_steered":0,)", 0), 0U) << json.out;
}

TEST_F(Execute, Status) {
    EXPECT_EQ(run({"-j", "status"}).out,
              R"({"version":"0.1.0","api_version":1,"features":["netns","stats"],)"
              R"("netns_cookie":1,"params":{"perf_enable_batching":1,"perf_batch_size":32,)"
              R"("perf_cache_size":1024,"max_conns":262144,"perf_enable_accounting":1}})"
              "\n");
    EXPECT_EQ(run({"status"}).out.rfind("version       0.1.0\n", 0), 0U);
}

TEST_F(Execute, ParamsGet) {
    EXPECT_EQ(run({"params"}).out,
              "perf_enable_batching    1\nperf_batch_size         32\n"
              "perf_cache_size         1024\nmax_conns               262144\n"
              "perf_enable_accounting  1\n");
    EXPECT_EQ(run({"params", "get", "perf_batch_size"}).out, "perf_batch_size  32\n");
    EXPECT_EQ(run({"-j", "params", "get", "perf_batch_size"}).out, "{\"perf_batch_size\":32}\n");
    EXPECT_EQ(run({"-j", "params"}).out,
              R"({"perf_enable_batching":1,"perf_batch_size":32,"perf_cache_size":1024,)"
              R"("max_conns":262144,"perf_enable_accounting":1})"
              "\n");
    EXPECT_EQ(run({"params", "get", "perf_enable_accounting"}).out, "perf_enable_accounting  1\n");
}

TEST_F(Execute, ParamsShowWhatMutexdSetAndWhy) {
    mutex::TuningRecord record;
    record["perf_cache_size"] = {256,        1024, "hit_rate_low", "hit rate 3% of 5000 lookups",
                                 1796410800, 7};
    record["perf_batch_size"] = {16, 64, "batches_full", "...", 1796410800, 7};  // changed since
    files_[std::string(mutex::kTuningRecordPath)] = mutex::encode_tuning_record(record);
    const Outcome o = run({"params"});
    EXPECT_NE(o.out.find("perf_cache_size = 1024 set by mutexd at 2026-12-04 19:00:00 UTC (was "
                         "256): hit_rate_low: hit rate 3% of 5000 lookups\n"),
              std::string::npos)
        << o.out;
    EXPECT_EQ(o.out.find("perf_batch_size ="), std::string::npos) << o.out;
    const auto j = nlohmann::json::parse(run({"-j", "params"}).out);
    EXPECT_EQ(j["perf_cache_size"], 1024);
    EXPECT_EQ(j["set_by_mutexd"]["perf_cache_size"]["reason"], "hit_rate_low");
    EXPECT_EQ(j["set_by_mutexd"]["perf_cache_size"]["from"], 256);
    EXPECT_FALSE(j["set_by_mutexd"].contains("perf_batch_size"));
    files_[std::string(mutex::kTuningRecordPath)] = "not json";
    EXPECT_EQ(run({"params"}).code, kExitOk);  // a bad record is ignored
}

TEST(TuningRecord, RoundTripAndRefusal) {
    mutex::TuningRecord record;
    record["perf_cache_size"] = {256, 2048, "hit_rate_low", "d", 1, 2};
    EXPECT_EQ(mutex::decode_tuning_record(mutex::encode_tuning_record(record)), record);
    EXPECT_THROW(mutex::decode_tuning_record("[]"), std::invalid_argument);
    EXPECT_THROW(mutex::decode_tuning_record(R"({"perf_cache_size": {"from": 1}})"),
                 std::invalid_argument);
}

TEST_F(Execute, ParamsSetSendsOnlyThatParameter) {
    const Outcome o = run({"params", "set", "perf_batch_size", "64"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, "perf_batch_size  64\n");
    ASSERT_TRUE(fake_->last_set.has_value());
    EXPECT_EQ(*fake_->last_set, (mutex::Params{{}, 64, {}, {}, {}}));

    const Outcome json = run({"-j", "params", "set", "max_conns", "1000"});
    EXPECT_EQ(json.out, R"({"perf_enable_batching":1,"perf_batch_size":32,"perf_cache_size":1024,)"
                        R"("max_conns":1000,"perf_enable_accounting":1})"
                        "\n");
    const Outcome accounting = run({"params", "set", "perf_enable_accounting", "0"});
    EXPECT_EQ(accounting.code, kExitOk);
    EXPECT_EQ(accounting.out, "perf_enable_accounting  0\n");
    EXPECT_EQ(*fake_->last_set, (mutex::Params{{}, {}, {}, {}, 0}));
}

TEST_F(Execute, KernelRefusalShowsTheExtackMessage) {
    fake_->fail = std::make_exception_ptr(
        mutex::NetlinkError(EINVAL, "perf_batch_size must be between 1 and 256"));
    const Outcome o = run({"params", "set", "perf_batch_size", "300"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(o.out.empty());
    EXPECT_EQ(o.err,
              "mutexctl: set perf_batch_size=300: perf_batch_size must be between 1 and 256\n");
}

TEST_F(Execute, PermissionDeniedWithoutExtackExplainsTheCapability) {
    fake_->fail = std::make_exception_ptr(mutex::NetlinkError(EPERM));
    const Outcome o = run({"params", "set", "max_conns", "10"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err,
              "mutexctl: set max_conns=10: Operation not permitted (needs CAP_NET_ADMIN in the "
              "initial user namespace)\n");
}

TEST_F(Execute, ModuleNotLoaded) {
    absent_ = true;
    const Outcome stats = run({"stats"});
    EXPECT_EQ(stats.code, kExitFailure);
    EXPECT_EQ(stats.err, "mutexctl: stats: mutex_proxy module not loaded\n");
    EXPECT_TRUE(stats.out.empty());

    const Outcome version = run({"version"});
    EXPECT_EQ(version.code, kExitOk);
    EXPECT_EQ(version.out, "mutexctl  " + std::string(kVersion) + "\nmodule    not loaded\n");
    EXPECT_TRUE(version.err.empty());
    const Outcome json = run({"-j", "version"});
    EXPECT_EQ(json.code, kExitOk);
    EXPECT_EQ(json.out, R"({"mutexctl":"0.1.0","module":null})"
                        "\n");
}

TEST_F(Execute, VersionWithModule) {
    const Outcome o = run({"version"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, "mutexctl     0.1.0\nmodule       0.1.0\napi_version  1\n");
}

TEST_F(Execute, VersionOtherErrorsAreFailures) {
    fake_->fail = std::make_exception_ptr(mutex::NetlinkError(ETIMEDOUT));
    const Outcome o = run({"version"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err, "mutexctl: version: Connection timed out\n");
}

TEST_F(Execute, KernelWarningGoesToStderr) {
    fake_->warn = "cache size rounded";
    const Outcome o = run({"params", "set", "perf_cache_size", "1000"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.err, "mutexctl: warning: cache size rounded\n");
}

TEST_F(Execute, ProtocolErrorsAreFailures) {
    fake_->fail = std::make_exception_ptr(mutex::ProtocolError("MUTEX_A_STATS lacks table_full"));
    const Outcome o = run({"stats"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err, "mutexctl: stats: protocol error: MUTEX_A_STATS lacks table_full\n");
}

TEST_F(Execute, UsageErrorsDoNotConnect) {
    EXPECT_EQ(run({"params", "set", "perf_batch_size", "abc"}).code, kExitUsage);
    EXPECT_EQ(connects_, 0);
}

// ----- config validate -------------------------------------------------------------------------

constexpr std::string_view kGoodConfig = R"([[pool]]
name = "proxies"
  [[pool.backend]]
  port = 12345

[[rule]]
uid = "990"
action = "bypass"

[[rule]]
protocol = "tcp"
action = "redirect"
pool = "proxies"
)";

// Two problems: an unknown scheduler (line 3) and a rule naming a pool that does not exist (line
// 9).
constexpr std::string_view kBadConfig = R"([[pool]]
name = "proxies"
scheduler = "fastest"
  [[pool.backend]]
  port = 12345

[[rule]]
action = "redirect"
pool = "nowhere"
)";

TEST_F(Execute, ConfigValidateGoodFile) {
    files_["good.toml"] = kGoodConfig;
    const Outcome o = run({"config", "validate", "good.toml"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, "good.toml: ok (1 pools, 2 rules)\n");
    EXPECT_TRUE(o.err.empty()) << o.err;
    EXPECT_EQ(reads_, std::vector<std::string>{"good.toml"});
    EXPECT_EQ(connects_, 0);  // never talks to the kernel
}

TEST_F(Execute, ConfigValidateGoodFileJson) {
    files_["good.toml"] = kGoodConfig;
    const Outcome o = run({"-j", "config", "validate", "good.toml"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_TRUE(o.err.empty()) << o.err;
    ASSERT_FALSE(o.out.empty());
    EXPECT_EQ(o.out.back(), '\n');
    EXPECT_EQ(o.out.find('\n'), o.out.size() - 1) << "one line: " << o.out;
    const auto doc = nlohmann::ordered_json::parse(o.out);
    ASSERT_TRUE(doc.is_object());
    std::vector<std::string> keys;
    for (const auto& item : doc.items()) {
        keys.push_back(item.key());
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"file", "ok", "config"}));
    EXPECT_EQ(doc["file"], "good.toml");
    EXPECT_EQ(doc["ok"], true);
    EXPECT_EQ(doc["config"],
              mutex::config::to_json(mutex::config::parse(kGoodConfig, "good.toml")));
    EXPECT_EQ(doc["config"]["pool"][0]["name"], "proxies");
    EXPECT_EQ(doc["config"]["rule"].size(), 2U);
    EXPECT_EQ(connects_, 0);
}

TEST_F(Execute, ConfigValidateBadFileListsEveryDiagnostic) {
    files_["bad.toml"] = kBadConfig;
    const Outcome o = run({"config", "validate", "bad.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(o.out.empty()) << o.out;
    EXPECT_EQ(o.err,
              "bad.toml:3:13: scheduler: unknown scheduler 'fastest' (expected one of: rr, wrr, "
              "source-hash, least-conn, failover)\n"
              "bad.toml:9:8: pool: no pool named 'nowhere'\n");
    EXPECT_EQ(connects_, 0);
}

TEST_F(Execute, ConfigValidateBadFileJson) {
    files_["bad.toml"] = kBadConfig;
    const Outcome o = run({"-j", "config", "validate", "bad.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    // The diagnostics stay on stderr, exactly as without -j.
    EXPECT_EQ(o.err, run({"config", "validate", "bad.toml"}).err);
    EXPECT_EQ(o.out, R"({"file":"bad.toml","ok":false,"errors":[)"
                     R"({"line":3,"column":13,"message":"scheduler: unknown scheduler 'fastest' )"
                     R"j((expected one of: rr, wrr, source-hash, least-conn, failover)"},)j"
                     R"({"line":9,"column":8,"message":"pool: no pool named 'nowhere'"}]})"
                     "\n");
}

TEST_F(Execute, ConfigValidateTomlSyntaxError) {
    files_["syntax.toml"] = "[[pool]\nname = \"p\"\n";
    const Outcome o = run({"config", "validate", "syntax.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err.rfind("syntax.toml:1:", 0), 0U) << o.err;
    EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "one line: " << o.err;
}

TEST_F(Execute, ConfigValidateUnreadableFile) {
    const Outcome o = run({"config", "validate", "/nonexistent/mutexd.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(o.out.empty());
    EXPECT_EQ(o.err,
              "mutexctl: config validate: /nonexistent/mutexd.toml: cannot read: No such "
              "file or directory\n");
    const Outcome json = run({"-j", "config", "validate", "/nonexistent/mutexd.toml"});
    EXPECT_EQ(json.code, kExitFailure);
    EXPECT_EQ(json.err, o.err);
    EXPECT_EQ(connects_, 0);
}

TEST_F(Execute, ConfigValidateMissingFileIsAUsageError) {
    const Outcome o = run({"config", "validate"});
    EXPECT_EQ(o.code, kExitUsage);
    EXPECT_TRUE(o.out.empty());
    EXPECT_EQ(o.err.rfind("mutexctl: ", 0), 0U) << o.err;
    EXPECT_NE(o.err.find("FILE"), std::string::npos) << o.err;
    EXPECT_TRUE(reads_.empty());
    EXPECT_EQ(connects_, 0);
}

// The shipped example, read from disk by the test (mutexctl's own reader is in main.cpp).
TEST_F(Execute, ConfigValidateShippedExample) {
    std::ifstream in(MUTEX_EXAMPLE_CONFIG, std::ios::binary);
    ASSERT_TRUE(in) << MUTEX_EXAMPLE_CONFIG;
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    files_[MUTEX_EXAMPLE_CONFIG] = text;
    const auto config = mutex::config::parse(text, MUTEX_EXAMPLE_CONFIG);
    const Outcome o = run({"config", "validate", MUTEX_EXAMPLE_CONFIG});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(o.out, std::string(MUTEX_EXAMPLE_CONFIG) + ": ok (" +
                         std::to_string(config.pools.size()) + " pools, " +
                         std::to_string(config.rules.size()) + " rules)\n");
}

}  // namespace
}  // namespace mutexctl

namespace mutexctl {
namespace {

// ----- config apply / config show --------------------------------------------------------------

constexpr std::string_view kInterfaceConfig = R"([[pool]]
name = "proxies"
  [[pool.backend]]
  port = 12345

[[rule]]
out_interface = "eth0"
protocol = "tcp"
action = "redirect"
pool = "proxies"

[[rule]]
in_interface = "wg0"
action = "bypass"
)";

TEST(ParseArgs, ConfigApplyAndShow) {
    EXPECT_EQ(
        parse_ok({"config", "apply", "a.toml"}),
        (Invocation{Command::config_apply, false, nullptr, 0, "a.toml", {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"-j", "config", "show"}),
              (Invocation{Command::config_show, true, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_exit({"config", "apply"}).code, kExitUsage);
    EXPECT_EQ(parse_exit({"config", "show", "extra"}).code, kExitUsage);
    EXPECT_EQ(
        parse_ok({"config", "apply", "--generation", "7", "a.toml"}),
        (Invocation{Command::config_apply, false, nullptr, 0, "a.toml", {}, 7U, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"config", "apply", "a.toml", "--generation=0"}).generation, 0U);
    EXPECT_EQ(
        parse_ok({"config", "apply", "--generation", "18446744073709551615", "a.toml"}).generation,
        18446744073709551615U);
    for (const char* bad : {"-1", "x", "18446744073709551616", "0x2", " 1"}) {
        const Outcome o = parse_exit({"config", "apply", std::string("--generation=") + bad, "a"});
        EXPECT_EQ(o.code, kExitUsage) << bad;
        EXPECT_NE(o.err.find("invalid generation '" + std::string(bad) + "'"), std::string::npos)
            << o.err;
    }
    EXPECT_EQ(parse_exit({"config", "apply", "a.toml", "--generation"}).code, kExitUsage);
    EXPECT_EQ(parse_exit({"config", "apply", "--generation=", "a.toml"}).code, kExitUsage);
    EXPECT_EQ(parse_exit({"config", "show", "--generation", "3"}).code, kExitUsage);
}

TEST_F(Execute, ConfigApplySendsTheCurrentGeneration) {
    files_["good.toml"] = kGoodConfig;
    fake_->snapshot.generation = 41;
    const Outcome o = run({"config", "apply", "good.toml"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(o.out, "applied generation 42\n");
    EXPECT_TRUE(o.err.empty()) << o.err;
    EXPECT_EQ(fake_->get_configs, 1);
    EXPECT_EQ(fake_->applied_expected, 41U);
    ASSERT_TRUE(fake_->applied.has_value());
    EXPECT_EQ(*fake_->applied, mutex::config::parse(kGoodConfig, "good.toml"));
    const Outcome json = run({"-j", "config", "apply", "good.toml"});
    EXPECT_EQ(json.code, kExitOk);
    EXPECT_EQ(json.out, "{\"generation\":42}\n");
}

TEST_F(Execute, ConfigApplyWithGenerationSendsThatOne) {
    files_["good.toml"] = kGoodConfig;
    fake_->snapshot.generation = 99;
    const Outcome o = run({"config", "apply", "--generation", "41", "good.toml"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(o.out, "applied generation 42\n");
    EXPECT_EQ(fake_->get_configs, 0);  // the caller's generation, not one read now
    EXPECT_EQ(fake_->applied_expected, 41U);
}

TEST_F(Execute, ConfigApplyWithStaleGenerationSaysWhich) {
    files_["good.toml"] = kGoodConfig;
    fake_->set_fail = std::make_exception_ptr(
        mutex::NetlinkError(ESTALE, "configuration changed since generation 3 (now 4)"));
    const Outcome o = run({"config", "apply", "--generation", "3", "good.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err,
              "mutexctl: config apply: the module no longer holds generation 3 (configuration "
              "changed since generation 3 (now 4)); nothing was changed\n");
    EXPECT_TRUE(o.out.empty());
}

TEST_F(Execute, ConfigApplyResolvesInterfaces) {
    files_["if.toml"] = kInterfaceConfig;
    fake_->interfaces = {{"eth0", 2}, {"wg0", 7}, {"lo", 1}};
    const Outcome o = run({"config", "apply", "if.toml"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(fake_->applied_interfaces, (mutex::InterfaceIndexes{{"eth0", 2}, {"wg0", 7}}));
}

TEST_F(Execute, ConfigApplyUnknownInterfaceIsNamed) {
    files_["if.toml"] = kInterfaceConfig;
    fake_->interfaces = {{"eth0", 2}};
    const Outcome o = run({"config", "apply", "if.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err, "mutexctl: config apply: if.toml: rule 2: unknown interface 'wg0'\n");
    EXPECT_FALSE(fake_->applied.has_value());
}

TEST_F(Execute, ConfigApplyInvalidFileNeverContactsTheModule) {
    files_["bad.toml"] = kBadConfig;
    const Outcome o = run({"config", "apply", "bad.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err, run({"config", "validate", "bad.toml"}).err);
    EXPECT_NE(o.err.find("bad.toml:3:"), std::string::npos) << o.err;
    EXPECT_EQ(connects_, 0);
    const Outcome missing = run({"config", "apply", "/nonexistent.toml"});
    EXPECT_EQ(missing.code, kExitFailure);
    EXPECT_EQ(missing.err.rfind("mutexctl: config apply: /nonexistent.toml: cannot read: ", 0), 0U)
        << missing.err;
    EXPECT_EQ(connects_, 0);
}

TEST_F(Execute, ConfigApplyRefusedShowsTheKernelMessage) {
    files_["good.toml"] = kGoodConfig;
    fake_->set_fail = std::make_exception_ptr(
        mutex::NetlinkError(EINVAL, "pool 0: backends mix local and remote"));
    const Outcome o = run({"config", "apply", "good.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err, "mutexctl: config apply: pool 0: backends mix local and remote\n");
    EXPECT_TRUE(o.out.empty());
}

TEST_F(Execute, ConfigApplyStaleSaysAnotherWriter) {
    files_["good.toml"] = kGoodConfig;
    fake_->set_fail = std::make_exception_ptr(
        mutex::NetlinkError(ESTALE, "configuration changed since generation 3 (now 4)"));
    const Outcome o = run({"config", "apply", "good.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_NE(o.err.find("another writer changed the configuration"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("since generation 3 (now 4)"), std::string::npos) << o.err;
}

TEST_F(Execute, ConfigApplyWithoutPermission) {
    files_["good.toml"] = kGoodConfig;
    fake_->set_fail = std::make_exception_ptr(mutex::NetlinkError(EPERM));
    const Outcome o = run({"config", "apply", "good.toml"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_NE(o.err.find("CAP_NET_ADMIN"), std::string::npos) << o.err;
}

TEST_F(Execute, ConfigShowHumanAndJson) {
    fake_->snapshot.generation = 5;
    fake_->snapshot.config = mutex::config::parse(kGoodConfig, "good.toml");
    fake_->snapshot.config.pools[0].backends[0].state = mutex::config::BackendState::drain;
    fake_->snapshot.counters = {{{3, 10, 250, 1ULL << 35U}}};
    fake_->snapshot.rule_matches = {42};
    const Outcome o = run({"config", "show"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(o.out, "# generation 5\n" + mutex::config::to_toml(fake_->snapshot.config));
    EXPECT_EQ(mutex::config::parse(o.out, "shown"), fake_->snapshot.config);
    const Outcome json = run({"-j", "config", "show"});
    EXPECT_EQ(json.code, kExitOk) << json.err;
    const auto doc = nlohmann::ordered_json::parse(json.out);
    EXPECT_EQ(doc["generation"], 5);
    EXPECT_EQ(doc["config"], mutex::config::to_json(fake_->snapshot.config));
    ASSERT_EQ(doc["backends"].size(), 1U);
    EXPECT_EQ(doc["backends"][0]["pool"], "proxies");
    EXPECT_TRUE(doc["backends"][0]["address"].is_null());
    EXPECT_EQ(doc["backends"][0]["port"], 12345);
    EXPECT_EQ(doc["backends"][0]["state"], "drain");
    EXPECT_EQ(doc["backends"][0]["active_flows"], 3);
    EXPECT_EQ(doc["backends"][0]["total_flows"], 10);
    EXPECT_EQ(doc["backends"][0]["pkts"], 250);
    EXPECT_EQ(doc["backends"][0]["bytes"], 1ULL << 35U);
    const auto& rules = fake_->snapshot.config.rules;
    ASSERT_EQ(doc["rules"].size(), rules.size());
    for (std::size_t r = 0; r < rules.size(); ++r) {
        EXPECT_EQ(doc["rules"][r]["index"], r);
        EXPECT_EQ(doc["rules"][r]["matches"], r < 1 ? 42U : 0U);  // missing counts are 0
    }
}

TEST_F(Execute, ConfigShowModuleError) {
    fake_->fail = std::make_exception_ptr(mutex::NetlinkError(EOPNOTSUPP));
    const Outcome o = run({"config", "show"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_EQ(o.err.rfind("mutexctl: config show: ", 0), 0U) << o.err;
}

// ----- flows, flows flush, origdst -------------------------------------------------------------

using mutex::test::address;
using mutex::test::sample_tcp4_flow;

mutex::Flow udp6_flow() {
    mutex::Flow f;
    f.protocol = mutex::config::Protocol::udp;
    f.source = {address("2001:db8::2"), 5353};
    f.original_destination = {address("2001:db8::7"), 8001};
    f.destination = {address("::1"), 9000};
    f.action = mutex::config::Action::redirect;
    return f;
}

TEST(ParsePort, OneTo65535InDecimal) {
    EXPECT_EQ(parse_port("1"), 1U);
    EXPECT_EQ(parse_port("65535"), 65535U);
    EXPECT_EQ(parse_port("00080"), 80U);
    for (const char* bad : {"0", "65536", "", "-1", "+80", "0x50", " 80", "80 ", "http"}) {
        EXPECT_EQ(parse_port(bad), std::nullopt) << '"' << bad << '"';
    }
}

TEST(ParseArgs, FlowsCommands) {
    EXPECT_EQ(parse_ok({"flows"}).command, Command::flows);
    EXPECT_EQ(parse_ok({"-j", "flows"}),
              (Invocation{Command::flows, true, nullptr, 0, {}, {}, {}, {}, {}, {}, {}}));
    EXPECT_EQ(parse_ok({"flows", "flush"}).command, Command::flows_flush);
    EXPECT_TRUE(parse_ok({"-j", "flows", "flush"}).json);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"flows", "extra"}, {"flows", "flush", "now"}, {"flows", "list"}}) {
        const Outcome o = parse_exit(args);
        EXPECT_EQ(o.code, kExitUsage) << args.back();
        EXPECT_EQ(o.err.rfind("mutexctl: ", 0), 0U) << o.err;
    }
    const Outcome help = parse_exit({"flows", "--help"});
    EXPECT_EQ(help.code, kExitOk);
    EXPECT_NE(help.out.find("flush"), std::string::npos) << help.out;
}

TEST(ParseArgs, Origdst) {
    const Invocation v4 = parse_ok({"origdst", "tcp", "10.0.0.2", "40000", "127.0.0.1", "12345"});
    EXPECT_EQ(v4.command, Command::origdst);
    EXPECT_EQ(v4.key, (mutex::FlowKey{mutex::config::Protocol::tcp,
                                      {address("10.0.0.2"), 40000},
                                      {address("127.0.0.1"), 12345}}));
    const Invocation v6 = parse_ok({"-j", "origdst", "UDP", "2001:db8::2", "5353", "::1", "9000"});
    EXPECT_TRUE(v6.json);
    EXPECT_EQ(v6.key, (mutex::FlowKey{mutex::config::Protocol::udp,
                                      {address("2001:db8::2"), 5353},
                                      {address("::1"), 9000}}));
    const Outcome help = parse_exit({"origdst", "--help"});
    EXPECT_EQ(help.code, kExitOk);
    EXPECT_NE(help.out.find("DPORT"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("ADDR PORT"), std::string::npos) << parse_exit({"--help"}).out;
}

TEST(ParseArgs, OrigdstBadArgumentsAreUsageErrors) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"origdst", "icmp", "10.0.0.2", "1", "10.0.0.3", "2"},
         "mutexctl: origdst: invalid protocol 'icmp': expected tcp or udp\n"},
        {{"origdst", "tcp", "10.0.0.256", "1", "10.0.0.3", "2"},
         "mutexctl: origdst: invalid source address '10.0.0.256': expected an IPv4 or IPv6 "
         "address\n"},
        {{"origdst", "tcp", "10.0.0.2", "0", "10.0.0.3", "2"},
         "mutexctl: origdst: invalid source port '0': expected a decimal number from 1 to "
         "65535\n"},
        {{"origdst", "tcp", "10.0.0.2", "1", "[::1]", "2"},
         "mutexctl: origdst: invalid destination address '[::1]': expected an IPv4 or IPv6 "
         "address\n"},
        {{"origdst", "udp", "10.0.0.2", "1", "10.0.0.3", "65536"},
         "mutexctl: origdst: invalid destination port '65536': expected a decimal number from 1 "
         "to 65535\n"},
        {{"origdst", "udp", "10.0.0.2", "1", "::1", "2"},
         "mutexctl: origdst: source 10.0.0.2 and destination ::1 are not of the same address "
         "family\n"},
    };
    for (const auto& [args, message] : cases) {
        const Outcome o = parse_exit(args);
        EXPECT_EQ(o.code, kExitUsage);
        EXPECT_TRUE(o.out.empty());
        EXPECT_EQ(o.err, message + "Run 'mutexctl --help' for usage.\n");
    }
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"origdst"},
             {"origdst", "tcp", "10.0.0.2", "1", "10.0.0.3"},
             {"origdst", "tcp", "10.0.0.2", "1", "10.0.0.3", "2", "extra"}}) {
        const Outcome o = parse_exit(args);
        EXPECT_EQ(o.code, kExitUsage) << args.size();
        EXPECT_EQ(o.err.rfind("mutexctl: ", 0), 0U) << o.err;
    }
}

TEST_F(Execute, FlowsHumanAndJson) {
    fake_->flow_dump = {{sample_tcp4_flow(), udp6_flow()}, true, 1};
    const Outcome human = run({"flows"});
    EXPECT_EQ(human.code, kExitOk);
    EXPECT_TRUE(human.err.empty()) << human.err;
    EXPECT_EQ(human.out, mutex::format::human(fake_->flow_dump.flows));
    EXPECT_EQ(human.out.rfind("PROTO  SOURCE", 0), 0U) << human.out;
    EXPECT_NE(human.out.find("[2001:db8::2]:5353"), std::string::npos) << human.out;
    const Outcome json = run({"-j", "flows"});
    EXPECT_EQ(json.code, kExitOk);
    const auto doc = nlohmann::ordered_json::parse(json.out);
    ASSERT_TRUE(doc.is_array());
    ASSERT_EQ(doc.size(), 2U);
    EXPECT_EQ(doc[0]["orig_dst_addr"], "203.0.113.7");
    EXPECT_EQ(doc[0]["orig_dst_port"], 26656);
    EXPECT_EQ(doc[1]["dst_addr"], "::1");
}

TEST_F(Execute, FlowsEmpty) {
    const Outcome o = run({"-j", "flows"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, "[]\n");
}

TEST_F(Execute, FlowsThatNeverSettleAreShownWithAWarning) {
    fake_->flow_dump = {{sample_tcp4_flow()}, false, 3};
    const Outcome o = run({"flows"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, mutex::format::human(fake_->flow_dump.flows));
    EXPECT_EQ(o.err,
              "mutexctl: warning: the connection table changed during each of 3 dumps: flows may "
              "be missing or listed twice\n");
}

TEST_F(Execute, FlowsOnAModuleWithoutTheTable) {
    fake_->fail = std::make_exception_ptr(mutex::NetlinkError(EOPNOTSUPP));
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"flows"}, {"flows", "flush"}, {"origdst", "tcp", "10.0.0.2", "1", "10.0.0.3", "2"}}) {
        const Outcome o = run(args);
        EXPECT_EQ(o.code, kExitFailure);
        EXPECT_NE(o.err.find("API version 3 needed"), std::string::npos) << o.err;
    }
}

TEST_F(Execute, FlowsFlush) {
    fake_->flushed = 12;
    const Outcome o = run({"flows", "flush"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, "removed 12 flows\n");
    EXPECT_EQ(fake_->flushes, 1);
    fake_->flushed = 1;
    EXPECT_EQ(run({"flows", "flush"}).out, "removed 1 flow\n");
    fake_->flushed = 0;
    EXPECT_EQ(run({"-j", "flows", "flush"}).out, "{\"removed\":0}\n");
}

TEST_F(Execute, FlowsFlushWithoutPermission) {
    fake_->fail = std::make_exception_ptr(mutex::NetlinkError(EPERM));
    const Outcome o = run({"flows", "flush"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(o.out.empty());
    EXPECT_EQ(o.err,
              "mutexctl: flows flush: Operation not permitted (needs CAP_NET_ADMIN over the "
              "network namespace)\n");
}

TEST_F(Execute, FlowsAndConfigShowWithoutPermission) {
    // Flows and the configuration name the node's peers, sentries and relays: the module
    // refuses them to a user without CAP_NET_ADMIN, and mutexctl says what is needed.
    fake_->fail = std::make_exception_ptr(mutex::NetlinkError(EPERM));
    for (const auto& argv :
         {std::vector<std::string>{"flows"}, std::vector<std::string>{"config", "show"}}) {
        const Outcome o = run(argv);
        EXPECT_EQ(o.code, kExitFailure);
        EXPECT_TRUE(o.out.empty());
        EXPECT_NE(o.err.find("Operation not permitted (needs CAP_NET_ADMIN over the network "
                             "namespace)"),
                  std::string::npos)
            << o.err;
    }
}

TEST_F(Execute, OrigdstPrintsAddressAndPort) {
    fake_->origdst_answer = sample_tcp4_flow();
    const Outcome o = run({"origdst", "tcp", "10.0.0.2", "40000", "127.0.0.1", "12345"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, "203.0.113.7 26656\n");
    EXPECT_TRUE(o.err.empty()) << o.err;
    ASSERT_TRUE(fake_->asked.has_value());
    EXPECT_EQ(fake_->asked->source, (mutex::Endpoint{address("10.0.0.2"), 40000}));
    EXPECT_EQ(fake_->asked->destination, (mutex::Endpoint{address("127.0.0.1"), 12345}));

    fake_->origdst_answer = udp6_flow();
    const Outcome v6 = run({"origdst", "udp", "2001:db8::2", "5353", "::1", "9000"});
    EXPECT_EQ(v6.out, "2001:db8::7 8001\n");
    const Outcome json = run({"-j", "origdst", "udp", "2001:db8::2", "5353", "::1", "9000"});
    EXPECT_EQ(json.code, kExitOk);
    EXPECT_EQ(json.out, mutex::format::json_line(mutex::format::to_json(udp6_flow())));
}

TEST_F(Execute, OrigdstUnknownFlowShowsTheKernelMessage) {
    fake_->fail =
        std::make_exception_ptr(mutex::NetlinkError(ENOENT, "no steered flow with this 5-tuple"));
    const Outcome o = run({"origdst", "tcp", "10.0.0.2", "40000", "127.0.0.1", "12345"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_TRUE(o.out.empty());
    EXPECT_EQ(o.err, "mutexctl: origdst: no steered flow with this 5-tuple\n");
}

TEST_F(Execute, OrigdstBadArgumentsNeverContactTheModule) {
    EXPECT_EQ(run({"origdst", "tcp", "10.0.0.2", "0", "127.0.0.1", "12345"}).code, kExitUsage);
    EXPECT_EQ(run({"origdst", "sctp", "10.0.0.2", "1", "127.0.0.1", "2"}).code, kExitUsage);
    EXPECT_EQ(connects_, 0);
    EXPECT_FALSE(fake_->asked.has_value());
}

// ----- backend and events ----------------------------------------------------------------------

TEST(ParseBackendTarget, AcceptsTheThreeForms) {
    const auto v4 = parse_backend_target("10.0.0.2:26656");
    ASSERT_TRUE(v4);
    EXPECT_EQ(mutex::config::to_string(*v4->address), "10.0.0.2");
    EXPECT_EQ(v4->port, 26656);
    const auto v6 = parse_backend_target("[2001:db8::2]:443");
    ASSERT_TRUE(v6);
    EXPECT_EQ(mutex::config::to_string(*v6->address), "2001:db8::2");
    EXPECT_EQ(v6->port, 443);
    const auto local = parse_backend_target("1080");
    ASSERT_TRUE(local);
    EXPECT_FALSE(local->address);
    EXPECT_EQ(local->port, 1080);
}

TEST(ParseBackendTarget, RefusesTheRest) {
    for (const char* bad :
         {"", "10.0.0.2", "10.0.0.2:", "10.0.0.2:0", "10.0.0.2:65536", "2001:db8::2:443",
          "[2001:db8::2]", "[10.0.0.2]:80", "[::1]443", "host:80", "0", "-1"}) {
        EXPECT_FALSE(parse_backend_target(bad)) << bad;
    }
}

TEST_F(Execute, BackendStateReachesTheModule) {
    const Outcome o = run({"backend", "sentries", "10.0.0.2:26656", "down"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    ASSERT_TRUE(fake_->changed);
    EXPECT_EQ(fake_->changed->backend.pool, "sentries");
    EXPECT_EQ(fake_->changed->backend.port, 26656);
    EXPECT_EQ(fake_->changed->state, mutex::config::BackendState::down);
    EXPECT_FALSE(fake_->changed->weight);
    EXPECT_FALSE(fake_->changed->generation);
    EXPECT_EQ(o.out, "sentries 10.0.0.2:26656: down (generation 5)\n");
}

TEST_F(Execute, BackendWeightAndGeneration) {
    const Outcome o = run({"-j", "backend", "relays", "1080", "weight", "7", "--generation", "4"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    ASSERT_TRUE(fake_->changed);
    EXPECT_FALSE(fake_->changed->backend.address);
    EXPECT_EQ(fake_->changed->weight, 7);
    EXPECT_FALSE(fake_->changed->state);
    EXPECT_EQ(fake_->changed->generation, 4U);
    EXPECT_EQ(o.out, "{\"generation\":5}\n");
}

TEST_F(Execute, BackendEndFlows) {
    Outcome o = run({"backend", "relays", "[2001:db8::2]:8000", "end-flows", "udp"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    ASSERT_TRUE(fake_->ended);
    EXPECT_EQ(fake_->ended->second, mutex::config::Protocol::udp);
    EXPECT_EQ(o.out, "ended 3 connections\n");
    o = run({"backend", "relays", "10.0.0.9:8000", "end-flows"});
    EXPECT_EQ(fake_->ended->second, mutex::config::Protocol::any);
}

TEST_F(Execute, BackendUsageErrorsContactNothing) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"backend", "p", "10.0.0.2:1", "sideways"},
             {"backend", "p", "10.0.0.2:1", "weight"},
             {"backend", "p", "10.0.0.2:1", "weight", "0"},
             {"backend", "p", "10.0.0.2:1", "weight", "65536"},
             {"backend", "p", "10.0.0.2:1", "down", "now"},
             {"backend", "p", "10.0.0.2:1", "end-flows", "icmp"},
             {"backend", "p", "nowhere", "up"},
             {"backend", "p", "10.0.0.2:1", "up", "--generation", "x"},
             {"backend", "p", "10.0.0.2:1"},
         }) {
        const Outcome o = run(args);
        EXPECT_EQ(o.code, kExitUsage) << args.back();
    }
    EXPECT_EQ(connects_, 0);
}

TEST_F(Execute, BackendKernelRefusalIsReported) {
    fake_->fail =
        std::make_exception_ptr(mutex::NetlinkError(ENOENT, "no such backend in the pool"));
    const Outcome o = run({"backend", "sentries", "10.0.0.3:26656", "up"});
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_NE(o.err.find("mutexctl: backend sentries: "), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("no such backend in the pool"), std::string::npos) << o.err;
}

TEST_F(Execute, EventsPrintsEachEventAndStopsAfterCount) {
    mutex::Event config_event;
    config_event.type = mutex::EventType::config;
    config_event.generation = 3;
    mutex::Event backend_event;
    backend_event.type = mutex::EventType::backend;
    backend_event.generation = 3;
    backend_event.pool = "sentries";
    backend_event.backend = mutex::config::Backend{};
    backend_event.backend->address = mutex::config::parse_address("10.0.0.2");
    backend_event.backend->port = 26656;
    backend_event.backend->state = mutex::config::BackendState::down;
    fake_->event_messages = {{config_event}, {backend_event, config_event}};
    Outcome o = run({"events", "--count", "2"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(o.out,
              "config generation 3\n"
              "backend sentries 10.0.0.2:26656 down weight 1 (generation 3)\n");
    EXPECT_FALSE(fake_->followed_flows);
    o = run({"-j", "events", "--flows", "--timeout", "2"});
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(fake_->followed_quiet, std::chrono::seconds(2));
    EXPECT_TRUE(fake_->followed_flows);
    EXPECT_EQ(o.out,
              "{\"event\":\"config\",\"generation\":3}\n"
              "{\"event\":\"backend\",\"generation\":3,\"pool\":\"sentries\",\"backend\":"
              "{\"address\":\"10.0.0.2\",\"port\":26656,\"weight\":1,\"state\":\"down\"}}\n"
              "{\"event\":\"config\",\"generation\":3}\n");
}

TEST_F(Execute, TopRefreshesUntilCountOrQuit) {
    const auto parsed = parse_args({"-j", "top", "--count", "2"});
    const auto& inv = std::get<Invocation>(parsed);
    int waits = 0;
    std::vector<std::string> written;
    const auto connect = [this]() -> std::unique_ptr<Backend> {
        return std::make_unique<ForwardBackend>(*fake_);
    };
    const auto no_file = [](const std::string&) -> std::string { return {}; };
    Outcome o = execute(
        inv, connect, no_file, [&written](const std::string& text) { written.push_back(text); },
        [&waits](std::chrono::milliseconds period) {
            EXPECT_EQ(period, kTopPeriod);
            ++waits;
            return true;
        });
    EXPECT_EQ(o.code, kExitOk) << o.err;
    EXPECT_EQ(waits, 2);
    ASSERT_EQ(written.size(), 2U);
    EXPECT_EQ(written[0].rfind("{\"interval_s\":", 0), 0U) << written[0];
    // q before the first refresh: nothing written, exit 0
    written.clear();
    const auto screen = std::get<Invocation>(parse_args({"top"}));
    o = execute(
        screen, connect, no_file, [&written](const std::string& text) { written.push_back(text); },
        [](std::chrono::milliseconds) { return false; });
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_TRUE(written.empty());
    EXPECT_EQ(run({"top", "--count", "0"}).code, kExitUsage);
    EXPECT_EQ(run({"top", "--count", "x"}).code, kExitUsage);
}

TEST_F(Execute, EventsUsageErrors) {
    EXPECT_EQ(run({"events", "--count", "x"}).code, kExitUsage);
    EXPECT_EQ(run({"events", "--timeout", "0"}).code, kExitUsage);
    EXPECT_EQ(connects_, 0);
}

}  // namespace
}  // namespace mutexctl
