// libFuzzer target: a JSON scaling configuration either builds a recommender or is refused
// with a config_error naming the field. Anything else (a crash, another exception, undefined
// behavior under the sanitizers) is a bug.
#include <salama/scaling/scaling_config.hpp>

#include <boost/json/src.hpp>  // Boost.JSON compiled into this target

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto rec = salama::scaling::parse_recommender_config(text);
        // A valid configuration must also evaluate without trouble: with no data, and with
        // the metrics the seeds name at low, middling and huge values, for small and huge
        // reported sizes, over a few minutes.
        static constexpr const char* names[] = {"q", "cpu", "queue", "gpu_utilization", "in_flight",
                                                "requests", "rps", "x", "concurrency"};
        auto st = rec.initial_state();
        const salama::time_point t0{std::chrono::hours(24)};
        int step = 0;
        for (const double v : {0.0, 50.0, 1e12}) {
            for (const std::int64_t current : {std::int64_t{0}, std::int64_t{10}, std::int64_t{1} << 40}) {
                const auto now = t0 + std::chrono::seconds(30 * step++);
                salama::snapshot snap(now);
                if (v != 0.0)
                    for (const char* n : names) (void)snap.add(n, v);
                const salama::scaling::scaling_input in{snap, current, std::nullopt, now, std::nullopt};
                const auto d = rec.evaluate_in_place(in, st);
                // Whatever the input, the decision holds the size or stays within the bounds.
                const bool inside = d.desired >= rec.options().min_replicas && d.desired <= rec.options().max_replicas;
                if (!inside && d.desired != current) __builtin_trap();
            }
        }
    } catch (const salama::config_error& e) {
        // Every refusal names a field of the configuration.
        if (std::string_view(e.what()).find("invalid ") != 0) __builtin_trap();
    }
    return 0;
}
