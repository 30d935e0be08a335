// salama: connecting health checking to a load balancer: active-check transitions become
// set_health calls, reported outcomes feed outlier detection, ejections become eject calls.
#pragma once

#include "salama/balancing/health/checker.hpp"
#include "salama/balancing/health/outlier_detector.hpp"
#include "salama/balancing/health_controlled.hpp"
#include "salama/balancing/observer.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/log.hpp"
#include "salama/core/metrics_registry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <concepts>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salama::balancing::health {

/// A change handler for health_checker::on_change that marks nodes in `lb` healthy or
/// unhealthy, stamped with `clk.now()`. `lb` and `clk` must outlive the handler. A node the
/// balancer does not know is logged and skipped.
template <balancing::health_controlled Balancer, clock Clock>
std::function<void(const health_change&)> apply_health_to(Balancer& lb, const Clock& clk,
                                                          logger log = {}) {
    return [&lb, &clk, log = std::move(log)](const health_change& c) {
        auto r = lb.set_health(c.node_id, c.to == health_status::healthy, clk.now());
        if (!r)
            log.warn("health: balancer refused {} for {}: {}", to_string(c.to), c.node_id,
                     r.error().message());
    };
}

/// As above, stamped with the steady clock.
template <balancing::health_controlled Balancer>
std::function<void(const health_change&)> apply_health_to(Balancer& lb, logger log = {}) {
    static const steady_clock clk;
    return apply_health_to(lb, clk, std::move(log));
}

/// Passive health for a balancer: subscribes to its outcomes, runs them through an
/// outlier_detector, ejects outliers from the balancer and returns them when their time is
/// up. `run()` is the interval loop (evaluate every `interval`); `evaluate(now)` is one step
/// for callers that drive time themselves. Thread-safe: outcomes may arrive on any thread.
/// Counts into the registry:
///   salama_outlier_ejections_total{node,reason}, salama_outlier_returns_total{node},
///   salama_outlier_ejected_hosts, salama_outlier_evaluations_total.
/// Hosts are tracked from add_host(), or on their first outcome.
template <balancing::health_controlled Balancer, clock Clock = steady_clock>
class outlier_monitor {
public:
    /// Subscribes to `lb`'s outcomes (`lb` must outlive the monitor), reading time from a
    /// default-constructed Clock. Throws config_error on invalid options.
    outlier_monitor(Balancer& lb, outlier_options opts, metrics_registry& registry, logger log = {})
        : outlier_monitor(lb, opts, registry, std::move(log), nullptr) {}

    /// As above, reading time from `clk` (which must outlive the monitor).
    outlier_monitor(Balancer& lb, outlier_options opts, metrics_registry& registry, logger log,
                    const Clock& clk)
        : outlier_monitor(lb, opts, registry, std::move(log), &clk) {}

    outlier_monitor(const outlier_monitor&) = delete;
    outlier_monitor& operator=(const outlier_monitor&) = delete;
    ~outlier_monitor() { sub_.reset(); }

    /// Tracks `id` (so that max_ejection_percent counts it before it sees traffic).
    result<void> add_host(std::string id) {
        std::lock_guard lk(mu_);
        return detector_.add_host(std::move(id));
    }
    /// Stops tracking `id`.
    result<void> remove_host(std::string_view id) {
        std::lock_guard lk(mu_);
        return detector_.remove_host(id);
    }

    /// Feeds one outcome; ejects the node from the balancer if it became an outlier.
    void observe(std::string_view node_id, bool success, time_point now) {
        std::optional<outlier_event> ev;
        {
            std::lock_guard lk(mu_);
            auto r = detector_.report(node_id, success, now);
            if (!r && r.error() == errc::not_found && !node_id.empty()) {
                (void)detector_.add_host(std::string(node_id));
                r = detector_.report(node_id, success, now);
            }
            if (r && *r) ev = std::move(**r);
        }
        if (ev) apply({*ev}, now);
    }

    /// One interval step at `now`: returns hosts whose time is up, runs the success-rate
    /// detector, and applies the result to the balancer. Returns what changed.
    std::vector<outlier_event> evaluate(time_point now) {
        std::vector<outlier_event> events;
        {
            std::lock_guard lk(mu_);
            events = detector_.evaluate(now);
        }
        evaluations_.inc();
        apply(events, now);
        return events;
    }

    /// Calls evaluate(clock.now()) every interval until the awaitable is cancelled. A step
    /// that throws is logged and survived.
    awaitable<void> run() {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (;;) {
            timer.expires_after(detector_.options().interval);
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            try {
                evaluate(clock_->now());
            } catch (const std::exception& e) {
                log_.error("outlier: evaluation failed: {}", e.what());
            }
        }
    }

    /// True if `id` is ejected now.
    bool ejected(std::string_view id) const {
        std::lock_guard lk(mu_);
        return detector_.ejected(id);
    }
    /// Every tracked host.
    std::vector<outlier_host> hosts() const {
        std::lock_guard lk(mu_);
        return detector_.hosts();
    }

private:
    outlier_monitor(Balancer& lb, outlier_options opts, metrics_registry& registry, logger log,
                    const Clock* clk)
        : lb_(lb),
          detector_(opts),
          clock_(clk ? clk : &own_clock_),
          log_(std::move(log)),
          ejections_(registry.counter("salama_outlier_ejections_total",
                                      "Hosts ejected by outlier detection, per node and reason.",
                                      {"node", "reason"})),
          returns_(registry.counter("salama_outlier_returns_total",
                                    "Ejected hosts returned to service, per node.", {"node"})),
          ejected_(registry.gauge("salama_outlier_ejected_hosts",
                                  "Hosts ejected by outlier detection now.").with({})),
          evaluations_(registry.counter("salama_outlier_evaluations_total",
                                        "Outlier detection sweeps run.").with({})) {
        sub_ = lb_.subscribe([this](const outcome_event& ev) {
            observe(ev.node_id, ev.result.success, ev.at);
        });
    }

    void apply(const std::vector<outlier_event>& events, time_point now) {
        for (const auto& e : events) {
            if (e.kind == outlier_event::kind_t::ejected) {
                ejections_.with({e.node_id, std::string(to_string(e.reason))}).inc();
                log_.warn("outlier: ejecting {} ({}) for {:.1f} s", e.node_id, to_string(e.reason),
                          to_seconds(e.until - now));
                if (auto r = lb_.eject(e.node_id, e.until, now); !r)
                    log_.warn("outlier: balancer refused to eject {}: {}", e.node_id, r.error().message());
            } else {
                returns_.with({e.node_id}).inc();
                log_.info("outlier: {} returns to service", e.node_id);
                if (auto r = lb_.uneject(e.node_id, now); !r)
                    log_.warn("outlier: balancer refused to return {}: {}", e.node_id, r.error().message());
            }
        }
        std::lock_guard lk(mu_);
        (void)ejected_.set(static_cast<double>(detector_.ejected_count()));
    }

    Balancer& lb_;
    mutable std::mutex mu_;
    outlier_detector detector_;
    Clock own_clock_{};
    const Clock* clock_;
    logger log_;
    counter_family& ejections_;
    counter_family& returns_;
    salama::gauge& ejected_;
    salama::counter& evaluations_;
    subscription sub_;
};

}  // namespace salama::balancing::health
