// salama: jump consistent hashing (Lamping and Veach): no table, O(log n) per key.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

namespace salama::balancing {

/// The bucket in [0, buckets) of `key` by jump consistent hashing: growing from n to n+1
/// buckets moves exactly the keys that land in the new one (1/(n+1) of them).
constexpr std::uint32_t jump_consistent_hash(std::uint64_t key, std::uint32_t buckets) noexcept {
    std::int64_t b = -1;
    std::int64_t j = 0;
    while (j < static_cast<std::int64_t>(buckets)) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = static_cast<std::int64_t>(static_cast<double>(b + 1) *
                                      (static_cast<double>(std::int64_t{1} << 31) /
                                       static_cast<double>((key >> 33) + 1)));
    }
    return static_cast<std::uint32_t>(b);
}

/// Buckets are the candidates in order of arrival in the registry, so a node that joins
/// takes exactly its share from the others. Weights are ignored. Removing a node other
/// than the newest renumbers later buckets (use ring, Maglev or rendezvous hashing when
/// arbitrary nodes come and go).
class jump_hash_picker {
public:
    /// Candidate indices in arrival order.
    struct table {
        std::vector<std::uint32_t> bucket_owner;
    };

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point) const {
        table t{std::vector<std::uint32_t>(nodes.size())};
        std::iota(t.bucket_owner.begin(), t.bucket_owner.end(), 0U);
        std::sort(t.bucket_owner.begin(), t.bucket_owner.end(), [&](std::uint32_t a, std::uint32_t b) {
            return nodes[a].state->sequence() < nodes[b].state->sequence();
        });
        return t;
    }

    /// The candidate index for key hash `h`.
    std::size_t pick_hash(const table& t, std::span<const node_entry>, std::uint64_t h) const noexcept {
        return t.bucket_owner[jump_consistent_hash(h, static_cast<std::uint32_t>(t.bucket_owner.size()))];
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request& r) const noexcept {
        return pick_hash(t, nodes, r.key_hash());
    }
};

static_assert(hash_picker<jump_hash_picker>);

}  // namespace salama::balancing
