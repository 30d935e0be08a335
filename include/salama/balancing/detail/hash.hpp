// salama: 64-bit hashing and counter-based random numbers for the pickers.
#pragma once

#include "salama/balancing/detail/mul128.hpp"
#include "salama/balancing/detail/thread_slot.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace salama::balancing::detail {

/// A bijective 64-bit finalizer with full avalanche (the splitmix64 output function).
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/// The golden-ratio increment used to spread consecutive counters.
inline constexpr std::uint64_t golden64 = 0x9e3779b97f4a7c15ULL;

/// Hashes bytes to 64 bits: eight bytes at a time, each block folded in through mix64.
/// Stable across runs and platforms of the same endianness.
inline std::uint64_t hash_bytes(std::string_view s, std::uint64_t seed = 0) noexcept {
    std::uint64_t h = mix64(seed ^ (golden64 * (s.size() + 1)));
    const char* p = s.data();
    std::size_t n = s.size();
    while (n >= 8) {
        std::uint64_t k;
        std::memcpy(&k, p, 8);
        h = mix64(h ^ k) + golden64;
        p += 8;
        n -= 8;
    }
    std::uint64_t tail = 0;
    if (n != 0) std::memcpy(&tail, p, n);  // an empty view may carry a null pointer
    h = mix64(h ^ tail ^ (static_cast<std::uint64_t>(n) << 56));
    return mix64(h);
}

/// Combines two hashes (order matters).
constexpr std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) noexcept {
    return mix64(a ^ (b + golden64 + (a << 6) + (a >> 2)));
}

/// A uniform double in [0, 1) from 53 bits of `x`.
constexpr double unit_interval(std::uint64_t x) noexcept {
    return static_cast<double>(x >> 11) * 0x1.0p-53;
}

/// Maps a 64-bit value uniformly onto [0, n) by multiplying (no division).
constexpr std::uint64_t reduce(std::uint64_t x, std::uint64_t n) noexcept { return mul_high64(x, n); }

/// An atomic counter that copies by value, for tables that must be movable.
class relaxed_counter {
public:
    explicit relaxed_counter(std::uint64_t start = 0) noexcept : v_(start) {}
    relaxed_counter(const relaxed_counter& o) noexcept : v_(o.v_.load(std::memory_order_relaxed)) {}
    relaxed_counter& operator=(const relaxed_counter& o) noexcept {
        v_.store(o.v_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        return *this;
    }
    /// Returns the value before adding `by`.
    std::uint64_t fetch_add(std::uint64_t by = 1) const noexcept {
        return v_.fetch_add(by, std::memory_order_relaxed);
    }
    std::uint64_t load() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    mutable std::atomic<std::uint64_t> v_;
};

/// One relaxed counter per thread slot, each in its own cache line, so that threads
/// advancing a position (round robin, a generator) never write the same line. Copyable
/// for tables that must be movable.
class slot_counters {
public:
    /// Slot i starts at `start(i)`.
    template <class Start>
    explicit slot_counters(Start start) noexcept {
        for (std::size_t i = 0; i < thread_slots; ++i) v_[i].value.store(start(i), std::memory_order_relaxed);
    }
    /// Every slot starts at 0.
    slot_counters() noexcept = default;
    slot_counters(const slot_counters& o) noexcept {
        for (std::size_t i = 0; i < thread_slots; ++i)
            v_[i].value.store(o.v_[i].value.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    slot_counters& operator=(const slot_counters& o) noexcept {
        for (std::size_t i = 0; i < thread_slots; ++i)
            v_[i].value.store(o.v_[i].value.load(std::memory_order_relaxed), std::memory_order_relaxed);
        return *this;
    }
    /// Returns slot `slot`'s value before adding one.
    std::uint64_t fetch_add(std::size_t slot) const noexcept {
        // Only the slot's own thread writes it (unless more threads than slots share one):
        // a plain load and store would do, but an atomic add keeps shared slots exact.
        return v_[slot].value.fetch_add(1, std::memory_order_relaxed);
    }
    /// Slot `slot`'s value.
    std::uint64_t load(std::size_t slot) const noexcept { return v_[slot].value.load(std::memory_order_relaxed); }

private:
    mutable std::array<padded<std::atomic<std::uint64_t>>, thread_slots> v_{};
};

/// Random numbers from a counter per thread slot: slot s's n-th draw is
/// mix64(seed_s + n * golden), with seed_s = mix64(seed) for slot 0 and a different
/// stream for every other slot. Lock-free; deterministic for a fixed seed from one thread.
class counter_rng {
public:
    explicit counter_rng(std::uint64_t seed = 0) noexcept : seed_(mix64(seed)) {}
    /// The next 64 random bits of the calling thread's stream.
    std::uint64_t next() const noexcept {
        const std::size_t s = thread_slot();
        return mix64(seed_ + mix64(s * golden64) + golden64 * n_.fetch_add(s));
    }

private:
    std::uint64_t seed_;
    slot_counters n_;
};

}  // namespace salama::balancing::detail
