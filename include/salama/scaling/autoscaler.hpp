// salama: the autoscaler shell. An Asio coroutine loop on the user's executor: every
// period it reads the metric source, asks each target's recommender for a decision and
// applies it through the actuator for the target's resource type. Every step is isolated:
// a failure is logged, counted and survived, and a failed apply leaves the recommender's
// state as it was, so the next tick retries it (still clamped to max_replicas).
#pragma once

#include "salama/core/actuator.hpp"
#include "salama/core/async.hpp"
#include "salama/core/clock.hpp"
#include "salama/core/error.hpp"
#include "salama/core/log.hpp"
#include "salama/core/metric_source.hpp"
#include "salama/core/metrics_registry.hpp"
#include "salama/core/validation.hpp"
#include "salama/scaling/decision.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <fmt/format.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace salama::scaling {

/// A source of wall-clock time (for scheduled minimums): the shell reads it, the core does not.
template <class W>
concept wall_clock = requires(const W& w) {
    { w.now() } -> std::same_as<std::chrono::sys_seconds>;
};

/// The system's wall clock, to the second.
struct system_wall_clock {
    /// The current UTC time.
    std::chrono::sys_seconds now() const {
        return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    }
};

/// A wall clock fixed by the caller (tests, replays): returns what it was last set to.
class manual_wall_clock {
public:
    /// Starts at `t`.
    explicit manual_wall_clock(std::chrono::sys_seconds t = {}) : t_(t) {}
    std::chrono::sys_seconds now() const noexcept { return t_; }
    /// Sets the time.
    void set(std::chrono::sys_seconds t) noexcept { t_ = t; }

private:
    std::chrono::sys_seconds t_;
};

/// Refers to a clock owned elsewhere (a manual_clock a test advances), so the shell can
/// hold it by value.
template <class C>
class clock_ref {
public:
    /// Refers to `c`, which must outlive the holder.
    explicit clock_ref(const C& c) noexcept : c_(&c) {}
    auto now() const { return c_->now(); }

private:
    const C* c_;
};

/// What a recommender offers the shell: a state, the pure evaluation, the failure path.
template <class R>
concept scaling_recommender = requires(const R& r, const scaling_input& in, typename R::state_type& st,
                                       error_code ec) {
    typename R::state_type;
    { r.initial_state() } -> std::same_as<typename R::state_type>;
    { r.evaluate_in_place(in, st) } -> std::same_as<decision>;
    { r.on_source_failure(in, st, ec) } -> std::same_as<decision>;
    { r.options().resource } -> std::convertible_to<std::string>;
};

/// Which actuator applies the decisions of which resource type: one for all, or one each.
template <actuator Actuator>
class actuator_set {
public:
    /// No actuator yet; add() them.
    actuator_set() = default;
    /// One actuator for every resource type.
    explicit actuator_set(Actuator& all) : all_(&all) {}

    /// `a` applies the decisions about `resource`.
    actuator_set& add(std::string resource, Actuator& a) {
        by_resource_[std::move(resource)] = &a;
        return *this;
    }
    /// The actuator for `resource`, or nullptr.
    Actuator* find(std::string_view resource) const {
        if (auto it = by_resource_.find(resource); it != by_resource_.end()) return it->second;
        return all_;
    }

private:
    Actuator* all_ = nullptr;
    std::map<std::string, Actuator*, std::less<>> by_resource_;
};

/// Settings of the autoscaler shell.
struct autoscaler_options {
    std::string name = "autoscaler";  ///< label value in metrics, prefix of log lines
    std::string target = "default";   ///< what is scaled (scale_request::target)
    duration period = std::chrono::seconds(30);  ///< time between steps

    /// Throws config_error naming the field.
    void validate() const {
        validator v{"autoscaler_options"};
        v.non_empty("name", name);
        v.non_empty("target", target);
        v.positive("period", to_seconds(period));
        v.throw_if_failed();
    }
};

/// What happened to one target in one step.
struct target_report {
    decision result{};              ///< the recommender's decision
    bool applied = false;         ///< the actuator took a change
    error_code error{};             ///< why the target's step failed, if it did
};

/// What one step did.
struct step_report {
    time_point at{};
    bool source_ok = false;              ///< the metric source answered
    error_code source_error{};             ///< why not
    std::vector<target_report> targets{};  ///< one per target that got as far as a decision
    std::size_t errors = 0;              ///< failures counted in this step
};

/// The loop. `Source` gives snapshots, `Actuator` applies sizes, `Recommender` decides
/// (one per scaled target, each with its own resource type), `Clock` gives `now` and
/// `Wall` the time of day. Not thread-safe: use it from its executor (stop() may be
/// called from anywhere).
template <metric_source Source, actuator Actuator, scaling_recommender Recommender, clock Clock = steady_clock,
          wall_clock Wall = system_wall_clock>
class autoscaler {
public:
    /// Throws config_error naming the field: bad options, no targets, two targets with
    /// one resource type, a resource type without an actuator.
    autoscaler(asio::any_io_executor ex, Source& source, actuator_set<Actuator> actuators,
               std::vector<Recommender> targets, autoscaler_options opts, metrics_registry& registry,
               logger log = {}, Clock clock = {}, Wall wall = {})
        : ex_(std::move(ex)), source_(source), actuators_(std::move(actuators)), opts_(std::move(opts)),
          log_(std::move(log)), clock_(std::move(clock)), wall_(std::move(wall)),
          timer_(std::make_shared<asio::steady_timer>(ex_)),
          steps_(registry.counter("salama_autoscaler_steps_total", "Autoscaler steps run.", {"autoscaler"})
                     .with({opts_.name})),
          errors_(registry.counter("salama_autoscaler_errors_total",
                                   "Autoscaler step failures survived, by stage.", {"autoscaler", "stage"})),
          decisions_(registry.counter("salama_autoscaler_decisions_total", "Scaling decisions, by direction.",
                                      {"autoscaler", "resource", "direction"})),
          actions_(registry.counter("salama_autoscaler_scale_actions_total",
                                    "Scaling actions sent to an actuator, by outcome.",
                                    {"autoscaler", "resource", "direction", "outcome"})),
          fallbacks_(registry.counter("salama_autoscaler_fallbacks_total",
                                      "Decisions made by the fallback because metrics failed.",
                                      {"autoscaler", "resource"})),
          current_(registry.gauge("salama_autoscaler_current_replicas", "Size reported by the actuator.",
                                  {"autoscaler", "resource"})),
          desired_(registry.gauge("salama_autoscaler_desired_replicas", "Size last decided.",
                                  {"autoscaler", "resource"})) {
        opts_.validate();
        validator v{"autoscaler"};
        v.check(!targets.empty(), "targets", "must not be empty");
        for (std::size_t i = 0; i < targets.size(); ++i) {
            const std::string res = targets[i].options().resource;
            v.check(actuators_.find(res) != nullptr, fmt::format("targets[{}].resource", i),
                    fmt::format("no actuator for resource type '{}'", res));
            for (std::size_t j = 0; j < i; ++j)
                v.check(targets[j].options().resource != res, fmt::format("targets[{}].resource", i),
                        fmt::format("resource type '{}' is already scaled by targets[{}]", res, j));
        }
        v.throw_if_failed();
        for (auto& t : targets) {
            auto st = t.initial_state();
            targets_.push_back(target{std::move(t), std::move(st)});
        }
    }

    autoscaler(const autoscaler&) = delete;
    autoscaler& operator=(const autoscaler&) = delete;

    /// Called after every step with its report (on the executor).
    void on_step(std::function<void(const step_report&)> f) { on_step_ = std::move(f); }

    /// Spawns the loop on the executor. A second start() while running does nothing.
    void start() {
        if (running_) return;
        running_ = true;
        stopping_ = false;
        asio::co_spawn(ex_, run(), asio::bind_cancellation_slot(cancel_.slot(), [this](std::exception_ptr e) {
                           running_ = false;
                           if (e) log_.error("autoscaler {}: loop ended by an exception", opts_.name);
                       }));
    }

    /// Stops the loop: cancels the wait (or the step in flight). Safe from any thread.
    void stop() {
        asio::post(ex_, [this] {
            stopping_ = true;
            cancel_.emit(asio::cancellation_type::terminal);
        });
    }

    /// True while the loop started by start() runs.
    bool running() const noexcept { return running_; }

    /// The loop: a step, then a wait of one period, until stopped or cancelled. Await it
    /// directly to run it under your own cancellation.
    awaitable<void> run() {
        auto timer = timer_;
        while (!stopping_) {
            try {
                co_await step();
            } catch (const boost::system::system_error&) {
                break;  // cancelled while awaiting a step
            }
            if (stopping_) break;
            timer->expires_after(opts_.period);
            auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) break;
        }
        log_.info("autoscaler {}: stopped", opts_.name);
    }

    /// One step: read, decide, apply, count, log. Never throws for a failing source,
    /// actuator or policy (only for cancellation of the awaiting coroutine).
    awaitable<step_report> step() {
        step_report rep;
        rep.at = clock_.now();
        const auto wall = wall_.now();
        (void)steps_.inc();

        result<snapshot> snap = make_error_code(errc::source_failed);
        try {
            snap = co_await source_.read();
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted) throw;
            snap = make_error_code(errc::source_failed);
            log_.error("autoscaler {}: metric source threw: {}", opts_.name, e.what());
        } catch (const std::exception& e) {
            snap = make_error_code(errc::source_failed);
            log_.error("autoscaler {}: metric source threw: {}", opts_.name, e.what());
        }
        rep.source_ok = snap.has_value();
        if (!snap) {
            rep.source_error = snap.error();
            ++rep.errors;
            (void)errors_.with({opts_.name, "source"}).inc();
            log_.warn("autoscaler {}: metric source failed: {}", opts_.name, snap.error().message());
        }

        for (auto& t : targets_) {
            const std::string& res = t.rec.options().resource;
            Actuator& act = *actuators_.find(res);
            target_report tr;
            const char* stage = "current_size";
            bool failed = false;
            try {
                auto cur = co_await act.current_size();
                if (!cur) {
                    tr.error = cur.error();
                    failed = true;
                } else {
                    (void)current_.with({opts_.name, res}).set(static_cast<double>(*cur));
                    stage = "evaluate";
                    const snapshot empty(rep.at);
                    scaling_input in{snap ? &*snap : &empty, *cur, -1, rep.at, wall};
                    auto st = t.state;  // committed only once the decision is carried out
                    tr.result = snap ? t.rec.evaluate_in_place(in, st) : t.rec.on_source_failure(in, st, snap.error());
                    record(tr.result);
                    if (tr.result.changes()) {
                        stage = "apply";
                        scale_request req{opts_.target, res, tr.result.current, tr.result.desired,
                                          tr.result.why.to_string(), rep.at};
                        auto out = co_await act.apply(req);
                        const auto dir = std::string(to_string(tr.result.dir()));
                        if (!out) {
                            tr.error = out.error();
                            failed = true;
                            (void)actions_.with({opts_.name, res, dir, "failed"}).inc();
                        } else {
                            tr.applied = true;
                            (void)actions_.with({opts_.name, res, dir, "applied"}).inc();
                            log_.info("autoscaler {}: scaled {} {} -> {} (applied {}): {}", opts_.name, res,
                                      tr.result.current, tr.result.desired, out->applied, tr.result.why.to_string());
                        }
                    }
                    if (!failed) t.state = std::move(st);
                }
            } catch (const boost::system::system_error& e) {
                if (e.code() == asio::error::operation_aborted) throw;
                tr.error = make_error_code(errc::actuator_failed);
                failed = true;
                log_.error("autoscaler {}: {} for {} threw: {}", opts_.name, stage, res, e.what());
            } catch (const std::exception& e) {
                tr.error = std::string_view(stage) == "evaluate" ? make_error_code(errc::invalid_argument)
                                                                 : make_error_code(errc::actuator_failed);
                failed = true;
                log_.error("autoscaler {}: {} for {} threw: {}", opts_.name, stage, res, e.what());
            }
            if (failed) {
                ++rep.errors;
                (void)errors_.with({opts_.name, stage}).inc();
                log_.warn("autoscaler {}: {} for {} failed ({}); retried next step", opts_.name, stage, res,
                          tr.error.message());
            }
            rep.targets.push_back(std::move(tr));
        }
        if (on_step_) on_step_(rep);
        co_return rep;
    }

    /// The recommender state of target `i` (for inspection and tests).
    const typename Recommender::state_type& state(std::size_t i) const { return targets_.at(i).state; }
    /// The options.
    const autoscaler_options& options() const noexcept { return opts_; }

private:
    struct target {
        Recommender rec;
        typename Recommender::state_type state;
    };

    void record(const decision& d) {
        const std::string dir(to_string(d.dir()));
        (void)decisions_.with({opts_.name, d.resource, dir}).inc();
        (void)desired_.with({opts_.name, d.resource}).set(static_cast<double>(d.desired));
        if (d.fallback) (void)fallbacks_.with({opts_.name, d.resource}).inc();
        if (d.changes())
            log_.info("autoscaler {}: decided {} {} -> {}: {}", opts_.name, d.resource, d.current, d.desired,
                      d.why.to_string());
        else
            log_.debug("autoscaler {}: {} stays at {}: {}", opts_.name, d.resource, d.current, d.why.to_string());
    }

    asio::any_io_executor ex_;
    Source& source_;
    actuator_set<Actuator> actuators_;
    autoscaler_options opts_;
    logger log_;
    Clock clock_;
    Wall wall_;
    std::shared_ptr<asio::steady_timer> timer_;
    asio::cancellation_signal cancel_;
    counter& steps_;
    counter_family& errors_;
    counter_family& decisions_;
    counter_family& actions_;
    counter_family& fallbacks_;
    gauge_family& current_;
    gauge_family& desired_;
    std::vector<target> targets_;
    std::function<void(const step_report&)> on_step_;
    bool running_ = false;
    bool stopping_ = false;
};

}  // namespace salama::scaling
