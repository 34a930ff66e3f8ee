// SPDX-License-Identifier: GPL-2.0
// mutexctl's command line: parsing and validation (CLI11) and execution against a Backend, so
// both are unit-tested without a kernel. main.cpp only wires the real netlink client in.
//
//   mutexctl [-j|--json] version | status | stats | params [get [NAME] | set NAME VALUE]
//
// Exit codes: 0 success (also `version` when the module is not loaded), 1 kernel or runtime
// error, 2 usage error. Errors go to stderr as "mutexctl: <what>: <kernel message or strerror>".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libmutex/codec.hpp"

namespace mutexctl {

inline constexpr std::string_view kVersion = MUTEXCTL_VERSION;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

enum class Command { version, status, stats, params_get, params_set };

/// A validated command line.
struct Invocation {
    Command command = Command::status;
    bool json = false;
    const mutex::ParamField* param = nullptr;  // params get NAME / params set NAME VALUE
    std::uint32_t value = 0;                   // params set

    bool operator==(const Invocation&) const = default;
};

/// What the process prints and returns.
struct Outcome {
    int code = kExitOk;
    std::string out;  // for stdout
    std::string err;  // for stderr
};

/// An unsigned 32-bit decimal integer: digits only (no sign, no blanks, no prefix), at most
/// 4294967295. Ranges are the kernel's business.
std::optional<std::uint32_t> parse_u32(std::string_view text) noexcept;

/// Parses the arguments after argv[0]. Returns the Invocation to execute, or the Outcome to
/// exit with (help: code 0 on stdout; usage error: code 2 on stderr).
std::variant<Invocation, Outcome> parse_args(const std::vector<std::string>& args);

/// What execute() needs from the module; the real one is mutex::Client.
class Backend {
public:
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    Backend(Backend&&) = delete;
    Backend& operator=(Backend&&) = delete;
    virtual ~Backend() = default;

    virtual mutex::Info get_info() = 0;
    virtual mutex::Stats get_stats() = 0;
    virtual mutex::Params set_params(const mutex::Params& params) = 0;
    /// Extended-ack warning of the last successful request, usually empty.
    [[nodiscard]] virtual std::string warning() const = 0;
};

/// Opens the connection to the module; throws mutex::FamilyNotFound when it is not loaded.
using Connect = std::function<std::unique_ptr<Backend>()>;

/// Runs a validated command. Never throws for kernel or runtime errors: they become exit code 1
/// and a "mutexctl: ..." line on stderr.
Outcome execute(const Invocation& invocation, const Connect& connect);

}  // namespace mutexctl
