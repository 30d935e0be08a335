// salama: weighted round robin without first-pick bias: a lock-free stride scheduler
// (gRPC's shape) with a random phase per node, so each node's share is right from the
// first picks (within one pick per node at any moment).
#pragma once

#include "salama/balancing/detail/hash.hpp"
#include "salama/balancing/picker.hpp"
#include "salama/balancing/utilization_weight.hpp"
#include "salama/core/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace salama::balancing {

/// Options of weighted_round_robin_picker.
struct weighted_round_robin_options {
    /// Weights above this multiple of the mean are capped (gRPC: 10), which bounds the
    /// scheduler's retries per pick. >= 1.
    double max_weight_ratio = 10.0;
    /// Seed of the per-node phases.
    std::uint64_t seed = 0;
};

/// Each node i has a 16-bit weight s_i (the largest is 65535) and a phase p_i. Pick number
/// q visits node q mod n in generation g = q div n and accepts it when
/// (s_i * g + p_i) mod 65535 >= 65535 - s_i, i.e. when its accumulated credit wraps. After
/// G generations node i was chosen floor((s_i * G + p_i) / 65535) times: proportional to
/// its weight within one pick, with no burst toward heavy nodes at the start. Weights come
/// from `Weights` (configured weights by default, or utilization_weight).
template <weight_source Weights = static_weight>
class weighted_round_robin_picker {
public:
    static constexpr std::uint32_t max_weight = 65535;
    /// Weights from load reports change with time (blackout, expiry).
    static constexpr bool time_dependent = !std::is_same_v<Weights, static_weight>;

    /// Scaled weights, phases, and one sequence per thread slot (each thread runs the
    /// schedule on its own: its picks keep the property below, and threads picking at once
    /// write no common line; together they are within one pick per node per thread).
    struct table {
        std::vector<std::uint16_t> weight;
        std::vector<std::uint16_t> phase;
        detail::slot_counters sequence;
        bool uniform = false;  ///< all weights equal: plain round robin
    };

    /// Validates `opts` (throws config_error naming the field).
    explicit weighted_round_robin_picker(weighted_round_robin_options opts = {}, Weights w = Weights())
        : opts_(opts), weights_(std::move(w)) {
        validator v{"weighted_round_robin_options"};
        v.check(std::isfinite(opts_.max_weight_ratio) && opts_.max_weight_ratio >= 1, "max_weight_ratio",
                fmt::format("must be >= 1, got {}", opts_.max_weight_ratio));
        v.throw_if_failed();
    }

    /// Prepares the table over `nodes` (writer side, at each publish).
    table build(std::span<const node_entry> nodes, time_point now) const {
        const std::size_t n = nodes.size();
        std::vector<double> w(n, 0.0);
        double known_sum = 0;
        std::size_t known = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto v = weights_.weight(nodes[i], now);
            if (v && std::isfinite(*v) && *v > 0) {
                w[i] = *v;
                known_sum += *v;
                ++known;
            }
        }
        const double mean = known ? known_sum / static_cast<double>(known) : 1.0;
        for (auto& x : w)
            if (x <= 0) x = mean;  // unknown weights take the mean (gRPC)
        const double cap = mean * opts_.max_weight_ratio;
        double top = 0;
        for (auto& x : w) {
            x = std::min(x, cap);
            top = std::max(top, x);
        }
        table t;
        t.weight.resize(n);
        t.phase.resize(n);
        t.uniform = true;
        for (std::size_t i = 0; i < n; ++i) {
            const double scaled = std::round(w[i] / top * max_weight);
            t.weight[i] = static_cast<std::uint16_t>(std::clamp(scaled, 1.0, double(max_weight)));
            t.phase[i] = static_cast<std::uint16_t>(
                detail::reduce(detail::hash_bytes(nodes[i].id(), opts_.seed), max_weight));
            if (t.weight[i] != t.weight[0]) t.uniform = false;
        }
        // Slot 0 starts at generation 0; the others at generations spread by hashing, so
        // that threads do not visit the same node at the same moment.
        t.sequence = detail::slot_counters([&](std::size_t i) {
            return i == 0 ? 0 : (detail::mix64(opts_.seed + i) % max_weight) * static_cast<std::uint64_t>(n);
        });
        return t;
    }

    /// Picks a candidate index for the request; lock-free, allocation-free.
    std::size_t pick(const table& t, std::span<const node_entry> nodes, const request&) const noexcept {
        const std::uint64_t n = nodes.size();
        const std::size_t slot = detail::thread_slot();
        if (t.uniform) return static_cast<std::size_t>(t.sequence.fetch_add(slot) % n);
        for (;;) {
            const std::uint64_t q = t.sequence.fetch_add(slot);
            const std::uint64_t i = q % n;
            const std::uint64_t g = q / n;
            const std::uint64_t s = t.weight[i];
            if ((s * g + t.phase[i]) % max_weight >= max_weight - s) return static_cast<std::size_t>(i);
        }
    }

    /// The settings or parts it was built with.
    const weighted_round_robin_options& options() const noexcept { return opts_; }

private:
    weighted_round_robin_options opts_;
    Weights weights_;
};

static_assert(picker<weighted_round_robin_picker<>>);

}  // namespace salama::balancing
