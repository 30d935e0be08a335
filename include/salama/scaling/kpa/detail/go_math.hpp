// salama KPA core internals: Go's float64 helpers and conversions as Knative's autoscaler sees
// them on amd64, so that every decision matches Knative's bit for bit.
//
// Exactness also needs the translation unit compiled without floating-point contraction
// (-ffp-contract=off): Go on amd64 never fuses a multiply and an add, and a fused
// `ready * total - burst` can floor to a different integer. kpa::scale_in_place also switches
// contraction off itself: GCC through an optimize attribute (its GNU modes default to fast),
// clang through a pragma (which -ffp-contract=fast overrides).
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

namespace salama::scaling::kpa::detail {

/// math.Max: +Inf wins over NaN, NaN over everything else, +0 over -0.
inline double go_max(double x, double y) noexcept {
    if ((std::isinf(x) && x > 0) || (std::isinf(y) && y > 0)) return std::numeric_limits<double>::infinity();
    if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
    if (x == 0 && x == y) return std::signbit(x) ? y : x;
    return x > y ? x : y;
}

/// math.Min: -Inf wins over NaN, NaN over everything else, -0 over +0.
inline double go_min(double x, double y) noexcept {
    if ((std::isinf(x) && x < 0) || (std::isinf(y) && y < 0)) return -std::numeric_limits<double>::infinity();
    if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
    if (x == 0 && x == y) return std::signbit(x) ? x : y;
    return x < y ? x : y;
}

/// int32(f) as Go compiles it on amd64 (CVTTSD2SL): truncation toward zero; NaN and values
/// outside the int32 range give the "integer indefinite" value, math.MinInt32.
inline std::int32_t go_int32(double f) noexcept {
    if (!(f > -2147483649.0 && f < 2147483648.0)) return std::numeric_limits<std::int32_t>::min();
    return static_cast<std::int32_t>(f);
}

/// int(f) (64-bit) as Go compiles it on amd64 (CVTTSD2SQ): truncation; NaN and out-of-range
/// values give math.MinInt64.
inline std::int64_t go_int64(double f) noexcept {
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(f);
}

/// int32(n) for a Go int: keeps the low 32 bits (modular since C++20).
constexpr std::int32_t go_int32(std::int64_t n) noexcept { return static_cast<std::int32_t>(n); }

/// a - b on Go ints: wraps on overflow instead of being undefined.
constexpr std::int64_t go_sub(std::int64_t a, std::int64_t b) noexcept {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

/// float64(d) of a time.Duration: its nanoseconds as a double.
template <class Rep, class Period>
double go_float_nanoseconds(std::chrono::duration<Rep, Period> d) noexcept {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

/// time.Time.Unix() of a time point whose epoch is `epoch_unix_seconds` in Unix time: whole
/// seconds, rounded toward the past (Go stores a non-negative nanosecond part).
template <class Clock, class Dur>
std::int64_t go_unix_seconds(std::chrono::time_point<Clock, Dur> t, std::int64_t epoch_unix_seconds) noexcept {
    const auto s = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(epoch_unix_seconds) + static_cast<std::uint64_t>(s));
}

}  // namespace salama::scaling::kpa::detail
