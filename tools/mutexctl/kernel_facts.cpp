// SPDX-License-Identifier: GPL-2.0
// `mutexctl kernel-check`: the facts it judges, read from this machine (see kernel_check.hpp).
// The only part of kernel-check that touches files.
#include <sys/utsname.h>
#include <zlib.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>

#include "mutexctl/kernel_check.hpp"

namespace mutexctl::kernel {

namespace {

namespace fs = std::filesystem;

/// The whole file, or nullopt when it does not exist; throws for any other failure.
std::optional<std::string> read_text(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error(path + ": cannot be read");
    }
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A gzip-compressed file, uncompressed (zlib reads an uncompressed one as it is).
std::string read_gzip(const std::string& path) {
    gzFile file = ::gzopen(path.c_str(), "rb");
    if (file == nullptr) {
        throw std::runtime_error(path + ": cannot be read");
    }
    std::string text;
    std::array<char, 65536> chunk{};
    int n = 0;
    while ((n = ::gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
        text.append(chunk.data(), static_cast<std::size_t>(n));
    }
    int err = Z_OK;
    const std::string what = n < 0 ? ::gzerror(file, &err) : "";
    ::gzclose(file);
    if (n < 0) {
        throw std::runtime_error(path + ": " + what);
    }
    return text;
}

std::string link_name(const fs::path& link) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(link, ec);
    return ec ? std::string() : target.filename().string();
}

KernelConfig parse_config(const std::string& text, const std::string& source) {
    try {
        return KernelConfig::parse(text);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(source + ": " + e.what());
    }
}

}  // namespace

Facts read_kernel_facts(const Invocation& invocation) {
    Facts facts;
    if (invocation.release) {
        facts.release = *invocation.release;
    } else {
        utsname name{};
        ::uname(&name);
        facts.release = static_cast<const char*>(name.release);
    }

    std::string text;
    if (invocation.kernel_config) {
        facts.config_source = *invocation.kernel_config;
        if (!fs::exists(facts.config_source)) {
            throw std::runtime_error(facts.config_source + ": no such file");
        }
        text = read_gzip(facts.config_source);  // plain text reads as it is
    } else if (!invocation.release && fs::exists("/proc/config.gz")) {
        facts.config_source = "/proc/config.gz";
        text = read_gzip(facts.config_source);
    } else {
        facts.config_source = "/boot/config-" + facts.release;
        auto boot = read_text(facts.config_source);
        if (!boot) {
            throw std::runtime_error("no kernel configuration: neither /proc/config.gz nor " +
                                     facts.config_source + " exists (give one with --config FILE)");
        }
        text = std::move(*boot);
    }
    facts.config = parse_config(text, facts.config_source);

    const std::string moddir = "/lib/modules/" + facts.release;
    if (auto dep = read_text(moddir + "/modules.dep")) {
        facts.deps = parse_modules_dep(*dep);
        // the installed mutex_proxy, where depmod put it
        std::size_t at = 0;
        while ((at = dep->find("mutex_proxy.ko", at)) != std::string::npos) {
            const std::size_t start = dep->rfind('\n', at) + 1;  // npos + 1 == 0
            const std::string path = dep->substr(start, dep->find(':', start) - start);
            if (fs::path(path).filename().string().starts_with("mutex_proxy.ko")) {
                facts.installed_path = moddir;
                facts.installed_path += '/';
                facts.installed_path += path;
                break;
            }
            at += 1;
        }
    }
    if (!facts.installed_path.empty()) {
        std::ifstream in(facts.installed_path, std::ios::binary);
        std::array<char, 8> head{};
        in.read(head.data(), head.size());
        facts.installed_head.assign(head.data(), static_cast<std::size_t>(in.gcount()));
    }

    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/sys/class/net", ec)) {
        const fs::path driver = entry.path() / "device" / "driver";
        if (!fs::exists(driver, ec)) {
            continue;  // virtual: lo, bridges, veth, tunnels
        }
        std::string module = link_name(driver / "module");
        if (module.empty()) {
            module = link_name(driver);
        }
        std::replace(module.begin(), module.end(), '-', '_');
        facts.nics.push_back({entry.path().filename().string(), module});
    }
    std::sort(facts.nics.begin(), facts.nics.end(),
              [](const Nic& a, const Nic& b) { return a.interface < b.interface; });

    if (invocation.modules_list) {
        auto list = read_text(*invocation.modules_list);
        if (!list) {
            throw std::runtime_error(*invocation.modules_list + ": no such file");
        }
        try {
            facts.modules = parse_module_list(*list);
        } catch (const std::invalid_argument& e) {
            throw std::runtime_error(*invocation.modules_list + ": " + e.what());
        }
    }
    return facts;
}

}  // namespace mutexctl::kernel
