// trace_table: the hit-ratio table of docs/caching.md. For every real trace (two
// capacities each) and every trap workload it replays LRU, W-TinyLFU with a fixed 1 %
// window, a sweep of fixed windows (1-80 %: the ceiling an adaptive window can hope
// for), S3-FIFO and salama's adaptive W-TinyLFU, and prints the margin of the adaptive
// window over max(LRU, fixed 1 %) and its gap to the ceiling. Traps run five seeds and
// report medians.
//
//   trace_table --data DIR [--rows NAME,...] [--quick] [--check] [--weighted]
//
// --quick skips the sweep and S3-FIFO (the ctest rows); --check exits 1 when a row's
// margin is below -0.01. Rows are named `<trace>.<capacity>` (e.g. lirs_gli.1000) or
// `trap.<name>`. --weighted prints, instead, the object and byte hit ratios on a generated
// workload of sized objects (a few large among many small) in a cache bounded by size.
#include "replay.hpp"
#include "trace_reader.hpp"
#include "trace_traps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace salama::caching;

struct row {
    std::string name;
    std::string file;  // empty for a trap
    trace_format format = trace_format::lirs;
    std::uint64_t capacity = 0;
    std::optional<traps::trap> trap{};
};

std::vector<row> all_rows() {
    std::vector<row> rows;
    auto real = [&](std::string stem, std::string file, trace_format f, std::uint64_t c) {
        rows.push_back({fmt::format("{}.{}", stem, c), std::move(file), f, c});
    };
    real("lirs_gli", "lirs_gli.trace.gz", trace_format::lirs, 1000);
    real("lirs_gli", "lirs_gli.trace.gz", trace_format::lirs, 2000);
    real("lirs_multi2", "lirs_multi2.trace.gz", trace_format::lirs, 500);
    real("lirs_multi2", "lirs_multi2.trace.gz", trace_format::lirs, 2000);
    real("lirs_loop", "lirs_loop.trace.gz", trace_format::lirs, 512);
    real("lirs_loop", "lirs_loop.trace.gz", trace_format::lirs, 768);
    real("cache2k_web07", "cache2k_web07.trace.xz", trace_format::i32be, 1024);
    real("cache2k_web07", "cache2k_web07.trace.xz", trace_format::i32be, 4096);
    real("address_swim", "address_swim.trace.gz", trace_format::address, 128);
    real("address_swim", "address_swim.trace.gz", trace_format::address, 512);
    real("address_twolf", "address_twolf.trace.gz", trace_format::address, 128);
    real("address_twolf", "address_twolf.trace.gz", trace_format::address, 512);
    for (const auto t : traps::all_traps)
        rows.push_back({fmt::format("trap.{}", traps::name(t)), {}, trace_format::lirs, 1000, t});
    return rows;
}

constexpr std::array<double, 7> sweep{0.01, 0.02, 0.05, 0.10, 0.20, 0.40, 0.80};
constexpr int trap_seeds = 5;
constexpr double tolerance = 0.01;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct measured {
    double lru = 0, fixed1 = 0, best = 0, best_window = 0, s3fifo = 0, adaptive = 0, window = 0;
};

[[noreturn]] void usage_error(std::string_view why) {
    fmt::print(stderr, "trace_table: error: {}\nusage: trace_table --data DIR [--rows NAME,...] [--quick] [--check] | --weighted\n", why);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<std::string> data;
    std::set<std::string> wanted;
    bool quick = false, check = false, weighted = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", arg));
            return argv[++i];
        };
        if (arg == "--data") data = value();
        else if (arg == "--rows") {
            std::string v = value();
            for (std::size_t p = 0; p <= v.size();) {
                const auto q = std::min(v.find(',', p), v.size());
                if (q > p) wanted.insert(v.substr(p, q - p));
                p = q + 1;
            }
        } else if (arg == "--quick") quick = true;
        else if (arg == "--check") check = true;
        else if (arg == "--weighted") weighted = true;
        else usage_error(fmt::format("unknown argument '{}'", arg));
    }
    if (weighted) {
        // 20,000 objects (about 96,000 units in all), capacity 10,000 units, 2 M requests.
        const auto keys = traps::sized_objects(20'000, 2'000'000, 1);
        fmt::print("| policy | object hit ratio | byte hit ratio |\n|---|---:|---:|\n");
        const std::pair<const char*, replay::policy_kind> policies[] = {
            {"LRU", replay::policy_kind::lru},
            {"W-TinyLFU, fixed 1 % window", replay::policy_kind::wtinylfu_fixed},
            {"S3-FIFO", replay::policy_kind::s3fifo},
            {"W-TinyLFU, adaptive window", replay::policy_kind::wtinylfu}};
        for (const auto& [label, kind] : policies) {
            const auto r = replay::run_weighted(kind, keys, 10'000, traps::object_size);
            fmt::print("| {} | {:.4f} | {:.4f} |\n", label, r.objects.ratio(), r.byte_ratio());
        }
        return 0;
    }
    if (!data) usage_error("--data is required");
    std::vector<row> rows;
    for (auto& r : all_rows())
        if (wanted.empty() || wanted.count(r.name)) rows.push_back(r);
    for (const auto& w : wanted)
        if (std::none_of(rows.begin(), rows.end(), [&](const row& r) { return r.name == w; }))
            usage_error(fmt::format("unknown row '{}'", w));

    fmt::print("| row | capacity | LRU | fixed 1 % | best fixed (window) | S3-FIFO | adaptive (final window) | margin | gap to ceiling |\n");
    fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int failures = 0;
    for (const auto& r : rows) {
        std::vector<std::vector<std::uint64_t>> streams;
        if (r.trap) {
            for (int s = 1; s <= trap_seeds; ++s)
                streams.push_back(traps::generate(*r.trap, r.capacity, 100 * r.capacity, static_cast<std::uint64_t>(s)));
        } else {
            std::string why;
            auto keys = read_trace(*data + "/" + r.file, r.format, why);
            if (!keys) {
                fmt::print(stderr, "trace_table: error: {}\n", why);
                return 1;
            }
            streams.push_back(std::move(*keys));
        }
        auto med = [&](replay::policy_kind k, double window, double* final_window = nullptr) {
            std::vector<double> v, w;
            for (const auto& keys : streams) {
                const auto o = replay::run(k, keys, r.capacity, window);
                v.push_back(o.ratio());
                w.push_back(o.final_window);
            }
            if (final_window) *final_window = median(w);
            return median(v);
        };
        measured m;
        m.lru = med(replay::policy_kind::lru, 0);
        m.fixed1 = med(replay::policy_kind::wtinylfu_fixed, 0.01);
        m.adaptive = med(replay::policy_kind::wtinylfu, 0, &m.window);
        m.best = m.fixed1;
        m.best_window = 0.01;
        if (!quick) {
            for (const double w : sweep) {
                if (w == 0.01) continue;
                const double x = med(replay::policy_kind::wtinylfu_fixed, w);
                if (x > m.best) {
                    m.best = x;
                    m.best_window = w;
                }
            }
            m.s3fifo = med(replay::policy_kind::s3fifo, 0);
        }
        const double margin = m.adaptive - std::max(m.lru, m.fixed1);
        const bool ok = margin >= -tolerance - 1e-9;
        if (!ok) ++failures;
        if (quick)
            fmt::print("| {} | {} | {:.4f} | {:.4f} | — | — | {:.4f} ({:.0f} %) | {:+.4f}{} | — |\n", r.name,
                       r.capacity, m.lru, m.fixed1, m.adaptive, 100 * m.window, margin, ok ? "" : " FAIL");
        else
            fmt::print("| {} | {} | {:.4f} | {:.4f} | {:.4f} ({:.0f} %) | {:.4f} | {:.4f} ({:.0f} %) | {:+.4f}{} | {:.4f} |\n",
                       r.name, r.capacity, m.lru, m.fixed1, m.best, 100 * m.best_window, m.s3fifo,
                       m.adaptive, 100 * m.window, margin, ok ? "" : " FAIL", std::max(0.0, m.best - m.adaptive));
        std::fflush(stdout);
    }
    if (check && failures) {
        fmt::print(stderr, "trace_table: {} row(s) below max(LRU, fixed 1 %) - {}\n", failures, tolerance);
        return 1;
    }
    return 0;
}
