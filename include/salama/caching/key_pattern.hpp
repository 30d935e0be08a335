// salama: key patterns (prefix or glob) that group cache keys for statistics and TTLs.
#pragma once

#include "salama/core/validation.hpp"

#include <string>
#include <string_view>

namespace salama::caching {

/// How a key_pattern's text is read.
enum class pattern_kind {
    prefix,  ///< the key starts with the text
    glob,    ///< the whole key matches; '*' is any run of characters, '?' any one character
};

/// A non-empty pattern over string keys, e.g. glob "user:*:profile" or prefix "session:".
class key_pattern {
public:
    /// Throws config_error (field "pattern") if `text` is empty.
    key_pattern(std::string text, pattern_kind kind) : text_(std::move(text)), kind_(kind) {
        validator{"key_pattern"}.non_empty("pattern", text_).throw_if_failed();
    }

    /// True if `key` matches.
    bool matches(std::string_view key) const noexcept {
        if (kind_ == pattern_kind::prefix) return key.starts_with(text_);
        return glob_match(text_, key);
    }

    /// The pattern text.
    const std::string& text() const noexcept { return text_; }
    /// How the text is read.
    pattern_kind kind() const noexcept { return kind_; }

    /// Glob matching without recursion: on a mismatch, retry from the last '*' with one
    /// more character swallowed (linear in practice, never exponential).
    static bool glob_match(std::string_view pattern, std::string_view s) noexcept {
        std::size_t p = 0, i = 0;
        std::size_t star = std::string_view::npos, resume = 0;
        while (i < s.size()) {
            if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == s[i])) {
                ++p;
                ++i;
            } else if (p < pattern.size() && pattern[p] == '*') {
                star = p++;
                resume = i;
            } else if (star != std::string_view::npos) {
                p = star + 1;
                i = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.size() && pattern[p] == '*') ++p;
        return p == pattern.size();
    }

private:
    std::string text_;
    pattern_kind kind_;
};

}  // namespace salama::caching
