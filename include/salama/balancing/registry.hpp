// salama: the node registry: nodes by id and by request type (pool) on Boost.MultiIndex,
// with weights, metadata, metrics, health and ejections. It is the writer side; the
// load_balancer serializes access to it and publishes immutable snapshots built from it.
#pragma once

#include "salama/balancing/node.hpp"
#include "salama/balancing/node_entry.hpp"
#include "salama/balancing/options.hpp"
#include "salama/core/error.hpp"
#include "salama/core/validation.hpp"

#include <boost/multi_index/composite_key.hpp>
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/ordered_index.hpp>
#include <boost/multi_index_container.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salama::balancing {

/// A read-out of one node, for health checkers, dashboards and tests.
struct node_status {
    std::string id{};
    std::string address{};
    std::vector<std::string> request_types{};
    double weight = 0;                         ///< configured weight
    double effective_weight = 0;               ///< weight with slow start applied at the asked time
    bool healthy = true;                       ///< health as last set
    std::optional<time_point> ejected_until{};   ///< set while ejected
    std::int64_t pending = 0;                  ///< requests in flight
    label_set metadata{};
    node_metrics metrics{};
};

/// One pool as built for a snapshot: every member in id order, which are routable. The
/// entries point into the registry: valid until it next changes, unless the caller keeps
/// the nodes and their data alive (see node_registry::owners).
struct pool_members {
    std::string request_type{};
    std::vector<node_entry> nodes{};  ///< all members
    std::vector<bool> routable{};     ///< per member: healthy and not ejected
    std::size_t healthy = 0;        ///< members healthy and not ejected
};

/// Nodes indexed by id and by request type. Not thread-safe: load_balancer owns one and
/// serializes every call. Every mutator validates its input; nothing is published here.
class node_registry {
    // One node as the registry keeps it.
    struct node_record {
        std::string id;
        std::vector<std::string> request_types;
        double weight = 1;
        bool healthy = true;
        std::optional<time_point> ejected_until;
        time_point warm_since{};
        std::shared_ptr<node_state> state;
        std::shared_ptr<const node_data> data;
    };

public:
    /// Uses `opts` for slow start (validated by the owner); nodes keep their hot counters
    /// in `counters` (a store of their own when null).
    explicit node_registry(balancer_options opts = {}, std::shared_ptr<detail::counter_store> counters = nullptr)
        : opts_(opts), counters_(counters ? std::move(counters) : std::make_shared<detail::counter_store>()) {}

    /// Where refusals of malformed input are explained (the field and why); the result
    /// carries only the condition.
    using rejection_sink = std::function<void(const field_error&)>;

    /// Sends every refusal's explanation to `sink` (none by default).
    void on_rejection(rejection_sink sink) { reject_ = std::move(sink); }

    /// Adds a node. A malformed spec is refused with errc::invalid_argument (a bad metric
    /// with errc::invalid_metric), an id already present with errc::duplicate_id; nothing
    /// changes then. Throws only std::bad_alloc, and then changes nothing either.
    result<void> add_node(node_spec spec, time_point now) {
        if (auto e = check_node_spec(spec))
            return refuse(*e, e->field.find(".metrics") != std::string::npos ? errc::invalid_metric
                                                                            : errc::invalid_argument);
        if (nodes_.get<by_id>().find(spec.id) != nodes_.get<by_id>().end())
            return make_error_code(errc::duplicate_id);
        auto data = std::make_shared<node_data>();
        data->metrics = node_metrics(std::move(spec.metrics));
        data->metadata = std::move(spec.metadata);
        if (!data->metrics.empty()) data->metrics_since = data->metrics_at = now;
        node_record rec;
        rec.id = spec.id;
        rec.request_types = spec.request_types;
        rec.weight = spec.weight;
        rec.healthy = spec.healthy;
        rec.warm_since = now;
        rec.state = std::make_shared<node_state>(spec.id, std::move(spec.address), next_sequence_++, counters_);
        rec.data = std::move(data);
        std::vector<membership> mem;
        mem.reserve(rec.request_types.size());
        for (const auto& t : rec.request_types) mem.push_back(membership{t, rec.id});
        const std::string id = rec.id;
        nodes_.insert(std::move(rec));
        try {
            for (auto& m : mem) members_.insert(std::move(m));
        } catch (...) {
            erase(id);
            throw;
        }
        return {};
    }

    /// Removes a node; errc::not_found if absent. Requests in flight on it finish normally.
    result<void> remove_node(std::string_view id) {
        if (!contains(id)) return make_error_code(errc::not_found);
        erase(id);
        return {};
    }

    /// A copy of one node's entry (or of its absence), to put back with restore() if a
    /// change cannot be published.
    struct saved_node {
        std::string id;
        std::optional<node_record> record;
    };
    /// Saves node `id` as it is now.
    saved_node save(std::string_view id) const {
        auto& idx = nodes_.get<by_id>();
        auto it = idx.find(id);
        return saved_node{std::string(id), it == idx.end() ? std::nullopt : std::optional<node_record>(*it)};
    }
    /// Puts node `s.id` back as save() found it.
    void restore(saved_node s) {
        erase(s.id);
        if (!s.record) return;
        for (const auto& t : s.record->request_types) members_.insert(membership{t, s.id});
        nodes_.insert(std::move(*s.record));
    }

    /// Changes a node's weight: errc::invalid_argument outside [min_node_weight,
    /// max_node_weight] (or NaN), errc::not_found.
    result<void> set_weight(std::string_view id, double weight) {
        if (auto e = check_weight(id, weight)) return refuse(*e, errc::invalid_argument);
        return modify(id, [&](node_record& r) { r.weight = weight; });
    }

    /// Replaces a node's metrics. errc::invalid_metric for a non-finite value or an empty
    /// name (nothing changes); errc::not_found.
    result<void> set_metrics(std::string_view id, std::vector<metric_value> metrics, time_point now) {
        if (auto e = check_metrics(id, metrics)) return refuse(*e, errc::invalid_metric);
        return modify(id, [&](node_record& r) {
            auto d = std::make_shared<node_data>(*r.data);
            const bool was_empty = d->metrics.empty();
            d->metrics = node_metrics(std::move(metrics));
            if (d->metrics.empty()) {
                d->metrics_since = {};
            } else if (was_empty || now - d->metrics_at >= metrics_gap_) {
                d->metrics_since = now;
            }
            d->metrics_at = now;
            r.data = std::move(d);
        });
    }

    /// Replaces a node's metadata labels: errc::invalid_argument for an invalid label
    /// name, errc::not_found.
    result<void> set_metadata(std::string_view id, label_set metadata) {
        if (auto bad = metadata.first_invalid_name())
            return refuse(field_error{fmt::format("node({}).metadata", id),
                                      fmt::format("label name '{}' must match [a-zA-Z_][a-zA-Z0-9_]*", *bad)},
                          errc::invalid_argument);
        return modify(id, [&](node_record& r) {
            auto d = std::make_shared<node_data>(*r.data);
            d->metadata = std::move(metadata);
            r.data = std::move(d);
        });
    }

    /// Sets health (from active checks). A node turning healthy starts its slow start at `now`.
    result<void> set_health(std::string_view id, bool healthy, time_point now) {
        return modify(id, [&](node_record& r) {
            if (healthy && !r.healthy) r.warm_since = now;
            r.healthy = healthy;
        });
    }

    /// Ejects a node until `until` (from outlier detection): it is not routed to, and counts
    /// as unhealthy for the panic threshold. Ejecting again moves `until`.
    result<void> eject(std::string_view id, time_point until) {
        return modify(id, [&](node_record& r) { r.ejected_until = until; });
    }

    /// Returns an ejected node to service now (slow start begins at `now`).
    result<void> uneject(std::string_view id, time_point now) {
        return modify(id, [&](node_record& r) {
            if (r.ejected_until) r.warm_since = now;
            r.ejected_until.reset();
        });
    }

    /// Ends ejections whose time has come. Returns true if anything depends on time at
    /// `now` (an ejection ended, or a node is still inside its slow-start window).
    bool expire(time_point now) {
        bool changed = false;
        auto& idx = nodes_.get<by_id>();
        for (auto it = idx.begin(); it != idx.end(); ++it) {
            if (it->ejected_until && *it->ejected_until <= now) {
                idx.modify(it, [&](node_record& r) {
                    r.ejected_until.reset();
                    r.warm_since = now;
                });
                changed = true;
            }
            if (opts_.slow_start.window > duration::zero() && now - it->warm_since < opts_.slow_start.window)
                changed = true;
        }
        return changed;
    }

    /// True if a node with this id is registered.
    bool contains(std::string_view id) const { return nodes_.get<by_id>().count(id) != 0; }
    /// Number of nodes.
    std::size_t size() const noexcept { return nodes_.size(); }
    /// Nodes currently ejected.
    std::size_t ejected_count() const {
        std::size_t n = 0;
        for (const auto& r : nodes_) n += r.ejected_until ? 1 : 0;
        return n;
    }

    /// One node's status at `now`, if present.
    std::optional<node_status> status(std::string_view id, time_point now) const {
        auto& idx = nodes_.get<by_id>();
        auto it = idx.find(id);
        if (it == idx.end()) return std::nullopt;
        return to_status(*it, now);
    }

    /// Every node's status at `now`, in id order.
    std::vector<node_status> nodes(time_point now) const {
        std::vector<node_status> out{};
        out.reserve(nodes_.size());
        for (const auto& r : nodes_) out.push_back(to_status(r, now));
        return out;
    }

    /// Ids of the members of `request_type`, in id order.
    std::vector<std::string> members(std::string_view request_type) const {
        std::vector<std::string> out{};
        auto& idx = members_.get<by_pool>();
        for (auto it = idx.lower_bound(request_type); it != idx.end() && it->request_type == request_type; ++it)
            out.push_back(it->node_id);
        return out;
    }

    /// Builds every pool's members as of `now` (effective weights, health, ejections).
    std::vector<pool_members> build(time_point now) const {
        std::vector<pool_members> out{};
        const auto& by_node_id = nodes_.get<by_id>();
        for (const auto& m : members_.get<by_pool>()) {
            if (out.empty() || out.back().request_type != m.request_type) out.push_back({m.request_type, {}, {}, 0});
            const node_record& r = *by_node_id.find(m.node_id);
            node_entry e;
            e.state = r.state.get();
            e.hot = &r.state->counters();
            e.data = r.data.get();
            e.weight = effective_weight(r, now);
            const bool ok = routable(r, now);
            out.back().healthy += ok ? 1 : 0;
            out.back().routable.push_back(ok);
            out.back().nodes.push_back(e);
        }
        return out;
    }

    /// Appends every node and its current data, so that entries built now stay valid
    /// after the registry changes.
    void owners(std::vector<std::shared_ptr<node_state>>& states,
                std::vector<std::shared_ptr<const node_data>>& data) const {
        states.reserve(states.size() + nodes_.size());
        data.reserve(data.size() + nodes_.size());
        for (const auto& r : nodes_) {
            states.push_back(r.state);
            data.push_back(r.data);
        }
    }

    /// The options in use.
    const balancer_options& options() const noexcept { return opts_; }
    /// Where the nodes keep their hot counters.
    const detail::counter_store& counters() const noexcept { return *counters_; }

private:
    struct membership {
        std::string request_type;
        std::string node_id;
    };
    struct by_id {};
    struct by_pool {};
    struct by_node {};

    using node_table = boost::multi_index_container<
        node_record,
        boost::multi_index::indexed_by<boost::multi_index::ordered_unique<
            boost::multi_index::tag<by_id>,
            boost::multi_index::member<node_record, std::string, &node_record::id>, std::less<>>>>;

    using member_table = boost::multi_index_container<
        membership,
        boost::multi_index::indexed_by<
            boost::multi_index::ordered_unique<
                boost::multi_index::tag<by_pool>,
                boost::multi_index::composite_key<
                    membership, boost::multi_index::member<membership, std::string, &membership::request_type>,
                    boost::multi_index::member<membership, std::string, &membership::node_id>>,
                boost::multi_index::composite_key_compare<std::less<>, std::less<>>>,
            boost::multi_index::ordered_non_unique<
                boost::multi_index::tag<by_node>,
                boost::multi_index::member<membership, std::string, &membership::node_id>, std::less<>>>>;

    result<void> refuse(const field_error& e, errc code) const {
        if (reject_) reject_(e);
        return make_error_code(code);
    }

    void erase(std::string_view id) noexcept {
        auto& mem = members_.get<by_node>();
        mem.erase(mem.lower_bound(id), mem.upper_bound(id));
        auto& idx = nodes_.get<by_id>();
        if (auto it = idx.find(id); it != idx.end()) idx.erase(it);
    }

    template <class F>
    result<void> modify(std::string_view id, F&& f) {
        auto& idx = nodes_.get<by_id>();
        auto it = idx.find(id);
        if (it == idx.end()) return make_error_code(errc::not_found);
        idx.modify(it, std::forward<F>(f));
        return {};
    }

    bool routable(const node_record& r, time_point now) const noexcept {
        return r.healthy && !(r.ejected_until && *r.ejected_until > now);
    }

    double effective_weight(const node_record& r, time_point now) const noexcept {
        return r.weight * opts_.slow_start.factor(r.warm_since, now);
    }

    node_status to_status(const node_record& r, time_point now) const {
        return node_status{r.id,      r.state->address(),     r.request_types, r.weight,
                           effective_weight(r, now), r.healthy, r.ejected_until,
                           r.state->pending(), r.data->metadata, r.data->metrics};
    }

    balancer_options opts_;
    std::shared_ptr<detail::counter_store> counters_;
    node_table nodes_;
    member_table members_;
    std::uint64_t next_sequence_ = 0;
    duration metrics_gap_ = std::chrono::minutes(3);  // a report after this long restarts the blackout
    rejection_sink reject_{};
};

}  // namespace salama::balancing
