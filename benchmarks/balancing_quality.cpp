// Quality of the hash pickers, measured the way Envoy's benchmarks do: relative standard
// deviation of hits per node over 100,000 keys, share of keys moved when one node goes
// (against the optimal 1/N), table build time and bytes; plus bounded-load maxima and
// weighted round robin's worst deviation from exact shares.
//
// Usage: balancing_quality [--check] [--quick]
//   --check  exit 1 when a target is missed
//   --quick  100 nodes only, 5 removals, no build timing (what ctest runs)
#include <salama/balancing/all.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

using namespace salama;
using namespace salama::balancing;

namespace {

const time_point t0{std::chrono::hours(24)};
constexpr int key_count = 100000;

// Entries do not own their nodes: the nodes made here live until the program ends.
std::vector<node_entry> make_nodes(std::size_t n) {
    static std::deque<std::unique_ptr<node_state>> kept;
    std::vector<node_entry> out;
    for (std::size_t i = 0; i < n; ++i) {
        kept.push_back(std::make_unique<node_state>(fmt::format("10.0.{}.{}:8080", i / 256, i % 256), "", i));
        out.push_back(node_entry{.state = kept.back().get()});
    }
    return out;
}

const std::vector<std::uint64_t>& keys() {
    static const std::vector<std::uint64_t> k = [] {
        std::vector<std::uint64_t> v;
        v.reserve(key_count);
        for (int i = 0; i < key_count; ++i) v.push_back(hash_key(fmt::format("key-{}", i)));
        return v;
    }();
    return k;
}

template <class P>
std::vector<std::uint32_t> assign(const P& p, const std::vector<node_entry>& nodes) {
    const auto t = p.build(nodes, t0);
    std::vector<std::uint32_t> out;
    out.reserve(key_count);
    for (auto h : keys()) out.push_back(static_cast<std::uint32_t>(nodes[p.pick_hash(t, nodes, h)].state->sequence()));
    return out;
}

double rel_stddev(const std::vector<std::uint32_t>& owner, std::size_t n) {
    std::vector<double> hits(n, 0);
    for (auto o : owner) hits[o] += 1;
    const double mean = static_cast<double>(owner.size()) / static_cast<double>(n);
    double sq = 0;
    for (double h : hits) sq += (h - mean) * (h - mean);
    return std::sqrt(sq / static_cast<double>(n)) / mean;
}

struct moved {
    double mean_ratio = 0;       // moved share / optimal, averaged over removals
    double max_ratio = 0;        // worst removal
    double from_survivors = 0;   // share of keys moved away from nodes that stayed (mean)
};

// Removes each of `removals` nodes in turn (evenly spaced; the newest for jump hashing).
template <class P>
moved measure_moves(const P& p, std::size_t n, int removals, bool newest_only) {
    auto nodes = make_nodes(n);
    const auto before = assign(p, nodes);
    const int runs = newest_only ? 1 : removals;
    moved m;
    for (int r = 0; r < runs; ++r) {
        const std::size_t victim = newest_only ? n - 1 : (static_cast<std::size_t>(r) * n) / static_cast<std::size_t>(runs);
        auto less = nodes;
        less.erase(less.begin() + static_cast<std::ptrdiff_t>(victim));
        const auto after = assign(p, less);
        int count = 0, survivors = 0;
        for (std::size_t k = 0; k < before.size(); ++k) {
            if (before[k] == after[k]) continue;
            ++count;
            if (before[k] != victim) ++survivors;
        }
        const double ratio = (static_cast<double>(count) / key_count) * static_cast<double>(n);
        m.mean_ratio += ratio / runs;
        m.max_ratio = std::max(m.max_ratio, ratio);
        m.from_survivors += static_cast<double>(survivors) / key_count / runs;
    }
    return m;
}

template <class P>
std::pair<double, std::size_t> build_cost(const P& p, std::size_t n) {
    auto nodes = make_nodes(n);
    const int reps = n >= 1000 ? 3 : 10;
    std::size_t bytes = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) {
        auto t = p.build(nodes, t0);
        bytes = t.memory_bytes();
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / reps;
    return {ms, bytes};
}

}  // namespace

int main(int argc, char** argv) {
    bool check = false;
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--check") == 0) check = true;
        else if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        else {
            fmt::print(stderr, "usage: balancing_quality [--check] [--quick]\n");
            return 2;
        }
    }
    const std::vector<std::size_t> sizes = quick ? std::vector<std::size_t>{100} : std::vector<std::size_t>{100, 1000};
    const int removals = quick ? 5 : 10;
    bool ok = true;
    auto expect = [&](bool cond, const std::string& what) {
        if (!cond) {
            ok = false;
            fmt::print("MISSED: {}\n", what);
        }
    };

    fmt::print("Hash pickers, {} keys, one node removed at a time ({} removals; jump: the newest)\n\n", key_count,
               removals);
    fmt::print("| picker | nodes | hits rel. stddev | moved / optimal (mean) | moved / optimal (worst) | moved from surviving nodes |\n");
    fmt::print("|---|---:|---:|---:|---:|---:|\n");
    for (std::size_t n : sizes) {
        auto row = [&](const char* name, auto picker, bool newest, double sd_target, double move_target) {
            const double sd = rel_stddev(assign(picker, make_nodes(n)), n);
            const moved m = measure_moves(picker, n, removals, newest);
            fmt::print("| {} | {} | {:.4f} | {:.3f} | {:.3f} | {:.2f} % |\n", name, n, sd, m.mean_ratio, m.max_ratio,
                       100 * m.from_survivors);
            if (sd_target > 0) expect(sd <= sd_target, fmt::format("{} at {} nodes: rel. stddev {:.4f} > {}", name, n, sd, sd_target));
            if (move_target > 0)
                expect(m.mean_ratio <= move_target,
                       fmt::format("{} at {} nodes: moved {:.3f}x optimal > {}", name, n, m.mean_ratio, move_target));
        };
        row("maglev (65537)", maglev_picker(), false, n == 100 ? 0.035 : 0, 0);
        if (n >= 1000) row("maglev (655373)", maglev_picker(maglev_options{.table_size = 655373}), false, 0, 0);
        row("ring (256/weight)", ring_hash_picker(), false, 0, 1.1);
        row("rendezvous", rendezvous_picker(), false, 0, 1.1);
        row("jump", jump_hash_picker(), true, n == 100 ? 0.035 : 0, 1.1);
    }

    if (!quick) fmt::print("\nTable build time and size\n\n| picker | nodes | build ms | bytes |\n|---|---:|---:|---:|\n");
    for (std::size_t n : quick ? std::vector<std::size_t>{} : sizes) {
        auto [mms, mbytes] = build_cost(maglev_picker(), n);
        fmt::print("| maglev (65537) | {} | {:.2f} | {} |\n", n, mms, mbytes);
        auto [rms, rbytes] = build_cost(ring_hash_picker(), n);
        fmt::print("| ring (256/weight) | {} | {:.2f} | {} |\n", n, rms, rbytes);
    }

    // Bounded loads: a skewed key stream, every request held; the bound is checked after
    // each placement.
    {
        const std::size_t n = 20;
        load_balancer<bounded_load_picker<maglev_picker>> lb;
        (void)lb.update(t0, [&](node_registry& reg) {
            for (std::size_t i = 0; i < n; ++i) {
                node_spec s;
                s.id = fmt::format("n{}", i);
                s.request_types = {"t"};
                (void)reg.add_node(std::move(s), t0);
            }
        });
        std::vector<pick_handle> held;
        request r;
        r.request_type = "t";
        std::int64_t worst_over = 0;
        double worst_ratio = 0;  // at the end
        for (int i = 0; i < 5000; ++i) {
            const std::string key = fmt::format("k{}", (i * i) % 7 == 0 ? 0 : i % 13);  // a few hot keys
            r.key = key;
            held.push_back(std::move(*lb.pick(r)));
            const double avg = static_cast<double>(held.size()) / n;
            const auto cap = static_cast<std::int64_t>(std::ceil(1.25 * avg - 1e-9));
            std::int64_t mx = 0;
            for (const auto& st : lb.nodes(t0)) mx = std::max(mx, st.pending);
            worst_over = std::max(worst_over, mx - cap);
            if (held.size() == 5000) worst_ratio = static_cast<double>(mx) / avg;
        }
        fmt::print("\nBounded load (eps 0.25, 20 nodes, 5000 held requests over 13 keys): max load / average at the end = "
                   "{:.3f}, bound exceeded by at most {} requests\n", worst_ratio, std::max<std::int64_t>(0, worst_over));
        expect(worst_over <= 0, "bounded load exceeded ceil((1+eps) * average)");
    }

    // Weighted round robin: worst distance from the exact share over every prefix.
    {
        std::vector<node_entry> nodes = make_nodes(4);
        for (std::size_t i = 0; i < 4; ++i) nodes[i].weight = static_cast<double>(i + 1);
        weighted_round_robin_picker<> p;
        const auto t = p.build(nodes, t0);
        request r;
        std::vector<int> hits(4, 0);
        double worst = 0;
        for (int q = 1; q <= 100000; ++q) {
            ++hits[p.pick(t, nodes, r)];
            for (std::size_t i = 0; i < 4; ++i) worst = std::max(worst, std::abs(hits[i] - q * (i + 1) / 10.0));
        }
        fmt::print("Weighted round robin (weights 1:2:3:4): worst deviation from the exact share over every prefix "
                   "of 100,000 picks = {:.2f} picks\n", worst);
        expect(worst <= 2.0, "weighted round robin deviates by more than two picks");
    }

    if (check && !ok) return 1;
    return 0;
}
