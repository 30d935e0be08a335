// salama HPA core internals: the integer and float conversions Kubernetes' Go code relies on.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace salama::scaling::hpa::detail {

/// int32(x) for a float already rounded by the caller, saturated instead of wrapping (Go leaves
/// out-of-range conversions undefined); NaN becomes 0.
inline std::int32_t saturate_int32(double x) noexcept {
    if (std::isnan(x)) return 0;
    if (x >= static_cast<double>(std::numeric_limits<std::int32_t>::max()))
        return std::numeric_limits<std::int32_t>::max();
    if (x <= static_cast<double>(std::numeric_limits<std::int32_t>::min()))
        return std::numeric_limits<std::int32_t>::min();
    return static_cast<std::int32_t>(x);  // truncates toward zero, like Go
}

/// int32(math.Ceil(x)), saturated.
inline std::int32_t ceil_int32(double x) noexcept { return saturate_int32(std::ceil(x)); }

/// int64(x), saturated; NaN becomes 0.
inline std::int64_t saturate_int64(double x) noexcept {
    if (std::isnan(x)) return 0;
    if (x >= 9.2233720368547758e18) return std::numeric_limits<std::int64_t>::max();
    if (x <= -9.2233720368547758e18) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(x);
}

/// a + b for int64 without overflow (saturating), as the external-metric sum does.
inline std::int64_t add_saturating(std::int64_t a, std::int64_t b) noexcept {
    // Portable (MSVC has no __builtin_add_overflow): the sum overflows exactly when b pushes a
    // past a limit.
    constexpr auto hi = std::numeric_limits<std::int64_t>::max();
    constexpr auto lo = std::numeric_limits<std::int64_t>::min();
    if (b > 0 && a > hi - b) return hi;
    if (b < 0 && a < lo - b) return lo;
    return a + b;
}

/// A sample value in milli-units as an integer (fractions of a milli-unit round up, as
/// Kubernetes' MilliValue does); nullopt when not finite, negative or out of range.
inline std::optional<std::int64_t> to_milli(double v) noexcept {
    if (!std::isfinite(v) || v < 0 || v >= 9.2e18) return std::nullopt;
    return static_cast<std::int64_t>(std::ceil(v));
}

}  // namespace salama::scaling::hpa::detail
