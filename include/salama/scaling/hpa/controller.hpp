// salama HPA core: one reconcile of the Kubernetes Horizontal Pod Autoscaler as a pure function:
// (spec, readings, state, now) -> decision + new state. Several metrics are combined by max
// (errored metrics skipped; no scale-down on partial data); a current count outside [min, max] is
// clamped directly; a target at zero with a non-zero minimum disables scaling; then either the
// legacy rules (300 s stabilization, scale-up cap max(factor * current, minimum)) or `behavior`
// (stabilization windows and rate policies) normalize the count. Conditions are reported as the
// controller sets them, in insertion order.
#pragma once

#include "salama/core/validation.hpp"
#include "salama/scaling/hpa/behavior.hpp"
#include "salama/scaling/hpa/replica_calculator.hpp"
#include "salama/scaling/hpa/types.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salama::scaling::hpa {

/// Where a metric comes from.
enum class metric_source_type {
    resource,            ///< a resource of each member (cpu, memory), over the whole member
    container_resource,  ///< a resource of one named container of each member
    pods,                ///< a per-member metric (e.g. qps), averaged
    object,              ///< one metric of one object (e.g. an ingress's requests per second)
    external,            ///< a metric from outside (e.g. a queue length), summed
    unknown,             ///< a type this controller does not know; rejected at reconcile
};

/// What a target compares against.
enum class target_type {
    unset,          ///< no target given (the metric is rejected at reconcile)
    utilization,    ///< average utilization in percent of request (resource metrics)
    value,          ///< a total value (object and external metrics)
    average_value,  ///< a value per member
};

/// The Kubernetes spelling of a metric source type ("Resource", "ContainerResource", ...).
constexpr std::string_view to_string(metric_source_type t) noexcept {
    switch (t) {
    case metric_source_type::resource: return "Resource";
    case metric_source_type::container_resource: return "ContainerResource";
    case metric_source_type::pods: return "Pods";
    case metric_source_type::object: return "Object";
    case metric_source_type::external: return "External";
    case metric_source_type::unknown: return "Unknown";
    }
    return "?";
}

/// Parses "Resource", "ContainerResource", "Pods", "Object" or "External".
inline std::optional<metric_source_type> parse_metric_source_type(std::string_view s) noexcept {
    if (s == "Resource") return metric_source_type::resource;
    if (s == "ContainerResource") return metric_source_type::container_resource;
    if (s == "Pods") return metric_source_type::pods;
    if (s == "Object") return metric_source_type::object;
    if (s == "External") return metric_source_type::external;
    return std::nullopt;
}

/// Parses "Utilization", "Value" or "AverageValue".
inline std::optional<target_type> parse_target_type(std::string_view s) noexcept {
    if (s == "Utilization") return target_type::utilization;
    if (s == "Value") return target_type::value;
    if (s == "AverageValue") return target_type::average_value;
    return std::nullopt;
}

/// A metric's target; the field matching `type` is used.
struct metric_target {
    target_type type = target_type::unset;
    std::int32_t average_utilization = 0;  ///< percent of request
    milli value_milli = 0;
    milli average_value_milli = 0;
};

/// The object an Object metric describes.
struct object_reference {
    std::string api_version;
    std::string kind;
    std::string name;
};

/// One metric to scale on.
struct metric_spec {
    metric_source_type type = metric_source_type::resource;
    /// The resource ("cpu") for resource types, else the metric's name ("qps").
    std::string name = "cpu";
    /// The container for container_resource.
    std::string container;
    /// The object for object metrics.
    object_reference described_object;
    metric_target target;
    /// The type as the user wrote it, kept for the message when `type` is unknown.
    std::string type_name;
};

/// A resource metric with a utilization target, e.g. cpu at 80 %.
inline metric_spec resource_utilization_metric(std::string resource, std::int32_t percent) {
    metric_spec m;
    m.type = metric_source_type::resource;
    m.name = std::move(resource);
    m.target.type = target_type::utilization;
    m.target.average_utilization = percent;
    return m;
}

/// What to autoscale on and within which bounds.
struct hpa_spec {
    std::int32_t min_replicas = 1;
    std::int32_t max_replicas = 10;
    /// Empty: cpu at 80 % utilization (the API default).
    std::vector<metric_spec> metrics;
    /// Unset: the legacy rules.
    std::optional<hpa::behavior> behavior;

    /// Throws config_error naming the first invalid field. Unknown metric types and unset
    /// targets pass: the reconcile rejects that one metric and uses the others.
    void validate(std::string_view prefix = "hpa_spec") const {
        validator v{prefix};
        v.check(min_replicas >= 0, "min_replicas",
                fmt::format("must be non-negative, got {}", min_replicas));
        v.check(max_replicas >= 1, "max_replicas", fmt::format("must be at least 1, got {}", max_replicas));
        v.check(min_replicas <= max_replicas, "min_replicas",
                fmt::format("must not exceed max_replicas ({}), got {}", max_replicas, min_replicas));
        for (std::size_t i = 0; i < metrics.size(); ++i) {
            const auto& m = metrics[i];
            const auto f = [&](std::string_view leaf) { return fmt::format("metrics[{}].{}", i, leaf); };
            const auto t = static_cast<int>(m.type);
            v.check(t >= 0 && t <= 5, f("type"), fmt::format("unknown metric source type value {}", t));
            const auto tt = static_cast<int>(m.target.type);
            v.check(tt >= 0 && tt <= 3, f("target.type"), fmt::format("unknown target type value {}", tt));
            if (m.type != metric_source_type::unknown)
                v.non_empty(f("name"), m.name);
            if (m.type == metric_source_type::container_resource) v.non_empty(f("container"), m.container);
            switch (m.target.type) {
            case target_type::utilization:
                v.check(m.target.average_utilization > 0, f("target.average_utilization"),
                        fmt::format("must be positive, got {}", m.target.average_utilization));
                break;
            case target_type::value:
                v.check(m.target.value_milli > 0, f("target.value_milli"),
                        fmt::format("must be positive, got {}", m.target.value_milli));
                break;
            case target_type::average_value:
                v.check(m.target.average_value_milli > 0, f("target.average_value_milli"),
                        fmt::format("must be positive, got {}", m.target.average_value_milli));
                break;
            case target_type::unset: break;
            }
        }
        if (behavior) {
            if (behavior->scale_up) validate_rules(v, "behavior.scale_up", *behavior->scale_up);
            if (behavior->scale_down) validate_rules(v, "behavior.scale_down", *behavior->scale_down);
        }
        v.throw_if_failed();
    }
};

/// Controller-wide settings (Kubernetes' controller-manager flags).
struct controller_options {
    /// Legacy stabilization window, and the default scale-down window with behavior.
    duration downscale_stabilization = std::chrono::seconds(300);
    /// Ratio tolerances (behavior rules may override them per direction).
    hpa::tolerances tolerance{};
    duration cpu_initialization_period = std::chrono::seconds(300);
    duration initial_readiness_delay = std::chrono::seconds(30);
    /// Legacy scale-up cap: max(factor * current, minimum).
    double scale_up_limit_factor = 2.0;
    double scale_up_limit_minimum = 4.0;

    /// Throws config_error naming the first invalid field.
    void validate(std::string_view prefix = "controller_options") const {
        validator v{prefix};
        v.check(downscale_stabilization >= duration::zero(), "downscale_stabilization",
                fmt::format("must be non-negative, got {}s", to_seconds(downscale_stabilization)));
        v.in_range("tolerance.scale_down", tolerance.scale_down, 0.0, 1.0);
        v.non_negative("tolerance.scale_up", tolerance.scale_up);
        v.check(cpu_initialization_period >= duration::zero(), "cpu_initialization_period",
                fmt::format("must be non-negative, got {}s", to_seconds(cpu_initialization_period)));
        v.check(initial_readiness_delay >= duration::zero(), "initial_readiness_delay",
                fmt::format("must be non-negative, got {}s", to_seconds(initial_readiness_delay)));
        v.check(std::isfinite(scale_up_limit_factor) && scale_up_limit_factor >= 1.0,
                "scale_up_limit_factor", fmt::format("must be at least 1, got {}", scale_up_limit_factor));
        v.non_negative("scale_up_limit_minimum", scale_up_limit_minimum);
        v.throw_if_failed();
    }
};

/// What the source returned for one metric of the spec.
struct metric_reading {
    /// The source failed; its message (the metric is then skipped).
    std::optional<std::string> fetch_error;
    /// Resource and container_resource metrics: one sample per member.
    std::vector<resource_sample> resource_samples;
    /// Pods metrics: one value per member.
    std::vector<value_sample> pod_samples;
    /// Object metrics: the value (first entry); external metrics: the values (summed).
    std::vector<double> values_milli;
};

/// The observed world for one reconcile.
struct reconcile_input {
    /// The count the target is set to (a scale's spec.replicas).
    std::int32_t current_replicas = 0;
    /// The count observed running (a scale's status.replicas); per-member average targets use it.
    std::int32_t status_replicas = 0;
    /// The desired count of the previous decision; reported again when no decision can be made.
    std::optional<std::int32_t> last_desired_replicas;
    /// The members the target selects.
    std::vector<member> members;
    /// One reading per metric of the spec, in the same order.
    std::vector<metric_reading> readings;
    /// Bounds in force instead of the spec's minReplicas and maxReplicas (a recommender's,
    /// so that a composed policy has one source of bounds); unset: the spec's.
    std::optional<std::int32_t> min_replicas;
    std::optional<std::int32_t> max_replicas;
};

/// What the controller remembers between reconciles.
struct autoscaler_state {
    /// Unstabilized recommendations; nullopt before the first reconcile (which then records the
    /// current count as the first recommendation).
    std::optional<std::vector<recommendation>> recommendations;
    std::vector<scale_event> scale_up_events;
    std::vector<scale_event> scale_down_events;
};

/// Status condition types.
enum class condition_type {
    able_to_scale,    ///< AbleToScale
    scaling_active,   ///< ScalingActive
    scaling_limited,  ///< ScalingLimited
};

/// The Kubernetes spelling of a condition type.
constexpr std::string_view to_string(condition_type t) noexcept {
    switch (t) {
    case condition_type::able_to_scale: return "AbleToScale";
    case condition_type::scaling_active: return "ScalingActive";
    case condition_type::scaling_limited: return "ScalingLimited";
    }
    return "?";
}

/// A status condition set by a reconcile.
struct condition {
    condition_type type = condition_type::able_to_scale;
    bool status = true;
    std::string reason{};   ///< e.g. "SucceededRescale", "ValidMetricFound", "TooManyReplicas"
    std::string message;
};

/// What one metric proposed, or why it could not.
struct metric_outcome {
    std::size_t index = 0;
    /// e.g. "cpu resource utilization (percentage of request)".
    std::string description;
    std::optional<replica_estimate> estimate;
    std::optional<std::string> error;
    /// The ScalingActive reason an error maps to (e.g. "FailedGetResourceMetric").
    std::string failure_reason;
    /// The ScalingActive message for an error.
    std::string failure_message;
};

/// The outcome of one reconcile, with its explanation and the next state.
struct decision {
    std::int32_t current_replicas = 0;
    /// The count to apply (equal to current when nothing changes).
    std::int32_t desired_replicas = 0;
    /// True when desired differs from current and should be applied.
    bool rescale = false;
    /// Conditions in the order the controller first set them.
    std::vector<condition> conditions;
    /// Every metric's proposal or error.
    std::vector<metric_outcome> metrics;
    /// The metric whose proposal won (the largest).
    std::optional<std::size_t> winning_metric;
    /// The largest proposal, before stabilization and limits.
    std::optional<std::int32_t> metric_replicas;
    /// After stabilization, before limits.
    std::optional<std::int32_t> stabilized_replicas;
    /// Which limit bounded the count, when limits were applied.
    std::optional<limit_reason> limit;
    /// The rate limit (or legacy cap) computed for the change, when one was.
    std::optional<std::int32_t> rate_limit;
    /// The behavior policy whose rate limit bounded the count, when one did.
    std::optional<rate_policy> limiting_policy;
    /// Why this count, in words.
    std::string reason;
    /// Metric errors (also when other metrics still produced a decision).
    std::optional<std::string> error;
    /// The state to pass to the next reconcile (assumes the decision is applied).
    autoscaler_state state;

    /// The condition of `type`, if set.
    const condition* find(condition_type type) const noexcept {
        for (const auto& c : conditions)
            if (c.type == type) return &c;
        return nullptr;
    }

    /// A multi-line explanation: the decision, each metric, the bounds and the conditions.
    std::string explain() const {
        std::string out = fmt::format("{} -> {} replicas: {}\n", current_replicas, desired_replicas, reason);
        for (const auto& m : metrics) {
            const bool won = winning_metric && *winning_metric == m.index;
            if (m.estimate)
                out += fmt::format("  metric[{}] {}{}: {} ({})\n", m.index, m.description,
                                   won ? " [winner]" : "", m.estimate->replicas, m.estimate->reason);
            else
                out += fmt::format("  metric[{}] {}: error {}: {}\n", m.index, m.description,
                                   m.failure_reason, m.error.value_or(""));
            if (m.estimate)
                for (const auto& n : m.estimate->notes) out += fmt::format("    note: {}\n", n);
        }
        if (metric_replicas) out += fmt::format("  metrics propose {}\n", *metric_replicas);
        if (stabilized_replicas) out += fmt::format("  stabilized to {}\n", *stabilized_replicas);
        if (limit)
            out += fmt::format("  limits: {}{}{}\n", to_string(*limit),
                               rate_limit ? fmt::format(" (rate limit {})", *rate_limit) : std::string(),
                               limiting_policy ? fmt::format(" by policy {} {} per {} s",
                                                             to_string(limiting_policy->type),
                                                             limiting_policy->value,
                                                             limiting_policy->period_seconds)
                                               : std::string());
        for (const auto& c : conditions)
            out += fmt::format("  condition {}={} {}: {}\n", to_string(c.type), c.status ? "True" : "False",
                               c.reason, c.message);
        return out;
    }
};

/// The Horizontal Pod Autoscaler decision core for one target. Construction validates the spec
/// and the options (config_error on misuse); `reconcile` is const and pure.
class controller {
public:
    explicit controller(hpa_spec spec, controller_options options = {})
        : spec_(std::move(spec)), opt_(std::move(options)) {
        spec_.validate();
        opt_.validate();
        if (spec_.metrics.empty()) spec_.metrics.push_back(resource_utilization_metric("cpu", 80));
        if (spec_.behavior)
            resolved_ = resolve(*spec_.behavior, static_cast<std::int32_t>(
                                                     std::chrono::duration_cast<std::chrono::seconds>(
                                                         opt_.downscale_stabilization)
                                                         .count()));
    }

    /// The spec in use (with the default metric when none was given).
    const hpa_spec& spec() const noexcept { return spec_; }
    /// The options in use.
    const controller_options& options() const noexcept { return opt_; }
    /// The behavior with defaults applied; null without behavior (legacy rules).
    const resolved_behavior* behavior() const noexcept { return resolved_ ? &*resolved_ : nullptr; }

    /// One reconcile: decides the desired count from the readings and returns it with the
    /// conditions, the explanation and the next state.
    decision reconcile(const reconcile_input& in, const autoscaler_state& state, time_point now) const {
        decision d;
        d.state = state;
        d.current_replicas = in.current_replicas;
        const std::int32_t current = in.current_replicas;
        set(d, condition_type::able_to_scale, true, "SucceededGetScale",
            "the HPA controller was able to get the target's current scale");
        if (!d.state.recommendations)
            d.state.recommendations = std::vector<recommendation>{{current, now}};

        const std::int32_t min = in.min_replicas.value_or(spec_.min_replicas);
        const std::int32_t max = std::max(min, in.max_replicas.value_or(spec_.max_replicas));
        std::int32_t desired = 0;
        bool rescale = true;
        if (current == 0 && min != 0) {
            desired = 0;
            rescale = false;
            d.reason = "scaling is disabled since the replica count of the target is zero";
            set(d, condition_type::scaling_active, false, "ScalingDisabled", d.reason);
        } else if (current > max) {
            desired = max;
            d.reason = "Current number of replicas above Spec.MaxReplicas";
        } else if (current < min) {
            desired = min;
            d.reason = "Current number of replicas below Spec.MinReplicas";
        } else {
            const auto proposal = compute_metrics(d, in, now);
            if (!proposal) {
                // No usable metric, or a scale-down on partial data: change nothing.
                d.desired_replicas = in.last_desired_replicas.value_or(current);
                d.rescale = false;
                d.reason = fmt::format("no decision: {}", d.error.value_or(""));
                return d;
            }
            std::string winner;
            if (*proposal > desired) {
                desired = *proposal;
                if (d.winning_metric) winner = d.metrics[*d.winning_metric].description;
            }
            if (desired > current) d.reason = fmt::format("{} above target", winner);
            if (desired < current) d.reason = "All metrics below target";
            if (desired == current) d.reason = "metrics at target";
            desired = resolved_ ? normalize_with_behavior(d, current, desired, min, max, now)
                                : normalize_legacy(d, current, desired, min, max, now);
            rescale = desired != current;
        }
        if (rescale) {
            set(d, condition_type::able_to_scale, true, "SucceededRescale",
                fmt::format("the HPA controller was able to update the target scale to {}", desired));
            store_scale_event(d.state.scale_up_events, d.state.scale_down_events, behavior(), current,
                              desired, now);
        } else {
            desired = current;
        }
        d.desired_replicas = desired;
        d.rescale = rescale;
        return d;
    }

private:
    static void set(decision& d, condition_type t, bool status, std::string reason, std::string message) {
        for (auto& c : d.conditions)
            if (c.type == t) {
                c.status = status;
                c.reason = std::move(reason);
                c.message = std::move(message);
                return;
            }
        d.conditions.push_back({t, status, std::move(reason), std::move(message)});
    }

    static std::string describe(const metric_spec& m) {
        switch (m.type) {
        case metric_source_type::resource:
            if (m.target.type == target_type::average_value) return fmt::format("{} resource", m.name);
            return fmt::format("{} resource utilization (percentage of request)", m.name);
        case metric_source_type::container_resource:
            if (m.target.type == target_type::average_value)
                return fmt::format("{} container {} resource", m.name, m.container);
            return fmt::format("{} container resource utilization (percentage of request)", m.name);
        case metric_source_type::pods: return fmt::format("pods metric {}", m.name);
        case metric_source_type::object:
            return fmt::format("{} metric {}", m.described_object.kind, m.name);
        case metric_source_type::external: return fmt::format("external metric {}", m.name);
        case metric_source_type::unknown: break;
        }
        return fmt::format("metric of unknown type \"{}\"", m.type_name);
    }

    /// One metric's proposal; the outcome carries its error and failure reason otherwise.
    void compute_metric(metric_outcome& out, const metric_spec& m, const metric_reading* r,
                        const reconcile_input& in, time_point now) const {
        calculator_options copt{tolerances_for_spec(), opt_.cpu_initialization_period,
                                opt_.initial_readiness_delay};
        const replica_calculator calc{copt};
        const std::int32_t spec_replicas = in.current_replicas;
        // The outer prefix of the metric kind's errors; the condition message leaves it out.
        std::string outer;
        const auto fail = [&](std::string reason, std::string err) {
            const std::string_view inner = std::string_view(err).starts_with(outer)
                                               ? std::string_view(err).substr(outer.size())
                                               : std::string_view(err);
            out.failure_message = fmt::format("the HPA was unable to compute the replica count: {}", inner);
            out.failure_reason = std::move(reason);
            out.error = std::move(err);
        };
        const auto take = [&](calc_result<replica_estimate> res, std::string reason, std::string wrap) {
            if (res)
                out.estimate = std::move(*res);
            else
                fail(std::move(reason), fmt::format("{}{}", wrap, res.error().message()));
        };
        switch (m.type) {
        case metric_source_type::resource:
        case metric_source_type::container_resource: {
            const bool container = m.type == metric_source_type::container_resource;
            std::string reason = container ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
            const std::string wrap = container ? fmt::format("failed to get {} container metric value: ", m.container)
                                               : fmt::format("failed to get {} resource metric value: ", m.name);
            const std::string_view cname = container ? std::string_view(m.container) : std::string_view();
            outer = wrap;
            if (m.target.type == target_type::average_value) {
                if (r->fetch_error)
                    return fail(reason, fmt::format("{}failed to get {} usage: unable to get metrics for resource {}: {}",
                                                    wrap, m.name, m.name, *r->fetch_error));
                return take(calc.resource_average_value(spec_replicas, m.target.average_value_milli, m.name, cname,
                                                        in.members, r->resource_samples, now),
                            reason, fmt::format("{}failed to get {} usage: ", wrap, m.name));
            }
            if (m.target.type != target_type::utilization)
                return fail(reason, fmt::format("{}invalid resource metric source: neither an average "
                                                "utilization target nor an average value (usage) target was set",
                                                wrap));
            if (r->fetch_error)
                return fail(reason, fmt::format("{}failed to get {} utilization: unable to get metrics for resource {}: {}",
                                                wrap, m.name, m.name, *r->fetch_error));
            return take(calc.resource_utilization(spec_replicas, m.target.average_utilization, m.name, cname,
                                                  in.members, r->resource_samples, now),
                        reason, fmt::format("{}failed to get {} utilization: ", wrap, m.name));
        }
        case metric_source_type::pods: {
            const std::string wrap = "failed to get pods metric value: ";
            outer = wrap;
            if (m.target.type != target_type::average_value)
                return fail("FailedGetPodsMetric",
                            wrap + "invalid pods metric source: an average value target must be set");
            if (r->fetch_error)
                return fail("FailedGetPodsMetric",
                            fmt::format("{}unable to get metric {}: {}", wrap, m.name, *r->fetch_error));
            return take(calc.pods_average_value(spec_replicas, m.target.average_value_milli, m.name, in.members,
                                                r->pod_samples, now),
                        "FailedGetPodsMetric", wrap);
        }
        case metric_source_type::object: {
            const std::string wrap = "failed to get object metric value: ";
            outer = wrap;
            const auto& o = m.described_object;
            if (m.target.type != target_type::value && m.target.type != target_type::average_value)
                return fail("FailedGetObjectMetric",
                            wrap + "invalid object metric source: neither a value target nor an average "
                                   "value target was set");
            if (r->fetch_error || r->values_milli.empty())
                return fail("FailedGetObjectMetric",
                            fmt::format("{}unable to get metric {}: {} on {} {}", wrap, m.name, o.kind, o.name,
                                        r->fetch_error.value_or("no value returned")));
            if (m.target.type == target_type::value)
                return take(calc.object_value(spec_replicas, m.target.value_milli, r->values_milli.front(),
                                              in.members),
                            "FailedGetObjectMetric", wrap);
            return take(calc.object_average_value(in.status_replicas, m.target.average_value_milli,
                                                  r->values_milli.front()),
                        "FailedGetObjectMetric", wrap);
        }
        case metric_source_type::external: {
            const std::string wrap = fmt::format("failed to get {} external metric value: ", m.name);
            outer = wrap;
            if (m.target.type != target_type::value && m.target.type != target_type::average_value)
                return fail("FailedGetExternalMetric",
                            wrap + "invalid external metric source: neither a value target nor an "
                                   "average value target was set");
            if (r->fetch_error)
                return fail("FailedGetExternalMetric", fmt::format("{}unable to get external metric {}: {}", wrap,
                                                                   m.name, *r->fetch_error));
            if (m.target.type == target_type::average_value)
                return take(calc.external_average_value(in.status_replicas, m.target.average_value_milli, m.name,
                                                        r->values_milli),
                            "FailedGetExternalMetric", wrap);
            return take(calc.external_value(spec_replicas, m.target.value_milli, m.name, r->values_milli,
                                            in.members),
                        "FailedGetExternalMetric", wrap);
        }
        case metric_source_type::unknown: break;
        }
        fail("InvalidMetricSourceType", fmt::format("unknown metric source type \"{}\"", m.type_name));
    }

    /// Max over the metrics' proposals; nullopt when every metric failed, or some failed and the
    /// rest would scale down.
    std::optional<std::int32_t> compute_metrics(decision& d, const reconcile_input& in, time_point now) const {
        std::int32_t replicas = 0;
        std::size_t invalid = 0;
        std::optional<std::size_t> first_invalid;
        static const metric_reading no_reading{std::string("no reading was supplied for this metric"), {}, {}, {}};
        for (std::size_t i = 0; i < spec_.metrics.size(); ++i) {
            metric_outcome out;
            out.index = i;
            out.description = describe(spec_.metrics[i]);
            const metric_reading* r = i < in.readings.size() ? &in.readings[i] : &no_reading;
            compute_metric(out, spec_.metrics[i], r, in, now);
            if (out.error) {
                if (!first_invalid) first_invalid = i;
                ++invalid;
            } else if (replicas == 0 || out.estimate->replicas > replicas) {
                replicas = out.estimate->replicas;
                d.winning_metric = i;
            }
            d.metrics.push_back(std::move(out));
        }
        if (first_invalid)
            d.error = fmt::format("invalid metrics ({} invalid out of {}), first error is: {}", invalid,
                                  spec_.metrics.size(), *d.metrics[*first_invalid].error);
        if (invalid >= spec_.metrics.size() || (invalid > 0 && replicas < in.current_replicas)) {
            const auto& bad = d.metrics[*first_invalid];
            set(d, condition_type::scaling_active, false, bad.failure_reason, bad.failure_message);
            return std::nullopt;
        }
        d.metric_replicas = replicas;
        set(d, condition_type::scaling_active, true, "ValidMetricFound",
            fmt::format("the HPA was able to successfully calculate a replica count from {}",
                        d.winning_metric ? d.metrics[*d.winning_metric].description : std::string()));
        return replicas;
    }

    hpa::tolerances tolerances_for_spec() const {
        hpa::tolerances t = opt_.tolerance;
        if (resolved_) {
            if (resolved_->scale_down.tolerance) t.scale_down = *resolved_->scale_down.tolerance;
            if (resolved_->scale_up.tolerance) t.scale_up = *resolved_->scale_up.tolerance;
        }
        return t;
    }

    std::int32_t normalize_legacy(decision& d, std::int32_t current, std::int32_t desired, std::int32_t min,
                                  std::int32_t max, time_point now) const {
        auto st = stabilize_legacy(*d.state.recommendations, desired, opt_.downscale_stabilization, now);
        set(d, condition_type::able_to_scale, true, st.reason, st.message);
        d.stabilized_replicas = st.replicas;
        auto lim = limit_legacy(current, st.replicas, min, max,
                                opt_.scale_up_limit_factor, opt_.scale_up_limit_minimum);
        finish_limits(d, st.replicas, lim);
        return lim.replicas;
    }

    std::int32_t normalize_with_behavior(decision& d, std::int32_t current, std::int32_t desired,
                                         std::int32_t min, std::int32_t max, time_point now) const {
        auto st = stabilize_with_behavior(*d.state.recommendations, current, desired,
                                          resolved_->scale_up.stabilization_window_seconds,
                                          resolved_->scale_down.stabilization_window_seconds, now);
        set(d, condition_type::able_to_scale, true, st.reason, st.message);
        d.stabilized_replicas = st.replicas;
        auto lim = limit_with_behavior(current, st.replicas, min, max, *resolved_,
                                       d.state.scale_up_events, d.state.scale_down_events, now);
        finish_limits(d, st.replicas, lim);
        return lim.replicas;
    }

    static void finish_limits(decision& d, std::int32_t stabilized_count, const limited& lim) {
        d.limit = lim.reason;
        d.rate_limit = lim.rate_limit;
        d.limiting_policy = lim.policy;
        set(d, condition_type::scaling_limited, lim.replicas != stabilized_count, std::string(to_string(lim.reason)),
            std::string(message_of(lim.reason)));
        if (lim.replicas != stabilized_count)
            d.reason += fmt::format("; bounded to {} ({})", lim.replicas, to_string(lim.reason));
        if (stabilized_count != d.metric_replicas.value_or(stabilized_count))
            d.reason += fmt::format("; stabilized from {} to {}", *d.metric_replicas, stabilized_count);
    }

    hpa_spec spec_;
    controller_options opt_;
    std::optional<resolved_behavior> resolved_;
};

}  // namespace salama::scaling::hpa
