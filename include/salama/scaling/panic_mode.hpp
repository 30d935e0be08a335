// salama: Knative's pod autoscaler (KPA) as a policy, for bursts.
//
// The metric (a total, e.g. in-flight requests) is averaged over a stable window (60 s) and a
// panic window (10 % of it, 6 s); the KPA core (salama/scaling/kpa/decider.hpp) decides on the
// two averages exactly as Knative does: desired = ceil(average / target) within the scale-up
// and scale-down rates; panic while the panic demand is at least panic_threshold times the
// ready members, and while panicking the running maximum of both windows' sizes (never down),
// until a full stable window has passed without crossing the threshold. A policy made with
// more than one ready member starts in panic, so that a restart does not scale down.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/sliding_window.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/kpa/bucket_average.hpp"
#include "salama/scaling/kpa/decider.hpp"
#include "salama/scaling/metric_query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace salama::scaling {

/// How panic_mode averages the metric over its windows.
enum class window_averaging {
    samples,  ///< the mean of the samples inside each window
    buckets,  ///< Knative's: per-second buckets, seconds without a sample counting as 0
};

/// Settings of panic_mode (Knative's defaults).
struct panic_mode_options {
    /// The largest scale-up or scale-down rate: beyond it the rate limits no longer bound the
    /// member count to the int32 range the KPA core computes in.
    static constexpr double max_rate = 1e6;

    std::string name = "panic_mode";
    metric_query metric{{}, {}, aggregation::sum, false};  ///< total load across members
    double target = std::numeric_limits<double>::quiet_NaN();  ///< load one member should carry; > 0
    duration stable_window = std::chrono::seconds(60);  ///< within (0, max_duration_seconds]
    double panic_window_percentage = 10;  ///< panic window = this % of the stable window (at least 1 s)
    double panic_threshold = 2.0;         ///< panic when panic desired / ready >= this
    double max_scale_up_rate = 1000;      ///< at most ceil(rate * ready) members; within (1, max_rate]
    double max_scale_down_rate = 2;       ///< at least floor(ready / rate) members; within (1, max_rate]
    /// Load one member can carry, for the excess burst capacity; NaN: target / 0.7 (Knative's
    /// default utilization).
    double total = std::numeric_limits<double>::quiet_NaN();
    double target_burst_capacity = 211;   ///< spare load wanted; 0 none, -1 unlimited
    duration scale_down_delay = duration::zero();  ///< a scale-down waits this long (0: at once)
    std::int64_t activation_scale = 1;    ///< a non-zero demand asks for at least this many
    window_averaging averaging = window_averaging::samples;

    /// The panic window's length.
    duration panic_window() const {
        return std::max<duration>(seconds_to_duration(to_seconds(stable_window) * panic_window_percentage / 100),
                                  std::chrono::seconds(1));
    }

    /// Throws config_error naming the field.
    void validate() const {
        validator v{"panic_mode_options"};
        v.non_empty("name", name);
        v.check(is_valid_metric_name(metric.name), "metric.name",
                metric.name.empty() ? "must not be empty" : "must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        v.positive("target", target);
        v.positive("stable_window", to_seconds(stable_window));
        v.duration_range("stable_window", stable_window);
        v.check(std::isfinite(panic_window_percentage) && panic_window_percentage > 0 && panic_window_percentage <= 100,
                "panic_window_percentage", fmt::format("must be within (0, 100], got {}", panic_window_percentage));
        v.check(std::isfinite(panic_threshold) && panic_threshold > 1, "panic_threshold",
                fmt::format("must be greater than 1, got {}", panic_threshold));
        v.check(std::isfinite(max_scale_up_rate) && max_scale_up_rate > 1, "max_scale_up_rate",
                fmt::format("must be greater than 1, got {}", max_scale_up_rate));
        v.check(!(max_scale_up_rate > max_rate), "max_scale_up_rate",
                fmt::format("must be at most {:g}, got {}", max_rate, max_scale_up_rate));
        v.check(std::isfinite(max_scale_down_rate) && max_scale_down_rate > 1, "max_scale_down_rate",
                fmt::format("must be greater than 1, got {}", max_scale_down_rate));
        v.check(!(max_scale_down_rate > max_rate), "max_scale_down_rate",
                fmt::format("must be at most {:g}, got {}", max_rate, max_scale_down_rate));
        v.check(std::isnan(total) || (std::isfinite(total) && total > 0), "total",
                fmt::format("must be positive (or NaN for target / 0.7), got {}", total));
        v.check(std::isfinite(target_burst_capacity) && (target_burst_capacity >= 0 || target_burst_capacity == -1),
                "target_burst_capacity", fmt::format("must be >= 0 or -1, got {}", target_burst_capacity));
        v.check(scale_down_delay >= duration::zero() && scale_down_delay <= std::chrono::hours(1), "scale_down_delay",
                fmt::format("must be within [0s, 3600s], got {}s", to_seconds(scale_down_delay)));
        // One bucket per second: Knative's longest window (an hour) bounds their number.
        v.check(averaging != window_averaging::buckets || stable_window <= std::chrono::hours(1), "stable_window",
                fmt::format("must be at most 3600s with bucket averaging, got {}s", to_seconds(stable_window)));
        v.check(activation_scale >= 0 && activation_scale <= std::numeric_limits<std::int32_t>::max(),
                "activation_scale", fmt::format("must be within [0, 2147483647], got {}", activation_scale));
        v.throw_if_failed();
    }

    /// The KPA core's spec for these options.
    kpa::decider_spec decider_spec() const {
        kpa::decider_spec s;
        s.target_value = target;
        s.total_value = std::isnan(total) ? target / 0.7 : total;
        s.target_burst_capacity = target_burst_capacity;
        s.panic_threshold = panic_threshold;
        s.max_scale_up_rate = max_scale_up_rate;
        s.max_scale_down_rate = max_scale_down_rate;
        s.stable_window = stable_window;
        s.scale_down_delay = scale_down_delay;
        s.activation_scale = static_cast<std::int32_t>(activation_scale);
        return s;
    }
};

/// Knative's KPA as a policy: salama's windowed averages of the snapshot, then the KPA core.
class panic_mode {
public:
    /// The two windows and the core's state.
    struct state_type {
        sliding_window stable;  ///< samples averaging
        sliding_window panic;
        std::optional<kpa::bucket_average> stable_buckets;  ///< bucket averaging
        std::optional<kpa::bucket_average> panic_buckets;
        /// Made at the first evaluation from its ready members (Knative makes its autoscaler
        /// with the ready count of that moment).
        std::optional<kpa::decider_state> core;
    };

    /// Validates `opts` (config_error naming the field).
    explicit panic_mode(panic_mode_options opts) : opts_(std::move(opts)) {
        opts_.validate();
        spec_ = opts_.decider_spec();
        spec_.validate();
    }

    /// The configured name.
    const std::string& name() const noexcept { return opts_.name; }
    /// Empty windows; the core is made at the first evaluation.
    state_type initial_state() const {
        state_type st{sliding_window(opts_.stable_window), sliding_window(opts_.panic_window()), std::nullopt,
                      std::nullopt, std::nullopt};
        if (opts_.averaging == window_averaging::buckets) {
            st.stable_buckets.emplace(opts_.stable_window);
            st.panic_buckets.emplace(opts_.panic_window());
        }
        return st;
    }
    /// True while `st` is panicking.
    static bool panicking(const state_type& st) noexcept { return st.core && st.core->in_panic(); }
    /// The KPA core's spec in use.
    const kpa::decider_spec& spec() const noexcept { return spec_; }

    /// Folds the current value into both windows and recommends a size. A missing metric
    /// leaves the state untouched, as a metric error does in Knative.
    recommendation recommend(const scaling_input& in, state_type& st) const {
        const auto reading = read_metric(in.metrics, opts_.metric);
        if (!reading.value) return recommendation::missing(opts_.name, opts_.metric.name, reading.missing_reason);
        double stable_avg = 0;
        double panic_avg = 0;
        if (st.stable_buckets && st.panic_buckets) {
            st.stable_buckets->record(in.now, *reading.value);
            st.panic_buckets->record(in.now, *reading.value);
            stable_avg = st.stable_buckets->window_average(in.now);
            panic_avg = st.panic_buckets->window_average(in.now);
        } else {
            st.stable.add(*reading.value, in.now);
            st.panic.add(*reading.value, in.now);
            stable_avg = st.stable.mean(in.now).value_or(*reading.value);
            panic_avg = st.panic.mean(in.now).value_or(*reading.value);
        }

        // The KPA core converts its result to int32 as Go does (out of range gives INT32_MIN):
        // keep the ready count and the demand it sees within that range.
        const std::int64_t ready = std::clamp<std::int64_t>(in.ready_members(), 0, max_members);
        const double demand_cap = opts_.target * static_cast<double>(max_members - 1);
        stable_avg = std::min(stable_avg, demand_cap);
        panic_avg = std::min(panic_avg, demand_cap);
        if (!st.core) st.core = kpa::make_state(spec_, ready, kpa::pod_count_status::ok, in.now);
        const kpa::decider_input di{in.now, ready, kpa::pod_count_status::ok, stable_avg, panic_avg,
                                    kpa::metric_status::ok};
        const auto k = kpa::scale_in_place(spec_, di, *st.core);

        recommendation r;
        r.desired = k.desired_pod_count;
        r.why.policy = opts_.name;
        r.why.metric = opts_.metric.name;
        r.why.value = *reading.value;
        r.why.limited_by = limit_of(k);
        std::string event;
        switch (k.event) {
        case kpa::panic_event::entered: event = "entered panic; "; break;
        case kpa::panic_event::left: event = "left panic after a full stable window below the threshold; "; break;
        default: break;
        }
        if (k.panicking) {
            r.why.reason = fmt::format(
                "{}panicking: panic average {:g} over {:g}s gives {} ({:g}x of {:g} ready), stable average {:g} gives {}; "
                "only up while panicking, holding {}",
                event, panic_avg, to_seconds(opts_.panic_window()), k.desired_panic, k.panic_demand / k.ready, k.ready,
                stable_avg, k.desired_stable, k.undelayed);
        } else {
            r.why.reason = fmt::format("{}stable average {:g} over {:g}s at target {:g} per member gives {}", event,
                                       stable_avg, to_seconds(opts_.stable_window), opts_.target, k.desired_stable);
        }
        if (k.desired_pod_count != k.undelayed)
            r.why.reason += fmt::format("; scale-down to {} delayed, the last {:g}s asked for {}", k.undelayed,
                                        to_seconds(opts_.scale_down_delay), k.desired_pod_count);
        if (spec_.target_burst_capacity != 0)
            r.why.notes.push_back(fmt::format("excess burst capacity {}", k.excess_burst_capacity));
        return r;
    }

private:
    // What held the result back, most binding first.
    static limit limit_of(const kpa::scale_result& k) {
        if (k.desired_pod_count != k.undelayed) return limit::scale_down_delay;
        const bool use_panic = k.panicking && k.desired_panic > k.desired_stable;
        if (k.panicking && k.undelayed > std::max(k.desired_stable, k.desired_panic)) return limit::panic;
        const double demand = use_panic ? k.panic_demand : k.stable_demand;
        const std::int32_t chosen = use_panic ? k.desired_panic : k.desired_stable;
        if (demand > k.max_scale_up) return limit::scale_up_rate;
        if (demand < k.max_scale_down) return limit::scale_down_rate;
        if (static_cast<double>(chosen) > demand) return limit::activation;
        return limit::none;
    }

    panic_mode_options opts_;
    kpa::decider_spec spec_;
};

static_assert(scaling_policy<panic_mode>);

}  // namespace salama::scaling
