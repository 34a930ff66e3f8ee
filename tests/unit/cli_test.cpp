// SPDX-License-Identifier: GPL-2.0
// mutexctl: argument parsing and validation, and execution against a fake module (output,
// exit codes, error lines).
#include "mutexctl/cli.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "libmutex/codec.hpp"
#include "libmutex/error.hpp"

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

// ----- command line ----------------------------------------------------------------------------

TEST(ParseArgs, Commands) {
    EXPECT_EQ(parse_ok({"version"}), (Invocation{Command::version, false, nullptr, 0}));
    EXPECT_EQ(parse_ok({"status"}), (Invocation{Command::status, false, nullptr, 0}));
    EXPECT_EQ(parse_ok({"-j", "stats"}), (Invocation{Command::stats, true, nullptr, 0}));
    EXPECT_EQ(parse_ok({"--json", "status"}), (Invocation{Command::status, true, nullptr, 0}));
    EXPECT_EQ(parse_ok({"params"}), (Invocation{Command::params_get, false, nullptr, 0}));
    EXPECT_EQ(parse_ok({"params", "get"}), (Invocation{Command::params_get, false, nullptr, 0}));
    EXPECT_EQ(parse_ok({"-j", "params", "get", "perf_batch_size"}),
              (Invocation{Command::params_get, true, mutex::find_param("perf_batch_size"), 0}));
    EXPECT_EQ(
        parse_ok({"params", "set", "max_conns", "4294967295"}),
        (Invocation{Command::params_set, false, mutex::find_param("max_conns"), 4294967295U}));
    EXPECT_EQ(parse_ok({"params", "set", "perf_batch_size", "32"}),
              (Invocation{Command::params_set, false, mutex::find_param("perf_batch_size"), 32}));
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
                             "max_conns)"),
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
                                               {"-x", "stats"}}) {
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
}

TEST(ParseArgs, Help) {
    const Outcome o = parse_exit({"--help"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_NE(o.out.find("params"), std::string::npos);
    EXPECT_NE(o.out.find("--json"), std::string::npos);
    const Outcome sub = parse_exit({"params", "set", "--help"});
    EXPECT_EQ(sub.code, kExitOk);
    EXPECT_NE(sub.out.find("VALUE"), std::string::npos) << sub.out;
}

// ----- execution -------------------------------------------------------------------------------

class FakeBackend : public Backend {
public:
    mutex::Info info;
    mutex::Stats stats;
    std::optional<mutex::Params> last_set;
    std::exception_ptr fail;  // thrown by every call when set
    std::string warn;

    mutex::Info get_info() override {
        maybe_fail();
        return info;
    }
    mutex::Stats get_stats() override {
        maybe_fail();
        return stats;
    }
    mutex::Params set_params(const mutex::Params& params) override {
        last_set = params;
        maybe_fail();
        mutex::Params after = info.params;
        for (const auto& f : mutex::kParamFields) {
            if (params.*f.member) {
                after.*f.member = params.*f.member;
            }
        }
        return after;
    }
    [[nodiscard]] std::string warning() const override { return warn; }

private:
    void maybe_fail() const {
        if (fail) {
            std::rethrow_exception(fail);
        }
    }
};

class Execute : public ::testing::Test {
protected:
    Execute() {
        fake_->info.version = "0.1.0";
        fake_->info.api_version = 1;
        fake_->info.features = MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS;
        fake_->info.netns_cookie = 1;
        fake_->info.params = {1, 32, 1024, 262144};
        fake_->stats.pkts_seen = 12;
    }

    Outcome run(const std::vector<std::string>& args) {
        auto parsed = parse_args(args);
        if (auto* o = std::get_if<Outcome>(&parsed)) {
            return *o;
        }
        return execute(std::get<Invocation>(parsed), [this]() -> std::unique_ptr<Backend> {
            ++connects_;
            if (absent_) {
                throw mutex::FamilyNotFound("mutex_proxy");
            }
            return std::make_unique<Forward>(*fake_);
        });
    }

    // The fake outlives every Backend execute() creates.
    class Forward : public Backend {
    public:
        explicit Forward(FakeBackend& fake) : fake_(fake) {}
        mutex::Info get_info() override { return fake_.get_info(); }
        mutex::Stats get_stats() override { return fake_.get_stats(); }
        mutex::Params set_params(const mutex::Params& p) override { return fake_.set_params(p); }
        [[nodiscard]] std::string warning() const override { return fake_.warning(); }

    private:
        FakeBackend& fake_;
    };

    std::unique_ptr<FakeBackend> fake_ = std::make_unique<FakeBackend>();
    bool absent_ = false;
    int connects_ = 0;
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
              R"("perf_cache_size":1024,"max_conns":262144}})"
              "\n");
    EXPECT_EQ(run({"status"}).out.rfind("version       0.1.0\n", 0), 0U);
}

TEST_F(Execute, ParamsGet) {
    EXPECT_EQ(run({"params"}).out,
              "perf_enable_batching  1\nperf_batch_size       32\nperf_cache_size       1024\n"
              "max_conns             262144\n");
    EXPECT_EQ(run({"params", "get", "perf_batch_size"}).out, "perf_batch_size  32\n");
    EXPECT_EQ(run({"-j", "params", "get", "perf_batch_size"}).out, "{\"perf_batch_size\":32}\n");
    EXPECT_EQ(run({"-j", "params"}).out,
              R"({"perf_enable_batching":1,"perf_batch_size":32,"perf_cache_size":1024,)"
              R"("max_conns":262144})"
              "\n");
}

TEST_F(Execute, ParamsSetSendsOnlyThatParameter) {
    const Outcome o = run({"params", "set", "perf_batch_size", "64"});
    EXPECT_EQ(o.code, kExitOk);
    EXPECT_EQ(o.out, "perf_batch_size  64\n");
    ASSERT_TRUE(fake_->last_set.has_value());
    EXPECT_EQ(*fake_->last_set, (mutex::Params{{}, 64, {}, {}}));

    const Outcome json = run({"-j", "params", "set", "max_conns", "1000"});
    EXPECT_EQ(json.out, R"({"perf_enable_batching":1,"perf_batch_size":32,"perf_cache_size":1024,)"
                        R"("max_conns":1000})"
                        "\n");
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

}  // namespace
}  // namespace mutexctl
