// salama: the TTL policy concept and the fixed TTL policy.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"

#include <atomic>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace salama::caching {

/// Counters of one key pattern (monotonic) and its current TTL.
struct pattern_stats {
    std::string pattern{};      ///< the pattern's text ("*" for the fallback)
    std::uint64_t hits = 0;   ///< lookups of matching keys that hit
    std::uint64_t misses = 0; ///< lookups of matching keys that missed
    duration ttl{};           ///< the TTL given to matching keys now
};

/// One TTL change decided by a policy, with its reason.
struct ttl_change {
    std::size_t pattern = 0;  ///< the pattern's index
    duration before{};        ///< TTL before
    duration after{};         ///< TTL after
    double hit_rate = 0;      ///< the window's hit rate that caused it
    std::uint64_t requests = 0;  ///< lookups in the window
};

/// Decides the TTL of keys. `classify` maps a key to a pattern index (thread-safe,
/// const); `ttl(i)` is that pattern's current TTL (thread-safe); `record(i, hit)` counts
/// one lookup (thread-safe, called on the read path); `evaluate(now)` is the periodic
/// decision step (called by one maintenance task) and returns the changes it made;
/// `stats(i)` reads the pattern's counters for export.
template <class P>
concept ttl_policy = requires(P& p, const P& cp, std::string_view key, std::size_t i, bool hit,
                              time_point now) {
    { cp.classify(key) } -> std::convertible_to<std::size_t>;
    { cp.ttl(i) } -> std::same_as<duration>;
    p.record(i, hit);
    { p.evaluate(now) } -> std::same_as<std::vector<ttl_change>>;
    { cp.pattern_count() } -> std::convertible_to<std::size_t>;
    { cp.stats(i) } -> std::same_as<pattern_stats>;
};

/// The same TTL for every key, never adapted; still counts hits and misses.
class fixed_ttl {
public:
    /// Throws config_error unless `ttl` > 0.
    explicit fixed_ttl(duration ttl) : ttl_(ttl) {
        validator{"fixed_ttl"}.positive("ttl", to_seconds(ttl)).throw_if_failed();
    }
    /// Copies the TTL and the counters' current values.
    fixed_ttl(const fixed_ttl& o) noexcept
        : ttl_(o.ttl_), hits_(o.hits_.load(std::memory_order_relaxed)),
          misses_(o.misses_.load(std::memory_order_relaxed)) {}
    fixed_ttl& operator=(const fixed_ttl&) = delete;
    std::size_t classify(std::string_view) const noexcept { return 0; }
    duration ttl(std::size_t) const noexcept { return ttl_; }
    void record(std::size_t, bool hit) noexcept {
        (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
    }
    std::vector<ttl_change> evaluate(time_point) { return {}; }
    std::size_t pattern_count() const noexcept { return 1; }
    pattern_stats stats(std::size_t) const {
        return {"*", hits_.load(std::memory_order_relaxed), misses_.load(std::memory_order_relaxed), ttl_};
    }

private:
    duration ttl_;
    std::atomic<std::uint64_t> hits_{0};
    std::atomic<std::uint64_t> misses_{0};
};

}  // namespace salama::caching
