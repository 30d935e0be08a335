// The cost of one recommender evaluation (threshold rules over per-member samples) for
// 10 / 100 / 1000 members and 1 / 10 / 100 rules, against the cost of only iterating the
// same snapshot, measured in the same run. Prints the ratio table after the runs.
#include <salama/scaling/recommender.hpp>
#include <salama/scaling/step_scaling.hpp>
#include <salama/scaling/target_tracking.hpp>

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace sc = salama::scaling;
using namespace std::chrono_literals;

namespace {

constexpr int metric_count = 10;  // distinct metrics in the snapshot; rules spread over them

// One sample per member for each of the metrics m0..m9, values spread over [0, 100).
salama::snapshot make_snapshot(int members) {
    salama::snapshot s(salama::time_point{24h});
    for (int m = 0; m < members; ++m)
        for (int k = 0; k < metric_count; ++k)
            (void)s.add(fmt::format("m{}", k), (m * 37 + k * 11) % 100,
                        {{"member", fmt::format("member-{}", m)}});
    return s;
}

// `rules` threshold rules, alternating up and down, over the metrics in turn; some fire.
sc::step_scaling make_rules(int rules) {
    std::vector<sc::scaling_rule> v;
    for (int i = 0; i < rules; ++i) {
        const bool up = i % 2 == 0;
        v.push_back({.name = fmt::format("rule{}", i),
                     .metric = fmt::format("m{}", i % metric_count), .threshold = up ? 40.0 + i % 50 : 20.0,
                     .action = up ? sc::scale_action::scale_up : sc::scale_action::scale_down,
                     .cooldown = 60s, .scale_size = 1});
    }
    return sc::step_scaling(v);
}

// Baseline: touch every sample once (what any evaluation must at least do).
void iterate_snapshot(benchmark::State& state) {
    const auto snap = make_snapshot(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        double sum = 0;
        for (const auto& s : snap.samples()) sum += s.value;
        benchmark::DoNotOptimize(sum);
    }
    state.counters["samples"] = static_cast<double>(snap.size());
}

void evaluate_rules(benchmark::State& state) {
    const auto snap = make_snapshot(static_cast<int>(state.range(0)));
    sc::recommender<sc::step_scaling> rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 100000,
                                           .fallback = {}},
                                          make_rules(static_cast<int>(state.range(1))));
    auto st = rec.initial_state();
    salama::time_point now{24h};
    for (auto _ : state) {
        now += 15s;
        auto d = rec.evaluate_in_place(sc::scaling_input{snap, 50, std::nullopt, now, std::nullopt}, st);
        benchmark::DoNotOptimize(d);
    }
}

// The HPA core as a policy (utilization target over the members' samples of m0).
void evaluate_target_tracking(benchmark::State& state) {
    const int members = static_cast<int>(state.range(0));
    const auto snap = make_snapshot(members);
    sc::target_tracking_options o;
    o.spec.max_replicas = 100000;
    o.spec.metrics = {salama::scaling::hpa::resource_utilization_metric("m0", 60)};
    sc::recommender<sc::target_tracking> rec({.resource = "cpu", .min_replicas = 1, .max_replicas = 100000,
                                              .fallback = {}},
                                             sc::target_tracking(o));
    auto st = rec.initial_state();
    salama::time_point now{24h};
    for (auto _ : state) {
        now += 15s;
        auto d = rec.evaluate_in_place(sc::scaling_input{snap, members, std::nullopt, now, std::nullopt}, st);
        benchmark::DoNotOptimize(d);
    }
}

BENCHMARK(iterate_snapshot)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(evaluate_rules)->ArgsProduct({{10, 100, 1000}, {1, 10, 100}});
BENCHMARK(evaluate_target_tracking)->Arg(10)->Arg(100)->Arg(1000);

// Keeps every run's CPU time (machines here are shared) so the ratios can be printed at
// the end.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& r : runs)
            if (r.run_type == Run::RT_Iteration) ns_[r.benchmark_name()] = r.GetAdjustedCPUTime();
    }
    void print_ratios() const {
        fmt::print("\nevaluation cost / snapshot iteration cost (CPU time, same run)\n");
        fmt::print("{:>8} {:>8} {:>14} {:>14} {:>8}\n", "members", "rules", "evaluate ns", "iterate ns", "ratio");
        for (int m : {10, 100, 1000}) {
            const auto base = ns_.find(fmt::format("iterate_snapshot/{}", m));
            if (base == ns_.end()) continue;
            for (int r : {1, 10, 100}) {
                const auto e = ns_.find(fmt::format("evaluate_rules/{}/{}", m, r));
                if (e == ns_.end()) continue;
                fmt::print("{:>8} {:>8} {:>14.0f} {:>14.0f} {:>8.1f}\n", m, r, e->second, base->second,
                           e->second / base->second);
            }
            const auto t = ns_.find(fmt::format("evaluate_target_tracking/{}", m));
            if (t != ns_.end())
                fmt::print("{:>8} {:>8} {:>14.0f} {:>14.0f} {:>8.1f}\n", m, "HPA", t->second, base->second,
                           t->second / base->second);
        }
    }

private:
    std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios();
    benchmark::Shutdown();
    return 0;
}
