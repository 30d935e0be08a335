// salama: one node as pickers and scorers see it inside an immutable snapshot.
#pragma once

#include "salama/balancing/node.hpp"
#include "salama/core/metric.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace salama::balancing {

/// The parts of a node that change by replacement (metrics, metadata): a change makes a
/// new one, so snapshots built before it keep reading the old one.
struct node_data {
    node_metrics metrics{};          ///< last reported metrics
    label_set metadata{};            ///< free labels
    time_point metrics_since{};    ///< when metrics started arriving (gRPC blackout)
    time_point metrics_at{};       ///< when metrics were last reported (gRPC expiry)
};

/// A node inside a snapshot, as pickers and scorers see it: 32 bytes of plain pointers and
/// the effective weight, so that a pool of 10,000 candidates (320 KiB) and their counters
/// stay in the cache. The pointers do not own: the balancer keeps what its snapshots point at
/// alive while they exist (and a node while a handle refers to it); whoever builds entries
/// by hand (tests, tools) keeps the nodes and their data alive as long as the entries.
struct node_entry {
    node_state* state = nullptr;            ///< the node (never null)
    /// The node's hot counters in the balancer's dense store (set by the registry, so that
    /// scorers reach them without touching the node's object); null means `state`'s own.
    detail::node_counters* hot = nullptr;
    const node_data* data = nullptr;        ///< metrics and metadata (null: none reported)
    double weight = 1;                      ///< effective weight (slow start applied), > 0

    /// The node's id.
    const std::string& id() const noexcept { return state->id(); }
    /// The node's metrics (empty without data).
    const node_metrics& metrics() const noexcept {
        static const node_metrics none{};
        return data ? data->metrics : none;
    }
    /// Requests in flight on the node now: every thread slot's count, summed (exact).
    std::int64_t pending() const noexcept { return counters().pending_total(); }
    /// Requests in flight as the calling thread sees them: its own exactly, the other
    /// threads' as of at most detail::node_counters::view_reads of its reads ago. What
    /// scorers use: a pick then reads no line that other threads' picks keep writing.
    std::int64_t pending_seen() const noexcept { return counters().pending_seen(detail::thread_slot()); }
    /// The node's peak EWMA of latency in seconds as of its last outcome, if any.
    std::optional<double> peak_ewma_seconds() const noexcept { return counters().ewma_seconds(); }
    /// When the peak EWMA was last set.
    time_point peak_ewma_stamp() const noexcept { return counters().ewma_stamp(); }
    /// The counters pickers and scorers read, and handles update.
    detail::node_counters& counters() const noexcept { return hot ? *hot : state->counters(); }
};

}  // namespace salama::balancing
