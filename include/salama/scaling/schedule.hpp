// salama: scheduled minimums: a floor on the size during given hours of given weekdays.
//
// Time of day comes from scaling_input::wall_clock, which the caller passes in (the shell
// reads its wall clock; the replay passes the trace's timestamps). The core reads no clock.
#pragma once

#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace salama::scaling {

/// One window of a schedule: from `start` to `end` (time of day; wrapping past midnight
/// when end < start) on the given weekdays, at least `min_replicas`.
struct schedule_window {
    std::string name{};                       ///< shown in explanations, e.g. "business hours"
    std::chrono::seconds start{0};          ///< time of day the window opens, [0, 24 h)
    std::chrono::seconds end{0};            ///< time of day it closes, [0, 24 h], != start
    std::int64_t min_replicas = 1;
    /// Weekdays the window opens on, Sunday first (std::chrono::weekday's c_encoding).
    std::array<bool, 7> days{true, true, true, true, true, true, true};
};

/// Settings of schedule_floor.
struct schedule_options {
    std::vector<schedule_window> windows;
    std::chrono::seconds utc_offset{0};  ///< local time = UTC + offset

    /// Throws config_error naming the field.
    void validate() const {
        using namespace std::chrono_literals;
        validator v{"schedule_options"};
        v.check(!windows.empty(), "windows", "must not be empty");
        v.check(utc_offset > -24h && utc_offset < 24h, "utc_offset",
                fmt::format("must be within (-24h, 24h), got {}s", utc_offset.count()));
        for (std::size_t i = 0; i < windows.size(); ++i) {
            const auto& w = windows[i];
            const std::string at = fmt::format("windows[{}]", i);
            v.non_empty(at + ".name", w.name);
            v.check(w.start >= 0s && w.start < 24h, at + ".start",
                    fmt::format("must be within [0, 86400) seconds, got {}", w.start.count()));
            v.check(w.end >= 0s && w.end <= 24h, at + ".end",
                    fmt::format("must be within [0, 86400] seconds, got {}", w.end.count()));
            v.check(w.end != w.start, at + ".end", "must differ from start");
            v.check(w.min_replicas >= 0, at + ".min_replicas",
                    fmt::format("must be non-negative, got {}", w.min_replicas));
            bool any = false;
            for (bool d : w.days) any = any || d;
            v.check(any, at + ".days", "must name at least one weekday");
        }
        v.throw_if_failed();
    }
};

/// A scheduled minimum: a lower-bound recommendation while a window is open.
class schedule_floor {
public:
    /// Nothing to remember.
    struct state_type {};

    /// Validates `opts` (config_error naming the field).
    explicit schedule_floor(schedule_options opts) : opts_(std::move(opts)) { opts_.validate(); }

    /// "schedule".
    std::string_view name() const noexcept { return "schedule"; }
    state_type initial_state() const { return {}; }

    /// The largest minimum of the open windows, as a lower bound; abstains when none is
    /// open or no wall-clock time was given.
    recommendation recommend(const scaling_input& in, state_type&) const {
        if (!in.wall) return recommendation::abstain("schedule", "no wall-clock time given");
        const auto* w = open_window(*in.wall);
        if (!w) return recommendation::abstain("schedule", "no window open");
        recommendation r;
        r.desired = w->min_replicas;
        r.lower_bound = true;
        r.why.policy = "schedule";
        r.why.reason = fmt::format("window '{}' keeps at least {}", w->name, w->min_replicas);
        return r;
    }

    /// The open window with the largest minimum at `wall`, if any.
    const schedule_window* open_window(std::chrono::sys_seconds wall) const {
        using namespace std::chrono;
        const auto local = wall + opts_.utc_offset;
        const auto day = floor<days>(local);
        const auto tod = duration_cast<seconds>(local - day);
        const unsigned today = weekday(day).c_encoding();
        const unsigned yesterday = weekday(day - days(1)).c_encoding();
        const schedule_window* best = nullptr;
        for (const auto& w : opts_.windows) {
            bool open;
            if (w.start < w.end) open = w.days[today] && tod >= w.start && tod < w.end;
            else open = (w.days[today] && tod >= w.start) || (w.days[yesterday] && tod < w.end);
            if (open && (!best || w.min_replicas > best->min_replicas)) best = &w;
        }
        return best;
    }

private:
    schedule_options opts_;
};

static_assert(scaling_policy<schedule_floor>);

}  // namespace salama::scaling
