// salama: hysteresis: separate thresholds for scaling up and scaling down.
//
// Wraps a policy: its scale-ups pass only while the metric is above scale_up_above and
// its scale-downs only while the metric is below scale_down_below. Between the two the
// size holds, so a metric hovering near one threshold does not flap the size.
#pragma once

#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/metric_query.hpp"

#include <fmt/format.h>

#include <limits>
#include <string>

namespace salama::scaling {

/// Settings of hysteresis.
struct hysteresis_options {
    metric_query metric{};  ///< the metric both thresholds apply to
    double scale_up_above = std::numeric_limits<double>::quiet_NaN();
    double scale_down_below = std::numeric_limits<double>::quiet_NaN();

    /// Throws config_error naming the field (NaN thresholds, down above up, ...).
    void validate() const {
        validator v{"hysteresis_options"};
        v.check(is_valid_metric_name(metric.name), "metric.name",
                metric.name.empty() ? "must not be empty" : "must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        v.finite("scale_up_above", scale_up_above);
        v.finite("scale_down_below", scale_down_below);
        v.check(!(scale_down_below > scale_up_above), "scale_down_below",
                fmt::format("must not exceed scale_up_above ({}), got {}", scale_up_above, scale_down_below));
        v.throw_if_failed();
    }
};

/// Lets `Inner`'s changes through only beyond the thresholds of their direction.
template <scaling_policy Inner>
class hysteresis {
public:
    using state_type = typename Inner::state_type;

    /// Validates `opts` (config_error naming the field).
    hysteresis(hysteresis_options opts, Inner inner) : opts_(std::move(opts)), inner_(std::move(inner)) {
        opts_.validate();
    }

    /// "hysteresis(<inner>)".
    std::string name() const { return fmt::format("hysteresis({})", inner_.name()); }
    /// The wrapped policy's initial state.
    state_type initial_state() const { return inner_.initial_state(); }

    /// The inner recommendation, held at the current size inside the band.
    recommendation recommend(const scaling_input& in, state_type& st) const {
        recommendation r = inner_.recommend(in, st);
        if (!r.desired || *r.desired == in.current) return r;
        const bool up = *r.desired > in.current;
        const auto reading = read_metric(in.metrics, opts_.metric);
        if (!reading.value) {
            if (up) return r;  // missing data never blocks a scale-up, and never allows a scale-down
            return hold(std::move(r), in, fmt::format("scale-down held: {}", reading.missing_reason));
        }
        const double v = *reading.value;
        if (up && !(v > opts_.scale_up_above))
            return hold(std::move(r), in,
                        fmt::format("scale-up held: {}={:g} is not above scale_up_above {:g}", opts_.metric.name, v,
                                    opts_.scale_up_above));
        if (!up && !(v < opts_.scale_down_below))
            return hold(std::move(r), in,
                        fmt::format("scale-down held: {}={:g} is not below scale_down_below {:g}", opts_.metric.name, v,
                                    opts_.scale_down_below));
        return r;
    }

    /// Passes the final decision on to the wrapped policy.
    void on_decision(const decision& d, state_type& st) const { notify_decision(inner_, d, st); }

private:
    recommendation hold(recommendation r, const scaling_input& in, std::string why) const {
        r.why.notes.push_back(fmt::format("{} wanted {}: {}", r.why.policy, *r.desired, r.why.reason));
        r.desired = in.current;
        r.why.policy = name();
        r.why.limited_by = limit::hysteresis;
        r.why.reason = std::move(why);
        return r;
    }

    hysteresis_options opts_;
    Inner inner_;
};

}  // namespace salama::scaling
