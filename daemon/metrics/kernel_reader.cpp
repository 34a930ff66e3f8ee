// SPDX-License-Identifier: GPL-2.0
#include "metrics/kernel_reader.hpp"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>

namespace mutexd::metrics {

namespace asio = boost::asio;

KernelReader::KernelReader(asio::io_context& loop)
    : loop_(loop), guard_(worker_.get_executor()), thread_([this] { worker_.run(); }) {}

KernelReader::~KernelReader() noexcept {
    worker_.stop();
    thread_.join();
}

void KernelReader::read(Done done, bool config) {
    asio::post(worker_, [this, config, done = std::move(done)] { read_now(done, config); });
}

void KernelReader::read_now(const Done& done, bool config) {
    std::optional<KernelState> state;
    std::string error;
    try {
        if (!client_) {
            client_ = std::make_unique<mutex::Client>();
        }
        KernelState k;
        k.info = client_->get_info();
        k.stats = client_->get_stats();
        if (config) {
            k.config = client_->get_config();
        }
        state = std::move(k);
    } catch (const std::exception& e) {
        // The module may have been unloaded or loaded again (a new family id): open anew.
        client_.reset();
        error = e.what();
    }
    asio::post(loop_, [done, state = std::move(state), error = std::move(error)]() mutable {
        done(std::move(state), std::move(error));
    });
}

}  // namespace mutexd::metrics
