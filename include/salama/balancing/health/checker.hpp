// salama: the active health checker: probes every target each interval and turns results
// into healthy/unhealthy transitions (rise/fall), counted, logged and reported.
#pragma once

#include "salama/balancing/health/health.hpp"
#include "salama/balancing/health/state_machine.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/log.hpp"
#include "salama/core/metrics_registry.hpp"
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

    /// Throws config_error naming the first invalid field.
    void validate() const {
        validator v{"health_check_options"};
        v.positive("interval", to_seconds(interval));
        v.non_negative("jitter", to_seconds(jitter));
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
/// round); `run()` repeats rounds every interval until its awaitable is cancelled. Each round
/// counts into the registry:
///   salama_health_checks_total{node}, salama_health_check_failures_total{node,reason},
///   salama_health_transitions_total{node,to}, salama_health_node_healthy{node},
///   salama_health_check_duration_seconds, salama_health_check_rounds_total,
///   salama_health_check_errors_total (rounds that threw and were survived).
/// Targets may be added and removed from any thread; rounds must not overlap (do not call
/// check_once() while run() is active). The checker must outlive the coroutines it starts;
/// probes still in flight after a cancellation finish within their own timeout.
template <health_probe Probe>
class health_checker {
public:
    /// Called once per transition, on the executor that runs the round.
    using change_handler = std::function<void(const health_change&)>;

    /// Throws config_error on invalid options.
    health_checker(Probe probe, health_check_options opts, metrics_registry& registry,
                   logger log = {})
        : probe_(std::make_shared<Probe>(std::move(probe))),
          opts_(std::move(opts)),
          log_(std::move(log)),
          checks_(registry.counter("salama_health_checks_total",
                                   "Active health checks run, per node.", {"node"})),
          failures_(registry.counter("salama_health_check_failures_total",
                                     "Active health checks that failed, per node and reason.",
                                     {"node", "reason"})),
          transitions_(registry.counter("salama_health_transitions_total",
                                        "Health status changes, per node and new status.",
                                        {"node", "to"})),
          healthy_(registry.gauge("salama_health_node_healthy",
                                  "1 while a node passes its active health checks, else 0.",
                                  {"node"})),
          latency_(registry.histogram("salama_health_check_duration_seconds",
                                      "Duration of active health checks that reached the node.")
                       .with({})),
          rounds_(registry.counter("salama_health_check_rounds_total",
                                   "Rounds of active health checks completed.").with({})),
          errors_(registry.counter("salama_health_check_errors_total",
                                   "Rounds of active health checks that failed and were survived.")
                      .with({})) {
        opts_.validate();
        std::random_device rd;
        rng_.seed(opts_.jitter_seed != 0 ? opts_.jitter_seed
                                         : (std::uint64_t{rd()} << 32) ^ std::uint64_t{rd()});
    }

    health_checker(const health_checker&) = delete;
    health_checker& operator=(const health_checker&) = delete;

    /// Sets the function told about every transition (replaces the previous one).
    void on_change(change_handler h) {
        std::lock_guard lk(mu_);
        handler_ = std::move(h);
    }

    /// Registers `t` in the initial status. Throws config_error on an invalid target;
    /// returns errc::duplicate_id if its id is taken.
    result<void> add_target(health_target t) {
        validate(t);
        std::lock_guard lk(mu_);
        if (entries_.count(t.id) != 0) return make_error_code(errc::duplicate_id);
        const std::string id = t.id;
        entries_.emplace(id, entry{std::move(t), health_state_machine(opts_.thresholds, opts_.initial), {}});
        (void)healthy_.with({id}).set(opts_.initial == health_status::healthy ? 1.0 : 0.0);
        return {};
    }

    /// Stops checking the target `id` (its healthy gauge drops to 0); errc::not_found if
    /// there is none.
    result<void> remove_target(std::string_view id) {
        std::lock_guard lk(mu_);
        auto it = entries_.find(id);
        if (it == entries_.end()) return make_error_code(errc::not_found);
        (void)healthy_.with({it->first}).set(0.0);
        entries_.erase(it);
        return {};
    }

    /// The status of target `id`; errc::not_found if there is none.
    result<health_status> status(std::string_view id) const {
        std::lock_guard lk(mu_);
        auto it = entries_.find(id);
        if (it == entries_.end()) return make_error_code(errc::not_found);
        return it->second.machine.status();
    }

    /// Every target with its health, ordered by id.
    std::vector<target_health> targets() const {
        std::lock_guard lk(mu_);
        std::vector<target_health> out;
        out.reserve(entries_.size());
        for (const auto& [id, e] : entries_)
            out.push_back({e.target, e.machine.status(), e.machine.consecutive_successes(),
                           e.machine.consecutive_failures(), e.last_result});
        return out;
    }

    /// Runs one round: probes all targets concurrently, waits for every probe, applies the
    /// results, reports transitions. Throws only if cancelled while waiting.
    awaitable<check_round> check_once() {
        auto ex = co_await asio::this_coro::executor;
        auto st = std::make_shared<round_state>(ex, probe_);
        {
            std::lock_guard lk(mu_);
            for (const auto& [id, e] : entries_) st->targets.push_back(e.target);
        }
        const std::size_t n = st->targets.size();
        st->outcomes.resize(n);
        st->done = std::make_unique<channel>(ex, n == 0 ? 1 : n);
        for (std::size_t i = 0; i < n; ++i) asio::co_spawn(ex, probe_one(st, i), asio::detached);
        for (std::size_t i = 0; i < n; ++i) co_await st->done->async_receive(asio::use_awaitable);

        check_round round;
        round.probed = n;
        change_handler handler;
        {
            std::lock_guard lk(mu_);
            handler = handler_;
            for (std::size_t i = 0; i < n; ++i) {
                const auto& t = st->targets[i];
                const auto& o = st->outcomes[i];
                checks_.with({t.id}).inc();
                if (o.success) {
                    ++round.succeeded;
                    (void)latency_.observe(to_seconds(o.latency));
                } else {
                    ++round.failed;
                    failures_.with({t.id, o.reason}).inc();
                    log_.debug("health: check of {} failed: {}", t.id, o.detail);
                }
                auto it = entries_.find(t.id);
                if (it == entries_.end()) continue;  // removed during the round
                it->second.last_result = o.detail;
                const auto before = it->second.machine.status();
                if (auto to = it->second.machine.record(o.success)) {
                    round.changes.push_back({t.id, before, *to, o.detail});
                    transitions_.with({t.id, std::string(to_string(*to))}).inc();
                    (void)healthy_.with({t.id}).set(*to == health_status::healthy ? 1.0 : 0.0);
                }
            }
        }
        rounds_.inc();
        for (const auto& c : round.changes) {
            log_.info("health: node {} {} -> {} ({})", c.node_id, to_string(c.from),
                      to_string(c.to), c.reason);
            if (handler) handler(c);
        }
        co_return round;
    }

    /// Runs rounds every interval (plus jitter) until the awaitable is cancelled. A round
    /// that throws is logged, counted and survived.
    awaitable<void> run() {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (;;) {
            const auto started = std::chrono::steady_clock::now();
            bool cancelled = false;
            try {
                co_await check_once();
            } catch (const boost::system::system_error& e) {
                // Cancelled while waiting on a timer or on the round's probes: stopping, not failing.
                if (e.code() == asio::error::operation_aborted ||
                    e.code() == asio::experimental::error::channel_cancelled) {
                    cancelled = true;
                } else {
                    errors_.inc();
                    log_.error("health: round failed: {}", e.what());
                }
            } catch (const std::exception& e) {
                errors_.inc();
                log_.error("health: round failed: {}", e.what());
            }
            if (cancelled) co_return;
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none) co_return;
            timer.expires_at(started + next_wait());
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
        }
    }

    /// The options in force.
    const health_check_options& options() const noexcept { return opts_; }

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

    // Shared by the round and its probes, so that probes still in flight after the round
    // was cancelled write into memory that is still alive.
    struct round_state {
        round_state(asio::any_io_executor, std::shared_ptr<Probe> p) : probe(std::move(p)) {}
        std::shared_ptr<Probe> probe;
        std::vector<health_target> targets;
        std::vector<outcome> outcomes;
        std::unique_ptr<channel> done;
    };

    static std::string reason_of(const error_code& ec) {
        if (ec == errc::timeout) return "timeout";
        if (ec == errc::connection_failed) return "connection_failed";
        if (ec == errc::protocol_error) return "protocol_error";
        if (ec == errc::cancelled) return "cancelled";
        return "error";
    }

    static awaitable<void> probe_one(std::shared_ptr<round_state> st, std::size_t i) {
        outcome o;
        try {
            result<health> r = co_await st->probe->check(st->targets[i]);
            if (!r) {
                o.reason = reason_of(r.error());
                o.detail = r.error().message();
            } else {
                o.success = r->healthy;
                o.latency = r->latency;
                o.reason = r->healthy ? "" : "unhealthy";
                o.detail = r->detail;
            }
        } catch (const std::exception& e) {
            o.reason = "exception";
            o.detail = e.what();
        } catch (...) {
            o.reason = "exception";
            o.detail = "unknown exception";
        }
        st->outcomes[i] = std::move(o);
        st->done->try_send(error_code{});
    }

    duration next_wait() {
        if (opts_.jitter.count() <= 0) return opts_.interval;
        std::uniform_int_distribution<duration::rep> d(0, opts_.jitter.count());
        return opts_.interval + duration{d(rng_)};
    }

    std::shared_ptr<Probe> probe_;
    health_check_options opts_;
    logger log_;
    counter_family& checks_;
    counter_family& failures_;
    counter_family& transitions_;
    gauge_family& healthy_;
    salama::histogram& latency_;
    salama::counter& rounds_;
    salama::counter& errors_;
    std::mt19937_64 rng_;
    mutable std::mutex mu_;
    std::map<std::string, entry, std::less<>> entries_;
    change_handler handler_;
};

}  // namespace salama::balancing::health
