// salama: count, mean, max and percentiles over the last W of time.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <vector>

namespace salama {

/// Statistics over the samples of the last `window`. A sample of age `a` is inside
/// the window iff `a < window` (the convention Kubernetes uses for its windows).
/// Samples must be added in time order (an older one is stamped with the newest time).
/// Not thread-safe.
class sliding_window {
public:
    /// Throws config_error unless `window` > 0.
    explicit sliding_window(duration window) : window_(window) {
        validator{"sliding_window"}.positive("window", to_seconds(window)).throw_if_failed();
    }

    /// Adds `x` at `now`. A non-finite `x` is ignored and returns false.
    bool add(double x, time_point now) {
        if (!std::isfinite(x)) return false;
        if (!samples_.empty() && now < samples_.back().at) now = samples_.back().at;
        expire(now);
        samples_.push_back({now, x});
        sum_ += x;
        // Keep a decreasing deque of candidates for the maximum.
        while (!max_.empty() && max_.back().value <= x) max_.pop_back();
        max_.push_back({now, x});
        return true;
    }

    /// Number of samples inside the window at `now`.
    std::size_t count(time_point now) {
        expire(now);
        return samples_.size();
    }

    /// Mean inside the window, if any sample.
    std::optional<double> mean(time_point now) {
        expire(now);
        if (samples_.empty()) return std::nullopt;
        return sum_ / static_cast<double>(samples_.size());
    }

    /// Maximum inside the window, if any sample.
    std::optional<double> max(time_point now) {
        expire(now);
        if (max_.empty()) return std::nullopt;
        return max_.front().value;
    }

    /// Percentile `p` in [0, 100] (nearest rank) inside the window, if any sample.
    std::optional<double> percentile(double p, time_point now) {
        expire(now);
        if (samples_.empty() || !(p >= 0 && p <= 100)) return std::nullopt;
        std::vector<double> v;
        v.reserve(samples_.size());
        for (const auto& s : samples_) v.push_back(s.value);
        const auto n = v.size();
        auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
        rank = std::clamp<std::size_t>(rank, 1, n);
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
        return v[rank - 1];
    }

    /// The window length.
    duration window() const noexcept { return window_; }

private:
    struct entry {
        time_point at;
        double value;
    };

    void expire(time_point now) {
        while (!samples_.empty() && now - samples_.front().at >= window_) {
            sum_ -= samples_.front().value;
            samples_.pop_front();
        }
        while (!max_.empty() && now - max_.front().at >= window_) max_.pop_front();
        if (samples_.empty()) sum_ = 0;  // drop accumulated rounding error
    }

    duration window_;
    std::deque<entry> samples_;
    std::deque<entry> max_;
    double sum_ = 0;
};

}  // namespace salama
