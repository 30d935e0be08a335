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
#include "salama/core/loop.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/telemetry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <concepts>
#include <memory>
#include <optional>
#include <functional>
#include <set>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salama::balancing::health {

/// A change handler for health_checker::on_change that marks nodes in `lb` healthy or
/// unhealthy, stamped with `clock.now()`. `lb` and the clock must outlive the handler. A node
/// the balancer does not know is logged and skipped.
template <balancing::health_controlled Balancer>
std::function<void(const health_change&)> apply_health_to(Balancer& lb, clock_ref clock, logger log = {}) {
    return [&lb, clock, log = std::move(log)](const health_change& c) {
        auto r = lb.set_health(c.node_id, c.to == health_status::healthy, clock.now());
        if (!r)
            log.warn("health: balancer refused {} for {}: {}", to_string(c.to), c.node_id,
                     r.error().message());
    };
}

/// Passive health for a balancer: subscribes to its outcomes, runs them through an
/// outlier_detector, ejects outliers from the balancer and returns them when their time is
/// up. Outcomes may arrive on any thread; what they cause (an ejection republishes the
/// balancer's tables) is applied on the monitor's strand, off the request path. `run()` (or
/// start()) is the interval loop; `evaluate(now)` is one step for callers that drive time
/// themselves (it also applies ejections still pending). It follows the library's loop model
/// and may be destroyed while its loop runs. Series (labelled `name`, the instance name; a
/// removed host's series go with it):
///   salama_outlier_ejections_total{node,reason}, salama_outlier_returns_total{node},
///   salama_outlier_ejected_hosts, salama_outlier_evaluations_total.
/// Hosts are tracked from add_host(), or on their first outcome; a host no longer in the
/// balancer is forgotten at the next evaluate().
template <balancing::health_controlled Balancer>
class outlier_monitor {
public:
    /// Subscribes to `lb`'s outcomes (`lb` must outlive the monitor's loop). Throws
    /// config_error on invalid options or an empty instance name.
    outlier_monitor(asio::any_io_executor ex, Balancer& lb, outlier_options opts = {}, telemetry tel = {},
                    clock_ref clock = {})
        : loop_(std::move(ex)),
          impl_(std::make_shared<impl>(loop_.executor(), lb, std::move(opts), std::move(tel), clock)) {
        sub_ = lb.subscribe([self = impl_](const outcome_event& ev) {
            self->observe(ev.node_id, ev.result.success, ev.at);
        });
    }

    outlier_monitor(const outlier_monitor&) = delete;
    outlier_monitor& operator=(const outlier_monitor&) = delete;
    /// Unsubscribes and stops the loop.
    ~outlier_monitor() {
        impl_->closed.store(true, std::memory_order_release);
        sub_.reset();
        loop_.stop();
    }

    /// Tracks `id` (so that max_ejection_percent counts it before it sees traffic).
    result<void> add_host(std::string id) {
        std::lock_guard lk(impl_->mu);
        return impl_->detector.add_host(std::move(id));
    }
    /// Stops tracking `id` (a node that left the balancer) and removes its series.
    result<void> remove_host(std::string_view id) {
        std::lock_guard lk(impl_->mu);
        auto r = impl_->detector.remove_host(id);
        if (r) {
            impl_->ejections.remove("node", id);
            impl_->returns.remove("node", id);
        }
        return r;
    }

    /// Feeds one outcome. If the host became an outlier, its ejection is applied on the
    /// monitor's strand (or by the next evaluate()).
    void observe(std::string_view node_id, bool success, time_point now) { impl_->observe(node_id, success, now); }

    /// One interval step at `now`: applies pending ejections, returns hosts whose time is
    /// up, runs the success-rate detector, and applies the result to the balancer. Returns
    /// what changed (pending ejections first).
    std::vector<outlier_event> evaluate(time_point now) { return impl_->evaluate(now); }

    /// Calls evaluate(clock.now()) every interval until the awaitable is cancelled. A step
    /// that throws is logged, counted and survived.
    awaitable<void> run() { return asio::co_spawn(loop_.executor(), impl::loop(impl_), asio::use_awaitable); }
    /// Starts run() on the monitor's strand, unless a loop started here still runs.
    bool start() {
        return loop_.start([self = impl_] { return impl::loop(self); });
    }
    /// Stops the loop started by start(). Safe from any thread.
    void stop() noexcept { loop_.stop(); }
    /// True from start() until that loop has ended.
    bool running() const noexcept { return loop_.running(); }

    /// True if `id` is ejected now.
    bool ejected(std::string_view id) const {
        std::lock_guard lk(impl_->mu);
        return impl_->detector.ejected(id);
    }
    /// Every tracked host.
    std::vector<outlier_host> hosts() const {
        std::lock_guard lk(impl_->mu);
        return impl_->detector.hosts();
    }

private:
    struct pending_event {
        outlier_event event;
        time_point at;
    };

    struct impl : std::enable_shared_from_this<impl> {
        impl(loop_executor e, Balancer& b, outlier_options o, telemetry t, clock_ref c)
            : ex(std::move(e)), lb(&b), detector(o), tel(std::move(t), "outlier_monitor.telemetry"), clock(c),
              ejections(tel.counter("salama_outlier_ejections_total",
                                    "Hosts ejected by outlier detection, per node and reason.", {"node", "reason"})),
              returns(tel.counter("salama_outlier_returns_total", "Ejected hosts returned to service, per node.",
                                  {"node"})),
              ejected_hosts(tel.gauge("salama_outlier_ejected_hosts", "Hosts ejected by outlier detection now.")
                                .with()),
              evaluations(tel.counter("salama_outlier_evaluations_total", "Outlier detection sweeps run.").with()),
              errors(tel.counter("salama_outlier_errors_total", "Outlier detection steps that failed and were survived.")
                         .with()) {}

        void observe(std::string_view node_id, bool success, time_point now) {
            bool schedule = false;
            {
                std::lock_guard lk(mu);
                auto r = detector.report(node_id, success, now);
                if (!r && r.error() == errc::not_found && !node_id.empty()) {
                    (void)detector.add_host(std::string(node_id));
                    r = detector.report(node_id, success, now);
                }
                if (r && *r) {
                    pending.push_back({std::move(**r), now});
                    schedule = !drain_scheduled;
                    drain_scheduled = true;
                }
            }
            if (schedule) {
                // Rare (an ejection), and off the caller's path: the republish runs on the strand.
                try {
                    asio::post(ex, [self = this->weak_from_this()] {
                        auto s = self.lock();
                        if (s && !s->closed.load(std::memory_order_acquire)) s->apply(s->take_pending());
                    });
                } catch (...) {
                    // The executor is gone: the next evaluate() applies it.
                }
            }
        }

        std::vector<pending_event> take_pending() {
            std::lock_guard lk(mu);
            drain_scheduled = false;
            return std::exchange(pending, {});
        }

        std::vector<outlier_event> evaluate(time_point now) {
            forget_removed(now);
            auto events = take_pending();
            std::vector<outlier_event> swept;
            {
                std::lock_guard lk(mu);
                swept = detector.evaluate(now);
            }
            (void)evaluations.inc();
            for (auto& e : swept) events.push_back({std::move(e), now});
            apply(events);
            std::vector<outlier_event> out;
            out.reserve(events.size());
            for (auto& e : events) out.push_back(std::move(e.event));
            return out;
        }

        // Hosts that left the balancer are forgotten with their series: kept, they would
        // inflate the max_ejection_percent denominator and let more live hosts be ejected.
        void forget_removed(time_point now) {
            std::set<std::string, std::less<>> present;
            for (auto& n : lb->nodes(now)) present.insert(std::move(n.id));
            std::lock_guard lk(mu);
            for (const auto& h : detector.hosts()) {
                if (present.count(h.node_id) != 0) continue;
                (void)detector.remove_host(h.node_id);
                ejections.remove("node", h.node_id);
                returns.remove("node", h.node_id);
            }
        }

        void apply(const std::vector<pending_event>& events) {
            for (const auto& [e, now] : events) {
                if (e.kind == outlier_event::kind_t::ejected) {
                    (void)ejections.with({e.node_id, to_string(e.reason)}).inc();
                    tel.log().warn("outlier {}: ejecting {} ({}) for {:.1f} s", tel.name(), e.node_id,
                                   to_string(e.reason), to_seconds(e.until - now));
                    if (auto r = lb->eject(e.node_id, e.until, now); !r)
                        tel.log().warn("outlier {}: balancer refused to eject {}: {}", tel.name(), e.node_id,
                                       r.error().message());
                } else {
                    (void)returns.with({e.node_id}).inc();
                    tel.log().info("outlier {}: {} returns to service", tel.name(), e.node_id);
                    if (auto r = lb->uneject(e.node_id, now); !r)
                        tel.log().warn("outlier {}: balancer refused to return {}: {}", tel.name(), e.node_id,
                                       r.error().message());
                }
            }
            std::lock_guard lk(mu);
            (void)ejected_hosts.set(static_cast<double>(detector.ejected_count()));
        }

        static awaitable<void> loop(std::shared_ptr<impl> self) {
            co_await asio::this_coro::throw_if_cancelled(false);
            asio::steady_timer timer(self->ex);
            while (co_await wait_for(timer, self->detector.options().interval)) {
                if (self->closed.load(std::memory_order_acquire)) break;
                try {
                    (void)self->evaluate(self->clock.now());
                } catch (const std::exception& e) {
                    (void)self->errors.inc();
                    self->tel.log().error("outlier {}: evaluation failed: {}", self->tel.name(), e.what());
                }
            }
        }

        loop_executor ex;
        Balancer* lb;
        mutable std::mutex mu;
        outlier_detector detector;
        bound_telemetry tel;
        clock_ref clock;
        instance_family<salama::counter> ejections;
        instance_family<salama::counter> returns;
        salama::gauge& ejected_hosts;
        salama::counter& evaluations;
        salama::counter& errors;
        std::vector<pending_event> pending;
        bool drain_scheduled = false;  // a posted drain (weak: it neither keeps nor outlives us)
        std::atomic<bool> closed{false};  // the monitor is gone: apply nothing more
    };

    loop_runner loop_;
    std::shared_ptr<impl> impl_;
    subscription sub_;
};

}  // namespace salama::balancing::health
