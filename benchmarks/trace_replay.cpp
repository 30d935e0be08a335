// trace_replay: replays a key-access trace through salama's memory tier and prints the
// hit ratio. Each access is a lookup; a miss inserts the key. The cache runs with one
// shard, so the replay exercises exactly the policy code (and read buffering) that the
// concurrent cache uses, deterministically.
//
//   trace_replay --format lirs|i32be|i64be|address --capacity N --policy lru|wtinylfu
//                [--expect-min RATIO] FILE
//
// The last line printed is `hit_ratio=<4 decimals> accesses=N`. With --expect-min the exit
// status is 1 when the hit ratio is below RATIO. Bad arguments exit 2, unreadable or
// malformed traces exit 1, each with a message on stderr.
#include <salama/caching/lru_policy.hpp>
#include <salama/caching/memory_cache.hpp>
#include <salama/caching/trace.hpp>
#include <salama/caching/wtinylfu_policy.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace salama::caching;

constexpr std::string_view usage =
    "usage: trace_replay --format lirs|i32be|i64be|address --capacity N "
    "--policy lru|wtinylfu [--expect-min RATIO] FILE\n"
    "  lirs     text, one integer key per line ('*' lines skipped)\n"
    "  i32be    binary big-endian int32 keys\n"
    "  i64be    binary big-endian int64 keys\n"
    "  address  text, one hexadecimal address per line (optional 0x, '#' comments)\n"
    "  .gz and .xz files are decompressed with gzip -dc / xz -dc\n";

[[noreturn]] void usage_error(std::string_view why) {
    fmt::print(stderr, "trace_replay: error: {}\n{}", why, usage);
    std::exit(2);
}

struct replay_result {
    std::uint64_t hits = 0;
    std::uint64_t accesses = 0;
};

template <class Policy>
replay_result replay(const std::vector<std::uint64_t>& keys, std::uint64_t capacity) {
    memory_cache<std::uint64_t, char, Policy> cache({.capacity = capacity, .shards = 1, .seed = 1});
    const salama::time_point now{};
    replay_result r;
    for (const std::uint64_t k : keys) {
        ++r.accesses;
        if (cache.get(k, now)) {
            ++r.hits;
        } else if (!cache.put(k, 0, now)) {
            fmt::print(stderr, "trace_replay: error: insert failed\n");
            std::exit(1);
        }
    }
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<trace_format> format;
    std::optional<std::uint64_t> capacity;
    std::optional<std::string> policy;
    std::optional<double> expect_min;
    std::optional<std::string> file;

    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", arg));
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            fmt::print("{}", usage);
            return 0;
        } else if (arg == "--format") {
            const auto v = value();
            format = parse_trace_format(v);
            if (!format) usage_error(fmt::format("unknown --format '{}'", v));
        } else if (arg == "--capacity") {
            const auto v = value();
            std::uint64_t n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc{} || end != v.data() + v.size() || n == 0)
                usage_error(fmt::format("--capacity must be a positive integer, got '{}'", v));
            capacity = n;
        } else if (arg == "--policy") {
            const auto v = value();
            if (v != "lru" && v != "wtinylfu") usage_error(fmt::format("unknown --policy '{}'", v));
            policy = std::string(v);
        } else if (arg == "--expect-min") {
            const std::string v(value());
            char* end = nullptr;
            const double x = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !std::isfinite(x) || x < 0 || x > 1)
                usage_error(fmt::format("--expect-min must be a number in [0, 1], got '{}'", v));
            expect_min = x;
        } else if (arg.starts_with("-") && arg.size() > 1) {
            usage_error(fmt::format("unknown option '{}'", arg));
        } else {
            if (file) usage_error(fmt::format("more than one FILE ('{}' and '{}')", *file, arg));
            file = std::string(arg);
        }
    }
    if (!format) usage_error("--format is required");
    if (!capacity) usage_error("--capacity is required");
    if (!policy) usage_error("--policy is required");
    if (!file) usage_error("FILE is required");

    std::string why;
    auto keys = read_trace(*file, *format, why);
    if (!keys) {
        fmt::print(stderr, "trace_replay: error: {}\n", why);
        return 1;
    }

    const replay_result r = *policy == "lru" ? replay<lru_policy>(*keys, *capacity)
                                             : replay<wtinylfu_policy>(*keys, *capacity);
    const double ratio = static_cast<double>(r.hits) / static_cast<double>(r.accesses);
    fmt::print("policy={} capacity={} hits={}\n", *policy, *capacity, r.hits);
    fmt::print("hit_ratio={:.4f} accesses={}\n", ratio, r.accesses);
    if (expect_min && ratio < *expect_min) {
        fmt::print(stderr, "trace_replay: hit ratio {:.4f} is below the expected minimum {:.4f}\n",
                   ratio, *expect_min);
        return 1;
    }
    return 0;
}
