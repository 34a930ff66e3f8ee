// SPDX-License-Identifier: GPL-2.0
// Reads what a scrape shows of the kernel (GET_INFO, GET_STATS, GET_CONFIG) on a thread of its
// own with a netlink socket of its own, so a large configuration (10,000 rules take several
// dump messages) never holds up the daemon's event loop: health checks and failover go on while
// the kernel answers. The result comes back on the loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "libmutex/client.hpp"
#include "metrics/exposition.hpp"

namespace mutexd::metrics {

class KernelReader {
public:
    /// The kernel's state, or nullopt and why it could not be read.
    using Done = std::function<void(std::optional<KernelState> state, std::string error)>;

    /// `loop`: where `done` runs.
    explicit KernelReader(boost::asio::io_context& loop);
    KernelReader(const KernelReader&) = delete;
    KernelReader& operator=(const KernelReader&) = delete;
    KernelReader(KernelReader&&) = delete;
    KernelReader& operator=(KernelReader&&) = delete;
    /// Waits for a read in progress; reads queued after it are dropped.
    ~KernelReader() noexcept;

    /// Queues one read; reads run one at a time, in order. Without `config` the state's
    /// configuration is left empty (GET_INFO and GET_STATS only: what the tuning policy needs).
    void read(Done done, bool config = true);

private:
    void read_now(const Done& done, bool config);

    boost::asio::io_context& loop_;
    boost::asio::io_context worker_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::unique_ptr<mutex::Client> client_;  // the worker's alone; opened again after an error
    std::thread thread_;
};

}  // namespace mutexd::metrics
