// Core primitives on the hot path: a registry counter increment against a bare atomic,
// and an EWMA update against a fixed-alpha moving average.
#include <salama/salama.hpp>

#include <benchmark/benchmark.h>

#include <atomic>

static void bare_atomic_add(benchmark::State& state) {
    std::atomic<double> v{0};
    for (auto _ : state) {
        v.fetch_add(1.0, std::memory_order_relaxed);
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(bare_atomic_add);

static void registry_counter_inc(benchmark::State& state) {
    salama::metrics_registry r;
    auto& c = r.counter("bench_total", "bench", {"k"}).with({"v"});
    for (auto _ : state) benchmark::DoNotOptimize(c.inc());
}
BENCHMARK(registry_counter_inc);

static void fixed_alpha_average(benchmark::State& state) {
    double avg = 0;
    double x = 1;
    for (auto _ : state) {
        avg = 0.9 * avg + 0.1 * x;
        x += 1;
        benchmark::DoNotOptimize(avg);
    }
}
BENCHMARK(fixed_alpha_average);

static void time_decayed_ewma(benchmark::State& state) {
    salama::ewma e(std::chrono::seconds(10));
    salama::time_point t{};
    double x = 1;
    for (auto _ : state) {
        t += std::chrono::milliseconds(5);
        e.update(x, t);
        x += 1;
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(time_decayed_ewma);

BENCHMARK_MAIN();
