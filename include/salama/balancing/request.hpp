// salama: what a pick is asked for: the request type, the payload and a hashing key.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/core/clock.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace salama::balancing {

/// One request to route. Views only: the caller keeps the bytes alive during the pick.
struct request {
    std::string_view request_type{};       ///< selects the pool
    std::string_view payload{};            ///< the request body; scorers may look at it
    std::string_view key{};                ///< consistent-hashing key; empty means the payload
    std::optional<std::uint64_t> hash{};   ///< a precomputed key hash; wins over `key`
    time_point now{};                    ///< when the pick happens (for time-aware scorers)

    /// The 64-bit hash that hash pickers use.
    std::uint64_t key_hash() const noexcept {
        if (hash) return *hash;
        return detail::hash_bytes(key.empty() ? payload : key);
    }
};

/// Hashes a key the way `request::key_hash` does (for callers that hash once and reuse).
inline std::uint64_t hash_key(std::string_view key) noexcept { return detail::hash_bytes(key); }

}  // namespace salama::balancing
