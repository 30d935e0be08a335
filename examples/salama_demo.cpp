// salama's main example: one service, simulated for 20 minutes in a couple of seconds.
//
// Requests for items arrive at a rate that rises, bursts and falls. Each one first looks in
// the memory cache; a miss goes through the load balancer (power of two choices over peak
// EWMA latency) to a worker of a pool, which reads the item from the slow data source. One
// worker is four times slower than the others. Every 15 s the autoscaler reads each worker's
// CPU utilization and resizes the pool with the Kubernetes HPA algorithm (target 60 %). Time
// is a manual clock driven by the simulation, so every run prints the same summary.
//
//   salama_demo [--minutes N]
#include <salama/balancing/load_balancer.hpp>
#include <salama/balancing/peak_ewma_scorer.hpp>
#include <salama/balancing/power_of_choices_picker.hpp>
#include <salama/caching/memory_cache.hpp>
#include <salama/salama.hpp>
#include <salama/scaling/autoscaler.hpp>
#include <salama/scaling/recommender.hpp>
#include <salama/scaling/target_tracking.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace lb = salama::balancing;
namespace sc = salama::scaling;
using namespace std::chrono_literals;
using salama::time_point;

namespace {

constexpr double service_ms = 8.0;          // a worker's time to read one item from the source
constexpr double slow_factor = 4.0;         // worker-2 is this much slower
constexpr double hit_ms = 0.2;              // a cache hit
constexpr int item_count = 50'000;          // distinct items, Zipf-distributed popularity
constexpr auto scale_period = 15s;
constexpr auto item_ttl = 120s;

// Arrival rate (requests/s) at minute m: a morning ramp, a burst, an evening fall.
double arrival_rate(double minute) {
    if (minute < 4) return 150 + 75 * minute;                 // 150 -> 450
    if (minute < 7) return 450;                               // plateau
    if (minute < 9) return 900;                               // burst
    if (minute < 14) return 450 - 60 * (minute - 9);          // 450 -> 150
    return 150;
}

struct worker {
    std::string id;
    double service_ms = 0;
    time_point free_at{};     // when its queue drains
    double busy_s = 0;        // work accepted during the current scaling period
    std::uint64_t served = 0;
};

struct in_flight {
    time_point done;
    lb::pick_handle handle;
    double latency_ms;
    bool operator>(const in_flight& o) const { return done > o.done; }
};

struct minute_stats {
    std::uint64_t requests = 0, hits = 0;
    std::vector<double> latency_ms;
    std::int64_t replicas = 0;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(std::clamp(std::ceil(p / 100 * double(v.size())), 1.0, double(v.size()))) - 1;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

}  // namespace

int main(int argc, char** argv) {
    int minutes = 20;
    if (argc == 3 && std::string_view(argv[1]) == "--minutes") minutes = std::atoi(argv[2]);
    if (minutes <= 0 || minutes > 24 * 60) {
        fmt::print(stderr, "usage: salama_demo [--minutes N]   (N in 1..1440)\n");
        return 2;
    }

    salama::manual_clock clock;
    const time_point start = clock.now();
    salama::metrics_registry registry;
    auto log_sink = std::make_shared<salama::memory_sink>();
    salama::logger log(log_sink);

    // The memory tier in front of the data source.
    // A fixed hash seed keeps the demo's numbers the same from run to run.
    salama::caching::memory_cache<int, std::string> cache({.capacity = 5'000, .default_ttl = item_ttl, .hash_seed = 1});

    // The pool, behind a balancer that prefers the node with the lowest latency x (pending + 1).
    using picker = lb::power_of_choices_picker<lb::peak_ewma_scorer>;
    lb::load_balancer<picker> balancer(picker(lb::peak_ewma_scorer(), 7),
                                       {.slow_start = {.window = 30s}},
                                       {.registry = &registry, .log = log, .name = "items"});
    std::map<std::string, worker> workers;
    std::vector<std::string> joined;  // ids in the order they joined: scale-in removes the newest
    int next_worker = 1;
    auto add_worker = [&](time_point now) {
        worker w;
        w.id = fmt::format("worker-{}", next_worker);
        w.service_ms = next_worker == 2 ? service_ms * slow_factor : service_ms;
        ++next_worker;
        w.free_at = now;
        if (auto r = balancer.add_node({.id = w.id, .request_types = {"item"}}, now); !r)
            log.error("cannot add {}: {}", w.id, r.error().message());
        joined.push_back(w.id);
        workers.emplace(w.id, w);
    };

    // The autoscaler: HPA target tracking on CPU utilization, 2..12 workers.
    sc::target_tracking_options cpu;
    cpu.name = "cpu_60";
    cpu.spec.metrics = {sc::hpa::resource_utilization_metric("cpu", 60)};
    using recommender = sc::recommender<sc::target_tracking>;
    // If the metrics fail, hold the pool as it is (never a silent scale to the minimum).
    recommender rec({.resource = "cpu", .min_replicas = 2, .max_replicas = 12,
                     .fallback = {.mode = sc::fallback_mode::hold}},
                    sc::target_tracking(cpu));

    salama::memory_source source;
    salama::memory_actuator pool(2);
    boost::asio::io_context io;
    sc::autoscaler scaler(io.get_executor(), source, pool, rec, {.target = "pool/items", .period = scale_period},
                          {.registry = &registry, .log = log, .name = "items"}, clock);
    std::vector<std::string> decisions;
    scaler.on_step([&](const sc::step_report& r) {
        for (const auto& t : r.targets)
            if (t.result.desired != t.result.current)
            {
                const auto s = std::chrono::duration_cast<std::chrono::seconds>(r.at - start).count();
                decisions.push_back(fmt::format("{:02}:{:02}  {:>2} -> {:<2} {}", s / 60, s % 60,
                                                t.result.current, t.result.desired, t.result.why.to_string()));
            }
    });
    for (int i = 0; i < 2; ++i) add_worker(start);

    // The simulation: Poisson arrivals, Zipf(0.9) item popularity, FIFO workers.
    std::mt19937_64 rng(2026);
    std::vector<double> zipf_cdf(item_count);
    double acc = 0;
    for (int i = 0; i < item_count; ++i) zipf_cdf[i] = acc += 1.0 / std::pow(i + 1, 0.9);
    for (auto& c : zipf_cdf) c /= acc;
    std::uniform_real_distribution<double> unit(0, 1);

    std::priority_queue<in_flight, std::vector<in_flight>, std::greater<>> flying;
    std::vector<minute_stats> per_minute(static_cast<std::size_t>(minutes));
    const time_point end = start + std::chrono::minutes(minutes);
    time_point next_scale = start + scale_period;
    time_point t = start;

    auto finish_until = [&](time_point until) {
        while (!flying.empty() && flying.top().done <= until) {
            // priority_queue::top is const: move the handle out before popping.
            auto& top = const_cast<in_flight&>(flying.top());
            top.handle.report({.latency = salama::seconds_to_duration(top.latency_ms / 1000), .success = true},
                              top.done);
            flying.pop();
        }
    };

    while (t < end) {
        const double minute = salama::to_seconds(t - start) / 60;
        t += salama::seconds_to_duration(-std::log(1 - unit(rng)) / arrival_rate(minute));
        if (t >= end) break;

        // Scaling steps fall between arrivals: report the period's utilization and resize.
        while (next_scale <= t) {
            finish_until(next_scale);
            clock.set(next_scale);
            balancer.refresh(next_scale);
            salama::snapshot snap(next_scale);
            for (auto& [id, w] : workers) {
                (void)snap.add("cpu", 100 * w.busy_s / salama::to_seconds(scale_period),
                               {{"member", id}, {"resource", "cpu"}}, "percent");
                w.busy_s = 0;
            }
            source.set(std::move(snap));
            auto step = boost::asio::co_spawn(io, scaler.step(), boost::asio::use_future);
            io.run();
            io.restart();
            (void)step.get();
            const auto size = pool.current_size_now().value();
            while (static_cast<std::int64_t>(workers.size()) < size) add_worker(next_scale);
            while (static_cast<std::int64_t>(workers.size()) > size) {
                // Requests in flight on the removed worker finish; their handles stay valid.
                (void)balancer.remove_node(joined.back(), next_scale);
                workers.erase(joined.back());
                joined.pop_back();
            }
            next_scale += scale_period;
        }

        finish_until(t);
        clock.set(t);
        auto& stats = per_minute[static_cast<std::size_t>(minute)];
        ++stats.requests;
        stats.replicas = static_cast<std::int64_t>(workers.size());
        const int item = static_cast<int>(std::lower_bound(zipf_cdf.begin(), zipf_cdf.end(), unit(rng)) - zipf_cdf.begin());

        if (cache.get(item, t)) {
            ++stats.hits;
            stats.latency_ms.push_back(hit_ms);
            continue;
        }
        auto picked = balancer.route_request("item", {}, t);
        if (!picked) {
            log.error("no worker for an item request: {}", picked.error().message());
            continue;
        }
        worker& w = workers.at(std::string(picked->node_id()));
        const time_point begin = std::max(t, w.free_at);
        w.free_at = begin + salama::seconds_to_duration(w.service_ms / 1000);
        w.busy_s += w.service_ms / 1000;
        ++w.served;
        const double latency_ms = salama::to_seconds(w.free_at - t) * 1000;
        stats.latency_ms.push_back(latency_ms);
        (void)cache.put(item, fmt::format("item-{}", item), t);
        flying.push({w.free_at, std::move(*picked), latency_ms});
    }
    finish_until(end);

    // ---- the summary -----------------------------------------------------------------
    fmt::print("salama demo: {} simulated minutes of an item service\n", minutes);
    fmt::print("  memory cache (W-TinyLFU, {} items, TTL {}s) -> load balancer (P2C, peak EWMA)\n",
               cache.capacity(), item_ttl.count());
    fmt::print("  -> worker pool resized every {}s by the HPA algorithm (CPU target 60%, 2..12)\n\n",
               scale_period.count());
    fmt::print("minute  req/s  hit%   p50 ms   p99 ms  workers\n");
    std::uint64_t total = 0, hits = 0;
    for (std::size_t m = 0; m < per_minute.size(); ++m) {
        auto& s = per_minute[m];
        total += s.requests;
        hits += s.hits;
        fmt::print("{:>6} {:>6.0f} {:>5.1f} {:>8.2f} {:>8.2f} {:>8}\n", m, s.requests / 60.0,
                   s.requests ? 100.0 * double(s.hits) / double(s.requests) : 0.0, percentile(s.latency_ms, 50),
                   percentile(s.latency_ms, 99), s.replicas);
    }
    fmt::print("\nscaling decisions (time, from -> to, why):\n");
    for (const auto& d : decisions) fmt::print("  {}\n", d);

    fmt::print("\nrequests served per worker still in the pool (worker-2 is {}x slower):\n", slow_factor);
    std::uint64_t served = 0;
    for (const auto& [id, w] : workers) served += w.served;
    for (const auto& [id, w] : workers)
        fmt::print("  {:<10} {:>7} ({:>4.1f}%)\n", id, w.served, served ? 100.0 * double(w.served) / double(served) : 0.0);

    const auto cs = cache.stats();
    fmt::print("\ncache: {} requests, hit ratio {:.3f}, {} evictions\n", total,
               total ? double(hits) / double(total) : 0.0, cs.evictions);
    const auto lines = log_sink->lines();
    const auto errors = std::count_if(lines.begin(), lines.end(),
                                      [](const auto& l) { return l.first == salama::log_level::error; });
    fmt::print("errors logged: {}\n", errors);
    return errors == 0 ? 0 : 1;
}
