// salama: names for the common cache compositions.
#pragma once

#include "salama/caching/adaptive_ttl.hpp"
#include "salama/caching/cache_manager.hpp"
#include "salama/caching/lru_policy.hpp"
#include "salama/caching/memory_cache.hpp"
#include "salama/caching/s3fifo_policy.hpp"
#include "salama/caching/ttl_policy.hpp"
#include "salama/caching/wtinylfu_policy.hpp"

#include <string>

namespace salama::caching {

/// The memory tier with W-TinyLFU eviction and its adaptive window (Caffeine's policy).
template <class Key, class Value>
using wtinylfu_cache = memory_cache<Key, Value, wtinylfu_policy>;
/// The memory tier with plain LRU eviction.
template <class Key, class Value>
using lru_cache = memory_cache<Key, Value, lru_policy>;
/// The memory tier with S3-FIFO eviction (small FIFO, main FIFO, ghost queue).
template <class Key, class Value>
using s3fifo_cache = memory_cache<Key, Value, s3fifo_policy>;
/// String keys whose TTLs adapt per key pattern to the hit rate (the self-optimizing cache).
template <class Value>
using adaptive_ttl_cache = cache_manager<Value, adaptive_ttl, wtinylfu_policy>;
/// String keys with one fixed TTL, W-TinyLFU eviction and the manager's maintenance loop.
template <class Value>
using fixed_ttl_cache = cache_manager<Value, fixed_ttl, wtinylfu_policy>;

}  // namespace salama::caching
