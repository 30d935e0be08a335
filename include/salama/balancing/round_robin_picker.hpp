// salama: plain round robin from a random starting point. O(1), lock-free.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"

#include <cstdint>
#include <span>

namespace salama::balancing {

/// Cycles through the candidates in id order. Each thread slot keeps its own position
/// (no line shared between threads that pick at once), starting at an offset drawn from
/// `seed`, the snapshot's time and the slot, so that threads and balancers do not march in
/// step. Each thread's picks are exactly round robin; together they are within one pick
/// per node per thread.
class round_robin_picker {
public:
    /// The positions, one per thread slot.
    struct table {
        detail::slot_counters next;
    };

    /// `seed` makes runs reproducible.
    explicit round_robin_picker(std::uint64_t seed = 0) : seed_(seed) {}

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point now) const {
        const std::uint64_t base =
            detail::mix64(seed_ ^ static_cast<std::uint64_t>(now.time_since_epoch().count()) ^ nodes.size());
        return table{detail::slot_counters([&](std::size_t i) { return i == 0 ? base : detail::mix64(base + i); })};
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request&) const noexcept {
        return static_cast<std::size_t>(t.next.fetch_add(detail::thread_slot()) % nodes.size());
    }

private:
    std::uint64_t seed_;
};

static_assert(picker<round_robin_picker>);

}  // namespace salama::balancing
