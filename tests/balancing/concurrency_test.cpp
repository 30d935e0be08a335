// Picks and outcome reports on several threads while membership, weights and health
// change: the RCU snapshot keeps every pick on a live snapshot (run under ThreadSanitizer).
#include "catch.hpp"

#include <salama/balancing/all.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

using namespace salama;
using namespace salama::balancing;
using namespace std::chrono_literals;

// Counts allocations made by this thread while `counting` is set, to prove that picks
// allocate nothing in steady state.
namespace {
thread_local bool counting = false;
thread_local long allocations = 0;
}  // namespace

// Every plain and nothrow form is replaced so that allocation and release always pair
// malloc with free (sanitizers check that); the aligned forms stay the library's own.
// g++ cannot see that the replaced new and delete pair malloc with free, and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    if (counting) ++allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    if (counting) ++allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

template <class LB>
long allocations_per_1000_picks(LB& lb) {
    const time_point t0{std::chrono::hours(24)};
    for (int i = 0; i < 64; ++i) {
        node_spec s;
        s.id = "n" + std::to_string(i);
        s.request_types = {"t"};
        s.metrics = {{"cpu", 0.5}};
        REQUIRE(lb.add_node(s, t0));
    }
    request r;
    r.request_type = "t";
    r.payload = "some payload";
    bool all_ok = true;
    counting = true;
    allocations = 0;
    for (int i = 0; i < 1000; ++i) {
        r.hash = static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
        auto h = lb.pick(r);
        all_ok = all_ok && h.has_value();
        if (h && i % 2 == 0) h->report({.latency = std::chrono::milliseconds(i % 7)}, t0);
    }
    counting = false;
    CHECK(all_ok);
    return allocations;
}

}  // namespace

TEST_CASE("picks and reports allocate nothing in steady state", "[balancing]") {
    SECTION("seed") {
        load_balancer<highest_score_picker<>> lb;
        CHECK(allocations_per_1000_picks(lb) == 0);
    }
    SECTION("weighted round robin") {
        load_balancer<weighted_round_robin_picker<>> lb;
        CHECK(allocations_per_1000_picks(lb) == 0);
    }
    SECTION("P2C peak EWMA") {
        load_balancer<power_of_choices_picker<peak_ewma_scorer>> lb;
        CHECK(allocations_per_1000_picks(lb) == 0);
    }
    SECTION("bounded Maglev") {
        load_balancer<bounded_load_picker<maglev_picker>> lb;
        CHECK(allocations_per_1000_picks(lb) == 0);
    }
    SECTION("with telemetry and an observer") {
        metrics_registry reg;
        load_balancer<random_picker> lb(random_picker(), balancer_options{}, telemetry{.registry = &reg});
        long seen = 0;
        auto sub = lb.subscribe([&](const outcome_event&) { ++seen; });
        CHECK(allocations_per_1000_picks(lb) == 0);
        CHECK(seen == 500);
    }
}

TEST_CASE("refused picks allocate nothing", "[balancing]") {
    // Request types longer than the small-string buffer: copying one into the error, or
    // building a metric label from it, would allocate.
    const std::string served = "a-request-type-longer-than-sso";
    const std::string unknown = "another-request-type-no-node-serves";
    const std::string emptied = "a-request-type-whose-members-all-left";
    const time_point t0{std::chrono::hours(24)};
    metrics_registry reg;
    load_balancer<round_robin_picker> lb(round_robin_picker(), balancer_options{}, telemetry{.registry = &reg});
    node_spec s;
    s.id = "n";
    s.request_types = {served};
    s.healthy = false;
    REQUIRE(lb.add_node(s, t0));
    s.id = "m";
    s.request_types = {emptied};
    s.healthy = true;
    REQUIRE(lb.add_node(s, t0));
    REQUIRE(lb.remove_node("m", t0));
    // Now: `served` has one unhealthy member, `emptied` none, `unknown` never existed.
    std::size_t refused = 0;
    counting = true;
    allocations = 0;
    for (int i = 0; i < 300; ++i) {
        const std::string& type = i % 3 == 0 ? served : i % 3 == 1 ? unknown : emptied;
        auto h = lb.route_request(type, "x", t0);
        refused += h ? 0 : 1;
    }
    counting = false;
    CHECK(refused == 300);
    CHECK(allocations == 0);
    const std::string text = reg.render();
    CHECK(text.find("request_type=\"" + served + "\",reason=\"no_healthy_nodes\"} 100") != std::string::npos);
    // A type whose members all left is no longer a pool: it counts with the unknown ones.
    CHECK(text.find("request_type=\"(unknown)\",reason=\"empty_pool\"} 200") != std::string::npos);
}

namespace {

template <class LB>
void churn_while_picking(LB& lb) {
    const time_point t0{std::chrono::hours(24)};
    for (int i = 0; i < 8; ++i) {
        node_spec s;
        s.id = "base-" + std::to_string(i);
        s.request_types = {"t"};
        REQUIRE(lb.add_node(s, t0));
    }
    std::atomic<bool> stop{false};
    std::atomic<long> ok{0};
    std::atomic<long> refused{0};
    std::atomic<long> observed{0};
    std::atomic<long> bad{0};  // Catch assertions are for the main thread only
    auto sub = lb.subscribe([&](const outcome_event& ev) {
        if (!ev.node_id.empty()) observed.fetch_add(1, std::memory_order_relaxed);
    });

    auto reader = [&](int seed) {
        request r;
        r.request_type = "t";
        std::string key;
        long n = 0;
        while (!stop.load(std::memory_order_relaxed) || n < 2000) {
            key = "k" + std::to_string((n * 7919 + seed) % 1000);
            r.key = key;
            auto h = lb.pick(r);
            if (h) {
                ok.fetch_add(1, std::memory_order_relaxed);
                if (h->node_id().empty()) bad.fetch_add(1, std::memory_order_relaxed);
                if (n % 3 == 0)
                    h->report({.latency = std::chrono::microseconds(100 + n % 50), .success = n % 11 != 0},
                              t0 + std::chrono::milliseconds(n));
                // otherwise the handle ends unreported
            } else {
                refused.fetch_add(1, std::memory_order_relaxed);
            }
            ++n;
        }
    };
    std::thread r1(reader, 1);
    std::thread r2(reader, 2);

    // The writer: joins, leaves, weight and health changes, ejections.
    for (int round = 0; round < 150; ++round) {
        const time_point now = t0 + std::chrono::milliseconds(round);
        node_spec s;
        s.id = "dyn-" + std::to_string(round);
        s.request_types = {"t"};
        s.weight = 1 + round % 5;
        REQUIRE(lb.add_node(s, now));
        if (round >= 4) REQUIRE(lb.remove_node("dyn-" + std::to_string(round - 4), now));
        const std::string base = "base-" + std::to_string(round % 8);
        REQUIRE(lb.set_weight(base, 1 + round % 3, now));
        REQUIRE(lb.set_health(base, round % 2 == 0, now));
        REQUIRE(lb.eject("base-" + std::to_string((round + 3) % 8), now + 5ms, now));
        lb.refresh(now);
    }
    stop = true;
    r1.join();
    r2.join();

    CHECK(ok.load() > 0);
    CHECK(bad.load() == 0);
    CHECK(refused.load() == 0);  // there is always a healthy node
    CHECK(observed.load() > 0);
    CHECK(lb.pool("t").in_flight == 0);  // every handle ended
    for (const auto& st : lb.nodes(t0)) CHECK(st.pending == 0);
}

}  // namespace

TEST_CASE("concurrent picks during membership churn: Maglev", "[balancing][tsan]") {
    load_balancer<maglev_picker> lb(maglev_picker(maglev_options{.table_size = 1009}));
    churn_while_picking(lb);
}

TEST_CASE("concurrent picks during membership churn: P2C peak EWMA", "[balancing][tsan]") {
    load_balancer<power_of_choices_picker<peak_ewma_scorer>> lb;
    churn_while_picking(lb);
}

TEST_CASE("concurrent picks during membership churn: weighted round robin", "[balancing][tsan]") {
    load_balancer<weighted_round_robin_picker<>> lb;
    churn_while_picking(lb);
}

TEST_CASE("concurrent subscribe and report", "[balancing][tsan]") {
    load_balancer<round_robin_picker> lb;
    node_spec s;
    s.id = "a";
    s.request_types = {"t"};
    REQUIRE(lb.add_node(s, time_point{}));
    std::atomic<bool> stop{false};
    std::atomic<long> calls{0};
    std::thread reporter([&] {
        while (!stop.load()) lb.route_request("t", "", time_point{})->report({}, time_point{});
    });
    for (int i = 0; i < 200; ++i) {
        auto sub = lb.subscribe([&](const outcome_event&) { calls.fetch_add(1); });
        std::this_thread::yield();
    }
    stop = true;
    reporter.join();
    CHECK(lb.pool("t").in_flight == 0);
}

TEST_CASE("on a large pool a thread refreshes its view of other threads' counts at most once per refresh_gap reads", "[balancing]") {
    // Without the gap every stale read would refresh (and fetch a line another thread just
    // wrote); the read of `a` right after `q`'s refresh would then already see 1.
    using counters = balancing::detail::node_counters;
    load_balancer<power_of_choices_picker<least_request_scorer>> lb;
    for (int i = 0; i < 64; ++i) {
        node_spec s;
        s.id = "n" + std::to_string(i);
        s.request_types = {"t"};
        REQUIRE(lb.add_node(s, time_point{}));
    }
    lb.with_snapshot([](const auto& snap) {
        const auto& nodes = snap.find("t")->nodes;
        const node_entry* a = nullptr;
        const node_entry* q = nullptr;
        for (const auto& n : nodes) {
            if (n.counters().index == 0) a = &n;
            if (n.counters().index == 2 * counters::view_block) q = &n;
        }
        REQUIRE(a != nullptr);
        REQUIRE(q != nullptr);
        CHECK(a->pending_seen() == 0);  // both views filled now
        CHECK(q->pending_seen() == 0);
        std::thread([&] {
            a->state->begin();
            q->state->begin();
        }).join();
        // Read q until its view is refreshed: that read is the thread's last refresh.
        int reads = 0;
        while (q->pending_seen() != 1 && reads < 1000) ++reads;
        REQUIRE(reads < 1000);
        CHECK(reads >= static_cast<int>(counters::view_reads) - 1);  // q's view served until it aged
        // a's view is as old as q's was, but the gap keeps the old count for now...
        CHECK(a->pending_seen() == 0);
        // ...and lets a refresh within refresh_gap reads.
        int more = 1;
        while (a->pending_seen() != 1 && more < 1000) ++more;
        CHECK(more <= static_cast<int>(counters::refresh_gap));
        std::thread([&] {
            a->state->abandon();
            q->state->abandon();
        }).join();
    });
}

TEST_CASE("scorers see other threads' requests in flight within a bounded number of reads", "[balancing][tsan]") {
    load_balancer<power_of_choices_picker<least_request_scorer>> lb;
    for (const char* id : {"a", "b", "c"}) {
        node_spec s;
        s.id = id;
        s.request_types = {"t"};
        REQUIRE(lb.add_node(s, time_point{}));
    }
    lb.with_snapshot([](const auto& snap) {
        const node_entry& a = snap.find("t")->nodes[0];
        const node_entry& c = snap.find("t")->nodes[2];
        // Another thread (another slot) starts a request on `a`.
        std::thread([&] { a.state->begin(); }).join();
        CHECK(a.pending() == 1);       // the exact sum
        CHECK(a.pending_seen() == 1);  // first read: the view is filled
        std::thread([&] { a.state->begin(); }).join();
        CHECK(a.pending() == 2);
        // The view may be up to view_reads reads old, never more.
        int reads = 0;
        while (a.pending_seen() != 2 && reads <= static_cast<int>(balancing::detail::node_counters::view_reads)) ++reads;
        CHECK(a.pending_seen() == 2);
        // Its own requests a thread sees at once.
        c.state->begin();
        CHECK(c.pending_seen() == 1);
        c.state->abandon();
        CHECK(c.pending_seen() == 0);
        std::thread([&] {
            a.state->abandon();
            a.state->abandon();
        }).join();
        CHECK(a.pending() == 0);
    });
}
