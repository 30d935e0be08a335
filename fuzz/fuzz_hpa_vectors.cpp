// libFuzzer target: the HPA vector reader of the conformance runner (tests/scaling/
// hpa_conformance.cpp over tests/support/strict_json.hpp). Any file must end in a result, a
// reported mismatch or a bad-input error naming its path, never in a crash or undefined
// behavior. The runner is compiled in here whole, its main() renamed.
#define SALAMA_HPA_JSON_HEADER_ONLY 1
#define main salama_hpa_conformance_main
#include "../tests/scaling/hpa_conformance.cpp"
#undef main

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    boost::system::error_code ec;
    const auto root = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
    if (ec) return 0;
    tally t;
    try {
        const std::string file = "fuzz";
        const auto& o = as_object(root, file);
        run_section(o, "replica_calculator_cases", file, run_calculator_case, t);
        run_section(o, "controller_cases", file, run_controller_case, t);
        run_section(o, "behavior_cases", file, run_behavior_case, t);
    } catch (const bad_input&) {
        // a file that does not follow the schema, named by its path
    }
    return 0;
}
