// salama: weights derived from load reports, with gRPC's weighted-round-robin formula:
// qps / (utilization + eps / qps * error_utilization_penalty).
#pragma once

#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/request.hpp"
#include "salama/balancing/scorer.hpp"
#include "salama/core/validation.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace salama::balancing {

/// Options of utilization_weight (gRPC defaults).
struct utilization_weight_options {
    std::string qps_metric = "qps";                  ///< requests per second served
    std::string eps_metric = "eps";                  ///< errors per second
    std::string utilization_metric = "utilization";  ///< application utilization (e.g. CPU, 0..1)
    double error_utilization_penalty = 1.0;          ///< >= 0
    duration blackout_period = std::chrono::seconds(10);    ///< ignore reports younger than this run
    duration expiration_period = std::chrono::minutes(3);   ///< forget reports older than this
};

/// A node's weight from its reported load. Unknown (no report, still in blackout, expired,
/// or non-positive qps or utilization) yields nullopt; the weighted round robin then uses
/// the mean of the known weights, as gRPC does.
class utilization_weight {
public:
    /// Validates `opts` (throws config_error naming the field).
    explicit utilization_weight(utilization_weight_options opts = {}) : opts_(std::move(opts)) {
        validator v{"utilization_weight_options"};
        v.non_empty("qps_metric", opts_.qps_metric);
        v.non_empty("eps_metric", opts_.eps_metric);
        v.non_empty("utilization_metric", opts_.utilization_metric);
        v.non_negative("error_utilization_penalty", opts_.error_utilization_penalty);
        v.non_negative("blackout_period", to_seconds(opts_.blackout_period));
        v.positive("expiration_period", to_seconds(opts_.expiration_period));
        v.throw_if_failed();
    }

    /// The weight of `n` at `now`, if known.
    std::optional<double> weight(const node_entry& n, time_point now) const noexcept {
        if (n.data == nullptr || n.data->metrics.empty()) return std::nullopt;
        const node_data& d = *n.data;
        if (now - d.metrics_at >= opts_.expiration_period) return std::nullopt;
        if (opts_.blackout_period > duration::zero() && now - d.metrics_since < opts_.blackout_period)
            return std::nullopt;
        const double qps = d.metrics.get(opts_.qps_metric).value_or(0);
        const double eps = d.metrics.get(opts_.eps_metric).value_or(0);
        const double util = d.metrics.get(opts_.utilization_metric).value_or(0);
        if (!(qps > 0) || !(util > 0)) return std::nullopt;
        const double w = qps / (util + eps / qps * opts_.error_utilization_penalty);
        if (!std::isfinite(w) || w <= 0) return std::nullopt;
        return w;
    }

    /// As a scorer: the weight at `r.now`, NaN when unknown (ranks last).
    double score(const node_entry& n, const request& r) const noexcept {
        return weight(n, r.now).value_or(std::numeric_limits<double>::quiet_NaN());
    }

private:
    utilization_weight_options opts_;
};

/// The configured (slow-start adjusted) weight of each node.
struct static_weight {
    /// Always known.
    std::optional<double> weight(const node_entry& n, time_point) const noexcept { return n.weight; }
};

/// Something that gives a node's weight at a time, or nullopt when unknown.
template <class W>
concept weight_source = std::copy_constructible<W> && requires(const W& w, const node_entry& n, time_point t) {
    { w.weight(n, t) } -> std::same_as<std::optional<double>>;
};

static_assert(scorer<utilization_weight>);
static_assert(weight_source<utilization_weight>);
static_assert(weight_source<static_weight>);

}  // namespace salama::balancing
