// SPDX-License-Identifier: GPL-2.0
#include "libmutex/toml_reader.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace mutex::config {

namespace {

/// Levenshtein distance, for "did you mean" hints on unknown keys.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string squote(std::string_view s) {
    return "'" + std::string(s) + "'";
}

std::string_view type_name(toml::node_type type) noexcept {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

TomlReader::TomlReader(std::string_view filename) : filename_(filename) {}

toml::table TomlReader::parse_document(std::string_view text, std::string_view filename) {
    try {
        return toml::parse(text, filename);
    } catch (const toml::parse_error& e) {
        std::string message(e.description());
        throw ConfigError({Diagnostic{std::string(filename), e.source().begin.line,
                                      e.source().begin.column, std::move(message)}});
    }
}

void TomlReader::error(const toml::source_region& where, std::string message) {
    diagnostics_.push_back(Diagnostic{std::string(filename_), where.begin.line, where.begin.column,
                                      std::move(message)});
}

std::vector<Diagnostic> TomlReader::take_diagnostics() {
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::pair{a.line, a.column} < std::pair{b.line, b.column};
                     });
    return std::move(diagnostics_);
}

void TomlReader::check_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                            std::string_view where) {
    for (const auto& [key, value] : table) {
        const std::string_view name = key.str();
        if (std::find(known.begin(), known.end(), name) != known.end()) {
            continue;
        }
        std::string message = "unknown key " + squote(name) + " in " + std::string(where);
        std::string_view best;
        std::size_t best_distance = 3;
        for (const auto candidate : known) {
            const std::size_t d = distance(name, candidate);
            if (d < best_distance) {
                best = candidate;
                best_distance = d;
            }
        }
        if (!best.empty()) {
            message += " (did you mean " + squote(best) + "?)";
        }
        error(key.source(), std::move(message));
    }
}

void TomlReader::wrong_type(const toml::node& node, std::string_view key,
                            std::string_view expected) {
    error(node.source(), std::string(key) + ": expected " + std::string(expected) + ", got " +
                             std::string(type_name(node.type())));
}

/// The array of tables under `key`, or nullptr (absent, or wrong type: reported).
const toml::array* TomlReader::array_of_tables(const toml::table& table, std::string_view key) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
        return nullptr;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
        wrong_type(*node, key, "an array of tables ([[" + std::string(key) + "]])");
        return nullptr;
    }
    return array;
}

const toml::node* TomlReader::string(const toml::table& table, std::string_view key,
                                     std::optional<std::string>& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
        return nullptr;
    }
    if (const auto* s = node->as_string()) {
        out = s->get();
        return node;
    }
    wrong_type(*node, key, "a string");
    return nullptr;
}

/// An integer in [min, max]; nullopt when absent or wrong (reported).
std::optional<bool> TomlReader::boolean(const toml::table& table, std::string_view key) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
        return std::nullopt;
    }
    if (const auto* b = node->as_boolean()) {
        return b->get();
    }
    wrong_type(*node, key, "a boolean (true or false)");
    return std::nullopt;
}

std::optional<std::int64_t> TomlReader::integer(const toml::table& table, std::string_view key,
                                                std::int64_t min, std::int64_t max) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
        return std::nullopt;
    }
    const auto* i = node->as_integer();
    if (i == nullptr) {
        wrong_type(*node, key, "an integer");
        return std::nullopt;
    }
    const std::int64_t value = i->get();
    if (value < min || value > max) {
        error(node->source(), std::string(key) + ": " + std::to_string(value) +
                                  " is out of range " + std::to_string(min) + ".." +
                                  std::to_string(max));
        return std::nullopt;
    }
    return value;
}

void TomlReader::missing(const toml::table& table, std::string_view key, std::string_view where) {
    error(table.source(), "missing required key " + squote(key) + " in " + std::string(where));
}

bool TomlReader::check_length(const toml::node& node, std::string_view key,
                              const std::string& value, std::size_t max, std::string_view what) {
    if (value.empty()) {
        error(node.source(), std::string(key) + ": " + std::string(what) + " is empty");
        return false;
    }
    if (value.size() > max) {
        error(node.source(), std::string(key) + ": " + squote(value) + " is " +
                                 std::to_string(value.size()) + " characters long, " +
                                 std::string(what) + " has at most " + std::to_string(max));
        return false;
    }
    return true;
}

}  // namespace mutex::config
