// salama: the Knative pod autoscaler's stable and panic windows, for bursts.
//
// The metric (a total, e.g. in-flight requests) is averaged over a stable window (60 s)
// and a panic window (10 % of it, 6 s). Each average over the per-member target gives a
// desired size, clamped by the maximum scale-up and scale-down rates. When the panic
// desired size reaches panic_threshold times the ready members, the policy panics: it
// follows the panic window and only goes up, until a full stable window has passed
// without crossing the threshold again.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/sliding_window.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/metric_query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace salama::scaling {

/// Settings of panic_mode (Knative's defaults).
struct panic_mode_options {
    std::string name = "panic_mode";
    metric_query metric{{}, {}, aggregation::sum, false};  ///< total load across members
    double target = std::numeric_limits<double>::quiet_NaN();  ///< load one member should carry; > 0
    duration stable_window = std::chrono::seconds(60);
    double panic_window_percentage = 10;  ///< panic window = this % of the stable window
    double panic_threshold = 2.0;         ///< panic when panic desired / ready >= this
    double max_scale_up_rate = 1000;      ///< at most ceil(rate * ready) members
    double max_scale_down_rate = 2;       ///< at least floor(ready / rate) members

    /// The panic window's length.
    duration panic_window() const { return seconds_to_duration(to_seconds(stable_window) * panic_window_percentage / 100); }

    /// Throws config_error naming the field.
    void validate() const {
        validator v{"panic_mode_options"};
        v.non_empty("name", name);
        v.check(is_valid_metric_name(metric.name), "metric.name",
                metric.name.empty() ? "must not be empty" : "must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        v.positive("target", target);
        v.positive("stable_window", to_seconds(stable_window));
        v.check(std::isfinite(panic_window_percentage) && panic_window_percentage > 0 && panic_window_percentage <= 100,
                "panic_window_percentage", fmt::format("must be within (0, 100], got {}", panic_window_percentage));
        v.check(std::isfinite(panic_threshold) && panic_threshold > 1, "panic_threshold",
                fmt::format("must be greater than 1, got {}", panic_threshold));
        v.check(std::isfinite(max_scale_up_rate) && max_scale_up_rate > 1, "max_scale_up_rate",
                fmt::format("must be greater than 1, got {}", max_scale_up_rate));
        v.check(std::isfinite(max_scale_down_rate) && max_scale_down_rate > 1, "max_scale_down_rate",
                fmt::format("must be greater than 1, got {}", max_scale_down_rate));
        v.throw_if_failed();
    }
};

/// Knative's KPA as a policy.
class panic_mode {
public:
    /// The two windows and the panic bookkeeping.
    struct state_type {
        sliding_window stable;
        sliding_window panic;
        std::optional<time_point> panic_since;  ///< last time the threshold was crossed while panicking
        std::int64_t max_panic = 0;             ///< the largest size asked for in this panic
    };

    /// Validates `opts` (config_error naming the field).
    explicit panic_mode(panic_mode_options opts) : opts_(std::move(opts)) { opts_.validate(); }

    /// The configured name.
    const std::string& name() const noexcept { return opts_.name; }
    /// Empty windows, not panicking.
    state_type initial_state() const {
        return {sliding_window(opts_.stable_window), sliding_window(opts_.panic_window()), std::nullopt, 0};
    }
    /// True while `st` is panicking.
    static bool panicking(const state_type& st) noexcept { return st.panic_since.has_value(); }

    /// Folds the current value into both windows and recommends a size.
    recommendation recommend(const scaling_input& in, state_type& st) const {
        const auto reading = read_metric(in.metrics, opts_.metric);
        if (!reading.value) return recommendation::missing(opts_.name, opts_.metric.name, reading.missing_reason);
        st.stable.add(*reading.value, in.now);
        st.panic.add(*reading.value, in.now);
        const double stable_avg = st.stable.mean(in.now).value_or(*reading.value);
        const double panic_avg = st.panic.mean(in.now).value_or(*reading.value);

        const double ready = static_cast<double>(std::max<std::int64_t>(1, in.ready_members()));
        const double max_up = std::ceil(opts_.max_scale_up_rate * ready);
        const double max_down = std::floor(ready / opts_.max_scale_down_rate);
        const double dspc = std::ceil(stable_avg / opts_.target);
        const double dppc = std::ceil(panic_avg / opts_.target);
        const auto clamp_rate = [&](double d, limit& lim) {
            if (d > max_up) lim = limit::scale_up_rate;
            if (d < max_down) lim = limit::scale_down_rate;
            return static_cast<std::int64_t>(std::min(std::max(d, max_down), max_up));
        };
        limit stable_limit = limit::none, panic_limit = limit::none;
        const std::int64_t desired_stable = clamp_rate(dspc, stable_limit);
        const std::int64_t desired_panic = clamp_rate(dppc, panic_limit);

        const bool over = dppc / ready >= opts_.panic_threshold;
        std::string event;
        if (over) {
            if (!st.panic_since) event = "entered panic";
            st.panic_since = in.now;  // entering or extending
        } else if (st.panic_since && in.now > *st.panic_since + opts_.stable_window) {
            st.panic_since.reset();
            st.max_panic = 0;
            event = "left panic after a full stable window below the threshold";
        }

        recommendation r;
        r.why.policy = opts_.name;
        r.why.metric = opts_.metric.name;
        r.why.value = *reading.value;
        if (st.panic_since) {
            std::int64_t d = desired_panic;
            r.why.limited_by = panic_limit;
            if (d < st.max_panic || d < in.current) {
                d = std::max(st.max_panic, in.current);
                r.why.limited_by = limit::panic;
            }
            st.max_panic = std::max(st.max_panic, d);
            r.desired = d;
            r.why.reason = fmt::format("{}panicking: panic average {:g} over {:g}s gives {} ({:g}x of {:g} ready), "
                                       "stable average {:g} gives {}; only up while panicking",
                                       event.empty() ? "" : event + "; ", panic_avg, to_seconds(opts_.panic_window()),
                                       desired_panic, dppc / ready, ready, stable_avg, desired_stable);
        } else {
            r.desired = desired_stable;
            r.why.limited_by = stable_limit;
            r.why.reason = fmt::format("{}stable average {:g} over {:g}s at target {:g} per member gives {}",
                                       event.empty() ? "" : event + "; ", stable_avg, to_seconds(opts_.stable_window),
                                       opts_.target, desired_stable);
        }
        return r;
    }

private:
    panic_mode_options opts_;
};

static_assert(scaling_policy<panic_mode>);

}  // namespace salama::scaling
