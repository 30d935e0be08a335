// salama: a time-decayed exponentially weighted moving average.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"

#include <cmath>
#include <optional>

namespace salama {

/// Exponentially weighted moving average whose weight depends on the time between
/// samples: `w = exp(-dt / tau)`, `avg = x * (1 - w) + avg * w`. Irregular sampling
/// is handled correctly, unlike a fixed-alpha EWMA. Not thread-safe.
class ewma {
public:
    /// `tau` is the time constant (after tau the old average weighs 1/e). Throws
    /// config_error unless tau > 0.
    explicit ewma(duration tau) : tau_s_(to_seconds(tau)) {
        validator{"ewma"}.positive("tau", tau_s_).throw_if_failed();
    }

    /// Folds in `x` observed at `now`. A non-finite `x` is ignored and returns false.
    /// A `now` earlier than the last update counts as no time elapsed.
    bool update(double x, time_point now) noexcept {
        if (!std::isfinite(x)) return false;
        if (!value_) {
            value_ = x;
        } else {
            const double dt = std::max(0.0, to_seconds(now - last_));
            const double w = std::exp(-dt / tau_s_);
            *value_ = x * (1.0 - w) + *value_ * w;
        }
        if (now > last_ || !has_value()) last_ = now;
        return true;
    }

    /// The average, or `fallback` before the first sample.
    double value_or(double fallback) const noexcept { return value_ ? *value_ : fallback; }
    /// The average, if any sample was seen.
    std::optional<double> value() const noexcept { return value_; }
    /// True once a sample was seen.
    bool has_value() const noexcept { return value_.has_value(); }
    /// When the last sample was folded in.
    time_point last_update() const noexcept { return last_; }
    /// Forgets all samples.
    void reset() noexcept { value_.reset(); }

private:
    double tau_s_;
    std::optional<double> value_;
    time_point last_{};
};

}  // namespace salama
