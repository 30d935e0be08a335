// Each picker's distribution with fixed seeds, power of d choices, hashing stability,
// keys moved on membership changes, bounded loads, utilization-derived weights.
#include "catch.hpp"

#include <salama/balancing/all.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

using namespace salama;
using namespace salama::balancing;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{std::chrono::hours(24)};

// Entries do not own their nodes: the nodes made here live until the test program ends.
node_state* kept_node(std::string id, std::uint64_t sequence) {
    static std::deque<std::unique_ptr<node_state>> kept;
    kept.push_back(std::make_unique<node_state>(std::move(id), "", sequence));
    return kept.back().get();
}

std::vector<node_entry> make_nodes(std::vector<double> weights, std::size_t first = 0) {
    std::vector<node_entry> out;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        node_entry e;
        e.state = kept_node("node-" + std::to_string(first + i), first + i);
        e.weight = weights[i];
        out.push_back(e);
    }
    return out;
}

std::vector<node_entry> make_nodes(std::size_t n, std::size_t first = 0) {
    return make_nodes(std::vector<double>(n, 1.0), first);
}

request any_request() {
    request r;
    r.request_type = "t";
    return r;
}

template <class P>
std::vector<int> picks(const P& p, const std::vector<node_entry>& nodes, int n) {
    const auto t = p.build(nodes, t0);
    std::vector<int> hits(nodes.size(), 0);
    const auto r = any_request();
    for (int i = 0; i < n; ++i) ++hits.at(p.pick(t, nodes, r));
    return hits;
}

// The node each key maps to, by id.
template <class P>
std::vector<std::string> assign(const P& p, const std::vector<node_entry>& nodes, int keys) {
    const auto t = p.build(nodes, t0);
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(keys));
    for (int k = 0; k < keys; ++k)
        out.push_back(nodes[p.pick_hash(t, nodes, hash_key("key-" + std::to_string(k)))].id());
    return out;
}

}  // namespace

TEST_CASE("round robin visits every node equally", "[balancing]") {
    auto nodes = make_nodes(7);
    auto hits = picks(round_robin_picker(42), nodes, 700);
    for (int h : hits) CHECK(h == 100);
}

TEST_CASE("weighted round robin respects weights from the first picks", "[balancing]") {
    const std::vector<double> w{1, 2, 3, 4};
    const double total = 10;
    auto nodes = make_nodes(w);
    weighted_round_robin_picker<> p(weighted_round_robin_options{.seed = 7});
    const auto t = p.build(nodes, t0);
    const auto r = any_request();
    std::vector<int> hits(4, 0);
    double worst = 0;
    for (int q = 1; q <= 5000; ++q) {
        ++hits[p.pick(t, nodes, r)];
        for (std::size_t i = 0; i < 4; ++i)
            worst = std::max(worst, std::abs(hits[i] - q * w[i] / total));
    }
    // Every prefix of the pick sequence is within two picks of the exact shares: no burst
    // toward the heaviest node at the start.
    CHECK(worst <= 2.0);
    CHECK(hits[3] == Approx(2000).margin(2));

    SECTION("a very heavy node is capped at 10x the mean") {
        auto skewed = make_nodes({1, 1, 1, 1000});
        auto h = picks(weighted_round_robin_picker<>(), skewed, 13000);
        // mean 250.75 -> cap 2507.5 is above 1000, so 1000 stands: share 1000/1003.
        CHECK(h[3] == Approx(13000 * 1000.0 / 1003).margin(3));
        auto extreme = make_nodes({1, 1, 1, 1, 1, 1, 1, 1, 1, 1000});
        auto h2 = picks(weighted_round_robin_picker<>(), extreme, 10000);
        const double cap = 10 * (1009.0 / 10);  // 10x the mean
        CHECK(h2[9] == Approx(10000 * cap / (cap + 9)).margin(3));
    }
}

TEST_CASE("random picks follow weights", "[balancing]") {
    const std::vector<double> w{1, 2, 3, 4};
    auto nodes = make_nodes(w);
    const int n = 100000;
    auto hits = picks(random_picker(1234), nodes, n);
    for (std::size_t i = 0; i < w.size(); ++i) CHECK(hits[i] == Approx(n * w[i] / 10).epsilon(0.03));
    auto uniform = picks(random_picker(99), make_nodes(5), n);
    for (int h : uniform) CHECK(h == Approx(n / 5).epsilon(0.03));
    // The same seed gives the same sequence.
    CHECK(picks(random_picker(1234), nodes, 1000) == picks(random_picker(1234), nodes, 1000));
}

TEST_CASE("power of two choices prefers the less loaded", "[balancing]") {
    power_of_choices_picker<least_request_scorer> p(least_request_scorer(), 5);
    SECTION("one node") {
        auto nodes = make_nodes(1);
        CHECK(picks(p, nodes, 10)[0] == 10);
    }
    SECTION("two nodes: always the less loaded, never the same node twice") {
        auto nodes = make_nodes(2);
        for (int i = 0; i < 3; ++i) nodes[0].state->begin();
        CHECK(picks(p, nodes, 100) == std::vector<int>{0, 100});
    }
    SECTION("the busiest of many is never picked; idle ones share the rest") {
        auto nodes = make_nodes(5);
        for (int i = 0; i < 10; ++i) nodes[2].state->begin();
        auto hits = picks(p, nodes, 4000);
        CHECK(hits[2] == 0);
        for (std::size_t i : {0u, 1u, 3u, 4u}) CHECK(hits[i] == Approx(1000).epsilon(0.1));
    }
    SECTION("d = 3") {
        power_of_choices_picker<least_request_scorer, 3> p3(least_request_scorer(), 9);
        auto nodes = make_nodes(4);
        for (int i = 0; i < 10; ++i) nodes[0].state->begin();
        for (int i = 0; i < 5; ++i) nodes[1].state->begin();
        auto hits = picks(p3, nodes, 3000);
        CHECK(hits[0] == 0);
        CHECK(hits[1] == 0);  // any three distinct include node 2 or 3
    }
    SECTION("peak EWMA: the faster node wins, and unknown nodes count 30 ms") {
        power_of_choices_picker<peak_ewma_scorer> pe;
        auto nodes = make_nodes(2);
        nodes[0].state->begin();
        nodes[0].state->finish({.latency = 50ms}, t0, 10s);
        CHECK(picks(pe, nodes, 50) == std::vector<int>{0, 50});  // 50 ms > 30 ms default
        nodes[1].state->begin();
        nodes[1].state->begin();  // 30 ms * 3 > 50 ms * 1
        CHECK(picks(pe, nodes, 50) == std::vector<int>{50, 0});
    }
}

TEST_CASE("peak EWMA decays toward zero between outcomes, read with the request's now", "[balancing]") {
    peak_ewma_scorer scorer;  // decay_tau 10 s
    auto nodes = make_nodes(2);
    nodes[0].state->begin();
    nodes[0].state->finish({.latency = 1s}, t0, 10s);  // one slow outcome, then nothing
    CHECK(scorer.estimate(nodes[0], t0) == Approx(1.0));
    CHECK(scorer.estimate(nodes[0], t0 + 10s) == Approx(std::exp(-1.0)));
    CHECK(scorer.estimate(nodes[0], t0 - 5s) == Approx(1.0));      // before the outcome: no decay
    CHECK(scorer.estimate(nodes[0], time_point{}) == Approx(1.0));  // no `now`: no decay
    CHECK(scorer.estimate(nodes[1], t0 + 10s) == Approx(0.03));     // no outcome: default RTT

    // Node 1 keeps answering in 50 ms; node 0 is not tried again until its estimate has
    // decayed below that: ln(1 / 0.05) * 10 s = 30 s later.
    power_of_choices_picker<peak_ewma_scorer> p;
    request r = any_request();
    std::vector<int> chosen;
    for (int sec : {1, 10, 20, 29, 31, 40}) {
        const time_point now = t0 + std::chrono::seconds(sec);
        nodes[1].state->begin();
        nodes[1].state->finish({.latency = 50ms}, now, 10s);
        r.now = now;
        chosen.push_back(static_cast<int>(p.pick(p.build(nodes, now), nodes, r)));
    }
    CHECK(chosen == std::vector<int>{1, 1, 1, 1, 0, 0});

    // The average itself: a smaller latency blends in with w = exp(-dt / tau); a larger one
    // replaces it at once.
    nodes[0].state->begin();
    nodes[0].state->finish({.latency = 100ms}, t0 + 10s, 10s);
    const double w = std::exp(-1.0);
    CHECK(*nodes[0].peak_ewma_seconds() == Approx(1.0 * w + 0.1 * (1 - w)));
    nodes[0].state->begin();
    nodes[0].state->finish({.latency = 2s}, t0 + 11s, 10s);
    CHECK(*nodes[0].peak_ewma_seconds() == Approx(2.0));
    CHECK(nodes[0].peak_ewma_stamp() == t0 + 11s);
    CHECK_THROWS_AS(peak_ewma_scorer(peak_ewma_options{.decay_tau = 0s}), config_error);
}

TEST_CASE("least request scorer follows Envoy's weight / (active + 1)^bias", "[balancing]") {
    auto nodes = make_nodes({2, 1});
    for (int i = 0; i < 3; ++i) nodes[0].state->begin();
    const auto r = any_request();
    CHECK(least_request_scorer().score(nodes[0], r) == Approx(0.5));
    CHECK(least_request_scorer(least_request_options{.active_request_bias = 2}).score(nodes[0], r) ==
          Approx(2.0 / 16));
    CHECK(least_request_scorer(least_request_options{.ignore_weights = true}).score(nodes[0], r) == -3);
}

TEST_CASE("hash pickers send the same key to the same node", "[balancing]") {
    auto nodes = make_nodes(50);
    CHECK(assign(ring_hash_picker(), nodes, 2000) == assign(ring_hash_picker(), nodes, 2000));
    CHECK(assign(maglev_picker(), nodes, 2000) == assign(maglev_picker(), nodes, 2000));
    CHECK(assign(jump_hash_picker(), nodes, 2000) == assign(jump_hash_picker(), nodes, 2000));
    CHECK(assign(rendezvous_picker(), nodes, 2000) == assign(rendezvous_picker(), nodes, 2000));
    // Through the balancer, with the key in the request.
    load_balancer<maglev_picker> lb;
    for (int i = 0; i < 10; ++i) {
        node_spec s;
        s.id = "n" + std::to_string(i);
        s.request_types = {"t"};
        REQUIRE(lb.add_node(s, t0));
    }
    request r;
    r.request_type = "t";
    r.key = "user-42";
    const std::string first = lb.pick(r)->node_id();
    for (int i = 0; i < 20; ++i) CHECK(lb.pick(r)->node_id() == first);
}

namespace {
template <class P>
double moved_share(const P& p, const std::vector<node_entry>& before, const std::vector<node_entry>& after,
                   int keys, const std::string& removed, bool* only_removed) {
    auto a = assign(p, before, keys);
    auto b = assign(p, after, keys);
    int moved = 0;
    *only_removed = true;
    for (std::size_t k = 0; k < a.size(); ++k) {
        if (a[k] == b[k]) continue;
        ++moved;
        if (a[k] != removed) *only_removed = false;
    }
    return static_cast<double>(moved) / keys;
}
}  // namespace

TEST_CASE("consistent hashing moves few keys when a node goes", "[balancing]") {
    const int n = 100;
    const int keys = 100000;
    auto before = make_nodes(n);
    auto after = before;
    const std::string removed = after[37].id();
    after.erase(after.begin() + 37);
    const double optimal = 1.0 / n;
    bool only = false;

    const double ring = moved_share(ring_hash_picker(), before, after, keys, removed, &only);
    CHECK(only);  // a ring moves only the removed node's keys
    CHECK(ring <= 1.5 * optimal);

    const double hrw = moved_share(rendezvous_picker(), before, after, keys, removed, &only);
    CHECK(only);
    CHECK(hrw <= 1.1 * optimal);

    const double mag = moved_share(maglev_picker(), before, after, keys, removed, &only);
    CHECK_FALSE(only);           // Maglev reshuffles a few slots of surviving nodes too
    CHECK(mag >= optimal * 0.9);
    CHECK(mag <= 2.0 * optimal);  // about 1.3x optimal here; Envoy reports up to 2x a ring

    // Jump hashing: losing the newest node moves only its keys.
    auto last = before;
    const std::string newest = last.back().id();
    last.pop_back();
    const double jump = moved_share(jump_hash_picker(), before, last, keys, newest, &only);
    CHECK(only);
    CHECK(jump <= 1.1 * optimal);
}

TEST_CASE("consistent hashing moves keys only to a node that joins", "[balancing]") {
    const int n = 100;
    const int keys = 50000;
    auto before = make_nodes(n);
    auto after = before;
    after.push_back(make_nodes(1, n).front());
    const std::string added = after.back().id();
    const double optimal = 1.0 / (n + 1);
    auto check_picker = [&](const auto& p, double max_ratio, bool only_to_new) {
        auto a = assign(p, before, keys);
        auto b = assign(p, after, keys);
        int moved = 0;
        bool elsewhere = false;
        for (std::size_t k = 0; k < a.size(); ++k) {
            if (a[k] == b[k]) continue;
            ++moved;
            if (b[k] != added) elsewhere = true;
        }
        CHECK(static_cast<double>(moved) / keys <= max_ratio * optimal);
        CHECK(moved > 0);
        if (only_to_new) CHECK_FALSE(elsewhere);
    };
    check_picker(ring_hash_picker(), 1.5, true);
    check_picker(rendezvous_picker(), 1.15, true);
    check_picker(jump_hash_picker(), 1.15, true);
    check_picker(maglev_picker(), 2.0, false);
}

TEST_CASE("jump hash moves exactly the new bucket's keys when a node joins", "[balancing]") {
    for (std::uint64_t key = 0; key < 2000; ++key) {
        const std::uint64_t h = balancing::detail::mix64(key);
        CHECK(jump_consistent_hash(h, 1) == 0);
        for (std::uint32_t b = 1; b < 40; ++b) {
            const auto x = jump_consistent_hash(h, b);
            const auto y = jump_consistent_hash(h, b + 1);
            CHECK((y == x || y == b));
        }
    }
}

TEST_CASE("Maglev spreads keys evenly and follows weights", "[balancing]") {
    auto nodes = make_nodes(100);
    auto a = assign(maglev_picker(), nodes, 100000);
    std::map<std::string, int> hits;
    for (const auto& id : a) ++hits[id];
    double sum = 0, sq = 0;
    for (const auto& [id, h] : hits) {
        sum += h;
        sq += static_cast<double>(h) * h;
    }
    const double mean = sum / 100;
    const double rel_sd = std::sqrt(sq / 100 - mean * mean) / mean;
    CHECK(hits.size() == 100);
    CHECK(rel_sd <= 0.035);

    // Table shares follow weights.
    auto weighted = make_nodes({1, 2, 1});
    maglev_picker m(maglev_options{.table_size = 10007});
    auto t = m.build(weighted, t0);
    std::vector<int> slots(3, 0);
    for (std::size_t i = 0; i < t.size(); ++i) ++slots[t.at(i)];
    CHECK(slots[1] == Approx(10007 / 2.0).epsilon(0.01));
    CHECK(slots[0] == Approx(10007 / 4.0).epsilon(0.02));

    auto ring_t = ring_hash_picker().build(weighted, t0);
    CHECK(std::count(ring_t.owner.begin(), ring_t.owner.end(), 1U) ==
          Approx(ring_t.owner.size() / 2.0).epsilon(0.01));
}

TEST_CASE("rendezvous hashing follows weights", "[balancing]") {
    auto nodes = make_nodes({1, 3});
    auto a = assign(rendezvous_picker(), nodes, 40000);
    const auto heavy = std::count(a.begin(), a.end(), nodes[1].id());
    CHECK(heavy == Approx(30000).epsilon(0.02));
}

TEST_CASE("bounded-load hashing never exceeds ceil((1 + eps) * average)", "[balancing]") {
    const int n = 10;
    load_balancer<bounded_load_picker<maglev_picker>> lb(
        bounded_load_picker<maglev_picker>(maglev_picker(), bounded_load_options{.balance_factor = 0.25}));
    for (int i = 0; i < n; ++i) {
        node_spec s;
        s.id = "n" + std::to_string(i);
        s.request_types = {"t"};
        REQUIRE(lb.add_node(s, t0));
    }
    std::vector<pick_handle> held;
    request r;
    r.request_type = "t";
    r.key = "hot";
    const std::string home = lb.pick(r)->node_id();
    // A hot key and a few others: without the bound one node would take them all.
    for (int i = 0; i < 400; ++i) {
        r.key = i % 4 == 0 ? std::string_view("other") : std::string_view("hot");
        auto h = lb.pick(r);
        REQUIRE(h);
        held.push_back(std::move(*h));
        const auto total = static_cast<double>(held.size());
        const auto cap = static_cast<std::int64_t>(std::ceil(1.25 * total / n));
        for (const auto& st : lb.nodes(t0)) CHECK(st.pending <= cap);
    }
    // Once the load drains, the hot key goes home again.
    held.clear();
    r.key = "hot";
    CHECK(lb.pick(r)->node_id() == home);
    CHECK(lb.get_picker().bound(0, 10) == 1);
    CHECK(lb.get_picker().bound(99, 10) == 13);  // ceil(1.25 * 10)
}

TEST_CASE("utilization-derived weights follow gRPC's formula, blackout and expiry", "[balancing]") {
    utilization_weight uw;
    auto nodes = make_nodes(1);
    auto d = std::make_shared<node_data>();
    d->metrics = node_metrics({{"qps", 100}, {"eps", 10}, {"utilization", 0.5}});
    d->metrics_since = t0;
    d->metrics_at = t0 + 20s;
    nodes[0].data = d.get();
    CHECK_FALSE(uw.weight(nodes[0], t0 + 5s));                          // blackout 10 s
    CHECK(*uw.weight(nodes[0], t0 + 20s) == Approx(100 / (0.5 + 0.1)));  // qps / (util + eps/qps)
    CHECK_FALSE(uw.weight(nodes[0], t0 + 20s + 3min));                   // expired
    CHECK(std::isnan(uw.score(nodes[0], request{.request_type = "t", .now = t0})));

    // Through the balancer: weights from reports, unknown nodes at the mean.
    load_balancer<weighted_round_robin_picker<utilization_weight>> lb;
    for (const char* id : {"a", "b", "c"}) {
        node_spec s;
        s.id = id;
        s.request_types = {"t"};
        REQUIRE(lb.add_node(s, t0));
    }
    REQUIRE(lb.set_metrics("a", {{"qps", 300}, {"utilization", 0.5}}, t0));  // 600
    REQUIRE(lb.set_metrics("b", {{"qps", 100}, {"utilization", 0.5}}, t0));  // 200
    lb.refresh(t0 + 11s);  // past the blackout; c has no report: mean 400
    std::map<std::string, int> hits;
    for (int i = 0; i < 1200; ++i) ++hits[lb.route_request("t", "", t0)->node_id()];
    CHECK(hits["a"] == Approx(600).margin(2));
    CHECK(hits["b"] == Approx(200).margin(2));
    CHECK(hits["c"] == Approx(400).margin(2));
}

TEST_CASE("Maglev keeps 16-bit slots up to 65,535 candidates and 32-bit ones beyond", "[balancing]") {
    maglev_picker m(maglev_options{.table_size = 131071});
    auto small = m.build(make_nodes(65535), t0);
    CHECK(small.wide.empty());
    CHECK(small.memory_bytes() == 131071 * 2);
    std::size_t top = 0;
    for (std::size_t i = 0; i < small.size(); ++i) top = std::max(top, small.at(i));
    CHECK(top == 65534);

    auto big = make_nodes(65536);
    auto t = m.build(big, t0);
    CHECK(t.narrow.empty());
    CHECK(t.memory_bytes() == 131071 * 4);
    std::vector<char> seen(big.size(), 0);
    for (std::size_t i = 0; i < t.size(); ++i) seen[t.at(i)] = 1;
    CHECK(std::count(seen.begin(), seen.end(), 1) == 65536);  // every node owns a slot
    CHECK(m.pick_hash(t, big, 12345) == t.at(12345 % 131071));
}

TEST_CASE("the portable 64 x 64 high product matches the compiler's", "[balancing]") {
    // The fallback for compilers without a 128-bit type (MSVC uses _umul128).
    const std::uint64_t values[] = {0, 1, 2, 0xffffffffULL, 0x100000000ULL, 0x9e3779b97f4a7c15ULL,
                                    0xffffffffffffffffULL, 0x8000000000000000ULL, 12345678901234567ULL};
    for (std::uint64_t a : values)
        for (std::uint64_t b : values) CHECK(balancing::detail::mul_high64_portable(a, b) == balancing::detail::mul_high64(a, b));
    CHECK(balancing::detail::mul_high64_portable(0xffffffffffffffffULL, 0xffffffffffffffffULL) == 0xfffffffffffffffeULL);
    CHECK(balancing::detail::reduce(0x8000000000000000ULL, 10) == 5);
}
