// salama: the high 64 bits of a 64 × 64-bit product, on every compiler: a 128-bit
// multiply where the compiler has one, _umul128 on MSVC x64, four 32-bit products elsewhere.
#pragma once

#include <cstdint>
#include <type_traits>

#if defined(_MSC_VER) && !defined(__clang__) && defined(_M_X64)
#include <intrin.h>
#endif

namespace salama::balancing::detail {

/// The high half of `a * b` from 32-bit halves (exact; the portable fallback).
constexpr std::uint64_t mul_high64_portable(std::uint64_t a, std::uint64_t b) noexcept {
    const std::uint64_t a_lo = a & 0xffffffffU, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffU, b_hi = b >> 32;
    const std::uint64_t lo_lo = a_lo * b_lo;
    const std::uint64_t hi_lo = a_hi * b_lo;
    const std::uint64_t lo_hi = a_lo * b_hi;
    const std::uint64_t hi_hi = a_hi * b_hi;
    const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffU) + lo_hi;
    return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

/// The high half of the 128-bit product `a * b`.
constexpr std::uint64_t mul_high64(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    return static_cast<std::uint64_t>((static_cast<u128>(a) * b) >> 64);
#elif defined(_MSC_VER) && !defined(__clang__) && defined(_M_X64)
    if (std::is_constant_evaluated()) return mul_high64_portable(a, b);
    std::uint64_t high = 0;
    (void)_umul128(a, b, &high);
    return high;
#else
    return mul_high64_portable(a, b);
#endif
}

}  // namespace salama::balancing::detail
