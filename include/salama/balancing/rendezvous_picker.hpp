// salama: rendezvous (highest random weight) hashing, weighted: O(n) per key, and
// removing or adding a node moves only that node's share of keys.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace salama::balancing {

/// Each node scores a key with `-weight / ln(u)`, u uniform in (0, 1) from the hash of
/// (node, key); the highest score wins. A node's share of keys equals its share of weight.
class rendezvous_picker {
public:
    /// Node id hashes.
    struct table {
        std::vector<std::uint64_t> node_hash;
    };

    /// `seed` makes runs reproducible.
    explicit rendezvous_picker(std::uint64_t seed = 0) : seed_(seed) {}

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point) const {
        table t;
        t.node_hash.reserve(nodes.size());
        for (const auto& e : nodes) t.node_hash.push_back(detail::hash_bytes(e.id(), seed_));
        return t;
    }

    /// The candidate index for key hash `h`.
    std::size_t pick_hash(const table& t, std::span<const node_entry> nodes, std::uint64_t h) const noexcept {
        std::size_t best = 0;
        double best_score = -std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            const std::uint64_t x = detail::hash_combine(t.node_hash[i], h);
            const double u = (static_cast<double>(x >> 11) + 0.5) * 0x1.0p-53;  // in (0, 1)
            const double s = -nodes[i].weight / std::log(u);
            if (s > best_score) {
                best_score = s;
                best = i;
            }
        }
        return best;
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request& r) const noexcept {
        return pick_hash(t, nodes, r.key_hash());
    }

private:
    std::uint64_t seed_;
};

static_assert(hash_picker<rendezvous_picker>);

}  // namespace salama::balancing
