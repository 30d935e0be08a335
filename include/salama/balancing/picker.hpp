// salama: the picker concepts. A picker prepares a table from a pool's candidate nodes
// when a snapshot is published, and picks from it on each request.
#pragma once

#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/request.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace salama::balancing {

/// A node-choosing policy.
///  - `build(nodes, now)` runs on the writer side at each publish; `nodes` is never empty.
///  - `pick(table, nodes, request)` is const, thread-safe, lock-free and allocation-free;
///    it returns an index into the same `nodes` the table was built from.
template <class P>
concept picker = std::copy_constructible<P> && std::move_constructible<typename P::table> &&
    requires(const P& p, std::span<const node_entry> nodes, const typename P::table& t,
             const request& r, time_point now) {
        { p.build(nodes, now) } -> std::same_as<typename P::table>;
        { p.pick(t, nodes, r) } -> std::same_as<std::size_t>;
    };

/// A picker that maps a 64-bit key hash to a node (ring, Maglev, jump, rendezvous).
template <class P>
concept hash_picker = picker<P> &&
    requires(const P& p, std::span<const node_entry> nodes, const typename P::table& t, std::uint64_t h) {
        { p.pick_hash(t, nodes, h) } -> std::same_as<std::size_t>;
    };

}  // namespace salama::balancing

namespace salama::balancing {

/// What a load-aware picker learns about its pool at pick time.
struct pool_load {
    std::int64_t in_flight = 0;  ///< requests of the pool picked and not yet ended
};

/// A picker that also wants the pool's load (bounded-load hashing).
template <class P>
concept load_aware_picker = picker<P> &&
    requires(const P& p, std::span<const node_entry> nodes, const typename P::table& t, const request& r,
             pool_load l) {
        { p.pick(t, nodes, r, l) } -> std::same_as<std::size_t>;
    };

}  // namespace salama::balancing

namespace salama::balancing {

/// A picker whose table depends on `now` beyond the nodes' weights (e.g. weights from
/// load reports with blackout and expiry): it declares `static constexpr bool
/// time_dependent = true`, and load_balancer::refresh rebuilds its tables every time.
template <class P>
concept time_dependent_picker = picker<P> && requires { requires P::time_dependent; };

}  // namespace salama::balancing
