// Unit tests of the HPA replica calculator: utilization and value targets, tolerance, the
// conservative treatment of missing and unready members, CPU warm-up rules, and bad input.
#include "catch.hpp"

#include <salama/scaling/hpa/behavior.hpp>
#include <salama/scaling/hpa/replica_calculator.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace hpa = salama::scaling::hpa;
using namespace std::chrono_literals;

namespace {

const salama::time_point now{std::chrono::hours(24 * 365)};

/// A running, ready member with two containers requesting `request` milli-CPU each.
hpa::member pod(std::string name, hpa::milli request = 500) {
    hpa::member m;
    m.name = std::move(name);
    m.containers = {{"app", {{"cpu", request}}, false}, {"sidecar", {{"cpu", request}}, false}};
    return m;
}

/// A sample where both containers used `usage` milli-CPU.
hpa::resource_sample usage(std::string name, double usage, salama::time_point ts = now) {
    return {std::move(name), {{"app", usage}, {"sidecar", usage}}, ts, 60s};
}

hpa::replica_calculator calc(double tol = 0.1) {
    hpa::calculator_options o;
    o.tolerance = {tol, tol};
    o.cpu_initialization_period = 120s;
    o.initial_readiness_delay = 10s;
    return hpa::replica_calculator{o};
}

}  // namespace

TEST_CASE("hpa calculator: utilization scales by ratio over ready members", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a"), pod("b"), pod("c")};
    std::vector<hpa::resource_sample> samples{usage("a", 300), usage("b", 400), usage("c", 500)};
    auto r = calc().resource_utilization(3, 50, "cpu", "", members, samples, now);
    REQUIRE(r);
    // (600 + 800 + 1000) * 100 / 3000 = 80 %; 80 / 50 = 1.6; ceil(1.6 * 3) = 5.
    CHECK(r->utilization == 80);
    CHECK(r->usage_milli == 800);
    CHECK(r->replicas == 5);
    CHECK(r->ready_members == 3);
    CHECK_FALSE(r->reason.empty());
}

TEST_CASE("hpa calculator: tolerance bounds are inclusive and separate per direction", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a", 1000)};
    SECTION("exactly 1 + tolerance keeps the count") {
        std::vector<hpa::resource_sample> s{usage("a", 1100)};  // 110 % of a 100 % target
        auto r = calc().resource_utilization(4, 100, "cpu", "", members, s, now);
        REQUIRE(r);
        CHECK(r->replicas == 4);
    }
    SECTION("just past the tolerance scales") {
        std::vector<hpa::resource_sample> s{usage("a", 1110)};
        auto r = calc().resource_utilization(1, 100, "cpu", "", members, s, now);
        REQUIRE(r);
        CHECK(r->replicas == 2);
    }
    SECTION("a wide scale-down tolerance with a narrow scale-up one") {
        hpa::calculator_options o;
        o.tolerance = {0.3, 0.05};
        hpa::replica_calculator c{o};
        std::vector<hpa::resource_sample> low{usage("a", 750)};   // ratio 0.75: inside 0.3
        std::vector<hpa::resource_sample> high{usage("a", 1080)}; // ratio 1.08: outside 0.05
        auto down = c.resource_utilization(3, 100, "cpu", "", members, low, now);
        auto up = c.resource_utilization(1, 100, "cpu", "", members, high, now);
        REQUIRE(down);
        REQUIRE(up);
        CHECK(down->replicas == 3);
        CHECK(up->replicas == 2);
    }
}

TEST_CASE("hpa calculator: missing members count as their request when scaling down", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a"), pod("b"), pod("c"), pod("d")};
    std::vector<hpa::resource_sample> samples{usage("a", 50), usage("b", 50)};
    SECTION("target below 100 %: missing at 100 % of request") {
        auto r = calc().resource_utilization(4, 50, "cpu", "", members, samples, now);
        REQUIRE(r);
        // First 10 %; with c, d at 1000 each: (100+100+1000+1000)*100/4000 = 55 % -> 1.1: keep.
        CHECK(r->usage_ratio == Approx(0.2));
        REQUIRE(r->adjusted_ratio);
        CHECK(*r->adjusted_ratio == Approx(1.1));
        CHECK(r->replicas == 4);
        CHECK(r->missing_members == std::vector<std::string>{"c", "d"});
    }
    SECTION("target above 100 %: missing at the target") {
        auto r = calc().resource_utilization(4, 200, "cpu", "", members, samples, now);
        REQUIRE(r);
        // (100+100+2000+2000)*100/4000 = 105 % -> 0.525; ceil(0.525 * 4) = 3.
        CHECK(r->replicas == 3);
    }
}

TEST_CASE("hpa calculator: unready members count as zero when scaling up", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a"), pod("b"), pod("c")};
    members[2].phase = hpa::member_phase::pending;
    std::vector<hpa::resource_sample> samples{usage("a", 500), usage("b", 500), usage("c", 500)};
    auto r = calc().resource_utilization(3, 50, "cpu", "", members, samples, now);
    REQUIRE(r);
    // Ready: 100 % -> ratio 2; with c at 0: 2000*100/3000 = 66 % -> 1.32; ceil(1.32*3) = 4.
    CHECK(r->unready_members == std::vector<std::string>{"c"});
    CHECK(r->replicas == 4);
}

TEST_CASE("hpa calculator: CPU warm-up and never-ready members", "[scaling][hpa]") {
    std::vector<hpa::resource_sample> samples{usage("a", 500), usage("b", 500)};
    SECTION("young, ready, but sampled within a window of the readiness change: unready") {
        std::vector<hpa::member> members{pod("a"), pod("b")};
        members[1].start_time = now - 30s;
        members[1].ready_transition = now - 20s;
        auto r = calc().resource_utilization(2, 100, "cpu", "", members, samples, now);
        REQUIRE(r);
        CHECK(r->unready_members == std::vector<std::string>{"b"});
    }
    SECTION("young and ready for a full window: counted") {
        std::vector<hpa::member> members{pod("a"), pod("b")};
        members[1].start_time = now - 100s;
        members[1].ready_transition = now - 90s;
        auto r = calc().resource_utilization(2, 100, "cpu", "", members, samples, now);
        REQUIRE(r);
        CHECK(r->unready_members.empty());
        CHECK(r->ready_members == 2);
    }
    SECTION("old, not ready, never was ready: unready; was ready once: counted") {
        std::vector<hpa::member> members{pod("a"), pod("b")};
        members[1].ready = false;
        members[1].start_time = now - 600s;
        members[1].ready_transition = now - 595s;  // within the 10 s delay of its start
        auto never = calc().resource_utilization(2, 100, "cpu", "", members, samples, now);
        REQUIRE(never);
        CHECK(never->unready_members == std::vector<std::string>{"b"});
        members[1].ready_transition = now - 300s;  // it was ready, then went unready
        auto once = calc().resource_utilization(2, 100, "cpu", "", members, samples, now);
        REQUIRE(once);
        CHECK(once->unready_members.empty());
    }
    SECTION("a per-member value metric ignores the CPU rules") {
        std::vector<hpa::member> members{pod("a"), pod("b")};
        members[1].ready = false;
        members[1].start_time = now;
        std::vector<hpa::value_sample> vs{{"a", 10000, now, 60s}, {"b", 10000, now, 60s}};
        auto r = calc().pods_average_value(2, 5000, "qps", members, vs, now);
        REQUIRE(r);
        CHECK(r->replicas == 4);
        CHECK(r->usage_milli == 10000);
    }
}

TEST_CASE("hpa calculator: failed and deleted members are ignored", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a"), pod("b"), pod("c")};
    members[1].phase = hpa::member_phase::failed;
    members[2].being_deleted = true;
    std::vector<hpa::resource_sample> samples{usage("a", 500), usage("b", 0), usage("c", 0)};
    auto r = calc().resource_utilization(3, 50, "cpu", "", members, samples, now);
    REQUIRE(r);
    CHECK(r->ignored_members == std::vector<std::string>{"b", "c"});
    CHECK(r->utilization == 100);
    CHECK(r->replicas == 2);
}

TEST_CASE("hpa calculator: container and member-level requests", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a"), pod("b")};
    std::vector<hpa::resource_sample> samples{{"a", {{"app", 400}, {"sidecar", 10}}, now, 60s},
                                              {"b", {{"app", 400}, {"sidecar", 10}}, now, 60s}};
    SECTION("one named container") {
        auto r = calc().resource_utilization(2, 40, "cpu", "app", members, samples, now);
        REQUIRE(r);
        CHECK(r->utilization == 80);
        CHECK(r->replicas == 4);
    }
    SECTION("a named container absent from a sample makes the member missing") {
        samples[1].containers.pop_back();
        samples[1].containers.front().name = "other";
        auto r = calc().resource_utilization(2, 40, "cpu", "app", members, samples, now);
        REQUIRE(r);
        CHECK(r->missing_members == std::vector<std::string>{"b"});
    }
    SECTION("member-level requests replace the container sum") {
        for (auto& m : members) m.member_requests_milli["cpu"] = 2000;
        auto r = calc().resource_utilization(2, 41, "cpu", "", members, samples, now);
        REQUIRE(r);
        CHECK(r->utilization == 20);  // 820 * 100 / 4000
    }
}

TEST_CASE("hpa calculator: value targets for objects and external metrics", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a"), pod("b"), pod("c")};
    members[2].ready = false;
    SECTION("object value scales the ready members") {
        auto r = calc().object_value(3, 10000, 30000, members);
        REQUIRE(r);
        CHECK(r->replicas == 6);  // ratio 3 over 2 ready members
    }
    SECTION("from zero the ratio itself is the count, tolerance ignored") {
        auto r = calc().object_value(0, 10000, 10000, {});
        REQUIRE(r);
        CHECK(r->replicas == 1);
        auto zero = calc().external_value(0, 10000, "queue", std::vector<double>{0.0}, {});
        REQUIRE(zero);
        CHECK(zero->replicas == 0);
    }
    SECTION("average values divide the total by the target") {
        auto o = calc().object_average_value(3, 10000, 45000);
        REQUIRE(o);
        CHECK(o->replicas == 5);
        CHECK(o->usage_milli == 15000);
        std::vector<double> values{20000, 25000};
        auto e = calc().external_average_value(3, 10000, "queue", values);
        REQUIRE(e);
        CHECK(e->replicas == 5);
    }
    SECTION("external values are summed; unusable ones are ignored and noted") {
        std::vector<double> values{10000, std::nan(""), -5, 20000};
        auto r = calc().external_value(3, 10000, "queue", values, members);
        REQUIRE(r);
        CHECK(r->usage_milli == 30000);
        CHECK(r->replicas == 6);
        CHECK(r->notes.size() == 2);
    }
}

TEST_CASE("hpa calculator: invalid sample values count as missing, with the reason", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a"), pod("b")};
    const double bad = GENERATE(std::nan(""), std::numeric_limits<double>::infinity(), -1.0);
    std::vector<hpa::resource_sample> samples{usage("a", 500), usage("b", bad)};
    auto r = calc().resource_utilization(2, 50, "cpu", "", members, samples, now);
    REQUIRE(r);
    CHECK(r->missing_members == std::vector<std::string>{"b"});
    REQUIRE(r->notes.size() == 1);
    CHECK(r->notes[0].find("member b") != std::string::npos);
    std::vector<hpa::value_sample> vs{{"a", 1000, now, 60s}, {"b", bad, now, 60s}};
    auto p = calc().pods_average_value(2, 1000, "qps", members, vs, now);
    REQUIRE(p);
    CHECK(p->missing_members == std::vector<std::string>{"b"});
    auto o = calc().object_value(2, 1000, bad, members);
    REQUIRE_FALSE(o);
    CHECK(o.error() == salama::errc::invalid_metric);
}

TEST_CASE("hpa calculator: errors carry Kubernetes' messages", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a")};
    SECTION("nothing returned") {
        auto r = calc().resource_utilization(1, 50, "cpu", "", members, {}, now);
        REQUIRE_FALSE(r);
        CHECK(r.error().message() ==
              "unable to get metrics for resource cpu: no metrics returned from resource metrics API");
        auto p = calc().pods_average_value(1, 50, "qps", members, {}, now);
        REQUIRE_FALSE(p);
        CHECK(p.error().message().find("no metrics returned from custom metrics API") != std::string::npos);
        auto e = calc().external_value(1, 50, "queue", {}, members);
        REQUIRE_FALSE(e);
        CHECK(e.error().message().find("no metrics returned from external metrics API") != std::string::npos);
    }
    SECTION("no members") {
        std::vector<hpa::resource_sample> s{usage("a", 1)};
        auto r = calc().resource_utilization(1, 50, "cpu", "", {}, s, now);
        REQUIRE_FALSE(r);
        CHECK(r.error().message() == "no pods returned by selector while calculating replica count");
    }
    SECTION("samples only of unknown members") {
        std::vector<hpa::resource_sample> s{usage("elsewhere", 100)};
        auto r = calc().resource_utilization(1, 50, "cpu", "", members, s, now);
        REQUIRE_FALSE(r);
        CHECK(r.error().message() == "no metrics returned matched known pods");
    }
    SECTION("every member unready") {
        members[0].phase = hpa::member_phase::pending;
        std::vector<hpa::resource_sample> s{usage("a", 100)};
        auto r = calc().resource_utilization(1, 50, "cpu", "", members, s, now);
        REQUIRE_FALSE(r);
        CHECK(r.error().message().find("did not receive metrics") != std::string::npos);
    }
    SECTION("a container without a request") {
        members[0].containers[1].requests_milli.clear();
        std::vector<hpa::resource_sample> s{usage("a", 100)};
        auto r = calc().resource_utilization(1, 50, "cpu", "", members, s, now);
        REQUIRE_FALSE(r);
        CHECK(r.error().message() == "missing request for cpu in container sidecar of Pod a");
    }
    SECTION("a non-positive target") {
        std::vector<hpa::resource_sample> s{usage("a", 100)};
        CHECK_FALSE(calc().resource_utilization(1, 0, "cpu", "", members, s, now));
        CHECK_FALSE(calc().object_value(1, -1, 100, members));
        CHECK_FALSE(calc().object_average_value(1, 0, 100));
    }
    SECTION("value() on an error throws") {
        auto r = calc().resource_utilization(1, 50, "cpu", "", members, {}, now);
        CHECK_THROWS_WITH(r.value(), Catch::Contains("no metrics returned"));
    }
}

TEST_CASE("hpa calculator: options are validated", "[scaling][hpa]") {
    hpa::calculator_options o;
    SECTION("NaN tolerance") {
        o.tolerance.scale_down = std::nan("");
        CHECK_THROWS_WITH(hpa::replica_calculator{o},
                          Catch::Contains("invalid calculator_options.tolerance.scale_down"));
    }
    SECTION("negative scale-up tolerance") {
        o.tolerance.scale_up = -0.1;
        CHECK_THROWS_AS(hpa::replica_calculator{o}, salama::config_error);
    }
    SECTION("negative initialization period") {
        o.cpu_initialization_period = -1s;
        CHECK_THROWS_WITH(hpa::replica_calculator{o},
                          Catch::Contains("calculator_options.cpu_initialization_period"));
    }
}

TEST_CASE("hpa calculator: huge values saturate instead of overflowing", "[scaling][hpa]") {
    std::vector<hpa::member> members{pod("a", 1), pod("b", 1)};
    std::vector<hpa::resource_sample> samples{usage("a", 4.0e18), usage("b", 4.0e18)};
    auto r = calc().resource_utilization(2, 1, "cpu", "", members, samples, now);
    REQUIRE(r);
    CHECK(r->utilization == std::numeric_limits<std::int32_t>::max());
    CHECK(r->replicas == std::numeric_limits<std::int32_t>::max());
    std::vector<double> values{9.0e18, 9.0e18};
    auto e = calc().external_value(2, 1, "queue", values, members);
    REQUIRE(e);
    CHECK(e->usage_milli == std::numeric_limits<std::int64_t>::max());
    CHECK(e->replicas == std::numeric_limits<std::int32_t>::max());
    hpa::resolved_rules rules{0, hpa::select_policy::max, {{hpa::policy_type::pods, 2147483647, 60}}, {}};
    CHECK(hpa::scale_up_limit(10, {}, {}, rules, now) == std::numeric_limits<std::int32_t>::max());
}

TEST_CASE("hpa calculator: a missing member's huge request times the fallback saturates",
          "[scaling][hpa][bad_input]") {
    // c's request is near the int64 limit: request * 100 used to overflow (undefined).
    constexpr hpa::milli huge = std::numeric_limits<hpa::milli>::max() / 2;
    std::vector<hpa::member> members{pod("a"), pod("b"), pod("c", huge), pod("d")};
    std::vector<hpa::resource_sample> samples{usage("a", 50), usage("b", 50)};
    auto r = calc().resource_utilization(4, 50, "cpu", "", members, samples, now);
    REQUIRE(r);
    CHECK(r->usage_ratio == Approx(0.2));
    // c counts as its whole request: the second ratio is ~2, against the first's direction.
    REQUIRE(r->adjusted_ratio);
    CHECK(*r->adjusted_ratio == Approx(2.0).epsilon(0.01));
    CHECK(r->replicas == 4);
}
