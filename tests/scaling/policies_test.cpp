// The pure scaling policies: simple rules, step scaling with cooldowns, scale to zero,
// panic mode, hysteresis and scheduled minimums.
#include "catch.hpp"
#include "scaling_fixtures.hpp"

#include <salama/scaling/hysteresis.hpp>
#include <salama/scaling/kpa/kpa.hpp>
#include <salama/scaling/panic_mode.hpp>
#include <salama/scaling/recommender.hpp>
#include <salama/scaling/scale_to_zero.hpp>
#include <salama/scaling/schedule.hpp>
#include <salama/scaling/step_scaling.hpp>

#include <chrono>
#include <cstdint>
#include <limits>

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
        // Cooling down: the inner policy decides (no rule fires at 0, so it abstains) and the
        // note says how long is left; an empty optional used to pass a "!= 0" check as well.
        auto r = p.recommend(input(s, 3, t0 + 100s), st);
        CHECK_FALSE(r.desired.has_value());
        REQUIRE_FALSE(r.why.notes.empty());
        CHECK(r.why.notes.back() == "inactive for 100s of the 300s cooldown");
        r = p.recommend(input(s, 3, t0 + 299s), st);
        CHECK_FALSE(r.desired.has_value());
        CHECK(r.why.notes.back() == "inactive for 299s of the 300s cooldown");
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

    // Made with two ready members, it starts in panic (a restart must not scale down) and
    // leaves after a stable window without crossing the threshold.
    tick(20);
    CHECK(panic_mode::panicking(st));
    for (int i = 0; i < 39; ++i) tick(20);
    CHECK(current == 2);
    CHECK_FALSE(panic_mode::panicking(st));

    // A burst: the 6 s panic window averages 46.7 (5 members' worth over 2 ready: 2.5x).
    tick(100);
    CHECK(panic_mode::panicking(st));
    CHECK(r.why.reason.find("entered panic") != std::string::npos);
    CHECK(current == 5);
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
    CHECK(panic_mode::panicking(st));  // a stable window has not passed since the last crossing
    CHECK(current == peak);
    for (int i = 0; i < 100 && panic_mode::panicking(st); ++i) tick(20);
    CHECK_FALSE(panic_mode::panicking(st));
    CHECK(r.why.reason.find("left panic") != std::string::npos);
    CHECK(now - entered == 62s);  // the first tick strictly after panic time + 60 s
    CHECK(current == 5);          // the stable count, halved at most from 10 ready
    CHECK(r.why.limited_by == limit::scale_down_rate);

    SECTION("the maximum scale-down rate halves at most") {
        auto st2 = kpa.initial_state();
        const auto idle = members("in_flight", {0}, t0);
        CHECK(kpa.recommend(scaling_input{idle, 1, std::nullopt, t0, std::nullopt}, st2).desired == 0);
        const auto idle2 = members("in_flight", {0}, t0 + 2s);
        auto d = kpa.recommend(scaling_input{idle2, 10, std::nullopt, t0 + 2s, std::nullopt}, st2);
        CHECK(d.desired == 5);
        CHECK(d.why.limited_by == limit::scale_down_rate);
    }
    SECTION("a missing metric leaves the state untouched") {
        auto st2 = kpa.initial_state();
        const auto other = members("cpu", {50}, t0);
        const auto d = kpa.recommend(scaling_input{other, 4, std::nullopt, t0, std::nullopt}, st2);
        CHECK(d.metric_missing);
        CHECK_FALSE(d.desired);
        CHECK_FALSE(st2.core);  // not even made: the next evaluation is the first
        CHECK(st2.stable.count(t0) == 0);
    }
    SECTION("validation") {
        auto bad = o;
        bad.target = 0;
        CHECK_THROWS_AS(panic_mode(bad), config_error);
        bad = o;
        bad.panic_threshold = std::nan("");
        CHECK_THROWS_AS(panic_mode(bad), config_error);
        bad = o;
        bad.target_burst_capacity = -2;
        CHECK_THROWS_WITH(panic_mode(bad), Catch::Contains("panic_mode_options.target_burst_capacity"));
        bad = o;
        bad.scale_down_delay = -1s;
        CHECK_THROWS_AS(panic_mode(bad), config_error);
        bad.scale_down_delay = 3601s;  // Knative's limit is an hour
        CHECK_THROWS_WITH(panic_mode(bad), Catch::Contains("panic_mode_options.scale_down_delay"));
        bad = o;
        bad.averaging = window_averaging::buckets;
        bad.stable_window = 2h;
        CHECK_THROWS_WITH(panic_mode(bad), Catch::Contains("panic_mode_options.stable_window"));
    }
}

TEST_CASE("panic mode: Knative's per-second buckets count a second without data as 0", "[scaling][knative]") {
    panic_mode_options o;
    o.metric.name = "in_flight";
    o.target = 10;
    o.panic_threshold = 100;  // no panic here
    o.averaging = window_averaging::buckets;
    panic_mode by_buckets(o);
    o.averaging = window_averaging::samples;
    panic_mode by_samples(o);
    auto sb = by_buckets.initial_state();
    auto ss = by_samples.initial_state();
    // A sample every 2 s: the buckets see 100, 0, 100 over three seconds; the samples 100, 100.
    recommendation rb, rs;
    for (int i = 0; i < 2; ++i) {
        const auto now = t0 + std::chrono::seconds(2 * i);
        const auto s = members("in_flight", {100}, now);
        rb = by_buckets.recommend(scaling_input{s, 1, std::nullopt, now, std::nullopt}, sb);
        rs = by_samples.recommend(scaling_input{s, 1, std::nullopt, now, std::nullopt}, ss);
    }
    CHECK(rs.desired == 10);  // ceil(100 / 10)
    CHECK(rb.desired == 7);   // ceil(66.666667 / 10)
}

TEST_CASE("panic mode: a scale-down delay holds the largest size of the delay window", "[scaling][knative]") {
    panic_mode_options o;
    o.metric.name = "in_flight";
    o.target = 10;
    o.stable_window = 6s;          // short windows, so that the averages follow the load
    o.panic_threshold = 100;       // no panic here
    o.max_scale_down_rate = 100;   // and no scale-down floor
    o.scale_down_delay = 20s;      // 10 buckets of 2 s
    panic_mode kpa(o);
    auto st = kpa.initial_state();
    std::int64_t current = 1;
    recommendation r;
    auto at = [&](int s, double load) {
        const auto now = t0 + std::chrono::seconds(s);
        const auto snap = members("in_flight", {load}, now);
        r = kpa.recommend(scaling_input{snap, current, std::nullopt, now, std::nullopt}, st);
        current = *r.desired;
    };
    at(0, 10);
    CHECK(current == 1);
    at(2, 40);  // mean of 10 and 40: a scale-up passes at once
    CHECK(current == 3);
    at(70, 10);  // 68 s later nothing of the 3 is left in the window
    CHECK(current == 1);
    at(72, 30);
    CHECK(current == 2);
    at(80, 10);  // asks for 1, but 2 was asked for 8 s ago
    CHECK(current == 2);
    CHECK(r.why.limited_by == limit::scale_down_delay);
    CHECK(r.why.reason.find("scale-down to 1 delayed") != std::string::npos);
    at(90, 10);  // bucket 9 after the 2: still inside
    CHECK(current == 2);
    at(92, 10);  // bucket 10 after: out
    CHECK(current == 1);
}

// ---- the KPA core (Knative's Scale) -------------------------------------------------------

namespace {

/// Knative's test spec: target 10 per pod at 75 % utilization, rates 10x, panic at 200 %.
kpa::decider_spec knative_test_spec(double target = 10, double burst = 100) {
    kpa::decider_spec s;
    s.target_value = target;
    s.total_value = target / 0.75;
    s.target_burst_capacity = burst;
    s.activator_capacity = 150;
    s.max_scale_up_rate = 10;
    s.max_scale_down_rate = 10;
    return s;
}

kpa::decider_input kpa_in(time_point now, std::int64_t ready, double stable, double panic) {
    return {now, ready, kpa::pod_count_status::ok, stable, panic, kpa::metric_status::ok};
}

}  // namespace

TEST_CASE("KPA: an autoscaler made with more than one ready pod starts in panic", "[scaling][knative][kpa]") {
    const auto spec = knative_test_spec();
    const auto one = kpa::make_state(spec, 1, kpa::pod_count_status::ok, t0);
    CHECK_FALSE(one.in_panic());
    CHECK(one.max_panic_pods == 1);
    const auto two = kpa::make_state(spec, 2, kpa::pod_count_status::ok, t0);
    REQUIRE(two.in_panic());
    CHECK(*two.panic_time == t0);
    CHECK(two.max_panic_pods == 2);
    // A failed count is 0, not-found included.
    CHECK(kpa::make_state(spec, 5, kpa::pod_count_status::error, t0).max_panic_pods == 0);
    CHECK_FALSE(kpa::make_state(spec, 5, kpa::pod_count_status::not_found, t0).in_panic());
    // The delay window comes from the spec only through New.
    auto delayed = spec;
    delayed.scale_down_delay = 5min;
    const auto with = kpa::make_state(delayed, 0, kpa::pod_count_status::ok, t0);
    REQUIRE(with.delay_window);
    CHECK(with.delay_window->buckets() == 150);
    CHECK_FALSE(kpa::make_state(delayed, 0, kpa::pod_count_status::ok, t0, kpa::delay_window_mode::none).delay_window);
}

TEST_CASE("KPA: in panic the running maximum of both windows' counts, whatever the current size",
          "[scaling][knative][kpa]") {
    const auto spec = knative_test_spec(1, 100);
    auto st = kpa::make_state(spec, 1, kpa::pod_count_status::ok, t0);
    st.panic_time = t0 - 5s;
    st.max_panic_pods = 5;
    // The stable window asks more than the panic window: Knative provisions for it.
    auto r = kpa::scale_in_place(spec, kpa_in(t0, 5, 50, 30), st);
    CHECK(r.valid);
    CHECK(r.desired_pod_count == 50);
    CHECK(st.max_panic_pods == 50);
    // Load drops, a tick under the threshold within the stable window: holds 50, never 5 ready.
    r = kpa::scale_in_place(spec, kpa_in(t0 + 10s, 60, 1, 1), st);
    CHECK(r.desired_pod_count == 50);
    CHECK(r.event == kpa::panic_event::none);
    CHECK(*st.panic_time == t0);  // set by the first tick (over the threshold: 30 / 5 >= 2)
    // Panic time + 60 s equal to now is not yet strictly before it.
    r = kpa::scale_in_place(spec, kpa_in(t0 + 60s, 60, 1, 1), st);
    CHECK(st.in_panic());
    r = kpa::scale_in_place(spec, kpa_in(t0 + 60s + 1ns, 60, 1, 1), st);
    CHECK_FALSE(st.in_panic());
    CHECK(r.event == kpa::panic_event::left);
    CHECK(st.max_panic_pods == 0);
    CHECK(r.desired_pod_count == 6);  // the exit tick uses the stable count, floor(60 / 10)
}

TEST_CASE("KPA: errors leave the state untouched; a not-found count is no error", "[scaling][knative][kpa]") {
    const auto spec = knative_test_spec();
    const auto before = kpa::make_state(spec, 3, kpa::pod_count_status::ok, t0);
    auto st = before;
    auto in = kpa_in(t0 + 2s, 3, 1000, 1000);
    in.metrics = kpa::metric_status::no_data;
    auto r = kpa::scale_in_place(spec, in, st);
    CHECK_FALSE(r.valid);
    CHECK(r.invalid == kpa::invalid_reason::metrics);
    CHECK(r.desired_pod_count == 0);
    CHECK(st.panic_time == before.panic_time);
    CHECK(st.max_panic_pods == before.max_panic_pods);
    in.metrics = kpa::metric_status::ok;
    in.pods = kpa::pod_count_status::error;
    r = kpa::scale_in_place(spec, in, st);
    CHECK(r.invalid == kpa::invalid_reason::pod_count);
    CHECK(st.max_panic_pods == 3);
    // Not found: the count given (0) floored at 1 for the rates: 1000 / 10 -> 100, limited to 10.
    in.pods = kpa::pod_count_status::not_found;
    in.ready_pods = 0;
    r = kpa::scale_in_place(spec, in, st);
    CHECK(r.valid);
    CHECK(r.desired_pod_count == 10);
    CHECK(r.excess_burst_capacity == -1100);  // floor(0 x 13.3 - 100 - 1000): the unfloored count
}

TEST_CASE("KPA: activation scale, reachability and the scale-down delay", "[scaling][knative][kpa]") {
    auto spec = knative_test_spec(10, 75);
    SECTION("activation scale lifts a non-zero demand only") {
        spec.activation_scale = 2;
        auto st = kpa::make_state(spec, 1, kpa::pod_count_status::ok, t0);
        CHECK(kpa::scale_in_place(spec, kpa_in(t0, 1, 0, 0), st).desired_pod_count == 0);
        CHECK(kpa::scale_in_place(spec, kpa_in(t0, 1, 1, 0), st).desired_pod_count == 2);
    }
    SECTION("an unreachable revision has no scale-down floor") {
        spec.max_scale_down_rate = 1.1;
        auto st = kpa::make_state(spec, 1, kpa::pod_count_status::ok, t0);
        CHECK(kpa::scale_in_place(spec, kpa_in(t0, 100, 1, 1), st).desired_pod_count == 90);
        spec.reachable = false;
        CHECK(kpa::scale_in_place(spec, kpa_in(t0, 100, 1, 1), st).desired_pod_count == 1);
    }
    SECTION("the delay window: scale-ups at once, scale-downs after it, none while unreachable") {
        spec.target_burst_capacity = 0;
        spec.panic_threshold = 100;
        spec.scale_down_delay = 10s;  // 5 buckets of 2 s
        auto st = kpa::make_state(spec, 0, kpa::pod_count_status::ok, t0);
        CHECK(kpa::scale_in_place(spec, kpa_in(t0, 0, 40, 40), st).desired_pod_count == 4);
        auto r = kpa::scale_in_place(spec, kpa_in(t0 + 8s, 0, 0, 0), st);
        CHECK(r.desired_pod_count == 4);
        CHECK(r.undelayed == 0);
        CHECK(kpa::scale_in_place(spec, kpa_in(t0 + 10s, 0, 0, 0), st).desired_pod_count == 0);
        CHECK(kpa::scale_in_place(spec, kpa_in(t0 + 12s, 0, 30, 30), st).desired_pod_count == 3);
        spec.reachable = false;
        CHECK(kpa::scale_in_place(spec, kpa_in(t0 + 14s, 0, 0, 0), st).desired_pod_count == 0);
    }
    SECTION("excess burst capacity: 0 without a burst capacity, -1 when unlimited") {
        auto st = kpa::make_state(spec, 1, kpa::pod_count_status::ok, t0);
        spec.target_burst_capacity = 0;
        CHECK(kpa::scale_in_place(spec, kpa_in(t0, 3, 10, 10), st).excess_burst_capacity == 0);
        spec.target_burst_capacity = -1;
        CHECK(kpa::scale_in_place(spec, kpa_in(t0, 3, 10, 10), st).excess_burst_capacity == -1);
    }
    SECTION("an invalid spec is misuse") {
        auto st = kpa::make_state(spec, 1, kpa::pod_count_status::ok, t0);
        spec.target_value = 0;
        CHECK_THROWS_WITH(kpa::scale_in_place(spec, kpa_in(t0, 1, 1, 1), st),
                          Catch::Contains("decider_spec.target_value"));
    }
}

TEST_CASE("KPA: Go's amd64 arithmetic, contraction off", "[scaling][knative][kpa]") {
    // 3 x (1/3) is 1 - 2^-54 exactly, which rounds to 1.0; a fused multiply-subtract keeps the
    // -2^-54 and floors to -1. This file is compiled with -ffp-contract=off, as Go never fuses.
    kpa::decider_spec spec;
    spec.target_value = 1;
    spec.total_value = 1.0 / 3;
    spec.target_burst_capacity = 1;
    auto st = kpa::make_state(spec, 1, kpa::pod_count_status::ok, t0);
    CHECK(kpa::scale_in_place(spec, kpa_in(t0, 3, 0, 0), st).excess_burst_capacity == 0);

    using kpa::detail::go_int32;
    CHECK(go_int32(-2.9) == -2);
    CHECK(go_int32(std::nan("")) == std::numeric_limits<std::int32_t>::min());
    CHECK(go_int32(3.0e9) == std::numeric_limits<std::int32_t>::min());
    CHECK(go_int32(std::int64_t{1} << 32 | 7) == 7);
    CHECK(std::signbit(kpa::detail::go_max(-0.0, 0.0)) == false);
    CHECK(std::signbit(kpa::detail::go_min(0.0, -0.0)) == true);
    CHECK(std::isinf(kpa::detail::go_max(std::nan(""), std::numeric_limits<double>::infinity())));
}

TEST_CASE("KPA: the delay window's buckets pair seconds as Go's truncating division does",
          "[scaling][knative][kpa]") {
    // Unix seconds -62135596799 and -62135596798 share bucket -31067798399; after 1970, 0 and 1
    // share bucket 0 but 1 and 2 do not.
    constexpr std::int64_t go_zero = -62135596800;
    const kpa::max_time_window before(10s, 2s, go_zero);
    CHECK(before.bucket_of(time_point{} + 1s) == before.bucket_of(time_point{} + 2s));
    CHECK(before.bucket_of(time_point{} + 2s) != before.bucket_of(time_point{} + 3s));
    const kpa::max_time_window after(10s, 2s, 0);
    CHECK(after.bucket_of(time_point{} + 1s) != after.bucket_of(time_point{} + 2s));
    CHECK(after.bucket_of(time_point{} + 2s) == after.bucket_of(time_point{} + 3s));
    // Across zero, truncation puts -1, 0 and 1 in one bucket.
    const kpa::max_time_window across(10s, 2s, -1);
    CHECK(across.bucket_of(time_point{}) == 0);
    CHECK(across.bucket_of(time_point{} + 2s) == 0);

    kpa::max_window w(3);
    w.record(0, 5);
    w.record(1, 2);
    w.record(1, 1);  // the same bucket keeps the larger
    CHECK(w.current() == 5);
    w.record(3, 1);
    CHECK(w.current() == 2);
    CHECK_THROWS_AS(kpa::max_window(0), config_error);
    CHECK_THROWS_AS(kpa::max_time_window(10s, 500ms), config_error);
}

TEST_CASE("KPA: Knative's bucketed average", "[scaling][knative][kpa]") {
    kpa::bucket_average b(6s);
    CHECK(b.window_average(t0) == 0);
    b.record(t0, 10);
    b.record(t0 + 500ms, 5);  // same second: adds up
    CHECK(b.window_average(t0) == 15);
    b.record(t0 + 2s, 30);
    CHECK(b.window_average(t0 + 2s) == 15);  // (15 + 0 + 30) / 3
    // Later empty seconds do not count until they are written over (Knative's divisor).
    CHECK(b.window_average(t0 + 4s) == 15);
    CHECK(b.window_average(t0 + 7s) == 30);  // t0's bucket has left the window
    CHECK(b.window_average(t0 + 9s) == 0);  // a window without data
    b.record(t0 + 20s, 7);  // long after: starts over
    CHECK(b.window_average(t0 + 20s) == 7);
    CHECK(b.window_average(t0 + 21s) == 7);
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

TEST_CASE("step adjustments beyond the integer range are refused; sums with the reported size saturate",
          "[scaling][step][validation][bad_input]") {
    // 1e19 used to pass, then its cast to int64 turned "scale out" into "scale in 10 -> 0".
    CHECK_THROWS_WITH(step_scaling({steps_above("q", 1, {{0.0, std::nullopt, 1e19}})}),
                      Catch::Contains("step_scaling.policies[0].steps[0].adjustment: must be within "
                                      "[-2147483647, 2147483647] members, got 1e+19"));
    auto exact = steps_above("q", 1, {{0.0, std::nullopt, -1e19}});
    exact.type = adjustment_type::exact_capacity;
    CHECK_THROWS_WITH(step_scaling({exact}), Catch::Contains("steps[0].adjustment"));
    auto pct = steps_above("q", 1, {{0.0, std::nullopt, 1e300}});
    pct.type = adjustment_type::percent_change_in_capacity;
    CHECK_THROWS_WITH(step_scaling({pct}),
                      Catch::Contains("steps[0].adjustment: must be within [-1e+06, 1e+06] percent, got 1e+300"));
    auto mag = pct;
    mag.steps[0].adjustment = 10;
    mag.min_adjustment_magnitude = std::numeric_limits<std::int64_t>::max();
    CHECK_THROWS_WITH(step_scaling({mag}), Catch::Contains("min_adjustment_magnitude: must be within [0, 2147483647]"));
    CHECK_THROWS_WITH(step_scaling({steps_above("q", 1, {{0.0, std::nullopt, 1}}, duration::max())}),
                      Catch::Contains("step_scaling.policies[0].cooldown: must be within [0, 1e+09] seconds"));
    CHECK_THROWS_WITH(
        step_scaling(std::vector<scaling_rule>{{.name = "", .metric = "q", .threshold = 1,
                                                .action = scale_action::scale_up, .cooldown = 0s,
                                                .scale_size = std::int64_t{1} << 40}}),
        Catch::Contains("scaling_rules[0].scale_size: must be at most 2147483647"));

    // The largest valid steps, applied to the largest size an actuator could report.
    constexpr auto big = std::numeric_limits<std::int64_t>::max() - 1;
    const auto up = steps_above("q", 1, {{0.0, std::nullopt, 2147483647}});
    CHECK(up.apply_step(up.steps[0], big) == std::numeric_limits<std::int64_t>::max());
    CHECK(up.apply_step(up.steps[0], 10) == 2147483657);
    auto pct_up = steps_above("q", 1, {{0.0, std::nullopt, 1e6}});
    pct_up.type = adjustment_type::percent_change_in_capacity;
    CHECK(pct_up.apply_step(pct_up.steps[0], big) == std::numeric_limits<std::int64_t>::max());
    auto pct_down = steps_below("q", 1, {{std::nullopt, 0.0, -1e6}});
    pct_down.type = adjustment_type::percent_change_in_capacity;
    CHECK(pct_down.apply_step(pct_down.steps[0], big) == 0);

    // A valid large step through the policy: 10 members scale out, never in.
    step_scaling g({steps_above("q", 1, {{0.0, std::nullopt, 2147483647}})});
    auto st = g.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("q", 5));
    const auto r = g.recommend(input(s, 10), st);
    REQUIRE(r.desired);
    CHECK(*r.desired == 2147483657);
}

TEST_CASE("panic mode: rates beyond 1e6 are refused; a huge demand or size stays positive",
          "[scaling][knative][validation][bad_input]") {
    panic_mode_options o;
    o.metric.name = "concurrency";
    o.target = 1;
    auto bad = o;
    bad.max_scale_up_rate = 1e300;
    CHECK_THROWS_WITH(panic_mode(bad),
                      Catch::Contains("panic_mode_options.max_scale_up_rate: must be at most 1e+06, got 1e+300"));
    bad = o;
    bad.max_scale_down_rate = std::numeric_limits<double>::max();
    CHECK_THROWS_WITH(panic_mode(bad), Catch::Contains("panic_mode_options.max_scale_down_rate: must be at most"));
    bad = o;
    bad.stable_window = duration::max();
    CHECK_THROWS_WITH(panic_mode(bad), Catch::Contains("panic_mode_options.stable_window: must be within"));

    // 1e12 reported members and a demand of 1e15: the KPA core's int32 conversion used to
    // give INT32_MIN, which the recommender then clamped to its minimum.
    o.max_scale_up_rate = 1e6;
    panic_mode p(o);
    auto st = p.initial_state();
    snapshot s(t0);
    REQUIRE(s.add("concurrency", 1e15));
    const auto r = p.recommend(input(s, 1'000'000'000'000), st);
    REQUIRE(r.desired);
    CHECK(*r.desired >= 2147483646);  // positive, at the int32 edge (used to be INT32_MIN)
}

TEST_CASE("step group: the largest scale-out wins and starts its own cooldown; an undone decision restores the cooldowns",
          "[scaling][step][cooldown]") {
    step_scaling g({steps_above("cpu", 50, {{0.0, std::nullopt, 1}}, 100s),
                    steps_above("queue", 10, {{0.0, std::nullopt, 3}}, 400s),
                    steps_below("cpu", 20, {{std::nullopt, 0.0, -1}}, 200s)});
    snapshot both(t0);
    REQUIRE(both.add("cpu", 60));
    REQUIRE(both.add("queue", 20));
    auto st = g.initial_state();
    auto r = g.recommend(input(both, 4, t0), st);
    REQUIRE(r.desired);
    CHECK(*r.desired == 7);  // queue's +3 beats cpu's +1
    CHECK(r.why.policy == "queue_out");
    CHECK(r.fired.size() == 2);
    REQUIRE(st.out_until);
    CHECK(*st.out_until == t0 + 400s);  // the winner's cooldown, not cpu's 100 s
    CHECK(st.out_base == 4);

    SECTION("a final decision that moved up keeps the cooldown") {
        decision up;
        up.current = 4;
        up.desired = 7;
        g.on_decision(up, st);
        REQUIRE(st.out_until);
        CHECK(*st.out_until == t0 + 400s);
    }
    SECTION("a final decision held back (another limit) restores the cooldowns before it") {
        decision held;
        held.current = 4;
        held.desired = 4;
        g.on_decision(held, st);
        CHECK_FALSE(st.out_until.has_value());
        CHECK(st.out_base == 0);
        // So the next evaluation acts again instead of counting 3 members never added.
        r = g.recommend(input(both, 4, t0 + 10s), st);
        REQUIRE(r.desired);
        CHECK(*r.desired == 7);
    }
    SECTION("an undone scale-in restores the scale-in cooldown that ran before") {
        snapshot low(t0);
        REQUIRE(low.add("cpu", 10));
        REQUIRE(low.add("queue", 0));
        auto st2 = g.initial_state();
        auto in1 = g.recommend(input(low, 5, t0), st2);
        REQUIRE(in1.desired);
        REQUIRE(*in1.desired == 4);
        decision moved;
        moved.current = 5;
        moved.desired = 4;
        g.on_decision(moved, st2);
        REQUIRE(st2.in_until);
        CHECK(*st2.in_until == t0 + 200s);
        auto in2 = g.recommend(input(low, 4, t0 + 250s), st2);  // the cooldown is over
        REQUIRE(in2.desired);
        CHECK(*in2.desired == 3);
        REQUIRE(st2.in_until);
        CHECK(*st2.in_until == t0 + 450s);
        decision floor_held;  // a floor kept it at 4
        floor_held.current = 4;
        floor_held.desired = 4;
        g.on_decision(floor_held, st2);
        REQUIRE(st2.in_until);
        CHECK(*st2.in_until == t0 + 200s);
    }
}
