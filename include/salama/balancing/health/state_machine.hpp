// salama: the pure part of active health checking: consecutive results -> transitions.
#pragma once

#include "salama/balancing/health/health.hpp"
#include "salama/core/validation.hpp"

#include <cstdint>
#include <optional>

namespace salama::balancing::health {

/// How many consecutive results flip a node. HAProxy's defaults: rise 2, fall 3.
struct health_thresholds {
    std::uint32_t rise = 2;  ///< consecutive successes that make an unhealthy node healthy
    std::uint32_t fall = 3;  ///< consecutive failures that make a healthy node unhealthy

    /// Throws config_error (field "<prefix>.rise" or "<prefix>.fall") unless both are >= 1.
    void validate(std::string_view prefix = "health_thresholds") const {
        validator v{prefix};
        v.check(rise >= 1, "rise", fmt::format("must be at least 1, got {}", rise));
        v.check(fall >= 1, "fall", fmt::format("must be at least 1, got {}", fall));
        v.throw_if_failed();
    }
};

/// One node's health as a function of its check results: it turns unhealthy after `fall`
/// consecutive failures and healthy after `rise` consecutive successes. A result that agrees
/// with the current status resets the opposite streak, so flapping never accumulates.
/// No I/O and no clock: a plain value type. Not thread-safe.
class health_state_machine {
public:
    /// Starts in `initial` with no streak. Throws config_error on zero thresholds.
    explicit health_state_machine(health_thresholds t = {},
                                  health_status initial = health_status::unhealthy)
        : thresholds_(t), status_(initial) {
        t.validate();
    }

    /// Folds in one check result; returns the new status if this result flipped it.
    std::optional<health_status> record(bool success) noexcept {
        if (success) {
            failures_ = 0;
            if (successes_ < UINT32_MAX) ++successes_;
            if (status_ == health_status::unhealthy && successes_ >= thresholds_.rise) {
                status_ = health_status::healthy;
                return status_;
            }
        } else {
            successes_ = 0;
            if (failures_ < UINT32_MAX) ++failures_;
            if (status_ == health_status::healthy && failures_ >= thresholds_.fall) {
                status_ = health_status::unhealthy;
                return status_;
            }
        }
        return std::nullopt;
    }

    /// Forces a status (an operator's override); clears the streaks.
    void reset(health_status s) noexcept {
        status_ = s;
        successes_ = failures_ = 0;
    }

    /// The current status.
    health_status status() const noexcept { return status_; }
    /// True while healthy.
    bool healthy() const noexcept { return status_ == health_status::healthy; }
    /// Successes in a row up to now (0 after a failure).
    std::uint32_t consecutive_successes() const noexcept { return successes_; }
    /// Failures in a row up to now (0 after a success).
    std::uint32_t consecutive_failures() const noexcept { return failures_; }
    /// The thresholds in force.
    const health_thresholds& thresholds() const noexcept { return thresholds_; }

private:
    health_thresholds thresholds_;
    health_status status_;
    std::uint32_t successes_ = 0;
    std::uint32_t failures_ = 0;
};

}  // namespace salama::balancing::health
