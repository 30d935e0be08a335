// Replaying a key stream through salama's memory tier: shared by trace_replay and
// trace_table. The cache runs with one shard, so the replay exercises exactly the policy
// and read-buffer code of the concurrent cache, deterministically.
#pragma once

#include <salama/caching/lru_policy.hpp>
#include <salama/caching/memory_cache.hpp>
#include <salama/caching/s3fifo_policy.hpp>
#include <salama/caching/wtinylfu_policy.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace salama::caching::replay {

/// W-TinyLFU with its window fixed at `window_fraction` of the capacity. The fraction is a
/// process-wide setting because memory_cache builds its policies from (capacity, seed).
struct wtinylfu_fixed : wtinylfu_policy {
    static inline double window_fraction = 0.01;
    wtinylfu_fixed(std::uint64_t capacity, std::uint64_t seed, bool weighted = false)
        : wtinylfu_policy(capacity, seed, weighted,
                          wtinylfu_options{.initial_window = window_fraction, .adaptive = false}) {}
};

/// The policies a replay can use.
enum class policy_kind { lru, wtinylfu, wtinylfu_fixed, s3fifo };

/// The policy called `s` ("lru", "wtinylfu", "wtinylfu-fixed", "s3fifo"), if any.
inline std::optional<policy_kind> parse_policy(std::string_view s) noexcept {
    if (s == "lru") return policy_kind::lru;
    if (s == "wtinylfu") return policy_kind::wtinylfu;
    if (s == "wtinylfu-fixed") return policy_kind::wtinylfu_fixed;
    if (s == "s3fifo") return policy_kind::s3fifo;
    return std::nullopt;
}

/// Hits and accesses of one replay.
struct outcome {
    std::uint64_t hits = 0;
    std::uint64_t accesses = 0;
    /// W-TinyLFU's window at the end, as a fraction of the capacity (0 for other policies).
    double final_window = 0;
    /// hits / accesses (0 for an empty stream).
    double ratio() const noexcept {
        return accesses ? static_cast<double>(hits) / static_cast<double>(accesses) : 0.0;
    }
};

/// Replays `keys` (a lookup each; a miss inserts) through a one-shard cache of `capacity`.
template <class Policy>
outcome run(std::span<const std::uint64_t> keys, std::uint64_t capacity, std::uint64_t seed = 1) {
    memory_cache<std::uint64_t, char, Policy> cache(
        {.capacity = capacity, .shards = 1, .seed = seed, .hash_seed = 0});
    const time_point now{};
    outcome r;
    for (const std::uint64_t k : keys) {
        ++r.accesses;
        if (cache.get(k, now)) ++r.hits;
        else (void)cache.put(k, 0, now);
    }
    if constexpr (std::is_base_of_v<wtinylfu_policy, Policy>)
        cache.inspect_policy(0, [&](const wtinylfu_policy& p) {
            r.final_window = static_cast<double>(p.window_capacity()) / static_cast<double>(capacity);
        });
    return r;
}

/// Object and byte hit ratios of a replay with sized entries.
struct weighted_outcome {
    outcome objects;             ///< hits and accesses counted per request
    std::uint64_t hit_bytes = 0;  ///< sizes of the requests that hit
    std::uint64_t bytes = 0;      ///< sizes of all requests
    /// hit_bytes / bytes.
    double byte_ratio() const noexcept {
        return bytes ? static_cast<double>(hit_bytes) / static_cast<double>(bytes) : 0.0;
    }
};

/// Replays `keys` through a one-shard cache bounded by total size: each entry weighs
/// `size_of(key)` (stored as its value; the cache's weigher reads it).
template <class Policy, class SizeOf>
weighted_outcome run_weighted(std::span<const std::uint64_t> keys, std::uint64_t capacity, SizeOf size_of,
                              std::uint64_t seed = 1) {
    auto weigh = [](const std::uint64_t&, const std::uint32_t& size) { return size; };
    memory_cache<std::uint64_t, std::uint32_t, Policy, decltype(weigh)> cache(
        {.capacity = capacity, .shards = 1, .seed = seed, .hash_seed = 0}, weigh);
    const time_point now{};
    weighted_outcome r;
    for (const std::uint64_t k : keys) {
        const std::uint32_t size = size_of(k);
        ++r.objects.accesses;
        r.bytes += size;
        if (cache.get(k, now)) {
            ++r.objects.hits;
            r.hit_bytes += size;
        } else {
            (void)cache.put(k, size, now);
        }
    }
    return r;
}

/// As run_weighted, with the policy `kind`.
template <class SizeOf>
weighted_outcome run_weighted(policy_kind kind, std::span<const std::uint64_t> keys, std::uint64_t capacity,
                              SizeOf size_of, double window = 0.01) {
    switch (kind) {
    case policy_kind::lru: return run_weighted<lru_policy>(keys, capacity, size_of);
    case policy_kind::wtinylfu: return run_weighted<wtinylfu_policy>(keys, capacity, size_of);
    case policy_kind::wtinylfu_fixed:
        wtinylfu_fixed::window_fraction = window;
        return run_weighted<wtinylfu_fixed>(keys, capacity, size_of);
    case policy_kind::s3fifo: return run_weighted<s3fifo_policy>(keys, capacity, size_of);
    }
    return {};
}

/// Replays `keys` with the policy `kind` (`window`: the fixed window's fraction).
inline outcome run(policy_kind kind, std::span<const std::uint64_t> keys, std::uint64_t capacity,
                   double window = 0.01, std::uint64_t seed = 1) {
    switch (kind) {
    case policy_kind::lru: return run<lru_policy>(keys, capacity, seed);
    case policy_kind::wtinylfu: return run<wtinylfu_policy>(keys, capacity, seed);
    case policy_kind::wtinylfu_fixed:
        wtinylfu_fixed::window_fraction = window;
        return run<wtinylfu_fixed>(keys, capacity, seed);
    case policy_kind::s3fifo: return run<s3fifo_policy>(keys, capacity, seed);
    }
    return {};
}

}  // namespace salama::caching::replay
