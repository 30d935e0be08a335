// salama: clocks. Decisions take `now` as an argument; shells read it from a clock.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>

namespace salama {

/// The time base of every decision: a monotonic time point.
using time_point = std::chrono::steady_clock::time_point;
/// Durations in the library's time base.
using duration = std::chrono::steady_clock::duration;

/// Converts seconds (possibly fractional) to a duration.
constexpr duration seconds_to_duration(double s) noexcept {
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(s));
}

/// Converts a duration to seconds.
constexpr double to_seconds(duration d) noexcept {
    return std::chrono::duration<double>(d).count();
}

/// A source of `now`. Shells are generic over it so that tests drive time.
template <class C>
concept clock = requires(const C& c) {
    { c.now() } -> std::same_as<time_point>;
};

/// The default clock: std::chrono::steady_clock.
struct steady_clock {
    /// The current monotonic time.
    time_point now() const noexcept { return std::chrono::steady_clock::now(); }
};

/// A clock that moves only when told to. Thread-safe; copies share nothing.
class manual_clock {
public:
    /// Starts at a fixed, arbitrary point (one day after the steady epoch) so that
    /// subtracting windows from `now` never underflows.
    manual_clock() noexcept : manual_clock(time_point{std::chrono::hours(24)}) {}
    /// Starts at `start`.
    explicit manual_clock(time_point start) noexcept : ticks_(start.time_since_epoch().count()) {}

    /// The current manual time.
    time_point now() const noexcept { return time_point{duration{ticks_.load(std::memory_order_acquire)}}; }
    /// Moves time forward by `d` (a negative `d` is misuse and is ignored).
    void advance(duration d) noexcept {
        if (d.count() > 0) ticks_.fetch_add(d.count(), std::memory_order_acq_rel);
    }
    /// Sets the time; it may not move backwards (ignored if it would).
    void set(time_point t) noexcept {
        auto cur = ticks_.load(std::memory_order_acquire);
        while (t.time_since_epoch().count() > cur &&
               !ticks_.compare_exchange_weak(cur, t.time_since_epoch().count())) {
        }
    }

private:
    std::atomic<duration::rep> ticks_;
};

static_assert(clock<steady_clock>);
static_assert(clock<manual_clock>);

}  // namespace salama
