// salama: one node as pickers and scorers see it inside an immutable snapshot.
#pragma once

#include "salama/balancing/node.hpp"
#include "salama/core/metric.hpp"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace salama::balancing {

/// The parts of a node that change by replacement (metrics, metadata), shared between
/// snapshots so that a rebuild copies pointers, not strings.
struct node_data {
    node_metrics metrics{};          ///< last reported metrics
    label_set metadata{};            ///< free labels
    time_point metrics_since{};    ///< when metrics started arriving (gRPC blackout)
    time_point metrics_at{};       ///< when metrics were last reported (gRPC expiry)
};

/// A node inside a snapshot: its live counters, its data and its effective weight.
struct node_entry {
    std::shared_ptr<node_state> state{};      ///< live counters (never null)
    std::shared_ptr<const node_data> data{};  ///< metrics and metadata (never null)
    /// The node's hot counters in the balancer's dense store (set by the registry, so that
    /// scorers reach them without touching the node's object); null means `state`'s own.
    const detail::node_counters* hot = nullptr;
    double weight = 1;                      ///< effective weight (slow start applied), > 0
    double base_weight = 1;                 ///< configured weight
    bool healthy = true;                    ///< healthy and not ejected when the snapshot was built

    /// The node's id.
    const std::string& id() const noexcept { return state->id(); }
    /// The node's metrics.
    const node_metrics& metrics() const noexcept { return data->metrics; }
    /// Requests in flight on the node now.
    std::int64_t pending() const noexcept { return counters().pending.load(std::memory_order_relaxed); }
    /// The node's peak EWMA of latency in seconds, if any outcome was reported.
    std::optional<double> peak_ewma_seconds() const noexcept {
        const double v = counters().ewma.load(std::memory_order_relaxed);
        if (std::isnan(v)) return std::nullopt;
        return v;
    }
    /// The counters pickers and scorers read.
    const detail::node_counters& counters() const noexcept { return hot ? *hot : state->counters(); }
};

}  // namespace salama::balancing
