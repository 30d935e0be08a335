// Trap workloads for the adaptive admission window: deterministic, seeded key streams of
// the shapes on which a window that moves the wrong way loses to plain LRU or to a fixed
// 1 % window. They are falsifiers, not scores: each one aims at one way of being wrong.
#pragma once

#include <salama/caching/detail/hash.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace salama::caching::traps {

/// The trap workloads.
enum class trap {
    zigzag,       ///< sweeps forward then backward over 1.3 × capacity keys
    loop,         ///< a loop over 1.1 × capacity keys
    scan_bursts,  ///< a skewed hot set (half the capacity) interrupted by one-shot scans of 2 × capacity
    drift,        ///< a working set of 0.7 × capacity that slides forward (LRU is near optimal)
    alternating,  ///< two jobs, each with its own skewed set of 0.8 × capacity, taking turns
    reuse_band,   ///< a Zipf head plus new keys read again 2-30 % of the capacity later
};

/// Every trap, in table order.
inline constexpr std::array<trap, 6> all_traps{trap::zigzag,      trap::loop,        trap::scan_bursts,
                                               trap::drift,       trap::alternating, trap::reuse_band};

/// The trap's name as used on the command line and in tables.
constexpr std::string_view name(trap t) noexcept {
    switch (t) {
    case trap::zigzag: return "zigzag";
    case trap::loop: return "loop";
    case trap::scan_bursts: return "scan_bursts";
    case trap::drift: return "drift";
    case trap::alternating: return "alternating";
    case trap::reuse_band: return "reuse_band";
    }
    return "?";
}

/// The trap called `s`, if any.
inline std::optional<trap> parse_trap(std::string_view s) noexcept {
    for (const trap t : all_traps)
        if (name(t) == s) return t;
    return std::nullopt;
}

namespace detail {

// Uniform doubles in [0, 1) from splitmix64.
class uniform {
public:
    explicit uniform(std::uint64_t seed) : rng_(seed) {}
    double next() noexcept { return static_cast<double>(rng_.next() >> 11) * 0x1.0p-53; }
    std::uint64_t below(std::uint64_t n) noexcept { return static_cast<std::uint64_t>(next() * static_cast<double>(n)); }

private:
    caching::detail::split_mix rng_;
};

// Zipf(s) over ranks 0..n-1 by inverting a precomputed CDF.
class zipf {
public:
    zipf(std::uint64_t n, double s) : cdf_(n) {
        double sum = 0;
        for (std::uint64_t i = 0; i < n; ++i) cdf_[i] = sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
        for (auto& c : cdf_) c /= sum;
    }
    std::uint64_t operator()(uniform& u) const noexcept {
        const double x = u.next();
        const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), x);
        return static_cast<std::uint64_t>(std::min<std::ptrdiff_t>(it - cdf_.begin(),
                                                                   static_cast<std::ptrdiff_t>(cdf_.size()) - 1));
    }

private:
    std::vector<double> cdf_;
};

}  // namespace detail

/// `accesses` keys of trap `t` for a cache of `capacity` entries. The seed changes the
/// random draws and, through a keyed relabelling, which keys are used.
inline std::vector<std::uint64_t> generate(trap t, std::uint64_t capacity, std::uint64_t accesses,
                                           std::uint64_t seed) {
    detail::uniform u(seed * 0x9e3779b97f4a7c15ULL + 1);
    const auto c = static_cast<double>(std::max<std::uint64_t>(capacity, 10));
    const std::uint64_t salt = caching::detail::mix64(seed + 0x7a11);
    auto label = [&](std::uint64_t k) { return caching::detail::mix64(k ^ salt); };
    std::vector<std::uint64_t> out;
    out.reserve(accesses);
    // A small stream of never-repeated keys keeps every trap from being perfectly regular.
    std::uint64_t fresh = std::uint64_t{1} << 40;
    auto noise = [&](double p) {
        if (u.next() < p) {
            out.push_back(label(fresh++));
            return true;
        }
        return false;
    };
    switch (t) {
    case trap::zigzag: {
        const auto n = static_cast<std::int64_t>(1.3 * c);
        std::int64_t i = 0, dir = 1;
        while (out.size() < accesses) {
            if (noise(0.02)) continue;
            out.push_back(label(static_cast<std::uint64_t>(i)));
            if (i + dir < 0 || i + dir >= n) dir = -dir;
            else i += dir;
        }
        break;
    }
    case trap::loop: {
        const auto n = static_cast<std::uint64_t>(1.1 * c);
        for (std::uint64_t i = 0; out.size() < accesses;) {
            if (noise(0.02)) continue;
            out.push_back(label(i));
            i = (i + 1) % n;
        }
        break;
    }
    case trap::scan_bursts: {
        const auto hot = static_cast<std::uint64_t>(0.5 * c);
        const detail::zipf z(hot, 0.8);
        const auto phase = static_cast<std::uint64_t>(6 * c);
        const auto scan = static_cast<std::uint64_t>(2 * c);
        while (out.size() < accesses) {
            for (std::uint64_t i = 0; i < phase && out.size() < accesses; ++i) out.push_back(label(z(u)));
            for (std::uint64_t i = 0; i < scan && out.size() < accesses; ++i) out.push_back(label(fresh++));
        }
        break;
    }
    case trap::drift: {
        const auto width = static_cast<std::uint64_t>(0.7 * c);
        double base = 0;
        while (out.size() < accesses) {
            if (noise(0.02)) continue;
            // Recent keys of the band are likelier: an LRU stack distance well inside the cache.
            const double r = u.next();
            const auto offset = static_cast<std::uint64_t>(r * r * static_cast<double>(width));
            const auto top = static_cast<std::uint64_t>(base) + width;
            out.push_back(label(top - offset));
            base += 0.05;
        }
        break;
    }
    case trap::alternating: {
        const auto set = static_cast<std::uint64_t>(0.8 * c);
        const detail::zipf z(set, 0.7);
        const auto phase = static_cast<std::uint64_t>(8 * c);
        for (std::uint64_t job = 0; out.size() < accesses; job ^= 1) {
            for (std::uint64_t i = 0; i < phase && out.size() < accesses; ++i) {
                if (noise(0.02)) continue;
                out.push_back(label(job * (std::uint64_t{1} << 32) + z(u)));
            }
        }
        break;
    }
    case trap::reuse_band: {
        const auto head = static_cast<std::uint64_t>(0.3 * c);
        const detail::zipf z(head, 1.0);
        // Pending second reads: (due index, key).
        std::vector<std::pair<std::uint64_t, std::uint64_t>> pending;
        std::uint64_t next_new = std::uint64_t{1} << 36;
        while (out.size() < accesses) {
            const auto now = static_cast<std::uint64_t>(out.size());
            if (!pending.empty() && pending.front().first <= now) {
                std::pop_heap(pending.begin(), pending.end(), std::greater<>{});
                out.push_back(pending.back().second);
                pending.pop_back();
                continue;
            }
            if (u.next() < 0.5) {
                out.push_back(label(z(u)));
            } else {
                const std::uint64_t k = label(next_new++);
                out.push_back(k);
                const auto delay = static_cast<std::uint64_t>((0.02 + 0.28 * u.next()) * c);
                pending.emplace_back(now + 1 + delay, k);
                std::push_heap(pending.begin(), pending.end(), std::greater<>{});
            }
        }
        break;
    }
    }
    out.resize(accesses);
    return out;
}

/// The size (in weight units) of object `key` in the sized workload: most objects weigh
/// 1-8 units, one in 32 weighs 64-512.
inline std::uint32_t object_size(std::uint64_t key) noexcept {
    const std::uint64_t h = caching::detail::mix64(key ^ 0x51ed);
    if ((h & 31) == 0) return static_cast<std::uint32_t>(64 + ((h >> 8) % 449));
    return static_cast<std::uint32_t>(1 + ((h >> 8) % 8));
}

/// A workload of objects with sizes (object_size): Zipf(0.9) over `objects` keys, a
/// few large objects among many small ones. `accesses` keys.
inline std::vector<std::uint64_t> sized_objects(std::uint64_t objects, std::uint64_t accesses,
                                                std::uint64_t seed) {
    detail::uniform u(seed * 0x9e3779b97f4a7c15ULL + 7);
    const detail::zipf z(objects, 0.9);
    const std::uint64_t salt = caching::detail::mix64(seed + 0x51ed);
    std::vector<std::uint64_t> out;
    out.reserve(accesses);
    for (std::uint64_t i = 0; i < accesses; ++i) out.push_back(caching::detail::mix64(z(u) ^ salt));
    return out;
}

}  // namespace salama::caching::traps
