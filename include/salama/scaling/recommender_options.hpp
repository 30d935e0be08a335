// salama: the settings of a recommender: the resource type it scales, min/max, fallback.
#pragma once

#include "salama/core/metric.hpp"
#include "salama/core/validation.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace salama::scaling {

/// What to do when metrics fail (the source errors, or every policy lacks its metric).
enum class fallback_mode {
    hold,      ///< keep the current size
    replicas,  ///< go to fallback_options::replicas
};

/// Fallback when metrics fail. Never a silent scale to the minimum.
struct fallback_options {
    fallback_mode mode = fallback_mode::hold;
    std::int64_t replicas = 0;           ///< the size for fallback_mode::replicas
    std::size_t failure_threshold = 1;   ///< consecutive failures before the fallback acts (hold before)
};

/// Settings of a recommender (one scaled target).
struct recommender_options {
    std::string resource{resource::cpu};  ///< resource type of the target (picks the actuator)
    std::int64_t min_replicas = 1;
    std::int64_t max_replicas = 10;
    fallback_options fallback;

    /// Throws config_error naming the field (min > max, negative sizes, a fallback size
    /// outside [min, max], ...).
    void validate(std::string_view prefix = "recommender_options") const {
        validator v{prefix};
        v.non_empty("resource", resource);
        v.check(min_replicas >= 0, "min_replicas", fmt::format("must be non-negative, got {}", min_replicas));
        v.check(max_replicas >= 1, "max_replicas", fmt::format("must be at least 1, got {}", max_replicas));
        v.check(min_replicas <= max_replicas, "min_replicas",
                fmt::format("must not exceed max_replicas ({}), got {}", max_replicas, min_replicas));
        v.check(fallback.failure_threshold >= 1, "fallback.failure_threshold", "must be at least 1, got 0");
        if (fallback.mode == fallback_mode::replicas)
            v.check(fallback.replicas >= min_replicas && fallback.replicas <= max_replicas, "fallback.replicas",
                    fmt::format("must be within [{}, {}], got {}", min_replicas, max_replicas, fallback.replicas));
        v.throw_if_failed();
    }
};

}  // namespace salama::scaling
