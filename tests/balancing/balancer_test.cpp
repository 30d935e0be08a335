// The load balancer's registry, snapshots, health inputs, panic threshold, slow start,
// outcome reports and bad input.
#include "catch.hpp"

#include <salama/balancing/all.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <map>
#include <string>
#include <vector>

using namespace salama;
using namespace salama::balancing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{std::chrono::hours(24)};

node_spec spec(std::string id, std::vector<std::string> types, double weight = 1.0,
               std::vector<metric_value> metrics = {}) {
    node_spec s;
    s.id = std::move(id);
    s.request_types = std::move(types);
    s.weight = weight;
    s.address = "127.0.0.1:" + std::to_string(8000 + s.id.size());
    s.metrics = std::move(metrics);
    return s;
}

template <class LB>
std::map<std::string, int> count_picks(const LB& lb, std::string_view type, int n) {
    std::map<std::string, int> hits;
    for (int i = 0; i < n; ++i) {
        auto h = lb.route_request(type, "payload", t0);
        REQUIRE(h);
        ++hits[h->node_id()];
    }
    return hits;
}

}  // namespace

TEST_CASE("route_request picks the healthy node with the best metric score", "[balancing]") {
    metric_scorer_options o;
    o.default_weights = {{.metric = "cpu", .weight = 1, .scale = 1}};
    o.by_request_type = {{.request_type = "inference",
                          .weights = {{.metric = "gpu_memory", .weight = 3, .scale = 1},
                                      {.metric = "cpu", .weight = 1, .scale = 1}}}};
    load_balancer<highest_score_picker<>> lb{highest_score_picker<>(metric_scorer(o))};
    REQUIRE(lb.add_node(spec("a", {"inference", "web"}, 1, {{"cpu", 0.2}, {"gpu_memory", 0.9}}), t0));
    REQUIRE(lb.add_node(spec("b", {"inference", "web"}, 1, {{"cpu", 0.7}, {"gpu_memory", 0.1}}), t0));

    // "web" looks at CPU only: a wins. "inference" weighs GPU memory 3:1: b wins.
    auto web = lb.route_request("web", "x", t0);
    REQUIRE(web);
    CHECK(web->node_id() == "a");
    auto inf = lb.route_request("inference", "x", t0);
    REQUIRE(inf);
    CHECK(inf->node_id() == "b");
    CHECK(inf->address() == "127.0.0.1:8001");

    SECTION("an unhealthy node is skipped") {
        REQUIRE(lb.set_health("b", false, t0));
        auto h = lb.route_request("inference", "x", t0);
        REQUIRE(h);
        CHECK(h->node_id() == "a");
    }
    SECTION("a missing metric counts as fully loaded") {
        REQUIRE(lb.set_metrics("a", {{"gpu_memory", 0.0}}, t0));
        auto h = lb.route_request("web", "x", t0);
        REQUIRE(h);
        CHECK(h->node_id() == "b");
    }
}

TEST_CASE("metric_scorer weighs metrics by request type and payload size", "[balancing]") {
    metric_scorer_options o;
    o.default_weights = {{.metric = "cpu", .weight = 1, .scale = 1},
                         {.metric = "gpu_memory", .weight = 0, .scale = 1, .per_payload_kib = 1}};
    metric_scorer s(o);
    node_state st("n", "", 0);
    node_data d;
    d.metrics = node_metrics({{"cpu", 0.5}, {"gpu_memory", 1.0}});
    node_entry n{.state = &st, .data = &d};
    request small;
    small.request_type = "any";
    CHECK(s.score(n, small) == Approx(0.5));  // gpu memory weighs 0 for an empty payload
    const std::string kib(1024, 'x');
    request big = small;
    big.payload = kib;
    CHECK(s.score(n, big) == Approx(1.0 - (0.5 + 1.0) / 2.0));  // weights 1 and 1
    d.metrics = node_metrics({{"cpu", 5.0}, {"gpu_memory", -1.0}});
    CHECK(s.score(n, big) == Approx(0.5));  // loads clamp to [0, 1]
}

TEST_CASE("pick errors name the request type", "[balancing]") {
    load_balancer<round_robin_picker> lb;
    SECTION("unknown request type: empty pool") {
        auto r = lb.route_request("gpu", "x", t0);
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::empty_pool);
        CHECK(r.error().message() == "empty pool for request type 'gpu'");
    }
    SECTION("every node removed: empty pool") {
        REQUIRE(lb.add_node(spec("a", {"gpu"}), t0));
        REQUIRE(lb.remove_node("a", t0));
        auto r = lb.route_request("gpu", "x", t0);
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::empty_pool);
    }
    SECTION("all nodes unhealthy: no_healthy_nodes, distinct from empty_pool") {
        REQUIRE(lb.add_node(spec("a", {"gpu"}), t0));
        REQUIRE(lb.add_node(spec("b", {"gpu"}), t0));
        REQUIRE(lb.set_health("a", false, t0));
        REQUIRE(lb.set_health("b", false, t0));
        auto r = lb.route_request("gpu", "x", t0);
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::no_healthy_nodes);
        CHECK(r.error().code != make_error_code(errc::empty_pool));
        CHECK(r.error().message() == "no healthy nodes for request type 'gpu'");
        CHECK(r.error().request_type == "gpu");
        CHECK_THROWS_AS(r.value(), boost::system::system_error);
        try {
            (void)r.value();
        } catch (const boost::system::system_error& e) {
            CHECK(std::string(e.what()).rfind("no healthy nodes for request type 'gpu'", 0) == 0);
            CHECK(e.code() == errc::no_healthy_nodes);
        }
    }
    SECTION("ejected nodes count as unhealthy") {
        REQUIRE(lb.add_node(spec("a", {"gpu"}), t0));
        REQUIRE(lb.eject("a", t0 + 30s, t0));
        auto r = lb.route_request("gpu", "x", t0);
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::no_healthy_nodes);
        CHECK(lb.ejected_count() == 1);
        CHECK_FALSE(lb.refresh(t0 + 29s));  // nothing time-dependent changed yet
        CHECK(lb.refresh(t0 + 30s));        // the ejection ends
        CHECK(lb.ejected_count() == 0);
        CHECK(lb.route_request("gpu", "x", t0));
    }
}

TEST_CASE("bad input gets clear errors", "[balancing]") {
    load_balancer<round_robin_picker> lb;
    REQUIRE(lb.add_node(spec("a", {"gpu"}), t0));

    auto dup = lb.add_node(spec("a", {"cpu"}), t0);
    REQUIRE_FALSE(dup);
    CHECK(dup.error() == errc::duplicate_id);

    const double bad = GENERATE(0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity(), 1.7e308, 1e-310);
    CHECK(lb.add_node(spec("b", {"gpu"}, bad), t0).error() == errc::invalid_argument);
    CHECK(lb.set_weight("a", bad, t0).error() == errc::invalid_argument);
    CHECK_FALSE(lb.status("b", t0));
    CHECK(lb.status("a", t0)->weight == 1.0);

    CHECK(lb.add_node(spec("", {"gpu"}), t0).error() == errc::invalid_argument);
    CHECK(lb.add_node(spec("c", {}), t0).error() == errc::invalid_argument);
    CHECK(lb.add_node(spec("c", {"gpu", "gpu"}), t0).error() == errc::invalid_argument);
    CHECK(lb.add_node(spec("c", {"gpu"}, 1, {{"cpu", std::nan("")}}), t0).error() == errc::invalid_metric);
    CHECK(lb.set_metadata("a", {{"bad-name", "x"}}, t0).error() == errc::invalid_argument);

    auto m = lb.set_metrics("a", {{"cpu", std::numeric_limits<double>::infinity()}}, t0);
    REQUIRE_FALSE(m);
    CHECK(m.error() == errc::invalid_metric);

    CHECK(lb.remove_node("zzz", t0).error() == errc::not_found);
    CHECK(lb.set_health("zzz", true, t0).error() == errc::not_found);
    CHECK(lb.eject("zzz", t0, t0).error() == errc::not_found);
    CHECK(lb.size() == 1);
}

TEST_CASE("options are validated with the field named", "[balancing]") {
    CHECK_THROWS_WITH(load_balancer<round_robin_picker>(round_robin_picker(), balancer_options{.panic_threshold_percent = 150}),
                      "invalid balancer_options.panic_threshold_percent: must be within [0, 100], got 150");
    balancer_options o;
    o.slow_start.aggression = 0;
    CHECK_THROWS_WITH(load_balancer<round_robin_picker>(round_robin_picker(), o),
                      "invalid balancer_options.slow_start.aggression: must be positive, got 0");
    CHECK_THROWS_WITH(maglev_picker(maglev_options{.table_size = 65536}),
                      "invalid maglev_options.table_size: must be a prime number, got 65536");
    CHECK_THROWS_AS(ring_hash_picker(ring_hash_options{.min_ring_size = 10, .max_ring_size = 5}), config_error);
    CHECK_THROWS_AS(ring_hash_picker(ring_hash_options{.points_per_weight = 0}), config_error);
    CHECK_THROWS_AS(bounded_load_picker<>(maglev_picker(), bounded_load_options{.balance_factor = 0}), config_error);
    CHECK_THROWS_AS(weighted_round_robin_picker<>(weighted_round_robin_options{.max_weight_ratio = 0.5}), config_error);
    metric_scorer_options mo;
    mo.default_weights = {{.metric = "cpu", .weight = -1, .scale = 1}};
    CHECK_THROWS_WITH(metric_scorer(mo),
                      "invalid metric_scorer_options.default_weights[0].weight: must be non-negative, got -1");
    mo.default_weights = {{.metric = "cpu", .weight = 1, .scale = 0}};
    CHECK_THROWS_WITH(metric_scorer(mo),
                      "invalid metric_scorer_options.default_weights[0].scale: must be positive, got 0");
}

TEST_CASE("panic threshold: below it route to all nodes, or fail", "[balancing]") {
    auto fill = [](auto& lb) {
        for (int i = 0; i < 4; ++i) REQUIRE(lb.add_node(spec("n" + std::to_string(i), {"t"}), t0));
    };
    SECTION("Envoy's default: 50 %, route across all nodes") {
        load_balancer<round_robin_picker> lb;
        fill(lb);
        REQUIRE(lb.set_health("n0", false, t0));
        REQUIRE(lb.set_health("n1", false, t0));  // 2 of 4 healthy: 50 %, not below
        CHECK_FALSE(lb.pool("t").panic);
        auto hits = count_picks(lb, "t", 100);
        CHECK(hits.size() == 2);
        CHECK(hits.count("n0") == 0);

        REQUIRE(lb.set_health("n2", false, t0));  // 25 %: panic
        CHECK(lb.pool("t").panic);
        CHECK(lb.pool("t").candidates == 4);
        hits = count_picks(lb, "t", 100);
        CHECK(hits.size() == 4);
        CHECK(hits["n0"] == 25);

        REQUIRE(lb.set_health("n3", false, t0));  // none healthy: the seed's error
        auto r = lb.route_request("t", "x", t0);
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::no_healthy_nodes);
    }
    SECTION("configured to fail") {
        load_balancer<round_robin_picker> lb(round_robin_picker(),
                                             balancer_options{.panic_threshold_percent = 75, .on_panic = panic_routing::fail});
        fill(lb);
        REQUIRE(lb.set_health("n0", false, t0));  // 75 %: not below
        CHECK(lb.route_request("t", "x", t0));
        REQUIRE(lb.set_health("n1", false, t0));  // 50 %: fail
        auto r = lb.route_request("t", "x", t0);
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::no_healthy_nodes);
    }
    SECTION("route even with no healthy node") {
        load_balancer<round_robin_picker> lb(round_robin_picker(), balancer_options{.route_when_none_healthy = true});
        fill(lb);
        for (int i = 0; i < 4; ++i) REQUIRE(lb.set_health("n" + std::to_string(i), false, t0));
        CHECK(count_picks(lb, "t", 8).size() == 4);
    }
    SECTION("threshold 0 disables panic") {
        load_balancer<round_robin_picker> lb(round_robin_picker(), balancer_options{.panic_threshold_percent = 0});
        fill(lb);
        for (int i = 0; i < 3; ++i) REQUIRE(lb.set_health("n" + std::to_string(i), false, t0));
        auto hits = count_picks(lb, "t", 10);
        CHECK(hits.size() == 1);
        CHECK(hits["n3"] == 10);
    }
}

TEST_CASE("slow start ramps a new node's weight with time passed in", "[balancing]") {
    balancer_options o;
    o.slow_start = {.window = 60s, .aggression = 1.0, .min_weight_factor = 0.1};
    load_balancer<weighted_round_robin_picker<>> lb(weighted_round_robin_picker<>(), o);
    REQUIRE(lb.add_node(spec("old", {"t"}, 1.0), t0 - 120s));
    REQUIRE(lb.add_node(spec("new", {"t"}, 1.0), t0));

    auto weight_at = [&](time_point now) {
        lb.refresh(now);
        return lb.status("new", now)->effective_weight;
    };
    CHECK(weight_at(t0) == Approx(0.1));             // the floor
    CHECK(weight_at(t0 + 3s) == Approx(0.1));        // 3/60 = 0.05 < 0.1
    CHECK(weight_at(t0 + 30s) == Approx(0.5));       // linear
    CHECK(weight_at(t0 + 45s) == Approx(0.75));
    CHECK(weight_at(t0 + 60s) == Approx(1.0));
    CHECK(lb.status("old", t0)->effective_weight == Approx(1.0));

    // The picker sees the ramped weight: at 30 s "new" gets 1/3 of the picks.
    lb.refresh(t0 + 30s);
    auto hits = count_picks(lb, "t", 3000);
    CHECK(hits["new"] == Approx(1000).margin(2));

    SECTION("aggression bends the curve") {
        slow_start_options ss{.window = 60s, .aggression = 2.0, .min_weight_factor = 0.1};
        CHECK(ss.factor(t0, t0 + 15s) == Approx(0.5));  // (1/4)^(1/2)
        CHECK(ss.factor(t0, t0 + 60s) == 1.0);
    }
    SECTION("a node coming back healthy starts again") {
        REQUIRE(lb.set_health("old", false, t0 + 100s));
        REQUIRE(lb.set_health("old", true, t0 + 100s));
        CHECK(lb.status("old", t0 + 130s)->effective_weight == Approx(0.5));
    }
}

TEST_CASE("outcomes feed pending counts, peak EWMA and observers", "[balancing]") {
    metrics_registry reg;
    load_balancer<power_of_choices_picker<peak_ewma_scorer>> lb(
        power_of_choices_picker<peak_ewma_scorer>(), balancer_options{},
        telemetry{.registry = &reg, .name = "main"});
    REQUIRE(lb.add_node(spec("a", {"t"}), t0));

    std::vector<std::string> seen;
    auto sub = lb.subscribe([&](const outcome_event& ev) {
        seen.push_back(fmt::format("{}:{}:{}:{}", ev.node_id, ev.request_type, ev.result.success,
                                   std::chrono::duration_cast<std::chrono::milliseconds>(ev.result.latency).count()));
    });

    auto h = lb.route_request("t", "x", t0);
    REQUIRE(h);
    const node_state& st = h->node();
    CHECK(st.pending() == 1);
    CHECK(lb.pool("t").in_flight == 1);
    CHECK_FALSE(st.peak_ewma_seconds());
    h->report({.latency = 100ms, .success = true}, t0);
    CHECK(st.pending() == 0);
    CHECK(lb.pool("t").in_flight == 0);
    CHECK(*st.peak_ewma_seconds() == Approx(0.1));
    h->report({.latency = 1s, .success = true}, t0);  // a second report is ignored
    CHECK(seen == std::vector<std::string>{"a:t:true:100"});

    // A lower latency decays in with w = exp(-dt / 10 s); a higher one is taken at once.
    auto h2 = lb.route_request("t", "x", t0);
    h2->report({.latency = 0ms, .success = false}, t0 + 10s);
    CHECK(*lb.route_request("t", "x", t0)->node().peak_ewma_seconds() == Approx(0.1 * std::exp(-1.0)));
    auto h3 = lb.route_request("t", "x", t0);
    h3->report({.latency = 500ms}, t0 + 11s);
    CHECK(*lb.route_request("t", "x", t0)->node().peak_ewma_seconds() == Approx(0.5));

    // An unreported handle just ends the request.
    {
        auto h4 = lb.route_request("t", "x", t0);
        CHECK(lb.pool("t").in_flight == 1);
    }
    CHECK(lb.pool("t").in_flight == 0);
    CHECK(seen.size() == 3);

    sub.reset();
    lb.route_request("t", "x", t0)->report({}, t0);
    CHECK(seen.size() == 3);

    // Picks and outcomes are counted per thread and folded into the registry every 256
    // picks of a thread and at every refresh.
    CHECK(lb.pool("t").picks == 7);
    (void)lb.refresh(t0);
    const std::string text = reg.render();
    CHECK(text.find("salama_balancer_picks_total{name=\"main\",request_type=\"t\"} 7") != std::string::npos);
    CHECK(text.find("salama_balancer_outcomes_total{name=\"main\",request_type=\"t\",outcome=\"failure\"} 1") !=
          std::string::npos);
    CHECK(text.find("salama_balancer_nodes{name=\"main\",request_type=\"t\",state=\"healthy\"} 1") !=
          std::string::npos);
    // Types no node serves share one series, so callers cannot grow the label set.
    auto unknown = lb.route_request("nope", "x", t0);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().request_type == "nope");
    (void)lb.route_request("also-unknown", "x", t0);
    const std::string after = reg.render();
    CHECK(after.find("salama_balancer_pick_errors_total{name=\"main\",request_type=\"(unknown)\",reason=\"empty_pool\"} 2") !=
          std::string::npos);
    CHECK(after.find("request_type=\"nope\"") == std::string::npos);
}

TEST_CASE("an observer may eject the node it hears about", "[balancing]") {
    load_balancer<round_robin_picker> lb;
    REQUIRE(lb.add_node(spec("a", {"t"}), t0));
    REQUIRE(lb.add_node(spec("b", {"t"}), t0));
    auto sub = lb.subscribe([&](const outcome_event& ev) {
        if (!ev.result.success) (void)lb.eject(ev.node_id, ev.at + 30s, ev.at);
    });
    auto throwing = lb.subscribe([](const outcome_event&) { throw std::runtime_error("observer bug"); });
    auto h = lb.route_request("t", "x", t0);
    const std::string bad = h->node_id();
    h->report({.latency = 1ms, .success = false}, t0);
    CHECK(lb.status(bad, t0)->ejected_until == t0 + 30s);
    CHECK(lb.observer_errors() == 1);
    for (int i = 0; i < 10; ++i) CHECK(lb.route_request("t", "x", t0)->node_id() != bad);
}

TEST_CASE("the registry indexes nodes by id and by request type", "[balancing]") {
    node_registry r;
    REQUIRE(r.add_node(spec("b", {"x", "y"}), t0));
    REQUIRE(r.add_node(spec("a", {"y"}), t0));
    REQUIRE(r.add_node(spec("c", {"x"}), t0));
    CHECK(r.members("x") == std::vector<std::string>{"b", "c"});
    CHECK(r.members("y") == std::vector<std::string>{"a", "b"});
    CHECK(r.members("z").empty());
    REQUIRE(r.remove_node("b"));
    CHECK(r.members("x") == std::vector<std::string>{"c"});
    CHECK(r.members("y") == std::vector<std::string>{"a"});
    auto pools = r.build(t0);
    REQUIRE(pools.size() == 2);
    CHECK(pools[0].request_type == "x");
    CHECK(pools[0].nodes.at(0).id() == "c");
    REQUIRE(r.set_metadata("a", {{"zone", "eu"}}));
    CHECK(r.status("a", t0)->metadata.get("zone") == "eu");
    CHECK(r.set_metadata("a", {{"bad-name", "x"}}).error() == errc::invalid_argument);
    CHECK(r.status("a", t0)->metadata.get("zone") == "eu");
}

TEST_CASE("update applies several changes and publishes once", "[balancing]") {
    load_balancer<maglev_picker> lb;
    std::uint64_t before = lb.with_snapshot([](const auto& s) { return s.version; });
    auto r = lb.update(t0, [](node_registry& reg) -> result<void> {
        for (int i = 0; i < 50; ++i)
            if (auto e = reg.add_node(spec("n" + std::to_string(i), {"t"}), t0); !e) return e;
        return {};
    });
    REQUIRE(r);
    CHECK(lb.with_snapshot([](const auto& s) { return s.version; }) == before + 1);
    CHECK(lb.size() == 50);
    // A failing batch publishes nothing new.
    auto bad = lb.update(t0, [](node_registry& reg) { return reg.add_node(spec("n1", {"t"}), t0); });
    CHECK(bad.error() == errc::duplicate_id);
    CHECK(lb.with_snapshot([](const auto& s) { return s.version; }) == before + 1);
}

TEST_CASE("a handle keeps its node valid after the node leaves, and even after the balancer", "[balancing]") {
    auto lb = std::make_unique<load_balancer<round_robin_picker>>();
    REQUIRE(lb->add_node(spec("a", {"t"}), t0));
    REQUIRE(lb->add_node(spec("b", {"t"}), t0));
    std::vector<pick_handle> held;
    for (int i = 0; i < 4; ++i) {
        auto h = lb->route_request("t", "x", t0);
        REQUIRE(h);
        held.push_back(std::move(*h));
    }
    // Removing a node with requests in flight keeps it until they end.
    REQUIRE(lb->remove_node("a", t0));
    REQUIRE(lb->remove_node("b", t0));
    CHECK(lb->pool("t").members == 0);
    std::vector<std::string> ids;
    for (const auto& h : held) ids.push_back(h.node_id());
    CHECK(std::count(ids.begin(), ids.end(), "a") == 2);
    CHECK(held[0].node().pending() == 2);
    held[0].report({.latency = 5ms}, t0 + 1s);
    CHECK(held[1].node().pending() == 2);

    // The balancer may go first; the remaining handles still end cleanly.
    long seen = 0;
    auto sub = lb->subscribe([&](const outcome_event& ev) { seen += ev.node_id.empty() ? 0 : 1; });
    lb.reset();
    held[1].report({.latency = 7ms, .success = false}, t0 + 2s);
    // The node's counters are still there, and exact, after the balancer went.
    CHECK(held[2].node().pending() == 1 + (ids[3] == ids[2] ? 1 : 0));
    held.clear();
    CHECK(seen == 1);
}

TEST_CASE("the hot counters of nodes that left are reused once their requests end", "[balancing]") {
    load_balancer<round_robin_picker> lb;
    for (const char* id : {"a", "b", "c"}) REQUIRE(lb.add_node(spec(id, {"t"}), t0));
    std::size_t live = 0;
    // Reads how many counters are handed out, after a publish.
    auto store_live = [&] {
        lb.republish(t0);
        return lb.update(t0, [&](node_registry& r) { live = r.counters().live(); });
    };
    REQUIRE(store_live());
    CHECK(live == 3);

    auto h = lb.route_request("t", "x", t0);
    REQUIRE(h);
    const std::string gone = h->node_id();
    REQUIRE(lb.remove_node(gone, t0));
    REQUIRE(store_live());
    CHECK(live == 3);  // still in flight: kept

    h->abandon();
    REQUIRE(store_live());
    CHECK(live == 2);  // ended: released at the next publish

    // Snapshot entries reach the same counters as the nodes themselves, and a new node
    // takes the released counters.
    REQUIRE(lb.add_node(spec("d", {"t"}), t0));
    auto h2 = lb.route_request("t", "x", t0);
    REQUIRE(h2);
    lb.with_snapshot([&](const auto& snap) {
        const auto* p = snap.find("t");
        REQUIRE(p != nullptr);
        for (const auto& e : p->nodes) {
            CHECK(e.hot == &e.state->counters());
            CHECK(e.pending() == (e.id() == h2->node_id() ? 1 : 0));
        }
    });
    REQUIRE(store_live());
    CHECK(live == 3);
}

TEST_CASE("weights from service discovery that no table can hold are refused, and nothing changes", "[balancing]") {
    // A ring of 2 x 1.7e308 points, or 1024 / 1e-310 points per unit of weight, cannot be
    // built: such weights used to throw from the publish after the registry had changed.
    load_balancer<ring_hash_picker> lb;
    REQUIRE(lb.add_node(spec("a", {"t"}), t0));
    REQUIRE(lb.add_node(spec("b", {"t"}), t0));
    const auto version = [&] { return lb.with_snapshot([](const auto& s) { return s.version; }); };
    const std::uint64_t v0 = version();
    auto w = lb.set_weight("a", 1.7e308, t0);
    REQUIRE_FALSE(w);
    CHECK(w.error() == errc::invalid_argument);
    CHECK(lb.set_weight("b", 1.7e308, t0).error() == errc::invalid_argument);
    CHECK(lb.add_node(spec("c", {"t"}, 1e-310), t0).error() == errc::invalid_argument);
    CHECK(version() == v0);
    CHECK(lb.size() == 2);
    CHECK(lb.status("a", t0)->weight == 1.0);
    // Later changes still publish.
    REQUIRE(lb.set_weight("a", max_node_weight, t0));
    REQUIRE(lb.add_node(spec("c", {"t"}, min_node_weight), t0));
    CHECK(version() == v0 + 2);
    CHECK(lb.pool("t").candidates == 3);
    CHECK(lb.route_request("t", "k", t0));
}

TEST_CASE("a refused change is explained in the log, naming the field", "[balancing]") {
    auto sink = std::make_shared<memory_sink>();
    load_balancer<round_robin_picker> lb(round_robin_picker(), balancer_options{},
                                         telemetry{.log = logger(sink), .name = "edge"});
    REQUIRE(lb.add_node(spec("a", {"t"}), t0));
    CHECK(lb.set_metrics("a", {{"cpu", std::nan("")}}, t0).error() == errc::invalid_metric);
    CHECK(sink->contains("balancer edge: refused: invalid node(a).metrics.cpu: must be finite, got nan"));
    CHECK(lb.add_node(spec("b", {"t"}, -1), t0).error() == errc::invalid_argument);
    CHECK(sink->contains("invalid node(b).weight"));
}

TEST_CASE("a batch that fails leaves the registry as it was", "[balancing]") {
    load_balancer<round_robin_picker> lb;
    REQUIRE(lb.add_node(spec("a", {"t"}), t0));
    auto r = lb.update(t0, [](node_registry& reg) -> result<void> {
        if (auto e = reg.add_node(spec("b", {"t"}), t0); !e) return e;
        return reg.set_weight("a", std::nan(""));
    });
    CHECK(r.error() == errc::invalid_argument);
    CHECK(lb.size() == 1);
    CHECK_FALSE(lb.status("b", t0));
}

TEST_CASE("an empty routing key hashes without touching memory", "[balancing]") {
    // An empty view may carry a null pointer; hashing it must not pass that to memcpy
    // (UBSan's nonnull check fails the asan preset otherwise).
    load_balancer<maglev_picker> lb;
    REQUIRE(lb.add_node(spec("a", {"t"}), t0));
    request r;
    r.request_type = "t";
    CHECK(r.key.data() == nullptr);
    CHECK(r.payload.data() == nullptr);
    CHECK(r.key_hash() == hash_key(""));
    CHECK(lb.pick(r));
}

TEST_CASE("time is explicit: the peak EWMA decays by the now each pick is given", "[balancing]") {
    load_balancer<power_of_choices_picker<peak_ewma_scorer>> lb;
    REQUIRE(lb.add_node(spec("slow", {"t"}), t0));
    REQUIRE(lb.add_node(spec("fresh", {"t"}), t0));
    lb.with_snapshot([](const auto& snap) {
        for (const auto& e : snap.find("t")->nodes)
            if (e.id() == "slow") {
                e.state->begin();
                e.state->finish({.latency = 2s}, t0, 10s);
            }
    });
    // At t0 the slow node's 2 s loses to the 30 ms assumed for a node without outcomes.
    CHECK(lb.route_request("t", "x", t0)->node_id() == "fresh");
    // Ten minutes on (decay tau 10 s) its estimate has decayed to nothing: it wins again.
    // A pick that left `now` out would read no decay and keep avoiding it.
    CHECK(lb.route_request("t", "x", t0 + 600s)->node_id() == "slow");
}
