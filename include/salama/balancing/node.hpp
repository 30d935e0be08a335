// salama: what the balancer knows about a node: its description, its reported metrics,
// and the live counters (requests in flight, peak EWMA latency) fed by outcomes.
#pragma once

#include "salama/balancing/detail/node_counters.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/metric.hpp"
#include "salama/core/validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salama::balancing {

/// One named metric reported for a node: "cpu", "gpu_memory", "queue_depth", "qps", ...
struct metric_value {
    std::string name{};  ///< non-empty
    double value = 0;  ///< finite
    friend bool operator==(const metric_value&, const metric_value&) = default;
};

/// The metrics of one node, sorted by name; looked up without allocating.
class node_metrics {
public:
    node_metrics() = default;
    /// Takes `values` (a later duplicate name replaces an earlier one).
    explicit node_metrics(std::vector<metric_value> values) {
        std::stable_sort(values.begin(), values.end(),
                         [](const metric_value& a, const metric_value& b) { return a.name < b.name; });
        for (auto& v : values) {
            if (!items_.empty() && items_.back().name == v.name)
                items_.back() = std::move(v);
            else
                items_.push_back(std::move(v));
        }
    }
    /// The value of `name`, if reported.
    std::optional<double> get(std::string_view name) const noexcept {
        auto it = std::lower_bound(items_.begin(), items_.end(), name,
                                   [](const metric_value& m, std::string_view n) { return m.name < n; });
        if (it != items_.end() && it->name == name) return it->value;
        return std::nullopt;
    }
    const std::vector<metric_value>& values() const noexcept { return items_; }
    bool empty() const noexcept { return items_.empty(); }

private:
    std::vector<metric_value> items_{};
};

/// Checks reported metrics: names non-empty, values finite. The error names the metric.
inline std::optional<field_error> check_metrics(std::string_view node_id,
                                                const std::vector<metric_value>& metrics) {
    for (const auto& m : metrics) {
        if (m.name.empty())
            return field_error{fmt::format("node({}).metrics", node_id), "metric name must not be empty"};
        if (!std::isfinite(m.value))
            return field_error{fmt::format("node({}).metrics.{}", node_id, m.name),
                               fmt::format("must be finite, got {}", m.value)};
    }
    return std::nullopt;
}

/// The smallest and largest node weight accepted. Weights come from service discovery;
/// the bounds keep every picker's table finite and small (a ring of 2 × 1.7e308 points,
/// or 1024 / 1e-310 points per unit of weight, cannot be built).
inline constexpr double min_node_weight = 1e-6;
inline constexpr double max_node_weight = 1e6;

/// Checks a weight: finite and within [min_node_weight, max_node_weight].
inline std::optional<field_error> check_weight(std::string_view node_id, double weight) {
    if (!(std::isfinite(weight) && weight >= min_node_weight && weight <= max_node_weight))
        return field_error{fmt::format("node({}).weight", node_id),
                           fmt::format("must be within [{}, {}], got {}", min_node_weight, max_node_weight, weight)};
    return std::nullopt;
}

/// What the registry is told about a node when it joins.
struct node_spec {
    std::string id{};                          ///< unique, non-empty
    std::vector<std::string> request_types{};  ///< pools it serves (at least one, non-empty names)
    double weight = 1.0;                       ///< within [min_node_weight, max_node_weight]
    std::string address{};                     ///< where to send requests, e.g. "127.0.0.1:8080"
    label_set metadata{};                      ///< free labels (zone, gpu model, ...)
    std::vector<metric_value> metrics{};       ///< initial metrics
    bool healthy = true;                     ///< initial health
};

/// Checks a node_spec; the error names the node and the field, e.g.
/// "invalid node(a).weight: must be positive and finite, got nan".
inline std::optional<field_error> check_node_spec(const node_spec& s) {
    if (s.id.empty()) return field_error{"node.id", "must not be empty"};
    if (auto e = check_weight(s.id, s.weight)) return e;
    if (s.request_types.empty())
        return field_error{fmt::format("node({}).request_types", s.id), "must name at least one request type"};
    for (std::size_t i = 0; i < s.request_types.size(); ++i) {
        if (s.request_types[i].empty())
            return field_error{fmt::format("node({}).request_types", s.id), "must not contain an empty name"};
        for (std::size_t j = 0; j < i; ++j)
            if (s.request_types[i] == s.request_types[j])
                return field_error{fmt::format("node({}).request_types", s.id),
                                   fmt::format("'{}' appears twice", s.request_types[i])};
    }
    if (auto bad = s.metadata.first_invalid_name())
        return field_error{fmt::format("node({}).metadata", s.id),
                           fmt::format("label name '{}' must match [a-zA-Z_][a-zA-Z0-9_]*", *bad)};
    return check_metrics(s.id, s.metrics);
}

/// What happened to one routed request, reported by the caller.
struct outcome {
    duration latency{};   ///< time from send to reply (non-negative)
    bool success = true;  ///< false for errors the node is to blame for (5xx, reset, timeout)
};

/// The live, shared counters of one node. They survive snapshot changes (a node keeps
/// its in-flight count while its weight or health changes). Thread-safe and lock-free.
///
/// The counters every pick touches (requests in flight per thread slot, peak EWMA) live in
/// a detail::node_counters: inside the object for a node made on its own, or in the
/// balancer's dense counter store for a node made by the registry.
class node_state {
public:
    /// Counters for node `id` reachable at `address`, held inside this object.
    node_state(std::string id, std::string address, std::uint64_t sequence)
        : own_(std::make_unique<detail::own_counters>()), hot_(&own_->c), id_(std::move(id)),
          address_(std::move(address)), sequence_(sequence) {}
    /// Counters for node `id`, held in `store` (not null) and returned to it on destruction.
    node_state(std::string id, std::string address, std::uint64_t sequence,
               std::shared_ptr<detail::counter_store> store)
        : hot_(store->acquire()), store_(std::move(store)), id_(std::move(id)), address_(std::move(address)),
          sequence_(sequence) {}
    node_state(const node_state&) = delete;
    node_state& operator=(const node_state&) = delete;
    ~node_state() {
        if (store_) store_->release(hot_);
    }

    /// The node's id.
    const std::string& id() const noexcept { return id_; }
    /// The node's address.
    const std::string& address() const noexcept { return address_; }
    /// Order of arrival in the registry (stable bucket numbering for jump hashing).
    std::uint64_t sequence() const noexcept { return sequence_; }
    /// Requests picked for this node whose outcome is not reported yet (every thread's).
    std::int64_t pending() const noexcept { return hot_->pending_total(); }
    /// The peak EWMA of latency in seconds as of the last outcome, if any was reported.
    std::optional<double> peak_ewma_seconds() const noexcept { return hot_->ewma_seconds(); }
    /// When the peak EWMA was last set.
    time_point peak_ewma_stamp() const noexcept { return hot_->ewma_stamp(); }
    /// The hot counters (for the balancer's snapshots and handles).
    detail::node_counters& counters() const noexcept { return *hot_; }

    /// A request was sent (counted on the calling thread's slot).
    void begin() noexcept { hot_->pending_of(detail::thread_slot()).fetch_add(1, std::memory_order_relaxed); }
    /// A request begun on this thread ended without an outcome.
    void abandon() noexcept {
        hot_->pending_of(detail::thread_slot()).fetch_sub(1, std::memory_order_release);
    }

    /// A request begun on this thread ended with `o` at `now`: records it, then ends it.
    void finish(const outcome& o, time_point now, duration tau) noexcept {
        record(o, now, tau);
        abandon();
    }

    /// Feeds outcome `o` at `now` into the peak EWMA (see detail::node_counters). Does not
    /// end the request: a handle ends it last, because the balancer may let a removed node
    /// go as soon as nothing is in flight on it.
    void record(const outcome& o, time_point now, duration tau) noexcept {
        hot_->record_latency(std::max(0.0, to_seconds(o.latency)), now, tau);
    }

private:
    const std::unique_ptr<detail::own_counters> own_{};
    detail::node_counters* const hot_;
    const std::shared_ptr<detail::counter_store> store_{};
    const std::string id_;
    const std::string address_;
    const std::uint64_t sequence_;
};

}  // namespace salama::balancing
