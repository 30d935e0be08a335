// salama: the simple threshold rule: "when <metric> of <resource> crosses <threshold>,
// add or remove <scale_size> members, then wait <cooldown>".
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/metric.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace salama::scaling {

/// A threshold rule. A scale_up rule fires when the metric is at or above the threshold;
/// a scale_down rule fires when it is at or below. It is the one-step case of a step scaling
/// policy (see step_scaling.hpp) and shares its cooldown semantics. The resource type it
/// scales is its recommender's (recommender_options::resource), which picks the actuator.
struct scaling_rule {
    std::string name{};                         ///< defaults to "<metric>_<action>"
    std::string metric{};                       ///< the metric read (averaged over members)
    double threshold = std::numeric_limits<double>::quiet_NaN();  ///< must be set
    scale_action action = scale_action::scale_up;
    duration cooldown = std::chrono::seconds(300);  ///< wait after this rule acted
    std::int64_t scale_size = 1;              ///< members added or removed; within [1, max_members]

    /// The name, or "<metric>_<action>" when none was given.
    std::string display_name() const {
        return name.empty() ? fmt::format("{}_{}", metric, to_string(action)) : name;
    }

    /// Throws config_error naming the field (e.g. "invalid scaling_rule.cooldown: must be
    /// non-negative, got -1").
    void validate(std::string_view where = "scaling_rule") const {
        validator v{where};
        v.check(is_valid_metric_name(metric), "metric",
                metric.empty() ? "must not be empty"
                               : fmt::format("must match [a-zA-Z_:][a-zA-Z0-9_:]*, got '{}'", metric));
        v.finite("threshold", threshold);
        v.non_negative("cooldown", to_seconds(cooldown));
        v.duration_range("cooldown", cooldown);
        v.check(scale_size > 0, "scale_size", fmt::format("must be positive, got {}", scale_size));
        v.check(scale_size <= max_members, "scale_size",
                fmt::format("must be at most {}, got {}", max_members, scale_size));
        v.throw_if_failed();
    }
};

/// Throws config_error for the first invalid rule, naming it as "scaling_rules[i].<field>".
inline void validate_rules(const std::vector<scaling_rule>& rules) {
    for (std::size_t i = 0; i < rules.size(); ++i) rules[i].validate(fmt::format("scaling_rules[{}]", i));
}

}  // namespace salama::scaling
