// salama: power of d choices: sample d distinct candidates at random, take the best score.
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/highest_score_picker.hpp"
#include "salama/balancing/least_request_scorer.hpp"
#include "salama/balancing/picker.hpp"
#include "salama/balancing/scorer.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <span>

namespace salama::balancing {

/// Samples `D` distinct candidates (all of them when there are at most D, so one or two
/// nodes behave: no sampling the same node twice) and returns the highest `Scorer` score.
/// With peak_ewma_scorer this is Finagle/Linkerd's balancer; with least_request_scorer,
/// Envoy's least request.
template <scorer Scorer = least_request_scorer, std::size_t D = 2>
class power_of_choices_picker {
    static_assert(D >= 1 && D <= 16, "choose between 1 and 16 candidates");

public:
    /// The generator.
    struct table {
        detail::counter_rng rng;
    };

    /// Scores the sampled nodes with `s`; `seed` drives the sampling.
    explicit power_of_choices_picker(Scorer s = Scorer(), std::uint64_t seed = 0) : scorer_(std::move(s)), seed_(seed) {}

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry>, time_point) const { return table{detail::counter_rng(seed_)}; }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request& r) const noexcept {
        const std::size_t n = nodes.size();
        if (n <= D) return detail::argmax_score(scorer_, nodes, r);
        std::array<std::size_t, D> chosen{};
        std::size_t best = 0;
        double best_score = -std::numeric_limits<double>::infinity();
        bool found = false;
        std::uint64_t bits = 0;
        for (std::size_t k = 0; k < D; ++k) {
            // Draw from the n - k indices not chosen yet, then skip over the chosen ones
            // in increasing order: uniform and distinct without rejection. Each 64-bit
            // draw serves two choices (32 bits each: a bias below n / 2^32), so the
            // default d = 2 costs one step of the shared generator.
            if (k % 2 == 0) bits = t.rng.next();
            const std::uint64_t half = k % 2 == 0 ? (bits & 0xffffffffU) : (bits >> 32);
            std::size_t idx = static_cast<std::size_t>((half * (n - k)) >> 32);
            std::array<std::size_t, D> sorted = chosen;
            std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k));
            for (std::size_t j = 0; j < k; ++j)
                if (idx >= sorted[j]) ++idx;
            chosen[k] = idx;
            const double v = scorer_.score(nodes[idx], r);
            if (v != v) continue;
            if (!found || v > best_score) {
                best = idx;
                best_score = v;
                found = true;
            }
        }
        return found ? best : chosen[0];
    }

    /// The settings or parts it was built with.
    const Scorer& get_scorer() const noexcept { return scorer_; }

private:
    Scorer scorer_;
    std::uint64_t seed_;
};

static_assert(picker<power_of_choices_picker<>>);

}  // namespace salama::balancing
