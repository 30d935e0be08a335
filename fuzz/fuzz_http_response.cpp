// libFuzzer target: the HTTP probe's response check. Any bytes give a health (the status
// decides) or errc::protocol_error, never a crash; the header limit holds.
#include <salama/balancing/health/http_probe.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace health = salama::balancing::health;
    static const health::http_probe_options opts = [] {
        health::http_probe_options o;
        o.header_limit = 512;
        o.expected = {{200, 299}, {418, 418}};
        return o;
    }();
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto r = health::check_response(bytes, opts);
    if (!r) {
        if (r.error() != salama::errc::protocol_error) __builtin_trap();
        return 0;
    }
    // The verdict names the status it came from.
    if (r->detail.rfind("status ", 0) != 0) __builtin_trap();
    if (r->healthy != (r->detail.find("not expected") == std::string::npos)) __builtin_trap();
    return 0;
}
