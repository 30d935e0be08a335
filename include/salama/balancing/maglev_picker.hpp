// salama: Maglev consistent hashing: a prime-sized lookup table filled from per-node
// permutations, weighted by letting heavier nodes take their turns more often.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace salama::balancing {

/// True if `n` is prime (trial division; table sizes are small).
constexpr bool is_prime(std::uint64_t n) noexcept {
    if (n < 2) return false;
    if (n % 2 == 0) return n == 2;
    for (std::uint64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0) return false;
    return true;
}

/// Options of maglev_picker.
struct maglev_options {
    std::uint64_t table_size = 65537;  ///< prime, >= 2 (Envoy: 65,537)
    std::uint64_t seed = 0;            ///< seed of the node permutations
};

/// Every node walks its own permutation of the table slots (offset and skip from two
/// hashes of its id) and claims the next free slot on each of its turns; a node takes a
/// turn per round in proportion to weight / max weight. A key goes to slot hash mod size.
class maglev_picker {
public:
    /// The lookup table of candidate indices: 16 bits per slot for up to 65,535 candidates
    /// (128 KiB at the default size, which leaves more of the cache to the nodes), else 32.
    struct table {
        std::vector<std::uint16_t> narrow;  ///< used when there are at most 65,535 candidates
        std::vector<std::uint32_t> wide;    ///< used otherwise
        /// Number of slots.
        std::size_t size() const noexcept { return narrow.empty() ? wide.size() : narrow.size(); }
        /// The candidate index in slot `i`.
        std::size_t at(std::size_t i) const noexcept { return narrow.empty() ? wide[i] : narrow[i]; }
        /// Bytes used by the table.
        std::size_t memory_bytes() const noexcept {
            return narrow.capacity() * sizeof(std::uint16_t) + wide.capacity() * sizeof(std::uint32_t);
        }
    };

    /// Validates `opts` (throws config_error naming the field).
    explicit maglev_picker(maglev_options opts = {}) : opts_(opts) {
        validator v{"maglev_options"};
        v.check(is_prime(opts_.table_size), "table_size",
                fmt::format("must be a prime number, got {}", opts_.table_size));
        v.check(opts_.table_size <= (std::uint64_t{1} << 32), "table_size", "must be below 2^32");
        v.throw_if_failed();
    }

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point) const {
        const std::uint64_t m = opts_.table_size;
        const std::size_t n = nodes.size();
        constexpr std::uint32_t empty = std::numeric_limits<std::uint32_t>::max();
        std::vector<std::uint64_t> pos(n), skip(n);
        std::vector<double> turn(n), credit(n, 0.0);
        double top = 0;
        for (const auto& e : nodes) top = std::max(top, e.weight);
        for (std::size_t i = 0; i < n; ++i) {
            pos[i] = detail::hash_bytes(nodes[i].id(), opts_.seed) % m;
            skip[i] = detail::hash_bytes(nodes[i].id(), opts_.seed ^ detail::golden64) % (m - 1) + 1;
            turn[i] = nodes[i].weight / top;
        }
        std::vector<std::uint32_t> slots(m, empty);
        std::uint64_t filled = 0;
        while (filled < m) {
            for (std::size_t i = 0; i < n && filled < m; ++i) {
                credit[i] += turn[i];
                if (credit[i] < 1.0) continue;
                credit[i] -= 1.0;
                // Walk offset, offset + skip, offset + 2 skip, ... (mod m) to a free slot.
                std::uint64_t c = pos[i];
                while (slots[c] != empty) {
                    c += skip[i];
                    if (c >= m) c -= m;
                }
                slots[c] = static_cast<std::uint32_t>(i);
                c += skip[i];
                pos[i] = c >= m ? c - m : c;
                ++filled;
            }
        }
        table t;
        if (n <= std::numeric_limits<std::uint16_t>::max())
            t.narrow.assign(slots.begin(), slots.end());
        else
            t.wide = std::move(slots);
        return t;
    }

    /// The candidate index for key hash `h`.
    std::size_t pick_hash(const table& t, std::span<const node_entry>, std::uint64_t h) const noexcept {
        if (!t.narrow.empty()) return t.narrow[static_cast<std::size_t>(h % t.narrow.size())];
        return t.wide[static_cast<std::size_t>(h % t.wide.size())];
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request& r) const noexcept {
        return pick_hash(t, nodes, r.key_hash());
    }

    /// The settings or parts it was built with.
    const maglev_options& options() const noexcept { return opts_; }

private:
    maglev_options opts_;
};

static_assert(hash_picker<maglev_picker>);

}  // namespace salama::balancing
