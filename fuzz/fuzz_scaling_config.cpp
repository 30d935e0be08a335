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
        // A valid configuration must also evaluate without trouble on an empty snapshot.
        auto st = rec.initial_state();
        const salama::snapshot empty(salama::time_point{std::chrono::hours(24)});
        (void)rec.evaluate_in_place(salama::scaling::scaling_input{empty, 3, std::nullopt,
                                                                   salama::time_point{std::chrono::hours(24)},
                                                                   std::nullopt},
                                    st);
    } catch (const salama::config_error& e) {
        // Every refusal names a field of the configuration.
        if (std::string_view(e.what()).find("invalid ") != 0) __builtin_trap();
    }
    return 0;
}
