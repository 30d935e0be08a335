// salama KPA core: Knative's windowed average over time buckets (the stable and panic
// averages its metric collector gives the decider, `aggregation.TimedFloat64Buckets`).
//
// Values recorded in one bucket (1 s by default) add up; the average divides the buckets'
// total by the number of buckets since the first write (at most the window's), so a second
// without a sample counts as 0 once later data arrives. After a window without data it is 0.
// Buckets are aligned on time_point's epoch.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/kpa/detail/go_math.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace salama::scaling::kpa {

/// Knative's bucketed window average. Not thread-safe.
class bucket_average {
public:
    /// Throws config_error unless `window` > 0 and 0 < `granularity` <= `window`.
    explicit bucket_average(duration window, duration granularity = std::chrono::seconds(1))
        : window_(window), granularity_(granularity) {
        validator v{"bucket_average"};
        v.check(window > duration::zero(), "window", fmt::format("must be positive, got {}s", to_seconds(window)));
        v.check(granularity > duration::zero() && granularity <= window, "granularity",
                fmt::format("must be within (0, window], got {}s", to_seconds(granularity)));
        v.throw_if_failed();
        const double n = std::ceil(detail::go_float_nanoseconds(window) / detail::go_float_nanoseconds(granularity));
        buckets_.assign(static_cast<std::size_t>(detail::go_int64(n)), 0.0);
    }

    /// Adds `value` to the bucket of `now`. A value older than the window is dropped.
    void record(time_point now, double value) {
        const time_point bucket = truncate(now);
        const std::int64_t write = index_of(bucket);
        if (!last_write_ || *last_write_ != bucket) {
            if (last_write_ && !(bucket + window_ > *last_write_)) return;  // too old to matter
            if (!first_write_ || *first_write_ > bucket) first_write_ = bucket;
            if (!last_write_ || bucket > *last_write_) {
                if (!last_write_ || bucket - *last_write_ >= window_) {
                    // Nothing recent: start over.
                    first_write_ = bucket;
                    std::fill(buckets_.begin(), buckets_.end(), 0.0);
                    total_ = 0;
                } else {
                    // Clear the buckets skipped since the last write; they held a window ago.
                    for (std::int64_t i = index_of(*last_write_) + 1; i <= write; ++i) {
                        double& b = slot(i);
                        total_ -= b;
                        b = 0;
                    }
                }
                last_write_ = bucket;
            }
        }
        slot(write) += value;
        total_ += value;
    }

    /// The average over the window ending at `now`, rounded to 6 decimals as Knative does;
    /// 0 when nothing was recorded within the window.
    double window_average(time_point now) const {
        if (!last_write_ || !first_write_) return 0;
        now = truncate(now);
        const duration d = now - *last_write_;
        const double written = static_cast<double>((*last_write_ - *first_write_) / granularity_) + 1;
        if (d <= duration::zero())
            return round6(total_ / detail::go_min(written, static_cast<double>(buckets_.size())));
        if (d < window_) {
            const std::int64_t from = index_of(*last_write_);
            const std::int64_t to = index_of(now);
            double sum = total_;
            for (std::int64_t i = from + 1; i <= to; ++i) sum -= buckets_[wrap(i)];
            const double n = detail::go_min(written, static_cast<double>(static_cast<std::int64_t>(buckets_.size()) - (to - from)));
            return round6(sum / n);
        }
        return 0;
    }

    /// The window's length.
    duration window() const noexcept { return window_; }

private:
    static double round6(double f) { return std::round(f * 1e6) / 1e6; }

    // Floors to a multiple of the granularity (times before the epoch included).
    time_point truncate(time_point t) const {
        const duration since = t.time_since_epoch();
        return time_point{since - ((since % granularity_ + granularity_) % granularity_)};
    }
    // The bucket number of a truncated time.
    std::int64_t index_of(time_point truncated) const {
        return static_cast<std::int64_t>(truncated.time_since_epoch() / granularity_);
    }
    std::size_t wrap(std::int64_t i) const {
        const auto n = static_cast<std::int64_t>(buckets_.size());
        return static_cast<std::size_t>(((i % n) + n) % n);
    }
    double& slot(std::int64_t i) { return buckets_[wrap(i)]; }

    duration window_;
    duration granularity_;
    std::vector<double> buckets_;
    double total_ = 0;
    std::optional<time_point> first_write_;
    std::optional<time_point> last_write_;
};

}  // namespace salama::scaling::kpa
