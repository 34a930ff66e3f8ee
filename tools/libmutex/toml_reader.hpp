// SPDX-License-Identifier: GPL-2.0
// The generic layer of the configuration reader: a TOML document (toml++) read with positions
// and diagnostics, and nothing of what the file means. The schema (config_parse.cpp: pools and
// rules; the daemon's sections) asks it for typed values by key; every problem becomes a
// Diagnostic with the position of the offending value (or of the table that lacks a key), and
// reading goes on, so one run names every problem.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "libmutex/config.hpp"

namespace mutex::config {

/// 'text', as diagnostics quote values and keys.
std::string squote(std::string_view s);
/// "a table", "an integer", ...: what a TOML node is, for diagnostics.
std::string_view type_name(toml::node_type type) noexcept;

/// "a, b, c": the spellings of an enumeration, for diagnostics.
template <typename E, std::size_t N>
std::string choices(const std::array<EnumName<E>, N>& names) {
    std::string out;
    for (const auto& entry : names) {
        if (!out.empty()) {
            out += ", ";
        }
        out += entry.name;
    }
    return out;
}

class TomlReader {
public:
    /// `filename` names the document in diagnostics.
    explicit TomlReader(std::string_view filename);

    /// Parses TOML text. @throws ConfigError with the position of a syntax error.
    static toml::table parse_document(std::string_view text, std::string_view filename);

    /// Records a problem at `where`.
    void error(const toml::source_region& where, std::string message);
    /// Every problem recorded, in file order.
    [[nodiscard]] std::vector<Diagnostic> take_diagnostics();

    /// Reports every key of `table` not in `known` ("did you mean" the nearest known one).
    void check_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                    std::string_view where);
    /// Reports `node` (under `key`) for not being `expected`.
    void wrong_type(const toml::node& node, std::string_view key, std::string_view expected);
    /// Reports `key` missing from `table`, at the table.
    void missing(const toml::table& table, std::string_view key, std::string_view where);

    /// The array of tables under `key`, or nullptr (absent, or wrong type: reported).
    const toml::array* array_of_tables(const toml::table& table, std::string_view key);
    /// The string under `key` into `out`; its node, or nullptr (absent, or wrong type: reported).
    const toml::node* string(const toml::table& table, std::string_view key,
                             std::optional<std::string>& out);
    /// A boolean; nullopt when absent or wrong (reported).
    std::optional<bool> boolean(const toml::table& table, std::string_view key);
    /// An integer in [min, max]; nullopt when absent or wrong (reported).
    std::optional<std::int64_t> integer(const toml::table& table, std::string_view key,
                                        std::int64_t min, std::int64_t max);
    /// A string naming one of `names`; nullopt when absent or wrong (reported with the choices).
    template <typename E, std::size_t N>
    std::optional<E> enumeration(const toml::table& table, std::string_view key,
                                 const std::array<EnumName<E>, N>& names, std::string_view what) {
        std::optional<std::string> text;
        const toml::node* node = string(table, key, text);
        if (node == nullptr) {
            return std::nullopt;
        }
        for (const auto& entry : names) {
            if (entry.name == *text) {
                return entry.value;
            }
        }
        error(node->source(), std::string(key) + ": unknown " + std::string(what) + " " +
                                  squote(*text) + " (expected one of: " + choices(names) + ")");
        return std::nullopt;
    }
    /// Whether `value` (of `node` under `key`) is non-empty and at most `max` characters long;
    /// reported otherwise, calling it `what`.
    bool check_length(const toml::node& node, std::string_view key, const std::string& value,
                      std::size_t max, std::string_view what);

private:
    std::string_view filename_;
    std::vector<Diagnostic> diagnostics_;
};

}  // namespace mutex::config
