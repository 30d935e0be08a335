// Target tracking: the HPA core wrapped as a policy, alone and composed.
#include "catch.hpp"
#include "scaling_fixtures.hpp"

#include <salama/scaling/recommender.hpp>
#include <salama/scaling/scale_to_zero.hpp>
#include <salama/scaling/step_scaling.hpp>
#include <salama/scaling/target_tracking.hpp>

#include <chrono>
#include <limits>

using namespace salama;
using namespace salama::scaling;
using namespace std::chrono_literals;
using namespace salama::scaling::test;

namespace {

target_tracking cpu_at(std::int32_t percent, std::int32_t max = 20) {
    target_tracking_options o;
    o.name = "cpu_target";
    o.spec.min_replicas = 1;
    o.spec.max_replicas = max;
    o.spec.metrics = {hpa::resource_utilization_metric("cpu", percent)};
    return target_tracking(o);
}

}  // namespace

TEST_CASE("target tracking follows the HPA's ratio rule", "[scaling][target]") {
    auto tt = cpu_at(50);
    auto st = tt.initial_state();
    SECTION("ceil(ratio * ready)") {
        const auto s = members("cpu", {100, 100, 80});  // average 93.3 % against 50 %
        auto r = tt.recommend(input(s, 3), st);
        REQUIRE(r.desired);
        CHECK(*r.desired == 6);  // ceil(1.8667 * 3)
        CHECK(r.why.policy == "cpu_target");
        CHECK(r.why.metric == "cpu");
        REQUIRE(r.why.value);
        CHECK(*r.why.value == Approx(93));
    }
    SECTION("inside the tolerance nothing changes") {
        const auto s = members("cpu", {54, 54});
        auto r = tt.recommend(input(s, 2), st);
        CHECK(r.desired == 2);
    }
    SECTION("members without metrics are filled conservatively on the way up") {
        const auto s = members("cpu", {100, 100});  // 2 of 4 report
        auto r = tt.recommend(input(s, 4), st);
        REQUIRE(r.desired);
        // Missing members count as 0 % when scaling up: ratio (200 / 4) / 50 = 1.0 -> keep.
        CHECK(*r.desired == 4);
    }
    SECTION("no sample of any metric is missing data") {
        snapshot empty(t0);
        auto r = tt.recommend(input(empty, 3), st);
        CHECK(r.metric_missing);
        CHECK_FALSE(r.desired.has_value());
    }
}

TEST_CASE("target tracking composes with rules by max, and with scale to zero", "[scaling][target]") {
    step_scaling rules(std::vector<scaling_rule>{{.name = "queue_high", .metric = "queue",
                                                  .threshold = 100, .action = scale_action::scale_up,
                                                  .cooldown = 60s, .scale_size = 5}});
    recommender<target_tracking, step_scaling> rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 20,
                                                    .fallback = {}},
                                                   cpu_at(50), rules);
    auto st = rec.initial_state();
    auto s = members("cpu", {60, 60});
    REQUIRE(s.add("queue", 500));
    auto d = rec.evaluate_in_place(input(s, 2), st);
    CHECK(d.desired == 7);  // the queue rule's +5 beats the HPA's 3
    CHECK(d.why.policy == "queue_high");

    SECTION("the HPA's proposal wins when it is larger") {
        auto st2 = rec.initial_state();
        auto hot = members("cpu", {100, 100, 100, 100});
        REQUIRE(hot.add("queue", 50));  // the rule does not fire
        auto d2 = rec.evaluate_in_place(input(hot, 4), st2);
        CHECK(d2.desired == 8);  // ceil(2 * 4)
        CHECK(d2.why.policy == "cpu_target");
    }

    SECTION("KEDA-style zero with the HPA deciding 1 <-> N") {
        target_tracking_options o;
        o.name = "queue_target";
        o.spec.min_replicas = 1;
        o.spec.max_replicas = 20;
        hpa::metric_spec m;
        m.type = hpa::metric_source_type::external;
        m.name = "queue";
        m.target.type = hpa::target_type::average_value;
        m.target.average_value_milli = 5000;  // 5 items per member, KEDA's default listLength
        o.spec.metrics = {m};
        scale_to_zero<target_tracking> z({.activation_metric = {.name = "queue", .match = {},
                                                                .aggregate = aggregation::sum,
                                                                .allow_negative = false},
                                          .activation_threshold = 0,
                                          .cooldown = 300s},
                                         target_tracking(o));
        recommender<scale_to_zero<target_tracking>> kr({.resource = "cpu", .min_replicas = 0, .max_replicas = 20,
                                                        .fallback = {}},
                                                       z);
        auto ks = kr.initial_state();
        snapshot q(t0);
        REQUIRE(q.add("queue", 42));
        auto k = kr.evaluate_in_place(input(q, 0), ks);
        CHECK(k.desired == 1);
        k = kr.evaluate_in_place(input(q, 1, t0 + 30s), ks);
        // ceil(42 / 5) = 9, capped by the HPA's legacy scale-up limit max(2 * 1, 4).
        CHECK(k.desired == 4);
        CHECK(k.why.limited_by == limit::scale_up_rate);
        snapshot idle(t0);
        REQUIRE(idle.add("queue", 0));
        k = kr.evaluate_in_place(input(idle, 4, t0 + 60s), ks);
        // Inside the cooldown the HPA decides: its legacy stabilization keeps the 9 it wanted
        // 30 s ago, bounded by the scale-up limit max(2 * 4, 4) = 8. Never zero yet.
        CHECK(k.desired == 8);
        CHECK(k.why.limited_by == limit::scale_up_rate);
        k = kr.evaluate_in_place(input(idle, 4, t0 + 360s), ks);
        CHECK(k.desired == 0);
    }
}

TEST_CASE("target tracking validates its HPA spec", "[scaling][target][validation]") {
    target_tracking_options o;
    o.spec.min_replicas = 5;
    o.spec.max_replicas = 2;
    try {
        target_tracking t(o);
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(e.field() == "hpa_spec.min_replicas");
    }
    o = {};
    o.spec.metrics = {hpa::resource_utilization_metric("cpu usage", 50)};
    CHECK_THROWS_AS(target_tracking(o), config_error);
}

TEST_CASE("inside a recommender, the recommender's bounds are the only bounds", "[scaling][target]") {
    // The spec keeps its default maxReplicas of 10; the recommender allows 20. Before the
    // bounds had one source, the HPA clamped to 10 on its own and the recommender's 20 was
    // never reached.
    target_tracking_options o;
    o.name = "cpu_target";
    o.spec.metrics = {hpa::resource_utilization_metric("cpu", 50)};
    REQUIRE(o.spec.max_replicas == 10);
    recommender<target_tracking> rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 20, .fallback = {}},
                                     target_tracking(o));
    auto st = rec.initial_state();
    const auto s = members("cpu", {100, 100, 100, 100, 100, 100, 100, 100, 100, 100});
    auto d = rec.evaluate_in_place(input(s, 10), st);
    // Ratio 2 over 10 members asks 20; the HPA's scale-up limit allows max(2 x 10, 4) = 20.
    CHECK(d.desired == 20);
    CHECK(d.why.limited_by == limit::none);

    SECTION("and a lower recommender maximum binds the HPA too") {
        recommender<target_tracking> low({.resource = "cpu", .min_replicas = 1, .max_replicas = 5, .fallback = {}},
                                         target_tracking(o));
        auto st2 = low.initial_state();
        const auto s4 = members("cpu", {100, 100, 100, 100});
        auto d2 = low.evaluate_in_place(input(s4, 4), st2);
        CHECK(d2.desired == 5);
    }
}

TEST_CASE("members without metrics are one counted entry, not one object each", "[scaling][target][bad_input]") {
    SECTION("the count weighs the conservative fill like that many members") {
        auto tt = cpu_at(30);
        auto st = tt.initial_state();
        const auto s = members("cpu", {100, 100});  // 2 of 5 report
        auto r = tt.recommend(input(s, 5), st);
        REQUIRE(r.desired);
        // 3 missing at 0 %: 200 / 500 = 40 % against 30 % -> 1.333; ceil(1.333 * 5) = 7.
        CHECK(*r.desired == 7);
    }
    SECTION("a reported size near INT32_MAX costs one entry (it used to exhaust memory)") {
        auto tt = cpu_at(60, std::numeric_limits<std::int32_t>::max());
        auto st = tt.initial_state();
        const auto s = members("cpu", {90, 90});
        auto r = tt.recommend(input(s, 2'000'000'000), st);
        REQUIRE(r.desired);
        // Up by the reporting members, but the missing ones at 0 % reverse it: keep.
        CHECK(*r.desired == 2'000'000'000);
        // A size beyond int32 is clamped, not wrapped.
        auto big = tt.recommend(input(s, std::int64_t{1} << 40), st);
        REQUIRE(big.desired);
        CHECK(*big.desired == std::numeric_limits<std::int32_t>::max());
    }
}
