// SPDX-License-Identifier: GPL-2.0
// Error types of libmutex: what the kernel refused (errno + extended ack), what the kernel sent
// that does not follow the UAPI contract, and the absent generic netlink family.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mutex {

/// A request refused by the kernel (NLMSG_ERROR, or NLMSG_DONE carrying an error) or a failed
/// socket operation. what() is the kernel's extended-ack message when it sent one, strerror of
/// error() otherwise.
class NetlinkError : public std::runtime_error {
public:
    /// @param error          positive errno value
    /// @param kernel_message NLMSGERR_ATTR_MSG, empty when the kernel sent none
    /// @param offset         NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in the
    ///                       request, when the kernel named one
    explicit NetlinkError(int error, const std::string& kernel_message = {},
                          std::optional<std::uint32_t> offset = std::nullopt);

    /// Positive errno value (EINVAL, EPERM, ...).
    [[nodiscard]] int error() const noexcept { return error_; }
    /// The kernel's extended-ack message; empty when there was none.
    [[nodiscard]] const std::string& kernel_message() const noexcept { return kernel_message_; }
    /// Offset of the offending attribute in the request message, if the kernel reported it.
    [[nodiscard]] std::optional<std::uint32_t> offset() const noexcept { return offset_; }

protected:
    NetlinkError(int error, const std::string& what, std::string kernel_message,
                 std::optional<std::uint32_t> offset);

private:
    int error_;
    std::string kernel_message_;
    std::optional<std::uint32_t> offset_;
};

/// The kernel sent something that breaks the netlink or UAPI contract: truncated message,
/// attribute of the wrong type or length, missing mandatory attribute, unexpected sequence number
/// or port id. error() is EPROTO.
class ProtocolError : public NetlinkError {
public:
    explicit ProtocolError(const std::string& what);
};

/// The generic netlink family is not registered: the module is not loaded. error() is ENOENT.
class FamilyNotFound : public NetlinkError {
public:
    explicit FamilyNotFound(std::string_view family);
};

/// A dump was answered with NLM_F_DUMP_INTR: the kernel's table changed while it was being
/// dumped, the result may be inconsistent, the caller should retry. error() is EINTR.
class DumpInterrupted : public NetlinkError {
public:
    DumpInterrupted();
};

}  // namespace mutex
