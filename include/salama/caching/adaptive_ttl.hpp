// salama: the adaptive TTL policy: per key pattern, raise the TTL of patterns that hit
// often and lower it for those that rarely do.
#pragma once

#include "salama/caching/key_pattern.hpp"
#include "salama/caching/ttl_policy.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salama::caching {

/// One group of keys with its own TTL and bounds.
struct ttl_pattern {
    std::string match{};                                        ///< pattern text (non-empty)
    pattern_kind kind = pattern_kind::glob;                   ///< how `match` is read
    duration initial_ttl = std::chrono::seconds(300);         ///< TTL before any adaptation
    duration min_ttl = std::chrono::seconds(30);              ///< lower bound
    duration max_ttl = std::chrono::seconds(3600);            ///< upper bound
};

/// Settings of adaptive_ttl.
struct adaptive_ttl_options {
    /// Patterns in priority order: a key belongs to the first that matches.
    std::vector<ttl_pattern> patterns{};
    /// Keys no pattern matches (its `match` is only a label).
    ttl_pattern fallback{.match = "*"};
    /// A window hit rate strictly above this raises the TTL.
    double raise_above = 0.8;
    /// A window hit rate strictly below this lowers the TTL.
    double lower_below = 0.2;
    /// Multiplier of a raise (> 1).
    double raise_factor = 1.5;
    /// Multiplier of a lowering (in (0, 1)).
    double lower_factor = 0.5;
    /// Length of the evaluation window.
    duration window = std::chrono::seconds(60);
    /// A pattern with fewer lookups in a window keeps its TTL (too little evidence).
    std::uint64_t min_requests = 20;

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator v{"adaptive_ttl_options"};
        auto check_pattern = [&](const ttl_pattern& p, const std::string& where) {
            v.non_empty(where + ".match", p.match);
            v.positive(where + ".min_ttl", to_seconds(p.min_ttl));
            v.check(p.max_ttl >= p.min_ttl, where + ".max_ttl",
                    fmt::format("must be >= min_ttl ({}s), got {}s", to_seconds(p.min_ttl),
                                to_seconds(p.max_ttl)));
            v.check(p.initial_ttl >= p.min_ttl && p.initial_ttl <= p.max_ttl, where + ".initial_ttl",
                    fmt::format("must be within [min_ttl, max_ttl] = [{}s, {}s], got {}s",
                                to_seconds(p.min_ttl), to_seconds(p.max_ttl), to_seconds(p.initial_ttl)));
        };
        for (std::size_t i = 0; i < patterns.size(); ++i)
            check_pattern(patterns[i], fmt::format("patterns[{}]", i));
        check_pattern(fallback, "fallback");
        v.in_range("lower_below", lower_below, 0, 1);
        v.in_range("raise_above", raise_above, 0, 1);
        v.check(lower_below <= raise_above, "lower_below",
                fmt::format("must not exceed raise_above ({}), got {}", raise_above, lower_below));
        v.check(std::isfinite(raise_factor) && raise_factor > 1, "raise_factor",
                fmt::format("must be greater than 1, got {}", raise_factor));
        v.check(std::isfinite(lower_factor) && lower_factor > 0 && lower_factor < 1, "lower_factor",
                fmt::format("must be within (0, 1), got {}", lower_factor));
        v.positive("window", to_seconds(window));
        v.throw_if_failed();
    }
};

/// The seed's self-optimizing TTL, per key pattern: every `window`, a pattern whose hit
/// rate over the window is above `raise_above` (0.8) gets its TTL multiplied by
/// `raise_factor`, one below `lower_below` (0.2) by `lower_factor`, clamped to the
/// pattern's [min_ttl, max_ttl]; patterns with fewer than `min_requests` lookups keep
/// theirs. `classify`, `ttl` and `record` are thread-safe and lock-free (the read path);
/// `evaluate` must be called from one task at a time.
class adaptive_ttl {
public:
    /// Throws config_error on invalid options (an empty pattern, inverted bounds, ...).
    explicit adaptive_ttl(adaptive_ttl_options options = {}) : options_(std::move(options)) {
        options_.validate();
        const std::size_t n = options_.patterns.size() + 1;
        slots_ = std::make_unique<slot[]>(n);
        for (std::size_t i = 0; i < options_.patterns.size(); ++i) {
            const auto& p = options_.patterns[i];
            matchers_.emplace_back(p.match, p.kind);
            slots_[i].ttl.store(p.initial_ttl.count(), std::memory_order_relaxed);
        }
        slots_[n - 1].ttl.store(options_.fallback.initial_ttl.count(), std::memory_order_relaxed);
    }

    /// The index of the first pattern `key` matches, or the fallback's (pattern_count() - 1).
    std::size_t classify(std::string_view key) const noexcept {
        for (std::size_t i = 0; i < matchers_.size(); ++i)
            if (matchers_[i].matches(key)) return i;
        return matchers_.size();
    }

    /// The current TTL of pattern `i`.
    duration ttl(std::size_t i) const noexcept {
        return duration{slots_[clamp_index(i)].ttl.load(std::memory_order_relaxed)};
    }

    /// Counts one lookup of pattern `i`.
    void record(std::size_t i, bool hit) noexcept {
        auto& s = slots_[clamp_index(i)];
        (hit ? s.hits : s.misses).fetch_add(1, std::memory_order_relaxed);
    }

    /// Closes the window if `now` is past its end and adapts each pattern's TTL; returns
    /// the changes. The first call opens the first window.
    std::vector<ttl_change> evaluate(time_point now) {
        std::vector<ttl_change> changes;
        if (!window_start_) {
            window_start_ = now;
            snapshot();
            return changes;
        }
        if (now - *window_start_ < options_.window) return changes;
        for (std::size_t i = 0; i < pattern_count(); ++i) {
            auto& s = slots_[i];
            const std::uint64_t hits = s.hits.load(std::memory_order_relaxed) - s.hits_at_open;
            const std::uint64_t misses = s.misses.load(std::memory_order_relaxed) - s.misses_at_open;
            const std::uint64_t requests = hits + misses;
            if (requests == 0 || requests < options_.min_requests) continue;
            const double rate = static_cast<double>(hits) / static_cast<double>(requests);
            const ttl_pattern& p = pattern(i);
            const duration before{s.ttl.load(std::memory_order_relaxed)};
            duration after = before;
            if (rate > options_.raise_above) after = scale(before, options_.raise_factor);
            else if (rate < options_.lower_below) after = scale(before, options_.lower_factor);
            after = std::clamp(after, p.min_ttl, p.max_ttl);
            if (after != before) {
                s.ttl.store(after.count(), std::memory_order_relaxed);
                changes.push_back({i, before, after, rate, requests});
            }
        }
        window_start_ = now;
        snapshot();
        return changes;
    }

    /// Number of patterns including the fallback (the last one).
    std::size_t pattern_count() const noexcept { return matchers_.size() + 1; }

    /// Counters and TTL of pattern `i`.
    pattern_stats stats(std::size_t i) const {
        const auto& s = slots_[clamp_index(i)];
        return {pattern(clamp_index(i)).match, s.hits.load(std::memory_order_relaxed),
                s.misses.load(std::memory_order_relaxed), ttl(i)};
    }

    /// The validated options.
    const adaptive_ttl_options& options() const noexcept { return options_; }

private:
    struct alignas(64) slot {
        std::atomic<duration::rep> ttl{0};
        std::atomic<std::uint64_t> hits{0};
        std::atomic<std::uint64_t> misses{0};
        std::uint64_t hits_at_open = 0;    // counters when the window opened (evaluate only)
        std::uint64_t misses_at_open = 0;
    };

    std::size_t clamp_index(std::size_t i) const noexcept { return std::min(i, matchers_.size()); }

    const ttl_pattern& pattern(std::size_t i) const noexcept {
        return i < options_.patterns.size() ? options_.patterns[i] : options_.fallback;
    }

    static duration scale(duration d, double f) noexcept {
        const double x = static_cast<double>(d.count()) * f;
        if (x >= static_cast<double>(duration::max().count())) return duration::max();
        return duration{static_cast<duration::rep>(x)};
    }

    void snapshot() noexcept {
        for (std::size_t i = 0; i < pattern_count(); ++i) {
            slots_[i].hits_at_open = slots_[i].hits.load(std::memory_order_relaxed);
            slots_[i].misses_at_open = slots_[i].misses.load(std::memory_order_relaxed);
        }
    }

    adaptive_ttl_options options_;
    std::vector<key_pattern> matchers_;
    std::unique_ptr<slot[]> slots_;
    std::optional<time_point> window_start_;
};

static_assert(ttl_policy<adaptive_ttl>);
static_assert(ttl_policy<fixed_ttl>);

}  // namespace salama::caching
