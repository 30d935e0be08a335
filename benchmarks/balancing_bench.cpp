// Nanoseconds per pick through load_balancer::pick (snapshot read, pick, handle with its
// in-flight accounting) for every picker at 10 / 100 / 1,000 / 10,000 nodes on one and two
// threads, against the seed's approach (score every node with the metric scorer) in the
// same run; P2C over peak EWMA once more with estimates set and `now` given, so that each
// score pays the read-time decay; the picker's decision alone; Maglev and ring build
// time and bytes; and "scale": aggregate picks per second through pick + report at 10 and
// 10,000 nodes on one and two threads. After the run tables print each picker's growth
// from 10 to 10,000 nodes, its speed-up over the seed, and the two-thread speed-up.
//
// Suggested: balancing_bench --benchmark_min_time=0.1 --benchmark_repetitions=5
//            --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//            (the tables use the medians; interleaving spreads the machine's slow spells
//            over every size instead of one)
#include <salama/balancing/all.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace salama;
using namespace salama::balancing;

namespace {

const time_point t0{std::chrono::hours(24)};

template <class Picker>
std::shared_ptr<load_balancer<Picker>> make_balancer(std::size_t n, Picker picker) {
    auto lb = std::make_shared<load_balancer<Picker>>(std::move(picker));
    (void)lb->update(t0, [&](node_registry& reg) {
        for (std::size_t i = 0; i < n; ++i) {
            node_spec s;
            s.id = fmt::format("10.0.{}.{}:8080", i / 256, i % 256);
            s.request_types = {"infer"};
            s.weight = 1.0 + static_cast<double>(i % 4);
            const double x = static_cast<double>((i * 37) % 100) / 100.0;
            s.metrics = {{"cpu", x}, {"gpu_memory", 1.0 - x}, {"queue_depth", static_cast<double>(i % 50)}};
            (void)reg.add_node(std::move(s), t0);
        }
    });
    return lb;
}

// One balancer per (picker, tag, size), shared by the threads of a run; `prepare` runs
// once on a new one.
template <class Picker, class Tag = void>
std::shared_ptr<load_balancer<Picker>> shared_balancer(
    std::size_t n, const Picker& proto, const std::function<void(load_balancer<Picker>&)>& prepare = {}) {
    static std::mutex mu;
    static std::map<std::size_t, std::shared_ptr<load_balancer<Picker>>> cache;
    std::lock_guard lk(mu);
    auto& slot = cache[n];
    if (!slot) {
        slot = make_balancer(n, proto);
        if (prepare) prepare(*slot);
    }
    return slot;
}

request infer_request() {
    request r;
    r.request_type = "infer";
    r.payload = "payload";
    return r;
}

// Picks through the balancer with a fresh key hash per request; each thread its own keys.
template <class Picker>
void pick_loop(benchmark::State& state, const load_balancer<Picker>& lb, request r) {
    std::uint64_t k = static_cast<std::uint64_t>(state.thread_index()) << 40;
    for (auto _ : state) {
        r.hash = balancing::detail::mix64(++k);
        auto h = lb.pick(r);
        benchmark::DoNotOptimize(h);
    }
    state.SetItemsProcessed(state.iterations());
}

template <class Picker>
void bench_pick(benchmark::State& state, Picker proto) {
    pick_loop(state, *shared_balancer(static_cast<std::size_t>(state.range(0)), proto), infer_request());
}

// P2C over peak EWMA as a service runs it: every node has reported an outcome and each
// request carries `now`, so every score pays the estimate's decay since the last outcome.
void bench_pick_decayed(benchmark::State& state) {
    using picker = power_of_choices_picker<peak_ewma_scorer>;
    struct decayed {};
    auto lb = shared_balancer<picker, decayed>(static_cast<std::size_t>(state.range(0)), picker(),
                                               [](load_balancer<picker>& b) {
        b.with_snapshot([](const auto& snap) {
            std::size_t i = 0;
            for (const auto& e : snap.find("infer")->nodes) {
                e.state->begin();
                e.state->finish({.latency = std::chrono::microseconds(500 + 37 * (i++ % 100))}, t0,
                                std::chrono::seconds(10));
            }
        });
    });
    request r = infer_request();
    r.now = t0 + std::chrono::seconds(2);
    pick_loop(state, *lb, r);
}

// Pick + report as a service runs it: every request carries its `now` (a thread's clock
// advancing 1 us per request) and reports a 1 ms outcome at that time. Counts aggregate
// picks per second over all threads.
template <class Picker>
void bench_scale(benchmark::State& state, Picker proto) {
    struct scale {};
    auto lb = shared_balancer<Picker, scale>(static_cast<std::size_t>(state.range(0)), proto);
    request r = infer_request();
    std::uint64_t k = static_cast<std::uint64_t>(state.thread_index()) << 40;
    std::uint64_t tick = 0;
    for (auto _ : state) {
        r.hash = balancing::detail::mix64(++k);
        r.now = t0 + std::chrono::microseconds(++tick);
        auto h = lb->pick(r);
        if (h) h->report({.latency = std::chrono::milliseconds(1), .success = true}, r.now);
        benchmark::DoNotOptimize(h);
    }
    state.SetItemsProcessed(state.iterations());
}

void scale_sizes(benchmark::internal::Benchmark* b) {
    for (int n : {10, 10000}) b->Arg(n);
    b->Threads(1)->Threads(2)->UseRealTime();
}

// The picker's decision alone, on the current snapshot: no handle, no in-flight
// accounting. This isolates the algorithm's cost from the handle's bookkeeping.
template <class Picker>
void bench_decide(benchmark::State& state, Picker proto) {
    auto lb = shared_balancer(static_cast<std::size_t>(state.range(0)), proto);
    request r = infer_request();
    std::uint64_t k = static_cast<std::uint64_t>(state.thread_index()) << 40;
    lb->with_snapshot([&](const auto& snap) {
        const auto* pool = snap.find("infer");
        const std::span<const node_entry> cands(pool->candidates);
        const auto& table = *pool->table;
        const auto& picker = lb->get_picker();
        for (auto _ : state) {
            r.hash = balancing::detail::mix64(++k);
            std::size_t i;
            if constexpr (load_aware_picker<Picker>)
                i = picker.pick(table, cands, r, pool_load{0});
            else
                i = picker.pick(table, cands, r);
            benchmark::DoNotOptimize(i);
        }
    });
    state.SetItemsProcessed(state.iterations());
}

void sizes(benchmark::internal::Benchmark* b) {
    for (int n : {10, 100, 1000, 10000}) b->Arg(n);
    b->Threads(1)->Threads(2)->UseRealTime();
}

template <class Picker>
void bench_build(benchmark::State& state, Picker p) {
    std::vector<std::unique_ptr<node_state>> owned;  // entries do not own their nodes
    std::vector<node_entry> nodes;
    for (int i = 0; i < state.range(0); ++i) {
        owned.push_back(std::make_unique<node_state>(fmt::format("10.0.{}.{}:8080", i / 256, i % 256), "", i));
        nodes.push_back(node_entry{.state = owned.back().get()});
    }
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto t = p.build(nodes, t0);
        bytes = t.memory_bytes();
        benchmark::DoNotOptimize(t);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
}

// Collects mean ns per pick so that the ratios can be printed after the run.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        // With --benchmark_repetitions the median wins over single runs.
        for (const auto& r : runs) {
            auto rate = [&] {
                auto it = r.counters.find("items_per_second");
                return it == r.counters.end() ? 0.0 : static_cast<double>(it->second);
            };
            if (r.run_type == Run::RT_Iteration && r.iterations > 0 && !medians_.count(r.run_name.str())) {
                ns_[r.run_name.str()] = r.GetAdjustedRealTime();
                rate_[r.run_name.str()] = rate();
            }
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
                medians_.insert(r.run_name.str());
                ns_[r.run_name.str()] = r.GetAdjustedRealTime();
                rate_[r.run_name.str()] = rate();
            }
        }
    }
    void print_ratios(const std::string& kind) const {
        const std::vector<std::string> pickers{"seed_score_all", "round_robin", "weighted_round_robin", "random",
                                               "p2c_least_request", "p2c_peak_ewma", "p2c_peak_ewma_decay", "ring_hash", "maglev",
                                               "jump_hash", "rendezvous", "bounded_maglev"};
        for (int threads : {1, 2}) {
            fmt::print("\n{}: ns per pick, {} thread(s); growth = 10,000 nodes / 10 nodes; speed-up = seed / picker at "
                       "10,000 nodes\n\n| picker | 10 | 100 | 1,000 | 10,000 | growth | speed-up |\n"
                       "|---|---:|---:|---:|---:|---:|---:|\n",
                       kind, threads);
            auto get = [&](const std::string& p, int n) {
                auto it = ns_.find(fmt::format("{}/{}/{}/real_time/threads:{}", kind, p, n, threads));
                return it == ns_.end() ? 0.0 : it->second;
            };
            const double seed = get("seed_score_all", 10000);
            for (const auto& p : pickers) {
                const double a = get(p, 10), b = get(p, 100), c = get(p, 1000), d = get(p, 10000);
                fmt::print("| {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.2f}x | {:.0f}x |\n", p, a, b, c, d,
                           a > 0 ? d / a : 0.0, d > 0 ? seed / d : 0.0);
            }
        }
    }

    // Aggregate picks per second (pick + report) at one and two threads, and the ratio.
    void print_scaling() const {
        const std::vector<std::string> pickers{"round_robin", "weighted_round_robin", "maglev", "p2c_peak_ewma",
                                               "random", "p2c_least_request", "bounded_maglev"};
        fmt::print("\nscale: aggregate picks per second through pick + report (millions); 2 threads / 1 thread\n\n"
                   "| picker | nodes | 1 thread | 2 threads | speed-up |\n|---|---:|---:|---:|---:|\n");
        for (const auto& p : pickers)
            for (int n : {10, 10000}) {
                auto get = [&](int threads) {
                    auto it = rate_.find(fmt::format("scale/{}/{}/real_time/threads:{}", p, n, threads));
                    return it == rate_.end() ? 0.0 : it->second / 1e6;
                };
                const double one = get(1), two = get(2);
                if (one == 0 && two == 0) continue;
                fmt::print("| {} | {} | {:.1f} | {:.1f} | {:.2f}x |\n", p, n, one, two, one > 0 ? two / one : 0.0);
            }
    }

private:
    std::map<std::string, double> ns_;
    std::map<std::string, double> rate_;
    std::set<std::string> medians_;
};

}  // namespace

#define SALAMA_PICKER_BENCH(name, ...)                                                              \
    benchmark::RegisterBenchmark("pick/" name, bench_pick<__VA_ARGS__>, __VA_ARGS__())->Apply(sizes); \
    benchmark::RegisterBenchmark("decide/" name, bench_decide<__VA_ARGS__>, __VA_ARGS__())->Apply(sizes)

#define SALAMA_SCALE_BENCH(name, ...) \
    benchmark::RegisterBenchmark("scale/" name, bench_scale<__VA_ARGS__>, __VA_ARGS__())->Apply(scale_sizes)

int main(int argc, char** argv) {
    SALAMA_SCALE_BENCH("round_robin", round_robin_picker);
    SALAMA_SCALE_BENCH("weighted_round_robin", weighted_round_robin_picker<>);
    SALAMA_SCALE_BENCH("maglev", maglev_picker);
    SALAMA_SCALE_BENCH("p2c_peak_ewma", power_of_choices_picker<peak_ewma_scorer>);
    SALAMA_SCALE_BENCH("random", random_picker);
    SALAMA_SCALE_BENCH("p2c_least_request", power_of_choices_picker<least_request_scorer>);
    SALAMA_SCALE_BENCH("bounded_maglev", bounded_load_picker<maglev_picker>);
    SALAMA_PICKER_BENCH("seed_score_all", highest_score_picker<metric_scorer>);
    SALAMA_PICKER_BENCH("round_robin", round_robin_picker);
    SALAMA_PICKER_BENCH("weighted_round_robin", weighted_round_robin_picker<>);
    SALAMA_PICKER_BENCH("random", random_picker);
    SALAMA_PICKER_BENCH("p2c_least_request", power_of_choices_picker<least_request_scorer>);
    SALAMA_PICKER_BENCH("p2c_peak_ewma", power_of_choices_picker<peak_ewma_scorer>);
    benchmark::RegisterBenchmark("pick/p2c_peak_ewma_decay", bench_pick_decayed)->Apply(sizes);
    SALAMA_PICKER_BENCH("ring_hash", ring_hash_picker);
    SALAMA_PICKER_BENCH("maglev", maglev_picker);
    SALAMA_PICKER_BENCH("jump_hash", jump_hash_picker);
    SALAMA_PICKER_BENCH("rendezvous", rendezvous_picker);
    SALAMA_PICKER_BENCH("bounded_maglev", bounded_load_picker<maglev_picker>);
    benchmark::RegisterBenchmark("build/maglev", bench_build<maglev_picker>, maglev_picker())
        ->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("build/ring_hash", bench_build<ring_hash_picker>, ring_hash_picker())
        ->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios("pick");
    reporter.print_ratios("decide");
    reporter.print_scaling();
    benchmark::Shutdown();
    return 0;
}
