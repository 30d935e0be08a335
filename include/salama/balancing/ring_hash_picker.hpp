// salama: consistent hashing on a ring of virtual nodes.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace salama::balancing {

/// Options of ring_hash_picker.
struct ring_hash_options {
    /// Virtual points per unit of weight. A node's count depends only on its own weight,
    /// so a membership change moves only the keys of the node that came or went.
    std::uint64_t points_per_weight = 256;
    /// Smallest ring (Envoy's default 1024): small pools get more points per weight.
    std::uint64_t min_ring_size = 1024;
    /// Largest ring (Envoy's bound 8,388,608): large pools get fewer points per weight.
    std::uint64_t max_ring_size = 8388608;
    std::uint64_t seed = 0;  ///< hashing seed of the virtual points
};

/// Each node gets `round(weight * points_per_weight)` points (at least one), scaled up or
/// down only when the ring would leave [min_ring_size, max_ring_size]; a key goes to the
/// first point at or after its hash.
class ring_hash_picker {
public:
    /// The sorted ring.
    struct table {
        std::vector<std::uint64_t> hashes;  ///< sorted point hashes
        std::vector<std::uint32_t> owner;   ///< candidate index of each point
        /// Bytes used by the ring.
        std::size_t memory_bytes() const noexcept {
            return hashes.capacity() * sizeof(std::uint64_t) + owner.capacity() * sizeof(std::uint32_t);
        }
    };

    /// Validates `opts` (throws config_error naming the field).
    explicit ring_hash_picker(ring_hash_options opts = {}) : opts_(opts) {
        validator v{"ring_hash_options"};
        v.check(opts_.points_per_weight >= 1, "points_per_weight", "must be at least 1");
        v.check(opts_.min_ring_size >= 1, "min_ring_size", "must be at least 1");
        v.check(opts_.max_ring_size <= 8388608, "max_ring_size",
                fmt::format("must be at most 8388608, got {}", opts_.max_ring_size));
        v.check(opts_.max_ring_size >= opts_.min_ring_size, "max_ring_size",
                fmt::format("must be >= min_ring_size ({}), got {}", opts_.min_ring_size, opts_.max_ring_size));
        v.throw_if_failed();
    }

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point) const {
        double total = 0;
        for (const auto& e : nodes) total += e.weight;
        double per_weight = static_cast<double>(opts_.points_per_weight);
        const double size = total * per_weight;
        if (size < static_cast<double>(opts_.min_ring_size))
            per_weight = std::ceil(static_cast<double>(opts_.min_ring_size) / total);
        else if (size > static_cast<double>(opts_.max_ring_size))
            per_weight = static_cast<double>(opts_.max_ring_size) / total;
        std::vector<std::pair<std::uint64_t, std::uint32_t>> points;
        points.reserve(static_cast<std::size_t>(total * per_weight) + nodes.size());
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            const auto count = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(nodes[i].weight * per_weight)));
            const std::uint64_t base = detail::hash_bytes(nodes[i].id(), opts_.seed);
            for (std::uint64_t k = 0; k < count; ++k)
                points.emplace_back(detail::hash_combine(base, k), static_cast<std::uint32_t>(i));
        }
        std::sort(points.begin(), points.end());
        table t;
        t.hashes.reserve(points.size());
        t.owner.reserve(points.size());
        for (const auto& [h, o] : points) {
            t.hashes.push_back(h);
            t.owner.push_back(o);
        }
        return t;
    }

    /// The candidate index for key hash `h`.
    std::size_t pick_hash(const table& t, std::span<const node_entry>, std::uint64_t h) const noexcept {
        auto it = std::lower_bound(t.hashes.begin(), t.hashes.end(), h);
        if (it == t.hashes.end()) it = t.hashes.begin();
        return t.owner[static_cast<std::size_t>(it - t.hashes.begin())];
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request& r) const noexcept {
        return pick_hash(t, nodes, r.key_hash());
    }

private:
    ring_hash_options opts_;
};

static_assert(hash_picker<ring_hash_picker>);

}  // namespace salama::balancing
