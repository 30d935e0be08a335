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
#include "salama/balancing/snapshot.hpp"
#include "salama/core/log.hpp"
#include "salama/core/metrics_registry.hpp"

#include <boost/system/result.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace salama::balancing {

/// What a pick returns: the handle of the chosen node, or why there is none.
using pick_result = boost::system::result<pick_handle, pick_error>;

/// Where the balancer reports what it does. The metrics registry, when given, must
/// outlive the balancer and every handle it returned.
struct balancer_telemetry {
    metrics_registry* metrics = nullptr;  ///< counters and gauges (see docs/balancing.md)
    logger log{};                         ///< membership, health and panic changes
    std::string name = "default";         ///< the `balancer` label of every metric
};

/// Routes requests of a type to one node of that type's pool.
///
/// Writers (membership, weights, metrics, health, ejections) are serialized and each
/// publishes a new immutable snapshot. `pick` is const, lock-free and allocation-free: it
/// reads the current snapshot under an RCU guard. Every call that depends on time takes
/// `now`; call `refresh(now)` periodically while nodes are in slow start or ejected.
template <picker Picker>
class load_balancer {
public:
    using picker_type = Picker;
    using table_type = typename Picker::table;
    using snapshot_type = snapshot<table_type>;

    /// Validates `opts` (throws config_error naming the field).
    explicit load_balancer(Picker p = Picker(), balancer_options opts = {}, balancer_telemetry tel = {})
        : picker_(std::move(p)), opts_(validated(opts)), tel_(std::move(tel)), registry_(opts_),
          shared_(std::make_shared<detail::balancer_shared>(
              detail::balancer_shared{opts_.peak_ewma_tau, std::make_shared<outcome_hub>()})),
          current_(std::make_unique<const snapshot_type>()) {
        if (tel_.metrics) {
            auto& m = *tel_.metrics;
            picks_ = &m.counter("salama_balancer_picks_total", "Requests routed, by pool",
                                {"balancer", "request_type"});
            outcomes_ = &m.counter("salama_balancer_outcomes_total", "Outcomes reported, by result",
                                   {"balancer", "request_type", "result"});
            errors_ = &m.counter("salama_balancer_pick_errors_total", "Picks refused, by reason",
                                 {"balancer", "request_type", "reason"});
            nodes_gauge_ = &m.gauge("salama_balancer_nodes", "Members of each pool, by state",
                                    {"balancer", "request_type", "state"});
            panic_gauge_ = &m.gauge("salama_balancer_panic", "1 while a pool routes in panic",
                                    {"balancer", "request_type"});
            publishes_ = &m.counter("salama_balancer_snapshots_total", "Snapshots published", {"balancer"})
                              .with({tel_.name});
        }
    }

    load_balancer(const load_balancer&) = delete;
    load_balancer& operator=(const load_balancer&) = delete;

    // ---- membership ---------------------------------------------------------------

    /// Adds a node (throws config_error for a bad spec; errc::duplicate_id).
    result<void> add_node(node_spec spec, time_point now) {
        return edit(now, [&](node_registry& r) { return r.add_node(std::move(spec), now); });
    }
    /// Removes a node (errc::not_found).
    result<void> remove_node(std::string_view id, time_point now) {
        return edit(now, [&](node_registry& r) { return r.remove_node(id); });
    }
    /// Sets a node's weight (throws config_error unless finite and > 0; errc::not_found).
    result<void> set_weight(std::string_view id, double weight, time_point now) {
        return edit(now, [&](node_registry& r) { return r.set_weight(id, weight); });
    }
    /// Replaces a node's metrics (errc::invalid_metric, errc::not_found).
    result<void> set_metrics(std::string_view id, std::vector<metric_value> metrics, time_point now) {
        return edit(now, [&](node_registry& r) { return r.set_metrics(id, std::move(metrics), now); });
    }
    /// Replaces a node's metadata.
    result<void> set_metadata(std::string_view id, label_set metadata, time_point now) {
        return edit(now, [&](node_registry& r) { return r.set_metadata(id, std::move(metadata)); });
    }

    // ---- health: what active checks and outlier detection call --------------------

    /// Marks a node healthy or unhealthy (errc::not_found).
    result<void> set_health(std::string_view id, bool healthy, time_point now) {
        return edit(now, [&](node_registry& r) { return r.set_health(id, healthy, now); });
    }
    /// Ejects a node until `until` (errc::not_found).
    result<void> eject(std::string_view id, time_point until, time_point now) {
        return edit(now, [&](node_registry& r) { return r.eject(id, until); });
    }
    /// Returns an ejected node to service (errc::not_found).
    result<void> uneject(std::string_view id, time_point now) {
        return edit(now, [&](node_registry& r) { return r.uneject(id, now); });
    }
    /// Ends expired ejections and advances slow start; republishes only if something
    /// depends on time. Returns true if it published.
    bool refresh(time_point now) {
        std::lock_guard lk(write_mu_);
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
    /// `result<void>` (published only on success) or nothing.
    template <class F>
    result<void> update(time_point now, F&& f) {
        return edit(now, std::forward<F>(f));
    }

    // ---- routing ------------------------------------------------------------------

    /// Picks a node for `r`. errc::empty_pool if no node serves `r.request_type`;
    /// errc::no_healthy_nodes if none may be routed to.
    pick_result pick(const request& r) const {
        auto snap = current_.read();
        const auto* pool = snap->find(r.request_type);
        if (pool == nullptr) return fail(errc::empty_pool, r.request_type, false);
        if (pool->nodes.empty()) return fail(errc::empty_pool, r.request_type);
        if (pool->candidates.empty()) return fail(errc::no_healthy_nodes, r.request_type);
        const std::span<const node_entry> cands(pool->candidates);
        std::size_t i;
        if constexpr (load_aware_picker<Picker>)
            i = picker_.pick(*pool->table, cands, r, pool_load{pool->state->in_flight.load(std::memory_order_relaxed)});
        else
            i = picker_.pick(*pool->table, cands, r);
        const node_entry& c = pool->candidates[i];
        return pick_handle(*c.state, c.counters(), pool->state);
    }

    /// The seed's entry point: routes a request of `request_type` carrying `payload`.
    pick_result route_request(std::string_view request_type, std::string_view payload,
                              time_point now = {}) const {
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
    };
    /// The pool for `request_type` (all zero if absent).
    pool_summary pool(std::string_view request_type) const {
        auto snap = current_.read();
        const auto* p = snap->find(request_type);
        if (!p) return {};
        return {p->nodes.size(), p->healthy, p->candidates.size(), p->panic,
                p->state->in_flight.load(std::memory_order_relaxed)};
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
    /// Observer calls that threw.
    std::uint64_t observer_errors() const noexcept { return shared_->hub->observer_errors(); }

private:
    static balancer_options validated(balancer_options o) {
        o.validate();
        return o;
    }

    // A type no node ever served is counted under one label value: request types come
    // from callers, and each distinct value would otherwise add a series for good.
    pick_result fail(errc e, std::string_view request_type, bool known_type = true) const {
        if (errors_)
            (void)errors_->with({tel_.name, known_type ? std::string(request_type) : "(unknown)",
                                 e == errc::empty_pool ? "empty_pool" : "no_healthy_nodes"})
                .inc();
        return pick_error{make_error_code(e), std::string(request_type)};
    }

    template <class F>
    result<void> edit(time_point now, F&& f) {
        std::lock_guard lk(write_mu_);
        if constexpr (std::is_void_v<std::invoke_result_t<F&, node_registry&>>) {
            std::forward<F>(f)(registry_);
        } else {
            result<void> r = std::forward<F>(f)(registry_);
            if (!r) return r;
        }
        publish_locked(now);
        return {};
    }

    void publish_locked(time_point now) {
        auto next = std::make_unique<snapshot_type>();
        next->version = ++version_;
        next->built_at = now;
        std::map<std::string, std::shared_ptr<detail::pool_state>, std::less<>> live;
        std::vector<std::shared_ptr<node_state>> members;
        registry_.owners(members, next->data);
        for (auto& pm : registry_.build(now)) {
            pool_snapshot<table_type> ps;
            ps.request_type = pm.request_type;
            ps.state = pool_state_for(pm.request_type);
            live.emplace(pm.request_type, ps.state);
            ps.healthy = pm.healthy;
            const std::size_t total = pm.nodes.size();
            const double healthy_pct = total ? 100.0 * static_cast<double>(pm.healthy) / static_cast<double>(total) : 0;
            ps.panic = healthy_pct < opts_.panic_threshold_percent;
            bool use_all = false;
            if (pm.healthy == 0)
                use_all = opts_.route_when_none_healthy;
            else if (ps.panic)
                use_all = opts_.on_panic == panic_mode::use_all_nodes;
            const bool refuse = pm.healthy == 0 ? !use_all : (ps.panic && !use_all);
            if (!refuse) {
                ps.candidates.reserve(use_all ? total : pm.healthy);
                for (std::size_t k = 0; k < total; ++k)
                    if (use_all || pm.routable[k]) ps.candidates.push_back(pm.nodes[k]);
                ps.table.emplace(picker_.build(std::span<const node_entry>(ps.candidates), now));
            }
            if (nodes_gauge_) {
                (void)nodes_gauge_->with({tel_.name, ps.request_type, "healthy"}).set(static_cast<double>(pm.healthy));
                (void)nodes_gauge_->with({tel_.name, ps.request_type, "unhealthy"})
                    .set(static_cast<double>(total - pm.healthy));
                (void)panic_gauge_->with({tel_.name, ps.request_type}).set(ps.panic ? 1 : 0);
            }
            if (ps.panic && !was_panicking(ps.request_type))
                tel_.log.warn("balancer {}: pool '{}' panics: {} of {} nodes healthy", tel_.name,
                              ps.request_type, pm.healthy, total);
            ps.nodes = std::move(pm.nodes);
            next->pools.push_back(std::move(ps));
        }
        for (auto& [type, st] : pools_)
            if (!live.count(type) && nodes_gauge_) {
                (void)nodes_gauge_->with({tel_.name, type, "healthy"}).set(0);
                (void)nodes_gauge_->with({tel_.name, type, "unhealthy"}).set(0);
                (void)panic_gauge_->with({tel_.name, type}).set(0);
            }
        pools_ = std::move(live);
        panicking_.clear();
        for (const auto& p : next->pools)
            if (p.panic) panicking_.push_back(p.request_type);
        current_.store(std::move(next));
        repin(std::move(members));
        if (publishes_) (void)publishes_->inc();
    }

    // Runs after a publish with every node of the registry, once no reader can still see
    // the previous snapshot: a node that left the registry can get no new handle, so its
    // in-flight count only falls, and at zero nothing refers to it any more.
    void repin(std::vector<std::shared_ptr<node_state>> members) {
        auto by_address = [](const auto& a, const auto& b) { return a.get() < b.get(); };
        std::sort(members.begin(), members.end(), by_address);
        for (auto& old : shared_->pinned)
            if (old->counters().pending.load(std::memory_order_acquire) > 0 &&
                !std::binary_search(members.begin(), members.end(), old, by_address))
                members.push_back(std::move(old));
        shared_->pinned = std::move(members);
    }

    bool was_panicking(std::string_view type) const {
        for (const auto& t : panicking_)
            if (t == type) return true;
        return false;
    }

    std::shared_ptr<detail::pool_state> pool_state_for(const std::string& type) {
        if (auto it = pools_.find(type); it != pools_.end()) return it->second;
        auto st = std::make_shared<detail::pool_state>(type, shared_);
        if (picks_) {
            st->picks = &picks_->with({tel_.name, type});
            st->successes = &outcomes_->with({tel_.name, type, "success"});
            st->failures = &outcomes_->with({tel_.name, type, "failure"});
        }
        tel_.log.info("balancer {}: pool '{}' created", tel_.name, type);
        return st;
    }

    Picker picker_;
    balancer_options opts_;
    balancer_telemetry tel_;
    mutable std::mutex write_mu_;
    node_registry registry_;
    std::shared_ptr<detail::balancer_shared> shared_;
    std::map<std::string, std::shared_ptr<detail::pool_state>, std::less<>> pools_;
    std::vector<std::string> panicking_;
    std::uint64_t version_ = 0;
    detail::rcu_cell<snapshot_type> current_;
    counter_family* picks_ = nullptr;
    counter_family* outcomes_ = nullptr;
    counter_family* errors_ = nullptr;
    gauge_family* nodes_gauge_ = nullptr;
    gauge_family* panic_gauge_ = nullptr;
    salama::counter* publishes_ = nullptr;
};

}  // namespace salama::balancing
