// The pure scaling policies: simple rules, step scaling with cooldowns, scale to zero,
// panic mode, hysteresis and scheduled minimums.
#include "catch.hpp"
#include "scaling_fixtures.hpp"

#include <salama/scaling/hysteresis.hpp>
#include <salama/scaling/panic_mode.hpp>
#include <salama/scaling/recommender.hpp>
#include <salama/scaling/scale_to_zero.hpp>
#include <salama/scaling/schedule.hpp>
#include <salama/scaling/step_scaling.hpp>

#include <chrono>

using namespace salama;
using namespace salama::scaling;
using namespace std::chrono_literals;
using namespace salama::scaling::test;

namespace {

step_policy_options steps_above(std::string metric, double threshold, std::vector<step_adjustment> steps,
                                duration cooldown = 300s) {
    step_policy_options p;
    p.name = metric + "_out";
    p.metric.name = std::move(metric);
    p.threshold = threshold;
    p.when = breach::above;
    p.steps = std::move(steps);
    p.cooldown = cooldown;
    return p;
}

step_policy_options steps_below(std::string metric, double threshold, std::vector<step_adjustment> steps,
                                duration cooldown = 300s) {
    auto p = steps_above(std::move(metric), threshold, std::move(steps), cooldown);
    p.name = p.metric.name + "_in";
    p.when = breach::below;
    return p;
}

std::vector<scaling_rule> seed_rules() {
    return {
        {.name = "gpu_high", .metric = "gpu_utilization", .threshold = 80,
         .action = scale_action::scale_up, .cooldown = 300s, .scale_size = 2},
        {.name = "gpu_low", .metric = "gpu_utilization", .threshold = 30,
         .action = scale_action::scale_down, .cooldown = 600s, .scale_size = 1},
    };
}

}  // namespace

TEST_CASE("a firing rule becomes a decision {rule, current value, action, scale size}", "[scaling][rules]") {
    step_scaling rules(seed_rules());
    auto st = rules.initial_state();
    const auto s = members("gpu_utilization", {85, 95});
    auto r = rules.recommend(input(s, 3), st);
    REQUIRE(r.desired == 5);
    REQUIRE(r.fired.size() == 1);
    CHECK(r.fired[0].rule == "gpu_high");
    CHECK(r.fired[0].metric == "gpu_utilization");
    CHECK(r.fired[0].value == Approx(90));
    CHECK(r.fired[0].action == scale_action::scale_up);
    CHECK(r.fired[0].scale_size == 2);
    CHECK(r.why.policy == "gpu_high");
    CHECK(r.why.value == Approx(90));

    SECTION("the threshold itself fires (at or above, at or below)") {
        auto st2 = rules.initial_state();
        const auto at_high = members("gpu_utilization", {80});
        CHECK(rules.recommend(input(at_high, 3), st2).desired == 5);
        auto st3 = rules.initial_state();
        const auto at_low = members("gpu_utilization", {30});
        auto down = rules.recommend(input(at_low, 3), st3);
        CHECK(down.desired == 2);
        REQUIRE(down.fired.size() == 1);
        CHECK(down.fired[0].action == scale_action::scale_down);
        CHECK(down.fired[0].scale_size == 1);
    }
    SECTION("between the thresholds no rule fires and the group abstains") {
        auto st2 = rules.initial_state();
        const auto mid = members("gpu_utilization", {50});
        auto quiet = rules.recommend(input(mid, 3), st2);
        CHECK_FALSE(quiet.desired.has_value());
        CHECK_FALSE(quiet.metric_missing);
        CHECK(quiet.fired.empty());
    }
}

TEST_CASE("step bounds follow the breach side's conventions", "[scaling][step]") {
    step_scaling out({steps_above("cpu", 50, {{0.0, 10.0, 1}, {10.0, 20.0, 2}, {20.0, std::nullopt, 3}})});
    step_scaling in({steps_below("cpu", 50, {{std::nullopt, -10.0, -2}, {-10.0, 0.0, -1}})});
    auto d = [](const step_scaling& g, double v) {
        auto st = g.initial_state();
        const auto s = members("cpu", {v});
        return g.recommend(input(s, 10), st).desired;
    };
    // Above: lower bound inclusive, upper exclusive.
    CHECK(d(out, 50) == 11);
    CHECK(d(out, 59.99) == 11);
    CHECK(d(out, 60) == 12);
    CHECK(d(out, 70) == 13);
    CHECK(d(out, 1000) == 13);
    CHECK_FALSE(d(out, 49.9).has_value());
    // Below: lower bound exclusive, upper inclusive.
    CHECK(d(in, 50) == 9);
    CHECK(d(in, 40.01) == 9);
    CHECK(d(in, 40) == 8);
    CHECK(d(in, 0) == 8);
    CHECK_FALSE(d(in, 50.1).has_value());
}

TEST_CASE("step adjustments: change, percent with minimum magnitude, exact", "[scaling][step]") {
    auto pct = steps_above("cpu", 50, {{0.0, std::nullopt, 25}});
    pct.type = adjustment_type::percent_change_in_capacity;
    auto base = [](const step_policy_options& p, std::int64_t cap) {
        return p.apply_step(p.steps[0], cap);
    };
    CHECK(base(pct, 4) == 5);   // 25 % of 4 = 1
    CHECK(base(pct, 10) == 12); // 2.5 rounds toward zero
    CHECK(base(pct, 2) == 3);   // 0.5 becomes at least one member
    pct.min_adjustment_magnitude = 2;
    CHECK(base(pct, 4) == 6);   // the reference example: 25 % of 4 = 1 -> 2
    CHECK(base(pct, 40) == 50);

    auto pct_in = steps_below("cpu", 50, {{std::nullopt, 0.0, -50}});
    pct_in.type = adjustment_type::percent_change_in_capacity;
    CHECK(base(pct_in, 3) == 2);  // -1.5 rounds toward zero
    CHECK(base(pct_in, 1) == 0);  // -0.5 becomes -1

    auto exact = steps_above("cpu", 50, {{0.0, std::nullopt, 7}});
    exact.type = adjustment_type::exact_capacity;
    CHECK(base(exact, 3) == 7);
    CHECK(base(exact, 9) == 7);

    auto change = steps_below("cpu", 50, {{std::nullopt, 0.0, -5}});
    CHECK(base(change, 3) == 0);  // never negative
}

TEST_CASE("step validation names the field", "[scaling][step][validation]") {
    auto field_of = [](step_policy_options p) -> std::string {
        try {
            step_scaling g({std::move(p)});
        } catch (const config_error& e) {
            return e.field();
        }
        return "";
    };
    CHECK(field_of(steps_above("cpu", 50, {{0.0, 10.0, 1}, {5.0, std::nullopt, 2}})) ==
          "step_scaling.policies[0].steps[1].lower");  // overlap
    CHECK(field_of(steps_above("cpu", 50, {{0.0, 10.0, 1}, {15.0, std::nullopt, 2}})) ==
          "step_scaling.policies[0].steps[1].lower");  // gap
    CHECK(field_of(steps_above("cpu", 50, {{5.0, std::nullopt, 1}})) == "step_scaling.policies[0].steps[0].lower");
    CHECK(field_of(steps_above("cpu", 50, {{0.0, 10.0, 1}})) == "step_scaling.policies[0].steps[0].upper");
    CHECK(field_of(steps_below("cpu", 50, {{std::nullopt, -5.0, -1}})) ==
          "step_scaling.policies[0].steps[0].upper");
    CHECK(field_of(steps_above("cpu", 50, {{0.0, std::nullopt, 1.5}})) ==
          "step_scaling.policies[0].steps[0].adjustment");
    CHECK(field_of(steps_above("cpu", std::nan(""), {{0.0, std::nullopt, 1}})) == "step_scaling.policies[0].threshold");
    CHECK(field_of(steps_above("cpu", 50, {{0.0, std::nullopt, 1}}, -1s)) == "step_scaling.policies[0].cooldown");
    CHECK(field_of(steps_above("cpu", 50, {})) == "step_scaling.policies[0].steps");
    auto p = steps_above("cpu", 50, {{0.0, std::nullopt, 1}});
    p.min_adjustment_magnitude = 2;
    CHECK(field_of(p) == "step_scaling.policies[0].min_adjustment_magnitude");
    CHECK(field_of(steps_above("cpu", 50, {{0.0, 10.0, 1}, {10.0, std::nullopt, 2}})).empty());
}

TEST_CASE("rule validation: NaN threshold, negative cooldown, zero scale size", "[scaling][rules][validation]") {
    auto message_of = [](scaling_rule r) -> std::string {
        try {
            r.validate();
        } catch (const config_error& e) {
            return e.what();
        }
        return "";
    };
    scaling_rule ok{.metric = "cpu_utilization", .threshold = 80};
    CHECK(message_of(ok).empty());
    auto r = ok;
    r.cooldown = -1s;
    CHECK(message_of(r) == "invalid scaling_rule.cooldown: must be non-negative, got -1");
    r = ok;
    r.threshold = std::nan("");
    CHECK(message_of(r) == "invalid scaling_rule.threshold: must be finite, got nan");
    r = ok;
    r.scale_size = 0;
    CHECK(message_of(r) == "invalid scaling_rule.scale_size: must be positive, got 0");
    r = ok;
    r.metric = "cpu utilization";
    CHECK(message_of(r).starts_with("invalid scaling_rule.metric:"));

    auto rules = seed_rules();
    rules[1].scale_size = 0;
    REQUIRE_THROWS_AS(step_scaling(rules), config_error);
    try {
        step_scaling g(rules);
    } catch (const config_error& e) {
        CHECK(e.field() == "scaling_rules[1].scale_size");
    }
    REQUIRE_THROWS_AS(step_scaling(std::vector<scaling_rule>{}), config_error);
}

TEST_CASE("scale-out cooldown counts the capacity already added", "[scaling][step][cooldown]") {
    step_scaling g({steps_above("cpu", 50, {{0.0, 20.0, 2}, {20.0, std::nullopt, 3}}, 300s)});
    auto st = g.initial_state();
    const auto small = members("cpu", {60});
    const auto big = members("cpu", {80});

    auto r = g.recommend(input(small, 4, t0), st);
    REQUIRE(r.desired == 6);
    CHECK(st.out_base == 4);
    REQUIRE(st.out_until == t0 + 300s);

    // The same step again inside the cooldown: its 2 are already there.
    r = g.recommend(input(small, 6, t0 + 60s), st);
    CHECK(r.desired == 6);
    CHECK(r.why.limited_by == limit::cooldown);

    // A bigger step inside the cooldown: only the difference (3 - 2) is added.
    r = g.recommend(input(big, 6, t0 + 120s), st);
    CHECK(r.desired == 7);
    CHECK(r.why.limited_by == limit::none);
    CHECK(st.out_until == t0 + 300s);  // the cooldown does not restart

    // After the cooldown the base is the current capacity again.
    r = g.recommend(input(small, 7, t0 + 300s), st);
    CHECK(r.desired == 9);
    CHECK(st.out_base == 7);
}

TEST_CASE("scale-in is blocked during cooldowns; a scale-out cancels a scale-in cooldown",
          "[scaling][step][cooldown]") {
    step_scaling g({steps_above("cpu", 80, {{0.0, std::nullopt, 1}}, 120s),
                    steps_below("cpu", 30, {{std::nullopt, 0.0, -1}}, 300s)});
    const auto low = members("cpu", {10});
    const auto high = members("cpu", {90});

    SECTION("scale-in cooldown") {
        auto st = g.initial_state();
        auto r = g.recommend(input(low, 5, t0), st);
        REQUIRE(r.desired == 4);
        r = g.recommend(input(low, 4, t0 + 299s), st);
        CHECK(r.desired == 4);
        CHECK(r.why.limited_by == limit::cooldown);
        CHECK(r.why.reason.find("scale-in blocked") != std::string::npos);
        r = g.recommend(input(low, 4, t0 + 300s), st);  // age >= cooldown: over
        CHECK(r.desired == 3);
    }
    SECTION("a scale-out during a scale-in cooldown acts at once and cancels it") {
        auto st = g.initial_state();
        REQUIRE(g.recommend(input(low, 5, t0), st).desired == 4);
        REQUIRE(st.in_until.has_value());
        auto r = g.recommend(input(high, 4, t0 + 10s), st);
        CHECK(r.desired == 5);
        CHECK_FALSE(st.in_until.has_value());
        // Scale-in is still held while the scale-out's own cooldown runs.
        r = g.recommend(input(low, 5, t0 + 20s), st);
        CHECK(r.desired == 5);
        CHECK(r.why.limited_by == limit::cooldown);
        r = g.recommend(input(low, 5, t0 + 130s), st);
        CHECK(r.desired == 4);
    }
}

TEST_CASE("scale to and from zero with an activation threshold", "[scaling][keda]") {
    using policy = scale_to_zero<step_scaling>;
    step_scaling inner({steps_above("queue_length", 10, {{0.0, std::nullopt, 1}}, 0s)});
    policy p({.activation_metric = {.name = "queue_length", .match = {}, .aggregate = aggregation::sum,
                                    .allow_negative = false},
              .activation_threshold = 2,
              .cooldown = 300s},
             inner);
    auto st = p.initial_state();
    auto q = [](double v) { return members("queue_length", {v}); };

    SECTION("at zero: the activation threshold decides 0 <-> 1") {
        auto s = q(2);
        auto r = p.recommend(input(s, 0), st);
        CHECK(r.desired == 0);  // not above the activation threshold
        s = q(2.5);
        r = p.recommend(input(s, 0, t0 + 30s), st);
        CHECK(r.desired == 1);
        CHECK(r.why.limited_by == limit::activation);
        CHECK(r.why.reason.find("activated") != std::string::npos);
        s = q(500);
        r = p.recommend(input(s, 0, t0 + 60s), st);
        CHECK(r.desired == 1);  // 0 -> 1 only; the target takes over from one
    }
    SECTION("active: the inner policy decides 1 <-> N") {
        auto s = q(50);
        auto r = p.recommend(input(s, 1), st);
        CHECK(r.desired == 2);
    }
    SECTION("to zero only after a whole cooldown inactive") {
        auto s = q(5);
        REQUIRE_FALSE(p.recommend(input(s, 3, t0), st).desired.has_value());  // active: inner abstains
        s = q(0);
        auto r = p.recommend(input(s, 3, t0 + 100s), st);
        CHECK(r.desired != 0);
        r = p.recommend(input(s, 3, t0 + 299s), st);
        CHECK(r.desired != 0);
        r = p.recommend(input(s, 3, t0 + 300s), st);
        CHECK(r.desired == 0);
        CHECK(r.why.reason.find("scale to zero") != std::string::npos);
    }
    SECTION("a missing activation metric at zero is missing data, not a decision") {
        snapshot empty(t0);
        auto r = p.recommend(input(empty, 0), st);
        CHECK(r.metric_missing);
        CHECK_FALSE(r.desired.has_value());
    }
    SECTION("through the recommender with min_replicas 0") {
        recommender<policy> rec({.resource = "cpu", .min_replicas = 0, .max_replicas = 5, .fallback = {}}, p);
        auto rs = rec.initial_state();
        auto s = q(0);
        CHECK(rec.evaluate_in_place(input(s, 2, t0), rs).desired == 2);
        CHECK(rec.evaluate_in_place(input(s, 2, t0 + 300s), rs).desired == 0);
        s = q(3);
        CHECK(rec.evaluate_in_place(input(s, 0, t0 + 330s), rs).desired == 1);
    }
    CHECK_THROWS_AS(policy({.activation_metric = {}, .activation_threshold = 0, .cooldown = 300s}, inner),
                    config_error);
}

TEST_CASE("panic mode follows Knative's stable and panic windows", "[scaling][knative]") {
    panic_mode_options o;
    o.metric.name = "in_flight";
    o.target = 10;
    panic_mode kpa(o);
    REQUIRE(o.panic_window() == 6s);
    auto st = kpa.initial_state();
    time_point now = t0;
    std::int64_t current = 2;
    recommendation r;
    auto tick = [&](double load) {
        now += 2s;
        const auto s = members("in_flight", {load / 2, load / 2}, now);
        r = kpa.recommend(scaling_input{s, current, std::nullopt, now, std::nullopt}, st);
        REQUIRE(r.desired.has_value());
        current = *r.desired;
    };

    for (int i = 0; i < 40; ++i) tick(20);
    CHECK(current == 2);
    CHECK_FALSE(panic_mode::panicking(st));

    // A burst: the panic window sees 5x what two members can carry.
    tick(100);
    CHECK(panic_mode::panicking(st));
    CHECK(r.why.reason.find("entered panic") != std::string::npos);
    CHECK(current > 2);
    const time_point entered = now;
    for (int i = 0; i < 3; ++i) tick(100);
    CHECK(current == 10);
    const std::int64_t peak = current;

    // The burst ends: while panicking the size only goes up.
    tick(20);
    CHECK(panic_mode::panicking(st));
    CHECK(current == peak);
    CHECK(r.why.limited_by == limit::panic);
    for (int i = 0; i < 25; ++i) tick(20);
    CHECK(now - entered > 0s);
    CHECK(panic_mode::panicking(st));  // a stable window has not passed since the last crossing
    CHECK(current == peak);
    for (int i = 0; i < 100 && panic_mode::panicking(st); ++i) tick(20);
    CHECK_FALSE(panic_mode::panicking(st));
    CHECK(r.why.reason.find("left panic") != std::string::npos);
    CHECK(now - entered > 60s);
    CHECK(current < peak);

    SECTION("the maximum scale-down rate halves at most") {
        auto st2 = kpa.initial_state();
        const auto idle = members("in_flight", {0}, t0);
        auto d = kpa.recommend(scaling_input{idle, 10, std::nullopt, t0, std::nullopt}, st2);
        CHECK(d.desired == 5);
        CHECK(d.why.limited_by == limit::scale_down_rate);
    }
    SECTION("validation") {
        auto bad = o;
        bad.target = 0;
        CHECK_THROWS_AS(panic_mode(bad), config_error);
        bad = o;
        bad.panic_threshold = std::nan("");
        CHECK_THROWS_AS(panic_mode(bad), config_error);
    }
}

TEST_CASE("hysteresis holds inside the band between its thresholds", "[scaling][hysteresis]") {
    // Rules that would flap around 60 on their own.
    step_scaling flappy({steps_above("cpu", 60, {{0.0, std::nullopt, 1}}, 0s),
                         steps_below("cpu", 60, {{std::nullopt, 0.0, -1}}, 0s)});
    hysteresis<step_scaling> h({.metric = {.name = "cpu", .match = {}, .aggregate = aggregation::average,
                                           .allow_negative = false},
                                .scale_up_above = 70,
                                .scale_down_below = 40},
                               flappy);
    auto st = h.initial_state();
    auto at = [&](double v) {
        const auto s = members("cpu", {v});
        return h.recommend(input(s, 4), st);
    };
    auto r = at(65);
    CHECK(r.desired == 4);
    CHECK(r.why.limited_by == limit::hysteresis);
    CHECK(r.why.reason.find("not above scale_up_above 70") != std::string::npos);
    CHECK(at(75).desired == 5);
    r = at(50);
    CHECK(r.desired == 4);
    CHECK(r.why.limited_by == limit::hysteresis);
    CHECK(at(35).desired == 3);

    CHECK_THROWS_AS(hysteresis<step_scaling>({.metric = {.name = "cpu", .match = {}, .aggregate = aggregation::average,
                                                         .allow_negative = false},
                                              .scale_up_above = 40,
                                              .scale_down_below = 70},
                                             flappy),
                    config_error);
}

TEST_CASE("scheduled minimums come from the wall-clock input", "[scaling][schedule]") {
    using namespace std::chrono;
    const sys_seconds monday_0900{sys_days{year{2024} / January / 1} + 9h};  // 2024-01-01 was a Monday
    schedule_window business{.name = "business hours", .start = 8h, .end = 18h, .min_replicas = 5,
                             .days = {false, true, true, true, true, true, false}};
    schedule_window night{.name = "night batch", .start = 22h, .end = 2h, .min_replicas = 3,
                          .days = {false, false, false, false, false, true, false}};
    schedule_floor sched({.windows = {business, night}, .utc_offset = 0s});
    schedule_floor::state_type st;
    snapshot s(t0);
    auto at = [&](std::optional<sys_seconds> wall) {
        return sched.recommend(scaling_input{s, 2, std::nullopt, t0, wall}, st);
    };
    auto r = at(monday_0900);
    CHECK(r.desired == 5);
    CHECK(r.lower_bound);
    CHECK(r.why.reason.find("business hours") != std::string::npos);
    CHECK_FALSE(at(monday_0900 + 9h).desired.has_value());        // 18:00: closed (end exclusive)
    CHECK_FALSE(at(monday_0900 + 24h * 5).desired.has_value());   // Saturday 09:00
    CHECK(at(monday_0900 + 24h * 4 + 13h).desired == 3);          // Friday 22:00
    CHECK(at(monday_0900 + 24h * 4 + 16h).desired == 3);          // Saturday 01:00, opened Friday
    CHECK_FALSE(at(monday_0900 + 24h * 4 + 17h).desired.has_value());  // Saturday 02:00
    r = at(std::nullopt);
    CHECK_FALSE(r.desired.has_value());
    CHECK(r.why.reason == "no wall-clock time given");

    SECTION("a UTC offset shifts the local time of day") {
        schedule_floor shifted({.windows = {business}, .utc_offset = 2h});
        CHECK(shifted.recommend(scaling_input{s, 2, std::nullopt, t0, monday_0900 - 3h}, st).desired == 5);  // 08:00 local
        CHECK_FALSE(shifted.recommend(scaling_input{s, 2, std::nullopt, t0, monday_0900 + 7h}, st).desired.has_value());
    }
    SECTION("as a floor under other policies") {
        step_scaling rules(seed_rules());
        recommender<step_scaling, schedule_floor> rec({.resource = "gpu", .min_replicas = 1, .max_replicas = 20,
                                                       .fallback = {}},
                                                      rules, sched);
        auto rs = rec.initial_state();
        const auto quiet = members("gpu_utilization", {50});
        auto d = rec.evaluate_in_place(scaling_input{quiet, 2, std::nullopt, t0, monday_0900}, rs);
        CHECK(d.desired == 5);
        CHECK(d.why.limited_by == limit::schedule);
        // The floor never lowers: 8 members stay 8 when no rule fires.
        d = rec.evaluate_in_place(scaling_input{quiet, 8, std::nullopt, t0, monday_0900}, rs);
        CHECK(d.desired == 8);
        // A scale-in stops at the floor.
        const auto low = members("gpu_utilization", {10});
        d = rec.evaluate_in_place(scaling_input{low, 5, std::nullopt, t0, monday_0900}, rs);
        CHECK(d.desired == 5);
        CHECK(d.why.limited_by == limit::schedule);
    }
    CHECK_THROWS_AS(schedule_floor({.windows = {{.name = "x", .start = 8h, .end = 8h}}, .utc_offset = 0s}),
                    config_error);
    CHECK_THROWS_AS(schedule_floor({.windows = {}, .utc_offset = 0s}), config_error);
}
