// The memory tier against baselines measured in the same run:
//   * get-hit latency on a Zipf(0.99) stream over 100 k resident keys: memory_cache vs a
//     bare std::unordered_map::find (target <= 2x) and vs a mutex-guarded std::list +
//     std::unordered_map LRU (target: faster);
//   * throughput on a Zipf(0.99) key stream, read-heavy (95 % get / 5 % put) and mixed
//     (50 / 50), with 1 and 2 threads: memory_cache at 2 threads vs 1 thread (reads: target
//     >= 1.7x) and vs the mutex LRU at 2 threads (target >= 3x);
//   * memory per entry for 1 M small entries vs the bare map.
// After the runs it prints the ratios (lines starting with "ratio"); with
// --benchmark_repetitions=N the ratios use the medians. Run it as a plain process, as users
// do (`caching_memory --benchmark_min_time=0.3 --benchmark_repetitions=5`); on a machine busy
// with other work the 2-thread wall-clock rates measure how much CPU the run obtained.
#include <salama/caching/lru_policy.hpp>
#include <salama/caching/memory_cache.hpp>
#include <salama/caching/wtinylfu_policy.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using namespace salama::caching;
using key_t = std::uint64_t;
using value_t = std::uint64_t;

// The common baseline of a concurrent LRU: one mutex over a list and a map.
class mutex_lru {
public:
    explicit mutex_lru(std::size_t capacity) : capacity_(capacity) { index_.reserve(capacity); }

    std::optional<value_t> get(key_t k) {
        std::lock_guard lk(mu_);
        auto it = index_.find(k);
        if (it == index_.end()) return std::nullopt;
        order_.splice(order_.begin(), order_, it->second);
        return it->second->second;
    }

    void put(key_t k, value_t v) {
        std::lock_guard lk(mu_);
        auto it = index_.find(k);
        if (it != index_.end()) {
            it->second->second = v;
            order_.splice(order_.begin(), order_, it->second);
            return;
        }
        order_.emplace_front(k, v);
        index_.emplace(k, order_.begin());
        if (index_.size() > capacity_) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
    }

private:
    std::mutex mu_;
    std::size_t capacity_;
    std::list<std::pair<key_t, value_t>> order_;
    std::unordered_map<key_t, std::list<std::pair<key_t, value_t>>::iterator> index_;
};

constexpr std::size_t hit_entries = 100'000;
constexpr std::size_t stream_length = 1 << 20;
constexpr std::size_t key_space = 1'000'000;
constexpr std::size_t zipf_capacity = 100'000;

// Zipf(s) ranks over [0, n) by inverse CDF; fixed seed per stream.
std::vector<key_t> zipf_ranks(double s, std::size_t n, std::uint64_t seed) {
    std::vector<double> cdf(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cdf[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), s));
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, sum);
    std::vector<key_t> ranks(stream_length);
    for (auto& r : ranks)
        r = static_cast<key_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    return ranks;
}

// Keys are 64-bit values scattered from dense ids (an odd multiplier is a bijection), as
// real keys are: dense small integers would flatter std::hash's identity mapping.
constexpr key_t scatter(key_t id) noexcept { return id * 0x9e3779b97f4a7c15ULL; }

// Hits: Zipf(0.99) over the hit_entries resident keys, ranks permuted over the ids (as
// Caffeine's get benchmarks do), so that hot keys are not neighbours.
std::vector<key_t> resident_hits() {
    auto keys = zipf_ranks(0.99, hit_entries, 1);
    for (auto& k : keys) k = scatter((k * 7919) % hit_entries);
    return keys;
}

// A Zipf(s) stream over [0, n), scattered over 64-bit keys.
std::vector<key_t> zipf_stream(double s, std::size_t n, std::uint64_t seed) {
    auto keys = zipf_ranks(s, n, seed);
    for (auto& k : keys) k = scatter(k);
    return keys;
}

struct fixtures {
    std::vector<key_t> hits = resident_hits();
    std::vector<std::vector<key_t>> zipf = {zipf_stream(0.99, key_space, 11), zipf_stream(0.99, key_space, 12)};
    std::unordered_map<key_t, value_t> bare;
    std::unique_ptr<memory_cache<key_t, value_t>> cache_hits;
    std::unique_ptr<mutex_lru> lru_hits;
    std::unique_ptr<memory_cache<key_t, value_t>> cache_zipf;
    std::unique_ptr<mutex_lru> lru_zipf;

    fixtures() {
        const salama::time_point now{};
        cache_hits = std::make_unique<memory_cache<key_t, value_t>>(memory_cache_options{.capacity = hit_entries});
        lru_hits = std::make_unique<mutex_lru>(hit_entries);
        bare.reserve(hit_entries);
        for (key_t id = 0; id < hit_entries; ++id) {
            const key_t k = scatter(id);
            bare.emplace(k, k);
            (void)cache_hits->put(k, k, now);
            lru_hits->put(k, k);
        }
        reset_zipf();
    }

    void reset_zipf() {
        const salama::time_point now{};
        cache_zipf = std::make_unique<memory_cache<key_t, value_t>>(memory_cache_options{.capacity = zipf_capacity});
        lru_zipf = std::make_unique<mutex_lru>(zipf_capacity);
        for (std::size_t i = 0; i < 4 * zipf_capacity; ++i) {
            const key_t k = zipf[0][i];
            if (!cache_zipf->get(k, now)) (void)cache_zipf->put(k, k, now);
            if (!lru_zipf->get(k)) lru_zipf->put(k, k);
        }
    }
};

fixtures* fx = nullptr;

void get_hit_bare_map(benchmark::State& state) {
    std::size_t i = 0;
    for (auto _ : state) {
        auto it = fx->bare.find(fx->hits[i++ & (stream_length - 1)]);
        benchmark::DoNotOptimize(it->second);
    }
}
BENCHMARK(get_hit_bare_map);

void get_hit_memory_cache(benchmark::State& state) {
    std::size_t i = 0;
    const salama::time_point now{};
    for (auto _ : state) {
        auto v = fx->cache_hits->get(fx->hits[i++ & (stream_length - 1)], now);
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(get_hit_memory_cache);

void get_hit_mutex_lru(benchmark::State& state) {
    std::size_t i = 0;
    for (auto _ : state) {
        auto v = fx->lru_hits->get(fx->hits[i++ & (stream_length - 1)]);
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(get_hit_mutex_lru);

// `reads` of every 100 operations are gets, the rest puts.
template <class Cache>
void zipf_ops(benchmark::State& state, Cache& cache, int reads) {
    const auto& keys = fx->zipf[static_cast<std::size_t>(state.thread_index()) % fx->zipf.size()];
    std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
    const salama::time_point now{};
    int op = 0;
    for (auto _ : state) {
        const key_t k = keys[i++ & (stream_length - 1)];
        if (op++ < reads) {
            if constexpr (std::is_same_v<Cache, mutex_lru>) benchmark::DoNotOptimize(cache.get(k));
            else benchmark::DoNotOptimize(cache.get(k, now));
        } else {
            if constexpr (std::is_same_v<Cache, mutex_lru>) cache.put(k, k);
            else (void)cache.put(k, k, now);
        }
        if (op == 100) op = 0;
    }
    state.SetItemsProcessed(state.iterations());
}

void zipf_read_heavy_memory_cache(benchmark::State& state) { zipf_ops(state, *fx->cache_zipf, 95); }
void zipf_read_heavy_mutex_lru(benchmark::State& state) { zipf_ops(state, *fx->lru_zipf, 95); }
void zipf_mixed_memory_cache(benchmark::State& state) { zipf_ops(state, *fx->cache_zipf, 50); }
void zipf_mixed_mutex_lru(benchmark::State& state) { zipf_ops(state, *fx->lru_zipf, 50); }
BENCHMARK(zipf_read_heavy_memory_cache)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(zipf_read_heavy_mutex_lru)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(zipf_mixed_memory_cache)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(zipf_mixed_mutex_lru)->Threads(1)->Threads(2)->UseRealTime();

// Bytes in use from malloc, including large blocks it serves with mmap (bucket arrays).
std::size_t heap_in_use() {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

// Heap bytes per entry of 1 M uint64 -> uint64 entries.
template <class Build>
void bytes_per_entry(benchmark::State& state, Build build) {
    constexpr std::size_t n = 1'000'000;
    for (auto _ : state) {
        const std::size_t before = heap_in_use();
        auto holder = build(n);
        const std::size_t after = heap_in_use();
        state.counters["bytes_per_entry"] = static_cast<double>(after - before) / static_cast<double>(n);
        benchmark::DoNotOptimize(holder);
    }
}

void memory_bare_map(benchmark::State& state) {
    bytes_per_entry(state, [](std::size_t n) {
        auto m = std::make_unique<std::unordered_map<key_t, value_t>>();
        for (key_t k = 0; k < n; ++k) m->emplace(k, k);
        return m;
    });
}
BENCHMARK(memory_bare_map)->Iterations(1)->Unit(benchmark::kMillisecond);

void memory_memory_cache(benchmark::State& state) {
    bytes_per_entry(state, [](std::size_t n) {
        auto c = std::make_unique<memory_cache<key_t, value_t>>(memory_cache_options{.capacity = n});
        const salama::time_point now{};
        for (key_t k = 0; k < n; ++k) (void)c->put(k, k, now);
        return c;
    });
}
BENCHMARK(memory_memory_cache)->Iterations(1)->Unit(benchmark::kMillisecond);

// Keeps the console output and remembers each run's time and counters for the ratios.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        // With --benchmark_repetitions the median (reported after the repetitions) wins.
        for (const auto& r : runs) {
            if (r.error_occurred) continue;
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            auto& e = results_[r.run_name.str()];
            e.ns = r.GetAdjustedCPUTime();  // single-thread latency: CPU time resists load
            if (auto it = r.counters.find("items_per_second"); it != r.counters.end()) e.rate = it->second.value;
            if (auto it = r.counters.find("bytes_per_entry"); it != r.counters.end()) e.bytes = it->second.value;
        }
        ConsoleReporter::ReportRuns(runs);
    }

    void print_ratios() const {
        auto ns = [&](const std::string& n) { return find(n, &entry::ns); };
        auto rate = [&](const std::string& n) { return find(n, &entry::rate); };
        auto bytes = [&](const std::string& n) { return find(n, &entry::bytes); };
        line("get-hit latency, memory_cache / bare unordered_map::find (target <= 2)",
             ns("get_hit_memory_cache"), ns("get_hit_bare_map"));
        line("get-hit latency, mutex LRU / memory_cache (target > 1)", ns("get_hit_mutex_lru"),
             ns("get_hit_memory_cache"));
        for (const char* mix : {"read_heavy", "mixed"}) {
            const std::string c = fmt::format("zipf_{}_memory_cache/real_time/threads:", mix);
            const std::string l = fmt::format("zipf_{}_mutex_lru/real_time/threads:", mix);
            line(fmt::format("{} throughput, memory_cache 2 threads / 1 thread{}", mix,
                             std::string_view(mix) == "read_heavy" ? " (target >= 1.7)" : ""),
                 rate(c + "2"), rate(c + "1"));
            line(fmt::format("{} throughput, memory_cache / mutex LRU at 2 threads (target >= 3)", mix),
                 rate(c + "2"), rate(l + "2"));
            line(fmt::format("{} throughput, memory_cache / mutex LRU at 1 thread", mix), rate(c + "1"),
                 rate(l + "1"));
            // On a machine whose cores are busy with other work the real-time rates above
            // measure the share of CPU obtained; CPU time per operation (summed over the
            // threads) shows what sharing the cache costs each thread.
            line(fmt::format("{} CPU time per operation, memory_cache 2 threads / 1 thread", mix),
                 ns(c + "2"), ns(c + "1"));
            if (ns(c + "2") > 0)
                fmt::print("estimate {:.2f}  {} throughput, memory_cache 2 threads / 1 thread, from CPU "
                           "time per operation (2 x t1 / t2: the ratio if both threads had an idle "
                           "core at that cost; optimistic when the threads rarely overlapped)\n",
                           2 * ns(c + "1") / ns(c + "2"), mix);
        }
        line("memory per entry (1 M uint64 entries), memory_cache / bare unordered_map",
             bytes("memory_memory_cache/iterations:1"), bytes("memory_bare_map/iterations:1"));
        if (bytes("memory_memory_cache/iterations:1") > 0 && bytes("memory_bare_map/iterations:1") > 0)
            fmt::print("bytes per entry: memory_cache {:.1f}, bare unordered_map {:.1f}\n",
                       bytes("memory_memory_cache/iterations:1"), bytes("memory_bare_map/iterations:1"));
    }

private:
    struct entry {
        double ns = 0;
        double rate = 0;
        double bytes = 0;
    };

    double find(const std::string& name, double entry::*field) const {
        auto it = results_.find(name);
        return it == results_.end() ? 0.0 : it->second.*field;
    }

    static void line(const std::string& what, double a, double b) {
        if (a <= 0 || b <= 0) return;  // filtered out of this run
        fmt::print("ratio {:.2f}  {}\n", a / b, what);
    }

    std::map<std::string, entry> results_;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    fixtures f;
    fx = &f;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios();
    benchmark::Shutdown();
    return 0;
}
