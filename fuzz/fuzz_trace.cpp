// libFuzzer target: scaling trace CSV either parses or is errc::parse_error with its line.
#include <salama/scaling/trace.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto t = salama::scaling::parse_trace(text);
    if (!t) {
        if (t.error() != salama::errc::parse_error) __builtin_trap();
        if (t.error().message().rfind("line ", 0) != 0) __builtin_trap();
        return 0;
    }
    // Frames are in time order and each snapshot's time follows its wall time.
    for (std::size_t i = 1; i < t->frames.size(); ++i) {
        const auto& a = t->frames[i - 1];
        const auto& b = t->frames[i];
        if (!(a.wall < b.wall)) __builtin_trap();
        if (b.metrics.taken_at() - a.metrics.taken_at() != b.wall - a.wall) __builtin_trap();
    }
    return 0;
}
