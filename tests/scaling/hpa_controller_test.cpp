// Unit tests of the HPA controller core and its behavior rules: metrics combined by max, partial
// data, invalid metric types, range clamping, legacy stabilization and cap, behavior windows and
// rate policies over several reconciles, scale-event bookkeeping, explanations, and validation.
#include "catch.hpp"

#include <salama/scaling/hpa/hpa.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace hpa = salama::scaling::hpa;
using namespace std::chrono_literals;

namespace {

const salama::time_point t0{std::chrono::hours(24 * 365)};

/// `n` running, ready members requesting 1000 milli-CPU each (one container).
std::vector<hpa::member> members(int n) {
    std::vector<hpa::member> out;
    for (int i = 0; i < n; ++i) {
        hpa::member m;
        m.name = "m" + std::to_string(i);
        m.containers = {{"app", {{"cpu", 1000}}, false}};
        out.push_back(m);
    }
    return out;
}

/// A CPU reading where every member of `ms` used `usage` milli-CPU, sampled at `ts`.
hpa::metric_reading cpu_reading(const std::vector<hpa::member>& ms, double usage, salama::time_point ts) {
    hpa::metric_reading r;
    for (const auto& m : ms) r.resource_samples.push_back({m.name, {{"app", usage}}, ts, 60s});
    return r;
}

hpa::reconcile_input input(int current, double cpu_usage, salama::time_point now) {
    hpa::reconcile_input in;
    in.current_replicas = current;
    in.status_replicas = current;
    in.members = members(current);
    in.readings = {cpu_reading(in.members, cpu_usage, now)};
    return in;
}

hpa::hpa_spec cpu_spec(int min, int max, int percent = 50) {
    hpa::hpa_spec s;
    s.min_replicas = min;
    s.max_replicas = max;
    s.metrics = {hpa::resource_utilization_metric("cpu", percent)};
    return s;
}

std::string reason_of(const hpa::decision& d, hpa::condition_type t) {
    const auto* c = d.find(t);
    return c ? c->reason : std::string("<unset>");
}

}  // namespace

TEST_CASE("hpa controller: scales up on CPU and explains why", "[scaling][hpa]") {
    hpa::controller c{cpu_spec(1, 10)};
    auto d = c.reconcile(input(2, 1000, t0), {}, t0);  // 100 % of a 50 % target
    CHECK(d.desired_replicas == 4);
    CHECK(d.rescale);
    CHECK(reason_of(d, hpa::condition_type::able_to_scale) == "SucceededRescale");
    CHECK(reason_of(d, hpa::condition_type::scaling_active) == "ValidMetricFound");
    CHECK(reason_of(d, hpa::condition_type::scaling_limited) == "DesiredWithinRange");
    REQUIRE(d.winning_metric);
    CHECK(*d.winning_metric == 0);
    const auto text = d.explain();
    CHECK(text.find("cpu resource utilization") != std::string::npos);
    CHECK(text.find("[winner]") != std::string::npos);
    CHECK(d.reason.find("above target") != std::string::npos);
}

TEST_CASE("hpa controller: several metrics take the max; errors never allow a scale-down", "[scaling][hpa]") {
    auto spec = cpu_spec(1, 20);
    hpa::metric_spec q;
    q.type = hpa::metric_source_type::external;
    q.name = "queue";
    q.target = {hpa::target_type::average_value, 0, 0, 10000};
    spec.metrics.push_back(q);
    hpa::controller c{spec};
    SECTION("the larger proposal wins") {
        auto in = input(4, 500, t0);  // cpu at target: keeps 4
        hpa::metric_reading ext;
        ext.values_milli = {90000};  // 9 per member at 10 per member: ceil(9) = 9
        in.readings.push_back(ext);
        auto d = c.reconcile(in, {}, t0);
        CHECK(d.desired_replicas == 8);  // legacy cap: max(2 * 4, 4)
        CHECK(*d.winning_metric == 1);
        CHECK(reason_of(d, hpa::condition_type::scaling_limited) == "ScaleUpLimit");
    }
    SECTION("an errored metric is skipped when the others scale up") {
        auto in = input(4, 1000, t0);
        hpa::metric_reading ext;
        ext.fetch_error = "connection refused";
        in.readings.push_back(ext);
        auto d = c.reconcile(in, {}, t0);
        CHECK(d.desired_replicas == 8);
        REQUIRE(d.error);
        CHECK(d.error->find("connection refused") != std::string::npos);
        CHECK(reason_of(d, hpa::condition_type::scaling_active) == "ValidMetricFound");
    }
    SECTION("an errored metric blocks a scale-down") {
        auto in = input(4, 100, t0);
        in.last_desired_replicas = 4;
        hpa::metric_reading ext;
        ext.fetch_error = "connection refused";
        in.readings.push_back(ext);
        auto d = c.reconcile(in, {}, t0);
        CHECK(d.desired_replicas == 4);
        CHECK_FALSE(d.rescale);
        const auto* active = d.find(hpa::condition_type::scaling_active);
        REQUIRE(active);
        CHECK_FALSE(active->status);
        CHECK(active->reason == "FailedGetExternalMetric");
    }
}

TEST_CASE("hpa controller: unknown metric types are rejected, the rest still used", "[scaling][hpa]") {
    auto spec = cpu_spec(1, 10);
    hpa::metric_spec odd;
    odd.type = hpa::metric_source_type::unknown;
    odd.type_name = "CheddarCheese";
    spec.metrics.push_back(odd);
    hpa::controller c{spec};
    auto in = input(2, 1000, t0);
    in.readings.push_back({});
    auto d = c.reconcile(in, {}, t0);
    CHECK(d.desired_replicas == 4);
    REQUIRE(d.metrics.size() == 2);
    CHECK(d.metrics[1].failure_reason == "InvalidMetricSourceType");
    CHECK(d.metrics[1].error->find("CheddarCheese") != std::string::npos);

    hpa::hpa_spec only_odd = cpu_spec(1, 10);
    only_odd.metrics = {odd};
    auto bad = hpa::controller{only_odd}.reconcile(in, {}, t0);
    CHECK_FALSE(bad.rescale);
    CHECK(reason_of(bad, hpa::condition_type::scaling_active) == "InvalidMetricSourceType");
}

TEST_CASE("hpa controller: range clamping and the disabled state", "[scaling][hpa]") {
    hpa::controller c{cpu_spec(2, 5)};
    auto above = c.reconcile(input(7, 500, t0), {}, t0);
    CHECK(above.desired_replicas == 5);
    CHECK(above.reason.find("above Spec.MaxReplicas") != std::string::npos);
    auto below = c.reconcile(input(1, 500, t0), {}, t0);
    CHECK(below.desired_replicas == 2);
    auto zero = c.reconcile(input(0, 500, t0), {}, t0);
    CHECK(zero.desired_replicas == 0);
    CHECK_FALSE(zero.rescale);
    CHECK(reason_of(zero, hpa::condition_type::scaling_active) == "ScalingDisabled");
}

TEST_CASE("hpa controller: legacy scale-down waits out the stabilization window", "[scaling][hpa]") {
    hpa::controller_options o;
    o.downscale_stabilization = 300s;
    hpa::controller c{cpu_spec(1, 10), o};
    hpa::autoscaler_state state;
    auto now = t0;
    // High load first, then low load: the high recommendation holds the count for 300 s.
    auto d = c.reconcile(input(4, 500, now), state, now);
    CHECK(d.desired_replicas == 4);
    state = d.state;
    int current = d.desired_replicas;
    for (int step = 1; step <= 20; ++step) {
        now += 15s;
        d = c.reconcile(input(current, 100, now), state, now);
        state = d.state;
        if (d.rescale) break;
        CHECK(reason_of(d, hpa::condition_type::able_to_scale) == "ScaleDownStabilized");
        CHECK(d.desired_replicas == 4);
    }
    CHECK(d.rescale);
    CHECK(d.desired_replicas == 1);
    CHECK(now - t0 == 300s);  // the first reconcile at or after the window: age 300 is outside
    CHECK(state.recommendations->size() <= 21);
}

TEST_CASE("hpa controller: behavior rate policies bound scale-up across reconciles", "[scaling][hpa]") {
    auto spec = cpu_spec(1, 100);
    hpa::scaling_rules up;
    up.select = hpa::select_policy::max;
    up.policies = std::vector<hpa::rate_policy>{{hpa::policy_type::pods, 2, 60}};
    spec.behavior = hpa::behavior{up, std::nullopt};
    hpa::controller c{spec};
    hpa::autoscaler_state state;
    auto now = t0;
    int current = 2;
    // 2 more members per 60 s at most, however high the load.
    auto d = c.reconcile(input(current, 5000, now), state, now);
    CHECK(d.desired_replicas == 4);
    CHECK(d.limit == hpa::limit_reason::scale_up_limit);
    REQUIRE(d.limiting_policy);
    CHECK(d.limiting_policy->type == hpa::policy_type::pods);
    CHECK(d.explain().find("by policy Pods 2 per 60 s") != std::string::npos);
    REQUIRE(d.state.scale_up_events.size() == 1);
    CHECK(d.state.scale_up_events[0].replica_change == 2);
    state = d.state;
    current = d.desired_replicas;
    now += 30s;
    d = c.reconcile(input(current, 5000, now), state, now);
    CHECK(d.desired_replicas == 4);  // the period's budget is spent
    CHECK_FALSE(d.rescale);
    state = d.state;
    now += 30s;  // the first event is now 60 s old: outside the period
    d = c.reconcile(input(current, 5000, now), state, now);
    CHECK(d.desired_replicas == 6);
    // The outdated slot is reused rather than growing the list.
    CHECK(d.state.scale_up_events.size() == 1);
    CHECK(d.state.scale_up_events[0].replica_change == 2);
}

TEST_CASE("hpa behavior: select policies and disabled directions", "[scaling][hpa]") {
    hpa::resolved_rules r;
    r.policies = {{hpa::policy_type::pods, 4, 60}, {hpa::policy_type::percent, 100, 60}};
    r.select = hpa::select_policy::max;
    CHECK(hpa::scale_up_limit(10, {}, {}, r, t0) == 20);
    r.select = hpa::select_policy::min;
    CHECK(hpa::scale_up_limit(10, {}, {}, r, t0) == 14);
    r.select = hpa::select_policy::disabled;
    CHECK(hpa::scale_up_limit(10, {}, {}, r, t0) == 10);

    hpa::resolved_rules down;
    down.policies = {{hpa::policy_type::pods, 4, 60}, {hpa::policy_type::percent, 50, 60}};
    down.select = hpa::select_policy::max;
    CHECK(hpa::scale_down_limit(10, {}, {}, down, t0) == 5);
    down.select = hpa::select_policy::min;
    CHECK(hpa::scale_down_limit(10, {}, {}, down, t0) == 6);

    hpa::resolved_behavior b{hpa::default_scale_up_rules(), down};
    b.scale_down.select = hpa::select_policy::disabled;
    auto lim = hpa::limit_with_behavior(10, 3, 1, 20, b, {}, {}, t0);
    CHECK(lim.replicas == 10);
    CHECK(lim.reason == hpa::limit_reason::scale_down_limit);
    CHECK_FALSE(lim.policy);  // disabled: no policy chose the bound
    b.scale_down.select = hpa::select_policy::min;
    auto by_min = hpa::limit_with_behavior(10, 3, 1, 20, b, {}, {}, t0);
    CHECK(by_min.replicas == 6);
    REQUIRE(by_min.policy);
    CHECK(by_min.policy->type == hpa::policy_type::pods);
}

TEST_CASE("hpa behavior: events inside a period count against it", "[scaling][hpa]") {
    std::vector<hpa::scale_event> up{{3, t0 - 10s, false}, {5, t0 - 70s, false}};
    CHECK(hpa::replicas_change_in_period(60, up, t0) == 3);
    CHECK(hpa::replicas_change_in_period(71, up, t0) == 8);
    CHECK(hpa::replicas_change_in_period(70, up, t0) == 3);  // age 70 is outside a 70 s period
    hpa::resolved_rules r{0, hpa::select_policy::max, {{hpa::policy_type::percent, 100, 60}}, {}};
    // Start of period: 10 - 3 = 7; 100 % more: 14.
    CHECK(hpa::scale_up_limit(10, up, {}, r, t0) == 14);
}

TEST_CASE("hpa behavior: stabilization windows and slot reuse", "[scaling][hpa]") {
    std::vector<hpa::recommendation> recs{{8, t0 - 400s}, {6, t0 - 100s}, {9, t0 - 500s}};
    auto s = hpa::stabilize_with_behavior(recs, 8, 3, 0, 300, t0);
    CHECK(s.replicas == 6);  // the highest recent one bounds the scale-down
    CHECK(s.reason == "ScaleDownStabilized");
    // The last slot old for both windows (index 2) took the new recommendation.
    REQUIRE(recs.size() == 3);
    CHECK(recs[2].replicas == 3);
    CHECK(recs[0].replicas == 8);

    std::vector<hpa::recommendation> legacy{{5, t0 - 10s}};
    auto l = hpa::stabilize_legacy(legacy, 2, 300s, t0);
    CHECK(l.replicas == 5);
    CHECK(legacy.size() == 2);
}

TEST_CASE("hpa behavior: storing events marks outdated ones and reuses the last slot", "[scaling][hpa]") {
    hpa::resolved_behavior b = hpa::resolve(hpa::behavior{});
    std::vector<hpa::scale_event> up{{1, t0 - 100s, false}, {2, t0 - 5s, false}, {3, t0 - 50s, false}};
    std::vector<hpa::scale_event> down;
    hpa::store_scale_event(up, down, &b, 4, 10, t0);  // longest scale-up period: 15 s
    REQUIRE(up.size() == 3);
    CHECK(up[0].outdated);
    CHECK(up[1].replica_change == 2);
    CHECK_FALSE(up[1].outdated);
    CHECK(up[2].replica_change == 6);  // the last outdated slot
    CHECK_FALSE(up[2].outdated);
    hpa::store_scale_event(up, down, nullptr, 10, 4, t0);
    CHECK(down.empty());  // without behavior nothing is recorded
    hpa::store_scale_event(up, down, &b, 10, 4, t0);
    REQUIRE(down.size() == 1);
    CHECK(down[0].replica_change == 6);
}

TEST_CASE("hpa behavior: defaults and legacy limits", "[scaling][hpa]") {
    auto b = hpa::resolve(hpa::behavior{}, 120);
    CHECK(b.scale_up.stabilization_window_seconds == 0);
    CHECK(b.scale_up.policies.size() == 2);
    CHECK(b.scale_down.stabilization_window_seconds == 120);
    CHECK(b.scale_down.policies.size() == 1);
    hpa::scaling_rules partial;
    partial.stabilization_window_seconds = 60;
    auto r = hpa::resolve_scale_down(partial);
    CHECK(r.stabilization_window_seconds == 60);
    CHECK(r.policies.front().type == hpa::policy_type::percent);

    auto cap = hpa::limit_legacy(3, 40, 1, 100, 2.0, 4.0);
    CHECK(cap.replicas == 6);
    CHECK(cap.reason == hpa::limit_reason::scale_up_limit);
    auto small = hpa::limit_legacy(1, 40, 1, 100, 2.0, 4.0);
    CHECK(small.replicas == 4);
    auto max = hpa::limit_legacy(3, 40, 1, 5, 2.0, 4.0);
    CHECK(max.reason == hpa::limit_reason::too_many_replicas);
    auto min = hpa::limit_legacy(3, 0, 2, 5, 2.0, 4.0);
    CHECK(min.replicas == 2);
    CHECK(hpa::to_string(min.reason) == "TooFewReplicas");
}

TEST_CASE("hpa controller: per-direction tolerance from behavior", "[scaling][hpa]") {
    auto spec = cpu_spec(1, 10);
    hpa::scaling_rules down;
    down.tolerance = 0.5;
    spec.behavior = hpa::behavior{std::nullopt, down};
    hpa::controller c{spec};
    auto d = c.reconcile(input(4, 300, t0), {}, t0);  // ratio 0.6: inside a 0.5 down tolerance
    CHECK(d.desired_replicas == 4);
    auto legacy = hpa::controller{cpu_spec(1, 10)}.reconcile(input(4, 300, t0), {}, t0);
    CHECK(legacy.metrics[0].estimate->replicas == 3);
}

TEST_CASE("hpa controller: no metric means cpu at 80 %", "[scaling][hpa]") {
    hpa::hpa_spec spec;
    spec.max_replicas = 10;
    hpa::controller c{spec};
    REQUIRE(c.spec().metrics.size() == 1);
    CHECK(c.spec().metrics[0].target.average_utilization == 80);
    auto d = c.reconcile(input(2, 1600, t0), {}, t0);
    CHECK(d.desired_replicas == 4);
}

TEST_CASE("hpa validation: bad specs and options name the field", "[scaling][hpa]") {
    SECTION("min above max") {
        CHECK_THROWS_WITH(hpa::controller{cpu_spec(5, 3)}, Catch::Contains("invalid hpa_spec.min_replicas"));
    }
    SECTION("negative stabilization window") {
        auto s = cpu_spec(1, 3);
        hpa::scaling_rules r;
        r.stabilization_window_seconds = -1;
        s.behavior = hpa::behavior{std::nullopt, r};
        CHECK_THROWS_WITH(hpa::controller{s},
                          Catch::Contains("hpa_spec.behavior.scale_down.stabilization_window_seconds"));
    }
    SECTION("unknown policy and select values") {
        auto s = cpu_spec(1, 3);
        hpa::scaling_rules r;
        r.policies = std::vector<hpa::rate_policy>{{static_cast<hpa::policy_type>(7), 1, 15}};
        s.behavior = hpa::behavior{r, std::nullopt};
        CHECK_THROWS_WITH(hpa::controller{s}, Catch::Contains("hpa_spec.behavior.scale_up.policies[0].type"));
        hpa::scaling_rules sel;
        sel.select = static_cast<hpa::select_policy>(9);
        s.behavior = hpa::behavior{sel, std::nullopt};
        CHECK_THROWS_WITH(hpa::controller{s}, Catch::Contains("hpa_spec.behavior.scale_up.select"));
        CHECK_FALSE(hpa::parse_select_policy("Sometimes"));
        CHECK_FALSE(hpa::parse_policy_type("Nodes"));
        CHECK_FALSE(hpa::parse_metric_source_type("CheddarCheese"));
        CHECK(hpa::parse_select_policy("Disabled") == hpa::select_policy::disabled);
    }
    SECTION("policy values and periods") {
        auto s = cpu_spec(1, 3);
        hpa::scaling_rules r;
        r.policies = std::vector<hpa::rate_policy>{{hpa::policy_type::pods, 0, 15}};
        s.behavior = hpa::behavior{r, std::nullopt};
        CHECK_THROWS_WITH(hpa::controller{s}, Catch::Contains("policies[0].value: must be positive, got 0"));
        r.policies = std::vector<hpa::rate_policy>{{hpa::policy_type::pods, 1, 4000}};
        s.behavior = hpa::behavior{r, std::nullopt};
        CHECK_THROWS_WITH(hpa::controller{s}, Catch::Contains("policies[0].period_seconds"));
        r.policies = std::vector<hpa::rate_policy>{};
        s.behavior = hpa::behavior{r, std::nullopt};
        CHECK_THROWS_WITH(hpa::controller{s}, Catch::Contains("policies: must hold at least one policy"));
    }
    SECTION("targets") {
        auto s = cpu_spec(1, 3, 0);
        CHECK_THROWS_WITH(hpa::controller{s}, Catch::Contains("hpa_spec.metrics[0].target.average_utilization"));
    }
    SECTION("controller options") {
        hpa::controller_options o;
        o.tolerance.scale_up = std::nan("");
        CHECK_THROWS_WITH((hpa::controller{cpu_spec(1, 3), o}),
                          Catch::Contains("invalid controller_options.tolerance.scale_up"));
        o = {};
        o.downscale_stabilization = -5s;
        CHECK_THROWS_WITH((hpa::controller{cpu_spec(1, 3), o}),
                          Catch::Contains("controller_options.downscale_stabilization"));
        o = {};
        o.scale_up_limit_factor = 0.5;
        CHECK_THROWS_AS((hpa::controller{cpu_spec(1, 3), o}), salama::config_error);
    }
    SECTION("a behavior tolerance outside [0, 1] is refused when the spec is validated") {
        // Accepted before, 1.5 made every later reconcile throw.
        for (double bad : {1.5, -0.1}) {
            auto spec = cpu_spec(1, 3);
            spec.behavior = hpa::behavior{};
            spec.behavior->scale_down = hpa::scaling_rules{};
            spec.behavior->scale_down->tolerance = bad;
            CHECK_THROWS_WITH((hpa::controller{spec}),
                              Catch::Contains("invalid hpa_spec.behavior.scale_down.tolerance: must be within [0, 1]"));
        }
        auto spec = cpu_spec(1, 3);
        spec.behavior = hpa::behavior{};
        spec.behavior->scale_up = hpa::scaling_rules{};
        spec.behavior->scale_up->tolerance = 1.0;
        CHECK_NOTHROW((hpa::controller{spec}));
    }
}

TEST_CASE("hpa controller: missing readings and unset targets are metric errors", "[scaling][hpa]") {
    auto spec = cpu_spec(1, 10);
    spec.metrics[0].target = {};
    hpa::controller c{spec};
    auto in = input(3, 500, t0);
    in.last_desired_replicas = 3;
    auto d = c.reconcile(in, {}, t0);
    CHECK_FALSE(d.rescale);
    CHECK(d.desired_replicas == 3);
    REQUIRE(d.error);
    CHECK(d.error->find("neither an average utilization target nor an average value") != std::string::npos);

    hpa::controller ok{cpu_spec(1, 10)};
    auto none = input(3, 500, t0);
    none.readings.clear();
    auto e = ok.reconcile(none, {}, t0);
    CHECK(reason_of(e, hpa::condition_type::scaling_active) == "FailedGetResourceMetric");
}

TEST_CASE("hpa controller: a failed metric's condition message names the cause", "[scaling][hpa]") {
    hpa::controller c{cpu_spec(1, 10)};
    auto in = input(3, 500, t0);
    in.readings[0].resource_samples.clear();
    auto d = c.reconcile(in, {}, t0);
    const auto* active = d.find(hpa::condition_type::scaling_active);
    REQUIRE(active);
    CHECK(active->reason == "FailedGetResourceMetric");
    CHECK(active->message ==
          "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get "
          "metrics for resource cpu: no metrics returned from resource metrics API");
    REQUIRE(d.error);
    CHECK(*d.error ==
          "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: "
          "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from "
          "resource metrics API");
}

TEST_CASE("hpa controller: scale-down behavior across reconciles: window, rate policy, events", "[scaling][hpa]") {
    auto spec = cpu_spec(1, 100);
    hpa::scaling_rules down;
    down.stabilization_window_seconds = 60;
    down.select = hpa::select_policy::max;
    down.policies = std::vector<hpa::rate_policy>{{hpa::policy_type::percent, 50, 60}};
    spec.behavior = hpa::behavior{std::nullopt, down};
    hpa::controller c{spec};
    hpa::autoscaler_state state;
    int current = 10;
    // 10 % against a 50 % target: the metric alone asks for ceil(0.2 * current).
    auto step = [&](salama::time_point now) {
        auto d = c.reconcile(input(current, 100, now), state, now);
        state = d.state;
        current = d.desired_replicas;
        return d;
    };
    auto d = step(t0);
    CHECK(d.desired_replicas == 10);  // the window still holds the 10 the controller started from
    CHECK(d.limit != hpa::limit_reason::scale_down_limit);
    d = step(t0 + 30s);
    CHECK(d.desired_replicas == 10);
    CHECK(d.state.scale_down_events.empty());
    d = step(t0 + 61s);  // the window has let go of 10: 2 is wanted, the policy allows half
    CHECK(d.desired_replicas == 5);
    CHECK(d.limit == hpa::limit_reason::scale_down_limit);
    REQUIRE(d.state.scale_down_events.size() == 1);
    CHECK(d.state.scale_down_events[0].replica_change == 5);
    d = step(t0 + 91s);  // the 5 removed inside the period still count: the period began at 10
    CHECK(d.desired_replicas == 5);
    CHECK_FALSE(d.rescale);
    d = step(t0 + 122s);  // that event left the period: half of 5, truncated as Kubernetes does
    CHECK(d.desired_replicas == 2);
    CHECK(d.limit == hpa::limit_reason::scale_down_limit);
    REQUIRE(d.state.scale_down_events.size() == 1);  // the outdated slot was reused
    CHECK(d.state.scale_down_events[0].replica_change == 3);
}
