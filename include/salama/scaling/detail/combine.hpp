// salama: how a recommender combines its policies' recommendations into one decision
// (shared by the compile-time and the run-time recommenders).
#pragma once

#include "salama/scaling/decision.hpp"
#include "salama/scaling/recommender_options.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace salama::scaling::detail {

/// The fallback decision after a metric failure (counted in `failures`).
inline decision fail(const scaling_input& in, std::size_t& failures, const recommender_options& opts,
                     std::string what, std::vector<std::string> notes, decision d) {
    ++failures;
    d.fallback = true;
    d.why.policy = "fallback";
    d.why.notes = std::move(notes);
    const auto& fb = opts.fallback;
    if (failures < fb.failure_threshold) {
        d.desired = in.current;
        d.why.limited_by = limit::fallback;
        d.why.reason = fmt::format("{}; holding {} (failure {} of {} before the fallback acts)", what,
                                   in.current, failures, fb.failure_threshold);
        return d;  // not clamped: holding means no change at all
    }
    if (fb.mode == fallback_mode::hold) {
        d.desired = in.current;
        d.why.limited_by = limit::fallback;
        d.why.reason = fmt::format("{}; fallback holds {}", what, in.current);
        return d;
    }
    d.desired = fb.replicas;
    d.why.limited_by = limit::fallback;
    d.why.reason = fmt::format("{}; fallback sets {} replicas", what, fb.replicas);
    return d;
}

/// Raises `d` to the largest lower bound, if any.
inline decision apply_floor(decision d, const recommendation* floor) {
    if (!floor || d.desired >= *floor->desired) return d;
    d.why.notes.push_back(fmt::format("{} wanted {}", d.why.policy.empty() ? "policy" : d.why.policy, d.desired));
    d.desired = *floor->desired;
    d.why.limited_by = limit::schedule;
    d.why.reason = fmt::format("{}; raised to the floor: {}", d.why.reason, floor->why.reason);
    return d;
}

/// Clamps `d` to [min_replicas, max_replicas] and says so.
inline decision clamp(const recommender_options& opts, decision d) {
    if (d.desired > opts.max_replicas) {
        d.why.notes.push_back(fmt::format("{} wanted {}", d.why.policy.empty() ? "policy" : d.why.policy,
                                          d.desired));
        d.desired = opts.max_replicas;
        d.why.limited_by = limit::max_replicas;
    } else if (d.desired < opts.min_replicas) {
        d.why.notes.push_back(fmt::format("{} wanted {}", d.why.policy.empty() ? "policy" : d.why.policy,
                                          d.desired));
        d.desired = opts.min_replicas;
        d.why.limited_by = limit::min_replicas;
    }
    return d;
}

/// The largest target wins, a floor raises it, partial data never scales down, no data
/// falls back, then min/max clamp. `failures` counts consecutive metric failures.
inline decision combine(std::span<recommendation> recs, const scaling_input& in, std::size_t& failures,
                    const recommender_options& opts) {
    decision d;
    d.resource = opts.resource;
    d.current = in.current;
    std::size_t missing = 0;
    const recommendation* best = nullptr;
    const recommendation* floor = nullptr;
    std::vector<std::string> notes;
    for (auto& r : recs) {
        for (auto& f : r.fired) d.fired.push_back(f);
        if (r.metric_missing) {
            ++missing;
            notes.push_back(fmt::format("{}: {}", r.why.policy, r.why.reason));
        }
        if (!r.desired) continue;
        if (r.lower_bound) {
            if (!floor || *r.desired > *floor->desired) floor = &r;
        } else if (!best || *r.desired > *best->desired) {
            best = &r;
        }
    }

    if (!best && missing > 0) {
        d = fail(in, failures, opts, fmt::format("{} of {} policies lack their metrics", missing, recs.size()),
                 std::move(notes), std::move(d));
        if (missing < recs.size() && d.desired < in.current) {
            // The others answered (by abstaining): partial data, which never scales down,
            // not even through the fallback.
            d.why.notes.push_back(fmt::format("fallback wanted {}", d.desired));
            d.desired = in.current;
            d.why.limited_by = limit::partial_metrics;
            d.why.reason = fmt::format("{} of {} policies lack their metrics; held at {}: no scale-down on partial data",
                                       missing, recs.size(), in.current);
        }
        return floor && d.desired < *floor->desired ? clamp(opts, apply_floor(std::move(d), floor)) : d;
    }
    failures = 0;
    if (!best) {
        d.desired = in.current;
        d.why.reason = "no policy asked for a change";
        d.why.notes = std::move(notes);
        for (auto& r : recs)
            if (!r.desired && !r.why.reason.empty())
                d.why.notes.push_back(fmt::format("{}: {}", r.why.policy, r.why.reason));
        return clamp(opts, apply_floor(std::move(d), floor));
    }

    d.why = best->why;
    for (auto& n : notes) d.why.notes.push_back(std::move(n));
    d.desired = *best->desired;
    if (missing > 0 && d.desired < in.current) {
        // Kubernetes' rule: never scale down on partial data.
        d.desired = in.current;
        d.why.limited_by = limit::partial_metrics;
        d.why.reason = fmt::format("{}; held: {} policies lack their metrics, so no scale-down", best->why.reason,
                                   missing);
    }
    return clamp(opts, apply_floor(std::move(d), floor));
}

}  // namespace salama::scaling::detail
