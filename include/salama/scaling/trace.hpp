// salama: metric traces for replays: CSV text in, one snapshot per timestamp out.
//
// Format: a header line "timestamp,member,metric,value", then one sample per line:
// timestamp in whole Unix seconds (UTC), member (may be empty for a total), metric name,
// value. Lines must be in time order. Blank lines and lines starting with '#' are skipped.
// A value that is not finite is kept out of the snapshot and recorded in its rejected()
// list, so a replay sees it as a missing sample with its reason.
#pragma once

#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/metric.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace salama::scaling {

/// The samples of one instant of a trace.
struct trace_frame {
    std::chrono::sys_seconds wall{};  ///< when they were recorded (UTC)
    snapshot metrics{};               ///< stamped with the replay's monotonic time
};

/// A parsed trace, or where parsing stopped and why.
struct trace {
    std::vector<trace_frame> frames;
};

/// The latest timestamp a trace may hold (Unix seconds, year 2096): with the earliest at 0, a
/// trace spans at most 4e9 s, which `origin` plus int64 nanoseconds holds.
inline constexpr std::int64_t max_trace_timestamp = 4'000'000'000;

/// Parses trace CSV text. `origin` is the monotonic time given to the first frame; later
/// frames keep their distance from it. A malformed trace is errc::parse_error whose detail
/// says "line N: reason".
inline result<trace> parse_trace(std::string_view text, time_point origin = time_point{std::chrono::hours(24)}) {
    trace t;
    std::size_t line_no = 0;
    bool header = false;
    std::int64_t first = 0;
    auto fail = [&](std::string_view why) { return error(errc::parse_error, fmt::format("line {}: {}", line_no, why)); };
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        if (!header) {
            if (line != "timestamp,member,metric,value")
                return fail("expected the header \"timestamp,member,metric,value\"");
            header = true;
            continue;
        }
        std::string_view f[4];
        for (int i = 0; i < 4; ++i) {
            const auto comma = line.find(',');
            if (i < 3 && comma == std::string_view::npos) return fail("expected 4 comma-separated fields");
            f[i] = line.substr(0, i < 3 ? comma : line.size());
            line.remove_prefix(i < 3 ? comma + 1 : line.size());
        }
        if (f[3].find(',') != std::string_view::npos) return fail("expected 4 comma-separated fields");
        std::int64_t ts = 0;
        auto [tp, tec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), ts);
        if (tec != std::errc{} || tp != f[0].data() + f[0].size())
            return fail(fmt::format("timestamp '{}' is not whole Unix seconds", f[0]));
        // Bounded so that the distance from the first frame converts to nanoseconds exactly.
        if (ts < 0 || ts > max_trace_timestamp)
            return fail(fmt::format("timestamp {} is outside [0, {}]", ts, max_trace_timestamp));
        double v = 0;
        auto [vp, vec] = std::from_chars(f[3].data(), f[3].data() + f[3].size(), v);
        if (vec != std::errc{} || vp != f[3].data() + f[3].size())
            return fail(fmt::format("value '{}' is not a number", f[3]));
        if (!is_valid_metric_name(f[2])) return fail(fmt::format("metric name '{}' is not valid", f[2]));
        if (t.frames.empty()) first = ts;
        if (!t.frames.empty() && ts < t.frames.back().wall.time_since_epoch().count())
            return fail(fmt::format("timestamp {} goes back in time", ts));
        if (t.frames.empty() || t.frames.back().wall.time_since_epoch().count() != ts)
            t.frames.push_back({std::chrono::sys_seconds{std::chrono::seconds(ts)},
                                snapshot(origin + std::chrono::seconds(ts - first))});
        label_set labels;
        if (!f[1].empty()) labels.set(label::member, f[1]);
        (void)t.frames.back().metrics.add(f[2], v, std::move(labels));  // a refused value stays recorded
    }
    if (!header) return error(errc::parse_error, fmt::format("line {}: empty trace: no header", line_no));
    return t;
}

}  // namespace salama::scaling
