// salama: validation of options and outside input, with errors that name the field.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace salama {

/// The longest duration an option read as seconds may hold: 1e9 s (about 31 years). The
/// library's durations count nanoseconds in an int64, which ends near 9.2e9 s; the margin
/// leaves room to add such a duration to `now`.
inline constexpr double max_duration_seconds = 1e9;

/// The most members (replicas) an option may name or a step may add: the HPA's int32 range.
inline constexpr std::int64_t max_members = 2147483647;

/// `s` seconds as a duration, or nullopt when `s` is not finite or outside
/// [-max_duration_seconds, max_duration_seconds] (the conversion would overflow).
inline std::optional<duration> checked_seconds_to_duration(double s) noexcept {
    if (!(std::isfinite(s) && std::abs(s) <= max_duration_seconds)) return std::nullopt;
    return seconds_to_duration(s);
}

/// `v` as an int64 when it is finite, whole and within [lo, hi]; nullopt otherwise (the cast
/// would be undefined or would change the value).
inline std::optional<std::int64_t> checked_whole(double v, std::int64_t lo, std::int64_t hi) noexcept {
    // 2^63 and -2^63 are exact doubles; everything strictly inside converts without UB.
    if (!(std::isfinite(v) && v == std::trunc(v) && v > -9.2233720368547758e18 && v < 9.2233720368547758e18))
        return std::nullopt;
    const auto n = static_cast<std::int64_t>(v);
    if (n < lo || n > hi) return std::nullopt;
    return n;
}

/// What was wrong with one field of an input: the field's dotted path and why.
struct field_error {
    std::string field{};   ///< e.g. "autoscaler_options.period"
    std::string reason{};  ///< e.g. "must be positive, got -1"

    /// "invalid <field>: <reason>".
    std::string message() const { return fmt::format("invalid {}: {}", field, reason); }
};

/// Thrown by constructors given options that fail validation (misuse).
class config_error : public std::invalid_argument {
public:
    explicit config_error(field_error e)
        : std::invalid_argument(e.message()), error_(std::move(e)) {}

    /// The field that failed and why.
    const field_error& error() const noexcept { return error_; }
    /// The offending field's dotted path.
    const std::string& field() const noexcept { return error_.field; }

private:
    field_error error_;
};

/// Checks fields one after another and keeps the first failure.
///
/// Usage: `validator v{"cache_options"}; v.positive("capacity", c); v.throw_if_failed();`
class validator {
public:
    /// `prefix` is prepended to every field name ("prefix.field").
    explicit validator(std::string_view prefix = {}) : prefix_(prefix) {}

    /// Fails `field` with `reason` unless `ok`.
    validator& check(bool ok, std::string_view field, std::string_view reason) {
        if (!ok && !error_) error_ = field_error{qualify(field), std::string(reason)};
        return *this;
    }

    /// The value is neither NaN nor infinite.
    validator& finite(std::string_view field, double v) {
        return check(std::isfinite(v), field, fmt::format("must be finite, got {}", v));
    }

    /// The value is finite and > 0.
    validator& positive(std::string_view field, double v) {
        return check(std::isfinite(v) && v > 0, field, fmt::format("must be positive, got {}", v));
    }

    /// The value is finite and >= 0.
    validator& non_negative(std::string_view field, double v) {
        return check(std::isfinite(v) && v >= 0, field,
                     fmt::format("must be non-negative, got {}", v));
    }

    /// The value is finite and within [lo, hi].
    validator& in_range(std::string_view field, double v, double lo, double hi) {
        return check(std::isfinite(v) && v >= lo && v <= hi, field,
                     fmt::format("must be within [{}, {}], got {}", lo, hi, v));
    }

    /// The value is a finite number of seconds within [0, max_duration_seconds], so it converts
    /// to a duration without overflow.
    validator& duration_seconds(std::string_view field, double s) {
        return check(std::isfinite(s) && s >= 0 && s <= max_duration_seconds, field,
                     fmt::format("must be within [0, {:g}] seconds, got {}", max_duration_seconds, s));
    }

    /// The duration is within [0, max_duration_seconds].
    validator& duration_range(std::string_view field, duration d) {
        return duration_seconds(field, to_seconds(d));
    }

    /// The value is a whole number within [lo, hi] (so it converts to an integer exactly).
    validator& whole_in_range(std::string_view field, double v, std::int64_t lo, std::int64_t hi) {
        return check(checked_whole(v, lo, hi).has_value(), field,
                     fmt::format("must be a whole number within [{}, {}], got {}", lo, hi, v));
    }

    /// The string is not empty.
    validator& non_empty(std::string_view field, std::string_view s) {
        return check(!s.empty(), field, "must not be empty");
    }

    /// True while no check has failed.
    bool ok() const noexcept { return !error_.has_value(); }

    /// The first failure, if any.
    const std::optional<field_error>& error() const noexcept { return error_; }

    /// Throws config_error with the first failure, if any.
    void throw_if_failed() const {
        if (error_) throw config_error(*error_);
    }

private:
    std::string qualify(std::string_view field) const {
        if (prefix_.empty()) return std::string(field);
        return fmt::format("{}.{}", prefix_, field);
    }

    std::string prefix_;
    std::optional<field_error> error_;
};

}  // namespace salama
