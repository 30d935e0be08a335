// salama: the naming rules shared by samples, the metrics registry and the exposition format.
#pragma once

#include <string_view>

namespace salama {

/// True if `s` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
constexpr bool is_valid_metric_name(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        const bool digit = c >= '0' && c <= '9';
        if (!(alpha || (i > 0 && digit))) return false;
    }
    return true;
}

/// True if `s` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with "__"
/// (reserved for internal use by Prometheus).
constexpr bool is_valid_label_name(std::string_view s) noexcept {
    if (s.empty() || s.starts_with("__")) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!(alpha || (i > 0 && digit))) return false;
    }
    return true;
}

}  // namespace salama
