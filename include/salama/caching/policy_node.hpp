// salama: the part of a cache entry that an eviction policy owns, and the policy concept.
#pragma once

#include <concepts>
#include <cstdint>

namespace salama::caching {

/// The policy's view of one entry: queue links, the key's mixed hash (the frequency
/// sketch reads it) and the entry's weight. Cache entries derive from it.
struct policy_node {
    policy_node* prev = nullptr;  ///< previous node in the policy queue
    policy_node* next = nullptr;  ///< next node in the policy queue
    std::uint64_t hash = 0;       ///< the key's 64-bit mixed hash
    std::uint32_t weight = 1;     ///< the entry's weight (1 for count-bounded caches)
    std::uint8_t queue = 0;       ///< which of the policy's queues holds the node
};

/// An eviction (and admission) policy: a single-threaded decision core over policy_nodes.
/// The cache tells it about adds, hits, removals and weight changes; `evict` then unlinks
/// victims until the weighted size is within `capacity()`, handing each to a callback
/// that frees it. `maintain` runs periodic work (e.g. resizing a window). The cache serializes
/// all calls, so a policy needs no locking of its own.
template <class P>
concept eviction_policy =
    std::constructible_from<P, std::uint64_t, std::uint64_t> &&
    requires(P& p, const P& cp, policy_node& n, std::uint32_t w, void (*on_evict)(policy_node&)) {
        p.on_add(n);
        p.on_hit(n);
        p.on_remove(n);
        p.on_weight_change(n, w);
        p.evict(on_evict);
        p.maintain();
        { cp.capacity() } -> std::convertible_to<std::uint64_t>;
        { cp.weighted_size() } -> std::convertible_to<std::uint64_t>;
    };

}  // namespace salama::caching
