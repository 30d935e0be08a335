// salama HPA core: scaling behavior. Stabilization windows over recent recommendations, rate
// policies (Pods / Percent per period, select Max / Min / Disabled) over recorded scale events,
// the legacy rules used when no behavior is configured, and the condition reasons that say which
// limit bounded a decision. All functions are pure: state comes in and goes out by reference or
// value, and `now` is an argument.
//
// Window rule: a record of age `a` (now - timestamp) is inside a window or period `W` iff a < W;
// it is old (outdated, reusable) iff a >= W.
#pragma once

#include "salama/core/validation.hpp"
#include "salama/scaling/hpa/detail/go_math.hpp"
#include "salama/scaling/hpa/types.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace salama::scaling::hpa {

/// How a rate policy measures change.
enum class policy_type {
    pods,     ///< at most `value` members per period
    percent,  ///< at most `value` percent of the count at the period's start
};

/// Which of several policies applies.
enum class select_policy {
    max,       ///< the policy allowing the largest change
    min,       ///< the policy allowing the smallest change
    disabled,  ///< no change in this direction
};

/// One rate policy: `value` members or percent per `period_seconds`.
struct rate_policy {
    policy_type type = policy_type::pods;
    std::int32_t value = 0;
    std::int32_t period_seconds = 0;
};

/// The rules of one direction as configured; unset fields take the defaults.
struct scaling_rules {
    std::optional<std::int32_t> stabilization_window_seconds;
    std::optional<select_policy> select;
    std::optional<std::vector<rate_policy>> policies;
    /// Ratio tolerance for this direction; unset: the controller's.
    std::optional<double> tolerance;
};

/// Behavior as configured: rules for scaling up and for scaling down.
struct behavior {
    std::optional<scaling_rules> scale_up;
    std::optional<scaling_rules> scale_down;
};

/// The rules of one direction with every default applied.
struct resolved_rules {
    std::int32_t stabilization_window_seconds = 0;
    select_policy select = select_policy::max;
    std::vector<rate_policy> policies;
    std::optional<double> tolerance;
};

/// Behavior with every default applied.
struct resolved_behavior {
    resolved_rules scale_up;
    resolved_rules scale_down;
};

/// A recommendation remembered for stabilization.
struct recommendation {
    std::int32_t replicas = 0;
    time_point timestamp{};
};

/// A recorded scale change (a positive count of members added or removed).
struct scale_event {
    std::int32_t replica_change = 0;
    time_point timestamp{};
    /// Older than the longest policy period: the slot may be reused.
    bool outdated = false;
};

/// Which limit, if any, bounded a normalized count (Kubernetes' ScalingLimited reasons).
enum class limit_reason {
    desired_within_range,  ///< DesiredWithinRange
    scale_up_limit,        ///< ScaleUpLimit: the scale-up rate bounded it
    too_many_replicas,     ///< TooManyReplicas: the maximum bounded it
    scale_down_limit,      ///< ScaleDownLimit: the scale-down rate bounded it
    too_few_replicas,      ///< TooFewReplicas: the minimum bounded it
};

/// The Kubernetes spelling of a policy type ("Pods", "Percent").
constexpr std::string_view to_string(policy_type t) noexcept {
    return t == policy_type::pods ? "Pods" : "Percent";
}

/// The Kubernetes spelling of a select policy ("Max", "Min", "Disabled").
constexpr std::string_view to_string(select_policy s) noexcept {
    switch (s) {
    case select_policy::max: return "Max";
    case select_policy::min: return "Min";
    case select_policy::disabled: return "Disabled";
    }
    return "?";
}

/// The Kubernetes spelling of a limit reason ("DesiredWithinRange", ...).
constexpr std::string_view to_string(limit_reason r) noexcept {
    switch (r) {
    case limit_reason::desired_within_range: return "DesiredWithinRange";
    case limit_reason::scale_up_limit: return "ScaleUpLimit";
    case limit_reason::too_many_replicas: return "TooManyReplicas";
    case limit_reason::scale_down_limit: return "ScaleDownLimit";
    case limit_reason::too_few_replicas: return "TooFewReplicas";
    }
    return "?";
}

/// The human message Kubernetes gives with a limit reason.
constexpr std::string_view message_of(limit_reason r) noexcept {
    switch (r) {
    case limit_reason::desired_within_range: return "the desired count is within the acceptable range";
    case limit_reason::scale_up_limit:
        return "the desired replica count is increasing faster than the maximum scale rate";
    case limit_reason::too_many_replicas:
        return "the desired replica count is more than the maximum replica count";
    case limit_reason::scale_down_limit:
        return "the desired replica count is decreasing faster than the maximum scale rate";
    case limit_reason::too_few_replicas:
        return "the desired replica count is less than the minimum replica count";
    }
    return "?";
}

/// Parses "Pods" or "Percent".
inline std::optional<policy_type> parse_policy_type(std::string_view s) noexcept {
    if (s == "Pods") return policy_type::pods;
    if (s == "Percent") return policy_type::percent;
    return std::nullopt;
}

/// Parses "Max", "Min" or "Disabled".
inline std::optional<select_policy> parse_select_policy(std::string_view s) noexcept {
    if (s == "Max") return select_policy::max;
    if (s == "Min") return select_policy::min;
    if (s == "Disabled") return select_policy::disabled;
    return std::nullopt;
}

/// Checks one direction's rules with the API's limits (window 0..3600 s, value > 0, period
/// 1..1800 s, at least one policy, known enum values, tolerance finite and >= 0); the first
/// failure goes into `v` under `field`.
inline void validate_rules(validator& v, std::string_view field, const scaling_rules& r) {
    if (r.stabilization_window_seconds)
        v.check(*r.stabilization_window_seconds >= 0 && *r.stabilization_window_seconds <= 3600,
                fmt::format("{}.stabilization_window_seconds", field),
                fmt::format("must be within [0, 3600], got {}", *r.stabilization_window_seconds));
    if (r.select) {
        const auto s = static_cast<int>(*r.select);
        v.check(s >= 0 && s <= 2, fmt::format("{}.select", field),
                fmt::format("must be Max, Min or Disabled, got value {}", s));
    }
    if (r.policies) {
        v.check(!r.policies->empty(), fmt::format("{}.policies", field),
                "must hold at least one policy");
        for (std::size_t i = 0; i < r.policies->size(); ++i) {
            const auto& p = (*r.policies)[i];
            const auto t = static_cast<int>(p.type);
            v.check(t >= 0 && t <= 1, fmt::format("{}.policies[{}].type", field, i),
                    fmt::format("must be Pods or Percent, got value {}", t));
            v.check(p.value > 0, fmt::format("{}.policies[{}].value", field, i),
                    fmt::format("must be positive, got {}", p.value));
            v.check(p.period_seconds > 0 && p.period_seconds <= 1800,
                    fmt::format("{}.policies[{}].period_seconds", field, i),
                    fmt::format("must be within [1, 1800], got {}", p.period_seconds));
        }
    }
    // Kubernetes reads a tolerance as a fraction of the target: 1.5 would make every ratio
    // "within tolerance" downwards and a negative bound upwards.
    if (r.tolerance) v.in_range(fmt::format("{}.tolerance", field), *r.tolerance, 0.0, 1.0);
}

/// The API default for scaling up: window 0 s, Max of Pods 4 / 15 s and Percent 100 / 15 s.
inline resolved_rules default_scale_up_rules() {
    return {0, select_policy::max, {{policy_type::pods, 4, 15}, {policy_type::percent, 100, 15}}, {}};
}

/// The API default for scaling down: the controller's downscale window, Max of Percent 100 / 15 s.
inline resolved_rules default_scale_down_rules(std::int32_t downscale_window_seconds = 300) {
    return {downscale_window_seconds, select_policy::max, {{policy_type::percent, 100, 15}}, {}};
}

namespace detail {
inline resolved_rules overlay(const std::optional<scaling_rules>& from, resolved_rules to) {
    if (!from) return to;
    if (from->stabilization_window_seconds) to.stabilization_window_seconds = *from->stabilization_window_seconds;
    if (from->select) to.select = *from->select;
    if (from->policies) to.policies = *from->policies;
    if (from->tolerance) to.tolerance = *from->tolerance;
    return to;
}
}  // namespace detail

/// Applies the defaults to configured rules (unset fields, or an unset direction, take them).
inline resolved_behavior resolve(const behavior& b, std::int32_t downscale_window_seconds = 300) {
    return {detail::overlay(b.scale_up, default_scale_up_rules()),
            detail::overlay(b.scale_down, default_scale_down_rules(downscale_window_seconds))};
}

/// Scale-up rules with defaults applied (unset: the defaults).
inline resolved_rules resolve_scale_up(const std::optional<scaling_rules>& r) {
    return detail::overlay(r, default_scale_up_rules());
}

/// Scale-down rules with defaults applied (unset window: `downscale_window_seconds`).
inline resolved_rules resolve_scale_down(const std::optional<scaling_rules>& r,
                                         std::int32_t downscale_window_seconds = 300) {
    return detail::overlay(r, default_scale_down_rules(downscale_window_seconds));
}

namespace detail {
/// True when a record made at `t` is inside a window of `w` ending at `now` (age < w).
inline bool inside(time_point t, duration w, time_point now) noexcept {
    if (t == zero_time) return false;
    return now - t < w;
}
}  // namespace detail

/// Members added (for scale-up events) or removed (scale-down) within the last
/// `period_seconds`.
inline std::int32_t replicas_change_in_period(std::int32_t period_seconds,
                                              std::span<const scale_event> events, time_point now) {
    std::int64_t sum = 0;
    for (const auto& e : events)
        if (detail::inside(e.timestamp, std::chrono::seconds(period_seconds), now)) sum += e.replica_change;
    return detail::saturate_int32(static_cast<double>(sum));
}

/// The count a rate policy's period started from: `current` less what was added and plus
/// what was removed within the policy's period.
inline std::int64_t period_start(std::int32_t current, const rate_policy& p,
                                 std::span<const scale_event> up_events,
                                 std::span<const scale_event> down_events, time_point now) {
    return std::int64_t{current} - replicas_change_in_period(p.period_seconds, up_events, now) +
           replicas_change_in_period(p.period_seconds, down_events, now);
}

/// The largest count the rules allow when scaling up from `current`, given the recent events.
inline std::int32_t scale_up_limit(std::int32_t current, std::span<const scale_event> up_events,
                                   std::span<const scale_event> down_events,
                                   const resolved_rules& rules, time_point now) {
    if (rules.select == select_policy::disabled) return current;
    const bool pick_min = rules.select == select_policy::min;
    std::int32_t result = pick_min ? std::numeric_limits<std::int32_t>::max()
                                   : std::numeric_limits<std::int32_t>::min();
    for (const auto& p : rules.policies) {
        const std::int64_t start = period_start(current, p, up_events, down_events, now);
        std::int32_t proposed = 0;
        if (p.type == policy_type::pods) {
            proposed = detail::saturate_int32(static_cast<double>(start + p.value));
        } else {
            // Rounded up so that a small percentage still adds a member.
            proposed = detail::ceil_int32(static_cast<double>(start) * (1.0 + p.value / 100.0));
        }
        result = pick_min ? std::min(result, proposed) : std::max(result, proposed);
    }
    return result;
}

/// The smallest count the rules allow when scaling down from `current`, given the recent events.
inline std::int32_t scale_down_limit(std::int32_t current, std::span<const scale_event> up_events,
                                     std::span<const scale_event> down_events,
                                     const resolved_rules& rules, time_point now) {
    if (rules.select == select_policy::disabled) return current;
    const bool pick_min = rules.select == select_policy::min;
    // For scaling down the smallest change is the largest count.
    std::int32_t result = pick_min ? std::numeric_limits<std::int32_t>::min()
                                   : std::numeric_limits<std::int32_t>::max();
    for (const auto& p : rules.policies) {
        const std::int64_t start = period_start(current, p, up_events, down_events, now);
        std::int32_t proposed = 0;
        if (p.type == policy_type::pods) {
            proposed = detail::saturate_int32(static_cast<double>(start - p.value));
        } else {
            proposed = detail::saturate_int32(static_cast<double>(start) * (1.0 - p.value / 100.0));
        }
        result = pick_min ? std::max(result, proposed) : std::min(result, proposed);
    }
    return result;
}

/// The longest policy period of the rules, in seconds.
inline std::int32_t longest_policy_period(const resolved_rules& rules) noexcept {
    std::int32_t longest = 0;
    for (const auto& p : rules.policies) longest = std::max(longest, p.period_seconds);
    return longest;
}

/// Marks events older than `period_seconds` as outdated (their slots may be reused).
inline void mark_outdated(std::vector<scale_event>& events, std::int32_t period_seconds, time_point now) {
    for (auto& e : events)
        if (!detail::inside(e.timestamp, std::chrono::seconds(period_seconds), now)) e.outdated = true;
}

/// Records the change from `previous` to `next` in the matching list: outdated events are marked
/// (older than the direction's longest period) and the last outdated slot is reused, else the
/// event is appended. Without behavior (`rules_behavior` null) nothing is recorded, since the
/// legacy rules never read events. Equal counts record a zero scale-down event, as upstream.
inline void store_scale_event(std::vector<scale_event>& up_events, std::vector<scale_event>& down_events,
                              const resolved_behavior* rules_behavior, std::int32_t previous,
                              std::int32_t next, time_point now) {
    if (!rules_behavior) return;
    const bool up = next > previous;
    auto& events = up ? up_events : down_events;
    const auto& rules = up ? rules_behavior->scale_up : rules_behavior->scale_down;
    mark_outdated(events, longest_policy_period(rules), now);
    const scale_event e{up ? next - previous : previous - next, now, false};
    auto last_old = std::find_if(events.rbegin(), events.rend(),
                                 [](const scale_event& x) { return x.outdated; });
    if (last_old != events.rend())
        *last_old = e;
    else
        events.push_back(e);
}

/// A count after stabilization, and which stabilization moved it.
struct stabilized {
    std::int32_t replicas = 0;
    /// "ScaleUpStabilized", "ScaleDownStabilized", or "ReadyForNewScale" when unchanged.
    std::string reason;
    std::string message;
};

/// Legacy stabilization (no behavior): the largest of `desired` and the recommendations younger
/// than `window`. The last old record's slot is reused for `desired`, else it is appended.
inline stabilized stabilize_legacy(std::vector<recommendation>& recs, std::int32_t desired,
                                   duration window, time_point now) {
    std::int32_t best = desired;
    std::optional<std::size_t> old;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        if (!detail::inside(recs[i].timestamp, window, now))
            old = i;
        else
            best = std::max(best, recs[i].replicas);
    }
    if (old)
        recs[*old] = {desired, now};
    else
        recs.push_back({desired, now});
    if (best != desired)
        return {best, "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent "
                "recommendation"};
    return {best, "ReadyForNewScale", "recommended size matches current size"};
}

/// Stabilization with behavior: `up` = min(desired, recommendations inside the scale-up window),
/// `down` = max(desired, recommendations inside the scale-down window); the result is `current`
/// clamped to [up, down]. A record old for both windows has its slot reused for `desired`, else
/// `desired` is appended.
inline stabilized stabilize_with_behavior(std::vector<recommendation>& recs, std::int32_t current,
                                          std::int32_t desired, std::int32_t up_window_seconds,
                                          std::int32_t down_window_seconds, time_point now) {
    const auto up_w = std::chrono::seconds(up_window_seconds);
    const auto down_w = std::chrono::seconds(down_window_seconds);
    std::int32_t up = desired, down = desired;
    std::optional<std::size_t> old;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const bool in_up = detail::inside(recs[i].timestamp, up_w, now);
        const bool in_down = detail::inside(recs[i].timestamp, down_w, now);
        if (in_up) up = std::min(up, recs[i].replicas);
        if (in_down) down = std::max(down, recs[i].replicas);
        if (!in_up && !in_down) old = i;
    }
    std::int32_t r = current;
    if (r < up) r = up;
    if (r > down) r = down;
    if (old)
        recs[*old] = {desired, now};
    else
        recs.push_back({desired, now});
    if (r == desired) return {r, "ReadyForNewScale", "recommended size matches current size"};
    if (desired >= current)
        return {r, "ScaleUpStabilized",
                "recent recommendations were lower than current one, applying the lowest recent "
                "recommendation"};
    return {r, "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent "
            "recommendation"};
}

/// A count after the rate and range limits, and which limit bounded it.
struct limited {
    std::int32_t replicas = 0;
    limit_reason reason = limit_reason::desired_within_range;
    /// The rate limit computed for the direction of the change, if one was.
    std::optional<std::int32_t> rate_limit;
    /// The policy whose limit was selected, when a rate policy bounded the count.
    std::optional<rate_policy> policy;
};

namespace detail {
/// The first policy of `rules` whose limit equals `limit` (the one the selection picked).
inline std::optional<rate_policy> policy_giving(std::int32_t limit, bool up, std::int32_t current,
                                                   std::span<const scale_event> up_events,
                                                   std::span<const scale_event> down_events,
                                                   const resolved_rules& rules, time_point now) {
    if (rules.select == select_policy::disabled) return std::nullopt;
    for (const auto& p : rules.policies) {
        resolved_rules one{rules.stabilization_window_seconds, select_policy::max, {p}, rules.tolerance};
        const auto l = up ? scale_up_limit(current, up_events, down_events, one, now)
                          : scale_down_limit(current, up_events, down_events, one, now);
        if (l == limit) return p;
    }
    return std::nullopt;
}
}  // namespace detail

/// Rate and range limits with behavior: a scale-up is bounded by min(max, scale-up limit), a
/// scale-down by max(min, scale-down limit); a rate limit never moves past `current` in the wrong
/// direction. The reason names the bound that applied (or would have applied).
inline limited limit_with_behavior(std::int32_t current, std::int32_t desired, std::int32_t min_replicas,
                                   std::int32_t max_replicas, const resolved_behavior& b,
                                   std::span<const scale_event> up_events,
                                   std::span<const scale_event> down_events, time_point now) {
    if (desired > current) {
        auto lim = std::max(scale_up_limit(current, up_events, down_events, b.scale_up, now), current);
        std::int32_t allowed = max_replicas;
        limit_reason why = limit_reason::too_many_replicas;
        if (allowed > lim) {
            allowed = lim;
            why = limit_reason::scale_up_limit;
        }
        if (desired > allowed) {
            limited out{allowed, why, lim, std::nullopt};
            if (why == limit_reason::scale_up_limit)
                out.policy = detail::policy_giving(lim, true, current, up_events, down_events, b.scale_up, now);
            return out;
        }
        return {desired, limit_reason::desired_within_range, lim, std::nullopt};
    }
    if (desired < current) {
        auto lim = std::min(scale_down_limit(current, up_events, down_events, b.scale_down, now), current);
        std::int32_t allowed = min_replicas;
        limit_reason why = limit_reason::too_few_replicas;
        if (allowed < lim) {
            allowed = lim;
            why = limit_reason::scale_down_limit;
        }
        if (desired < allowed) {
            limited out{allowed, why, lim, std::nullopt};
            if (why == limit_reason::scale_down_limit)
                out.policy = detail::policy_giving(lim, false, current, up_events, down_events, b.scale_down, now);
            return out;
        }
        return {desired, limit_reason::desired_within_range, lim, std::nullopt};
    }
    return {desired, limit_reason::desired_within_range, std::nullopt, std::nullopt};
}

/// The legacy scale-up cap: int32(max(factor * current, minimum)).
inline std::int32_t legacy_scale_up_limit(std::int32_t current, double factor, double minimum) noexcept {
    return detail::saturate_int32(std::max(factor * static_cast<double>(current), minimum));
}

/// Legacy limits (no behavior): at least `min_replicas`, at most min(max, scale-up cap).
inline limited limit_legacy(std::int32_t current, std::int32_t desired, std::int32_t min_replicas,
                            std::int32_t max_replicas, double factor, double minimum) {
    const auto cap = legacy_scale_up_limit(current, factor, minimum);
    std::int32_t allowed = max_replicas;
    limit_reason why = limit_reason::too_many_replicas;
    if (max_replicas > cap) {
        allowed = cap;
        why = limit_reason::scale_up_limit;
    }
    if (desired < min_replicas) return {min_replicas, limit_reason::too_few_replicas, cap, std::nullopt};
    if (desired > allowed) return {allowed, why, cap, std::nullopt};
    return {desired, limit_reason::desired_within_range, cap, std::nullopt};
}

}  // namespace salama::scaling::hpa
