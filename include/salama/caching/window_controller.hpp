// salama: the decision core that picks W-TinyLFU's admission window from the hits that
// miniature shadow caches, one per candidate window, earned on the same requests.
#pragma once

#include "salama/core/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace salama::caching {

/// Settings of the window controller. Fractions are of the cache's capacity.
struct window_controller_options {
    /// The windows the cache may take, each simulated by a shadow cache. The first is
    /// where the window starts (1 %, as in Caffeine); 1.0 (no main space: every
    /// candidate leaving the window is its own victim) makes the cache exactly LRU, so
    /// LRU-friendly workloads have a candidate that matches LRU.
    std::vector<double> candidates{0.01, 0.04, 0.15, 0.40, 0.80, 1.0};
    /// Weight of the past in each candidate's score, per sample (0: only the last
    /// sample counts). Smooths sample-to-sample noise so that the window does not chase it.
    double decay = 0.5;
    /// A candidate must beat the current window's score by this fraction (and by
    /// `min_lead` hits) before the window moves: moving costs resident entries, so flat
    /// terrain should cost nothing.
    double switch_margin = 0.005;
    /// See switch_margin.
    double min_lead = 4;
    /// Requests per sample, as a multiple of the capacity.
    double sample_factor = 4.0;
    /// The shadows see only keys whose hash falls in a 1/R slice of the hash space,
    /// scaled down to capacity / R, with R the largest power of two that keeps that
    /// capacity at least this large (R = 1 below twice this capacity): their cost is
    /// bounded by about `candidates × 2 × shadow_min_capacity` entries per policy.
    std::uint64_t shadow_min_capacity = 256;

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator v{"window_controller_options"};
        v.check(!candidates.empty() && candidates.size() <= 16, "candidates",
                fmt::format("must hold 1 to 16 windows, got {}", candidates.size()));
        for (std::size_t i = 0; i < candidates.size(); ++i)
            v.check(std::isfinite(candidates[i]) && candidates[i] > 0 && candidates[i] <= 1,
                    fmt::format("candidates[{}]", i), fmt::format("must be in (0, 1], got {}", candidates[i]));
        v.check(std::isfinite(decay) && decay >= 0 && decay < 1, "decay",
                fmt::format("must be in [0, 1), got {}", decay));
        v.check(std::isfinite(switch_margin) && switch_margin >= 0, "switch_margin",
                fmt::format("must be >= 0, got {}", switch_margin));
        v.check(std::isfinite(min_lead) && min_lead >= 0, "min_lead", fmt::format("must be >= 0, got {}", min_lead));
        v.check(std::isfinite(sample_factor) && sample_factor > 0, "sample_factor",
                fmt::format("must be positive, got {}", sample_factor));
        v.check(shadow_min_capacity > 0, "shadow_min_capacity", "must be positive, got 0");
        v.throw_if_failed();
    }
};

/// Chooses the admission window among fixed candidates by what each would have earned.
/// Every sample, each candidate's shadow cache reports its hits on the same requests;
/// the controller keeps a decayed score per candidate and moves the window to the best
/// one only when it leads the current one clearly (switch_margin, min_lead). Because the
/// 1 % window and an LRU-like window are candidates, the cache tracks the better of
/// them (and of the windows between) instead of climbing blindly: there is no direction
/// to get wrong. A pure core: its inputs are the sample's counters, its output the window.
class window_controller {
public:
    /// Validates `options` (config_error on a bad field); the window starts at candidate 0.
    explicit window_controller(window_controller_options options = {}) : options_(std::move(options)) {
        options_.validate();
        scores_.assign(options_.candidates.size(), 0.0);
    }

    /// Folds one sample in: `hits[i]` is what candidate i's shadow earned. Returns the
    /// index of the candidate the window should take (the current one if none leads
    /// clearly). `hits` must hold one count per candidate (extra counts are ignored,
    /// missing ones read as 0).
    std::size_t on_sample(std::span<const std::uint64_t> hits) noexcept {
        for (std::size_t i = 0; i < scores_.size(); ++i)
            scores_[i] = options_.decay * scores_[i] + static_cast<double>(i < hits.size() ? hits[i] : 0);
        const auto best = static_cast<std::size_t>(std::max_element(scores_.begin(), scores_.end()) - scores_.begin());
        const double cur = scores_[current_];
        if (best != current_ && scores_[best] > cur * (1 + options_.switch_margin) + options_.min_lead)
            current_ = best;
        return current_;
    }

    /// The index of the current candidate.
    std::size_t current() const noexcept { return current_; }
    /// The current window as a fraction of the capacity.
    double window_fraction() const noexcept { return options_.candidates[current_]; }
    /// The decayed scores, one per candidate.
    std::span<const double> scores() const noexcept { return scores_; }

    /// Requests per sample for a cache of `capacity` (at least 1).
    std::uint64_t sample_size(std::uint64_t capacity) const noexcept {
        return std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(options_.sample_factor * static_cast<double>(capacity)));
    }

    /// The sampling divisor R for a cache of `capacity` (a power of two, see
    /// window_controller_options::shadow_min_capacity).
    std::uint64_t shadow_divisor(std::uint64_t capacity) const noexcept {
        std::uint64_t r = 1;
        while (capacity / (r * 2) >= options_.shadow_min_capacity && r < (std::uint64_t{1} << 40)) r *= 2;
        return r;
    }

    /// The options in force.
    const window_controller_options& options() const noexcept { return options_; }

private:
    window_controller_options options_;
    std::vector<double> scores_;
    std::size_t current_ = 0;
};

}  // namespace salama::caching
