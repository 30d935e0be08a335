// salama: step scaling with cooldowns, as AWS Application Auto Scaling defines it.
//
// A step policy watches one metric against a threshold. When it is breached, the step
// whose interval (an offset from the threshold) holds the breach gives the adjustment:
// a change in capacity, a percent change, or an exact capacity. Cooldowns are shared by
// every policy of one step_scaling group (one scaled target):
//  - during a scale-out cooldown the capacity already added counts toward the next step;
//  - scale-in is blocked during any cooldown;
//  - a scale-out cancels a scale-in cooldown.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"
#include "salama/scaling/hpa/detail/go_math.hpp"
#include "salama/scaling/metric_query.hpp"
#include "salama/scaling/scaling_rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace salama::scaling {

/// How a step's adjustment is read.
enum class adjustment_type {
    change_in_capacity,          ///< add the adjustment (negative removes)
    percent_change_in_capacity,  ///< add adjustment % of the capacity (rounded toward zero, at least 1)
    exact_capacity,              ///< set the capacity to the adjustment
};

/// Which side of the threshold is a breach.
enum class breach {
    above,  ///< metric >= threshold; steps take lower bound inclusive, upper exclusive
    below,  ///< metric <= threshold; steps take lower bound exclusive, upper inclusive
};

/// One step: an interval of `metric - threshold` and its adjustment. An empty bound is
/// unbounded (it may only be the outer bound).
struct step_adjustment {
    std::optional<double> lower{};  ///< offset from the threshold where the step starts
    std::optional<double> upper{};  ///< offset where it ends
    /// Members, percent, or exact capacity (by adjustment_type). Members and capacities are
    /// whole numbers of magnitude at most max_members (2147483647); percentages at most
    /// max_step_percent (1e6) in magnitude.
    double adjustment = 0;
};

/// The largest percent change one step may ask for (10,000 times the capacity).
inline constexpr double max_step_percent = 1e6;

/// A step scaling policy.
struct step_policy_options {
    std::string name{};                                  ///< shown in explanations; must be set
    metric_query metric{};                               ///< what is compared with the threshold
    double threshold = std::numeric_limits<double>::quiet_NaN();
    breach when = breach::above;
    adjustment_type type = adjustment_type::change_in_capacity;
    std::vector<step_adjustment> steps{};                ///< ordered, contiguous, covering the breach side
    /// Percent steps only: the least change, within [0, max_members].
    std::int64_t min_adjustment_magnitude = 0;
    duration cooldown = std::chrono::seconds(300);  ///< within [0, max_duration_seconds]

    /// Throws config_error naming the field: NaN threshold, negative cooldown, steps that
    /// overlap, leave a gap, or do not start at the threshold, a non-integral change, ...
    void validate(std::string_view where) const {
        validator v{where};
        v.non_empty("name", name);
        v.check(is_valid_metric_name(metric.name), "metric.name",
                metric.name.empty() ? "must not be empty"
                                    : fmt::format("must match [a-zA-Z_:][a-zA-Z0-9_:]*, got '{}'", metric.name));
        v.finite("threshold", threshold);
        v.non_negative("cooldown", to_seconds(cooldown));
        v.duration_range("cooldown", cooldown);
        v.check(min_adjustment_magnitude >= 0 && min_adjustment_magnitude <= max_members, "min_adjustment_magnitude",
                fmt::format("must be within [0, {}], got {}", max_members, min_adjustment_magnitude));
        v.check(min_adjustment_magnitude == 0 || type == adjustment_type::percent_change_in_capacity,
                "min_adjustment_magnitude", "applies only to percent_change_in_capacity steps");
        v.check(!steps.empty(), "steps", "must not be empty");
        v.throw_if_failed();

        const bool above = when == breach::above;
        for (std::size_t i = 0; i < steps.size(); ++i) {
            const auto& s = steps[i];
            const std::string at = fmt::format("steps[{}]", i);
            v.finite(at + ".adjustment", s.adjustment);
            if (type != adjustment_type::percent_change_in_capacity) {
                v.check(std::isfinite(s.adjustment) && s.adjustment == std::trunc(s.adjustment),
                        at + ".adjustment", fmt::format("must be a whole number of members, got {}", s.adjustment));
                // Checked before any cast to an integer: 1e19 would not fit an int64.
                v.check(!(std::abs(s.adjustment) > static_cast<double>(max_members)), at + ".adjustment",
                        fmt::format("must be within [-{0}, {0}] members, got {1}", max_members, s.adjustment));
            } else {
                v.check(!(std::abs(s.adjustment) > max_step_percent), at + ".adjustment",
                        fmt::format("must be within [-{0:g}, {0:g}] percent, got {1}", max_step_percent,
                                    s.adjustment));
            }
            if (type == adjustment_type::exact_capacity)
                v.check(!(s.adjustment < 0), at + ".adjustment",
                        fmt::format("an exact capacity must be non-negative, got {}", s.adjustment));
            if (s.lower) v.finite(at + ".lower", *s.lower);
            if (s.upper) v.finite(at + ".upper", *s.upper);
            if (s.lower && s.upper)
                v.check(*s.lower < *s.upper, at + ".upper",
                        fmt::format("must be greater than lower ({}), got {}", *s.lower, *s.upper));
            const bool first = i == 0;
            const bool last = i + 1 == steps.size();
            if (above) {
                // Above the threshold the steps run from 0 up to +inf.
                if (first) v.check(!s.lower || *s.lower == 0, at + ".lower",
                                   fmt::format("the first step must start at the threshold (0 or unset), got {}",
                                               s.lower.value_or(0)));
                else v.check(s.lower.has_value(), at + ".lower", "only the first step may be unbounded below");
                if (last) v.check(!s.upper, at + ".upper", "the last step must be unbounded above");
                else v.check(s.upper.has_value(), at + ".upper", "only the last step may be unbounded above");
            } else {
                // Below the threshold the steps run from -inf up to 0.
                if (first) v.check(!s.lower, at + ".lower", "the first step must be unbounded below");
                else v.check(s.lower.has_value(), at + ".lower", "only the first step may be unbounded below");
                if (last) v.check(!s.upper || *s.upper == 0, at + ".upper",
                                  fmt::format("the last step must end at the threshold (0 or unset), got {}",
                                              s.upper.value_or(0)));
                else v.check(s.upper.has_value(), at + ".upper", "only the last step may be unbounded above");
            }
            if (!first && s.lower && steps[i - 1].upper) {
                const double prev = *steps[i - 1].upper;
                v.check(*s.lower >= prev, at + ".lower",
                        fmt::format("overlaps steps[{}], which ends at {}", i - 1, prev));
                v.check(*s.lower <= prev, at + ".lower",
                        fmt::format("leaves a gap after steps[{}], which ends at {}", i - 1, prev));
            }
        }
        v.throw_if_failed();
    }

    /// The step holding `offset` (= metric - threshold) on the breach side, if any.
    const step_adjustment* find_step(double offset) const noexcept {
        const bool above = when == breach::above;
        if (above ? offset < 0 : offset > 0) return nullptr;
        for (const auto& s : steps) {
            const double lo = s.lower.value_or(above ? 0.0 : -std::numeric_limits<double>::infinity());
            const double hi = s.upper.value_or(above ? std::numeric_limits<double>::infinity() : 0.0);
            const bool inside = above ? (offset >= lo && offset < hi) : (offset > lo && offset <= hi);
            if (inside) return &s;
        }
        return nullptr;
    }

    /// The capacity a step asks for from `base` (never negative). The step must come from
    /// validated options; `base` is what the actuator reports, so the sums saturate instead
    /// of overflowing.
    std::int64_t apply_step(const step_adjustment& s, std::int64_t base) const noexcept {
        base = std::max<std::int64_t>(0, base);
        std::int64_t target = base;
        switch (type) {
        case adjustment_type::change_in_capacity:
            target = add_saturating(base, clamp_to_members(s.adjustment));
            break;
        case adjustment_type::exact_capacity:
            target = clamp_to_members(s.adjustment);
            break;
        case adjustment_type::percent_change_in_capacity: {
            const double raw = static_cast<double>(base) * s.adjustment / 100.0;
            // Beyond +-1 the change is rounded toward zero; within, it is at least one member.
            constexpr double int64_edge = 9.2233720368547758e18;
            std::int64_t delta = !(std::abs(raw) < int64_edge) ? (raw > 0 ? std::numeric_limits<std::int64_t>::max()
                                                                           : -std::numeric_limits<std::int64_t>::max())
                                 : std::abs(raw) >= 1 ? static_cast<std::int64_t>(std::trunc(raw))
                                 : raw > 0            ? 1
                                 : raw < 0            ? -1
                                                      : 0;
            const std::int64_t sign = s.adjustment > 0 ? 1 : s.adjustment < 0 ? -1 : 0;
            if (sign != 0 && delta > -min_adjustment_magnitude && delta < min_adjustment_magnitude)
                delta = sign * min_adjustment_magnitude;
            target = add_saturating(base, delta);
            break;
        }
        }
        return std::max<std::int64_t>(0, target);
    }

private:
    // A validated member count is within +-max_members; the clamp keeps an unvalidated one
    // from an undefined cast.
    static std::int64_t clamp_to_members(double v) noexcept {
        if (std::isnan(v)) return 0;
        return static_cast<std::int64_t>(std::clamp(v, -static_cast<double>(max_members), static_cast<double>(max_members)));
    }
    static std::int64_t add_saturating(std::int64_t a, std::int64_t b) noexcept {
        return hpa::detail::add_saturating(a, b);
    }

public:
};

/// Makes the one-step policy a simple scaling_rule stands for.
inline step_policy_options to_step_policy(const scaling_rule& r) {
    step_policy_options p;
    p.name = r.display_name();
    p.metric.name = r.metric;
    p.threshold = r.threshold;
    p.cooldown = r.cooldown;
    p.type = adjustment_type::change_in_capacity;
    if (r.action == scale_action::scale_up) {
        p.when = breach::above;
        p.steps = {{0.0, std::nullopt, static_cast<double>(r.scale_size)}};
    } else {
        p.when = breach::below;
        p.steps = {{std::nullopt, 0.0, -static_cast<double>(r.scale_size)}};
    }
    return p;
}

/// A group of step policies acting on one target, with shared cooldowns (see the top of
/// this header). The simple threshold rules are its one-step case.
class step_scaling {
public:
    /// Cooldown bookkeeping.
    struct state_type {
        std::optional<time_point> out_until;  ///< end of the scale-out cooldown
        std::int64_t out_base = 0;            ///< capacity before the scale-out that began it
        std::optional<time_point> in_until;   ///< end of the scale-in cooldown
        /// The cooldowns before the last recommendation changed them, and its direction:
        /// restored when the final decision did not move that way (another policy won,
        /// or a limit held it).
        struct undo_record {
            direction dir = direction::none;
            std::optional<time_point> out_until;
            std::int64_t out_base = 0;
            std::optional<time_point> in_until;
        };
        std::optional<undo_record> undo;
    };

    /// A group of step policies. Throws config_error naming the first bad field.
    explicit step_scaling(std::vector<step_policy_options> policies, std::string name = "step_scaling")
        : name_(std::move(name)), policies_(std::move(policies)) {
        validator{"step_scaling"}.check(!policies_.empty(), "policies", "must not be empty").throw_if_failed();
        for (std::size_t i = 0; i < policies_.size(); ++i)
            policies_[i].validate(fmt::format("step_scaling.policies[{}]", i));
    }

    /// A group made of simple threshold rules. Throws config_error naming the first bad
    /// field ("scaling_rules[i].<field>").
    explicit step_scaling(const std::vector<scaling_rule>& rules, std::string name = "rules")
        : name_(std::move(name)) {
        validator{"scaling_rules"}.check(!rules.empty(), "size", "must not be empty").throw_if_failed();
        validate_rules(rules);
        for (const auto& r : rules) policies_.push_back(to_step_policy(r));
    }

    /// The group's name.
    const std::string& name() const noexcept { return name_; }
    /// The policies, in evaluation order.
    const std::vector<step_policy_options>& policies() const noexcept { return policies_; }
    /// No cooldown running.
    state_type initial_state() const { return {}; }

    /// Evaluates every policy; the largest scale-out wins, else the largest (mildest)
    /// scale-in, subject to the cooldowns.
    recommendation recommend(const scaling_input& in, state_type& st) const {
        st.undo.reset();
        const state_type::undo_record before{direction::none, st.out_until, st.out_base, st.in_until};
        const bool out_cooling = st.out_until && in.now < *st.out_until;
        const bool in_cooling = st.in_until && in.now < *st.in_until;
        const std::int64_t out_base = out_cooling ? st.out_base : in.current;

        recommendation rec;
        std::vector<std::string> notes;
        std::size_t missing = 0;
        struct pick {
            std::size_t policy;
            std::int64_t desired;
            double value;
            const step_adjustment* step;
        };
        std::optional<pick> best_out, best_in;
        // One pass over the snapshot reads every distinct metric the policies need.
        std::vector<const metric_query*> queries;
        std::vector<std::size_t> query_of(policies_.size());
        for (std::size_t i = 0; i < policies_.size(); ++i) {
            std::size_t j = 0;
            while (j < queries.size() && !(*queries[j] == policies_[i].metric)) ++j;
            if (j == queries.size()) queries.push_back(&policies_[i].metric);
            query_of[i] = j;
        }
        const auto readings = read_metrics(in.metrics, queries);
        for (const auto& r : readings)
            for (const auto& s : r.skipped) notes.push_back(s);
        for (std::size_t i = 0; i < policies_.size(); ++i) {
            const auto& p = policies_[i];
            const metric_reading* reading = &readings[query_of[i]];
            if (!reading->value) {
                ++missing;
                notes.push_back(fmt::format("{}: {}", p.name, reading->missing_reason));
                continue;
            }
            const double v = *reading->value;
            const step_adjustment* step = p.find_step(v - p.threshold);
            if (!step) continue;
            const std::int64_t now_target = p.apply_step(*step, in.current);
            if (now_target == in.current) continue;
            const bool up = now_target > in.current;
            rec.fired.push_back(rule_decision{p.name, p.metric.name, v,
                                              up ? scale_action::scale_up : scale_action::scale_down,
                                              up ? now_target - in.current : in.current - now_target});
            if (up) {
                const std::int64_t want = p.apply_step(*step, out_base);
                if (!best_out || want > best_out->desired) best_out = pick{i, want, v, step};
            } else if (!best_in || now_target > best_in->desired) {
                best_in = pick{i, now_target, v, step};
            }
        }

        auto describe = [&](const pick& pk) {
            const auto& p = policies_[pk.policy];
            rec.why.policy = p.name;
            rec.why.metric = p.metric.name;
            rec.why.value = pk.value;
            return fmt::format("{}={:g} {} {:g}", p.metric.name, pk.value,
                               p.when == breach::above ? ">=" : "<=", p.threshold);
        };

        if (best_out) {
            const auto& p = policies_[best_out->policy];
            const std::string what = describe(*best_out);
            if (best_in) notes.push_back("a scale-out takes precedence over the scale-in rules that fired");
            if (best_out->desired <= in.current) {
                rec.desired = in.current;
                rec.why.limited_by = limit::cooldown;
                rec.why.reason = fmt::format(
                    "{}: the {} members added since the scale-out cooldown began already cover this step",
                    what, in.current - out_base);
            } else {
                rec.desired = best_out->desired;
                rec.why.reason = out_cooling
                    ? fmt::format("{}: scale out to {} (counting the {} members added during the cooldown)",
                                  what, best_out->desired, in.current - out_base)
                    : fmt::format("{}: scale out {} -> {}", what, in.current, best_out->desired);
                if (!out_cooling) {
                    st.out_base = in.current;
                    st.out_until = in.now + p.cooldown;
                }
                st.in_until.reset();  // a scale-out cancels a scale-in cooldown
                st.undo = before;
                st.undo->dir = direction::up;
            }
        } else if (best_in) {
            const auto& p = policies_[best_in->policy];
            const std::string what = describe(*best_in);
            if (in_cooling || out_cooling) {
                const time_point until = std::max(in_cooling ? *st.in_until : time_point::min(),
                                                  out_cooling ? *st.out_until : time_point::min());
                rec.desired = in.current;
                rec.why.limited_by = limit::cooldown;
                rec.why.reason = fmt::format("{}: scale-in blocked by the {} cooldown for another {:g}s", what,
                                             in_cooling ? "scale-in" : "scale-out", to_seconds(until - in.now));
            } else {
                rec.desired = best_in->desired;
                rec.why.reason = fmt::format("{}: scale in {} -> {}", what, in.current, best_in->desired);
                st.in_until = in.now + p.cooldown;
                st.undo = before;
                st.undo->dir = direction::down;
            }
        } else if (missing == policies_.size()) {
            rec.metric_missing = true;
            rec.why.policy = name_;
            rec.why.metric = policies_.front().metric.name;
            rec.why.reason = fmt::format("no metric of any rule could be read ({})", notes.front());
        } else {
            rec.why.policy = name_;
            rec.why.reason = "no rule fired";
        }
        rec.why.notes = std::move(notes);
        return rec;
    }

    /// Keeps the cooldowns the last recommendation started only if the final decision
    /// moved the target its way; a cooldown starts with a scaling activity.
    void on_decision(const decision& d, state_type& st) const {
        if (st.undo && d.dir() != st.undo->dir) {
            st.out_until = st.undo->out_until;
            st.out_base = st.undo->out_base;
            st.in_until = st.undo->in_until;
        }
        st.undo.reset();
    }

private:
    std::string name_;
    std::vector<step_policy_options> policies_;
};

static_assert(scaling_policy<step_scaling>);

}  // namespace salama::scaling
