// salama: plain round robin from a random starting point. O(1), lock-free.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"

#include <cstdint>
#include <span>

namespace salama::balancing {

/// Cycles through the candidates in id order. Each snapshot starts at an offset drawn
/// from `seed` and the snapshot version, so that balancers do not march in step.
class round_robin_picker {
public:
    /// The shared position.
    struct table {
        detail::relaxed_counter next;
    };

    /// `seed` makes runs reproducible.
    explicit round_robin_picker(std::uint64_t seed = 0) : seed_(seed) {}

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point now) const {
        return table{detail::relaxed_counter(
            detail::mix64(seed_ ^ static_cast<std::uint64_t>(now.time_since_epoch().count()) ^ nodes.size()))};
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request&) const noexcept {
        return static_cast<std::size_t>(t.next.fetch_add() % nodes.size());
    }

private:
    std::uint64_t seed_;
};

static_assert(picker<round_robin_picker>);

}  // namespace salama::balancing
