// Inputs shared by the scaling policy tests: a fixed instant, per-member snapshots and
// the scaling_input around them.
#pragma once

#include "catch.hpp"

#include <salama/scaling/decision.hpp>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace salama::scaling::test {

using namespace std::chrono_literals;

/// The instant the tests evaluate at (a day after the steady epoch).
inline const time_point t0 = time_point{24h};

/// A snapshot with one sample of `name` per value, one member ("m0", "m1", ...) each.
inline snapshot members(std::string_view name, std::initializer_list<double> values, time_point at = t0) {
    snapshot s(at);
    int i = 0;
    for (double v : values) REQUIRE(s.add(name, v, {{"member", fmt::format("m{}", i++)}}));
    return s;
}

/// The input of one evaluation over `s` with `current` members at `now`.
inline scaling_input input(const snapshot& s, std::int64_t current, time_point now = t0) {
    return scaling_input{s, current, std::nullopt, now, std::nullopt};
}

}  // namespace salama::scaling::test
