// SPDX-License-Identifier: GPL-2.0
#include "log/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

namespace mutexd::log {

namespace {

spdlog::level::level_enum to_spdlog(mutex::config::LogLevel level) {
    switch (level) {
        case mutex::config::LogLevel::trace:
            return spdlog::level::trace;
        case mutex::config::LogLevel::debug:
            return spdlog::level::debug;
        case mutex::config::LogLevel::info:
            return spdlog::level::info;
        case mutex::config::LogLevel::warn:
            return spdlog::level::warn;
        case mutex::config::LogLevel::error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

}  // namespace

void init(mutex::config::LogLevel level) {
    std::shared_ptr<spdlog::logger> logger;
    if (std::getenv("INVOCATION_ID") != nullptr) {
        logger = std::make_shared<spdlog::logger>(
            "mutexd", std::make_shared<spdlog::sinks::systemd_sink_mt>("mutexd"));
        logger->set_pattern("%v");
    } else {
        logger = spdlog::stderr_color_mt("mutexd");
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e mutexd %l: %v");
    }
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    set_level(level);
}

void set_level(mutex::config::LogLevel level) {
    spdlog::set_level(to_spdlog(level));
}

}  // namespace mutexd::log
