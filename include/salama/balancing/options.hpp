// salama: the balancer's runtime settings: panic threshold, slow start, EWMA time constant.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace salama::balancing {

/// What a pool does when fewer than `panic_threshold_percent` of its nodes are healthy.
enum class panic_routing {
    use_all_nodes,  ///< route across every member, healthy or not (Envoy's panic routing)
    fail,           ///< refuse with errc::no_healthy_nodes
};

/// Slow start: a node that joins (or comes back healthy) gets
/// `weight * max(min_weight_factor, (t / window)^(1 / aggression))` until `window` has passed
/// (Envoy's formula). A zero window disables it.
struct slow_start_options {
    duration window{};               ///< 0 disables slow start
    double aggression = 1.0;         ///< > 0; 1 is linear, larger ramps faster at first
    double min_weight_factor = 0.1;  ///< (0, 1]: the floor of the factor (Envoy: 10 %)

    /// The factor for a node warming since `since`, at `now` (1 outside the window).
    double factor(time_point since, time_point now) const noexcept {
        if (window <= duration::zero()) return 1.0;
        const double t = to_seconds(now - since);
        const double w = to_seconds(window);
        if (t >= w) return 1.0;
        const double ramp = t <= 0 ? 0.0 : std::pow(t / w, 1.0 / aggression);
        return std::clamp(std::max(min_weight_factor, ramp), 0.0, 1.0);
    }
};

/// Settings of a load_balancer, validated at construction.
struct balancer_options {
    /// Below this share of healthy nodes (percent, [0, 100]) a pool panics (Envoy: 50).
    double panic_threshold_percent = 50;
    /// What panicking means.
    panic_routing on_panic = panic_routing::use_all_nodes;
    /// With zero healthy nodes: false refuses with errc::no_healthy_nodes (the seed's
    /// behaviour), true routes across every member like a panic.
    bool route_when_none_healthy = false;
    /// Slow start for joining and recovering nodes.
    slow_start_options slow_start{};
    /// Time constant of the peak EWMA latency (Finagle/Linkerd: 10 s).
    duration peak_ewma_tau = std::chrono::seconds(10);

    /// Throws config_error naming the first bad field.
    void validate() const {
        validator v{"balancer_options"};
        v.in_range("panic_threshold_percent", panic_threshold_percent, 0, 100);
        v.non_negative("slow_start.window", to_seconds(slow_start.window));
        v.positive("slow_start.aggression", slow_start.aggression);
        v.check(std::isfinite(slow_start.min_weight_factor) && slow_start.min_weight_factor > 0 &&
                    slow_start.min_weight_factor <= 1,
                "slow_start.min_weight_factor",
                fmt::format("must be within (0, 1], got {}", slow_start.min_weight_factor));
        v.positive("peak_ewma_tau", to_seconds(peak_ewma_tau));
        v.throw_if_failed();
    }
};

}  // namespace salama::balancing
