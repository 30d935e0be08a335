// salama KPA core: one decision of Knative's pod autoscaler (`autoscaler.Scale` in Knative
// Serving's pkg/autoscaler/scaling), as a pure function of the spec, the ready pods, the
// stable- and panic-window averages, the state and `now`.
//
// - Ready pods are floored at 1 for the rate limits and the panic ratio.
// - Desired = ceil(average / target), kept within [floor(ready / down rate), ceil(up rate *
//   ready)]; the lower bound is 0 while the revision is unreachable.
// - An activation scale above 1 lifts a non-zero demand to at least that scale.
// - Panic: every tick with ceil(panic / target) / ready >= threshold sets the panic time to
//   now; panic ends on a tick below the threshold once panic time + stable window is strictly
//   before now. In panic the result is the running maximum of max(stable, panic): never down.
// - A scale-down delay passes the result through a max_time_window of ceil(delay / 2 s)
//   buckets (reachable revisions only).
// - Excess burst capacity = floor(ready * total - burst capacity - panic average).
// - A metric error, or a pod-count error other than not-found, is an invalid result and leaves
//   the state untouched.
// Compile with -ffp-contract=off to match Go's amd64 arithmetic bit for bit (see go_math.hpp).
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/kpa/detail/go_math.hpp"
#include "salama/scaling/kpa/max_window.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#if defined(__clang__)
#define SALAMA_KPA_NO_FP_CONTRACT _Pragma("clang fp contract(off)")
#define SALAMA_KPA_NO_FP_CONTRACT_FN
#elif defined(__GNUC__)
#define SALAMA_KPA_NO_FP_CONTRACT
#define SALAMA_KPA_NO_FP_CONTRACT_FN __attribute__((optimize("fp-contract=off")))
#else
#define SALAMA_KPA_NO_FP_CONTRACT
#define SALAMA_KPA_NO_FP_CONTRACT_FN
#endif

namespace salama::scaling::kpa {

/// Knative's decision period; the scale-down delay window has one bucket per tick.
inline constexpr duration tick_interval = std::chrono::seconds(2);

/// What the averages measure: in-flight requests or requests per second.
enum class scaling_metric { concurrency, rps };

/// "concurrency" or "rps".
constexpr std::string_view to_string(scaling_metric m) noexcept {
    return m == scaling_metric::rps ? "rps" : "concurrency";
}

/// Knative's DeciderSpec. Defaults are Knative's for a concurrency target: 100 per pod at
/// 70 % utilization, burst capacity 211, panic at 200 %, rates 1000x up and 2x down.
struct decider_spec {
    scaling_metric metric = scaling_metric::concurrency;
    double target_value = 70;             ///< load one pod should carry (target x utilization)
    double total_value = 100;             ///< load one pod can carry
    double target_burst_capacity = 211;   ///< spare capacity wanted; 0 none, -1 unlimited
    double activator_capacity = 100;      ///< one activator's capacity (the activator's; not used here)
    double panic_threshold = 2.0;         ///< a fraction: 2.0 panics at 200 % of ready pods
    double max_scale_up_rate = 1000;      ///< at most ceil(rate x ready) pods
    double max_scale_down_rate = 2;       ///< at least floor(ready / rate) pods (when reachable)
    duration stable_window = std::chrono::seconds(60);  ///< panic lasts this long after the last crossing
    duration scale_down_delay = duration::zero();       ///< scale-downs wait this long (0: none)
    std::int32_t initial_scale = 1;       ///< the revision's first size (the reconciler's; not used here)
    bool reachable = true;                ///< false while traffic is routed elsewhere: no scale-down floor, no delay
    std::int32_t activation_scale = 1;    ///< a non-zero demand asks for at least this many pods

    /// Throws config_error naming the field. Accepts every spec Knative's own tests decide on
    /// (a zero stable window or burst capacity included); rejects what has no defined result.
    void validate() const {
        validator v{"decider_spec"};
        v.positive("target_value", target_value);
        v.non_negative("total_value", total_value);
        v.check(std::isfinite(target_burst_capacity) && (target_burst_capacity >= 0 || target_burst_capacity == -1),
                "target_burst_capacity", fmt::format("must be >= 0 or -1, got {}", target_burst_capacity));
        v.non_negative("activator_capacity", activator_capacity);
        v.positive("panic_threshold", panic_threshold);
        v.positive("max_scale_up_rate", max_scale_up_rate);
        v.positive("max_scale_down_rate", max_scale_down_rate);
        v.check(stable_window >= duration::zero(), "stable_window",
                fmt::format("must be non-negative, got {}s", to_seconds(stable_window)));
        // Knative's annotations allow at most an hour (WindowMax); it also bounds the window's buckets.
        v.check(scale_down_delay >= duration::zero() && scale_down_delay <= std::chrono::hours(1), "scale_down_delay",
                fmt::format("must be within [0s, 3600s], got {}s", to_seconds(scale_down_delay)));
        v.check(initial_scale >= 0, "initial_scale", fmt::format("must be non-negative, got {}", initial_scale));
        v.check(activation_scale >= 0, "activation_scale",
                fmt::format("must be non-negative, got {}", activation_scale));
        v.throw_if_failed();
    }
};

/// How reading the ready pods went. Not-found is no error: the count given is used (Knative's
/// counter gives 0 then).
enum class pod_count_status { ok, not_found, error };

/// How reading the averages went: no data yet, or another failure.
enum class metric_status { ok, no_data, error };

/// The state between decisions.
struct decider_state {
    /// Set while panicking: the last tick over the threshold (or the construction time).
    std::optional<time_point> panic_time;
    std::int32_t max_panic_pods = 0;  ///< the largest size asked for in this panic
    /// The scale-down delay window; made at construction only (a later spec does not change it).
    std::optional<max_time_window> delay_window;

    /// True while panicking.
    bool in_panic() const noexcept { return panic_time.has_value(); }
};

/// Whether construction makes a delay window: from the spec (Knative's `New`, when the delay
/// is > 0) or never (its internal constructor with a nil window).
enum class delay_window_mode { from_spec, none };

/// The state of an autoscaler made at `now` with `ready_pods` ready (Knative's constructor):
/// more than one ready pod starts in panic holding that many, so that a restarted autoscaler
/// with no history does not scale down. A failed count (any status but ok) counts as 0.
/// `epoch_unix_seconds` is the Unix time of time_point's epoch (where delay buckets fall).
inline decider_state make_state(const decider_spec& spec, std::int64_t ready_pods, pod_count_status status,
                                time_point now, delay_window_mode mode = delay_window_mode::from_spec,
                                std::int64_t epoch_unix_seconds = 0) {
    spec.validate();
    const std::int64_t count = status == pod_count_status::ok ? ready_pods : 0;
    decider_state st;
    if (count > 1) st.panic_time = now;
    st.max_panic_pods = detail::go_int32(count);
    if (mode == delay_window_mode::from_spec && spec.scale_down_delay > duration::zero())
        st.delay_window.emplace(spec.scale_down_delay, tick_interval, epoch_unix_seconds);
    return st;
}

/// One decision's inputs.
struct decider_input {
    time_point now{};
    std::int64_t ready_pods = 0;  ///< ready pods (may be 0)
    pod_count_status pods = pod_count_status::ok;
    double stable = 0;  ///< the stable-window average, revision-wide (not per pod)
    double panic = 0;   ///< the panic-window average, revision-wide
    metric_status metrics = metric_status::ok;
};

/// What happened to panic mode in one decision.
enum class panic_event { none, entered, extended, left };

/// Why a decision is invalid.
enum class invalid_reason { none, pod_count, metrics };

/// One decision: Knative's ScaleResult, and what led to it.
struct scale_result {
    bool valid = false;                   ///< false: apply nothing
    invalid_reason invalid = invalid_reason::none;
    std::int32_t desired_pod_count = 0;
    std::int32_t excess_burst_capacity = 0;

    // How it came about (meaningful when valid).
    double ready = 0;              ///< ready pods floored at 1
    double max_scale_up = 0;       ///< ceil(up rate x ready)
    double max_scale_down = 0;     ///< floor(ready / down rate), 0 when unreachable
    double stable_demand = 0;      ///< ceil(stable / target), before the rate limits
    double panic_demand = 0;       ///< ceil(panic / target), before the rate limits
    std::int32_t desired_stable = 0;  ///< stable demand after the limits and activation scale
    std::int32_t desired_panic = 0;   ///< panic demand after the limits and activation scale
    bool over_threshold = false;   ///< panic demand / ready >= threshold
    panic_event event = panic_event::none;
    bool panicking = false;        ///< in panic after this decision
    std::int32_t undelayed = 0;    ///< the result before the scale-down delay
};

/// One decision (Knative's Scale). Updates `st` only when the result is valid. Throws
/// config_error for an invalid spec (misuse).
SALAMA_KPA_NO_FP_CONTRACT_FN inline scale_result scale_in_place(const decider_spec& spec, const decider_input& in,
                                                                 decider_state& st) {
    SALAMA_KPA_NO_FP_CONTRACT
    spec.validate();
    scale_result r;
    if (in.pods == pod_count_status::error) {
        r.invalid = invalid_reason::pod_count;
        return r;
    }
    const std::int64_t original = in.ready_pods;
    const double ready = detail::go_max(1, static_cast<double>(original));
    if (in.metrics != metric_status::ok) {
        r.invalid = invalid_reason::metrics;
        return r;
    }
    r.valid = true;
    r.ready = ready;
    // The ceiling lets a cautious up rate still add a pod: ceil(1.1 x 2) = 3.
    r.max_scale_up = std::ceil(spec.max_scale_up_rate * ready);
    r.max_scale_down = 0.;
    if (spec.reachable) r.max_scale_down = std::floor(ready / spec.max_scale_down_rate);
    const double dspc = std::ceil(in.stable / spec.target_value);
    const double dppc = std::ceil(in.panic / spec.target_value);
    r.stable_demand = dspc;
    r.panic_demand = dppc;
    std::int32_t desired_stable = detail::go_int32(detail::go_min(detail::go_max(dspc, r.max_scale_down), r.max_scale_up));
    std::int32_t desired_panic = detail::go_int32(detail::go_min(detail::go_max(dppc, r.max_scale_down), r.max_scale_up));
    if (spec.activation_scale > 1) {
        if (dspc > 0 && spec.activation_scale > desired_stable) desired_stable = spec.activation_scale;
        if (dppc > 0 && spec.activation_scale > desired_panic) desired_panic = spec.activation_scale;
    }
    r.desired_stable = desired_stable;
    r.desired_panic = desired_panic;

    r.over_threshold = dppc / ready >= spec.panic_threshold;
    if (!st.panic_time && r.over_threshold) {
        st.panic_time = in.now;
        r.event = panic_event::entered;
    } else if (r.over_threshold) {
        st.panic_time = in.now;
        r.event = panic_event::extended;
    } else if (st.panic_time && *st.panic_time + spec.stable_window < in.now) {
        // The surge has made its way into the stable average.
        st.panic_time.reset();
        st.max_panic_pods = 0;
        r.event = panic_event::left;
    }

    std::int32_t desired = desired_stable;
    if (st.panic_time) {
        // Provision for whichever window asks more, and never go down while panicking.
        if (desired < desired_panic) desired = desired_panic;
        if (desired > st.max_panic_pods) st.max_panic_pods = desired;
        desired = st.max_panic_pods;
    }
    r.panicking = st.panic_time.has_value();
    r.undelayed = desired;

    if (spec.reachable && st.delay_window) {
        st.delay_window->record(in.now, desired);
        desired = st.delay_window->current();
    }
    r.desired_pod_count = desired;

    // Negative: the pods cannot absorb the wanted burst, so the activator stays in the path.
    double ebc = -1.;
    if (spec.target_burst_capacity == 0) {
        ebc = 0;
    } else if (spec.target_burst_capacity > 0) {
        const double total_capacity = static_cast<double>(original) * spec.total_value;
        ebc = std::floor(total_capacity - spec.target_burst_capacity - in.panic);
    }
    r.excess_burst_capacity = detail::go_int32(ebc);
    return r;
}

/// The same decision as a pure function: the result and the new state (`st` as it was when the
/// result is invalid).
inline std::pair<scale_result, decider_state> scale(const decider_spec& spec, const decider_input& in,
                                                    decider_state st) {
    auto r = scale_in_place(spec, in, st);
    return {r, std::move(st)};
}

}  // namespace salama::scaling::kpa
