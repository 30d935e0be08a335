// salama: hash mixing and a small deterministic random generator for the caching policies.
#pragma once

#include <cstdint>

namespace salama::caching::detail {

/// Spreads a (possibly weak, e.g. identity) hash over all 64 bits.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/// splitmix64: a fast generator; seeded explicitly so that runs are reproducible.
class split_mix {
public:
    explicit constexpr split_mix(std::uint64_t seed) noexcept : state_(seed) {}
    constexpr std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t state_;
};

}  // namespace salama::caching::detail
