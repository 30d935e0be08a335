// trace_replay: replays a key-access trace (or a generated trap workload) through
// salama's memory tier and prints the hit ratio. Each access is a lookup; a miss inserts
// the key. The cache runs with one shard, so the replay exercises exactly the policy code
// (and read buffering) that the concurrent cache uses, deterministically.
//
//   trace_replay --format lirs|i32be|i64be|address --capacity N
//                --policy lru|wtinylfu|wtinylfu-fixed|s3fifo [--window P]
//                [--expect-min RATIO] [--expect RATIO] FILE
//   trace_replay --trap NAME [--seed S] [--accesses N] --capacity N --policy ... [--window P]
//
// The last line printed is `hit_ratio=<4 decimals> accesses=N`. With --expect-min the exit
// status is 1 when the hit ratio is below RATIO; with --expect, when it differs from RATIO
// by more than 0.001. Bad arguments exit 2, unreadable or malformed traces exit 1, each
// with a message on stderr.
#include "replay.hpp"
#include "trace_reader.hpp"
#include "trace_traps.hpp"

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
    "usage: trace_replay --format lirs|i32be|i64be|address --capacity N\n"
    "                    --policy lru|wtinylfu|wtinylfu-fixed|s3fifo [--window P]\n"
    "                    [--expect-min RATIO] [--expect RATIO] FILE\n"
    "       trace_replay --trap NAME [--seed S] [--accesses N] --capacity N --policy ...\n"
    "  lirs     text, one integer key per line ('*' lines skipped)\n"
    "  i32be    binary big-endian int32 keys\n"
    "  i64be    binary big-endian int64 keys\n"
    "  address  text, 'OP 0xHEX SIZE' per line (key: the address) or one address per line\n"
    "  .gz and .xz files are decompressed with gzip -dc / xz -dc\n"
    "  --window P   the fixed window of wtinylfu-fixed, a fraction in (0, 1] (default 0.01;\n"
    "               1: no main space, which is exactly LRU)\n"
    "  --trap NAME  zigzag|loop|scan_bursts|drift|alternating|reuse_band, generated with\n"
    "               --seed S (default 1) and --accesses N (default 100 x capacity)\n";

[[noreturn]] void usage_error(std::string_view why) {
    fmt::print(stderr, "trace_replay: error: {}\n{}", why, usage);
    std::exit(2);
}

std::optional<std::uint64_t> parse_u64(std::string_view v) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
    return n;
}

std::optional<double> parse_ratio(std::string_view sv) {
    const std::string v(sv);
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(x) || x < 0 || x > 1) return std::nullopt;
    return x;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<trace_format> format;
    std::optional<std::uint64_t> capacity;
    std::optional<replay::policy_kind> policy;
    std::string policy_name;
    std::optional<double> window;
    std::optional<double> expect_min;
    std::optional<double> expect;
    std::optional<std::string> file;
    std::optional<traps::trap> trap;
    std::uint64_t seed = 1;
    std::optional<std::uint64_t> accesses;

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
            capacity = parse_u64(v);
            if (!capacity || *capacity == 0 || *capacity > wtinylfu_policy::max_capacity)
                usage_error(fmt::format("--capacity must be a positive integer (at most 2^62), got '{}'", v));
        } else if (arg == "--policy") {
            const auto v = value();
            policy = replay::parse_policy(v);
            if (!policy) usage_error(fmt::format("unknown --policy '{}'", v));
            policy_name = std::string(v);
        } else if (arg == "--window") {
            const auto v = value();
            window = parse_ratio(v);
            if (!window || *window <= 0)
                usage_error(fmt::format("--window must be a fraction in (0, 1], got '{}'", v));
        } else if (arg == "--expect-min") {
            const auto v = value();
            expect_min = parse_ratio(v);
            if (!expect_min) usage_error(fmt::format("--expect-min must be a number in [0, 1], got '{}'", v));
        } else if (arg == "--expect") {
            const auto v = value();
            expect = parse_ratio(v);
            if (!expect) usage_error(fmt::format("--expect must be a number in [0, 1], got '{}'", v));
        } else if (arg == "--trap") {
            const auto v = value();
            trap = traps::parse_trap(v);
            if (!trap) usage_error(fmt::format("unknown --trap '{}'", v));
        } else if (arg == "--seed") {
            const auto v = value();
            const auto n = parse_u64(v);
            if (!n) usage_error(fmt::format("--seed must be a non-negative integer, got '{}'", v));
            seed = *n;
        } else if (arg == "--accesses") {
            const auto v = value();
            accesses = parse_u64(v);
            if (!accesses || *accesses == 0 || *accesses > (std::uint64_t{1} << 32))
                usage_error(fmt::format("--accesses must be a positive integer (at most 2^32), got '{}'", v));
        } else if (arg.starts_with("-") && arg.size() > 1) {
            usage_error(fmt::format("unknown option '{}'", arg));
        } else {
            if (file) usage_error(fmt::format("more than one FILE ('{}' and '{}')", *file, arg));
            file = std::string(arg);
        }
    }
    if (trap && (file || format)) usage_error("--trap replaces FILE and --format");
    if (!trap && !format) usage_error("--format is required");
    if (!capacity) usage_error("--capacity is required");
    if (!policy) usage_error("--policy is required");
    if (!trap && !file) usage_error("FILE is required");
    if (window && policy != replay::policy_kind::wtinylfu_fixed)
        usage_error("--window applies to --policy wtinylfu-fixed only");

    std::vector<std::uint64_t> keys;
    if (trap) {
        const std::uint64_t n = accesses.value_or(100 * *capacity);
        if (n > (std::uint64_t{1} << 32)) usage_error("the trap would exceed 2^32 accesses: give --accesses");
        keys = traps::generate(*trap, *capacity, n, seed);
    } else {
        std::string why;
        auto read = read_trace(*file, *format, why);
        if (!read) {
            fmt::print(stderr, "trace_replay: error: {}\n", why);
            return 1;
        }
        keys = std::move(*read);
    }

    const replay::outcome r = replay::run(*policy, keys, *capacity, window.value_or(0.01));
    const double ratio = r.ratio();
    if (window) fmt::print("policy={} window={} capacity={} hits={}\n", policy_name, *window, *capacity, r.hits);
    else fmt::print("policy={} capacity={} hits={}\n", policy_name, *capacity, r.hits);
    fmt::print("hit_ratio={:.4f} accesses={}\n", ratio, r.accesses);
    if (expect_min && ratio < *expect_min) {
        fmt::print(stderr, "trace_replay: hit ratio {:.4f} is below the expected minimum {:.4f}\n",
                   ratio, *expect_min);
        return 1;
    }
    if (expect && std::abs(ratio - *expect) > 0.001 + 1e-9) {
        fmt::print(stderr, "trace_replay: hit ratio {:.4f} differs from the expected {:.4f} by more than 0.001\n",
                   ratio, *expect);
        return 1;
    }
    return 0;
}
