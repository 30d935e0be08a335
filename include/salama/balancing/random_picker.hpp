// salama: random choice in proportion to weight (Vose's alias table): O(1), lock-free.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace salama::balancing {

/// Picks at random, each candidate with probability weight / total weight. Draws come
/// from a counter-based generator seeded with `seed`: reproducible from one thread.
class random_picker {
public:
    /// The alias table and the generator.
    struct table {
        std::vector<double> prob;            ///< chance of keeping column i
        std::vector<std::uint32_t> alias;    ///< where column i sends the rest
        bool uniform = true;
        detail::counter_rng rng;
    };

    /// `seed` makes runs reproducible.
    explicit random_picker(std::uint64_t seed = 0) : seed_(seed) {}

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point) const {
        const std::size_t n = nodes.size();
        table t{std::vector<double>(n, 1.0), std::vector<std::uint32_t>(n), true, detail::counter_rng(seed_)};
        double total = 0;
        for (const auto& e : nodes) {
            total += e.weight;
            if (e.weight != nodes[0].weight) t.uniform = false;
        }
        for (std::size_t i = 0; i < n; ++i) t.alias[i] = static_cast<std::uint32_t>(i);
        if (t.uniform) return t;
        // Vose: split columns into those under and over the mean, pair them up.
        std::vector<double> scaled(n);
        std::vector<std::uint32_t> small, large;
        for (std::size_t i = 0; i < n; ++i) {
            scaled[i] = nodes[i].weight * static_cast<double>(n) / total;
            (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
        }
        while (!small.empty() && !large.empty()) {
            const auto s = small.back();
            small.pop_back();
            const auto l = large.back();
            t.prob[s] = scaled[s];
            t.alias[s] = l;
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if (scaled[l] < 1.0) {
                large.pop_back();
                small.push_back(l);
            }
        }
        for (auto i : large) t.prob[i] = 1.0;
        for (auto i : small) t.prob[i] = 1.0;  // rounding leftovers
        return t;
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request&) const noexcept {
        const std::uint64_t x = t.rng.next();
        const auto col = static_cast<std::size_t>(detail::reduce(x, nodes.size()));
        if (t.uniform) return col;
        return detail::unit_interval(detail::mix64(x)) < t.prob[col] ? col : t.alias[col];
    }

private:
    std::uint64_t seed_;
};

static_assert(picker<random_picker>);

}  // namespace salama::balancing
