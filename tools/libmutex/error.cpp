// SPDX-License-Identifier: GPL-2.0
#include "libmutex/error.hpp"

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace mutex {

namespace {

std::string describe(int error, const std::string& kernel_message) {
    if (!kernel_message.empty()) {
        return kernel_message;
    }
    return std::generic_category().message(error);
}

}  // namespace

NetlinkError::NetlinkError(int error, const std::string& kernel_message,
                           std::optional<std::uint32_t> offset)
    : NetlinkError(error, describe(error, kernel_message), kernel_message, offset) {}

NetlinkError::NetlinkError(int error, const std::string& what, std::string kernel_message,
                           std::optional<std::uint32_t> offset)
    : std::runtime_error(what),
      error_(error),
      kernel_message_(std::move(kernel_message)),
      offset_(offset) {}

ProtocolError::ProtocolError(const std::string& what)
    : NetlinkError(EPROTO, "protocol error: " + what, {}, std::nullopt) {}

FamilyNotFound::FamilyNotFound(std::string_view family)
    : NetlinkError(ENOENT, std::string(family) + " module not loaded", {}, std::nullopt) {}

DumpInterrupted::DumpInterrupted()
    : NetlinkError(EINTR, "dump interrupted: the kernel's table changed during the dump, retry", {},
                   std::nullopt) {}

}  // namespace mutex
