// salama: clocks. Decisions take `now` as an argument; shells read it from a clock.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <type_traits>

namespace salama {

/// The time base of every decision: a monotonic time point.
using time_point = std::chrono::steady_clock::time_point;
/// Durations in the library's time base.
using duration = std::chrono::steady_clock::duration;

/// Converts seconds (possibly fractional) to a duration. Saturates: NaN is zero, and a value
/// beyond about ±9.2e9 s (where the nanosecond count would overflow, which is undefined) is
/// the largest or smallest duration. Validated options never get near that bound
/// (core/validation.hpp refuses more than 1e9 s).
constexpr duration seconds_to_duration(double s) noexcept {
    // The largest double below 2^63 ns, in seconds: converting it back cannot overflow.
    constexpr double limit_s = 9.2233720368547748e9;
    if (!(s == s)) return duration::zero();
    if (s >= limit_s) return duration::max();
    if (s <= -limit_s) return duration::min();
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(s));
}

/// Converts a duration to seconds.
constexpr double to_seconds(duration d) noexcept {
    return std::chrono::duration<double>(d).count();
}

/// Wall-clock time to the second, for time-of-day decisions (scheduled minimums). Read by
/// shells, passed to cores; never used to measure intervals.
using wall_time = std::chrono::sys_seconds;

/// A source of `now`. Shells read time only through a clock so that tests drive it.
template <class C>
concept clock = requires(const C& c) {
    { c.now() } -> std::same_as<time_point>;
};

/// A clock that also tells the time of day.
template <class C>
concept wall_clock = clock<C> && requires(const C& c) {
    { c.wall_now() } -> std::same_as<wall_time>;
};

/// The system's clocks: std::chrono::steady_clock for `now`, the system clock for the time
/// of day. The default of every component.
struct steady_clock {
    /// The current monotonic time.
    time_point now() const noexcept { return std::chrono::steady_clock::now(); }
    /// The current UTC time, to the second.
    wall_time wall_now() const noexcept {
        return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    }
};

/// A clock that moves only when told to; its time of day moves with it. Thread-safe.
class manual_clock {
public:
    /// Starts at a fixed, arbitrary point (one day after the steady epoch) so that
    /// subtracting windows from `now` never underflows; the time of day starts at
    /// 2024-01-01T00:00:00Z.
    manual_clock() noexcept : manual_clock(time_point{std::chrono::hours(24)}) {}
    /// Starts at `start`.
    explicit manual_clock(time_point start) noexcept
        : ticks_(start.time_since_epoch().count()),
          wall_base_(default_wall_start - start.time_since_epoch().count()) {}

    /// The current manual time.
    time_point now() const noexcept { return time_point{duration{ticks_.load(std::memory_order_acquire)}}; }
    /// The current manual time of day: the last set_wall() plus the time advanced since.
    wall_time wall_now() const noexcept {
        const auto ns = wall_base_.load(std::memory_order_acquire) + ticks_.load(std::memory_order_acquire);
        return std::chrono::floor<std::chrono::seconds>(
            std::chrono::sys_time<duration>(duration{ns}));
    }
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
    /// Sets the time of day (it may move either way: an operator fixing the wall clock).
    void set_wall(wall_time t) noexcept {
        const auto ns = std::chrono::duration_cast<duration>(t.time_since_epoch()).count();
        wall_base_.store(ns - ticks_.load(std::memory_order_acquire), std::memory_order_release);
    }

private:
    // 2024-01-01T00:00:00Z in the library's duration unit.
    static constexpr duration::rep default_wall_start =
        std::chrono::duration_cast<duration>(std::chrono::seconds(1704067200)).count();

    std::atomic<duration::rep> ticks_;
    std::atomic<duration::rep> wall_base_;  // wall time = wall_base_ + ticks_
};

/// A cheap, copyable reference to a clock owned elsewhere; what every component holds.
/// Default-constructed it reads the system clocks. The clock it refers to must outlive
/// every holder (a test's manual_clock outlives the components it drives); a temporary
/// cannot be bound. A clock without wall_now() gets the system's time of day.
class clock_ref {
public:
    /// The system clocks.
    clock_ref() noexcept = default;

    /// Refers to `c`.
    template <clock C>
        requires(!std::is_same_v<C, clock_ref>)
    clock_ref(const C& c) noexcept  // NOLINT(google-explicit-constructor): a reference, by design
        : obj_(&c), now_([](const void* o) { return static_cast<const C*>(o)->now(); }),
          wall_([](const void* o) -> wall_time {
              if constexpr (wall_clock<C>) return static_cast<const C*>(o)->wall_now();
              else return steady_clock{}.wall_now();
          }) {}
    template <clock C>
        requires(!std::is_same_v<C, clock_ref>)
    clock_ref(const C&&) = delete;  // would dangle

    /// The referred clock's monotonic time.
    time_point now() const { return obj_ ? now_(obj_) : steady_clock{}.now(); }
    /// The referred clock's time of day.
    wall_time wall_now() const { return obj_ ? wall_(obj_) : steady_clock{}.wall_now(); }

private:
    const void* obj_ = nullptr;
    time_point (*now_)(const void*) = nullptr;
    wall_time (*wall_)(const void*) = nullptr;
};

static_assert(clock<steady_clock>);
static_assert(clock<manual_clock>);
static_assert(wall_clock<steady_clock>);
static_assert(wall_clock<manual_clock>);
static_assert(wall_clock<clock_ref>);

}  // namespace salama
