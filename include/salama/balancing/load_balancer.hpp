// salama: the load balancer: a node registry whose changes publish immutable snapshots,
// a pluggable picker reading the current snapshot without locks, and outcome reports
// feeding the scorers and any subscribed observer.
#pragma once

#include "salama/balancing/detail/pool_state.hpp"
#include "salama/balancing/detail/rcu.hpp"
#include "salama/balancing/node.hpp"
#include "salama/balancing/observer.hpp"
#include "salama/balancing/options.hpp"
#include "salama/balancing/pick_error.hpp"
#include "salama/balancing/pick_handle.hpp"
#include "salama/balancing/picker.hpp"
#include "salama/balancing/registry.hpp"
#include "salama/balancing/request.hpp"
#include "salama/balancing/routing_snapshot.hpp"
#include "salama/core/log.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/telemetry.hpp"

#include <boost/system/result.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace salama::balancing {

/// What a pick returns: the handle of the chosen node, or why there is none.
using pick_result = boost::system::result<pick_handle, pick_error>;

/// Routes requests of a type to one node of that type's pool.
///
/// Writers (membership, weights, metrics, health, ejections) are serialized and each
/// publishes a new immutable snapshot. `pick` is const, lock-free and allocation-free, and
/// writes only lines of its own thread (see docs/balancing.md, "What a pick touches").
/// Every call that depends on time takes `now`; call `refresh(now)` periodically while
/// nodes are in slow start or ejected.
template <picker Picker>
class load_balancer {
public:
    using picker_type = Picker;
    using table_type = typename Picker::table;
    using snapshot_type = routing_snapshot<table_type>;

    /// Validates `opts` and `tel` (throws config_error naming the field). Series carry
    /// the label `name` = `tel.name`; without a registry the balancer counts into a
    /// private one (see telemetry()).
    explicit load_balancer(Picker p = Picker(), balancer_options opts = {}, telemetry tel = {})
        : picker_(std::move(p)), opts_(validated(opts)), registry_(opts_),
          shared_(new detail::balancer_shared(opts_.peak_ewma_tau, std::move(tel))),
          current_(std::make_unique<const snapshot_type>()) {
        const bound_telemetry& t = shared_->tel;
        picks_.emplace(t.counter("salama_balancer_picks_total", "Requests routed, by pool", {"request_type"}));
        outcomes_.emplace(t.counter("salama_balancer_outcomes_total", "Outcomes reported, by outcome",
                                    {"request_type", "outcome"}));
        errors_.emplace(t.counter("salama_balancer_pick_errors_total", "Picks refused, by reason",
                                  {"request_type", "reason"}));
        nodes_gauge_.emplace(t.gauge("salama_balancer_nodes", "Members of each pool, by state",
                                     {"request_type", "state"}));
        panic_gauge_.emplace(t.gauge("salama_balancer_panic", "1 while a pool routes in panic", {"request_type"}));
        publishes_ = &t.counter("salama_balancer_snapshots_total", "Snapshots published").with({});
        // A type no node ever served is counted under one label value: request types come
        // from callers, and each distinct value would otherwise add a series for good.
        unknown_type_ = &errors_->with({"(unknown)", "empty_pool"});
        registry_.on_rejection([this](const field_error& e) {
            shared_->tel.log().warn("balancer {}: refused: {}", shared_->tel.name(), e.message());
        });
    }

    load_balancer(const load_balancer&) = delete;
    load_balancer& operator=(const load_balancer&) = delete;

    /// Handles still open keep what they refer to; the last of them frees it.
    ~load_balancer() {
        for (auto& [type, st] : shared_->pools) st->fold();
        // The registry and the snapshot go with the members; the shared state (pinned
        // nodes, pools, telemetry) goes now or with the last open handle.
        detail::balancer_shared::close(shared_);
    }

    // ---- membership ---------------------------------------------------------------
    // Every mutator validates what it is given (it typically comes from service
    // discovery) and returns the condition without throwing; on failure nothing changed.
    // The field and the reason go to the telemetry's log.

    /// Adds a node: errc::invalid_argument for a malformed spec (errc::invalid_metric for a
    /// bad metric), errc::duplicate_id.
    result<void> add_node(node_spec spec, time_point now) {
        const std::string id = spec.id;
        return edit_node(id, now, [&](node_registry& r) { return r.add_node(std::move(spec), now); });
    }
    /// Removes a node (errc::not_found).
    result<void> remove_node(std::string_view id, time_point now) {
        return edit_node(id, now, [&](node_registry& r) { return r.remove_node(id); });
    }
    /// Sets a node's weight (errc::invalid_argument outside [min_node_weight,
    /// max_node_weight]; errc::not_found).
    result<void> set_weight(std::string_view id, double weight, time_point now) {
        return edit_node(id, now, [&](node_registry& r) { return r.set_weight(id, weight); });
    }
    /// Replaces a node's metrics (errc::invalid_metric, errc::not_found).
    result<void> set_metrics(std::string_view id, std::vector<metric_value> metrics, time_point now) {
        return edit_node(id, now, [&](node_registry& r) { return r.set_metrics(id, std::move(metrics), now); });
    }
    /// Replaces a node's metadata (errc::invalid_argument for a bad label name, errc::not_found).
    result<void> set_metadata(std::string_view id, label_set metadata, time_point now) {
        return edit_node(id, now, [&](node_registry& r) { return r.set_metadata(id, std::move(metadata)); });
    }

    // ---- health: what active checks and outlier detection call --------------------

    /// Marks a node healthy or unhealthy (errc::not_found).
    result<void> set_health(std::string_view id, bool healthy, time_point now) {
        return edit_node(id, now, [&](node_registry& r) { return r.set_health(id, healthy, now); });
    }
    /// Ejects a node until `until` (errc::not_found). Off the request path: it rebuilds
    /// only the tables of the node's pools (the others are shared with the previous
    /// snapshot), and never blocks picks.
    result<void> eject(std::string_view id, time_point until, time_point now) {
        return edit_node(id, now, [&](node_registry& r) { return r.eject(id, until); });
    }
    /// Returns an ejected node to service (errc::not_found); as cheap as eject().
    result<void> uneject(std::string_view id, time_point now) {
        return edit_node(id, now, [&](node_registry& r) { return r.uneject(id, now); });
    }
    /// Ends expired ejections and advances slow start; republishes only if something
    /// depends on time. Brings the registry's pick and outcome counters up to date.
    /// Returns true if it published.
    bool refresh(time_point now) {
        std::lock_guard lk(write_mu_);
        for (auto& [type, st] : shared_->pools) st->fold();
        const bool timed = registry_.expire(now);
        if (!timed && !time_dependent_picker<Picker>) return false;
        publish_locked(now);
        return true;
    }

    /// Rebuilds and publishes the snapshot for `now` unconditionally.
    void republish(time_point now) {
        std::lock_guard lk(write_mu_);
        publish_locked(now);
    }

    /// Applies several changes and publishes once: `f(node_registry&)` may return
    /// `result<void>` (published only on success) or nothing. If it fails, or the publish
    /// throws (std::bad_alloc), the registry is put back as it was.
    template <class F>
    result<void> update(time_point now, F&& f) {
        std::lock_guard lk(write_mu_);
        node_registry before = registry_;
        try {
            if constexpr (std::is_void_v<std::invoke_result_t<F&, node_registry&>>) {
                std::forward<F>(f)(registry_);
            } else {
                result<void> r = std::forward<F>(f)(registry_);
                if (!r) {
                    registry_ = std::move(before);
                    return r;
                }
            }
            publish_locked(now);
        } catch (...) {
            registry_ = std::move(before);
            throw;
        }
        return {};
    }

    // ---- routing ------------------------------------------------------------------

    /// Picks a node for `r`. errc::empty_pool if no node serves `r.request_type`;
    /// errc::no_healthy_nodes if none may be routed to. A refusal allocates nothing and
    /// takes no lock (its counter was resolved when the snapshot was built).
    pick_result pick(const request& r) const {
        const std::size_t slot = detail::thread_slot();
        auto snap = current_.read();
        const auto* pool = snap->find(r.request_type);
        if (pool == nullptr) return refuse(unknown_type_, errc::empty_pool, r.request_type);
        if (pool->nodes.empty()) return refuse(pool->state->empty_pool, errc::empty_pool, r.request_type);
        if (pool->candidates.empty()) return refuse(pool->state->no_healthy, errc::no_healthy_nodes, r.request_type);
        const std::span<const node_entry> cands(pool->candidates);
        std::size_t i;
        if constexpr (load_aware_picker<Picker>)
            i = picker_.pick(*pool->table, cands, r, pool_load{pool->state->in_flight_total()});
        else
            i = picker_.pick(*pool->table, cands, r);
        const node_entry& c = pool->candidates[i];
        return pick_handle(*c.state, c.counters(), *pool->state, slot);
    }

    /// The seed's entry point: routes a request of `request_type` carrying `payload` at
    /// `now` (which time-aware scorers read: peak EWMA decay, utilization weights).
    pick_result route_request(std::string_view request_type, std::string_view payload, time_point now) const {
        request r;
        r.request_type = request_type;
        r.payload = payload;
        r.now = now;
        return pick(r);
    }

    /// Subscribes `f` to every reported outcome until the subscription goes.
    subscription subscribe(outcome_observer f) {
        std::weak_ptr<outcome_hub> weak = shared_->hub;
        return subscription(std::move(weak), shared_->hub->add(std::move(f)));
    }

    // ---- reading ------------------------------------------------------------------

    /// One node's status at `now`.
    std::optional<node_status> status(std::string_view id, time_point now) const {
        std::lock_guard lk(write_mu_);
        return registry_.status(id, now);
    }
    /// Every node's status at `now`, id order.
    std::vector<node_status> nodes(time_point now) const {
        std::lock_guard lk(write_mu_);
        return registry_.nodes(now);
    }
    /// Number of nodes.
    std::size_t size() const {
        std::lock_guard lk(write_mu_);
        return registry_.size();
    }
    /// Number of nodes ejected now.
    std::size_t ejected_count() const {
        std::lock_guard lk(write_mu_);
        return registry_.ejected_count();
    }

    /// A summary of one pool in the current snapshot.
    struct pool_summary {
        std::size_t members = 0;     ///< nodes serving the request type
        std::size_t healthy = 0;     ///< healthy and not ejected
        std::size_t candidates = 0;  ///< routed to
        bool panic = false;          ///< below the panic threshold
        std::int64_t in_flight = 0;  ///< picked and not yet ended
        std::uint64_t picks = 0;     ///< picks ever made from the pool (exact)
    };
    /// The pool for `request_type` (all zero if absent).
    pool_summary pool(std::string_view request_type) const {
        auto snap = current_.read();
        const auto* p = snap->find(request_type);
        if (!p) return {};
        return {p->nodes.size(), p->healthy, p->candidates.size(), p->panic, p->state->in_flight_total(),
                p->state->picks.total()};
    }

    /// Calls `f(const snapshot_type&)` on the current snapshot (for tools and tests).
    template <class F>
    decltype(auto) with_snapshot(F&& f) const {
        auto snap = current_.read();
        return std::forward<F>(f)(*snap);
    }

    /// The picker.
    const Picker& get_picker() const noexcept { return picker_; }
    /// The options.
    const balancer_options& options() const noexcept { return opts_; }
    /// Where the balancer reports (with the private registry when none was given).
    const bound_telemetry& get_telemetry() const noexcept { return shared_->tel; }
    /// Observer calls that threw.
    std::uint64_t observer_errors() const noexcept { return shared_->hub->observer_errors(); }

private:
    static balancer_options validated(balancer_options o) {
        o.validate();
        return o;
    }

    static pick_error refuse(salama::counter* c, errc e, std::string_view request_type) noexcept {
        if (c) (void)c->inc();
        return pick_error{make_error_code(e), request_type};
    }

    // One node changes: on failure to publish, the node is put back as it was.
    template <class F>
    result<void> edit_node(std::string_view id, time_point now, F&& f) {
        std::lock_guard lk(write_mu_);
        auto saved = registry_.save(id);
        result<void> r = std::forward<F>(f)(registry_);
        if (!r) return r;
        try {
            publish_locked(now);
        } catch (...) {
            registry_.restore(std::move(saved));
            throw;
        }
        return {};
    }

    void publish_locked(time_point now) {
        auto next = std::make_unique<snapshot_type>();
        next->version = version_ + 1;
        next->built_at = now;
        std::vector<std::shared_ptr<node_state>> members;
        registry_.owners(members, next->data);
        auto built = registry_.build(now);
        // The writer holds write_mu_, so the current snapshot cannot change under it; the
        // guard only has to end before the store below (which waits for readers).
        std::optional<typename detail::rcu_cell<snapshot_type>::guard> prev_guard;
        prev_guard.emplace(current_.read());
        const snapshot_type* prev = prev_guard->get();
        std::vector<std::string> panicking;
        // Everything that can throw happens before anything is changed.
        for (auto& pm : built) {
            pool_snapshot<table_type> ps;
            ps.request_type = pm.request_type;
            ps.state = pool_state_for(pm.request_type);
            ps.healthy = pm.healthy;
            const std::size_t total = pm.nodes.size();
            const double healthy_pct = total ? 100.0 * static_cast<double>(pm.healthy) / static_cast<double>(total) : 0;
            ps.panic = healthy_pct < opts_.panic_threshold_percent;
            bool use_all = false;
            if (pm.healthy == 0)
                use_all = opts_.route_when_none_healthy;
            else if (ps.panic)
                use_all = opts_.on_panic == panic_routing::use_all_nodes;
            const bool refuse_all = pm.healthy == 0 ? !use_all : (ps.panic && !use_all);
            if (!refuse_all) {
                ps.candidates.reserve(use_all ? total : pm.healthy);
                for (std::size_t k = 0; k < total; ++k)
                    if (use_all || pm.routable[k]) ps.candidates.push_back(pm.nodes[k]);
                ps.table = reusable_table(prev->find(ps.request_type), ps.candidates);
                if (!ps.table)
                    ps.table = std::make_shared<const table_type>(
                        picker_.build(std::span<const node_entry>(ps.candidates), now));
            }
            if (ps.panic) panicking.push_back(ps.request_type);
            ps.nodes = std::move(pm.nodes);
            next->pools.push_back(std::move(ps));
        }
        members.reserve(members.size() + shared_->pinned.size());
        // Telemetry; the snapshot is complete.
        for (const auto& ps : next->pools) {
            const std::size_t total = ps.nodes.size();
            (void)nodes_gauge_->with({ps.request_type, "healthy"}).set(static_cast<double>(ps.healthy));
            (void)nodes_gauge_->with({ps.request_type, "unhealthy"}).set(static_cast<double>(total - ps.healthy));
            (void)panic_gauge_->with({ps.request_type}).set(ps.panic ? 1 : 0);
            if (ps.panic && !was_panicking(ps.request_type))
                shared_->tel.log().warn("balancer {}: pool '{}' panics: {} of {} nodes healthy", shared_->tel.name(),
                                        ps.request_type, ps.healthy, total);
        }
        for (const auto& [type, st] : shared_->pools) {
            if (next->find(type) == nullptr && prev->find(type) != nullptr) {
                (void)nodes_gauge_->with({type, "healthy"}).set(0);
                (void)nodes_gauge_->with({type, "unhealthy"}).set(0);
                (void)panic_gauge_->with({type}).set(0);
            }
            st->fold();
        }
        prev_guard.reset();  // leave the read before publishing (a writer must not wait for itself)
        panicking_ = std::move(panicking);
        ++version_;
        current_.store(std::move(next));
        repin(std::move(members));
        (void)publishes_->inc();
    }

    // The previous snapshot's table for this pool, if it was built over the same
    // candidates (and time does not enter the table).
    static std::shared_ptr<const table_type> reusable_table(const pool_snapshot<table_type>* prev,
                                                            const std::vector<node_entry>& cands) {
        if constexpr (time_dependent_picker<Picker>) {
            return {};
        } else {
            if (prev == nullptr || !prev->table || prev->candidates.size() != cands.size()) return {};
            for (std::size_t i = 0; i < cands.size(); ++i) {
                const node_entry& a = prev->candidates[i];
                const node_entry& b = cands[i];
                if (a.state != b.state || a.data != b.data || a.weight != b.weight) return {};
            }
            return prev->table;
        }
    }

    // Runs after a publish with every node of the registry, once no reader can still see
    // the previous snapshot: a node that left the registry can get no new handle, so its
    // in-flight count only falls, and at zero nothing refers to it any more.
    void repin(std::vector<std::shared_ptr<node_state>> members) noexcept {
        auto by_address = [](const auto& a, const auto& b) { return a.get() < b.get(); };
        std::sort(members.begin(), members.end(), by_address);
        auto& pinned = shared_->pinned;
        for (auto& old : pinned)
            if (old->counters().pending_total(std::memory_order_acquire) > 0 &&
                !std::binary_search(members.begin(), members.end(), old, by_address))
                members.push_back(std::move(old));
        pinned.swap(members);
    }

    bool was_panicking(std::string_view type) const {
        for (const auto& t : panicking_)
            if (t == type) return true;
        return false;
    }

    detail::pool_state* pool_state_for(const std::string& type) {
        auto& pools = shared_->pools;
        if (auto it = pools.find(type); it != pools.end()) return it->second.get();
        auto st = std::make_unique<detail::pool_state>(type, shared_);
        st->picks.bind(&picks_->with({type}));
        st->successes.bind(&outcomes_->with({type, "success"}));
        st->failures.bind(&outcomes_->with({type, "failure"}));
        st->empty_pool = &errors_->with({type, "empty_pool"});
        st->no_healthy = &errors_->with({type, "no_healthy_nodes"});
        auto* raw = st.get();
        pools.emplace(type, std::move(st));
        shared_->tel.log().info("balancer {}: pool '{}' created", shared_->tel.name(), type);
        return raw;
    }

    Picker picker_;
    balancer_options opts_;
    mutable std::mutex write_mu_;
    node_registry registry_;
    detail::balancer_shared* shared_;  // owned; see ~load_balancer
    std::vector<std::string> panicking_;
    std::uint64_t version_ = 0;
    detail::rcu_cell<snapshot_type> current_;
    std::optional<instance_family<salama::counter>> picks_;
    std::optional<instance_family<salama::counter>> outcomes_;
    std::optional<instance_family<salama::counter>> errors_;
    std::optional<instance_family<salama::gauge>> nodes_gauge_;
    std::optional<instance_family<salama::gauge>> panic_gauge_;
    salama::counter* publishes_ = nullptr;
    salama::counter* unknown_type_ = nullptr;
};

}  // namespace salama::balancing
