// salama: the seed's scorer: a weighted mean of normalized node metrics (CPU, GPU memory,
// queue depth, ...) with weights chosen by request type and scaled by payload size.
#pragma once

#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/request.hpp"
#include "salama/balancing/scorer.hpp"
#include "salama/core/validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace salama::balancing {

/// How much one metric weighs in a node's load.
struct metric_weight {
    std::string metric{};           ///< metric name, e.g. "cpu"
    double weight = 1;            ///< importance, finite and >= 0
    double scale = 1;             ///< the value that counts as fully loaded (> 0): load = min(value/scale, 1)
    double per_payload_kib = 0;   ///< extra importance per KiB of payload (>= 0): big requests care more
};

/// The weights for one request type.
struct request_type_weights {
    std::string request_type{};             ///< non-empty, unique
    std::vector<metric_weight> weights{};   ///< at least one
};

/// Options of metric_scorer.
struct metric_scorer_options {
    /// Used for request types without their own list.
    std::vector<metric_weight> default_weights{
        {.metric = "cpu", .weight = 1, .scale = 1},
        {.metric = "gpu_memory", .weight = 1, .scale = 1},
        {.metric = "queue_depth", .weight = 1, .scale = 100},
    };
    /// Request-type-specific lists (e.g. "inference" weighs GPU memory more).
    std::vector<request_type_weights> by_request_type{};
    /// The load assumed for a metric a node did not report, in [0, 1] (1: pessimistic).
    double missing_load = 1.0;
};

/// Score = 1 - (sum of w_i * load_i) / (sum of w_i), in [0, 1]; higher is better.
/// `w_i = weight + per_payload_kib * payload KiB`; `load_i = clamp(value / scale, 0, 1)`.
class metric_scorer {
public:
    /// Validates `opts` (throws config_error naming the field).
    explicit metric_scorer(metric_scorer_options opts = {}) : opts_(std::move(opts)) {
        validator v{"metric_scorer_options"};
        check_list(v, "default_weights", opts_.default_weights);
        for (std::size_t i = 0; i < opts_.by_request_type.size(); ++i) {
            const auto& rt = opts_.by_request_type[i];
            const std::string f = fmt::format("by_request_type[{}]", i);
            v.non_empty(f + ".request_type", rt.request_type);
            for (std::size_t j = 0; j < i; ++j)
                v.check(opts_.by_request_type[j].request_type != rt.request_type, f + ".request_type",
                        fmt::format("'{}' appears twice", rt.request_type));
            check_list(v, f + ".weights", rt.weights);
        }
        v.in_range("missing_load", opts_.missing_load, 0, 1);
        v.throw_if_failed();
        std::sort(opts_.by_request_type.begin(), opts_.by_request_type.end(),
                  [](const auto& a, const auto& b) { return a.request_type < b.request_type; });
    }

    /// The node's score for `r`.
    double score(const node_entry& n, const request& r) const noexcept {
        const auto& ws = weights_for(r.request_type);
        const double kib = static_cast<double>(r.payload.size()) / 1024.0;
        double num = 0;
        double den = 0;
        for (const auto& w : ws) {
            const double wi = w.weight + w.per_payload_kib * kib;
            if (wi <= 0) continue;
            const auto v = n.metrics().get(w.metric);
            const double load = v ? std::clamp(*v / w.scale, 0.0, 1.0) : opts_.missing_load;
            num += wi * load;
            den += wi;
        }
        return den > 0 ? 1.0 - num / den : 1.0;
    }

    /// The options in use.
    const metric_scorer_options& options() const noexcept { return opts_; }

private:
    static void check_list(validator& v, const std::string& field, const std::vector<metric_weight>& ws) {
        v.check(!ws.empty(), field, "must name at least one metric");
        double total = 0;
        for (std::size_t i = 0; i < ws.size(); ++i) {
            const std::string f = fmt::format("{}[{}]", field, i);
            v.non_empty(f + ".metric", ws[i].metric);
            v.non_negative(f + ".weight", ws[i].weight);
            v.positive(f + ".scale", ws[i].scale);
            v.non_negative(f + ".per_payload_kib", ws[i].per_payload_kib);
            if (std::isfinite(ws[i].weight)) total += ws[i].weight + ws[i].per_payload_kib;
        }
        v.check(ws.empty() || total > 0, field, "needs at least one positive weight");
    }

    const std::vector<metric_weight>& weights_for(std::string_view type) const noexcept {
        const auto& list = opts_.by_request_type;
        auto it = std::lower_bound(list.begin(), list.end(), type,
                                   [](const request_type_weights& w, std::string_view t) { return w.request_type < t; });
        if (it != list.end() && it->request_type == type) return it->weights;
        return opts_.default_weights;
    }

    metric_scorer_options opts_;
};

static_assert(scorer<metric_scorer>);

}  // namespace salama::balancing
