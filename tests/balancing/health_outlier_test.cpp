// Passive health checking: outlier detection driven by explicit time points.
#include "catch.hpp"

#include <salama/balancing/health/balancer_link.hpp>
#include <salama/balancing/health/outlier_detector.hpp>
#include <salama/balancing/load_balancer.hpp>
#include <salama/balancing/round_robin_picker.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {
using namespace salama::balancing::health;
using namespace std::chrono_literals;
using kind = outlier_event::kind_t;

const salama::time_point t0{std::chrono::hours(24)};

outlier_detector with_hosts(outlier_options o, int n) {
    outlier_detector d(o);
    for (int i = 0; i < n; ++i) REQUIRE(d.add_host("h" + std::to_string(i)).has_value());
    return d;
}

// Reports `n` outcomes to `id` at `now`; returns how many ejections they caused.
int report_n(outlier_detector& d, const std::string& id, bool ok, int n, salama::time_point now) {
    int ejections = 0;
    for (int i = 0; i < n; ++i) {
        auto r = d.report(id, ok, now);
        REQUIRE(r.has_value());
        if (r.value()) ++ejections;
    }
    return ejections;
}
}  // namespace

TEST_CASE("outlier: the 5th consecutive failure ejects; a success resets the streak") {
    auto d = with_hosts({}, 10);
    CHECK(report_n(d, "h1", false, 4, t0) == 0);
    CHECK(report_n(d, "h1", true, 1, t0) == 0);
    CHECK(report_n(d, "h1", false, 4, t0) == 0);
    CHECK_FALSE(d.ejected("h1"));
    auto r = d.report("h1", false, t0 + 1s);
    REQUIRE(r.has_value());
    REQUIRE(r.value().has_value());
    const auto& e = *r.value();
    CHECK(e.node_id == "h1");
    CHECK(e.kind == kind::ejected);
    CHECK(e.reason == ejection_reason::consecutive_failures);
    CHECK(e.until == t0 + 1s + 30s);
    CHECK(e.multiplier == 1);
    CHECK(d.ejected("h1"));
    CHECK(d.ejected_count() == 1);
    // More failures while ejected change nothing.
    CHECK(report_n(d, "h1", false, 10, t0 + 2s) == 0);
}

TEST_CASE("outlier: un-ejection at the first evaluation after the time is up; backoff grows") {
    auto d = with_hosts({}, 10);
    REQUIRE(report_n(d, "h2", false, 5, t0) == 1);
    // Still ejected at t0+29s, and at an evaluation just before 30 s.
    CHECK(d.evaluate(t0 + 29s).empty());
    CHECK(d.ejected("h2"));
    auto back = d.evaluate(t0 + 30s);
    REQUIRE(back.size() == 1);
    CHECK(back[0].kind == kind::returned);
    CHECK(back[0].node_id == "h2");
    CHECK_FALSE(d.ejected("h2"));

    // Ejected again right away: 2 x 30 s.
    REQUIRE(report_n(d, "h2", false, 5, t0 + 31s) == 1);
    CHECK(d.hosts()[2].ejected_until == t0 + 31s + 60s);
    CHECK(d.evaluate(t0 + 90s).empty());
    CHECK(d.evaluate(t0 + 91s).size() == 1);
    REQUIRE(report_n(d, "h2", false, 5, t0 + 92s) == 1);
    CHECK(d.hosts()[2].ejected_until == t0 + 92s + 90s);
}

TEST_CASE("outlier: ejection time is capped at max_ejection_time") {
    auto d = with_hosts({.base_ejection_time = 30s, .max_ejection_time = 100s}, 10);
    auto now = t0;
    std::vector<salama::duration> lengths;
    for (int round = 0; round < 6; ++round) {
        auto r = d.report("h0", false, now);
        for (int i = 0; i < 4; ++i) r = d.report("h0", false, now);
        REQUIRE(r.value().has_value());
        lengths.push_back(r.value()->until - now);
        now = r.value()->until;
        REQUIRE(d.evaluate(now).size() == 1);  // back in service
    }
    CHECK(lengths == std::vector<salama::duration>{30s, 60s, 90s, 100s, 100s, 100s});
}

TEST_CASE("outlier: the multiplier decays by one per evaluation in service") {
    auto d = with_hosts({}, 10);
    REQUIRE(report_n(d, "h0", false, 5, t0) == 1);
    REQUIRE(d.evaluate(t0 + 30s).size() == 1);
    REQUIRE(report_n(d, "h0", false, 5, t0 + 31s) == 1);  // multiplier 2
    REQUIRE(d.evaluate(t0 + 91s).size() == 1);
    CHECK(d.hosts()[0].multiplier == 2);
    d.evaluate(t0 + 101s);
    CHECK(d.hosts()[0].multiplier == 1);
    d.evaluate(t0 + 111s);
    CHECK(d.hosts()[0].multiplier == 0);
    d.evaluate(t0 + 121s);
    CHECK(d.hosts()[0].multiplier == 0);
    REQUIRE(report_n(d, "h0", false, 5, t0 + 130s) == 1);
    CHECK(d.hosts()[0].ejected_until == t0 + 160s);  // back to the base time
}

TEST_CASE("outlier: at most max_ejection_percent of the hosts, but always one") {
    SECTION("10 % of 10 hosts is one host") {
        auto d = with_hosts({}, 10);
        CHECK(report_n(d, "h0", false, 5, t0) == 1);
        CHECK(report_n(d, "h1", false, 5, t0) == 0);
        CHECK(d.ejected_count() == 1);
        CHECK_FALSE(d.ejected("h1"));
    }
    SECTION("10 % of 20 hosts is two") {
        auto d = with_hosts({}, 20);
        CHECK(report_n(d, "h0", false, 5, t0) == 1);
        CHECK(report_n(d, "h1", false, 5, t0) == 1);
        CHECK(report_n(d, "h2", false, 5, t0) == 0);
        CHECK(d.ejected_count() == 2);
    }
    SECTION("with 3 hosts one may go (always at least one ejectable)") {
        auto d = with_hosts({}, 3);
        CHECK(report_n(d, "h0", false, 5, t0) == 1);
        CHECK(report_n(d, "h1", false, 5, t0) == 0);
    }
    SECTION("without always_eject_one_host, 10 % of 3 hosts is none") {
        auto d = with_hosts({.always_eject_one_host = false}, 3);
        CHECK(report_n(d, "h0", false, 5, t0) == 0);
        CHECK(d.ejected_count() == 0);
    }
    SECTION("a returned host frees its slot") {
        auto d = with_hosts({}, 10);
        CHECK(report_n(d, "h0", false, 5, t0) == 1);
        REQUIRE(d.evaluate(t0 + 30s).size() == 1);
        CHECK(report_n(d, "h1", false, 5, t0 + 31s) == 1);
    }
    SECTION("removing an ejected host frees its slot") {
        auto d = with_hosts({}, 10);
        CHECK(report_n(d, "h0", false, 5, t0) == 1);
        REQUIRE(d.remove_host("h0").has_value());
        CHECK(d.ejected_count() == 0);
        CHECK(report_n(d, "h1", false, 5, t0) == 1);
    }
}

TEST_CASE("outlier: success-rate ejection below mean - 1.9 stdev") {
    // 10 hosts, 100 requests each; h9 succeeds 50 %, the others 99 %.
    // rates: nine at 99, one at 50 -> mean 94.1, stdev 14.7, threshold ~66.2.
    auto d = with_hosts({.max_ejection_percent = 20}, 10);
    for (int i = 0; i < 10; ++i) {
        const std::string id = "h" + std::to_string(i);
        const int ok = i == 9 ? 50 : 99;
        // Interleave so no streak of 5 failures forms.
        for (int k = 0; k < 100; ++k) REQUIRE(d.report(id, (k % 2 == 0) || k / 2 < ok - 50, t0).has_value());
    }
    REQUIRE(d.hosts()[9].interval_successes == 50);
    REQUIRE(d.hosts()[0].interval_successes == 99);
    CHECK(d.ejected_count() == 0);
    auto ev = d.evaluate(t0 + 10s);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].node_id == "h9");
    CHECK(ev[0].reason == ejection_reason::success_rate);
    CHECK(ev[0].until == t0 + 10s + 30s);
    // The interval's counts start over.
    CHECK(d.hosts()[0].interval_requests == 0);
    CHECK(d.evaluate(t0 + 20s).empty());
}

TEST_CASE("outlier: success rate needs enough hosts with enough volume") {
    auto fill = [](outlier_detector& d, int hosts, int volume) {
        for (int i = 0; i < hosts; ++i) {
            const std::string id = "h" + std::to_string(i);
            for (int k = 0; k < volume; ++k) {
                const bool ok = i == 0 ? (k % 2 == 0) : true;  // h0 at 50 %
                REQUIRE(d.report(id, ok, t0).has_value());
            }
        }
    };
    SECTION("four hosts with volume: not evaluated") {
        auto d = with_hosts({}, 6);
        fill(d, 4, 100);
        CHECK(d.evaluate(t0 + 10s).empty());
    }
    SECTION("five hosts with volume: evaluated") {
        auto d = with_hosts({}, 6);
        fill(d, 5, 100);
        auto ev = d.evaluate(t0 + 10s);
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].node_id == "h0");
    }
    SECTION("99 requests per host is below the volume") {
        auto d = with_hosts({}, 6);
        fill(d, 6, 99);
        CHECK(d.evaluate(t0 + 10s).empty());
    }
    SECTION("disabled") {
        auto d = with_hosts({.success_rate_enabled = false}, 6);
        fill(d, 6, 100);
        CHECK(d.evaluate(t0 + 10s).empty());
    }
    SECTION("identical rates eject nobody") {
        auto d = with_hosts({}, 6);
        for (int i = 0; i < 6; ++i)
            for (int k = 0; k < 100; ++k) REQUIRE(d.report("h" + std::to_string(i), k % 4 != 0, t0).has_value());
        CHECK(d.evaluate(t0 + 10s).empty());
    }
}

TEST_CASE("outlier: tick() evaluates once per interval") {
    auto d = with_hosts({}, 10);
    CHECK(d.tick(t0).empty());  // starts the first interval
    REQUIRE(report_n(d, "h0", false, 5, t0) == 1);
    CHECK(d.tick(t0 + 9s).empty());
    CHECK_FALSE(d.last_evaluation().has_value());
    CHECK(d.tick(t0 + 10s).empty());  // evaluated, h0 still ejected (until t0+30s)
    REQUIRE(d.last_evaluation().has_value());
    CHECK(*d.last_evaluation() == t0 + 10s);
    CHECK(d.tick(t0 + 29s).empty());  // evaluated at 29 s, h0 still out
    CHECK(d.tick(t0 + 30s).empty());  // not yet an interval since 29 s
    auto back = d.tick(t0 + 39s);
    REQUIRE(back.size() == 1);
    CHECK(back[0].kind == kind::returned);
}

TEST_CASE("outlier: bad input") {
    auto field_of = [](outlier_options o) -> std::string {
        try {
            outlier_detector d(o);
        } catch (const salama::config_error& e) {
            return e.field();
        }
        return "<no error>";
    };
    CHECK(field_of({.consecutive_failures = 0}) == "outlier_options.consecutive_failures");
    CHECK(field_of({.interval = -10s}) == "outlier_options.interval");
    CHECK(field_of({.base_ejection_time = 0s}) == "outlier_options.base_ejection_time");
    CHECK(field_of({.base_ejection_time = 30s, .max_ejection_time = 10s}) ==
          "outlier_options.max_ejection_time");
    CHECK(field_of({.max_ejection_percent = 101}) == "outlier_options.max_ejection_percent");
    CHECK(field_of({.max_ejection_percent = -1}) == "outlier_options.max_ejection_percent");
    CHECK(field_of({.success_rate_minimum_hosts = 0}) == "outlier_options.success_rate_minimum_hosts");
    CHECK(field_of({.success_rate_request_volume = 0}) == "outlier_options.success_rate_request_volume");
    CHECK(field_of({.success_rate_stdev_factor = -1}) == "outlier_options.success_rate_stdev_factor");
    CHECK(field_of({}) == "<no error>");

    outlier_detector d;
    CHECK(d.add_host("").error() == salama::errc::invalid_argument);
    REQUIRE(d.add_host("a").has_value());
    CHECK(d.add_host("a").error() == salama::errc::duplicate_id);
    CHECK(d.report("zz", false, t0).error() == salama::errc::not_found);
    CHECK(d.remove_host("zz").error() == salama::errc::not_found);
}

TEST_CASE("outlier monitor: outcomes reported to a load_balancer eject and return nodes") {
    namespace lb_ns = salama::balancing;
    boost::asio::io_context ioc;
    salama::manual_clock clock(t0);
    salama::metrics_registry reg;
    lb_ns::load_balancer<lb_ns::round_robin_picker> lb;
    for (int i = 0; i < 10; ++i)
        REQUIRE(lb.add_node({.id = "n" + std::to_string(i), .request_types = {"api"}}, t0).has_value());
    outlier_monitor monitor(ioc.get_executor(), lb, {}, {.registry = &reg, .name = "om"}, clock);
    for (int i = 0; i < 10; ++i) REQUIRE(monitor.add_host("n" + std::to_string(i)).has_value());

    // Route round robin; n3 fails every time: 5 failures in a row eject it.
    auto route = [&](int n) {
        int to_n3 = 0;
        for (int k = 0; k < n; ++k) {
            auto h = lb.route_request("api", "payload", t0);
            REQUIRE(h.has_value());
            const bool bad = h->node_id() == "n3";
            to_n3 += bad ? 1 : 0;
            h->report({.latency = std::chrono::milliseconds(5), .success = !bad}, t0 + 1s);
        }
        return to_n3;
    };
    CHECK(route(50) == 5);
    CHECK(monitor.ejected("n3"));
    // The ejection is applied off the request path: the reporting thread did not republish
    // the balancer's tables; the monitor's strand does.
    CHECK(lb.pool("api").healthy == 10);
    ioc.poll();
    CHECK(lb.pool("api").healthy == 9);
    CHECK(route(50) == 0);  // n3 is out
    REQUIRE(lb.status("n3", t0 + 1s)->ejected_until.has_value());
    CHECK(*lb.status("n3", t0 + 1s)->ejected_until == t0 + 31s);
    CHECK(reg.render().find(
              "salama_outlier_ejections_total{name=\"om\",node=\"n3\",reason=\"consecutive_failures\"} 1") !=
          std::string::npos);

    // The next sweep after 30 s returns it, in the detector and in the balancer.
    CHECK(monitor.evaluate(t0 + 20s).empty());
    auto ev = monitor.evaluate(t0 + 31s);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == kind::returned);
    CHECK_FALSE(monitor.ejected("n3"));
    CHECK_FALSE(lb.status("n3", t0 + 31s)->ejected_until.has_value());
    CHECK(lb.pool("api").healthy == 10);
    CHECK(reg.render().find("salama_outlier_ejected_hosts{name=\"om\"} 0") != std::string::npos);

    // A host that leaves takes its series with it.
    REQUIRE(monitor.remove_host("n3").has_value());
    CHECK(reg.render().find("node=\"n3\"") == std::string::npos);
}

TEST_CASE("outlier monitor: an ejection still pending is applied by the next evaluate()") {
    namespace lb_ns = salama::balancing;
    boost::asio::io_context ioc;  // never run: evaluate() alone must apply it
    lb_ns::load_balancer<lb_ns::round_robin_picker> lb;
    for (int i = 0; i < 4; ++i)
        REQUIRE(lb.add_node({.id = "n" + std::to_string(i), .request_types = {"api"}}, t0).has_value());
    outlier_monitor monitor(ioc.get_executor(), lb);
    for (int k = 0; k < 5; ++k) monitor.observe("n1", false, t0);
    CHECK(lb.pool("api").healthy == 4);
    auto ev = monitor.evaluate(t0 + 1s);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == kind::ejected);
    CHECK(lb.pool("api").healthy == 3);
}

TEST_CASE("outlier monitor: destroyed while its loop runs and right after stop()") {
    namespace lb_ns = salama::balancing;
    boost::asio::io_context ioc;
    lb_ns::load_balancer<lb_ns::round_robin_picker> lb;
    REQUIRE(lb.add_node({.id = "a", .request_types = {"api"}}, t0).has_value());
    salama::metrics_registry reg;
    const bool stop_first = GENERATE(false, true);
    auto m = std::make_unique<outlier_monitor<decltype(lb)>>(ioc.get_executor(), lb, outlier_options{.interval = 1h},
                                                             salama::telemetry{.registry = &reg, .name = "d"});
    REQUIRE(m->start());
    ioc.poll();  // the loop waits its first interval
    for (int k = 0; k < 5; ++k) m->observe("a", false, t0);  // an ejection is posted
    if (stop_first) m->stop();
    m.reset();  // under AddressSanitizer, a loop or drain holding the freed monitor fails here
    ioc.run();
    CHECK(lb.pool("api").healthy == 1);  // nothing was applied after the monitor was gone
}

TEST_CASE("apply_health_to: checker transitions mark balancer nodes") {
    namespace lb_ns = salama::balancing;
    salama::manual_clock clock(t0);
    lb_ns::load_balancer<lb_ns::round_robin_picker> lb;
    REQUIRE(lb.add_node({.id = "a", .request_types = {"api"}}, t0).has_value());
    REQUIRE(lb.add_node({.id = "b", .request_types = {"api"}}, t0).has_value());
    auto sink = std::make_shared<salama::memory_sink>();
    auto handler = apply_health_to(lb, clock, salama::logger(sink));
    handler({.node_id = "a", .from = health_status::healthy, .to = health_status::unhealthy});
    CHECK_FALSE(lb.status("a", t0)->healthy);
    CHECK(lb.pool("api").healthy == 1);
    handler({.node_id = "a", .from = health_status::unhealthy, .to = health_status::healthy});
    CHECK(lb.status("a", t0)->healthy);
    handler({.node_id = "zz", .from = health_status::healthy, .to = health_status::unhealthy});
    CHECK(sink->contains("balancer refused unhealthy for zz"));
}

TEST_CASE("outlier monitor: outcomes from several threads while sweeps run", "[tsan]") {
    namespace lb_ns = salama::balancing;
    salama::metrics_registry reg;
    lb_ns::load_balancer<lb_ns::round_robin_picker> lb;
    for (int i = 0; i < 10; ++i)
        REQUIRE(lb.add_node({.id = "n" + std::to_string(i), .request_types = {"api"}}, t0).has_value());
    boost::asio::io_context ioc;
    outlier_monitor monitor(ioc.get_executor(), lb, {}, {.registry = &reg});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int k = 0; k < 2000; ++k) {
                auto h = lb.route_request("api", "", t0);
                if (!h) continue;
                const bool bad = h->node_id() == "n7";
                h->report({.latency = std::chrono::milliseconds(1), .success = !bad}, t0 + 1s);
            }
        });
    for (int i = 0; i < 50; ++i) (void)monitor.evaluate(t0 + 1s);  // before the 30 s are up
    for (auto& th : threads) th.join();
    (void)monitor.evaluate(t0 + 1s);  // applies an ejection still pending
    CHECK(monitor.ejected("n7"));
    CHECK(lb.ejected_count() == 1);
    CHECK(monitor.hosts().size() == 10);  // tracked on their first outcome
}

TEST_CASE("outlier monitor: hosts that left the balancer are forgotten, so they cannot raise the ejection cap") {
    namespace lb_ns = salama::balancing;
    boost::asio::io_context ioc;
    lb_ns::load_balancer<lb_ns::round_robin_picker> lb;
    for (int i = 0; i < 10; ++i)
        REQUIRE(lb.add_node({.id = "n" + std::to_string(i), .request_types = {"api"}}, t0).has_value());
    salama::metrics_registry reg;
    outlier_options opts;
    opts.always_eject_one_host = false;  // the cap alone decides
    outlier_monitor monitor(ioc.get_executor(), lb, opts, {.registry = &reg, .name = "om"});
    for (int i = 0; i < 10; ++i) monitor.observe("n" + std::to_string(i), true, t0);
    REQUIRE(monitor.hosts().size() == 10);
    for (int i = 2; i < 10; ++i) REQUIRE(lb.remove_node("n" + std::to_string(i), t0).has_value());
    CHECK(monitor.evaluate(t0 + 1s).empty());
    CHECK(monitor.hosts().size() == 2);  // 8 stale hosts used to stay
    // With 2 live hosts, one ejection is 50 % > the 10 % cap: n0 stays in service. Counted
    // over 10 (stale) hosts, it was 10 % and n0 was ejected.
    for (int k = 0; k < 5; ++k) monitor.observe("n0", false, t0 + 2s);
    CHECK(monitor.evaluate(t0 + 3s).empty());
    CHECK_FALSE(monitor.ejected("n0"));
    CHECK(lb.pool("api").healthy == 2);
}

TEST_CASE("outlier: success-rate ejections stop at max_ejection_percent") {
    // 10 hosts: h8 and h9 succeed 10 %, the others 99 %: mean 81.2, stdev 35.6, threshold
    // ~13.6, so both are outliers. Streaks cannot eject here (consecutive_failures is high).
    auto sweep = [](double max_percent) {
        auto d = with_hosts({.consecutive_failures = 1000, .max_ejection_percent = max_percent,
                             .always_eject_one_host = false},
                            10);
        for (int i = 0; i < 10; ++i) {
            const std::string id = "h" + std::to_string(i);
            const int ok = i >= 8 ? 10 : 99;
            for (int k = 0; k < 100; ++k) REQUIRE(d.report(id, k < ok, t0).has_value());
        }
        auto ev = d.evaluate(t0 + 10s);
        for (const auto& e : ev) CHECK(e.reason == ejection_reason::success_rate);
        return std::make_pair(ev.size(), d.ejected_count());
    };
    CHECK(sweep(10) == std::make_pair(std::size_t{1}, std::size_t{1}));  // 1 of 10 is the cap
    CHECK(sweep(20) == std::make_pair(std::size_t{2}, std::size_t{2}));  // both fit under 20 %
}
