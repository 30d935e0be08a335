// salama: the active health checker: probes every target each interval and turns results
// into healthy/unhealthy transitions (rise/fall), counted, logged and reported. It follows
// the library's loop model (core/loop.hpp).
#pragma once

#include "salama/balancing/health/health.hpp"
#include "salama/balancing/health/state_machine.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/log.hpp"
#include "salama/core/loop.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/telemetry.hpp"
#include "salama/core/validation.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salama::balancing::health {

/// Options of health_checker. Defaults are HAProxy's: every 2 s, rise 2, fall 3.
struct health_check_options {
    duration interval = std::chrono::seconds(2);  ///< time between the starts of two rounds
    duration jitter{};                 ///< each wait is interval + uniform [0, jitter]
    health_thresholds thresholds{};    ///< consecutive results that flip a node
    health_status initial = health_status::unhealthy;  ///< status of a newly added target
    std::uint64_t jitter_seed = 0;     ///< seed of the jitter; 0 draws one from the system
    /// The deadline of one probe, on top of the probe's own timeout: a probe still running
    /// then is abandoned and counts as a "timeout" failure.
    duration probe_deadline = std::chrono::seconds(10);
    /// The most probes running at once, within [1, 65536]; the others of a round wait for a
    /// free slot, so a round over many targets holds a bounded number of sockets.
    std::size_t max_in_flight = 64;
    /// The deadline of a whole round, within (0, 1e9] seconds: probes still running then are
    /// cancelled and probes not yet started are skipped, each counting as a "timeout"
    /// failure. Many slow targets therefore cannot stretch a round without bound.
    duration round_deadline = std::chrono::seconds(30);

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator v{"health_check_options"};
        v.positive("interval", to_seconds(interval));
        v.duration_range("interval", interval);
        v.non_negative("jitter", to_seconds(jitter));
        v.duration_range("jitter", jitter);
        v.positive("probe_deadline", to_seconds(probe_deadline));
        v.duration_range("probe_deadline", probe_deadline);
        v.check(max_in_flight >= 1 && max_in_flight <= 65536, "max_in_flight",
                fmt::format("must be within [1, 65536], got {}", max_in_flight));
        v.positive("round_deadline", to_seconds(round_deadline));
        v.duration_range("round_deadline", round_deadline);
        v.throw_if_failed();
        thresholds.validate("health_check_options.thresholds");
    }
};

/// A node whose health status changed.
struct health_change {
    std::string node_id{};   ///< the target's id
    health_status from{};    ///< status before
    health_status to{};      ///< status after
    std::string reason{};    ///< the result that tipped it, e.g. "status 503 not expected"
};

/// What one round of checks did.
struct check_round {
    std::size_t probed = 0;       ///< targets probed
    std::size_t succeeded = 0;    ///< probes that found the node healthy
    std::size_t failed = 0;       ///< probes that failed (unhealthy answer, error or exception)
    std::vector<health_change> changes{};  ///< transitions this round caused
};

/// A target with its current health, as reported by health_checker::targets().
struct target_health {
    health_target target{};                  ///< the target
    health_status status{};                  ///< its status
    std::uint32_t consecutive_successes = 0;   ///< current success streak
    std::uint32_t consecutive_failures = 0;    ///< current failure streak
    std::string last_result{};               ///< what the last probe said ("" before the first)
};

/// Probes every registered target concurrently once per round and feeds each result into
/// that target's health_state_machine. `check_once()` runs one round (tests drive it round by
/// round); `run()` repeats rounds every interval until its awaitable is cancelled; `start()`
/// and `stop()` run that loop on the checker's own strand. The checker may be destroyed while
/// its loop or a round runs (they end at their next resumption; probes still in flight are
/// cancelled). Each round counts into the registry (every series labelled `name`, the
/// telemetry's instance name; a removed target's series are removed with it):
///   salama_health_checks_total{node}, salama_health_check_failures_total{node,reason},
///   salama_health_transitions_total{node,to}, salama_health_node_healthy{node},
///   salama_health_check_duration_seconds, salama_health_check_rounds_total,
///   salama_health_check_errors_total (rounds that failed and were survived).
/// Targets may be added and removed from any thread; rounds never overlap.
template <health_probe Probe>
class health_checker {
public:
    /// Called once per transition, on the checker's strand.
    using change_handler = std::function<void(const health_change&)>;

    /// Throws config_error on invalid options or an empty instance name.
    health_checker(asio::any_io_executor ex, Probe probe, health_check_options opts = {}, telemetry tel = {})
        : loop_(std::move(ex)), impl_(std::make_shared<impl>(loop_.executor(), std::move(probe), std::move(opts),
                                                             std::move(tel))) {}

    health_checker(const health_checker&) = delete;
    health_checker& operator=(const health_checker&) = delete;

    /// Stops the loop; waits for a change handler running on another thread and calls it no
    /// more.
    ~health_checker() {
        loop_.stop();
        std::lock_guard lk(impl_->handler_mu);
        impl_->handler = nullptr;
    }

    /// Sets the function told about every transition (replaces the previous one). A handler
    /// that throws is logged and counted as a round error; the loop goes on.
    void on_change(change_handler h) {
        std::lock_guard lk(impl_->handler_mu);
        impl_->handler = std::move(h);
    }

    /// Registers `t` in the initial status. errc::invalid_argument (the detail names the
    /// field) for a target without id, host or port; errc::duplicate_id if its id is taken.
    result<void> add_target(health_target t) {
        if (auto bad = check_target(t)) return *bad;
        std::lock_guard lk(impl_->mu);
        if (impl_->entries.count(t.id) != 0)
            return error(errc::duplicate_id, fmt::format("health target '{}' is already registered", t.id));
        const std::string id = t.id;
        impl_->entries.emplace(id, entry{std::move(t), health_state_machine(impl_->opts.thresholds, impl_->opts.initial), {}});
        (void)impl_->healthy.with({id}).set(impl_->opts.initial == health_status::healthy ? 1.0 : 0.0);
        return {};
    }

    /// Stops checking the target `id` and removes its series; errc::not_found if there is
    /// none.
    result<void> remove_target(std::string_view id) {
        std::lock_guard lk(impl_->mu);
        auto it = impl_->entries.find(id);
        if (it == impl_->entries.end()) return error(errc::not_found, fmt::format("no health target '{}'", id));
        impl_->entries.erase(it);
        impl_->forget_series(id);
        return {};
    }

    /// The status of target `id`; errc::not_found if there is none.
    result<health_status> status(std::string_view id) const {
        std::lock_guard lk(impl_->mu);
        auto it = impl_->entries.find(id);
        if (it == impl_->entries.end()) return error(errc::not_found, fmt::format("no health target '{}'", id));
        return it->second.machine.status();
    }

    /// Every target with its health, ordered by id.
    std::vector<target_health> targets() const {
        std::lock_guard lk(impl_->mu);
        std::vector<target_health> out;
        out.reserve(impl_->entries.size());
        for (const auto& [id, e] : impl_->entries)
            out.push_back({e.target, e.machine.status(), e.machine.consecutive_successes(),
                           e.machine.consecutive_failures(), e.last_result});
        return out;
    }

    /// Runs one round on the checker's strand: probes all targets concurrently (at most
    /// max_in_flight at once, each within probe_deadline, all within round_deadline), waits
    /// for every probe, applies the results, reports transitions.
    /// Cancelled, it applies nothing and cancels the probes in flight.
    awaitable<check_round> check_once() {
        return asio::co_spawn(loop_.executor(), impl::round(impl_), asio::use_awaitable);
    }

    /// Runs rounds every interval (plus jitter) until the awaitable is cancelled. A round
    /// that fails is logged, counted and survived.
    awaitable<void> run() { return asio::co_spawn(loop_.executor(), impl::loop(impl_), asio::use_awaitable); }

    /// Starts run() on the checker's strand, unless a loop started here still runs.
    bool start() {
        return loop_.start([self = impl_] { return impl::loop(self); });
    }
    /// Stops the loop started by start(). Safe from any thread.
    void stop() noexcept { loop_.stop(); }
    /// True from start() until that loop has ended.
    bool running() const noexcept { return loop_.running(); }

    /// The options in force.
    const health_check_options& options() const noexcept { return impl_->opts; }

private:
    using channel = asio::experimental::concurrent_channel<void(error_code)>;

    struct entry {
        health_target target;
        health_state_machine machine;
        std::string last_result;
    };

    struct outcome {
        bool success = false;
        duration latency{};
        std::string reason;  // failure label value
        std::string detail;  // for logs and health_change::reason
    };

    static std::optional<error> check_target(const health_target& t) {
        validator v{"health_target"};
        v.non_empty("id", t.id);
        v.non_empty("host", t.host);
        v.check(t.port != 0, "port", "must be within [1, 65535], got 0");
        if (v.ok()) return std::nullopt;
        return error(errc::invalid_argument, v.error()->message());
    }

    // Shared by one round and its probes: probes still in flight after the round ended
    // write into memory that is still alive.
    struct round_state {
        // One slot per probe and one for the round's deadline: a send never finds it full.
        round_state(const loop_executor& ex, std::size_t n)
            : done(ex, n + 1), deadline(ex), cancels(n), outcomes(n), finished(n, false) {}
        std::vector<health_target> targets;
        channel done;
        asio::steady_timer deadline;
        bool deadline_passed = false;
        std::vector<asio::cancellation_signal> cancels;  // one per probe; touched on the strand
        std::vector<outcome> outcomes;
        std::vector<bool> finished;  // touched on the strand
    };

    struct impl {
        impl(loop_executor e, Probe p, health_check_options o, telemetry t)
            : ex(std::move(e)), probe(std::make_shared<Probe>(std::move(p))), opts((o.validate(), std::move(o))),
              tel(std::move(t), "health_checker.telemetry"),
              checks(tel.counter("salama_health_checks_total", "Active health checks run, per node.", {"node"})),
              failures(tel.counter("salama_health_check_failures_total",
                                   "Active health checks that failed, per node and reason.", {"node", "reason"})),
              transitions(tel.counter("salama_health_transitions_total",
                                      "Health status changes, per node and new status.", {"node", "to"})),
              healthy(tel.gauge("salama_health_node_healthy",
                                "1 while a node passes its active health checks, else 0.", {"node"})),
              latency(tel.histogram("salama_health_check_duration_seconds",
                                    "Duration of active health checks that reached the node.")
                          .with()),
              rounds(tel.counter("salama_health_check_rounds_total", "Rounds of active health checks completed.")
                         .with()),
              errors(tel.counter("salama_health_check_errors_total",
                                 "Rounds of active health checks that failed and were survived.")
                         .with()) {
            std::random_device rd;
            rng.seed(opts.jitter_seed != 0 ? opts.jitter_seed : (std::uint64_t{rd()} << 32) ^ std::uint64_t{rd()});
        }

        // Called with mu held.
        void forget_series(std::string_view id) {
            checks.remove("node", id);
            failures.remove("node", id);
            transitions.remove("node", id);
            healthy.remove("node", id);
        }

        static std::string reason_of(const error_code& ec) {
            if (ec == condition::timeout) return "timeout";
            if (ec == condition::connection_failed) return "connection_failed";
            if (ec == condition::protocol_error) return "protocol_error";
            if (ec == condition::cancelled) return "cancelled";
            return "error";
        }

        static awaitable<void> probe_one(std::shared_ptr<impl> self, std::shared_ptr<round_state> st, std::size_t i) {
            outcome o;
            result<health> r = co_await call_with_deadline(self->ex, self->probe->check(st->targets[i]),
                                                           self->opts.probe_deadline, errc::user_code_threw);
            if (!r) {
                // A probe that threw is told apart: its own bug, not the node's.
                o.reason = r.error() == errc::user_code_threw ? "exception" : reason_of(r.error());
                o.detail = r.error().message();
            } else {
                o.success = r->healthy;
                o.latency = r->latency;
                o.reason = r->healthy ? "" : "unhealthy";
                o.detail = r->detail;
            }
            if (st->finished[i]) co_return;  // the round's deadline already counted it
            st->outcomes[i] = std::move(o);
            st->finished[i] = true;
            st->done.try_send(error_code{});
        }

        static awaitable<void> round_timer(std::shared_ptr<round_state> st, duration limit) {
            st->deadline.expires_after(limit);
            auto [ec] = co_await st->deadline.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;  // the round ended first
            st->deadline_passed = true;
            st->done.try_send(error_code{});
        }

        static awaitable<check_round> round(std::shared_ptr<impl> self) {
            co_await asio::this_coro::throw_if_cancelled(false);
            impl& s = *self;
            std::vector<health_target> targets;
            {
                std::lock_guard lk(s.mu);
                for (const auto& [id, e] : s.entries) targets.push_back(e.target);
            }
            const std::size_t n = targets.size();
            auto st = std::make_shared<round_state>(s.ex, n);
            st->targets = std::move(targets);
            // At most max_in_flight probes run at once; each one that ends starts the next.
            std::size_t started = 0;
            auto launch = [&](std::size_t running) {
                while (started < n && running < s.opts.max_in_flight) {
                    asio::co_spawn(s.ex, probe_one(self, st, started),
                                   asio::bind_cancellation_slot(st->cancels[started].slot(), asio::detached));
                    ++started;
                    ++running;
                }
            };
            launch(0);
            if (n > 0) asio::co_spawn(s.ex, round_timer(st, s.opts.round_deadline), asio::detached);
            check_round out;
            for (std::size_t done = 0; done < n;) {
                auto [ec] = co_await st->done.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec || co_await cancelled_here()) {
                    // Stopped: cancel the probes in flight (they end within their deadline at
                    // the latest) and apply nothing.
                    st->deadline.cancel();
                    for (auto& c : st->cancels) c.emit(asio::cancellation_type::terminal);
                    throw boost::system::system_error(asio::error::operation_aborted);
                }
                if (st->deadline_passed) {
                    // Cancel what runs, skip what waits: both count as timeouts.
                    for (std::size_t i = 0; i < n; ++i) {
                        if (st->finished[i]) continue;
                        st->finished[i] = true;
                        st->outcomes[i] = outcome{false, {}, "timeout",
                                                  fmt::format("the round's deadline ({:g}s) passed {}",
                                                              to_seconds(s.opts.round_deadline),
                                                              i < started ? "while probing" : "before the probe started")};
                        if (i < started) st->cancels[i].emit(asio::cancellation_type::terminal);
                    }
                    break;
                }
                ++done;
                launch(started - done);
            }
            st->deadline.cancel();
            s.apply(*st, out);
            co_return out;
        }

        void apply(const round_state& st, check_round& round) {
            round.probed = st.targets.size();
            {
                std::lock_guard lk(mu);
                for (std::size_t i = 0; i < st.targets.size(); ++i) {
                    const auto& t = st.targets[i];
                    const auto& o = st.outcomes[i];
                    if (o.success) ++round.succeeded;
                    else ++round.failed;
                    auto it = entries.find(t.id);
                    if (it == entries.end()) continue;  // removed during the round: its series are gone
                    (void)checks.with({t.id}).inc();
                    if (o.success) {
                        (void)latency.observe(to_seconds(o.latency));
                    } else {
                        (void)failures.with({t.id, o.reason}).inc();
                        tel.log().debug("health {}: check of {} failed: {}", tel.name(), t.id, o.detail);
                    }
                    it->second.last_result = o.detail;
                    const auto before = it->second.machine.status();
                    if (auto to = it->second.machine.record(o.success)) {
                        round.changes.push_back({t.id, before, *to, o.detail});
                        (void)transitions.with({t.id, to_string(*to)}).inc();
                        (void)healthy.with({t.id}).set(*to == health_status::healthy ? 1.0 : 0.0);
                    }
                }
            }
            (void)rounds.inc();
            for (const auto& c : round.changes)
                tel.log().info("health {}: node {} {} -> {} ({})", tel.name(), c.node_id, to_string(c.from),
                               to_string(c.to), c.reason);
            std::lock_guard lk(handler_mu);
            if (!handler) return;
            auto h = handler;  // the handler may replace itself or destroy the checker
            for (const auto& c : round.changes) {
                try {
                    h(c);
                } catch (const std::exception& e) {
                    (void)errors.inc();
                    tel.log().error("health {}: change handler threw: {}", tel.name(), e.what());
                }
            }
        }

        static awaitable<void> loop(std::shared_ptr<impl> self) {
            co_await asio::this_coro::throw_if_cancelled(false);
            asio::steady_timer timer(self->ex);
            for (;;) {
                const auto started = std::chrono::steady_clock::now();  // paces real probes only
                std::string failure;
                try {
                    (void)co_await round(self);
                } catch (const std::exception& e) {
                    failure = e.what();
                }
                if (co_await cancelled_here()) co_return;
                if (!failure.empty()) {
                    (void)self->errors.inc();
                    self->tel.log().error("health {}: round failed: {}", self->tel.name(), failure);
                }
                const auto elapsed = std::chrono::steady_clock::now() - started;
                const auto wait = self->next_wait() - elapsed;
                if (!co_await wait_for(timer, wait.count() > 0 ? wait : duration::zero())) co_return;
            }
        }

        duration next_wait() {
            if (opts.jitter.count() <= 0) return opts.interval;
            std::uniform_int_distribution<duration::rep> d(0, opts.jitter.count());
            return opts.interval + duration{d(rng)};
        }

        loop_executor ex;
        std::shared_ptr<Probe> probe;
        health_check_options opts;
        bound_telemetry tel;
        instance_family<salama::counter> checks;
        instance_family<salama::counter> failures;
        instance_family<salama::counter> transitions;
        instance_family<salama::gauge> healthy;
        salama::histogram& latency;
        salama::counter& rounds;
        salama::counter& errors;
        std::mt19937_64 rng;
        mutable std::mutex mu;
        std::map<std::string, entry, std::less<>> entries;
        std::recursive_mutex handler_mu;
        change_handler handler;
    };

    loop_runner loop_;
    std::shared_ptr<impl> impl_;
};

}  // namespace salama::balancing::health
