// salama KPA core: the maximum over a sliding window of buckets, behind Knative's scale-down
// delay (`pkg/autoscaler/aggregation/max`). Scale-ups pass at once; a scale-down waits until
// every larger value has left the window.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/kpa/detail/go_math.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace salama::scaling::kpa {

/// The maximum of the values recorded at the last `size` bucket indexes, kept as a descending
/// run of candidates in a ring (the ascending-minima algorithm, mirrored). Indexes should not
/// decrease; when they do, the result is what Knative's window gives for the same calls.
class max_window {
public:
    /// A window over `size` buckets; throws config_error unless `size` >= 1.
    explicit max_window(std::size_t size) {
        validator{"max_window"}.check(size >= 1, "size", "must be at least 1, got 0").throw_if_failed();
        maxima_.resize(size);
    }

    /// Records `value` at bucket `index`; two values at one index keep the larger.
    void record(std::int64_t index, std::int32_t value) {
        // Candidates not above the new value can never be the maximum again.
        while (length_ > 0 && !(value < maxima_[at(first_ + length_ - 1)].value)) --length_;
        // Candidates from `size` or more buckets ago have left the window.
        const auto size = static_cast<std::int64_t>(maxima_.size());
        while (length_ > 0 && detail::go_sub(index, maxima_[first_].index) >= size) {
            --length_;
            if (++first_ == maxima_.size()) first_ = 0;
        }
        if (length_ > 0) {
            const entry& last = maxima_[at(first_ + length_ - 1)];
            if (last.index == index) {
                if (last.value > value) value = last.value;
                --length_;
            }
        }
        maxima_[at(first_ + length_)] = entry{value, index};
        ++length_;
    }

    /// The maximum inside the window (0 before anything was recorded).
    std::int32_t current() const noexcept { return maxima_[first_].value; }
    /// The number of buckets.
    std::size_t size() const noexcept { return maxima_.size(); }
    /// The candidates held now (at most size()).
    std::size_t candidates() const noexcept { return length_; }

private:
    struct entry {
        std::int32_t value = 0;
        std::int64_t index = 0;
    };

    std::size_t at(std::size_t i) const noexcept { return i % maxima_.size(); }

    std::vector<entry> maxima_;
    std::size_t first_ = 0;
    std::size_t length_ = 0;
};

/// max_window over time: `ceil(duration / granularity)` buckets, a time's bucket being its
/// Unix seconds divided by the granularity's whole seconds, truncated toward zero as Go does
/// (so times before 1970 pair differently from times after).
class max_time_window {
public:
    /// Throws config_error unless `duration` > 0 and `granularity` >= 1 s. `epoch_unix_seconds`
    /// is the Unix time of time_point's epoch: buckets fall where Knative's would.
    max_time_window(duration window, duration granularity, std::int64_t epoch_unix_seconds = 0)
        : window_(buckets_for(window, granularity)),
          granularity_s_(std::chrono::duration_cast<std::chrono::seconds>(granularity).count()),
          epoch_unix_seconds_(epoch_unix_seconds), duration_(window), granularity_(granularity) {}

    /// Records `value` in the bucket of `now`.
    void record(time_point now, std::int32_t value) {
        window_.record(bucket_of(now), value);
    }
    /// The maximum over the last window (0 before anything was recorded).
    std::int32_t current() const noexcept { return window_.current(); }
    /// The bucket index of `now`.
    std::int64_t bucket_of(time_point now) const noexcept {
        return detail::go_unix_seconds(now, epoch_unix_seconds_) / granularity_s_;
    }
    /// The number of buckets.
    std::size_t buckets() const noexcept { return window_.size(); }
    /// The window's length.
    duration window() const noexcept { return duration_; }
    /// One bucket's length.
    duration granularity() const noexcept { return granularity_; }

private:
    static std::size_t buckets_for(duration window, duration granularity) {
        validator v{"max_time_window"};
        v.check(window > duration::zero(), "duration", fmt::format("must be positive, got {}s", to_seconds(window)));
        // Knative divides by the granularity's whole seconds: under one second it would divide by 0.
        v.check(granularity >= std::chrono::seconds(1), "granularity",
                fmt::format("must be at least 1s, got {}s", to_seconds(granularity)));
        v.throw_if_failed();
        const double n = std::ceil(detail::go_float_nanoseconds(window) / detail::go_float_nanoseconds(granularity));
        return static_cast<std::size_t>(detail::go_int64(n));
    }

    max_window window_;
    std::int64_t granularity_s_;
    std::int64_t epoch_unix_seconds_;
    duration duration_;
    duration granularity_;
};

}  // namespace salama::scaling::kpa
