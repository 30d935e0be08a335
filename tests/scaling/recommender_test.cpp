// The pure recommender: combination by max, clamping, partial data, fallback, metric
// sanitizing, explanations and validation.
#include "catch.hpp"
#include "scaling_fixtures.hpp"

#include <salama/scaling/panic_mode.hpp>
#include <salama/scaling/recommender.hpp>
#include <salama/scaling/step_scaling.hpp>

#include <chrono>
#include <cmath>
#include <limits>

using namespace salama;
using namespace salama::scaling;
using namespace std::chrono_literals;
using namespace salama::scaling::test;

namespace {

step_scaling rules_on(std::string metric, double high, double low, std::int64_t up = 1, std::int64_t down = 1) {
    return step_scaling(std::vector<scaling_rule>{
        {.name = metric + "_high", .metric = metric, .threshold = high,
         .action = scale_action::scale_up, .cooldown = 0s, .scale_size = up},
        {.name = metric + "_low", .metric = metric, .threshold = low,
         .action = scale_action::scale_down, .cooldown = 0s, .scale_size = down},
    });
}

using two_groups = recommender<step_scaling, step_scaling>;

two_groups make(recommender_options o = {.resource = "cpu", .min_replicas = 1, .max_replicas = 10, .fallback = {}}) {
    return two_groups(std::move(o), rules_on("cpu", 80, 30, 3), rules_on("queue", 100, 10, 1));
}

}  // namespace

TEST_CASE("several policies combine by max, then min/max clamp", "[scaling][recommender]") {
    auto rec = make();
    auto st = rec.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("cpu", 90));
    REQUIRE(s.add("queue", 500));
    auto d = rec.evaluate_in_place(input(s, 4), st);
    CHECK(d.desired == 7);  // cpu +3 beats queue +1
    CHECK(d.dir() == direction::up);
    CHECK(d.why.policy == "cpu_high");
    CHECK(d.why.metric == "cpu");
    CHECK(d.fired.size() == 2);

    SECTION("a scale-up of one policy beats a scale-down of another") {
        snapshot m(t0);
        REQUIRE(m.add("cpu", 10));
        REQUIRE(m.add("queue", 500));
        auto st2 = rec.initial_state();
        auto d2 = rec.evaluate_in_place(input(m, 4), st2);
        CHECK(d2.desired == 5);
        CHECK(d2.why.policy == "queue_high");
        // Only the policy whose way the target moved starts a cooldown.
        CHECK_FALSE(std::get<0>(st2.policies).in_until.has_value());
        CHECK(std::get<1>(st2.policies).out_until.has_value());
    }
    SECTION("a scale-out held by max_replicas starts no cooldown") {
        auto st2 = rec.initial_state();
        auto d2 = rec.evaluate_in_place(input(s, 10), st2);
        CHECK(d2.desired == 10);
        CHECK_FALSE(d2.changes());
        CHECK_FALSE(std::get<0>(st2.policies).out_until.has_value());
    }
    SECTION("max_replicas limits and says so") {
        auto st2 = rec.initial_state();
        auto d2 = rec.evaluate_in_place(input(s, 9), st2);
        CHECK(d2.desired == 10);
        CHECK(d2.why.limited_by == limit::max_replicas);
        CHECK(d2.why.to_string().find("cpu_high wanted 12") != std::string::npos);
    }
    SECTION("min_replicas limits and says so") {
        snapshot low(t0);
        REQUIRE(low.add("cpu", 5));
        REQUIRE(low.add("queue", 0));
        auto st2 = rec.initial_state();
        auto d2 = rec.evaluate_in_place(input(low, 1), st2);
        CHECK(d2.desired == 1);
        CHECK(d2.why.limited_by == limit::min_replicas);
    }
    SECTION("no rule fired: hold, with the reasons") {
        snapshot mid(t0);
        REQUIRE(mid.add("cpu", 50));
        REQUIRE(mid.add("queue", 50));
        auto st2 = rec.initial_state();
        auto d2 = rec.evaluate_in_place(input(mid, 4), st2);
        CHECK(d2.desired == 4);
        CHECK_FALSE(d2.changes());
        CHECK(d2.why.reason == "no policy asked for a change");
    }
}

TEST_CASE("the pure evaluation returns the new state and leaves the old one", "[scaling][recommender]") {
    auto rec = recommender<step_scaling>({}, step_scaling(std::vector<scaling_rule>{
                                                 {.metric = "cpu", .threshold = 80, .cooldown = 60s}}));
    const auto before = rec.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("cpu", 95));
    const auto e = rec.evaluate(input(s, 2), before);
    CHECK(e.result.desired == 3);
    CHECK_FALSE(std::get<0>(before.policies).out_until.has_value());
    REQUIRE(std::get<0>(e.state.policies).out_until.has_value());
    CHECK(*std::get<0>(e.state.policies).out_until == t0 + 60s);
    // Same inputs, same state: same answer (no hidden clock or randomness).
    const auto again = rec.evaluate(input(s, 2), before);
    CHECK(again.result.desired == e.result.desired);
    CHECK(again.result.why.to_string() == e.result.why.to_string());
}

TEST_CASE("partial data never scales down", "[scaling][recommender][fallback]") {
    auto rec = make();
    auto st = rec.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("cpu", 10));  // wants down; queue is missing
    auto d = rec.evaluate_in_place(input(s, 4), st);
    CHECK(d.desired == 4);
    CHECK(d.why.limited_by == limit::partial_metrics);
    CHECK(d.why.to_string().find("queue") != std::string::npos);

    snapshot up(t0);
    REQUIRE(up.add("cpu", 95));  // a scale-up on partial data goes through
    CHECK(rec.evaluate_in_place(input(up, 4), st).desired == 7);
}

TEST_CASE("fallback when metrics fail: hold, or a configured size, never the minimum",
          "[scaling][recommender][fallback]") {
    snapshot empty(t0);
    SECTION("hold (the default)") {
        auto rec = make();
        auto st = rec.initial_state();
        auto d = rec.evaluate_in_place(input(empty, 6), st);
        CHECK(d.desired == 6);
        CHECK(d.fallback);
        CHECK(d.why.limited_by == limit::fallback);
        d = rec.on_source_failure(input(empty, 6), st, make_error_code(errc::source_failed));
        CHECK(d.desired == 6);
        CHECK(d.why.reason.find("metric source failed") != std::string::npos);
        CHECK(st.consecutive_failures == 2);
    }
    SECTION("a configured size after a number of failures") {
        auto rec = make({.resource = "cpu", .min_replicas = 1, .max_replicas = 10,
                         .fallback = {.mode = fallback_mode::replicas, .replicas = 4, .failure_threshold = 3}});
        auto st = rec.initial_state();
        const auto err = make_error_code(errc::timeout);
        CHECK(rec.on_source_failure(input(empty, 8), st, err).desired == 8);
        CHECK(rec.on_source_failure(input(empty, 8), st, err).desired == 8);
        auto d = rec.on_source_failure(input(empty, 8), st, err);
        CHECK(d.desired == 4);
        CHECK(d.fallback);
        CHECK(d.why.reason.find("fallback sets 4") != std::string::npos);
        // Metrics come back: the count resets.
        snapshot ok(t0);
        REQUIRE(ok.add("cpu", 50));
        REQUIRE(ok.add("queue", 50));
        CHECK_FALSE(rec.evaluate_in_place(input(ok, 4), st).fallback);
        CHECK(st.consecutive_failures == 0);
        CHECK(rec.on_source_failure(input(empty, 4), st, err).desired == 4);
    }
}

TEST_CASE("NaN, infinite and negative metric values count as missing, with the reason",
          "[scaling][recommender][metrics]") {
    metric_query q{.name = "cpu", .match = {}, .aggregate = aggregation::average, .allow_negative = false};
    snapshot s(t0);
    REQUIRE(s.add("cpu", 50, {{"member", "a"}}));
    CHECK_FALSE(s.add("cpu", std::numeric_limits<double>::quiet_NaN(), {{"member", "b"}}));
    CHECK_FALSE(s.add("cpu", std::numeric_limits<double>::infinity(), {{"member", "c"}}));
    REQUIRE(s.add("cpu", -5, {{"member", "d"}}));
    auto r = read_metric(s, q);
    REQUIRE(r.value);
    CHECK(*r.value == Approx(50));
    CHECK(r.used == 1);
    REQUIRE(r.skipped.size() == 3);
    CHECK(r.skipped[0] == "cpu=-5 ignored: negative");
    CHECK(r.skipped[1].find("must be finite, got nan") != std::string::npos);
    CHECK(r.skipped[2].find("must be finite, got inf") != std::string::npos);

    q.allow_negative = true;
    CHECK(*read_metric(s, q).value == Approx(22.5));

    snapshot bad(t0);
    CHECK_FALSE(bad.add("cpu", std::numeric_limits<double>::quiet_NaN()));
    auto none = read_metric(bad, {.name = "cpu", .match = {}, .aggregate = aggregation::average,
                                  .allow_negative = false});
    CHECK_FALSE(none.value);
    CHECK(none.missing_reason.find("no usable sample") != std::string::npos);

    // Through a recommender: the rule lacks its metric, the fallback holds and says why.
    auto rec = recommender<step_scaling>({}, rules_on("cpu", 80, 30));
    auto st = rec.initial_state();
    auto d = rec.evaluate_in_place(input(bad, 3), st);
    CHECK(d.desired == 3);
    CHECK(d.fallback);
    CHECK(d.why.to_string().find("must be finite") != std::string::npos);
}

TEST_CASE("aggregations over members", "[scaling][metrics]") {
    snapshot s(t0);
    for (double v : {10.0, 20.0, 60.0}) REQUIRE(s.add("load", v, {{"member", fmt::format("m{}", v)}}));
    REQUIRE(s.add("load", 1000, {{"member", "other"}, {"resource", "gpu"}}));
    metric_query q{.name = "load", .match = {}, .aggregate = aggregation::average, .allow_negative = false};
    CHECK(*read_metric(s, q).value == Approx(272.5));
    q.match = {{"resource", "gpu"}};
    CHECK(*read_metric(s, q).value == Approx(1000));
    q.match = {};
    q.aggregate = aggregation::sum;
    CHECK(*read_metric(s, q).value == Approx(1090));
    q.aggregate = aggregation::max;
    CHECK(*read_metric(s, q).value == Approx(1000));
    q.aggregate = aggregation::min;
    CHECK(*read_metric(s, q).value == Approx(10));
}

TEST_CASE("every decision carries an explanation", "[scaling][recommender][explanation]") {
    panic_mode_options po;
    po.name = "burst";
    po.metric.name = "in_flight";
    po.target = 10;
    recommender<step_scaling, panic_mode> rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 50,
                                               .fallback = {}},
                                              rules_on("cpu", 80, 30), panic_mode(po));
    auto st = rec.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("cpu", 50));
    REQUIRE(s.add("in_flight", 200));
    auto d = rec.evaluate_in_place(input(s, 2), st);
    CHECK(d.desired == 20);
    CHECK(d.why.policy == "burst");
    CHECK(d.why.metric == "in_flight");
    REQUIRE(d.why.value);
    CHECK(*d.why.value == Approx(200));
    CHECK(d.why.reason.find("panic") != std::string::npos);
    const std::string line = d.why.to_string();
    CHECK(line.find("[policy burst]") != std::string::npos);
    CHECK(line.find("[in_flight=200]") != std::string::npos);
}

TEST_CASE("recommender options are validated", "[scaling][recommender][validation]") {
    auto field_of = [](recommender_options o) -> std::string {
        try {
            recommender<step_scaling> r(std::move(o), rules_on("cpu", 80, 30));
        } catch (const config_error& e) {
            return e.field();
        }
        return "";
    };
    CHECK(field_of({.resource = "cpu", .min_replicas = 5, .max_replicas = 3, .fallback = {}}) ==
          "recommender_options.min_replicas");
    CHECK(field_of({.resource = "cpu", .min_replicas = -1, .max_replicas = 3, .fallback = {}}) ==
          "recommender_options.min_replicas");
    CHECK(field_of({.resource = "", .min_replicas = 1, .max_replicas = 3, .fallback = {}}) ==
          "recommender_options.resource");
    CHECK(field_of({.resource = "cpu", .min_replicas = 1, .max_replicas = 3,
                    .fallback = {.mode = fallback_mode::replicas, .replicas = 9, .failure_threshold = 1}}) ==
          "recommender_options.fallback.replicas");
    CHECK(field_of({.resource = "cpu", .min_replicas = 1, .max_replicas = 3,
                    .fallback = {.mode = fallback_mode::hold, .replicas = 0, .failure_threshold = 0}}) ==
          "recommender_options.fallback.failure_threshold");
    CHECK(field_of({.resource = "cpu", .min_replicas = 0, .max_replicas = 3, .fallback = {}}).empty());
}

TEST_CASE("one policy missing its metric and the others abstaining: the fallback never scales down",
          "[scaling][recommender][fallback][bad_input]") {
    auto rec = make({.resource = "cpu", .min_replicas = 1, .max_replicas = 10,
                     .fallback = {.mode = fallback_mode::replicas, .replicas = 3, .failure_threshold = 1}});
    auto st = rec.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("queue", 50));  // inside the band: no rule fires; cpu is missing
    auto d = rec.evaluate_in_place(input(s, 10), st);
    CHECK(d.desired == 10);  // used to be 3
    CHECK(d.why.limited_by == limit::partial_metrics);
    CHECK(d.why.reason.find("no scale-down on partial data") != std::string::npos);
    // Below the fallback size it still raises: only scale-downs are held.
    d = rec.evaluate_in_place(input(s, 2), st);
    CHECK(d.desired == 3);
    // Nothing at all: the fallback acts as configured.
    snapshot none(t0);
    CHECK(rec.evaluate_in_place(input(none, 10), st).desired == 3);
}
