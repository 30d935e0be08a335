// salama: scale to and from zero with an activation threshold (KEDA's semantics).
//
// The activation metric decides 0 <-> 1: above the activation threshold the target is
// active. The wrapped policy decides 1 <-> N while active. After the target has been
// inactive for the whole cooldown it goes to zero. The recommender's min_replicas must be
// 0 for the zero to be reached.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/metric_query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace salama::scaling {

/// Settings of scale_to_zero.
struct scale_to_zero_options {
    metric_query activation_metric{};               ///< e.g. a queue length (aggregate sum)
    double activation_threshold = 0;              ///< active iff value > threshold
    duration cooldown = std::chrono::seconds(300);  ///< inactive this long before going to zero

    /// Throws config_error naming the field.
    void validate() const {
        validator v{"scale_to_zero_options"};
        v.check(is_valid_metric_name(activation_metric.name), "activation_metric.name",
                activation_metric.name.empty() ? "must not be empty" : "must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        v.finite("activation_threshold", activation_threshold);
        v.non_negative("cooldown", to_seconds(cooldown));
        v.throw_if_failed();
    }
};

/// Wraps `Inner` (which decides 1 <-> N) with activation from and to zero.
template <scaling_policy Inner>
class scale_to_zero {
public:
    /// The wrapped policy's state and when the target was last active.
    struct state_type {
        typename Inner::state_type inner;
        std::optional<time_point> last_active;  ///< or when first seen inactive
    };

    /// Validates `opts` (config_error naming the field).
    scale_to_zero(scale_to_zero_options opts, Inner inner) : opts_(std::move(opts)), inner_(std::move(inner)) {
        opts_.validate();
    }

    /// "scale_to_zero(<inner>)".
    std::string name() const { return fmt::format("scale_to_zero({})", inner_.name()); }
    /// The wrapped policy's initial state, never active yet.
    state_type initial_state() const { return {inner_.initial_state(), std::nullopt}; }

    /// 0 -> 1 on activation, 1 <-> N by the inner policy, N -> 0 after the cooldown.
    recommendation recommend(const scaling_input& in, state_type& st) const {
        recommendation r = inner_.recommend(in, st.inner);
        const auto reading = read_metric(in.metrics, opts_.activation_metric);
        if (!reading.value) {
            if (in.current > 0) {
                r.why.notes.push_back(fmt::format("activation unknown: {}", reading.missing_reason));
                return r;
            }
            return recommendation::missing(name(), opts_.activation_metric.name, reading.missing_reason);
        }
        const double v = *reading.value;
        const bool active = v > opts_.activation_threshold;
        if (active || !st.last_active) st.last_active = in.now;

        auto own = [&](std::int64_t desired, limit limited, std::string reason) {
            recommendation o;
            o.desired = desired;
            o.fired = std::move(r.fired);
            o.why.policy = name();
            o.why.metric = opts_.activation_metric.name;
            o.why.value = v;
            o.why.limited_by = limited;
            o.why.reason = std::move(reason);
            return o;
        };
        if (in.current == 0) {
            if (active)
                return own(1, limit::activation, fmt::format("activated: {}={:g} > activation threshold {:g}: 0 -> 1",
                                                        opts_.activation_metric.name, v, opts_.activation_threshold));
            return own(0, limit::activation, fmt::format("inactive: {}={:g} <= activation threshold {:g}: stay at zero",
                                                    opts_.activation_metric.name, v, opts_.activation_threshold));
        }
        if (!active) {
            const duration idle = in.now - *st.last_active;
            if (idle >= opts_.cooldown)
                return own(0, limit::activation,
                           fmt::format("inactive for {:g}s (cooldown {:g}s): {}={:g} <= activation threshold {:g}: scale to zero",
                                       to_seconds(idle), to_seconds(opts_.cooldown), opts_.activation_metric.name, v,
                                       opts_.activation_threshold));
            r.why.notes.push_back(fmt::format("inactive for {:g}s of the {:g}s cooldown", to_seconds(idle),
                                              to_seconds(opts_.cooldown)));
        }
        // Active (or cooling down): the inner policy decides, never below one.
        if (r.desired && *r.desired < 1) {
            r.why.notes.push_back(fmt::format("{} wanted {}", r.why.policy, *r.desired));
            r.desired = 1;
            r.why.limited_by = limit::activation;
        }
        return r;
    }

    /// Passes the final decision on to the wrapped policy.
    void on_decision(const decision& d, state_type& st) const { notify_decision(inner_, d, st.inner); }

private:
    scale_to_zero_options opts_;
    Inner inner_;
};

}  // namespace salama::scaling
