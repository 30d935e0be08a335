// salama: what the scaling core decides, why, and the concept every scaling policy meets.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/metric.hpp"

#include <fmt/format.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salama::scaling {

/// Which way a rule moves the size it controls.
enum class scale_action { scale_up, scale_down };

/// "scale_up" or "scale_down".
constexpr std::string_view to_string(scale_action a) noexcept {
    return a == scale_action::scale_up ? "scale_up" : "scale_down";
}

/// Which way a decision moves the size: none, up or down.
enum class direction { none, up, down };

/// "none", "up" or "down".
constexpr std::string_view to_string(direction d) noexcept {
    switch (d) {
    case direction::none: return "none";
    case direction::up: return "up";
    case direction::down: return "down";
    }
    return "?";
}

/// What held a recommendation or decision back.
enum class limit {
    none,             ///< nothing: the policies' size stands
    min_replicas,     ///< raised to the minimum
    max_replicas,     ///< lowered to the maximum
    scale_up_rate,    ///< a scale-up rate (HPA ScaleUpLimit, Knative max_scale_up_rate)
    scale_down_rate,  ///< a scale-down rate (HPA ScaleDownLimit, Knative max_scale_down_rate)
    stabilization,    ///< a stabilization window kept an earlier, larger size
    scale_down_delay, ///< Knative's scale-down delay kept the window's maximum
    cooldown,         ///< a rule's cooldown
    partial_metrics,  ///< some metrics were missing: no scale-down
    fallback,         ///< metrics failed: the fallback decided
    hysteresis,       ///< inside the hysteresis band
    schedule,         ///< a scheduled minimum
    panic,            ///< panic mode holds the size it reached
    activation,       ///< scale to or from zero by the activation rule
};

/// The name of a limit ("max_replicas", ...; "" for none).
constexpr std::string_view to_string(limit l) noexcept {
    switch (l) {
    case limit::none: return "";
    case limit::min_replicas: return "min_replicas";
    case limit::max_replicas: return "max_replicas";
    case limit::scale_up_rate: return "scale_up_rate";
    case limit::scale_down_rate: return "scale_down_rate";
    case limit::stabilization: return "stabilization";
    case limit::scale_down_delay: return "scale_down_delay";
    case limit::cooldown: return "cooldown";
    case limit::partial_metrics: return "partial_metrics";
    case limit::fallback: return "fallback";
    case limit::hysteresis: return "hysteresis";
    case limit::schedule: return "schedule";
    case limit::panic: return "panic";
    case limit::activation: return "activation";
    }
    return "?";
}

/// A rule that fired: the seed's decision record {rule, current value, action, scale size}.
struct rule_decision {
    std::string rule{};            ///< the rule's (or step policy's) name
    std::string metric{};          ///< the metric it read
    double value = 0;            ///< the metric's current value
    scale_action action = scale_action::scale_up;
    std::int64_t scale_size = 0; ///< members added or removed (the step's adjustment, resolved)
};

/// Why a recommendation or decision is what it is.
struct explanation {
    std::string policy{};           ///< the policy or rule that set the size ("" for none)
    std::string metric{};           ///< the metric that drove it ("" for none)
    std::optional<double> value{};  ///< that metric's value, if read
    limit limited_by = limit::none;  ///< what held it back
    std::string reason{};           ///< one readable sentence
    std::vector<std::string> notes{};  ///< everything else worth knowing (missing metrics, ...)

    /// One line for logs and scale_request::reason.
    std::string to_string() const {
        std::string out = reason;
        if (!policy.empty()) out += fmt::format(" [policy {}]", policy);
        if (!metric.empty()) {
            if (value) out += fmt::format(" [{}={:g}]", metric, *value);
            else out += fmt::format(" [{}]", metric);
        }
        if (limited_by != limit::none) out += fmt::format(" [limited by {}]", scaling::to_string(limited_by));
        for (const auto& n : notes) out += fmt::format(" [{}]", n);
        return out;
    }
};

/// The sizes a recommender keeps its decisions within (recommender_options' min and max).
/// Policies that clamp on their own (the HPA) clamp to these, so the bounds have one source.
struct replica_bounds {
    std::int64_t min = 0;  ///< the smallest size
    std::int64_t max = 0;  ///< the largest size
};

/// Everything a policy may look at for one evaluation. Pure data, passed in.
struct scaling_input {
    const snapshot& metrics;                  ///< the metric snapshot
    std::int64_t current = 0;                 ///< the size now
    std::optional<std::int64_t> ready{};      ///< members ready to serve; unset: all of `current`
    time_point now{};                         ///< the evaluation instant (monotonic)
    /// The time of day, for time-of-day policies. Passed in, never read; unset when the
    /// caller has none (a schedule then abstains).
    std::optional<wall_time> wall{};
    /// The recommender's bounds; unset when a policy is evaluated on its own.
    std::optional<replica_bounds> bounds{};

    /// `ready`, or `current` when not given.
    std::int64_t ready_members() const noexcept { return ready.value_or(current); }
};

/// One policy's opinion. An empty `desired` abstains (no rule fired, outside a schedule,
/// or a metric it needs is missing, which `metric_missing` says). A `lower_bound`
/// recommendation (a scheduled minimum) only keeps the result from going below `desired`;
/// it never asks for a change by itself.
struct recommendation {
    std::optional<std::int64_t> desired;
    bool metric_missing = false;
    bool lower_bound = false;
    explanation why;
    std::vector<rule_decision> fired;

    /// A recommendation that abstains with `reason`.
    static recommendation abstain(std::string policy, std::string reason) {
        recommendation r;
        r.why.policy = std::move(policy);
        r.why.reason = std::move(reason);
        return r;
    }
    /// A recommendation that abstains because a metric is missing.
    static recommendation missing(std::string policy, std::string metric, std::string reason) {
        recommendation r;
        r.metric_missing = true;
        r.why.policy = std::move(policy);
        r.why.metric = std::move(metric);
        r.why.reason = std::move(reason);
        return r;
    }
};

/// The recommender's answer for one scaled target.
struct decision {
    std::string resource{};          ///< resource type of the target (picks the actuator)
    std::int64_t current = 0;      ///< the size it was based on
    std::int64_t desired = 0;      ///< the size asked for
    bool fallback = false;         ///< true when metrics failed and the fallback decided
    explanation why{};               ///< which metric, which policy or limit, and why
    std::vector<rule_decision> fired{};  ///< every rule that fired, in evaluation order

    /// Up, down or none.
    direction dir() const noexcept {
        return desired > current ? direction::up
                                 : desired < current ? direction::down : direction::none;
    }
    /// True when the decision asks for another size.
    bool changes() const noexcept { return desired != current; }
};

/// A composable scaling policy: a value type whose recommendation is a pure function of
/// the input and its own state (which it may update). No I/O, no clock reads.
template <class P>
concept scaling_policy = std::copy_constructible<P> &&
    requires(const P& p, const scaling_input& in, typename P::state_type& st) {
        typename P::state_type;
        requires std::copy_constructible<typename P::state_type>;
        { p.initial_state() } -> std::same_as<typename P::state_type>;
        { p.recommend(in, st) } -> std::same_as<recommendation>;
        { p.name() } -> std::convertible_to<std::string_view>;
    };

/// A policy that wants to know the final decision of its recommender (to start a
/// cooldown only when the target really moved its way, say).
template <class P>
concept decision_observer = requires(const P& p, const decision& d, typename P::state_type& st) {
    p.on_decision(d, st);
};

/// Tells `p` the final decision if it listens; does nothing otherwise.
template <class P>
void notify_decision(const P& p, const decision& d, typename P::state_type& st) {
    if constexpr (decision_observer<P>) p.on_decision(d, st);
}

}  // namespace salama::scaling
