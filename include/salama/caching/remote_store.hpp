// salama: the remote_store concept, the second tier of the tiered cache (Redis, or anything
// that keeps bytes under string keys with a TTL).
#pragma once

#include "salama/core/async.hpp"
#include "salama/core/error.hpp"

#include <chrono>
#include <concepts>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace salama::caching {

/// One entry of a multi-set: a key, its bytes and its time to live.
struct remote_entry {
    std::string key{};                  ///< the key, without the store's prefix
    std::string value{};                ///< the bytes to keep
    std::chrono::milliseconds ttl{0};   ///< time to live; zero keeps the entry until removed
};

/// A shared byte store under string keys: the tiered cache's second tier.
///
/// Every operation is an awaitable that reports failure as an error value, never by throwing.
/// Keys are given without the store's own prefix (namespace); the store adds it. Arguments
/// passed by view must outlive the operation: await the call in the same full expression.
/// - `get(key)`: the bytes, or an empty optional when the key is absent or expired;
/// - `set(key, value, ttl)`: stores the bytes (ttl zero: no expiry);
/// - `remove(key)`: true when a key was removed;
/// - `get_many(keys)`: one optional per key, in the order of `keys`;
/// - `set_many(entries)`: stores every entry (all or an error).
template <class S>
concept remote_store = requires(S& s, std::string_view key, std::string_view value,
                                std::chrono::milliseconds ttl, std::span<const std::string> keys,
                                std::span<const remote_entry> entries) {
    { s.get(key) } -> std::same_as<awaitable<result<std::optional<std::string>>>>;
    { s.set(key, value, ttl) } -> std::same_as<awaitable<result<void>>>;
    { s.remove(key) } -> std::same_as<awaitable<result<bool>>>;
    { s.get_many(keys) } -> std::same_as<awaitable<result<std::vector<std::optional<std::string>>>>>;
    { s.set_many(entries) } -> std::same_as<awaitable<result<void>>>;
};

}  // namespace salama::caching
