// salama: consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam) over
// any hash picker: no node takes more than ceil((1 + epsilon) * average) requests.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/maglev_picker.hpp"
#include "salama/balancing/picker.hpp"
#include "salama/core/validation.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace salama::balancing {

/// Options of bounded_load_picker.
struct bounded_load_options {
    /// epsilon: a node may hold up to ceil((1 + epsilon) * average) requests in flight.
    /// > 0 (HAProxy's hash-balance-factor 125 % is 0.25).
    double balance_factor = 0.25;
    /// Rehashes tried before scanning for any node under the bound. >= 1.
    std::uint32_t max_attempts = 16;
};

/// Asks the wrapped hash picker for the key's node; if that node is at its bound, tries
/// the key rehashed with the attempt number, and so on; after `max_attempts`, the first
/// node under the bound from a position fixed by the key. The bound counts requests in
/// flight (pick to outcome): `ceil((1 + eps) * (pool in flight + 1) / candidates)`.
/// Picks that race on several threads may each see room for one more request.
template <hash_picker Inner = maglev_picker>
class bounded_load_picker {
public:
    using table = typename Inner::table;

    /// Validates `opts` (throws config_error naming the field).
    explicit bounded_load_picker(Inner inner = Inner(), bounded_load_options opts = {})
        : inner_(std::move(inner)), opts_(opts) {
        validator v{"bounded_load_options"};
        v.positive("balance_factor", opts_.balance_factor);
        v.check(opts_.max_attempts >= 1, "max_attempts", "must be at least 1");
        v.throw_if_failed();
    }

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point now) const { return inner_.build(nodes, now); }

    /// The most requests one node may hold when `in_flight` are in flight across `n` nodes
    /// and one more is being placed.
    std::int64_t bound(std::int64_t in_flight, std::size_t n) const noexcept {
        const double avg = static_cast<double>(std::max<std::int64_t>(0, in_flight) + 1) / static_cast<double>(n);
        return static_cast<std::int64_t>(std::ceil((1.0 + opts_.balance_factor) * avg - 1e-9));
    }

    /// Picks a candidate for `r` given the pool's load; lock-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request& r, pool_load load) const noexcept {
        const std::uint64_t h = r.key_hash();
        const std::int64_t cap = bound(load.in_flight, nodes.size());
        for (std::uint32_t a = 0; a < opts_.max_attempts; ++a) {
            const std::uint64_t ha = a == 0 ? h : detail::hash_combine(h, a);
            const std::size_t i = inner_.pick_hash(t, nodes, ha);
            if (nodes[i].pending() + 1 <= cap) return i;
        }
        // Scan from a key-determined start; keep the least loaded in case every node is
        // full (possible when nodes also serve other pools).
        const std::size_t n = nodes.size();
        const std::size_t start = static_cast<std::size_t>(detail::reduce(detail::mix64(h), n));
        std::size_t least = start;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (start + k) % n;
            if (nodes[i].pending() + 1 <= cap) return i;
            if (nodes[i].pending() < nodes[least].pending()) least = i;
        }
        return least;
    }

    /// Without the pool's load, the bound uses the candidates' own in-flight counts (O(n)).
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request& r) const noexcept {
        std::int64_t total = 0;
        for (const auto& e : nodes) total += e.pending();
        return pick(t, nodes, r, pool_load{total});
    }

    /// The settings or parts it was built with.
    const Inner& inner() const noexcept { return inner_; }

private:
    Inner inner_;
    bounded_load_options opts_;
};

static_assert(load_aware_picker<bounded_load_picker<>>);

}  // namespace salama::balancing
