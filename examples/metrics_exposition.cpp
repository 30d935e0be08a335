// Counts and times some simulated requests with the metrics registry and prints the
// Prometheus text exposition of the result: what a /metrics endpoint would serve.
//
//   metrics_exposition [--out FILE]
#include <salama/salama.hpp>

#include <cstdio>
#include <random>
#include <string_view>

int main(int argc, char** argv) {
    salama::metrics_registry registry;
    auto& requests = registry.counter("demo_requests_total", "Requests handled, by route and outcome.",
                                      {"route", "outcome"});
    auto& in_flight = registry.gauge("demo_in_flight_requests", "Requests being handled now.").with({});
    auto& latency = registry.histogram("demo_request_duration_seconds",
                                       "Time to handle a request.", salama::default_buckets(),
                                       {"route"});

    // A fixed seed: the example prints the same numbers every run.
    std::mt19937 rng(42);
    std::lognormal_distribution<double> service_time(-3.0, 0.8);
    std::bernoulli_distribution fails(0.03);
    for (int i = 0; i < 1000; ++i) {
        const std::string route = i % 3 == 0 ? "/search" : "/item";
        (void)in_flight.add(1);
        (void)latency.with({route}).observe(service_time(rng));
        (void)requests.with({route, fails(rng) ? "error" : "ok"}).inc();
        (void)in_flight.add(-1);
    }

    const std::string text = registry.render();
    if (argc == 3 && std::string_view(argv[1]) == "--out") {
        std::FILE* f = std::fopen(argv[2], "wb");
        if (!f) {
            fmt::print(stderr, "cannot write {}\n", argv[2]);
            return 1;
        }
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
    }
    fmt::print("{}", text);
    return 0;
}
