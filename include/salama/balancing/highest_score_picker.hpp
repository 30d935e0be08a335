// salama: the seed's picker: score every candidate, route to the highest score. O(n).
#pragma once

#include "salama/balancing/metric_scorer.hpp"
#include "salama/balancing/picker.hpp"
#include "salama/balancing/scorer.hpp"

#include <limits>
#include <span>

namespace salama::balancing {

namespace detail {
/// Index of the highest score among `nodes` (NaN ranks last; ties go to the first).
template <class Scorer>
std::size_t argmax_score(const Scorer& s, std::span<const node_entry> nodes, const request& r) noexcept {
    std::size_t best = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    bool found = false;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const double v = s.score(nodes[i], r);
        if (v != v) continue;  // NaN
        if (!found || v > best_score) {
            best = i;
            best_score = v;
            found = true;
        }
    }
    return best;
}
}  // namespace detail

/// Scores every candidate with `Scorer` on every request and picks the best.
template <scorer Scorer = metric_scorer>
class highest_score_picker {
public:
    /// Nothing to prepare.
    struct table {};

    /// Uses `s` to score nodes.
    explicit highest_score_picker(Scorer s = Scorer()) : scorer_(std::move(s)) {}

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry>, time_point) const { return {}; }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table&, std::span<const node_entry> nodes, const request& r) const noexcept {
        return detail::argmax_score(scorer_, nodes, r);
    }

    /// The scorer.
    const Scorer& get_scorer() const noexcept { return scorer_; }

private:
    Scorer scorer_;
};

static_assert(picker<highest_score_picker<>>);

}  // namespace salama::balancing
